//! Regular expressions, in RE2's syntax as blackbox_exporter and mtail
//! use them, compiled once when the config is read: sonde's own small
//! engine, a parser (`parse`) and a Pike VM (`pike`), in place of a
//! crate whose generality cost more than the rest of this module weighs.
//!
//! What it reads: literals and escapes (`\.` `\t` `\x41` `\x{263a}`), `.`,
//! classes (`[a-z]`, `[^\]]`, `[[:alpha:]]`), `\d \w \s` and their
//! negations (ASCII, as in RE2), `^ $ \A \z \b \B`, groups `(...)`,
//! `(?:...)`, `(?P<name>...)` and `(?<name>...)`, `|`, `* + ? {n} {n,}
//! {n,m}` and their lazy forms, and the flags `i m s U`. `(?i)` folds
//! ASCII letters only. Anything else RE2 knows (`\p{Greek}`, octal
//! escapes, `\Q...\E`) is refused with the construct named, never read as
//! something else; so is what Go refuses (`a**`) or reads differently from
//! other engines (`\<`, a `{` that starts no repetition).
//!
//! Matching is leftmost-first, with the groups of the match Go and
//! regex-lite report (the differential tests compare with the latter).
//! Where regex-lite, the crate this replaced, read a pattern otherwise
//! than Go, Go is followed (`\s` has no `\v`; `(?i)[Z-a]` holds `z`), and
//! what it took beyond RE2 (`\u00e9`, `(?x)`, `a**`) is refused.
//! It is linear in the text (no backtracking), so no line can make a
//! match slow, and a compiled program is bounded ([`MAX_PROGRAM`], also
//! the bound of a match's memory) so a hostile pattern cannot take the
//! box's memory.
//!
//! A pattern that does not compile is the config's error, in one line.
//! Text that is not UTF-8 (a log line, a banner) is matched as its lossy
//! conversion: invalid bytes read as U+FFFD.

#[cfg(test)]
mod differential;
mod parse;
mod pike;

use std::borrow::Cow;
use std::fmt;

use pike::{Program, UNSET};

/// Most bytes one compiled pattern may take; a match takes about eight
/// times as many at most (two lists of threads with their groups' slots).
pub const MAX_PROGRAM: usize = 256 * 1024;

/// A compiled pattern that remembers how it was written.
#[derive(Clone)]
pub struct Regex {
    source: String,
    program: Program,
    /// Each group's name by index; group 0 is the whole match.
    names: Vec<Option<Box<str>>>,
}

impl Regex {
    /// Compiles `pattern`; the error says why, in one line.
    pub fn new(pattern: &str) -> Result<Regex, String> {
        let parsed = parse::parse(pattern)?;
        let program = pike::compile(&parsed.root, parsed.sets, parsed.names.len())?;
        Ok(Regex { source: pattern.to_owned(), program, names: parsed.names })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether it matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.program.run(text, 0).is_some()
    }

    /// [`Regex::is_match`] for bytes, read as UTF-8 (lossily).
    pub fn is_match_bytes(&self, text: &[u8]) -> bool {
        self.is_match(&String::from_utf8_lossy(text))
    }

