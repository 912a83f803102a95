//! Following files: what a path or glob names now, each file read from its
//! position to its end at every poll, through every rotation people use.
//!
//! A [`Tail`] is one open file. It is known by (device, inode), its head
//! (the hash of its first bytes, up to [`HEAD`]) and its window (the up to
//! [`WINDOW`] bytes before its position), and told apart from the file
//! that replaced it:
//! - **rename and create** (logrotate's `create`), **delete and
//!   recreate**, a symbolic link pointed elsewhere: the path names another
//!   inode, or none. The old file stays open and is read to its end until
//!   it has not grown for [`LOG_ROTATE_WAIT`] (a writer appends to its
//!   descriptor until it reopens the log), then let go; the new one is
//!   read from its start.
//! - **copytruncate**, or a file emptied and written again: the size is
//!   below the position, or the window before it changed. The copy is
//!   looked for beside the file (same head, same window at the position)
//!   and read on from the position, then the file from its start; lines
//!   written between the copy and the truncation are in neither file
//!   (logrotate's own race). No copy found: what was seen and not read is
//!   counted (`sonde_log_skipped_bytes_total{reason="truncated"}`).
//! - **rotation while sonde was stopped**: a saved position's inode is
//!   looked for beside its path, its head and window checked (an inode
//!   reused by another file fails them), and read on; a truncated one is
//!   read on from its copy. A file gone with bytes not read is counted
//!   (`reason="gone"`).
//!
//! Lines end at `\n` (a `\r` before it is dropped). A last line without
//! its newline waits for it [`LOG_PARTIAL_WAIT`], then is taken as it is.
//! A line longer than [`MAX_LOG_LINE`] is cut there and the rest skipped
//! to its newline, counted; NUL bytes at the start of a line (the hole a
//! copytruncate leaves before a writer without `O_APPEND`) are skipped,
//! counted. A path that names a FIFO, a directory or a device is not
//! opened; a glob past [`MAX_LOG_FILES_PER_PATH`] files, or the agent past
//! [`MAX_LOG_FILES`], follows the first by name; each is counted in
//! `sonde_log_files_ignored`.
//!
//! Invariants: a poll reads at most [`LOG_READ_BUDGET`] bytes per path
//! and holds at most [`MAX_LOG_LINE`] plus one read in memory (a partial
//! line is not kept: it is read again); no file is opened that could
//! block (FIFOs are refused before the open, and files are opened with
//! `O_NONBLOCK`); nothing panics on any file content.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::state::{Position, Positions};
use crate::limits::{
    LOG_GLOB_RESCAN, LOG_PARTIAL_WAIT, LOG_READ_BUDGET, LOG_ROTATE_WAIT, MAX_GLOB_ENTRIES, MAX_LOG_FILES,
    MAX_LOG_FILES_PER_PATH, MAX_LOG_LINE, MAX_LOG_SIBLINGS,
};
use crate::sys::log;
use crate::wire::glob;
use crate::wire::logstate::{hash, Entry, MAX_PATH};

/// Head bytes that fingerprint a file.
pub const HEAD: usize = 1024;
/// Bytes before a position that are checked to be unchanged.
pub const WINDOW: usize = 32;
/// Bytes read at a time.
const CHUNK: usize = 64 * 1024;

/// Why bytes were skipped, in `sonde_log_skipped_bytes_total{reason}`.
pub const SKIPPED: [&str; 4] = ["nul", "too_long", "truncated", "gone"];
const NUL: usize = 0;
const TOO_LONG: usize = 1;
const TRUNCATED: usize = 2;
const GONE: usize = 3;

/// How a file stopped being what was read, in
/// `sonde_log_rotations_total{kind}`.
pub const ROTATIONS: [&str; 2] = ["moved", "truncated"];

/// Why a file the path names is not followed, in
/// `sonde_log_files_ignored{reason}`.
pub const IGNORED: [&str; 3] = ["too_many", "not_regular", "unreadable"];

/// What one path's following counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub read: u64,
    /// Lines cut at [`MAX_LOG_LINE`] (or, forwarded, at `max_message`).
    pub truncated: u64,
    pub skipped: [u64; 4],
    pub rotations: [u64; 2],
    /// Files followed now (rotated ones being drained included).
    pub files: u64,
    /// At the last scan.
    pub ignored: [u64; 3],
}

/// Where the lines of a path go.
pub trait Lines {
    /// A line of `tail` (`cut`: its head only), after `tail`'s position
    /// moved past it.
    fn line(&mut self, tail: &Tail, line: &[u8], cut: bool);
    /// Whether lines must be flushed before more are given.
    fn full(&self) -> bool;
    /// The lines given so far are complete.
    fn flush(&mut self);
    /// Whether more lines may be read now.
    fn room(&self) -> bool;
}

