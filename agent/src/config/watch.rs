//! `[watch]`, `[[service]]`, `[[file]]`, `[[directory]]`, `[[mount]]` and
//! `[[program]]`: the watchdog's settings (see [`crate::watch`]), in
//! Monit's words.
//!
//! ```toml
//! [watch]
//! interval = "5s"                      # the cycle (Monit: set daemon 5)
//!
//! [[service]]
//! name = "web"                         # check process web
//! pidfile = "/run/nginx.pid"           #   with pidfile ...  (or: matching = "^nginx: master")
//! start = ["/usr/sbin/nginx"]          #   start program = "/usr/sbin/nginx"
//! stop = ["/usr/sbin/nginx", "-s", "quit"]
//! restart = [...]                      #   restart program (else stop, then start)
//! timeout = "30s"                      #   with timeout 30 seconds (each program)
//! uid = "www-data"                     #   as uid www-data (and gid = ...)
//! conditions = ["if failed web_http then restart",          # a [[check]] by name
//!               "if cpu > 90% for 3 cycles then alert",
//!               "if memory > 200 MB then restart"]
//! restart_limit = "5 restarts within 5 cycles"              # if 5 restarts within 5 cycles then timeout
//! depends_on = ["db"]
//!
//! [[file]]
//! name = "nginx_bin"                   # check file nginx_bin with path /usr/sbin/nginx
//! path = "/usr/sbin/nginx"
//! checksum = "sha256"                  #   if changed sha256 checksum then alert ("sha256:HEX": expect it)
//! permission = "0755"                  #   if failed permission 755 then alert
//! uid = "root"                         #   if failed uid root then alert
//! gid = "root"
//! max_size = "100 MB"                  #   if size > 100 MB then alert
//! max_age = "15m"                      #   if timestamp > 15 minutes then alert
//! content = "ERROR|panic"              #   if content = "ERROR|panic" then alert (new lines)
//!
//! [[directory]]                        # check directory spool with path /var/spool/x
//! name = "spool"
//! path = "/var/spool/x"
//! permission = "0750"                  #   (and uid, gid, max_age as for a file)
//!
//! [[mount]]                            # check filesystem rootfs with path /
//! name = "rootfs"
//! path = "/"
//! min_free = "10%"                     #   if space free < 10% then alert ("1 GB": bytes)
//! min_inodes_free = "5%"               #   if inode free < 5% then alert ("1000": inodes)
//!
//! [[program]]                          # check program raid with path "/usr/local/bin/raid -q"
//! name = "raid"
//! path = ["/usr/local/bin/raid", "-q"] #   argv, no shell
//! timeout = "300s"                     #   with timeout 300 seconds (the default)
//! status = "!= 0"                      #   if status != 0 then alert (the default)
//! output = "CRITICAL"                  #   if content = "CRITICAL" then alert
//! ```
//!
//! A condition is `[if] TEST [TOLERANCE] then ACTION`: TEST is `failed
//! NAME` (the `[[check]]` named so fails) or `RESOURCE OP VALUE [UNIT]`
//! with RESOURCE one of cpu (%), memory (B, kB, MB, GB), threads,
//! children, filedescriptors, uptime (s, m, h, d) and OP one of `>`, `<`,
//! `>=`, `<=`, `=`, `==`, `!=`, `gt`, `lt`, `eq`, `ne`; TOLERANCE is `for
//! N cycles` or `X times within Y cycles` (at most 64); ACTION is alert,
//! restart, start, stop, unmonitor, or `exec PROGRAM ARGS...`.

use std::path::PathBuf;
use std::time::Duration;

use super::{duration, strings, Error};
use crate::check::Check;
use crate::sys::process::{self, Credentials};
use crate::watch::{
    digest::Hash, Action, Condition, File, Find, Free, Mount, Op, Process, ProgramCheck, Resource, Test, Window,
    DEFAULT_TIMEOUT, MAX_CONDITIONS, MAX_SERVICES, MAX_WINDOW, PROGRAM_TIMEOUT,
};
use crate::wire::regex::Regex;
use crate::wire::toml::{Entry, Value};

