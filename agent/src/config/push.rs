//! The `[push]`, `[push.labels]` and `[push.headers]` sections.
//!
//! Push is off unless a URL is given, in the file or with `--push`. Every
//! other key has the default of [`push::Settings::new`]; the embedded
//! default config documents them all.

use std::path::PathBuf;
use std::time::Duration;

use super::{duration, Problem};
use crate::expo::valid_label_name;
use crate::push::{self, RESERVED_HEADERS};
use crate::wire::toml::{Entry, Value};

/// The push settings as the file gives them, before the URL is known.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Draft {
    pub url: Option<String>,
    /// The keys given, in order, to apply once the URL is known.
    pub entries: Vec<(String, Entry)>,
}

/// The keys of `[push]`.
pub(super) const KEYS: &[&str] = &[
    "url",
    "interval",
    "batch_samples",
    "memory_cap",
    "spool",
    "spool_cap",
    "max_age",
    "timeout",
    "instance",
    "job",
    "basic_auth_user",
    "basic_auth_password_file",
    "bearer_token_file",
    // super::tls::KEYS, for an https URL:
    "ca_file",
    "cert_file",
    "key_file",
    "server_name",
];

/// Checks one entry of `section` and keeps it for [`build`].
pub(super) fn entry(draft: &mut Draft, section: &str, e: &Entry) -> Result<(), Problem> {
    if section == "push" {
        if !KEYS.contains(&e.key.as_str()) {
            return Err(Problem::UnknownKey);
        }
        if e.key == "url" {
            let url = string(&e.value)?;
            crate::deliver::http::Endpoint::parse(url).map_err(Problem::Invalid)?;
            draft.url = Some(url.to_owned());
        }
    }
    // Check now, so the error has its line, then keep it for later.
    apply(&mut push::Settings::new("http://check/"), section, e)?;
    draft.entries.push((section.to_owned(), e.clone()));
    Ok(())
}

/// The settings for `url`, with the file's entries applied and then the
/// `--spool` flag.
pub(super) fn build(url: &str, draft: &Draft, spool_flag: Option<&PathBuf>) -> Result<push::Settings, String> {
    let mut s = push::Settings::new(url);
    for (section, e) in &draft.entries {
        apply(&mut s, section, e).map_err(|p| match p {
            Problem::Invalid(m) => m,
            Problem::UnknownKey => format!("unknown key {}", e.key),
        })?;
    }
    if let Some(dir) = spool_flag {
        s.spool = Some(dir.clone());
    }
    if s.basic_auth_user.is_some() != s.basic_auth_password_file.is_some() {
        return Err("push: basic_auth_user and basic_auth_password_file go together".into());
    }
    if s.basic_auth_user.is_some() && s.bearer_token_file.is_some() {
        return Err("push: basic auth and a bearer token exclude each other".into());
    }
    s.tls.check().map_err(|e| format!("push: {e}"))?;
    if s.tls.is_set() && !url.starts_with("https://") {
        return Err(format!(
            "push: '{url}' is not https, so ca_file, cert_file, key_file and server_name mean nothing"
        ));
    }
    s.labels.sort();
    Ok(s)
}