/// One open file.
pub struct Tail {
    pub path: PathBuf,
    file: File,
    pub dev: u64,
    pub ino: u64,
    pub epoch: u32,
    /// Where the next line starts.
    pub offset: u64,
    /// At the last look.
    pub size: u64,
    mtime: (i64, i64),
    window: [u8; WINDOW],
    window_len: usize,
    head_len: u16,
    head_hash: u64,
    /// Inside a line longer than kept, whose head was taken.
    pub skipping: bool,
    /// A last line without its newline: where it starts, since when.
    partial: Option<(u64, Instant)>,
    /// No longer at a followed name: drained, then let go.
    pub rotated: bool,
    /// When it last grew (or was found rotated).
    grew: Instant,
    /// Seen by the last scan.
    present: bool,
    /// The file's name up to its first dot: the default APP-NAME.
    pub stem: String,
}

impl Tail {
    /// Opens `path` (a regular file only) at `offset`.
    fn open(path: &Path, offset: u64, epoch: u32) -> Result<Tail, Refusal> {
        let (file, meta) = open_regular(path)?;
        let mut t = Tail {
            path: path.to_owned(),
            dev: meta.dev(),
            ino: meta.ino(),
            epoch,
            offset: offset.min(meta.len()),
            size: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            window: [0; WINDOW],
            window_len: 0,
            head_len: 0,
            head_hash: hash(b""),
            skipping: false,
            partial: None,
            rotated: false,
            grew: Instant::now(),
            present: true,
            stem: stem(path),
            file,
        };
        t.refresh_head();
        t.window_len = read_window(&t.file, t.offset, &mut t.window);
        Ok(t)
    }

    /// Reopens a saved position's file, checked to be the same file at
    /// the same place.
    fn resume(path: &Path, p: &Position) -> Result<Tail, Refusal> {
        let mut t = Tail::open(path, 0, p.epoch)?;
        t.offset = p.offset;
        t.skipping = p.skipping;
        t.window_len = read_window(&t.file, p.offset, &mut t.window);
        Ok(t)
    }

    pub fn position(&self, source: u64) -> Position {
        self.mark(source).with_path(self.path.clone())
    }

    /// Its position but the path, for `source`.
    pub fn mark(&self, source: u64) -> Entry<()> {
        Entry {
            source,
            dev: self.dev,
            ino: self.ino,
            epoch: self.epoch,
            skipping: self.skipping,
            offset: self.offset,
            size: self.size.max(self.offset),
            prehash: self.prehash(),
            head_len: self.head_len,
            head_hash: self.head_hash,
            path: (),
        }
    }

    /// Moves `p` (this file's position) to where the file is read to.
    pub fn update(&self, p: &mut Position) {
        let path = std::mem::take(&mut p.path);
        *p = self.mark(p.source).with_path(path);
    }

    /// The hash of the bytes before the position.
    pub fn prehash(&self) -> u64 {
        hash(&self.window[..self.window_len])
    }

    /// Starts the file again from 0 after a truncation: a new epoch.
    fn restart(&mut self) {
        (self.epoch, self.offset, self.window_len, self.skipping, self.partial) = (self.epoch + 1, 0, 0, false, None);
        (self.head_len, self.head_hash) = (0, hash(b""));
        if let Ok(m) = self.file.metadata() {
            self.size = m.len();
        }
        self.refresh_head();
    }

    /// Moves the position past `bytes` (just read at it).
    fn advance(&mut self, bytes: &[u8]) {
        self.offset += bytes.len() as u64;
        if bytes.len() >= WINDOW {
            self.window.copy_from_slice(&bytes[bytes.len() - WINDOW..]);
            self.window_len = WINDOW;
        } else {
            let keep = (WINDOW - bytes.len()).min(self.window_len);
            self.window.copy_within(self.window_len - keep..self.window_len, 0);
            self.window[keep..keep + bytes.len()].copy_from_slice(bytes);
            self.window_len = keep + bytes.len();
        }
    }

    /// Fingerprints the head again while it is shorter than [`HEAD`].
    fn refresh_head(&mut self) {
        if usize::from(self.head_len) >= HEAD || self.size <= u64::from(self.head_len) {
            return;
        }
        let mut head = [0u8; HEAD];
        let n = read_full(&self.file, 0, &mut head[..(self.size as usize).min(HEAD)]);
        self.head_len = n as u16;
        self.head_hash = hash(&head[..n]);
    }

