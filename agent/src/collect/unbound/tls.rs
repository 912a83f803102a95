//! TLS for Unbound's control port (`control-use-cert: yes`), with the
//! files unbound-control-setup makes (cargo feature `tls`).
//!
//! unbound-control-setup makes a self-signed server certificate (CN and
//! SAN `unbound`, `CA:TRUE`) and a client certificate it signs. A WebPKI
//! verifier refuses a CA certificate as the server's own, so the server
//! certificate is pinned instead: the handshake is accepted only if the
//! server presents exactly a certificate of `server-cert-file`, and its
//! handshake signature is checked against that certificate's key. The
//! server name sent is "unbound", as unbound-control and the letsencrypt
//! exporter send it. The files are read at each scrape, so certificates
//! replaced on disk are used without a reload.

use std::io;
use std::net::TcpStream;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};

use super::Conn;
use super::Tls;
use crate::tls;

/// The name unbound-control-setup gives the server.
const SERVER_NAME: &str = "unbound";

pub type Stream = StreamOwned<ClientConnection, TcpStream>;

impl Conn for Stream {
    fn set_timeouts(&self, d: std::time::Duration) -> io::Result<()> {
        self.sock.set_read_timeout(Some(d))?;
        self.sock.set_write_timeout(Some(d))
    }
}

/// A TLS client over `tcp` with `files`; the handshake happens at the
/// first write, under the stream's timeouts.
pub fn connect(tcp: TcpStream, files: &Tls) -> io::Result<Stream> {
    let config = client_config(files)?;
    let name = ServerName::try_from(SERVER_NAME).map_err(io::Error::other)?;
    let conn = ClientConnection::new(Arc::new(config), name).map_err(io::Error::other)?;
    Ok(StreamOwned::new(conn, tcp))
}

fn client_config(files: &Tls) -> io::Result<ClientConfig> {
    let pinned = tls::certificates(&files.server_cert_file)?;
    let chain = tls::certificates(&files.control_cert_file)?;
    let key = tls::private_key(&files.control_key_file)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned { certs: pinned, algorithms }))
        .with_client_auth_cert(chain, key)
        .map_err(io::Error::other)
}

/// Accepts exactly the certificates of `server-cert-file`.
#[derive(Debug)]
struct Pinned {
    certs: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.certs.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
