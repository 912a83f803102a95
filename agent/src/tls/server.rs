//! The TLS server of the endpoint (cargo feature `tls`), as
//! exporter-toolkit's `tls_server_config` asks for it: a certificate chain
//! and key, TLS 1.2 and 1.3 between `min_version` and `max_version`, the
//! TLS 1.2 suites of `cipher_suites` and the groups of
//! `curve_preferences` (a ring provider with only those; TLS 1.3's suites
//! are kept, as Go keeps them), and client certificates verified against
//! `client_ca_file` when `client_auth_type` says so, then held to
//! `client_allowed_sans`. rustls with ring's crypto.
//!
//! `client_allowed_sans` is checked as the toolkit checks it: the client's
//! own certificate (not its chain) must carry one of the names as a DNS,
//! email, URI or IP subject alternative name, compared as text, exactly
//! (no wildcards, no case folding; an IP address as Go prints it,
//! `10.0.0.1`, `2001:db8::1`). sonde compares a URI as the certificate
//! spells it, where Go compares it re-printed from its parse; the two
//! differ only for URIs with escapes Go would normalise.
//!
//! Invariants: the handshake is bounded by the caller's deadline as a
//! whole (a client that trickles bytes or stalls loses its slot, as with
//! a plain request head); a client certificate that does not verify, or
//! carries none of the allowed names, ends the handshake (alert
//! access_denied for the names); nothing here panics on a peer's bytes.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::ring::{cipher_suite as suite, default_provider, kx_group};
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme, SupportedCipherSuite};
use rustls::{ServerConfig, ServerConnection};

use super::client::{certificates, private_key, roots};
use super::{ServerTls, Version};
use crate::sys::time::Deadline;
use crate::wire::x509::{self, AltName};

/// The server configuration `t` describes, its files read now.
pub fn server_config(t: &ServerTls) -> io::Result<Arc<ServerConfig>> {
    use rustls::version::{TLS12, TLS13};
    let provider = Arc::new(provider(t));
    let versions: &[&rustls::SupportedProtocolVersion] = match (t.min_version, t.max_version) {
        (Some(Version::Tls13), _) => &[&TLS13],
        (_, Some(Version::Tls12)) => &[&TLS12],
        _ => &[&TLS13, &TLS12],
    };
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .map_err(io::Error::other)?;
    let builder = match &t.client_ca_file {
        Some(ca) => {
            let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider);
            let v = if t.require_client_cert { v } else { v.allow_unauthenticated() };
            let v = v.build().map_err(io::Error::other)?;
            if t.client_allowed_sans.is_empty() {
                builder.with_client_cert_verifier(v)
            } else {
                builder.with_client_cert_verifier(Arc::new(AllowedSans {
                    verified: v,
                    sans: t.client_allowed_sans.clone(),
                }))
            }
        }
        None => builder.with_no_client_auth(),
    };
    let config =
        builder.with_single_cert(certificates(&t.cert_file)?, private_key(&t.key_file)?).map_err(io::Error::other)?;
    Ok(Arc::new(config))
}

/// ring's provider, its TLS 1.2 suites and its groups cut down to those
/// `t` names (the names are checked when the file is read).
fn provider(t: &ServerTls) -> CryptoProvider {
    let mut p = default_provider();
    if let Some(names) = &t.cipher_suites {
        p.cipher_suites.retain(|s| s.tls13().is_some() || names.iter().any(|&n| tls12_suite(n) == Some(*s)));
    }
    if !t.curves.is_empty() {
        p.kx_groups = t.curves.iter().filter_map(|&c| group(c)).collect();
    }
    p
}

/// rustls's suite of one of [`super::TLS12_SUITES`].
fn tls12_suite(go_name: &str) -> Option<SupportedCipherSuite> {
    Some(match go_name {
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" => suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" => suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" => suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" => suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" => suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" => suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        _ => return None,
    })
}

