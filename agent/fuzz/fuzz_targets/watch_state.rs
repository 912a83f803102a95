//! The watchdog's state file is read back after a crash or a power cut
//! (and by `--once` from cron at every run): any bytes decode to a state
//! or an error, never a panic, and what a decoded state encodes to reads
//! back the same at the second round (the first drops what encode leaves
//! out: zero windows, a start time without its PID). /proc/PID/stat and status, read for every
//! watched process each cycle, go through the same target.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::watch::state;
use sonde::wire::proc::pid_stat;

fuzz_target!(|data: &[u8]| {
    if let Ok(saved) = state::decode(data) {
        let once = state::decode(state::encode(&saved).as_bytes()).expect("encode writes what decode reads");
        let twice = state::decode(state::encode(&once).as_bytes()).ok();
        assert_eq!(twice, Some(once));
    }
    let _ = pid_stat::stat(data);
    let _ = pid_stat::tgid(data);
});
