//! The filesystem collector against mounts made for real, in mount and
//! PID namespaces the tests create (as root), so nothing reaches the
//! host's mount table: the layout of an OpenWrt box, and FUSE mounts that
//! nobody serves.
//!
//! **An OpenWrt box, booted as OpenWrt boots.** A squashfs image made by
//! mksquashfs, holding a static busybox and OpenWrt's os-release, is
//! mounted read-only from a loop device and becomes the root (pivot_root),
//! as the kernel's `root=` does. Then mounts after procd's early ones
//! (proc, sysfs, cgroup2, a tmpfs /dev, devpts, a tmpfs /tmp, with the
//! options of the hand-made fixture this replaces), and fstools'
//! mount_root: the overlay's data filesystem at /tmp/overlay moved to
//! /overlay, the overlayfs `overlayfs:/overlay` with `lowerdir=/` at /mnt,
//! pivot_root into it with the squashfs put at /rom, and /dev, /tmp, /sys
//! and /overlay moved back out (libfstools/mount.c: fopivot, pivot). The
//! data filesystem is a tmpfs: OpenWrt's is jffs2, ubifs or f2fs on flash,
//! and this kernel has none of them. base-files' /etc/init.d/boot adds
//! debugfs, bpf and pstore, and block-mount a USB stick at /mnt/sda1 (an
//! ext4 image on a loop device). Then the host's tree is unmounted:
//! busybox is the whole userland, and the mount table is the box's alone.
//! Its mount options (`lowerdir=/,upperdir=/overlay/upper,...`) come out
//! as on a router because the paths were the box's when it mounted them.
//!
//! sonde is installed into the overlay (as opkg would) and run inside with
//! its defaults, as on the router; and from the host with --procfs and
//! --rootfs pointed into the box, as node_exporter runs in a container,
//! next to node_exporter run the same way. The expected numbers are what
//! statfs(2) says about the same directories (coreutils' `stat -f`) and
//! what node_exporter says, never constants. The box's mountinfo is the
//! one in tests/fixtures/openwrt (`UPDATE=1` rewrites it).
//!
//! **FUSE mounts nobody serves.** /dev/fuse is opened and mounted with
//! `fd=N`; nobody answers the kernel's FUSE_INIT, so statfs(2) of the mount
//! blocks (in D state, killable) until the connection is aborted. sonde's
//! daemon and `--once` run in that namespace (nsenter, the PID namespace
//! too, so /proc/1/mountinfo is the namespace's). Checked: a scrape comes
//! back while sonde's statfs call is still blocked; the mount is reported
//! as node_exporter reports it (`device_error 1`, "mountpoint timeout");
//! the other mounts keep their sizes however many mounts hang; the statfs
//! threads stay within `limits::MAX_STUCK_STATFS` over repeated scrapes;
//! SIGTERM stops sonde with a call still blocked; and once the connection
//! is aborted the mount is asked again and reported with statfs's error.
//!
//! Each wait is bounded ([`HANG`]) so that a hang fails the test rather
//! than stalling it; no assertion is about speed. A missing tool fails the
//! test with the package that has it, never skips it.

// A test that cannot unwrap has failed; the panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::{bin, promtool_check, repo, sonde_command, value, wait_for, Scratch};
use sonde::limits::{MAX_CONNECTIONS, MAX_STUCK_STATFS};

/// Longest any one step may take before the test calls it a hang: a boot,
/// a scrape, a `--once`, an exit.
const HANG: Duration = Duration::from_secs(20);

/// The size families, in `stat -f` order (see [`statfs`]).
const SIZES: [&str; 5] = [
    "node_filesystem_size_bytes",
    "node_filesystem_free_bytes",
    "node_filesystem_avail_bytes",
    "node_filesystem_files",
    "node_filesystem_files_free",
];

/// A program the test needs, from PATH or the sbin directories (not on
/// every root's PATH); missing, the test fails naming its package.
fn tool(name: &str, package: &str) -> PathBuf {
    common::which(name)
        .or_else(|| {
            ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].iter().map(|d| Path::new(d).join(name)).find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("{name} not found: run tests/setup.sh (Debian package {package})"))
}

/// The lines of `from`, read on a thread of their own so that a test can
/// wait for one with a bound.
fn lines(from: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// What a dead child said on `rx`, once its pipe closes (or a few seconds).
fn drain(rx: &Receiver<String>) -> String {
    let mut said = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(3)) {
        said.push(line);
    }
    said.join("\n")
}

/// Runs `cmd` to its end, failing the test if it takes longer than [`HANG`].
fn output_within(mut cmd: Command, what: &str) -> Output {
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(HANG) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("{what} did not end within {HANG:?}");
        }
    }
}

