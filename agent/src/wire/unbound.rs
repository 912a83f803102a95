//! Unbound's statistics text: the reply to `UBCT1 stats_noreset` on its
//! remote-control channel (NLnetLabs/unbound `daemon/remote.c`, `do_stats`;
//! `shared/reference/exporters.md` §3.2).
//!
//! The reply is `key=value\n` lines, then EOF: a `threadN.*` block per
//! thread, a `total.*` block, `time.now`, `time.up`, `time.elapsed`, and,
//! with `extended-statistics: yes`, `mem.*`, `histogram.*` and the
//! extended counters (`num.query.type.A`, `num.answer.rcode.NXDOMAIN`, …).
//! A reply that starts with `error` is Unbound refusing the command.
//!
//! [`parse`] keeps the keys sonde exports ([`THREAD_KEYS`], [`GLOBAL_KEYS`],
//! the [`LABELLED`] families and the histogram) and counts the others in
//! [`Stats::skipped`], so a newer Unbound's new keys cost nothing and are
//! seen. Invariants, for any input:
//! - a thread index above [`MAX_UNBOUND_THREADS`], more than
//!   [`MAX_UNBOUND_LABELLED`] labelled lines or [`MAX_UNBOUND_BUCKETS`]
//!   histogram lines is an error: nothing is allocated in proportion to a
//!   number in the input (`thread999999999.num.queries` allocates nothing);
//! - every value kept is a finite, non-negative decimal, and histogram
//!   counts are integers with ascending bounds;
//! - a key given twice is an error, so no series is written twice;
//! - a reply cut mid-line is an error, never a shorter number taken as
//!   true: the last line must end in `\n`; and the lines Unbound always
//!   prints (`total.num.queries`, `time.up`) must be there. A cut exactly
//!   between two later lines (in the extended block) cannot be told from
//!   a shorter reply; the transport reads to EOF, so only a peer that
//!   closes early produces one.
//!
//! Label values are borrowed from the input and checked to be short words
//! (`\w` and `-`, as the letsencrypt exporter's patterns match them).

use super::{lines, parse_f64, parse_u64, Error};

/// Highest Unbound thread number plus one that is accepted (`num-threads`
/// is rarely above the core count). A larger `threadN` fails the parse, so
/// no number in the reply sizes an allocation.
pub const MAX_UNBOUND_THREADS: usize = 256;

/// Most labelled lines (query types, classes, rcodes, memory by module)
/// in one reply; Unbound prints a few dozen.
pub const MAX_UNBOUND_LABELLED: usize = 1024;

/// Most histogram buckets in one reply; Unbound prints 40.
pub const MAX_UNBOUND_BUCKETS: usize = 64;

/// The per-thread (`threadN.`) and `total.` keys that are exported, in the
/// order of [`Stats::threads`]' and [`Stats::total`]'s arrays.
pub const THREAD_KEYS: &[&str] = &[
    "num.queries",
    "num.cachehits",
    "num.cachemiss",
    "num.prefetch",
    "num.expired",
    "num.recursivereplies",
    "num.queries_cookie_valid",
    "num.queries_cookie_client",
    "num.queries_cookie_invalid",
    "num.queries_discard_timeout",
    "num.queries_replyaddr_limit",
    "num.queries_wait_limit",
    "num.dns_error_reports",
    "requestlist.overwritten",
    "requestlist.exceeded",
    "requestlist.current.all",
    "requestlist.current.user",
    "requestlist.current.replies",
    "recursion.time.avg",
    "recursion.time.median",
];

/// Index of a key in [`THREAD_KEYS`].
pub mod thread_key {
    pub const QUERIES: usize = 0;
    pub const CACHEHITS: usize = 1;
    pub const CACHEMISS: usize = 2;
    pub const PREFETCH: usize = 3;
    pub const EXPIRED: usize = 4;
    pub const RECURSIVEREPLIES: usize = 5;
    pub const COOKIE_VALID: usize = 6;
    pub const COOKIE_CLIENT: usize = 7;
    pub const COOKIE_INVALID: usize = 8;
    pub const DISCARD_TIMEOUT: usize = 9;
    pub const REPLYADDR_LIMIT: usize = 10;
    pub const WAIT_LIMIT: usize = 11;
    pub const DNS_ERROR_REPORTS: usize = 12;
    pub const OVERWRITTEN: usize = 13;
    pub const EXCEEDED: usize = 14;
    pub const CURRENT_ALL: usize = 15;
    pub const CURRENT_USER: usize = 16;
    pub const CURRENT_REPLIES: usize = 17;
    pub const RECURSION_AVG: usize = 18;
    pub const RECURSION_MEDIAN: usize = 19;
}