    /// Whether the file is no longer what was read: smaller than the
    /// position, or other bytes before it; if so, the size it had at the
    /// look before. Also takes its size.
    fn truncated(&mut self) -> Option<u64> {
        let meta = self.file.metadata().ok()?;
        let (size, mtime) = (meta.len(), (meta.mtime(), meta.mtime_nsec()));
        let before = self.size;
        let changed = (size, mtime) != (self.size, self.mtime);
        self.size = size;
        self.mtime = mtime;
        if size < self.offset {
            return Some(before);
        }
        if !changed || self.window_len == 0 {
            return None;
        }
        let mut now = [0u8; WINDOW];
        let n = read_full(&self.file, self.offset - self.window_len as u64, &mut now[..self.window_len]);
        (now[..n] != self.window[..self.window_len]).then_some(before)
    }
}

/// Why a file the path names is not followed.
#[derive(Debug)]
enum Refusal {
    NotRegular,
    Unreadable(io::Error),
}

fn open_regular(path: &Path) -> Result<(File, Metadata), Refusal> {
    // A FIFO is refused before it is opened; the open is non-blocking in
    // case one takes the file's place meanwhile, and checked again after.
    let meta = std::fs::metadata(path).map_err(Refusal::Unreadable)?;
    if !meta.is_file() {
        return Err(Refusal::NotRegular);
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(Refusal::Unreadable)?;
    let meta = file.metadata().map_err(Refusal::Unreadable)?;
    if !meta.is_file() {
        return Err(Refusal::NotRegular);
    }
    Ok((file, meta))
}

/// Reads at `at` until `buf` is full or the file ends; the bytes read.
fn read_full(file: &File, at: u64, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], at + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    n
}

/// The up to [`WINDOW`] bytes before `offset`, into `w`; how many.
fn read_window(file: &File, offset: u64, w: &mut [u8; WINDOW]) -> usize {
    let len = (offset as usize).min(WINDOW);
    let n = read_full(file, offset - len as u64, &mut w[..len]);
    if n == len {
        n
    } else {
        0
    }
}

/// The file name up to its first dot (`dnsdist.log.1` → `dnsdist`).
fn stem(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let s = name.split('.').next().unwrap_or_default();
    if s.is_empty() {
        name.into_owned()
    } else {
        s.to_owned()
    }
}

/// Shared by the paths of one follower: the read buffer and the open
/// files' count.
pub struct Reader {
    buf: Vec<u8>,
    pub open: usize,
    /// Said once per path that hit the bound.
    pub said_too_many: bool,
}

impl Default for Reader {
    fn default() -> Self {
        Reader { buf: Vec::with_capacity(MAX_LOG_LINE + CHUNK), open: 0, said_too_many: false }
    }
}

/// What a poll of a path found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Polled {
    /// Bytes are waiting that the budget left unread.
    pub more: bool,
    /// Reading stopped because the lines' receiver had no room.
    pub blocked: bool,
}

/// One configured path or glob and its files.
pub struct Source {
    /// As written.
    pub path: String,
    pub key: u64,
    glob: bool,
    start_at_end: bool,
    pub tails: Vec<Tail>,
    /// Looked at before: files found from now on are new, read from 0.
    seen: bool,
    next_scan: Instant,
    pub counts: Counts,
    said_ignored: [bool; 3],
}

impl Source {
    pub fn new(path: &str, start_at_end: bool) -> Source {
        Source {
            path: path.to_owned(),
            key: hash(path.as_bytes()),
            glob: glob::is_pattern(path.as_bytes()),
            start_at_end,
            tails: Vec::new(),
            seen: false,
            next_scan: Instant::now(),
            counts: Counts::default(),
            said_ignored: [false; 3],
        }
    }

    /// Opens the files of the saved positions again, each checked to be
    /// the same file (see the module doc).
    pub fn resume(&mut self, positions: &mut Positions, reader: &mut Reader) {
        self.seen = positions.seen(self.key);
        for p in positions.of_source(self.key) {
            if reader.open >= MAX_LOG_FILES {
                break;
            }
            let lost = p.size.saturating_sub(p.offset);
            match locate(&p) {
                Found::Same(t) => self.add(t, reader),
                Found::Truncated(t, copy) => {
                    self.counts.rotations[1] += 1;
                    let from_copy = copy.is_some();
                    match copy {
                        Some(c) => self.add(c, reader),
                        None => self.counts.skipped[TRUNCATED] += lost,
                    }
                    log::info!(
                        "logs: {} was truncated while sonde was stopped{}",
                        t.path.display(),
                        if from_copy { "; reading on from its copy" } else { "" }
                    );
                    positions.set(t.position(self.key));
                    self.add(t, reader);
                }
                Found::Gone => {
                    self.counts.skipped[GONE] += lost;
                    positions.forget(p.key());
                    if lost > 0 {
                        log::warn!(
                            "logs: {} is gone with {lost} bytes not read (rotated away while sonde was stopped?)",
                            p.path.display()
                        );
                    }
                }
            }
        }
        self.counts.files = self.tails.len() as u64;
    }

