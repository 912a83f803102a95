//! Batches waiting to go: memory first, bounded by bytes; the spool when
//! the uplink fails, at a stop, and in once mode. One batch is in flight
//! at a time, oldest first, so every series arrives in order even at a
//! receiver that refuses out-of-order samples.

use std::collections::VecDeque;
use std::path::Path;

use super::spool::{Spool, Taken};
use super::{Batch, DropReason, Fate, Stats};
use crate::sys::log;

/// The batch being sent: the oldest one, taken from memory or the spool.
struct Inflight {
    batch: Batch,
    from_spool: Option<Taken>,
}

/// Batches waiting to go: memory first, spool when the uplink fails.
///
/// Order invariant: every spooled batch is older than every batch in
/// memory, and the batch in flight is older than both.
pub struct Queue {
    what: (&'static str, &'static str),
    memory: VecDeque<Batch>,
    memory_bytes: usize,
    memory_cap: usize,
    spool: Option<Spool>,
    inflight: Option<Inflight>,
    /// The last attempt failed: new batches go to the spool.
    pub(super) failing: bool,
    pub stats: Stats,
    /// Opening the spool found damage and mended it (said in the log):
    /// something may be lost that no counter holds, so `--once` fails.
    pub repaired: bool,
}

impl Queue {
    /// A queue whose log lines say `what.0` ("push") and count `what.1`
    /// ("samples").
    pub fn new(what: (&'static str, &'static str), memory_cap: usize, spool: Option<Spool>) -> Queue {
        Queue {
            what,
            memory: VecDeque::new(),
            memory_bytes: 0,
            memory_cap,
            spool,
            inflight: None,
            failing: false,
            stats: Stats::default(),
            repaired: false,
        }
    }

    /// Samples waiting (in flight included) and where.
    pub fn queued(&self) -> (u64, u64) {
        let inflight =
            self.inflight.as_ref().filter(|i| i.from_spool.is_none()).map_or(0, |i| u64::from(i.batch.items));
        let memory = self.memory.iter().map(|b| u64::from(b.items)).sum::<u64>() + inflight;
        (memory, self.spool.as_ref().map_or(0, Spool::items))
    }

    pub fn queued_bytes(&self) -> (u64, u64) {
        let inflight = self.inflight.as_ref().filter(|i| i.from_spool.is_none()).map_or(0, |i| i.batch.payload.len());
        ((self.memory_bytes + inflight) as u64, self.spool.as_ref().map_or(0, Spool::bytes))
    }

    /// Adds a cycle's batch, newest.
    pub fn push(&mut self, b: Batch) {
        self.stats.added += u64::from(b.items);
        let to_spool = self.spool.as_ref().is_some_and(|s| self.failing || !s.is_empty());
        if to_spool {
            self.append_to_spool(b);
            return;
        }
        self.memory_bytes += b.payload.len();
        self.memory.push_back(b);
        while self.memory_bytes > self.memory_cap {
            if self.spool.is_some() {
                // Behind, though not failing: the backlog goes to disk
                // rather than away.
                self.spill();
                break;
            }
            let Some(old) = self.memory.pop_front() else { break };
            self.memory_bytes -= old.payload.len();
            self.stats.drop(DropReason::MemoryFull, u64::from(old.items));
        }
    }

    fn append_to_spool(&mut self, b: Batch) {
        let Some(spool) = self.spool.as_mut() else { return };
        let (mut dropped, appended) = spool.append(b.items, b.timestamp_ms, &b.payload);
        // The batch in flight was read from a segment the cap just
        // dropped: it is not lost (it is here, in memory, being sent), so
        // it is not counted as dropped, and from now on it is memory's.
        // Counting it would count it twice.
        if let Some(i) = self.inflight.as_mut() {
            if i.from_spool.as_ref().is_some_and(|t| !spool.holds(t)) {
                dropped = dropped.saturating_sub(u64::from(i.batch.items));
                i.from_spool = None;
            }
        }
        self.stats.drop(DropReason::SpoolFull, dropped);
        if let Err(e) = appended {
            log::error!("{}: cannot spool a batch: {e}; {} {} dropped", self.what.0, b.items, self.what.1);
            self.stats.drop(DropReason::SpoolError, u64::from(b.items));
        }
    }

    /// Moves everything in memory (the batch in flight first) to the
    /// spool, in order. Without a spool, nothing moves.
    pub fn spill(&mut self) {
        if self.spool.is_none() {
            return;
        }
        if let Some(i) = self.inflight.take() {
            match i.from_spool {
                // Already there, and first in line.
                Some(t) => self.inflight = Some(Inflight { batch: i.batch, from_spool: Some(t) }),
                None => {
                    self.memory_bytes += i.batch.payload.len();
                    self.memory.push_front(i.batch);
                }
            }
        }
        while let Some(b) = self.memory.pop_front() {
            self.memory_bytes -= b.payload.len();
            self.append_to_spool(b);
        }
    }

