//! `diskstats`: block device I/O from /proc/diskstats
//! (Documentation/admin-guide/iostats.rst), as node_exporter's
//! `node_disk_*{device}`: completed, merged, bytes (sectors of 512 bytes)
//! and seconds of reads, writes, discards and flushes, I/Os in progress,
//! time doing I/O; and `node_disk_info{device,major,minor,path,wwn,model,
//! serial,revision,rotational}` from the udev database
//! (`/run/udev/data/b<major>:<minor>` under `[paths] rootfs`) and
//! `/sys/block/<device>/queue/rotational`. An appliance without udev has
//! empty udev labels, as node_exporter writes them then.
//!
//! Partitions of the usual disks and loop, RAM and floppy devices are left
//! out, as node_exporter's default `--collector.diskstats.device-exclude`
//! `^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$` does: `mmcblk0p1`
//! and `mtdblock3`, an appliance's flash, stay in.

use super::{keep_first_error, Collector, Context, Error, Root};
use crate::expo::{decimal, Exposition, MetricType};
use crate::wire::proc::diskstats::{self, Disk};
use crate::wire::proc::number;
use crate::wire::udev;

pub struct Diskstats;

/// Per counter column: name, help, type, and the factor to node_exporter's
/// unit (sectors to bytes, milliseconds to seconds).
const COLUMNS: [(&str, &str, MetricType, f64); 17] = [
    ("reads_completed_total", "The total number of reads completed successfully.", MetricType::Counter, 1.0),
    ("reads_merged_total", "The total number of reads merged.", MetricType::Counter, 1.0),
    ("read_bytes_total", "The total number of bytes read successfully.", MetricType::Counter, 512.0),
    ("read_time_seconds_total", "The total number of seconds spent by all reads.", MetricType::Counter, 1e-3),
    ("writes_completed_total", "The total number of writes completed successfully.", MetricType::Counter, 1.0),
    ("writes_merged_total", "The number of writes merged.", MetricType::Counter, 1.0),
    ("written_bytes_total", "The total number of bytes written successfully.", MetricType::Counter, 512.0),
    ("write_time_seconds_total", "This is the total number of seconds spent by all writes.", MetricType::Counter, 1e-3),
    ("io_now", "The number of I/Os currently in progress.", MetricType::Gauge, 1.0),
    ("io_time_seconds_total", "Total seconds spent doing I/Os.", MetricType::Counter, 1e-3),
    ("io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", MetricType::Counter, 1e-3),
    ("discards_completed_total", "The total number of discards completed successfully.", MetricType::Counter, 1.0),
    ("discards_merged_total", "The total number of discards merged.", MetricType::Counter, 1.0),
    ("discarded_sectors_total", "The total number of sectors discarded successfully.", MetricType::Counter, 1.0),
    (
        "discard_time_seconds_total",
        "This is the total number of seconds spent by all discards.",
        MetricType::Counter,
        1e-3,
    ),
    ("flush_requests_total", "The total number of flush requests completed successfully", MetricType::Counter, 1.0),
    (
        "flush_requests_time_seconds_total",
        "This is the total number of seconds spent by all flush requests.",
        MetricType::Counter,
        1e-3,
    ),
];

/// node_exporter's default device exclude, without a regex engine.
pub fn excluded(device: &str) -> bool {
    let head = device.trim_end_matches(|c: char| c.is_ascii_digit());
    if head.len() == device.len() {
        return false;
    }
    let b = head.as_bytes();
    let letter_disk =
        |prefix: &[u8]| b.len() == prefix.len() + 1 && b.starts_with(prefix) && b[prefix.len()].is_ascii_lowercase();
    matches!(head, "ram" | "zram" | "loop" | "fd")
        || letter_disk(b"hd")
        || letter_disk(b"sd")
        || letter_disk(b"vd")
        || letter_disk(b"xvd")
        || head.strip_prefix("nvme").and_then(|r| r.strip_suffix('p')).is_some_and(|r| {
            let (ctrl, ns) = r.split_once('n').unwrap_or(("", ""));
            !ctrl.is_empty()
                && !ns.is_empty()
                && ctrl.bytes().all(|c| c.is_ascii_digit())
                && ns.bytes().all(|c| c.is_ascii_digit())
        })
}

