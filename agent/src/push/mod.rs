//! Push mode: Remote-Write batches out, for boxes no scraper can reach.
//!
//! Every interval, a collection cycle (the same exposition a scrape would
//! serve) becomes one or more batches ([`batch`]), encoded once. The
//! [`Queue`] keeps them in memory, bounded by bytes, and spills them to the
//! [`spool`] only when the uplink fails, at shutdown, and in once mode, so a
//! box with a healthy uplink never writes its flash. One request is in
//! flight at a time, oldest batch first, so every series arrives in order
//! even at a receiver that refuses out-of-order samples.
//!
//! What the receiver says decides a batch's fate (DESIGN.md, Push): 2xx
//! delivered; 5xx, 429 and network errors retried, the same bytes, with
//! exponential backoff, jitter and Retry-After; 400, 409, 413, 415, 422 (and
//! any other 4xx the spec forbids retrying) dropped and counted; 401, 403,
//! 404 and anything unexpected kept and retried while stderr says, loudly,
//! that the receiver is misconfigured. A batch older than `max_age` is
//! dropped and counted rather than sent to a receiver that would refuse the
//! whole request for it.
//!
//! Accounting, the promise this module keeps: every sample collected is
//! delivered, dropped with a reason, or still queued —
//! `collected = delivered + Σ dropped + queued`, at every moment the queue
//! is not locked.
//!
//! Threads (daemon mode): one collecting on the interval, one sending.

pub mod batch;
pub mod http;
pub mod spool;

use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::expo::{Exposition, MetricType};
use crate::sys::log;
use crate::sys::time::{now_ms, Backoff};
use crate::tls::ClientTls;
use batch::{Batch, Builder};
use spool::{Spool, Taken};

/// The `[push]` settings, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub url: String,
    pub interval: Duration,
    pub batch_samples: usize,
    pub memory_cap: usize,
    pub spool: Option<PathBuf>,
    pub spool_cap: u64,
    pub max_age: Duration,
    pub timeout: Duration,
    /// External labels, `instance` and `job` among them.
    pub labels: Vec<(String, String)>,
    /// Extra request headers; never one of the reserved ones.
    pub headers: Vec<(String, String)>,
    pub basic_auth_user: Option<String>,
    pub basic_auth_password_file: Option<PathBuf>,
    pub bearer_token_file: Option<PathBuf>,
    /// For an https URL: whom to trust, and a client certificate.
    pub tls: ClientTls,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl Settings {
    /// Defaults for a push to `url`: those of the config reference.
    pub fn new(url: &str) -> Settings {
        Settings {
            url: url.to_owned(),
            interval: Duration::from_secs(15),
            batch_samples: 2000,
            memory_cap: 1024 * 1024,
            spool: None,
            spool_cap: 16 * 1024 * 1024,
            max_age: Duration::from_secs(3600),
            timeout: Duration::from_secs(30),
            labels: vec![("instance".into(), hostname()), ("job".into(), "sonde".into())],
            headers: Vec::new(),
            basic_auth_user: None,
            basic_auth_password_file: None,
            bearer_token_file: None,
            tls: ClientTls::default(),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
        }
    }
}

/// Headers a configured header may not replace (the spec's four, and the
/// ones sonde computes).
pub const RESERVED_HEADERS: &[&str] = &[
    "content-encoding",
    "content-type",
    "user-agent",
    "x-prometheus-remote-write-version",
    "content-length",
    "host",
    "connection",
    "authorization",
];

/// Why samples were dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drop {
    /// The receiver refused the batch for good (400, 409, 413, 415, 422...).
    Rejected,
    /// Older than `max_age` when its turn came.
    TooOld,
    /// The memory cap was reached and there is no spool.
    MemoryFull,
    /// The spool cap was reached: its oldest segments went.
    SpoolFull,
    /// Still queued in memory when sonde stopped, with no spool to keep them.
    Shutdown,
    /// The spool could not be written (disk full, read-only...).
    SpoolError,
}

const DROPS: [(Drop, &str); 6] = [
    (Drop::Rejected, "rejected"),
    (Drop::TooOld, "too_old"),
    (Drop::MemoryFull, "memory_full"),
    (Drop::SpoolFull, "spool_full"),
    (Drop::Shutdown, "shutdown"),
    (Drop::SpoolError, "spool_error"),
];