/// ring's group of one of [`super::CURVES`].
fn group(go_name: &str) -> Option<&'static dyn SupportedKxGroup> {
    Some(match go_name {
        "CurveP256" => kx_group::SECP256R1,
        "CurveP384" => kx_group::SECP384R1,
        "X25519" => kx_group::X25519,
        _ => return None,
    })
}

/// WebPKI's verdict on a client's chain, then `client_allowed_sans` on
/// its certificate.
#[derive(Debug)]
struct AllowedSans {
    verified: Arc<dyn ClientCertVerifier>,
    sans: Vec<String>,
}

/// Whether the certificate carries one of the names `sans`, compared as
/// exporter-toolkit compares them (the module's doc).
fn carries_one(sans: &[String], der: &[u8]) -> bool {
    let listed = |text: &[u8]| sans.iter().any(|s| s.as_bytes() == text);
    let found = x509::any_alt_name(der, |name| match name {
        AltName::Dns(t) | AltName::Email(t) | AltName::Uri(t) => listed(t),
        AltName::Ip(octets) => go_ip_text(octets).is_some_and(|ip| listed(ip.as_bytes())),
    });
    found.unwrap_or(false)
}

/// An iPAddress as Go's `net.IP.String` prints it: an IPv4-mapped IPv6
/// address as IPv4, IPv6 in RFC 5952's short form (Rust's too).
fn go_ip_text(octets: &[u8]) -> Option<String> {
    let ip = match octets.len() {
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(octets).ok()?),
        16 => std::net::IpAddr::from(<[u8; 16]>::try_from(octets).ok()?).to_canonical(),
        _ => return None,
    };
    Some(ip.to_string())
}

impl ClientCertVerifier for AllowedSans {
    fn offer_client_auth(&self) -> bool {
        self.verified.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.verified.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.verified.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let ok = self.verified.verify_client_cert(end_entity, intermediates, now)?;
        if carries_one(&self.sans, end_entity) {
            Ok(ok)
        } else {
            // rustls answers this one with the alert access_denied.
            Err(rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verified.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verified.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.verified.supported_verify_schemes()
    }
}

/// A TLS session over an accepted socket.
pub struct Session {
    conn: ServerConnection,
    sock: TcpStream,
}

/// Runs the handshake on `sock` by `deadline`; None if it fails or the
/// deadline passes (the socket is then closed).
pub fn accept(config: &Arc<ServerConfig>, mut sock: TcpStream, deadline: Deadline) -> Option<Session> {
    let mut conn = ServerConnection::new(Arc::clone(config)).ok()?;
    while conn.is_handshaking() {
        let left = deadline.left()?;
        if conn.wants_write() {
            sock.set_write_timeout(Some(left)).ok()?;
            conn.write_tls(&mut sock).ok()?;
            continue;
        }
        sock.set_read_timeout(Some(left)).ok()?;
        match conn.read_tls(&mut sock) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        if conn.process_new_packets().is_err() {
            // Tell the peer why (an alert), within what is left.
            let _ = sock.set_write_timeout(deadline.left());
            let _ = conn.write_tls(&mut sock);
            return None;
        }
    }
    Some(Session { conn, sock })
}

impl Session {
    pub fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(d)
    }

    pub fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        self.sock.set_write_timeout(d)
    }

    /// Ends the session (close_notify), then the socket's sending side.
    pub fn shutdown(&mut self, how: Shutdown) -> io::Result<()> {
        self.conn.send_close_notify();
        let _ = self.flush();
        self.sock.shutdown(how)
    }
}

impl Read for Session {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        rustls::Stream::new(&mut self.conn, &mut self.sock).read(buf)
    }
}

impl Write for Session {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        rustls::Stream::new(&mut self.conn, &mut self.sock).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        rustls::Stream::new(&mut self.conn, &mut self.sock).flush()
    }
}

/// A configuration made at load, compared by identity (rustls's is not
/// comparable), so the settings holding it stay `PartialEq`.
#[derive(Clone)]
pub struct Built(pub Arc<ServerConfig>);

