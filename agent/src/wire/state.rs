//! The state file's text: records of what must outlive a run (the
//! watchdog's restart counters, cycle windows, monitor modes, checksums),
//! one per line, readable by a person and by `grep`.
//!
//! ```text
//! sonde-state 1
//! service web mode=active restarts=3 at=10,11,12
//! file nginx%20conf sum=sha256:9f86d0
//! end 2
//! ```
//!
//! A line is a kind (a lowercase word), a name, and `key=value` fields;
//! names and values are escaped (every byte outside `[A-Za-z0-9._:,/+-]`
//! as `%XX`), so neither can hold a space, a newline or an `=`. The last
//! line says how many records came before it: a file cut short (a crash
//! of a writer that did not write atomically, a full disk) is refused
//! whole rather than half read. The writer of this file replaces it
//! atomically; the `end` line is the second guard.
//!
//! Bounds: at most [`MAX_RECORDS`] records of at most [`MAX_LINE`] bytes;
//! parsing borrows the input and allocates only the list of records.

use super::Error;

/// Records in one state file: a service or file check is one each.
pub const MAX_RECORDS: usize = 1024;

/// Longest line: a record's name and fields.
pub const MAX_LINE: usize = 4096;

/// The first line.
pub const MAGIC: &str = "sonde-state 1";

/// One record, borrowed from the file; its name and values still escaped
/// ([`unescape`] them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    fields: &'a str,
}

impl<'a> Record<'a> {
    /// The value of `key`, still escaped.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.fields().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Every `(key, value)`, in file order.
    pub fn fields(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.fields.split(' ').filter(|f| !f.is_empty()).filter_map(|f| f.split_once('='))
    }
}

fn plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b".,:/+-_".contains(&b)
}

fn escaped(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !b.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            i += 3;
        } else if plain(b[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// Reads a whole state file. Err: not one (no magic line), a line that
/// is not a record, too many or too long, or cut short (no `end` line
/// counting the records).
pub fn parse(input: &[u8]) -> Result<Vec<Record<'_>>, Error> {
    let text = std::str::from_utf8(input).map_err(|_| Error::at(0, "not UTF-8"))?;
    let mut lines = text.split_inclusive('\n').enumerate().map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, l)) if l.trim_end_matches('\n') == MAGIC => {}
        _ => return Err(Error::at(1, "not a sonde state file")),
    }
    let mut records = Vec::new();
    for (n, raw) in lines {
        let Some(line) = raw.strip_suffix('\n') else { return Err(Error::at(n, "cut short")) };
        if line.len() > MAX_LINE {
            return Err(Error::at(n, "line too long"));
        }
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        if kind == "end" {
            let count: usize = rest.parse().map_err(|_| Error::at(n, "bad end line"))?;
            if count != records.len() {
                return Err(Error::at(n, "record count differs"));
            }
            if text.len() != text.split_inclusive('\n').take(n).map(str::len).sum::<usize>() {
                return Err(Error::at(n + 1, "text after the end line"));
            }
            return Ok(records);
        }
        if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(Error::at(n, "not a record"));
        }
        let (name, fields) = rest.split_once(' ').unwrap_or((rest, ""));
        if name.is_empty() || !escaped(name) {
            return Err(Error::at(n, "bad name"));
        }
        for f in fields.split(' ') {
            let ok = match f.split_once('=') {
                Some((k, v)) => !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') && escaped(v),
                None => false,
            };
            if !ok {
                return Err(Error::at(n, "bad field"));
            }
        }
        if records.len() == MAX_RECORDS {
            return Err(Error::at(n, "too many records"));
        }
        records.push(Record { kind, name, fields });
    }
    Err(Error::at(0, "cut short: no end line"))
}

/// `s` with `%XX` decoded; None if that is not UTF-8 or not escaped text.
pub fn unescape(s: &str) -> Option<String> {
    if !escaped(s) {
        return None;
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Appends `s` escaped.
pub fn escape_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if plain(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// Writes a state file record by record; [`Writer::finish`] adds the
/// `end` line.
pub struct Writer {
    out: String,
    records: usize,
}

impl Default for Writer {
    fn default() -> Self {
        Writer::new()
    }
}

impl Writer {
    pub fn new() -> Writer {
        let mut out = String::from(MAGIC);
        out.push('\n');
        Writer { out, records: 0 }
    }

    /// Starts a record; fields follow with [`Writer::field`]. An empty
    /// name is written as `-`, since a record needs one.
    pub fn record(&mut self, kind: &str, name: &str) -> &mut Self {
        if self.records > 0 {
            self.out.push('\n');
        }
        self.out.push_str(kind);
        self.out.push(' ');
        if name.is_empty() {
            self.out.push('-');
        } else {
            escape_into(name, &mut self.out);
        }
        self.records += 1;
        self
    }

    pub fn field(&mut self, key: &str, value: &str) -> &mut Self {
        self.out.push(' ');
        self.out.push_str(key);
        self.out.push('=');
        escape_into(value, &mut self.out);
        self
    }

    pub fn finish(mut self) -> String {
        if self.records > 0 {
            self.out.push('\n');
        }
        self.out.push_str("end ");
        self.out.push_str(&self.records.to_string());
        self.out.push('\n');
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written() -> String {
        let mut w = Writer::new();
        w.record("service", "web server").field("mode", "active").field("at", "10,11,12");
        w.record("file", "conf").field("sum", "sha256:9f86d0").field("odd", "a=b c\n%");
        w.record("cycle", "-").field("n", "12");
        w.finish()
    }

    #[test]
    fn written_records_read_back() {
        let text = written();
        assert!(text.starts_with("sonde-state 1\nservice web%20server mode=active at=10,11,12\n"), "{text}");
        let records = parse(text.as_bytes()).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(unescape(records[0].name).as_deref(), Some("web server"));
        assert_eq!(records[0].get("at"), Some("10,11,12"));
        assert_eq!(records[1].get("odd").and_then(unescape).as_deref(), Some("a=b c\n%"));
        assert_eq!(records[2].kind, "cycle");
        assert_eq!(records[1].fields().count(), 2);
        assert!(parse(Writer::new().finish().as_bytes()).unwrap().is_empty());
    }

    /// See: a state file cut anywhere is refused whole, never half read.
    #[test]
    fn a_torn_file_is_refused_wherever_it_was_cut() {
        let text = written();
        for n in 0..text.len() {
            assert!(parse(&text.as_bytes()[..n]).is_err(), "cut at {n}: {:?}", &text[..n]);
        }
        assert!(parse(text.as_bytes()).is_ok());
        let mut more = text.clone();
        more.push_str("service x\n");
        assert!(parse(more.as_bytes()).is_err(), "after the end line");
    }

    #[test]
    fn hostile_lines_are_refused() {
        for bad in [
            "sonde-state 1\nService x\nend 1\n",
            "sonde-state 1\nservice x y\nend 1\n",
            "sonde-state 1\nservice x =1\nend 1\n",
            "sonde-state 1\nservice x a=%zz\nend 1\n",
            "sonde-state 1\nservice x a=%4\nend 1\n",
            "sonde-state 1\nservice  a=1\nend 1\n",
            "sonde-state 1\nservice x\nend 2\n",
            "sonde-state 2\nend 0\n",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert_eq!(unescape("%FF"), None, "not UTF-8");
    }
}
