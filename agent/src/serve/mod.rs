//! The HTTP endpoint: `GET /metrics`, `GET /probe`, `GET /`, and nothing
//! else.
//!
//! Threads: the main thread waits with epoll on the listening sockets,
//! the signal pipe and every connection whose request head has not
//! arrived yet ([`waiting`]); it accepts as soon as a client connects, and
//! hands a connection to a pool of threads with small stacks ([`pool`])
//! only once its head is whole. So clients that connect and send nothing,
//! or trickle their head, cost a file descriptor each and no thread, up to
//! [`MAX_OPEN_CONNECTIONS`] (past which the one that has waited longest is
//! answered 408 for each new one), and a scraper that sends its request at
//! once is served at once while at most [`MAX_CONNECTIONS`] requests are
//! being answered. `/probe` takes at most
//! [`MAX_PROBES`](crate::limits::MAX_PROBES) of those threads,
//! so `/metrics` always has the others.
//!
//! A connection carries one request at a time ([`http`]), and is kept
//! alive for the next when the client wants it (HTTP/1.1): the main loop
//! waits for that one's head as for a new connection's. `/metrics` is the
//! agent's scrape, `/probe` one check ([`probe`]). Files: this one holds
//! the accept loop, the signals and the reload; [`waiting`] the
//! connections waiting for their head; [`pool`] the connection threads;
//! [`http`] a request and its response.
//!
//! Signals: SIGTERM and SIGINT stop accepting, give responses in flight
//! [`STOP_GRACE`] to finish, and return. SIGHUP reloads the config through
//! the caller's function; a config that does not load, or whose new
//! listen addresses cannot be bound, leaves the running one in place and
//! says why on stderr.

pub mod http;
mod pool;
pub mod probe;
mod waiting;

use std::io;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

use crate::agent::Agent;
use crate::config::Config;
use crate::limits::{MAX_CONNECTIONS, MAX_OPEN_CONNECTIONS, STOP_GRACE};
use crate::sys::log;
use crate::sys::net::{self, Listen, Poller, Ready};
use crate::sys::signal;
use crate::sys::time::Deadline;
pub use http::CONTENT_TYPE_METRICS;
use pool::{Job, Pool};
use waiting::{Look, Waiting, FIRST_TOKEN};

/// The epoll token of the signal pipe; listener `i` is `LISTENERS + i`.
const SIGNALS: u64 = 0;
const LISTENERS: u64 = 1;

/// Descriptors kept for everything but the endpoint's connections: the
/// spool, the collectors' files, the checks' sockets.
const OTHER_FILES: u64 = 128;

/// Connections accepted in one turn of the loop, so a flood of them does
/// not keep the loop from the signals and the deadlines.
const ACCEPTS_PER_TURN: usize = 64;

/// The endpoint, bound and with its signal handlers installed, before the
/// agent starts: so a second sonde on the same address stops here, before
/// it has pushed or touched a spool.
pub struct Endpoint {
    signals: signal::Signals,
    listeners: Vec<TcpListener>,
}

impl Endpoint {
    /// Installs the signal handlers and binds every address of `listen`.
    pub fn bind(listen: &[Listen]) -> Result<Endpoint, String> {
        let signals = signal::Signals::install().map_err(|e| format!("cannot install signal handlers: {e}"))?;
        Ok(Endpoint { signals, listeners: bind_all(listen)? })
    }

    /// Serves until SIGTERM or SIGINT. `reload` is called on SIGHUP, and a
    /// config it returns goes to the agent.
    pub fn run(self, shared: Arc<Agent>, reload: &dyn Fn() -> Result<Config, String>) -> Result<(), String> {
        let Endpoint { signals, listeners } = self;
        let poll_error = |e: io::Error| format!("epoll: {e}");
        let mut l = Loop {
            poller: Poller::new().map_err(poll_error)?,
            listeners,
            listening: false,
            waiting: Waiting::new(),
            pool: Pool::new(),
            max_open: max_open(),
        };
        l.poller.add(signals.fd(), SIGNALS, false).map_err(poll_error)?;
        l.listen(true);
        let mut ready = Vec::new();
        let mut pause_until: Option<Deadline> = None;
        'serving: loop {
            let next = [l.waiting.next_deadline(), pause_until].into_iter().flatten().min();
            l.poller.wait(&mut ready, next.map_or(-1, wait_ms)).map_err(poll_error)?;
            for &Ready { token, hangup } in &ready {
                match token {
                    SIGNALS => {
                        let events = signals.drain();
                        if let Some(sig) = events.stop {
                            log::info!("{}, stopping", signal::name(sig));
                            break 'serving;
                        }
                        if events.reload {
                            l.reload_config(&shared, reload);
                        }
                    }
                    t if t < FIRST_TOKEN => {
                        if let Err(e) = l.accept((t - LISTENERS) as usize, &shared) {
                            // EMFILE, ENFILE, ENOBUFS: the listener stays
                            // readable, so pause instead of spinning.
                            log::warn!("accept: {e}");
                            l.listen(false);
                            pause_until = Some(Deadline::after(Duration::from_millis(100)));
                        }
                    }
                    t => {
                        if let Look::Arrived(stream, deadline) = l.waiting.readable(t, hangup, &l.poller) {
                            l.pool.dispatch(Job { stream, deadline }, &shared);
                        }
                    }
                }
            }
            // Connections kept alive after their response wait here again.
            for stream in l.pool.take_kept() {
                if let Some((stream, deadline)) = l.waiting.kept(stream, &l.poller) {
                    l.pool.dispatch(Job { stream, deadline }, &shared);
                }
            }
            l.waiting.expire(&l.poller);
            if pause_until.is_some_and(Deadline::passed) {
                pause_until = None;
            }
            // Listening again once there is room, and no pause.
            if pause_until.is_none() && !l.listening && l.held() < l.max_open {
                l.listen(true);
            }
        }
        l.waiting.clear(&l.poller);
        drop(l.listeners);
        let deadline = Deadline::after(STOP_GRACE);
        while l.pool.busy() > 0 && !deadline.passed() {
            // Kept alive for a next request that will not be served.
            drop(l.pool.take_kept());
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }
}

