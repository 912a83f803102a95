//! The udev database: `/run/udev/data/b<major>:<minor>`, one file per
//! block device, written by systemd-udevd (src/libsystemd/sd-device,
//! `device_update_db`). Lines start with a one-letter tag and a colon;
//! `E:KEY=VALUE` are the device's properties (`ID_MODEL`, `ID_SERIAL`,
//! `ID_WWN`, `ID_PATH`, `ID_REVISION`, …), the only lines read here.

use crate::wire::lines;

/// The `E:` properties in file order; other and malformed lines are
/// skipped (the file is udev's, not the kernel's, and its other tags are
/// not sonde's concern).
pub fn properties(input: &[u8]) -> impl Iterator<Item = (&str, &str)> {
    lines(input).filter_map(|(_, line)| {
        let line = std::str::from_utf8(line.strip_prefix(b"E:")?).ok()?;
        line.split_once('=')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = b"S:disk/by-id/ata-QEMU_HARDDISK_QM00001\n\
I:1633521\n\
E:ID_ATA=1\n\
E:ID_MODEL=QEMU_HARDDISK\n\
E:ID_SERIAL_SHORT=QM00001\n\
E:ID_PATH=pci-0000:00:01.1-ata-1\n\
G:systemd\n";

    #[test]
    fn parse_captured_udev_data() {
        let got: Vec<_> = properties(CAPTURED).collect();
        assert_eq!(
            got,
            vec![
                ("ID_ATA", "1"),
                ("ID_MODEL", "QEMU_HARDDISK"),
                ("ID_SERIAL_SHORT", "QM00001"),
                ("ID_PATH", "pci-0000:00:01.1-ata-1")
            ]
        );
    }

    #[test]
    fn truncated_udev_data_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in properties(&CAPTURED[..n]) {
                let _ = item;
            }
        }
    }
}
