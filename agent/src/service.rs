//! The shape every long-running part of the agent has: checks, push and
//! the watchdog today; notifications and log following next.
//!
//! A service is started from its own settings by the agent (`agent.rs`
//! keeps the list, and says on a reload whether each keeps running or is
//! restarted), runs on threads of its own, publishes a snapshot of its
//! state that a pure function renders into the exposition at every scrape,
//! and stops within a grace. A service knows nothing of HTTP, of the
//! config file or of the other services.
//!
//! Invariants: `render` never waits for the service's work (it reads a
//! snapshot under a short lock), so a slow check or a hung receiver never
//! holds up a scrape; `stop` returns within its grace, leaving a thread
//! that is stuck in a blocking call to end at its own deadline.

use std::thread::JoinHandle;
use std::time::Duration;

use crate::expo::Exposition;
use crate::sys::time::{Deadline, Stop};

/// A running part of the agent.
pub trait Service: Send + Sync {
    /// Its name in logs.
    fn name(&self) -> &'static str;
    /// Writes the families of its latest state.
    fn render(&self, out: &mut Exposition);
    /// Ends its work: says what is left, keeps what must be kept, and
    /// returns within `grace`.
    fn stop(&self, grace: Duration);
    /// A reload kept it running (its settings did not change): the
    /// operator's SIGHUP, for a service that acts on it (the watchdog
    /// resumes what it gave up on).
    fn reloaded(&self) {}
}

/// A service's thread and its stop signal.
pub struct Worker {
    pub stop: Stop,
    handle: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Worker {
    /// Starts `body` on a thread named `name` with a stack of `stack`
    /// bytes; `body` gets the stop signal to sleep on.
    pub fn spawn(name: &str, stack: usize, body: impl FnOnce(Stop) + Send + 'static) -> std::io::Result<Worker> {
        let stop = Stop::new();
        let theirs = stop.clone();
        let handle = std::thread::Builder::new().name(name.into()).stack_size(stack).spawn(move || body(theirs))?;
        Ok(Worker { stop, handle: std::sync::Mutex::new(Some(handle)) })
    }

    /// Signals the stop and waits for the thread at most `grace`; a thread
    /// still busy then (a check blocked until its deadline) is left to end
    /// on its own. True when it ended.
    pub fn stop(&self, grace: Duration) -> bool {
        self.stop.stop();
        let taken = self.handle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        let Some(handle) = taken else { return true };
        let deadline = Deadline::after(grace);
        while !handle.is_finished() {
            let Some(left) = deadline.left() else { return false };
            std::thread::sleep(left.min(Duration::from_millis(5)));
        }
        let _ = handle.join();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleeping_worker_stops_at_once_a_busy_one_is_left() {
        let w = Worker::spawn("t", 64 * 1024, |stop| {
            stop.sleep(Duration::from_secs(600));
        })
        .unwrap();
        assert!(w.stop(Duration::from_secs(10)));
        let w = Worker::spawn("t", 64 * 1024, |_| std::thread::sleep(Duration::from_millis(300))).unwrap();
        assert!(!w.stop(Duration::from_millis(1)));
    }
}
