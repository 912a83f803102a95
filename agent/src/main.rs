//! The `sonde` command: flags, subcommands, exit codes.
//!
//! Exit codes: 0 done; 1 `--once` wrote its output but a collector
//! failed, or (pushing) not everything was delivered (stderr says what);
//! 2 the command line or the config is wrong, or the endpoint or the push
//! could not start.

use std::io::Write;
use std::process::ExitCode;

use std::sync::Arc;

use sonde::agent::Agent;
use sonde::collect;
use sonde::config::{self, Config, Overrides};
use sonde::sys::log::{self, Level};

mod cli;

use cli::{Command, Early};

fn main() -> ExitCode {
    let words: Vec<String> = std::env::args().skip(1).collect();
    let args = match cli::parse(&words) {
        Ok(args) => args,
        Err(Early::Help(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(Early::Error(e)) => {
            eprintln!("sonde: {e}");
            eprintln!("Run sonde --help for how to use it.");
            return ExitCode::from(2);
        }
    };
    if args.version {
        println!("sonde {} ({})", env!("CARGO_PKG_VERSION"), env!("SONDE_TARGET"));
        return ExitCode::SUCCESS;
    }
    match &args.command {
        Some(Command::CheckConfig(file)) => {
            // A .yml file is a blackbox.yml or a web-config.yml, checked as
            // sonde reads it.
            let yaml = file.extension().is_some_and(|e| e == "yml" || e == "yaml");
            let loaded = if yaml && config::is_web_config(file) {
                config::read_web(file).map_err(|e| config::report(file, &e)).map(|web| {
                    let mut config = Config::builtin();
                    config.web = Some(web);
                    config
                })
            } else if yaml {
                config::load_blackbox(file).map(|modules| {
                    let mut config = Config::builtin();
                    config.modules = modules;
                    config
                })
            } else {
                config::load(file)
            };
            return match loaded {
                Ok(config) => {
                    for note in config.notes() {
                        eprintln!("{}: {note}", file.display());
                    }
                    println!("{}: ok", file.display());
                    ExitCode::SUCCESS
                }
                Err(report) => {
                    eprintln!("{report}");
                    ExitCode::from(2)
                }
            };
        }
        Some(Command::DefaultConfig) => {
            print!("{}", config::default_text());
            return ExitCode::SUCCESS;
        }
        Some(Command::Collectors) => {
            let defaults = Config::builtin();
            for (name, on) in collect::names().zip(&defaults.collect.enabled) {
                println!("{name:<12} {}", if *on { "on" } else { "off" });
            }
            return ExitCode::SUCCESS;
        }
        Some(Command::Resume(_)) | None => {}
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
        web_config: args.web_config_file.clone(),
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

    if let Some(Command::Resume(names)) = &args.command {
        return resume(&config, names);
    }

    // One instance per spool and state directory, in both modes: two
    // sondes on one spool would send its batches twice, two watchdogs on
    // one state restart each other's services.
    let mut dirs: Vec<&std::path::Path> = config.push.iter().filter_map(|p| p.spool.as_deref()).collect();
    if !config.logs.is_empty() || !config.notify.outputs.is_empty() || !config.watch.is_empty() {
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
    let endpoint = match sonde::serve::Endpoint::bind(&config) {
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

/// `sonde resume [NAME...]`: leaves the request for the watchdog.
fn resume(config: &Config, names: &[String]) -> ExitCode {
    // Only a service gives up or is unmonitored by an action.
    let known: Vec<&str> = config.watch.services.iter().map(|s| s.name.as_str()).collect();
    if known.is_empty() {
        error(format_args!("resume: the config has no [[service]]"));
        return ExitCode::from(2);
    }
    if let Some(bad) = names.iter().find(|n| !known.contains(&n.as_str())) {
        error(format_args!("resume: the config has no [[service]] named '{bad}' (it has: {})", known.join(", ")));
        return ExitCode::from(2);
    }
    match sonde::watch::state::request_resume(&config.state_dir, names) {
        Ok(()) => {
            let which = if names.is_empty() { "every service".to_owned() } else { names.join(", ") };
            let next = config.watch.interval;
            println!(
                "{which}: resumed at the watchdog's next cycle (within {next:?}) if it gave up or was unmonitored"
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            error(format_args!("resume: cannot write to {}: {e}", config.state_dir.display()));
            ExitCode::from(2)
        }
    }
}

/// A line of sonde's log at error level (`sonde: ...` on stderr).
fn error(args: std::fmt::Arguments<'_>) {
    log::write(Level::Error, args);
}
