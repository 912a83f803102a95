//! The configuration: what the file may say, its defaults, and the flags
//! that override it.
//!
//! One human-written file in a TOML subset ([`crate::wire::toml`]). Without a file,
//! sonde runs the embedded default, `default.toml` beside this module,
//! which is also the reference of every key (`sonde default-config` prints
//! it). Loading never has side effects: it turns text into a [`Config`] or
//! into a list of errors, each with its line, so `check-config`, start-up
//! and reload all say the same thing about the same file.

mod blackbox;
mod check;
mod host;
mod http;
mod logs;
mod notify;
mod push;
mod tls;
mod unbound;
mod watch;
pub mod web;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::collect::{self, chrony, daemon};
use crate::limits::{CHRONY_DEADLINE, MAX_CHECKS, MAX_CONFIG_FILE};
use crate::sys::net::Listen;
use crate::wire::toml::{self as syntax, Entry, Value};

/// The embedded default configuration's settings: `default.toml` without
/// its comment lines (build.rs), what sonde runs without `--config`.
pub const DEFAULT_SETTINGS: &str = include_str!(concat!(env!("OUT_DIR"), "/default.settings.toml"));

/// `default.toml` as written, comments and all: the reference of every
/// key that `sonde default-config` prints. Kept snappy-compressed (build.rs).
pub fn default_text() -> String {
    const PACKED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/default.toml.sz"));
    // Made by build.rs from this crate's own file: it decompresses.
    snap::raw::Decoder::new().decompress_vec(PACKED).ok().and_then(|b| String::from_utf8(b).ok()).unwrap_or_default()
}

/// Everything sonde needs to know to run, validated: each domain's own
/// settings, as the file and the flags give them.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `[server] listen`: where the endpoint listens.
    pub listen: Vec<Listen>,
    /// `[server] allow`: the only peers served, checked before anything
    /// is read; empty: every peer.
    pub allow: Vec<crate::wire::cidr::Cidr>,
    /// `[server] open_paths`: paths served without authentication (the
    /// allow list still applies), such as a health path.
    pub open_paths: Vec<String>,
    /// `[server] web_config` (or `--web.config.file`): exporter-toolkit's
    /// web-config.yml, as read at load.
    pub web: Option<web::WebFile>,
    /// `[paths]`, `[collectors]` and the collectors' sections.
    pub collect: collect::Settings,
    /// `[paths] state_dir`: where state that outlives a run is kept.
    pub state_dir: PathBuf,
    /// `[[check]]` tables, in file order.
    pub checks: Vec<crate::check::Check>,
    /// `[watch]`, `[[service]]`, `[[file]]`, `[[directory]]`, `[[mount]]`
    /// and `[[program]]`: the watchdog.
    pub watch: crate::watch::Settings,
    /// `[probe] blackbox_config` (or `--blackbox-config`): an operator's
    /// blackbox.yml, whose modules `/probe` runs.
    pub blackbox_config: Option<PathBuf>,
    /// That file's modules.
    pub modules: Vec<crate::check::Module>,
    /// Push, when a URL is given (`[push] url` or `--push`).
    pub push: Option<crate::push::Settings>,
    /// `[[notify]]`, `[events]`, and each `[[check]]`'s tolerance and
    /// severity.
    pub notify: crate::notify::Settings,
    /// `[[log]]` and `[[log_rule]]` tables, in file order, with the
    /// state directory.
    pub logs: crate::logs::Settings,
    /// The `[push]` sections as written, for a `--push` URL given as a flag.
    push_file: push::Draft,
}

/// A config error: its line in the file (0 for a flag) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub line: usize,
    pub message: String,
}

/// Settings given as flags; they win over the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub listen: Vec<String>,
    pub procfs: Option<PathBuf>,
    pub sysfs: Option<PathBuf>,
    pub rootfs: Option<PathBuf>,
    pub enable: Vec<String>,
    pub disable: Vec<String>,
    /// `--push URL`
    pub push: Option<String>,
    /// `--spool DIR`
    pub spool: Option<PathBuf>,
    /// `--blackbox-config FILE`
    pub blackbox_config: Option<PathBuf>,
    /// `--web.config.file FILE`
    pub web_config: Option<PathBuf>,
}

impl Config {
    /// The embedded default.
    pub fn builtin() -> Config {
        // The default text is part of the binary and a unit test parses it,
        // so this cannot fail at run time; if it ever did, an empty
        // collector set would still be a running agent.
        parse(DEFAULT_SETTINGS).unwrap_or_else(|_| Config::base())
    }

