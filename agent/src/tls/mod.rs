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
//!
//! The endpoint's server settings ([`ServerTls`]) are web-config.yml's,
//! and its suites and curves go by Go's names, as exporter-toolkit takes
//! them: the names rustls with ring implements are the tables here
//! ([`TLS12_SUITES`], [`CURVES`]), and any other name Go knows is refused
//! as "not offered by sonde" rather than left out quietly.

#[cfg(feature = "tls")]
pub mod client;
#[cfg(feature = "tls")]
pub mod server;

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

/// The endpoint's TLS, as web-config.yml's `tls_server_config` gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// Client certificates are verified against these when given.
    pub client_ca_file: Option<PathBuf>,
    /// `RequireAndVerifyClientCert`: a client without one is refused
    /// (`VerifyClientCertIfGiven`: it is served).
    pub require_client_cert: bool,
    pub min_version: Option<Version>,
    pub max_version: Option<Version>,
    /// `cipher_suites`: the TLS 1.2 suites offered, by their names in
    /// [`TLS12_SUITES`]; None: all of them. TLS 1.3's are always offered.
    pub cipher_suites: Option<Vec<&'static str>>,
    /// `curve_preferences`: the key exchange groups, by their names in
    /// [`CURVES`], in the file's order; empty: rustls's own.
    pub curves: Vec<&'static str>,
    /// `client_allowed_sans`: a verified client certificate must carry one
    /// of these as a DNS, email, URI or IP subject alternative name;
    /// empty: any verified certificate is served.
    pub client_allowed_sans: Vec<String>,
}

/// The TLS 1.2 suites of rustls with ring, by Go's names (crypto/tls
/// `CipherSuites()`), which `cipher_suites` lists: ECDHE key exchange and
/// AEAD ciphers only.
pub const TLS12_SUITES: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// TLS 1.3's suites by Go's names. Go takes them in `cipher_suites` and
/// does nothing with them (it lets no TLS 1.3 suite be chosen); so does
/// sonde.
const TLS13_SUITES: &[&str] = &["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];

/// Go's names of the suites rustls does not implement: CBC (Lucky13),
/// RSA key exchange (no forward secrecy), RC4 and 3DES. Go has moved some
/// between its secure and insecure lists over the years; all are named
/// here so that the error says "not offered", not "unknown".
const NOT_OFFERED: &[&str] = &[
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
];

/// What a name in `cipher_suites` means: Some TLS 1.2 suite (its name in
/// [`TLS12_SUITES`]), None for a TLS 1.3 suite, or why it cannot be had.
pub fn cipher_suite(name: &str) -> Result<Option<&'static str>, String> {
    // Go's constants also spell the two ChaCha20 suites without _SHA256.
    let alias = |n: &str| n.contains("CHACHA20") && n.strip_suffix("_SHA256") == Some(name);
    if let Some(&n) = TLS12_SUITES.iter().find(|&&n| n == name || alias(n)) {
        return Ok(Some(n));
    }
    if TLS13_SUITES.contains(&name) {
        return Ok(None);
    }
    let what = if NOT_OFFERED.contains(&name) { "is not offered by sonde (rustls)" } else { "is not a suite Go knows" };
    Err(format!("cipher_suites: '{name}' {what}; sonde offers {}", TLS12_SUITES.join(", ")))
}

/// The curves `curve_preferences` may name, by Go's names (as
/// exporter-toolkit spells them), that ring implements.
pub const CURVES: &[&str] = &["CurveP256", "CurveP384", "X25519"];

/// A name in `curve_preferences`, or why it cannot be had.
pub fn curve(name: &str) -> Result<&'static str, String> {
    match CURVES.iter().find(|&&c| c == name) {
        Some(&c) => Ok(c),
        None if name == "CurveP521" => Err(format!(
            "curve_preferences: CurveP521 is not offered by sonde (ring lacks it); sonde offers {}",
            CURVES.join(", ")
        )),
        None => Err(format!("curve_preferences: '{name}' is not CurveP256, CurveP384, CurveP521 or X25519")),
    }
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
