//! The filesystem collector against mounts made for real, in mount and
//! PID namespaces the tests create (as root), so nothing reaches the
//! host's mount table: the layout of an OpenWrt box.
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
use std::time::Duration;

use common::{bin, promtool_check, repo, sonde_command, value, wait_for, Scratch};

/// Longest any one step may take before the test calls it a hang: a boot,
/// a scrape, a `--once`.
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
    assert_eq!(value(&text, "sonde_collector_success{collector=\"filesystem\"}"), Some(1.0));
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
        value(&text, "sonde_collector_success{collector=\"filesystem\"}"),
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
