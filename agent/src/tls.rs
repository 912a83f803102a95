//! The TLS client (cargo feature `tls`): rustls with ring's crypto, the
//! server's chain checked by WebPKI against a CA file or the system's
//! bundle, an optional client certificate.
//!
//! Invariants: nothing here blocks without the socket's own timeouts (the
//! handshake runs inside the first read or write of the [`Stream`], under
//! whatever deadline the caller set on the socket); a certificate that
//! does not verify is an error, never a warning, and there is no switch to
//! skip verification. Every error names the file or the peer it is about.

use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::config::tls::ClientTls;

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

/// The client configuration `t` describes; its files are read now.
pub fn client_config(t: &ClientTls) -> io::Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = roots(t.ca_file.as_deref())?;
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
        .build()
        .map_err(io::Error::other)?;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_webpki_verifier(verifier);
    let config = match (&t.cert_file, &t.key_file) {
        (Some(cert), Some(key)) => {
            builder.with_client_auth_cert(certificates(cert)?, private_key(key)?).map_err(io::Error::other)?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
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
pub fn alert(s: &mut Stream, deadline: Instant) -> Option<io::Error> {
    loop {
        let left = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())?;
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

/// The trust anchors: `ca_file`, or the first system bundle found.
fn roots(ca_file: Option<&Path>) -> io::Result<RootCertStore> {
    let env = std::env::var_os("SSL_CERT_FILE");
    let path = match ca_file {
        Some(p) => p.to_owned(),
        None => env
            .iter()
            .map(Into::into)
            .chain(SYSTEM_BUNDLES.iter().map(Into::into))
            .find(|p: &std::path::PathBuf| p.is_file())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no CA bundle at {}; set ca_file", SYSTEM_BUNDLES.join(", ")),
                )
            })?,
    };
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(certificates(&path)?);
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
