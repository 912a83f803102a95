//! The config file is written by hand and reloaded at run time, so both
//! the syntax layer and the schema on top of it must turn any text into a
//! config or a list of errors, never a panic, and every error must point
//! at a line that exists (or the one just past a final newline).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The parser counts '\n'; its last line number is count + 1.
    let max = text.lines().count() + 1;
    let in_range = |line: usize| (1..=max).contains(&line);

    let syntax = sonde::wire::toml::parse(text);
    match &syntax {
        Ok(sections) => {
            for s in sections {
                assert!(in_range(s.line), "section line {} of {max}", s.line);
                for e in &s.entries {
                    assert!(in_range(e.line), "entry line {} of {max}", e.line);
                }
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in errors {
                assert!(in_range(e.line), "error line {} of {max}: {}", e.line, e.message);
            }
            // Documented: "every error found, in line order".
            assert!(errors.windows(2).all(|w| w[0].line <= w[1].line), "{errors:?}");
        }
    }

    match sonde::config::parse(text) {
        Ok(_) => assert!(syntax.is_ok(), "schema accepted what the syntax refused"),
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in &errors {
                assert!(in_range(e.line), "error line {} of {max}: {}", e.line, e.message);
            }
        }
    }
});