    /// The oldest batch, which stays in flight until [`Queue::done`].
    pub fn oldest(&mut self) -> Option<&Batch> {
        if self.inflight.is_none() {
            let from_spool = match self.spool.as_mut().map(Spool::peek) {
                Some(Ok(t)) => t,
                Some(Err(e)) => {
                    log::warn!("{}: spool: {e}", self.what.0);
                    None
                }
                None => None,
            };
            self.inflight = match from_spool {
                Some(t) => Some(Inflight {
                    batch: Batch { payload: t.payload.clone(), items: t.items, timestamp_ms: t.timestamp_ms },
                    from_spool: Some(t),
                }),
                None => self.memory.pop_front().map(|b| {
                    self.memory_bytes -= b.payload.len();
                    Inflight { batch: b, from_spool: None }
                }),
            };
        }
        self.inflight.as_ref().map(|i| &i.batch)
    }

    /// Settles the batch in flight (the one [`Queue::oldest`] returned).
    pub fn done(&mut self, fate: Fate) {
        match fate {
            Fate::Retry => {
                self.stats.retries += 1;
                if !self.failing {
                    self.failing = true;
                    self.spill();
                }
            }
            Fate::Delivered | Fate::Dropped(_) => {
                let Some(i) = self.inflight.take() else { return };
                let n = u64::from(i.batch.items);
                match fate {
                    Fate::Delivered => self.stats.delivered += n,
                    Fate::Dropped(why) => self.stats.drop(why, n),
                    Fate::Retry => {}
                }
                if let (Some(t), Some(spool)) = (i.from_spool.as_ref(), self.spool.as_mut()) {
                    if let Err(e) = spool.ack(t) {
                        log::error!("{}: spool: cannot record progress: {e}", self.what.0);
                    }
                }
                if fate == Fate::Delivered {
                    self.failing = false;
                }
            }
        }
    }

    /// At a stop: keep what can be kept, count what cannot.
    pub fn shutdown(&mut self) {
        if self.spool.is_some() {
            self.spill();
            return;
        }
        let (memory, _) = self.queued();
        if memory > 0 {
            log::warn!("{}: {memory} {} not delivered and no spool to keep them", self.what.0, self.what.1);
            self.stats.drop(DropReason::Shutdown, memory);
            self.memory.clear();
            self.memory_bytes = 0;
            self.inflight = None;
        }
    }
}

impl Queue {
    /// A queue with the spool in `dir` (created), if any; a damaged spool
    /// is repaired and the repair said.
    pub fn open(
        what: (&'static str, &'static str),
        memory_cap: usize,
        dir: Option<&Path>,
        spool_cap: u64,
    ) -> Result<Queue, String> {
        let (mut repaired, mut lost) = (false, 0);
        let spool = match dir {
            Some(dir) => {
                let (spool, repairs) =
                    Spool::open(dir, spool_cap).map_err(|e| format!("cannot open the spool {}: {e}", dir.display()))?;
                repaired = !repairs.truncated.is_empty() || !repairs.ignored.is_empty() || repairs.cursor.is_some();
                for (file, at, removed) in repairs.truncated {
                    log::warn!(
                        "{}: spool: {} was damaged (a power cut?); cut at byte {at}, {removed} bytes removed, the rest kept",
                        what.0,
                        file.display()
                    );
                }
                for (file, why) in repairs.ignored {
                    log::warn!("{}: spool: {} left alone: {why}", what.0, file.display());
                }
                lost = repairs.lost;
                if let Some(why) = repairs.cursor {
                    log::warn!(
                        "{}: spool: the cursor was damaged: it {why}; {} {} skipped",
                        what.0,
                        repairs.lost,
                        what.1
                    );
                }
                Some(spool)
            }
            None => None,
        };
        let mut queue = Queue::new(what, memory_cap, spool);
        queue.repaired = repaired;
        queue.stats.restored = queue.queued().1 + lost;
        queue.stats.drop(DropReason::SpoolDamaged, lost);
        Ok(queue)
    }

    /// Once mode keeps what it is given on disk first: if the send fails
    /// or the box loses power, the next run still has it.
    pub fn keep_on_disk(&mut self) {
        self.failing = true;
        self.spill();
        self.failing = false;
    }

    /// Calls `f` with the payload of every batch queued, oldest first: the
    /// spool's, the one in flight, then memory's (see
    /// [`Spool::for_each_unread`]).
    pub fn for_each_queued(&self, mut f: impl FnMut(&[u8])) {
        if let Some(spool) = &self.spool {
            if let Err(e) = spool.for_each_unread(&mut f) {
                log::warn!("{}: spool: {e}", self.what.0);
            }
        }
        if let Some(i) = self.inflight.as_ref().filter(|i| i.from_spool.is_none()) {
            f(&i.batch.payload);
        }
        self.memory.iter().for_each(|b| f(&b.payload));
    }

