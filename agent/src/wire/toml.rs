//! The config file's syntax: a small subset of TOML, parsed by hand.
//!
//! What it reads:
//!
//! ```toml
//! # comments, on their own line or after a value
//! [section]                 # a table
//! [[check]]                 # one more element of an array of tables
//! key = "string"            # basic string: \" \\ \n \t \r \uXXXX escapes
//! key = 'literal'           # literal string, no escapes
//! key = 42                  # integer (underscores allowed), or 1.5
//! key = true                # or false
//! key = ["a", "b",          # arrays, of any of the above, may span lines
//!        "c"]
//! ```
//!
//! What it refuses, with an error rather than a guess: inline tables,
//! multi-line strings, dates, dotted keys, keys before the first section
//! header that collide, duplicate keys, duplicate sections. A full TOML
//! crate costs more than the rest of the config code together, and the
//! config needs none of those.
//!
//! Invariants: every error names its line; parsing goes on after an error
//! so one run reports all of them; input is bounded by the caller
//! (the config layer's `MAX_CONFIG_FILE`) and nesting of arrays by
//! [`MAX_DEPTH`], so no input can recurse without bound.

use std::fmt;

/// Arrays nested deeper than this are refused.
pub const MAX_DEPTH: usize = 8;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<Value>),
}

impl Value {
    /// The type's name as a message says it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Array(_) => "an array",
        }
    }
}

