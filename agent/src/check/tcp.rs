//! The TCP check: connect, optionally start TLS, then an optional
//! send/expect dialogue, as blackbox_exporter's tcp prober with its
//! `query_response` and Monit's `send`/`expect`.
//!
//! A dialogue is a list of steps; `expect` reads lines until one matches
//! its regular expression (RE2 syntax, as blackbox_exporter's
//! `query_response` reads it: `^220 .*ESMTP`, `^SSH-2.0-`, `^\+OK`), `send`
//! writes its text and CRLF (SMTP, POP and IMAP all want CRLF, RFC 5321
//! §2.3.8; an SSH server accepts it too). An `expect` that saw lines, none
//! matching, by the deadline fails as `unexpected_reply`: the server
//! answered, not what was expected (an SMTP server that does not offer
//! STARTTLS waits after its EHLO reply); one that saw nothing fails as
//! `timeout`.
//!
//! TLS (cargo feature `tls`; [`crate::tls`]'s client, so the chain is
//! always verified): `tls = true` starts it right after the connect, as
//! blackbox_exporter's `tls: true` (SMTPS, IMAPS, POP3S); a `starttls`
//! step starts it inside the dialogue, as its query_response `starttls`
//! (SMTP's, IMAP's or POP's STARTTLS command and go-ahead are the steps
//! before it), and the rest of the dialogue runs inside TLS. The name the
//! certificate must hold is `server_name`, else the target's host, name
//! or IP address. A handshake reports the TLS version and the earliest
//! notAfter among the certificates the server presented; a refused
//! certificate fails as `certificate`, any other TLS failure (an alert, a
//! peer that does not speak TLS or closes during the handshake, plaintext
//! sent after a STARTTLS go-ahead) as `tls`, and rustls's words go to the
//! outcome for stderr.
//!
//! Invariants: every socket operation has a deadline no later than the
//! check's; at most [`MAX_DIALOGUE_READ`] plaintext bytes are read from a
//! peer and a line is at most [`MAX_DIALOGUE_LINE`] bytes (longer ones are
//! cut and still matched), so a server streaming garbage ends the check at
//! its deadline or its byte budget, whichever first; a TLS handshake's
//! messages are bounded by rustls (64 KiB each) and by the deadline.

use std::net::SocketAddr;
use std::time::Instant;

use super::conn::{Conn, Failure, Tls};
use super::{quote, Detail as CheckDetail, Outcome, Probe, Reason, Row};
use crate::limits::{MAX_DIALOGUE_LINE, MAX_DIALOGUE_READ};
use crate::sys::time::Deadline;
use crate::tls::ClientTls;
use crate::wire::regex::Regex;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Expect(Regex),
    Send(String),
    /// Start TLS here; the steps after it run inside TLS.
    StartTls,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub steps: Vec<Step>,
    /// TLS from the connect on, before any step (`tls = true`).
    pub tls: bool,
    /// How TLS trusts the server and presents itself (`ca_file`,
    /// `cert_file`, `key_file`, `server_name`), for `tls` and `starttls`.
    pub tls_config: ClientTls,
    /// What ends a `send`: CRLF, or a bare LF as blackbox_exporter's
    /// `query_response` writes it (a blackbox.yml module).
    pub bare_lf: bool,
}

impl Settings {
    /// blackbox_exporter's example `smtp_banner`: the greeting, and
    /// nothing more (a server that greets and closes passes).
    pub fn smtp_banner() -> Settings {
        Settings { steps: vec![expect("^220")], ..Settings::default() }
    }

    /// The server's identification, then one of our own as blackbox's
    /// module sends it: an sshd that reads none logs every probe as a
    /// failed key exchange (`kex_exchange_identification`), which log
    /// watchers such as fail2ban may count against the prober.
    pub fn ssh_banner() -> Settings {
        Settings {
            steps: vec![expect("^SSH-2.0-"), Step::Send("SSH-2.0-sonde-ssh-check".into())],
            ..Settings::default()
        }
    }

