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
    let r = request(sonde.addr, "HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
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