impl PartialEq for Built {
    fn eq(&self, other: &Built) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerConfig")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_go_name_sonde_offers_is_a_ring_suite_or_group() {
        for name in super::super::TLS12_SUITES {
            let s = tls12_suite(name).unwrap_or_else(|| panic!("{name}"));
            assert!(s.tls13().is_none(), "{name}");
            assert_eq!(format!("{:?}", s.suite()), *name, "the IANA name is Go's");
        }
        let all = default_provider();
        assert_eq!(all.cipher_suites.iter().filter(|s| s.tls13().is_none()).count(), super::super::TLS12_SUITES.len());
        for name in super::super::CURVES {
            assert!(group(name).is_some(), "{name}");
        }
    }

    fn tls(suites: Option<Vec<&'static str>>, curves: Vec<&'static str>) -> ServerTls {
        ServerTls {
            cert_file: Default::default(),
            key_file: Default::default(),
            client_ca_file: None,
            require_client_cert: false,
            min_version: None,
            max_version: None,
            cipher_suites: suites,
            curves,
            client_allowed_sans: Vec::new(),
        }
    }

    #[test]
    fn the_provider_keeps_tls13_and_the_named_tls12_suites_and_groups_in_order() {
        let p = provider(&tls(Some(vec!["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]), vec!["X25519", "CurveP384"]));
        let tls12: Vec<_> = p.cipher_suites.iter().filter(|s| s.tls13().is_none()).map(|s| s.suite()).collect();
        assert_eq!(tls12, vec![rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]);
        assert_eq!(p.cipher_suites.iter().filter(|s| s.tls13().is_some()).count(), 3);
        let groups: Vec<_> = p.kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(groups, vec![rustls::NamedGroup::X25519, rustls::NamedGroup::secp384r1]);
        // A list of TLS 1.3 suites alone leaves TLS 1.2 none, as in Go.
        let p = provider(&tls(Some(vec![]), vec![]));
        assert!(p.cipher_suites.iter().all(|s| s.tls13().is_some()));
        assert_eq!(p.kx_groups.len(), default_provider().kx_groups.len());
    }

    #[test]
    fn a_name_is_allowed_only_as_the_certificate_spells_it() {
        let pem = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/x509/sans.pem"));
        let der =
            rustls::pki_types::pem::PemObject::from_pem_slice(pem.as_bytes()).map(|c: CertificateDer<'_>| c.to_vec());
        let der = der.unwrap_or_default();
        let allows = |name: &str| carries_one(&[name.to_owned()], &der);
        for name in [
            "prometheus.example.org",
            "ops@example.org",
            "spiffe://example.org/ns/monitoring/sa/prometheus",
            "192.0.2.7",
            "2001:db8::7",
            "198.51.100.1", // IPv4-mapped, printed as Go prints it
        ] {
            assert!(allows(name), "{name}");
        }
        for name in [
            "PROMETHEUS.example.org", // no case folding
            "*.example.org",          // no wildcards
            "example.org",
            "2001:DB8::7",
            "::ffff:198.51.100.1",
            "sonde fixture SANs", // the subject's CN is no SAN
            "upn@example.org",    // an otherName
            "",
        ] {
            assert!(!allows(name), "{name}");
        }
        assert!(carries_one(&["x".into(), "192.0.2.7".into()], &der));
        assert!(!carries_one(&["192.0.2.7".into()], &der[..der.len() - 1]), "a cut certificate carries nothing");
    }

    #[test]
    fn ip_names_are_printed_as_go_prints_them() {
        assert_eq!(go_ip_text(&[10, 0, 0, 1]).as_deref(), Some("10.0.0.1"));
        let mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1];
        assert_eq!(go_ip_text(&mapped).as_deref(), Some("10.0.0.1"));
        let v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1];
        assert_eq!(go_ip_text(&v6).as_deref(), Some("2001:db8::1:0:0:1"));
        assert_eq!(go_ip_text(&[1, 2, 3]), None);
    }
}
