//! The YAML subset of the exporter files operators already have:
//! blackbox_exporter's `blackbox.yml` and exporter-toolkit's
//! `web-config.yml`, read into a tree of nodes that each know their line.
//!
//! ```yaml
//! --- # optional; so is a final `...`
//! modules:                          # block mapping, nested by indentation
//!   dns_soa:
//!     prober: dns
//!     dns: {query_name: "example.org.", valid_rcodes: [NOERROR]}
//!   ssh_banner:
//!     tcp:
//!       query_response:
//!       - expect: '^SSH-2.0-'       # a list at its key's indentation
//!   http_post_2xx:
//!     http:
//!       body: |                     # block scalars: | and >, chomping - and +
//!         {"ping": 1}
//! basic_auth_users:
//!   alice: $2y$10$mDwo.lAisC94iLAyP81MCe   # plain scalars keep every byte
//! ```
//!
//! Spec: YAML 1.2.2, one document, the core schema's scalars. Plain,
//! single-quoted (`''`) and double-quoted scalars (every escape YAML 1.2
//! defines, line folding); block scalars `|` and `>` with chomping and an
//! indentation digit; flow `[ ]` and `{ }` nested and across lines (at any
//! indentation, as go-yaml reads them: the brackets delimit them);
//! comments; a `key:` whose value is a `- ` list at the key's own column.
//! A plain `~`, `null`, `Null`, `NULL` or an empty value is
//! [`Value::Null`]; every other scalar stays text with whether it was
//! plain, so `"true"` stays a string and [`Node::as_bool`] reads only
//! `true`. Block scalars count as quoted: YAML resolves only plain ones.
//!
//! Refused, with the line: anchors `&`, aliases `*`, tags `!`, directives
//! `%`, merge keys `<<` (quoted too), complex keys `?`, keys that are not
//! one-line scalars, `key: value` pairs inside `[ ]`, duplicate keys in one
//! mapping, a second document, tabs in indentation, indentation that
//! matches no enclosing block, control characters, quoted scalars that
//! continue less indented than their key, and plain scalars that continue
//! on the next line (no exporter file needs them, and a mis-indented key
//! reads as one: quote the value or use `|`/`>`).
//!
//! Invariants: no panic and no I/O. It allocates the owned tree it
//! returns (a `Vec` per collection, a `String` per scalar and key),
//! bounded as below. One error, the first found (a
//! duplicate key is found when its mapping ends). Input is bounded by
//! [`MAX_INPUT`], nesting of collections by [`MAX_DEPTH`] (the recursion
//! bound), nodes by [`MAX_NODES`]. Scalars and keys together hold at
//! most 1.5 bytes per input byte (`\L` is 2 bytes in, U+2028's 3 out), so
//! memory is that plus a bounded tree. Each byte is scanned a bounded
//! number of times, and duplicate keys are found by sorting, not pairwise.
//!
//! Errors carry a `Cow` rather than [`super::Error`]'s `&'static str`:
//! most messages are static, but three name what an operator must find
//! among many: the repeated key in a long `modules:` map, the unknown
//! escape, the character a value cannot start with.

use std::borrow::Cow;
use std::fmt;

/// Largest input accepted, as the config file's own bound.
pub const MAX_INPUT: usize = 1024 * 1024;
/// Collections nested deeper than this are refused; real files nest 6.
pub const MAX_DEPTH: usize = 32;
/// Most nodes in one file: a blackbox.yml of 500 modules uses a third.
/// At about 80 bytes a node, the tree stays near a megabyte.
pub const MAX_NODES: usize = 16 * 1024;

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// 1-based line where the node starts (a null value: its key's line).
    pub line: usize,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    /// `quoted`: not plain (single, double or block scalar).
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    /// In file order; keys are unique.
    Map(Vec<(Key, Node)>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub line: usize,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// 1-based; 0 for the input as a whole (too large).
    pub line: usize,
    pub what: Cow<'static, str>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => f.write_str(&self.what),
            n => write!(f, "line {n}: {}", self.what),
        }
    }
}

impl Node {
    /// A scalar's text, plain or quoted.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    fn plain(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, quoted: false } => Some(text),
            _ => None,
        }
    }

    /// Plain `true` or `false` only.
    pub fn as_bool(&self) -> Option<bool> {
        match self.plain()? {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// Plain decimal `[-+]?[0-9]+` that fits; no `0x`/`0o`.
    pub fn as_int(&self) -> Option<i64> {
        self.plain()?.parse().ok()
    }

    /// Plain decimal number, finite (no `.inf`, `.nan`).
    pub fn as_f64(&self) -> Option<f64> {
        let t = self.plain()?;
        if !t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) {
            return None; // Rust's parser also takes "inf" and "NaN"
        }
        super::float::parse(t).filter(|v| v.is_finite())
    }

    pub fn is_null(&self) -> bool {
        self.value == Value::Null
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// A mapping's value for `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.text == key).map(|(_, v)| v)
    }

    /// The kind as a message says it.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Reads one document. An empty or comment-only file is a null at line 1.
pub fn parse(text: &str) -> std::result::Result<Node, Error> {
    if text.len() > MAX_INPUT {
        return Err(Error { line: 0, what: "larger than 1 MiB".into() });
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_chars(text)?;
    // YAML reads every line break as '\n'; check_chars left no lone '\r'.
    let owned;
    let src = if text.contains('\r') {
        owned = text.replace("\r\n", "\n");
        &owned
    } else {
        text
    };
    Parser { src, pos: 0, line: 1, line_start: 0, nodes: 0 }.document()
}

/// YAML's printable set, less NEL: tab, line breaks and no other
/// control character; a byte order mark only first.
fn check_chars(text: &str) -> Result<()> {
    let mut line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let what = match c {
            '\n' => {
                line += 1;
                continue;
            }
            '\r' if chars.peek() == Some(&'\n') => continue,
            '\r' => "a carriage return without a line feed",
            '\u{feff}' => "a byte order mark after the start",
            c if c.is_control() && c != '\t' => "a control character",
            _ => continue,
        };
        return Err(Error { line, what: what.into() });
    }
    Ok(())
}

/// What the next non-blank, non-comment line holds.
enum Next {
    /// Content at this column; the parser stands on it.
    Content(usize),
    /// `---` or `...` at column 0; the parser stands before it.
    Marker,
    Eof,
}

struct Parser<'a> {
    /// Moved through by bytes; cut only before ASCII ones, so on a char
    /// boundary.
    src: &'a str,
    pos: usize,
    line: usize,
    line_start: usize,
    nodes: usize,
}