    fn add(&mut self, t: Tail, reader: &mut Reader) {
        reader.open += 1;
        self.tails.push(t);
    }

    /// Looks at what the path names now, if it is time, and reads every
    /// file from its position: rotated ones first, each to its end or
    /// until the budget is spent.
    pub fn poll(
        &mut self,
        now: Instant,
        reader: &mut Reader,
        positions: &mut Positions,
        lines: &mut dyn Lines,
        last: bool,
    ) -> Polled {
        if !self.glob || now >= self.next_scan {
            self.scan(now, reader, positions);
            self.next_scan = now + LOG_GLOB_RESCAN;
        }
        let mut budget = LOG_READ_BUDGET;
        let mut polled = Polled::default();
        let mut i = 0;
        while i < self.tails.len() {
            if let Some(before) = self.tails[i].truncated() {
                lines.flush();
                self.on_truncation(i, before, now, reader, positions);
                // A copy found was put before the file: read it first.
                if self.tails[i].rotated && self.tails.get(i + 1).is_some_and(|t| !t.rotated) {
                    continue;
                }
            }
            let t = &mut self.tails[i];
            match read_tail(t, &mut reader.buf, &mut budget, &mut self.counts, lines, now, last) {
                Ok(Read::End) => {}
                Ok(Read::Budget) => polled.more = true,
                Ok(Read::Room) => {
                    polled.blocked = true;
                    break;
                }
                Err(e) => log::warn!("logs: cannot read {}: {e}", t.path.display()),
            }
            let t = &self.tails[i];
            let idle = now.saturating_duration_since(t.grew) >= LOG_ROTATE_WAIT;
            if t.rotated && t.offset >= t.size && (idle || last) && !polled.more {
                lines.flush();
                positions.forget((self.key, t.dev, t.ino));
                self.tails.remove(i);
                reader.open -= 1;
                continue;
            }
            i += 1;
        }
        lines.flush();
        self.counts.files = self.tails.len() as u64;
        polled
    }

    /// What the path names now, against the files followed.
    fn scan(&mut self, now: Instant, reader: &mut Reader, positions: &mut Positions) {
        let mut found = Vec::new();
        let matched = expand(&self.path, MAX_LOG_FILES_PER_PATH, &mut found);
        let mut ignored = [matched.saturating_sub(found.len()) as u64, 0, 0];
        for t in &mut self.tails {
            t.present = false;
        }
        for path in found {
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(_) => continue, // gone between the listing and now
            };
            if !meta.is_file() {
                ignored[1] += 1;
                continue;
            }
            if let Some(t) = self.tails.iter_mut().find(|t| (t.dev, t.ino) == (meta.dev(), meta.ino())) {
                // The same file, perhaps renamed to another name the glob
                // matches: followed on, never read again.
                t.present = true;
                t.rotated = false;
                t.path = path;
                continue;
            }
            if reader.open >= MAX_LOG_FILES || path.as_os_str().len() > MAX_PATH {
                ignored[0] += 1;
                continue;
            }
            let at_end = !self.seen && self.start_at_end;
            match Tail::open(&path, if at_end { u64::MAX } else { 0 }, 0) {
                Ok(t) => {
                    positions.set(t.position(self.key));
                    self.add(t, reader);
                }
                Err(Refusal::NotRegular) => ignored[1] += 1,
                Err(Refusal::Unreadable(e)) => {
                    ignored[2] += 1;
                    if !self.said_ignored[2] {
                        log::warn!("logs: cannot open {}: {e}", path.display());
                    }
                }
            }
        }
        for t in self.tails.iter_mut().filter(|t| !t.present && !t.rotated) {
            t.rotated = true;
            t.grew = now;
            self.counts.rotations[0] += 1;
        }
        for (i, n) in ignored.iter().enumerate() {
            let first = *n > 0 && !self.said_ignored[i];
            if first && i != 2 {
                log::warn!(
                    "logs: {}: {n} files not followed ({}){}",
                    self.path,
                    IGNORED[i],
                    if i == 0 {
                        format!("; at most {MAX_LOG_FILES_PER_PATH} per path, {MAX_LOG_FILES} in all")
                    } else {
                        String::new()
                    }
                );
            }
            self.said_ignored[i] = *n > 0;
        }
        self.counts.ignored = ignored;
        if !self.seen {
            self.seen = true;
            positions.mark_seen(self.key);
        }
    }

    /// Tail `i` no longer holds what was read: read on from its copy if
    /// one is beside it, then from its start.
    fn on_truncation(&mut self, i: usize, before: u64, now: Instant, reader: &mut Reader, positions: &mut Positions) {
        self.counts.rotations[1] += 1;
        let t = &self.tails[i];
        let was = t.position(self.key);
        let copy = find_sibling(&t.path, (t.dev, t.ino), &mut |f, m| same_place(f, m.len(), &was));
        let copy = copy.filter(|_| reader.open < MAX_LOG_FILES).and_then(|path| {
            let mut c = Tail::open(&path, 0, t.epoch).ok()?;
            (c.offset, c.skipping, c.window, c.window_len) = (t.offset, t.skipping, t.window, t.window_len);
            (c.head_len, c.head_hash, c.rotated, c.grew) = (t.head_len, t.head_hash, true, now);
            Some(c)
        });
        let said = match &copy {
            Some(c) => format!("; reading on from its copy {}", c.path.display()),
            None => {
                let lost = before.saturating_sub(t.offset);
                self.counts.skipped[TRUNCATED] += lost;
                String::new()
            }
        };
        log::info!("logs: {} was truncated{said}", t.path.display());
        let t = &mut self.tails[i];
        t.restart();
        positions.set(t.position(self.key));
        if let Some(c) = copy {
            self.tails.insert(i, c);
            reader.open += 1;
        }
    }
}

