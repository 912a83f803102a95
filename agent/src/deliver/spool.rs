//! The spool: batches on disk, oldest first, for when the uplink fails,
//! for shutdown, and between `--once` runs.
//!
//! A directory of small append-only segment files (`<16 hex digits>.seg`,
//! at most [`SEGMENT_MAX`] bytes each, records in the format of
//! `wire::spool`) and one `cursor` file saying where reading resumes
//! (`<segment> <offset>`), replaced atomically (write, fsync, rename) when a
//! record is taken off. Segments wholly read are deleted.
//!
//! Invariants:
//! - Order: records are read in the order they were appended, across
//!   restarts.
//! - Durability: an append is fsynced before it counts, so a batch spooled
//!   survives SIGKILL and, as far as the flash keeps its promises, a power
//!   cut. The cost is one write and one sync per spooled batch, and sonde
//!   spools only when it has to (DESIGN.md, Push).
//! - Damage never stops sonde: at open, a torn or corrupt record ends its
//!   segment, which is truncated there; everything before it is kept.
//! - The spool never holds more than its cap: appending past it drops whole
//!   segments, oldest first, and says how many items that cost.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::wire::spool::{self as record, Bad};

/// A segment is closed for appending once it is this large.
pub const SEGMENT_MAX: u64 = 64 * 1024;

/// One record read off the spool.
pub struct Taken {
    pub items: u32,
    pub timestamp_ms: i64,
    pub payload: Vec<u8>,
    /// Where it was, for [`Spool::ack`].
    at: (u64, u64, u64),
}

#[derive(Debug)]
struct Segment {
    id: u64,
    /// Bytes in the file (all of them valid records).
    len: u64,
    /// Items in the records not yet read.
    items: u64,
}

pub struct Spool {
    dir: PathBuf,
    cap: u64,
    segments: VecDeque<Segment>,
    /// Where reading resumes: a segment id and an offset in it.
    cursor: (u64, u64),
}

/// What opening a spool found wrong and mended.
#[derive(Debug, Default)]
pub struct Repairs {
    /// (segment file, offset it was cut at, bytes removed)
    pub truncated: Vec<(PathBuf, u64, u64)>,
}

