//! Delivery: what push, log forwarding and notifications share. A batch
//! of encoded items waits in a [`queue::Queue`] (memory first, bounded by
//! bytes; the [`spool`] on disk only when the uplink fails, at a stop, and
//! between `--once` runs, since flash wears), and a [`sender::Sender`]
//! sends the oldest one at a time through its owner's [`Transport`] (the
//! Remote-Write POST, a syslog stream, an Alertmanager request, a mail), with
//! backoff, jitter and the receiver's Retry-After.
//!
//! The promise, kept here once for every owner: every item added is
//! delivered, dropped with a counted [`DropReason`], or still queued —
//! `added = delivered + Σ dropped + queued`, at every moment the queue is
//! not locked. What a batch is (samples, log lines, alerts) and what a
//! receiver's answer means are the owner's; the owner also renders the
//! [`Stats`] under its own family names.

pub mod http;
pub mod queue;
pub mod sender;
pub mod smtp;
pub mod spool;

pub use queue::Queue;
pub use sender::{Outbox, Sender};

/// An encoded batch, sent as it is and re-sent as the same bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// The request body.
    pub payload: Vec<u8>,
    /// How many items (samples, lines, alerts) it carries.
    pub items: u32,
    /// Its oldest item's time, milliseconds since the epoch.
    pub timestamp_ms: i64,
}

/// Why items were dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The receiver refused the batch for good (for Remote-Write: 400,
    /// 409, 413, 415, 422...).
    Rejected,
    /// Older than the owner's maximum age when its turn came.
    TooOld,
    /// The memory cap was reached and there is no spool.
    MemoryFull,
    /// The spool cap was reached: its oldest segments went.
    SpoolFull,
    /// Still queued in memory when sonde stopped, with no spool to keep them.
    Shutdown,
    /// The spool could not be written (disk full, read-only...).
    SpoolError,
    /// Found damaged in the spool at start (a damaged cursor skipped
    /// them).
    SpoolDamaged,
}

/// Every reason, in the order of [`Stats::dropped`], with its label value.
pub const DROP_REASONS: [(DropReason, &str); 7] = [
    (DropReason::Rejected, "rejected"),
    (DropReason::TooOld, "too_old"),
    (DropReason::MemoryFull, "memory_full"),
    (DropReason::SpoolFull, "spool_full"),
    (DropReason::Shutdown, "shutdown"),
    (DropReason::SpoolError, "spool_error"),
    (DropReason::SpoolDamaged, "spool_damaged"),
];

/// What happened to the batch in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Delivered,
    Dropped(DropReason),
    /// Keep it and try again later.
    Retry,
}

/// Counters of one queue and its sender.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Items added to the queue.
    pub added: u64,
    /// Items an earlier run left in the spool, found at the start (those
    /// found damaged included, and counted dropped), so that for every
    /// process lifetime `added + restored = delivered + dropped + queued`.
    pub restored: u64,
    pub delivered: u64,
    /// By [`DROP_REASONS`]' order.
    pub dropped: [u64; 7],
    pub requests: u64,
    pub retries: u64,
    pub bytes_sent: u64,
    pub last_success_ms: i64,
    /// The receiver's status of the last attempt (HTTP's), 0 for a
    /// network error or none yet.
    pub last_status: u16,
}

impl Stats {
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }

    pub fn drop(&mut self, why: DropReason, items: u64) {
        if let Some(i) = DROP_REASONS.iter().position(|(d, _)| *d == why) {
            self.dropped[i] += items;
        }
    }
}

/// What a receiver made of one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub fate: Fate,
    /// The receiver's own word on when to try again.
    pub retry_after: Option<std::time::Duration>,
    /// Its status (HTTP's), 0 for a network error.
    pub status: u16,
    /// What it said (the start of a response's body), or the network
    /// error, for the log.
    pub said: String,
    /// A retry that means the receiver is misconfigured for this box
    /// (401, 403, 404 to a Remote-Write push): kept, and said loudly once.
    pub misconfigured: bool,
}

/// How one owner's batches reach its receiver.
pub trait Transport: Send {
    /// The receiver, for the log (a URL, `tcp://host:port`).
    fn target(&self) -> &str;
    /// Sends one batch and says what became of it; never panics, never
    /// blocks past the owner's timeout.
    fn send(&mut self, batch: &Batch) -> Answer;
    /// Called by the sending thread when nothing is queued (about once a
    /// second): a receiver that must be told again what it was told
    /// (Alertmanager forgets a firing alert that is not re-sent) is told
    /// here, in line with the batches, never between two of them.
    fn idle(&mut self) {}
}

/// What owners give their [`Sender`]: every owner's sender, outbox thread
/// and once-mode drain are then one copy of the code in the binary, not
/// one per transport (2.4 KiB on armv7 for the second).
pub type AnyTransport = Box<dyn Transport>;

impl Transport for AnyTransport {
    fn target(&self) -> &str {
        (**self).target()
    }

    fn send(&mut self, batch: &Batch) -> Answer {
        (**self).send(batch)
    }

    fn idle(&mut self) {
        (**self).idle()
    }
}