/// The single-valued keys outside the thread blocks that are exported, in
/// the order of [`Stats::global`].
pub const GLOBAL_KEYS: &[&str] = &[
    "time.now",
    "time.up",
    "time.elapsed",
    "mem.total.sbrk",
    "mem.quic",
    "num.answer.bogus",
    "num.answer.secure",
    "num.rrset.bogus",
    "num.query.subnet",
    "num.query.subnet_cache",
    "num.query.ipv6",
    "num.query.edns.DO",
    "num.query.edns.present",
    "num.query.tcp",
    "num.query.tcpout",
    "num.query.tls",
    "num.query.tls.resume",
    "num.query.https",
    "num.query.quic",
    "num.query.udpout",
    "num.valops",
    "unwanted.queries",
    "unwanted.replies",
    "msg.cache.count",
    "msg.cache.max_collisions",
    "rrset.cache.count",
    "rrset.cache.max_collisions",
    "infra.cache.count",
];

/// Index of a key in [`GLOBAL_KEYS`].
pub mod global_key {
    pub const TIME_NOW: usize = 0;
    pub const TIME_UP: usize = 1;
    pub const TIME_ELAPSED: usize = 2;
}

/// The prefixes of the labelled families: the rest of the key is the label
/// value (`num.query.type.` + `AAAA`). Longest first where one prefix
/// starts another, as `num.query.` keys of [`GLOBAL_KEYS`] are matched
/// before these.
pub const LABELLED: &[&str] = &[
    "num.query.type.",
    "num.query.class.",
    "num.query.opcode.",
    "num.query.flags.",
    "num.query.aggressive.",
    "num.answer.rcode.",
    "num.rpz.action.rpz-",
    "mem.cache.",
    "mem.mod.",
    "mem.http.",
];

/// Longest label value taken from a key; Unbound's are type, class, rcode
/// and module names, `TYPE65535` at most.
pub const MAX_LABEL: usize = 32;

/// Longest line accepted; Unbound's longest key is under 60 bytes.
pub const MAX_LINE: usize = 256;

/// One `threadN.` or `total.` block: each of [`THREAD_KEYS`], if present.
pub type Block = [Option<f64>; THREAD_KEYS.len()];

/// A `num.query.type.A=12` line: the family (an index in [`LABELLED`]),
/// the label value, the value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Labelled<'a> {
    pub family: usize,
    pub label: &'a str,
    pub value: f64,
}

/// One `histogram.A.B.to.C.D=n` line: the upper bound C.D in seconds and
/// the (non-cumulative) count of recursive replies in the bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    pub upper: f64,
    pub count: u64,
}

/// A parsed `stats_noreset` reply.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats<'a> {
    /// By thread number; a thread Unbound did not print is all `None`.
    pub threads: Vec<Block>,
    pub total: Block,
    pub global: [Option<f64>; GLOBAL_KEYS.len()],
    /// In the reply's order.
    pub labelled: Vec<Labelled<'a>>,
    /// In the reply's order, which is ascending.
    pub histogram: Vec<Bucket>,
    /// Lines whose key sonde does not export.
    pub skipped: u64,
}

impl<'a> Stats<'a> {
    /// A parse into `self`, reusing its vectors' capacity.
    pub fn clear(&mut self) {
        self.threads.clear();
        self.total = [None; THREAD_KEYS.len()];
        self.global = [None; GLOBAL_KEYS.len()];
        self.labelled.clear();
        self.histogram.clear();
        self.skipped = 0;
    }
}

/// Parses a whole `stats_noreset` reply.
pub fn parse(input: &[u8]) -> Result<Stats<'_>, Error> {
    let mut stats = Stats::default();
    parse_into(input, &mut stats)?;
    Ok(stats)
}

