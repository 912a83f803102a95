//! One accepted connection, plain or (cargo feature `tls`, with
//! web-config.yml's `tls_server_config`) TLS, as the request code reads
//! and writes it: the socket's operations that code uses, and nothing
//! else.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use crate::config::Config;

pub(super) enum Conn {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::server::Session>),
}

/// The connection as the endpoint speaks on it: a TLS session once its
/// handshake is done by `deadline` (the request head's), when the
/// web-config in force asks for TLS; None when that fails.
pub(super) fn open(stream: TcpStream, deadline: crate::sys::time::Deadline, config: &Config) -> Option<Conn> {
    #[cfg(feature = "tls")]
    if let Some(tls) = super::auth::tls(config) {
        return crate::tls::server::accept(&tls, stream, deadline).map(|s| Conn::Tls(Box::new(s)));
    }
    let _ = (config, deadline);
    Some(Conn::Plain(stream))
}

impl Conn {
    /// The socket of a plain connection, for another request on it; None
    /// for TLS, whose session ends with the request (a kept-alive TLS
    /// connection would need its session state in the main loop).
    pub(super) fn into_plain(self) -> Option<TcpStream> {
        match self {
            Conn::Plain(s) => Some(s),
            #[cfg(feature = "tls")]
            Conn::Tls(_) => None,
        }
    }

    pub(super) fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.set_read_timeout(d),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => s.set_read_timeout(d),
        }
    }

    pub(super) fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.set_write_timeout(d),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => s.set_write_timeout(d),
        }
    }

    pub(super) fn shutdown(&mut self, how: Shutdown) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.shutdown(how),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => s.shutdown(how),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write_vectored(bufs),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => s.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => s.flush(),
        }
    }
}
