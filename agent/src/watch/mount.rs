//! Filesystem checks (Monit's `check filesystem`): space and inodes free,
//! each against a lower limit in percent of the whole or in bytes
//! (inodes), said once when it falls below and once when it recovers.
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
use super::{Event, Free, Kind, Mount, Status};
use crate::sys::statfs::{Answer, Prober, Usage};

/// How long one statfs(2) is waited for.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Bits of [`Entry::failing`] for a mount.
const MISSING: u64 = 1;
const SPACE: u64 = 2;
const INODES: u64 = 4;

/// Looks at `m` once; the events go to `events`. Returns whether it is
/// failing.
pub fn check(m: &Mount, e: &mut Entry, prober: &mut Prober, events: &mut Vec<Event>) -> bool {
    let mut flip = |bit: u64, failed: bool, kind: Kind, bad: String, good: String| {
        if failed && e.failing & bit == 0 {
            events.push(Event::new(&m.name, kind, Status::Failed, bad));
            e.failing |= bit;
        } else if !failed && e.failing & bit != 0 {
            events.push(Event::new(&m.name, kind, Status::Succeeded, good));
            e.failing &= !bit;
        }
    };
    let path = m.path.as_os_str().as_bytes();
    let shown = m.path.display();
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
    if let Some(limit) = m.min_free {
        let (free, total) = (usage.bavail * usage.bsize, usage.blocks * usage.bsize);
        let (low, now) = judge(limit, free, total, "B");
        flip(
            SPACE,
            low,
            Kind::Resource,
            format!("space free {now} on {shown} is below the limit {}", said(limit, "B")),
            format!("space free {now} on {shown} [limit {}]", said(limit, "B")),
        );
    }
    if let (Some(limit), true) = (m.min_inodes_free, has_inodes(&usage)) {
        let (low, now) = judge(limit, usage.ffree, usage.files, "inodes");
        flip(
            INODES,
            low,
            Kind::Resource,
            format!("inodes free {now} on {shown} are below the limit {}", said(limit, "inodes")),
            format!("inodes free {now} on {shown} [limit {}]", said(limit, "inodes")),
        );
    }
    e.failing != 0
}

fn has_inodes(u: &Usage) -> bool {
    u.files > 0
}

/// Whether `free` of `total` is below `limit`, and the two as words:
/// "4.2% (210000 B)".
fn judge(limit: Free, free: u64, total: u64, unit: &str) -> (bool, String) {
    // Tenths of a percent, in integers: no float formatting needed.
    let permille = if total == 0 { 0 } else { (u128::from(free) * 1000 / u128::from(total)) as u64 };
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
    fn limits_in_percent_and_in_units() {
        assert_eq!(judge(Free::Percent(10.0), 42, 1000, "B"), (true, "4.2% (42 B)".into()));
        assert_eq!(judge(Free::Percent(10.0), 100, 1000, "B"), (false, "10.0% (100 B)".into()));
        assert!(judge(Free::Count(1 << 30), 1 << 29, 1 << 40, "B").0);
        assert_eq!(judge(Free::Count(5), 5, 0, "inodes"), (false, "0.0% (5 inodes)".into()));
        assert_eq!(said(Free::Percent(12.5), "B"), "12.5%");
        assert_eq!(said(Free::Count(1000), "inodes"), "1000 inodes");
    }
}