pub const WATCH_KEYS: &[&str] = &["interval"];
pub const SERVICE_KEYS: &[&str] = &[
    "name",
    "pidfile",
    "matching",
    "start",
    "stop",
    "restart",
    "timeout",
    "uid",
    "gid",
    "conditions",
    "restart_limit",
    "depends_on",
];
pub const FILE_KEYS: &[&str] =
    &["name", "path", "checksum", "permission", "uid", "gid", "max_size", "max_age", "content"];
pub const DIRECTORY_KEYS: &[&str] = &["name", "path", "permission", "uid", "gid", "max_age"];
pub const MOUNT_KEYS: &[&str] = &["name", "path", "min_free", "min_inodes_free"];
pub const PROGRAM_KEYS: &[&str] = &["name", "path", "timeout", "uid", "gid", "status", "output"];

/// `[watch] interval`.
pub fn watch(interval: &mut Duration, e: &Entry) -> Result<(), String> {
    match (e.key.as_str(), &e.value) {
        ("interval", Value::Str(s)) => {
            let d = duration(s)?;
            if d.is_zero() {
                return Err("must be above zero".into());
            }
            *interval = d;
            Ok(())
        }
        ("interval", v) => Err(format!("expected a duration, found {}", v.type_name())),
        _ => Err(String::new()),
    }
}

/// A table's entries, with the errors said at their lines.
struct Table<'a> {
    entries: &'a [Entry],
    errors: &'a mut Vec<Error>,
}

impl Table<'_> {
    fn err(&mut self, line: usize, message: String) {
        self.errors.push(Error { line, message });
    }

    fn text(&mut self, key: &str) -> Option<(usize, String)> {
        let e = self.entries.iter().find(|e| e.key == key)?;
        match &e.value {
            Value::Str(s) => Some((e.line, s.clone())),
            v => {
                let m = format!("{key}: expected a string, found {}", v.type_name());
                self.err(e.line, m);
                None
            }
        }
    }

    fn list(&mut self, key: &str) -> Option<(usize, Vec<String>)> {
        let e = self.entries.iter().find(|e| e.key == key)?;
        match strings(&e.value) {
            Ok(items) => Some((e.line, items.into_iter().map(str::to_owned).collect())),
            Err(super::Problem::Invalid(m)) => {
                let line = e.line;
                self.err(line, format!("{key}: {m}"));
                None
            }
            Err(super::Problem::UnknownKey) => None,
        }
    }

    /// A program's argv: an array, its first item an absolute path.
    fn argv(&mut self, key: &str) -> Option<Vec<String>> {
        let e = self.entries.iter().find(|e| e.key == key)?;
        let line = e.line;
        if !matches!(e.value, Value::Array(_)) {
            self.err(line, format!("{key}: write the program as an array: [\"/path/to/program\", \"arg\", ...]"));
            return None;
        }
        let (_, argv) = self.list(key)?;
        if !argv.first().is_some_and(|a| a.starts_with('/')) {
            self.err(line, format!("{key}: the program must be an absolute path (no shell, no PATH search)"));
            return None;
        }
        Some(argv)
    }

    /// `path`, which the table needs.
    fn path(&mut self, line: usize, what: &str) -> Option<PathBuf> {
        let path = self.text("path").map(|(_, p)| PathBuf::from(p));
        if path.is_none() && self.entries.iter().all(|e| e.key != "path") {
            self.err(line, format!("[[{what}]] needs a path"));
        }
        path
    }

    /// A regular expression.
    fn pattern(&mut self, key: &str) -> Option<Regex> {
        let (l, p) = self.text(key)?;
        Regex::new(&p).map_err(|why| self.err(l, format!("{key}: {why}"))).ok()
    }

    /// `timeout`, above zero (`default` when not given).
    fn timeout(&mut self, default: Duration) -> Duration {
        let (l, s) = match self.text("timeout") {
            None => return default,
            Some(t) => t,
        };
        match duration(&s) {
            Ok(d) if !d.is_zero() => d,
            Ok(_) => {
                self.err(l, "timeout: must be above zero".into());
                default
            }
            Err(m) => {
                self.err(l, format!("timeout: {m}"));
                default
            }
        }
    }

    fn unknown(&mut self, keys: &[&str], what: &str) {
        let bad: Vec<(usize, String)> =
            self.entries.iter().filter(|e| !keys.contains(&e.key.as_str())).map(|e| (e.line, e.key.clone())).collect();
        for (line, key) in bad {
            let m = format!("unknown key '{key}' in [[{what}]]{}", super::suggest(&key, keys.iter().copied()));
            self.err(line, m);
        }
    }

    fn name(&mut self, line: usize, what: &str) -> Option<String> {
        match self.text("name") {
            Some((l, n)) if n.is_empty() || n.len() > 64 || n.chars().any(char::is_control) => {
                self.err(l, "name: 1 to 64 characters, no control characters".into());
                None
            }
            Some((_, n)) => Some(n),
            None => {
                self.err(line, format!("[[{what}]] needs a name"));
                None
            }
        }
    }

    fn ids(&mut self) -> Credentials {
        let mut who = Credentials::default();
        if let Some((line, u)) = self.text("uid") {
            who.uid = u.parse().ok().or_else(|| process::user(&u).map(|(uid, _)| uid));
            if who.uid.is_none() {
                self.err(line, format!("uid: no user '{u}'"));
            }
        }
        if let Some((line, g)) = self.text("gid") {
            who.gid = g.parse().ok().or_else(|| process::group(&g));
            if who.gid.is_none() {
                self.err(line, format!("gid: no group '{g}'"));
            }
        }
        who
    }
}

