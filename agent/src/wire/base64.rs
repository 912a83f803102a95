//! Base64 (RFC 4648 §4, with padding): the credentials of HTTP basic
//! auth and SMTP AUTH, and RFC 2047 encoded words in mail headers.
//!
//! Encoding allocates only the output, which grows by exactly 4 bytes per
//! 3 input bytes (rounded up). Decoding (an `Authorization: Basic` header)
//! writes into the caller's buffer and refuses anything but canonical
//! padded base64: no whitespace, no stray bits.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends `bytes` encoded to `out`.
pub fn encode_into(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

/// `bytes` encoded.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    encode_into(bytes, &mut out);
    out
}

/// Decodes `text` into `out`; the decoded length, or `None` when `text`
/// is not canonical base64 or does not fit.
pub fn decode(text: &[u8], out: &mut [u8]) -> Option<usize> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut n = 0;
    let groups = text.len() / 4;
    for (g, chunk) in text.chunks_exact(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && g + 1 != groups) {
            return None;
        }
        let mut acc = 0u32;
        for &c in &chunk[..4 - pad] {
            acc = (acc << 6) | ALPHABET.iter().position(|&a| a == c)? as u32;
        }
        acc <<= 6 * pad as u32;
        let bytes = acc.to_be_bytes();
        let take = 3 - pad;
        if bytes[1 + take..].iter().any(|&b| b != 0) {
            return None;
        }
        out.get_mut(n..n + take)?.copy_from_slice(&bytes[1..1 + take]);
        n += take;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_vectors() {
        let mut out = [0u8; 16];
        for (plain, coded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(decode(coded.as_bytes(), &mut out), Some(plain.len()));
            assert_eq!(&out[..plain.len()], plain.as_bytes());
        }
        for bad in ["Zg", "Zg=", "Zh==", "Z===", "Zg==Zg==", "Zm9v YmFy", "Zm9*"] {
            assert_eq!(decode(bad.as_bytes(), &mut out), None, "{bad}");
        }
        assert_eq!(decode(b"Zm9vYmFyZm9vYmFyZm9vYmFy", &mut out), None, "too long for out");
    }

    /// RFC 4648 §10's test vectors.
    #[test]
    fn rfc4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), coded);
        }
        assert_eq!(encode(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(encode(b"\0sonde\0secret"), "AHNvbmRlAHNlY3JldA==");
    }
}
