//! The endpoint against hostile and odd HTTP clients. Every bound of
//! serve.rs is exercised over a real socket.

// A test that cannot unwrap has failed; the panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{read_response, request, Sonde};

#[test]
fn a_64_kib_request_head_gets_431_and_the_connection_closes() {
    let sonde = Sonde::start(&[]);
    let mut s = TcpStream::connect(sonde.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = b"GET /metrics HTTP/1.1\r\nHost: test\r\nX-Pad: ".to_vec();
    head.resize(64 * 1024, b'a');
    head.extend_from_slice(b"\r\n\r\n");
    // The server may answer and close before it has read everything; a
    // failed write after the answer is part of the expected behaviour.
    let _ = s.write_all(&head);
    let r = read_response(&mut s);
    assert_eq!(r.status, 431);
    assert_eq!(r.header("Connection"), Some("close"));
    // read_response read to EOF: the server closed the connection.
    let mut more = [0u8; 1];
    assert!(matches!(s.read(&mut more), Ok(0) | Err(_)));
}

#[test]
fn a_client_that_sends_nothing_does_not_block_a_scrape() {
    let sonde = Sonde::start(&[]);
    let idle = TcpStream::connect(sonde.addr).unwrap();
    // Shorter than the server's 5 s head deadline: a server that served
    // connections one at a time would still be waiting on `idle` here.
    let mut s = TcpStream::connect(sonde.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let r = read_response(&mut s);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("node_load1 "));
    drop(idle);
}

#[test]
fn a_client_trickling_its_head_is_cut_off_at_the_deadline() {
    let sonde = Sonde::start(&[]);
    let mut s = TcpStream::connect(sonde.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(700))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
    let mut got = Vec::new();
    // One header byte every 0.7 s never completes the head; the total
    // deadline (5 s) ends it with 408, whatever the pace.
    for _ in 0..30 {
        if s.write_all(b"X").is_err() {
            break;
        }
        let mut buf = [0u8; 512];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    let r = common::parse_response(&got);
    assert_eq!(r.status, 408);
}

#[test]
fn two_hundred_connections_at_once_are_all_served_in_bounded_memory() {
    let sonde = Sonde::start(&[]);
    let before = sonde.status_kb("VmRSS");
    let addr = sonde.addr;
    let clients: Vec<_> = (0..200)
        .map(|_| std::thread::spawn(move || request(addr, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n").status))
        .collect();
    let statuses: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    assert_eq!(sonde.get("/metrics").status, 200, "still serving");
    let peak = sonde.status_kb("VmHWM");
    // At most 16 connection threads with a 64 KiB stack and one
    // exposition each exist at a time; far below this bound. A server that
    // kept a thread or buffer per waiting client would cross it.
    assert!(peak < before + 16 * 1024, "VmRSS before {before} kB, peak {peak} kB");
}

#[test]
fn methods_other_than_get_and_head_get_405() {
    let sonde = Sonde::start(&[]);
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let r = request(sonde.addr, &format!("{method} /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"));
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("Allow"), Some("GET, HEAD"), "{method}");
    }
}

#[test]
fn head_gets_the_headers_without_the_body() {
    let sonde = Sonde::start(&[]);
    // Connection: close: the end of the stream says where the (empty) body ends.
    let r = request(sonde.addr, "HEAD /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert!(r.header("Content-Length").unwrap().parse::<usize>().unwrap() > 1000);
}

#[test]
fn unknown_paths_get_404_and_the_index_lists_the_endpoints() {
    let sonde = Sonde::start(&[]);
    assert_eq!(sonde.get("/nope").status, 404);
    assert_eq!(sonde.get("/metrics/extra").status, 404);
    let index = sonde.get("/");
    assert_eq!(index.status, 200);
    assert!(index.header("Content-Type").unwrap().starts_with("text/html"));
    assert!(index.text().contains("href=\"/metrics\""));
    // A query string does not change the path.
    assert_eq!(sonde.get("/metrics?x=1").status, 200);
}

#[test]
fn a_malformed_request_gets_400() {
    let sonde = Sonde::start(&[]);
    let r = request(sonde.addr, "GET /metrics HTTP/9\x01\r\n\r\n");
    assert_eq!(r.status, 400);
    let r = request(sonde.addr, "\x00\x01\x02 garbage\r\n\r\n");
    assert_eq!(r.status, 400);
}

#[test]
fn too_many_header_lines_get_431() {
    let sonde = Sonde::start(&[]);
    let mut raw = String::from("GET /metrics HTTP/1.1\r\n");
    for i in 0..100 {
        raw.push_str(&format!("X-{i}: y\r\n"));
    }
    raw.push_str("\r\n");
    assert_eq!(request(sonde.addr, &raw).status, 431);
}

/// Raises this test process's own limit of open files to what
/// `connections` client sockets need (sonde raises its own).
fn room_for(connections: u64) {
    let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit fill and read the struct given.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut l), 0);
        let want = (connections + 256).min(l.rlim_max);
        if l.rlim_cur < want {
            l.rlim_cur = want;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &raw const l), 0);
        }
    }
}