/// One `[[service]]` table; its conditions name checks of `checks`.
pub fn service(line: usize, entries: &[Entry], checks: &[Check], errors: &mut Vec<Error>) -> Option<Process> {
    let before = errors.len();
    let mut t = Table { entries, errors };
    t.unknown(SERVICE_KEYS, "service");
    let name = t.name(line, "service");
    let matching = t.pattern("matching");
    let find = match t.text("pidfile") {
        Some((_, p)) => Find::Pidfile(PathBuf::from(p), matching),
        None => match matching {
            Some(re) => Find::Matching(re),
            None => {
                t.err(line, "[[service]] needs pidfile or matching".into());
                Find::Matching(Regex::new("^$").ok()?)
            }
        },
    };
    let (start, stop, restart) = (t.argv("start"), t.argv("stop"), t.argv("restart"));
    let timeout = t.timeout(DEFAULT_TIMEOUT);
    let who = t.ids();
    let restart_limit = t.text("restart_limit").and_then(|(l, s)| {
        let w = window(&s, "restarts").ok_or(());
        w.map_err(|()| t.err(l, format!("restart_limit: '{s}': write \"X restarts within Y cycles\" (Y at most 64)")))
            .ok()
    });
    let mut conditions = Vec::new();
    if let Some((l, list)) = t.list("conditions") {
        if list.len() > MAX_CONDITIONS {
            t.err(l, format!("conditions: at most {MAX_CONDITIONS}"));
        }
        for c in list.iter().take(MAX_CONDITIONS) {
            match condition(c, checks) {
                Ok(c) => conditions.push(c),
                Err(m) => t.err(l, format!("conditions: '{c}': {m}")),
            }
        }
    }
    let depends_on = t.list("depends_on").map(|(_, d)| d).unwrap_or_default();
    if errors.len() > before {
        return None;
    }
    Some(Process { name: name?, find, start, stop, restart, timeout, who, conditions, restart_limit, depends_on })
}

