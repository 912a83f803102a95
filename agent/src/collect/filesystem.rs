//! `filesystem`: size, free space and inodes of each mounted filesystem,
//! as node_exporter's `node_filesystem_*{device,device_error,fstype,
//! mountpoint}` gauges and `node_filesystem_mount_info{device,major,minor,
//! mountpoint}`.
//!
//! The mounts come from /proc/1/mountinfo (else /proc/self/mountinfo, when
//! hidepid hides PID 1), under `[paths] procfs`; the numbers from
//! statfs(2) of each mount point under `[paths] rootfs`, so a fixture tree
//! supplies the mount table while statfs still answers about real
//! directories. `readonly` is the mount's `ro` option, as node_exporter
//! reads it.
//!
//! `[filesystem] mount_points_exclude` and `fs_types_exclude` pick the
//! mounts; their defaults are node_exporter's except that overlay and
//! squashfs are kept, so OpenWrt's `/` and `/rom` are reported. A mount
//! listed twice with the same device, mount point and type is reported
//! once.
//!
//! statfs(2) of a dead network mount blocks; it runs on a helper thread
//! ([`crate::sys::statfs`]) and is waited for at most `[filesystem]
//! timeout`. A mount that timed out is reported with `device_error 1` and
//! the label `device_error="mountpoint timeout"` (node_exporter's words),
//! and is not asked again until its call returns. A statfs error is
//! reported the same way with the error's text; the size families are
//! then left out for that mount.

use std::borrow::Cow;
use std::os::unix::ffi::OsStrExt;
use std::sync::Mutex;
use std::time::Duration;

use super::common::matches_any;
use super::{Collector, Context, Error, Root};
use crate::expo::{decimal, Exposition, MetricType};
use crate::sys::statfs::{self, Answer, Prober, Usage};
use crate::wire::proc::mountinfo;

pub struct Filesystem;

/// `[filesystem]`: which mounts the filesystem collector reports, and how
/// long it waits for each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
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

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mount_points_exclude: MOUNT_POINTS_EXCLUDE.iter().map(|s| (*s).to_owned()).collect(),
            fs_types_exclude: FS_TYPES_EXCLUDE.iter().map(|s| (*s).to_owned()).collect(),
            timeout: Duration::from_secs(1),
        }
    }
}

/// The statfs helpers and the mounts known to be stuck, kept between
/// scrapes (and between config reloads: a stuck mount stays stuck).
static PROBER: Mutex<Prober> = Mutex::new(Prober::new(statfs::statfs));

/// One mount to report.
struct Row<'a> {
    device: &'a str,
    mount_point: Cow<'a, str>,
    fs_type: &'a str,
    major: u64,
    minor: u64,
    readonly: bool,
    /// The usage, or the `device_error` label's text.
    usage: Result<Usage, String>,
}

impl Collector for Filesystem {
    fn name(&self) -> &'static str {
        "filesystem"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let config = cx.settings();
        let settings = &config.filesystem;
        if cx.read_opt(Root::Proc, &["1/mountinfo"])?.is_none() {
            cx.proc("self/mountinfo")?;
        }
        let bytes = cx.take_bytes();
        let mut prober = PROBER.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        prober.sweep();
        let mut rows: Vec<Row<'_>> = Vec::new();
        let mut path = Vec::new();
        let mut error = None;
        for mount in mountinfo::parse(&bytes) {
            let m = match mount {
                Ok(m) => m,
                Err(e) => {
                    error.get_or_insert(e);
                    continue;
                }
            };
            let mount_point = if m.mount_point.contains('\\') {
                let mut s = String::new();
                mountinfo::unescape(m.mount_point, &mut s);
                Cow::Owned(s)
            } else {
                Cow::Borrowed(m.mount_point)
            };
            if matches_any(&settings.mount_points_exclude, &mount_point)
                || matches_any(&settings.fs_types_exclude, m.fs_type)
                || rows.iter().any(|r| r.device == m.source && r.mount_point == mount_point && r.fs_type == m.fs_type)
            {
                continue;
            }
            let root = config.rootfs.as_os_str().as_bytes();
            path.clear();
            path.extend_from_slice(root.strip_suffix(b"/").unwrap_or(root));
            path.push(b'/');
            path.extend_from_slice(mount_point.trim_start_matches('/').as_bytes());
            let usage = match prober.ask(&mount_point, &path, settings.timeout) {
                Answer::Done(Ok(usage)) => Ok(usage),
                Answer::Done(Err(e)) => Err(error_text(&e)),
                Answer::TimedOut => Err("mountpoint timeout".to_owned()),
                Answer::NotAsked => Err("too many stuck mounts".to_owned()),
            };
            let readonly = m.options.split(',').any(|o| o == "ro");
            rows.push(Row {
                device: m.source,
                mount_point,
                fs_type: m.fs_type,
                major: m.major,
                minor: m.minor,
                readonly,
                usage,
            });
        }
        drop(prober);
        render(&rows, out);
        drop(rows);
        let result = error.map_or(Ok(()), |e| Err(cx.parse_error(e)));
        cx.give_back(bytes);
        result
    }
}

