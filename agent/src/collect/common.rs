//! Helpers the host collectors share: reading a one-number file, writing a
//! one-sample family, sorting names, matching the globs of their filters.
//!
//! A kernel without a feature has no file for it (no conntrack module, no
//! PSI, no IPv6); node_exporter calls that "no data" and reports success,
//! and so does sonde ([`Context::read_opt`]). A file that exists but cannot
//! be read or parsed is a failure.

use super::{Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::number;

/// The number in a one-number file; `None` if the file is absent.
pub fn read_number(cx: &mut Context<'_>, root: Root, parts: &[&str]) -> Result<Option<i64>, Error> {
    let Some(bytes) = cx.read_opt(root, parts)? else {
        return Ok(None);
    };
    number::parse(bytes).map(Some).map_err(|e| cx.parse_error(e))
}

/// A family of one sample without labels.
pub fn single(out: &mut Exposition, name: &str, help: &str, kind: MetricType, value: f64) {
    out.family(name, help, kind);
    out.sample(&[], value);
}

/// Sorts names in place. Directory listings are tens of entries; an
/// insertion sort is a few hundred bytes of code where the standard
/// library's sorts, instantiated per element type, cost kilobytes.
pub fn sort_names(v: &mut [String]) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && v[j - 1] > v[j] {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Whether one of `patterns` matches all of `text`.
pub fn matches_any(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|p| glob(p.as_bytes(), text.as_bytes()))
}

/// `*` matches any run of bytes; the rest matches itself. Iterative, with
/// one backtrack point, so a pattern costs at most its length times the
/// text's.
pub fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_names() {
        assert!(glob(b"/dev", b"/dev"));
        assert!(!glob(b"/dev", b"/devices"));
        assert!(glob(b"/dev/*", b"/dev/shm"));
        assert!(glob(b"/dev/*", b"/dev/a/b"));
        assert!(!glob(b"/dev/*", b"/dev"));
        assert!(glob(b"veth*", b"veth0"));
        assert!(glob(b"*", b""));
        assert!(glob(b"a*b*c", b"aXXbYYbc"));
        assert!(!glob(b"a*b*c", b"aXXbYY"));
        assert!(!glob(b"", b"x"));
        assert!(glob(b"", b""));
    }
}
