//! Mail, Monit's way: a list of mail servers tried in order (the next
//! one when a server cannot take the mail now), a `mail-format` whose
//! `subject` and `message` use Monit's variables (`$EVENT`, `$SERVICE`,
//! `$DATE`, `$HOST`, `$ACTION`, `$DESCRIPTION`), one mail when an alert
//! fires and one when it is resolved, and, with `reminder = N`, the mail
//! again every N cycles of its source while it fires.
//!
//! The message is rendered when it is sent, from the event as it was
//! raised (so `$DATE` is when it happened, not when a mail server came
//! back). Its headers cannot be forged by what an event says (a subject
//! is one line, other text is RFC 2047 words), its `Message-ID` is the
//! same at every try (a server that took it but whose reply was lost gets
//! the same message twice, which a mail client shows once), and its body
//! goes through the DATA section's transparency ([`crate::wire::smtp`]).
//! A server that refuses the mail itself for good (a 5xx to MAIL, RCPT or
//! DATA) drops it, counted as rejected; the password is read from its
//! file at each mail.

use std::path::PathBuf;
use std::time::Duration;

use super::alertmanager::undecodable;
use super::Event;
use crate::deliver::smtp::{self, Credentials, Failure, Mechanism, Message, Server};
use crate::deliver::{Answer, Batch, DropReason, Fate};
use crate::sys::log;
use crate::sys::time::Deadline;
use crate::tls::ClientTls;
use crate::wire::{date, smtp as wire};

/// Monit's default sender, on this box.
pub const DEFAULT_FROM: &str = "sonde@$HOST";
pub const DEFAULT_SUBJECT: &str = "$EVENT: $SERVICE on $HOST";
pub const DEFAULT_MESSAGE: &str = concat!(
    "$EVENT: $SERVICE on $HOST\n",
    "\n",
    "    Date:        $DATE\n",
    "    Action:      $ACTION\n",
    "    Host:        $HOST\n",
    "    Description: $DESCRIPTION\n",
    "\n",
    "-- \n",
    "sonde\n",
);

/// `[[notify]] kind = "mail"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// `url`: the mail servers, in the order they are tried.
    pub servers: Vec<Server>,
    pub from: String,
    pub to: Vec<String>,
    /// `subject` and `message`: Monit's mail-format.
    pub subject: String,
    pub message: String,
    /// `reminder`: the mail again every this many cycles while the alert
    /// fires; 0 for none.
    pub reminder: u32,
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
    pub mechanism: Option<Mechanism>,
    /// The name given in EHLO (Monit's `using hostname`); the instance by
    /// default.
    pub helo: Option<String>,
    /// Whom to trust for STARTTLS and smtps.
    pub tls: ClientTls,
}

/// One mail output.
pub struct Transport {
    settings: Settings,
    timeout: Duration,
    instance: String,
    target: String,
    /// The server the last mail went through, so a switch is said once.
    last_used: usize,
}

impl Transport {
    pub fn new(settings: &Settings, timeout: Duration, instance: &str) -> Result<Transport, String> {
        let target = settings.servers.first().map_or_else(|| "mail".to_owned(), Server::name);
        Ok(Transport { settings: settings.clone(), timeout, instance: instance.to_owned(), target, last_used: 0 })
    }
}

impl crate::deliver::Transport for Transport {
    fn target(&self) -> &str {
        &self.target
    }

    fn send(&mut self, b: &Batch) -> Answer {
        let Some(e) = Event::decode(&b.payload) else { return undecodable() };
        let text = render(&self.settings, &e, &self.instance);
        let from = expand(&self.settings.from, &e, &self.instance);
        let msg = Message { from: &from, to: &self.settings.to, text: text.as_bytes() };
        let password = match &self.settings.password_file {
            Some(f) => match std::fs::read_to_string(f) {
                Ok(p) => Some(p.trim_end_matches(['\n', '\r']).to_owned()),
                Err(err) => return retry(format!("{}: {err}", f.display()), true),
            },
            None => None,
        };
        let credentials = match (&self.settings.username, &password) {
            (Some(user), Some(password)) => Some(Credentials { user, password, mechanism: self.settings.mechanism }),
            _ => None,
        };
        let helo = self.settings.helo.as_deref().unwrap_or(&self.instance);
        let mut failures = Vec::new();
        for (i, server) in self.settings.servers.iter().enumerate() {
            let deadline = Deadline::after(self.timeout);
            match smtp::send(server, &self.settings.tls, helo, credentials.as_ref(), &msg, deadline) {
                Ok(refused) => {
                    for r in refused {
                        log::warn!("mail: a recipient was refused: {r}");
                    }
                    if i != self.last_used {
                        match failures.last() {
                            Some(why) => log::warn!("mail: sent through {} ({why})", server.name()),
                            None => log::info!("mail: {} takes mail again", server.name()),
                        }
                        self.last_used = i;
                    }
                    return Answer {
                        fate: Fate::Delivered,
                        retry_after: None,
                        status: 250,
                        said: String::new(),
                        misconfigured: false,
                    };
                }
                Err(Failure::Refused(why)) => {
                    return Answer {
                        fate: Fate::Dropped(DropReason::Rejected),
                        retry_after: None,
                        status: 550,
                        said: why,
                        misconfigured: false,
                    }
                }
                Err(Failure::Server(why)) => failures.push(why),
            }
        }
        retry(failures.join("; "), false)
    }
}