/// [`parse`] into `stats`, which is cleared first.
pub fn parse_into<'a>(input: &'a [u8], stats: &mut Stats<'a>) -> Result<(), Error> {
    stats.clear();
    if input.is_empty() {
        return Err(Error::at(0, "empty reply"));
    }
    if input.starts_with(b"error") {
        return Err(Error::at(1, "unbound answered with an error"));
    }
    let count = lines(input).count();
    if !input.ends_with(b"\n") {
        return Err(Error::at(count, "reply ends mid-line"));
    }
    for (n, line) in lines(input) {
        one_line(line, stats).map_err(|what| Error::at(n, what))?;
    }
    if stats.total[thread_key::QUERIES].is_none() || stats.global[global_key::TIME_UP].is_none() {
        return Err(Error::at(count, "reply incomplete: no total.num.queries or time.up"));
    }
    Ok(())
}

fn one_line<'a>(line: &'a [u8], stats: &mut Stats<'a>) -> Result<(), &'static str> {
    if line.len() > MAX_LINE {
        return Err("line too long");
    }
    let line = std::str::from_utf8(line).map_err(|_| "not text")?;
    let (key, value) = line.split_once('=').ok_or("no '=' in line")?;
    if value.contains('=') {
        return Err("more than one '=' in line");
    }
    let value = number(value).ok_or("value is not a non-negative decimal number")?;

    if let Some(rest) = key.strip_prefix("thread") {
        let (index, suffix) = rest.split_once('.').ok_or("thread key without a '.'")?;
        let Some(k) = THREAD_KEYS.iter().position(|&t| t == suffix) else {
            stats.skipped += 1;
            return Ok(());
        };
        let index = thread_index(index)?;
        if stats.threads.len() <= index {
            stats.threads.resize(index + 1, [None; THREAD_KEYS.len()]);
        }
        return set(&mut stats.threads[index][k], value);
    }
    if let Some(suffix) = key.strip_prefix("total.") {
        return match THREAD_KEYS.iter().position(|&t| t == suffix) {
            Some(k) => set(&mut stats.total[k], value),
            None => {
                stats.skipped += 1;
                Ok(())
            }
        };
    }
    if let Some(k) = GLOBAL_KEYS.iter().position(|&g| g == key) {
        return set(&mut stats.global[k], value);
    }
    if let Some(bounds) = key.strip_prefix("histogram.") {
        return bucket(bounds, value, &mut stats.histogram);
    }
    for (family, prefix) in LABELLED.iter().enumerate() {
        if let Some(label) = key.strip_prefix(prefix) {
            return labelled(family, label, value, &mut stats.labelled);
        }
    }
    stats.skipped += 1;
    Ok(())
}

/// A thread number as Unbound prints it (`%d`): digits, no leading zero,
/// below [`MAX_UNBOUND_THREADS`].
fn thread_index(digits: &str) -> Result<usize, &'static str> {
    if digits.len() > 1 && digits.starts_with('0') {
        return Err("thread number with a leading zero");
    }
    let n = parse_u64(digits.as_bytes()).ok_or("thread number is not a number")?;
    if n >= MAX_UNBOUND_THREADS as u64 {
        return Err("thread number beyond limits::MAX_UNBOUND_THREADS");
    }
    Ok(n as usize)
}

fn set(slot: &mut Option<f64>, value: f64) -> Result<(), &'static str> {
    if slot.replace(value).is_some() {
        return Err("key given twice");
    }
    Ok(())
}

/// `%lu`, `%g` or `sec.usec` as Unbound prints them: starts with a digit,
/// finite. Signs, `inf` and `nan` are refused.
fn number(s: &str) -> Option<f64> {
    if !s.as_bytes().first()?.is_ascii_digit() {
        return None;
    }
    parse_f64(s.as_bytes()).filter(|v| *v >= 0.0)
}

/// `000000.000000.to.000000.000001`: the upper bound is the second pair.
fn bucket(bounds: &str, value: f64, out: &mut Vec<Bucket>) -> Result<(), &'static str> {
    const MALFORMED: &str = "histogram key is not histogram.SEC.USEC.to.SEC.USEC";
    let (lower, upper) = bounds.split_once(".to.").ok_or(MALFORMED)?;
    let lower = sec_usec(lower).ok_or(MALFORMED)?;
    let upper = sec_usec(upper).ok_or(MALFORMED)?;
    if upper <= lower || out.last().is_some_and(|b| upper <= b.upper) {
        return Err("histogram buckets out of order");
    }
    if value.fract() != 0.0 || value >= u64::MAX as f64 {
        return Err("histogram count is not an integer");
    }
    if out.len() == MAX_UNBOUND_BUCKETS {
        return Err("more histogram buckets than limits::MAX_UNBOUND_BUCKETS");
    }
    out.push(Bucket { upper, count: value as u64 });
    Ok(())
}

