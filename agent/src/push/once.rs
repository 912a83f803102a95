//! `--once` with push, for cron: this cycle goes to the spool (if any)
//! first, so a failed send or a power cut loses nothing, then everything
//! spooled is sent oldest first until the receiver stops accepting; the
//! next run tries again, with no waiting here.

use std::sync::{Mutex, PoisonError};

use super::batch::Builder;
use super::pipeline::{open_queue, sender};
use super::{clock_is_set, Settings};
use crate::deliver::Stats;
use crate::sys::time::{now_ms, Transition};

/// What `--once` with push did, for its exit code and stderr.
pub struct OnceReport {
    pub stats: Stats,
    /// Samples still spooled for the next run.
    pub queued: u64,
    /// The clock was not set: this cycle was not collected.
    pub clock_held: bool,
    /// The spool was found damaged and mended (see the log).
    pub repaired: bool,
}

/// One cycle of `exposition`, and what the spool held before it.
pub fn once(settings: &Settings, exposition: &[u8]) -> Result<OnceReport, String> {
    let queue = Mutex::new(open_queue(settings)?);
    let mut sender = sender(settings)?;
    let mut batches = Vec::new();
    // What is spooled from before still goes; without a set clock, this
    // cycle cannot.
    let clock_held = !clock_is_set(now_ms(), &mut Transition::default());
    if !clock_held {
        Builder::default().cycle(exposition, &settings.labels, now_ms(), settings.batch_samples, &mut batches);
    }
    {
        let mut q = queue.lock().unwrap_or_else(PoisonError::into_inner);
        batches.into_iter().for_each(|b| q.push(b));
        q.keep_on_disk();
    }
    sender.drain(&queue);
    let mut q = queue.into_inner().unwrap_or_else(PoisonError::into_inner);
    q.shutdown();
    let (memory, spooled) = q.queued();
    Ok(OnceReport { stats: q.stats.clone(), queued: memory + spooled, clock_held, repaired: q.repaired })
}