    /// Every setting at the value it has when the file does not mention
    /// it: where parsing starts.
    fn base() -> Config {
        Config {
            listen: vec![Listen::AnyAddress(DEFAULT_PORT)],
            allow: Vec::new(),
            open_paths: Vec::new(),
            web: None,
            collect: collect::Settings::default(),
            state_dir: "/var/lib/sonde".into(),
            checks: Vec::new(),
            watch: crate::watch::Settings::default(),
            blackbox_config: None,
            modules: Vec::new(),
            push: None,
            notify: crate::notify::Settings::default(),
            logs: crate::logs::Settings::default(),
            push_file: push::Draft::default(),
        }
    }

    /// Applies flags over the file's settings.
    pub fn apply(&mut self, o: &Overrides) -> Result<(), Vec<Error>> {
        let mut errors = Vec::new();
        if !o.listen.is_empty() {
            self.listen.clear();
            for s in &o.listen {
                match s.parse() {
                    Ok(l) => self.listen.push(l),
                    Err(message) => errors.push(Error { line: 0, message: format!("--listen {message}") }),
                }
            }
        }
        if let Some(p) = &o.procfs {
            self.collect.procfs.clone_from(p);
        }
        if let Some(p) = &o.sysfs {
            self.collect.sysfs.clone_from(p);
        }
        if let Some(p) = &o.rootfs {
            self.collect.rootfs.clone_from(p);
        }
        for (names, on, flag) in [(&o.enable, true, "--collector"), (&o.disable, false, "--no-collector")] {
            for name in names {
                match collect::index(name) {
                    Some(i) => self.collect.enabled[i] = on,
                    None => errors.push(Error {
                        line: 0,
                        message: format!("{flag} {name}: no such collector{}", suggest(name, collect::names())),
                    }),
                }
            }
        }
        if let Some(path) = &o.blackbox_config {
            self.blackbox_config = Some(path.clone());
            match read_blackbox(path) {
                Ok(modules) => self.modules = modules,
                Err(e) => errors.extend(e),
            }
        }
        if let Some(path) = &o.web_config {
            match read_web(path) {
                Ok(w) => self.web = Some(w),
                Err(e) => errors.extend(e),
            }
        }
        if let Some(url) = &o.push {
            match push::build(url, &self.push_file, o.spool.as_ref()) {
                Ok(settings) => self.push = Some(settings),
                Err(message) => errors.push(Error { line: 0, message: format!("--push {message}") }),
            }
        } else if let Some(dir) = &o.spool {
            match &mut self.push {
                Some(p) => p.spool = Some(dir.clone()),
                None => errors.push(Error { line: 0, message: "--spool needs --push URL or a [push] url".into() }),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

pub use notify::{status_url, tolerance};

/// Port of the default endpoint: not one of the well-known exporters'
/// (node_exporter 9100, blackbox_exporter 9115, chrony_exporter 9123,
/// unbound_exporter 9167, Pushgateway 9091).
pub const DEFAULT_PORT: u16 = 9858;

/// The sections the file may have, and their keys.
const SECTIONS: &[(&str, &[&str])] = &[
    ("server", &["listen", "allow", "open_paths", "web_config"]),
    ("paths", &["procfs", "sysfs", "rootfs", "state_dir"]),
    ("collectors", &[]), // "defaults" and every collector name
    ("filesystem", &["mount_points_exclude", "fs_types_exclude", "timeout"]),
    ("netdev", &["device_include", "device_exclude"]),
    ("netclass", &["all_attributes"]),
    ("textfile", &["directory"]),
    ("chrony", &["address", "timeout", "dns_lookups"]),
    ("unbound", unbound::KEYS),
    ("check", check::KEYS),
    ("watch", watch::WATCH_KEYS),
    ("service", watch::SERVICE_KEYS),
    ("file", watch::FILE_KEYS),
    ("directory", watch::DIRECTORY_KEYS),
    ("mount", watch::MOUNT_KEYS),
    ("program", watch::PROGRAM_KEYS),
    ("push", push::KEYS),
    ("push.labels", &[]),  // any label name
    ("push.headers", &[]), // any header but the reserved ones
    ("probe", &["blackbox_config"]),
    ("notify", notify::KEYS),
    ("events", notify::EVENTS_KEYS),
    ("log", logs::LOG_KEYS),
    ("log_rule", logs::RULE_KEYS),
];

/// Parses config text; every error found, with its line.
pub fn parse(text: &str) -> Result<Config, Vec<Error>> {
    let sections = syntax::parse(text)
        .map_err(|errors| errors.into_iter().map(|e| Error { line: e.line, message: e.message }).collect::<Vec<_>>())?;
    let mut config = Config::base();
    let mut errors = Vec::new();
    // [[service]] tables name checks, which may come after them.
    let mut services = Vec::new();
    let (mut log_tables, mut rule_tables) = (Vec::new(), Vec::new());
    for section in &sections {
        if section.name.is_empty() {
            for e in &section.entries {
                errors.push(Error { line: e.line, message: format!("'{}' must be inside a [section]", e.key) });
            }
            continue;
        }
        let known = SECTIONS.iter().find(|(name, _)| *name == section.name);
        let Some((name, keys)) = known else {
            let names = SECTIONS.iter().map(|(n, _)| *n);
            errors.push(Error {
                line: section.line,
                message: format!("unknown section [{}]{}", section.name, suggest(&section.name, names)),
            });
            continue;
        };
        if *name == "check" {
            if !section.array {
                errors.push(Error {
                    line: section.line,
                    message: "write [[check]]: each check is a table of its own".into(),
                });
            } else if config.checks.len() >= MAX_CHECKS {
                errors.push(Error { line: section.line, message: format!("more than {} checks", MAX_CHECKS) });
            } else if let Some(c) = check::table(section.line, &section.entries, &mut errors) {
                if config.checks.iter().any(|o| o.name == c.name) {
                    errors.push(Error {
                        line: section.line,
                        message: format!("a check named '{}' already exists", c.name),
                    });
                } else {
                    config.notify.checks.push(notify::check_rule(&c.name, &section.entries, &mut errors));
                    config.checks.push(c);
                }
            }
            continue;
        }
        if matches!(*name, "service" | "file" | "directory" | "mount" | "program") {
            let (line, entries, w) = (section.line, &section.entries, &mut config.watch);
            if !section.array {
                errors.push(Error { line, message: format!("write [[{name}]]: each {name} is a table of its own") });
            } else if *name == "service" {
                services.push(section);
            } else if *name == "mount" {
                w.mounts.extend(watch::mount(line, entries, &mut errors));
            } else if *name == "program" {
                w.programs.extend(watch::program(line, entries, &mut errors));
            } else {
                w.files.extend(watch::file(line, entries, &mut errors, *name == "directory"));
            }
            continue;
        }
        if *name == "notify" {
            if !section.array {
                errors.push(Error {
                    line: section.line,
                    message: "write [[notify]]: each output is a table of its own".into(),
                });
            } else if let Some(o) = notify::table(section.line, &section.entries, &mut errors) {
                config.notify.outputs.push(o);
            }
            continue;
        }
        if *name == "log" || *name == "log_rule" {
            if !section.array {
                errors.push(Error {
                    line: section.line,
                    message: format!("write [[{name}]]: each is a table of its own"),
                });
            } else if log_tables.len() + rule_tables.len() >= logs::MAX_LOGS + logs::MAX_RULES {
                errors.push(Error { line: section.line, message: format!("too many [[{name}]] tables") });
            } else if *name == "log" {
                if let Some(l) = logs::log(section.line, &section.entries, &mut errors) {
                    log_tables.push((section.line, l));
                }
            } else if rule_tables.len() >= logs::MAX_RULES {
                errors.push(Error { line: section.line, message: format!("more than {} rules", logs::MAX_RULES) });
            } else if let Some(r) = logs::rule(section.line, &section.entries, &mut errors) {
                rule_tables.push((section.line, r));
            }
            continue;
        }
        if section.array {
            errors.push(Error {
                line: section.line,
                message: format!("[{name}] is a table: write [{name}], not [[{name}]]"),
            });
            continue;
        }
        for e in &section.entries {
            let result = match *name {
                "server" => server(&mut config, e),
                "paths" => paths(&mut config, e),
                "collectors" => collectors(&mut config.collect, e, &section.entries),
                "filesystem" => host::filesystem(&mut config.collect.filesystem, e),
                "netdev" => host::netdev(&mut config.collect.netdev, e),
                "netclass" => host::netclass(&mut config.collect.netclass_all_attributes, e),
                "textfile" => host::textfile(&mut config.collect.textfile, e),
                "chrony" => chrony(&mut config.collect.chrony, e),
                "unbound" => unbound::entry(&mut config.collect.unbound, e),
                "push" | "push.labels" | "push.headers" => push::entry(&mut config.push_file, name, e),
                "watch" => watch::watch(&mut config.watch.interval, e).map_err(|m| match m.is_empty() {
                    true => Problem::UnknownKey,
                    false => Problem::Invalid(m),
                }),
                "probe" => probe(&mut config, e),
                "events" => notify::events(&mut config.notify, e),
                _ => Ok(()),
            };
            match result {
                Ok(()) => {}
                Err(Problem::UnknownKey) => {
                    let known: Vec<&str> = if *name == "collectors" {
                        std::iter::once("defaults").chain(collect::names()).collect()
                    } else {
                        keys.to_vec()
                    };
                    errors.push(Error {
                        line: e.line,
                        message: format!(
                            "unknown key '{}' in [{name}]{}",
                            e.key,
                            suggest(&e.key, known.iter().copied())
                        ),
                    });
                }
                Err(Problem::Invalid(message)) => {
                    errors.push(Error { line: e.line, message: format!("{}: {message}", e.key) })
                }
            }
        }
    }
    for section in services {
        if let Some(s) = watch::service(section.line, &section.entries, &config.checks, &mut errors) {
            config.watch.services.push(s);
        }
    }
    let names: Vec<&str> = config.watch.names();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            let message = format!("two watched tables ([[service]], [[file]], ...) are named '{n}'");
            errors.push(Error { line: 0, message });
        }
    }
    let watched = names.len();
    if let Err(message) = watch::order(&mut config.watch.services) {
        errors.push(Error { line: 0, message });
    }
    if watched > crate::watch::MAX_SERVICES {
        errors.push(Error {
            line: 0,
            message: format!("more than {} watched services, files, mounts and programs", crate::watch::MAX_SERVICES),
        });
    }
    if let Some(path) = config.blackbox_config.clone() {
        match read_blackbox(&path) {
            Ok(modules) => config.modules = modules,
            Err(e) => errors.extend(e),
        }
    }
    if let Some(path) = config.web.as_ref().map(|w| w.path.clone()) {
        match read_web(&path) {
            Ok(w) => config.web = Some(w),
            Err(e) => errors.extend(e),
        }
    }
    logs::finish(&log_tables, &rule_tables, &mut errors);
    config.logs.logs = log_tables.into_iter().map(|(_, l)| l).collect();
    config.logs.rules = rule_tables.into_iter().map(|(_, r)| r).collect();
    config.logs.state_dir.clone_from(&config.state_dir);
    if let Err(message) = config.collect.unbound.check() {
        errors.push(Error { line: 0, message });
    }
    config.notify.state_dir.clone_from(&config.state_dir);
    notify::finish(&mut config.notify, &mut errors);
    if let Some(url) = config.push_file.url.clone() {
        match push::build(&url, &config.push_file, None) {
            Ok(settings) => config.push = Some(settings),
            Err(message) => errors.push(Error { line: 0, message }),
        }
    }
    if errors.is_empty() {
        Ok(config)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// Reads and parses a config file. The error is the whole report, one
/// `FILE:LINE: message` per line, as `check-config` prints it.
pub fn load(path: &Path) -> Result<Config, String> {
    let mut buf = Vec::new();
    if let Err(e) = crate::sys::file::read_bounded(path, &mut buf, MAX_CONFIG_FILE) {
        return Err(format!("{}: cannot read: {e}", path.display()));
    }
    let text = std::str::from_utf8(&buf).map_err(|e| {
        let line = buf[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        format!("{}:{line}: not valid UTF-8", path.display())
    })?;
    parse(text).map_err(|errors| report(path, &errors))
}

/// Reads a blackbox.yml alone (`check-config FILE.yml`): its modules, or
/// the report of its errors.
pub fn load_blackbox(path: &Path) -> Result<Vec<crate::check::Module>, String> {
    read_blackbox(path).map_err(|errors| report(path, &errors))
}

impl Config {
    /// What the config asks that this sonde will not do, though it is not
    /// an error (a blackbox.yml module whose prober sonde lacks): one line
    /// each, for check-config and the log.
    pub fn notes(&self) -> Vec<String> {
        let file = self.blackbox_config.as_deref().map_or(String::new(), |p| format!("{}: ", p.display()));
        let skipped = self.modules.iter().filter_map(|m| m.kind.as_ref().err().map(|why| (&m.name, why)));
        let mut notes: Vec<String> =
            skipped.map(|(name, why)| format!("{file}module {name} will not run: {why}")).collect();
        if let Some(w) = &self.web {
            notes.extend(web::cost_note(&w.web).map(|n| format!("{}: {n}", w.path.display())));
        }
        notes
    }
}

/// The modules of a blackbox.yml; its errors say its name and their lines.
fn read_blackbox(path: &Path) -> Result<Vec<crate::check::Module>, Vec<Error>> {
    blackbox::load(path).map_err(|errors| {
        let at = |line: usize| if line > 0 { format!(":{line}") } else { String::new() };
        errors
            .into_iter()
            .map(|(line, m)| Error { line: 0, message: format!("{}{}: {m}", path.display(), at(line)) })
            .collect()
    })
}

/// Whether a YAML file is a web-config.yml rather than a blackbox.yml:
/// it has one of exporter-toolkit's top-level keys and no `modules`.
pub fn is_web_config(path: &Path) -> bool {
    let mut buf = Vec::new();
    if crate::sys::file::read_bounded(path, &mut buf, MAX_CONFIG_FILE).is_err() {
        return false;
    }
    let top = |key: &str| {
        buf.split(|&b| b == b'\n').any(|l| l.starts_with(key.as_bytes()) && l.get(key.len()) == Some(&b':'))
    };
    !top("modules")
        && ["basic_auth_users", "http_server_config", "rate_limit", "tls_server_config"].iter().any(|k| top(k))
}

/// A web-config.yml; its errors say its name and their lines.
pub fn read_web(path: &Path) -> Result<web::WebFile, Vec<Error>> {
    web::load(path).map_err(|errors| {
        errors
            .into_iter()
            .map(|(line, message)| match line {
                0 => Error { line: 0, message: format!("{}: {message}", path.display()) },
                n => Error { line: 0, message: format!("{}:{n}: {message}", path.display()) },
            })
            .collect()
    })
}

/// `[probe]`: where the operator's blackbox.yml is.
fn probe(config: &mut Config, e: &Entry) -> Result<(), Problem> {
    match (e.key.as_str(), &e.value) {
        ("blackbox_config", Value::Str(s)) if !s.is_empty() => {
            config.blackbox_config = Some(s.into());
            Ok(())
        }
        ("blackbox_config", v) => Err(Problem::Invalid(format!("expected a file path, found {}", v.type_name()))),
        _ => Err(Problem::UnknownKey),
    }
}

/// Formats errors one per line, `FILE:LINE: message`.
pub fn report(path: &Path, errors: &[Error]) -> String {
    let mut out = String::new();
    for e in errors {
        if !out.is_empty() {
            out.push('\n');
        }
        if e.line > 0 {
            out.push_str(&format!("{}:{}: ", path.display(), e.line));
        }
        escape_controls(&e.message, &mut out);
    }
    out
}

/// Appends `text` with its control characters escaped (`\n`, `\u{1b}`),
/// so a message quoting the file stays one line that starts with its
/// file:line, and a terminal is not driven by the file's bytes.
fn escape_controls(text: &str, out: &mut String) {
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
}

enum Problem {
    UnknownKey,
    Invalid(String),
}

fn server(config: &mut Config, e: &Entry) -> Result<(), Problem> {
    match e.key.as_str() {
        "listen" => {
            let items = strings(&e.value)?;
            if items.is_empty() {
                return Err(Problem::Invalid("no address given; to run without an endpoint, use --once".into()));
            }
            config.listen = items.iter().map(|s| s.parse()).collect::<Result<_, String>>().map_err(Problem::Invalid)?;
            Ok(())
        }
        "allow" => {
            config.allow = strings(&e.value)?
                .iter()
                .map(|s| {
                    crate::wire::cidr::Cidr::parse(s).ok_or_else(|| {
                        Problem::Invalid(format!("'{s}' is not an address or a CIDR prefix (no names: no DNS here)"))
                    })
                })
                .collect::<Result<_, _>>()?;
            Ok(())
        }
        "open_paths" => {
            let items = strings(&e.value)?;
            if let Some(bad) = items.iter().find(|p| !p.starts_with('/')) {
                return Err(Problem::Invalid(format!("'{bad}' is not a path: it must start with /")));
            }
            config.open_paths = items.iter().map(|s| (*s).to_owned()).collect();
            Ok(())
        }
        "web_config" => match &e.value {
            Value::Str(s) if !s.is_empty() => {
                config.web =
                    Some(web::WebFile { path: s.into(), stamp: None, web: std::sync::Arc::new(web::Web::default()) });
                Ok(())
            }
            v => Err(Problem::Invalid(format!("expected a file path, found {}", v.type_name()))),
        },
        _ => Err(Problem::UnknownKey),
    }
}

fn paths(config: &mut Config, e: &Entry) -> Result<(), Problem> {
    let slot = match e.key.as_str() {
        "procfs" => &mut config.collect.procfs,
        "sysfs" => &mut config.collect.sysfs,
        "rootfs" => &mut config.collect.rootfs,
        "state_dir" => &mut config.state_dir,
        _ => return Err(Problem::UnknownKey),
    };
    match &e.value {
        Value::Str(s) if !s.is_empty() => {
            *slot = PathBuf::from(s);
            Ok(())
        }
        v => Err(Problem::Invalid(format!("expected a directory path, found {}", v.type_name()))),
    }
}

fn collectors(config: &mut collect::Settings, e: &Entry, all: &[Entry]) -> Result<(), Problem> {
    let Value::Bool(on) = e.value else {
        return Err(Problem::Invalid(format!("expected true or false, found {}", e.value.type_name())));
    };
    if e.key == "defaults" {
        // Applies to every collector not named in the section, wherever
        // in the section it stands: true leaves each at its own default
        // (processes is off), false switches it off.
        for (i, (name, c)) in collect::names().zip(collect::ALL).enumerate() {
            if !all.iter().any(|other| other.key == name) {
                config.enabled[i] = on && c.default_enabled();
            }
        }
        return Ok(());
    }
    let i = collect::index(&e.key).ok_or(Problem::UnknownKey)?;
    config.enabled[i] = on;
    Ok(())
}

fn chrony(c: &mut chrony::Settings, e: &Entry) -> Result<(), Problem> {
    match (e.key.as_str(), &e.value) {
        ("address", Value::Str(s)) => {
            c.address = control_address(s, "a chronyd address")?;
            Ok(())
        }
        ("timeout", Value::Str(s)) => {
            c.timeout = control_timeout(s, CHRONY_DEADLINE)?;
            Ok(())
        }
        ("dns_lookups", Value::Bool(false)) => Ok(()),
        ("dns_lookups", Value::Bool(true)) => Err(Problem::Invalid(
            "true is not supported: sonde makes no DNS lookups, and source_name is the source's address".into(),
        )),
        ("address" | "timeout", v) => Err(Problem::Invalid(format!("expected a string, found {}", v.type_name()))),
        ("dns_lookups", v) => Err(Problem::Invalid(format!("expected false, found {}", v.type_name()))),
        _ => Err(Problem::UnknownKey),
    }
}

/// `"auto"`, `"unix:/absolute/path"`, or IP:PORT / [IPv6]:PORT: addresses
/// only, since sonde resolves no names. `what` names it in the message
/// ("a chronyd address").
fn control_address(s: &str, what: &str) -> Result<daemon::Address, Problem> {
    if s == "auto" {
        return Ok(daemon::Address::Auto);
    }
    if let Some(path) = s.strip_prefix("unix:") {
        if !path.starts_with('/') {
            return Err(Problem::Invalid(format!("'{s}': write unix: and an absolute path")));
        }
        return Ok(daemon::Address::Unix(path.into()));
    }
    s.parse().map(daemon::Address::Ip).map_err(|_| {
        Problem::Invalid(format!("'{s}' is not {what}; write \"auto\", \"unix:/path\", IP:PORT or [IPv6]:PORT"))
    })
}

/// A per-request timeout of a daemon collector: from 10ms up to the
/// collector's whole `deadline`.
fn control_timeout(s: &str, deadline: Duration) -> Result<Duration, Problem> {
    let d = duration(s).map_err(Problem::Invalid)?;
    if d < Duration::from_millis(10) || d > deadline {
        return Err(Problem::Invalid(format!(
            "'{s}' is out of range: from 10ms to the collector's deadline, {}s",
            deadline.as_secs()
        )));
    }
    Ok(d)
}

/// A duration as the config writes it: a number and a unit, `ms` or `s`
/// ("500ms", "1s", "1.5s").
pub fn duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let scale = match unit {
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!("'{s}' is not a duration; write a number and ms, s, m or h, e.g. \"500ms\" or \"15s\""))
        }
    };
    let ok = !number.is_empty() && !number.starts_with('.') && !number.ends_with('.');
    let n =
        crate::wire::float::parse(number).filter(|_| ok).ok_or_else(|| format!("'{s}': '{number}' is not a number"))?;
    Duration::try_from_secs_f64(n * scale).map_err(|_| format!("'{s}' is too long"))
}

fn strings(v: &Value) -> Result<Vec<&str>, Problem> {
    match v {
        Value::Str(s) => Ok(vec![s.as_str()]),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Str(s) => Ok(s.as_str()),
                other => Err(Problem::Invalid(format!("expected strings in the array, found {}", other.type_name()))),
            })
            .collect(),
        other => {
            Err(Problem::Invalid(format!("expected a string or an array of strings, found {}", other.type_name())))
        }
    }
}

