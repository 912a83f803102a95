//! Where events come from when no one raises them whole: each check's
//! runs (after its tolerance), the daemons sonde reads, the push pipe.
//! Each source keeps the little it must remember (a check's last runs, a
//! daemon's state, since when push fails), and turns what it is told
//! into an event only when the state changes: failing after `times` of
//! the last `cycles` runs failed (Monit's `for N cycles`), passing again
//! at the first run that passes (as Monit recovers).
//!
//! What it remembers goes into the state file ([`Sources::save`]), so a
//! check that failed in the last `--once` run and fails again in this one
//! is still one failure, and a restart does not forget an alert firing.

use std::time::Duration;

use super::{CheckRule, Event, PushStatus, Severity, State, Subject};
use crate::check::{Family, Outcome};
use crate::wire::state::{self, Record, Writer};

/// The alert names sonde raises itself.
pub const CHECK_FAILED: &str = "CheckFailed";
pub const DAEMON_DOWN: &str = "DaemonDown";
pub const PUSH_FAILING: &str = "PushFailing";

/// A check's recent runs and state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct CheckState {
    name: String,
    /// Bit i: the run i runs ago failed.
    window: u64,
    failing: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sources {
    checks: Vec<CheckState>,
    /// The daemons down.
    daemons_down: Vec<String>,
    /// The push receiver failing, and since when.
    push_failing: Option<(String, i64)>,
    /// Whether the push alert fired.
    push_fired: bool,
}

