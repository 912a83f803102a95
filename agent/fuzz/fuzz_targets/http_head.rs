//! HTTP response heads come from any server a check is pointed at, and
//! from whatever a redirect names. The head parser must not panic, must
//! keep at most MAX_HEADERS fields and never more bytes than it read, and
//! what it reads of the head (framing, Content-Length, Last-Modified, a
//! Location resolved against the URL asked) must be sane for any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::http::{parse_head, parse_http_date, split_url, Framing, Url, MAX_HEADERS};

fuzz_target!(|data: &[u8]| {
    let base = Url::parse("http://a.test:8080/b/c?d").unwrap();
    if let Ok(Some((head, len))) = parse_head(data) {
        assert!(len <= data.len());
        assert!(head.headers.len() <= MAX_HEADERS);
        assert!(head.minor <= 1);
        let fields: usize = head.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
        // Values read lossily: an invalid byte may become 3.
        assert!(fields <= 3 * len);
        match head.framing(false) {
            Ok(Framing::Length(n)) => assert_eq!(head.content_length(), Ok(Some(n))),
            Ok(Framing::None) => assert!(head.status < 200 || head.status == 204 || head.status == 304),
            _ => {}
        }
        assert_eq!(head.framing(true), Ok(Framing::None));
        for (_, v) in &head.headers {
            let _ = parse_http_date(v);
            if let Some(url) = base.join(v) {
                assert!(url.path.starts_with('/'));
                assert!(url.port != 0 && !url.host.is_empty());
                // What join made parses again to itself.
                let again = format!("{}://{}{}", if url.https { "https" } else { "http" }, url.authority, url.path);
                assert_eq!(Url::parse(&again), Some(url));
            }
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_http_date(s);
        if let Some((_, authority, path)) = split_url(s) {
            assert!(!authority.is_empty() && !authority.contains(['/', '?', '@']));
            assert!(path.is_empty() || path.starts_with(['/', '?']));
        }
    }
});