/// An OS error as node_exporter's label shows it: Go's text for the errno
/// ("no such file or directory"). Go's table is glibc's wording of its
/// day, lower-cased; musl's differs for several errors statfs(2) returns
/// (EIO is "I/O error", ENOTCONN "Socket not connected"), and the shipped
/// build is musl, so those are spelled out in [`go_text`]. Any other error
/// is the C library's text, lower-cased.
fn error_text(e: &std::io::Error) -> String {
    if let Some(text) = e.raw_os_error().and_then(go_text) {
        return text.to_owned();
    }
    let mut s = e.to_string();
    if let Some(i) = s.find(" (os error ") {
        s.truncate(i);
    }
    if let Some(first) = s.get(..1) {
        let lower = first.to_ascii_lowercase();
        s.replace_range(..1, &lower);
    }
    s
}

/// Go's text (its syscall package's table for Linux) for the errors
/// statfs(2) documents and those network, FUSE and removable filesystems
/// add. Matched by name, so each target's own errno numbers apply.
fn go_text(errno: i32) -> Option<&'static str> {
    Some(match errno {
        libc::EPERM => "operation not permitted",
        libc::ENOENT => "no such file or directory",
        libc::EINTR => "interrupted system call",
        libc::EIO => "input/output error",
        libc::ENXIO => "no such device or address",
        libc::EBADF => "bad file descriptor",
        libc::ENOMEM => "cannot allocate memory",
        libc::EACCES => "permission denied",
        libc::EFAULT => "bad address",
        libc::ENODEV => "no such device",
        libc::ENOTDIR => "not a directory",
        libc::EINVAL => "invalid argument",
        libc::ENAMETOOLONG => "file name too long",
        libc::ENOSYS => "function not implemented",
        libc::ELOOP => "too many levels of symbolic links",
        libc::ENOLINK => "link has been severed",
        libc::EOVERFLOW => "value too large for defined data type",
        libc::ENOTCONN => "transport endpoint is not connected",
        libc::ETIMEDOUT => "connection timed out",
        libc::ECONNREFUSED => "connection refused",
        libc::EHOSTDOWN => "host is down",
        libc::EHOSTUNREACH => "no route to host",
        libc::ESTALE => "stale NFS file handle",
        libc::EUCLEAN => "structure needs cleaning",
        libc::EREMOTEIO => "remote I/O error",
        libc::ENOMEDIUM => "no medium found",
        _ => return None,
    })
}

fn labels<'r>(r: &'r Row<'_>) -> [(&'static str, &'r str); 4] {
    let device_error = r.usage.as_ref().err().map_or("", String::as_str);
    [("device", r.device), ("device_error", device_error), ("fstype", r.fs_type), ("mountpoint", &r.mount_point)]
}