/// `[name]` or `[[name]]`, or the unnamed part before the first header.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// Empty for the top of the file.
    pub name: String,
    /// `[[name]]`: one element of an array of tables.
    pub array: bool,
    pub line: usize,
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: Value,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parses a whole file. On success, the sections in file order (the first
/// is the unnamed top). On failure, every error found, in line order.
pub fn parse(text: &str) -> Result<Vec<Section>, Vec<Error>> {
    let mut p = Parser { text, pos: 0, line: 1, errors: Vec::new() };
    let mut sections = vec![Section { name: String::new(), array: false, line: 1, entries: Vec::new() }];
    while !p.at_end() {
        p.skip_blank();
        if p.at_end() {
            break;
        }
        let line = p.line;
        let result = if p.peek() == Some('[') {
            p.section_header().map(|(name, array)| {
                let dup = !array && sections.iter().any(|s| s.name == name && !s.array);
                let clash = sections.iter().any(|s| s.name == name && s.array != array);
                if dup {
                    p.error(line, format!("section [{name}] appears twice"));
                } else if clash {
                    p.error(line, format!("[{name}] is used both as a table and an array of tables"));
                }
                sections.push(Section { name, array, line, entries: Vec::new() });
            })
        } else {
            p.key_value().map(|(key, value)| {
                let section = sections.last_mut().map(|s| &mut s.entries);
                if let Some(entries) = section {
                    if entries.iter().any(|e| e.key == key) {
                        p.error(line, format!("key '{key}' appears twice in this section"));
                    }
                    entries.push(Entry { key, value, line });
                }
            })
        };
        if result.is_err() {
            p.skip_line();
        }
    }
    if p.errors.is_empty() {
        Ok(sections)
    } else {
        Err(p.errors)
    }
}

/// Marker that an error was recorded and the rest of the line is to be
/// skipped.
struct Recorded;

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    errors: Vec<Error>,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn error(&mut self, line: usize, message: String) {
        self.errors.push(Error { line, message });
    }

    fn fail<T>(&mut self, message: impl Into<String>) -> Result<T, Recorded> {
        let line = self.line;
        self.error(line, message.into());
        Err(Recorded)
    }

    /// Spaces and tabs only.
    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
    }

    /// Whitespace, newlines and comments.
    fn skip_blank(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r' | '\n') => {
                    self.bump();
                }
                Some('#') => self.skip_line(),
                _ => return,
            }
        }
    }

    /// To the start of the next line.
    fn skip_line(&mut self) {
        while let Some(c) = self.bump() {
            if c == '\n' {
                return;
            }
        }
    }

    /// After a header or value: spaces, an optional comment, then the end
    /// of the line or file.
    fn end_of_line(&mut self) -> Result<(), Recorded> {
        self.skip_spaces();
        match self.peek() {
            None => Ok(()),
            Some('#') => {
                self.skip_line();
                Ok(())
            }
            Some('\r' | '\n') => {
                if self.peek() == Some('\r') {
                    self.bump();
                }
                if self.peek() == Some('\n') {
                    self.bump();
                    Ok(())
                } else {
                    self.fail("a lone carriage return")
                }
            }
            Some(c) => self.fail(format!("unexpected '{c}' after the value; one key = value per line")),
        }
    }

    fn bare_key(&mut self) -> Result<String, Recorded> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            self.bump();
        }
        if self.pos == start {
            return match self.peek() {
                Some('"' | '\'') => self.fail("quoted keys are not supported; use letters, digits, _ and -"),
                Some(c) => self.fail(format!("expected a key, found '{c}'")),
                None => self.fail("expected a key"),
            };
        }
        Ok(self.text[start..self.pos].to_owned())
    }

    fn section_header(&mut self) -> Result<(String, bool), Recorded> {
        self.bump(); // '['
        let array = self.peek() == Some('[');
        if array {
            self.bump();
        }
        self.skip_spaces();
        let mut name = self.bare_key()?;
        while self.peek() == Some('.') {
            self.bump();
            name.push('.');
            name.push_str(&self.bare_key()?);
        }
        self.skip_spaces();
        let close = if array { "]]" } else { "]" };
        if !self.text[self.pos..].starts_with(close) {
            return self.fail(format!("expected '{close}' to close the section header"));
        }
        for _ in 0..close.len() {
            self.bump();
        }
        self.end_of_line()?;
        Ok((name, array))
    }

    fn key_value(&mut self) -> Result<(String, Value), Recorded> {
        let key = self.bare_key()?;
        self.skip_spaces();
        if self.peek() == Some('.') {
            return self.fail(format!("dotted keys are not supported; put '{key}' under a [section]"));
        }
        if self.peek() != Some('=') {
            return self.fail(format!("expected '=' after '{key}'"));
        }
        self.bump();
        self.skip_spaces();
        let value = self.value(0)?;
        self.end_of_line()?;
        Ok((key, value))
    }

    fn value(&mut self, depth: usize) -> Result<Value, Recorded> {
        match self.peek() {
            Some('"') => self.basic_string().map(Value::Str),
            Some('\'') => self.literal_string().map(Value::Str),
            Some('[') => self.array(depth),
            Some('{') => self.fail("inline tables are not supported; use a [section]"),
            Some('t' | 'f') => self.boolean(),
            Some(c) if c.is_ascii_digit() || c == '+' || c == '-' => self.number(),
            Some('\n' | '\r') | None => self.fail("missing value after '='"),
            Some(c) => self.fail(format!("unexpected '{c}'; strings need quotes")),
        }
    }

    fn basic_string(&mut self) -> Result<String, Recorded> {
        if self.text[self.pos..].starts_with("\"\"\"") {
            return self.fail("multi-line strings are not supported");
        }
        self.bump();
        let mut s = String::new();
        loop {
            if matches!(self.peek(), None | Some('\n')) {
                return self.fail("unterminated string");
            }
            match self.bump() {
                None => return self.fail("unterminated string"),
                Some('"') => return Ok(s),
                Some('\\') => match self.bump() {
                    Some('"') => s.push('"'),
                    Some('\\') => s.push('\\'),
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('r') => s.push('\r'),
                    Some('u') => {
                        let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
                        let c = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                        match c {
                            Some(c) if hex.len() == 4 => {
                                s.push(c);
                                self.pos += 4;
                            }
                            _ => return self.fail("bad \\u escape; four hex digits expected"),
                        }
                    }
                    Some(c) => return self.fail(format!("unknown escape '\\{c}'")),
                    None => return self.fail("unterminated string"),
                },
                Some(c) if c.is_control() && c != '\t' => {
                    return self.fail("control character in a string");
                }
                Some(c) => s.push(c),
            }
        }
    }

    fn literal_string(&mut self) -> Result<String, Recorded> {
        self.bump();
        let start = self.pos;
        loop {
            match self.peek() {
                None | Some('\n') => return self.fail("unterminated string"),
                Some('\'') => {
                    self.bump();
                    return Ok(self.text[start..self.pos - 1].to_owned());
                }
                Some(_) => {
                    self.bump();
                }
            }
        }
    }

    fn boolean(&mut self) -> Result<Value, Recorded> {
        for (word, v) in [("true", true), ("false", false)] {
            if self.text[self.pos..].starts_with(word) {
                let after = self.text[self.pos + word.len()..].chars().next();
                if !matches!(after, Some(c) if c.is_ascii_alphanumeric() || c == '_') {
                    self.pos += word.len();
                    return Ok(Value::Bool(v));
                }
            }
        }
        self.fail("unexpected word; strings need quotes, booleans are true or false")
    }

    fn number(&mut self) -> Result<Value, Recorded> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || "+-._".contains(c)) {
            self.bump();
        }
        let raw = &self.text[start..self.pos];
        let clean: String = raw.chars().filter(|&c| c != '_').collect();
        if raw.contains("__") || raw.ends_with('_') || raw.starts_with('_') {
            return self.fail(format!("'{raw}' is not a number"));
        }
        if let Ok(i) = clean.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        let is_float = clean.contains(['.', 'e', 'E'])
            && clean.trim_start_matches(['+', '-']).starts_with(|c: char| c.is_ascii_digit());
        match super::float::parse(&clean) {
            Some(f) if is_float && f.is_finite() => Ok(Value::Float(f)),
            _ => self.fail(format!("'{raw}' is not a number; strings need quotes (\"{raw}\")")),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, Recorded> {
        if depth >= MAX_DEPTH {
            return self.fail(format!("arrays nested deeper than {MAX_DEPTH}"));
        }
        let open_line = self.line;
        self.bump(); // '['
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                None => {
                    self.error(open_line, "unterminated array: missing ']'".into());
                    return Err(Recorded);
                }
                Some(']') => {
                    self.bump();
                    return Ok(Value::Array(items));
                }
                _ => {}
            }
            items.push(self.value(depth + 1)?);
            self.skip_blank();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(']') => {}
                None => {
                    self.error(open_line, "unterminated array: missing ']'".into());
                    return Err(Recorded);
                }
                Some(c) => return self.fail(format!("expected ',' or ']' in the array, found '{c}'")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Vec<(String, String, Value)> {
        parse(text)
            .unwrap()
            .into_iter()
            .flat_map(|s| {
                let name = s.name.clone();
                s.entries.into_iter().map(move |e| (name.clone(), e.key, e.value))
            })
            .collect()
    }

    #[test]
    fn reads_the_subset() {
        let text = r#"
# comment
top = 1
[server]
listen = ["0.0.0.0:9858", '[::]:9858',   # trailing comment
          ]
name = "a \"q\" \\ \u00e9"   # comment
big = 1_000
neg = -5
f = 2.5
on = true
off = false
[[check]]
name = "x"
[[check]]
name = "y"
"#;
        let got = entries(text);
        assert_eq!(got[0], ("".into(), "top".into(), Value::Int(1)));
        assert_eq!(got[1].2, Value::Array(vec![Value::Str("0.0.0.0:9858".into()), Value::Str("[::]:9858".into())]));
        assert_eq!(got[2].2, Value::Str("a \"q\" \\ é".into()));
        assert_eq!(got[3].2, Value::Int(1000));
        assert_eq!(got[4].2, Value::Int(-5));
        assert_eq!(got[5].2, Value::Float(2.5));
        assert_eq!(got[6].2, Value::Bool(true));
        assert_eq!(got[7].2, Value::Bool(false));
        let sections = parse(text).unwrap();
        assert_eq!(sections.iter().filter(|s| s.name == "check" && s.array).count(), 2);
        assert_eq!(sections[1].line, 4);
    }

    #[test]
    fn every_error_is_reported_with_its_line() {
        let text = "a = 1\nb = unquoted\nc = \"open\nd = 2\n[bad\ne = {x = 1}\na = 3\n";
        let errors = parse(text).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 5, 6, 7], "{errors:?}");
    }

    #[test]
    fn duplicate_sections_and_keys_are_errors() {
        assert!(parse("[a]\nx = 1\n[a]\n").is_err());
        assert!(parse("[a]\nx = 1\nx = 2\n").is_err());
        assert!(parse("[[a]]\nx = 1\n[[a]]\nx = 2\n").is_ok());
        assert!(parse("[a]\n[[a]]\n").is_err());
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let deep = format!("x = {}{}", "[".repeat(10_000), "]".repeat(10_000));
        let errors = parse(&deep).unwrap_err();
        assert!(errors[0].message.contains("nested deeper"));
    }

    #[test]
    fn unterminated_array_points_at_its_opening_line() {
        let errors = parse("a = 1\nb = [1,\n2,\n").unwrap_err();
        assert_eq!(errors[0].line, 2);
    }

    #[test]
    fn numbers_and_words_are_told_apart() {
        assert!(parse("x = 5s").is_err());
        assert!(parse("x = 1__0").is_err());
        assert!(parse("x = truely").is_err());
        assert!(parse("x = nan").is_err());
        assert_eq!(entries("x = 9223372036854775807")[0].2, Value::Int(i64::MAX));
        assert!(parse("x = 9223372036854775808").is_err());
    }

    #[test]
    fn crlf_line_ends_are_accepted() {
        assert_eq!(entries("[a]\r\nx = 1\r\n")[0].2, Value::Int(1));
    }
}