impl Spool {
    /// Opens (creating) the spool in `dir`, checking every segment.
    pub fn open(dir: &Path, cap: u64) -> io::Result<(Spool, Repairs)> {
        fs::create_dir_all(dir)?;
        let mut ids: Vec<u64> = fs::read_dir(dir)?
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let hex = name.strip_suffix(".seg")?;
                (hex.len() == 16).then(|| u64::from_str_radix(hex, 16).ok()).flatten()
            })
            .collect();
        ids.sort_unstable();
        let cursor = read_cursor(dir).unwrap_or((ids.first().copied().unwrap_or(0), 0));
        let mut spool = Spool { dir: dir.to_owned(), cap, segments: VecDeque::new(), cursor };
        let mut repairs = Repairs::default();
        for id in ids {
            let path = spool.path(id);
            if id < cursor.0 {
                // Read to the end before the last stop; only its deletion
                // was interrupted.
                let _ = fs::remove_file(&path);
                continue;
            }
            let start = if id == cursor.0 { cursor.1 } else { 0 };
            let (len, items, cut) = scan(&path, start)?;
            if let Some(removed) = cut {
                repairs.truncated.push((path.clone(), len, removed));
            }
            spool.segments.push_back(Segment { id, len, items });
        }
        if spool.segments.front().is_none_or(|s| s.id != spool.cursor.0) {
            spool.cursor = (spool.segments.front().map_or(0, |s| s.id), 0);
        }
        Ok((spool, repairs))
    }

    fn path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{id:016x}.seg"))
    }

    /// Bytes held (unread parts included; they go with their segment).
    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.len).sum()
    }

    /// Samples not yet read.
    pub fn items(&self) -> u64 {
        self.segments.iter().map(|s| s.items).sum()
    }

    /// No record left to read (every batch holds at least one sample).
    pub fn is_empty(&self) -> bool {
        self.items() == 0
    }

    /// Appends a batch and syncs it. Returns the items dropped to stay
    /// within the cap (oldest segments first; the batch itself if it alone
    /// is larger than the cap).
    pub fn append(&mut self, items: u32, timestamp_ms: i64, payload: &[u8]) -> io::Result<u64> {
        let mut rec = Vec::with_capacity(record::HEADER + payload.len());
        record::emit(&mut rec, items, timestamp_ms, payload);
        let size = rec.len() as u64;
        if size > self.cap {
            return Ok(u64::from(items));
        }
        let mut dropped = 0;
        while self.bytes() + size > self.cap {
            let Some(old) = self.segments.pop_front() else { break };
            dropped += old.items;
            let _ = fs::remove_file(self.path(old.id));
            if self.cursor.0 == old.id {
                self.cursor = (self.segments.front().map_or(old.id + 1, |s| s.id), 0);
                self.write_cursor()?;
            }
        }
        let needs_new = self.segments.back().is_none_or(|s| s.len + size > SEGMENT_MAX && s.len > 0);
        if needs_new {
            let id = self.segments.back().map_or(self.cursor.0.max(1), |s| s.id + 1);
            if self.segments.is_empty() {
                self.cursor = (id, 0);
                self.write_cursor()?;
            }
            self.segments.push_back(Segment { id, len: 0, items: 0 });
        }
        let last = self.segments.back_mut().ok_or_else(|| io::Error::other("no segment"))?;
        let path = self.dir.join(format!("{:016x}.seg", last.id));
        let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
        f.write_all(&rec)?;
        f.sync_data()?;
        if last.len == 0 {
            // A new file's name must survive a power cut too.
            sync_dir(&self.dir);
        }
        last.len += size;
        last.items += u64::from(items);
        Ok(dropped)
    }

    /// The oldest unread record, without taking it off.
    pub fn peek(&mut self) -> io::Result<Option<Taken>> {
        loop {
            let Some(seg) = self.segments.front() else { return Ok(None) };
            let (id, len) = (seg.id, seg.len);
            let offset = if self.cursor.0 == id { self.cursor.1 } else { 0 };
            if offset >= len {
                // Read to its end: gone, unless it is still being appended to.
                if self.segments.len() == 1 {
                    return Ok(None);
                }
                self.segments.pop_front();
                let _ = fs::remove_file(self.path(id));
                self.cursor = (self.segments.front().map_or(id + 1, |s| s.id), 0);
                self.write_cursor()?;
                continue;
            }
            let mut f = File::open(self.path(id))?;
            f.seek(SeekFrom::Start(offset))?;
            let mut buf = Vec::new();
            f.take(len - offset).read_to_end(&mut buf)?;
            return match record::parse(&buf) {
                Ok((r, used)) => Ok(Some(Taken {
                    items: r.items,
                    timestamp_ms: r.timestamp_ms,
                    payload: r.payload.to_vec(),
                    at: (id, offset, used as u64),
                })),
                // Checked at open and written by this process since: only
                // someone else's hand can get here.
                Err(Bad::Truncated | Bad::Corrupt) => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: damaged record at {offset}", self.path(id).display()),
                )),
            };
        }
    }

    /// Whether `t`'s segment is still here (appending past the cap drops
    /// whole segments, a record taken but not yet acknowledged with them).
    pub fn holds(&self, t: &Taken) -> bool {
        self.segments.iter().any(|s| s.id == t.at.0)
    }

    /// Calls `f` with the payload of every record not yet read, oldest
    /// first, reading one segment at a time: for an owner that must know at
    /// its start what its spool still holds (log forwarding: the positions
    /// its spooled lines complete). Stops at the first record it cannot
    /// read (checked at open: none).
    pub fn for_each_unread(&self, mut f: impl FnMut(&[u8])) -> io::Result<()> {
        for seg in &self.segments {
            let offset = if self.cursor.0 == seg.id { self.cursor.1 } else { 0 };
            let mut file = File::open(self.path(seg.id))?;
            file.seek(SeekFrom::Start(offset))?;
            let mut buf = Vec::new();
            file.take(seg.len.saturating_sub(offset)).read_to_end(&mut buf)?;
            let mut at = 0;
            while let Ok((r, used)) = record::parse(&buf[at..]) {
                f(r.payload);
                at += used;
            }
        }
        Ok(())
    }

    /// Takes a record off the spool once it is delivered or dropped. A
    /// record whose segment was dropped for the cap meanwhile is already
    /// gone; nothing moves then.
    pub fn ack(&mut self, t: &Taken) -> io::Result<()> {
        let (id, offset, used) = t.at;
        let here = if self.cursor.0 == id { self.cursor.1 } else { u64::MAX };
        if here != offset {
            return Ok(());
        }
        self.cursor = (id, offset + used);
        if let Some(seg) = self.segments.iter_mut().find(|s| s.id == id) {
            seg.items = seg.items.saturating_sub(u64::from(t.items));
        }
        self.write_cursor()
    }

    fn write_cursor(&self) -> io::Result<()> {
        let tmp = self.dir.join("cursor.tmp");
        let mut f = File::create(&tmp)?;
        writeln!(f, "{:016x} {}", self.cursor.0, self.cursor.1)?;
        f.sync_data()?;
        fs::rename(&tmp, self.dir.join("cursor"))
    }
}

fn read_cursor(dir: &Path) -> Option<(u64, u64)> {
    let text = fs::read_to_string(dir.join("cursor")).ok()?;
    let (id, offset) = text.trim().split_once(' ')?;
    Some((u64::from_str_radix(id, 16).ok()?, offset.parse().ok()?))
}