impl Sources {
    /// A check ran with `outcomes`: an event when its state changed.
    pub fn check(&mut self, rule: &CheckRule, interval: Duration, outcomes: &[Outcome]) -> Option<Event> {
        if outcomes.is_empty() {
            return None;
        }
        let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.reason.is_some()).collect();
        let i = match self.checks.iter().position(|c| c.name == rule.name) {
            Some(i) => i,
            None => {
                self.checks.push(CheckState { name: rule.name.clone(), ..CheckState::default() });
                self.checks.len() - 1
            }
        };
        let c = &mut self.checks[i];
        let cycles = rule.tolerance.cycles.clamp(1, 64);
        let mask = if cycles == 64 { u64::MAX } else { (1u64 << cycles) - 1 };
        c.window = ((c.window << 1) | u64::from(!failed.is_empty())) & mask;
        let event = |state, words: &str, text: &str| {
            Event::new(CHECK_FAILED, Subject::Check, &rule.name, rule.severity, state, words, "alert", text, interval)
        };
        if !c.failing && c.window.count_ones() >= rule.tolerance.times.max(1) {
            c.failing = true;
            let mut text = String::new();
            for o in failed {
                if !text.is_empty() {
                    text.push_str("; ");
                }
                text.push_str(o.reason.map_or("failed", |r| r.as_str()));
                if let Some(a) = o.addr {
                    text.push_str(&format!(" on {a} ({})", Family::of(&a.ip())));
                }
            }
            return Some(event(State::Firing, "Check failed", &text));
        }
        if c.failing && failed.is_empty() {
            c.failing = false;
            let n = outcomes.len();
            let text = if n == 1 { "passes again".to_owned() } else { format!("passes again on all {n} addresses") };
            return Some(event(State::Resolved, "Check succeeded", &text));
        }
        None
    }

    /// Checks no longer configured: forgotten, and those failing resolved.
    pub fn forget_checks(&mut self, keep: &[CheckRule]) -> Vec<Event> {
        let mut resolved = Vec::new();
        self.checks.retain(|c| {
            let kept = keep.iter().any(|r| r.name == c.name);
            if !kept && c.failing {
                resolved.push(Event::new(
                    CHECK_FAILED,
                    Subject::Check,
                    &c.name,
                    Severity::Critical,
                    State::Resolved,
                    "Check removed",
                    "alert",
                    "no longer checked",
                    Duration::ZERO,
                ));
            }
            kept
        });
        resolved
    }

    /// A daemon was looked at: `error` when it is expected and does not
    /// answer.
    pub fn daemon(&mut self, name: &str, error: Option<String>, cycle: Duration) -> Option<Event> {
        let was_down = self.daemons_down.iter().any(|d| d == name);
        let event = |state, words: &str, text: &str| {
            Event::new(DAEMON_DOWN, Subject::Daemon, name, Severity::Critical, state, words, "alert", text, cycle)
        };
        match (was_down, error) {
            (false, Some(e)) => {
                self.daemons_down.push(name.to_owned());
                Some(event(State::Firing, "Daemon down", &e))
            }
            (true, None) => {
                self.daemons_down.retain(|d| d != name);
                Some(event(State::Resolved, "Daemon up", "answers again"))
            }
            _ => None,
        }
    }

    /// The push pipe's state: an alert once it has failed for `after`.
    pub fn push(&mut self, status: &PushStatus, after: Duration, now_ms: i64) -> Option<Event> {
        let event = |state, words: &str, text: &str| {
            Event::new(
                PUSH_FAILING,
                Subject::Receiver,
                &status.receiver,
                Severity::Warning,
                state,
                words,
                "alert",
                text,
                status.cycle,
            )
        };
        match status.failing_since {
            Some(since) => {
                let since = match &self.push_failing {
                    Some((r, s)) if *r == status.receiver => (*s).min(since),
                    _ => since,
                };
                self.push_failing = Some((status.receiver.clone(), since));
                let failing_for = now_ms.saturating_sub(since);
                if !self.push_fired && failing_for >= after.as_millis() as i64 {
                    self.push_fired = true;
                    let text = format!("nothing delivered for {}s: {}", failing_for / 1000, status.why);
                    let mut e = event(State::Firing, "Push failing", &text);
                    e.starts_ms = since.min(e.time_ms);
                    return Some(e);
                }
                None
            }
            None => {
                self.push_failing = None;
                if std::mem::take(&mut self.push_fired) {
                    return Some(event(State::Resolved, "Push delivers", "delivers again"));
                }
                None
            }
        }
    }

    /// Writes what it remembers as state-file records.
    pub fn save(&self, w: &mut Writer) {
        for c in &self.checks {
            if c.window != 0 || c.failing {
                w.record("check", &c.name)
                    .field("window", &format!("{:x}", c.window))
                    .field("failing", if c.failing { "1" } else { "0" });
            }
        }
        for d in &self.daemons_down {
            w.record("daemon", d).field("down", "1");
        }
        if let Some((receiver, since)) = &self.push_failing {
            w.record("push", receiver)
                .field("since", &since.to_string())
                .field("fired", if self.push_fired { "1" } else { "0" });
        }
    }

    /// Takes back what [`Sources::save`] wrote; records of other kinds
    /// are someone else's.
    pub fn load(&mut self, records: &[Record<'_>]) {
        for r in records {
            let Some(name) = state::unescape(r.name) else { continue };
            match r.kind {
                "check" => {
                    let window = r.get("window").and_then(|w| u64::from_str_radix(w, 16).ok()).unwrap_or(0);
                    let failing = r.get("failing") == Some("1");
                    self.checks.push(CheckState { name, window, failing });
                }
                "daemon" => self.daemons_down.push(name),
                "push" => {
                    if let Some(since) = r.get("since").and_then(|s| s.parse().ok()) {
                        self.push_failing = Some((name, since));
                        self.push_fired = r.get("fired") == Some("1");
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Detail, Reason};
    use crate::notify::Window;

    fn outcome(failed: bool) -> Outcome {
        Outcome {
            addr: Some("127.0.0.1:80".parse().unwrap()),
            reason: failed.then_some(Reason::Refused),
            seconds: 0.0,
            timeout_seconds: 1.0,
            lookup_seconds: 0.0,
            detail: Detail::None,
        }
    }

    fn rule(times: u32, cycles: u32) -> CheckRule {
        CheckRule { name: "web".into(), tolerance: Window { times, cycles }, severity: Severity::Critical }
    }

    fn states(s: &mut Sources, r: &CheckRule, runs: &[bool]) -> Vec<Option<State>> {
        runs.iter().map(|&f| s.check(r, Duration::from_secs(1), &[outcome(f)]).map(|e| e.state)).collect()
    }

    #[test]
    fn a_check_fires_after_its_tolerance_and_recovers_at_the_first_pass() {
        let mut s = Sources::default();
        let r = rule(3, 3);
        use State::*;
        let got = states(&mut s, &r, &[true, true, false, true, true, true, true, false, false]);
        assert_eq!(got, [None, None, None, None, None, Some(Firing), None, Some(Resolved), None]);
        let mut s = Sources::default();
        let got = states(&mut s, &rule(2, 5), &[true, false, false, true, false]);
        assert_eq!(got, [None, None, None, Some(Firing), Some(Resolved)], "2 times within 5 cycles");
    }

    #[test]
    fn a_firing_text_says_where_and_why() {
        let mut s = Sources::default();
        let e = s.check(&rule(1, 1), Duration::from_secs(30), &[outcome(true)]).unwrap();
        assert_eq!(e.text, "refused on 127.0.0.1:80 (ipv4)");
        assert_eq!((e.alertname.as_str(), e.name.as_str(), e.cycle_ms), ("CheckFailed", "web", 30_000));
    }

    #[test]
    fn what_it_remembers_survives_the_state_file() {
        let mut s = Sources::default();
        states(&mut s, &rule(3, 3), &[true, true]);
        s.daemon("chronyd", Some("gone".into()), Duration::from_secs(60));
        let status = PushStatus {
            receiver: "vm:8428".into(),
            failing_since: Some(1000),
            why: "503".into(),
            cycle: Duration::from_secs(15),
        };
        assert!(s.push(&status, Duration::from_secs(60), 2000).is_none());
        let mut w = Writer::new();
        s.save(&mut w);
        let text = w.finish();
        let mut back = Sources::default();
        back.load(&state::parse(text.as_bytes()).unwrap());
        assert_eq!(back, s);
        // The third failure in a row, in the next run: it fires.
        assert_eq!(states(&mut back, &rule(3, 3), &[true]), [Some(State::Firing)]);
        assert!(back.daemon("chronyd", Some("gone".into()), Duration::from_secs(60)).is_none(), "still down");
        let e = back.push(&PushStatus { failing_since: Some(5000), ..status.clone() }, Duration::from_secs(60), 61_000);
        assert_eq!(e.map(|e| (e.state, e.starts_ms)), Some((State::Firing, 1000)), "counted from the first failure");
        let e = back.push(&PushStatus { failing_since: None, ..status }, Duration::from_secs(60), 62_000);
        assert_eq!(e.map(|e| e.state), Some(State::Resolved));
    }

    #[test]
    fn a_removed_check_that_was_failing_is_resolved() {
        let mut s = Sources::default();
        states(&mut s, &rule(1, 1), &[true]);
        let gone = s.forget_checks(&[]);
        assert_eq!(gone.len(), 1);
        assert_eq!((gone[0].state, gone[0].name.as_str()), (State::Resolved, "web"));
        assert!(s.checks.is_empty());
    }
}