/// The host PID of the one child of `pid` (unshare's and nsenter's child,
/// which does the work), once it exists.
fn only_child(pid: u32) -> u32 {
    wait_for("a child process", HANG, || {
        let s = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
        s.split_whitespace().next()?.parse().ok()
    })
}

/// One line of a mountinfo file.
#[derive(Clone, Debug)]
struct Mount {
    mount_point: String,
    options: String,
    fs_type: String,
    source: String,
}

fn mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .map(|line| {
            let (left, right) = line.split_once(" - ").unwrap();
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            Mount {
                mount_point: left[4].to_owned(),
                options: left[5].to_owned(),
                fs_type: right[0].to_owned(),
                source: right[1].to_owned(),
            }
        })
        .collect()
}

fn find<'a>(mounts: &'a [Mount], mount_point: &str) -> &'a Mount {
    mounts.iter().find(|m| m.mount_point == mount_point).unwrap_or_else(|| panic!("no {mount_point} in {mounts:#?}"))
}

/// A node_filesystem series of `m`, labelled as node_exporter labels it.
fn series(family: &str, m: &Mount, device_error: &str) -> String {
    format!(
        "{family}{{device=\"{}\",device_error=\"{device_error}\",fstype=\"{}\",mountpoint=\"{}\"}}",
        m.source, m.fs_type, m.mount_point
    )
}

/// What statfs(2) says about `dir`, asked by coreutils' `stat -f`, as the
/// [`SIZES`] families: blocks times f_bsize (node_exporter's formula) for
/// the three sizes, then the inode counts. Err: stat's error text.
fn statfs(dir: &Path) -> Result<[f64; 5], String> {
    let out = output_within(
        {
            let mut c = Command::new("stat");
            c.args(["-f", "-c", "%s %b %f %a %c %d"]).arg(dir);
            c
        },
        "stat -f",
    );
    if !out.status.success() {
        // "stat: cannot read file system information for 'DIR': TEXT"
        let said = String::from_utf8_lossy(&out.stderr);
        return Err(said.trim().rsplit(": ").next().unwrap().to_owned());
    }
    let n: Vec<f64> = String::from_utf8(out.stdout).unwrap().split_whitespace().map(|w| w.parse().unwrap()).collect();
    Ok([n[1] * n[0], n[2] * n[0], n[3] * n[0], n[4], n[5]])
}

/// The samples of `family` in an exposition, by their label pairs.
fn samples(text: &str, family: &str) -> BTreeMap<Vec<(String, String)>, f64> {
    let prefix = format!("{family}{{");
    text.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|rest| {
            let (labels, v) = rest.rsplit_once("} ").unwrap();
            let pairs = labels
                .split("\",")
                .map(|p| {
                    let (k, v) = p.split_once("=\"").unwrap();
                    (k.to_owned(), v.trim_end_matches('"').to_owned())
                })
                .collect();
            (pairs, v.parse().unwrap())
        })
        .collect()
}