/// The main loop's state.
struct Loop {
    poller: Poller,
    listeners: Vec<TcpListener>,
    /// Whether the listeners are watched (not while full or pausing).
    listening: bool,
    waiting: Waiting,
    pool: Pool,
    max_open: usize,
}

impl Loop {
    /// Connections open: waiting for their head, queued or served.
    fn held(&self) -> usize {
        self.waiting.len() + self.pool.busy()
    }

    /// Watches the listeners, or stops watching them (they stay bound; new
    /// clients wait in the kernel's accept queue).
    fn listen(&mut self, on: bool) {
        if on == self.listening {
            return;
        }
        for (i, listener) in self.listeners.iter().enumerate() {
            let fd = listener.as_raw_fd();
            let done = if on { self.poller.add(fd, LISTENERS + i as u64, false) } else { self.poller.remove(fd) };
            if let Err(e) = done {
                log::warn!("epoll: {e}");
            }
        }
        self.listening = on;
    }

    /// Accepts what listener `i` has waiting, up to [`ACCEPTS_PER_TURN`].
    /// Err: accept failed for want of resources.
    fn accept(&mut self, i: usize, shared: &Arc<Agent>) -> io::Result<()> {
        for _ in 0..ACCEPTS_PER_TURN {
            if self.held() >= self.max_open && !self.waiting.give_up_oldest(&self.poller) {
                // Every connection held is being served or queued: the
                // next finished one makes room.
                self.pool.wake_when_one_finishes();
                self.listen(false);
                return Ok(());
            }
            let Some(listener) = self.listeners.get(i) else { return Ok(()) };
            match listener.accept() {
                Ok((stream, _)) => {
                    if let Some((stream, deadline)) = self.waiting.accepted(stream, &self.poller) {
                        self.pool.dispatch(Job { stream, deadline }, shared);
                    }
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => return Ok(()),
                // The client gave up before the accept: nothing to do.
                Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn reload_config(&mut self, shared: &Arc<Agent>, reload: &dyn Fn() -> Result<Config, String>) {
        let was = self.listening;
        self.listen(false);
        reload_config(shared, &mut self.listeners, reload);
        if was {
            self.listen(true);
        }
    }
}

/// The connections the endpoint may hold open: [`MAX_OPEN_CONNECTIONS`],
/// or fewer where the hard limit of open files is lower.
fn max_open() -> usize {
    let want = MAX_OPEN_CONNECTIONS as u64 + OTHER_FILES;
    let limit = net::raise_open_files(want);
    if limit < want {
        let n = limit.saturating_sub(OTHER_FILES).max(MAX_CONNECTIONS as u64 * 2);
        log::warn!(
            "the limit of open files is {limit}: at most {n} connections held at once, not {MAX_OPEN_CONNECTIONS}"
        );
        return n as usize;
    }
    MAX_OPEN_CONNECTIONS
}

/// Milliseconds until `d`, rounded up, for epoll_wait.
fn wait_ms(d: Deadline) -> i32 {
    d.left().map_or(0, |left| i32::try_from(left.as_millis() + 1).unwrap_or(i32::MAX))
}

fn reload_config(shared: &Arc<Agent>, listeners: &mut Vec<TcpListener>, reload: &dyn Fn() -> Result<Config, String>) {
    let new = match reload() {
        Ok(c) => c,
        Err(e) => {
            log::error!("SIGHUP: the config has errors, the running one stays:\n{e}");
            return;
        }
    };
    let current = shared.config();
    if new.listen != current.listen {
        // Close the old sockets first, so the new set may reuse a port.
        listeners.clear();
        match bind_all(&new.listen) {
            Ok(l) => *listeners = l,
            Err(e) => {
                log::error!("SIGHUP: {e}; the running config stays");
                match bind_all(&current.listen) {
                    Ok(l) => *listeners = l,
                    Err(e) => log::error!("cannot listen again on the old addresses: {e}"),
                }
                return;
            }
        }
    }
    shared.reload(new);
    log::info!("SIGHUP: config reloaded");
}

/// Binds every address of `listen`; the error says which address failed.
/// Of an `:PORT` pair, a family the box does not have is skipped.
fn bind_all(listen: &[Listen]) -> Result<Vec<TcpListener>, String> {
    let mut out = Vec::new();
    for l in listen {
        let mut bound = 0;
        let mut skipped = Vec::new();
        for (addr, may_fail) in l.addrs() {
            match net::listen(addr) {
                Ok(listener) => {
                    let shown = listener.local_addr().map_or(addr, |a| a);
                    log::info!("listening on http://{shown}/metrics");
                    out.push(listener);
                    bound += 1;
                }
                Err(e) if may_fail && family_missing(&e) => skipped.push(format!("{addr}: {e}")),
                Err(e) => return Err(format!("cannot listen on {addr}: {e}")),
            }
        }
        if bound == 0 {
            return Err(format!("cannot listen on {l}: {}", skipped.join("; ")));
        }
    }
    Ok(out)
}

/// The error of binding an address family the kernel or interfaces lack.
fn family_missing(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EAFNOSUPPORT | libc::EADDRNOTAVAIL | libc::EPROTONOSUPPORT))
}
