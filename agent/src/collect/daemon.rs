//! Finding a local daemon's control channel, for the collectors that ask
//! one (chronyd, Unbound): where it is configured to be, or in `auto`
//! mode, the usual places in the order an operator's own tool tries them.
//!
//! In `auto` mode a box without the daemon is not a failure: a place is
//! *absent* when nothing is there (no socket file, nothing listening on
//! the port, no such address family), and when every place is absent and
//! the daemon is not [expected](Presence), the collector reports nothing
//! and succeeds. A daemon that was there and is gone is down, not absent:
//! it is expected when one of its socket files exists (answering or not:
//! SIGKILL leaves it behind), when this process has seen it answer, or
//! when the box is set up for it (its config file exists under `[paths]
//! rootfs`); then every place absent is the collector's failure, and its
//! `*_up` is 0. A place where something is there but fails is remembered,
//! and is the collector's failure unless a later place answers.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::Error;

/// Where a daemon's control channel is (`address` in its section).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// `"auto"`: the usual places, in order.
    Auto,
    /// `"unix:/path"`: a unix socket.
    Unix(PathBuf),
    /// `"IP:PORT"` or `"[IPv6]:PORT"`: a port on an address (UDP for
    /// chronyd, TCP for Unbound).
    Ip(SocketAddr),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Auto => f.write_str("auto"),
            Address::Unix(p) => write!(f, "unix:{}", p.display()),
            Address::Ip(a) => write!(f, "{a}"),
        }
    }
}

/// What asking one place gave.
pub enum Asked<R> {
    /// The daemon answered.
    Answered(R),
    /// Nothing is there: the error that said so.
    Absent(Error),
    /// Something there failed before it answered.
    Failed(Error),
    /// The daemon answered, then failed: it is the one to report.
    Broke(Error),
}

impl<R> Asked<R> {
    /// Sorts a plain result: an error that says nothing is there is
    /// [`Asked::Absent`], any other [`Asked::Failed`].
    pub fn of(result: Result<R, Error>) -> Asked<R> {
        match result {
            Ok(r) => Asked::Answered(r),
            Err(e) if absent(&e) => Asked::Absent(e),
            Err(e) => Asked::Failed(e),
        }
    }
}

/// Where the daemon answered, what it said, and why an earlier place
/// failed (for the log).
pub struct Found<T, R> {
    pub place: T,
    pub answer: R,
    pub earlier: Option<Error>,
}

/// What tells that a daemon belongs on this box, though no place answers.
pub struct Presence {
    /// Its name in messages (`chronyd`).
    pub daemon: &'static str,
    /// Its usual socket files: one that exists was left by a daemon.
    pub sockets: &'static [&'static str],
    /// Its config files, under `[paths] rootfs`: the box is set up for it.
    pub configs: &'static [&'static str],
    /// Set once it answered in this process.
    pub seen: &'static AtomicBool,
}

impl Presence {
    /// Why the daemon is expected here, if it is.
    pub fn why(&self, rootfs: &Path) -> Option<String> {
        if self.seen.load(Ordering::Relaxed) {
            return Some(format!("{} answered before", self.daemon));
        }
        if let Some(s) = self.sockets.iter().find(|s| Path::new(s).symlink_metadata().is_ok()) {
            return Some(format!("its socket {s} exists"));
        }
        let config = |c: &&str| rootfs.join(c.trim_start_matches('/'));
        self.configs.iter().find(|c| config(c).is_file()).map(|c| format!("the box is set up for it ({c} exists)"))
    }
}

