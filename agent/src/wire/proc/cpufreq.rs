//! The sysfs files of CPU frequency scaling that are not one number
//! (Documentation/admin-guide/pm/cpufreq.rst,
//! Documentation/ABI/testing/sysfs-devices-system-cpu): the list of
//! offline CPUs, and a policy's available governors. The frequencies
//! themselves (`scaling_cur_freq`, `cpuinfo_max_freq`, …) are one number
//! of kHz each, read with [`super::number`].

use crate::wire::{parse_u64, Error};

/// Whether `cpu` is in a CPU list as the kernel prints one
/// (`devices/system/cpu/offline`: `2`, `0-3,8-11`, or an empty line);
/// Documentation/admin-guide/cputopology.rst. Empty items are skipped, as
/// node_exporter (prometheus/procfs `parseCPURange`) skips them; an item
/// that is neither `N` nor `N-M` is an error.
// One copy for both of the collector's calls: this is the costly part of
// cpufreq on armv7.
#[inline(never)]
pub fn in_cpu_list(list: &[u8], cpu: u64) -> Result<bool, Error> {
    let mut found = false;
    for item in list.trim_ascii().split(|&b| b == b',') {
        if item.is_empty() {
            continue;
        }
        let (first, last) = match item.iter().position(|&b| b == b'-') {
            Some(dash) => (&item[..dash], &item[dash + 1..]),
            None => (item, item),
        };
        let (Some(first), Some(last)) = (parse_u64(first), parse_u64(last)) else {
            return Err(Error::at(1, "not a CPU list"));
        };
        found |= first <= cpu && cpu <= last;
    }
    Ok(found)
}

/// The governors of `scaling_available_governors`, as node_exporter
/// splits them: the first 128 bytes (all its reader reads), trimmed,
/// split at each space. Not UTF-8 is no governor.
pub fn governors(available: &[u8]) -> impl Iterator<Item = &str> {
    let text = std::str::from_utf8(available.get(..128).unwrap_or(available)).unwrap_or("");
    text.trim_ascii().split(' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_as_the_kernel_prints_them() {
        assert_eq!(in_cpu_list(b"\n", 0), Ok(false));
        assert_eq!(in_cpu_list(b"2\n", 2), Ok(true));
        assert_eq!(in_cpu_list(b"2\n", 1), Ok(false));
        assert_eq!(in_cpu_list(b"0-3,8-11\n", 9), Ok(true));
        assert_eq!(in_cpu_list(b"0-3,8-11\n", 4), Ok(false));
        assert_eq!(in_cpu_list(b"1,,3\n", 3), Ok(true));
        for bad in [&b"x"[..], b"1-", b"-1", b"1-2-3", b"1 2", b"99999999999999999999"] {
            assert_eq!(in_cpu_list(bad, 1), Err(Error::at(1, "not a CPU list")), "{bad:?}");
        }
    }

    #[test]
    fn governors_as_node_exporter_splits_them() {
        let captured = b"conservative ondemand userspace powersave performance schedutil \n";
        let got: Vec<_> = governors(captured).collect();
        assert_eq!(got, ["conservative", "ondemand", "userspace", "powersave", "performance", "schedutil"]);
        assert_eq!(governors(b"\n").collect::<Vec<_>>(), [""]);
        assert_eq!(governors(&[b'a'; 200]).next().map(str::len), Some(128));
        assert_eq!(governors(b"\xff\n").collect::<Vec<_>>(), [""]);
    }
}
