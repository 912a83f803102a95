//! What the watchdog must not forget between runs: each service's monitor
//! mode (a service it gave up on stays given up after a restart of sonde),
//! its restarts (the total, and the cycles of the recent ones, so that "5
//! restarts within 5 cycles" counts the same over `--once` runs from cron
//! as in the daemon), each condition's window of cycles and whether its
//! failure was said, the process last seen (PID and start time), a
//! file's last checksum, and where its content test reads on. One file, `STATE_DIR/watch.state`, in
//! [`crate::wire::state`]'s text, replaced atomically
//! ([`crate::sys::file::write_atomic`]): a crash mid-write leaves the old
//! file or the new one.
//!
//! Flash wears: the daemon writes the file when something in it changed
//! other than the cycle number (an event, a restart), and at its stop;
//! `--once` writes it at every run, since each run is a cycle.

use std::path::{Path, PathBuf};

use crate::wire::state::{self as codec, unescape, Writer};

/// The file's name in the state directory.
pub const FILE: &str = "watch.state";

/// What `sonde resume` names its requests in the state directory: one
/// file each (`watch.resume-PID-NANOS`), put there whole by a rename, so
/// a request made while a cycle takes the others is never half-read nor
/// lost.
pub const RESUME: &str = "watch.resume-";

/// The request's word for every service.
pub const ALL: &str = "*";

/// Bytes of one request read: far more than any config's names.
const REQUEST_MAX: usize = 64 * 1024;

/// Requests taken in one cycle; more wait for the next.
const REQUESTS_MAX: usize = 64;

/// Leaves a request to resume `names` (none: all) for the watchdog that
/// uses `state_dir`.
pub fn request_resume(state_dir: &Path, names: &[String]) -> std::io::Result<()> {
    let mut text = if names.is_empty() { format!("{ALL}\n") } else { names.join("\n") + "\n" };
    text.retain(|c| c != '\0');
    std::fs::create_dir_all(state_dir)?;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let path = state_dir.join(format!("{RESUME}{}-{nanos}", std::process::id()));
    crate::sys::file::write_atomic(&path, text.as_bytes())
}

/// Takes the requests left in `state_dir`, if any: each read, then
/// removed.
pub fn take_requests(state_dir: &Path) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let entries = std::fs::read_dir(state_dir).ok()?;
    let mut buf = Vec::new();
    for e in entries.flatten().take(REQUESTS_MAX * 4) {
        let file = e.file_name();
        let Some(file) = file.to_str().filter(|f| f.starts_with(RESUME) && !f.ends_with(".tmp")) else { continue };
        let path = state_dir.join(file);
        let read = crate::sys::file::read_bounded(&path, &mut buf, REQUEST_MAX);
        let _ = std::fs::remove_file(&path);
        if read.is_ok() {
            let text = String::from_utf8_lossy(&buf);
            names.extend(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned));
        }
        if names.len() >= REQUESTS_MAX {
            break;
        }
    }
    (!names.is_empty()).then_some(names)
}

/// Monitor mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Active,
    /// By an `unmonitor` or `stop` action: not checked, not restarted.
    Unmonitored,
    /// The restart limit was reached (Monit's `timeout`).
    GaveUp,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Active => "active",
            Mode::Unmonitored => "unmonitored",
            Mode::GaveUp => "gave_up",
        }
    }

    fn parse(s: &str) -> Mode {
        match s {
            "unmonitored" => Mode::Unmonitored,
            "gave_up" => Mode::GaveUp,
            _ => Mode::Active,
        }
    }
}

/// One service's or file's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub mode: Mode,
    /// Restarts ever made (the counter's value).
    pub restarts: u64,
    /// Cycles of the recent restarts, oldest first; at most the limit's
    /// count are kept.
    pub restart_cycles: Vec<u64>,
    /// Per condition, the last 64 cycles: bit 0 the latest, 1 = failed.
    pub windows: Vec<u64>,
    /// Per condition, whether its failure was said (bit N: condition N).
    /// For a file, mount or program: which of its tests failed (the bits
    /// are its module's).
    pub failing: u64,
    /// "process is not running" was said.
    pub nonexist: bool,
    /// The process last seen: PID and start time (clock ticks).
    pub pid: u32,
    pub start: u64,
    /// A file's checksum when last read.
    pub sum: String,
    /// A file's content test: where it reads on.
    pub content: super::content::Position,
}

/// The whole state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Saved {
    /// Cycles run so far.
    pub cycle: u64,
    /// When it was written (ms since the epoch).
    pub time_ms: i64,
    pub entries: Vec<(String, Entry)>,
}

impl Entry {
    /// Whether the two differ only in where content tests read on.
    pub fn same_but_position(&self, o: &Entry) -> bool {
        let Entry { mode, restarts, restart_cycles, windows, failing, nonexist, pid, start, sum, content: _ } = self;
        (mode, restarts, restart_cycles, windows, failing, nonexist, pid, start, sum)
            == (&o.mode, &o.restarts, &o.restart_cycles, &o.windows, &o.failing, &o.nonexist, &o.pid, &o.start, &o.sum)
    }
}

