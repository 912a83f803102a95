//! Chat and phone webhooks, for a team without an Alertmanager: one POST
//! per notification, in Mattermost's incoming-webhook JSON (which Slack
//! takes too: `text`, `username`, `channel`, `icon_url`/`icon_emoji`, and
//! one attachment with the details as `fields`), or in ntfy's JSON
//! publishing form (`topic`, `title`, `message`, `priority`, `tags`).
//!
//! The JSON is written by serde-json-core into a buffer of at most
//! [`MAX_BODY`] bytes; every string is escaped there (quotes, backslashes,
//! every control character), and an event's text is UTF-8 by then (a log
//! line's other bytes were replaced when it was raised), so whatever a
//! line held, the receiver gets one valid JSON document.
//!
//! A webhook URL is its own secret (Mattermost's key, ntfy's topic), so
//! the log names only its scheme, host and port.

use std::time::Duration;

use serde::Serialize;

use super::alertmanager::undecodable;
use super::{http_answer, Event, HttpAuth, Severity, State, TooLarge, MAX_BODY};
use crate::deliver::http::{Client, Endpoint};
use crate::deliver::{Answer, Batch};
use crate::wire::date;

/// Which JSON the receiver reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Mattermost's, which Slack's incoming webhooks also take.
    #[default]
    Mattermost,
    /// ntfy's JSON publishing, to the server's root with the topic inside.
    Ntfy,
}

/// `[[notify]] kind = "webhook"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Where to POST (for ntfy, the server's root).
    pub url: String,
    pub format: Format,
    /// ntfy's topic (the last part of the configured URL).
    pub topic: String,
    pub auth: HttpAuth,
    pub username: Option<String>,
    pub channel: Option<String>,
    pub icon_url: Option<String>,
    pub icon_emoji: Option<String>,
}

/// One webhook.
pub struct Transport {
    client: Client,
    settings: Settings,
    /// The URL without its path, for the log.
    target: String,
    timeout: Duration,
    instance: String,
}

impl Transport {
    pub fn new(settings: &Settings, timeout: Duration, instance: &str) -> Result<Transport, String> {
        let e = Endpoint::parse(&settings.url)?;
        let scheme = if e.tls { "https" } else { "http" };
        let host = if e.host.contains(':') { format!("[{}]", e.host) } else { e.host.clone() };
        Ok(Transport {
            client: Client::new(&settings.url, &settings.auth.tls)?,
            settings: settings.clone(),
            target: format!("{scheme}://{host}:{}", e.port),
            timeout,
            instance: instance.to_owned(),
        })
    }
}

impl crate::deliver::Transport for Transport {
    fn target(&self) -> &str {
        &self.target
    }

    fn send(&mut self, b: &Batch) -> Answer {
        let Some(e) = Event::decode(&b.payload) else { return undecodable() };
        let mut body = vec![0; MAX_BODY];
        let Ok(n) = encode(&self.settings, &e, &self.instance, &mut body) else { return undecodable() };
        body.truncate(n);
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("User-Agent".to_owned(), concat!("sonde/", env!("CARGO_PKG_VERSION")).to_owned()),
        ];
        match self.settings.auth.header() {
            Ok(auth) => headers.extend(auth),
            Err(e) => {
                return Answer {
                    fate: crate::deliver::Fate::Retry,
                    retry_after: None,
                    status: 0,
                    said: e.to_string(),
                    misconfigured: true,
                }
            }
        }
        http_answer(self.client.post(&headers, &body, self.timeout))
    }
}

#[derive(Serialize)]
struct Field<'a> {
    title: &'a str,
    value: &'a str,
    short: bool,
}

#[derive(Serialize)]
struct Attachment<'a> {
    fallback: &'a str,
    color: &'a str,
    title: &'a str,
    text: &'a str,
    fields: &'a [Field<'a>],
}

#[derive(Serialize)]
struct Mattermost<'a> {
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icon_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icon_emoji: Option<&'a str>,
    attachments: &'a [Attachment<'a>],
}

#[derive(Serialize)]
struct Ntfy<'a> {
    topic: &'a str,
    title: &'a str,
    message: &'a str,
    priority: u8,
    tags: &'a [&'a str],
}