/// Whether the server has neither answered nor closed `s`: a read that
/// does not wait finds nothing to read.
fn untouched(s: &TcpStream) -> bool {
    s.set_nonblocking(true).unwrap();
    let mut b = [0u8; 1];
    let quiet = matches!((&*s).read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    s.set_nonblocking(false).unwrap();
    quiet
}

/// 32 clients scraping as fast as they can, `each` scrapes apiece: the
/// burst after which the pool used to have lost most of its workers.
fn burst(addr: std::net::SocketAddr, each: usize) {
    let clients: Vec<_> = (0..32)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..each {
                    assert_eq!(request(addr, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n").status, 200);
                }
            })
        })
        .collect();
    clients.into_iter().for_each(|c| c.join().unwrap());
}

/// Issue 14, case 1: after a burst, a returning worker could take the
/// connection a woken one was promised, and the woken one was never
/// counted idle again; the pool shrank to one or two workers, and an idle
/// connection or a probe of a silent target then held /metrics until its
/// deadline. After a burst, four idle connections and probes of a target
/// that never answers (nine at once: the ninth is refused, 503, while
/// eight wait up to 29.5 s) leave /metrics its workers: the scrape is
/// answered while every one of them is still open and unanswered.
#[test]
fn after_a_burst_idle_connections_and_silent_probes_do_not_hold_a_scrape() {
    // Takes connections (the kernel does) and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = silent.local_addr().unwrap();
    let sonde = Sonde::start(&[]);
    burst(sonde.addr, 60);
    let idle: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(sonde.addr).unwrap()).collect();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut probes = Vec::new();
    for i in 0..9 {
        let mut s = TcpStream::connect(sonde.addr).unwrap();
        s.write_all(
            format!(
                "GET /probe?module=smtp_banner&target={target} HTTP/1.1\r\nHost: t\r\n\
                 X-Prometheus-Scrape-Timeout-Seconds: 30\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
        let mut reader = s.try_clone().unwrap();
        let tx = tx.clone();
        std::thread::spawn(move || {
            reader.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            let _ = tx.send((i, read_response(&mut reader).status));
        });
        probes.push(s);
    }
    // The first answer is the refusal of the one probe too many.
    let (refused, status) = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    assert_eq!(status, 503, "the first answer was a probe's own, not the refusal of a ninth");
    assert_eq!(sonde.get("/metrics").status, 200);
    let waiting = (0..9).filter(|&i| i != refused && untouched(&probes[i])).count();
    assert_eq!(waiting, 8, "the scrape was answered only after probes ended");
    assert!(idle.iter().all(untouched), "the scrape waited for the idle connections to be given up on");
    drop(silent);
}

/// Issue 14, case 2: a connection costs a worker only once its request
/// head has arrived. A thousand connections that send nothing, or only
/// the start of a head, are held at once, and a scrape is answered while
/// every one of them is still open and unanswered.
#[test]
fn a_thousand_idle_or_trickling_connections_do_not_hold_a_scrape() {
    room_for(1000);
    let sonde = Sonde::start(&[]);
    let mut held = Vec::new();
    for i in 0..1000 {
        let mut s = TcpStream::connect(sonde.addr).unwrap();
        if i % 2 == 1 {
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n").unwrap();
        }
        held.push(s);
    }
    let r = sonde.get("/metrics");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("node_load1 "));
    let answered = held.iter().filter(|s| !untouched(s)).count();
    assert_eq!(answered, 0, "the scrape waited until the server gave up on idle connections");
}

