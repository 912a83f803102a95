//! The host collectors' sections: `[filesystem]`, `[netdev]`, `[netclass]`,
//! `[textfile]`.
//!
//! Filters are lists of glob patterns rather than node_exporter's regular
//! expressions: sonde carries no regex engine, and the filters people write
//! for these (a mount point and everything under it, `veth*`) are globs.
//! `*` matches any run of characters, `/` included; every other character
//! matches itself. The defaults say in globs what node_exporter's default
//! expressions say, except where those hide what an appliance needs to see
//! (see [`Filesystem::default`]).

use std::path::PathBuf;
use std::time::Duration;

use super::{duration, strings, Problem};
use crate::wire::toml::{Entry, Value};

/// `[filesystem]`: which mounts the filesystem collector reports, and how
/// long it waits for each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filesystem {
    /// A mount point matching one of these is not reported.
    pub mount_points_exclude: Vec<String>,
    /// A filesystem type matching one of these is not reported.
    pub fs_types_exclude: Vec<String>,
    /// How long statfs(2) of one mount point may take before the mount is
    /// reported with `device_error="mountpoint timeout"` and skipped until
    /// it answers again.
    pub timeout: Duration,
}

/// node_exporter's `--collector.filesystem.mount-points-exclude` default,
/// `^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)`,
/// as globs.
pub const MOUNT_POINTS_EXCLUDE: &[&str] = &[
    "/dev",
    "/dev/*",
    "/proc",
    "/proc/*",
    "/run/credentials/*",
    "/sys",
    "/sys/*",
    "/var/lib/docker/*",
    "/var/lib/containers/storage/*",
];

/// node_exporter's `--collector.filesystem.fs-types-exclude` default
/// without `overlay` and `squashfs`: on OpenWrt, `/` is an overlay and
/// `/rom` a squashfs, and a root filesystem that fills up is the first
/// thing an appliance's operator must see. Container overlays stay hidden
/// by their mount points (`/var/lib/docker/*`).
pub const FS_TYPES_EXCLUDE: &[&str] = &[
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "fusectl",
    "hugetlbfs",
    "iso9660",
    "mqueue",
    "nsfs",
    "proc",
    "procfs",
    "pstore",
    "rpc_pipefs",
    "securityfs",
    "selinuxfs",
    "sysfs",
    "tracefs",
];

/// Longest `[filesystem] timeout` accepted: node_exporter's own.
pub const MAX_STATFS_TIMEOUT: Duration = Duration::from_secs(5);

impl Default for Filesystem {
    fn default() -> Self {
        Filesystem {
            mount_points_exclude: MOUNT_POINTS_EXCLUDE.iter().map(|s| (*s).to_owned()).collect(),
            fs_types_exclude: FS_TYPES_EXCLUDE.iter().map(|s| (*s).to_owned()).collect(),
            timeout: Duration::from_secs(1),
        }
    }
}

/// `[netdev]`: which network devices the netdev and netclass collectors
/// report. A device is reported if `device_include` is empty or one of its
/// patterns matches, and none of `device_exclude` does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Devices {
    pub device_include: Vec<String>,
    pub device_exclude: Vec<String>,
}

impl Devices {
    pub fn reports(&self, device: &str) -> bool {
        (self.device_include.is_empty() || matches_any(&self.device_include, device))
            && !matches_any(&self.device_exclude, device)
    }
}

/// Whether one of `patterns` matches all of `text`.
pub fn matches_any(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|p| glob(p.as_bytes(), text.as_bytes()))
}

/// `*` matches any run of bytes; the rest matches itself. Iterative, with
/// one backtrack point, so a pattern costs at most its length times the
/// text's.
pub fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

pub(super) fn filesystem(f: &mut Filesystem, e: &Entry) -> Result<(), Problem> {
    match e.key.as_str() {
        "mount_points_exclude" => f.mount_points_exclude = patterns(&e.value)?,
        "fs_types_exclude" => f.fs_types_exclude = patterns(&e.value)?,
        "timeout" => {
            let Value::Str(s) = &e.value else {
                return Err(Problem::Invalid(format!("expected a string, found {}", e.value.type_name())));
            };
            let d = duration(s).map_err(Problem::Invalid)?;
            if d < Duration::from_millis(10) || d > MAX_STATFS_TIMEOUT {
                return Err(Problem::Invalid(format!("'{s}' is out of range: from 10ms to 5s")));
            }
            f.timeout = d;
        }
        _ => return Err(Problem::UnknownKey),
    }
    Ok(())
}

pub(super) fn netdev(d: &mut Devices, e: &Entry) -> Result<(), Problem> {
    match e.key.as_str() {
        "device_include" => d.device_include = patterns(&e.value)?,
        "device_exclude" => d.device_exclude = patterns(&e.value)?,
        _ => return Err(Problem::UnknownKey),
    }
    Ok(())
}

