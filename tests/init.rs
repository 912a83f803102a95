//! The busybox example, booted for real: busybox init as PID 1 in a PID
//! and mount namespace of its own, with a minimal root holding busybox,
//! sonde and a config. init starts sonde from the example's inittab line;
//! the endpoint answers; killed, sonde is started again by init.

// A test that cannot unwrap has failed; the panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{bin, repo, request, wait_for, Scratch};

/// Host PIDs of processes running `/usr/bin/sonde` inside `root`.
fn sonde_pids(root: &Path) -> Vec<u32> {
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(link) = std::fs::read_link(e.path().join("root")) else { continue };
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else { continue };
        if link == root && cmdline.starts_with(b"/usr/bin/sonde\0") {
            pids.push(pid);
        }
    }
    pids
}

/// The shipped binary is static and needs nothing more; the one `cargo
/// test` builds links glibc, so its libraries go into the root too.
fn copy_libraries(binary: &Path, root: &Path) {
    let out = Command::new("ldd").arg(binary).output().unwrap();
    for word in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        let lib = Path::new(word);
        if lib.is_absolute() && lib.is_file() {
            let dest = root.join(lib.strip_prefix("/").unwrap());
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(lib, dest).unwrap();
        }
    }
}

#[test]
fn busybox_init_starts_sonde_from_the_example_line_and_respawns_it() {
    let busybox = Path::new("/bin/busybox");
    assert!(busybox.is_file(), "busybox not found: run cross/setup.sh (Debian package busybox-static)");
    let scratch = Scratch::new("init");
    let root = scratch.0.canonicalize().unwrap();
    for d in ["bin", "usr/bin", "etc", "proc", "dev", "tmp"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    std::fs::copy(bin(), root.join("usr/bin/sonde")).unwrap();
    copy_libraries(&bin(), &root);
    std::fs::set_permissions(root.join("usr/bin/sonde"), std::fs::Permissions::from_mode(0o755)).unwrap();
    for (name, major, minor) in [("console", 5, 1), ("null", 1, 3)] {
        let status = Command::new("mknod")
            .arg(root.join("dev").join(name))
            .args(["c", &major.to_string(), &minor.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "mknod {name}");
    }
    // A free port for the endpoint, chosen by the kernel and released.
    let port = common::free_tcp_port();
    std::fs::write(root.join("etc/sonde.toml"), format!("[server]\nlisten = \"127.0.0.1:{port}\"\n")).unwrap();
    // The example's line, as shipped, after what any busybox system's
    // inittab does first: mount /proc.
    let example = std::fs::read_to_string(repo().join("examples/busybox/inittab")).unwrap();
    let line = example.lines().find(|l| !l.starts_with('#') && !l.trim().is_empty()).unwrap();
    std::fs::write(root.join("etc/inittab"), format!("::sysinit:/bin/busybox mount -t proc proc /proc\n{line}\n"))
        .unwrap();

    let unshare = common::which("unshare").expect("unshare (util-linux) is needed");
    let mut init = Command::new(unshare)
        .args(["--pid", "--mount", "--fork", "--kill-child", "chroot"])
        .arg(&root)
        .args(["/bin/busybox", "init"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let metrics = || {
        std::net::TcpStream::connect(addr).ok()?;
        let r = request(addr, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
        (r.status == 200 && r.text().contains("node_load1 ")).then_some(())
    };

    wait_for("sonde started by init to answer", Duration::from_secs(20), metrics);
    let first = wait_for("sonde's pid", Duration::from_secs(5), || sonde_pids(&root).first().copied());
    assert!(Command::new("kill").args(["-KILL", &first.to_string()]).status().unwrap().success());
    let second = wait_for("init to start sonde again", Duration::from_secs(20), || {
        sonde_pids(&root).into_iter().find(|&p| p != first)
    });
    assert_ne!(first, second);
    wait_for("the respawned sonde to answer", Duration::from_secs(20), metrics);

    // Killing unshare kills init (--kill-child), which takes its namespace.
    let _ = init.kill();
    let _ = init.wait();
    wait_for("the namespace to end", Duration::from_secs(10), || sonde_pids(&root).is_empty().then_some(()));
}
