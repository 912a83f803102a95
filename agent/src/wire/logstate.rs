//! Log positions: where each followed file was read to, as the state
//! file, its journal and a forwarded batch carry them.
//!
//! A file is known by its device and inode, the hash of its head (the
//! first bytes, up to a KiB) and the hash of the bytes just before the
//! position (up to 32): each alone fails somewhere (inodes are reused,
//! heads are shared, a file truncated and grown again past the position
//! looks untouched by its size), together they tell the same file from
//! another. `epoch` counts the truncations of the file seen so far, so a
//! position after a copytruncate (the same inode, from 0 again) still
//! orders after the one before it.
//!
//! ```text
//! record   = length:u32le  crc32:u32le  body          (crc over body)
//! body     = 0:u8  journal:u8  generation:u64le       a file's first record
//!          | 1:u8  entry                               a file's position
//!          | 2:u8  source:u64le                        a source seen
//!          | 3:u8  entry                               a position restored
//! entry    = source:u64le dev:u64le ino:u64le epoch:u32le skipping:u8
//!            offset:u64le size:u64le prehash:u64le head_len:u16le
//!            head_hash:u64le path_len:u16le path
//! batch    = count:u8  count × (length:u16le  entry)  frames
//! ```
//!
//! The state file is a head record and then every entry, replaced whole;
//! the journal is a head record and then entries appended as lines are
//! delivered, the later winning. A torn record ends the file: [`parse`]
//! tells it ([`Bad::Truncated`]) from damage ([`Bad::Corrupt`]) and the
//! reader keeps what came before. A forwarded batch starts with the
//! positions its lines complete, so that whoever settles the batch can
//! record them.
//!
//! Invariants: never panics; no length read is trusted beyond the bytes
//! at hand and [`MAX_PATH`]; nothing allocates.

use super::spool::crc32;

/// Longest path an entry holds; longer paths are not followed.
pub const MAX_PATH: usize = 4096;
/// Most positions one batch carries.
pub const MAX_BATCH_POSITIONS: usize = 255;

const ENTRY_FIXED: usize = 8 + 8 + 8 + 4 + 1 + 8 + 8 + 8 + 2 + 8 + 2;

/// One file's position; `P` holds its path: bytes as read here, an
/// owned path where positions are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<P> {
    /// The hash of the configured path (or glob) the file was found by.
    pub source: u64,
    pub dev: u64,
    pub ino: u64,
    /// Truncations seen.
    pub epoch: u32,
    /// `offset` is inside a line longer than the longest kept, whose head
    /// was taken: the rest, to its newline, is skipped.
    pub skipping: bool,
    /// Bytes read and settled.
    pub offset: u64,
    /// The file's size when the entry was made.
    pub size: u64,
    /// [`hash`] of the up to 32 bytes before `offset`.
    pub prehash: u64,
    /// How many head bytes `head_hash` covers.
    pub head_len: u16,
    pub head_hash: u64,
    /// Where the file was, last.
    pub path: P,
}

impl<P> Entry<P> {
    /// The same position, with another hold on its path.
    pub fn with_path<Q>(&self, path: Q) -> Entry<Q> {
        Entry {
            source: self.source,
            dev: self.dev,
            ino: self.ino,
            epoch: self.epoch,
            skipping: self.skipping,
            offset: self.offset,
            size: self.size,
            prehash: self.prehash,
            head_len: self.head_len,
            head_hash: self.head_hash,
            path,
        }
    }
}

