//! Positions: where each followed file was read to and its lines settled,
//! kept across restarts and `--once` runs in `[paths] state_dir`.
//!
//! Two files, in the format of [`crate::wire::logstate`]:
//! - `logs.state`, every position, replaced whole and atomically
//!   ([`write_atomic`]: temp, fsync, rename) at start, at a stop, every
//!   [`LOG_STATE_SYNC`] when something changed, and when the journal grows
//!   past [`MAX_LOG_JOURNAL`];
//! - `logs.journal`, one record appended per settled batch, never
//!   fsynced: a SIGKILL leaves it in the page cache, whole, and the kernel
//!   writes it back in its own time, so flash sees about one page per
//!   writeback, not one write per batch. A power cut may tear its tail;
//!   the torn record is refused by its checksum and the state file's
//!   positions stand (lines after them are sent again: at least once,
//!   after a power cut; exactly once, after a SIGKILL).
//!
//! A journal counts only for the state file of its generation: a crash
//! between writing a new state file and starting its journal leaves an
//! old journal, which is then ignored (the new state holds all of it).
//!
//! A position only moves forward: (epoch, offset) orders the positions of
//! one file, the epoch counting its truncations, so a late settlement of
//! lines read before a copytruncate never moves a position back.
//!
//! Without a usable state directory (read-only, not creatable) the
//! positions live in memory only, and the log says so once.

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::limits::{LOG_STATE_SYNC, MAX_LOG_JOURNAL};
use crate::sys::file::write_atomic;
use crate::sys::log;
use crate::wire::logstate::{self, Entry, Record};

/// Largest state file or journal read.
const MAX_STATE_FILE: u64 = 16 * 1024 * 1024;

const STATE: &str = "logs.state";
const JOURNAL: &str = "logs.journal";

/// A file, to a position: its source, device and inode.
pub type Key = (u64, u64, u64);

/// One file's position, with its path owned.
pub type Position = Entry<PathBuf>;

impl Position {
    pub fn key(&self) -> Key {
        (self.source, self.dev, self.ino)
    }

    /// The position as the codec writes it.
    pub fn entry(&self) -> Entry<&[u8]> {
        self.with_path(self.path.as_os_str().as_bytes())
    }

    /// The position of an entry read.
    pub fn of(e: &Entry<&[u8]>) -> Position {
        e.with_path(PathBuf::from(std::ffi::OsString::from_vec(e.path.to_vec())))
    }
}

fn later(e: &Entry<&[u8]>, than: &Position) -> bool {
    (e.epoch, e.offset) > (than.epoch, than.offset)
}

/// Every known position, and the files that keep them.
pub struct Positions {
    dir: Option<PathBuf>,
    /// Few: the files followed, and those let go since the state file.
    map: Vec<Position>,
    sources: Vec<u64>,
    generation: u64,
    journal: Option<File>,
    journal_bytes: u64,
    /// Changed since the state file was written.
    dirty: bool,
    synced: Instant,
    /// Writing failed: said once, then quiet until it works again.
    failing: bool,
    record: Vec<u8>,
}

impl Positions {
    /// Positions in memory only.
    pub fn memory() -> Positions {
        Positions {
            dir: None,
            map: Vec::new(),
            sources: Vec::new(),
            generation: 0,
            journal: None,
            journal_bytes: 0,
            dirty: false,
            synced: Instant::now(),
            failing: false,
            record: Vec::new(),
        }
    }

