//! TLS: the settings every TLS client of sonde takes, in every build, and
//! (cargo feature `tls`) the client itself ([`client`]).
//!
//! The settings are plain values under the names of Prometheus'
//! `tls_config` (`ca_file`, `cert_file`, `key_file`, `server_name`), parsed
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
        Ok(())
    }
}
