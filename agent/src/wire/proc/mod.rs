//! Parsers for the /proc files the host collectors read, one file per
//! kernel file (proc(5) names them). Each is a pure function or iterator
//! over the file's bytes; lines it does not know are skipped, lines it
//! knows but cannot read are reported with their line number, and the
//! caller keeps what parsed.
//!
//! None of them allocates: items borrow from the input, and counts read
//! from the input only bound loops over the input itself.

pub mod cpufreq;
pub mod diskstats;
pub mod file_nr;
pub mod hwmon;
pub mod loadavg;
pub mod meminfo;
pub mod mountinfo;
pub mod net_arp;
pub mod net_dev;
pub mod net_snmp;
pub mod net_snmp6;
pub mod net_sockstat;
pub mod net_udp;
pub mod nf_conntrack_stat;
pub mod number;
pub mod pid_stat;
pub mod power_supply;
pub mod pressure;
pub mod schedstat;
pub mod softnet_stat;
pub mod stat;
pub mod vmstat;

/// ASCII-whitespace separated fields of a line, as a nameable iterator
/// (for parsers that keep one between calls).
#[derive(Clone, Debug)]
pub struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    pub fn new(line: &'a [u8]) -> Self {
        Fields(line)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.0.iter().position(|b| !b.is_ascii_whitespace())?;
        let rest = &self.0[start..];
        let end = rest.iter().position(u8::is_ascii_whitespace).unwrap_or(rest.len());
        self.0 = &rest[end..];
        Some(&rest[..end])
    }
}

/// A decimal i64: an optional `-`, then digits, no overflow.
pub(crate) fn parse_i64(field: &[u8]) -> Option<i64> {
    match field.strip_prefix(b"-") {
        Some(digits) => {
            let v = crate::wire::parse_u64(digits)?;
            // -9223372036854775808 is the one value with no positive twin.
            0i64.checked_sub_unsigned(v)
        }
        None => i64::try_from(crate::wire::parse_u64(field)?).ok(),
    }
}

/// Hexadecimal digits, with or without `0x`, no overflow (at most 16).
pub(crate) fn parse_hex(field: &[u8]) -> Option<u64> {
    let digits = field.strip_prefix(b"0x").unwrap_or(field);
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        Some(acc << 4 | u64::from(d))
    })
}

/// A field as text: kernel names (devices, counters) are ASCII.
pub(crate) fn text(field: &[u8]) -> Option<&str> {
    std::str::from_utf8(field).ok()
}

