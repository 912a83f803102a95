//! The HTTP endpoint: `GET /metrics`, `GET /probe`, the status page `/`
//! and `/status.json`, `/-/healthy` and `/-/ready`, and nothing else;
//! behind the allow list and web-config.yml's rate limit and basic auth
//! (`auth.rs`), over TLS when that file asks (`conn.rs`, tls build).
//!
//! Threads: the main thread waits on the listening sockets and the signal
//! pipe with poll(2), accepts, and hands each connection to a pool of
//! connection threads with small stacks, started on demand and kept for
//! the next connection. At most [`MAX_CONNECTIONS`] connections are queued
//! or served at once; while that many are, the listeners are not polled,
//! so further clients wait in the kernel's accept queue instead of costing
//! memory.
//!
//! Each connection carries one request ([`http`]); `/metrics` is the
//! agent's scrape, `/probe` one check ([`probe`]). Files: this one holds
//! the accept loop, the signals and the reload; [`pool`] the connection
//! threads; [`http`] a request and its response.
//!
//! Signals: SIGTERM and SIGINT stop accepting, give responses in flight
//! [`STOP_GRACE`] to finish, and return. SIGHUP reloads the config through
//! the caller's function; a config that does not load, or whose new
//! listen addresses cannot be bound, leaves the running one in place and
//! says why on stderr.

mod auth;
mod conn;
pub mod http;
mod pool;
pub mod probe;
mod status;

use std::io;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::agent::Agent;
use crate::config::Config;
use crate::limits::{MAX_CONNECTIONS, STOP_GRACE};
use crate::sys::log;
use crate::sys::net::{self, Listen};
use crate::sys::signal;
use crate::sys::time::Deadline;
pub use http::CONTENT_TYPE_METRICS;
use pool::Pool;

/// Serves until SIGTERM or SIGINT. `reload` is called on SIGHUP, and a
/// config it returns goes to the agent.
pub fn run(shared: Arc<Agent>, reload: &dyn Fn() -> Result<Config, String>) -> Result<(), String> {
    let signals = signal::Signals::install().map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let mut listeners = bind_all(&shared.config().listen)?;
    let active = Arc::new(AtomicUsize::new(0));
    let pool = Pool::new();
    let mut backoff = false;
    let mut fds = Vec::new();
    let mut ready = Vec::new();
    loop {
        let full = active.load(Ordering::Acquire) >= MAX_CONNECTIONS;
        let accepting = !full && !backoff;
        fds.clear();
        fds.push(signals.fd());
        if accepting {
            fds.extend(listeners.iter().map(|l| l.as_raw_fd()));
        }
        ready.clear();
        ready.resize(fds.len(), false);
        // While full or backing off, wake now and then to look again; a
        // finishing connection also wakes the loop through the pipe.
        let timeout = if accepting { -1 } else { 100 };
        net::wait_readable(&fds, &mut ready, timeout).map_err(|e| format!("poll: {e}"))?;
        backoff = false;

        if ready[0] {
            let events = signals.drain();
            if let Some(sig) = events.stop {
                log::info!("{}, stopping", signal::name(sig));
                break;
            }
            if events.reload {
                reload_config(&shared, &mut listeners, reload);
                continue;
            }
        }
        for (i, listener) in listeners.iter().enumerate() {
            if !ready.get(i + 1).copied().unwrap_or(false) {
                continue;
            }
            // One accept per readiness: a second would mostly say
            // EAGAIN, and more waiting clients make poll return at once.
            if active.load(Ordering::Acquire) >= MAX_CONNECTIONS {
                break;
            }
            match listener.accept() {
                Ok((stream, peer)) if auth::admitted(&peer, &shared.config()) => {
                    pool.dispatch(stream, &shared, &active)
                }
                Ok(_) => shared.denied(crate::agent::Denied::NotAllowed), // closed
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
                Err(e) => {
                    // EMFILE, ENFILE, ENOBUFS: the listener stays
                    // readable, so wait a little instead of spinning.
                    log::warn!("accept: {e}");
                    backoff = true;
                }
            }
        }
    }
    drop(listeners);
    let deadline = Deadline::after(STOP_GRACE);
    while active.load(Ordering::Acquire) > 0 && !deadline.passed() {
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
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
