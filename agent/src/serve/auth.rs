//! The endpoint's gate, in the order a request meets it: the allow list
//! (at accept, before a byte is read: a peer outside it is closed, as
//! Monit closes one), then web-config.yml's rate limit (429), then its
//! basic auth (401 with `WWW-Authenticate: Basic`), unless the path is
//! one of `[server] open_paths`. The file's headers go on every response.
//!
//! bcrypt is the cost an attacker can make sonde pay, so it is bounded
//! three ways: verifications run one at a time (one core at most, as
//! exporter-toolkit serialises them), credentials that verified are
//! cached (a scrape every 15 s costs one bcrypt per file version, not one
//! per scrape), and the rate limit, when the file sets one, refuses
//! before any bcrypt. A user the file does not name is checked against a
//! dummy hash of the same cost, so the answer's timing does not say which
//! users exist.
//!
//! The file and the TLS files it names are looked at (stat) on each
//! request and the file read again when one of them changed (a renewed
//! certificate takes effect without a restart); a version that does not parse is reported once and the one in
//! force stays.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime};

use crate::config::web::{self, RateLimit, Web, WebFile};
use crate::config::Config;
use crate::sys::log;
use crate::wire::bcrypt::Hash;
use crate::wire::http::basic_credentials;

/// Verified credentials kept, newest last.
const CACHE: usize = 16;

/// Longest `Authorization` value looked at; a longer one is refused
/// unread (`user:password` of 72-byte passwords fits many times).
const MAX_CREDENTIALS: usize = 1024;

/// Whether a peer may talk to the endpoint at all.
pub(super) fn admitted(peer: &SocketAddr, config: &Config) -> bool {
    let ok = config.allow.is_empty() || config.allow.iter().any(|c| c.contains(peer.ip()));
    if !ok {
        log::debug!("{}: not in [server] allow, closed", peer.ip());
    }
    ok
}

/// Why a request is not served, as the response says it.
pub(super) struct Denied {
    pub status: u16,
    pub reason: &'static str,
    pub body: &'static [u8],
    pub headers: &'static [(&'static str, &'static str)],
}

const UNAUTHORIZED: Denied =
    Denied { status: 401, reason: "Unauthorized", body: b"Unauthorized\n", headers: &[("WWW-Authenticate", "Basic")] };

const TOO_MANY: Denied =
    Denied { status: 429, reason: "Too Many Requests", body: b"Too Many Requests\n", headers: &[] };

