//! Regular expressions, in RE2's syntax as blackbox_exporter and mtail
//! use them, compiled once when the config is read: the one engine in
//! sonde (regex-lite, which trades search speed for size; the patterns are
//! short and the texts are lines).
//!
//! A pattern that does not compile is the config's error, with the
//! engine's words. Compiled programs are bounded ([`MAX_PROGRAM`]) so a
//! hostile pattern cannot take the box's memory, and matching is linear in
//! the text (no backtracking), so no line can make a match slow.
//!
//! Text that is not UTF-8 (a log line, a banner) is matched as its lossy
//! conversion: invalid bytes read as U+FFFD.

use std::borrow::Cow;
use std::fmt;

/// Most bytes one compiled pattern may take.
pub const MAX_PROGRAM: usize = 256 * 1024;

/// Deepest nesting of groups and repetitions in a pattern.
const MAX_NEST: u32 = 64;

/// A compiled pattern that remembers how it was written.
#[derive(Clone)]
pub struct Regex {
    source: String,
    re: regex_lite::Regex,
}

impl Regex {
    /// Compiles `pattern`; the error says why, in the engine's words.
    pub fn new(pattern: &str) -> Result<Regex, String> {
        let re = regex_lite::RegexBuilder::new(pattern)
            .size_limit(MAX_PROGRAM)
            .nest_limit(MAX_NEST)
            .build()
            .map_err(|e| e.to_string().lines().last().unwrap_or("invalid pattern").trim().to_owned())?;
        Ok(Regex { source: pattern.to_owned(), re })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether it matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.re.is_match(text)
    }

    /// [`Regex::is_match`] for bytes, read as UTF-8 (lossily).
    pub fn is_match_bytes(&self, text: &[u8]) -> bool {
        self.re.is_match(&String::from_utf8_lossy(text))
    }

    /// The named groups of the first match: `(name, text)`, in the
    /// pattern's order; None when it does not match.
    pub fn named<'t>(&self, text: &'t str) -> Option<Vec<(&str, &'t str)>> {
        let caps = self.re.captures(text)?;
        Some(self.re.capture_names().flatten().filter_map(|name| caps.name(name).map(|m| (name, m.as_str()))).collect())
    }

    /// The names of the named groups, in the pattern's order.
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.re.capture_names().flatten()
    }

    /// Matches `text`; on a match, `out` holds the text of each group in
    /// `names` (empty for a group that took no part), in that order.
    pub fn groups<'t, S: AsRef<str>>(&self, text: &'t str, names: &[S], out: &mut Vec<&'t str>) -> bool {
        out.clear();
        let Some(caps) = self.re.captures(text) else { return false };
        out.extend(names.iter().map(|n| caps.name(n.as_ref()).map_or("", |m| m.as_str())));
        true
    }

    /// Lossy UTF-8 of `bytes`, for a caller that matches several patterns
    /// against one line.
    pub fn text(bytes: &[u8]) -> Cow<'_, str> {
        String::from_utf8_lossy(bytes)
    }
}

/// Two patterns are the same setting when they are written the same way.
impl PartialEq for Regex {
    fn eq(&self, other: &Regex) -> bool {
        self.source == other.source
    }
}

impl Eq for Regex {}

impl fmt::Debug for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Regex({:?})", self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blackbox_patterns_match_as_re2_reads_them() {
        let smtp = Regex::new("^220 .*ESMTP").unwrap();
        assert!(smtp.is_match("220 mail.example ESMTP OpenSMTPD"));
        assert!(!smtp.is_match("554 220 ESMTP"));
        let ssh = Regex::new("^SSH-2.0-").unwrap();
        assert!(ssh.is_match_bytes(b"SSH-2.0-OpenSSH_9.2p1\xff"));
        assert!(Regex::new(r"(?i)content-type:\s*text/html").unwrap().is_match("Content-Type: text/HTML"));
    }

    #[test]
    fn named_groups_come_out_in_order() {
        let re = Regex::new(r"Ban (?P<ip>\S+) after (?P<n>\d+)").unwrap();
        assert_eq!(re.named("NOTICE [sshd] Ban 192.0.2.7 after 5"), Some(vec![("ip", "192.0.2.7"), ("n", "5")]));
        assert_eq!(re.named("Unban 192.0.2.7"), None);
        assert_eq!(re.group_names().collect::<Vec<_>>(), ["ip", "n"]);
        let mut out = Vec::new();
        let re = Regex::new(r"Ban (?P<ip>\S+)(?: after (?P<n>\d+))?").unwrap();
        assert!(re.groups("Ban 192.0.2.7", &["n", "ip"], &mut out));
        assert_eq!(out, ["", "192.0.2.7"]);
        assert!(!re.groups("Unban", &["ip"], &mut out));
    }

    #[test]
    fn a_bad_pattern_is_an_error_in_words() {
        let e = Regex::new("a(b").unwrap_err();
        assert!(!e.is_empty() && !e.contains('\n'), "{e}");
        assert!(Regex::new(&"(".repeat(100)).is_err(), "nesting bounded");
        assert!(Regex::new("a{1000}{1000}").is_err(), "program size bounded");
    }

    #[test]
    fn equal_when_written_alike() {
        assert_eq!(Regex::new("^a").unwrap(), Regex::new("^a").unwrap());
        assert_ne!(Regex::new("^a").unwrap(), Regex::new("^a$").unwrap());
    }
}
