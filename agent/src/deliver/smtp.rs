//! The SMTP client of the mail notifications (RFC 5321): one message to
//! one server per session, over TCP, STARTTLS (RFC 3207) or TLS from the
//! connect (RFC 8314's submissions), with AUTH PLAIN (RFC 4616) or LOGIN.
//!
//! Every command waits for its reply before the next is written (no
//! PIPELINING: Exim, among others, refuses a client that runs ahead of a
//! server that did not offer it), every read and write has the session's
//! deadline, and a reply is read into a buffer of at most
//! [`smtp::MAX_REPLY`] bytes ([`crate::wire::smtp`] parses it).
//!
//! What a failure means is the caller's to decide from [`Failure`]: this
//! server could not take the message now (try the next one, or later), or
//! it refused the message itself for good. A password is never sent in
//! clear text except to a relay on loopback.

use std::io::{self, Read};

use super::http::{connect, write_by, Conn, Endpoint};
use crate::sys::time::Deadline;
use crate::tls::ClientTls;
use crate::wire::base64;
use crate::wire::smtp::{self, Extensions};

/// How the session is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Clear text (`smtp://`).
    Plain,
    /// Clear text until STARTTLS, which the server must offer.
    StartTls,
    /// TLS from the connect (`smtps://`, port 465).
    Tls,
}

/// One mail server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub security: Security,
}

impl Server {
    /// `smtp://host[:port]` (25) or `smtps://host[:port]` (465).
    pub fn parse(url: &str, starttls: bool) -> Result<Server, String> {
        let (security, rest, port) = match url.split_once("://") {
            Some(("smtp", rest)) => (if starttls { Security::StartTls } else { Security::Plain }, rest, 25),
            Some(("smtps", rest)) => (Security::Tls, rest, 465),
            _ => return Err(format!("'{url}' is not an smtp:// or smtps:// URL")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '@', '?']) {
            return Err(format!("'{url}': only a host and a port (credentials go in username and password_file)"));
        }
        let (host, p) = crate::wire::hostport::split(rest).ok_or_else(|| format!("'{url}': bad host or port"))?;
        Ok(Server { host: host.to_owned(), port: p.unwrap_or(port), security })
    }

    /// `smtp://host:port`, for the log.
    pub fn name(&self) -> String {
        let scheme = if self.security == Security::Tls { "smtps" } else { "smtp" };
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("{scheme}://{host}:{}", self.port)
    }
}

/// An AUTH mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
}

/// Who the client is to the server.
pub struct Credentials<'a> {
    pub user: &'a str,
    pub password: &'a str,
    /// None: PLAIN if offered, else LOGIN.
    pub mechanism: Option<Mechanism>,
}

/// Why a message did not go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// This server could not take it now (unreachable, TLS, a 4xx, AUTH
    /// refused): another server, or a later try, may.
    Server(String),
    /// The server refused the message itself for good (a 5xx to MAIL,
    /// RCPT or DATA): sending it again would be refused again.
    Refused(String),
}

/// One message.
pub struct Message<'a> {
    pub from: &'a str,
    pub to: &'a [String],
    /// Headers and body; line ends LF or CRLF (made CRLF here).
    pub text: &'a [u8],
}

/// A session's connection and what it has read.
struct Session {
    conn: Conn,
    buf: Vec<u8>,
    deadline: Deadline,
    server: String,
}