fn blank(b: Option<u8>) -> bool {
    matches!(b, None | Some(b' ' | b'\t' | b'\n'))
}

fn flow_indicator(b: Option<u8>) -> bool {
    matches!(b, Some(b',' | b'[' | b']' | b'{' | b'}'))
}

type Result<T> = std::result::Result<T, Error>;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + n).copied()
    }

    /// Text between positions the parser found; they sit before ASCII
    /// bytes or at the end, so the fallback never happens.
    fn text(&self, from: usize, to: usize) -> &str {
        self.src.get(from..to).unwrap_or_default()
    }

    fn err<T>(&self, what: &'static str) -> Result<T> {
        Err(Error { line: self.line, what: what.into() })
    }

    fn node_at(&mut self, line: usize, value: Value) -> Result<Node> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return self.err("more than 16384 nodes");
        }
        Ok(Node { line, value })
    }

    fn deeper(&self, depth: usize) -> Result<()> {
        if depth >= MAX_DEPTH {
            return self.err("nested deeper than 32");
        }
        Ok(())
    }

    /// Steps over the '\n' under the cursor.
    fn newline(&mut self) {
        self.pos += 1;
        self.line += 1;
        self.line_start = self.pos;
    }

    fn skip_white(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// A '#' here starts a comment: YAML wants a blank or the line start
    /// before it.
    fn after_blank(&self) -> bool {
        self.pos == self.line_start || matches!(self.src.as_bytes().get(self.pos - 1), Some(b' ' | b'\t'))
    }

    fn at_marker(&self) -> bool {
        let rest = self.src.as_bytes().get(self.pos..).unwrap_or_default();
        self.pos == self.line_start
            && (rest.starts_with(b"---") || rest.starts_with(b"..."))
            && blank(rest.get(3).copied())
    }

    fn at_seq_entry(&self) -> bool {
        self.peek() == Some(b'-') && blank(self.peek_at(1))
    }

    /// Skips blank and comment lines to the next content, whose
    /// indentation must be spaces.
    fn next_content(&mut self) -> Result<Next> {
        loop {
            if self.pos >= self.src.len() {
                return Ok(Next::Eof);
            }
            if self.pos > self.line_start {
                // Already past the indentation; called again.
                return Ok(Next::Content(self.pos - self.line_start));
            }
            let mut n = 0;
            while self.peek_at(n) == Some(b' ') {
                n += 1;
            }
            let mut m = n;
            while matches!(self.peek_at(m), Some(b' ' | b'\t')) {
                m += 1;
            }
            match self.peek_at(m) {
                None => {
                    self.pos = self.src.len();
                    return Ok(Next::Eof);
                }
                Some(b'\n' | b'#') => self.skip_line(),
                _ if m > n => return self.err("a tab in indentation; indent with spaces"),
                _ if n == 0 && self.at_marker() => return Ok(Next::Marker),
                _ => {
                    self.pos += n;
                    return Ok(Next::Content(n));
                }
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(b) = self.peek() {
            if b == b'\n' {
                self.newline();
                return;
            }
            self.pos += 1;
        }
    }

    /// After a value: blanks, a comment, the end of the line.
    fn end_of_line(&mut self) -> Result<()> {
        self.skip_white();
        match self.peek() {
            None => Ok(()),
            Some(b'\n') => {
                self.newline();
                Ok(())
            }
            Some(b'#') if self.after_blank() => {
                self.skip_line();
                Ok(())
            }
            Some(b':') => self.err("unexpected ':'; keys must be scalars, and a value holding ': ' must be quoted"),
            Some(_) => self.err("unexpected text after the value"),
        }
    }

    fn document(&mut self) -> Result<Node> {
        let mut root = None;
        if let Next::Marker = self.next_content()? {
            if self.peek() == Some(b'-') {
                self.pos += 3;
                self.skip_white();
                if matches!(self.peek(), None | Some(b'\n' | b'#')) {
                    self.end_of_line()?;
                } else {
                    root = Some(self.inline_value(0, 0)?);
                }
            }
        }
        let root = match root {
            Some(node) => node,
            None => match self.next_content()? {
                Next::Content(col) => self.block_node(col, 0, 0)?,
                _ => self.node_at(1, Value::Null)?,
            },
        };
        match self.next_content()? {
            Next::Eof => return Ok(root),
            Next::Content(_) => return self.err("more content after the top-level value"),
            Next::Marker if self.peek() == Some(b'-') => return self.err("a second document; one per file"),
            Next::Marker => {
                self.pos += 3;
                self.end_of_line()?;
            }
        }
        match self.next_content()? {
            Next::Eof => Ok(root),
            _ => self.err("a second document; one per file"),
        }
    }

    /// A node whose first character is under the cursor at column `col`;
    /// `min` is the least column its continuation lines may have.
    fn block_node(&mut self, col: usize, min: usize, depth: usize) -> Result<Node> {
        if self.at_seq_entry() {
            return self.block_seq(col, min, depth);
        }
        let saved = (self.pos, self.line, self.line_start);
        let is_key = self.block_key().is_ok();
        (self.pos, self.line, self.line_start) = saved;
        if is_key {
            return self.block_map(col, min, depth);
        }
        self.inline_value(min, depth)
    }

    /// A value that starts on the current line, to the end of the line
    /// (a block scalar: to the end of its lines).
    fn inline_value(&mut self, min: usize, depth: usize) -> Result<Node> {
        if self.at_seq_entry() {
            return self.err("a list cannot start on this line; put it on the next one");
        }
        if matches!(self.peek(), Some(b'|' | b'>')) {
            return self.block_scalar(min);
        }
        let node = self.node(min, depth, false)?;
        let after = self.src.get(self.pos..).unwrap_or_default().trim_start_matches([' ', '\t']);
        if matches!(node.value, Value::Seq(_) | Value::Map(_)) && after.starts_with(':') {
            return self.err("a key must be a scalar");
        }
        self.end_of_line()?;
        Ok(node)
    }

    fn block_map(&mut self, col: usize, min: usize, depth: usize) -> Result<Node> {
        self.deeper(depth)?;
        let line = self.line;
        let mut entries = Vec::new();
        loop {
            let key = self.block_key()?;
            self.refuse_merge(&key)?;
            self.skip_white();
            let value = if matches!(self.peek(), None | Some(b'\n' | b'#')) {
                self.end_of_line()?;
                match self.next_content()? {
                    Next::Content(i) if i > col => self.block_node(i, col + 1, depth + 1)?,
                    // YAML lets a key's list sit at the key's own column.
                    Next::Content(i) if i == col && self.at_seq_entry() => self.block_seq(col, col + 1, depth + 1)?,
                    _ => self.node_at(key.line, Value::Null)?,
                }
            } else {
                self.inline_value(col + 1, depth + 1)?
            };
            entries.push((key, value));
            match self.next_content()? {
                Next::Content(i) if i == col => continue,
                Next::Content(i) if i > col => return self.err(UNEXPECTED_INDENT),
                Next::Content(i) if i >= min => return self.err(INCONSISTENT),
                _ => break,
            }
        }
        check_duplicates(&entries)?;
        self.node_at(line, Value::Map(entries))
    }

    fn block_seq(&mut self, col: usize, min: usize, depth: usize) -> Result<Node> {
        self.deeper(depth)?;
        let line = self.line;
        let mut items = Vec::new();
        loop {
            let item_line = self.line;
            self.pos += 1; // '-'
            while self.peek() == Some(b' ') {
                self.pos += 1;
            }
            if self.peek() == Some(b'\t') {
                return self.err("a tab after '-'; use spaces");
            }
            let item = if matches!(self.peek(), None | Some(b'\n' | b'#')) {
                self.end_of_line()?;
                match self.next_content()? {
                    Next::Content(i) if i > col => self.block_node(i, col + 1, depth + 1)?,
                    _ => self.node_at(item_line, Value::Null)?,
                }
            } else {
                // "- key: v" or "- - x": a node starting mid-line.
                self.block_node(self.pos - self.line_start, col + 1, depth + 1)?
            };
            items.push(item);
            match self.next_content()? {
                Next::Content(i) if i == col && self.at_seq_entry() => continue,
                // The list sat at its key's column; the next key follows.
                Next::Content(i) if i == col && min.checked_sub(1) == Some(col) => break,
                Next::Content(i) if i == col => return self.err("expected a list item ('- ')"),
                Next::Content(i) if i > col => return self.err(UNEXPECTED_INDENT),
                Next::Content(i) if i >= min => return self.err(INCONSISTENT),
                _ => break,
            }
        }
        self.node_at(line, Value::Seq(items))
    }

    /// `key:` in block context, up to and including the ':'.
    fn block_key(&mut self) -> Result<Key> {
        let key = self.key(false)?;
        self.skip_white();
        if self.peek() == Some(b':') && blank(self.peek_at(1)) {
            self.pos += 1;
            return Ok(key);
        }
        self.err("expected 'key: value'")
    }

    /// A key, block or flow: a one-line scalar.
    fn key(&mut self, flow: bool) -> Result<Key> {
        let line = self.line;
        match self.peek() {
            Some(b'"' | b'\'') => Ok(Key { line, text: self.quoted(0, true)? }),
            Some(b'[' | b'{' | b'|' | b'>') => self.err("a key must be a scalar"),
            _ => {
                self.refuse_start(flow)?;
                Ok(Key { line, text: self.plain(flow).to_owned() })
            }
        }
    }

    /// Once `<<` is known to be a key: quoted too, as no exporter file
    /// means a literal "<<".
    fn refuse_merge(&self, key: &Key) -> Result<()> {
        match key.text.as_str() {
            "<<" => self.err("merge keys (<<) are not supported"),
            _ => Ok(()),
        }
    }

    /// What may not start a plain scalar (YAML's indicators), with why.
    fn refuse_start(&self, flow: bool) -> Result<()> {
        let Some(c) = self.peek() else { return self.err("a value is missing") };
        let next = self.peek_at(1);
        let lone = blank(next) || (flow && flow_indicator(next));
        let what = match c {
            b'&' => "anchors (&) are not supported",
            b'*' => "aliases (*) are not supported",
            b'!' => "tags (!) are not supported",
            b'%' => "directives (%) are not supported",
            b'?' if lone => "complex keys (?) are not supported",
            b':' if lone => "a key is missing before ':'",
            b'-' if lone && flow => "'-' cannot start a value inside [ ] or { }",
            b'-' if lone => "a list item ('- ') where a key was expected",
            b',' | b']' | b'}' | b'#' | b'@' | b'`' => {
                let what = format!("a value cannot start with '{}'; quote it", char::from(c));
                return Err(Error { line: self.line, what: what.into() });
            }
            _ => return Ok(()),
        };
        self.err(what)
    }

    /// A scalar or flow collection under the cursor (not a block scalar).
    fn node(&mut self, min: usize, depth: usize, flow: bool) -> Result<Node> {
        let line = self.line;
        let value = match self.peek() {
            Some(b'[' | b'{') => return self.flow(min, depth),
            Some(b'"' | b'\'') => Value::Scalar { text: self.quoted(min, false)?, quoted: true },
            Some(b'|' | b'>') => return self.err("block scalars (| and >) cannot be inside [ ] or { }"),
            _ => {
                self.refuse_start(flow)?;
                match self.plain(flow) {
                    "~" | "null" | "Null" | "NULL" => Value::Null,
                    text => Value::Scalar { text: text.to_owned(), quoted: false },
                }
            }
        };
        self.node_at(line, value)
    }

    /// A plain scalar's text on this line; the cursor stops after its
    /// last non-blank character.
    fn plain(&mut self, flow: bool) -> &str {
        let start = self.pos;
        let mut end = self.pos;
        while let Some(b) = self.peek() {
            let next = self.peek_at(1);
            match b {
                b'\n' => break,
                b' ' | b'\t' if next == Some(b'#') => break,
                b' ' | b'\t' => {
                    self.pos += 1;
                    continue;
                }
                b':' if blank(next) || (flow && flow_indicator(next)) => break,
                b',' | b'[' | b']' | b'{' | b'}' if flow => break,
                _ => {}
            }
            self.pos += 1;
            end = self.pos;
        }
        self.pos = end;
        self.text(start, end)
    }

    /// A single- or double-quoted scalar, folded across lines whose
    /// indentation is at least `min`; `one_line` for keys.
    fn quoted(&mut self, min: usize, one_line: bool) -> Result<String> {
        let open_line = self.line;
        let double = self.peek() == Some(b'"');
        self.pos += 1;
        let mut out = String::new();
        // Where a run of literal blanks began in `out`: a line break
        // drops them, an escape or other text keeps them.
        let mut blanks: Option<usize> = None;
        loop {
            let start = self.pos;
            while let Some(b) = self.peek() {
                if matches!(b, b'\n' | b' ' | b'\t' | b'\'' | b'"') || (double && b == b'\\') {
                    break;
                }
                self.pos += 1;
            }
            if self.pos > start {
                out.push_str(self.text(start, self.pos));
                blanks = None;
            }
            match self.peek() {
                None => return Err(Error { line: open_line, what: "unterminated quoted scalar".into() }),
                Some(b @ (b' ' | b'\t')) => {
                    blanks.get_or_insert(out.len());
                    out.push(char::from(b));
                    self.pos += 1;
                }
                Some(b'\n') if one_line => return self.err("a key must fit on one line"),
                Some(b'\n') => {
                    out.truncate(blanks.take().unwrap_or(out.len()));
                    self.fold(min, &mut out, false)?;
                }
                Some(b'\'') if !double && self.peek_at(1) == Some(b'\'') => {
                    out.push('\'');
                    self.pos += 2;
                    blanks = None;
                }
                Some(b'\'') if double => {
                    out.push('\'');
                    self.pos += 1;
                    blanks = None;
                }
                Some(b'"') if !double => {
                    out.push('"');
                    self.pos += 1;
                    blanks = None;
                }
                Some(b'\\') if self.peek_at(1) == Some(b'\n') => {
                    self.pos += 1;
                    blanks = None;
                    self.fold(min, &mut out, true)?;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    out.push(self.escape()?);
                    blanks = None;
                }
                Some(_) => {
                    self.pos += 1; // the closing quote
                    return Ok(out);
                }
            }
        }
    }

    /// A line break inside a quoted scalar: one break is a space, each
    /// empty line after it a '\n'; after a '\' the break itself is nothing.
    fn fold(&mut self, min: usize, out: &mut String, escaped: bool) -> Result<()> {
        let mut empties = 0;
        loop {
            self.newline();
            self.continuation(min)?;
            self.skip_white();
            if self.peek() != Some(b'\n') {
                break;
            }
            empties += 1;
        }
        if empties == 0 && !escaped {
            out.push(' ');
        }
        out.extend(std::iter::repeat_n('\n', empties));
        Ok(())
    }

    /// A line inside a quoted scalar (indented more than the block around
    /// it) or a flow collection (`min` 0: its brackets delimit it, and a
    /// closing `]` at the key's column is common), never a document marker.
    fn continuation(&self, min: usize) -> Result<()> {
        let mut n = 0;
        while self.peek_at(n) == Some(b' ') {
            n += 1;
        }
        let mut m = n;
        while matches!(self.peek_at(m), Some(b' ' | b'\t')) {
            m += 1;
        }
        if self.at_marker() {
            return self.err("a document marker inside a value");
        }
        // '#' too: inside quotes it is text, not a comment.
        if n < min && !matches!(self.peek_at(m), None | Some(b'\n')) {
            return self.err("a continued value must be indented more than its key");
        }
        Ok(())
    }

    /// After a '\' in a double-quoted scalar.
    fn escape(&mut self) -> Result<char> {
        let Some(c) = self.src.get(self.pos..).and_then(|s| s.chars().next()) else {
            return self.err("unterminated quoted scalar");
        };
        self.pos += c.len_utf8();
        let hex = match c {
            '0' => return Ok('\0'),
            'a' => return Ok('\u{7}'),
            'b' => return Ok('\u{8}'),
            't' | '\t' => return Ok('\t'),
            'n' => return Ok('\n'),
            'v' => return Ok('\u{b}'),
            'f' => return Ok('\u{c}'),
            'r' => return Ok('\r'),
            'e' => return Ok('\u{1b}'),
            ' ' | '"' | '/' | '\\' => return Ok(c),
            'N' => return Ok('\u{85}'),
            '_' => return Ok('\u{a0}'),
            'L' => return Ok('\u{2028}'),
            'P' => return Ok('\u{2029}'),
            'x' => 2,
            'u' => 4,
            'U' => 8,
            c => {
                let what = format!("unknown escape '\\{c}'");
                return Err(Error { line: self.line, what: what.into() });
            }
        };
        // from_str_radix alone would take a sign.
        let digits = self.src.get(self.pos..self.pos + hex).filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        let code = digits.and_then(|d| u32::from_str_radix(d, 16).ok());
        match code.and_then(char::from_u32) {
            Some(c) => {
                self.pos += hex;
                Ok(c)
            }
            None => self.err("a bad \\x, \\u or \\U escape"),
        }
    }

    /// `|` or `>`, its indicators, and the lines more indented than the
    /// block around it (`min` and up).
    fn block_scalar(&mut self, min: usize) -> Result<Node> {
        let line = self.line;
        let folded = self.peek() == Some(b'>');
        self.pos += 1;
        let (mut strip, mut keep, mut digit) = (false, false, None);
        for _ in 0..2 {
            match self.peek() {
                Some(b'-') if !strip && !keep => strip = true,
                Some(b'+') if !strip && !keep => keep = true,
                Some(d @ b'1'..=b'9') if digit.is_none() => digit = Some(usize::from(d - b'0')),
                _ => break,
            }
            self.pos += 1;
        }
        if !blank(self.peek()) {
            return self.err("after '|' or '>' only '-', '+' or a digit 1-9 may follow");
        }
        self.end_of_line()?;
        // At column 1 at least, as libyaml (and so go-yaml) reads it.
        let min = min.max(1);
        let mut indent = digit.map(|d| min + d - 1);
        let (mut out, mut empties, mut max_blank) = (String::new(), 0, 0);
        let (mut seen, mut prev_more, mut last_break) = (false, false, false);
        while self.pos < self.src.len() {
            let mut s = 0;
            while self.peek_at(s) == Some(b' ') {
                s += 1;
            }
            let is_blank = matches!(self.peek_at(s), None | Some(b'\n'));
            if s == 0 && self.at_marker() {
                break;
            }
            let i = match indent {
                Some(i) => i,
                None if is_blank => s + 1, // leading blank line: not yet known
                None if s < min => break,
                None if max_blank > s => return self.err("a leading empty line has more spaces than the text"),
                None => *indent.insert(s),
            };
            if is_blank && s <= i {
                // Only a line with its break is an empty line.
                empties += usize::from(self.peek_at(s).is_some());
                max_blank = max_blank.max(s);
                self.skip_line();
                continue;
            }
            if s < i {
                break;
            }
            let from = self.pos + i;
            self.pos = from;
            while !matches!(self.peek(), None | Some(b'\n')) {
                self.pos += 1;
            }
            let text = self.text(from, self.pos);
            let more = text.starts_with([' ', '\t']);
            let breaks = match seen {
                false => empties,
                true if folded && !more && !prev_more && empties == 0 => {
                    out.push(' ');
                    0
                }
                true if folded && !more && !prev_more => empties,
                true => empties + 1,
            };
            out.extend(std::iter::repeat_n('\n', breaks));
            out.push_str(text);
            (seen, prev_more, empties) = (true, more, 0);
            last_break = self.peek() == Some(b'\n');
            if last_break {
                self.newline();
            }
        }
        if seen && !strip && last_break {
            out.push('\n');
        }
        if keep {
            out.extend(std::iter::repeat_n('\n', empties));
        }
        self.node_at(line, Value::Scalar { text: out, quoted: true })
    }

    /// `[ ... ]` or `{ ... }`, across lines; `min` is for quoted scalars
    /// inside.
    fn flow(&mut self, min: usize, depth: usize) -> Result<Node> {
        self.deeper(depth)?;
        let line = self.line;
        let map = self.peek() == Some(b'{');
        let close = if map { b'}' } else { b']' };
        self.pos += 1;
        let (mut items, mut entries) = (Vec::new(), Vec::new());
        loop {
            self.flow_space()?;
            match self.peek() {
                None => return Err(Error { line, what: "unterminated [ or {".into() }),
                Some(b) if b == close => break,
                _ => {}
            }
            if map {
                let key = self.key(true)?;
                self.refuse_merge(&key)?;
                self.flow_space()?;
                if self.peek() != Some(b':') {
                    return self.err("expected ':' after the key");
                }
                self.pos += 1;
                self.flow_space()?;
                let value = match self.peek() {
                    Some(b',') => self.node_at(key.line, Value::Null)?,
                    Some(b) if b == close => self.node_at(key.line, Value::Null)?,
                    _ => self.node(min, depth + 1, true)?,
                };
                entries.push((key, value));
            } else {
                items.push(self.node(min, depth + 1, true)?);
            }
            self.flow_space()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b) if b == close => {}
                None => return Err(Error { line, what: "unterminated [ or {".into() }),
                Some(_) if map => return self.err("expected ',' or '}'"),
                Some(_) => return self.err("expected ',' or ']'"),
            }
        }
        self.pos += 1; // the closing bracket
        let value = if map {
            check_duplicates(&entries)?;
            Value::Map(entries)
        } else {
            Value::Seq(items)
        };
        self.node_at(line, value)
    }

    /// Blanks, line breaks and comments between flow tokens.
    fn flow_space(&mut self) -> Result<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'\n') => {
                    self.newline();
                    self.continuation(0)?;
                }
                // A comment needs a blank before it.
                Some(b'#') if self.after_blank() => {
                    while !matches!(self.peek(), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                _ => return Ok(()),
            }
        }
    }
}