/// One record of a state file or journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record<'a> {
    /// The first record: which file this is, and its generation (a
    /// journal belongs to the state file of the same generation).
    Head {
        journal: bool,
        generation: u64,
    },
    File(Entry<&'a [u8]>),
    /// A source that has been looked at (its files are no longer new).
    Source(u64),
    /// A file's position put back as it was: its batch was recorded as
    /// sent before it went, and did not go.
    Restore(Entry<&'a [u8]>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bad {
    /// The bytes end before the record does (a torn write).
    Truncated,
    /// A length, kind or checksum that cannot be right.
    Corrupt,
}

/// FNV-1a, 64 bits: the hash of heads, of the bytes before a position and
/// of source names. Stable across versions and byte orders.
pub fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Appends one record. An entry whose path is longer than [`MAX_PATH`] is
/// written with its path cut (it is not followed; see the caller).
pub fn emit(out: &mut Vec<u8>, r: &Record<'_>) {
    let len_at = out.len();
    out.extend_from_slice(&[0; 8]);
    let body_at = out.len();
    match r {
        Record::Head { journal, generation } => {
            out.push(0);
            out.push(u8::from(*journal));
            out.extend_from_slice(&generation.to_le_bytes());
        }
        Record::File(e) => {
            out.push(1);
            emit_entry(out, e);
        }
        Record::Source(s) => {
            out.push(2);
            out.extend_from_slice(&s.to_le_bytes());
        }
        Record::Restore(e) => {
            out.push(3);
            emit_entry(out, e);
        }
    }
    let len = (out.len() - body_at) as u32;
    let crc = crc32(&out[body_at..]);
    out[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
    out[len_at + 4..len_at + 8].copy_from_slice(&crc.to_le_bytes());
}

fn emit_entry(out: &mut Vec<u8>, e: &Entry<&[u8]>) {
    let path = &e.path[..e.path.len().min(MAX_PATH)];
    for v in [e.source, e.dev, e.ino] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&e.epoch.to_le_bytes());
    out.push(u8::from(e.skipping));
    for v in [e.offset, e.size, e.prehash] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&e.head_len.to_le_bytes());
    out.extend_from_slice(&e.head_hash.to_le_bytes());
    out.extend_from_slice(&(path.len() as u16).to_le_bytes());
    out.extend_from_slice(path);
}

/// The record at the start of `buf`, and the bytes it took.
pub fn parse(buf: &[u8]) -> Result<(Record<'_>, usize), Bad> {
    let head = buf.get(..8).ok_or(Bad::Truncated)?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if len == 0 || len > 1 + ENTRY_FIXED + MAX_PATH {
        return Err(Bad::Corrupt);
    }
    let body = buf.get(8..8 + len).ok_or(Bad::Truncated)?;
    if crc32(body) != crc {
        return Err(Bad::Corrupt);
    }
    let r = match (body[0], &body[1..]) {
        (0, [journal @ (0 | 1), g @ ..]) if g.len() == 8 => {
            Record::Head { journal: *journal == 1, generation: u64_at(g, 0) }
        }
        (1, e) => Record::File(parse_entry(e).filter(|(_, used)| *used == e.len()).ok_or(Bad::Corrupt)?.0),
        (3, e) => Record::Restore(parse_entry(e).filter(|(_, used)| *used == e.len()).ok_or(Bad::Corrupt)?.0),
        (2, s) if s.len() == 8 => Record::Source(u64_at(s, 0)),
        _ => return Err(Bad::Corrupt),
    };
    Ok((r, 8 + len))
}

fn parse_entry(b: &[u8]) -> Option<(Entry<&[u8]>, usize)> {
    let fixed = b.get(..ENTRY_FIXED)?;
    let path_len = usize::from(u16::from_le_bytes([fixed[ENTRY_FIXED - 2], fixed[ENTRY_FIXED - 1]]));
    if path_len > MAX_PATH {
        return None;
    }
    let path = b.get(ENTRY_FIXED..ENTRY_FIXED + path_len)?;
    let e = Entry {
        source: u64_at(fixed, 0),
        dev: u64_at(fixed, 8),
        ino: u64_at(fixed, 16),
        epoch: u32::from_le_bytes([fixed[24], fixed[25], fixed[26], fixed[27]]),
        skipping: match fixed[28] {
            0 => false,
            1 => true,
            _ => return None,
        },
        offset: u64_at(fixed, 29),
        size: u64_at(fixed, 37),
        prehash: u64_at(fixed, 45),
        head_len: u16::from_le_bytes([fixed[53], fixed[54]]),
        head_hash: u64_at(fixed, 55),
        path,
    };
    Some((e, ENTRY_FIXED + path_len))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(v)
}

/// Appends a batch's positions (at most [`MAX_BATCH_POSITIONS`]; the rest
/// are not written); its frames follow.
pub fn emit_batch_head(out: &mut Vec<u8>, entries: &[Entry<&[u8]>]) {
    let n = entries.len().min(MAX_BATCH_POSITIONS);
    out.push(n as u8);
    for e in &entries[..n] {
        let at = out.len();
        out.extend_from_slice(&[0; 2]);
        emit_entry(out, e);
        let len = (out.len() - at - 2) as u16;
        out[at..at + 2].copy_from_slice(&len.to_le_bytes());
    }
}