/// Writes the body for `e` into `out`; its length. Err: it did not fit
/// (it always does: every part is bounded).
pub fn encode(s: &Settings, e: &Event, instance: &str, out: &mut [u8]) -> Result<usize, TooLarge> {
    let word = match e.state {
        State::Firing => "FIRING",
        State::Resolved => "RESOLVED",
        State::Once => "INFO",
    };
    let title = format!("[{word}] {} on {instance}", e.summary());
    let written = match s.format {
        Format::Mattermost => {
            let color = match (e.state, e.severity) {
                (State::Resolved, _) => "#2eb886",
                (State::Once, _) | (_, Severity::Info) => "#439fe0",
                (_, Severity::Warning) => "#daa038",
                (_, Severity::Critical) => "#d00000",
            };
            let mut when = String::new();
            date::rfc3339(e.time_ms, &mut when);
            let fields = [
                Field { title: "Host", value: instance, short: true },
                Field { title: "Severity", value: e.severity.as_str(), short: true },
                Field { title: "Action", value: &e.action, short: true },
                Field { title: "Date", value: &when, short: true },
            ];
            let fallback = format!("{title}: {}", e.text);
            let attachment = Attachment { fallback: &fallback, color, title: &title, text: &e.text, fields: &fields };
            let m = Mattermost {
                text: &title,
                username: s.username.as_deref(),
                channel: s.channel.as_deref(),
                icon_url: s.icon_url.as_deref(),
                icon_emoji: s.icon_emoji.as_deref(),
                attachments: &[attachment],
            };
            serde_json_core::to_slice(&m, out)
        }
        Format::Ntfy => {
            let (priority, tag) = match (e.state, e.severity) {
                (State::Resolved, _) => (3, "white_check_mark"),
                (State::Once, _) | (_, Severity::Info) => (3, "information_source"),
                (_, Severity::Warning) => (4, "warning"),
                (_, Severity::Critical) => (5, "rotating_light"),
            };
            let n = Ntfy { topic: &s.topic, title: &title, message: &e.text, priority, tags: &[tag] };
            serde_json_core::to_slice(&n, out)
        }
    };
    written.map_err(|_| TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::event;

    fn settings(format: Format) -> Settings {
        Settings {
            url: "http://127.0.0.1:1/hooks/x".into(),
            format,
            topic: "alerts".into(),
            auth: HttpAuth::default(),
            username: Some("sonde".into()),
            channel: Some("ops".into()),
            icon_url: None,
            icon_emoji: Some(":satellite:".into()),
        }
    }

    fn json(format: Format, e: &Event) -> serde_json::Value {
        let mut buf = vec![0; MAX_BODY];
        let n = encode(&settings(format), e, "box1", &mut buf).unwrap();
        serde_json::from_slice(&buf[..n]).unwrap()
    }

    /// See: hostile text from a log line (quotes, newlines, control bytes,
    /// what was not UTF-8) still makes one valid JSON document.
    #[test]
    fn mattermost_json_with_hostile_text_parses() {
        let hostile = String::from_utf8_lossy(b"say \"hi\"\\ \n\r\t\x00\x1b[31m \xff\xfe end").into_owned();
        let e = event(State::Firing, &hostile);
        let v = json(Format::Mattermost, &e);
        assert_eq!(v["text"], "[FIRING] check web: Check failed on box1");
        assert_eq!((v["username"].as_str(), v["channel"].as_str()), (Some("sonde"), Some("ops")));
        assert!(v.get("icon_url").is_none());
        let a = &v["attachments"][0];
        assert_eq!(a["text"], hostile.as_str());
        assert_eq!(a["color"], "#d00000");
        assert_eq!(a["fields"][0]["value"], "box1");
        assert_eq!(a["fields"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn ntfy_json_has_topic_priority_and_tags() {
        let v = json(Format::Ntfy, &event(State::Firing, "down"));
        assert_eq!((v["topic"].as_str(), v["priority"].as_u64()), (Some("alerts"), Some(5)));
        assert_eq!(v["tags"][0], "rotating_light");
        let v = json(Format::Ntfy, &event(State::Resolved, "up"));
        assert_eq!(
            (v["title"].as_str(), v["message"].as_str()),
            (Some("[RESOLVED] check web: Check failed on box1"), Some("up"))
        );
    }

    #[test]
    fn the_worst_event_fits() {
        let e = event(State::Firing, &"\u{1}".repeat(crate::notify::MAX_TEXT));
        let mut buf = vec![0; MAX_BODY];
        assert!(encode(&settings(Format::Mattermost), &e, &"h".repeat(255), &mut buf).is_ok());
    }
}