/// Counters of the pipe, for the `sonde_push_*` families.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub collected: u64,
    pub delivered: u64,
    pub dropped: [u64; 6],
    pub requests: u64,
    pub retries: u64,
    pub bytes_sent: u64,
    pub last_success_ms: i64,
    /// HTTP status of the last attempt, 0 for a network error.
    pub last_status: u16,
    /// Cycles not collected because the clock was before
    /// [`crate::limits::CLOCK_FLOOR_SECS`].
    pub clock_held: u64,
}

impl Stats {
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }
}

/// What happened to the batch in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Delivered,
    Dropped(Drop),
    /// Keep it and try again later.
    Retry,
}

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
    memory: VecDeque<Batch>,
    memory_bytes: usize,
    memory_cap: usize,
    spool: Option<Spool>,
    inflight: Option<Inflight>,
    /// The last attempt failed: new batches go to the spool.
    failing: bool,
    pub stats: Stats,
}

impl Queue {
    pub fn new(memory_cap: usize, spool: Option<Spool>) -> Queue {
        Queue {
            memory: VecDeque::new(),
            memory_bytes: 0,
            memory_cap,
            spool,
            inflight: None,
            failing: false,
            stats: Stats::default(),
        }
    }

    fn drop_samples(&mut self, why: Drop, samples: u64) {
        if let Some(i) = DROPS.iter().position(|(d, _)| *d == why) {
            self.stats.dropped[i] += samples;
        }
    }

    /// Samples waiting (in flight included) and where.
    pub fn queued(&self) -> (u64, u64) {
        let inflight =
            self.inflight.as_ref().filter(|i| i.from_spool.is_none()).map_or(0, |i| u64::from(i.batch.samples));
        let memory = self.memory.iter().map(|b| u64::from(b.samples)).sum::<u64>() + inflight;
        (memory, self.spool.as_ref().map_or(0, Spool::samples))
    }

    fn queued_bytes(&self) -> (u64, u64) {
        let inflight = self.inflight.as_ref().filter(|i| i.from_spool.is_none()).map_or(0, |i| i.batch.payload.len());
        ((self.memory_bytes + inflight) as u64, self.spool.as_ref().map_or(0, Spool::bytes))
    }

