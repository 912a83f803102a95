//! The push service (daemon mode): a thread that collects a cycle on the
//! interval and hands its batches to the outbox, whose thread sends them.
//! A stop collects no more, adds staleness markers for every series sent,
//! gives the receiver a grace to take what is queued, and spools the rest.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::batch::Builder;
use super::remote_write::RemoteWrite;
use super::{clock_is_set, Settings};
use crate::deliver::{AnyTransport, Outbox, Queue, Sender, DROP_REASONS};
use crate::expo::{Exposition, MetricType};
use crate::service::{Service, Worker};
use crate::sys::log;
use crate::sys::time::{now_ms, Transition};

/// In the log: the owner, and what its batches count.
pub const WHAT: (&str, &str) = ("push", "samples");

/// Collects one cycle's exposition; the pipeline calls it on its interval.
pub type CollectFn = dyn Fn() -> Vec<u8> + Send + Sync;

/// Told each cycle whether the receiver is failing (the last attempt
/// failed and none has succeeded since), and its last status (0: a
/// network error): the notifications' entry point.
pub type StatusFn = dyn Fn(bool, u16) + Send + Sync;

/// A running push pipeline.
pub struct Pipeline {
    outbox: Arc<Outbox>,
    collector: Worker,
    settings: Settings,
    builder: Arc<Mutex<Builder>>,
    /// Cycles not collected because the clock was before
    /// [`crate::limits::CLOCK_FLOOR_SECS`].
    clock_held: Arc<Mutex<u64>>,
}

/// Opens the queue (and its spool) of `settings`.
pub fn open_queue(settings: &Settings) -> Result<Queue, String> {
    Queue::open(WHAT, settings.memory_cap, settings.spool.as_deref(), settings.spool_cap)
}

/// The sender of `settings`.
pub fn sender(settings: &Settings) -> Result<Sender<AnyTransport>, String> {
    let transport: AnyTransport = Box::new(RemoteWrite::new(settings)?);
    Ok(Sender::new(transport, WHAT, settings.max_age, settings.min_backoff, settings.max_backoff))
}

impl Pipeline {
    /// Opens the spool and starts the collecting and sending threads.
    pub fn start(
        settings: Settings,
        collect: Arc<CollectFn>,
        status: Option<Arc<StatusFn>>,
    ) -> Result<Pipeline, String> {
        let start_error = |e: std::io::Error| format!("cannot start the push thread: {e}");
        let outbox = Arc::new(
            Outbox::start("sonde-push-send", open_queue(&settings)?, sender(&settings)?).map_err(start_error)?,
        );
        let builder = Arc::new(Mutex::new(Builder::default()));
        let clock_held = Arc::new(Mutex::new(0));
        let (o, s, b, held_count) =
            (Arc::clone(&outbox), settings.clone(), Arc::clone(&builder), Arc::clone(&clock_held));
        let collector = Worker::spawn("sonde-push-collect", 2 * 1024 * 1024, move |stop| {
            let mut next = Instant::now();
            let mut held = Transition::default();
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
                    o.add(batches);
                    if let Some(tell) = &status {
                        let (failing, last) = {
                            let q = o.queue().lock().unwrap_or_else(PoisonError::into_inner);
                            (q.is_failing(), q.stats.last_status)
                        };
                        tell(failing, last);
                    }
                } else {
                    *held_count.lock().unwrap_or_else(PoisonError::into_inner) += 1;
                }
                next += s.interval;
                if stop.sleep_through(next.saturating_duration_since(Instant::now())) {
                    return;
                }
            }
        })
        .map_err(start_error)?;
        Ok(Pipeline { outbox, collector, settings, builder, clock_held })
    }
}

impl Service for Pipeline {
    fn name(&self) -> &'static str {
        "push"
    }

    fn render(&self, out: &mut Exposition) {
        let held = *self.clock_held.lock().unwrap_or_else(PoisonError::into_inner);
        render(&self.outbox.queue().lock().unwrap_or_else(PoisonError::into_inner), held, out);
    }

    /// Stops collecting, sends the staleness markers and whatever the
    /// sender can deliver within `grace`, then spools the rest.
    fn stop(&self, grace: Duration) {
        // The collector is between cycles or in one; either ends soon.
        self.collector.stop(Duration::from_secs(60));
        let mut batches = Vec::new();
        self.builder.lock().unwrap_or_else(PoisonError::into_inner).stale_all(
            &self.settings.labels,
            now_ms(),
            self.settings.batch_samples,
            &mut batches,
        );
        self.outbox.add(batches);
        self.outbox.close(grace);
        let q = self.outbox.queue().lock().unwrap_or_else(PoisonError::into_inner);
        let (memory, spooled) = q.queued();
        let s = &q.stats;
        log::info!(
            "push: stopped; {} samples collected, {} restored from the spool, {} delivered, {} dropped, {} spooled, {} lost",
            s.added,
            s.restored,
            s.delivered,
            s.dropped_total(),
            spooled,
            memory
        );
    }
}

/// Writes the `sonde_push_*` families of a queue and its sender.
pub fn render(q: &Queue, clock_held: u64, out: &mut Exposition) {
    let s = &q.stats;
    let counters: [(&str, &str, u64); 7] = [
        ("sonde_push_samples_collected_total", "Samples collected for push.", s.added),
        (
            "sonde_push_samples_restored_total",
            "Samples an earlier run left in the spool, found at the start (damaged ones included, and counted dropped).",
            s.restored,
        ),
        ("sonde_push_samples_delivered_total", "Samples the receiver accepted.", s.delivered),
        ("sonde_push_requests_total", "Push requests sent.", s.requests),
        ("sonde_push_retries_total", "Push requests that failed and will be retried.", s.retries),
        ("sonde_push_sent_bytes_total", "Bytes of push request bodies sent.", s.bytes_sent),
        ("sonde_push_cycles_held_total", "Push cycles not collected because the clock was not set yet.", clock_held),
    ];
    for (name, help, v) in counters {
        out.family(name, help, MetricType::Counter);
        out.sample(&[], v as f64);
    }
    out.family("sonde_push_samples_dropped_total", "Samples dropped, by reason.", MetricType::Counter);
    for ((_, reason), v) in DROP_REASONS.iter().zip(s.dropped) {
        out.sample(&[("reason", reason)], v as f64);
    }
    let (memory, spooled) = q.queued();
    let (memory_bytes, spooled_bytes) = q.queued_bytes();
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
