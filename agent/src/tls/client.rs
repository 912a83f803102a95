//! The TLS client (cargo feature `tls`): rustls with ring's crypto, the
//! server's chain checked by WebPKI against a CA file or the system's
//! bundle, an optional client certificate.
//!
//! Invariants: nothing here blocks without the socket's own timeouts (the
//! handshake runs inside the first read or write of the [`Stream`], under
//! whatever deadline the caller set on the socket); a certificate that
//! does not verify is an error, never a warning. The one switch that skips
//! verification, `insecure_skip_verify`, is a check's alone (the config
//! refuses it elsewhere), and the check reports that it was used; the
//! handshake's signatures are still checked against the certificate the
//! server presents. Every error names the file or the peer it is about.

use std::io;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::{ClientTls, Version};
use crate::sys::time::Deadline;

/// A TLS session over a TCP socket.
pub type Stream = StreamOwned<ClientConnection, TcpStream>;

/// Where the system's CA bundle is, in the order tried when no `ca_file`
/// is given (after `$SSL_CERT_FILE`): Debian, Ubuntu, Alpine and OpenWrt's
/// ca-bundle package; Fedora and RHEL; openSUSE; others.
pub const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Configurations made, each with what it was made from: the settings and
/// the files' sizes and modification times. A check every minute, or a
/// `/probe` each scrape, would otherwise parse a system bundle of ~150
/// certificates every time; a file replaced on disk changes its stamp, so
/// a rotated certificate is used at the next connection without a reload.
static MADE: Mutex<Vec<(Made, Arc<ClientConfig>)>> = Mutex::new(Vec::new());
/// How many configurations are kept (one per distinct set of settings).
const KEPT: usize = 8;

type Made = (ClientTls, [Option<(u64, SystemTime)>; 3]);

/// The client configuration `t` describes, made again when its files
/// change.
pub fn client_config(t: &ClientTls) -> io::Result<Arc<ClientConfig>> {
    // No trust anchors are read for a check that takes any certificate.
    let ca = if t.insecure_skip_verify { None } else { Some(ca_path(t.ca_file.as_deref())?) };
    let stamp = |p: Option<&Path>| {
        let m = std::fs::metadata(p?).ok()?;
        Some((m.len(), m.modified().ok()?))
    };
    let made = (t.clone(), [stamp(ca.as_deref()), stamp(t.cert_file.as_deref()), stamp(t.key_file.as_deref())]);
    let mut kept = MADE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, config)) = kept.iter().find(|(m, _)| *m == made) {
        return Ok(Arc::clone(config));
    }
    let config = make(t, ca.as_deref())?;
    if kept.len() >= KEPT {
        kept.remove(0);
    }
    kept.retain(|(m, _)| m.0 != made.0);
    kept.push((made, Arc::clone(&config)));
    Ok(config)
}

fn make(t: &ClientTls, ca: Option<&Path>) -> io::Result<Arc<ClientConfig>> {
    use rustls::version::{TLS12, TLS13};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match (t.min_version, t.max_version) {
        (Some(Version::Tls13), _) => &[&TLS13],
        (_, Some(Version::Tls12)) => &[&TLS12],
        _ => &[&TLS13, &TLS12],
    };
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .map_err(io::Error::other)?;
    let builder = match ca {
        Some(ca) => {
            let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots(ca)?), provider)
                .build()
                .map_err(io::Error::other)?;
            builder.with_webpki_verifier(verifier)
        }
        None => builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyCertificate(provider))),
    };
    let config = match (&t.cert_file, &t.key_file) {
        (Some(cert), Some(key)) => {
            builder.with_client_auth_cert(certificates(cert)?, private_key(key)?).map_err(io::Error::other)?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The verifier of `insecure_skip_verify`: any certificate is taken, but
/// the handshake must still be signed by the key of the one presented
/// (so the session is at least with whoever holds it).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A client session to `name` (a DNS name or an IP address) over `tcp`.
pub fn connect(tcp: TcpStream, config: &Arc<ClientConfig>, name: &str) -> io::Result<Stream> {
    let name = ServerName::try_from(name.to_owned())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("'{name}' is not a TLS server name")))?;
    let conn = ClientConnection::new(Arc::clone(config), name).map_err(io::Error::other)?;
    Ok(StreamOwned::new(conn, tcp))
}

/// After a write failed: the alert the server sent before it closed, if
/// one is waiting (the stream's own read would first try to send what it
/// holds, and fail the same way again). Gives up at `deadline`.
pub fn alert(s: &mut Stream, deadline: Deadline) -> Option<io::Error> {
    loop {
        let left = deadline.left()?;
        s.sock.set_read_timeout(Some(left)).ok()?;
        match s.conn.read_tls(&mut s.sock) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        if let Err(e) = s.conn.process_new_packets() {
            return Some(io::Error::new(io::ErrorKind::InvalidData, e));
        }
    }
}

/// Where the trust anchors are: `ca_file`, or the first system bundle
/// found.
fn ca_path(ca_file: Option<&Path>) -> io::Result<PathBuf> {
    if let Some(p) = ca_file {
        return Ok(p.to_owned());
    }
    let env = std::env::var_os("SSL_CERT_FILE");
    env.iter().map(PathBuf::from).chain(SYSTEM_BUNDLES.iter().map(PathBuf::from)).find(|p| p.is_file()).ok_or_else(
        || {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no CA bundle at {}; set ca_file", SYSTEM_BUNDLES.join(", ")),
            )
        },
    )
}

/// The trust anchors of a PEM file: at least one usable certificate.
fn roots(path: &Path) -> io::Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(certificates(path)?);
    if added == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: no usable CA certificate", path.display()),
        ));
    }
    Ok(store)
}

/// Every certificate of a PEM file, at least one.
pub fn certificates(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| pem_error(path, e))?;
    if certs.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{}: no certificate", path.display())));
    }
    Ok(certs)
}

/// The first private key of a PEM file.
pub fn private_key(path: &Path) -> io::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| pem_error(path, e))
}

fn pem_error(path: &Path, e: rustls::pki_types::pem::Error) -> io::Error {
    match e {
        rustls::pki_types::pem::Error::Io(e) => io::Error::new(e.kind(), format!("{}: {e}", path.display())),
        e => io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration is made once per settings and files, and made again
    /// when a file changes on disk.
    #[test]
    fn configurations_are_kept_until_their_files_change() {
        let dir = std::env::temp_dir().join(format!("sonde-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/x509");
        let ca = dir.join("ca.pem");
        std::fs::copy(fixtures.join("utctime.pem"), &ca).unwrap();
        let t = ClientTls { ca_file: Some(ca.clone()), ..ClientTls::default() };
        let first = client_config(&t).unwrap();
        assert!(Arc::ptr_eq(&first, &client_config(&t).unwrap()), "kept");
        // Another bundle of a different length: a new stamp.
        let mut two = std::fs::read(fixtures.join("utctime.pem")).unwrap();
        two.extend(std::fs::read(fixtures.join("generalizedtime.pem")).unwrap());
        std::fs::write(&ca, two).unwrap();
        let second = client_config(&t).unwrap();
        assert!(!Arc::ptr_eq(&first, &second), "made again");
        assert!(Arc::ptr_eq(&second, &client_config(&t).unwrap()));
        std::fs::write(&ca, "not a certificate\n").unwrap();
        let err = client_config(&t).unwrap_err();
        assert!(err.to_string().contains(&ca.display().to_string()), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
