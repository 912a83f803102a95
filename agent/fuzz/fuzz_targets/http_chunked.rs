//! A chunked body streams from the server in pieces of any size. The
//! decoder must not panic or read past a piece, must give the same body
//! however the bytes are split, and must never give more body bytes than
//! it was fed, nor anything once done.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::http::Chunked;

/// Feeds `data` in pieces of `step` bytes: the body, whether the coding
/// ended, the bytes used, or where it was refused.
fn decode(data: &[u8], step: usize) -> Result<(Vec<u8>, bool, usize), usize> {
    let mut c = Chunked::new();
    let (mut body, mut used) = (Vec::new(), 0);
    for piece in data.chunks(step) {
        let mut rest = piece;
        while !rest.is_empty() && !c.is_done() {
            let (n, out) = c.decode(rest).map_err(|_| used)?;
            assert!(n <= rest.len() && out.len() <= n);
            // The body bytes are the tail of what was used.
            assert_eq!(out, &rest[n - out.len()..n]);
            body.extend_from_slice(out);
            used += n;
            rest = &rest[n..];
        }
        if c.is_done() {
            assert_eq!(c.decode(piece), Ok((0, &[][..])), "nothing after the end");
        }
    }
    assert!(body.len() <= used);
    Ok((body, c.is_done(), used))
}

fuzz_target!(|data: &[u8]| {
    let (step, input) = data.split_first().map_or((1, data), |(s, rest)| (usize::from(*s).max(1), rest));
    let whole = decode(input, input.len().max(1));
    let pieces = decode(input, step);
    match (whole, pieces) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        // Refused at the same byte whatever the pieces.
        (Err(a), Err(b)) => assert!(a <= input.len() && b <= input.len()),
        (a, b) => panic!("{a:?} vs {b:?}"),
    }
});