    /// blackbox_exporter's example `tls_connect`: a TLS handshake, no
    /// dialogue.
    pub fn tls_connect() -> Settings {
        Settings { tls: true, ..Settings::default() }
    }

    /// blackbox_exporter's example `smtp_starttls`, in sonde's patterns:
    /// the greeting's last line, EHLO, the STARTTLS extension offered
    /// (RFC 3207), the go-ahead, TLS, EHLO again inside it, QUIT.
    pub fn smtp_starttls() -> Settings {
        let (e, s) = (expect, |t: &str| Step::Send(t.into()));
        Settings {
            steps: vec![
                e("^220 "),
                s("EHLO prober"),
                e("STARTTLS"),
                s("STARTTLS"),
                e("^220"),
                Step::StartTls,
                s("EHLO prober"),
                e("^250 "),
                s("QUIT"),
                e("^221"),
            ],
            ..Settings::default()
        }
    }

    /// Whether the check speaks TLS at some point.
    pub fn uses_tls(&self) -> bool {
        self.tls || self.steps.contains(&Step::StartTls)
    }
}

/// What a TCP check saw, for its families.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detail {
    pub connect_seconds: Option<f64>,
    pub failed_due_to_regex: bool,
    /// Empty unless the check spoke TLS.
    pub tls: Tls,
}

impl Probe for Settings {
    fn default_port(&self) -> u16 {
        0
    }

    fn run(&self, target: &str, addr: SocketAddr, deadline: Deadline) -> (Option<Reason>, CheckDetail) {
        run(self, target, addr, deadline)
    }

    fn describe(&self, s: &mut String) {
        s.push_str("\"tcp\"\ndialogue = [");
        for (i, step) in self.steps.iter().enumerate() {
            s.push_str(if i == 0 { "" } else { ", " });
            match step {
                Step::Expect(p) => quote(s, &format!("expect {}", p.as_str())),
                Step::Send(t) => quote(s, &format!("send {t}")),
                Step::StartTls => quote(s, "starttls"),
            }
        }
        s.push(']');
        if self.tls {
            s.push_str("\ntls = true");
        }
    }

    /// `hostname=`: the name TLS asks for when the target is an address,
    /// as blackbox_exporter's.
    fn probe_param(&mut self, key: &str, value: &str) -> Result<(), String> {
        if key == "hostname" && self.tls_config.server_name.is_none() {
            self.tls_config.server_name = Some(value.to_owned());
        }
        Ok(())
    }
}

/// The built-in modules of this kind: blackbox_exporter's examples.
pub fn module(name: &str) -> Option<Result<Settings, &'static str>> {
    let tls = |s: fn() -> Settings| if crate::tls::TLS_BUILT { Ok(s()) } else { Err(crate::tls::WITHOUT_TLS) };
    Some(match name {
        "tcp_connect" => Ok(Settings::default()),
        "smtp_banner" => Ok(Settings::smtp_banner()),
        "ssh_banner" => Ok(Settings::ssh_banner()),
        "tls_connect" => tls(Settings::tls_connect),
        "smtp_starttls" => tls(Settings::smtp_starttls),
        _ => return None,
    })
}

fn detail_of(o: &Outcome) -> Option<&Detail> {
    match &o.detail {
        CheckDetail::Tcp(d) => Some(d),
        _ => None,
    }
}

/// The families of TCP checks (with those it shares with http,
/// [`super::render::SHARED`]).
pub const ROWS: &[Row] =
    &[Row::new("probe_tcp_connect_duration_seconds", "sonde: Time to establish the TCP connection in seconds", |o| {
        detail_of(o).and_then(|d| d.connect_seconds)
    })];

/// The `expect` step of a built-in module. Its pattern is a constant,
/// compiled in a unit test (`builtin_patterns_compile`).
fn expect(pattern: &'static str) -> Step {
    #[allow(clippy::expect_used)]
    Step::Expect(Regex::new(pattern).expect("a built-in pattern compiles"))
}

