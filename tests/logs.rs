//! Logs: the built binary follows files and forwards them to real
//! rsyslog and syslog-ng receivers (UDP, TCP and, with the tls build,
//! TLS), through logrotate's own rotations, a SIGKILL and a receiver
//! outage; counts with rules as mtail counts; and survives hostile files.
//!
//! Every test writes numbered lines and compares what the receiver wrote
//! to its file with what was written, line by line: each line once, in
//! order, or counted as dropped. Tests wait for what they assert (a line
//! at the receiver, a counter), never for a fixed time; the writers pace
//! themselves (a workload, not a synchronisation).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::peers::{Logrotate, Mtail, SyslogProto, SyslogReceiver};
use common::{value, Scratch, Sonde};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Long enough for a loaded CI machine; a passing run takes seconds.
const PATIENCE: Duration = Duration::from_secs(90);

/// A thread appending numbered lines (`PREFIX 0000042 ...`) to a file at
/// about `rate` lines a second. With `reopen`, it opens the path again
/// when the path names another file, as a daemon does after logrotate's
/// `create` (its postrotate HUP); lines written meanwhile go to the old
/// file, which sonde must drain.
struct Writer {
    stop: Arc<AtomicBool>,
    written: Arc<AtomicU64>,
    handle: Option<JoinHandle<()>>,
}

impl Writer {
    fn start(path: &Path, prefix: &str, rate: u64, reopen: bool) -> Writer {
        Writer::numbered(path, prefix, rate, reopen, 0)
    }

    /// A writer whose first line is number `after + 1`.
    fn numbered(path: &Path, prefix: &str, rate: u64, reopen: bool, after: u64) -> Writer {
        let (stop, written) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(after)));
        let (s, w, path, prefix) = (Arc::clone(&stop), Arc::clone(&written), path.to_owned(), prefix.to_owned());
        let open = |p: &Path| std::fs::OpenOptions::new().create(true).append(true).open(p).unwrap();
        let handle = std::thread::spawn(move || {
            let mut f = open(&path);
            let start = Instant::now();
            let mut n = after;
            while !s.load(Ordering::Acquire) {
                n += 1;
                writeln!(f, "{prefix} {n:07} the quick brown fox jumps over the lazy dog").unwrap();
                w.store(n, Ordering::Release);
                if reopen && n.is_multiple_of(8) {
                    // Only once the new file is there, as a daemon reopens
                    // at postrotate: creating it between logrotate's rename
                    // and its create would make logrotate rename ours away
                    // ("destination already exists"), lines and all, under
                    // a name nobody follows.
                    let moved = std::fs::metadata(&path).is_ok_and(|m| m.ino() != f.metadata().unwrap().ino());
                    if moved {
                        f = std::fs::OpenOptions::new().append(true).open(&path).unwrap_or(f);
                    }
                }
                // Pace: a line each 1/rate seconds.
                let due = Duration::from_micros((n - after) * 1_000_000 / rate);
                if let Some(ahead) = due.checked_sub(start.elapsed()) {
                    std::thread::sleep(ahead);
                }
            }
        });
        Writer { stop, written, handle: Some(handle) }
    }

    fn written(&self) -> u64 {
        self.written.load(Ordering::Acquire)
    }

    /// Waits until at least `n` lines are written.
    fn wait_written(&self, n: u64) {
        common::wait_for(&format!("{n} lines written"), PATIENCE, || (self.written() >= n).then_some(()));
    }

    /// Stops it; how many lines it wrote.
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Release);
        self.handle.take().unwrap().join().unwrap();
        self.written()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// The fields of a receiver's line: PRI, HOSTNAME, APP-NAME, and MSG.
fn fields(line: &str) -> (String, String, String, String) {
    let f: Vec<&str> = line.splitn(7, '\t').collect();
    assert_eq!(f.len(), 7, "not a receiver line: {line:?}");
    (f[0].into(), f[1].into(), f[2].into(), f[6].into())
}

/// The messages a receiver got from `app`, in arrival order.
fn messages(r: &SyslogReceiver, app: &str) -> Vec<String> {
    r.lines().iter().map(|l| fields(l)).filter(|f| f.2 == app).map(|f| f.3).collect()
}

/// The sequence numbers of `prefix` lines among `msgs`.
fn numbers(msgs: &[String], prefix: &str) -> Vec<u64> {
    msgs.iter().filter_map(|m| m.strip_prefix(prefix)?.strip_prefix(' ')?.split(' ').next()?.parse().ok()).collect()
}

/// Waits until `r` has `n` messages from `app`.
fn wait_messages(r: &SyslogReceiver, app: &str, n: usize, sonde: Option<&Sonde>) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let got = messages(r, app);
        if got.len() >= n {
            return got;
        }
        if Instant::now() > deadline {
            let stderr = sonde.map(Sonde::stderr).unwrap_or_default();
            let metrics = sonde.map(|s| s.get("/metrics").text().to_owned()).unwrap_or_default();
            let logs: Vec<&str> = metrics.lines().filter(|l| l.starts_with("sonde_log")).collect();
            panic!(
                "{app}: {} of {n} messages arrived; last: {:?}\nsonde said:\n{stderr}\n{}\nreceiver's log:\n{}",
                got.len(),
                got.last(),
                logs.join("\n"),
                r.daemon.log_text()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The numbers of the `prefix` lines in `PREFIX.log` and its rotations
/// `PREFIX.log.N` in `dir` (not in any other file logrotate made).
fn held_numbers(dir: &Path, prefix: &str) -> Vec<u64> {
    let mut held = Vec::new();
    let base = format!("{prefix}.log");
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let rest = name.strip_prefix(&base);
        if rest
            .is_some_and(|r| r.is_empty() || r.strip_prefix('.').is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())))
        {
            let text = std::fs::read_to_string(&p).unwrap();
            held.extend(numbers(&text.lines().map(str::to_owned).collect::<Vec<_>>(), prefix));
        }
    }
    held
}