/// Reads a segment from `start`, counts the items of its good records,
/// and truncates it at the first bad one. Returns (valid length, items
/// from `start`, bytes cut if any).
fn scan(path: &Path, start: u64) -> io::Result<(u64, u64, Option<u64>)> {
    let mut buf = Vec::new();
    File::open(path)?.read_to_end(&mut buf)?;
    let total = buf.len() as u64;
    let mut pos = 0usize;
    let mut items = 0u64;
    while pos < buf.len() {
        match record::parse(&buf[pos..]) {
            Ok((r, used)) => {
                if pos as u64 >= start {
                    items += u64::from(r.items);
                }
                pos += used;
            }
            Err(Bad::Truncated | Bad::Corrupt) => break,
        }
    }
    let valid = pos as u64;
    if valid < total {
        let f = OpenOptions::new().write(true).open(path)?;
        f.set_len(valid)?;
        f.sync_data()?;
        return Ok((valid, items, Some(total - valid)));
    }
    Ok((valid, items, None))
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sonde-spool-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn drain(s: &mut Spool) -> Vec<(u32, i64)> {
        let mut got = Vec::new();
        while let Some(t) = s.peek().unwrap() {
            got.push((t.items, t.timestamp_ms));
            s.ack(&t).unwrap();
        }
        got
    }

    #[test]
    fn records_come_back_in_order_across_reopens() {
        let d = dir("order");
        let (mut s, _) = Spool::open(&d, 1 << 20).unwrap();
        for i in 0..50 {
            assert_eq!(s.append(i, i64::from(i), &vec![b'x'; 3000]).unwrap(), 0);
        }
        assert!(s.segments.len() > 1, "several segments");
        let t = s.peek().unwrap().unwrap();
        s.ack(&t).unwrap();
        drop(s);
        let (mut s, repairs) = Spool::open(&d, 1 << 20).unwrap();
        assert!(repairs.truncated.is_empty());
        assert_eq!(s.items(), (1..50).sum::<u32>() as u64);
        let got = drain(&mut s);
        assert_eq!(got, (1..50).map(|i| (i, i64::from(i))).collect::<Vec<_>>());
        assert!(s.is_empty());
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_torn_tail_is_cut_and_the_rest_kept() {
        let d = dir("torn");
        let (mut s, _) = Spool::open(&d, 1 << 20).unwrap();
        for i in 0..3 {
            s.append(1, i, b"batch").unwrap();
        }
        drop(s);
        let seg = fs::read_dir(&d)
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| e.path().extension().is_some_and(|x| x == "seg"))
            .unwrap()
            .path();
        // A power cut in the middle of a fourth record.
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&[40, 0, 0, 0, 1, 2, 3]).unwrap();
        drop(f);
        let (mut s, repairs) = Spool::open(&d, 1 << 20).unwrap();
        assert_eq!(repairs.truncated.len(), 1);
        assert_eq!(repairs.truncated[0].2, 7);
        assert_eq!(drain(&mut s), vec![(1, 0), (1, 1), (1, 2)]);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_corrupt_record_ends_its_segment_only() {
        let d = dir("corrupt");
        let (mut s, _) = Spool::open(&d, 1 << 20).unwrap();
        for i in 0..40 {
            s.append(1, i, &vec![b'y'; 4000]).unwrap();
        }
        drop(s);
        let mut segs: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "seg"))
            .collect();
        segs.sort();
        // Flip a byte in the second record of the first segment.
        let mut bytes = fs::read(&segs[0]).unwrap();
        let second = 8 + 13 + 4000 + 10;
        bytes[second] ^= 0xff;
        fs::write(&segs[0], &bytes).unwrap();
        let (mut s, repairs) = Spool::open(&d, 1 << 20).unwrap();
        assert_eq!(repairs.truncated.len(), 1);
        let got = drain(&mut s);
        assert_eq!(got[0], (1, 0));
        // Records of the later segments are all there.
        let later: Vec<i64> = got.iter().skip(1).map(|g| g.1).collect();
        assert!(later.len() >= 40 - 16 && later.windows(2).all(|w| w[0] < w[1]), "{later:?}");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn the_cap_drops_oldest_segments_and_counts_their_samples() {
        let d = dir("cap");
        let cap = 3 * SEGMENT_MAX;
        let (mut s, _) = Spool::open(&d, cap).unwrap();
        let mut dropped = 0;
        for i in 0..200 {
            dropped += s.append(10, i, &vec![b'z'; 4000]).unwrap();
            assert!(s.bytes() <= cap);
        }
        assert!(dropped > 0);
        assert_eq!(dropped + s.items(), 200 * 10);
        let got = drain(&mut s);
        assert_eq!(got.last().unwrap().1, 199, "the newest survive");
        assert!(got.windows(2).all(|w| w[0].1 + 1 == w[1].1));
        let _ = fs::remove_dir_all(&d);
    }
}
