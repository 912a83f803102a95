//! The spool's record format: one encoded batch per record (a push
//! batch, a block of log lines, a notification), opaque to the spool.
//!
//! ```text
//! record  = length:u32le  crc32:u32le  body
//! body    = version:u8 (1)  items:u32le  timestamp_ms:i64le  payload
//! ```
//!
//! `length` counts the body; `crc32` (IEEE 802.3, the zlib one) covers
//! the body. The payload is the batch exactly as it is sent (for push, a
//! snappy-compressed Remote-Write request), so a spooled batch goes out as
//! the same bytes it was first encoded to. `items` (samples, lines,
//! alerts: what the batch's owner counts) and `timestamp_ms` (its oldest
//! item) let the queue count and age batches without decoding them.
//!
//! Segments are these records back to back. A power cut leaves at most a
//! torn last record; [`parse`] tells a record cut short ([`Bad::Truncated`])
//! from one whose bytes are wrong ([`Bad::Corrupt`]), and the spool keeps
//! everything before either.
//!
//! Invariants: never panics; a length larger than [`MAX_BODY`] is corrupt
//! without being read, so a garbage header cannot make anyone allocate.

/// Largest body accepted; a batch is far smaller (limits.rs bounds it).
pub const MAX_BODY: usize = 8 * 1024 * 1024;
/// Bytes before the payload: length, crc, version, items, timestamp.
pub const HEADER: usize = 4 + 4 + 1 + 4 + 8;
const VERSION: u8 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub items: u32,
    pub timestamp_ms: i64,
    pub payload: &'a [u8],
}

/// Why the bytes at hand are not a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bad {
    /// The bytes end before the record does (a torn write).
    Truncated,
    /// A length, version or checksum that cannot be right.
    Corrupt,
}

/// Appends one record.
pub fn emit(out: &mut Vec<u8>, items: u32, timestamp_ms: i64, payload: &[u8]) {
    let body_len = HEADER - 8 + payload.len();
    out.extend_from_slice(&(body_len as u32).to_le_bytes());
    let crc_at = out.len();
    out.extend_from_slice(&[0; 4]);
    let body_at = out.len();
    out.push(VERSION);
    out.extend_from_slice(&items.to_le_bytes());
    out.extend_from_slice(&timestamp_ms.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32(&out[body_at..]);
    out[crc_at..crc_at + 4].copy_from_slice(&crc.to_le_bytes());
}

/// The record at the start of `buf`, and how many bytes it took.
pub fn parse(buf: &[u8]) -> Result<(Record<'_>, usize), Bad> {
    let head = buf.get(..8).ok_or(Bad::Truncated)?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if !(HEADER - 8..=MAX_BODY).contains(&len) {
        return Err(Bad::Corrupt);
    }
    let body = buf.get(8..8 + len).ok_or(Bad::Truncated)?;
    if crc32(body) != crc || body[0] != VERSION {
        return Err(Bad::Corrupt);
    }
    let items = u32::from_le_bytes([body[1], body[2], body[3], body[4]]);
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&body[5..13]);
    Ok((Record { items, timestamp_ms: i64::from_le_bytes(ts), payload: &body[13..] }, 8 + len))
}

/// CRC-32 (IEEE 802.3, reflected, as zlib and gzip compute it).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc = CRC_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn records_round_trip_back_to_back() {
        let mut buf = Vec::new();
        emit(&mut buf, 3, 1_700_000_000_123, b"payload one");
        emit(&mut buf, 1, -1, b"");
        let (a, used) = parse(&buf).unwrap();
        assert_eq!(a, Record { items: 3, timestamp_ms: 1_700_000_000_123, payload: b"payload one" });
        let (b, used2) = parse(&buf[used..]).unwrap();
        assert_eq!(b, Record { items: 1, timestamp_ms: -1, payload: b"" });
        assert_eq!(used + used2, buf.len());
    }

    #[test]
    fn every_torn_prefix_is_truncated_and_a_flipped_bit_is_corrupt() {
        let mut buf = Vec::new();
        emit(&mut buf, 7, 42, b"some batch bytes");
        for n in 0..buf.len() {
            assert_eq!(parse(&buf[..n]), Err(Bad::Truncated), "prefix {n}");
        }
        for i in 8..buf.len() {
            let mut bad = buf.clone();
            bad[i] ^= 0x10;
            assert_eq!(parse(&bad), Err(Bad::Corrupt), "bit flip at {i}");
        }
        let mut huge = buf.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse(&huge), Err(Bad::Corrupt));
    }
}