/// Where a saved position's file is now.
enum Found {
    Same(Tail),
    /// The file, from 0 in a new epoch, and its copy at the position.
    Truncated(Tail, Option<Tail>),
    Gone,
}

fn locate(p: &Position) -> Found {
    let is_ours = |path: &Path| std::fs::metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == (p.dev, p.ino));
    let at = if is_ours(&p.path) {
        Some(p.path.clone())
    } else {
        find_sibling(&p.path, (0, 0), &mut |_, m| (m.dev(), m.ino()) == (p.dev, p.ino))
    };
    match at.and_then(|path| Tail::resume(&path, p).ok()) {
        Some(t) if head_matches(&t, p) && t.size >= p.offset && t.prehash() == p.prehash => Found::Same(t),
        Some(mut t) if head_matches(&t, p) => {
            // Truncated while sonde was stopped: its copy, then from 0.
            let copy = find_sibling(&p.path, (t.dev, t.ino), &mut |f, m| same_place(f, m.len(), p))
                .and_then(|path| Tail::resume(&path, p).ok())
                .map(|mut c| {
                    c.rotated = true;
                    c
                });
            t.restart();
            Found::Truncated(t, copy)
        }
        _ => {
            // The inode is gone or another file's now: the file may have
            // been moved or copied (another inode) beside its old path.
            let moved = find_sibling(&p.path, (0, 0), &mut |f, m| same_place(f, m.len(), p));
            match moved.and_then(|path| Tail::resume(&path, p).ok()) {
                Some(t) => Found::Same(t),
                None => Found::Gone,
            }
        }
    }
}

/// Whether the head a saved position recorded is the file's head.
fn head_matches(t: &Tail, p: &Position) -> bool {
    if u64::from(p.head_len) > t.size {
        return false;
    }
    let mut head = [0u8; HEAD];
    let n = read_full(&t.file, 0, &mut head[..usize::from(p.head_len)]);
    n == usize::from(p.head_len) && hash(&head[..n]) == p.head_hash
}

/// Whether `file` has the head of `p` and its window at `p`'s offset: a
/// copy of what was read (a copytruncate's), or the same file moved.
fn same_place(file: &File, size: u64, p: &Position) -> bool {
    if size < p.offset || size < u64::from(p.head_len) {
        return false;
    }
    let mut head = [0u8; HEAD];
    let n = read_full(file, 0, &mut head[..usize::from(p.head_len)]);
    if n != usize::from(p.head_len) || hash(&head[..n]) != p.head_hash {
        return false;
    }
    let mut w = [0u8; WINDOW];
    let n = read_window(file, p.offset, &mut w);
    hash(&w[..n]) == p.prehash
}

/// The first regular file beside `path` (in its directory; the file
/// `not` excluded) for which `pred` holds, names starting as `path`'s
/// first (`app.log.1` for `app.log`). At most [`MAX_LOG_SIBLINGS`] looked
/// at.
fn find_sibling(path: &Path, not: (u64, u64), pred: &mut dyn FnMut(&File, &Metadata) -> bool) -> Option<PathBuf> {
    let dir = path.parent()?;
    let base = path.file_name()?.as_bytes();
    let names: Vec<PathBuf> =
        std::fs::read_dir(dir).ok()?.filter_map(Result::ok).take(MAX_LOG_SIBLINGS).map(|e| e.path()).collect();
    let mut check = |p: &PathBuf| {
        let Ok((f, m)) = open_regular(p) else { return false };
        p != path && (m.dev(), m.ino()) != not && pred(&f, &m)
    };
    let first = |p: &&PathBuf| p.file_name().is_some_and(|n| n.as_bytes().starts_with(base));
    let found = names.iter().filter(first).find(|p| check(p));
    found.or_else(|| names.iter().filter(|p| !first(p)).find(|p| check(p))).cloned()
}

