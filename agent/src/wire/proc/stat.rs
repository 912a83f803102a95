//! /proc/stat: kernel and CPU activity since boot.
//!
//! ```text
//! cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0
//! cpu0 1393280 32966 572056 13343292 6130 0 17875 0 23933 0
//! intr 199292458 ...
//! ctxt 1990473
//! btime 1062191376
//! processes 2915
//! procs_running 1
//! procs_blocked 0
//! ```
//!
//! CPU times are in USER_HZ ticks (1/100 s on every Linux ABI; proc(5)).
//! Older kernels print fewer CPU columns; at least the first four are
//! required, missing later ones are reported as absent, not as zero.

use crate::wire::{fields, lines, parse_u64, Error};

/// Ticks per second of every /proc/stat time (`sysconf(_SC_CLK_TCK)`,
/// fixed at 100 by the kernel's user ABI).
pub const USER_HZ: f64 = 100.0;

/// The CPU time columns, in the order the kernel prints them.
pub const CPU_MODES: [&str; 10] =
    ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice"];

/// One line of /proc/stat that sonde reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// `cpuN ...`: `times[..columns]` are the ticks per mode of
    /// [`CPU_MODES`].
    Cpu {
        cpu: u32,
        times: [u64; 10],
        columns: usize,
    },
    /// The `cpu` line: all CPUs added up.
    CpuTotal {
        times: [u64; 10],
        columns: usize,
    },
    /// `intr`: the first number, interrupts serviced in total.
    Intr(u64),
    Ctxt(u64),
    /// Boot time, seconds since the epoch.
    Btime(u64),
    /// Forks since boot.
    Processes(u64),
    ProcsRunning(u64),
    ProcsBlocked(u64),
}

/// The lines sonde reads, in file order; unknown lines are skipped and a
/// known line that cannot be read is an error item.
pub fn parse(input: &[u8]) -> impl Iterator<Item = Result<Line, Error>> + '_ {
    lines(input).filter_map(|(n, line)| parse_line(line).map(|r| r.ok_or(Error::at(n, "malformed stat line"))))
}

/// `None`: not a line sonde reads. `Some(None)`: a known line, unreadable.
fn parse_line(line: &[u8]) -> Option<Option<Line>> {
    let mut it = fields(line);
    let key = it.next()?;
    let single: Option<fn(u64) -> Line> = match key {
        b"intr" => Some(Line::Intr),
        b"ctxt" => Some(Line::Ctxt),
        b"btime" => Some(Line::Btime),
        b"processes" => Some(Line::Processes),
        b"procs_running" => Some(Line::ProcsRunning),
        b"procs_blocked" => Some(Line::ProcsBlocked),
        _ => None,
    };
    if let Some(line) = single {
        return Some(it.next().and_then(parse_u64).map(line));
    }
    if key == b"cpu" {
        return Some(cpu_times(it).map(|(times, columns)| Line::CpuTotal { times, columns }));
    }
    let id = parse_u64(key.strip_prefix(b"cpu")?)?;
    let cpu = u32::try_from(id).ok();
    Some(cpu.and_then(|cpu| cpu_times(it).map(|(times, columns)| Line::Cpu { cpu, times, columns })))
}

fn cpu_times<'a>(it: impl Iterator<Item = &'a [u8]>) -> Option<([u64; 10], usize)> {
    let mut times = [0u64; 10];
    let mut columns = 0;
    for field in it {
        if columns == times.len() {
            // A newer kernel's extra column: not one sonde knows.
            break;
        }
        times[columns] = parse_u64(field)?;
        columns += 1;
    }
    (columns >= 4).then_some((times, columns))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from a 2-CPU Debian 12 VM (kernel 6.1), intr line shortened.
    const CAPTURED: &[u8] = b"cpu  81295 67 24329 5520577 2052 0 1013 431 0 0\n\
cpu0 40380 33 12183 2759985 1020 0 696 216 0 0\n\
cpu1 40915 34 12146 2760592 1032 0 317 215 0 0\n\
intr 6210123 28 9 0 0 0 0 0 0 0 0\n\
ctxt 13129440\n\
btime 1795230000\n\
processes 120371\n\
procs_running 2\n\
procs_blocked 0\n\
softirq 3812770 0 655466 13 156931 0 0 2 1372420 0 1627938\n";

    #[test]
    fn parse_captured_stat() {
        let got: Vec<_> = parse(CAPTURED).map(Result::unwrap).collect();
        assert_eq!(got.len(), 9);
        assert_eq!(
            got[1],
            Line::Cpu { cpu: 0, times: [40380, 33, 12183, 2_759_985, 1020, 0, 696, 216, 0, 0], columns: 10 }
        );
        assert_eq!(got[3], Line::Intr(6_210_123));
        assert_eq!(got[4], Line::Ctxt(13_129_440));
        assert_eq!(got[5], Line::Btime(1_795_230_000));
        assert_eq!(got[6], Line::Processes(120_371));
        assert_eq!(got[7], Line::ProcsRunning(2));
        assert_eq!(got[8], Line::ProcsBlocked(0));
    }

    #[test]
    fn old_kernels_print_fewer_cpu_columns() {
        let got: Vec<_> = parse(b"cpu0 1 2 3 4\n").collect();
        assert_eq!(got, vec![Ok(Line::Cpu { cpu: 0, times: [1, 2, 3, 4, 0, 0, 0, 0, 0, 0], columns: 4 })]);
        assert!(parse(b"cpu0 1 2 3\n").next().unwrap().is_err());
    }

    #[test]
    fn garbage_lines_are_errors_with_their_number() {
        let got: Vec<_> = parse(b"cpu0 1 2 3 4\ncpu1 a b c d\nbtime x\nnonsense here\n").collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1], Err(Error::at(2, "malformed stat line")));
        assert_eq!(got[2], Err(Error::at(3, "malformed stat line")));
    }

    #[test]
    fn truncated_stat_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                let _ = item;
            }
        }
        // A CPU number past u32 is refused rather than wrapped.
        assert!(parse(b"cpu99999999999 1 2 3 4\n").next().unwrap().is_err());
    }
}
