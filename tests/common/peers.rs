//! Real peers of the watchdog, notification, log and HTTP-check tests,
//! each started by the test itself: in the foreground, with a config
//! written into the test's scratch directory, on a free loopback port,
//! and killed (with its whole process group) when dropped.
//!
//! `start` returns only once the peer really answers (an HTTP request, an
//! SMTP greeting, a bound socket), never after a fixed sleep; a peer that
//! exits or does not answer in time fails the test with its own log. A
//! missing peer fails too, with the package to install: tests/setup.sh
//! installs them all (exim4 and syslog-ng unpacked under
//! [`PRIVATE_PEERS`], since their packages conflict with OpenSMTPD's and
//! rsyslog's). Nothing here reads or writes a system path (/run,
//! /var/spool, /etc) or uses a default port, so the tests pass on a host
//! that runs these daemons as services. tests/PEERS.md has each peer's
//! version, command line and quirks.

use super::{free_tcp_port, which, Pki, Response};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where tests/setup.sh unpacks the peers whose Debian packages conflict
/// with installed ones (`dpkg-deb -x`, one directory per package).
pub const PRIVATE_PEERS: &str = "/opt/sonde-test-peers";

/// How long a peer may take to answer after its start. They all answer
/// within a second here; the margin is for a loaded CI machine.
const READY: Duration = Duration::from_secs(30);

/// `path`, or a failure that says which package tests/setup.sh installs.
pub fn need(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(p.exists(), "{path} not found: run tests/setup.sh as root (Debian package {package})");
    p
}