/// Runs the check against `addr`; `target` is the check's target, whose
/// host is the name TLS asks for unless `server_name` says otherwise.
pub fn run(s: &Settings, target: &str, addr: SocketAddr, deadline: Deadline) -> (Option<Reason>, CheckDetail) {
    let mut tls = Tls::default();
    let detail = |connect_seconds, reason: Option<Reason>, tls: Tls| {
        let failed_due_to_regex = reason == Some(Reason::UnexpectedReply);
        (reason, CheckDetail::Tcp(Detail { connect_seconds, failed_due_to_regex, tls }))
    };
    let Some(timeout) = deadline.left() else { return detail(None, Some(Reason::Timeout), tls) };
    let t = Instant::now();
    let stream = match crate::sys::net::connect(addr, timeout) {
        Ok(s) => s,
        Err(e) => return detail(None, Some(Reason::of_io(&e)), tls),
    };
    let connect_seconds = Some(t.elapsed().as_secs_f64());
    let mut conn = Conn::Plain(stream);
    let mut lines = Lines { buf: Vec::new(), read: 0 };
    let steps = s.tls.then_some(&Step::StartTls).into_iter().chain(&s.steps);
    for step in steps {
        let result = match step {
            Step::Send(text) => send(&mut conn, text, if s.bare_lf { b"\n" } else { b"\r\n" }, deadline),
            Step::Expect(pattern) => lines.expect(&mut conn, pattern, deadline),
            // Bytes after the go-ahead, before the handshake: a broken
            // server, or plaintext injected to be read as if it came
            // inside TLS (RFC 3207 §6, CVE-2011-0411).
            Step::StartTls if !lines.buf.is_empty() => {
                let pending = lines.buf.len();
                Err((Reason::Tls, Some(format!("{pending} bytes of plaintext after the STARTTLS go-ahead"))))
            }
            Step::StartTls => {
                let name = match &s.tls_config.server_name {
                    Some(n) => n.as_str(),
                    None => crate::wire::hostport::split(target).map_or("", |(host, _)| host),
                };
                conn.start_tls(&s.tls_config, name, deadline, &mut tls)
            }
        };
        if let Err((reason, why)) = result {
            if let Some(why) = why {
                tls.set_error(why);
            }
            return detail(connect_seconds, Some(reason), tls);
        }
    }
    conn.close(deadline);
    detail(connect_seconds, None, tls)
}

/// Writes `text` and its line end.
fn send(conn: &mut Conn, text: &str, end: &[u8], deadline: Deadline) -> Result<(), Failure> {
    let mut msg = Vec::with_capacity(text.len() + 2);
    msg.extend_from_slice(text.as_bytes());
    msg.extend_from_slice(end);
    conn.write_all(&msg, deadline)
}

/// Bytes received and not yet consumed as lines.
struct Lines {
    buf: Vec<u8>,
    read: usize,
}