/// One `[[file]]` table, or with `directory` one `[[directory]]` table.
pub fn file(line: usize, entries: &[Entry], errors: &mut Vec<Error>, directory: bool) -> Option<File> {
    let before = errors.len();
    let mut t = Table { entries, errors };
    let what = if directory { "directory" } else { "file" };
    t.unknown(if directory { DIRECTORY_KEYS } else { FILE_KEYS }, what);
    let name = t.name(line, what);
    let path = t.path(line, what);
    let checksum = t.text("checksum").and_then(|(l, s)| {
        let (h, expect) = match s.split_once(':') {
            Some((h, x)) => (h, Some(x.to_ascii_lowercase())),
            None => (s.as_str(), None),
        };
        match Hash::parse(h) {
            Some(h)
                if expect
                    .as_ref()
                    .is_none_or(|x| x.len() == h.hex_len() && x.bytes().all(|b| b.is_ascii_hexdigit())) =>
            {
                Some((h, expect))
            }
            Some(h) => {
                t.err(l, format!("checksum: expected {h}:{} hex digits", h.hex_len(), h = h.as_str()));
                None
            }
            None => {
                t.err(
                    l,
                    format!("checksum: '{s}': write sha256, sha1 or md5, or one of them, ':' and the expected digest"),
                );
                None
            }
        }
    });
    let permission = t.text("permission").and_then(|(l, s)| {
        u32::from_str_radix(&s, 8).ok().filter(|&m| m <= 0o7777).or_else(|| {
            t.err(l, format!("permission: '{s}' is not octal permission bits (\"0644\")"));
            None
        })
    });
    let who = t.ids();
    let max_size = t.text("max_size").and_then(|(l, s)| {
        size(&s).or_else(|| {
            t.err(l, format!("max_size: '{s}': write a number and B, kB, MB or GB (\"100 MB\")"));
            None
        })
    });
    let max_age = t.text("max_age").and_then(|(l, s)| duration(&s).map_err(|m| t.err(l, format!("max_age: {m}"))).ok());
    let content = t.pattern("content");
    if errors.len() > before {
        return None;
    }
    let (uid, gid) = (who.uid, who.gid);
    Some(File { name: name?, path: path?, directory, checksum, permission, uid, gid, max_size, max_age, content })
}

/// One `[[mount]]` table.
pub fn mount(line: usize, entries: &[Entry], errors: &mut Vec<Error>) -> Option<Mount> {
    let before = errors.len();
    let mut t = Table { entries, errors };
    t.unknown(MOUNT_KEYS, "mount");
    let name = t.name(line, "mount");
    let path = t.path(line, "mount");
    let mut limit = |key: &str, unit: &str| {
        let (l, s) = t.text(key)?;
        free(&s, unit == "B").or_else(|| {
            let example = if unit == "B" { "\"10%\" or \"1 GB\"" } else { "\"5%\" or \"1000\"" };
            t.err(l, format!("{key}: '{s}': write a percentage or a number of {unit} ({example})"));
            None
        })
    };
    let (min_free, min_inodes_free) = (limit("min_free", "B"), limit("min_inodes_free", "inodes"));
    if min_free.is_none() && min_inodes_free.is_none() && errors.len() == before {
        errors.push(Error { line, message: "[[mount]] needs min_free or min_inodes_free".into() });
    }
    if errors.len() > before {
        return None;
    }
    Some(Mount { name: name?, path: path?, min_free, min_inodes_free })
}

/// `10%`, `12.5 %` (a share of the whole), or a count (`1 GB` with
/// `bytes`, `1000`).
fn free(s: &str, bytes: bool) -> Option<Free> {
    if let Some(p) = s.trim().strip_suffix('%') {
        let p = crate::wire::float::parse(p.trim())?;
        return (0.0..=100.0).contains(&p).then_some(Free::Percent(p));
    }
    if bytes {
        size(s).map(Free::Count)
    } else {
        s.trim().parse().ok().map(Free::Count)
    }
}

/// One `[[program]]` table.
pub fn program(line: usize, entries: &[Entry], errors: &mut Vec<Error>) -> Option<ProgramCheck> {
    let before = errors.len();
    let mut t = Table { entries, errors };
    t.unknown(PROGRAM_KEYS, "program");
    let name = t.name(line, "program");
    let argv = t.argv("path");
    if argv.is_none() && t.entries.iter().all(|e| e.key != "path") {
        t.err(line, "[[program]] needs a path: [\"/path/to/program\", \"arg\", ...]".into());
    }
    let timeout = t.timeout(PROGRAM_TIMEOUT);
    let who = t.ids();
    let status = match t.text("status") {
        None => (Op::Ne, 0),
        Some((l, s)) => {
            let words: Vec<&str> = s.split_whitespace().collect();
            match words[..] {
                [op, n] => match (operator(op), n.parse::<i32>()) {
                    (Ok(op), Ok(n)) => (op, n),
                    _ => {
                        t.err(l, format!("status: '{s}': write an operator and an exit status (\"!= 0\")"));
                        (Op::Ne, 0)
                    }
                },
                _ => {
                    t.err(l, format!("status: '{s}': write an operator and an exit status (\"!= 0\")"));
                    (Op::Ne, 0)
                }
            }
        }
    };
    let output = t.pattern("output");
    if errors.len() > before {
        return None;
    }
    Some(ProgramCheck { name: name?, argv: argv?, timeout, who, status, output })
}

