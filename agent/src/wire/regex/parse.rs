//! RE2's syntax read into a tree of [`Node`]s.
//!
//! Every character set is resolved here, flags and case folding included,
//! into code-point ranges kept in one table the program shares. A
//! construct this parser does not know is an error that names it: it
//! never reads as something else, so a pattern that compiles means here
//! what it means to Go, but that `(?i)` folds ASCII letters only.
//!
//! Bounded: groups nest at most [`MAX_NEST`] deep, a repetition may not
//! repeat a repetition (as in Go), and a count is at most 1000 (as in
//! RE2), so the tree and the recursion over it stay small.

/// Deepest nesting of groups in a pattern.
const MAX_NEST: u32 = 64;

/// Largest count in `{n,m}`, RE2's.
const MAX_COUNT: u32 = 1000;

/// Largest code point; ranges are over `u32` so that complementing one
/// needs no care for the surrogates, which no `char` is.
const MAX: u32 = 0x10_FFFF;

/// A pattern's parts.
pub enum Node {
    /// Matches the empty string.
    Empty,
    /// One character out of `sets[from..to]` (none when empty).
    Set(u32, u32),
    Look(Look),
    /// Capture group `index` (its slots are `2 * index` and the next).
    Group(u32, Box<Node>),
    Concat(Vec<Node>),
    /// The first branch that leads to a match wins.
    Alt(Vec<Node>),
    Repeat {
        sub: Box<Node>,
        min: u32,
        max: Option<u32>,
        greedy: bool,
    },
}

/// The empty-width assertions.
#[derive(Clone, Copy)]
pub enum Look {
    /// `\A`, `^` without `m`.
    Start,
    /// `\z`, `$` without `m`.
    End,
    /// `^` with `m`: the start or after a `\n`.
    LineStart,
    /// `$` with `m`: the end or before a `\n`.
    LineEnd,
    /// `\b`: between an ASCII word character and anything else.
    Word,
    /// `\B`.
    NotWord,
}

impl Look {
    /// Whether it holds at byte offset `at` of `text`.
    pub fn holds(self, text: &[u8], at: usize) -> bool {
        let word =
            |i: Option<usize>| i.and_then(|i| text.get(i)).is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_');
        match self {
            Look::Start => at == 0,
            Look::End => at == text.len(),
            Look::LineStart => at == 0 || text[at - 1] == b'\n',
            Look::LineEnd => text.get(at).is_none_or(|&b| b == b'\n'),
            Look::Word => word(at.checked_sub(1)) != word(Some(at)),
            Look::NotWord => word(at.checked_sub(1)) == word(Some(at)),
        }
    }
}

/// A parsed pattern.
pub struct Parsed {
    pub root: Node,
    /// The ranges every [`Node::Set`] points into.
    pub sets: Vec<(u32, u32)>,
    /// Each group's name, by index; group 0 is the whole match.
    pub names: Vec<Option<Box<str>>>,
}

// The flags, as bits.
const I: u8 = 1;
const M: u8 = 2;
const S: u8 = 4;
const U: u8 = 8;

/// What an escape stands for.
enum Item {
    Char(char),
    Set(Vec<(u32, u32)>),
    Look(Look),
}

/// Reads `pattern`, or says what in it is wrong (one line).
pub fn parse(pattern: &str) -> Result<Parsed, String> {
    let mut p = Parser { s: pattern, pos: 0, flags: 0, depth: 0, sets: Vec::new(), names: vec![None] };
    let root = p.alternation()?;
    if p.pos < p.s.len() {
        return Err("unmatched ')'".into());
    }
    Ok(Parsed { root, sets: p.sets, names: p.names })
}