impl Lines {
    /// Reads lines until one matches: Ok; the peer closes, or the byte
    /// budget is spent: UnexpectedReply; the deadline passes: Timeout, or
    /// UnexpectedReply if lines came and none matched.
    fn expect(&mut self, conn: &mut Conn, pattern: &Regex, deadline: Deadline) -> Result<(), Failure> {
        let mut seen = false;
        let late = |seen: bool, f: Failure| match f {
            (Reason::Timeout, None) if seen => (Reason::UnexpectedReply, None),
            f => f,
        };
        loop {
            while let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line = &self.buf[..nl];
                line = line.strip_suffix(b"\r").unwrap_or(line);
                let hit = pattern.is_match_bytes(&line[..line.len().min(MAX_DIALOGUE_LINE)]);
                self.buf.drain(..=nl);
                if hit {
                    return Ok(());
                }
                seen = true;
            }
            if self.buf.len() > MAX_DIALOGUE_LINE {
                // A line longer than any banner: match its head, drop it.
                let hit = pattern.is_match_bytes(&self.buf[..MAX_DIALOGUE_LINE]);
                self.buf.clear();
                if hit {
                    return Ok(());
                }
                seen = true;
            }
            if self.read >= MAX_DIALOGUE_READ {
                return Err((Reason::UnexpectedReply, None));
            }
            let mut chunk = [0u8; 1024];
            let want = chunk.len().min(MAX_DIALOGUE_READ - self.read);
            match conn.read(&mut chunk[..want], deadline) {
                Ok(0) => {
                    // A last line without its newline still counts.
                    let hit = !self.buf.is_empty()
                        && pattern.is_match_bytes(&self.buf[..self.buf.len().min(MAX_DIALOGUE_LINE)]);
                    self.buf.clear();
                    return if hit { Ok(()) } else { Err((Reason::UnexpectedReply, None)) };
                }
                Ok(n) => {
                    self.read += n;
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                Err(f) => return Err(late(seen, f)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn builtin_patterns_compile() {
        for name in ["tcp_connect", "smtp_banner", "ssh_banner", "tls_connect", "smtp_starttls"] {
            let _ = module(name);
        }
    }

    #[test]
    fn smtp_dialogue_against_a_scripted_peer() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(b"220-first line\r\n220 mail ESMTP\r\n").unwrap();
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"QUIT\r\n");
            s.write_all(b"221 bye\r\n").unwrap();
        });
        let deadline = Deadline::after(std::time::Duration::from_secs(5));
        let settings = Settings {
            steps: vec![expect("^220 .*ESMTP"), Step::Send("QUIT".into()), expect("^221")],
            ..Settings::default()
        };
        let (reason, detail) = run(&settings, "127.0.0.1:25", addr, deadline);
        assert_eq!(reason, None);
        assert!(matches!(
            detail,
            CheckDetail::Tcp(Detail { connect_seconds: Some(_), failed_due_to_regex: false, .. })
        ));
        peer.join().unwrap();
    }

    /// A server that answers, then waits: lines that did not match by the
    /// deadline are an unexpected reply; silence is a timeout.
    #[test]
    fn an_expect_that_saw_lines_fails_as_unexpected_not_timeout() {
        for (greeting, want) in [(&b"220 mail ESMTP\r\n"[..], Reason::UnexpectedReply), (b"", Reason::Timeout)] {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = l.local_addr().unwrap();
            let peer = std::thread::spawn(move || {
                let (mut s, _) = l.accept().unwrap();
                s.write_all(greeting).unwrap();
                let _ = s.read(&mut [0u8; 16]);
            });
            let settings = Settings { steps: vec![expect("^SSH-")], ..Settings::default() };
            let deadline = Deadline::after(std::time::Duration::from_millis(300));
            let (reason, detail) = run(&settings, "127.0.0.1:25", addr, deadline);
            assert_eq!(reason, Some(want));
            let regex = want == Reason::UnexpectedReply;
            assert!(
                matches!(detail, CheckDetail::Tcp(Detail { failed_due_to_regex, .. }) if failed_due_to_regex == regex)
            );
            peer.join().unwrap();
        }
    }

    /// Plaintext after the go-ahead is never carried into TLS: it fails
    /// before any handshake (whether or not this build has TLS).
    #[test]
    fn bytes_after_the_starttls_go_ahead_fail_the_check() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(b"220 go ahead\r\n250 injected\r\n").unwrap();
            let _ = s.read(&mut [0u8; 16]);
        });
        let settings = Settings { steps: vec![expect("^220"), Step::StartTls], ..Settings::default() };
        let deadline = Deadline::after(std::time::Duration::from_secs(5));
        let (reason, detail) = run(&settings, "127.0.0.1:25", addr, deadline);
        // `tls`, where a build without TLS that reached its handshake
        // says `error`; the words are kept where TLS is built in.
        assert_eq!(reason, Some(Reason::Tls));
        let CheckDetail::Tcp(Detail { tls, .. }) = detail else { panic!("{detail:?}") };
        if cfg!(feature = "tls") {
            assert_eq!(tls.error(), Some("14 bytes of plaintext after the STARTTLS go-ahead"));
        }
        peer.join().unwrap();
    }
}
