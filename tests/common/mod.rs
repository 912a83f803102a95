//! Shared harness of the black-box tests: start the built binary, talk
//! HTTP to it over loopback, and run promtool on what it says.
//!
//! The binary under test is `$SONDE_BIN` when set (`make test` points it
//! at the static release build, the one that ships), else the one cargo
//! built for these tests; `$SONDE_RUNNER` runs it under qemu-user
//! (`make cross-test`). Peers the tests need (promtool) must be
//! installed by `tests/setup.sh`; a missing one fails the test with that
//! advice, never skips it.

#![allow(dead_code)] // each test binary uses a different part
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The real peers of the watchdog, notification, log and HTTP-check
/// tests (nginx, Alertmanager, exim, rsyslog, syslog-ng, monit, mtail,
/// blackbox_exporter, logrotate, chromium), each started on loopback.
pub mod peers;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn bin() -> PathBuf {
    match std::env::var_os("SONDE_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_sonde")),
    }
}

/// A command that runs the binary under test: through `$SONDE_RUNNER`
/// (a qemu-user binary, for the cross-built targets) when that is set.
pub fn sonde_command() -> Command {
    match std::env::var_os("SONDE_RUNNER") {
        Some(runner) if !runner.is_empty() => {
            let mut c = Command::new(runner);
            c.arg(bin());
            c
        }
        _ => Command::new(bin()),
    }
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A scratch directory for one test, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("sonde-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running sonde, killed when dropped.
pub struct Sonde {
    pub child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<Vec<String>>>,
    lines: Receiver<String>,
    /// The thread that reads stderr; it ends once sonde's stderr closes.
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Sonde {
    /// Starts `sonde --listen 127.0.0.1:0 ARGS` and waits for the line
    /// that says where it listens.
    pub fn start(args: &[&str]) -> Sonde {
        Sonde::start_listening(&["--listen", "127.0.0.1:0"], args)
    }

    /// Starts sonde with `listen` flags of the caller's choice (empty: the
    /// config decides) and waits for its first listening line.
    pub fn start_listening(listen: &[&str], args: &[&str]) -> Sonde {
        let mut child = sonde_command()
            .args(listen)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sonde");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let all = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&all);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                keep.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let mut sonde =
            Sonde { child, addr: "0.0.0.0:0".parse().unwrap(), stderr: all, lines: rx, reader: Some(reader) };
        let line = sonde
            .wait_line(
                |l| l.contains("listening on http://") || l.contains("listening on https://"),
                Duration::from_secs(10),
            )
            .unwrap_or_else(|| panic!("sonde did not start listening; stderr:\n{}", sonde.stderr()));
        let addr = line.split("://").nth(1).unwrap().trim_end_matches("/metrics");
        sonde.addr = addr.parse().unwrap();
        sonde
    }

    /// Waits for a stderr line matching `pred` (lines seen before are
    /// consumed by earlier waits, not searched again).
    pub fn wait_line(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.lines.recv_timeout(left) {
                Ok(line) if pred(&line) => return Some(line),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// Everything sonde wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill").args([&format!("-{sig}"), &self.child.id().to_string()]).status().unwrap();
        assert!(ok.success(), "kill -{sig} failed");
    }

    pub fn get(&self, path: &str) -> Response {
        request(self.addr, &format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"))
    }

    /// Waits for the process to exit, up to `timeout`, and for its
    /// stderr to be read to the end, so that [`Sonde::stderr`] then holds
    /// every line it wrote (the process can be gone while the reader has
    /// not taken its last lines yet).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The pipe closes with the process (sonde starts no children that
        // could keep it open), so the reader ends soon after.
        let drained = Instant::now() + Duration::from_secs(30);
        while self.reader.as_ref().is_some_and(|r| !r.is_finished()) {
            assert!(Instant::now() < drained, "sonde exited but its stderr stayed open");
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        Some(status)
    }

    /// A field of /proc/PID/status, in kB (VmRSS, VmHWM).
    pub fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with(&format!("{field}:"))).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Sonde {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("body is UTF-8")
    }
}

/// Sends raw request bytes and reads the whole response (the server
/// closes every connection).
pub fn request(addr: SocketAddr, raw: &str) -> Response {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    read_response(&mut s)
}

/// Reads one response: its head, then as many body bytes as its
/// Content-Length says (the connection may stay open for another
/// request), or to the end of the stream without one.
pub fn read_response(s: &mut TcpStream) -> Response {
    let mut all = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        if let Some(split) = all.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&all[..split]).to_ascii_lowercase();
            let length = head.lines().find_map(|l| l.strip_prefix("content-length:")?.trim().parse::<usize>().ok());
            if let Some(n) = length {
                if all.len() >= split + 4 + n {
                    all.truncate(split + 4 + n);
                    return parse_response(&all);
                }
            }
        }
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read response: {e}; read so far: {}", String::from_utf8_lossy(&all)),
        }
    }
    parse_response(&all)
}

