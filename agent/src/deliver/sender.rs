//! Sending what a [`Queue`] holds: one batch in flight at a time, oldest
//! first. The receiver's answer ([`Transport::send`]) decides the batch's
//! fate; a retry waits with backoff and jitter, or as long as the
//! receiver's Retry-After says (within reason); a batch older than the
//! owner's maximum age is dropped, counted, rather than sent to a receiver
//! that would refuse the whole request for it.
//!
//! The log says a failure once when it starts, once when it ends, and a
//! receiver that refuses this box for good (misconfigured) loudly once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use super::{Answer, Batch, DropReason, Fate, Queue, Transport};
use crate::sys::log;
use crate::sys::time::{now_ms, Backoff, Deadline, Stop};

/// Sends batches for one receiver; owns the backoff.
pub struct Sender<T> {
    transport: T,
    /// In the log: the owner ("push") and what it counts ("samples").
    what: (&'static str, &'static str),
    max_age: Duration,
    backoff: Backoff,
    /// The last status shouted about, so a lasting problem is said once.
    shouted: Option<u16>,
}

impl<T: Transport> Sender<T> {
    pub fn new(
        transport: T,
        what: (&'static str, &'static str),
        max_age: Duration,
        min_backoff: Duration,
        max_backoff: Duration,
    ) -> Sender<T> {
        Sender { transport, what, max_age, backoff: Backoff::new(min_backoff, max_backoff), shouted: None }
    }

    /// Tries the batch once, and counts the attempt in `queue`'s stats.
    /// Returns its fate and, for a retry, how long to wait first.
    pub fn attempt(&mut self, b: &Batch, queue: &Mutex<Queue>) -> (Fate, Duration) {
        let now = now_ms();
        if now.saturating_sub(b.timestamp_ms) > self.max_age.as_millis() as i64 {
            return (Fate::Dropped(DropReason::TooOld), Duration::ZERO);
        }
        let Answer { fate, retry_after, status, said: body, misconfigured } = self.transport.send(b);
        let (what, units, target) = (self.what.0, self.what.1, self.transport.target());
        if misconfigured && self.shouted != Some(status) {
            let body = if body.is_empty() { String::new() } else { format!(": {body}") };
            log::error!("{what}: {target} answered {status}; keeping the data and retrying until it accepts it{body}");
            self.shouted = Some(status);
        }
        let said = if status == 0 { body } else { format!("{status} {body}") };
        if let Fate::Dropped(_) = fate {
            log::warn!("{what}: {target} refused a batch of {} {units}: {said}; dropped", b.items);
        }
        {
            let mut q = queue.lock().unwrap_or_else(PoisonError::into_inner);
            q.stats.requests += 1;
            q.stats.bytes_sent += b.payload.len() as u64;
            q.stats.last_status = status;
            if fate == Fate::Delivered {
                q.stats.last_success_ms = now;
            }
        }
        if fate == Fate::Retry {
            if self.shouted.is_none() && !self.backoff.is_backing_off() {
                log::warn!("{what}: {target}: {said}; retrying");
            }
            let wait = self.backoff.after_failure();
            // The receiver's own word wins, within reason.
            let cap = self.backoff.max().max(Duration::from_secs(1));
            return (fate, retry_after.map_or(wait, |r| r.min(cap)));
        }
        let was_failing = self.shouted.take().is_some() || self.backoff.is_backing_off();
        if was_failing && fate == Fate::Delivered {
            log::info!("{what}: {target} accepts batches again");
        }
        self.backoff.reset();
        (fate, Duration::ZERO)
    }

    /// Nothing is queued: the transport's own periodic work
    /// ([`Transport::idle`]).
    pub fn idle(&mut self) {
        self.transport.idle();
    }

