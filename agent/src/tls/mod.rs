//! TLS: the settings every TLS client of sonde takes, in every build, and
//! (cargo feature `tls`) the client itself ([`client`]).
//!
//! The settings are plain values under the names of Prometheus'
//! `tls_config` (`ca_file`, `cert_file`, `key_file`, `server_name`,
//! `min_version`, `max_version`, `insecure_skip_verify`), parsed
//! whether or not this build has TLS, so `check-config` says the same
//! thing on every build; a build without the feature refuses them with
//! [`WITHOUT_TLS`]. The files are read when a connection is set up, never
//! when the config is read.

#[cfg(feature = "tls")]
pub mod client;

use std::path::PathBuf;

#[cfg(feature = "tls")]
pub use client::{alert, certificates, client_config, connect, private_key, Stream, SYSTEM_BUNDLES};

/// Whether this build speaks TLS (cargo feature `tls`).
pub const TLS_BUILT: bool = cfg!(feature = "tls");

/// Why a build without the feature refuses TLS settings.
pub const WITHOUT_TLS: &str = "this sonde is built without TLS (cargo feature tls)";

/// How a TLS client trusts and presents itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientTls {
    /// PEM certificates the server's chain must lead to; without one, the
    /// system's bundle (`client::SYSTEM_BUNDLES`).
    pub ca_file: Option<PathBuf>,
    /// A client certificate chain and its key, for servers that ask.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// The name the certificate must be valid for, when it is not the
    /// host being connected to (an IP address, a name behind a tunnel).
    pub server_name: Option<String>,
    /// The oldest and newest versions offered; rustls speaks TLS 1.2 and
    /// 1.3, and both by default.
    pub min_version: Option<Version>,
    pub max_version: Option<Version>,
    /// Take any certificate the server presents. Only a check may say so,
    /// and it then reports that it did (`probe_tls_insecure_skip_verify`).
    pub insecure_skip_verify: bool,
}

/// A TLS version a client may be held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    Tls12,
    Tls13,
}

impl Version {
    /// Prometheus' spelling (`TLS12`), for a minimum: TLS10 and TLS11
    /// mean what rustls does anyway (1.2 and up).
    pub fn min_from_name(name: &str) -> Option<Option<Version>> {
        match name {
            "TLS10" | "TLS11" => Some(None),
            "TLS12" => Some(Some(Version::Tls12)),
            "TLS13" => Some(Some(Version::Tls13)),
            _ => None,
        }
    }
}

impl ClientTls {
    /// Whether any setting was given.
    pub fn is_set(&self) -> bool {
        *self != ClientTls::default()
    }

    /// What the settings say together: a certificate goes with its key.
    pub fn check(&self) -> Result<(), String> {
        if self.cert_file.is_some() != self.key_file.is_some() {
            return Err("cert_file and key_file go together".into());
        }
        if let (Some(min), Some(max)) = (self.min_version, self.max_version) {
            if min > max {
                return Err("min_version is above max_version".into());
            }
        }
        Ok(())
    }
}
