//! The `sonde` command: flags, subcommands, exit codes.
//!
//! Exit codes: 0 done; 1 `--once` wrote its output but a collector
//! failed, or (pushing) not everything was delivered (stderr says what);
//! 2 the command line or the config is wrong, or the endpoint or the push
//! could not start.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use argh::FromArgs;
use sonde::agent::Agent;
use sonde::collect;
use sonde::config::{self, Config, Overrides};
use sonde::sys::log::{self, Level};

#[derive(FromArgs)]
/// sonde: a monitoring agent for small Linux appliances. Serves the host's
/// metrics (node_exporter's names), chronyd's and Unbound's, and the
/// results of its TCP, DNS and NTP checks ([[check]] in the config; also
/// GET /probe, as blackbox_exporter) on a Prometheus endpoint, by default
/// on port 9858 of every IPv4 and IPv6 address; pushes them with --push;
/// or prints them once.
///
/// Without --config it runs its embedded default (`sonde default-config`
/// prints it). SIGHUP reloads the config file; a bad one is reported and
/// the running config stays. SIGTERM or SIGINT stop it.
struct Args {
    /// config file (default: the embedded config)
    #[argh(option, short = 'c')]
    config: Option<PathBuf>,

    /// where the endpoint listens, repeatable: IP:PORT, [IPv6]:PORT, or
    /// :PORT for every address on IPv4 and IPv6 (default :9858)
    #[argh(option)]
    listen: Vec<String>,

    /// collect once, write the exposition to stdout and exit: 0 if every
    /// collector and check worked, 1 if one failed (named on stderr)
    #[argh(switch)]
    once: bool,

    /// root of the proc filesystem (default /proc)
    #[argh(option)]
    procfs: Option<PathBuf>,

    /// root of the sys filesystem (default /sys)
    #[argh(option)]
    sysfs: Option<PathBuf>,

    /// the host's root, where os-release, the udev database and the mount
    /// points are (default /)
    #[argh(option)]
    rootfs: Option<PathBuf>,

    /// switch a collector off, repeatable (`sonde collectors` lists them)
    #[argh(option)]
    no_collector: Vec<String>,

    /// switch a collector on, repeatable
    #[argh(option)]
    collector: Vec<String>,

    /// push to this Prometheus Remote-Write URL (http://host:port/path),
    /// besides serving the endpoint; with --once, push the cycle instead of
    /// printing it
    #[argh(option)]
    push: Option<String>,

    /// spool directory: batches wait here when the receiver is down, at a
    /// stop, and between --once runs
    #[argh(option)]
    spool: Option<PathBuf>,

    /// blackbox_exporter's config file: its modules are what
    /// /probe?module=NAME runs, as blackbox's do
    #[argh(option)]
    blackbox_config: Option<PathBuf>,

    /// print the version and exit
    #[argh(switch, short = 'V')]
    version: bool,

    #[argh(subcommand)]
    command: Option<Command>,
}

#[derive(FromArgs)]
#[argh(subcommand)]
enum Command {
    CheckConfig(CheckConfig),
    DefaultConfig(DefaultConfig),
    Collectors(Collectors),
}

#[derive(FromArgs)]
/// Check a config file (or a blackbox.yml, named .yml or .yaml): print
/// every error with its line and exit 2, or print "ok" and exit 0.
#[argh(subcommand, name = "check-config")]
struct CheckConfig {
    /// the config file
    #[argh(positional)]
    file: PathBuf,
}

#[derive(FromArgs)]
/// Print the embedded default config, which documents every key.
#[argh(subcommand, name = "default-config")]
struct DefaultConfig {}

