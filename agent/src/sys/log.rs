//! sonde's own log: one line per event on stderr, `sonde: ` first, as
//! init systems and cron expect of a daemon (procd, runit and systemd
//! keep stderr; cron mails it).
//!
//! Every message goes through [`write`] (the `error!`, `warn!`,
//! `info!` and `debug!` macros), which keeps three promises: a line is
//! written whole, with one write(2), so threads never interleave inside
//! it; a message that holds line breaks becomes one line per part, each
//! with the prefix; and control characters from the outside world (a
//! config value, a peer's reply) are shown escaped (`\x1b`), so no input
//! can forge a line or move a terminal's cursor.
//!
//! A [`Level`] is the syslog severity of the line; lines below the level
//! set by [`set_level`] (default [`Level::Info`]) are not written. A sink
//! ([`set_sink`]) also receives every line that is written, with its level,
//! so a log forwarder can carry sonde's own lines; it must not log itself.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// How much a line matters: the syslog severity (RFC 5424 §6.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// Something failed that the operator must fix or know of.
    Error = 3,
    /// Something failed that sonde works around or retries.
    Warn = 4,
    /// What sonde did: started, listening, reloaded, stopped.
    Info = 6,
    Debug = 7,
}

impl Level {
    /// The syslog severity number.
    pub fn severity(self) -> u8 {
        self as u8
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// Receives every line written, with its level (no prefix, no newline).
pub type Sink = Arc<dyn Fn(Level, &str) + Send + Sync>;

static SINK: Mutex<Option<Sink>> = Mutex::new(None);

/// Lines less important than `level` are not written.
pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Whether a line at `level` would be written.
pub fn enabled(level: Level) -> bool {
    level as u8 <= LEVEL.load(Ordering::Relaxed)
}

/// Installs (or, with None, removes) the sink.
pub fn set_sink(sink: Option<Sink>) {
    *SINK.lock().unwrap_or_else(PoisonError::into_inner) = sink;
}

/// Writes one event. Use the macros.
pub fn write(level: Level, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    let mut text = String::new();
    let _ = text.write_fmt(args);
    let sink = SINK.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let mut out = String::with_capacity(text.len() + 16);
    for part in text.split('\n') {
        let start = out.len();
        out.push_str("sonde: ");
        let body = out.len();
        escape_into(part.trim_end_matches('\r'), &mut out);
        if let Some(sink) = &sink {
            sink(level, &out[body..]);
        }
        out.push('\n');
        debug_assert!(out.len() > start);
    }
    // One write for the whole event: stderr is unbuffered, and a line
    // written in pieces could be split by another thread's.
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
}

/// Appends `s` with control characters (but tab) as `\xNN`.
pub fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        if c.is_control() && c != '\t' {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            out.push(c);
        }
    }
}

/// An error the operator must know of.
macro_rules! log_error {
    ($($arg:tt)*) => { $crate::sys::log::write($crate::sys::log::Level::Error, format_args!($($arg)*)) };
}

/// A failure sonde works around or retries.
macro_rules! log_warn {
    ($($arg:tt)*) => { $crate::sys::log::write($crate::sys::log::Level::Warn, format_args!($($arg)*)) };
}

/// What sonde did.
macro_rules! log_info {
    ($($arg:tt)*) => { $crate::sys::log::write($crate::sys::log::Level::Info, format_args!($($arg)*)) };
}

/// Detail for finding a problem; not written by default.
#[allow(unused_macros)]
macro_rules! log_debug {
    ($($arg:tt)*) => { $crate::sys::log::write($crate::sys::log::Level::Debug, format_args!($($arg)*)) };
}

#[allow(unused_imports)]
pub(crate) use {log_debug as debug, log_error as error, log_info as info, log_warn as warn};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_tabs_kept() {
        let mut s = String::new();
        escape_into("a\x1b[2Jb\tc\u{7f}", &mut s);
        assert_eq!(s, "a\\x1b[2Jb\tc\\x7f");
    }

    #[test]
    fn levels_order_by_severity() {
        assert!(Level::Error < Level::Warn && Level::Info < Level::Debug);
        assert_eq!(Level::Warn.severity(), 4);
        assert!(enabled(Level::Info) && !enabled(Level::Debug));
    }

    #[test]
    fn the_sink_gets_each_line_of_an_event() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&seen);
        set_sink(Some(Arc::new(move |level, line: &str| keep.lock().unwrap().push((level, line.to_owned())))));
        log_warn!("first\nsecond \x07");
        set_sink(None);
        // Other tests may log meanwhile; only this one's lines count.
        let mut seen = seen.lock().unwrap().clone();
        seen.retain(|(_, l)| l == "first" || l.starts_with("second"));
        assert_eq!(seen, [(Level::Warn, "first".to_owned()), (Level::Warn, "second \\x07".to_owned())]);
    }
}