/// A directory `dir/name`, created fresh (a peer started twice in one
/// scratch directory gets a new one per port).
fn subdir(dir: &Path, name: &str) -> PathBuf {
    let d = dir.join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    // logrotate and exim refuse group- or world-writable directories,
    // which a umask of 002 would make.
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

fn write_mode(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(path: &Path, user: &str) {
    let out = Command::new("chown").arg(format!("{user}:")).arg(path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "chown {user} {}: {err}(tests/setup.sh makes the user; the tests run as root)",
        path.display()
    );
}

/// A port free for both UDP and TCP on 127.0.0.1 right now.
pub fn free_udp_tcp_port() -> u16 {
    loop {
        let p = free_tcp_port();
        if UdpSocket::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

/// A daemon in the foreground, in a process group of its own, with its
/// stdout and stderr in `log`. Dropping it kills the group (nginx's,
/// exim's and chromium's children too) and reaps the daemon.
pub struct Daemon {
    what: String,
    child: Child,
    pub log: PathBuf,
}

impl Daemon {
    pub fn spawn(what: &str, cmd: &mut Command, log: &Path) -> Daemon {
        let out = std::fs::File::create(log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{what} did not start ({cmd:?}): {e}"));
        Daemon { what: what.to_owned(), child, log: log.to_owned() }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the daemon wrote on stdout and stderr so far.
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// Calls `probe` until it returns something. Fails, with the daemon's
    /// log, when the daemon exits first or `timeout` passes.
    pub fn wait_ready<T>(&mut self, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = probe() {
                return v;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("{} exited ({status}) before it answered; its log:\n{}", self.what, self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer within {timeout:?}; its log:\n{}",
                self.what,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the daemon's process group and reaps the daemon now (a
    /// watchdog test then starts it under its watcher, not as the
    /// harness's child, whose unreaped corpse a watcher would see).
    pub fn stop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Fails, with the log, if the daemon has exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("{} exited ({status}); its log:\n{}", self.what, self.log_text());
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kill_group(pgid: u32) {
    if let Ok(pgid) = i32::try_from(pgid) {
        // SAFETY: kill(2) takes no pointers; a negative pid names the
        // process group that `process_group(0)` made for this daemon.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
}

/// One HTTP/1.1 request to 127.0.0.1:`port` (`Connection: close`), its
/// response read to the end; an error when nothing answers or the answer
/// is not HTTP, so that it can probe a daemon that is still starting.
pub fn http(port: u16, method: &str, path: &str, body: Option<(&str, &[u8])>) -> std::io::Result<Response> {
    let mut s = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some((ctype, b)) = body {
        req.push_str(&format!("Content-Type: {ctype}\r\nContent-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    let mut raw = req.into_bytes();
    if let Some((_, b)) = body {
        raw.extend_from_slice(b);
    }
    s.write_all(&raw)?;
    let mut all = Vec::new();
    s.read_to_end(&mut all)?;
    if !all.starts_with(b"HTTP/1.") || !all.windows(4).any(|w| w == b"\r\n\r\n") {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response"));
    }
    let mut r = super::parse_response(&all);
    // Go's servers (mtail, Alertmanager, blackbox_exporter) send a large
    // body in chunks; without this, chunk sizes would cut its lines.
    if r.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        r.body =
            dechunk(&r.body).ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad chunked body"))?;
    }
    Ok(r)
}

/// The body of a `Transfer-Encoding: chunked` response, its chunks joined.
fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&b[..eol]).ok()?.split(';').next()?.trim();
        let size = usize::from_str_radix(size, 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

/// `GET path`, which must answer 200; its body as text.
pub fn http_get_ok(port: u16, path: &str) -> String {
    let r = http(port, "GET", path, None).unwrap_or_else(|e| panic!("GET 127.0.0.1:{port}{path}: {e}"));
    assert_eq!(r.status, 200, "GET 127.0.0.1:{port}{path}:\n{}\n\n{}", r.head, String::from_utf8_lossy(&r.body));
    String::from_utf8_lossy(&r.body).into_owned()
}

fn answers_200(port: u16, path: &str) -> Option<()> {
    http(port, "GET", path, None).ok().filter(|r| r.status == 200).map(|_| ())
}

fn tcp_open(port: u16) -> Option<()> {
    TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ())
}

/// Whether some socket is bound to UDP `port` (the kernel's table: a UDP
/// receiver cannot be asked whether it listens).
fn udp_bound(port: u16) -> Option<()> {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap();
    let want = format!(":{port:04X}");
    table.lines().skip(1).any(|l| l.split_whitespace().nth(1).is_some_and(|local| local.ends_with(&want))).then_some(())
}

/// Waits until the file at `path` has a line containing `needle`, and
/// returns that line; fails with the whole file and `log` otherwise.
fn wait_line_in(path: &Path, needle: &str, timeout: Duration, log: &dyn Fn() -> String) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Some(l) = text.lines().find(|l| l.contains(needle)) {
            return l.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no line with {needle:?} in {} within {timeout:?}; it has:\n{text}\nthe peer's log:\n{}",
            path.display(),
            log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A server certificate for 127.0.0.1, ::1 and localhost and the CA that
/// signed it, for the peers that speak TLS (nginx, exim, rsyslog,
/// syslog-ng): the client side trusts `ca`.
#[derive(Clone, Debug)]
pub struct ServerCert {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl ServerCert {
    /// `peers-ca` and `peers-server` in `dir/pki` (made once per
    /// directory; a second call returns the same files).
    pub fn new(dir: &Path) -> ServerCert {
        let pki = Pki::new(dir);
        if !pki.dir.join("peers-ca.crt").exists() {
            pki.ca("peers-ca", "sonde peers test CA", "30");
        }
        if pki.dir.join("peers-server.crt").exists() {
            return ServerCert::files(&pki, "peers-ca", "peers-server");
        }
        ServerCert::issue(&pki, "peers-ca", "peers-server")
    }

    /// Certificate `name`, issued by `ca` (already made in `pki`).
    pub fn issue(pki: &Pki, ca: &str, name: &str) -> ServerCert {
        pki.issue(
            name,
            ca,
            "30",
            "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n\
             basicConstraints=critical,CA:FALSE\n",
        );
        ServerCert::files(pki, ca, name)
    }

    fn files(pki: &Pki, ca: &str, name: &str) -> ServerCert {
        ServerCert {
            ca: pki.dir.join(format!("{ca}.crt")),
            cert: pki.dir.join(format!("{name}.crt")),
            key: pki.dir.join(format!("{name}.key")),
        }
    }
}

// ---------------------------------------------------------------- nginx

/// nginx (Debian's `nginx`, 1.22) serving `www` on 127.0.0.1:`port`, and
/// over https on `https_port` when started with a certificate.
///
/// One process (`master_process off`): a SIGKILL leaves no worker holding
/// the port, so a watchdog test can kill it and start it again at once.
pub struct Nginx {
    pub port: u16,
    pub https_port: Option<u16>,
    /// The document root; `index.html` says "hello from nginx".
    pub www: PathBuf,
    pub conf: PathBuf,
    pub pidfile: PathBuf,
    pub access_log: PathBuf,
    pub daemon: Daemon,
    prefix: PathBuf,
}

impl Nginx {
    pub fn start(dir: &Path) -> Nginx {
        Nginx::start_with(dir, None, "")
    }

    /// With https when `tls` is given, and `server` (directives such as
    /// `location /moved { return 302 /index.html; }`) in every server block.
    pub fn start_with(dir: &Path, tls: Option<&ServerCert>, server: &str) -> Nginx {
        let bin = need("/usr/sbin/nginx", "nginx");
        let port = free_tcp_port();
        let d = subdir(dir, &format!("nginx-{port}"));
        let www = d.join("www");
        std::fs::create_dir_all(&www).unwrap();
        std::fs::create_dir_all(d.join("tmp")).unwrap();
        std::fs::write(www.join("index.html"), "<html><body><h1>hello from nginx</h1></body></html>\n").unwrap();
        let p = |f: &str| d.join(f).display().to_string();
        let https_port = tls.map(|_| free_tcp_port());
        let mut servers = format!("  server {{ listen 127.0.0.1:{port}; root {}; {server} }}\n", p("www"));
        if let (Some(tls), Some(hp)) = (tls, https_port) {
            servers.push_str(&format!(
                "  server {{ listen 127.0.0.1:{hp} ssl; ssl_certificate {}; ssl_certificate_key {}; root {}; {server} }}\n",
                tls.cert.display(),
                tls.key.display(),
                p("www")
            ));
        }
        let conf = d.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "master_process off;\nworker_processes 1;\npid {pid};\nerror_log {err} info;\n\
                 events {{ worker_connections 64; }}\nhttp {{\n  access_log {acc};\n  \
                 client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};\n  \
                 uwsgi_temp_path {tmp}; scgi_temp_path {tmp};\n  \
                 types {{ text/html html; text/plain txt; application/json json; image/png png; }}\n  \
                 default_type application/octet-stream;\n{servers}}}\n",
                pid = p("nginx.pid"),
                err = p("error.log"),
                acc = p("access.log"),
                tmp = p("tmp"),
            ),
        )
        .unwrap();
        let mut cmd = Command::new(bin);
        // -e: nginx opens its compiled-in /var/log/nginx/error.log before
        // it reads the config, unless told another file.
        cmd.arg("-p").arg(&d).arg("-e").arg(d.join("error.log")).arg("-c").arg(&conf).args(["-g", "daemon off;"]);
        let mut daemon = Daemon::spawn("nginx", &mut cmd, &d.join("nginx.out"));
        daemon.wait_ready(READY, || http(port, "GET", "/", None).ok());
        Nginx {
            port,
            https_port,
            www,
            pidfile: d.join("nginx.pid"),
            access_log: d.join("access.log"),
            conf,
            daemon,
            prefix: d,
        }
    }

    /// The shell command that starts this same nginx as a daemon (it forks
    /// once, writes `pidfile` and returns), for a watchdog's start program.
    pub fn start_command(&self) -> String {
        format!(
            "/usr/sbin/nginx -p {} -e {} -c {}",
            self.prefix.display(),
            self.prefix.join("error.log").display(),
            self.conf.display()
        )
    }
}

// --------------------------------------------------------- Alertmanager

/// Alertmanager (Debian's `prometheus-alertmanager`, 0.25) on
/// 127.0.0.1:`port`, gossip off, sending every alert at once to one
/// webhook receiver.
pub struct Alertmanager {
    pub port: u16,
    pub daemon: Daemon,
}

impl Alertmanager {
    /// Routes everything to `webhook_url` (group_wait 0s, group_interval
    /// 1s, resolved alerts sent too; resolve_timeout 20s).
    pub fn start(dir: &Path, webhook_url: &str) -> Alertmanager {
        Alertmanager::start_with_config(
            dir,
            &format!(
                "global:\n  resolve_timeout: 20s\nroute:\n  receiver: hook\n  group_wait: 0s\n  group_interval: 1s\n  \
                 repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: \"{webhook_url}\"\n        \
                 send_resolved: true\n"
            ),
        )
    }

    /// With the test's own alertmanager.yml.
    pub fn start_with_config(dir: &Path, yaml: &str) -> Alertmanager {
        Alertmanager::start_on(dir, free_tcp_port(), yaml)
    }

    /// On `port`: one that was there before and comes back (a test of a
    /// sender that outlives its receiver). Its data directory is new.
    pub fn start_on(dir: &Path, port: u16, yaml: &str) -> Alertmanager {
        let bin = need("/usr/bin/prometheus-alertmanager", "prometheus-alertmanager");
        let d = subdir(dir, &format!("alertmanager-{port}-{}", SEQ.fetch_add(1, Ordering::SeqCst)));
        let conf = d.join("alertmanager.yml");
        std::fs::write(&conf, yaml).unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", conf.display()))
            .arg(format!("--storage.path={}", d.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Empty: no gossip (it would listen on :9094 and look for peers).
            .arg("--cluster.listen-address=");
        let mut daemon = Daemon::spawn("alertmanager", &mut cmd, &d.join("alertmanager.log"));
        daemon.wait_ready(READY, || answers_200(port, "/-/ready"));
        Alertmanager { port, daemon }
    }

    /// `POST /api/v2/alerts` with a JSON array of alerts.
    pub fn post_alerts(&self, json: &str) -> Response {
        http(self.port, "POST", "/api/v2/alerts", Some(("application/json", json.as_bytes()))).unwrap()
    }

    /// The active alerts, as the JSON that `GET /api/v2/alerts` returns.
    pub fn alerts(&self) -> String {
        http_get_ok(self.port, "/api/v2/alerts?active=true")
    }
}

/// Tells apart the directories of peers started again on one port.
static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// An HTTP receiver the test runs (for Alertmanager's webhooks, or a
/// chat webhook): answers every request 200 and keeps its path and body.
pub struct WebhookSink {
    pub port: u16,
    requests: Arc<Mutex<Vec<(String, String)>>>,
    stop: Arc<AtomicBool>,
}

impl WebhookSink {
    pub fn start() -> WebhookSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (keep, stopped) = (Arc::clone(&requests), Arc::clone(&stop));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(mut s) = conn {
                    if let Some(req) = read_request(&mut s) {
                        keep.lock().unwrap().push(req);
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    }
                }
            }
        });
        WebhookSink { port, requests, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every (path, body) received so far.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits for a request whose body contains `needle`; its body.
    pub fn wait_body(&self, needle: &str, timeout: Duration) -> String {
        super::wait_for(&format!("a webhook request containing {needle:?}"), timeout, || {
            self.requests().into_iter().map(|(_, b)| b).find(|b| b.contains(needle))
        })
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one HTTP request (head and a Content-Length body): its path and
/// body.
fn read_request(s: &mut TcpStream) -> Option<(String, String)> {
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 || buf.len() > 1 << 20 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let path = head.split(' ').nth(1)?.to_owned();
    let len: usize = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((path, String::from_utf8_lossy(&buf[head_end..head_end + len]).into_owned()))
}

// ------------------------------------------------------------------ MTA

/// Exim 4.96 (Debian's `exim4-daemon-light`, unpacked under
/// [`PRIVATE_PEERS`]) accepting any recipient on 127.0.0.1:`port` and
/// delivering every message to one mbox file, `mailbox`.
///
/// Without TLS it offers no STARTTLS (exim would otherwise offer it with
/// a self-signed certificate of its own); with a certificate it offers
/// STARTTLS on `port` and speaks SMTPS (TLS from the connect) on
/// `smtps_port`.
pub struct Mta {
    pub port: u16,
    pub smtps_port: Option<u16>,
    pub mailbox: PathBuf,
    /// Exim's own log (`mainlog`, `paniclog`, `rejectlog`) is here.
    pub spool: PathBuf,
    /// Where the daemon writes its PID (`pid_file_path`).
    pub pidfile: PathBuf,
    pub daemon: Daemon,
    exim: String,
    conf: PathBuf,
}

impl Mta {
    pub fn start(dir: &Path) -> Mta {
        Mta::start_with(dir, None)
    }

    pub fn start_tls(dir: &Path, tls: &ServerCert) -> Mta {
        Mta::start_with(dir, Some(tls))
    }

    fn start_with(dir: &Path, tls: Option<&ServerCert>) -> Mta {
        Mta::start_configured(dir, tls, "")
    }

    /// With more of exim's config after the transports: `begin
    /// authenticators` and what follows (see [`EXIM_AUTH`]).
    pub fn start_configured(dir: &Path, tls: Option<&ServerCert>, more: &str) -> Mta {
        let exim = format!("{PRIVATE_PEERS}/exim4/usr/sbin/exim4");
        let bin = need(&exim, "exim4-daemon-light, unpacked");
        let port = free_tcp_port();
        let d = subdir(dir, &format!("exim-{port}"));
        // Its user must reach the files below the scratch directory.
        let mode = std::fs::metadata(dir).unwrap().permissions().mode();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o711)).unwrap();
        // Exim receives and delivers as its user (Debian-exim): with -C
        // it gives up root for deliveries, so the spool, the mailbox's
        // directory and the TLS key must be that user's.
        let (spool, mail) = (d.join("spool"), d.join("mail"));
        for p in [&spool, &mail] {
            std::fs::create_dir_all(p).unwrap();
            chown(p, "Debian-exim");
        }
        let mailbox = mail.join("mailbox");
        let smtps_port = tls.map(|_| free_tcp_port());
        let tls_conf = match tls {
            None => "tls_advertise_hosts =\n".to_owned(),
            Some(t) => {
                let (crt, key) = (spool.join("server.crt"), spool.join("server.key"));
                std::fs::copy(&t.cert, &crt).unwrap();
                std::fs::copy(&t.key, &key).unwrap();
                chown(&key, "Debian-exim");
                format!(
                    "tls_advertise_hosts = *\ntls_certificate = {}\ntls_privatekey = {}\ntls_on_connect_ports = {}\n",
                    crt.display(),
                    key.display(),
                    smtps_port.unwrap()
                )
            }
        };
        let ports = match smtps_port {
            Some(s) => format!("{port} : {s}"),
            None => port.to_string(),
        };
        let conf = d.join("exim.conf");
        // Exim refuses a config that others can write; root owns this one.
        write_mode(
            &conf,
            &format!(
                "exim_path = {exim}\nkeep_environment =\nprimary_hostname = mx.test\n\
                 spool_directory = {spool}\nlog_file_path = {spool}/%slog\npid_file_path = {d}/exim.pid\n\
                 daemon_smtp_ports = {ports}\nlocal_interfaces = 127.0.0.1\ndaemon_startup_retries = 0\n\
                 {tls_conf}acl_smtp_rcpt = accept_all\nacl_smtp_data = accept_all\n\
                 begin acl\naccept_all:\n  accept\n\
                 begin routers\nall:\n  driver = accept\n  transport = mailbox\n\
                 begin transports\nmailbox:\n  driver = appendfile\n  file = {mailbox}\n  user = Debian-exim\n  \
                 delivery_date_add\n  envelope_to_add\n  return_path_add\n{more}",
                spool = spool.display(),
                d = d.display(),
                mailbox = mailbox.display(),
            ),
            0o644,
        );
        let mut cmd = Command::new(bin);
        cmd.arg("-C").arg(&conf).arg("-bdf");
        let mut daemon = Daemon::spawn("exim", &mut cmd, &d.join("exim.out"));
        daemon.wait_ready(READY, || smtp_greeting(port).filter(|g| g.starts_with("220 ")));
        Mta { port, smtps_port, mailbox, spool, pidfile: d.join("exim.pid"), daemon, exim, conf }
    }

    /// The argv that starts this same exim as a daemon (`-bd`: it forks,
    /// writes `pidfile` and returns), for a watchdog's start program.
    pub fn start_argv(&self) -> Vec<String> {
        vec![self.exim.clone(), "-C".into(), self.conf.display().to_string(), "-bd".into()]
    }

    /// The mailbox (mbox: each message after a `From ` line).
    pub fn mailbox_text(&self) -> String {
        std::fs::read_to_string(&self.mailbox).unwrap_or_default()
    }

    /// The mails in the mailbox, in order.
    pub fn mails(&self) -> Vec<String> {
        mails(&self.mailbox_text())
    }

    /// Waits until the mailbox has a line containing `needle`; the whole
    /// mailbox then.
    pub fn wait_mail(&self, needle: &str, timeout: Duration) -> String {
        let log = || {
            format!(
                "{}\nmainlog:\n{}",
                self.daemon.log_text(),
                std::fs::read_to_string(self.spool.join("mainlog")).unwrap_or_default()
            )
        };
        wait_line_in(&self.mailbox, needle, timeout, &log);
        self.mailbox_text()
    }
}

/// The mails of a mailbox (mbox: each after a `From ` line), in order.
pub fn mails(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("From ") || out.is_empty() {
            out.push(String::new());
        }
        let last = out.last_mut().unwrap();
        last.push_str(line);
        last.push('\n');
    }
    out.retain(|m| !m.trim().is_empty());
    out
}

/// Exim authenticators taking AUTH PLAIN and AUTH LOGIN from user
/// `sonde` with password `secret` (clear text too: the tests' exim listens
/// on loopback only), for [`Mta::start_configured`].
pub const EXIM_AUTH: &str = "begin authenticators\n\
plain:\n  driver = plaintext\n  public_name = PLAIN\n  server_prompts = :\n  \
server_condition = ${if and {{eq{$auth2}{sonde}}{eq{$auth3}{secret}}}}\n  server_set_id = $auth2\n\
login:\n  driver = plaintext\n  public_name = LOGIN\n  server_prompts = Username:: : Password::\n  \
server_condition = ${if and {{eq{$auth1}{sonde}}{eq{$auth2}{secret}}}}\n  server_set_id = $auth1\n";

/// The first line an SMTP server says on 127.0.0.1:`port`.
pub fn smtp_greeting(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).ok()?;
    let _ = s.write_all(b"QUIT\r\n");
    Some(String::from_utf8_lossy(&buf[..n]).lines().next()?.to_owned())
}

// --------------------------------------------------------------- syslog

/// How a syslog receiver listens.
#[derive(Clone, Copy, Debug)]
pub enum SyslogProto<'a> {
    /// RFC 5426: one message per datagram.
    Udp,
    /// RFC 6587 over TCP. rsyslog accepts octet counting and LF framing
    /// on one port; syslog-ng's `syslog()` source only octet counting.
    Tcp,
    /// RFC 5425: octet counting over TLS with this certificate; the
    /// client is not asked for one.
    Tls(&'a ServerCert),
}

/// rsyslog or syslog-ng receiving on 127.0.0.1:`port` and writing each
/// message to `file` as one tab-separated line, `PRI HOSTNAME APP-NAME
/// PROCID MSGID STRUCTURED-DATA MSG`, and to `raw` as received (without
/// the framing). rsyslog writes `-` for an absent field where syslog-ng
/// writes nothing.
pub struct SyslogReceiver {
    pub port: u16,
    pub file: PathBuf,
    pub raw: PathBuf,
    pub daemon: Daemon,
}

impl SyslogReceiver {
    /// rsyslogd 8.2302 (Debian's `rsyslog`, TLS by `rsyslog-gnutls`).
    pub fn rsyslog(dir: &Path, proto: SyslogProto) -> SyslogReceiver {
        SyslogReceiver::rsyslog_at(dir, proto, free_udp_tcp_port())
    }

    /// [`SyslogReceiver::rsyslog`] on a given port: a receiver started
    /// again where a stopped one was. Its files start empty (read the
    /// stopped one's first).
    pub fn rsyslog_at(dir: &Path, proto: SyslogProto, port: u16) -> SyslogReceiver {
        let bin = need("/usr/sbin/rsyslogd", "rsyslog");
        let d = subdir(dir, &format!("rsyslog-{port}"));
        let (file, raw) = (d.join("messages.log"), d.join("raw.log"));
        let input = match proto {
            SyslogProto::Udp => format!(
                "module(load=\"imudp\")\ninput(type=\"imudp\" port=\"{port}\" address=\"127.0.0.1\" ruleset=\"r\")\n"
            ),
            SyslogProto::Tcp => format!(
                "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"{port}\" address=\"127.0.0.1\" ruleset=\"r\")\n"
            ),
            SyslogProto::Tls(t) => {
                let gtls = std::fs::read_dir("/usr/lib")
                    .unwrap()
                    .filter_map(Result::ok)
                    .any(|e| e.path().join("rsyslog/lmnsd_gtls.so").exists());
                assert!(gtls, "rsyslog's lmnsd_gtls.so not found: run tests/setup.sh (Debian package rsyslog-gnutls)");
                format!(
                    "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"{port}\" address=\"127.0.0.1\" ruleset=\"r\" \
                     streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\" \
                     streamDriver.CAFile=\"{}\" streamDriver.CertFile=\"{}\" streamDriver.KeyFile=\"{}\")\n",
                    t.ca.display(),
                    t.cert.display(),
                    t.key.display()
                )
            }
        };
        let conf = d.join("rsyslog.conf");
        std::fs::write(
            &conf,
            format!(
                "global(workDirectory=\"{d}\" maxMessageSize=\"64k\")\n\
                 template(name=\"fields\" type=\"string\" string=\"%pri%\\t%hostname%\\t%app-name%\\t%procid%\\t%msgid%\\t%structured-data%\\t%msg%\\n\")\n\
                 template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n\
                 ruleset(name=\"r\") {{\n  action(type=\"omfile\" file=\"{file}\" template=\"fields\")\n  \
                 action(type=\"omfile\" file=\"{raw}\" template=\"raw\")\n}}\n{input}",
                d = d.display(),
                file = file.display(),
                raw = raw.display(),
            ),
        )
        .unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg("-n").arg("-f").arg(&conf).arg("-i").arg(d.join("rsyslogd.pid"));
        let mut daemon = Daemon::spawn("rsyslogd", &mut cmd, &d.join("rsyslogd.log"));
        wait_syslog_ready(&mut daemon, proto, port);
        SyslogReceiver { port, file, raw, daemon }
    }

    /// syslog-ng 3.38 (Debian's `syslog-ng-core`, unpacked under
    /// [`PRIVATE_PEERS`]).
    pub fn syslog_ng(dir: &Path, proto: SyslogProto) -> SyslogReceiver {
        let root = format!("{PRIVATE_PEERS}/syslog-ng");
        let bin = need(&format!("{root}/usr/sbin/syslog-ng"), "syslog-ng-core, unpacked");
        let port = free_udp_tcp_port();
        let d = subdir(dir, &format!("syslog-ng-{port}"));
        let (file, raw) = (d.join("messages.log"), d.join("raw.log"));
        let source = match proto {
            SyslogProto::Udp => {
                format!("syslog(transport(\"udp\") ip(\"127.0.0.1\") port({port}) flags(store-raw-message))")
            }
            SyslogProto::Tcp => {
                format!("syslog(transport(\"tcp\") ip(\"127.0.0.1\") port({port}) flags(store-raw-message))")
            }
            SyslogProto::Tls(t) => format!(
                "syslog(transport(\"tls\") ip(\"127.0.0.1\") port({port}) flags(store-raw-message) \
                 tls(cert-file(\"{}\") key-file(\"{}\") peer-verify(optional-untrusted)))",
                t.cert.display(),
                t.key.display()
            ),
        };
        let conf = d.join("syslog-ng.conf");
        std::fs::write(
            &conf,
            format!(
                "@version: 3.38\n\
                 options {{ use-dns(no); dns-cache(no); use-fqdn(no); keep-hostname(yes); stats-freq(0); }};\n\
                 source s_in {{ {source}; }};\n\
                 destination d_fields {{ file(\"{file}\" template(\"${{PRI}}\\t${{HOST}}\\t${{PROGRAM}}\\t${{PID}}\\t${{MSGID}}\\t${{SDATA}}\\t${{MSG}}\\n\")); }};\n\
                 destination d_raw {{ file(\"{raw}\" template(\"${{RAWMSG}}\\n\")); }};\n\
                 log {{ source(s_in); destination(d_fields); destination(d_raw); }};\n",
                file = file.display(),
                raw = raw.display(),
            ),
        )
        .unwrap();
        let mut cmd = Command::new(bin);
        // Its library and modules are where they were unpacked, not where
        // the binary's RUNPATH and compiled-in module path say; the pid,
        // persist and control files default to /run and /var/lib.
        cmd.env("LD_LIBRARY_PATH", format!("{root}/usr/lib/syslog-ng"))
            .arg("-F")
            .arg("--stderr")
            .arg("-f")
            .arg(&conf)
            .arg(format!("--module-path={root}/usr/lib/syslog-ng/3.38"))
            .arg("-p")
            .arg(d.join("syslog-ng.pid"))
            .arg("-R")
            .arg(d.join("syslog-ng.persist"))
            .arg("-c")
            .arg(d.join("syslog-ng.ctl"));
        let mut daemon = Daemon::spawn("syslog-ng", &mut cmd, &d.join("syslog-ng.log"));
        wait_syslog_ready(&mut daemon, proto, port);
        SyslogReceiver { port, file, raw, daemon }
    }

    /// Waits for a line of `file` containing `needle`, and returns it.
    pub fn wait_line(&self, needle: &str, timeout: Duration) -> String {
        wait_line_in(&self.file, needle, timeout, &|| self.daemon.log_text())
    }

    /// Every line of `file` so far.
    pub fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.file).unwrap_or_default().lines().map(str::to_owned).collect()
    }
}

fn wait_syslog_ready(daemon: &mut Daemon, proto: SyslogProto, port: u16) {
    match proto {
        SyslogProto::Udp => daemon.wait_ready(READY, || udp_bound(port)),
        // A bare connect and close: the receivers log it, and that is all.
        SyslogProto::Tcp | SyslogProto::Tls(_) => daemon.wait_ready(READY, || tcp_open(port)),
    }
}

// ---------------------------------------------------------------- monit

/// Monit 5.33 (Debian's `monit`) in the foreground (`-I`), checking every
/// second, its HTTP interface on 127.0.0.1:`port` (no password from
/// 127.0.0.1). Its pid, id, state and log files are in the scratch
/// directory, never in / or ~.
pub struct Monit {
    pub port: u16,
    pub monitrc: PathBuf,
    pub daemon: Daemon,
}

impl Monit {
    /// `body` is the test's service entries (`check process ... with
    /// pidfile ...`, `start program = ...`), after the `set` lines.
    pub fn start(dir: &Path, body: &str) -> Monit {
        let bin = need("/usr/bin/monit", "monit");
        let port = free_tcp_port();
        let d = subdir(dir, &format!("monit-{port}"));
        let p = |f: &str| d.join(f).display().to_string();
        let monitrc = d.join("monitrc");
        // monit refuses a control file that anyone but its owner can read.
        write_mode(
            &monitrc,
            &format!(
                "set daemon 1\nset log {}\nset pidfile {}\nset idfile {}\nset statefile {}\n\
                 set httpd port {port} and use address 127.0.0.1 allow 127.0.0.1\n\n{body}\n",
                p("monit.log"),
                p("monit.pid"),
                p("monit.id"),
                p("monit.state"),
            ),
            0o600,
        );
        let mut cmd = Command::new(bin);
        cmd.arg("-I").arg("-c").arg(&monitrc);
        let mut daemon = Daemon::spawn("monit", &mut cmd, &d.join("monit.out"));
        daemon.wait_ready(READY, || answers_200(port, "/_status?format=xml"));
        Monit { port, monitrc, daemon }
    }

    /// `GET /_status?format=xml&level=full`, what users scrape.
    pub fn status_xml(&self) -> String {
        http_get_ok(self.port, "/_status?format=xml&level=full")
    }

    /// The `<service>` element of `name` in the XML status, once `pred`
    /// holds for it.
    pub fn wait_service(&self, name: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        super::wait_for(&format!("monit's status of {name}"), timeout, || {
            let xml = self.status_xml();
            xml.split("<service ")
                .skip(1)
                .find(|s| s.contains(&format!("<name>{name}</name>")))
                .map(|s| s.split("</service>").next().unwrap().to_owned())
                .filter(|s| pred(s))
        })
    }
}

/// The text of the first `<tag>` element in `xml`.
pub fn xml_field<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let len = xml[start..].find(&format!("</{tag}>"))?;
    Some(&xml[start..start + len])
}

// ---------------------------------------------------------------- mtail

/// mtail 3.0.0-rc50 (Debian's `mtail`) running `progs` over `logs`, its
/// /metrics on 127.0.0.1:`port`.
///
/// It starts reading each log at its end, as `tail -F` does: lines
/// written before it started are not counted.
pub struct Mtail {
    pub port: u16,
    pub daemon: Daemon,
}

impl Mtail {
    /// `progs`: (file name ending in `.mtail`, program text).
    pub fn start(dir: &Path, progs: &[(&str, &str)], logs: &[&Path]) -> Mtail {
        let bin = need("/usr/bin/mtail", "mtail");
        let port = free_tcp_port();
        let d = subdir(dir, &format!("mtail-{port}"));
        let pd = d.join("progs");
        std::fs::create_dir_all(&pd).unwrap();
        for (name, text) in progs {
            std::fs::write(pd.join(name), text).unwrap();
        }
        let mut cmd = Command::new(bin);
        cmd.arg("--progs").arg(&pd);
        for l in logs {
            cmd.arg("--logs").arg(l);
        }
        // --logtostderr: glog would write its files into /tmp.
        cmd.args(["--address", "127.0.0.1", "--port", &port.to_string(), "--logtostderr"]);
        let mut daemon = Daemon::spawn("mtail", &mut cmd, &d.join("mtail.log"));
        daemon.wait_ready(READY, || answers_200(port, "/metrics"));
        Mtail { port, daemon }
    }

    pub fn metrics(&self) -> String {
        http_get_ok(self.port, "/metrics")
    }
}

// ------------------------------------------------------ blackbox_exporter

/// blackbox_exporter 0.23 (Debian's `prometheus-blackbox-exporter`) with
/// the test's blackbox.yml, on 127.0.0.1:`port`.
pub struct BlackboxExporter {
    pub port: u16,
    pub config: PathBuf,
    pub daemon: Daemon,
}

impl BlackboxExporter {
    pub fn start(dir: &Path, yaml: &str) -> BlackboxExporter {
        let bin = need("/usr/bin/prometheus-blackbox-exporter", "prometheus-blackbox-exporter");
        let port = free_tcp_port();
        let d = subdir(dir, &format!("blackbox-{port}"));
        let config = d.join("blackbox.yml");
        std::fs::write(&config, yaml).unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", config.display())).arg(format!("--web.listen-address=127.0.0.1:{port}"));
        let mut daemon = Daemon::spawn("blackbox_exporter", &mut cmd, &d.join("blackbox.log"));
        daemon.wait_ready(READY, || answers_200(port, "/-/healthy"));
        BlackboxExporter { port, config, daemon }
    }

    /// `GET /probe?module=MODULE&target=TARGET`: its exposition.
    pub fn probe(&self, module: &str, target: &str) -> String {
        http_get_ok(self.port, &format!("/probe?module={}&target={}", query_escape(module), query_escape(target)))
    }
}

fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ------------------------------------------------------------ logrotate

/// logrotate 3.21 (Debian's `logrotate`), run by the test with its own
/// config and state file.
pub struct Logrotate {
    pub conf: PathBuf,
    pub state: PathBuf,
}

impl Logrotate {
    /// `conf` is logrotate.conf's text (absolute paths of the logs).
    pub fn new(dir: &Path, conf: &str) -> Logrotate {
        let d = subdir(dir, "logrotate");
        let path = d.join("logrotate.conf");
        // logrotate ignores a config that group or others can write.
        write_mode(&path, conf, 0o644);
        Logrotate { conf: path, state: d.join("logrotate.state") }
    }

    /// `logrotate -v -f -s STATE CONF`: rotates now, whatever the
    /// schedule says; its verbose output.
    pub fn force(&self) -> String {
        self.run(&["-f"])
    }

    /// `logrotate -v -s STATE CONF`: rotates what is due.
    pub fn due(&self) -> String {
        self.run(&[])
    }

    fn run(&self, extra: &[&str]) -> String {
        let bin = need("/usr/sbin/logrotate", "logrotate");
        let out = Command::new(bin).arg("-v").args(extra).arg("-s").arg(&self.state).arg(&self.conf).output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "logrotate {extra:?} failed ({}):\n{said}", out.status);
        // It exits 0 when it skipped a file for its permissions.
        assert!(!said.contains("insecure permissions"), "logrotate skipped a file:\n{said}");
        // It also exits 0 when it renamed a file in its way to *.backup.
        assert!(!said.contains("already exists"), "logrotate found a file in its way:\n{said}");
        said
    }
}

// ------------------------------------------------------------- chromium

const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Runs Debian's headless chromium on `url` with `args` and a fresh
/// profile; its stdout. Fails with its output when it fails or takes more
/// than a minute.
fn chromium(url: &str, args: &[String]) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let bin = need("/usr/bin/chromium", "chromium");
    let profile = std::env::temp_dir().join(format!(
        "sonde-chromium-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).unwrap();
    let log = profile.join("chromium.log");
    let stdout = profile.join("stdout");
    let mut cmd = Command::new(bin);
    cmd.args(CHROMIUM_FLAGS).arg(format!("--user-data-dir={}", profile.join("profile").display())).args(args).arg(url);
    let out = std::fs::File::create(&stdout).unwrap();
    let err = std::fs::File::create(&log).unwrap();
    let mut child = cmd.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Its zygote and renderer processes share its group.
    kill_group(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    let text = std::fs::read_to_string(&stdout).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&profile);
    match status {
        Some(s) if s.success() => text,
        Some(s) => panic!("chromium {args:?} {url} failed ({s}):\n{said}"),
        None => panic!("chromium {args:?} {url} did not finish within a minute:\n{said}"),
    }
}

/// Renders `url` headless into the PNG `out_png` (`width` x `height`).
pub fn chromium_screenshot(url: &str, out_png: &Path, width: u32, height: u32) {
    let _ = std::fs::remove_file(out_png);
    chromium(url, &[format!("--window-size={width},{height}"), format!("--screenshot={}", out_png.display())]);
    let png = std::fs::read(out_png).unwrap_or_default();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "chromium wrote no PNG to {}", out_png.display());
}

/// The DOM of `url` after its scripts ran (`--dump-dom`), as HTML.
pub fn chromium_dump_dom(url: &str) -> String {
    chromium(url, &["--dump-dom".to_owned()])
}

/// The width and height in a PNG's IHDR.
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() >= 24 && &png[12..16] == b"IHDR", "not a PNG");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

/// The openssl(1) binary, for the tests' own TLS clients (`s_client`).
pub fn openssl() -> PathBuf {
    which("openssl").expect("openssl not found (Debian package openssl)")
}

// ----------------------------------------------------------- Prometheus

/// Prometheus (Debian's `prometheus`) scraping `scrape_configs` every
/// second, evaluating `rules` (a rule file's text, may be empty) every
/// second, its TSDB in the scratch directory.
pub struct Prometheus {
    pub port: u16,
    pub daemon: Daemon,
}

impl Prometheus {
    /// `scrape_configs` is the YAML list's items, indented by two spaces
    /// (`  - job_name: ...`).
    pub fn start(dir: &Path, scrape_configs: &str, rules: &str) -> Prometheus {
        let bin = need("/usr/bin/prometheus", "prometheus");
        let port = free_tcp_port();
        let d = subdir(dir, &format!("prometheus-{port}"));
        let rule_file = d.join("rules.yml");
        std::fs::write(&rule_file, if rules.is_empty() { "groups: []\n" } else { rules }).unwrap();
        let config = d.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 rule_files: ['{}']\nscrape_configs:\n{scrape_configs}",
                rule_file.display()
            ),
        )
        .unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", d.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"));
        let mut daemon = Daemon::spawn("prometheus", &mut cmd, &d.join("prometheus.log"));
        daemon.wait_ready(READY, || answers_200(port, "/-/ready"));
        Prometheus { port, daemon }
    }

    /// An API answer (HTTP/1.0, so that it comes whole, not chunked).
    pub fn get(&self, path: &str) -> serde_json::Value {
        let r = super::request(([127, 0, 0, 1], self.port).into(), &format!("GET {path} HTTP/1.0\r\n\r\n"));
        serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", r.text()))
    }

    /// The result vector of the instant query `expr`, evaluated now.
    pub fn query(&self, expr: &str) -> Vec<serde_json::Value> {
        let v = self.get(&format!("/api/v1/query?query={}", url_encode(expr)));
        assert_eq!(v["status"], "success", "{expr}: {v}");
        match &v["data"]["result"] {
            serde_json::Value::Array(items) => items.clone(),
            // A scalar or string result: one value.
            other => vec![other.clone()],
        }
    }

    /// The health of the scrape target whose `job` label is `job`
    /// (`"up"`, `"down"`, `"unknown"`), with its last error.
    pub fn target(&self, job: &str) -> Option<(String, String)> {
        let v = self.get("/api/v1/targets");
        let t = v["data"]["activeTargets"].as_array()?.iter().find(|t| t["labels"]["job"] == job)?.clone();
        Some((t["health"].as_str()?.to_owned(), t["lastError"].as_str().unwrap_or_default().to_owned()))
    }
}

/// `s` percent-encoded for a query string (everything but RFC 3986's
/// unreserved characters).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// -------------------------------------------------------- node_exporter

/// Debian's node_exporter (`prometheus-node-exporter`, 1.5) on a free
/// loopback port, with `args` after the listen address.
pub struct NodeExporter {
    pub port: u16,
    pub daemon: Daemon,
}

impl NodeExporter {
    pub fn start(dir: &Path, args: &[String]) -> NodeExporter {
        let bin = need("/usr/bin/prometheus-node-exporter", "prometheus-node-exporter");
        let port = free_tcp_port();
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--web.listen-address=127.0.0.1:{port}")).args(args);
        let mut daemon = Daemon::spawn("node_exporter", &mut cmd, &dir.join(format!("node_exporter-{port}.log")));
        daemon.wait_ready(READY, || answers_200(port, "/metrics"));
        NodeExporter { port, daemon }
    }
}