const UNEXPECTED_INDENT: &str =
    "unexpected indentation (a plain value cannot continue on the next line: quote it, or use | or >)";
const INCONSISTENT: &str = "inconsistent indentation: no block above starts at this column";

/// By sorting, so a mapping of n keys costs n log n; the first repeat in
/// file order is named.
fn check_duplicates(entries: &[(Key, Node)]) -> Result<()> {
    let mut keys: Vec<(&str, usize)> = entries.iter().map(|(k, _)| (k.text.as_str(), k.line)).collect();
    heapsort(&mut keys);
    let repeat = keys.windows(2).filter_map(|w| match w {
        [a, b] if a.0 == b.0 => Some(*b),
        _ => None,
    });
    match repeat.min_by_key(|k| k.1) {
        Some((text, line)) => Err(Error { line, what: format!("duplicate key '{text}'").into() }),
        None => Ok(()),
    }
}

/// std's sorts cost 4 KB of code here; this one, a tenth.
fn heapsort(v: &mut [(&str, usize)]) {
    fn sift(v: &mut [(&str, usize)], mut root: usize) {
        loop {
            let mut child = 2 * root + 1;
            if v.get(child + 1) > v.get(child) {
                child += 1;
            }
            if child >= v.len() || v.get(root) >= v.get(child) {
                return;
            }
            v.swap(root, child);
            root = child;
        }
    }
    for i in (0..v.len() / 2).rev() {
        sift(v, i);
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift(v.get_mut(..end).unwrap_or_default(), 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The node at a '/'-separated path of keys and list indexes.
    fn at<'a>(node: &'a Node, path: &str) -> &'a Node {
        path.split('/').fold(node, |n, step| match step.parse::<usize>() {
            Ok(i) => &n.as_seq().unwrap_or_else(|| panic!("{step}: not a list"))[i],
            Err(_) => n.get(step).unwrap_or_else(|| panic!("no key {step}")),
        })
    }

    fn str_at<'a>(node: &'a Node, path: &str) -> &'a str {
        at(node, path).as_str().unwrap_or_else(|| panic!("{path}: not a scalar"))
    }

    fn keys(node: &Node) -> Vec<&str> {
        node.as_map().unwrap().iter().map(|(k, _)| k.text.as_str()).collect()
    }

    fn error(text: &str) -> Error {
        parse(text).expect_err(text)
    }

    // Written in the shape of blackbox_exporter's example.yml and
    // CONFIGURATION.md, with what operators add: comments, quoting styles,
    // flow collections across lines, block scalars.
    const BLACKBOX: &str = r#"# blackbox.yml of the relay boxes
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      valid_http_versions: ["HTTP/1.1", "HTTP/2.0"]
      valid_status_codes: []  # Defaults to 2xx
      method: GET
      headers:
        Host: vhost.example.com
        Accept-Language: en-US
      fail_if_body_not_matches_regexp:
        - "Download the latest version here"
      preferred_ip_protocol: "ip4" # defaults to "ip6"
      ip_protocol_fallback: false

  http_post_2xx:
    prober: http
    http:
      method: POST
      headers:
        Content-Type: application/json
      body: |
        {"query": "up",
          "limit": 1}
  tcp_connect:
    prober: tcp
    timeout: 5s
  pop3s_banner:
    prober: tcp
    tcp:
      query_response:
      - expect: "^+OK"
      tls: true
      tls_config:
        insecure_skip_verify: false
  ssh_banner:
    prober: tcp
    tcp:
      query_response:
        - expect: '^SSH-2.0-'
        - send: "SSH-2.0-sonde\r"
  smtp_starttls:
    prober: tcp
    tcp:
      query_response:
        - expect: "^220 .*ESMTP"
        - send: >-
            EHLO
            prober
        - starttls: true
  irc_banner:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - send: "NICK prober"
        - send: "USER prober prober prober :prober"
        - expect: "PING :([^ ]+)"
          send: "PONG ${1}"
        - expect: ^:[^ ]+ 001
  icmp:
    prober: icmp
    timeout: 5s
    icmp:
      preferred_ip_protocol: ip4
  dns_udp:
    prober: dns
    timeout: 5s
    dns:
      query_name: "www.prometheus.io"
      query_type: "A"
      valid_rcodes:
      - NOERROR
      validate_answer_rrs:
        fail_if_matches_regexp:
          - ".*127.0.0.1"
        fail_if_not_matches_regexp:
          - "www.prometheus.io.\t300\tIN\tA\t127.0.0.1"
      validate_authority_rrs:
        fail_if_matches_regexp: ['.*127.0.0.1']
  dns_soa:
    prober: dns
    dns: {query_name: "example.org.", query_type: SOA,
          valid_rcodes: [NOERROR], recursion_desired: true}
