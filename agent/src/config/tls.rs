//! The TLS keys of a section that takes them (`[push]`, a tcp
//! `[[check]]`), mapped onto [`ClientTls`].

use std::path::PathBuf;

use super::Problem;
use crate::tls::{ClientTls, Version, TLS_BUILT, WITHOUT_TLS};
use crate::wire::toml::Value;

/// The keys, as they appear in a section that takes them.
pub const KEYS: &[&str] = &["ca_file", "cert_file", "key_file", "server_name"];

/// The keys only a check takes: a version floor, and taking any
/// certificate, which only a check can report it did.
pub const CHECK_KEYS: &[&str] = &["min_version", "insecure_skip_verify"];

/// Takes `key` (one of [`KEYS`] or [`CHECK_KEYS`]) into `t`.
pub(super) fn set(t: &mut ClientTls, key: &str, v: &Value) -> Result<(), Problem> {
    if key == "insecure_skip_verify" {
        let Value::Bool(b) = v else { return Err(Problem::Invalid("expected true or false".into())) };
        if !TLS_BUILT {
            return Err(Problem::Invalid(WITHOUT_TLS.into()));
        }
        t.insecure_skip_verify = *b;
        return Ok(());
    }
    let Value::Str(s) = v else {
        return Err(Problem::Invalid(format!("expected a string, found {}", v.type_name())));
    };
    if !TLS_BUILT {
        return Err(Problem::Invalid(WITHOUT_TLS.into()));
    }
    if key == "min_version" {
        t.min_version = Version::min_from_name(s)
            .ok_or_else(|| Problem::Invalid(format!("'{s}' is not TLS10, TLS11, TLS12 or TLS13")))?;
        return Ok(());
    }
    if key == "server_name" {
        if s.is_empty() || s.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
            return Err(Problem::Invalid(format!("'{s}' is not a server name")));
        }
        t.server_name = Some(s.clone());
        return Ok(());
    }
    if !s.starts_with('/') {
        return Err(Problem::Invalid(format!("'{s}': write an absolute path")));
    }
    let slot = match key {
        "ca_file" => &mut t.ca_file,
        "cert_file" => &mut t.cert_file,
        "key_file" => &mut t.key_file,
        _ => return Err(Problem::UnknownKey),
    };
    *slot = Some(PathBuf::from(s));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn push_tls_keys_need_the_feature_https_and_a_key_with_the_cert() {
        let text = "[push]\nurl = \"https://receiver.example/api/v1/write\"\nca_file = \"/etc/sonde/ca.pem\"\n\
                    server_name = \"receiver.internal\"\n";
        if !TLS_BUILT {
            let errors = parse(text).unwrap_err();
            assert!(errors.iter().all(|e| e.message.contains("without TLS")), "{errors:?}");
            assert_eq!(errors.len(), 3, "the URL and both keys: {errors:?}");
            return;
        }
        let push = parse(text).unwrap().push.unwrap();
        assert_eq!(push.tls.ca_file, Some(PathBuf::from("/etc/sonde/ca.pem")));
        assert_eq!(push.tls.server_name.as_deref(), Some("receiver.internal"));
        let http = text.replace("https:", "http:");
        let errors = parse(&http).unwrap_err();
        assert!(errors[0].message.contains("not https"), "{errors:?}");
        let errors = parse(&format!("{text}cert_file = \"/etc/sonde/client.pem\"\n")).unwrap_err();
        assert!(errors[0].message.contains("go together"), "{errors:?}");
        let errors = parse(&format!("{text}key_file = \"client.key\"\n")).unwrap_err();
        assert!(errors[0].message.contains("absolute path"), "{errors:?}");
    }
}
