//! `textfile`: metrics that cron scripts write into `*.prom` files in
//! `[textfile] directory`, passed on with node_exporter's textfile
//! semantics:
//!
//! - each `*.prom` file (not recursing, in name order) is parsed whole;
//!   a file that does not parse, or that has a sample with a timestamp,
//!   is left out entirely and sets `node_textfile_scrape_error` to 1;
//! - a family may come from several files and is merged; one whose type,
//!   or help text, differs from the file read before is left out of the
//!   later file and sets the error;
//! - a family without HELP gets "Metric read from <files>.";
//! - within a family every sample has every label any of them has, empty
//!   where it had none; labels are sorted by name;
//! - `node_textfile_mtime_seconds{file}` gives each file read's
//!   modification time, and `node_textfile_scrape_error` is written at
//!   every scrape, 0 when there is no directory.
//!
//! Beyond node_exporter: a series written twice is kept once and sets the
//! error (node_exporter fails the whole scrape then); histograms and
//! summaries are passed on as written, not rebuilt (so a missing `+Inf`
//! bucket stays missing). A family named like one of sonde's own is
//! refused by the exposition and fails the collector.
//!
//! At most [`MAX_TEXTFILES`] files, each at most [`MAX_PROC_FILE`] bytes.
//! This collector allocates: what it passes on is the operator's own
//! data, of any shape.

use std::path::Path;
use std::time::UNIX_EPOCH;

use super::common::sort_names;
use super::{Collector, Context, Error};
use crate::expo::{Exposition, MetricType};
use crate::limits::{MAX_PROC_FILE, MAX_TEXTFILES};
use crate::sys::file::read_bounded;
use crate::wire::expfmt;
use crate::wire::textfile::{self, Line};

pub struct Textfile;

struct Family {
    name: String,
    help: Option<String>,
    kind: MetricType,
    /// Whether the file declared the type (a later TYPE is then an error).
    typed: bool,
    /// Indexes of the files it came from, for the default help.
    files: Vec<usize>,
    samples: Vec<Sample>,
}

struct Sample {
    /// `""`, `"_sum"`, `"_count"` or `"_bucket"`.
    suffix: &'static str,
    labels: Vec<(String, String)>,
    value: f64,
}

impl Collector for Textfile {
    fn name(&self) -> &'static str {
        "textfile"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let mut error = None;
        let mut families: Vec<Family> = Vec::new();
        let mut read: Vec<(String, f64)> = Vec::new();
        if let Some(dir) = &cx.settings().textfile {
            collect_dir(dir, &mut families, &mut read, &mut error);
        }
        if !render(&mut families, &read, out) {
            error.get_or_insert(Error::Parse {
                path: cx.settings().textfile.clone().unwrap_or_default(),
                err: crate::wire::Error::at(0, "a series written twice; the second is left out"),
            });
        }
        let errored = error.is_some();
        if !read.is_empty() {
            out.family(
                "node_textfile_mtime_seconds",
                "Unixtime mtime of textfiles successfully read.",
                MetricType::Gauge,
            );
        }
        for (file, mtime) in &read {
            out.sample(&[("file", file)], *mtime);
        }
        let help = "1 if there was an error opening or reading a file, 0 otherwise";
        out.family("node_textfile_scrape_error", help, MetricType::Gauge);
        out.sample(&[], if errored { 1.0 } else { 0.0 });
        // Also a collector failure, so that sonde logs it (when it starts
        // and when it ends) and node_scrape_collector_success says it.
        error.map_or(Ok(()), Err)
    }
}

/// Reads every `*.prom` file of `dir` into `families`; the first problem
/// goes to `error`, and every problem sets node_textfile_scrape_error.
fn collect_dir(dir: &Path, families: &mut Vec<Family>, read: &mut Vec<(String, f64)>, error: &mut Option<Error>) {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".prom"))
            .collect(),
        Err(err) => {
            *error = Some(Error::Io { path: dir.to_path_buf(), err });
            return;
        }
    };
    sort_names(&mut names);
    if names.len() > MAX_TEXTFILES {
        names.truncate(MAX_TEXTFILES);
        let err = std::io::Error::new(std::io::ErrorKind::FileTooLarge, "too many *.prom files; the last are left out");
        *error = Some(Error::Io { path: dir.to_path_buf(), err });
    }
    let mut buf = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let parsed = match read_bounded(&path, &mut buf, MAX_PROC_FILE) {
            Ok(()) => parse_file(&buf).map_err(|err| Error::Parse { path: path.clone(), err }),
            Err(err) => Err(Error::Io { path: path.clone(), err }),
        };
        let file_families = match parsed {
            Ok(f) => f,
            Err(e) => {
                error.get_or_insert(e);
                continue;
            }
        };
        let index = read.len();
        let mtime = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0.0, |d| d.as_secs() as f64);
        read.push((path.to_string_lossy().into_owned(), mtime));
        for mut f in file_families {
            f.files.push(index);
            match families.iter_mut().find(|g| g.name == f.name) {
                None => families.push(f),
                Some(g) if g.kind != f.kind || (g.help.is_some() && f.help.is_some() && g.help != f.help) => {
                    let err = crate::wire::Error::at(0, "a family differs in type or help from an earlier file's");
                    error.get_or_insert(Error::Parse { path: path.clone(), err });
                }
                Some(g) => {
                    g.help = g.help.take().or(f.help);
                    g.files.push(index);
                    g.samples.append(&mut f.samples);
                }
            }
        }
    }
}