/// The gate for one request whose head was read.
pub(super) fn gate(path: &str, headers: &[httparse::Header<'_>], config: &Config) -> Result<(), Denied> {
    let Some(web) = current(config) else { return Ok(()) };
    if let Some(limit) = web.rate_limit {
        if !take_token(limit) {
            return Err(TOO_MANY);
        }
    }
    if web.users.is_empty() || config.open_paths.iter().any(|p| p == path) {
        return Ok(());
    }
    let value = headers.iter().find(|h| h.name.eq_ignore_ascii_case("Authorization")).map(|h| h.value);
    match value {
        Some(v) if authorized(&web, v) => Ok(()),
        _ => Err(UNAUTHORIZED),
    }
}

/// The TLS configuration of the web-config in force, if it asks for TLS.
#[cfg(feature = "tls")]
pub(super) fn tls(config: &Config) -> Option<Arc<rustls::ServerConfig>> {
    current(config)?.tls_built.as_ref().map(|b| Arc::clone(&b.0))
}

/// Calls `each` with every header the file adds to responses.
pub(super) fn headers(mut each: impl FnMut(&str, &str)) {
    let web = lock(&STATE).web.clone();
    for (name, value) in web.iter().flat_map(|w| w.headers.iter()) {
        each(name, value);
    }
}

/// The gate's memory across requests: the file in force, the bucket, and
/// the credentials that verified against it.
struct State {
    path: Option<std::path::PathBuf>,
    /// The stamp of the version in force, and of one that failed to parse.
    stamp: Option<(SystemTime, u64)>,
    failed: Option<(SystemTime, u64)>,
    web: Option<Arc<Web>>,
    tokens: f64,
    last: Option<Instant>,
    cache: Vec<Vec<u8>>,
}

static STATE: Mutex<State> =
    Mutex::new(State { path: None, stamp: None, failed: None, web: None, tokens: 0.0, last: None, cache: Vec::new() });

/// Held while bcrypt runs: one verification at a time.
static BCRYPT: Mutex<()> = Mutex::new(());

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The web-config in force: the config's, or a newer version of its file.
fn current(config: &Config) -> Option<Arc<Web>> {
    let Some(file) = &config.web else {
        let mut st = lock(&STATE);
        if st.path.is_some() {
            *st =
                State { path: None, stamp: None, failed: None, web: None, tokens: 0.0, last: None, cache: Vec::new() };
        }
        return None;
    };
    let mut st = lock(&STATE);
    if st.path.as_ref() != Some(&file.path) {
        // A new file (start, or a reload that names another).
        take(&mut st, file);
    }
    let now = web::stamp_with_tls(&file.path, st.web.as_deref());
    if now.is_some() && now != st.stamp && now != st.failed {
        // Read under the lock: requests wait for one read rather than
        // each reading it; the file is small and this happens once per
        // change.
        match web::load(&file.path) {
            Ok(new) => {
                log::info!("{}: read again, it changed", file.path.display());
                take(&mut st, &new);
                st.stamp = now;
            }
            Err(errors) => {
                let text: Vec<String> =
                    errors.iter().map(|(l, m)| format!("{}:{l}: {m}", file.path.display())).collect();
                log::error!(
                    "{} changed and has errors; the version read before stays:\n{}",
                    file.path.display(),
                    text.join("\n")
                );
                st.failed = now;
            }
        }
    }
    st.web.clone()
}

fn take(st: &mut State, file: &WebFile) {
    st.path = Some(file.path.clone());
    st.stamp = file.stamp;
    st.failed = None;
    st.tokens = file.web.rate_limit.map_or(0.0, |l| f64::from(l.burst));
    st.last = None;
    st.web = Some(Arc::clone(&file.web));
    st.cache.clear();
}

/// A token bucket (golang.org/x/time/rate's, as the toolkit uses): full at
/// `burst`, one token back every `interval`.
fn take_token(limit: RateLimit) -> bool {
    let mut st = lock(&STATE);
    let now = Instant::now();
    if let Some(last) = st.last {
        let earned = now.duration_since(last).as_secs_f64() / limit.interval.as_secs_f64().max(1e-9);
        st.tokens = (st.tokens + earned).min(f64::from(limit.burst));
    }
    st.last = Some(now);
    if st.tokens >= 1.0 {
        st.tokens -= 1.0;
        true
    } else {
        false
    }
}

fn authorized(web: &Web, value: &[u8]) -> bool {
    if value.len() > MAX_CREDENTIALS {
        return false;
    }
    if lock(&STATE).cache.iter().any(|c| c == value) {
        return true;
    }
    let mut buf = [0u8; MAX_CREDENTIALS];
    let Some((user, password)) = basic_credentials(value, &mut buf) else { return false };
    let known = web.users.iter().find(|(name, _)| name.as_bytes() == user).map(|(_, h)| *h);
    // An unknown user costs what a known one does.
    let dummy = Hash { cost: web.users.first().map_or(10, |(_, h)| h.cost), salt: [0x5a; 16], hash: [0; 23] };
    let ok = {
        let _one = lock(&BCRYPT);
        let verified = known.unwrap_or(dummy).verify(password);
        verified && known.is_some()
    };
    if ok {
        let mut st = lock(&STATE);
        // Only if the file did not change meanwhile: a cache entry is
        // for the version that verified it.
        if st.web.as_ref().is_some_and(|w| std::ptr::eq(w.as_ref(), web)) {
            if st.cache.len() == CACHE {
                st.cache.remove(0);
            }
            st.cache.push(value.to_vec());
        }
    }
    ok
}
