//! Client TLS settings, under the names of Prometheus' `tls_config`:
//! `ca_file`, `cert_file`, `key_file`, `server_name`.
//!
//! They are plain values, parsed whether or not this build has TLS, so
//! `check-config` says the same thing on every build; a build without the
//! `tls` feature refuses them with that reason. The files are read when a
//! connection is set up ([`crate::tls`]), never here.

use std::path::PathBuf;

use super::Problem;
use crate::wire::toml::Value;

/// Whether this build speaks TLS (cargo feature `tls`).
pub const TLS_BUILT: bool = cfg!(feature = "tls");

/// Why a build without the feature refuses the keys.
pub const WITHOUT_TLS: &str = "this sonde is built without TLS (cargo feature tls)";

/// The keys, as they appear in a section that takes them.
pub const KEYS: &[&str] = &["ca_file", "cert_file", "key_file", "server_name"];

/// How a TLS client trusts and presents itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientTls {
    /// PEM certificates the server's chain must lead to; without one, the
    /// system's bundle ([`crate::tls::SYSTEM_BUNDLES`]).
    pub ca_file: Option<PathBuf>,
    /// A client certificate chain and its key, for servers that ask.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// The name the certificate must be valid for, when it is not the
    /// host being connected to (an IP address, a name behind a tunnel).
    pub server_name: Option<String>,
}

impl ClientTls {
    /// Whether any key was given.
    pub fn is_set(&self) -> bool {
        *self != ClientTls::default()
    }

    /// Takes `key` if it is one of [`KEYS`].
    pub(super) fn set(&mut self, key: &str, v: &Value) -> Result<(), Problem> {
        let Value::Str(s) = v else {
            return Err(Problem::Invalid(format!("expected a string, found {}", v.type_name())));
        };
        if !TLS_BUILT {
            return Err(Problem::Invalid(WITHOUT_TLS.into()));
        }
        if key == "server_name" {
            if s.is_empty() || s.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
                return Err(Problem::Invalid(format!("'{s}' is not a server name")));
            }
            self.server_name = Some(s.clone());
            return Ok(());
        }
        if !s.starts_with('/') {
            return Err(Problem::Invalid(format!("'{s}': write an absolute path")));
        }
        let slot = match key {
            "ca_file" => &mut self.ca_file,
            "cert_file" => &mut self.cert_file,
            "key_file" => &mut self.key_file,
            _ => return Err(Problem::UnknownKey),
        };
        *slot = Some(PathBuf::from(s));
        Ok(())
    }

    /// What the keys say together: a certificate goes with its key.
    pub fn check(&self) -> Result<(), String> {
        if self.cert_file.is_some() != self.key_file.is_some() {
            return Err("cert_file and key_file go together".into());
        }
        Ok(())
    }
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