    /// The named groups of the first match: `(name, text)`, in the
    /// pattern's order; None when it does not match.
    pub fn named<'t>(&self, text: &'t str) -> Option<Vec<(&str, &'t str)>> {
        let spans = self.spans(text)?;
        Some(self.names.iter().zip(spans).filter_map(|(name, span)| Some((name.as_deref()?, &text[span?]))).collect())
    }

    /// The names of the named groups, in the pattern's order.
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().flatten().map(|name| &**name)
    }

    /// Matches `text`; on a match, `out` holds the text of each group in
    /// `names` (empty for a group that took no part), in that order.
    pub fn groups<'t, S: AsRef<str>>(&self, text: &'t str, names: &[S], out: &mut Vec<&'t str>) -> bool {
        out.clear();
        let Some(spans) = self.spans(text) else { return false };
        out.extend(names.iter().map(|n| {
            let index = self.names.iter().position(|name| name.as_deref() == Some(n.as_ref()));
            index.and_then(|i| spans[i].clone()).map_or("", |span| &text[span])
        }));
        true
    }

    /// Where each group of the first match matched, by index (group 0 is
    /// the whole match); None when it does not match. For the tests that
    /// compare this engine with another.
    #[doc(hidden)]
    pub fn spans(&self, text: &str) -> Option<Vec<Option<std::ops::Range<usize>>>> {
        let slots = self.program.run(text, self.program.slots)?;
        Some(slots.chunks(2).map(|s| (s[0] != UNSET && s[1] != UNSET).then(|| s[0]..s[1])).collect())
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
        assert!(Regex::new("a{1000}{1000}").is_err(), "a repetition of a repetition");
        assert!(Regex::new("(?:a{1000}){1000}").is_err(), "program size bounded");
        assert!(Regex::new("(?:(?:){1000}){1000}").is_err(), "even of nothing");
    }

    #[test]
    fn what_it_does_not_know_it_refuses_by_name() {
        for (pattern, named) in [
            (r"\p{Greek}", r"\p"),
            (r"\pL", r"\p"),
            (r"(a)\1", r"\1"),
            (r"\Qa.b\E", r"\Q"),
            (r"\<word", r"\<"),
            (r"\u00e9", r"\u"),
            ("(?=a)", "(?="),
            ("(?<!a)b", "(?<!"),
            ("(?x) a", "(?x)"),
            ("a**", "*"),
            ("a{2}{3}", "{3}"),
            ("{\"status\":1}", "{\"status\":1}"),
            ("a{1001}", "1001"),
            ("[a&&b]", "&&"),
            ("[[:greek:]]", "[:greek:]"),
            ("[[a]]", "["),
            ("[z-a]", "z-a"),
            ("[\\b]", r"\b"),
            (r"\x{110000}", r"\x{110000}"),
            ("(?P<a-b>x)", "a-b"),
            ("(?P<a>x)(?P<a>y)", "a"),
            ("a)", ")"),
            ("[a", "]"),
            ("\\", "\\"),
        ] {
            let e = Regex::new(pattern).unwrap_err();
            assert!(e.contains(named) && !e.contains('\n'), "{pattern:?}: {e}");
        }
    }

    #[test]
    fn syntax_reads_as_in_re2() {
        let m = |p: &str, t: &str| Regex::new(p).unwrap().is_match(t);
        assert!(m(r"^\x41\x{263a}\.\t$", "A\u{263a}.\t"));
        assert!(m("^[[:alpha:]][[:^alpha:]]$", "a1") && !m("^[[:alpha:]]$", "1"));
        assert!(m(r"^\d\D\w\W\s\S$", "1a_ \tx"));
        assert!(!m(r"\s", "\x0b"), "RE2 \\s has no \\v");
        assert!(m(r"\bfoo\b", "a foo.") && !m(r"\bfoo\b", "afoo") && m(r"\Boo", "foo"));
        assert!(m("(?s)a.b", "a\nb") && !m("a.b", "a\nb"));
        assert!(m("(?m)^b$", "a\nb\nc") && !m("^b$", "a\nb\nc") && !m(r"\Ab", "a\nb"));
        assert!(m("(?i)straSSe", "STRAsse") && !m("(?i)é", "É"), "ASCII folding only");
        // blackbox's POP3 example: as in Go, the + repeats the anchor.
        assert!(m("^+OK", "OK") && !m("^+OK", "+OK POP3"));
        let first = |p: &str, t: &str| Regex::new(p).unwrap().named(t).map(|g| g[0].1.to_owned());
        assert_eq!(first("(?P<x>a+?)", "aaa").as_deref(), Some("a"));
        assert_eq!(first("(?U)(?P<x>a+)", "aaa").as_deref(), Some("a"));
        assert_eq!(first("(?U)(?P<x>a+?)", "aaa").as_deref(), Some("aaa"));
        assert_eq!(first("(?P<x>a{2,3})", "aaaa").as_deref(), Some("aaa"));
        assert_eq!(first("(?P<x>a|ab)(?:c|bcd)", "abcd").as_deref(), Some("a"), "leftmost-first, not longest");
    }

    #[test]
    fn equal_when_written_alike() {
        assert_eq!(Regex::new("^a").unwrap(), Regex::new("^a").unwrap());
        assert_ne!(Regex::new("^a").unwrap(), Regex::new("^a$").unwrap());
    }
}