/// Asserts `got` is exactly 1..=n: every line once, in order.
fn assert_exactly(got: &[u64], n: u64, what: &str) {
    if got.len() as u64 == n && got.iter().zip(1..).all(|(a, b)| *a == b) {
        return;
    }
    let mut seen = BTreeMap::new();
    for g in got {
        *seen.entry(*g).or_insert(0) += 1;
    }
    let missing: Vec<u64> = (1..=n).filter(|i| !seen.contains_key(i)).take(20).collect();
    let doubled: Vec<u64> = seen.iter().filter(|(_, c)| **c > 1).map(|(k, _)| *k).take(20).collect();
    let disorder = got.windows(2).position(|w| w[0] >= w[1]);
    panic!(
        "{what}: {} lines for {n} written; missing (first 20) {missing:?}, doubled {doubled:?}, first out of order at {disorder:?}",
        got.len()
    );
}

fn start_sonde(dir: &Scratch, config: &str) -> (Sonde, PathBuf) {
    let path = dir.write("sonde.toml", config);
    let sonde = Sonde::start(&["--config", path.to_str().unwrap()]);
    (sonde, path)
}

fn metric(sonde: &Sonde, series: &str) -> f64 {
    let text = sonde.get("/metrics").text().to_owned();
    value(&text, series).unwrap_or_else(|| panic!("no {series} in:\n{text}"))
}

/// Waits until the series has `want`.
fn wait_metric(sonde: &Sonde, series: &str, want: impl Fn(f64) -> bool) -> f64 {
    common::wait_for(series, PATIENCE, || {
        let v = value(sonde.get("/metrics").text(), series)?;
        want(v).then_some(v)
    })
}

