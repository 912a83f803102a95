//! This engine against regex-lite, the crate it replaced: for every
//! pattern both compile, the same verdict and the same groups on every
//! text. The patterns are the ones sonde's examples, docs and tests use,
//! corner cases of the syntax, and thousands generated over a small
//! alphabet, where the corner cases of priority and empty matches live.
//!
//! Where the two differ on purpose the texts stay out of the way: RE2's
//! `\s` leaves out `\v` (regex-lite's has it), and `(?i)` on a class range
//! that spans both `Z` and `a` folds both ends here. A group repeated
//! `{0}` times is still a group here, as in Go, where regex-lite drops it
//! when no group follows.

use super::Regex;

/// The patterns sonde's examples, README, default config and tests
/// carry, and blackbox_exporter's and fail2ban's usual ones.
const WRITTEN: &[&str] = &[
    "^220 .*ESMTP",
    "^220",
    "^SSH-2.0-",
    "^+OK",
    "PING :([^ ]+)",
    "(?i)content-type:\\s*text/html",
    "(?i)error",
    "^ok",
    "ok",
    "h[e]llo",
    "hello from nginx",
    "^Apache",
    "json",
    "Ban (?P<ip>\\S+) after (?P<n>\\d+)",
    "Ban (?P<ip>\\S+)(?: after (?P<n>\\d+))?",
    "\\] Ban (?P<ip>\\S+)",
    "\\[(?P<jail>[a-z0-9_-]+)\\] Ban ",
    "\\[(?P<jail>[a-z]+)\\] Ban (?P<ip>\\S+)",
    "took (?P<seconds>[0-9.]+) ?s",
    "query took (?P<ms>\\d+)ms",
    "(?P<qtype>[A-Z]+) took (?P<ms>[0-9.]+)ms",
    "(?P<qtype>[A-Z]+) (?P<ms>\\S+)",
    "(?i)\\b(?:prio=)?(?P<severity>error|warning|notice|info|debug)\\b",
    "^(?P<severity>ERROR|WARN)\\b",
    "Failed password",
    "^nginx: master",
    "^(?:web|db|DaemonDown)$",
    "^(?:db|DaemonDown)$",
    "^$",
    ".",
    "",
    "^a$",
    "Failed password for (?:invalid user )?(?P<user>\\S+) from (?P<ip>[0-9.]+) port (?P<port>\\d+)",
    "(?m)^(?P<key>\\w+)=(?P<value>.*)$",
    "(?s)<title>(?P<title>.*?)</title>",
    "(?U)a+",
    "(?i)HTTP/1\\.[01] (?P<code>[2-5]\\d\\d)",
    "^[[:alpha:]][[:alnum:]_]*$",
    "[[:^digit:]]+",
    "[\\d\\s]+",
    "[^\\w.-]",
    "\\x41\\x{263a}\\t\\n\\r\\f\\v\\a",
    "\\.\\\\\\*\\+\\?\\(\\)\\|\\[\\]\\{\\}\\^\\$\\#\\&\\-\\~\\ \\/\\:",
    "[\\]\\[\\-^]",
    "[]a]",
    "[^]a]",
    "[-a]",
    "[a-]",
    "\\Aab\\z",
    "\\Bb\\B",
    "(a)|b",
    "(a|ab)(c|bcd)(d*)",
    "(a+)(b+)?",
    "(?:(a)|(b))+",
    "(a*)*",
    "(a*)+",
    "(a|b)*?c",
    "((a)|b)+",
    "(a?){3}",
    "(a*?){2,3}",
    "(?:a{2,4}){2}",
    "a{0}b",
    "(a){0}b",
    "x*y*z*",
    "(?i)[k-m]",
    "(?i:a)b",
    "a(?i)b|c",
    "(?-i:a)(?i)B",
    "(?P<first>a)(?<second>b)?",
    "é+",
    "[à-ÿ]+",
    ".\\b.",
    "^*a",
    "$+",
    "(?:^|,)(?P<field>[^,]*)",
];

