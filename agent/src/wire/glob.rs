//! Shell patterns over one path component, as `[[log]] path` writes them:
//! `*` (any run of bytes), `?` (one byte), `[abc]`, `[a-z]`, `[!abc]` (or
//! `[^abc]`); any other byte stands for itself, and a `[` without its `]`
//! too. As in the shell, a name that starts with `.` is matched only by a
//! pattern that starts with `.`, so `*.log` leaves hidden files alone.
//!
//! Invariants: never panics; matching takes at most pattern × name steps
//! (one `*` is backtracked at a time, the classic two-pointer walk), so no
//! pattern can make a directory scan slow.

/// Whether `s` has any of the special bytes.
pub fn is_pattern(s: &[u8]) -> bool {
    s.iter().any(|b| matches!(b, b'*' | b'?' | b'['))
}

/// Whether `name` (one component, no `/`) matches `pattern`.
pub fn matches(pattern: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pattern.first() != Some(&b'.') {
        return false;
    }
    let (mut p, mut n) = (0, 0);
    // Where to resume after the last `*`: (pattern after it, name position).
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let step = match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, n));
                p += 1;
                continue;
            }
            Some(b'?') => Some(1),
            Some(b'[') => match class(&pattern[p..], name[n]) {
                Some((true, len)) => Some(len),
                Some((false, _)) => None,
                // No closing bracket: a literal '['.
                None => (name[n] == b'[').then_some(1),
            },
            Some(&c) => (c == name[n]).then_some(1),
            None => None,
        };
        match (step, star) {
            (Some(len), _) => {
                p += len;
                n += 1;
            }
            (None, Some((sp, sn))) => {
                // Let the last `*` take one more byte.
                p = sp;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            (None, None) => return false,
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&b| b == b'*')
}

/// The class at the start of `pat` (which starts with `[`): whether `c`
/// is in it, and the class's length; None when it is not closed.
fn class(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pat.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let b = *pat.get(i)?;
        if b == b']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        if pat.get(i + 1) == Some(&b'-') && pat.get(i + 2).is_some_and(|&e| e != b']') {
            let e = pat[i + 2];
            hit |= (b..=e).contains(&c);
            i += 3;
        } else {
            hit |= b == c;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_log_paths_use() {
        assert!(matches(b"*.log", b"dnsdist.log"));
        assert!(!matches(b"*.log", b"dnsdist.log.1"));
        assert!(matches(b"*.log*", b"dnsdist.log.1"));
        assert!(matches(b"app-????.log", b"app-2026.log"));
        assert!(!matches(b"app-????.log", b"app-202.log"));
        assert!(matches(b"kern.log.[0-9]", b"kern.log.7"));
        assert!(!matches(b"kern.log.[!0-9]", b"kern.log.7"));
        assert!(matches(b"a[]]b", b"a]b"));
        assert!(matches(b"a[b", b"a[b"), "an unclosed class is literal");
        assert!(matches(b"*", b"x"));
        assert!(!matches(b"*", b".hidden"));
        assert!(matches(b".*", b".hidden"));
        assert!(matches(b"a*b*c", b"aXXbYYbZZc"));
        assert!(!matches(b"a*b*c", b"aXXbYYbZZ"));
        assert!(matches(b"", b""));
        assert!(!matches(b"", b"x"));
        assert!(is_pattern(b"/var/log/*.log") && !is_pattern(b"/var/log/syslog"));
    }

    #[test]
    fn many_stars_stay_linear() {
        let pat = b"*a*a*a*a*a*a*a*a*a*a*b";
        assert!(!matches(pat, &[b'a'; 255]));
    }
}