    /// Whether the last attempt failed (new batches go to the spool).
    pub fn is_failing(&self) -> bool {
        self.failing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(items: u32, ts: i64) -> Batch {
        Batch { payload: vec![b'p'; 100], items, timestamp_ms: ts }
    }

    fn balanced(q: &Queue) {
        let (m, s) = q.queued();
        let st = &q.stats;
        assert_eq!(st.added + st.restored, st.delivered + st.dropped_total() + m + s, "{st:?} queued {m}+{s}");
    }

    #[test]
    fn memory_only_drops_oldest_at_the_cap_and_stays_balanced() {
        let mut q = Queue::new(("test", "samples"), 350, None);
        for i in 0..10 {
            q.push(batch(5, i));
            balanced(&q);
        }
        assert_eq!(q.memory.len(), 3);
        assert_eq!(q.stats.dropped[2], 35);
        assert_eq!(q.oldest().unwrap().timestamp_ms, 7, "oldest kept first");
        q.done(Fate::Retry);
        balanced(&q);
        q.done(Fate::Delivered);
        balanced(&q);
        q.done(Fate::Delivered); // nothing in flight: no effect
        balanced(&q);
        q.shutdown();
        balanced(&q);
        assert_eq!(q.stats.dropped[4], 10);
    }

    /// See: issue 18, an outage that fills the queue. The batch in
    /// flight came from a segment that the cap then drops: it is still
    /// sent, and counted once, as delivered, not also as dropped.
    #[test]
    fn a_batch_in_flight_from_a_dropped_segment_is_counted_once() {
        let dir = std::env::temp_dir().join(format!("sonde-queue-cap-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (spool, _) = Spool::open(&dir, 2 * crate::deliver::spool::SEGMENT_MAX).unwrap();
        let mut q = Queue::new(("test", "samples"), 1 << 20, Some(spool));
        let big = |ts| Batch { payload: vec![b'p'; 20_000], items: 1, timestamp_ms: ts };
        q.push(big(0));
        q.oldest();
        q.done(Fate::Retry); // failing: everything goes to the spool
        assert_eq!(q.oldest().unwrap().timestamp_ms, 0, "in flight, from the spool");
        for ts in 1..20 {
            q.push(big(ts));
            balanced(&q);
        }
        assert!(q.stats.dropped_total() > 0, "the cap dropped the oldest segments");
        q.done(Fate::Delivered);
        balanced(&q);
        assert_eq!(q.stats.delivered, 1);
        while q.oldest().is_some() {
            q.done(Fate::Delivered);
            balanced(&q);
        }
        assert_eq!(q.stats.added, q.stats.delivered + q.stats.dropped_total());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// See: issue 14, case 3. An append that fails after the cap (or a
    /// full disk) has dropped older segments to make room still counts
    /// them, as spool_full, and the batch as spool_error.
    #[test]
    fn a_failed_append_still_counts_the_segments_dropped_for_it() {
        let dir = std::env::temp_dir().join(format!("sonde-queue-failed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (spool, _) = Spool::open(&dir, 10_000).unwrap();
        let mut q = Queue::new(("test", "samples"), 1 << 20, Some(spool));
        q.failing = true;
        let big = |ts| Batch { payload: vec![b'p'; 4000], items: 3, timestamp_ms: ts };
        q.push(big(0));
        q.push(big(1));
        assert_eq!(q.queued(), (0, 6));
        // Where the segment after the first will be: not a file.
        std::fs::create_dir(dir.join(format!("{:016x}.seg", 2))).unwrap();
        q.push(big(2));
        balanced(&q);
        assert_eq!((q.stats.dropped[3], q.stats.dropped[5]), (6, 3), "spool_full, spool_error");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failure_spills_to_the_spool_in_order_and_nothing_is_lost() {
        let dir = std::env::temp_dir().join(format!("sonde-queue-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (spool, _) = Spool::open(&dir, 1 << 20).unwrap();
        let mut q = Queue::new(("test", "samples"), 1 << 20, Some(spool));
        q.push(batch(1, 1));
        q.push(batch(1, 2));
        assert_eq!(q.oldest().unwrap().timestamp_ms, 1);
        q.done(Fate::Retry); // uplink down: all of it to disk
        assert_eq!(q.queued(), (0, 2));
        q.push(batch(1, 3));
        assert_eq!(q.queued(), (0, 3), "while failing, new batches go to the spool");
        let mut order = Vec::new();
        while let Some(b) = q.oldest() {
            order.push(b.timestamp_ms);
            q.done(Fate::Delivered);
            balanced(&q);
        }
        assert_eq!(order, vec![1, 2, 3]);
        q.push(batch(1, 4));
        assert_eq!(q.queued(), (1, 0), "healthy again: memory first");
        balanced(&q);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
