//! /proc/vmstat: one `name value` line per virtual memory counter
//! (Documentation/admin-guide/mm/, mm/vmstat.c `vmstat_text`).
//!
//! The set of names changes with every kernel release, so none is
//! expected; the collector picks the ones it exports.

use crate::wire::Error;

/// The counters in file order; a malformed line is an error item and the
/// lines after it still come.
pub fn parse(input: &[u8]) -> impl Iterator<Item = Result<(&str, i64), Error>> {
    super::name_values(input).map(|item| item.map(|(_, name, value)| (name, value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = b"nr_free_pages 5832118\npgpgin 1628729\npgpgout 9293820\n\
pswpin 0\npswpout 0\npgfault 72219838\npgmajfault 1413\noom_kill 0\n";

    #[test]
    fn parse_captured_vmstat() {
        let got: Vec<_> = parse(CAPTURED).map(Result::unwrap).collect();
        assert_eq!(got.len(), 8);
        assert_eq!(got[1], ("pgpgin", 1_628_729));
        assert_eq!(got[7], ("oom_kill", 0));
    }

    #[test]
    fn truncated_vmstat_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                let _ = item;
            }
        }
        assert!(parse(b"pgfault\n").next().unwrap().is_err());
        assert!(parse(b"pgfault 1 2\n").next().unwrap().is_err());
    }
}