    /// Adds a cycle's batch, newest.
    pub fn push(&mut self, b: Batch) {
        self.stats.collected += u64::from(b.samples);
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
            self.drop_samples(Drop::MemoryFull, u64::from(old.samples));
        }
    }

    fn append_to_spool(&mut self, b: Batch) {
        let Some(spool) = self.spool.as_mut() else { return };
        match spool.append(b.samples, b.timestamp_ms, &b.payload) {
            Ok(dropped) => self.drop_samples(Drop::SpoolFull, dropped),
            Err(e) => {
                log::error!("push: cannot spool a batch: {e}; {} samples dropped", b.samples);
                self.drop_samples(Drop::SpoolError, u64::from(b.samples));
            }
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
                    log::warn!("push: spool: {e}");
                    None
                }
                None => None,
            };
            self.inflight = match from_spool {
                Some(t) => Some(Inflight {
                    batch: Batch { payload: t.payload.clone(), samples: t.samples, timestamp_ms: t.timestamp_ms },
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
                let n = u64::from(i.batch.samples);
                match fate {
                    Fate::Delivered => self.stats.delivered += n,
                    Fate::Dropped(why) => self.drop_samples(why, n),
                    Fate::Retry => {}
                }
                if let (Some(t), Some(spool)) = (i.from_spool.as_ref(), self.spool.as_mut()) {
                    if let Err(e) = spool.ack(t) {
                        log::error!("push: spool: cannot record progress: {e}");
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
            log::warn!("push: {memory} samples not delivered and no spool to keep them");
            self.drop_samples(Drop::Shutdown, memory);
            self.memory.clear();
            self.memory_bytes = 0;
            self.inflight = None;
        }
    }

    /// Writes the `sonde_push_*` families.
    pub fn render(&self, out: &mut Exposition) {
        let s = &self.stats;
        let counters: [(&str, &str, u64); 6] = [
            ("sonde_push_samples_collected_total", "Samples collected for push.", s.collected),
            ("sonde_push_samples_delivered_total", "Samples the receiver accepted.", s.delivered),
            ("sonde_push_requests_total", "Push requests sent.", s.requests),
            ("sonde_push_retries_total", "Push requests that failed and will be retried.", s.retries),
            ("sonde_push_sent_bytes_total", "Bytes of push request bodies sent.", s.bytes_sent),
            (
                "sonde_push_cycles_held_total",
                "Push cycles not collected because the clock was not set yet.",
                s.clock_held,
            ),
        ];
        for (name, help, v) in counters {
            out.family(name, help, MetricType::Counter);
            out.sample(&[], v as f64);
        }
        out.family("sonde_push_samples_dropped_total", "Samples dropped, by reason.", MetricType::Counter);
        for ((_, reason), v) in DROPS.iter().zip(s.dropped) {
            out.sample(&[("reason", reason)], v as f64);
        }
        let (memory, spooled) = self.queued();
        let (memory_bytes, spooled_bytes) = self.queued_bytes();
        out.family(
            "sonde_push_queued_samples",
            "Samples waiting to be pushed, in memory or in the spool.",
            MetricType::Gauge,
        );
        out.sample(&[("where", "memory")], memory as f64);
        out.sample(&[("where", "spool")], spooled as f64);
        out.family("sonde_push_queued_bytes", "Bytes of batches waiting to be pushed.", MetricType::Gauge);
        out.sample(&[("where", "memory")], memory_bytes as f64);
        out.sample(&[("where", "spool")], spooled_bytes as f64);
        out.family(
            "sonde_push_last_success_timestamp_seconds",
            "When a push was last accepted, seconds since the epoch; 0 if never.",
            MetricType::Gauge,
        );
        out.sample(&[], s.last_success_ms as f64 / 1000.0);
        out.family(
            "sonde_push_last_status",
            "HTTP status of the last push attempt; 0 for a network error or none yet.",
            MetricType::Gauge,
        );
        out.sample(&[], f64::from(s.last_status));
    }
}

/// The fate a response gives a batch, and whether it is worth shouting.
pub fn classify(status: u16) -> (Fate, bool) {
    match status {
        200..=299 => (Fate::Delivered, false),
        429 | 500..=599 => (Fate::Retry, false),
        // A receiver that is not (yet) set up for this box: keep the data,
        // the operator will fix the receiver.
        401 | 403 | 404 => (Fate::Retry, true),
        400..=499 => (Fate::Dropped(Drop::Rejected), false),
        _ => (Fate::Retry, true),
    }
}

/// Sends batches for one endpoint; owns the backoff.
pub struct Sender {
    client: http::Client,
    settings: Settings,
    backoff: Backoff,
    /// The last status shouted about, so a lasting problem is said once.
    shouted: Option<u16>,
}

impl Sender {
    pub fn new(settings: &Settings) -> Result<Sender, String> {
        let client = http::Client::new(&settings.url, &settings.tls)?;
        let backoff = Backoff::new(settings.min_backoff, settings.max_backoff);
        Ok(Sender { client, settings: settings.clone(), backoff, shouted: None })
    }

    fn headers(&self) -> io::Result<Vec<(String, String)>> {
        let mut h = vec![
            ("Content-Encoding".to_owned(), "snappy".to_owned()),
            ("Content-Type".to_owned(), "application/x-protobuf".to_owned()),
            ("User-Agent".to_owned(), concat!("sonde/", env!("CARGO_PKG_VERSION")).to_owned()),
            ("X-Prometheus-Remote-Write-Version".to_owned(), "0.1.0".to_owned()),
        ];
        // Secrets are read at each request, so a rotated token is used at
        // once and none sits in argv or the config.
        if let (Some(user), Some(file)) = (&self.settings.basic_auth_user, &self.settings.basic_auth_password_file) {
            let password = std::fs::read_to_string(file)?;
            let pair = format!("{user}:{}", password.trim_end_matches(['\n', '\r']));
            h.push(("Authorization".to_owned(), format!("Basic {}", base64(pair.as_bytes()))));
        } else if let Some(file) = &self.settings.bearer_token_file {
            let token = std::fs::read_to_string(file)?;
            h.push(("Authorization".to_owned(), format!("Bearer {}", token.trim())));
        }
        h.extend(self.settings.headers.iter().cloned());
        Ok(h)
    }

    /// Tries the batch once. Returns its fate and, for a retry, how long
    /// to wait first.
    pub fn attempt(&mut self, b: &Batch, stats: &Mutex<Queue>) -> (Fate, Duration) {
        let now_ms = now_ms();
        if now_ms.saturating_sub(b.timestamp_ms) > self.settings.max_age.as_millis() as i64 {
            return (Fate::Dropped(Drop::TooOld), Duration::ZERO);
        }
        let result = self.headers().and_then(|h| self.client.post(&h, &b.payload, self.settings.timeout));
        let (fate, retry_after, status, said) = match result {
            Ok(r) => {
                let (fate, shout) = classify(r.status);
                let said = format!("{} {}", r.status, r.body);
                if shout && self.shouted != Some(r.status) {
                    log::warn!(
                        "push: {} answered {}; keeping the data and retrying until it accepts it{}",
                        self.settings.url,
                        r.status,
                        if r.body.is_empty() { String::new() } else { format!(": {}", r.body) }
                    );
                    self.shouted = Some(r.status);
                }
                if let Fate::Dropped(_) = fate {
                    log::warn!("push: {} refused a batch of {} samples: {said}; dropped", self.settings.url, b.samples);
                }
                (fate, r.retry_after, r.status, said)
            }
            Err(e) => (Fate::Retry, None, 0, e.to_string()),
        };
        {
            let mut q = stats.lock().unwrap_or_else(PoisonError::into_inner);
            q.stats.requests += 1;
            q.stats.bytes_sent += b.payload.len() as u64;
            q.stats.last_status = status;
            if fate == Fate::Delivered {
                q.stats.last_success_ms = now_ms;
            }
        }
        match fate {
            Fate::Retry => {
                if self.shouted.is_none() && !self.backoff.is_backing_off() {
                    log::warn!("push: {}: {said}; retrying", self.settings.url);
                }
                let wait = self.backoff.after_failure();
                // The receiver's own word wins, within reason.
                let wait = retry_after.map_or(wait, |r| r.min(self.settings.max_backoff.max(Duration::from_secs(1))));
                (fate, wait)
            }
            _ => {
                let was_failing = self.shouted.take().is_some() || self.backoff.is_backing_off();
                if was_failing && fate == Fate::Delivered {
                    log::info!("push: {} accepts batches again", self.settings.url);
                }
                self.backoff.reset();
                (fate, Duration::ZERO)
            }
        }
    }
}

/// Whether the wall clock can stamp samples: a box without a battery-backed
/// clock boots in 1970 (or at its firmware's date) until NTP sets it, and
/// samples stamped then are refused by every receiver, or worse, stored
/// decades away from where anyone looks. `held` remembers whether this was
/// already said, so the log says it once when it starts and once when it
/// ends.
pub fn clock_is_set(now_ms: i64, held: &mut bool) -> bool {
    let set = now_ms >= crate::limits::CLOCK_FLOOR_SECS as i64 * 1000;
    if set == *held {
        *held = !set;
        if set {
            log::info!("push: the clock is set now; collecting again");
        } else {
            log::warn!(
                "push: the clock reads {} s since 1970, before this build; \
                 holding push cycles until it is set (NTP)",
                now_ms / 1000
            );
        }
    }
    set
}

/// The host's name, for the `instance` label.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A running push pipeline (daemon mode).
pub struct Pipeline {
    queue: Arc<Mutex<Queue>>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    sending: Arc<AtomicBool>,
    collector: Mutex<Option<thread::JoinHandle<()>>>,
    /// Not joined at a stop: a request in flight may take its whole
    /// timeout, and its batch is spooled either way.
    _sender: thread::JoinHandle<()>,
    settings: Settings,
    builder: Arc<Mutex<Builder>>,
}

/// Collects one cycle's exposition; the pipeline calls it on its interval.
pub type CollectFn = dyn Fn() -> Vec<u8> + Send + Sync;

impl Pipeline {
    /// Opens the spool and starts the collecting and sending threads.
    pub fn start(settings: Settings, collect: Arc<CollectFn>) -> Result<Pipeline, String> {
        let queue = Arc::new(Mutex::new(open_queue(&settings)?));
        let mut sender = Sender::new(&settings)?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let sending = Arc::new(AtomicBool::new(true));
        let builder = Arc::new(Mutex::new(Builder::default()));

        let (q, st, s, b) = (Arc::clone(&queue), Arc::clone(&stop), settings.clone(), Arc::clone(&builder));
        let collector = thread::Builder::new()
            .name("sonde-push-collect".into())
            .spawn(move || {
                let mut next = Instant::now();
                let mut held = false;
                loop {
                    if clock_is_set(now_ms(), &mut held) {
                        let exposition = collect();
                        let mut batches = Vec::new();
                        b.lock().unwrap_or_else(PoisonError::into_inner).cycle(
                            &exposition,
                            &s.labels,
                            now_ms(),
                            s.batch_samples,
                            &mut batches,
                        );
                        let mut q = q.lock().unwrap_or_else(PoisonError::into_inner);
                        batches.into_iter().for_each(|b| q.push(b));
                    } else {
                        q.lock().unwrap_or_else(PoisonError::into_inner).stats.clock_held += 1;
                    }
                    st.1.notify_all();
                    next += s.interval;
                    if wait_stop(&st, next.saturating_duration_since(Instant::now())) {
                        return;
                    }
                }
            })
            .map_err(|e| format!("cannot start the push thread: {e}"))?;

        let (q, st, going) = (Arc::clone(&queue), Arc::clone(&stop), Arc::clone(&sending));
        let sender = thread::Builder::new()
            .name("sonde-push-send".into())
            .spawn(move || {
                let mut wait = Duration::ZERO;
                while going.load(Ordering::Acquire) {
                    if !wait.is_zero() && wait_stop(&st, wait) && !going.load(Ordering::Acquire) {
                        return;
                    }
                    let batch = q.lock().unwrap_or_else(PoisonError::into_inner).oldest().cloned();
                    let Some(batch) = batch else {
                        // Nothing to send: sleep until the collector adds.
                        let guard = st.0.lock().unwrap_or_else(PoisonError::into_inner);
                        let _ = st.1.wait_timeout(guard, Duration::from_secs(1));
                        wait = Duration::ZERO;
                        continue;
                    };
                    let (fate, after) = sender.attempt(&batch, &q);
                    q.lock().unwrap_or_else(PoisonError::into_inner).done(fate);
                    wait = after;
                }
            })
            .map_err(|e| format!("cannot start the push thread: {e}"))?;

        Ok(Pipeline {
            queue,
            stop,
            sending,
            collector: Mutex::new(Some(collector)),
            _sender: sender,
            settings,
            builder,
        })
    }

    pub fn queue(&self) -> Arc<Mutex<Queue>> {
        Arc::clone(&self.queue)
    }

    /// Stops collecting, sends the staleness markers and whatever the
    /// sender can deliver within `grace`, then spools the rest.
    pub fn stop(&self, grace: Duration) {
        *self.stop.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.stop.1.notify_all();
        let collector = self.collector.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(c) = collector {
            let _ = c.join();
        }
        let mut batches = Vec::new();
        self.builder.lock().unwrap_or_else(PoisonError::into_inner).stale_all(
            &self.settings.labels,
            now_ms(),
            self.settings.batch_samples,
            &mut batches,
        );
        {
            let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            batches.into_iter().for_each(|b| q.push(b));
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            let (memory, spooled) = self.queue.lock().unwrap_or_else(PoisonError::into_inner).queued();
            let failing = self.queue.lock().unwrap_or_else(PoisonError::into_inner).failing;
            if memory + spooled == 0 || failing {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        self.sending.store(false, Ordering::Release);
        // A request in flight may take its timeout; its batch is in the
        // queue and spooled below either way.
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        q.shutdown();
        let (memory, spooled) = q.queued();
        let s = &q.stats;
        log::info!(
            "push: stopped; {} samples collected, {} delivered, {} dropped, {} spooled, {} lost",
            s.collected,
            s.delivered,
            s.dropped_total(),
            spooled,
            memory
        );
    }
}

impl crate::service::Service for Pipeline {
    fn name(&self) -> &'static str {
        "push"
    }

    fn render(&self, out: &mut Exposition) {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).render(out);
    }

    fn stop(&self, grace: Duration) {
        Pipeline::stop(self, grace);
    }
}

fn open_queue(settings: &Settings) -> Result<Queue, String> {
    let spool = match &settings.spool {
        Some(dir) => {
            let (spool, repairs) = Spool::open(dir, settings.spool_cap)
                .map_err(|e| format!("cannot open the spool {}: {e}", dir.display()))?;
            for (file, at, removed) in repairs.truncated {
                log::warn!(
                    "push: spool: {} was damaged (a power cut?); cut at byte {at}, {removed} bytes removed, the rest kept",
                    file.display()
                );
            }
            Some(spool)
        }
        None => None,
    };
    Ok(Queue::new(settings.memory_cap, spool))
}

/// Returns true if the stop flag was set (now or while waiting).
fn wait_stop(stop: &(Mutex<bool>, Condvar), timeout: Duration) -> bool {
    let guard = stop.0.lock().unwrap_or_else(PoisonError::into_inner);
    let (guard, _) =
        stop.1.wait_timeout_while(guard, timeout, |stopped| !*stopped).unwrap_or_else(PoisonError::into_inner);
    *guard
}

/// What `--once` with push did, for its exit code and stderr.
pub struct OnceReport {
    pub stats: Stats,
    pub queued: u64,
}

/// Once mode: this cycle goes to the spool (if any), then everything
/// spooled is sent oldest first until the receiver stops accepting.
pub fn once(settings: &Settings, exposition: &[u8]) -> Result<OnceReport, String> {
    let queue = Mutex::new(open_queue(settings)?);
    let mut sender = Sender::new(settings)?;
    let mut batches = Vec::new();
    if !clock_is_set(now_ms(), &mut false) {
        // What is spooled from before still goes; this cycle cannot.
        queue.lock().unwrap_or_else(PoisonError::into_inner).stats.clock_held += 1;
    } else {
        Builder::default().cycle(exposition, &settings.labels, now_ms(), settings.batch_samples, &mut batches);
    }
    {
        let mut q = queue.lock().unwrap_or_else(PoisonError::into_inner);
        batches.into_iter().for_each(|b| q.push(b));
        // Once mode keeps the cycle on disk first: if the send fails or
        // the box loses power, the next run still has it.
        q.failing = true;
        q.spill();
        q.failing = false;
    }
    loop {
        let batch = queue.lock().unwrap_or_else(PoisonError::into_inner).oldest().cloned();
        let Some(batch) = batch else { break };
        let (fate, _) = sender.attempt(&batch, &queue);
        queue.lock().unwrap_or_else(PoisonError::into_inner).done(fate);
        if fate == Fate::Retry {
            // The next cron run tries again; no waiting here.
            break;
        }
    }
    let mut q = queue.into_inner().unwrap_or_else(PoisonError::into_inner);
    q.shutdown();
    let (memory, spooled) = q.queued();
    Ok(OnceReport { stats: q.stats.clone(), queued: memory + spooled })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(samples: u32, ts: i64) -> Batch {
        Batch { payload: vec![b'p'; 100], samples, timestamp_ms: ts }
    }

    fn balanced(q: &Queue) {
        let (m, s) = q.queued();
        let st = &q.stats;
        assert_eq!(st.collected, st.delivered + st.dropped_total() + m + s, "{st:?} queued {m}+{s}");
    }

    #[test]
    fn status_codes_decide_the_fate() {
        assert_eq!(classify(204), (Fate::Delivered, false));
        assert_eq!(classify(503), (Fate::Retry, false));
        assert_eq!(classify(429), (Fate::Retry, false));
        for code in [400, 409, 413, 415, 422, 405] {
            assert_eq!(classify(code), (Fate::Dropped(Drop::Rejected), false), "{code}");
        }
        for code in [401, 403, 404] {
            assert_eq!(classify(code), (Fate::Retry, true), "{code}");
        }
    }

    #[test]
    fn memory_only_drops_oldest_at_the_cap_and_stays_balanced() {
        let mut q = Queue::new(350, None);
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

    #[test]
    fn a_failure_spills_to_the_spool_in_order_and_nothing_is_lost() {
        let dir = std::env::temp_dir().join(format!("sonde-queue-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (spool, _) = Spool::open(&dir, 1 << 20).unwrap();
        let mut q = Queue::new(1 << 20, Some(spool));
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

    #[test]
    fn a_clock_before_the_floor_holds_cycles_and_says_so_once() {
        let floor = crate::limits::CLOCK_FLOOR_SECS as i64 * 1000;
        let mut held = false;
        assert!(!clock_is_set(0, &mut held));
        assert!(held);
        assert!(!clock_is_set(floor - 1, &mut held));
        assert!(held, "still held, said once");
        assert!(clock_is_set(floor, &mut held));
        assert!(!held);
        assert!(clock_is_set(now_ms(), &mut held), "this machine's clock is set");
    }

    #[test]
    fn base64_of_basic_auth() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }
}