/// "; did you mean 'x'?" for the closest known word, or the list of known
/// words when none is close.
fn suggest<'a>(word: &str, known: impl Iterator<Item = &'a str>) -> String {
    let known: Vec<&str> = known.collect();
    let best = known.iter().map(|k| (edit_distance(word, k), *k)).min_by_key(|(d, _)| *d);
    match best {
        Some((d, k)) if d <= 2.max(word.len() / 3) => format!("; did you mean '{k}'?"),
        _ if known.is_empty() => String::new(),
        _ => format!("; known: {}", known.join(", ")),
    }
}

/// Levenshtein distance over chars; inputs are config keys, a few bytes.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: issue 14, case 11.
    #[test]
    fn directories_mounts_and_programs() {
        let c = parse(
            "[[directory]]\nname = \"d\"\npath = \"/var/lib/x\"\npermission = \"0750\"\n\
             [[mount]]\nname = \"root\"\npath = \"/\"\nmin_free = \"12.5%\"\nmin_inodes_free = \"1000\"\n\
             [[program]]\nname = \"raid\"\npath = [\"/usr/local/bin/raid\", \"-q\"]\nstatus = \"> 1\"\noutput = \"FAIL\"\n",
        )
        .unwrap();
        let w = &c.watch;
        assert!(w.files[0].directory && w.files[0].permission == Some(0o750));
        assert_eq!(w.mounts[0].min_free, Some(crate::watch::Free::Percent(12.5)));
        assert_eq!(w.mounts[0].min_inodes_free, Some(crate::watch::Free::Count(1000)));
        assert_eq!(w.programs[0].status, (crate::watch::Op::Gt, 1));
        assert_eq!(w.programs[0].timeout, crate::watch::PROGRAM_TIMEOUT);
        assert_eq!(w.names(), ["d", "root", "raid"]);
        for (text, says) in [
            ("[[directory]]\nname = \"d\"\npath = \"/x\"\nchecksum = \"sha256\"\n", "unknown key 'checksum'"),
            ("[[mount]]\nname = \"m\"\npath = \"/\"\n", "needs min_free or min_inodes_free"),
            ("[[mount]]\nname = \"m\"\npath = \"/\"\nmin_free = \"120%\"\n", "write a percentage"),
            ("[[mount]]\nname = \"m\"\npath = \"/\"\nmin_inodes_free = \"1 GB\"\n", "number of inodes"),
            ("[[program]]\nname = \"p\"\n", "needs a path"),
            ("[[program]]\nname = \"p\"\npath = \"/bin/x\"\n", "write the program as an array"),
            ("[[program]]\nname = \"p\"\npath = [\"/bin/x\"]\nstatus = \"~ 1\"\n", "an operator and an exit status"),
            ("[[program]]\nname = \"p\"\npath = [\"/bin/x\"]\noutput = \"(\"\n", "output:"),
            ("[[file]]\nname = \"f\"\npath = \"/x\"\ncontent = \"[\"\n", "content:"),
            (
                "[[file]]\nname = \"a\"\npath = \"/x\"\n[[mount]]\nname = \"a\"\npath = \"/\"\nmin_free = \"1%\"\n",
                "named 'a'",
            ),
            ("[mount]\nname = \"m\"\n", "write [[mount]]"),
        ] {
            let errors = parse(text).unwrap_err();
            assert!(errors.iter().any(|e| e.message.contains(says)), "{text}: {errors:?}");
        }
    }

    #[test]
    fn r14_a_report_escapes_control_characters() {
        let errors = [Error { line: 3, message: "unknown key \"a\\nb\u{1b}[31m\"\nnext".into() }];
        let text = report(Path::new("s.toml"), &errors);
        assert_eq!(text, "s.toml:3: unknown key \"a\\nb\\u{1b}[31m\"\\nnext");
    }

    #[test]
    fn the_embedded_default_parses() {
        let c = parse(DEFAULT_SETTINGS).unwrap();
        // The whole text, comments and all, is the same config.
        assert_eq!(parse(&default_text()).unwrap(), c);
        assert_eq!(default_text(), include_str!("default.toml"));
        assert_eq!(c, Config::builtin());
        assert_eq!(c.listen, vec![Listen::AnyAddress(DEFAULT_PORT)]);
        let defaults: Vec<bool> = collect::ALL.iter().map(|c| c.default_enabled()).collect();
        assert_eq!(c.collect.enabled, defaults);
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let errors = parse("[server]\nlisen = \":1\"\n").unwrap_err();
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].message.contains("did you mean 'listen'?"), "{errors:?}");
        let errors = parse("[collector]\n").unwrap_err();
        assert!(errors[0].message.contains("did you mean 'collectors'?"), "{errors:?}");
        let errors = parse("[collectors]\nmeminf = false\n").unwrap_err();
        assert!(errors[0].message.contains("did you mean 'meminfo'?"), "{errors:?}");
        let errors = parse("[paths]\nzzzzzzzz = 1\n").unwrap_err();
        assert!(errors[0].message.contains("known: procfs, sysfs"), "{errors:?}");
    }

    #[test]
    fn all_errors_are_reported_in_line_order() {
        let text = "[server]\nlisten = 5\n[paths]\nprocfs = \"/p\"\nbogus = 1\n[nope]\n";
        let errors = parse(text).unwrap_err();
        let lines: Vec<_> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 5, 6]);
    }

    #[test]
    fn listen_forms() {
        assert_eq!(":9".parse(), Ok(Listen::AnyAddress(9)));
        assert_eq!("127.0.0.1:9".parse(), Ok(Listen::Addr("127.0.0.1:9".parse().unwrap())));
        assert_eq!("[::1]:9".parse(), Ok(Listen::Addr("[::1]:9".parse().unwrap())));
        assert!("localhost:9".parse::<Listen>().is_err());
        assert!(":99999".parse::<Listen>().is_err());
    }

    #[test]
    fn defaults_false_keeps_only_the_named_collectors() {
        let c = parse("[collectors]\nmeminfo = true\ndefaults = false\n").unwrap();
        let on: Vec<&str> = collect::names().zip(&c.collect.enabled).filter(|(_, &on)| on).map(|(n, _)| n).collect();
        assert_eq!(on, vec!["meminfo"]);
    }

    #[test]
    fn chrony_section() {
        let c = parse("[chrony]\n").unwrap();
        assert_eq!(c.collect.chrony, chrony::Settings::default());
        let c = parse("[chrony]\naddress = \"unix:/var/run/chrony/chronyd.sock\"\ntimeout = \"250ms\"\n").unwrap();
        assert_eq!(c.collect.chrony.address, daemon::Address::Unix("/var/run/chrony/chronyd.sock".into()));
        assert_eq!(c.collect.chrony.timeout, Duration::from_millis(250));
        let c = parse("[chrony]\naddress = \"[::1]:323\"\ndns_lookups = false\n").unwrap();
        assert_eq!(c.collect.chrony.address, daemon::Address::Ip("[::1]:323".parse().unwrap()));
        for (text, says) in [
            ("address = \"localhost:323\"", "not a chronyd address"),
            ("address = \"unix:chronyd.sock\"", "absolute path"),
            ("address = 323", "expected a string"),
            ("timeout = \"1\"", "not a duration"),
            ("timeout = \"5s\"", "out of range"),
            ("timeout = \"1ms\"", "out of range"),
            ("dns_lookups = true", "not supported"),
            ("adress = \"auto\"", "did you mean 'address'?"),
        ] {
            let errors = parse(&format!("[chrony]\n{text}\n")).unwrap_err();
            assert_eq!(errors[0].line, 2, "{text}");
            assert!(errors[0].message.contains(says), "{text}: {errors:?}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("1.5s"), Ok(Duration::from_millis(1500)));
        for bad in ["", "s", "1", "1d", "-1s", "1.s", ".5s", "1..2s", "1e3s", " 1s", "1 s"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_override_the_file() {
        let mut c = Config::builtin();
        let o = Overrides { listen: vec!["127.0.0.1:1".into()], disable: vec!["cpu".into()], ..Overrides::default() };
        c.apply(&o).unwrap();
        assert_eq!(c.listen, vec![Listen::Addr("127.0.0.1:1".parse().unwrap())]);
        assert!(!c.collect.enabled[collect::index("cpu").unwrap()]);
        let bad = Overrides { disable: vec!["cpuu".into()], ..Overrides::default() };
        let errors = c.apply(&bad).unwrap_err();
        assert!(errors[0].message.contains("did you mean 'cpu'?"));
    }
}