/// `100 MB`, `64kB`, `512`: bytes (Monit's units, powers of 1024).
fn size(s: &str) -> Option<u64> {
    let joined: String = s.split_whitespace().collect();
    let split = joined.find(|c: char| !c.is_ascii_digit()).unwrap_or(joined.len());
    let (n, unit) = joined.split_at(split);
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        _ => return None,
    };
    n.parse::<u64>().ok()?.checked_mul(scale)
}

/// `X WORD within Y cycles` (`5 restarts within 5 cycles`, `2 times
/// within 3 cycles`): the notifications' tolerance words.
fn window(s: &str, word: &str) -> Option<Window> {
    match s.split_whitespace().nth(1) {
        Some(w) if w == word => super::notify::tolerance(&s.replacen(word, "times", 1)),
        _ => None,
    }
}

/// `[if] TEST [TOLERANCE] then ACTION`.
pub fn condition(text: &str, checks: &[Check]) -> Result<Condition, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let words = words.strip_prefix(&["if"]).unwrap_or(&words);
    let then = words.iter().position(|w| *w == "then").ok_or("no 'then ACTION'")?;
    let (head, action) = (&words[..then], &words[then + 1..]);
    let action = match action {
        ["alert"] => Action::Alert,
        ["restart"] => Action::Restart,
        ["start"] => Action::Start,
        ["stop"] => Action::Stop,
        ["unmonitor"] => Action::Unmonitor,
        ["exec", argv @ ..] if argv.first().is_some_and(|a| a.starts_with('/')) => {
            Action::Exec(argv.iter().map(|a| (*a).to_owned()).collect())
        }
        _ => return Err("the action is alert, restart, start, stop, unmonitor or exec /path/to/program ARGS".into()),
    };
    // The tolerance, at the end of the test.
    let (test, tolerance) = match head {
        [t @ .., "for", n, c @ ("cycles" | "cycle")] => (t, [*n, *c].join(" ")),
        [t @ .., x, "times", "within", y, c @ ("cycles" | "cycle")] => (t, [*x, "times within", *y, *c].join(" ")),
        t => (t, String::new()),
    };
    let tolerance = match tolerance.is_empty() {
        true => Window::default(),
        false => {
            super::notify::tolerance(&tolerance).ok_or(format!("the tolerance is 1 to {MAX_WINDOW} cycles, X ≤ Y"))?
        }
    };
    let test = match test {
        ["failed", name] => {
            let chk = checks.iter().find(|c| c.name == *name).ok_or_else(|| format!("no [[check]] named '{name}'"))?;
            Test::Failed(Box::new(chk.clone()))
        }
        [resource, op, value @ ..] => {
            let r = match *resource {
                "cpu" => Resource::Cpu,
                "memory" => Resource::Memory,
                "threads" => Resource::Threads,
                "children" => Resource::Children,
                "filedescriptors" | "fds" => Resource::Fds,
                "uptime" => Resource::Uptime,
                _ => return Err("the test is 'failed CHECK' or cpu, memory, threads, children, filedescriptors or uptime, an operator and a value".into()),
            };
            let op = operator(op)?;
            let joined = value.concat();
            let split = joined.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(joined.len());
            let (n, unit) = joined.split_at(split);
            let n = crate::wire::float::parse(n).ok_or_else(|| format!("'{joined}' is not a number and a unit"))?;
            let scale = match (r, unit.to_ascii_lowercase().as_str()) {
                (Resource::Cpu, "%" | "") => 1.0,
                (Resource::Memory, "b" | "") => 1.0,
                (Resource::Memory, "kb" | "k") => 1024.0,
                (Resource::Memory, "mb" | "m") => 1024.0 * 1024.0,
                (Resource::Memory, "gb" | "g") => 1024.0 * 1024.0 * 1024.0,
                (Resource::Uptime, "s" | "" | "second" | "seconds") => 1.0,
                (Resource::Uptime, "m" | "minute" | "minutes") => 60.0,
                (Resource::Uptime, "h" | "hour" | "hours") => 3600.0,
                (Resource::Uptime, "d" | "day" | "days") => 86400.0,
                (Resource::Threads | Resource::Children | Resource::Fds, "") => 1.0,
                (_, u) => return Err(format!("'{u}' is not a unit of {}", r.as_str())),
            };
            Test::Resource(r, op, n * scale)
        }
        _ => return Err("the test is 'failed CHECK' or a resource test ('memory > 200 MB')".into()),
    };
    let shown = words[..then].join(" ");
    Ok(Condition { text: shown, test, tolerance, action })
}

