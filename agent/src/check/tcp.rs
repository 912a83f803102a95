//! The TCP check: connect, then an optional send/expect dialogue, as
//! blackbox_exporter's `query_response` and Monit's `send`/`expect`.
//!
//! A dialogue is a list of steps; `expect` reads lines until one matches
//! its pattern, `send` writes its text and CRLF (SMTP, POP and IMAP all
//! want CRLF, RFC 5321 §2.3.8; an SSH server accepts it too). Patterns are
//! deliberately not regular expressions: regex-lite 0.1, measured, adds
//! 60 KiB (61,440 bytes) to the x86_64 musl release binary, more than the
//! whole of the checks (52 KiB), for what banners need: `^` anchors at the start
//! of the line, `$` at its end, and otherwise the text must occur in the
//! line. `^220` for SMTP, `^SSH-2.0-` for SSH, `^+OK` for POP (no escapes: every character but
//! a leading `^` and a trailing `$` is literal).
//!
//! Invariants: at most [`MAX_DIALOGUE_READ`] bytes are read from a peer
//! and a line is at most [`MAX_DIALOGUE_LINE`] bytes (longer ones are cut
//! and still matched), so a server streaming garbage ends the check at its
//! deadline or its byte budget, whichever first.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use super::{left, Detail, Reason};
use crate::limits::{MAX_DIALOGUE_LINE, MAX_DIALOGUE_READ};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Expect(String),
    Send(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub steps: Vec<Step>,
}

impl Settings {
    /// Built-in dialogues of the `/probe` modules.
    pub fn smtp_banner() -> Settings {
        Settings { steps: vec![Step::Expect("^220".into()), Step::Send("QUIT".into()), Step::Expect("^221".into())] }
    }

    pub fn ssh_banner() -> Settings {
        Settings { steps: vec![Step::Expect("^SSH-2.0-".into())] }
    }
}

/// Whether `line` (without its line end) matches `pattern`.
pub fn matches(pattern: &str, line: &[u8]) -> bool {
    let (start, rest) = match pattern.strip_prefix('^') {
        Some(r) => (true, r),
        None => (false, pattern),
    };
    let (end, text) = match rest.strip_suffix('$') {
        Some(t) => (true, t),
        None => (false, rest),
    };
    let t = text.as_bytes();
    match (start, end) {
        (true, true) => line == t,
        (true, false) => line.starts_with(t),
        (false, true) => line.ends_with(t),
        (false, false) => t.is_empty() || line.windows(t.len()).any(|w| w == t),
    }
}

pub fn run(s: &Settings, addr: SocketAddr, deadline: Instant) -> (Option<Reason>, Detail) {
    let mut detail = Detail::Tcp { connect_seconds: None, failed_due_to_regex: false };
    let Some(timeout) = left(deadline) else { return (Some(Reason::Timeout), detail) };
    let t = Instant::now();
    let mut stream = match crate::sys::net::connect(addr, timeout) {
        Ok(s) => s,
        Err(e) => return (Some(Reason::of_io(&e)), detail),
    };
    let connect_seconds = Some(t.elapsed().as_secs_f64());
    let mut lines = Lines { buf: Vec::new(), read: 0 };
    for step in &s.steps {
        let result = match step {
            Step::Send(text) => send(&mut stream, text, deadline),
            Step::Expect(pattern) => lines.expect(&mut stream, pattern, deadline),
        };
        if let Err(reason) = result {
            let failed_due_to_regex = reason == Reason::UnexpectedReply;
            return (Some(reason), Detail::Tcp { connect_seconds, failed_due_to_regex });
        }
    }
    detail = Detail::Tcp { connect_seconds, failed_due_to_regex: false };
    (None, detail)
}

fn send(stream: &mut TcpStream, text: &str, deadline: Instant) -> Result<(), Reason> {
    let timeout = left(deadline).ok_or(Reason::Timeout)?;
    stream.set_write_timeout(Some(timeout)).map_err(|e| Reason::of_io(&e))?;
    let mut msg = Vec::with_capacity(text.len() + 2);
    msg.extend_from_slice(text.as_bytes());
    msg.extend_from_slice(b"\r\n");
    stream.write_all(&msg).map_err(|e| Reason::of_io(&e))
}

/// Bytes received and not yet consumed as lines.
struct Lines {
    buf: Vec<u8>,
    read: usize,
}

impl Lines {
    /// Reads lines until one matches: Ok; the peer closes, or the byte
    /// budget is spent: UnexpectedReply; the deadline passes: Timeout.
    fn expect(&mut self, stream: &mut TcpStream, pattern: &str, deadline: Instant) -> Result<(), Reason> {
        loop {
            while let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line = &self.buf[..nl];
                line = line.strip_suffix(b"\r").unwrap_or(line);
                let hit = matches(pattern, &line[..line.len().min(MAX_DIALOGUE_LINE)]);
                self.buf.drain(..=nl);
                if hit {
                    return Ok(());
                }
            }
            if self.buf.len() > MAX_DIALOGUE_LINE {
                // A line longer than any banner: match its head, drop it.
                let hit = matches(pattern, &self.buf[..MAX_DIALOGUE_LINE]);
                self.buf.clear();
                if hit {
                    return Ok(());
                }
            }
            if self.read >= MAX_DIALOGUE_READ {
                return Err(Reason::UnexpectedReply);
            }
            let timeout = left(deadline).ok_or(Reason::Timeout)?;
            stream.set_read_timeout(Some(timeout)).map_err(|e| Reason::of_io(&e))?;
            let mut chunk = [0u8; 1024];
            let want = chunk.len().min(MAX_DIALOGUE_READ - self.read);
            match stream.read(&mut chunk[..want]) {
                Ok(0) => {
                    // A last line without its newline still counts.
                    let hit =
                        !self.buf.is_empty() && matches(pattern, &self.buf[..self.buf.len().min(MAX_DIALOGUE_LINE)]);
                    self.buf.clear();
                    return if hit { Ok(()) } else { Err(Reason::UnexpectedReply) };
                }
                Ok(n) => {
                    self.read += n;
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Reason::of_io(&e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_anchor_as_written() {
        assert!(matches("^220", b"220 mail.example ESMTP"));
        assert!(!matches("^220", b"554 go away 220"));
        assert!(matches("ESMTP", b"220 mail.example ESMTP"));
        assert!(matches("ESMTP$", b"220 mail.example ESMTP"));
        assert!(matches("^OK$", b"OK"));
        assert!(!matches("^OK$", b"OK!"));
        assert!(matches("", b"anything"));
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
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        let (reason, detail) = run(&Settings::smtp_banner(), addr, deadline);
        assert_eq!(reason, None);
        assert!(matches!(detail, Detail::Tcp { connect_seconds: Some(_), failed_due_to_regex: false }));
        peer.join().unwrap();
    }
}