"#;

    #[test]
    fn parse_blackbox_modules() {
        let doc = parse(BLACKBOX).unwrap();
        let modules = at(&doc, "modules");
        assert_eq!(
            keys(modules),
            [
                "http_2xx",
                "http_post_2xx",
                "tcp_connect",
                "pop3s_banner",
                "ssh_banner",
                "smtp_starttls",
                "irc_banner",
                "icmp",
                "dns_udp",
                "dns_soa"
            ]
        );
        let http = at(modules, "http_2xx/http");
        assert_eq!(str_at(http, "valid_http_versions/1"), "HTTP/2.0");
        assert_eq!(at(http, "valid_status_codes").as_seq().unwrap().len(), 0);
        assert_eq!(keys(at(http, "headers")), ["Host", "Accept-Language"]);
        assert_eq!(str_at(http, "headers/Accept-Language"), "en-US");
        assert_eq!(str_at(http, "preferred_ip_protocol"), "ip4");
        assert_eq!(at(http, "ip_protocol_fallback").as_bool(), Some(false));
        // Lines are what an operator's editor shows.
        let (key, _) = &http.as_map().unwrap()[5];
        assert_eq!((key.text.as_str(), key.line), ("preferred_ip_protocol", 15));
        assert_eq!(at(modules, "http_post_2xx").line, 19);
        assert_eq!(str_at(modules, "http_post_2xx/http/body"), "{\"query\": \"up\",\n  \"limit\": 1}\n");

        let pop3s = at(modules, "pop3s_banner/tcp");
        assert_eq!(str_at(pop3s, "query_response/0/expect"), "^+OK");
        assert_eq!(at(pop3s, "tls").as_bool(), Some(true));
        assert_eq!(at(pop3s, "tls_config/insecure_skip_verify").as_bool(), Some(false));

        assert_eq!(str_at(modules, "ssh_banner/tcp/query_response/0/expect"), "^SSH-2.0-");
        assert_eq!(str_at(modules, "ssh_banner/tcp/query_response/1/send"), "SSH-2.0-sonde\r");
        let smtp = at(modules, "smtp_starttls/tcp/query_response");
        assert_eq!(str_at(smtp, "0/expect"), "^220 .*ESMTP");
        assert_eq!(str_at(smtp, "1/send"), "EHLO prober");
        assert_eq!(at(smtp, "2/starttls").as_bool(), Some(true));

        let irc = at(modules, "irc_banner/tcp/query_response");
        assert_eq!(irc.as_seq().unwrap().len(), 4);
        assert_eq!(keys(at(irc, "2")), ["expect", "send"]);
        assert_eq!(str_at(irc, "2/send"), "PONG ${1}");
        assert_eq!(str_at(irc, "1/send"), "USER prober prober prober :prober");
        assert_eq!(str_at(irc, "3/expect"), "^:[^ ]+ 001");

        assert_eq!(str_at(modules, "icmp/icmp/preferred_ip_protocol"), "ip4");
        let dns = at(modules, "dns_udp/dns");
        assert_eq!(str_at(dns, "valid_rcodes/0"), "NOERROR");
        assert_eq!(
            str_at(dns, "validate_answer_rrs/fail_if_not_matches_regexp/0"),
            "www.prometheus.io.\t300\tIN\tA\t127.0.0.1"
        );
        assert_eq!(str_at(dns, "validate_authority_rrs/fail_if_matches_regexp/0"), ".*127.0.0.1");
        let soa = at(modules, "dns_soa/dns");
        assert_eq!(keys(soa), ["query_name", "query_type", "valid_rcodes", "recursion_desired"]);
        assert_eq!(str_at(soa, "query_name"), "example.org.");
        assert_eq!(at(soa, "recursion_desired").as_bool(), Some(true));
        assert_eq!(at(soa, "valid_rcodes").line, 86);
    }

    // In the shape of exporter-toolkit's docs/web-configuration.md; the
    // hashes are made-up bcrypt-shaped strings.
    const WEB_CONFIG: &str = r#"---
