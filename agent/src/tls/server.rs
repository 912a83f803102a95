//! The TLS server of the endpoint (cargo feature `tls`), as
//! exporter-toolkit's `tls_server_config` asks for it: a certificate chain
//! and key, TLS 1.2 and 1.3 between `min_version` and `max_version`, and
//! client certificates verified against `client_ca_file` when
//! `client_auth_type` says so. rustls with ring's crypto.
//!
//! Invariants: the handshake is bounded by the caller's deadline as a
//! whole (a client that trickles bytes or stalls loses its slot, as with
//! a plain request head); a client certificate that does not verify ends
//! the handshake; nothing here panics on a peer's bytes.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::server::WebPkiClientVerifier;
use rustls::{ServerConfig, ServerConnection};

use super::client::{certificates, private_key, roots};
use super::{ServerTls, Version};
use crate::sys::time::Deadline;

/// The server configuration `t` describes, its files read now.
pub fn server_config(t: &ServerTls) -> io::Result<Arc<ServerConfig>> {
    use rustls::version::{TLS12, TLS13};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
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
            builder.with_client_cert_verifier(v.build().map_err(io::Error::other)?)
        }
        None => builder.with_no_client_auth(),
    };
    let config =
        builder.with_single_cert(certificates(&t.cert_file)?, private_key(&t.key_file)?).map_err(io::Error::other)?;
    Ok(Arc::new(config))
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
