//! Finding a local daemon's control channel, for the collectors that ask
//! one (chronyd, Unbound): where it is configured to be, or in `auto`
//! mode, the usual places in the order an operator's own tool tries them.
//!
//! In `auto` mode a box without the daemon is not a failure: a place is
//! *absent* when nothing is there (no socket file, nothing listening on
//! the port, no such address family), and when every place is absent the
//! collector reports nothing and succeeds. A place where something is
//! there but fails is remembered, and is the collector's failure unless a
//! later place answers.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

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
    /// Nothing is there.
    Absent,
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
            Err(e) if absent(&e) => Asked::Absent,
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

/// Asks `places` in order until one answers. `Ok(None)`: every place is
/// absent, so there is no daemon here.
pub fn discover<T: Copy, R>(
    places: impl IntoIterator<Item = T>,
    mut ask: impl FnMut(T) -> Asked<R>,
) -> Result<Option<Found<T, R>>, Error> {
    let mut failed: Option<Error> = None;
    for place in places {
        match ask(place) {
            Asked::Answered(answer) => return Ok(Some(Found { place, answer, earlier: failed })),
            Asked::Broke(e) => return Err(e),
            Asked::Absent => {}
            Asked::Failed(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    failed.map_or(Ok(None), Err)
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
            _ => Asked::Absent,
        });
        assert!(r.is_err());
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
