//! File and directory checks (Monit's `check file` and `check
//! directory`): it exists and is of its kind (a regular file, a
//! directory), its checksum (changed, or as expected), its permission
//! bits, its owner and group, its size, the age of its last modification,
//! and lines appended to it that match (see [`super::content`]).
//! Each is said once when it starts failing (or changes) and once when it
//! recovers, never at every cycle; the last checksum is kept in the state
//! file, so a change made while sonde was not running is seen at its next
//! start, and `--once` from cron sees each change once.
//!
//! A file is hashed again only when its size, modification time, change
//! time or inode moved since the last look (a daemon's cycle), or at
//! every `--once` run.

use std::io::Read;
use std::os::unix::fs::MetadataExt;

use super::digest::Hasher;
use super::state::Entry;
use super::{Event, File, Kind, Status};

/// Bytes read at a time while hashing.
const BLOCK: usize = 16 * 1024;

/// Bits of [`Entry::failing`] for a file.
const CHECKSUM: u64 = 1;
const PERMISSION: u64 = 2;
const UID: u64 = 4;
const GID: u64 = 8;
const MISSING: u64 = 16;
const SIZE: u64 = 32;
const TIMESTAMP: u64 = 64;
const INVALID: u64 = 128;
/// New lines matched in this look (said at every look that finds some,
/// as Monit does).
const CONTENT: u64 = 256;
/// The content test cannot read the file.
const UNREAD: u64 = 512;

/// The word for what `f` watches.
fn what(f: &File) -> &'static str {
    if f.directory {
        "directory"
    } else {
        "file"
    }
}

/// What told a file's content apart between two looks without reading it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stamp {
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    ino: u64,
}

/// Looks at `f` once; the events go to `events`. `stamp` is the last look's
/// (None: hash whatever it shows). Returns whether it is failing.
pub fn check(f: &File, e: &mut Entry, stamp: &mut Option<Stamp>, events: &mut Vec<Event>) -> bool {
    let mut say = |kind, status, description: String| events.push(Event::new(&f.name, kind, status, description));
    let meta = match std::fs::metadata(&f.path) {
        Ok(m) => m,
        Err(err) => {
            if e.failing & MISSING == 0 {
                say(
                    Kind::File,
                    Status::Failed,
                    format!("{} {} does not exist or cannot be read: {err}", what(f), f.path.display()),
                );
                e.failing |= MISSING;
            }
            *stamp = None;
            return true;
        }
    };
    let what = what(f);
    if e.failing & MISSING != 0 {
        say(Kind::File, Status::Succeeded, format!("{what} {} exists", f.path.display()));
        e.failing &= !MISSING;
    }
    let mut flip = |bit: u64, failed: bool, kind: Kind, bad: String, good: String| {
        super::flip(&mut e.failing, bit, failed, kind, [bad, good], &mut say);
    };
    let kind_ok = if f.directory { meta.is_dir() } else { meta.is_file() };
    flip(
        INVALID,
        !kind_ok,
        Kind::Invalid,
        format!("{} is not a {}", f.path.display(), if f.directory { "directory" } else { "regular file" }),
        format!("{} is a {what} again", f.path.display()),
    );
    let mode = meta.mode() & 0o7777;
    if let Some(want) = f.permission {
        flip(
            PERMISSION,
            mode != want,
            Kind::Permission,
            format!("permission test failed for {} -- current permission is {mode:04o}", f.path.display()),
            format!("permission test succeeded [current permission {mode:04o}]"),
        );
    }
    if let Some(want) = f.uid {
        let uid = meta.uid();
        flip(
            UID,
            uid != want,
            Kind::Uid,
            format!("uid test failed for {} -- current uid is {uid}", f.path.display()),
            format!("uid test succeeded [current uid = {uid}]"),
        );
    }
    if let Some(want) = f.gid {
        let gid = meta.gid();
        flip(
            GID,
            gid != want,
            Kind::Gid,
            format!("gid test failed for {} -- current gid is {gid}", f.path.display()),
            format!("gid test succeeded [current gid = {gid}]"),
        );
    }
    if let Some(max) = f.max_size {
        let size = meta.size();
        flip(
            SIZE,
            size > max,
            Kind::Size,
            format!("size test failed for {} -- current size is {size} B", f.path.display()),
            format!("size test succeeded [current size = {size} B]"),
        );
    }
    if let Some(max) = f.max_age {
        // A modification time in the future is no age.
        let age = meta.modified().ok().and_then(|m| m.elapsed().ok()).unwrap_or_default();
        flip(
            TIMESTAMP,
            age > max,
            Kind::Timestamp,
            format!("timestamp test failed for {} -- modified {} s ago", f.path.display(), age.as_secs()),
            format!("timestamp test succeeded [modified {} s ago]", age.as_secs()),
        );
    }
    if !kind_ok {
        *stamp = None;
        return true;
    }
    if let Some((hash, expect)) = &f.checksum {
        let now = Stamp {
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
        };
        let unchanged = *stamp == Some(now) && !e.sum.is_empty();
        if !unchanged {
            if let Some(sum) = hash_file(f, *hash) {
                *stamp = Some(now);
                match expect {
                    Some(want) => flip(
                        CHECKSUM,
                        sum != *want,
                        Kind::Checksum,
                        format!("checksum failed, expected {want} got {sum}"),
                        format!("checksum succeeded [{sum}]"),
                    ),
                    None if !e.sum.is_empty() && e.sum != sum => {
                        say(Kind::Checksum, Status::Changed, format!("checksum changed from {} to {sum}", e.sum))
                    }
                    None => {}
                }
                e.sum = sum;
            }
        }
    }
    if let Some(re) = &f.content {
        e.failing &= !CONTENT;
        match super::content::scan(&f.path, re, &mut e.content) {
            Ok(found) => {
                if e.failing & UNREAD != 0 {
                    let why = format!("content test reads {} again", f.path.display());
                    say(Kind::Content, Status::Succeeded, why);
                    e.failing &= !UNREAD;
                }
                if found.matched > 0 {
                    e.failing |= CONTENT;
                    let more = found.matched - found.lines.len();
                    let tail = if more > 0 { format!(" (and {more} more)") } else { String::new() };
                    say(Kind::Content, Status::Changed, format!("content match: {}{tail}", found.lines.join(" | ")));
                }
            }
            Err(err) if e.failing & UNREAD == 0 => {
                say(Kind::Content, Status::Failed, format!("content test cannot read {}: {err}", f.path.display()));
                e.failing |= UNREAD;
            }
            Err(_) => {}
        }
    }
    e.failing != 0
}

fn hash_file(f: &File, hash: super::digest::Hash) -> Option<String> {
    let mut file = std::fs::File::open(&f.path).ok()?;
    let mut h = Hasher::new(hash);
    let mut buf = vec![0u8; BLOCK];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Some(h.finish()),
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}
