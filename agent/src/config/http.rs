//! What an http check's settings must be, whichever file gives them
//! (`[[check]]` or a blackbox.yml module): a method and header fields that
//! cannot break the request they go into, a size as blackbox writes it,
//! and a target that this build can reach.

use crate::tls::{TLS_BUILT, WITHOUT_TLS};
use crate::wire::http::split_url;

/// A method: an RFC 9110 token (`GET`, `POST`, `PROPFIND`).
pub(super) fn method(m: &str) -> Result<(), String> {
    if m.is_empty() || !m.bytes().all(tchar) {
        return Err(format!("method: '{m}' is not an HTTP method"));
    }
    Ok(())
}

/// A header field: a token for the name, a value without CR, LF or NUL
/// (either would end the field and start another of the value's making).
pub(super) fn header(name: &str, value: &str) -> Result<(), String> {
    if name.is_empty() || !name.bytes().all(tchar) {
        return Err(format!("headers: '{name}' is not a header name"));
    }
    if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(format!("headers: the value of {name} has a line break"));
    }
    Ok(())
}

/// RFC 9110 §5.6.2's tchar.
fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A size in bytes as blackbox_exporter's `body_size_limit` takes it
/// (`10MB`, `512KiB`, `1024`): units of 1024, as its Base2Bytes reads
/// them; 0 is no limit.
pub(super) fn size(s: &str) -> Result<Option<u64>, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let shift = match unit.trim() {
        "" | "B" => 0,
        "KB" | "KiB" => 10,
        "MB" | "MiB" => 20,
        "GB" | "GiB" => 30,
        "TB" | "TiB" => 40,
        _ => return Err(format!("'{s}' is not a size; write bytes, or a number and KB, MB or GB (units of 1024)")),
    };
    let n: u64 = number.parse().map_err(|_| format!("'{s}' is not a size"))?;
    let bytes = n.checked_mul(1 << shift).ok_or_else(|| format!("'{s}' is too large"))?;
    Ok((bytes > 0).then_some(bytes))
}

/// A target this build can probe: an http URL, or https with TLS built.
pub(super) fn target(t: &str) -> Result<(), String> {
    match split_url(t) {
        Some((true, _, _)) if !TLS_BUILT => Err(format!("target: '{t}': {WITHOUT_TLS}")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_blackbox_writes_them() {
        assert_eq!(size("10MB"), Ok(Some(10 << 20)));
        assert_eq!(size("512KiB"), Ok(Some(512 << 10)));
        assert_eq!(size("1024"), Ok(Some(1024)));
        assert_eq!(size("0"), Ok(None));
        for bad in ["", "MB", "1.5MB", "-1", "10 parsecs", "99999999999TB"] {
            assert!(size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_header_cannot_inject_another() {
        assert!(header("X-Probe", "sonde").is_ok());
        assert!(header("X-Probe", "a\r\nX-Forged: 1").is_err());
        assert!(header("X Probe", "a").is_err());
        assert!(header("", "a").is_err());
        assert!(method("GET").is_ok() && method("G ET").is_err() && method("").is_err());
    }
}