fn apply(s: &mut push::Settings, section: &str, e: &Entry) -> Result<(), Problem> {
    let v = &e.value;
    match section {
        "push.labels" => {
            if !valid_label_name(&e.key) {
                return Err(Problem::Invalid(format!("'{}' is not a label name", e.key)));
            }
            set_label(s, &e.key, string(v)?);
            return Ok(());
        }
        "push.headers" => {
            let lower = e.key.to_ascii_lowercase();
            if RESERVED_HEADERS.contains(&lower.as_str()) {
                return Err(Problem::Invalid(format!(
                    "'{}' is set by sonde and cannot be configured (auth has its own keys)",
                    e.key
                )));
            }
            let value = string(v)?;
            if value.bytes().any(|b| b == b'\r' || b == b'\n') {
                return Err(Problem::Invalid("a header value cannot hold a line break".into()));
            }
            s.headers.push((e.key.clone(), value.to_owned()));
            return Ok(());
        }
        _ => {}
    }
    match e.key.as_str() {
        "url" => {}
        "interval" => s.interval = span(v, Duration::from_millis(100), Duration::from_secs(86_400))?,
        "timeout" => s.timeout = span(v, Duration::from_secs(1), Duration::from_secs(600))?,
        "max_age" => s.max_age = span(v, Duration::from_secs(60), Duration::from_secs(365 * 86_400))?,
        "batch_samples" => s.batch_samples = count(v, 1, 100_000)? as usize,
        "memory_cap" => s.memory_cap = size(v, 1024, 256 * 1024 * 1024)? as usize,
        "spool_cap" => s.spool_cap = size(v, 2 * crate::deliver::spool::SEGMENT_MAX, 1 << 40)?,
        "spool" => s.spool = Some(path(v)?),
        "instance" | "job" => set_label(s, &e.key, string(v)?),
        "basic_auth_user" => s.basic_auth_user = Some(string(v)?.to_owned()),
        "basic_auth_password_file" => s.basic_auth_password_file = Some(path(v)?),
        "bearer_token_file" => s.bearer_token_file = Some(path(v)?),
        k if super::tls::KEYS.contains(&k) => super::tls::set(&mut s.tls, k, v)?,
        _ => return Err(Problem::UnknownKey),
    }
    Ok(())
}

fn set_label(s: &mut push::Settings, name: &str, value: &str) {
    s.labels.retain(|(n, _)| n != name);
    s.labels.push((name.to_owned(), value.to_owned()));
}

pub(super) fn string(v: &Value) -> Result<&str, Problem> {
    match v {
        Value::Str(s) => Ok(s),
        v => Err(Problem::Invalid(format!("expected a string, found {}", v.type_name()))),
    }
}

pub(super) fn path(v: &Value) -> Result<PathBuf, Problem> {
    match string(v)? {
        "" => Err(Problem::Invalid("expected a path, found an empty string".into())),
        p => Ok(PathBuf::from(p)),
    }
}

pub(super) fn span(v: &Value, min: Duration, max: Duration) -> Result<Duration, Problem> {
    let d = duration(string(v)?).map_err(Problem::Invalid)?;
    if d < min || d > max {
        return Err(Problem::Invalid(format!("out of range: from {min:?} to {max:?}")));
    }
    Ok(d)
}

pub(super) fn count(v: &Value, min: i64, max: i64) -> Result<u64, Problem> {
    match v {
        Value::Int(n) if (min..=max).contains(n) => Ok(*n as u64),
        Value::Int(n) => Err(Problem::Invalid(format!("{n} is out of range: from {min} to {max}"))),
        v => Err(Problem::Invalid(format!("expected an integer, found {}", v.type_name()))),
    }
}

/// A size: bytes as an integer, or a string with a unit ("512KiB", "4MiB",
/// "1GiB"; KB/MB/GB are read as the same powers of two).
pub(super) fn size(v: &Value, min: u64, max: u64) -> Result<u64, Problem> {
    let n = match v {
        Value::Int(n) if *n >= 0 => *n as u64,
        Value::Str(s) => {
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (digits, unit) = s.split_at(split);
            let shift = match unit.trim() {
                "" | "B" => 0,
                "KiB" | "KB" | "K" => 10,
                "MiB" | "MB" | "M" => 20,
                "GiB" | "GB" | "G" => 30,
                _ => return Err(Problem::Invalid(format!("'{s}': a size is a number and B, KiB, MiB or GiB"))),
            };
            let n: u64 = digits.parse().map_err(|_| Problem::Invalid(format!("'{s}' is not a size")))?;
            n.checked_shl(shift).filter(|v| v >> shift == n).ok_or(Problem::Invalid(format!("'{s}' is too large")))?
        }
        v => return Err(Problem::Invalid(format!("expected a size, found {}", v.type_name()))),
    };
    if n < min || n > max {
        return Err(Problem::Invalid(format!("{n} bytes is out of range: from {min} to {max}")));
    }
    Ok(n)
}
