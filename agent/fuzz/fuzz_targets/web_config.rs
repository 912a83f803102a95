//! exporter-toolkit's web-config.yml is hand-written and reread when it
//! changes, while the endpoint serves: any text is a checked config or
//! errors with lines inside the file, never a panic; users stay bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::config::web::{parse, MAX_USERS};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let max_line = text.matches('\n').count() + 1;
    match parse(text) {
        Ok(w) => {
            assert!(w.users.len() <= MAX_USERS);
            assert!(w.rate_limit.is_none_or(|r| r.burst >= 1));
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            assert!(errors.iter().all(|(line, _)| *line <= max_line), "{errors:?}");
        }
    }
});
