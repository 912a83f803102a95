//! A file's content test (Monit's `if content = "regex"`): the lines
//! appended since the last look, each matched against the pattern, as
//! Monit's tail-style scan does. The first look starts at the end of the
//! file (what was there before is not news); a file that shrank or was
//! replaced (another inode) is read again from its start; only lines ended
//! by a newline are read, so a line still being written is read whole at
//! the next look. Unlike Monit, where it reads on is kept in the state
//! file, so lines written while sonde was not running, or between two
//! `--once` runs, are read too (the daemon writes a moved position at most
//! every minute, so a crash reads at most a minute's lines again); a
//! config that names another file starts at that file's end.
//!
//! Invariants: one look reads at most [`SCAN_MAX`] bytes (the rest at the
//! next), matches at most [`LINE_MAX`] bytes of a line, and keeps at most
//! [`SHOWN_MAX`] matching lines for its event; the read position only
//! ever moves past whole lines (or a full buffer with no newline, taken
//! as one line: a longer line is matched in pieces of that size), so no
//! line is matched twice; a path that is not a regular file is refused
//! without waiting (it is opened non-blocking).

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use crate::wire::regex::Regex;

/// Bytes read in one look.
pub const SCAN_MAX: usize = 1 << 20;

/// Bytes of a line matched (Monit: 511).
pub const LINE_MAX: usize = 4096;

/// Matching lines an event shows.
pub const SHOWN_MAX: usize = 8;

/// What a look found: how many new lines matched, the first of them.
#[derive(Debug, Default, PartialEq)]
pub struct Found {
    pub matched: usize,
    pub lines: Vec<String>,
}

/// Where a content test reads on: the position in a file, its inode, and
/// the path they are of (a config that names another file starts at its
/// end, as a first look does).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Position {
    pub pos: u64,
    pub ino: u64,
    pub path: String,
}

/// Reads the lines appended to `path` since `at` (updated), matching each
/// against `re`.
pub fn scan(path: &Path, re: &Regex, at: &mut Position) -> std::io::Result<Found> {
    // Non-blocking: a FIFO put in the file's place must not hold the cycle.
    let mut file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let shown = path.to_string_lossy();
    let Position { pos, ino, path: of } = at;
    if *ino == 0 || *of != shown {
        // The first look at this file: from its end on.
        (*pos, *ino) = (meta.size(), meta.ino());
        *of = shown.into_owned();
        return Ok(Found::default());
    }
    if meta.ino() != *ino || meta.size() < *pos {
        (*pos, *ino) = (0, meta.ino());
    }
    file.seek(SeekFrom::Start(*pos))?;
    let mut buf = Vec::new();
    file.take(SCAN_MAX as u64).read_to_end(&mut buf)?;
    let mut found = Found::default();
    let used = lines(&buf, |line| {
        if re.is_match_bytes(&line[..line.len().min(LINE_MAX)]) {
            found.matched += 1;
            if found.lines.len() < SHOWN_MAX {
                let text = Regex::text(&line[..line.len().min(LINE_MAX)]);
                found.lines.push(text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect());
            }
        }
    });
    *pos += used as u64;
    Ok(found)
}

/// Calls `each` with every whole line of `buf` (without its newline);
/// returns the bytes used. A full buffer with no newline is one line.
fn lines(buf: &[u8], mut each: impl FnMut(&[u8])) -> usize {
    let mut used = 0;
    while let Some(n) = buf[used..].iter().position(|&b| b == b'\n') {
        each(&buf[used..used + n]);
        used += n + 1;
    }
    if used == 0 && buf.len() >= SCAN_MAX {
        each(buf);
        used = buf.len();
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn only_whole_new_lines_are_read_and_a_replaced_file_from_its_start() {
        let dir = std::env::temp_dir().join(format!("sonde-content-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        std::fs::write(&path, "ERROR before sonde looked\n").unwrap();
        let re = Regex::new("ERROR").unwrap();
        let mut at = Position::default();
        let mut look = || scan(&path, &re, &mut at).unwrap();
        assert_eq!(look().matched, 0, "the first look starts at the end");
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"ok\nERROR one\nERROR tw").unwrap();
        assert_eq!(look(), Found { matched: 1, lines: vec!["ERROR one".into()] });
        f.write_all(b"o\tend\n").unwrap();
        assert_eq!(look(), Found { matched: 1, lines: vec!["ERROR two end".into()] });
        assert_eq!(look().matched, 0, "nothing new");
        // Replaced (a new inode, as logrotate's create): read from its start.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "ERROR new file\n").unwrap();
        assert_eq!(look().matched, 1);
        // Truncated in place (copytruncate): from the start again.
        std::fs::write(&path, "ERROR\n").unwrap();
        assert_eq!(look().matched, 1);
        // Another file named in the config: from its end, as a first look.
        let other = dir.join("other");
        std::fs::write(&other, "ERROR old news\n").unwrap();
        assert_eq!(scan(&other, &re, &mut at).unwrap().matched, 0);
        // A FIFO in its place is refused at once, not waited on.
        std::fs::remove_file(&other).unwrap();
        let c = std::ffi::CString::new(other.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(scan(&other, &re, &mut at).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn lines_without_an_end_wait_unless_the_buffer_is_full() {
        let mut seen = Vec::new();
        assert_eq!(lines(b"a\nbb\nccc", |l| seen.push(l.to_vec())), 5);
        assert_eq!(seen, [b"a".to_vec(), b"bb".to_vec()]);
        let full = vec![b'x'; SCAN_MAX];
        let mut n = 0;
        assert_eq!(lines(&full, |_| n += 1), SCAN_MAX);
        assert_eq!(n, 1);
    }
}
