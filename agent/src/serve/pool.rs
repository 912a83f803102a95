//! The connection threads: started on demand, at most
//! [`MAX_CONNECTIONS`], and kept waiting for the next connection once
//! started, so a scrape costs no thread creation and the number of threads
//! stays bounded.

use std::collections::VecDeque;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;

use super::http::serve_connection;
use crate::agent::Agent;
use crate::limits::{CONNECTION_STACK, MAX_CONNECTIONS};
use crate::sys::{log, signal};

/// Connection threads. Started on demand, at most [`MAX_CONNECTIONS`],
/// and kept waiting for the next connection once started: a scrape then
/// costs no thread creation, and the number of threads stays bounded.
pub(super) struct Pool {
    state: Mutex<PoolState>,
    ready: Condvar,
}

struct PoolState {
    queue: VecDeque<TcpStream>,
    /// Threads waiting for a connection that no queued one is promised to.
    idle: usize,
    threads: usize,
}

impl Pool {
    pub(super) fn new() -> Arc<Pool> {
        Arc::new(Pool {
            state: Mutex::new(PoolState { queue: VecDeque::new(), idle: 0, threads: 0 }),
            ready: Condvar::new(),
        })
    }

    /// Queues an accepted connection, and wakes or starts a thread for it.
    pub(super) fn dispatch(self: &Arc<Self>, stream: TcpStream, shared: &Arc<Agent>, active: &Arc<AtomicUsize>) {
        active.fetch_add(1, Ordering::AcqRel);
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.queue.push_back(stream);
        if st.idle > 0 {
            st.idle -= 1;
            drop(st);
            self.ready.notify_one();
        } else if st.threads < MAX_CONNECTIONS {
            st.threads += 1;
            drop(st);
            let (pool, shared, active2) = (Arc::clone(self), Arc::clone(shared), Arc::clone(active));
            let spawned = thread::Builder::new()
                .name("sonde-http".into())
                .stack_size(CONNECTION_STACK)
                .spawn(move || pool.work(&shared, &active2));
            if let Err(e) = spawned {
                log::error!("cannot start a connection thread: {e}");
                let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                st.threads -= 1;
                if st.threads == 0 {
                    // Nobody would ever take the queued connections.
                    let dropped = st.queue.len();
                    st.queue.clear();
                    active.fetch_sub(dropped, Ordering::AcqRel);
                }
            }
        }
        // Otherwise every thread is busy; the connection is taken by the
        // first to finish (there are never more than MAX_CONNECTIONS
        // connections queued or in service).
    }

    fn work(&self, shared: &Agent, active: &AtomicUsize) {
        loop {
            let stream = {
                let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                if st.queue.is_empty() {
                    st.idle += 1;
                    while st.queue.is_empty() {
                        st = self.ready.wait(st).unwrap_or_else(PoisonError::into_inner);
                    }
                }
                st.queue.pop_front()
            };
            if let Some(stream) = stream {
                serve_connection(stream, shared);
            }
            // Only a full house stops the main loop from polling the
            // listeners; wake it when this slot ends one.
            if active.fetch_sub(1, Ordering::AcqRel) == MAX_CONNECTIONS {
                signal::wake();
            }
        }
    }
}