    /// The positions kept in `dir` (created): the state file, then its
    /// journal. What cannot be read is said, and starts afresh.
    pub fn load(dir: &Path) -> Positions {
        let mut p = Positions::memory();
        if let Err(e) = std::fs::create_dir_all(dir) {
            log::error!(
                "logs: cannot use the state directory {}: {e}; positions are kept in memory only",
                dir.display()
            );
            return p;
        }
        p.dir = Some(dir.to_owned());
        let generation = match read(&dir.join(STATE)) {
            Ok(bytes) => p.replay(&bytes, false, None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Some(0),
            Err(e) => {
                log::warn!("logs: cannot read {}: {e}; files are read as if seen for the first time", dir.display());
                Some(0)
            }
        };
        p.generation = generation.unwrap_or(0);
        if let Ok(bytes) = read(&dir.join(JOURNAL)) {
            p.replay(&bytes, true, Some(p.generation));
        }
        p
    }

    /// Applies a state file (or a journal of `generation`); its generation.
    fn replay(&mut self, bytes: &[u8], journal: bool, generation: Option<u64>) -> Option<u64> {
        let mut at = 0;
        let mut own = None;
        while at < bytes.len() {
            let (r, used) = match logstate::parse(&bytes[at..]) {
                Ok(r) => r,
                Err(_) if journal => break, // a torn tail: what came before stands
                Err(e) => {
                    log::warn!("logs: {STATE} is damaged at byte {at} ({e:?}); positions after it are lost");
                    break;
                }
            };
            at += used;
            match r {
                Record::Head { journal: j, generation: g } if at == used && j == journal => {
                    if generation.is_some_and(|want| want != g) {
                        return None; // a journal of another state file
                    }
                    own = Some(g);
                }
                _ if own.is_none() => return None,
                Record::Head { .. } => return own,
                Record::Source(s) => self.mark_seen(s),
                Record::File(e) => self.merge(&e),
                Record::Restore(e) => self.set(Position::of(&e)),
            }
        }
        own
    }

    /// Takes `e` if it is later than what is known of its file (a spooled
    /// batch's positions at start): no journal, the next state file.
    pub fn merge(&mut self, e: &Entry<&[u8]>) {
        match self.map.iter_mut().find(|p| p.key() == (e.source, e.dev, e.ino)) {
            Some(old) if !later(e, old) => {}
            Some(old) => {
                *old = Position::of(e);
                self.dirty = true;
            }
            None => {
                self.map.push(Position::of(e));
                self.dirty = true;
            }
        }
    }

    /// Settles `e` (its lines were delivered or, for a file only counted,
    /// read): kept, and appended to the journal.
    pub fn commit(&mut self, e: &Entry<&[u8]>) {
        if self.get((e.source, e.dev, e.ino)).is_some_and(|old| !later(e, old)) {
            return;
        }
        self.merge(e);
        let Some(journal) = self.journal.as_mut() else { return };
        self.record.clear();
        logstate::emit(&mut self.record, &Record::File(*e));
        match journal.write_all(&self.record) {
            Ok(()) => self.journal_bytes += self.record.len() as u64,
            Err(e) => {
                self.journal = None;
                self.say_failure(&format!("cannot append to {JOURNAL}: {e}"));
            }
        }
    }

    /// Settles a batch's positions before it is sent (see
    /// [`super::forward`] for why before); what changed, for [`Positions::undo`].
    pub fn commit_batch<'a>(&mut self, entries: impl Iterator<Item = Entry<&'a [u8]>>) -> Vec<(Position, Position)> {
        let mut changed = Vec::new();
        for e in entries {
            let old = self.get((e.source, e.dev, e.ino)).cloned();
            self.commit(&e);
            if let Some(old) = old.filter(|o| later(&e, o)) {
                changed.push((Position::of(&e), old));
            }
        }
        changed
    }

    /// The batch did not go: each position it moved goes back, unless it
    /// moved on since (a truncation's new epoch).
    pub fn undo(&mut self, changed: &[(Position, Position)]) {
        for (new, old) in changed {
            if self.get(new.key()) != Some(new) {
                continue;
            }
            self.set(old.clone());
            self.record.clear();
            logstate::emit(&mut self.record, &Record::Restore(old.entry()));
            if let Some(journal) = self.journal.as_mut() {
                if journal.write_all(&self.record).is_err() {
                    self.journal = None;
                }
            }
        }
    }