impl Collector for Diskstats {
    fn name(&self) -> &'static str {
        "diskstats"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        cx.proc("diskstats")?;
        // Kept aside while udev's and sysfs's files are read.
        let bytes = cx.take_bytes();
        let (disks, error) = parse(&bytes);
        info(cx, &disks, out);
        render(&disks, out);
        let result = error.map_or(Ok(()), |e| Err(cx.parse_error(e)));
        drop(disks);
        cx.give_back(bytes);
        result
    }
}

/// The devices reported, parsed once; and the first bad line.
pub fn parse(bytes: &[u8]) -> (Vec<Disk<'_>>, Option<crate::wire::Error>) {
    let mut error = None;
    let mut disks = Vec::new();
    disks.extend(keep_first_error(diskstats::parse(bytes), &mut error).filter(|d| !excluded(d.name)));
    (disks, error)
}

/// Writes the counter families, a family per column the devices have.
pub fn render(disks: &[Disk<'_>], out: &mut Exposition) {
    for (i, (name, help, kind, factor)) in COLUMNS.into_iter().enumerate() {
        let mut opened = false;
        for d in disks.iter().filter(|d| i < d.count) {
            if !opened {
                out.family_parts(&["node_disk_", name], &[help], kind);
                opened = true;
            }
            out.sample(&[("device", d.name)], d.stats[i] as f64 * factor);
        }
    }
}

/// Writes `node_disk_info`, reading the udev database and sysfs.
fn info(cx: &mut Context<'_>, disks: &[Disk<'_>], out: &mut Exposition) {
    out.family("node_disk_info", "Info of /sys/block/<block_device>.", MetricType::Gauge);
    // path, wwn, model, serial, revision, and the serial's two fallbacks.
    let mut values: [String; 7] = Default::default();
    let keys = ["ID_PATH", "ID_WWN", "ID_MODEL", "SCSI_IDENT_SERIAL", "ID_REVISION", "ID_SERIAL_SHORT", "ID_SERIAL"];
    let (mut major_buf, mut minor_buf, mut file) = ([0; 20], [0; 20], String::new());
    for d in disks {
        let major = decimal(d.major, &mut major_buf);
        let minor = decimal(d.minor, &mut minor_buf);
        values.iter_mut().for_each(String::clear);
        file.clear();
        file.push('b');
        file.push_str(major);
        file.push(':');
        file.push_str(minor);
        if let Ok(Some(raw)) = cx.read_opt(Root::Rootfs, &["run/udev/data", &file]) {
            for (key, value) in udev::properties(raw) {
                if let Some(i) = keys.iter().position(|k| *k == key) {
                    values[i].push_str(value);
                }
            }
        }
        let rotational = match cx.read_opt(Root::Sys, &["block", d.name, "queue/rotational"]) {
            Ok(Some(raw)) if number::parse(raw) == Ok(1) => "1",
            _ => "0",
        };
        let [path, wwn, model, scsi_serial, revision, serial_short, serial] = &values;
        let serial = [scsi_serial, serial_short, serial].into_iter().find(|s| !s.is_empty()).map_or("", |s| s);
        out.sample(
            &[
                ("device", d.name),
                ("major", major),
                ("minor", minor),
                ("model", model),
                ("path", path),
                ("revision", revision),
                ("rotational", rotational),
                ("serial", serial),
                ("wwn", wwn),
            ],
            1.0,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_exporters_default_exclude() {
        for yes in ["sda1", "vda2", "xvda1", "hdb3", "loop0", "ram15", "zram0", "fd0", "nvme0n1p1"] {
            assert!(excluded(yes), "{yes}");
        }
        for no in ["sda", "vda", "nvme0n1", "mmcblk0", "mmcblk0p1", "mtdblock3", "ubiblock0_1", "dm-0", "md0", "sdaa1"]
        {
            assert!(!excluded(no), "{no}");
        }
    }

    #[test]
    fn units_and_absent_columns() {
        let mut out = Exposition::new(1 << 20);
        let (disks, error) = parse(b"254 0 vda 1 2 3 4 5 6 7 8 9 10 11\n8 1 sda1 1 2 3 4 5 6 7 8 9 10 11\n");
        assert!(error.is_none());
        render(&disks, &mut out);
        let text = std::str::from_utf8(out.as_bytes()).unwrap();
        assert!(text.contains("\nnode_disk_read_bytes_total{device=\"vda\"} 1536\n"));
        assert!(text.contains("\nnode_disk_read_time_seconds_total{device=\"vda\"} 0.004\n"));
        assert!(!text.contains("discard"));
        assert!(!text.contains("sda1"));
    }
}
