//! Push mode: Remote-Write batches out, for boxes no scraper can reach.
//!
//! Every interval, a collection cycle (the same exposition a scrape would
//! serve) becomes one or more batches ([`batch`]), encoded once, and goes
//! to the generic delivery queue ([`crate::deliver`]): memory first,
//! bounded by bytes, spilled to the spool only when the uplink fails, at
//! shutdown, and in once mode, so a box with a healthy uplink never writes
//! its flash. One request is in flight at a time, oldest batch first, so
//! every series arrives in order even at a receiver that refuses
//! out-of-order samples.
//!
//! What the receiver says decides a batch's fate (DESIGN.md, Push): 2xx
//! delivered; 5xx, 429 and network errors retried, the same bytes, with
//! exponential backoff, jitter and Retry-After; 400, 409, 413, 415, 422 (and
//! any other 4xx the spec forbids retrying) dropped and counted; 401, 403,
//! 404 and anything unexpected kept and retried while stderr says, loudly,
//! that the receiver is misconfigured. A batch older than `max_age` is
//! dropped and counted rather than sent to a receiver that would refuse the
//! whole request for it.
//!
//! Accounting, the promise this module keeps: every sample collected is
//! delivered, dropped with a reason, or still queued —
//! `collected = delivered + Σ dropped + queued`, at every moment the queue
//! is not locked.
//!
//! Files: [`batch`] turns an exposition into Remote-Write batches,
//! [`remote_write`] is the receiver's side of a request (headers, auth, what
//! each status means), [`pipeline`] is the push service (daemon mode) and
//! [`once`](mod@once) is `--once`.
//!
//! Threads (daemon mode): one collecting on the interval, one sending.

pub mod batch;
pub mod once;
pub mod pipeline;
pub mod remote_write;

use std::path::PathBuf;
use std::time::Duration;

use crate::sys::log;
use crate::sys::time::{Change, Transition};
use crate::tls::ClientTls;
pub use once::{once, OnceReport};
pub use pipeline::Pipeline;

/// The `[push]` settings, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub url: String,
    pub interval: Duration,
    pub batch_samples: usize,
    pub memory_cap: usize,
    pub spool: Option<PathBuf>,
    pub spool_cap: u64,
    pub max_age: Duration,
    pub timeout: Duration,
    /// External labels, `instance` and `job` among them.
    pub labels: Vec<(String, String)>,
    /// Extra request headers; never one of the reserved ones.
    pub headers: Vec<(String, String)>,
    pub basic_auth_user: Option<String>,
    pub basic_auth_password_file: Option<PathBuf>,
    pub bearer_token_file: Option<PathBuf>,
    /// For an https URL: whom to trust, and a client certificate.
    pub tls: ClientTls,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl Settings {
    /// Defaults for a push to `url`: those of the config reference.
    pub fn new(url: &str) -> Settings {
        Settings {
            url: url.to_owned(),
            interval: Duration::from_secs(15),
            batch_samples: 2000,
            memory_cap: 1024 * 1024,
            spool: None,
            spool_cap: 16 * 1024 * 1024,
            max_age: Duration::from_secs(3600),
            timeout: Duration::from_secs(30),
            labels: vec![("instance".into(), hostname()), ("job".into(), "sonde".into())],
            headers: Vec::new(),
            basic_auth_user: None,
            basic_auth_password_file: None,
            bearer_token_file: None,
            tls: ClientTls::default(),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
        }
    }
}

/// Headers a configured header may not replace (the spec's four, and the
/// ones sonde computes).
pub const RESERVED_HEADERS: &[&str] = &[
    "content-encoding",
    "content-type",
    "user-agent",
    "x-prometheus-remote-write-version",
    "content-length",
    "host",
    "connection",
    "authorization",
];

/// Whether the wall clock can stamp samples: a box without a battery-backed
/// clock boots in 1970 (or at its firmware's date) until NTP sets it, and
/// samples stamped then are refused by every receiver, or worse, stored
/// decades away from where anyone looks. `held` remembers whether this was
/// already said, so the log says it once when it starts and once when it
/// ends.
pub fn clock_is_set(now_ms: i64, held: &mut Transition) -> bool {
    let set = now_ms >= crate::limits::CLOCK_FLOOR_SECS as i64 * 1000;
    match held.update(!set) {
        Some(Change::Ended) => log::info!("push: the clock is set now; collecting again"),
        Some(Change::Started) => log::warn!(
            "push: the clock reads {} s since 1970, before this build; \
             holding push cycles until it is set (NTP)",
            now_ms / 1000
        ),
        None => {}
    }
    set
}

/// The host's name, for the `instance` label.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::time::now_ms;

    #[test]
    fn a_clock_before_the_floor_holds_cycles_and_says_so_once() {
        let floor = crate::limits::CLOCK_FLOOR_SECS as i64 * 1000;
        let mut held = Transition::default();
        assert!(!clock_is_set(0, &mut held));
        assert!(held.is_failing());
        assert!(!clock_is_set(floor - 1, &mut held));
        assert!(held.is_failing(), "still held, said once");
        assert!(clock_is_set(floor, &mut held));
        assert!(!held.is_failing());
        assert!(clock_is_set(now_ms(), &mut held), "this machine's clock is set");
    }
}
