//! Label values on the stack: a source's address, a refid, an `ID#`.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::wire::chrony::{mode, Address, SourceData};

/// A label value on the stack: an address (45 bytes at most), a refid or
/// `ID#` and ten hex digits.
#[derive(Clone, Copy)]
pub struct Label {
    buf: [u8; 48],
    len: u8,
}

impl std::fmt::Debug for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Write for Label {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let start = usize::from(self.len);
        let end = start + s.len();
        let slot = self.buf.get_mut(start..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end as u8;
        Ok(())
    }
}

impl Label {
    fn new() -> Label {
        Label { buf: [0; 48], len: 0 }
    }

    pub fn as_str(&self) -> &str {
        // Only whole str slices are written.
        std::str::from_utf8(self.buf.get(..usize::from(self.len)).unwrap_or_default()).unwrap_or("")
    }

    /// An address as text; a longer one than fits cannot exist.
    pub(super) fn ip(ip: IpAddr) -> Label {
        let mut l = Label::new();
        let _ = write!(l, "{ip}");
        l
    }

    /// A refid as chrony_exporter (facebook/time) spells it: its ASCII
    /// letters without NULs ("GPS", "PPS"), or `%08X` if one is not
    /// printable (127.127.1.1's 7F7F0101).
    pub(super) fn refid(ref_id: u32) -> Label {
        let mut l = Label::new();
        let bytes = ref_id.to_be_bytes();
        if bytes.iter().all(|&b| b == 0 || (0x20..0x7f).contains(&b)) {
            for b in bytes.into_iter().filter(|&b| b != 0) {
                let _ = l.write_char(char::from(b));
            }
        } else {
            let _ = write!(l, "{ref_id:08X}");
        }
        l
    }

    /// `%08X`, as chronyc prints a refid.
    pub(super) fn hex(ref_id: u32) -> Label {
        let mut l = Label::new();
        let _ = write!(l, "{ref_id:08X}");
        l
    }

    /// A source's label value: its address, or a reference clock's refid;
    /// `None` for a source without an address yet.
    pub(super) fn source(data: &SourceData) -> Option<Label> {
        match data.ip_addr {
            Address::Ip(IpAddr::V4(a)) if data.mode == mode::REF => Some(Label::refid(u32::from(a))),
            Address::Ip(ip) => Some(Label::ip(ip)),
            Address::Unspec | Address::Id(_) | Address::Unknown(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_spellings() {
        assert_eq!(Label::refid(u32::from_be_bytes(*b"GPS\0")).as_str(), "GPS");
        assert_eq!(Label::refid(0x7f7f_0101).as_str(), "7F7F0101");
        assert_eq!(Label::refid(0).as_str(), "");
        let long: IpAddr = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".parse().unwrap();
        assert_eq!(Label::ip(long).as_str(), long.to_string());
        assert_eq!(Label::hex(0xcf40_4dc8).as_str(), "CF404DC8");
    }
}