fn retry(said: String, misconfigured: bool) -> Answer {
    Answer { fate: Fate::Retry, retry_after: None, status: 0, said, misconfigured }
}

/// `template` with Monit's variables replaced by what `e` says; an
/// unknown `$WORD` stays as it is.
pub fn expand(template: &str, e: &Event, instance: &str) -> String {
    let mut out = String::with_capacity(template.len() + e.text.len());
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let word_len = rest[1..].bytes().take_while(u8::is_ascii_uppercase).count();
        let word = &rest[1..1 + word_len];
        match word {
            "EVENT" => out.push_str(&e.event),
            "SERVICE" => out.push_str(&e.name),
            "DATE" => date::rfc5322(e.time_ms, &mut out),
            "HOST" => out.push_str(instance),
            "ACTION" => out.push_str(&e.action),
            "DESCRIPTION" => out.push_str(&e.text),
            _ => out.push_str(&rest[..1 + word_len]),
        }
        rest = &rest[1 + word_len..];
    }
    out.push_str(rest);
    out
}

/// The whole message, headers and body, LF line ends.
pub fn render(s: &Settings, e: &Event, instance: &str) -> String {
    let mut m = String::with_capacity(1024 + e.text.len());
    m.push_str("Date: ");
    date::rfc5322(e.time_ms, &mut m);
    m.push_str("\nFrom: ");
    m.push_str(&expand(&s.from, e, instance));
    m.push_str("\nTo: ");
    m.push_str(&s.to.join(", "));
    m.push_str("\nSubject: ");
    let subject = expand(&s.subject, e, instance);
    let mut folded = String::new();
    wire::header_text("Subject".len(), &subject, &mut folded);
    m.push_str(&folded.replace("\r\n", "\n"));
    // Stable across retries: the event's time and what it is about.
    let id = e.key().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let domain: String = instance.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-').collect();
    let domain = if domain.is_empty() { "sonde".to_owned() } else { domain };
    m.push_str(&format!("\nMessage-ID: <{}.{}.{id:016x}.sonde@{domain}>", e.time_ms, e.state.as_str()));
    m.push_str("\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: ");
    let body = expand(&s.message, e, instance);
    m.push_str(if body.is_ascii() { "7bit" } else { "8bit" });
    m.push_str("\nAuto-Submitted: auto-generated\nX-Mailer: sonde/");
    m.push_str(env!("CARGO_PKG_VERSION"));
    m.push_str("\n\n");
    m.push_str(&body);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::event;
    use crate::notify::State;

    fn settings() -> Settings {
        Settings {
            servers: vec![],
            from: DEFAULT_FROM.into(),
            to: vec!["ops@example.com".into(), "oncall@example.com".into()],
            subject: DEFAULT_SUBJECT.into(),
            message: DEFAULT_MESSAGE.into(),
            reminder: 0,
            username: None,
            password_file: None,
            mechanism: None,
            helo: None,
            tls: ClientTls::default(),
        }
    }

    #[test]
    fn monit_variables_are_replaced_and_others_kept() {
        let mut e = event(State::Firing, "refused on 127.0.0.1:80 (ipv4)");
        e.time_ms = 1_796_430_422_500;
        let got = expand("$EVENT $SERVICE $DATE $HOST $ACTION $DESCRIPTION $OTHER $ $", &e, "box1");
        assert_eq!(
            got,
            "Check failed web Sat, 05 Dec 2026 00:27:02 +0000 box1 alert refused on 127.0.0.1:80 (ipv4) $OTHER $ $"
        );
    }

    #[test]
    fn a_mail_has_its_headers_and_the_format_asked() {
        let mut e = event(State::Firing, "refused");
        e.time_ms = 1_796_430_422_500;
        let m = render(&settings(), &e, "box1");
        let (head, body) = m.split_once("\n\n").unwrap();
        assert!(head.starts_with("Date: Sat, 05 Dec 2026 00:27:02 +0000\nFrom: sonde@box1\n"), "{head}");
        assert!(head.contains("\nTo: ops@example.com, oncall@example.com\n"));
        assert!(head.contains("\nSubject: Check failed: web on box1\n"));
        assert!(head.contains("Content-Transfer-Encoding: 7bit"));
        assert!(body.starts_with("Check failed: web on box1\n\n    Date:        Sat, 05 Dec 2026"), "{body}");
        assert!(body.contains("    Description: refused\n"));
        let again = render(&settings(), &e, "box1");
        assert_eq!(m, again, "the same message at every try");
    }

    /// See: an event's text must not add headers (a log line saying
    /// "\nBcc: ...").
    #[test]
    fn hostile_text_cannot_add_headers() {
        let e = event(State::Firing, "x\nBcc: victim@example.com\n\n.\nQUIT");
        let mut s = settings();
        s.subject = "$DESCRIPTION".into();
        let m = render(&s, &e, "box1");
        let (head, _) = m.split_once("\n\n").unwrap();
        assert!(!head.lines().any(|l| l.starts_with("Bcc:") || l.starts_with("QUIT")), "{head}");
        assert!(head.contains("Subject: x Bcc: victim@example.com . QUIT"), "{head}");
    }
}