/// Up to `max` paths `pattern` names, the first by name, into `out`; how
/// many it names in all (at most [`MAX_GLOB_ENTRIES`] looked at).
pub fn expand(pattern: &str, max: usize, out: &mut Vec<PathBuf>) -> usize {
    out.clear();
    if !glob::is_pattern(pattern.as_bytes()) {
        out.push(PathBuf::from(pattern));
        return 1;
    }
    let parts: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let mut dirs = vec![PathBuf::from("/")];
    let mut looked = 0;
    let mut matched = 0;
    for (n, part) in parts.iter().enumerate() {
        let last = n + 1 == parts.len();
        if !glob::is_pattern(part.as_bytes()) {
            for d in &mut dirs {
                d.push(part);
            }
            if last {
                // Still in order: each kept directory with the same name.
                dirs.retain(|d| d.exists());
                matched = dirs.len();
                dirs.truncate(max);
                out.append(&mut dirs);
            }
            continue;
        }
        let mut next = Vec::new();
        for d in &dirs {
            let Ok(entries) = std::fs::read_dir(d) else { continue };
            for e in entries.filter_map(Result::ok) {
                looked += 1;
                if looked > MAX_GLOB_ENTRIES {
                    break;
                }
                let name = e.file_name();
                if !glob::matches(part.as_bytes(), name.as_bytes()) {
                    continue;
                }
                if last {
                    matched += 1;
                    keep_first(&mut next, d.join(&name), max);
                } else if e.path().is_dir() {
                    keep_first(&mut next, d.join(&name), max);
                }
            }
        }
        dirs = next;
        if last {
            out.append(&mut dirs);
        }
    }
    matched
}

/// Inserts `p` into `v`, sorted by bytes, keeping only the first `max`.
fn keep_first(v: &mut Vec<PathBuf>, p: PathBuf, max: usize) {
    let key = p.as_os_str().as_bytes();
    let at = v.partition_point(|q| q.as_os_str().as_bytes() < key);
    if at < max {
        v.insert(at, p);
        v.truncate(max);
    }
}

enum Read {
    /// At the end of the file.
    End,
    /// The budget is spent with bytes left.
    Budget,
    /// The lines' receiver has no room.
    Room,
}

/// Reads `t` from its position: complete lines to `lines`, NULs at line
/// starts and the tails of over-long lines skipped.
fn read_tail(
    t: &mut Tail,
    buf: &mut Vec<u8>,
    budget: &mut usize,
    counts: &mut Counts,
    lines: &mut dyn Lines,
    now: Instant,
    last: bool,
) -> io::Result<Read> {
    buf.clear();
    loop {
        if *budget == 0 {
            return Ok(Read::Budget);
        }
        if lines.full() {
            lines.flush();
        }
        if !lines.room() {
            return Ok(Read::Room);
        }
        let have = buf.len();
        buf.resize(have + CHUNK, 0);
        let n = loop {
            match t.file.read_at(&mut buf[have..], t.offset + have as u64) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r,
            }
        };
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                buf.truncate(have);
                return Err(e);
            }
        };
        buf.truncate(have + n);
        *budget = budget.saturating_sub(n);
        t.size = t.size.max(t.offset + buf.len() as u64);
        if n > 0 {
            t.grew = now;
            t.refresh_head();
        }
        let mut start = 0;
        loop {
            if !t.skipping {
                let nul = buf[start..].iter().take_while(|&&b| b == 0).count();
                if nul > 0 {
                    counts.skipped[NUL] += nul as u64;
                    t.advance(&buf[start..start + nul]);
                    start += nul;
                }
            }
            let Some(j) = buf[start..].iter().position(|&b| b == b'\n') else { break };
            let end = start + j;
            t.advance(&buf[start..=end]);
            t.partial = None;
            if t.skipping {
                counts.skipped[TOO_LONG] += (end - start) as u64;
                t.skipping = false;
            } else {
                let line = &buf[start..end];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                counts.read += 1;
                lines.line(t, line, false);
                if lines.full() {
                    lines.flush();
                }
            }
            start = end + 1;
        }
        buf.drain(..start);
        if t.skipping && !buf.is_empty() {
            counts.skipped[TOO_LONG] += buf.len() as u64;
            t.advance(buf);
            buf.clear();
        } else if buf.len() >= MAX_LOG_LINE {
            let rest = buf.len() - MAX_LOG_LINE;
            t.advance(buf);
            t.skipping = true;
            t.partial = None;
            counts.read += 1;
            counts.truncated += 1;
            counts.skipped[TOO_LONG] += rest as u64;
            lines.line(t, &buf[..MAX_LOG_LINE], true);
            buf.clear();
        }
        if n == 0 {
            break;
        }
    }
    // At the end: a last line without its newline waits, up to a point.
    if !buf.is_empty() {
        let since = match t.partial {
            Some((at, since)) if at == t.offset => since,
            _ => {
                t.partial = Some((t.offset, now));
                now
            }
        };
        let waited = now.saturating_duration_since(since);
        let stale = last && t.mtime_age() >= LOG_PARTIAL_WAIT;
        let abandoned = t.rotated && now.saturating_duration_since(t.grew) >= LOG_ROTATE_WAIT;
        if waited >= LOG_PARTIAL_WAIT || stale || abandoned {
            t.advance(buf);
            t.partial = None;
            let line = buf.strip_suffix(b"\r").unwrap_or(buf);
            counts.read += 1;
            lines.line(t, line, false);
        }
    }
    Ok(Read::End)
}