pub(super) fn netclass(all_attributes: &mut bool, e: &Entry) -> Result<(), Problem> {
    match (e.key.as_str(), &e.value) {
        ("all_attributes", Value::Bool(b)) => *all_attributes = *b,
        ("all_attributes", v) => {
            return Err(Problem::Invalid(format!("expected true or false, found {}", v.type_name())))
        }
        _ => return Err(Problem::UnknownKey),
    }
    Ok(())
}

pub(super) fn textfile(directory: &mut Option<PathBuf>, e: &Entry) -> Result<(), Problem> {
    match (e.key.as_str(), &e.value) {
        ("directory", Value::Str(s)) if s.is_empty() => *directory = None,
        ("directory", Value::Str(s)) if s.starts_with('/') => *directory = Some(s.into()),
        ("directory", Value::Str(s)) => {
            return Err(Problem::Invalid(format!("'{s}': write an absolute path, or \"\" for none")))
        }
        ("directory", v) => return Err(Problem::Invalid(format!("expected a string, found {}", v.type_name()))),
        _ => return Err(Problem::UnknownKey),
    }
    Ok(())
}

fn patterns(v: &Value) -> Result<Vec<String>, Problem> {
    let items = strings(v)?;
    if let Some(bad) = items.iter().find(|s| s.is_empty()) {
        return Err(Problem::Invalid(format!("'{bad}': an empty pattern matches nothing; leave it out")));
    }
    Ok(items.into_iter().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_names() {
        assert!(glob(b"/dev", b"/dev"));
        assert!(!glob(b"/dev", b"/devices"));
        assert!(glob(b"/dev/*", b"/dev/shm"));
        assert!(glob(b"/dev/*", b"/dev/a/b"));
        assert!(!glob(b"/dev/*", b"/dev"));
        assert!(glob(b"veth*", b"veth0"));
        assert!(glob(b"*", b""));
        assert!(glob(b"a*b*c", b"aXXbYYbc"));
        assert!(!glob(b"a*b*c", b"aXXbYY"));
        assert!(!glob(b"", b"x"));
        assert!(glob(b"", b""));
    }

    #[test]
    fn host_sections_parse_and_refuse_unknown_keys() {
        let c = super::super::parse(
            "[filesystem]\ntimeout = \"250ms\"\nfs_types_exclude = [\"tmpfs\"]\n[netdev]\ndevice_exclude = [\"veth*\"]\n\
             [netclass]\nall_attributes = true\n[textfile]\ndirectory = \"/var/lib/sonde\"\n[paths]\nrootfs = \"/host\"\n",
        )
        .unwrap();
        assert_eq!(c.filesystem.timeout, Duration::from_millis(250));
        assert_eq!(c.filesystem.fs_types_exclude, ["tmpfs"]);
        assert!(!c.netdev.reports("veth0") && c.netdev.reports("eth0"));
        assert!(c.netclass_all_attributes);
        assert_eq!(c.textfile, Some(PathBuf::from("/var/lib/sonde")));
        assert_eq!(c.rootfs, PathBuf::from("/host"));
        for (text, says) in [
            ("[filesystem]\ntimout = \"1s\"", "did you mean 'timeout'?"),
            ("[filesystem]\ntimeout = \"10s\"", "out of range"),
            ("[netdev]\ndevice_exclude = [\"\"]", "empty pattern"),
            ("[netclass]\nall_attributes = \"yes\"", "expected true or false"),
            ("[textfile]\ndirectory = \"relative\"", "absolute path"),
            ("[textfil]\n", "did you mean 'textfile'?"),
        ] {
            let errors = super::super::parse(text).unwrap_err();
            assert!(errors[0].message.contains(says), "{text}: {errors:?}");
        }
    }

    /// See: node_exporter's default fs-types exclude hides OpenWrt's `/`
    /// (overlay) and `/rom` (squashfs); sonde's must not.
    #[test]
    fn default_excludes_keep_openwrt_root_and_rom() {
        let f = Filesystem::default();
        assert!(!matches_any(&f.fs_types_exclude, "overlay"));
        assert!(!matches_any(&f.fs_types_exclude, "squashfs"));
        assert!(!matches_any(&f.mount_points_exclude, "/"));
        assert!(!matches_any(&f.mount_points_exclude, "/rom"));
        assert!(!matches_any(&f.mount_points_exclude, "/overlay"));
        assert!(matches_any(&f.fs_types_exclude, "sysfs"));
        assert!(matches_any(&f.mount_points_exclude, "/run/credentials/getty.service"));
        assert!(!matches_any(&f.mount_points_exclude, "/run/credentials"));
        assert!(matches_any(&f.mount_points_exclude, "/var/lib/docker/overlay2/x/merged"));
        assert!(!matches_any(&f.mount_points_exclude, "/devices"));
    }
}
