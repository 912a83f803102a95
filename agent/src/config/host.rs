//! The host collectors' sections: `[filesystem]`, `[netdev]`, `[netclass]`,
//! `[textfile]`.
//!
//! Filters are lists of glob patterns rather than node_exporter's regular
//! expressions: sonde carries no regex engine, and the filters people write
//! for these (a mount point and everything under it, `veth*`) are globs.
//! `*` matches any run of characters, `/` included; every other character
//! matches itself. The defaults say in globs what node_exporter's default
//! expressions say, except where those hide what an appliance needs to see
//! (see `collect::filesystem::Settings::default`).

use std::path::PathBuf;
use std::time::Duration;

use super::{duration, strings, Problem};
use crate::collect::filesystem::{Settings as Filesystem, MAX_STATFS_TIMEOUT};
use crate::collect::netdev::Devices;
use crate::wire::toml::{Entry, Value};

pub(super) fn filesystem(f: &mut Filesystem, e: &Entry) -> Result<(), Problem> {
    match e.key.as_str() {
        "mount_points_exclude" => f.mount_points_exclude = patterns(&e.value)?,
        "fs_types_exclude" => f.fs_types_exclude = patterns(&e.value)?,
        "timeout" => {
            let Value::Str(s) = &e.value else {
                return Err(Problem::Invalid(format!("expected a string, found {}", e.value.type_name())));
            };
            let d = duration(s).map_err(Problem::Invalid)?;
            if d < Duration::from_millis(10) || d > MAX_STATFS_TIMEOUT {
                return Err(Problem::Invalid(format!("'{s}' is out of range: from 10ms to 5s")));
            }
            f.timeout = d;
        }
        _ => return Err(Problem::UnknownKey),
    }
    Ok(())
}

pub(super) fn netdev(d: &mut Devices, e: &Entry) -> Result<(), Problem> {
    match e.key.as_str() {
        "device_include" => d.device_include = patterns(&e.value)?,
        "device_exclude" => d.device_exclude = patterns(&e.value)?,
        _ => return Err(Problem::UnknownKey),
    }
    Ok(())
}

pub(super) fn netclass(all_attributes: &mut bool, e: &Entry) -> Result<(), Problem> {
    match (e.key.as_str(), &e.value) {
        ("all_attributes", Value::Bool(b)) => *all_attributes = *b,
        ("all_attributes", v) => {
            return Err(Problem::Invalid(format!("expected true or false, found {}", v.type_name())))
        }
        _ => return Err(Problem::UnknownKey),
    }
    Ok(())
}

pub(super) fn textfile(directory: &mut Option<PathBuf>, e: &Entry) -> Result<(), Problem> {
    match (e.key.as_str(), &e.value) {
        ("directory", Value::Str(s)) if s.is_empty() => *directory = None,
        ("directory", Value::Str(s)) if s.starts_with('/') => *directory = Some(s.into()),
        ("directory", Value::Str(s)) => {
            return Err(Problem::Invalid(format!("'{s}': write an absolute path, or \"\" for none")))
        }
        ("directory", v) => return Err(Problem::Invalid(format!("expected a string, found {}", v.type_name()))),
        _ => return Err(Problem::UnknownKey),
    }
    Ok(())
}

fn patterns(v: &Value) -> Result<Vec<String>, Problem> {
    let items = strings(v)?;
    if let Some(bad) = items.iter().find(|s| s.is_empty()) {
        return Err(Problem::Invalid(format!("'{bad}': an empty pattern matches nothing; leave it out")));
    }
    Ok(items.into_iter().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_sections_parse_and_refuse_unknown_keys() {
        let c = super::super::parse(
            "[filesystem]\ntimeout = \"250ms\"\nfs_types_exclude = [\"tmpfs\"]\n[netdev]\ndevice_exclude = [\"veth*\"]\n\
             [netclass]\nall_attributes = true\n[textfile]\ndirectory = \"/var/lib/sonde\"\n[paths]\nrootfs = \"/host\"\n",
        )
        .unwrap();
        assert_eq!(c.collect.filesystem.timeout, Duration::from_millis(250));
        assert_eq!(c.collect.filesystem.fs_types_exclude, ["tmpfs"]);
        assert!(!c.collect.netdev.reports("veth0") && c.collect.netdev.reports("eth0"));
        assert!(c.collect.netclass_all_attributes);
        assert_eq!(c.collect.textfile, Some(PathBuf::from("/var/lib/sonde")));
        assert_eq!(c.collect.rootfs, PathBuf::from("/host"));
        for (text, says) in [
            ("[filesystem]\ntimout = \"1s\"", "did you mean 'timeout'?"),
            ("[filesystem]\ntimeout = \"10s\"", "out of range"),
            ("[netdev]\ndevice_exclude = [\"\"]", "empty pattern"),
            ("[netclass]\nall_attributes = \"yes\"", "expected true or false"),
            ("[textfile]\ndirectory = \"relative\"", "absolute path"),
            ("[textfil]\n", "did you mean 'textfile'?"),
        ] {
            let errors = super::super::parse(text).unwrap_err();
            assert!(errors[0].message.contains(says), "{text}: {errors:?}");
        }
    }
}