    /// A file's first position (where it starts being read), or a new one
    /// after a truncation; kept with the next state file.
    pub fn set(&mut self, p: Position) {
        match self.map.iter_mut().find(|o| o.key() == p.key()) {
            Some(old) if *old == p => {}
            Some(old) => {
                *old = p;
                self.dirty = true;
            }
            None => {
                self.map.push(p);
                self.dirty = true;
            }
        }
    }

    /// A file let go (drained after its rotation, or gone).
    pub fn forget(&mut self, key: Key) {
        let before = self.map.len();
        self.map.retain(|p| p.key() != key);
        self.dirty |= self.map.len() != before;
    }

    pub fn get(&self, key: Key) -> Option<&Position> {
        self.map.iter().find(|p| p.key() == key)
    }

    /// The positions of `source`'s files.
    pub fn of_source(&self, source: u64) -> Vec<Position> {
        self.map.iter().filter(|p| p.source == source).cloned().collect()
    }

    /// Whether `source` was looked at before (its files are not new).
    pub fn seen(&self, source: u64) -> bool {
        self.sources.contains(&source) || self.map.iter().any(|p| p.source == source)
    }

    pub fn mark_seen(&mut self, source: u64) {
        if !self.sources.contains(&source) {
            self.sources.push(source);
            self.dirty = true;
        }
    }

    /// Keeps only the positions of `sources` (the configured ones).
    pub fn retain(&mut self, sources: &[u64]) {
        let before = (self.map.len(), self.sources.len());
        self.map.retain(|p| sources.contains(&p.source));
        self.sources.retain(|s| sources.contains(s));
        self.dirty |= before != (self.map.len(), self.sources.len());
    }

    /// Writes the state file if it is due (or `now`), and starts a new
    /// journal.
    pub fn sync(&mut self, now: bool) {
        let Some(dir) = self.dir.clone() else { return };
        let due = (self.dirty && self.synced.elapsed() >= LOG_STATE_SYNC) || self.journal_bytes > MAX_LOG_JOURNAL;
        if !(now || due) || (now && !self.dirty && self.journal.is_some()) {
            return;
        }
        let generation = self.generation + 1;
        let mut bytes = Vec::new();
        logstate::emit(&mut bytes, &Record::Head { journal: false, generation });
        for s in &self.sources {
            logstate::emit(&mut bytes, &Record::Source(*s));
        }
        for p in &self.map {
            logstate::emit(&mut bytes, &Record::File(p.entry()));
        }
        self.synced = Instant::now();
        if let Err(e) = write_atomic(&dir.join(STATE), &bytes) {
            self.say_failure(&format!("cannot write {}: {e}", dir.join(STATE).display()));
            return;
        }
        self.generation = generation;
        self.dirty = false;
        let mut head = Vec::new();
        logstate::emit(&mut head, &Record::Head { journal: true, generation });
        let journal = File::create(dir.join(JOURNAL))
            .and_then(|mut f| f.write_all(&head))
            .and_then(|()| OpenOptions::new().append(true).open(dir.join(JOURNAL)));
        match journal {
            Ok(f) => {
                self.journal = Some(f);
                self.journal_bytes = 0;
                if std::mem::take(&mut self.failing) {
                    log::info!("logs: positions are written again in {}", dir.display());
                }
            }
            Err(e) => {
                self.journal = None;
                self.say_failure(&format!("cannot start {JOURNAL}: {e}"));
            }
        }
    }

    fn say_failure(&mut self, what: &str) {
        if !std::mem::replace(&mut self.failing, true) {
            log::error!("logs: {what}; positions may be lost at a crash (lines sent again)");
        }
    }
}