/// A batch's positions, checked: iterate with [`Positions::iter`].
#[derive(Clone, Copy, Debug)]
pub struct Positions<'a>(&'a [u8]);

impl<'a> Positions<'a> {
    pub fn iter(&self) -> impl Iterator<Item = Entry<&'a [u8]>> + 'a {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            let len = usize::from(u16::from_le_bytes([*rest.first()?, *rest.get(1)?]));
            let (e, _) = parse_entry(rest.get(2..2 + len)?)?;
            rest = &rest[2 + len..];
            Some(e)
        })
    }
}

/// Splits a batch into its positions and its frames.
pub fn split_batch(buf: &[u8]) -> Result<(Positions<'_>, &[u8]), Bad> {
    let n = usize::from(*buf.first().ok_or(Bad::Truncated)?);
    let mut at = 1;
    for _ in 0..n {
        let len = buf.get(at..at + 2).ok_or(Bad::Truncated)?;
        let len = usize::from(u16::from_le_bytes([len[0], len[1]]));
        let body = buf.get(at + 2..at + 2 + len).ok_or(Bad::Truncated)?;
        match parse_entry(body) {
            Some((_, used)) if used == len => at += 2 + len,
            _ => return Err(Bad::Corrupt),
        }
    }
    Ok((Positions(&buf[1..at]), &buf[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &[u8]) -> Entry<&[u8]> {
        Entry {
            source: hash(b"/var/log/*.log"),
            dev: 2049,
            ino: 1_234_567,
            epoch: 2,
            skipping: true,
            offset: 4096,
            size: 5000,
            prehash: hash(b"the 32 bytes before the offset.."),
            head_len: 1024,
            head_hash: 7,
            path,
        }
    }

    #[test]
    fn records_round_trip_and_end_at_a_torn_one() {
        let mut out = Vec::new();
        let records = [
            Record::Head { journal: true, generation: 9 },
            Record::Source(42),
            Record::File(entry(b"/var/log/app.log")),
            Record::File(entry(b"")),
            Record::Restore(entry(b"/var/log/app.log")),
        ];
        for r in &records {
            emit(&mut out, r);
        }
        let mut at = 0;
        for want in &records {
            let (got, used) = parse(&out[at..]).unwrap();
            assert_eq!(&got, want);
            at += used;
        }
        assert_eq!(at, out.len());
        let (_, first) = parse(&out).unwrap();
        for cut in 0..first {
            assert_eq!(parse(&out[..cut]), Err(Bad::Truncated), "{cut}");
        }
        let mut damaged = out.clone();
        damaged[first + 9] ^= 1;
        assert_eq!(parse(&damaged[first..]), Err(Bad::Corrupt));
    }

    #[test]
    fn a_long_path_is_cut_and_a_lying_length_refused() {
        let long = vec![b'a'; MAX_PATH + 10];
        let mut out = Vec::new();
        emit(&mut out, &Record::File(entry(&long)));
        let (Record::File(e), _) = parse(&out).unwrap() else { panic!() };
        assert_eq!(e.path.len(), MAX_PATH);
        let mut lie = out.clone();
        lie[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse(&lie), Err(Bad::Corrupt));
    }

    #[test]
    fn a_batch_carries_its_positions_before_its_frames() {
        let mut out = Vec::new();
        emit_batch_head(&mut out, &[entry(b"/a"), entry(b"/b")]);
        out.extend_from_slice(b"5 hello");
        let (positions, frames) = split_batch(&out).unwrap();
        assert_eq!(frames, b"5 hello");
        let paths: Vec<&[u8]> = positions.iter().map(|e| e.path).collect();
        assert_eq!(paths, [&b"/a"[..], b"/b"]);
        for cut in 0..out.len() - 7 {
            assert!(split_batch(&out[..cut]).is_err(), "{cut}");
        }
        let mut empty = Vec::new();
        emit_batch_head(&mut empty, &[]);
        assert_eq!(split_batch(&empty).unwrap().1, b"");
    }

    #[test]
    fn fnv1a_check_values() {
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
