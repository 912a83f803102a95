//! The receiver's side of a Remote-Write request: the spec's four
//! headers, the configured ones and the credentials (read at each request,
//! so a rotated secret is used at once and none sits in argv or the
//! config), and what each status means for the batch (DESIGN.md, Push).

use std::io;

use super::Settings;
use crate::deliver::http::Client;
use crate::deliver::{Answer, Batch, DropReason, Fate, Transport};
use crate::wire::base64;

/// Remote-Write 1.0 to one receiver.
pub struct RemoteWrite {
    client: Client,
    settings: Settings,
}

impl RemoteWrite {
    /// Reads the TLS files now, so a bad one stops the push at start.
    pub fn new(settings: &Settings) -> Result<RemoteWrite, String> {
        let client = Client::new(&settings.url, &settings.tls)?;
        Ok(RemoteWrite { client, settings: settings.clone() })
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
            h.push(("Authorization".to_owned(), format!("Basic {}", base64::encode(pair.as_bytes()))));
        } else if let Some(file) = &self.settings.bearer_token_file {
            let token = std::fs::read_to_string(file)?;
            h.push(("Authorization".to_owned(), format!("Bearer {}", token.trim())));
        }
        h.extend(self.settings.headers.iter().cloned());
        Ok(h)
    }
}

impl Transport for RemoteWrite {
    fn target(&self) -> &str {
        &self.settings.url
    }

    fn send(&mut self, b: &Batch) -> Answer {
        match self.headers().and_then(|h| self.client.post(&h, &b.payload, self.settings.timeout)) {
            Ok(r) => {
                let (fate, misconfigured) = classify(r.status);
                Answer { fate, retry_after: r.retry_after, status: r.status, said: r.body, misconfigured }
            }
            Err(e) => {
                Answer { fate: Fate::Retry, retry_after: None, status: 0, said: e.to_string(), misconfigured: false }
            }
        }
    }
}

/// The fate a response gives a batch, and whether the receiver is
/// misconfigured for this box (kept, said loudly).
pub fn classify(status: u16) -> (Fate, bool) {
    match status {
        200..=299 => (Fate::Delivered, false),
        429 | 500..=599 => (Fate::Retry, false),
        // A receiver that is not (yet) set up for this box: keep the data,
        // the operator will fix the receiver.
        401 | 403 | 404 => (Fate::Retry, true),
        400..=499 => (Fate::Dropped(DropReason::Rejected), false),
        _ => (Fate::Retry, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_decide_the_fate() {
        assert_eq!(classify(204), (Fate::Delivered, false));
        assert_eq!(classify(503), (Fate::Retry, false));
        assert_eq!(classify(429), (Fate::Retry, false));
        for code in [400, 409, 413, 415, 422, 405] {
            assert_eq!(classify(code), (Fate::Dropped(DropReason::Rejected), false), "{code}");
        }
        for code in [401, 403, 404] {
            assert_eq!(classify(code), (Fate::Retry, true), "{code}");
        }
    }
}
