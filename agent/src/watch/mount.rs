//! Filesystem checks (Monit's `check filesystem`): space and inodes free,
//! each against a lower limit in percent of the whole or in bytes
//! (inodes), said once when it falls below and once when it recovers.
//!
//! The path must be a mount point (in /proc/self/mountinfo, as Monit
//! looks it up in the mount table): a filesystem that is not mounted fails
//! the check, where statfs would answer for the one beneath it (a data
//! partition that did not mount would look like the root filesystem).
//!
//! Free is what an unprivileged writer can still use (statfs's `f_bavail`,
//! as `df` shows and Monit's `space free` tests), so the blocks reserved
//! for root do not hide a full disk. A filesystem without an inode count
//! (btrfs, some FUSE) has no inode test. statfs(2) of a dead network mount
//! blocks: it is asked on a helper thread ([`crate::sys::statfs`]) and
//! waited for at most [`TIMEOUT`]; one that does not answer fails the
//! check and is not asked again until its call returns.

use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use super::state::Entry;
use super::{Event, Free, Kind, Mount};
use crate::sys::statfs::{Answer, Prober, Usage};
use crate::wire::proc::mountinfo;

/// How long one statfs(2) is waited for.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Bits of [`Entry::failing`] for a mount.
const MISSING: u64 = 1;
const SPACE: u64 = 2;
const INODES: u64 = 4;

/// Looks at `m` once; the events go to `events`. Returns whether it is
/// failing.
pub fn check(m: &Mount, e: &mut Entry, prober: &mut Prober, events: &mut Vec<Event>) -> bool {
    let mut say = |kind, status, words| events.push(Event::new(&m.name, kind, status, words));
    let mut flip = |bit: u64, failed: bool, kind: Kind, bad: String, good: String| {
        super::flip(&mut e.failing, bit, failed, kind, [bad, good], &mut say);
    };
    let path = m.path.as_os_str().as_bytes();
    let shown = m.path.display();
    if let Err(why) = mounted(&m.path) {
        flip(MISSING, true, Kind::Nonexist, format!("filesystem {shown} {why}"), String::new());
        return true;
    }
    let usage = match prober.ask(&m.name, path, TIMEOUT) {
        Answer::Done(Ok(u)) => u,
        Answer::Done(Err(err)) => {
            flip(MISSING, true, Kind::Nonexist, format!("filesystem {shown} cannot be read: {err}"), String::new());
            return true;
        }
        Answer::TimedOut | Answer::NotAsked => {
            let why = format!("filesystem {shown} does not answer statfs within {}s", TIMEOUT.as_secs());
            flip(MISSING, true, Kind::Nonexist, why, String::new());
            return true;
        }
    };
    flip(MISSING, false, Kind::Nonexist, String::new(), format!("filesystem {shown} answers"));
    // A bogus size from a FUSE daemon must not overflow (saturating); a
    // filesystem without an inode count has no inode test.
    let (bsize, inodes) = (usage.bsize, has_inodes(&usage));
    let tests = [
        (SPACE, m.min_free, "space free", usage.bavail.saturating_mul(bsize), usage.blocks.saturating_mul(bsize), "B"),
        (INODES, m.min_inodes_free.filter(|_| inodes), "inodes free", usage.ffree, usage.files, "inodes"),
    ];
    for (bit, limit, what, free, total, unit) in tests {
        let Some(limit) = limit else { continue };
        let (low, now) = judge(limit, free, total, unit);
        let lim = said(limit, unit);
        flip(
            bit,
            low,
            Kind::Resource,
            format!("{what} {now} on {shown} is below the limit {lim}"),
            format!("{what} {now} on {shown} [limit {lim}]"),
        );
    }
    e.failing != 0
}

/// The mount table read for one look: far more than any box's.
const MOUNTINFO_MAX: usize = 1 << 20;

/// Ok when `path` is a mount point of this mount namespace.
fn mounted(path: &std::path::Path) -> Result<(), String> {
    let mut buf = Vec::new();
    crate::sys::file::read_bounded("/proc/self/mountinfo".as_ref(), &mut buf, MOUNTINFO_MAX)
        .map_err(|e| format!("cannot be looked up in /proc/self/mountinfo: {e}"))?;
    let want = path.to_str().map(|p| if p.len() > 1 { p.trim_end_matches('/') } else { p });
    let mut point = String::new();
    for m in mountinfo::parse(&buf).flatten() {
        point.clear();
        mountinfo::unescape(m.mount_point, &mut point);
        if Some(point.as_str()) == want {
            return Ok(());
        }
    }
    Err("is not mounted".into())
}

fn has_inodes(u: &Usage) -> bool {
    u.files > 0
}

/// Whether `free` of `total` is below `limit`, and the two as words:
/// "4.2% (210000 B)".
fn judge(limit: Free, free: u64, total: u64, unit: &str) -> (bool, String) {
    // Tenths of a percent, rounded down, written as integers.
    let permille = if total == 0 { 0 } else { (free as f64 * 1000.0 / total as f64) as u64 };
    let low = match limit {
        Free::Percent(p) => (permille as f64) < p * 10.0,
        Free::Count(n) => free < n,
    };
    (low, format!("{}.{}% ({free} {unit})", permille / 10, permille % 10))
}

fn said(limit: Free, unit: &str) -> String {
    match limit {
        Free::Percent(p) => format!("{}%", (p * 10.0).round() as u64 as f64 / 10.0),
        Free::Count(n) => format!("{n} {unit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_mount_point_is_a_mount() {
        assert_eq!(mounted("/".as_ref()), Ok(()));
        assert_eq!(mounted("/proc/".as_ref()), Ok(()));
        let dir = std::env::temp_dir().join(format!("sonde-notmounted-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(mounted(&dir), Err("is not mounted".into()));
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn limits_in_percent_and_in_units() {
        assert_eq!(judge(Free::Percent(10.0), 42, 1000, "B"), (true, "4.2% (42 B)".into()));
        assert_eq!(judge(Free::Percent(10.0), 100, 1000, "B"), (false, "10.0% (100 B)".into()));
        assert!(judge(Free::Count(1 << 30), 1 << 29, 1 << 40, "B").0);
        assert_eq!(judge(Free::Count(5), 5, 0, "inodes"), (false, "0.0% (5 inodes)".into()));
        assert_eq!(said(Free::Percent(12.5), "B"), "12.5%");
        assert_eq!(said(Free::Count(1000), "inodes"), "1000 inodes");
    }
}