struct Parser<'p> {
    s: &'p str,
    pos: usize,
    flags: u8,
    depth: u32,
    sets: Vec<(u32, u32)>,
    names: Vec<Option<Box<str>>>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, prefix: &str) -> bool {
        let found = self.s[self.pos..].starts_with(prefix);
        if found {
            self.pos += prefix.len();
        }
        found
    }

    fn on(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Branches up to the end or the `)` that closes the group (left for
    /// the caller).
    fn alternation(&mut self) -> Result<Node, String> {
        let mut branches = Vec::new();
        let mut items = Vec::new();
        // Whether the last item is a repetition, which Go refuses to repeat.
        let mut repeated = false;
        while let Some(c) = self.peek() {
            let start = self.pos;
            let mut repetition = false;
            match c {
                ')' => break,
                '|' => {
                    self.pos += 1;
                    branches.push(concat(std::mem::take(&mut items)));
                }
                '*' | '+' | '?' | '{' => {
                    self.pos += 1;
                    let (min, max) = match c {
                        '*' => (0, None),
                        '+' => (1, None),
                        '?' => (0, Some(1)),
                        _ => self.counts()?,
                    };
                    let greedy = self.eat("?") == self.on(U);
                    let op = &self.s[start..self.pos];
                    let Some(sub) = items.pop() else { return Err(fail(op, "repeats nothing")) };
                    if repeated {
                        return Err(fail(op, "repeats a repetition; group it with (?:...) first"));
                    }
                    items.push(match (min, max) {
                        (0, Some(0)) => Node::Empty,
                        (1, Some(1)) => sub,
                        _ => Node::Repeat { sub: Box::new(sub), min, max, greedy },
                    });
                    repetition = true;
                }
                '(' => {
                    self.pos += 1;
                    match self.group()? {
                        Some(group) => items.push(group),
                        // A flag directive adds nothing to repeat.
                        None => repetition = repeated,
                    }
                }
                '[' => {
                    self.pos += 1;
                    let set = self.class()?;
                    items.push(set);
                }
                _ => {
                    let atom = self.atom()?;
                    items.push(atom);
                }
            }
            repeated = repetition;
        }
        branches.push(concat(items));
        Ok(if branches.len() == 1 { branches.swap_remove(0) } else { Node::Alt(branches) })
    }

    /// `{n}`, `{n,}` or `{n,m}`, after the `{`.
    fn counts(&mut self) -> Result<(u32, Option<u32>), String> {
        let start = self.pos - 1;
        let min = self.count()?;
        let max = match self.eat(",") {
            false => Some(min),
            true if self.peek() == Some('}') => None,
            true => Some(self.count()?),
        };
        match (min, max) {
            (Some(min), Some(Some(max))) if min <= max && self.eat("}") => Ok((min, Some(max))),
            (Some(min), None) if self.eat("}") => Ok((min, None)),
            _ => {
                let end = self.s[start..].find('}').map_or(self.s.len(), |i| start + i + 1);
                Err(fail(&self.s[start..end], "invalid repetition; write {n}, {n,} or {n,m}, or \\{ for a brace"))
            }
        }
    }

    /// Decimal digits, if any.
    fn count(&mut self) -> Result<Option<u32>, String> {
        let digits = self.s[self.pos..].bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Ok(None);
        }
        let text = &self.s[self.pos..self.pos + digits];
        self.pos += digits;
        match text.parse() {
            Ok(n) if n <= MAX_COUNT => Ok(Some(n)),
            _ => Err(fail(text, "repetition count over 1000")),
        }
    }

    /// A group or a flag directive, after the `(`; None for a directive,
    /// whose flags then hold to the end of the enclosing group.
    fn group(&mut self) -> Result<Option<Node>, String> {
        self.depth += 1;
        if self.depth > MAX_NEST {
            return Err("groups nested more than 64 deep".into());
        }
        let outer = self.flags;
        let start = self.pos;
        let mut index = None;
        if let Some(look) = ["(?=", "(?!", "(?<=", "(?<!"].into_iter().find(|p| self.s[start - 1..].starts_with(p)) {
            return Err(fail(look, "look-around is not supported"));
        } else if self.eat("?P<") || self.eat("?<") {
            let len = self.s[self.pos..].find('>').ok_or("unclosed group name (missing '>')")?;
            let name = &self.s[self.pos..self.pos + len];
            self.pos += len + 1;
            let valid = |(i, c): (usize, char)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
            if name.is_empty() || !name.char_indices().all(valid) {
                return Err(fail(name, "invalid group name; use letters, digits and _"));
            }
            if self.names.iter().any(|n| n.as_deref() == Some(name)) {
                return Err(fail(name, "duplicate group name"));
            }
            index = Some(Some(name.into()));
        } else if self.eat("?") {
            let mut on = true;
            let mut last = '?';
            loop {
                let c = self.bump().unwrap_or('\n');
                let bit = match c {
                    'i' => I,
                    'm' => M,
                    's' => S,
                    'U' => U,
                    '-' if on => 0,
                    ':' | ')' if last != '-' && (c == ':' || last != '?') => break,
                    _ => {
                        let end = self.s[start..].find([':', ')']).map_or(self.s.len(), |i| start + i + 1);
                        return Err(fail(
                            &self.s[start - 1..end],
                            "invalid flags; only i, m, s and U, as in (?i) or (?-s:...)",
                        ));
                    }
                };
                on &= c != '-';
                self.flags = if on { self.flags | bit } else { self.flags & !bit };
                last = c;
            }
            if self.s[..self.pos].ends_with(')') {
                self.depth -= 1;
                return Ok(None);
            }
        } else {
            index = Some(None);
        }
        let slot = index.map(|name| {
            self.names.push(name);
            self.names.len() as u32 - 1
        });
        let sub = self.alternation()?;
        if !self.eat(")") {
            return Err("unclosed group (missing ')')".into());
        }
        self.flags = outer;
        self.depth -= 1;
        Ok(Some(match slot {
            Some(index) => Node::Group(index, Box::new(sub)),
            None => sub,
        }))
    }

    /// A character, `.`, `^`, `$` or an escape.
    fn atom(&mut self) -> Result<Node, String> {
        let item = match self.bump() {
            Some('.') if self.on(S) => Item::Set(vec![(0, MAX)]),
            Some('.') => Item::Set(vec![(0, 9), (11, MAX)]),
            Some('^') => Item::Look(if self.on(M) { Look::LineStart } else { Look::Start }),
            Some('$') => Item::Look(if self.on(M) { Look::LineEnd } else { Look::End }),
            Some('\\') => self.escape()?,
            c => Item::Char(c.unwrap_or_default()),
        };
        Ok(match item {
            Item::Char(c) => {
                let mut set = vec![(c as u32, c as u32)];
                if self.on(I) {
                    fold(&mut set);
                }
                self.set(set)
            }
            // `.` and the Perl classes hold both cases of every letter.
            Item::Set(set) => self.set(set),
            Item::Look(look) => Node::Look(look),
        })
    }

    /// `ranges` as a set in the table.
    fn set(&mut self, ranges: Vec<(u32, u32)>) -> Node {
        let from = self.sets.len() as u32;
        self.sets.extend(ranges);
        Node::Set(from, self.sets.len() as u32)
    }

    /// After a `\`.
    fn escape(&mut self) -> Result<Item, String> {
        let c = self.bump().ok_or("trailing \\")?;
        let what = &self.s[self.pos - c.len_utf8() - 1..self.pos];
        let control = |b: u8| Ok(Item::Char(b as char));
        match c {
            'd' | 's' | 'w' | 'D' | 'S' | 'W' => {
                let set = match c.to_ascii_lowercase() {
                    'd' => vec![(48, 57)],
                    'w' => posix("word").unwrap_or_default(),
                    // RE2's \s leaves out \v, which [[:space:]] has.
                    _ => vec![(9, 10), (12, 13), (32, 32)],
                };
                Ok(Item::Set(if c.is_ascii_uppercase() { negate(set) } else { set }))
            }
            'x' => self.hex(),
            'a' => control(7),
            'f' => control(12),
            't' => control(b'\t'),
            'n' => control(b'\n'),
            'r' => control(b'\r'),
            'v' => control(11),
            'A' => Ok(Item::Look(Look::Start)),
            'z' => Ok(Item::Look(Look::End)),
            'b' => Ok(Item::Look(Look::Word)),
            'B' => Ok(Item::Look(Look::NotWord)),
            '0'..='9' => Err(fail(what, "backreferences and octal escapes are not supported")),
            'p' | 'P' => Err(fail(what, "Unicode classes are not supported; list the characters in [...]")),
            // Punctuation escapes to itself; `\<` and `\>` are word
            // boundaries to some engines and literals to others.
            c if c.is_ascii_punctuation() && c != '<' && c != '>' || c == ' ' => Ok(Item::Char(c)),
            _ => Err(fail(what, "unsupported escape")),
        }
    }

    /// `\xHH` or `\x{H...}`, after the `x`.
    fn hex(&mut self) -> Result<Item, String> {
        let start = self.pos;
        let digits = if self.eat("{") {
            let len = self.s[self.pos..].find('}').unwrap_or(self.s.len());
            let digits = self.s.get(self.pos..self.pos + len);
            self.pos = (self.pos + len + 1).min(self.s.len());
            digits
        } else {
            self.pos = (self.pos + 2).min(self.s.len());
            self.s.get(start..self.pos).filter(|d| d.len() == 2)
        };
        let digits = digits.filter(|d| !d.is_empty() && d.len() <= 8 && d.bytes().all(|b| b.is_ascii_hexdigit()));
        match digits.and_then(|d| u32::from_str_radix(d, 16).ok()).and_then(char::from_u32) {
            Some(c) => Ok(Item::Char(c)),
            None => Err(fail(self.s.get(start - 2..self.pos).unwrap_or("\\x"), "invalid hex escape")),
        }
    }

    /// A bracketed class, after the `[`.
    fn class(&mut self) -> Result<Node, String> {
        let negated = self.eat("^");
        let mut ranges = Vec::new();
        // A leading `-` or `]` is literal.
        while self.eat("-") {
            ranges.push((b'-' as u32, b'-' as u32));
        }
        if ranges.is_empty() && self.eat("]") {
            ranges.push((b']' as u32, b']' as u32));
        }
        loop {
            let rest = &self.s[self.pos..];
            if rest.is_empty() {
                return Err("unclosed class (missing ']')".into());
            } else if self.eat("]") {
                break;
            } else if let Some(op) = ["&&", "--", "~~"].into_iter().find(|op| rest.starts_with(op)) {
                return Err(fail(op, "set operations in a class are not supported; escape the character"));
            } else if let Some(after) = rest.strip_prefix("[:") {
                let name = after.split(":]").next().filter(|_| after.contains(":]")).unwrap_or_default();
                let (negate_it, bare) = name.strip_prefix('^').map_or((false, name), |n| (true, n));
                let set = posix(bare)
                    .ok_or_else(|| fail(rest.get(..name.len() + 4).unwrap_or(rest), "unknown POSIX class"))?;
                ranges.extend(if negate_it { negate(set) } else { set });
                self.pos += name.len() + 4;
            } else if rest.starts_with('[') {
                return Err("[ inside a class: nested classes are not supported; write \\[".into());
            } else {
                let start = self.pos;
                let first = self.class_item()?;
                let rest = &self.s[self.pos..];
                if rest.starts_with('-') && !rest.starts_with("-]") && !rest.starts_with("--") {
                    self.pos += 1;
                    match (first, self.class_item()?) {
                        (Item::Char(lo), Item::Char(hi)) if lo <= hi => ranges.push((lo as u32, hi as u32)),
                        (Item::Char(_), Item::Char(_)) => {
                            return Err(fail(&self.s[start..self.pos], "invalid class range"))
                        }
                        _ => return Err("a class range must be between two characters".into()),
                    }
                } else {
                    match first {
                        Item::Char(c) => ranges.push((c as u32, c as u32)),
                        Item::Set(set) => ranges.extend(set),
                        Item::Look(_) => {}
                    }
                }
            }
        }
        if self.on(I) {
            fold(&mut ranges);
        }
        Ok(self.set(if negated { negate(ranges) } else { ranges }))
    }

    /// A character or an escape inside a class.
    fn class_item(&mut self) -> Result<Item, String> {
        let start = self.pos;
        match self.bump() {
            Some('\\') => match self.escape()? {
                Item::Look(_) => Err(fail(&self.s[start..self.pos], "not allowed in a class")),
                item => Ok(item),
            },
            Some(c) => Ok(Item::Char(c)),
            None => Err("unclosed class (missing ']')".into()),
        }
    }
}