/// Asks `places` in order until one answers. `Ok(None)`: every place is
/// absent and the daemon is not expected, so there is none here; absent
/// but expected, the first place's absence is the failure, said with why
/// the daemon was expected.
pub fn discover<T: Copy, R>(
    places: impl IntoIterator<Item = T>,
    presence: &Presence,
    rootfs: &Path,
    mut ask: impl FnMut(T) -> Asked<R>,
) -> Result<Option<Found<T, R>>, Error> {
    let mut failed: Option<Error> = None;
    let mut absent: Option<Error> = None;
    for place in places {
        match ask(place) {
            Asked::Answered(answer) => {
                presence.seen.store(true, Ordering::Relaxed);
                return Ok(Some(Found { place, answer, earlier: failed }));
            }
            Asked::Broke(e) => return Err(e),
            Asked::Absent(e) => {
                absent.get_or_insert(e);
            }
            Asked::Failed(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    match (absent, presence.why(rootfs)) {
        (Some(e), Some(why)) => Err(Error::Down { daemon: presence.daemon, why, first: Box::new(e) }),
        _ => Ok(None),
    }
}

/// Whether an error says nothing is there (no socket file, nothing on the
/// port, no such address family on this box), rather than something there
/// failing. Over UDP a refusal arrives as the answer to the first request,
/// so any socket error counts; one that comes after the daemon answered is
/// the caller's [`Asked::Broke`].
pub fn absent(e: &Error) -> bool {
    let Error::Socket { err, .. } = e else { return false };
    matches!(
        err.raw_os_error(),
        Some(libc::ENOENT | libc::ECONNREFUSED | libc::EADDRNOTAVAIL | libc::ENETUNREACH | libc::EAFNOSUPPORT)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn socket(command: &'static str, errno: i32) -> Error {
        Error::Socket { peer: "p".into(), command, err: io::Error::from_raw_os_error(errno) }
    }

    /// A daemon nothing tells of, never seen before this call.
    fn discover<T: Copy, R>(
        places: impl IntoIterator<Item = T>,
        ask: impl FnMut(T) -> Asked<R>,
    ) -> Result<Option<Found<T, R>>, Error> {
        let seen: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
        let nowhere = Presence { daemon: "d", sockets: &[], configs: &[], seen };
        super::discover(places, &nowhere, Path::new("/nonexistent"), ask)
    }

    #[test]
    fn all_absent_is_no_daemon_and_no_failure() {
        let r = discover([1, 2], |_| Asked::<()>::of(Err(socket("connect", libc::ENOENT))));
        assert!(matches!(r, Ok(None)));
    }

    #[test]
    fn a_failure_counts_unless_a_later_place_answers() {
        let r = discover([1, 2], |p| match p {
            1 => Asked::of(Err(socket("connect", libc::EACCES))),
            _ => Asked::of(Ok("answer")),
        });
        let found = r.ok().flatten().unwrap();
        assert_eq!((found.place, found.answer), (2, "answer"));
        assert!(found.earlier.is_some());
        let r = discover([1, 2], |p| match p {
            1 => Asked::<()>::of(Err(socket("connect", libc::EACCES))),
            _ => Asked::Absent(socket("connect", libc::ENOENT)),
        });
        assert!(r.is_err());
    }

    /// See: issue 13, "a daemon that was there and is gone is down, not
    /// absent".
    #[test]
    fn an_expected_daemon_that_is_absent_is_down() {
        let dir = std::env::temp_dir().join(format!("sonde-presence-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("etc/d")).unwrap();
        static SEEN: AtomicBool = AtomicBool::new(false);
        let p = Presence { daemon: "d", sockets: &[], configs: &["/etc/d/d.conf"], seen: &SEEN };
        let gone = |_| Asked::<()>::of(Err(socket("connect", libc::ENOENT)));
        assert!(matches!(super::discover([1], &p, &dir, gone), Ok(None)), "not set up, never seen: absent");
        std::fs::write(dir.join("etc/d/d.conf"), "").unwrap();
        let e = super::discover([1], &p, &dir, gone).err().unwrap();
        assert!(e.to_string().contains("/etc/d/d.conf exists"), "{e}");
        std::fs::remove_file(dir.join("etc/d/d.conf")).unwrap();
        assert!(super::discover([1], &p, &dir, |_| Asked::of(Ok(()))).is_ok());
        assert!(super::discover([1], &p, &dir, gone).is_err(), "seen answering in this process: down");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_daemon_that_answered_then_broke_is_the_one_reported() {
        let r = discover([1, 2], |p| match p {
            1 => Asked::Broke(socket("tracking", libc::ETIMEDOUT)),
            _ => Asked::of(Ok(())),
        });
        assert!(r.is_err());
    }

    #[test]
    fn only_nothing_there_is_absent() {
        assert!(absent(&socket("connect", libc::ECONNREFUSED)));
        assert!(absent(&socket("tracking", libc::ECONNREFUSED)));
        assert!(!absent(&socket("connect", libc::EACCES)));
        assert!(!absent(&socket("tracking", libc::ETIMEDOUT)));
    }
}
