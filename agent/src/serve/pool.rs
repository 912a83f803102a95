//! The connection threads: at most [`MAX_CONNECTIONS`], started on demand
//! and kept for the next request, so a scrape costs no thread creation and
//! the number of threads stays bounded.
//!
//! A connection comes here only once its request head has arrived (the
//! main loop waits for that), so a thread is never held by a client that
//! has not asked for anything yet.
//!
//! The accounting is right by construction: the main loop alone starts
//! threads, and counts the requests it hands over that are not finished
//! yet (`busy`: queued or being served). It starts a thread whenever
//! `busy` exceeds the threads there are, up to the bound, so there are
//! always at least `min(busy, MAX_CONNECTIONS)` threads; each serves one
//! request at a time and takes the next from the queue before it waits,
//! so a queued request waits only while every thread is serving another.
//! No thread is ever "promised" a request: whichever comes first takes it.
//!
//! A connection kept alive after its response goes back to the main loop
//! ([`Pool::take_kept`]), which waits for its next request as for a new
//! connection's.

use std::collections::VecDeque;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;

use super::http::serve_connection;
use crate::agent::Agent;
use crate::limits::{CONNECTION_STACK, MAX_CONNECTIONS};
use crate::sys::time::Deadline;
use crate::sys::{log, signal};

/// A connection whose request head has arrived, and the deadline by which
/// the rest of it must be read.
pub(super) struct Job {
    pub stream: TcpStream,
    pub deadline: Deadline,
}

/// The threads, owned by the main loop.
pub(super) struct Pool {
    shared: Arc<Shared>,
    threads: usize,
}

struct Shared {
    queue: Mutex<VecDeque<Job>>,
    ready: Condvar,
    /// Requests handed over and not finished: queued or being served.
    busy: AtomicUsize,
    /// The main loop stopped accepting until a request finishes; the
    /// thread that finishes one wakes it.
    waiting_for_room: AtomicBool,
    /// Connections kept alive after their request, for the main loop to
    /// wait on again (it is woken for each).
    kept: Mutex<Vec<TcpStream>>,
}

impl Pool {
    pub(super) fn new() -> Pool {
        let shared = Shared {
            queue: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            busy: AtomicUsize::new(0),
            waiting_for_room: AtomicBool::new(false),
            kept: Mutex::new(Vec::new()),
        };
        Pool { shared: Arc::new(shared), threads: 0 }
    }

    /// Requests handed over and not finished.
    pub(super) fn busy(&self) -> usize {
        self.shared.busy.load(Ordering::Acquire)
    }

    /// The connections kept alive since the last call; from here on they
    /// are the caller's to count, no longer [`Pool::busy`].
    pub(super) fn take_kept(&self) -> Vec<TcpStream> {
        let kept = std::mem::take(&mut *lock(&self.shared.kept));
        self.shared.busy.fetch_sub(kept.len(), Ordering::AcqRel);
        kept
    }

    /// Asks the thread that finishes the next request to wake the main
    /// loop (through the signal pipe).
    pub(super) fn wake_when_one_finishes(&self) {
        self.shared.waiting_for_room.store(true, Ordering::Release);
    }

    /// Hands a connection over: queued, then taken by the first thread
    /// free; a thread is started if every one there is has a request.
    pub(super) fn dispatch(&mut self, job: Job, agent: &Arc<Agent>) {
        let busy = self.shared.busy.fetch_add(1, Ordering::AcqRel) + 1;
        lock(&self.shared.queue).push_back(job);
        self.shared.ready.notify_one();
        if self.threads >= busy.min(MAX_CONNECTIONS) {
            return;
        }
        let (shared, agent) = (Arc::clone(&self.shared), Arc::clone(agent));
        let spawned = thread::Builder::new()
            .name("sonde-http".into())
            .stack_size(CONNECTION_STACK)
            .spawn(move || work(&shared, &agent));
        match spawned {
            Ok(_) => self.threads += 1,
            Err(e) => {
                log::error!("cannot start a connection thread: {e}");
                if self.threads == 0 {
                    // Nobody would ever take the queued connections.
                    let dropped = std::mem::take(&mut *lock(&self.shared.queue));
                    self.shared.busy.fetch_sub(dropped.len(), Ordering::AcqRel);
                }
            }
        }
    }
}

fn work(shared: &Shared, agent: &Agent) {
    loop {
        let job = {
            let mut queue = lock(&shared.queue);
            loop {
                if let Some(job) = queue.pop_front() {
                    break job;
                }
                queue = shared.ready.wait(queue).unwrap_or_else(PoisonError::into_inner);
            }
        };
        let kept = serve_connection(job.stream, job.deadline, agent);
        let back = kept.is_some();
        // A kept connection stays counted busy until the main loop takes
        // it, so it is never out of both counts of open connections.
        match kept {
            Some(stream) => lock(&shared.kept).push(stream),
            None => {
                shared.busy.fetch_sub(1, Ordering::AcqRel);
            }
        }
        if shared.waiting_for_room.swap(false, Ordering::AcqRel) || back {
            signal::wake();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