fn read(path: &Path) -> io::Result<Vec<u8>> {
    let f = File::open(path)?;
    if f.metadata()?.len() > MAX_STATE_FILE {
        return Err(io::Error::new(io::ErrorKind::FileTooLarge, format!("larger than {MAX_STATE_FILE} bytes")));
    }
    let mut buf = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(f, MAX_STATE_FILE), &mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sonde-positions-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn pos(ino: u64, epoch: u32, offset: u64) -> Position {
        Position {
            source: 1,
            dev: 2,
            ino,
            epoch,
            skipping: false,
            offset,
            size: offset,
            prehash: 0,
            head_len: 0,
            head_hash: 0,
            path: format!("/var/log/f{ino}").into(),
        }
    }

    #[test]
    fn journal_commits_survive_a_kill_and_only_move_forward() {
        let d = dir("journal");
        let mut p = Positions::load(&d);
        p.mark_seen(1);
        p.set(pos(10, 0, 0));
        p.sync(true);
        p.commit(&pos(10, 0, 100).entry());
        p.commit(&pos(10, 0, 50).entry()); // late: ignored
        p.commit(&pos(11, 0, 7).entry()); // a file first settled now
        drop(p); // a SIGKILL: no state file written since
        let p = Positions::load(&d);
        assert_eq!(p.get((1, 2, 10)).unwrap().offset, 100);
        assert_eq!(p.get((1, 2, 11)).unwrap().offset, 7);
        assert!(p.seen(1) && !p.seen(9));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_batch_that_did_not_go_puts_its_positions_back_across_a_kill() {
        let d = dir("undo");
        let mut p = Positions::load(&d);
        p.set(pos(10, 0, 100));
        p.sync(true);
        let changed = p.commit_batch([pos(10, 0, 200).entry()].into_iter());
        assert_eq!(p.get((1, 2, 10)).unwrap().offset, 200);
        p.undo(&changed);
        assert_eq!(p.get((1, 2, 10)).unwrap().offset, 100);
        drop(p);
        assert_eq!(Positions::load(&d).get((1, 2, 10)).unwrap().offset, 100);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_truncation_starts_a_new_epoch_that_late_commits_do_not_undo() {
        let mut p = Positions::memory();
        p.commit(&pos(10, 0, 900).entry());
        p.set(pos(10, 1, 0));
        p.commit(&pos(10, 0, 950).entry());
        assert_eq!((p.get((1, 2, 10)).unwrap().epoch, p.get((1, 2, 10)).unwrap().offset), (1, 0));
    }

    #[test]
    fn an_old_journal_is_ignored_and_a_torn_record_ends_it() {
        let d = dir("generations");
        let mut p = Positions::load(&d);
        p.set(pos(10, 0, 0));
        p.sync(true);
        p.commit(&pos(10, 0, 100).entry());
        let old_journal = std::fs::read(d.join(JOURNAL)).unwrap();
        p.commit(&pos(10, 0, 200).entry());
        p.sync(true);
        drop(p);
        // A crash between the new state file and its journal: the old one.
        std::fs::write(d.join(JOURNAL), &old_journal).unwrap();
        assert_eq!(Positions::load(&d).get((1, 2, 10)).unwrap().offset, 200);
        // A torn tail of the current journal.
        let mut p = Positions::load(&d);
        p.sync(true);
        p.commit(&pos(10, 0, 300).entry());
        p.commit(&pos(10, 0, 400).entry());
        drop(p);
        let j = std::fs::read(d.join(JOURNAL)).unwrap();
        std::fs::write(d.join(JOURNAL), &j[..j.len() - 3]).unwrap();
        assert_eq!(Positions::load(&d).get((1, 2, 10)).unwrap().offset, 300);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn an_unusable_directory_keeps_positions_in_memory() {
        let mut p = Positions::load(Path::new("/proc/sonde-cannot-be-here"));
        p.commit(&pos(1, 0, 5).entry());
        p.sync(true);
        assert_eq!(p.get((1, 2, 1)).unwrap().offset, 5);
    }
}