#[derive(FromArgs)]
/// List the collectors and whether the embedded default runs them.
#[argh(subcommand, name = "collectors")]
struct Collectors {}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let strs: Vec<&str> = args.iter().map(String::as_str).collect();
    let cmd = strs.first().map_or("sonde", |s| s.rsplit('/').next().unwrap_or(s));
    let args = match Args::from_args(&[cmd], strs.get(1..).unwrap_or_default()) {
        Ok(args) => args,
        Err(early) => {
            return if early.status.is_ok() {
                println!("{}", early.output);
                ExitCode::SUCCESS
            } else {
                eprintln!("{}", early.output.trim_end());
                eprintln!("Run sonde --help for how to use it.");
                ExitCode::from(2)
            };
        }
    };
    if args.version {
        println!("sonde {} ({})", env!("CARGO_PKG_VERSION"), env!("SONDE_TARGET"));
        return ExitCode::SUCCESS;
    }
    match &args.command {
        Some(Command::CheckConfig(c)) => {
            // A .yml file is a blackbox.yml, checked as sonde reads it.
            let yaml = c.file.extension().is_some_and(|e| e == "yml" || e == "yaml");
            let loaded = if yaml {
                config::load_blackbox(&c.file).map(|modules| {
                    let mut config = Config::builtin();
                    config.modules = modules;
                    config
                })
            } else {
                config::load(&c.file)
            };
            return match loaded {
                Ok(config) => {
                    for note in config.notes() {
                        eprintln!("{}: {note}", c.file.display());
                    }
                    println!("{}: ok", c.file.display());
                    ExitCode::SUCCESS
                }
                Err(report) => {
                    eprintln!("{report}");
                    ExitCode::from(2)
                }
            };
        }
        Some(Command::DefaultConfig(_)) => {
            print!("{}", config::default_text());
            return ExitCode::SUCCESS;
        }
        Some(Command::Collectors(_)) => {
            let defaults = Config::builtin();
            for (name, on) in collect::names().zip(&defaults.collect.enabled) {
                println!("{name:<12} {}", if *on { "on" } else { "off" });
            }
            return ExitCode::SUCCESS;
        }
        None => {}
    }

    let overrides = Overrides {
        listen: args.listen.clone(),
        procfs: args.procfs.clone(),
        sysfs: args.sysfs.clone(),
        rootfs: args.rootfs.clone(),
        enable: args.collector.clone(),
        disable: args.no_collector.clone(),
        push: args.push.clone(),
        spool: args.spool.clone(),
        blackbox_config: args.blackbox_config.clone(),
    };
    let load = || -> Result<Config, String> {
        let mut config = match &args.config {
            Some(path) => config::load(path)?,
            None => Config::builtin(),
        };
        config
            .apply(&overrides)
            .map_err(|errors| config::report(args.config.as_deref().unwrap_or("flags".as_ref()), &errors))?;
        for note in config.notes() {
            log::write(Level::Warn, format_args!("{note}"));
        }
        Ok(config)
    };
    let config = match load() {
        Ok(c) => c,
        Err(report) => {
            eprintln!("{report}");
            error(format_args!("not started: the config has errors"));
            return ExitCode::from(2);
        }
    };

    // One instance per spool and state directory, in both modes: two
    // sondes on one spool would send its batches twice.
    let mut dirs: Vec<&std::path::Path> = config.push.iter().filter_map(|p| p.spool.as_deref()).collect();
    if !config.logs.is_empty() || !config.notify.outputs.is_empty() {
        dirs.push(&config.state_dir);
    }
    dirs.sort();
    dirs.dedup();
    let mut locks = Vec::new();
    for dir in dirs {
        match sonde::sys::lock::lock_dir(dir) {
            Ok(l) => locks.push(l),
            Err(e) => {
                error(format_args!("{e}"));
                return ExitCode::from(2);
            }
        }
    }

    if args.once {
        return match sonde::agent::once(&config) {
            Ok(run) => {
                if let Some(bytes) = run.exposition {
                    let mut stdout = std::io::stdout().lock();
                    if let Err(e) = stdout.write_all(&bytes).and_then(|()| stdout.flush()) {
                        // A closed pipe (`sonde --once | head`) is the reader's choice.
                        if e.kind() != std::io::ErrorKind::BrokenPipe {
                            error(format_args!("cannot write the exposition: {e}"));
                            return ExitCode::from(2);
                        }
                    }
                }
                ExitCode::from(u8::from(run.failed))
            }
            Err(e) => {
                error(format_args!("{e}"));
                ExitCode::from(2)
            }
        };
    }
    // The endpoint first: a second sonde on the same address stops here,
    // before its push has sent anything or touched a spool.
    let endpoint = match sonde::serve::Endpoint::bind(&config.listen) {
        Ok(endpoint) => endpoint,
        Err(e) => {
            error(format_args!("{e}"));
            return ExitCode::from(2);
        }
    };
    let agent = match Agent::start(config) {
        Ok(agent) => agent,
        Err(e) => {
            error(format_args!("{e}"));
            return ExitCode::from(2);
        }
    };
    let served = endpoint.run(Arc::clone(&agent), &load);
    agent.stop();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error(format_args!("{e}"));
            ExitCode::from(2)
        }
    }
}

/// A line of sonde's log at error level (`sonde: ...` on stderr).
fn error(args: std::fmt::Arguments<'_>) {
    log::write(Level::Error, args);
}