impl Saved {
    pub fn entry(&mut self, name: &str) -> &mut Entry {
        let i = match self.entries.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.entries.push((name.to_owned(), Entry::default()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

/// Reads the state; a missing file is a fresh start, an unreadable or
/// torn one is an error (the caller starts fresh and says so).
pub fn load(path: &Path) -> Result<Saved, String> {
    let mut buf = Vec::new();
    match crate::sys::file::read_bounded(path, &mut buf, codec::MAX_RECORDS * 256) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Saved::default()),
        Err(e) => return Err(e.to_string()),
    }
    decode(&buf).map_err(|e| e.to_string())
}

/// The state of a state file's bytes.
pub fn decode(bytes: &[u8]) -> Result<Saved, crate::wire::Error> {
    let mut saved = Saved::default();
    let num = |v: Option<&str>| v.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let hexes = |v: Option<&str>| -> Vec<u64> {
        v.map(|v| v.split(',').filter_map(|h| u64::from_str_radix(h, 16).ok()).take(64).collect()).unwrap_or_default()
    };
    for r in codec::parse(bytes)? {
        if r.kind == "cycle" {
            saved.cycle = num(r.get("n"));
            saved.time_ms = r.get("time").and_then(|t| t.parse().ok()).unwrap_or(0);
            continue;
        }
        let Some(name) = unescape(r.name) else { continue };
        if r.kind != "service" {
            continue;
        }
        let e = saved.entry(&name);
        e.mode = Mode::parse(r.get("mode").unwrap_or(""));
        e.restarts = num(r.get("restarts"));
        e.restart_cycles = r
            .get("at")
            .map(|v| v.split(',').filter_map(|c| c.parse().ok()).take(super::MAX_WINDOW as usize).collect())
            .unwrap_or_default();
        e.windows = hexes(r.get("win"));
        e.failing = hexes(r.get("failing")).first().copied().unwrap_or(0);
        e.nonexist = r.get("nonexist") == Some("1");
        e.pid = u32::try_from(num(r.get("pid"))).unwrap_or(0);
        e.start = num(r.get("start"));
        e.sum = r.get("sum").and_then(unescape).unwrap_or_default();
        e.content.pos = num(r.get("pos"));
        e.content.ino = num(r.get("ino"));
        e.content.path = r.get("path").and_then(unescape).unwrap_or_default();
    }
    Ok(saved)
}

/// The state file's text.
pub fn encode(saved: &Saved) -> String {
    let mut w = Writer::new();
    w.record("cycle", "-").field("n", &saved.cycle.to_string()).field("time", &saved.time_ms.to_string());
    for (name, e) in &saved.entries {
        let r = w.record("service", name);
        r.field("mode", e.mode.as_str());
        if e.restarts > 0 {
            r.field("restarts", &e.restarts.to_string());
        }
        if !e.restart_cycles.is_empty() {
            let at: Vec<String> = e.restart_cycles.iter().map(u64::to_string).collect();
            r.field("at", &at.join(","));
        }
        if e.windows.iter().any(|&w| w != 0) {
            let win: Vec<String> = e.windows.iter().map(|w| format!("{w:x}")).collect();
            r.field("win", &win.join(","));
        }
        if e.failing != 0 {
            r.field("failing", &format!("{:x}", e.failing));
        }
        if e.nonexist {
            r.field("nonexist", "1");
        }
        if e.pid != 0 {
            r.field("pid", &e.pid.to_string()).field("start", &e.start.to_string());
        }
        if !e.sum.is_empty() {
            r.field("sum", &e.sum);
        }
        let at = &e.content;
        if at.ino != 0 {
            r.field("pos", &at.pos.to_string()).field("ino", &at.ino.to_string()).field("path", &at.path);
        }
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_reads_back_as_written() {
        let mut s = Saved { cycle: 1234, time_ms: 1_767_225_600_000, entries: Vec::new() };
        *s.entry("web") = Entry {
            mode: Mode::GaveUp,
            restarts: 7,
            restart_cycles: vec![10, 11, 12],
            windows: vec![0, 5, u64::MAX],
            failing: 2,
            nonexist: true,
            pid: 4242,
            start: 99,
            sum: String::new(),
            content: Default::default(),
        };
        s.entry("nginx bin").sum = "sha256:9f86d0".into();
        s.entry("syslog").content =
            super::super::content::Position { pos: 123_456, ino: 789, path: "/var/log/my messages".into() };
        let text = encode(&s);
        assert_eq!(decode(text.as_bytes()).unwrap(), s, "{text}");
        assert_eq!(decode(b"sonde-state 1\nend 0\n").unwrap(), Saved::default());
    }
}
