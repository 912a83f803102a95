//! TLS for the checks' connections (cargo feature `tls`): the handshake,
//! and reads and writes inside the session, each socket operation under
//! the check's deadline.
//!
//! rustls's own stream (`StreamOwned`) loops over the socket inside one
//! read or write, so a socket timeout set before it would bound each pass,
//! not the whole; here every `read_tls` and `write_tls` gets the time left
//! before the deadline, so a peer trickling a record a byte at a time ends
//! the check at its deadline. The chain is verified by [`crate::tls`]'s
//! client unless the check says `insecure_skip_verify`; what a handshake shows (version, the certificates'
//! expiry) is read only after it completed.

use std::io::{self, Read, Write};
use std::net::TcpStream;

use rustls::ProtocolVersion;

use super::{Failure, Tls};
use crate::check::Reason;
use crate::sys::time::Deadline;
use crate::tls::ClientTls;
use crate::tls::Stream;
use crate::wire::x509;

/// A TLS session over `tcp`, handshake done, for `name` (a DNS name or an
/// IP address) with `t`'s trust and identity; `report` gets the version
/// and the earliest expiry of the certificates presented. The CA and
/// client certificate files are read through [`crate::tls::client_config`],
/// which keeps what it made until a file changes on disk, so a replaced
/// certificate is used at the next run.
pub fn start(
    tcp: TcpStream,
    t: &ClientTls,
    name: &str,
    deadline: Deadline,
    report: &mut Tls,
) -> Result<Stream, Failure> {
    let config = crate::tls::client_config(t).map_err(|e| (Reason::Tls, Some(e.to_string())))?;
    let mut s = crate::tls::connect(tcp, &config, name).map_err(|e| (Reason::Tls, Some(e.to_string())))?;
    while s.conn.is_handshaking() {
        if s.conn.wants_write() {
            flush(&mut s, deadline).map_err(|e| in_handshake(&mut s, &e, deadline))?;
            continue;
        }
        let timeout = deadline.left().ok_or_else(|| in_handshake(&mut s, &io::ErrorKind::TimedOut.into(), deadline))?;
        s.sock.set_read_timeout(Some(timeout)).map_err(|e| (Reason::of_io(&e), None))?;
        match s.conn.read_tls(&mut s.sock) {
            Ok(0) => {
                return Err((Reason::Tls, Some("the server closed the connection during the TLS handshake".into())));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(in_handshake(&mut s, &e, deadline)),
        }
        if let Err(e) = s.conn.process_new_packets() {
            return Err(refused(&mut s, &e, deadline));
        }
    }
    // TLS 1.3: the client's Finished is still to go.
    flush(&mut s, deadline).map_err(|e| in_handshake(&mut s, &e, deadline))?;
    report.insecure = t.insecure_skip_verify;
    report.version = Some(match s.conn.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => "TLS 1.3",
        Some(ProtocolVersion::TLSv1_2) => "TLS 1.2",
        // blackbox_exporter's word for a version it does not know.
        _ => "unknown",
    });
    // As blackbox_exporter: the earliest of every certificate presented,
    // whether or not the verified path used it. One sonde cannot read
    // (it verified, so the leaf always reads) is left out.
    report.earliest_expiry =
        s.conn.peer_certificates().unwrap_or_default().iter().filter_map(|c| x509::not_after(c).ok()).min();
    Ok(s)
}

/// Plaintext from the session: what is there, or what comes before the
/// deadline; Ok(0) at its end, whether the peer said close_notify or
/// only closed the socket (many do after QUIT; for a monitoring
/// dialogue the end is the end).
pub fn read(s: &mut Stream, buf: &mut [u8], deadline: Deadline) -> Result<usize, Failure> {
    loop {
        match s.conn.reader().read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err((Reason::of_io(&e), None)),
        }
        let timeout = deadline.left().ok_or((Reason::Timeout, None))?;
        s.sock.set_read_timeout(Some(timeout)).map_err(|e| (Reason::of_io(&e), None))?;
        match s.conn.read_tls(&mut s.sock) {
            // Ok(0) marks the end; the reader says it next.
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err((Reason::of_io(&e), None)),
        }
        if let Err(e) = s.conn.process_new_packets() {
            return Err(refused(s, &e, deadline));
        }
        // Whatever the records asked us to say (a key update's answer).
        flush(s, deadline).map_err(|e| after_write(s, &e, deadline))?;
    }
}

/// Writes `bytes` into the session and out to the socket.
pub fn write_all(s: &mut Stream, bytes: &[u8], deadline: Deadline) -> Result<(), Failure> {
    s.conn.writer().write_all(bytes).map_err(|e| (Reason::of_io(&e), None))?;
    flush(s, deadline).map_err(|e| after_write(s, &e, deadline))
}

/// close_notify, best effort: the check's result is already known.
pub fn close(s: &mut Stream, deadline: Deadline) {
    s.conn.send_close_notify();
    let _ = flush(s, deadline);
}

/// Sends what rustls holds for the socket.
fn flush(s: &mut Stream, deadline: Deadline) -> io::Result<()> {
    while s.conn.wants_write() {
        let timeout = deadline.left().ok_or(io::ErrorKind::TimedOut)?;
        s.sock.set_write_timeout(Some(timeout))?;
        match s.conn.write_tls(&mut s.sock) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A rustls error: the alert it queued goes to the server (so its log
/// says why too), and the check fails as `certificate` when the server's
/// certificate was refused, `tls` otherwise.
fn refused(s: &mut Stream, e: &rustls::Error, deadline: Deadline) -> Failure {
    let _ = flush(s, deadline);
    let reason = match e {
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => Reason::Certificate,
        _ => Reason::Tls,
    };
    (reason, Some(e.to_string()))
}

/// A socket error during the handshake: the deadline is a timeout; a
/// server that went away has usually said why in an alert first, and that
/// is the failure; otherwise a TLS failure in the socket's words.
fn in_handshake(s: &mut Stream, e: &io::Error, deadline: Deadline) -> Failure {
    match Reason::of_io(e) {
        Reason::Timeout => (Reason::Timeout, Some("no TLS handshake before the deadline".into())),
        _ => match after_write(s, e, deadline) {
            (r @ (Reason::Tls | Reason::Certificate), why) => (r, why),
            _ => (Reason::Tls, Some(format!("TLS handshake: {e}"))),
        },
    }
}

/// A failed write: the server's alert if one is waiting (a TLS 1.3
/// server refuses a client certificate after the client's Finished), else
/// the socket's error.
fn after_write(s: &mut Stream, e: &io::Error, deadline: Deadline) -> Failure {
    if Reason::of_io(e) != Reason::Timeout {
        if let Some(alert) = crate::tls::alert(s, deadline) {
            let inner = alert.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
            if let Some(r) = inner {
                let (reason, _) = refused(s, r, deadline);
                return (reason, Some(alert.to_string()));
            }
        }
    }
    (Reason::of_io(e), None)
}