/// Issue 15: HTTP/1.1 keep-alive. A scraper's connection carries its next
/// request; the client's `Connection: close` ends it.
#[test]
fn http11_keeps_the_connection_for_the_next_scrape() {
    let sonde = Sonde::start(&[]);
    let mut s = TcpStream::connect(sonde.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for _ in 0..3 {
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        let r = read_response(&mut s);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Connection"), None, "kept alive: {}", r.head);
        assert!(r.text().contains("node_load1 "));
    }
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").unwrap();
    let r = read_response(&mut s);
    assert_eq!((r.status, r.header("Connection")), (200, Some("close")));
    let mut more = [0u8; 1];
    assert!(matches!(s.read(&mut more), Ok(0) | Err(_)), "closed after the client's close");
}

#[test]
fn http10_keeps_the_connection_only_when_asked() {
    let sonde = Sonde::start(&[]);
    let mut s = TcpStream::connect(sonde.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let r = read_response(&mut s);
    assert_eq!((r.status, r.header("Connection")), (200, Some("close")));
    assert!(matches!(s.read(&mut [0u8; 1]), Ok(0) | Err(_)));

    let mut s = TcpStream::connect(sonde.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for _ in 0..2 {
        s.write_all(b"GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap();
        let r = read_response(&mut s);
        assert_eq!((r.status, r.header("Connection")), (200, None));
    }
}

/// A second request sent before the first's response (pipelined) would
/// be read with the first and lost: the server answers the first and
/// closes, so the client knows to send the second again.
#[test]
fn pipelined_requests_get_one_answer_and_a_close() {
    let sonde = Sonde::start(&[]);
    let mut s = TcpStream::connect(sonde.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\nGET /metrics HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let r = read_response(&mut s);
    assert_eq!((r.status, r.header("Connection")), (200, Some("close")));
    assert!(r.text().contains("node_load1 "));
}

/// Sockets of `port` in TIME_WAIT on this host: each one a connection
/// the server side closed.
fn time_wait_on(port: u16) -> usize {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|t| t.lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
        .filter(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let local_port =
                cols.get(1).and_then(|a| a.rsplit(':').next()).and_then(|p| u16::from_str_radix(p, 16).ok());
            local_port == Some(port) && cols.get(3) == Some(&"06")
        })
        .count()
}

/// A real Prometheus scraping every second reuses one connection: no
/// scrape leaves a closed connection (TIME_WAIT) behind, as none does
/// with node_exporter.
#[test]
fn prometheus_reuses_its_connection() {
    let dir = common::Scratch::new("http-keepalive");
    let sonde = Sonde::start(&[]);
    let before = time_wait_on(sonde.addr.port());
    let job = format!("  - job_name: keep\n    static_configs: [{{targets: ['{}']}}]\n", sonde.addr);
    let prom = common::peers::Prometheus::start(&dir.0, &job, "");
    common::wait_for("five scrapes", Duration::from_secs(60), || {
        let r = prom.query("count_over_time(up{job=\"keep\"}[1m])");
        let n: f64 = r.first()?["value"][1].as_str()?.parse().ok()?;
        (n >= 5.0).then_some(())
    });
    let up = prom.query("up{job=\"keep\"}");
    assert_eq!(up[0]["value"][1], "1", "{up:?}");
    assert_eq!(time_wait_on(sonde.addr.port()), before, "a scrape's connection was closed");
}