/// The families of one file, or why the file is left out.
fn parse_file(bytes: &[u8]) -> Result<Vec<Family>, crate::wire::Error> {
    let mut families: Vec<Family> = Vec::new();
    let find = |families: &mut Vec<Family>, name: &str| -> usize {
        families.iter().position(|f| f.name == name).unwrap_or_else(|| {
            families.push(Family {
                name: name.to_owned(),
                help: None,
                kind: MetricType::Untyped,
                typed: false,
                files: Vec::new(),
                samples: Vec::new(),
            });
            families.len() - 1
        })
    };
    for (n, line) in textfile::parse(bytes).enumerate() {
        let bad = |what| crate::wire::Error::at(n + 1, what);
        match line? {
            Line::Help { name, text } => {
                let i = find(&mut families, name);
                let f = &mut families[i];
                if f.help.is_some() {
                    return Err(bad("a second HELP for a family"));
                }
                let mut help = String::new();
                expfmt::unescape(text, &mut help);
                f.help = Some(help);
            }
            Line::Type { name, kind } => {
                let i = find(&mut families, name);
                let f = &mut families[i];
                if f.typed || !f.samples.is_empty() {
                    return Err(bad("a TYPE after the family's samples, or twice"));
                }
                f.kind = kind;
                f.typed = true;
            }
            Line::Sample { timestamp: true, .. } => {
                return Err(bad("a sample with a timestamp; node_exporter refuses the file too"));
            }
            Line::Sample { name, labels, value, .. } => {
                let (i, suffix) = family_of(&families, name).unwrap_or_else(|| (find(&mut families, name), ""));
                let kind = families[i].kind;
                let mut pairs: Vec<(String, String)> = Vec::new();
                for (label, raw) in textfile::labels(labels) {
                    let mut v = String::new();
                    expfmt::unescape(raw, &mut v);
                    pairs.push((label.to_owned(), v));
                }
                let needs = match (kind, suffix) {
                    (MetricType::Histogram, "_bucket") => Some("le"),
                    (MetricType::Summary, "") => Some("quantile"),
                    _ => None,
                };
                if needs.is_some_and(|l| !pairs.iter().any(|(n, _)| n == l)) {
                    return Err(bad("a histogram bucket without le, or a quantile without quantile"));
                }
                families[i].samples.push(Sample { suffix, labels: pairs, value });
            }
        }
    }
    families.retain(|f| !f.samples.is_empty());
    Ok(families)
}

/// The family a sample name belongs to, when it is the `_sum`, `_count`
/// or `_bucket` of a declared histogram or summary, or a family already
/// seen; as Prometheus's text parser decides it.
fn family_of(families: &[Family], name: &str) -> Option<(usize, &'static str)> {
    if let Some(i) = families.iter().position(|f| f.name == name) {
        return Some((i, ""));
    }
    for suffix in ["_sum", "_count", "_bucket"] {
        let Some(base) = name.strip_suffix(suffix) else { continue };
        let i = families.iter().position(|f| f.name == base)?;
        let takes = match families[i].kind {
            MetricType::Summary => suffix != "_bucket",
            MetricType::Histogram => true,
            _ => false,
        };
        return takes.then_some((i, suffix));
    }
    None
}