/// Texts that exercise those patterns.
const TEXTS: &[&str] = &[
    "",
    "220 mail.example ESMTP OpenSMTPD",
    "554 220 ESMTP",
    "SSH-2.0-OpenSSH_9.2p1",
    "+OK POP3 ready",
    "PING :irc.example",
    "Content-Type: text/HTML; charset=utf-8",
    "an ERROR occurred",
    "ok\nnot ok",
    "hello from nginx",
    "Apache/2.4",
    "NOTICE [sshd] Ban 192.0.2.7 after 5",
    "[recidive] Ban 2001:db8::1",
    "Unban 192.0.2.7",
    "query took 1.5 s",
    "query took 42ms",
    "AAAA took 0.25ms",
    "<13>1 prio=warning something",
    "ERROR: disk full",
    "Failed password for invalid user admin from 198.51.100.3 port 4022 ssh2",
    "a=1\nbb=two words\n=x",
    "<html><title>Hi\nthere</title></html>",
    "HTTP/1.1 503 Service Unavailable",
    "abc_9",
    "x.y-z w",
    "A\u{263a}\t\n\r\x0c\x07",
    ".\\*+?()|[]{}^$#&-~ /:",
    "a]b-[c^",
    "ab",
    "abcd",
    "aaab",
    "aab ba",
    "Kk\u{212a}lM",
    "éé à ÿ",
    "a,b,,c",
    "xyz",
    "nginx: master process",
    "db",
];

/// `pattern` against every text, in both engines.
fn compare(pattern: &str, texts: &[&str]) -> bool {
    let (Ok(ours), Ok(theirs)) = (Regex::new(pattern), regex_lite::Regex::new(pattern)) else {
        return false;
    };
    for text in texts {
        assert_eq!(ours.is_match(text), theirs.is_match(text), "{pattern:?} on {text:?}");
        let mut spans = theirs.captures(text).map(|c| c.iter().map(|m| m.map(|m| m.range())).collect::<Vec<_>>());
        // regex-lite forgets a group repeated {0} times if no group follows.
        if let Some(spans) = &mut spans {
            spans.resize(ours.names.len(), None);
        }
        assert_eq!(ours.spans(text), spans, "{pattern:?} on {text:?}");
    }
    if !pattern.contains("{0}") {
        let names: Vec<_> = theirs.capture_names().flatten().collect();
        assert_eq!(ours.group_names().collect::<Vec<_>>(), names, "{pattern:?}");
    }
    true
}

#[test]
fn written_patterns_agree_with_regex_lite() {
    for pattern in WRITTEN {
        assert!(compare(pattern, TEXTS), "{pattern:?} should compile in both");
    }
}

#[test]
fn generated_patterns_agree_with_regex_lite() {
    // Every string over "ab" up to five long, and a few with a newline, a
    // capital, a non-word character and a multi-byte one.
    let mut owned = vec![String::new()];
    for len in 1..=5 {
        for bits in 0..1u32 << len {
            owned.push((0..len).map(|i| if bits >> i & 1 == 1 { 'b' } else { 'a' }).collect());
        }
    }
    owned.extend(["a\nb", "\nab\n", "AbA", "a b", "bé", "é", "ab_ba", "ba\n"].map(String::from));
    let texts: Vec<&str> = owned.iter().map(String::as_str).collect();

    const ATOMS: &[&str] = &[
        "a", "b", ".", "[ab]", "[^a]", "^", "$", "\\b", "\\B", "(a)", "(b|a)", "(a*)", "(|a)", "(?:ab|a)", "(a?)",
        "(?i)A", "(?s).", "(?m)$", "(?m)^", "\\w", "\\W", "(a|b|)", "(?U)a*",
    ];
    const OPS: &[&str] = &["", "", "*", "+", "?", "*?", "+?", "??", "{2}", "{1,2}", "{0,}", "{1,2}?", "{0,2}"];
    // A fixed linear congruential sequence: the same patterns every run.
    let mut state = 0x2545_f491_u64;
    let mut next = |n: usize| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize % n
    };
    let mut compiled = 0;
    for _ in 0..5000 {
        let mut pattern = String::new();
        for _ in 0..1 + next(3) {
            let piece = format!("{}{}", ATOMS[next(ATOMS.len())], OPS[next(OPS.len())]);
            match next(6) {
                0 => pattern = format!("({pattern}){}", OPS[next(OPS.len())]),
                1 => pattern = format!("{pattern}|{piece}"),
                2 => pattern = format!("(?:{pattern}{piece}){}", OPS[next(OPS.len())]),
                _ => pattern.push_str(&piece),
            }
        }
        compiled += compare(&pattern, &texts) as usize;
    }
    assert!(compiled > 4000, "only {compiled} patterns compiled in both");
}

#[test]
fn where_re2_is_followed_not_regex_lite() {
    // \s is RE2's, without \v; [[:space:]] has it.
    assert!(!Regex::new(r"\s").unwrap().is_match("\x0b"));
    assert!(Regex::new(r"[[:space:]]").unwrap().is_match("\x0b"));
    // (?i) folds both ends of a range that spans the two cases.
    assert!(Regex::new(r"(?i)[Z-a]").unwrap().is_match("z"));
}
