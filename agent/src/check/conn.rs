//! A check's stream connection: TCP, or (cargo feature `tls`) TLS over
//! it, read and written under the check's deadline; shared by the tcp and
//! http kinds.
//!
//! TLS always verifies the server's chain ([`crate::tls`]'s client) unless
//! the check's `insecure_skip_verify` says otherwise, which it then
//! reports (`probe_tls_insecure_skip_verify`). A handshake reports the TLS version and the earliest
//! notAfter among the certificates the server presented ([`Tls`]); a
//! refused certificate fails as `certificate`, any other TLS failure as
//! `tls`, with rustls's words kept for stderr.
//!
//! Invariants: every socket operation gets the time left before the
//! deadline, never more; a TLS handshake's messages are bounded by rustls
//! (64 KiB each) and by the deadline.

#[cfg(feature = "tls")]
mod tls;

use std::io::{self, Read, Write};
use std::net::TcpStream;

use super::Reason;
use crate::sys::time::Deadline;
use crate::tls::ClientTls;

/// Why a step failed, and for a TLS failure the words for stderr.
pub type Failure = (Reason, Option<String>);

/// What a TLS session showed, for blackbox_exporter's TLS families, and
/// what went wrong in it, for stderr. Empty in a build without the `tls`
/// feature, so nothing that reads it is built there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tls {
    /// `TLS 1.2` or `TLS 1.3`, blackbox_exporter's spelling, once a
    /// handshake completed (`probe_tls_version_info{version}`).
    #[cfg(feature = "tls")]
    pub version: Option<&'static str>,
    /// Unix seconds of the earliest notAfter among the certificates the
    /// server presented (`probe_ssl_earliest_cert_expiry`).
    #[cfg(feature = "tls")]
    pub earliest_expiry: Option<i64>,
    /// rustls's words (or a CA file's error) when TLS failed.
    #[cfg(feature = "tls")]
    pub error: Option<String>,
    /// The handshake took any certificate (`insecure_skip_verify`).
    #[cfg(feature = "tls")]
    pub insecure: bool,
}

#[cfg(feature = "tls")]
impl Tls {
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub fn set_error(&mut self, why: String) {
        self.error = Some(why);
    }
}

#[cfg(not(feature = "tls"))]
impl Tls {
    pub fn error(&self) -> Option<&str> {
        None
    }

    pub fn set_error(&mut self, _: String) {}
}

/// A check's connection: TCP, or TLS over it.
pub enum Conn {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::Stream>),
    /// Between the two while TLS starts; never read or written.
    #[cfg(feature = "tls")]
    Gone,
}

impl Conn {
    /// Reads what is there, or waits for something until the deadline;
    /// Ok(0) at the end (a TLS peer closing without close_notify, which
    /// many do, ends it as TCP's end would).
    pub fn read(&mut self, buf: &mut [u8], deadline: Deadline) -> Result<usize, Failure> {
        match self {
            Conn::Plain(s) => {
                let timeout = deadline.left().ok_or((Reason::Timeout, None))?;
                s.set_read_timeout(Some(timeout)).map_err(|e| (Reason::of_io(&e), None))?;
                loop {
                    match s.read(buf) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        r => return r.map_err(|e| (Reason::of_io(&e), None)),
                    }
                }
            }
            #[cfg(feature = "tls")]
            Conn::Tls(s) => tls::read(s, buf, deadline),
            #[cfg(feature = "tls")]
            Conn::Gone => Err((Reason::Error, None)),
        }
    }

    /// Writes all of `bytes` by the deadline.
    pub fn write_all(&mut self, bytes: &[u8], deadline: Deadline) -> Result<(), Failure> {
        match self {
            Conn::Plain(s) => {
                let timeout = deadline.left().ok_or((Reason::Timeout, None))?;
                s.set_write_timeout(Some(timeout)).map_err(|e| (Reason::of_io(&e), None))?;
                s.write_all(bytes).map_err(|e| (Reason::of_io(&e), None))
            }
            #[cfg(feature = "tls")]
            Conn::Tls(s) => tls::write_all(s, bytes, deadline),
            #[cfg(feature = "tls")]
            Conn::Gone => Err((Reason::Error, None)),
        }
    }

    /// Replaces the TCP connection with a TLS session over it, handshake
    /// done, for `name` (a DNS name or an IP address) with `t`'s trust and
    /// identity; `report` gets what the handshake showed.
    #[cfg(feature = "tls")]
    pub fn start_tls(
        &mut self,
        t: &ClientTls,
        name: &str,
        deadline: Deadline,
        report: &mut Tls,
    ) -> Result<(), Failure> {
        let Conn::Plain(tcp) = std::mem::replace(self, Conn::Gone) else {
            // The config allows one start of TLS; a second would be TLS
            // inside TLS.
            return Err((Reason::Error, Some("TLS started twice".into())));
        };
        let stream = tls::start(tcp, t, name, deadline, report)?;
        *self = Conn::Tls(Box::new(stream));
        Ok(())
    }

    #[cfg(not(feature = "tls"))]
    pub fn start_tls(&mut self, _: &ClientTls, _: &str, _: Deadline, _: &mut Tls) -> Result<(), Failure> {
        // The config and /probe refuse TLS in this build: not reached.
        Err((Reason::Tls, Some(crate::tls::WITHOUT_TLS.into())))
    }

    /// Ends a finished exchange; a TLS session says close_notify first.
    pub fn close(self, deadline: Deadline) {
        match self {
            Conn::Plain(_) => {}
            #[cfg(feature = "tls")]
            Conn::Tls(mut s) => tls::close(&mut s, deadline),
            #[cfg(feature = "tls")]
            Conn::Gone => {}
        }
        let _ = deadline;
    }
}