/// Writes the families, in the order they were first read; false if a
/// duplicate series was left out.
fn render(families: &mut [Family], read: &[(String, f64)], out: &mut Exposition) -> bool {
    let mut ok = true;
    for f in families.iter_mut() {
        // Every label of the family on every sample, sorted, then the
        // bucket or quantile label that only some samples of a histogram
        // or summary carry by design; as node_exporter writes them.
        let own = match f.kind {
            MetricType::Histogram => "le",
            MetricType::Summary => "quantile",
            _ => "",
        };
        let mut all: Vec<String> = Vec::new();
        for s in &f.samples {
            for (n, _) in &s.labels {
                if n != own && !all.contains(n) {
                    all.push(n.clone());
                }
            }
        }
        sort_names(&mut all);
        all.push(own.to_owned());
        for s in &mut f.samples {
            let mut ordered = Vec::with_capacity(all.len());
            for n in &all {
                match s.labels.iter().position(|(m, _)| m == n) {
                    Some(i) => ordered.push(s.labels.swap_remove(i)),
                    None if n != own => ordered.push((n.clone(), String::new())),
                    None => {}
                }
            }
            s.labels = ordered;
        }
        let default_help;
        let help = match &f.help {
            Some(h) => h.as_str(),
            None => {
                let files: Vec<&str> = f.files.iter().filter_map(|&i| read.get(i)).map(|(p, _)| p.as_str()).collect();
                default_help = ["Metric read from ", &files.join(", ")].concat();
                &default_help
            }
        };
        out.family(&f.name, help, f.kind);
        // A series twice is left out after its first: found by sorting,
        // not by comparing each sample with those before it (that was
        // quadratic: 20,000 series in one family took 21 s). The sort is
        // stable, so the first of equal ones is the first read.
        let mut by_series: Vec<usize> = (0..f.samples.len()).collect();
        by_series.sort_by(|&a, &b| {
            let (a, b) = (&f.samples[a], &f.samples[b]);
            (a.suffix, &a.labels).cmp(&(b.suffix, &b.labels))
        });
        let mut repeated = vec![false; f.samples.len()];
        for w in by_series.windows(2) {
            let (a, b) = (&f.samples[w[0]], &f.samples[w[1]]);
            if a.suffix == b.suffix && a.labels == b.labels {
                repeated[w[1]] = true;
            }
        }
        for (s, repeated) in f.samples.iter().zip(repeated) {
            if repeated {
                ok = false;
                continue;
            }
            // At most 32 labels, as the parser bounds them, and one more.
            let mut labels = [("", ""); 33];
            for (slot, (n, v)) in labels.iter_mut().zip(&s.labels) {
                *slot = (n.as_str(), v.as_str());
            }
            out.sample_suffixed(s.suffix, &labels[..s.labels.len().min(33)], s.value);
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_merge_labels_fill_and_help_defaults() {
        let a = parse_file(b"# TYPE jobs gauge\njobs{name=\"a\"} 1\nstray 2\n").unwrap();
        let b =
            parse_file(b"jobs{host=\"x\"} 3\n# TYPE rpc summary\nrpc{quantile=\"0.5\"} 1\nrpc_sum 2\nrpc_count 3\n")
                .unwrap();
        assert_eq!(b.len(), 2);
        let mut families = Vec::new();
        for (i, mut f) in a.into_iter().chain(b).enumerate() {
            f.files.push(i / 2);
            match families.iter_mut().find(|g: &&mut Family| g.name == f.name) {
                Some(g) => g.samples.append(&mut f.samples),
                None => families.push(f),
            }
        }
        let mut out = Exposition::new(1 << 20);
        let read = vec![("/t/a.prom".to_owned(), 0.0), ("/t/b.prom".to_owned(), 0.0)];
        assert!(render(&mut families, &read, &mut out));
        let text = std::str::from_utf8(out.as_bytes()).unwrap();
        assert!(text.contains("jobs{host=\"\",name=\"a\"} 1\njobs{host=\"x\",name=\"\"} 3\n"), "{text}");
        assert!(text.contains("# HELP stray Metric read from /t/a.prom\n"), "{text}");
        assert!(text.contains("# TYPE rpc summary\nrpc{quantile=\"0.5\"} 1\nrpc_sum 2\nrpc_count 3\n"), "{text}");
    }

    // See: issue 14, case 9. Quadratic, this took minutes; the duplicate
    // is still left out, after the first of its series.
    #[test]
    fn r14_a_hundred_thousand_series_in_one_family_and_a_repeat() {
        let mut text = String::from("# TYPE big gauge\n");
        for i in 0..100_000 {
            text.push_str(&format!("big{{n=\"{i}\"}} {i}\n"));
        }
        text.push_str("big{n=\"7\"} -1\n");
        let mut families = parse_file(text.as_bytes()).unwrap();
        let mut out = Exposition::new(8 << 20);
        assert!(!render(&mut families, &[], &mut out), "the repeat is said");
        let text = std::str::from_utf8(out.as_bytes()).unwrap();
        assert_eq!(text.lines().filter(|l| l.starts_with("big{")).count(), 100_000);
        assert!(text.contains("big{n=\"7\"} 7\n") && !text.contains("-1"), "the first read is kept");
    }

    #[test]
    fn a_bad_file_is_refused_whole() {
        assert!(parse_file(b"ok 1\nbad{ 2\n").is_err());
        assert!(parse_file(b"ok 1 1700000000\n").is_err());
        assert!(parse_file(b"x 1\n# TYPE x gauge\n").is_err());
        assert!(parse_file(b"# TYPE h histogram\nh_bucket 1\n").is_err());
        assert!(parse_file(b"# HELP x a\n# HELP x b\nx 1\n").is_err());
    }
}