tls_server_config:
  cert_file: /etc/sonde/tls/server.crt
  key_file: /etc/sonde/tls/server.key
  client_auth_type: "RequireAndVerifyClientCert"
  client_allowed_sans: ["monitor.example.net"]
  min_version: TLS12
  cipher_suites:
    - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
  curve_preferences: [X25519, CurveP256]
  client_ca: |
    -----BEGIN CERTIFICATE-----
    MIIBszCCAVmgAwIBAgIUY2FmZQ==
    -----END CERTIFICATE-----
http_server_config:
  http2: true
  headers:
    Content-Security-Policy: "default-src 'self'"
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000; includeSubDomains
# bcrypt, cost 10
basic_auth_users:
  alice: $2y$10$Q8vSxVxW3pQ0bJ1zZ9y1sO4l8cN2dW7mJpVqkR5tY6uI3oP0aS1dF
  bob: '$2y$10$zY.x/W9vU8tS7rQ6pO5nMeL4kJ3iH2gF1eD0cB9aZ8yX7wV6uT5sR'
rate_limit:
  interval: "1s" # time between two requests
  burst: 20
...
"#;

    #[test]
    fn parse_web_config() {
        let doc = parse(WEB_CONFIG).unwrap();
        assert_eq!(keys(&doc), ["tls_server_config", "http_server_config", "basic_auth_users", "rate_limit"]);
        let tls = at(&doc, "tls_server_config");
        assert_eq!(str_at(tls, "client_auth_type"), "RequireAndVerifyClientCert");
        assert_eq!(str_at(tls, "cipher_suites/1"), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(str_at(tls, "curve_preferences/0"), "X25519");
        assert_eq!(
            str_at(tls, "client_ca"),
            "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUY2FmZQ==\n-----END CERTIFICATE-----\n"
        );
        let headers = at(&doc, "http_server_config/headers");
        assert_eq!(str_at(headers, "Content-Security-Policy"), "default-src 'self'");
        assert_eq!(str_at(headers, "Strict-Transport-Security"), "max-age=31536000; includeSubDomains");
        // Byte-exact, '$' and '/' and '.' included, plain or quoted.
        let users = at(&doc, "basic_auth_users");
        assert_eq!(str_at(users, "alice"), "$2y$10$Q8vSxVxW3pQ0bJ1zZ9y1sO4l8cN2dW7mJpVqkR5tY6uI3oP0aS1dF");
        assert_eq!(str_at(users, "bob"), "$2y$10$zY.x/W9vU8tS7rQ6pO5nMeL4kJ3iH2gF1eD0cB9aZ8yX7wV6uT5sR");
        assert_eq!(users.as_map().unwrap()[1].0.line, 25);
        assert_eq!(str_at(&doc, "rate_limit/interval"), "1s");
        assert_eq!(at(&doc, "rate_limit/burst").as_int(), Some(20));
    }

    #[test]
    fn refused_constructs_name_their_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("a: 1\nb: &x 2\n", 2, "anchors"),
            ("a: 1\nb: *x\n", 2, "aliases"),
            ("a: 1\nb: !!str 2\n", 2, "tags"),
            ("a: [1, !x 2]\n", 1, "tags"),
            ("%YAML 1.2\n---\na: 1\n", 1, "directives"),
            ("base: {x: 1}\nm:\n  <<: {y: 2}\n", 3, "merge keys"),
            ("a: 1\n? b\n: c\n", 2, "complex keys"),
            ("a: 1\n---\nb: 2\n", 2, "second document"),
            ("a: 1\n...\nb: 2\n", 3, "second document"),
            ("a:\n\tb: 1\n", 2, "tab in indentation"),
            ("a:\n  b: 1\n \t c: 2\n", 3, "tab in indentation"),
            ("a:\n    b: 1\n  c: 2\n", 3, "inconsistent indentation"),
            ("a:\n- x\n  - y\n", 3, "unexpected indentation"),
            ("a: one\n  two\n", 2, "cannot continue"),
            ("[a]: 1\n", 1, "key must be a scalar"),
            ("x: 1\n{a: 1}: 2\n", 2, "key must be a scalar"),
            ("{[a]: 1}\n", 1, "key must be a scalar"),
            ("a:\n  b: c: d\n", 2, "unexpected ':'"),
            ("a: - b\n", 1, "list cannot start"),
            ("a:\n  - x\n  b: 1\n", 3, "expected a list item"),
            ("a: 1\n- b\n", 2, "list item"),
            ("a: \"x\\qy\"\n", 1, "unknown escape '\\q'"),
            ("a: \"\\x4g\"\n", 1, "bad \\x"),
            ("a: \"\\uD800\"\n", 1, "bad \\x"),
            ("a: 1\nb: \"open\n", 2, "unterminated"),
            ("a: 1\nb: [1,\n  2\n", 2, "unterminated"),
            ("a: [1,\n---\n]\n", 2, "document marker"),
            ("a: 1\nb: [[1] 2]\n", 2, "expected ','"),
            ("a: 'x\nb: 1'\n", 2, "indented more than its key"),
            ("a: 'x\n# y'\n", 2, "indented more than its key"),
            ("a: |x\n", 1, "after '|'"),
            ("a: [|\n  x]\n", 1, "block scalars"),
            ("a: @x\n", 1, "cannot start with '@'"),
            ("a: 1\n: 2\n", 2, "key is missing"),
            ("a: \"x\"#c\n", 1, "unexpected text"),
            ("a: 1\r\nb: 2\rc: 3\n", 2, "carriage return"),
            ("a: \u{7}\n", 1, "control character"),
            ("a: 1\nb: \u{feff}x\n", 2, "byte order mark"),
        ];
        for &(text, line, what) in cases {
            let e = error(text);
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.what.contains(what), "{text:?}: {e}");
        }
    }

    #[test]
    fn duplicate_keys_are_named() {
        let e = error("modules:\n  icmp:\n    prober: icmp\n  tcp:\n    prober: tcp\n  icmp:\n    prober: dns\n");
        assert_eq!((e.line, e.to_string().as_str()), (6, "line 6: duplicate key 'icmp'"));
        assert_eq!(error("dns: {query_name: a, query_name: b}\n").line, 1);
        // The first repeat in file order, whatever the keys sort as.
        assert_eq!(error("z: 1\na: 1\nz: 2\na: 2\n").line, 3);
        // Same text, different style: one key.
        assert!(parse("a: 1\n'a': 2\n").is_err());
    }

    #[test]
    fn heapsort_sorts_as_std_does() {
        let words = ["b", "a", "c", "a", "", "bb", "a"];
        let mut seed = 7u32;
        for len in 0..60 {
            let mut v: Vec<(&str, usize)> = (0..len)
                .map(|i| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (words[(seed >> 16) as usize % words.len()], i % 5)
                })
                .collect();
            let mut want = v.clone();
            want.sort();
            heapsort(&mut v);
            assert_eq!(v, want);
        }
    }

    #[test]
    fn empty_comment_only_and_markers_only_are_null() {
        for text in ["", "\n\n", "# nothing here\n  # indented\n", "---\n", "--- # c\n...\n", "..."] {
            assert_eq!(parse(text), Ok(Node { line: 1, value: Value::Null }), "{text:?}");
        }
    }

    #[test]
    fn crlf_and_bom_are_read() {
        let doc = parse("\u{feff}a: 1\r\nb:\r\n  - x # c\r\nc: |\r\n  two\r\n  lines\r\n").unwrap();
        assert_eq!(at(&doc, "a").as_int(), Some(1));
        assert_eq!(str_at(&doc, "b/0"), "x");
        assert_eq!(str_at(&doc, "c"), "two\nlines\n");
        assert_eq!(at(&doc, "c").line, 4);
    }

    #[test]
    fn scalars_keep_whether_they_were_quoted() {
        let doc = parse(
            "a: true\nb: \"true\"\nc: ~\nd: null\ne:\nf: 'null'\ng: -12\nh: 1.5e3\ni: .inf\nj: 0x1F\nk: |\n  true\n",
        )
        .unwrap();
        assert_eq!(at(&doc, "a").as_bool(), Some(true));
        assert_eq!(at(&doc, "b").as_bool(), None);
        assert_eq!(str_at(&doc, "b"), "true");
        assert!(at(&doc, "c").is_null() && at(&doc, "d").is_null() && at(&doc, "e").is_null());
        assert_eq!(at(&doc, "e").line, 5);
        assert_eq!(str_at(&doc, "f"), "null");
        assert_eq!(at(&doc, "g").as_int(), Some(-12));
        assert_eq!(at(&doc, "g").as_f64(), Some(-12.0));
        assert_eq!(at(&doc, "h").as_f64(), Some(1500.0));
        assert_eq!(at(&doc, "h").as_int(), None);
        assert_eq!(at(&doc, "i").as_f64(), None);
        assert_eq!(at(&doc, "j").as_int(), None);
        assert_eq!(at(&doc, "k").as_bool(), None);
        assert_eq!(at(&doc, "k").type_name(), "a scalar");
    }

    #[test]
    fn quoted_scalars_fold_and_escape() {
        let doc = parse(concat!(
            "a: \"one\n   two  \n\n   three\"\n",
            "b: 'it''s \"x\"'\n",
            "c: \"\\\\ \\\" \\0\\x41\\u00e9\\U0001F600 \\/ \\N\\_\\L\\P\"\n",
            "d: \"joined\\\n   here\"\n",
            "e: \"keep \\t\n  tab\"\n",
            "f: \"a\\\\b\" # c\n",
        ))
        .unwrap();
        assert_eq!(str_at(&doc, "a"), "one two\nthree");
        assert_eq!(str_at(&doc, "b"), "it's \"x\"");
        // \L and \P grow: 2 bytes in, 3 out, the most any input grows.
        assert_eq!(str_at(&doc, "c"), "\\ \" \0A\u{e9}\u{1F600} / \u{85}\u{a0}\u{2028}\u{2029}");
        assert_eq!(str_at(&doc, "d"), "joinedhere");
        assert_eq!(str_at(&doc, "e"), "keep \t tab");
        assert_eq!(str_at(&doc, "f"), "a\\b");
    }

    #[test]
    fn block_scalars_chomp_and_fold() {
        let doc = parse(concat!(
            "clip: |\n  a\n   b\n\n\nstrip: |-\n  a\n\nkeep: |+\n  a\n\n",
            "folded: >\n  one\n  two\n\n  three\n    code\n  four\n",
            "digit: |2\n    indented\n  base\n",
            "empty: |\nlast: >+\n  x",
        ))
        .unwrap();
        assert_eq!(str_at(&doc, "clip"), "a\n b\n");
        assert_eq!(str_at(&doc, "strip"), "a");
        assert_eq!(str_at(&doc, "keep"), "a\n\n");
        assert_eq!(str_at(&doc, "folded"), "one two\nthree\n  code\nfour\n");
        assert_eq!(str_at(&doc, "digit"), "  indented\nbase\n");
        assert_eq!(str_at(&doc, "empty"), "");
        assert_eq!(str_at(&doc, "last"), "x");
        assert_eq!(at(&doc, "keep").line, 9);
    }

    #[test]
    fn lists_nest_compactly_and_at_their_keys_column() {
        let doc = parse("a:\n- - x\n  - y\n- k: 1\n  l: [2, {m: 3}]\n-\nb: end\n").unwrap();
        assert_eq!(str_at(&doc, "a/0/1"), "y");
        assert_eq!(at(&doc, "a/1/l/1/m").as_int(), Some(3));
        assert!(at(&doc, "a/2").is_null());
        assert_eq!(at(&doc, "a/2").line, 6);
        assert_eq!(str_at(&doc, "b"), "end");
        // A scalar document, and a flow one across lines.
        assert_eq!(parse("--- plain text\n").unwrap().as_str(), Some("plain text"));
        let flow = parse("[a, # c\n  'b',\n\n  {c: d},\n]\n").unwrap();
        assert_eq!(at(&flow, "2").line, 4);
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(error(&deep).what.contains("nested deeper"));
        let huge = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(error(&huge).what.contains("nested deeper"));
        let block: String = (0..40).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
        let e = error(&block);
        assert_eq!((e.line, e.what.contains("nested deeper")), (MAX_DEPTH + 1, true));
        let dashes = format!("{}x\n", "- ".repeat(40));
        assert!(error(&dashes).what.contains("nested deeper"));
    }

    #[test]
    fn size_and_node_count_are_bounded() {
        let many = format!("[{}]", "0,".repeat(MAX_NODES));
        assert!(error(&many).what.contains("nodes"));
        let big = "#".repeat(MAX_INPUT + 1);
        assert_eq!(error(&big).line, 0);
    }

    #[test]
    fn truncated_files_never_panic() {
        for text in [BLACKBOX, WEB_CONFIG] {
            for (n, _) in text.char_indices() {
                let _ = parse(&text[..n]);
            }
        }
    }
}
