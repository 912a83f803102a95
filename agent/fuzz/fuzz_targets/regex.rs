//! Patterns and texts of `wire::regex`: compiling never panics, matching
//! never panics, and whenever regex-lite (the engine it replaced) also
//! compiles the pattern, both give the same verdict and the same groups.
//! The input is `pattern \0 text`. Known, deliberate differences are left
//! out: RE2's `\s` has no `\v`, `(?i)` on a range spanning `Z` and `a`
//! folds both ends here, and a group repeated `{0}` times stays a group.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::regex::Regex;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (pattern, text) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let (Ok(pattern), Ok(text)) = (std::str::from_utf8(pattern), std::str::from_utf8(text)) else { return };
    if pattern.len() > 200 {
        return;
    }
    let Ok(ours) = Regex::new(pattern) else { return };
    let _ = ours.is_match(text);
    let Ok(theirs) = regex_lite::RegexBuilder::new(pattern).size_limit(1 << 20).build() else { return };
    let folds = pattern.split("(?").skip(1).any(|f| f.split([')', ':']).next().is_some_and(|f| f.contains('i')));
    if text.contains('\x0b') || folds && pattern.contains('[') {
        return;
    }
    assert_eq!(ours.is_match(text), theirs.is_match(text), "{pattern:?} on {text:?}");
    let mut spans = theirs.captures(text).map(|c| c.iter().map(|m| m.map(|m| m.range())).collect::<Vec<_>>());
    if let (Some(spans), Some(ours)) = (&mut spans, ours.spans(text)) {
        spans.resize(ours.len(), None);
    }
    assert_eq!(ours.spans(text), spans, "{pattern:?} on {text:?}");
    if !pattern.contains("{0") {
        let names: Vec<_> = theirs.capture_names().flatten().collect();
        assert_eq!(ours.group_names().collect::<Vec<_>>(), names, "{pattern:?}");
    }
});
