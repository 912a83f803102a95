//! /proc/PID/mountinfo: the mounts of a mount namespace (proc(5),
//! "/proc/pid/mountinfo"; Documentation/filesystems/proc.rst §3.5).
//!
//! ```text
//! 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//! (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
//! ```
//!
//! Optional fields (7) run up to the `-` separator. The mount point is
//! returned as written, with the kernel's octal escapes (`\040` for a
//! space); [`unescape`] undoes them when it is needed.

use super::{text, Fields};
use crate::wire::{lines, parse_u64, Error};

/// One mount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mount<'a> {
    pub major: u64,
    pub minor: u64,
    /// Escaped as the kernel writes it.
    pub mount_point: &'a str,
    /// Per-mount options (`rw,relatime`).
    pub options: &'a str,
    pub fs_type: &'a str,
    /// The mount source (`/dev/vda`, `overlayfs:/overlay`, `tmpfs`).
    pub source: &'a str,
}

/// The mounts in file order; a line that cannot be read is an error item.
pub fn parse(input: &[u8]) -> impl Iterator<Item = Result<Mount<'_>, Error>> {
    lines(input)
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
        .map(|(n, line)| parse_line(line).ok_or(Error::at(n, "not a mountinfo line")))
}

fn parse_line(line: &[u8]) -> Option<Mount<'_>> {
    let mut it = Fields::new(line).map(text);
    let _id = it.next()??;
    let _parent = it.next()??;
    let (major, minor) = it.next()??.split_once(':')?;
    let (major, minor) = (parse_u64(major.as_bytes())?, parse_u64(minor.as_bytes())?);
    let _root = it.next()??;
    let mount_point = it.next()??;
    let options = it.next()??;
    // Optional fields, then the separator.
    while it.next()?? != "-" {}
    let fs_type = it.next()??;
    let source = it.next()??;
    Some(Mount { major, minor, mount_point, options, fs_type, source })
}

/// Undoes the kernel's `\ooo` escapes (space, tab, newline, backslash are
/// written so in mount points); appends to `out`.
pub fn unescape(raw: &str, out: &mut String) {
    let mut rest = raw;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 4).and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(b) if b.is_ascii() => {
                out.push(char::from(b));
                rest = &rest[i + 4..];
            }
            _ => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = b"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n\
28 27 0:25 / /mnt/with\\040space ro,nosuid,nodev,relatime shared:5 master:1 - tmpfs none ro,size=4k\n\
16 1 0:15 / / rw,noatime - overlay overlayfs:/overlay rw,lowerdir=/,upperdir=/overlay/upper\n";

    #[test]
    fn parse_captured_mountinfo() {
        let got: Vec<_> = parse(CAPTURED).map(Result::unwrap).collect();
        assert_eq!(
            got[0],
            Mount {
                major: 254,
                minor: 0,
                mount_point: "/",
                options: "rw,relatime",
                fs_type: "ext4",
                source: "/dev/vda"
            }
        );
        assert_eq!(
            (got[1].mount_point, got[1].fs_type, got[1].options),
            ("/mnt/with\\040space", "tmpfs", "ro,nosuid,nodev,relatime")
        );
        assert_eq!((got[2].fs_type, got[2].source), ("overlay", "overlayfs:/overlay"));
    }

    #[test]
    fn mount_points_are_unescaped() {
        let mut s = String::new();
        unescape("/mnt/with\\040space\\011tab\\134\\", &mut s);
        assert_eq!(s, "/mnt/with space\ttab\\\\");
    }

    #[test]
    fn truncated_mountinfo_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                let _ = item;
            }
        }
        // No separator: an error, not a mount with a guessed type.
        assert!(parse(b"1 2 0:1 / / rw shared:1 ext4 /dev/x rw\n").next().unwrap().is_err());
    }
}