    /// Once mode: sends what is queued, oldest first, until it is all gone
    /// or the receiver stops accepting (the next run tries again; no
    /// waiting here).
    pub fn drain(&mut self, queue: &Mutex<Queue>) {
        loop {
            let batch = queue.lock().unwrap_or_else(PoisonError::into_inner).oldest().cloned();
            let Some(batch) = batch else { break };
            let (fate, _) = self.attempt(&batch, queue);
            queue.lock().unwrap_or_else(PoisonError::into_inner).done(fate);
            if fate == Fate::Retry {
                break;
            }
        }
    }
}

/// A queue with its sending thread: what a service that delivers runs.
pub struct Outbox {
    queue: Arc<Mutex<Queue>>,
    /// Wakes the sender when batches are added, and ends it.
    bell: Stop,
    sending: Arc<AtomicBool>,
    /// Held by the sending thread from its last look at `sending` until
    /// the fate of the batch it sent is recorded. [`Outbox::close`] takes
    /// it after clearing `sending`, so a stop never keeps (spools) a batch
    /// whose request is in flight: the receiver may already have accepted
    /// it, and the next run would send it again. A stop during a backoff
    /// therefore either lets the request finish and records it, or sends
    /// nothing.
    turn: Arc<Mutex<()>>,
    /// Not joined at a close: waiting for `turn` is enough (a request in
    /// flight is over, and the thread sends nothing more).
    _thread: thread::JoinHandle<()>,
}

impl Outbox {
    /// Starts the sending thread, named `name`.
    pub fn start<T: Transport + 'static>(name: &str, queue: Queue, mut sender: Sender<T>) -> std::io::Result<Outbox> {
        let queue = Arc::new(Mutex::new(queue));
        let bell = Stop::new();
        let sending = Arc::new(AtomicBool::new(true));
        let turn = Arc::new(Mutex::new(()));
        let (q, st, going, my_turn) = (Arc::clone(&queue), bell.clone(), Arc::clone(&sending), Arc::clone(&turn));
        let thread = thread::Builder::new().name(name.into()).spawn(move || {
            let mut wait = Duration::ZERO;
            while going.load(Ordering::Acquire) {
                // A backoff is not cut short by new batches, only by the end.
                if !wait.is_zero() && st.sleep_through(wait) && !going.load(Ordering::Acquire) {
                    return;
                }
                let held = my_turn.lock().unwrap_or_else(PoisonError::into_inner);
                if !going.load(Ordering::Acquire) {
                    return;
                }
                let batch = q.lock().unwrap_or_else(PoisonError::into_inner).oldest().cloned();
                let Some(batch) = batch else {
                    drop(held);
                    // Nothing to send: the transport's own work, then
                    // sleep until a batch is added.
                    sender.idle();
                    st.sleep(Duration::from_secs(1));
                    wait = Duration::ZERO;
                    continue;
                };
                let (fate, after) = sender.attempt(&batch, &q);
                q.lock().unwrap_or_else(PoisonError::into_inner).done(fate);
                drop(held);
                wait = after;
            }
        })?;
        Ok(Outbox { queue, bell, sending, turn, _thread: thread })
    }

    pub fn queue(&self) -> &Arc<Mutex<Queue>> {
        &self.queue
    }

    /// Adds batches, newest last, and wakes the sender.
    pub fn add(&self, batches: impl IntoIterator<Item = Batch>) {
        {
            let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            batches.into_iter().for_each(|b| q.push(b));
        }
        self.bell.wake();
    }

    /// Gives the sender `grace` to deliver what is queued (unless the
    /// receiver is failing), then ends it and keeps the rest: spooled, or
    /// counted as dropped where there is no spool. A request in flight
    /// is let finish (its transport's timeout bounds it) and its batch's
    /// fate recorded first.
    pub fn close(&self, grace: Duration) {
        let deadline = Deadline::after(grace);
        while !deadline.passed() {
            let q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let (memory, spooled) = q.queued();
            if memory + spooled == 0 || q.is_failing() {
                break;
            }
            drop(q);
            thread::sleep(Duration::from_millis(20));
        }
        self.sending.store(false, Ordering::Release);
        self.bell.stop();
        drop(self.turn.lock().unwrap_or_else(PoisonError::into_inner));
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).shutdown();
    }
}