impl Tail {
    /// How long ago the file was last written.
    fn mtime_age(&self) -> Duration {
        let modified = std::time::UNIX_EPOCH
            + Duration::new(self.mtime.0.max(0) as u64, self.mtime.1.clamp(0, 999_999_999) as u32);
        std::time::SystemTime::now().duration_since(modified).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Got {
        lines: Vec<(String, bool)>,
        room: bool,
    }

    impl Lines for Got {
        fn line(&mut self, _: &Tail, line: &[u8], cut: bool) {
            self.lines.push((String::from_utf8_lossy(line).into_owned(), cut));
        }
        fn full(&self) -> bool {
            false
        }
        fn flush(&mut self) {}
        fn room(&self) -> bool {
            self.room
        }
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sonde-follow-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn append(p: &Path, text: &[u8]) {
        use std::io::Write;
        std::fs::OpenOptions::new().create(true).append(true).open(p).unwrap().write_all(text).unwrap();
    }

    /// A fresh directory `name` with `app.log` (holding `first`), and a
    /// follower of it that has looked once.
    fn follower(name: &str, first: &[u8], at_end: bool) -> (PathBuf, PathBuf, Reader, Positions, Got, Source) {
        let d = dir(name);
        let f = d.join("app.log");
        append(&f, first);
        let (mut r, mut pos, mut got) = (Reader::default(), Positions::memory(), Got { room: true, ..Got::default() });
        let mut s = Source::new(f.to_str().unwrap(), at_end);
        poll(&mut s, &mut r, &mut pos, &mut got);
        (d, f, r, pos, got, s)
    }

    fn poll(s: &mut Source, r: &mut Reader, pos: &mut Positions, got: &mut Got) {
        s.poll(Instant::now(), r, pos, got, false);
    }

    fn taken(got: &mut Got) -> Vec<String> {
        got.lines.drain(..).map(|(l, _)| l).collect()
    }

    #[test]
    fn lines_partial_lines_nul_holes_and_long_lines() {
        let (d, f, mut r, mut pos, mut got, mut s) = follower("lines", b"before start\n", true);
        assert!(got.lines.is_empty(), "from the end on first sight");
        append(&f, b"one\r\ntwo\npart");
        poll(&mut s, &mut r, &mut pos, &mut got);
        assert_eq!(taken(&mut got), ["one", "two"]);
        append(&f, b"ial\n\0\0\0\0three\n");
        poll(&mut s, &mut r, &mut pos, &mut got);
        assert_eq!(taken(&mut got), ["partial", "three"]);
        assert_eq!(s.counts.skipped[NUL], 4);
        let mut long = vec![b'x'; MAX_LOG_LINE + 5000];
        long.extend_from_slice(b"\nafter\n");
        append(&f, &long);
        poll(&mut s, &mut r, &mut pos, &mut got);
        assert_eq!(got.lines.len(), 2);
        assert!(got.lines[0].1 && got.lines[0].0.len() == MAX_LOG_LINE);
        assert_eq!(got.lines[1], ("after".to_owned(), false));
        assert_eq!((s.counts.truncated, s.counts.skipped[TOO_LONG]), (1, 5000));
        assert_eq!(s.counts.read, 6);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_partial_last_line_waits_for_its_newline_then_for_so_long() {
        let (d, f, mut r, mut pos, mut got, mut s) = follower("partial", b"", true);
        let t0 = Instant::now();
        append(&f, b"no newline yet");
        s.poll(t0, &mut r, &mut pos, &mut got, false);
        s.poll(t0 + LOG_PARTIAL_WAIT / 2, &mut r, &mut pos, &mut got, false);
        assert!(got.lines.is_empty(), "it waits");
        s.poll(t0 + LOG_PARTIAL_WAIT, &mut r, &mut pos, &mut got, false);
        assert_eq!(taken(&mut got), ["no newline yet"]);
        append(&f, b" and the rest\n");
        s.poll(t0 + LOG_PARTIAL_WAIT, &mut r, &mut pos, &mut got, false);
        assert_eq!(taken(&mut got), [" and the rest"], "taken as it was; the rest is a line of its own");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn rename_drains_the_old_file_then_reads_the_new_from_its_start() {
        let (d, f, mut r, mut pos, mut got, mut s) = follower("rename", b"", true);
        append(&f, b"1\n");
        std::fs::rename(&f, d.join("app.log.1")).unwrap();
        append(&d.join("app.log.1"), b"2\n"); // the writer, before it reopens
        append(&f, b"3\n");
        poll(&mut s, &mut r, &mut pos, &mut got);
        assert_eq!(taken(&mut got), ["1", "2", "3"]);
        assert_eq!(s.counts.rotations, [1, 0]);
        assert_eq!(s.tails.len(), 2, "the old one is kept for a while");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn copytruncate_reads_on_from_the_copy() {
        let (d, f, mut r, mut pos, mut got, mut s) =
            follower("copytruncate", b"a head line long enough to fingerprint\n", false);
        append(&f, b"1\n2\n");
        poll(&mut s, &mut r, &mut pos, &mut got);
        append(&f, b"3\n4\n");
        std::fs::copy(&f, d.join("app.log.1")).unwrap();
        std::fs::write(&f, b"5\n").unwrap(); // truncated, and written again
        poll(&mut s, &mut r, &mut pos, &mut got);
        assert_eq!(taken(&mut got)[1..], ["1", "2", "3", "4", "5"]);
        assert_eq!(s.counts.rotations, [0, 1]);
        assert_eq!(s.counts.skipped[TRUNCATED], 0);
        // Shrunk with no copy: counted.
        append(&f, b"6\n7\n");
        poll(&mut s, &mut r, &mut pos, &mut got);
        append(&f, b"unread\n");
        s.tails.iter_mut().find(|t| !t.rotated).unwrap().size += 7; // seen, not read
        std::fs::write(&f, b"8\n").unwrap();
        poll(&mut s, &mut r, &mut pos, &mut got);
        assert_eq!(taken(&mut got), ["6", "7", "8"]);
        assert_eq!(s.counts.skipped[TRUNCATED], 7);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_fifo_a_directory_and_too_many_files_are_refused_and_counted() {
        let d = dir("hostile");
        for i in 0..MAX_LOG_FILES_PER_PATH + 5 {
            append(&d.join(format!("f{i:03}.log")), b"");
        }
        std::fs::create_dir(d.join("zdir.log")).unwrap();
        let c = std::ffi::CString::new(d.join("zfifo.log").as_os_str().as_bytes()).unwrap();
        // SAFETY: c is NUL-terminated.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let (mut r, mut pos, mut got) = (Reader::default(), Positions::memory(), Got { room: true, ..Got::default() });
        let mut s = Source::new(&format!("{}/*.log", d.display()), true);
        poll(&mut s, &mut r, &mut pos, &mut got);
        assert_eq!(s.tails.len(), MAX_LOG_FILES_PER_PATH);
        assert_eq!(s.counts.ignored[0], 7, "5 files, the directory and the FIFO past the first 64");
        let mut only = Source::new(&format!("{}/z*.log", d.display()), true);
        poll(&mut only, &mut r, &mut pos, &mut got);
        assert_eq!(only.counts.ignored, [0, 2, 0]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_saved_position_is_found_after_a_rename_while_stopped() {
        let (d, f, _, mut pos, mut got, s) = follower("resume", b"first line of the old file\nread\n", false);
        for t in &s.tails {
            pos.commit(&t.position(s.key).entry());
        }
        taken(&mut got);
        append(&f, b"not yet read\n");
        std::fs::rename(&f, d.join("app.log.1")).unwrap();
        append(&f, b"new file\n");
        let (mut r2, mut s2) = (Reader::default(), Source::new(f.to_str().unwrap(), false));
        s2.resume(&mut pos, &mut r2);
        poll(&mut s2, &mut r2, &mut pos, &mut got);
        assert_eq!(taken(&mut got), ["not yet read", "new file"]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn globs_expand_in_order_within_the_bound() {
        let d = dir("glob");
        for n in ["b.log", "a.log", "c.txt", ".h.log"] {
            append(&d.join(n), b"");
        }
        let mut out = Vec::new();
        assert_eq!(expand(&format!("{}/*.log", d.display()), 1, &mut out), 2);
        assert_eq!(out, [d.join("a.log")]);
        for sub in ["x", "y"] {
            std::fs::create_dir(d.join(sub)).unwrap();
            append(&d.join(sub).join("in.log"), b"");
        }
        assert_eq!(expand(&format!("{}/*/in.log", d.display()), 64, &mut out), 2);
        assert_eq!(out, [d.join("x/in.log"), d.join("y/in.log")]);
        let _ = std::fs::remove_dir_all(&d);
    }
}
