//! Alertmanager (API v2, `POST /api/v2/alerts`), as Prometheus tells it:
//! each state change at once, and the whole table again at least every
//! `resend` (a minute by default) — firing alerts with `endsAt` = now +
//! 4 × max(resend, the source's cycle), so that two lost re-sends do not
//! resolve them, and resolved ones, with their `endsAt` in the past, for
//! [`RESOLVED_RETENTION`] after they ended. Alertmanager keeps nothing
//! across its own restart and resolves what is not re-sent; the re-sends
//! are what make it right again, so they go on while anything is firing.
//!
//! A state change is a queued notification (counted, spooled, retried);
//! a re-send is not one (it repeats what was delivered) and is counted
//! apart. Both go from the output's one sending thread, the re-sends only
//! when nothing is queued, so Alertmanager never sees an older state after
//! a newer one. After a failure ends, the table is re-sent at once: an
//! Alertmanager that restarted meanwhile learns every alert again.
//!
//! Each Alertmanager of an HA pair is an output of its own (`[[notify]]`
//! each), as Prometheus sends to every one rather than through a balancer.
//! One event never holds up another: a 400 for one is dropped and counted.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::service::{Alert, Table};
use super::{http_answer, Event, Filter, HttpAuth, State, TooLarge, MAX_BODY};
use crate::deliver::http::Client;
use crate::deliver::{Answer, Batch, DropReason, Fate, Transport as _};
use crate::sys::log;
use crate::sys::time::now_ms;
use crate::wire::date;

/// How long a resolved alert is re-sent (Prometheus' resolvedRetention).
pub const RESOLVED_RETENTION: Duration = Duration::from_secs(15 * 60);

/// After a failed re-send, the next try comes this soon (or at the
/// re-send interval, if that is sooner).
const RESEND_RETRY: Duration = Duration::from_secs(10);

/// `[[notify]] kind = "alertmanager"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The full URL of `/api/v2/alerts`.
    pub url: String,
    pub auth: HttpAuth,
    /// `resend`: how often the table is re-sent (Prometheus'
    /// `--rules.alert.resend-delay`, 1m).
    pub resend: Duration,
}

/// Re-sends made, apart from the queued notifications.
#[derive(Clone, Copy, Debug, Default)]
pub struct Resends {
    pub requests: u64,
    pub failures: u64,
}

/// One Alertmanager.
pub struct Transport {
    client: Client,
    settings: Settings,
    timeout: Duration,
    instance: String,
    /// `generatorURL` of every alert: the box's page (`[events] status_url`).
    generator: Option<String>,
    filter: Filter,
    table: Table,
    next_resend: Instant,
    /// The last request failed: re-send the table at the next success.
    behind: bool,
    pub resends: Arc<Mutex<Resends>>,
}

impl Transport {
    pub fn new(
        settings: &Settings,
        timeout: Duration,
        instance: &str,
        generator: Option<&str>,
        filter: &Filter,
        table: Table,
    ) -> Result<Transport, String> {
        Ok(Transport {
            client: Client::new(&settings.url, &settings.auth.tls)?,
            settings: settings.clone(),
            timeout,
            instance: instance.to_owned(),
            generator: generator.map(str::to_owned),
            filter: filter.clone(),
            table,
            // The first idle moment re-sends what the state file kept.
            next_resend: Instant::now(),
            behind: false,
            resends: Arc::default(),
        })
    }

    fn post(&self, body: &[u8]) -> Answer {
        let headers = match self.settings.auth.header() {
            Ok(auth) => {
                let mut h = vec![
                    ("Content-Type".to_owned(), "application/json".to_owned()),
                    ("User-Agent".to_owned(), concat!("sonde/", env!("CARGO_PKG_VERSION")).to_owned()),
                ];
                h.extend(auth);
                h
            }
            Err(e) => {
                return Answer {
                    fate: Fate::Retry,
                    retry_after: None,
                    status: 0,
                    said: e.to_string(),
                    misconfigured: true,
                }
            }
        };
        http_answer(self.client.post(&headers, body, self.timeout))
    }

    /// The `endsAt` of a firing alert sent now: four cycles ahead.
    fn ends_for(&self, e: &Event, now: i64) -> i64 {
        let cycle = self.settings.resend.max(Duration::from_millis(e.cycle_ms));
        now.saturating_add(4 * cycle.as_millis() as i64)
    }

    /// Re-sends every alert of the table this output takes; false when
    /// Alertmanager did not take them all.
    fn resend(&mut self) -> bool {
        let now = now_ms();
        let alerts: Vec<Alert> = {
            let table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
            table.iter().filter(|a| self.filter.admits(&a.event)).cloned().collect()
        };
        let mut ok = true;
        let mut body = Vec::with_capacity(1024);
        let mut n = 0;
        let flush = |body: &mut Vec<u8>, me: &Self| -> bool {
            body.push(b']');
            let a = me.post(body);
            let mut r = me.resends.lock().unwrap_or_else(PoisonError::into_inner);
            r.requests += 1;
            if a.fate != Fate::Delivered {
                r.failures += 1;
            }
            body.clear();
            a.fate == Fate::Delivered
        };
        for a in alerts {
            let ends = a.ends_ms.unwrap_or_else(|| self.ends_for(&a.event, now));
            let mut one = Vec::new();
            if encode(&a.event, &self.instance, self.generator.as_deref(), ends, &mut one).is_err() {
                continue;
            }
            if !body.is_empty() && body.len() + one.len() + 2 > MAX_BODY {
                ok &= flush(&mut body, self);
            }
            body.push(if body.is_empty() { b'[' } else { b',' });
            body.extend_from_slice(&one);
            n += 1;
        }
        if !body.is_empty() {
            ok &= flush(&mut body, self);
        }
        if !ok {
            log::warn!("alertmanager: {}: re-sending {n} alerts failed; trying again", self.target());
        }
        ok
    }
}