/// `name value` lines (/proc/vmstat, /proc/net/snmp6): the line number,
/// the name and the value as a signed integer, in file order. A line that
/// is not two fields with a number second is an error item; blank lines
/// are skipped.
pub(crate) fn name_values(input: &[u8]) -> impl Iterator<Item = Result<(usize, &str, i64), crate::wire::Error>> {
    crate::wire::lines(input).filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace)).map(|(n, line)| {
        let mut it = Fields::new(line);
        let pair = (|| {
            let name = text(it.next()?)?;
            let value = parse_i64(it.next()?)?;
            it.next().is_none().then_some((n, name, value))
        })();
        pair.ok_or(crate::wire::Error::at(n, "not a 'name value' line"))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn fields_split_on_any_whitespace() {
        let got: Vec<_> = Fields::new(b"  a\tbb  c \n").collect();
        assert_eq!(got, vec![&b"a"[..], b"bb", b"c"]);
        assert_eq!(Fields::new(b"   ").count(), 0);
    }

    #[test]
    fn signed_and_hex_numbers_are_strict() {
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"-9223372036854775809"), None);
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"--1"), None);
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_hex(b"0x1003"), Some(0x1003));
        assert_eq!(parse_hex(b"000e4c0b"), Some(0xe4c0b));
        assert_eq!(parse_hex(b"ffffffffffffffff"), Some(u64::MAX));
        assert_eq!(parse_hex(b"1ffffffffffffffff"), None);
        assert_eq!(parse_hex(b"0x"), None);
        assert_eq!(parse_hex(b"g"), None);
    }

    /// Counts this thread's allocations, to show the parsers make none.
    pub(crate) mod counting {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        pub struct Counting;

        thread_local! {
            // const: reading it allocates nothing, so the allocator may.
            pub static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
        }

        // SAFETY: every call is passed to System unchanged.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                ALLOCATIONS.with(|n| n.set(n.get() + 1));
                // SAFETY: the caller's contract is System's.
                unsafe { System.alloc(layout) }
            }
            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                // SAFETY: ptr came from System.alloc with this layout.
                unsafe { System.dealloc(ptr, layout) }
            }
            unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
                ALLOCATIONS.with(|n| n.set(n.get() + 1));
                // SAFETY: as for alloc and dealloc.
                unsafe { System.realloc(ptr, layout, new) }
            }
        }

        #[global_allocator]
        static COUNTING: Counting = Counting;

        pub fn count(f: impl FnOnce()) -> u64 {
            let before = ALLOCATIONS.with(Cell::get);
            f();
            ALLOCATIONS.with(Cell::get) - before
        }
    }

    /// See: the scrape path allocates nothing in the /proc parsers (the
    /// issue's goal); every parser over a real machine's files, drained.
    #[test]
    fn the_proc_parsers_allocate_nothing() {
        macro_rules! fixture {
            ($f:literal) => {
                include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/debian12-vm/proc/", $f))
                    .as_slice()
            };
        }
        // A file's name, its bytes, and a parse of them that counts items.
        type Case = (&'static str, &'static [u8], fn(&[u8]) -> usize);
        let cases: [Case; 19] = [
            ("stat", fixture!("stat"), |b| stat::parse(b).count()),
            ("meminfo", fixture!("meminfo"), |b| meminfo::parse(b).count()),
            ("loadavg", fixture!("loadavg"), |b| usize::from(loadavg::parse(b).is_ok())),
            ("vmstat", fixture!("vmstat"), |b| vmstat::parse(b).count()),
            ("pressure", fixture!("pressure/io"), |b| usize::from(pressure::parse(b).is_ok())),
            ("file-nr", fixture!("sys/fs/file-nr"), |b| usize::from(file_nr::parse(b).is_ok())),
            ("pid_max", fixture!("sys/kernel/pid_max"), |b| usize::from(number::parse(b).is_ok())),
            ("net/dev", fixture!("net/dev"), |b| net_dev::parse(b).count()),
            ("net/netstat", fixture!("net/netstat"), |b| net_snmp::parse(b).count()),
            ("net/snmp", fixture!("net/snmp"), |b| net_snmp::parse(b).count()),
            ("net/snmp6", fixture!("net/snmp6"), |b| net_snmp6::parse(b).count()),
            ("net/sockstat", fixture!("net/sockstat"), |b| net_sockstat::parse(b).count()),
            ("net/arp", fixture!("net/arp"), |b| net_arp::parse(b).count()),
            ("net/udp", fixture!("net/udp"), |b| usize::from(net_udp::parse(b).is_ok())),
            ("net/softnet_stat", fixture!("net/softnet_stat"), |b| softnet_stat::parse(b).count()),
            ("nf_conntrack", fixture!("net/stat/nf_conntrack"), |b| usize::from(nf_conntrack_stat::parse(b).is_ok())),
            ("diskstats", fixture!("diskstats"), |b| diskstats::parse(b).count()),
            ("mountinfo", fixture!("1/mountinfo"), |b| mountinfo::parse(b).count()),
            ("1/stat", fixture!("1/stat"), |b| usize::from(pid_stat::parse(b).is_ok())),
        ];
        for (name, bytes, parse) in cases {
            let mut items = 0;
            let n = counting::count(|| items = parse(bytes));
            assert!(items > 0, "{name}: nothing parsed");
            assert_eq!(n, 0, "{name}: {n} allocations");
        }
    }

    #[test]
    fn name_value_lines() {
        let got: Vec<_> = name_values(b"pgfault 12\n\nnr_x -3\nbad\n").collect();
        assert_eq!(got[0], Ok((1, "pgfault", 12)));
        assert_eq!(got[1], Ok((3, "nr_x", -3)));
        assert_eq!(got[2], Err(crate::wire::Error::at(4, "not a 'name value' line")));
    }
}