/// `items` one after another.
fn concat(mut items: Vec<Node>) -> Node {
    match items.len() {
        0 => Node::Empty,
        1 => items.swap_remove(0),
        _ => Node::Concat(items),
    }
}

/// The ASCII classes, by POSIX name, as in RE2.
const POSIX: &[(&str, &[(u8, u8)])] = &[
    ("alnum", &[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')]),
    ("alpha", &[(b'A', b'Z'), (b'a', b'z')]),
    ("ascii", &[(0, 0x7f)]),
    ("blank", &[(b'\t', b'\t'), (b' ', b' ')]),
    ("cntrl", &[(0, 0x1f), (0x7f, 0x7f)]),
    ("digit", &[(b'0', b'9')]),
    ("graph", &[(b'!', b'~')]),
    ("lower", &[(b'a', b'z')]),
    ("print", &[(b' ', b'~')]),
    ("punct", &[(b'!', b'/'), (b':', b'@'), (b'[', b'`'), (b'{', b'~')]),
    ("space", &[(b'\t', b'\r'), (b' ', b' ')]),
    ("upper", &[(b'A', b'Z')]),
    ("word", &[(b'0', b'9'), (b'A', b'Z'), (b'_', b'_'), (b'a', b'z')]),
    ("xdigit", &[(b'0', b'9'), (b'A', b'F'), (b'a', b'f')]),
];

fn posix(name: &str) -> Option<Vec<(u32, u32)>> {
    let (_, ranges) = POSIX.iter().find(|(n, _)| *n == name)?;
    Some(ranges.iter().map(|&(lo, hi)| (lo as u32, hi as u32)).collect())
}

/// An error that names what in the pattern it is about.
fn fail(what: &str, why: &str) -> String {
    format!("{what}: {why}")
}

/// Sorted, with touching ranges merged.
fn canonical(ranges: &mut Vec<(u32, u32)>) {
    ranges.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges.iter() {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    *ranges = out;
}

/// Adds the other case of every ASCII letter (`(?i)` folds ASCII only).
fn fold(ranges: &mut Vec<(u32, u32)>) {
    for i in 0..ranges.len() {
        let (lo, hi) = ranges[i];
        for (a, z, to) in [(b'a', b'z', b'A'), (b'A', b'Z', b'a')] {
            let (a, z, to) = (a as u32, z as u32, to as u32);
            if lo <= z && hi >= a {
                ranges.push((lo.max(a) - a + to, hi.min(z) - a + to));
            }
        }
    }
}

/// Every code point not in `ranges`.
fn negate(mut ranges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    canonical(&mut ranges);
    let mut out = Vec::with_capacity(ranges.len() + 1);
    let mut next = 0;
    for (lo, hi) in ranges {
        if lo > next {
            out.push((next, lo - 1));
        }
        next = hi + 1;
    }
    if next <= MAX {
        out.push((next, MAX));
    }
    out
}
