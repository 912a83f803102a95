//! The command line, read by hand: a dozen flags and three subcommands do
//! not need a parser generator, and the one sonde had (argh) cost more of
//! the binary than the whole of this file.
//!
//! Forms: `--flag VALUE`, `--flag=VALUE`, `-c VALUE`, switches without a
//! value, a repeatable flag once per value, then at most one subcommand
//! with its own arguments. `--help`, `-h` or `help` anywhere print the
//! help of the command they follow and exit 0; anything else unknown is an
//! error (exit 2), never ignored.

use std::path::PathBuf;

/// What the command line asks.
#[derive(Debug, Default, PartialEq)]
pub struct Args {
    pub config: Option<PathBuf>,
    pub listen: Vec<String>,
    pub once: bool,
    pub procfs: Option<PathBuf>,
    pub sysfs: Option<PathBuf>,
    pub rootfs: Option<PathBuf>,
    pub no_collector: Vec<String>,
    pub collector: Vec<String>,
    pub push: Option<String>,
    pub spool: Option<PathBuf>,
    pub blackbox_config: Option<PathBuf>,
    pub web_config_file: Option<PathBuf>,
    pub version: bool,
    pub command: Option<Command>,
}

/// A subcommand.
#[derive(Debug, PartialEq)]
pub enum Command {
    CheckConfig(PathBuf),
    DefaultConfig,
    Collectors,
    /// Services to resume (none: every one).
    Resume(Vec<String>),
}