/// The accounting promise for one path: read = forwarded + Σ dropped + Σ
/// queued; the dropped sum.
fn balanced(sonde: &Sonde, path: &str) -> f64 {
    let text = sonde.get("/metrics").text().to_owned();
    let sum = |family: &str| -> f64 {
        let head = format!("{family}{{path=\"{path}\",");
        text.lines().filter(|l| l.starts_with(&head)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum()
    };
    let one = |family: &str| value(&text, &format!("{family}{{path=\"{path}\"}}")).unwrap_or(f64::NAN);
    let (read, forwarded) = (one("sonde_log_lines_read_total"), one("sonde_log_lines_forwarded_total"));
    let (dropped, queued) = (sum("sonde_log_lines_dropped_total"), sum("sonde_log_lines_queued"));
    assert_eq!(read, forwarded + dropped + queued, "{path}: read = forwarded + dropped + queued\n{text}");
    dropped
}

fn state_dir(dir: &Scratch) -> String {
    format!("[paths]\nstate_dir = \"{}\"\n", dir.0.join("state").display())
}

#[test]
fn every_line_reaches_rsyslog_and_syslog_ng_over_udp_and_tcp() {
    let dir = Scratch::new("logs-forward");
    let receivers = [
        ("rs_udp", SyslogReceiver::rsyslog(&dir.0, SyslogProto::Udp), "udp"),
        ("rs_tcp", SyslogReceiver::rsyslog(&dir.0, SyslogProto::Tcp), "tcp"),
        ("ng_udp", SyslogReceiver::syslog_ng(&dir.0, SyslogProto::Udp), "udp"),
        ("ng_tcp", SyslogReceiver::syslog_ng(&dir.0, SyslogProto::Tcp), "tcp"),
    ];
    let mut config = state_dir(&dir);
    for (name, r, proto) in &receivers {
        let file = dir.0.join(format!("{name}.log"));
        std::fs::write(&file, "written before sonde started: not sent\n").unwrap();
        config.push_str(&format!(
            "[[log]]\npath = \"{}\"\nsyslog = \"{proto}://127.0.0.1:{}\"\nfacility = \"local0\"\n\
             severity = \"notice\"\nhostname = \"box1\"\npriority_regex = '^(?P<severity>ERROR|WARN)\\b'\n",
            file.display(),
            r.port
        ));
    }
    let (sonde, _) = start_sonde(&dir, &config);
    // Files are read from their end at first sight: wait until each is
    // followed before writing.
    for (name, _, _) in &receivers {
        let path = dir.0.join(format!("{name}.log"));
        wait_metric(&sonde, &format!("sonde_log_files{{path=\"{}\"}}", path.display()), |v| v == 1.0);
    }
    let long = "x".repeat(10_000);
    let lines: Vec<String> = (1..=300)
        .map(|i| match i {
            6 => "ERROR the severity comes from the line".to_owned(),
            7 => "UTF-8: d\u{e9}j\u{e0} vu, \u{20ac}5, \u{1f600}".to_owned(),
            8 => "a\ttab and \"quotes\" and a backslash \\".to_owned(),
            9 => long.clone(),
            _ => format!("query {i:04} a.example IN A from 192.0.2.{}", i % 250),
        })
        .collect();
    // In steps of 50 lines, each step waited for: syslog-ng's UDP source
    // drops what exceeds its window (log-iw-size, 100 messages) before it
    // fetches again, as UDP has no flow control (sonde cannot know).
    for (step, chunk) in lines.chunks(50).enumerate() {
        for (name, _, _) in &receivers {
            let mut f = std::fs::OpenOptions::new().append(true).open(dir.0.join(format!("{name}.log"))).unwrap();
            for l in chunk {
                writeln!(f, "{l}").unwrap();
            }
        }
        for (name, r, _) in &receivers {
            wait_messages(r, name, 50 * step + chunk.len(), Some(&sonde));
        }
    }
    for (name, r, proto) in &receivers {
        let got = wait_messages(r, name, lines.len(), Some(&sonde));
        let all: Vec<_> = r.lines().iter().map(|l| fields(l)).filter(|f| f.2 == *name).collect();
        assert_eq!((all[0].0.as_str(), all[0].1.as_str()), ("133", "box1"), "{name}: local0.notice from box1");
        assert_eq!(all[5].0, "131", "{name}: local0.err, from the line");
        for (i, (want, got)) in lines.iter().zip(&got).enumerate() {
            if i == 8 {
                // Cut to max_message (2048 over UDP, 8192 on a stream),
                // header included, and counted.
                let max = if *proto == "udp" { 2048 } else { 8192 };
                assert!(
                    want.starts_with(got.as_str()) && got.len() > max - 100 && got.len() < max,
                    "{name}: {}",
                    got.len()
                );
                continue;
            }
            // rsyslog writes a control character as #ooo (its
            // EscapeControlCharactersOnReceive); syslog-ng as it came.
            let want = if name.starts_with("rs_") { want.replace('\t', "#011") } else { want.clone() };
            assert_eq!(got, &want, "{name}: line {}", i + 1);
        }
        let path = dir.0.join(format!("{name}.log")).display().to_string();
        wait_metric(&sonde, &format!("sonde_log_lines_truncated_total{{path=\"{path}\"}}"), |v| v == 1.0);
        wait_metric(&sonde, &format!("sonde_log_lines_forwarded_total{{path=\"{path}\"}}"), |v| v == 300.0);
        assert_eq!(balanced(&sonde, &path), 0.0);
    }
    // syslog-ng takes only octet-counted frames on TCP: it got every one
    // whole, so each frame's length was right.
    let raw = std::fs::read_to_string(&receivers[3].1.raw).unwrap();
    let whole = raw.lines().filter(|l| l.starts_with("<133>1 ") || l.starts_with("<131>1 ")).count();
    assert_eq!(whole, 300, "{raw:.2000}");
    common::promtool_check(sonde.get("/metrics").text());
}

#[test]
fn invalid_utf8_is_passed_on_or_replaced_as_configured() {
    let dir = Scratch::new("logs-utf8");
    let receiver = SyslogReceiver::rsyslog(&dir.0, SyslogProto::Tcp);
    let mut config = state_dir(&dir);
    for (name, how) in [("passed", "pass"), ("replaced", "replace")] {
        let f = dir.0.join(format!("{name}.log"));
        std::fs::write(&f, b"").unwrap();
        config.push_str(&format!(
            "[[log]]\npath = \"{}\"\nsyslog = \"tcp://127.0.0.1:{}\"\ninvalid_utf8 = \"{how}\"\n",
            f.display(),
            receiver.port
        ));
    }
    let (sonde, _) = start_sonde(&dir, &config);
    for name in ["passed", "replaced"] {
        let f = dir.0.join(format!("{name}.log"));
        wait_metric(&sonde, &format!("sonde_log_files{{path=\"{}\"}}", f.display()), |v| v == 1.0);
        std::fs::write(&f, b"bad \xff\xfe bytes, \xe2\x82 a cut euro\n").unwrap();
    }
    // The receiver's file holds bytes, not text: read it as bytes.
    let bytes = common::wait_for("both lines", PATIENCE, || {
        let b = std::fs::read(&receiver.file).unwrap_or_default();
        (b.split(|&c| c == b'\n').filter(|l| !l.is_empty()).count() >= 2).then_some(b)
    });
    let line = |app: &str| -> Vec<u8> {
        let head = format!("\t{app}\t").into_bytes();
        let l = bytes.split(|&c| c == b'\n').find(|l| l.windows(head.len()).any(|w| w == head)).unwrap();
        l.rsplit(|&c| c == b'\t').next().unwrap().to_vec()
    };
    assert_eq!(line("passed"), b"bad \xff\xfe bytes, \xe2\x82 a cut euro");
    assert_eq!(line("replaced"), "bad \u{fffd}\u{fffd} bytes, \u{fffd} a cut euro".as_bytes());
}

#[cfg(feature = "tls")]
#[test]
fn tls_to_rsyslog_and_syslog_ng_with_a_test_ca() {
    use common::peers::ServerCert;
    let dir = Scratch::new("logs-tls");
    let cert = ServerCert::new(&dir.0);
    let receivers = [
        ("rs_tls", SyslogReceiver::rsyslog(&dir.0, SyslogProto::Tls(&cert))),
        ("ng_tls", SyslogReceiver::syslog_ng(&dir.0, SyslogProto::Tls(&cert))),
    ];
    let mut config = state_dir(&dir);
    let mut log = |file: &Path, port: u16, first: &str| {
        std::fs::write(file, first).unwrap();
        config.push_str(&format!(
            "[[log]]\npath = \"{}\"\nsyslog = \"tls://127.0.0.1:{port}\"\nca_file = \"{}\"\nstart = \"beginning\"\n",
            file.display(),
            cert.ca.display()
        ));
    };
    for (name, r) in &receivers {
        log(&dir.0.join(format!("{name}.log")), r.port, "");
    }
    // A receiver whose certificate this CA did not sign: refused, kept.
    let other = Scratch::new("logs-tls-other");
    let untrusted = SyslogReceiver::rsyslog(&other.0, SyslogProto::Tls(&ServerCert::new(&other.0)));
    let refused = dir.0.join("refused.log");
    log(&refused, untrusted.port, "kept until a trusted receiver takes it\n");
    let (sonde, _) = start_sonde(&dir, &config);
    let mut writers = Vec::new();
    for (name, _) in &receivers {
        writers.push(Writer::start(&dir.0.join(format!("{name}.log")), name, 500, false));
    }
    for w in &writers {
        w.wait_written(500);
    }
    let written: Vec<u64> = writers.into_iter().map(Writer::finish).collect();
    for ((name, r), n) in receivers.iter().zip(written) {
        let got = wait_messages(r, name, n as usize, Some(&sonde));
        assert_exactly(&numbers(&got, name), n, name);
    }
    sonde
        .wait_line(|l| l.contains("refused.log") || l.contains("UnknownIssuer") || l.contains("invalid peer"), PATIENCE)
        .unwrap_or_else(|| panic!("no word of the refused handshake:\n{}", sonde.stderr()));
    let path = refused.display().to_string();
    assert_eq!(metric(&sonde, &format!("sonde_log_lines_forwarded_total{{path=\"{path}\"}}")), 0.0);
    assert_eq!(balanced(&sonde, &path), 0.0);
    assert!(untrusted.lines().is_empty());
}

#[test]
fn logrotate_create_and_copytruncate_while_a_writer_appends() {
    let dir = Scratch::new("logs-rotate");
    let receiver = SyslogReceiver::rsyslog(&dir.0, SyslogProto::Tcp);
    let logs = dir.0.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::set_permissions(&logs, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (created, copied) = (logs.join("created.log"), logs.join("copied.log"));
    for f in [&created, &copied] {
        std::fs::write(f, "").unwrap();
    }
    let mut config = state_dir(&dir);
    for f in [&created, &copied] {
        config.push_str(&format!(
            "[[log]]\npath = \"{}\"\nsyslog = \"tcp://127.0.0.1:{}\"\n",
            f.display(),
            receiver.port
        ));
    }
    let (sonde, _) = start_sonde(&dir, &config);
    for f in [&created, &copied] {
        wait_metric(&sonde, &format!("sonde_log_files{{path=\"{}\"}}", f.display()), |v| v >= 1.0);
    }
    let rotate = Logrotate::new(
        &dir.0,
        &format!(
            "{} {{\n  create 0640\n  rotate 100\n  missingok\n  nocompress\n}}\n\
             {} {{\n  copytruncate\n  rotate 100\n  missingok\n  nocompress\n}}\n",
            created.display(),
            copied.display()
        ),
    );
    let w_created = Writer::start(&created, "created", 2000, true);
    let w_copied = Writer::start(&copied, "copied", 2000, false);
    for k in 1..=4u64 {
        // A rotation each 1500 lines, while both write.
        w_created.wait_written(k * 1500);
        rotate.force();
    }
    w_created.wait_written(7000);
    let (n_created, n_copied) = (w_created.finish(), w_copied.finish());
    // Every line of created.log is in the files sonde follows (else the
    // loss is the test's, not sonde's), and each is expected once.
    let mut held = held_numbers(&logs, "created");
    held.sort_unstable();
    assert_exactly(&held, n_created, "created.log and its rotated files");
    let got = wait_messages(&receiver, "created", n_created as usize, Some(&sonde));
    assert_exactly(&numbers(&got, "created"), n_created, "create");
    // copytruncate loses the lines written between its copy and its
    // truncation (logrotate's own race): every line the files hold must
    // arrive, and those of the race that sonde read before the truncation
    // may; each once, in order.
    let mut held = held_numbers(&logs, "copied");
    held.sort_unstable();
    held.dedup();
    let got = common::wait_for("every line the copied files hold", PATIENCE, || {
        let got = numbers(&messages(&receiver, "copied"), "copied");
        held.iter().all(|h| got.binary_search(h).is_ok() || got.contains(h)).then_some(got)
    });
    assert!(
        got.windows(2).all(|w| w[0] < w[1]),
        "copytruncate: in order, once: {:?}",
        got.windows(2).find(|w| w[0] >= w[1])
    );
    assert!(got.last().is_some_and(|&l| l <= n_copied));
    // How many lines logrotate's race took (n_copied - held.len()) depends
    // on the machine's load, not on sonde: a few on an idle box, hundreds
    // on a loaded one.
    for f in [&created, &copied] {
        let path = f.display().to_string();
        assert_eq!(balanced(&sonde, &path), 0.0);
        let kind = if f == &created { "moved" } else { "truncated" };
        wait_metric(&sonde, &format!("sonde_log_rotations_total{{path=\"{path}\",kind=\"{kind}\"}}"), |v| v >= 4.0);
    }
}

#[test]
fn sigkill_and_restart_mid_stream_repeat_and_lose_nothing() {
    let dir = Scratch::new("logs-kill");
    // syslog-ng: octet counting only, so a frame cut by the kill would
    // show as a refused frame, not a merged line.
    let receiver = SyslogReceiver::syslog_ng(&dir.0, SyslogProto::Tcp);
    let file = dir.0.join("app.log");
    std::fs::write(&file, "").unwrap();
    let config = format!(
        "{}[[log]]\npath = \"{}\"\nsyslog = \"tcp://127.0.0.1:{}\"\n",
        state_dir(&dir),
        file.display(),
        receiver.port
    );
    let (mut sonde, conf) = start_sonde(&dir, &config);
    wait_metric(&sonde, &format!("sonde_log_files{{path=\"{}\"}}", file.display()), |v| v == 1.0);
    let writer = Writer::start(&file, "app", 3000, false);
    for round in 1..=2 {
        // Mid-stream: lines are arriving, and more are being written. The
        // first kill comes right after a delivery (the moment a position
        // recorded after its batch went would still be unrecorded); the
        // second at a moment the writer picks.
        wait_messages(&receiver, "app", 1500 * round, Some(&sonde));
        if round == 2 {
            writer.wait_written(writer.written() + 300);
        }
        sonde.child.kill().unwrap(); // SIGKILL
        sonde.child.wait().unwrap();
        let at = writer.written();
        writer.wait_written(at + 1000); // written while sonde is down
        sonde = Sonde::start(&["--config", conf.to_str().unwrap()]);
    }
    writer.wait_written(writer.written() + 1000);
    let n = writer.finish();
    let got = wait_messages(&receiver, "app", n as usize, Some(&sonde));
    assert_exactly(&numbers(&got, "app"), n, "across two SIGKILLs");
    assert!(!receiver.daemon.log_text().contains("Invalid frame"), "{}", receiver.daemon.log_text());
}

#[test]
fn a_receiver_outage_and_a_sigkill_in_it_are_bridged_by_the_spool_and_by_the_file() {
    let dir = Scratch::new("logs-outage");
    let mut receiver = SyslogReceiver::rsyslog(&dir.0, SyslogProto::Tcp);
    let port = receiver.port;
    let (spooled, waiting) = (dir.0.join("spooled.log"), dir.0.join("waiting.log"));
    let mut config = state_dir(&dir);
    for (f, spool) in [(&spooled, true), (&waiting, false)] {
        std::fs::write(f, "").unwrap();
        // The smallest memory: the outage outgrows it, so lines go to the
        // spool (spool = true) or stay in the file (the file is the buffer).
        config.push_str(&format!(
            "[[log]]\npath = \"{}\"\nsyslog = \"tcp://127.0.0.1:{port}\"\nmemory_cap = \"256KiB\"\nspool = {spool}\n",
            f.display()
        ));
    }
    let (mut sonde, conf) = start_sonde(&dir, &config);
    for f in [&spooled, &waiting] {
        wait_metric(&sonde, &format!("sonde_log_files{{path=\"{}\"}}", f.display()), |v| v == 1.0);
    }
    let writers = [Writer::start(&spooled, "spooled", 2000, false), Writer::start(&waiting, "waiting", 2000, false)];
    for w in &writers {
        w.wait_written(1000);
    }
    let counts: Vec<u64> = writers.into_iter().map(Writer::finish).collect();
    // The receiver goes when everything so far arrived: what a stopped
    // receiver had taken but not yet written is its own loss, and syslog
    // has no acknowledgement to tell sonde of it (see logs/forward.rs).
    for (app, n) in [("spooled", counts[0]), ("waiting", counts[1])] {
        wait_messages(&receiver, app, n as usize, Some(&sonde));
    }
    let first: Vec<String> = receiver.lines();
    drop(receiver);
    // The outage: about 3 s of refused connections and backoff while 6000
    // lines a path are written. A minute would only let the backoff reach
    // its 30 s cap; nothing else in sonde depends on how long the receiver
    // is gone, so a longer outage proves nothing more and costs CI a minute.
    let writers = [
        Writer::numbered(&spooled, "spooled", 2000, false, counts[0]),
        Writer::numbered(&waiting, "waiting", 2000, false, counts[1]),
    ];
    for (w, n) in writers.iter().zip(&counts) {
        w.wait_written(n + 6000);
    }
    let spool_path = spooled.display().to_string();
    wait_metric(&sonde, &format!("sonde_log_lines_queued{{path=\"{spool_path}\",where=\"spool\"}}"), |v| v > 0.0);
    // And sonde SIGKILLed in the middle of it: what is spooled is sent from
    // the spool and not read again; what was only in memory is read again.
    sonde.child.kill().unwrap();
    sonde.child.wait().unwrap();
    sonde = Sonde::start(&["--config", conf.to_str().unwrap()]);
    wait_metric(&sonde, &format!("sonde_log_lines_queued{{path=\"{spool_path}\",where=\"spool\"}}"), |v| v > 0.0);
    receiver = SyslogReceiver::rsyslog_at(&dir.0, SyslogProto::Tcp, port);
    for (w, n) in writers.iter().zip(&counts) {
        w.wait_written(n + 7000);
    }
    let totals: Vec<u64> = writers.into_iter().map(Writer::finish).collect();
    for (app, n) in [("spooled", totals[0]), ("waiting", totals[1])] {
        let wanted = n as usize - first.iter().filter(|l| fields(l).2 == app).count();
        let after = wait_messages(&receiver, app, wanted, Some(&sonde));
        let mut all: Vec<String> = first.iter().map(|l| fields(l)).filter(|f| f.2 == app).map(|f| f.3).collect();
        all.extend(after);
        assert_exactly(&numbers(&all, app), n, app);
    }
    for f in [&spooled, &waiting] {
        let path = f.display().to_string();
        wait_metric(&sonde, &format!("sonde_log_lines_forwarded_total{{path=\"{path}\"}}"), |v| v > 0.0);
        assert_eq!(balanced(&sonde, &path), 0.0, "nothing dropped");
    }
}

#[test]
fn mtail_and_sonde_count_the_same_lines_the_same() {
    let dir = Scratch::new("logs-mtail");
    let file = dir.0.join("fail2ban.log");
    std::fs::write(&file, "2026-12-04 10:00:00,000 fail2ban.server [1]: INFO Starting\n").unwrap();
    let program = "counter fail2ban_bans by jail, ip\n\
                   histogram dns_query_ms buckets 1, 10, 100\n\
                   /\\[(?P<jail>[a-z]+)\\] Ban (?P<ip>\\S+)/ {\n  fail2ban_bans[$jail][$ip]++\n}\n\
                   /query took (?P<ms>\\d+)ms/ {\n  dns_query_ms = $ms\n}\n";
    let mtail = Mtail::start(&dir.0, &[("f2b.mtail", program)], &[&file]);
    let config = format!(
        "{}[[log_rule]]\nname = \"fail2ban_ban\"\npath = \"{f}\"\nregex = '\\[(?P<jail>[a-z]+)\\] Ban (?P<ip>\\S+)'\n\
         [[log_rule]]\nname = \"dns_query\"\npath = \"{f}\"\nregex = 'query took (?P<ms>\\d+)ms'\nvalue = \"ms\"\n\
         buckets = [1, 10, 100]\n",
        state_dir(&dir),
        f = file.display()
    );
    let (sonde, _) = start_sonde(&dir, &config);
    wait_metric(&sonde, &format!("sonde_log_files{{path=\"{}\"}}", file.display()), |v| v == 1.0);
    let mut f = std::fs::OpenOptions::new().append(true).open(&file).unwrap();
    let jails = ["sshd", "postfix", "dovecot"];
    let mut bans = BTreeMap::new();
    for i in 0..3000u32 {
        // 3 jails x 31 addresses: 93 label sets, within the 100 a rule keeps.
        let (jail, ip) = (jails[(i % 3) as usize], format!("192.0.2.{}", i % 31));
        let line = match i % 5 {
            0 | 1 => {
                *bans.entry((jail, ip.clone())).or_insert(0u64) += 1;
                format!("2026-12-04 10:00:01,{i:03} fail2ban.actions [1]: NOTICE [{jail}] Ban {ip}\n")
            }
            2 => format!("2026-12-04 10:00:01,{i:03} fail2ban.actions [1]: NOTICE [{jail}] Unban {ip}\n"),
            3 => format!("dnsdist: query took {}ms\n", (i * 7) % 150),
            _ => format!("2026-12-04 10:00:01,{i:03} fail2ban.filter [1]: INFO [{jail}] Found {ip}\n"),
        };
        // One write a line, as a logger writes: mtail 3.0.0-rc50 can
        // split a line it finds half written (sonde waits for its newline;
        // the other tests write in pieces).
        f.write_all(line.as_bytes()).unwrap();
    }
    drop(f);
    let total: u64 = bans.values().sum();
    let bans_of = |t: &str, prefix: &str| -> u64 {
        let n: f64 =
            t.lines().filter(|l| l.starts_with(prefix)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum();
        n as u64
    };
    let deadline = Instant::now() + PATIENCE;
    let mtail_text = loop {
        let t = mtail.metrics();
        let q = value(&t, "dns_query_ms_count{prog=\"f2b.mtail\"}").unwrap_or(0.0);
        if bans_of(&t, "fail2ban_bans{") == total && q == 600.0 {
            break t;
        }
        assert!(Instant::now() < deadline, "mtail did not count {total} bans and 600 queries:\n{t}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let sonde_text = common::wait_for("sonde's count", PATIENCE, || {
        let t = sonde.get("/metrics").text().to_owned();
        let n: f64 = t
            .lines()
            .filter(|l| l.starts_with("sonde_log_rule_matches_total{rule=\"fail2ban_ban\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        let q = value(&t, "sonde_log_rule_value_count{rule=\"dns_query\"}").unwrap_or(0.0);
        (n as u64 == total && q == 600.0).then_some(t)
    });
    for ((jail, ip), n) in &bans {
        let m = value(&mtail_text, &format!("fail2ban_bans{{ip=\"{ip}\",jail=\"{jail}\",prog=\"f2b.mtail\"}}"));
        let s = value(
            &sonde_text,
            &format!("sonde_log_rule_matches_total{{rule=\"fail2ban_ban\",jail=\"{jail}\",ip=\"{ip}\"}}"),
        );
        assert_eq!((m, s), (Some(*n as f64), Some(*n as f64)), "{jail} {ip}");
    }
    for le in ["1", "10", "100", "+Inf"] {
        let m = value(&mtail_text, &format!("dns_query_ms_bucket{{prog=\"f2b.mtail\",le=\"{le}\"}}"));
        let s = value(&sonde_text, &format!("sonde_log_rule_value_bucket{{rule=\"dns_query\",le=\"{le}\"}}"));
        assert_eq!(m, s, "le={le}\nmtail:\n{mtail_text}");
    }
    let m = value(&mtail_text, "dns_query_ms_sum{prog=\"f2b.mtail\"}");
    assert_eq!(m, value(&sonde_text, "sonde_log_rule_value_sum{rule=\"dns_query\"}"));
    common::promtool_check(&sonde_text);
}

#[test]
fn hostile_files_are_bounded_and_reported() {
    let dir = Scratch::new("logs-hostile");
    let receiver = SyslogReceiver::rsyslog(&dir.0, SyslogProto::Tcp);
    let names = ["huge", "nul", "fifo", "dir", "shrink"];
    let many = dir.0.join("many");
    std::fs::create_dir_all(&many).unwrap();
    for i in 0..10_000 {
        std::fs::write(many.join(format!("f{i:05}.log")), "").unwrap();
    }
    let mut config = state_dir(&dir);
    for n in names {
        std::fs::write(dir.0.join(format!("{n}.log")), "").unwrap();
        config.push_str(&format!(
            "[[log]]\npath = \"{}\"\nsyslog = \"tcp://127.0.0.1:{}\"\n",
            dir.0.join(format!("{n}.log")).display(),
            receiver.port
        ));
    }
    let glob = format!("{}/*.log", many.display());
    config.push_str(&format!("[[log]]\npath = \"{glob}\"\nsyslog = \"tcp://127.0.0.1:{}\"\n", receiver.port));
    let (sonde, _) = start_sonde(&dir, &config);
    for n in names {
        wait_metric(
            &sonde,
            &format!("sonde_log_files{{path=\"{}\"}}", dir.0.join(format!("{n}.log")).display()),
            |v| v == 1.0,
        );
    }
    // A glob of 10,000 files: the first 64 by name, the rest reported.
    wait_metric(&sonde, &format!("sonde_log_files{{path=\"{glob}\"}}"), |v| v == 64.0);
    assert_eq!(metric(&sonde, &format!("sonde_log_files_ignored{{path=\"{glob}\",reason=\"too_many\"}}")), 9936.0);
    std::fs::write(many.join("f00000.log"), "first of many\n").unwrap();
    wait_messages(&receiver, "f00000", 1, Some(&sonde));
    let append = |name: &str, bytes: &[u8]| {
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.0.join(format!("{name}.log")))
            .unwrap()
            .write_all(bytes)
            .unwrap();
    };
    // A line of 10 MB, then a short one: cut, counted, and the file goes on,
    // without sonde ever holding it (its peak RSS grows by far less).
    let peak_before = sonde.status_kb("VmHWM");
    let mut huge = vec![b'h'; 10 << 20];
    huge.extend_from_slice(b"\nafter the huge line\n");
    append("huge", &huge);
    drop(huge);
    let got = wait_messages(&receiver, "huge", 2, Some(&sonde));
    assert!(got[0].len() > 8000 && got[0].len() < 8192 && got[0].bytes().all(|b| b == b'h'));
    assert_eq!(got[1], "after the huge line");
    let huge_path = dir.0.join("huge.log").display().to_string();
    wait_metric(&sonde, &format!("sonde_log_lines_truncated_total{{path=\"{huge_path}\"}}"), |v| v == 1.0);
    let skipped = format!("sonde_log_skipped_bytes_total{{path=\"{huge_path}\",reason=\"too_long\"}}");
    wait_metric(&sonde, &skipped, |v| v == (10 << 20) as f64 - 65536.0);
    // A megabyte of NUL bytes: skipped, counted, no line.
    append("nul", &vec![0u8; 1 << 20]);
    append("nul", b"after the NULs\n");
    assert_eq!(wait_messages(&receiver, "nul", 1, Some(&sonde)), ["after the NULs"]);
    let nul_path = dir.0.join("nul.log").display().to_string();
    let nul = format!("sonde_log_skipped_bytes_total{{path=\"{nul_path}\",reason=\"nul\"}}");
    wait_metric(&sonde, &nul, |v| v == (1 << 20) as f64);
    // A file replaced by a FIFO, another by a directory: not opened, said;
    // a regular file back in their place is followed again.
    for (name, make) in [("fifo", 0), ("dir", 1)] {
        let p = dir.0.join(format!("{name}.log"));
        std::fs::remove_file(&p).unwrap();
        if make == 0 {
            let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
            // SAFETY: c is NUL-terminated.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        } else {
            std::fs::create_dir(&p).unwrap();
        }
        let path = p.display().to_string();
        wait_metric(&sonde, &format!("sonde_log_files_ignored{{path=\"{path}\",reason=\"not_regular\"}}"), |v| {
            v == 1.0
        });
        if make == 0 {
            std::fs::remove_file(&p).unwrap();
        } else {
            std::fs::remove_dir(&p).unwrap();
        }
        std::fs::write(&p, format!("{name} is a file again\n")).unwrap();
        assert_eq!(wait_messages(&receiver, name, 1, Some(&sonde)), [format!("{name} is a file again")]);
    }
    // A file that shrinks without a rotation: read again from its start.
    append("shrink", b"one\ntwo\nthree\n");
    wait_messages(&receiver, "shrink", 3, Some(&sonde));
    std::fs::write(dir.0.join("shrink.log"), "four\n").unwrap();
    assert_eq!(wait_messages(&receiver, "shrink", 4, Some(&sonde))[3], "four");
    let path = dir.0.join("shrink.log").display().to_string();
    wait_metric(&sonde, &format!("sonde_log_rotations_total{{path=\"{path}\",kind=\"truncated\"}}"), |v| v == 1.0);
    // Bounded: 10 MB went through and sonde never held it (the static
    // release build peaks at about 1.2 MB in all of this test).
    let grown = sonde.status_kb("VmHWM") - peak_before;
    assert!(grown < 4 * 1024, "peak RSS grew by {grown} kB");
    common::promtool_check(sonde.get("/metrics").text());
}

#[test]
fn once_mode_goes_on_where_the_last_run_stopped() {
    let dir = Scratch::new("logs-once");
    let mut receiver = SyslogReceiver::rsyslog(&dir.0, SyslogProto::Tcp);
    let port = receiver.port;
    let file = dir.0.join("cron.log");
    let write = |from: u64, to: u64, path: &Path| {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
        for i in from..=to {
            writeln!(f, "cron {i:07} Ban 192.0.2.{}", i % 3).unwrap();
        }
    };
    write(1, 100, &file);
    let config = dir.write(
        "sonde.toml",
        &format!(
            "{}[collectors]\ndefaults = false\n[[log]]\npath = \"{}\"\nsyslog = \"tcp://127.0.0.1:{port}\"\n\
             start = \"beginning\"\n[[log_rule]]\nname = \"bans\"\npath = \"{}\"\nregex = 'Ban (?P<ip>\\S+)'\n",
            state_dir(&dir),
            file.display(),
            file.display()
        ),
    );
    let once = || common::run(&["--once", "--config", config.to_str().unwrap()]);
    let out = once();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(value(&text, "sonde_log_rule_matches_total{rule=\"bans\",ip=\"192.0.2.1\"}"), Some(34.0));
    wait_messages(&receiver, "cron", 100, None);
    // Between runs: more lines, then a rotation by rename and a new file.
    write(101, 150, &file);
    std::fs::rename(&file, dir.0.join("cron.log.1")).unwrap();
    write(151, 160, &file);
    let out = once();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let got = wait_messages(&receiver, "cron", 160, None);
    assert_exactly(&numbers(&got, "cron"), 160, "two runs and a rotation between");
    // The receiver down: the run says so (exit 1), and the next one sends.
    let first = receiver.lines();
    drop(receiver);
    write(161, 170, &file);
    let out = once();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("left for the next run"));
    receiver = SyslogReceiver::rsyslog_at(&dir.0, SyslogProto::Tcp, port);
    let out = once();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let mut all = first.iter().map(|l| fields(l).3).collect::<Vec<_>>();
    all.extend(wait_messages(&receiver, "cron", 10, None));
    assert_exactly(&numbers(&all, "cron"), 170, "across an outage between runs");
}

#[test]
fn sondes_own_log_goes_the_same_way_and_a_reload_repeats_nothing() {
    let dir = Scratch::new("logs-own");
    let receiver = SyslogReceiver::rsyslog(&dir.0, SyslogProto::Udp);
    let tcp = SyslogReceiver::rsyslog(&dir.0, SyslogProto::Tcp);
    let file = dir.0.join("app.log");
    std::fs::write(&file, "").unwrap();
    let base = format!(
        "{}[[log]]\npath = \"sonde\"\nsyslog = \"udp://127.0.0.1:{}\"\n[[log]]\npath = \"{}\"\nsyslog = \"tcp://127.0.0.1:{}\"\n",
        state_dir(&dir),
        receiver.port,
        file.display(),
        tcp.port
    );
    let (sonde, conf) = start_sonde(&dir, &base);
    wait_metric(&sonde, &format!("sonde_log_files{{path=\"{}\"}}", file.display()), |v| v == 1.0);
    let writer = Writer::start(&file, "app", 1000, false);
    writer.wait_written(500);
    // A reload with one more rule: the logs service is replaced, and
    // the new one goes on from the old one's positions.
    std::fs::write(
        &conf,
        format!("{base}[[log_rule]]\nname = \"apps\"\npath = \"{}\"\nregex = 'app'\n", file.display()),
    )
    .unwrap();
    sonde.signal("HUP");
    let line = common::wait_for("sonde's own line", PATIENCE, || {
        receiver.lines().into_iter().find(|l| l.contains("reload") || l.contains("SIGHUP"))
    });
    let (pri, _, app, _) = fields(&line);
    assert_eq!(app, "sonde");
    assert!(pri == "14" || pri == "12" || pri == "11", "user.info, .warning or .err: {pri}");
    wait_metric(&sonde, "sonde_log_rule_matches_total{rule=\"apps\"}", |v| v > 0.0);
    writer.wait_written(writer.written() + 500);
    let n = writer.finish();
    let got = wait_messages(&tcp, "app", n as usize, Some(&sonde));
    assert_exactly(&numbers(&got, "app"), n, "across a reload");
}

/// The example alert rule on fail2ban's bans passes promtool's check and
/// its own unit test.
#[test]
fn the_fail2ban_alert_rule_passes_promtool_check_and_test() {
    let promtool = common::which("promtool").expect("promtool: run tests/setup.sh (Debian package prometheus)");
    let dir = common::repo().join("examples/prometheus");
    for args in [&["check", "rules", "sonde-logs.rules.yml"][..], &["test", "rules", "sonde-logs.test.yml"]] {
        let out = std::process::Command::new(&promtool).args(args).current_dir(&dir).output().unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