pub fn parse_response(all: &[u8]) -> Response {
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8(all[..split].to_vec()).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Response { status, head, body: all[split + 4..].to_vec() }
}

/// Runs `promtool check metrics` on `text` and fails the test unless it
/// finds nothing, or only the name-style warnings that node_exporter's own
/// names carry (camelCase, `_bits`) and unbound_exporter's names
/// ([`UNBOUND_INHERITED`]: any scrape on a box that runs Unbound has
/// them). promtool 2.42 exits 3 for those, so its lines are read, not
/// only its exit code.
pub fn promtool_check(text: &str) {
    promtool_check_allowing(text, &[]);
}

/// The letsencrypt exporter's names that promtool finds fault with: kept,
/// as its dashboards use them (DESIGN.md, "Metrics").
pub const UNBOUND_INHERITED: &[&str] = &[
    "unbound_answers_bogus counter metrics should have \"_total\" suffix",
    "unbound_infra_cache_count counter metrics should have \"_total\" suffix",
    "unbound_infra_cache_count non-histogram and non-summary metrics should not have \"_count\" suffix",
    "unbound_msg_cache_count non-histogram and non-summary metrics should not have \"_count\" suffix",
    "unbound_rrset_cache_count non-histogram and non-summary metrics should not have \"_count\" suffix",
    "unbound_query_aggressive_nsec counter metrics should have \"_total\" suffix",
    "unbound_time_elapsed_seconds counter metrics should have \"_total\" suffix",
    "unbound_dns_error_reports counter metrics should have \"_total\" suffix",
    "unbound_queries_discard_timeout counter metrics should have \"_total\" suffix",
    "unbound_queries_replyaddr_limit counter metrics should have \"_total\" suffix",
    "unbound_queries_wait_limit counter metrics should have \"_total\" suffix",
    "unbound_signature_validations counter metrics should have \"_total\" suffix",
    "unbound_rpz_action_count counter metrics should have \"_total\" suffix",
    "unbound_rpz_action_count non-histogram and non-summary metrics should not have \"_count\" suffix",
];

/// [`promtool_check`], also allowing the exact findings in `inherited`:
/// lint that an incumbent exporter's names carry and compatibility keeps.
pub fn promtool_check_allowing(text: &str, inherited: &[&str]) {
    let promtool = which("promtool").expect("promtool not found: run tests/setup.sh (Debian package prometheus)");
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 3, "promtool exit {code}:\n{said}");
    for line in said.lines().filter(|l| !l.trim().is_empty()) {
        let allowed = line.contains("metric names should be written in 'snake_case' not 'camelCase'")
            || line.contains("use base unit \"bytes\" instead of \"bits\"")
            || UNBOUND_INHERITED.contains(&line.trim())
            || inherited.contains(&line.trim());
        assert!(allowed, "promtool finding that compatibility does not explain: {line}\nall:\n{said}");
    }
}

/// Runs a shell script in a network and mount namespace of its own (lo up
/// is the script's job) and returns its stdout and stderr; a failing
/// script fails the test with both.
pub fn in_new_namespace(script: &str) -> (String, String) {
    let out = Command::new("unshare")
        .args(["--net", "--mount", "--propagation", "private", "sh", "-c", script])
        .stdin(Stdio::null())
        .output()
        .expect("unshare (util-linux) and ip (iproute2)");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "namespace script failed: {:?}\n{stderr}\n{stdout}", out.status.code());
    (stdout, stderr)
}

pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