impl Session {
    /// Reads one reply; its code and its text for the log.
    fn reply(&mut self) -> Result<(u16, String, Extensions), Failure> {
        let mut chunk = [0u8; 1024];
        loop {
            match smtp::parse_reply(&self.buf) {
                Ok(Some((r, used))) => {
                    let out = (r.code, r.text(), Extensions::of(&r));
                    self.buf.drain(..used);
                    return Ok(out);
                }
                Ok(None) => {}
                Err(e) => return Err(Failure::Server(format!("{}: not an SMTP reply ({e:?})", self.server))),
            }
            let n = self
                .conn
                .arm(self.deadline)
                .and_then(|()| loop {
                    match self.conn.read(&mut chunk) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        r => break r,
                    }
                })
                .map_err(|e| self.io(e))?;
            if n == 0 {
                return Err(Failure::Server(format!("{}: closed the connection", self.server)));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn io(&self, e: io::Error) -> Failure {
        Failure::Server(format!("{}: {e}", self.server))
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        write_by(&mut self.conn, bytes, self.deadline)
            .and_then(|()| self.conn.arm(self.deadline))
            .and_then(|()| io::Write::flush(&mut self.conn))
            .map_err(|e| self.io(e))
    }

    /// Writes `line` (CRLF added) and reads the reply, which must be of
    /// class 2 or 3; else a 5xx is `refused` if that flag says it is the
    /// message's fault, and anything else is the server's.
    fn command(&mut self, line: &str, shown: &str, refused: bool) -> Result<(u16, Extensions), Failure> {
        let mut l = Vec::with_capacity(line.len() + 2);
        l.extend_from_slice(line.as_bytes());
        l.extend_from_slice(b"\r\n");
        self.write(&l)?;
        self.expect(shown, refused)
    }

    fn expect(&mut self, shown: &str, refused: bool) -> Result<(u16, Extensions), Failure> {
        let (code, text, ext) = self.reply()?;
        match code / 100 {
            2 | 3 => Ok((code, ext)),
            5 if refused => Err(Failure::Refused(format!("{}: {shown}: {text}", self.server))),
            _ => Err(Failure::Server(format!("{}: {shown}: {text}", self.server))),
        }
    }
}

/// Sends `msg` through `server`, `helo` being this box's name; the
/// recipients the server refused (the message went to the others).
pub fn send(
    server: &Server,
    tls: &ClientTls,
    helo: &str,
    credentials: Option<&Credentials<'_>>,
    msg: &Message<'_>,
    deadline: Deadline,
) -> Result<Vec<String>, Failure> {
    let name = server.name();
    let ep = Endpoint { tls: false, host: server.host.clone(), port: server.port, path: String::new() };
    let tcp = connect(&ep, deadline).map_err(|e| Failure::Server(format!("{name}: {e}")))?;
    let loopback = tcp.peer_addr().is_ok_and(|a| a.ip().is_loopback());
    let mut s = Session { conn: Conn::Plain(tcp), buf: Vec::new(), deadline, server: name };
    if server.security == Security::Tls {
        match start_tls(s.conn, server, tls) {
            Ok(c) => s.conn = c,
            Err(e) => return Err(Failure::Server(format!("{}: {e}", s.server))),
        }
    }
    let (code, _, _) = s.reply()?;
    if code != 220 {
        return Err(Failure::Server(format!("{}: greeted with {code}", s.server)));
    }
    let ehlo = format!("EHLO {helo}");
    let (_, mut ext) = s.command(&ehlo, "EHLO", false)?;
    if server.security == Security::StartTls {
        if !ext.starttls {
            return Err(Failure::Server(format!("{}: offers no STARTTLS", s.server)));
        }
        s.command("STARTTLS", "STARTTLS", false)?;
        if !s.buf.is_empty() {
            // Bytes after the 220 came before the handshake: injected.
            return Err(Failure::Server(format!("{}: sent data after its STARTTLS reply", s.server)));
        }
        match start_tls(s.conn, server, tls) {
            Ok(c) => s.conn = c,
            Err(e) => return Err(Failure::Server(format!("{}: {e}", s.server))),
        }
        ext = s.command(&ehlo, "EHLO", false)?.1;
    }
    if let Some(c) = credentials {
        if server.security == Security::Plain && !loopback {
            return Err(Failure::Server(format!(
                "{}: will not send the password in clear text (use starttls or smtps)",
                s.server
            )));
        }
        let mechanism = c.mechanism.or(if ext.auth_plain {
            Some(Mechanism::Plain)
        } else if ext.auth_login {
            Some(Mechanism::Login)
        } else {
            None
        });
        match mechanism {
            Some(Mechanism::Plain) => {
                let token = base64::encode(format!("\0{}\0{}", c.user, c.password).as_bytes());
                s.command(&format!("AUTH PLAIN {token}"), "AUTH PLAIN", false)?;
            }
            Some(Mechanism::Login) => {
                s.command("AUTH LOGIN", "AUTH LOGIN", false)?;
                s.command(&base64::encode(c.user.as_bytes()), "AUTH LOGIN user", false)?;
                s.command(&base64::encode(c.password.as_bytes()), "AUTH LOGIN password", false)?;
            }
            None => return Err(Failure::Server(format!("{}: offers neither AUTH PLAIN nor LOGIN", s.server))),
        }
    }
    let eight_bit = !msg.text.is_ascii() && ext.eight_bit_mime;
    let body = if eight_bit { " BODY=8BITMIME" } else { "" };
    s.command(&format!("MAIL FROM:<{}>{body}", msg.from), "MAIL FROM", true)?;
    let mut refused = Vec::new();
    for to in msg.to {
        match s.command(&format!("RCPT TO:<{to}>"), "RCPT TO", true) {
            Ok(_) => {}
            Err(Failure::Refused(why)) => refused.push(why),
            Err(e) => return Err(e),
        }
    }
    if refused.len() == msg.to.len() {
        return Err(Failure::Refused(refused.join("; ")));
    }
    s.command("DATA", "DATA", true)?;
    let mut data = Vec::new();
    smtp::data(msg.text, &mut data);
    s.write(&data)?;
    s.expect("the message", true)?;
    // The message is taken; QUIT's reply changes nothing.
    let _ = s.command("QUIT", "QUIT", false);
    Ok(refused)
}

/// The TLS session over `conn` to `server`, verified against `tls`.
#[cfg(feature = "tls")]
fn start_tls(conn: Conn, server: &Server, tls: &ClientTls) -> io::Result<Conn> {
    let Conn::Plain(tcp) = conn else { return Err(io::Error::other("TLS twice")) };
    let config = crate::tls::client_config(tls)?;
    let name = tls.server_name.clone().unwrap_or_else(|| server.host.clone());
    Ok(Conn::Tls(Box::new(crate::tls::connect(tcp, &config, &name)?)))
}

/// Without the `tls` feature the config refuses starttls and smtps.
#[cfg(not(feature = "tls"))]
fn start_tls(_: Conn, _: &Server, _: &ClientTls) -> io::Result<Conn> {
    Err(io::Error::other(crate::tls::WITHOUT_TLS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls() {
        let s = Server::parse("smtp://mx.example", false).unwrap();
        assert_eq!((s.host.as_str(), s.port, s.security), ("mx.example", 25, Security::Plain));
        let s = Server::parse("smtp://127.0.0.1:2525", true).unwrap();
        assert_eq!((s.port, s.security), (2525, Security::StartTls));
        let s = Server::parse("smtps://[::1]/", false).unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.security, s.name()),
            ("::1", 465, Security::Tls, "smtps://[::1]:465".into())
        );
        for bad in ["http://x", "smtp://u:p@x", "smtp://x/path", "smtp://x:99999", "mx.example"] {
            assert!(Server::parse(bad, false).is_err(), "{bad}");
        }
    }
}