/// Monit's operators: `>`, `<`, `>=`, `<=`, `==`, `!=` and their words.
fn operator(op: &str) -> Result<Op, String> {
    Ok(match op {
        ">" | "gt" => Op::Gt,
        "<" | "lt" => Op::Lt,
        ">=" | "ge" => Op::Ge,
        "<=" | "le" => Op::Le,
        "=" | "==" | "eq" => Op::Eq,
        "!=" | "<>" | "ne" => Op::Ne,
        o => return Err(format!("'{o}' is not an operator (>, <, >=, <=, ==, !=)")),
    })
}

/// Orders services so that each comes after those it depends on; Err
/// names an unknown one or a loop.
pub fn order(services: &mut Vec<Process>) -> Result<(), String> {
    for s in services.iter() {
        for d in &s.depends_on {
            if !services.iter().any(|o| o.name == *d) {
                return Err(format!("[[service]] '{}' depends on '{d}', which is not a [[service]]", s.name));
            }
        }
    }
    let mut done: Vec<Process> = Vec::with_capacity(services.len());
    while !services.is_empty() {
        let Some(i) = services.iter().position(|s| s.depends_on.iter().all(|d| done.iter().any(|o| o.name == *d)))
        else {
            let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
            return Err(format!("[[service]] dependencies loop among: {}", names.join(", ")));
        };
        done.push(services.remove(i));
    }
    if done.len() > MAX_SERVICES {
        return Err(format!("more than {MAX_SERVICES} services"));
    }
    *services = done;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_in_monits_words() {
        let c = condition("if cpu > 90% for 3 cycles then alert", &[]).unwrap();
        assert_eq!(c.test, Test::Resource(Resource::Cpu, Op::Gt, 90.0));
        assert_eq!(c.tolerance, Window { times: 3, cycles: 3 });
        assert_eq!(c.text, "cpu > 90% for 3 cycles");
        let c = condition("memory > 200 MB 2 times within 5 cycles then restart", &[]).unwrap();
        assert_eq!(c.test, Test::Resource(Resource::Memory, Op::Gt, 200.0 * 1048576.0));
        assert_eq!((c.tolerance, c.action), (Window { times: 2, cycles: 5 }, Action::Restart));
        let c = condition("if uptime < 2 m then exec /usr/local/bin/page --now", &[]).unwrap();
        assert_eq!(c.action, Action::Exec(vec!["/usr/local/bin/page".into(), "--now".into()]));
        for (bad, says) in [
            ("if failed web then restart", "no [[check]] named 'web'"),
            ("if cpu > 90%", "no 'then"),
            ("if cpu > 90% then reboot", "the action is"),
            ("if cpu ~ 90% then alert", "not an operator"),
            ("if memory > 2 parsecs then alert", "not a unit"),
            ("if cpu > 9 for 65 cycles then alert", "1 to 64"),
            ("if cpu > 9 3 times within 2 cycles then alert", "X ≤ Y"),
            ("if exec /x then alert", "the test is"),
        ] {
            let e = condition(bad, &[]).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn sizes_in_monits_units() {
        assert_eq!(size("100 MB"), Some(100 << 20));
        assert_eq!(size("64kB"), Some(64 << 10));
        assert_eq!(size("512"), Some(512));
        for bad in ["", "MB", "1.5 MB", "1 TB", "-1", "99999999999999999999 GB"] {
            assert_eq!(size(bad), None, "{bad}");
        }
    }

    #[test]
    fn restart_limits() {
        assert_eq!(window("5 restarts within 5 cycles", "restarts"), Some(Window { times: 5, cycles: 5 }));
        assert_eq!(window("6 restarts within 5 cycles", "restarts"), None);
        assert_eq!(window("5 restarts within 65 cycles", "restarts"), None);
        assert_eq!(window("5 restarts in 5 cycles", "restarts"), None);
    }
}