fn render(rows: &[Row<'_>], out: &mut Exposition) {
    type Value = fn(&Usage) -> f64;
    let sizes: [(&str, &str, Value); 5] = [
        ("node_filesystem_size_bytes", "Filesystem size in bytes.", |u| u.blocks as f64 * u.bsize as f64),
        ("node_filesystem_free_bytes", "Filesystem free space in bytes.", |u| u.bfree as f64 * u.bsize as f64),
        ("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.", |u| {
            u.bavail as f64 * u.bsize as f64
        }),
        ("node_filesystem_files", "Filesystem total file nodes.", |u| u.files as f64),
        ("node_filesystem_files_free", "Filesystem total free file nodes.", |u| u.ffree as f64),
    ];
    let help = "Whether an error occurred while getting statistics for the given device.";
    out.family("node_filesystem_device_error", help, MetricType::Gauge);
    for r in rows {
        out.sample(&labels(r), if r.usage.is_err() { 1.0 } else { 0.0 });
    }
    out.family("node_filesystem_readonly", "Filesystem read-only status.", MetricType::Gauge);
    for r in rows {
        out.sample(&labels(r), if r.readonly { 1.0 } else { 0.0 });
    }
    for (name, help, value) in sizes {
        out.family(name, help, MetricType::Gauge);
        for r in rows {
            if let Ok(u) = &r.usage {
                out.sample(&labels(r), value(u));
            }
        }
    }
    out.family("node_filesystem_mount_info", "Filesystem mount information.", MetricType::Gauge);
    let (mut major, mut minor) = ([0; 20], [0; 20]);
    for r in rows {
        let labels = [
            ("device", r.device),
            ("major", decimal(r.major, &mut major)),
            ("minor", decimal(r.minor, &mut minor)),
            ("mountpoint", &*r.mount_point),
        ];
        out.sample(&labels, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// See: node_exporter's default fs-types exclude hides OpenWrt's `/`
    /// (overlay) and `/rom` (squashfs); sonde's must not.
    #[test]
    fn default_excludes_keep_openwrt_root_and_rom() {
        let f = Settings::default();
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

    #[test]
    fn errors_read_as_node_exporter_writes_them() {
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(error_text(&e), "no such file or directory");
        let e = std::io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(error_text(&e), "permission denied");
    }

    /// See: the musl build wrote "socket not connected" for a FUSE mount
    /// whose daemon was gone, and "i/O error" for EIO, where node_exporter
    /// writes Go's "transport endpoint is not connected" and
    /// "input/output error"; glibc itself now says "stale file handle"
    /// where Go says "stale NFS file handle".
    #[test]
    fn errors_are_gos_words_whatever_the_c_library() {
        for (errno, go) in [
            (libc::ENOTCONN, "transport endpoint is not connected"),
            (libc::EIO, "input/output error"),
            (libc::ESTALE, "stale NFS file handle"),
            (libc::ELOOP, "too many levels of symbolic links"),
            (libc::EOVERFLOW, "value too large for defined data type"),
        ] {
            assert_eq!(error_text(&std::io::Error::from_raw_os_error(errno)), go);
        }
        // Not an OS error: the text as std writes it, lower-cased.
        let e = std::io::Error::from(std::io::ErrorKind::InvalidInput);
        assert_eq!(error_text(&e), "invalid input parameter");
    }

    #[test]
    fn failed_mounts_have_no_sizes() {
        let mut out = Exposition::new(1 << 20);
        let ok = Usage { bsize: 4096, blocks: 2, bfree: 1, bavail: 1, files: 10, ffree: 5 };
        let rows = [
            Row {
                device: "overlayfs:/overlay",
                mount_point: "/".into(),
                fs_type: "overlay",
                major: 0,
                minor: 15,
                readonly: false,
                usage: Ok(ok),
            },
            Row {
                device: "server:/x",
                mount_point: "/mnt/nfs".into(),
                fs_type: "nfs",
                major: 0,
                minor: 40,
                readonly: true,
                usage: Err("mountpoint timeout".into()),
            },
        ];
        render(&rows, &mut out);
        let text = std::str::from_utf8(out.as_bytes()).unwrap();
        let root = "{device=\"overlayfs:/overlay\",device_error=\"\",fstype=\"overlay\",mountpoint=\"/\"}";
        assert!(text.contains(&format!("node_filesystem_size_bytes{root} 8192\n")), "{text}");
        let nfs = "{device=\"server:/x\",device_error=\"mountpoint timeout\",fstype=\"nfs\",mountpoint=\"/mnt/nfs\"}";
        assert!(text.contains(&format!("node_filesystem_device_error{nfs} 1\n")));
        assert!(text.contains(&format!("node_filesystem_readonly{nfs} 1\n")));
        assert!(!text.contains(&format!("node_filesystem_size_bytes{nfs}")));
        assert!(text.contains(
            "node_filesystem_mount_info{device=\"server:/x\",major=\"0\",minor=\"40\",mountpoint=\"/mnt/nfs\"} 1\n"
        ));
    }
}