/// The families of an exposition: the names of its `# TYPE` lines.
pub fn families(text: &str) -> std::collections::BTreeSet<String> {
    text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).map(|l| l.split(' ').next().unwrap().to_owned()).collect()
}

/// The value of the sample whose line starts with `series` followed by a
/// space (`name` or `name{labels}` exactly as written).
pub fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// [`value`], where a `probe_success{...,reason="R"}` series asks for
/// `probe_success{...}` and for its failure reason, which sonde writes in
/// a family of its own so that `probe_success` keeps one series through any
/// failure: `sonde_check_failure_info{...,reason="R"} 1` when R is not
/// empty, no such series for those labels when it is. The value, if both
/// agree; None otherwise. Any other series is read as [`value`] reads it.
pub fn probe_value(text: &str, series: &str) -> Option<f64> {
    let Some((head, reason)) = series.strip_prefix("probe_success{").and_then(|s| s.rsplit_once("reason=\"")) else {
        return value(text, series);
    };
    let reason = reason.strip_suffix("\"}")?;
    let labels = head.trim_end_matches(',');
    let success = value(text, &format!("probe_success{{{labels}}}"))?;
    let info = format!("sonde_check_failure_info{{{labels},reason=");
    let failures: Vec<&str> = text.lines().filter(|l| l.starts_with(&info)).collect();
    let agrees = match reason {
        "" => failures.is_empty(),
        r => failures.len() == 1 && value(text, &format!("{info}\"{r}\"}}")) == Some(1.0),
    };
    agrees.then_some(success)
}

/// Runs sonde to completion with `args`.
pub fn run(args: &[&str]) -> std::process::Output {
    sonde_command().args(args).stdin(Stdio::null()).output().unwrap()
}

/// Calls `f` until it returns something, for at most `timeout`; a test
/// that waits longer has failed, and says for what.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A tmpfs mounted by a test (`size=24k`, `nr_inodes=64`, ...),
/// unmounted when dropped.
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    pub fn mount(dir: &Path, options: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount").args(["-t", "tmpfs", "-o", options, "tmpfs"]).arg(dir).output().unwrap();
        assert!(out.status.success(), "mount tmpfs: {}", String::from_utf8_lossy(&out.stderr));
        Tmpfs(dir.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// A TCP port free on 127.0.0.1 right now, chosen by the kernel.
pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Certificates made by openssl(1) in `DIR/pki`, with EC P-256 keys:
/// `NAME.key` and `NAME.crt` for each one made.
pub struct Pki {
    pub dir: PathBuf,
    openssl: PathBuf,
}

impl Pki {
    pub fn new(dir: &Path) -> Pki {
        let openssl = which("openssl").expect("openssl not found (Debian package openssl)");
        let dir = dir.join("pki");
        std::fs::create_dir_all(&dir).unwrap();
        Pki { dir, openssl }
    }

    fn run(&self, args: &[&str]) {
        let out = Command::new(&self.openssl).current_dir(&self.dir).args(args).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn key_and(&self, args: &[&str], name: &str, out: &str) {
        let (key, ec) = (format!("{name}.key"), ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]);
        self.run(&[args, &ec, &["-keyout", &key, "-out", out]].concat());
    }

    /// A self-signed CA `name` with common name `cn`, valid for `days`.
    pub fn ca(&self, name: &str, cn: &str, days: &str) {
        self.key_and(&["req", "-x509", "-days", days, "-subj", &format!("/CN={cn}")], name, &format!("{name}.crt"));
    }

    /// A certificate `name` signed by `ca`, valid for `days`, with the
    /// X.509v3 extensions `ext` (openssl's extfile lines).
    pub fn issue(&self, name: &str, ca: &str, days: &str, ext: &str) {
        let (csr, crt, extfile) = (format!("{name}.csr"), format!("{name}.crt"), format!("{name}.ext"));
        std::fs::write(self.dir.join(&extfile), ext).unwrap();
        self.key_and(&["req", "-subj", &format!("/CN={name}")], name, &csr);
        let (ca_crt, ca_key) = (format!("{ca}.crt"), format!("{ca}.key"));
        self.run(&[
            "x509",
            "-req",
            "-days",
            days,
            "-in",
            &csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &crt,
            "-extfile",
            &extfile,
        ]);
    }
}