/// The whole of an HTTP response from `addr` to GET /metrics, failing the
/// test if it takes longer than [`HANG`] (`what` says what was hanging).
/// HTTP/1.0, so that node_exporter does not answer chunked.
fn scrape(addr: SocketAddr, what: &str) -> String {
    let mut s = TcpStream::connect_timeout(&addr, HANG).unwrap();
    s.set_read_timeout(Some(HANG)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: test\r\n\r\n").unwrap();
    let mut all = Vec::new();
    if let Err(e) = s.read_to_end(&mut all) {
        panic!("a scrape did not come back within {HANG:?} while {what}: {e}");
    }
    let r = common::parse_response(&all);
    assert_eq!(r.status, 200);
    r.text().to_owned()
}

/// An OpenWrt-like box booted in a PID and mount namespace of its own (see
/// the module doc); ended, with its loop devices, when dropped.
struct OpenWrtBox {
    /// unshare, whose child (the box's PID 1) holds the namespaces.
    holder: Child,
    /// The box's PID 1 on the host: /proc/PID/root is the box's root.
    pid: u32,
    stdin: Option<ChildStdin>,
    _scratch: Scratch,
}

/// Runs on the host, as the box's PID 1: the squashfs becomes the root,
/// as the kernel's root= would make it, and busybox from it takes over.
const STAGE0: &str = r#"set -eu
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -o loop,ro "$1/rom.sqfs" "$1/root"
cd "$1/root"
pivot_root . rom
exec /bin/busybox sh -c "$2" stage1 "$1"
"#;

/// Runs in the squashfs root, busybox's sh: OpenWrt's boot, to the mount
/// table (the module doc says whose code each step follows). The host's
/// tree is at /rom until the overlay's pivot, then at /rom/rom.
const STAGE1: &str = r#"set -eu
mount -t proc -o nosuid,nodev,noexec,noatime proc /proc
mount -t sysfs -o nosuid,nodev,noexec,noatime sysfs /sys
mount -t cgroup2 -o nosuid,nodev,noexec,relatime,nsdelegate cgroup2 /sys/fs/cgroup
mount -t tmpfs -o nosuid,noatime,mode=0755,size=512K tmpfs /dev
mkdir /dev/pts
mount -t devpts -o nosuid,noexec,noatime,mode=600 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,noatime,mode=01777 tmpfs /tmp
mkdir /tmp/overlay
mount -t tmpfs -o noatime,mode=0755 tmpfs /tmp/overlay
mount -o move /tmp/overlay /overlay
mkdir /overlay/upper /overlay/work
mount -t overlay -o noatime,lowerdir=/,upperdir=/overlay/upper,workdir=/overlay/work overlayfs:/overlay /mnt
mount -o move /proc /mnt/proc
pivot_root /mnt /mnt/rom
for d in dev tmp sys overlay; do mount -o move "/rom/$d" "/$d"; done
mount -t debugfs -o noatime debugfs /sys/kernel/debug
mount -t bpf -o nosuid,nodev,noexec,noatime,mode=0700 bpffs /sys/fs/bpf
mount -t pstore -o noatime pstore /sys/fs/pstore
mkdir -p /mnt/sda1
mount -t ext4 -o loop "/rom/rom$1/usb.img" /mnt/sda1
umount -l /rom/rom
echo booted
read -r _ || true
"#;

impl OpenWrtBox {
    fn boot(name: &str) -> OpenWrtBox {
        let busybox = Path::new("/bin/busybox");
        assert!(busybox.is_file(), "busybox not found: run cross/setup.sh (Debian package busybox-static)");
        let mksquashfs = tool("mksquashfs", "squashfs-tools");
        let mkfs = tool("mkfs.ext4", "e2fsprogs");
        let unshare = tool("unshare", "util-linux");
        let scratch = Scratch::new(name);
        let dir = scratch.0.canonicalize().unwrap();

        // The image: OpenWrt's top directories, busybox with its applets
        // linked in /bin, and OpenWrt 24.10's os-release (from the fixture).
        let rom = dir.join("rom-src");
        for d in [
            "bin", "dev", "etc", "lib", "mnt", "overlay", "proc", "rom", "root", "sbin", "sys", "tmp", "usr/bin",
            "usr/lib",
        ] {
            std::fs::create_dir_all(rom.join(d)).unwrap();
        }
        std::fs::copy(busybox, rom.join("bin/busybox")).unwrap();
        let applets = Command::new(busybox).arg("--list").output().unwrap();
        for applet in String::from_utf8(applets.stdout).unwrap().lines().filter(|a| *a != "busybox") {
            std::os::unix::fs::symlink("busybox", rom.join("bin").join(applet)).unwrap();
        }
        std::fs::copy(repo().join("tests/fixtures/openwrt/root/etc/os-release"), rom.join("usr/lib/os-release"))
            .unwrap();
        std::os::unix::fs::symlink("../usr/lib/os-release", rom.join("etc/os-release")).unwrap();
        let out = Command::new(mksquashfs)
            .arg(&rom)
            .arg(dir.join("rom.sqfs"))
            .args(["-noappend", "-comp", "xz", "-all-root", "-no-progress", "-quiet"])
            .output()
            .unwrap();
        assert!(out.status.success(), "mksquashfs: {}", String::from_utf8_lossy(&out.stderr));
        let out =
            Command::new(mkfs).args(["-q", "-F", "-L", "usb"]).arg(dir.join("usb.img")).arg("4M").output().unwrap();
        assert!(out.status.success(), "mkfs.ext4: {}", String::from_utf8_lossy(&out.stderr));
        std::fs::create_dir_all(dir.join("root")).unwrap();

        // --kill-child: should the test die, killing unshare ends the box.
        let mut holder = Command::new(unshare)
            .args([
                "--mount",
                "--propagation",
                "private",
                "--pid",
                "--fork",
                "--kill-child",
                "sh",
                "-c",
                STAGE0,
                "stage0",
            ])
            .arg(&dir)
            .arg(STAGE1)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = holder.stdin.take();
        let out = lines(holder.stdout.take().unwrap());
        let err = lines(holder.stderr.take().unwrap());
        let pid = only_child(holder.id());
        let mut bx = OpenWrtBox { holder, pid, stdin, _scratch: scratch };
        if out.recv_timeout(HANG).as_deref() != Ok("booted") {
            let _ = bx.holder.kill();
            panic!("the box did not boot:\n{}", drain(&err));
        }
        bx
    }

    /// The box's root, seen from the host.
    fn root(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.pid))
    }

    /// The box's mount table, as its PID 1 sees it.
    fn mountinfo(&self) -> String {
        std::fs::read_to_string(self.root().join("proc/1/mountinfo")).unwrap()
    }

    /// Copies the binary under test into the box's /usr/bin (the overlay's
    /// upper layer takes it, as opkg's files), with the glibc libraries of
    /// a `cargo test` build and the qemu-user runner of a cross one (both
    /// static otherwise); returns the command line to run it in the box.
    fn install_sonde(&self) -> Vec<String> {
        let root = self.root();
        let mut argv = Vec::new();
        if let Some(runner) = std::env::var_os("SONDE_RUNNER").filter(|r| !r.is_empty()) {
            let runner = PathBuf::from(runner);
            let inside = Path::new("/usr/bin").join(runner.file_name().unwrap());
            std::fs::copy(&runner, root.join(inside.strip_prefix("/").unwrap())).unwrap();
            argv.push(inside.to_str().unwrap().to_owned());
        }
        std::fs::copy(bin(), root.join("usr/bin/sonde")).unwrap();
        std::fs::set_permissions(root.join("usr/bin/sonde"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let ldd = Command::new("ldd").arg(bin()).output().unwrap();
        for word in String::from_utf8_lossy(&ldd.stdout).split_whitespace() {
            let lib = Path::new(word);
            if lib.is_absolute() && lib.is_file() {
                let dest = root.join(lib.strip_prefix("/").unwrap());
                std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
                std::fs::copy(lib, dest).unwrap();
            }
        }
        argv.push("/usr/bin/sonde".to_owned());
        argv
    }

    /// `argv` run inside the box: its namespaces, its root.
    fn command(&self, argv: &[String]) -> Command {
        let mut c = Command::new(tool("nsenter", "util-linux"));
        c.args(["--target", &self.pid.to_string(), "--mount", "--pid", "--root", "--wd", "--"]).args(argv);
        c
    }
}

impl Drop for OpenWrtBox {
    fn drop(&mut self) {
        // End of stdin ends PID 1's read; the kill covers a box that is
        // stuck elsewhere. The namespaces, their mounts and loop devices
        // go with the last process in them.
        drop(self.stdin.take());
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// See: node_exporter's default fs-type excludes hide OpenWrt's overlay
/// root and its squashfs /rom (exporters.md, gap 5); sonde's defaults
/// report both. Here on a box booted for real, sonde run in it as on a
/// router, with no config.
#[test]
fn on_a_booted_openwrt_box_the_overlay_root_and_rom_are_reported() {
    let bx = OpenWrtBox::boot("openwrt-inside");
    let live = bx.mountinfo();
    let mounts = mountinfo(&live);
    let root = find(&mounts, "/");
    let rom = find(&mounts, "/rom");
    assert_eq!((root.fs_type.as_str(), root.source.as_str()), ("overlay", "overlayfs:/overlay"), "{live}");
    assert_eq!(rom.fs_type, "squashfs", "{live}");
    assert!(rom.options.split(',').any(|o| o == "ro"), "{live}");

    let mut args = bx.install_sonde();
    args.extend(["--once", "--no-collector", "chrony", "--no-collector", "unbound"].map(String::from));
    let out = output_within(bx.command(&args), "sonde --once in the box");
    let text = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    promtool_check(&text);
    assert_eq!(value(&text, "node_scrape_collector_success{collector=\"filesystem\"}"), Some(1.0));
    // It ran in the box: the box's os-release, from the squashfs.
    assert!(text.contains("node_os_info{build_id=\"r28427-6df0e3d02a\",id=\"openwrt\","), "{text}");

    // The mounts the default excludes keep: node_exporter's, which leave
    // out /dev, /proc, /sys and the pseudo filesystems, less its overlay
    // and squashfs. Each with the numbers statfs(2) gives for it.
    let reported: Vec<&str> = mounts
        .iter()
        .filter(|m| value(&text, &series("node_filesystem_readonly", m, "")).is_some())
        .map(|m| m.mount_point.as_str())
        .collect();
    let fs: Vec<&str> = text.lines().filter(|l| l.starts_with("node_filesystem_readonly")).collect();
    assert_eq!(reported, ["/rom", "/tmp", "/overlay", "/", "/mnt/sda1"], "{fs:#?}");
    for mp in reported {
        let m = find(&mounts, mp);
        let want = statfs(&bx.root().join(mp.trim_start_matches('/'))).unwrap();
        for (family, want) in SIZES.iter().zip(want) {
            assert_eq!(value(&text, &series(family, m, "")), Some(want), "{family} of {mp}\n{text}");
        }
        let ro = if m.options.split(',').any(|o| o == "ro") { 1.0 } else { 0.0 };
        assert_eq!(value(&text, &series("node_filesystem_readonly", m, "")), Some(ro), "{mp}");
        assert_eq!(value(&text, &series("node_filesystem_device_error", m, "")), Some(0.0), "{mp}");
    }

    // The fixture's mount table is this one, captured.
    let fixture = repo().join("tests/fixtures/openwrt/proc/1/mountinfo");
    if std::env::var_os("UPDATE").is_some() {
        std::fs::write(&fixture, &live).unwrap();
    }
    let committed = std::fs::read_to_string(&fixture).unwrap();
    let shape =
        |t: &str| -> Vec<(String, String)> { mountinfo(t).into_iter().map(|m| (m.mount_point, m.fs_type)).collect() };
    assert_eq!(
        shape(&committed),
        shape(&live),
        "{} is not this box's mount table: UPDATE=1 captures it",
        fixture.display()
    );
}

/// node_exporter's upstream default excludes less overlay and squashfs:
/// the same mounts as sonde's defaults, so the two can be compared.
const NE_MOUNT_POINTS_EXCLUDE: &str =
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
const NE_FS_TYPES_EXCLUDE: &str =
    "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|\
iso9660|mqueue|nsfs|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|sysfs|tracefs)$";

/// The same box seen from the host, as node_exporter sees a host from a
/// container: --procfs and --rootfs into the box's root. statfs(2) goes
/// through /proc/PID/root to the box's overlay and squashfs, and sonde's
/// filesystem families equal node_exporter's, run the same way.
#[test]
fn from_outside_with_rootfs_the_box_reads_as_node_exporter_reads_it() {
    let node_exporter = Path::new("/usr/bin/prometheus-node-exporter");
    assert!(
        node_exporter.is_file(),
        "node_exporter not found: run tests/setup.sh (Debian package prometheus-node-exporter)"
    );
    let bx = OpenWrtBox::boot("openwrt-outside");
    let root = bx.root();
    let proc = root.join("proc");

    let mut cmd = sonde_command();
    cmd.arg("--once")
        .args([OsString::from("--procfs"), proc.clone().into()])
        .args([OsString::from("--rootfs"), root.clone().into()])
        .args(["--no-collector", "chrony", "--no-collector", "unbound"]);
    let out = output_within(cmd, "sonde --once with --rootfs into the box");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        value(&text, "node_scrape_collector_success{collector=\"filesystem\"}"),
        Some(1.0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let port = common::free_tcp_port();
    let ne = Command::new(node_exporter)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(["--collector.disable-defaults", "--collector.filesystem"])
        .arg(format!("--path.procfs={}", proc.display()))
        .arg(format!("--path.rootfs={}", root.display()))
        .arg(format!("--collector.filesystem.mount-points-exclude={NE_MOUNT_POINTS_EXCLUDE}"))
        .arg(format!("--collector.filesystem.fs-types-exclude={NE_FS_TYPES_EXCLUDE}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _ne = Kill(ne);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    wait_for("node_exporter to listen", HANG, || TcpStream::connect(addr).ok());
    let theirs = scrape(addr, "node_exporter read the box");

    let mut compared = 0;
    for family in SIZES.iter().chain(&["node_filesystem_readonly", "node_filesystem_device_error"]) {
        // node_exporter 1.5 has no device_error label (1.8 added it).
        let ours: BTreeMap<_, _> = samples(&text, family)
            .into_iter()
            .map(|(labels, v)| (labels.into_iter().filter(|(k, _)| k != "device_error").collect::<Vec<_>>(), v))
            .collect();
        let ne = samples(&theirs, family);
        assert_eq!(ours, ne, "{family}: sonde, then node_exporter");
        compared += ours.len();
    }
    // The comparison covered the overlay root and the squashfs.
    let mounts = mountinfo(&bx.mountinfo());
    for mp in ["/", "/rom"] {
        let m = find(&mounts, mp);
        assert!(value(&text, &series("node_filesystem_size_bytes", m, "")).is_some(), "{mp}:\n{text}");
    }
    assert!(compared >= 7 * 5, "{compared} samples compared");
}

/// FUSE mounts nobody serves, in a mount and PID namespace of their own
/// (see the module doc); their connections aborted and the namespace
/// ended when dropped, whatever happened before.
struct StuckMounts {
    /// unshare, whose child (the namespace's PID 1, a shell holding the
    /// /dev/fuse descriptors) holds the namespaces.
    holder: Child,
    /// That PID 1, on the host.
    pid: u32,
    stdin: Option<ChildStdin>,
    scratch: Scratch,
}

/// The namespace's PID 1 (bash, for `{fd}` redirections): fusectl mounted
/// so the connections can be aborted, then N mounts, each on a /dev/fuse
/// descriptor of its own that only this shell holds.
const HOLDER: &str = r#"set -eu
mount -t fusectl fusectl /sys/fs/fuse/connections
i=0
while [ "$i" -lt "$2" ]; do
    i=$((i + 1))
    mkdir "$1/stuck$i"
    exec {fd}<>/dev/fuse
    mount -i -t fuse -o "fd=$fd,rootmode=40000,user_id=0,group_id=0" sonde-stuck "$1/stuck$i"
done
echo ready
read -r _ || true
"#;

impl StuckMounts {
    fn new(name: &str, n: usize) -> StuckMounts {
        assert!(Path::new("/dev/fuse").exists(), "/dev/fuse is missing: the kernel needs FUSE (CONFIG_FUSE_FS)");
        let unshare = tool("unshare", "util-linux");
        let bash = tool("bash", "bash");
        let scratch = Scratch::new(name);
        let dir = scratch.0.canonicalize().unwrap();
        let mut holder = Command::new(unshare)
            .args(["--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc", "--kill-child"])
            .arg(bash)
            .args(["-c", HOLDER, "holder"])
            .arg(&dir)
            .arg(n.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = holder.stdin.take();
        let out = lines(holder.stdout.take().unwrap());
        let err = lines(holder.stderr.take().unwrap());
        let pid = only_child(holder.id());
        let mut mounts = StuckMounts { holder, pid, stdin, scratch };
        if out.recv_timeout(HANG).as_deref() != Ok("ready") {
            let _ = mounts.holder.kill();
            panic!("the FUSE mounts were not made:\n{}", drain(&err));
        }
        assert_eq!(mounts.stuck().len(), n);
        mounts
    }

    /// The namespace's mount table.
    fn mounts(&self) -> Vec<Mount> {
        mountinfo(&std::fs::read_to_string(format!("/proc/{}/mountinfo", self.pid)).unwrap())
    }

    fn stuck(&self) -> Vec<Mount> {
        self.mounts().into_iter().filter(|m| m.source == "sonde-stuck").collect()
    }

    /// Aborts every FUSE connection of the namespace's mounts: each
    /// blocked statfs(2) returns ENOTCONN. The connection's directory in
    /// fusectl is named after the mount's device number (major 0).
    fn abort(&self) {
        let info = std::fs::read_to_string(format!("/proc/{}/mountinfo", self.pid)).unwrap_or_default();
        for line in info.lines().filter(|l| l.contains(" - fuse sonde-stuck ")) {
            let minor = line.split(' ').nth(2).unwrap().split(':').nth(1).unwrap();
            let abort = format!("/proc/{}/root/sys/fs/fuse/connections/{minor}/abort", self.pid);
            let _ = std::fs::write(abort, "1");
        }
    }

    /// sonde's command line (and its runner's) under nsenter into the
    /// namespaces; its root and /proc are the namespace's.
    fn command(&self, args: &[&str]) -> Command {
        let sonde = sonde_command();
        let mut c = Command::new(tool("nsenter", "util-linux"));
        c.args(["--target", &self.pid.to_string(), "--mount", "--pid", "--"])
            .arg(sonde.get_program())
            .args(sonde.get_args())
            .args(args);
        c
    }

    /// A config with a short statfs timeout, so the test is quick.
    fn config(&self) -> String {
        let p = self.scratch.write("sonde.toml", "[filesystem]\ntimeout = \"250ms\"\n");
        p.to_str().unwrap().to_owned()
    }
}

impl Drop for StuckMounts {
    fn drop(&mut self) {
        self.abort();
        drop(self.stdin.take());
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// sonde's daemon in the stuck mounts' namespaces, killed when dropped.
struct Daemon {
    nsenter: Child,
    /// sonde's PID on the host (nsenter's child).
    pid: u32,
    addr: SocketAddr,
    stderr: Receiver<String>,
}

impl Daemon {
    fn start(mounts: &StuckMounts, config: &str) -> Daemon {
        let mut nsenter = mounts
            .command(&[
                "--listen",
                "127.0.0.1:0",
                "--config",
                config,
                "--no-collector",
                "chrony",
                "--no-collector",
                "unbound",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = lines(nsenter.stderr.take().unwrap());
        let pid = only_child(nsenter.id());
        let line = loop {
            match stderr.recv_timeout(HANG) {
                Ok(l) if l.contains("listening on http://") => break l,
                Ok(_) => {}
                Err(_) => panic!("sonde did not start listening"),
            }
        };
        let addr = line.split("http://").nth(1).unwrap().trim_end_matches("/metrics").parse().unwrap();
        Daemon { nsenter, pid, addr, stderr }
    }

    /// (name, state) of each of sonde's threads.
    fn tasks(&self) -> Vec<(String, char)> {
        let mut v = Vec::new();
        for e in std::fs::read_dir(format!("/proc/{}/task", self.pid)).unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
            let name = stat.split_once('(').unwrap().1.rsplit_once(')').unwrap().0.to_owned();
            let state = stat.rsplit_once(") ").unwrap().1.chars().next().unwrap();
            v.push((name, state));
        }
        v
    }

    /// sonde's statfs helpers: (all, blocked in the kernel).
    fn statfs_threads(&self) -> (usize, usize) {
        let t = self.tasks();
        let helpers = t.iter().filter(|(n, _)| n == "statfs");
        (helpers.clone().count(), helpers.filter(|(_, s)| *s == 'D').count())
    }

    /// /proc/PID/status Threads:, all of them.
    fn threads(&self) -> usize {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap();
        let line = status.lines().find(|l| l.starts_with("Threads:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Checks the threads after a scrape: the statfs helpers are as many as
    /// after the second scrape (the first leaves its helpers behind, the
    /// second starts the one that replaces them; no later one may add
    /// any), and all of sonde's threads are within what limits.rs allows
    /// beyond those it started with: the HTTP pool's and the statfs
    /// helpers. (The pool grows on demand, and a thread being born has no
    /// name yet, so only that bound holds for the total.)
    fn check_threads(&self, scrape: usize, started: usize, second: &mut Option<usize>) {
        let (helpers, _) = self.statfs_threads();
        if scrape > 0 {
            assert_eq!(*second.get_or_insert(helpers), helpers, "scrape {scrape}: {:?}", self.tasks());
        }
        let threads = self.threads();
        assert!(
            threads <= started + MAX_CONNECTIONS + MAX_STUCK_STATFS,
            "scrape {scrape}: {threads} threads, {started} at start: {:?}",
            self.tasks()
        );
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // nsenter's end means sonde's: only a live one is killed.
        if matches!(self.nsenter.try_wait(), Ok(None)) {
            let _ = Command::new("kill").args(["-KILL", &self.pid.to_string()]).status();
            let _ = self.nsenter.kill();
        }
        let _ = self.nsenter.wait();
    }
}

/// See: a stuck mount must not hang a scrape (issue 3). One FUSE mount
/// that never answers: every scrape and `--once` come back while sonde's
/// call into it is still blocked, the mount is reported as node_exporter
/// reports a stuck one, no scrape adds a statfs thread, and SIGTERM stops
/// sonde with the call still blocked.
#[test]
fn scrapes_come_back_while_a_fuse_mount_hangs() {
    let mounts = StuckMounts::new("fuse-one", 1);
    let config = mounts.config();
    let stuck = &mounts.stuck()[0];
    let root = find(&mounts.mounts(), "/").clone();
    let root_size = statfs(Path::new("/")).unwrap()[0];
    let daemon = Daemon::start(&mounts, &config);
    let started = daemon.threads();
    let mut second = None;
    for i in 0..5 {
        let text = scrape(daemon.addr, "a FUSE mount hung");
        // Back while its statfs(2) is still blocked: the scrape did not
        // wait for it, and one thread holds it; at most one more serves
        // the mounts that answer.
        let (helpers, blocked) = daemon.statfs_threads();
        assert_eq!(blocked, 1, "scrape {i}: {:?}", daemon.tasks());
        assert!(helpers <= 2, "scrape {i}: {:?}", daemon.tasks());
        assert_eq!(value(&text, &series("node_filesystem_device_error", stuck, "mountpoint timeout")), Some(1.0));
        assert!(!text.contains(&series("node_filesystem_size_bytes", stuck, "mountpoint timeout")));
        // The other mounts keep their numbers.
        assert_eq!(value(&text, &series("node_filesystem_size_bytes", &root, "")), Some(root_size), "scrape {i}");
        daemon.check_threads(i, started, &mut second);
        if i == 0 {
            promtool_check(&text);
        }
    }

    let once = output_within(
        mounts.command(&["--once", "--config", &config, "--no-collector", "chrony", "--no-collector", "unbound"]),
        "sonde --once with a FUSE mount hung",
    );
    let text = String::from_utf8(once.stdout).unwrap();
    assert_eq!(once.status.code(), Some(0), "{}", String::from_utf8_lossy(&once.stderr));
    assert_eq!(value(&text, &series("node_filesystem_device_error", stuck, "mountpoint timeout")), Some(1.0));
    assert_eq!(value(&text, &series("node_filesystem_size_bytes", &root, "")), Some(root_size));

    // SIGTERM with the call still blocked: the process ends, and its
    // blocked thread with it (the wait is killable).
    let mut daemon = daemon;
    assert_eq!(daemon.statfs_threads().1, 1);
    assert!(Command::new("kill").args(["-TERM", &daemon.pid.to_string()]).status().unwrap().success());
    let status = wait_for("sonde to exit on SIGTERM", HANG, || daemon.nsenter.try_wait().unwrap());
    assert_eq!(status.code(), Some(0), "{:?}", daemon.stderr.try_iter().collect::<Vec<_>>());
}

/// See: once limits::MAX_STUCK_STATFS mounts had hung, every healthy
/// mount lost its sizes ("too many stuck mounts") from the next scrape on.
/// Two FUSE mounts past the bound that never answer: the statfs threads
/// stay within the bound over repeated scrapes, every hung mount is
/// reported with device_error 1, the root keeps its numbers; and once
/// their connections are aborted, the mounts are asked again and reported
/// with statfs's own error, and the blocked threads are gone.
#[test]
fn mounts_hung_past_the_bound_cost_no_threads_and_hide_no_healthy_mount() {
    let n = MAX_STUCK_STATFS + 2;
    let mounts = StuckMounts::new("fuse-many", n);
    let config = mounts.config();
    let stuck = mounts.stuck();
    let root = find(&mounts.mounts(), "/").clone();
    let root_size = statfs(Path::new("/")).unwrap()[0];
    let daemon = Daemon::start(&mounts, &config);
    let started = daemon.threads();
    let mut second = None;
    for i in 0..5 {
        let text = scrape(daemon.addr, "FUSE mounts hung");
        let (helpers, blocked) = daemon.statfs_threads();
        assert!(helpers <= MAX_STUCK_STATFS, "scrape {i}: {helpers} statfs threads: {:?}", daemon.tasks());
        let timed_out = stuck
            .iter()
            .filter(|m| text.contains(&series("node_filesystem_device_error", m, "mountpoint timeout")))
            .count();
        assert_eq!(blocked, timed_out, "scrape {i}: each mount reported as timed out holds one blocked thread");
        assert!(timed_out >= 1);
        for m in &stuck {
            let errors = samples(&text, "node_filesystem_device_error")
                .into_iter()
                .filter(|(labels, _)| labels.iter().any(|(k, v)| k == "mountpoint" && *v == m.mount_point))
                .map(|(_, v)| v)
                .collect::<Vec<_>>();
            assert_eq!(errors, [1.0], "scrape {i}: {}", m.mount_point);
        }
        assert_eq!(value(&text, &series("node_filesystem_size_bytes", &root, "")), Some(root_size), "scrape {i}");
        daemon.check_threads(i, started, &mut second);
    }

    // The connections go: statfs returns their error, as stat(1) shows it.
    mounts.abort();
    let inside = PathBuf::from(format!("/proc/{}/root{}", mounts.pid, stuck[0].mount_point));
    let said = statfs(&inside).expect_err("statfs of an aborted FUSE mount fails");
    let said = format!("{}{}", said[..1].to_lowercase(), &said[1..]);
    let deadline = Instant::now() + HANG;
    let text = loop {
        let text = scrape(daemon.addr, "the FUSE connections were aborted");
        if stuck.iter().all(|m| text.contains(&series("node_filesystem_device_error", m, &said))) {
            break text;
        }
        if Instant::now() > deadline {
            let errors: Vec<&str> = text.lines().filter(|l| l.contains("sonde-stuck")).collect();
            panic!("the aborted mounts are not reported with {said:?}: {errors:#?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(value(&text, &series("node_filesystem_size_bytes", &root, "")), Some(root_size));
    assert_eq!(daemon.statfs_threads().1, 0, "{:?}", daemon.tasks());
}