impl crate::deliver::Transport for Transport {
    fn target(&self) -> &str {
        &self.settings.url
    }

    fn send(&mut self, b: &Batch) -> Answer {
        let Some(e) = Event::decode(&b.payload) else { return undecodable() };
        let ends = match e.state {
            State::Resolved => e.time_ms,
            // A one-off is an alert that ends by itself, never re-sent.
            State::Once => self.ends_for(&e, e.time_ms),
            State::Firing => self.ends_for(&e, now_ms()),
        };
        let mut body = vec![b'['];
        if encode(&e, &self.instance, self.generator.as_deref(), ends, &mut body).is_err() {
            return undecodable();
        }
        body.push(b']');
        let answer = self.post(&body);
        match answer.fate {
            Fate::Retry => self.behind = true,
            _ if std::mem::take(&mut self.behind) => self.next_resend = Instant::now(),
            _ => {}
        }
        answer
    }

    fn idle(&mut self) {
        if Instant::now() < self.next_resend {
            return;
        }
        let ok = self.resend();
        let wait = if ok { self.settings.resend } else { self.settings.resend.min(RESEND_RETRY) };
        self.next_resend = Instant::now() + wait;
    }
}

/// A queued batch that is not an event: only a damaged spool record
/// could be one, and it can never be sent.
pub(super) fn undecodable() -> Answer {
    Answer {
        fate: Fate::Dropped(DropReason::Rejected),
        retry_after: None,
        status: 0,
        said: "not a notification sonde can read".into(),
        misconfigured: false,
    }
}

/// Labels or annotations: a JSON object of strings.
struct Pairs<'a>(&'a [(&'a str, &'a str)]);

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// One alert of the API's `postableAlerts`.
#[derive(serde::Serialize)]
struct Postable<'a> {
    labels: Pairs<'a>,
    annotations: Pairs<'a>,
    #[serde(rename = "startsAt")]
    starts_at: &'a str,
    #[serde(rename = "endsAt")]
    ends_at: &'a str,
    #[serde(rename = "generatorURL", skip_serializing_if = "Option::is_none")]
    generator_url: Option<&'a str>,
}

/// Appends `e` as one alert object, ending at `ends_ms`. Err: it does not
/// fit [`MAX_BODY`] (it always does: its text is bounded).
pub fn encode(
    e: &Event,
    instance: &str,
    generator: Option<&str>,
    ends_ms: i64,
    out: &mut Vec<u8>,
) -> Result<(), TooLarge> {
    let (mut starts, mut ends) = (String::new(), String::new());
    date::rfc3339(e.starts_ms, &mut starts);
    date::rfc3339(ends_ms.max(e.starts_ms), &mut ends);
    let summary = e.summary();
    let labels = e.labels(instance);
    let annotations = [("description", e.text.as_str()), ("summary", summary.as_str())];
    let alert = Postable {
        labels: Pairs(&labels),
        annotations: Pairs(&annotations),
        starts_at: &starts,
        ends_at: &ends,
        generator_url: generator,
    };
    let at = out.len();
    out.resize(at + MAX_BODY, 0);
    match serde_json_core::to_slice(&alert, &mut out[at..]) {
        Ok(n) => {
            out.truncate(at + n);
            Ok(())
        }
        Err(_) => {
            out.truncate(at);
            Err(TooLarge)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::event;

    #[test]
    fn an_alert_is_the_json_alertmanager_takes() {
        let mut e = event(State::Firing, "refused on 127.0.0.1:80 \"quoted\"\nnext line");
        e.starts_ms = 1_796_430_422_500;
        let mut out = Vec::new();
        encode(&e, "box1", Some("http://box1:9858/"), e.starts_ms + 240_000, &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert_eq!(
            text,
            "{\"labels\":{\"alertname\":\"CheckFailed\",\"check\":\"web\",\"instance\":\"box1\",\"severity\":\"critical\"},\
             \"annotations\":{\"description\":\"refused on 127.0.0.1:80 \\\"quoted\\\"\\nnext line\",\
             \"summary\":\"check web: Check failed\"},\"startsAt\":\"2026-12-05T00:27:02.500Z\",\
             \"endsAt\":\"2026-12-05T00:31:02.500Z\",\"generatorURL\":\"http://box1:9858/\"}"
        );
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["annotations"]["description"], "refused on 127.0.0.1:80 \"quoted\"\nnext line");
        out.clear();
        encode(&e, "box1", None, 0, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert!(v.get("generatorURL").is_none());
        assert_eq!(v["endsAt"], v["startsAt"], "never ends before it starts");
    }

    /// The longest text an event may carry, every byte escaped, fits.
    #[test]
    fn the_worst_alert_fits_the_body() {
        let e = event(State::Firing, &"\u{1}".repeat(crate::notify::MAX_TEXT));
        let mut out = Vec::new();
        encode(&e, &"i".repeat(255), Some(&"g".repeat(1024)), 0, &mut out).unwrap();
        assert!(out.len() > 6 * crate::notify::MAX_TEXT && out.len() < MAX_BODY);
    }
}