/// Why the command line ends the program before it starts: help asked
/// for (printed on stdout, exit 0), or an error (stderr, exit 2).
#[derive(Debug, PartialEq)]
pub enum Early {
    Help(&'static str),
    Error(String),
}

pub const HELP: &str = "\
Usage: sonde [-c <config>] [--listen <listen...>] [--once] [--procfs <procfs>]
             [--sysfs <sysfs>] [--rootfs <rootfs>] [--no-collector <name...>]
             [--collector <name...>] [--push <url>] [--spool <dir>]
             [--blackbox-config <file>] [--web-config-file <file>] [-V]
             [<command>] [<args>]

sonde: a monitoring agent for small Linux appliances. Serves the host's
metrics (node_exporter's names), chronyd's and Unbound's, and the results of
its TCP, DNS, NTP, HTTP and ICMP checks ([[check]] in the config; also GET
/probe, as blackbox_exporter) on a Prometheus endpoint, by default on port
9858 of every IPv4 and IPv6 address; pushes them with --push; or prints them
once.

Without --config it runs its embedded default (`sonde default-config` prints
it). SIGHUP reloads the config file; a bad one is reported and the running
config stays. SIGTERM or SIGINT stop it.

Options:
  -c, --config      config file (default: the embedded config)
  --listen          where the endpoint listens, repeatable: IP:PORT,
                    [IPv6]:PORT, or :PORT for every address on IPv4 and IPv6
                    (default :9858)
  --once            collect once, write the exposition to stdout and exit: 0
                    if every collector and check worked, 1 if one failed
                    (named on stderr)
  --procfs          root of the proc filesystem (default /proc)
  --sysfs           root of the sys filesystem (default /sys)
  --rootfs          the host's root, where os-release, the udev database and
                    the mount points are (default /)
  --no-collector    switch a collector off, repeatable (`sonde collectors`
                    lists them)
  --collector       switch a collector on, repeatable
  --push            push to this Prometheus Remote-Write URL
                    (http://host:port/path), besides serving the endpoint;
                    with --once, push the cycle instead of printing it
  --spool           spool directory: batches wait here when the receiver is
                    down, at a stop, and between --once runs
  --blackbox-config blackbox_exporter's config file: its modules are what
                    /probe?module=NAME runs, as blackbox's do
  --web-config-file exporter-toolkit's web-config.yml: basic auth users
                    (bcrypt), TLS, response headers, a rate limit; also
                    spelled --web.config.file
  -V, --version     print the version and exit
  -h, --help, help  print this help and exit

Commands:
  check-config FILE check a config file (or a blackbox.yml or web-config.yml,
                    named .yml or .yaml): print every error with its line and
                    exit 2, or print \"ok\" and exit 0
  default-config    print the embedded default config, which documents every
                    key
  collectors        list the collectors and whether the embedded default runs
                    them
  resume [NAME...]  resume the config's services ([[service]]) that gave up
                    after their restart limit or were unmonitored by an
                    action; no NAME: every one. Takes effect at the
                    watchdog's next cycle (or the next --once run)
";

const CHECK_CONFIG_HELP: &str = "\
Usage: sonde check-config FILE

Check a config file (or a blackbox.yml or web-config.yml, named .yml or
.yaml): print every error with its line and exit 2, or print \"ok\" and exit 0.
";

const DEFAULT_CONFIG_HELP: &str = "\
Usage: sonde default-config

Print the embedded default config, which documents every key.
";

const COLLECTORS_HELP: &str = "\
Usage: sonde collectors

List the collectors and whether the embedded default runs them.
";

const RESUME_HELP: &str = "\
Usage: sonde [-c <config>] resume [NAME...]
Resume the named [[service]] tables of the config that gave up after their
restart limit or were unmonitored by an action; without a NAME, every one.
The request is left in the config's state directory and taken at the
watchdog's next cycle, the running sonde's or the next --once run's.
";

/// Reads the arguments after the program's name.
pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Args, Early> {
    let mut out = Args::default();
    let mut words = args.iter().map(AsRef::as_ref);
    while let Some(word) = words.next() {
        if matches!(word, "-h" | "--help" | "help") {
            return Err(Early::Help(HELP));
        }
        if !word.starts_with('-') || word == "-" {
            out.command = Some(command(word, &mut words)?);
            return Ok(out);
        }
        let (name, inline) = match word.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (word, None),
        };
        if matches!(name, "--once" | "-V" | "--version") {
            if inline.is_some() {
                return Err(Early::Error(format!("{name} takes no value")));
            }
            match name {
                "--once" => out.once = true,
                _ => out.version = true,
            }
            continue;
        }
        let value = match inline.or_else(|| words.next()) {
            Some(v) => v.to_owned(),
            None if is_flag(name) => return Err(Early::Error(format!("{name} needs a value"))),
            None => return Err(unknown(name)),
        };
        let path = || Some(PathBuf::from(&value));
        match name {
            "-c" | "--config" => out.config = path(),
            "--listen" => out.listen.push(value),
            "--procfs" => out.procfs = path(),
            "--sysfs" => out.sysfs = path(),
            "--rootfs" => out.rootfs = path(),
            "--no-collector" => out.no_collector.push(value),
            "--collector" => out.collector.push(value),
            "--push" => out.push = Some(value),
            "--spool" => out.spool = path(),
            "--blackbox-config" => out.blackbox_config = path(),
            // The Prometheus exporters spell it with dots.
            "--web-config-file" | "--web.config.file" => out.web_config_file = path(),
            _ => return Err(unknown(name)),
        }
    }
    Ok(out)
}

const FLAGS: &[&str] = &[
    "-c",
    "--config",
    "--listen",
    "--procfs",
    "--sysfs",
    "--rootfs",
    "--no-collector",
    "--collector",
    "--push",
    "--spool",
    "--blackbox-config",
    "--web-config-file",
    "--web.config.file",
];

fn is_flag(name: &str) -> bool {
    FLAGS.contains(&name)
}

fn unknown(name: &str) -> Early {
    Early::Error(format!("unknown flag '{name}'"))
}

/// A subcommand and the rest of the line, which is its own.
fn command<'a>(name: &str, rest: &mut impl Iterator<Item = &'a str>) -> Result<Command, Early> {
    let (help, takes_file) = match name {
        "check-config" => (CHECK_CONFIG_HELP, true),
        "default-config" => (DEFAULT_CONFIG_HELP, false),
        "collectors" => (COLLECTORS_HELP, false),
        "resume" => (RESUME_HELP, false),
        _ => return Err(Early::Error(format!("unknown command '{name}'"))),
    };
    let args: Vec<&str> = rest.collect();
    if args.iter().any(|a| matches!(*a, "-h" | "--help" | "help")) {
        return Err(Early::Help(help));
    }
    if name == "resume" {
        if let Some(flag) = args.iter().find(|a| a.starts_with('-')) {
            return Err(Early::Error(format!("resume takes service names, not '{flag}'")));
        }
        return Ok(Command::Resume(args.iter().map(|a| (*a).to_owned()).collect()));
    }
    match (takes_file, args.as_slice()) {
        (true, [file]) if !file.starts_with('-') => Ok(Command::CheckConfig(PathBuf::from(file))),
        (true, _) => Err(Early::Error(format!("{name} takes one FILE"))),
        (false, []) => Ok(if name == "collectors" { Command::Collectors } else { Command::DefaultConfig }),
        (false, _) => Err(Early::Error(format!("{name} takes no arguments"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &[&str]) -> Args {
        parse(line).unwrap()
    }

    #[test]
    fn flags_in_every_form() {
        let a = ok(&["-c", "/etc/s.toml", "--listen", ":1", "--listen=[::1]:2", "--once", "--no-collector", "cpu"]);
        assert_eq!(a.config, Some("/etc/s.toml".into()));
        assert_eq!(a.listen, [":1", "[::1]:2"]);
        assert!(a.once && !a.version);
        assert_eq!(a.no_collector, ["cpu"]);
        let a = ok(&["--web.config.file", "w.yml", "--spool=/s", "-V"]);
        assert_eq!(a.web_config_file, Some("w.yml".into()));
        assert_eq!(a.spool, Some("/s".into()));
        assert!(a.version);
        assert_eq!(ok(&[]), Args::default());
        // A value may start with a dash or hold an '=': it is the value.
        assert_eq!(ok(&["--push", "http://h/p?a=b"]).push.as_deref(), Some("http://h/p?a=b"));
    }

    #[test]
    fn subcommands() {
        assert_eq!(ok(&["check-config", "x.toml"]).command, Some(Command::CheckConfig("x.toml".into())));
        assert_eq!(ok(&["-c", "y", "collectors"]).command, Some(Command::Collectors));
        assert_eq!(ok(&["default-config"]).command, Some(Command::DefaultConfig));
        assert_eq!(ok(&["-c", "y", "resume"]).command, Some(Command::Resume(vec![])));
        assert_eq!(ok(&["resume", "web", "db"]).command, Some(Command::Resume(vec!["web".into(), "db".into()])));
        assert_eq!(parse(&["resume", "--all"]), Err(Early::Error("resume takes service names, not '--all'".into())));
        assert_eq!(parse(&["check-config", "--help"]), Err(Early::Help(CHECK_CONFIG_HELP)));
    }

    #[test]
    fn help_and_errors() {
        for line in [&["--help"][..], &["-h"], &["help"], &["--once", "--help"]] {
            assert_eq!(parse(line), Err(Early::Help(HELP)), "{line:?}");
        }
        for (line, says) in [
            (&["--no-such-flag"][..], "unknown flag '--no-such-flag'"),
            (&["--listen"], "--listen needs a value"),
            (&["--once=yes"], "takes no value"),
            (&["check-config"], "takes one FILE"),
            (&["check-config", "a", "b"], "takes one FILE"),
            (&["collectors", "x"], "takes no arguments"),
            (&["frobnicate"], "unknown command 'frobnicate'"),
        ] {
            match parse(line) {
                Err(Early::Error(e)) => assert!(e.contains(says), "{line:?}: {e}"),
                other => panic!("{line:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn help_names_every_flag() {
        for flag in FLAGS.iter().filter(|f| f.starts_with("--") && **f != "--web.config.file") {
            assert!(HELP.contains(&format!("{flag} ")), "{flag}");
        }
    }
}