/// `SSSSSS.UUUUUU`: seconds, and microseconds in six digits.
fn sec_usec(s: &str) -> Option<f64> {
    let (sec, usec) = s.split_once('.')?;
    if usec.len() != 6 {
        return None;
    }
    let sec = parse_u64(sec.as_bytes())?;
    let usec = parse_u64(usec.as_bytes())?;
    Some(sec as f64 + usec as f64 / 1e6)
}

fn labelled<'a>(family: usize, label: &'a str, value: f64, out: &mut Vec<Labelled<'a>>) -> Result<(), &'static str> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    if label.is_empty() || label.len() > MAX_LABEL || !label.bytes().all(word) {
        return Err("label in key is not a short word");
    }
    // Bounded by MAX_UNBOUND_LABELLED, so this scan is too.
    if out.iter().any(|l| l.family == family && l.label == label) {
        return Err("key given twice");
    }
    if out.len() == MAX_UNBOUND_LABELLED {
        return Err("more labelled lines than limits::MAX_UNBOUND_LABELLED");
    }
    out.push(Labelled { family, label, value });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = include_bytes!("../../../tests/fixtures/unbound/1.17.1/stats_noreset.txt");
    const PLAIN: &[u8] = include_bytes!("../../../tests/fixtures/unbound/1.17.1/stats_noreset.plain.txt");

    fn global(s: &Stats<'_>, key: &str) -> Option<f64> {
        s.global[GLOBAL_KEYS.iter().position(|&k| k == key).unwrap()]
    }

    fn label(s: &Stats<'_>, prefix: &str, label: &str) -> Option<f64> {
        let family = LABELLED.iter().position(|&p| p == prefix).unwrap();
        s.labelled.iter().find(|l| l.family == family && l.label == label).map(|l| l.value)
    }

    #[test]
    fn captured_extended_reply() {
        let s = parse(CAPTURED).unwrap();
        assert_eq!(s.threads.len(), 1);
        assert_eq!(s.threads[0][thread_key::QUERIES], s.total[thread_key::QUERIES]);
        assert!(s.total[thread_key::QUERIES].unwrap() > 0.0);
        assert!(global(&s, "time.up").is_some());
        assert!(s.histogram.len() == 40, "{}", s.histogram.len());
        assert_eq!(s.histogram[0].upper, 0.000001);
        assert_eq!(s.histogram[39].upper, 524288.0);
        assert!(label(&s, "num.query.type.", "A").is_some());
        assert!(label(&s, "num.answer.rcode.", "NXDOMAIN").is_some());
        assert!(label(&s, "mem.cache.", "rrset").is_some());
        // Keys Unbound prints that sonde does not export, as the letsencrypt
        // exporter does not (num.queries_ip_ratelimited, tcpusage, ...).
        assert!(s.skipped > 0);
    }

    #[test]
    fn captured_plain_reply_has_no_extended_lines() {
        let s = parse(PLAIN).unwrap();
        assert!(s.histogram.is_empty());
        assert!(s.labelled.is_empty());
        assert!(global(&s, "time.now").is_some());
    }

    #[test]
    fn every_truncated_prefix_is_an_error_or_whole_lines() {
        for end in 0..CAPTURED.len() {
            let cut = &CAPTURED[..end];
            if let Ok(s) = parse(cut) {
                // Only a cut after a whole line past the mandatory ones
                // parses, and then it is a prefix of the real thing.
                assert!(cut.ends_with(b"\n"));
                assert!(s.histogram.len() <= 40);
            }
        }
    }

    #[test]
    fn a_cut_mid_line_is_an_error() {
        let e = parse(b"total.num.queries=1\ntime.up=1\nthread0.num.queries=1").unwrap_err();
        assert_eq!(e, Error::at(3, "reply ends mid-line"));
    }

    #[test]
    fn huge_thread_numbers_allocate_nothing() {
        let input = b"thread999999999.num.queries=1\ntotal.num.queries=1\ntime.up=1\n";
        let e = parse(input).unwrap_err();
        assert_eq!(e, Error::at(1, "thread number beyond limits::MAX_UNBOUND_THREADS"));
        let input = b"thread99999999999999999999999.num.queries=1\n";
        assert!(parse(input).is_err());
        // An unknown key of a huge thread is skipped without looking at it.
        let s = parse(b"thread999999999.num.new=1\ntotal.num.queries=1\ntime.up=1\n").unwrap();
        assert_eq!((s.threads.len(), s.skipped), (0, 1));
    }

    #[test]
    fn values_are_checked() {
        for bad in ["-1", "inf", "nan", "", "1e", "0x10", "+1", " 1", "1=2"] {
            let input = format!("total.num.queries={bad}\ntime.up=1\n");
            assert!(parse(input.as_bytes()).is_err(), "{bad}");
        }
        let s = parse(b"total.num.queries=12\ntime.up=3.500000\ntotal.requestlist.avg=1.5e+06\n").unwrap();
        assert_eq!(s.total[thread_key::QUERIES], Some(12.0));
        assert_eq!(s.skipped, 1);
    }

    #[test]
    fn unknown_keys_are_skipped_and_counted() {
        let s =
            parse(b"total.num.queries=1\ntime.up=1\nnum.new.thing=5\nthread0.num.new=1\ntotal.tcpusage=0\n").unwrap();
        assert_eq!(s.skipped, 3);
    }

    #[test]
    fn errors_and_garbage_are_errors() {
        assert_eq!(parse(b"error version mismatch\n").unwrap_err().line, 1);
        assert!(parse(b"").is_err());
        assert!(parse(b"\x00\xff\n").is_err());
        assert!(parse(b"hello\n").is_err());
        assert!(parse(b"total.num.queries=1\n").is_err(), "no time.up");
        assert!(parse(b"total.num.queries=1\ntotal.num.queries=2\ntime.up=1\n").is_err(), "twice");
        assert!(parse(b"total.num.queries=1\ntime.up=1\nnum.query.type.A=1\nnum.query.type.A=1\n").is_err());
        assert!(parse(b"total.num.queries=1\ntime.up=1\nnum.query.type.A\"=1\n").is_err());
        assert!(parse(b"thread01.num.queries=1\ntotal.num.queries=1\ntime.up=1\n").is_err());
    }

    #[test]
    fn histogram_buckets_are_checked() {
        let ok = b"total.num.queries=1\ntime.up=1\nhistogram.000000.000000.to.000000.000001=2\n\
                   histogram.000000.000001.to.000000.000002=0\n";
        let s = parse(ok).unwrap();
        assert_eq!(s.histogram, vec![Bucket { upper: 0.000001, count: 2 }, Bucket { upper: 0.000002, count: 0 }]);
        for bad in [
            "histogram.000000.000001.to.000000.000002=1\nhistogram.000000.000000.to.000000.000001=1\n",
            "histogram.000000.000000.to.000000.000001=1.5\n",
            "histogram.0.0.to.1.0=1\n",
            "histogram.000001.000000.to.000000.000001=1\n",
        ] {
            let input = format!("total.num.queries=1\ntime.up=1\n{bad}");
            assert!(parse(input.as_bytes()).is_err(), "{bad}");
        }
        let mut many = String::from("total.num.queries=1\ntime.up=1\n");
        for i in 0..=MAX_UNBOUND_BUCKETS {
            many.push_str(&format!("histogram.{:06}.000000.to.{:06}.000000=0\n", i, i + 1));
        }
        assert!(parse(many.as_bytes()).is_err());
    }

    #[test]
    fn labelled_lines_are_bounded() {
        let mut many = String::from("total.num.queries=1\ntime.up=1\n");
        for i in 0..=MAX_UNBOUND_LABELLED {
            many.push_str(&format!("num.query.type.TYPE{i}=1\n"));
        }
        let e = parse(many.as_bytes()).unwrap_err();
        assert_eq!(e.what, "more labelled lines than limits::MAX_UNBOUND_LABELLED");
    }
}
