//! os-release(5): `/etc/os-release`, the operating system's identity as
//! shell-style `KEY=value` assignments.
//!
//! ```text
//! NAME="OpenWrt"
//! VERSION="23.05.3"
//! ID="openwrt"
//! ID_LIKE="lede openwrt"
//! PRETTY_NAME="OpenWrt 23.05.3"
//! ```
//!
//! A value is bare, in double quotes (where `\"`, `\\`, `\$` and `` \` ``
//! are escapes), or in single quotes (no escapes). Lines starting with `#`
//! and blank lines are skipped. A value is borrowed from the input unless
//! it holds an escape.

use std::borrow::Cow;

use crate::wire::{lines, Error};

/// The assignments in file order; a line that is not one is an error
/// item and the following lines still come.
pub fn parse(input: &[u8]) -> impl Iterator<Item = Result<(&str, Cow<'_, str>), Error>> {
    lines(input)
        .filter(|(_, l)| {
            let l = l.trim_ascii_start();
            !l.is_empty() && !l.starts_with(b"#")
        })
        .map(|(n, line)| parse_line(line).ok_or(Error::at(n, "not a KEY=value line")))
}

fn parse_line(line: &[u8]) -> Option<(&str, Cow<'_, str>)> {
    let line = std::str::from_utf8(line).ok()?.trim();
    let (key, raw) = line.split_once('=')?;
    let key_ok = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !key_ok {
        return None;
    }
    let value = match raw.as_bytes().first() {
        Some(b'\'') => Cow::Borrowed(raw[1..].strip_suffix('\'')?),
        Some(b'"') => {
            let inner = raw[1..].strip_suffix('"')?;
            if !inner.contains('\\') {
                // An unescaped quote inside is a second string: not allowed.
                if inner.contains('"') {
                    return None;
                }
                Cow::Borrowed(inner)
            } else {
                let mut out = String::with_capacity(inner.len());
                let mut chars = inner.chars();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => match chars.next()? {
                            e @ ('"' | '\\' | '$' | '`') => out.push(e),
                            other => {
                                out.push('\\');
                                out.push(other);
                            }
                        },
                        '"' => return None,
                        c => out.push(c),
                    }
                }
                Cow::Owned(out)
            }
        }
        _ if raw.contains(['"', '\'', ' ']) => return None,
        _ => Cow::Borrowed(raw),
    };
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    // OpenWrt 23.05.3's /usr/lib/os-release, shortened.
    const CAPTURED: &[u8] = b"NAME=\"OpenWrt\"\n\
VERSION=\"23.05.3\"\n\
ID=\"openwrt\"\n\
ID_LIKE=\"lede openwrt\"\n\
PRETTY_NAME=\"OpenWrt 23.05.3\"\n\
VERSION_ID=\"23.05.3\"\n\
BUILD_ID=\"r23809-234f1a2efa\"\n\
# a comment\n\
\n\
OPENWRT_BOARD=ramips/mt7621\n";

    #[test]
    fn parse_captured_os_release() {
        let got: Vec<_> = parse(CAPTURED).map(Result::unwrap).collect();
        assert_eq!(got.len(), 8);
        assert_eq!(got[3], ("ID_LIKE", Cow::Borrowed("lede openwrt")));
        assert_eq!(got[7], ("OPENWRT_BOARD", Cow::Borrowed("ramips/mt7621")));
    }

    #[test]
    fn quotes_and_escapes() {
        let got: Vec<_> = parse(b"A='x \"y\"'\nB=\"a\\\"b\\\\c\\$\"\nC=\"unterminated\nD=two words\nE=\n").collect();
        assert_eq!(got[0], Ok(("A", Cow::Borrowed("x \"y\""))));
        assert_eq!(got[1], Ok(("B", Cow::Owned("a\"b\\c$".to_owned()))));
        assert!(got[2].is_err());
        assert!(got[3].is_err());
        assert_eq!(got[4], Ok(("E", Cow::Borrowed(""))));
    }

    #[test]
    fn truncated_os_release_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                let _ = item;
            }
        }
    }
}
