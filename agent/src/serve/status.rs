//! The status page at `/` for a person, its JSON at `/status.json` for
//! scripts, and `/-/healthy`, `/-/ready` as Prometheus's own components
//! answer them.
//!
//! Both views are read from one scrape's exposition ([`Status::read`]),
//! so the page shows exactly what Prometheus would see and no subsystem
//! needs a second way to report: the box (name, uptime, load, memory, the
//! fullest filesystem), each check at each address with its failure
//! reason, each watched service with its state, failed conditions,
//! restarts and how long its process has run, the push queue,
//! notifications, log forwarding, and the collectors that failed.
//! The page is plain HTML with a little CSS: no JavaScript, a viewport
//! for phones, and a refresh every [`REFRESH`] seconds.
//!
//! Invariants: the exposition is sonde's own, read by the exposition
//! reader (a line it cannot read is skipped); every text from it is
//! escaped, in the HTML and in the JSON. The JSON is written here, not by
//! serde-json-core: its numbers are floats, and serde-json-core's float
//! writer (ryu) brings 10 KiB of tables that the exposition's own float
//! formatting makes unnecessary. Numbers that are not finite are `null`.

use std::fmt::Write as _;

use crate::wire::expfmt;

/// Seconds between the page's refreshes.
pub const REFRESH: u32 = 30;

/// The body of `/`, `/status.json`, `/-/healthy` or `/-/ready`, and its
/// media type.
pub(super) fn answer(path: &str, shared: &crate::agent::Agent) -> (&'static str, Vec<u8>) {
    match path {
        // Serving a request at all is being healthy and ready: the config
        // was loaded and every required service started before listening.
        "/-/healthy" => ("text/plain; charset=utf-8", b"sonde is Healthy.\n".to_vec()),
        "/-/ready" => ("text/plain; charset=utf-8", b"sonde is Ready.\n".to_vec()),
        "/status.json" => ("application/json", Status::read(&shared.scrape()).json().into_bytes()),
        _ => ("text/html; charset=utf-8", Status::read(&shared.scrape()).html().into_bytes()),
    }
}

/// What the page shows.
#[derive(Debug, Default)]
pub struct Status {
    pub version: &'static str,
    pub host: String,
    /// The box's clock at the scrape (`node_time_seconds`).
    pub time_seconds: f64,
    pub uptime_seconds: f64,
    pub load: [f64; 3],
    pub memory_available_bytes: f64,
    pub memory_total_bytes: f64,
    /// The fullest filesystem: mount point and fraction used.
    pub fullest_filesystem: Option<(String, f64)>,
    pub checks: Vec<Check>,
    /// The watchdog's services.
    pub services: Vec<Service>,
    pub push: Option<Push>,
    /// Notifications: alerts firing, queued, dropped.
    pub notify: Option<[f64; 3]>,
    /// Log files: followed, lines forwarded, lines dropped.
    pub logs: Option<[f64; 3]>,
    pub collectors_failed: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Check {
    pub name: String,
    pub address: String,
    pub up: bool,
    pub reason: String,
    pub duration_seconds: f64,
    /// Since when the check has passed everywhere or failed somewhere
    /// (Unix seconds; 0: not run yet), and when it runs next.
    pub since_seconds: f64,
    pub next_run_seconds: f64,
}

#[derive(Debug, Default)]
pub struct Service {
    pub name: String,
    /// ok, failed, restarting, gave_up, unmonitored.
    pub state: String,
    pub restarts: f64,
    /// Its conditions that failed at their last test.
    pub failing: Vec<String>,
    /// When its oldest process started (0: none seen).
    pub started_seconds: f64,
}

#[derive(Debug, Default)]
pub struct Push {
    pub queued_samples: f64,
    pub last_success_timestamp_seconds: f64,
    pub dropped_samples: f64,
}

impl Status {
    /// Reads one exposition.
    pub fn read(exposition: &[u8]) -> Status {
        let mut s = Status { version: env!("CARGO_PKG_VERSION"), ..Status::default() };
        let (mut now, mut boot) = (0.0, 0.0);
        let mut fs: Vec<(String, f64, f64)> = Vec::new(); // mount, avail, size
        for sample in expfmt::samples(exposition).flatten() {
            let label =
                |name: &str| sample.labels().find(|(n, _)| *n == name).map(|(_, v)| v.into_owned()).unwrap_or_default();
            let v = sample.value;
            match sample.name {
                "node_uname_info" => s.host = label("nodename"),
                "node_time_seconds" => {
                    now = v;
                    s.time_seconds = v;
                }
                "node_boot_time_seconds" => boot = v,
                "node_load1" => s.load[0] = v,
                "node_load5" => s.load[1] = v,
                "node_load15" => s.load[2] = v,
                "node_memory_MemAvailable_bytes" => s.memory_available_bytes = v,
                "node_memory_MemTotal_bytes" => s.memory_total_bytes = v,
                "node_filesystem_avail_bytes" | "node_filesystem_size_bytes" => {
                    let mount = label("mountpoint");
                    let i = fs.iter().position(|f| f.0 == mount).unwrap_or_else(|| {
                        fs.push((mount, 0.0, 0.0));
                        fs.len() - 1
                    });
                    if sample.name.ends_with("avail_bytes") {
                        fs[i].1 = v;
                    } else {
                        fs[i].2 = v;
                    }
                }
                "probe_success" => s.checks.push(Check {
                    name: label("check"),
                    address: label("address"),
                    up: v == 1.0,
                    ..Check::default()
                }),
                "probe_duration_seconds" | "sonde_check_failure_info" => {
                    let (name, address) = (label("check"), label("address"));
                    if let Some(c) = s.checks.iter_mut().find(|c| c.name == name && c.address == address) {
                        if sample.name == "probe_duration_seconds" {
                            c.duration_seconds = v;
                        } else {
                            c.reason = label("reason");
                        }
                    }
                }
                "sonde_check_state_since_timestamp_seconds" | "sonde_check_next_run_timestamp_seconds" => {
                    let name = label("check");
                    for c in s.checks.iter_mut().filter(|c| c.name == name) {
                        if sample.name.ends_with("since_timestamp_seconds") {
                            c.since_seconds = v;
                        } else {
                            c.next_run_seconds = v;
                        }
                    }
                }
                "sonde_service_state" if v == 1.0 => {
                    service(&mut s.services, label("service")).state = label("state");
                }
                "sonde_service_restarts_total" => service(&mut s.services, label("service")).restarts = v,
                "sonde_service_condition_success" if v == 0.0 => {
                    service(&mut s.services, label("service")).failing.push(label("condition"));
                }
                "namedprocess_namegroup_oldest_start_time_seconds" => {
                    service(&mut s.services, label("groupname")).started_seconds = v;
                }
                "sonde_push_queued_samples" => s.push.get_or_insert_with(Push::default).queued_samples += v,
                "sonde_push_last_success_timestamp_seconds" => {
                    s.push.get_or_insert_with(Push::default).last_success_timestamp_seconds = v
                }
                "sonde_push_samples_dropped_total" => s.push.get_or_insert_with(Push::default).dropped_samples += v,
                "sonde_notify_alerts" => s.notify.get_or_insert_default()[0] += v,
                "sonde_notify_queued" => s.notify.get_or_insert_default()[1] += v,
                "sonde_notify_dropped_total" => s.notify.get_or_insert_default()[2] += v,
                "sonde_log_files" => s.logs.get_or_insert_default()[0] += v,
                "sonde_log_lines_forwarded_total" => s.logs.get_or_insert_default()[1] += v,
                "sonde_log_lines_dropped_total" => s.logs.get_or_insert_default()[2] += v,
                "sonde_collector_success" if v == 0.0 => s.collectors_failed.push(label("collector")),
                _ => {}
            }
        }
        if now > 0.0 && boot > 0.0 {
            s.uptime_seconds = now - boot;
        }
        s.fullest_filesystem = fs
            .into_iter()
            .filter(|f| f.2 > 0.0)
            .map(|(m, avail, size)| (m, 1.0 - avail / size))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        s
    }

    /// The page.
    pub fn html(&self) -> String {
        let mut o = String::with_capacity(2048 + 160 * self.checks.len());
        let failing = self.checks.iter().filter(|c| !c.up).count();
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta http-equiv=\"refresh\" content=\"{REFRESH}\"><title>{} {}sonde</title><style>{CSS}</style></head><body>\n",
            Esc(&self.host),
            if failing > 0 { format!("({failing} failing) ") } else { String::new() },
        );
        let _ = write!(o, "<h1>{}</h1>\n<p class=\"box\">", Esc(&self.host));
        let _ = write!(
            o,
            "up {} · load {} {} {}",
            Uptime(self.uptime_seconds),
            Fixed(self.load[0], 2),
            Fixed(self.load[1], 2),
            Fixed(self.load[2], 2)
        );
        if self.memory_total_bytes > 0.0 {
            let used = 1.0 - self.memory_available_bytes / self.memory_total_bytes;
            let _ = write!(o, " · memory {}% used of {}", Fixed(used * 100.0, 0), Bytes(self.memory_total_bytes));
        }
        if let Some((mount, used)) = &self.fullest_filesystem {
            let class = if *used > 0.9 { " class=\"bad\"" } else { "" };
            let _ = write!(o, " · <span{class}>{} {}% full</span>", Esc(mount), Fixed(used * 100.0, 0));
        }
        o.push_str("</p>\n<h2>Checks</h2>\n");
        if self.checks.is_empty() {
            o.push_str("<p>No checks configured.</p>\n");
        } else {
            o.push_str(
                "<table class=\"t\"><tr><th>check</th><th>address</th><th>state</th><th>since</th><th class=\"n\">took</th>\
<th>next</th></tr>\n",
            );
            for c in &self.checks {
                let (class, state) = if c.up { ("ok", "ok") } else { ("bad", "FAILING") };
                let _ = writeln!(
                    o,
                    "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{state}{}{}</td><td>{}</td><td class=\"n\">{} s</td><td>{}</td></tr>",
                    Esc(&c.name),
                    Esc(&c.address),
                    if c.reason.is_empty() { "" } else { ": " },
                    Esc(&c.reason),
                    Ago(c.since_seconds, self.time_seconds),
                    Fixed(c.duration_seconds, 3),
                    In(c.next_run_seconds, self.time_seconds),
                );
            }
            o.push_str("</table>\n");
        }
        if !self.services.is_empty() {
            o.push_str(
                "<h2>Services</h2>\n<table><tr><th>service</th><th>state</th><th>restarts</th><th>since</th></tr>\n",
            );
            for v in &self.services {
                let class = if v.state == "ok" { "ok" } else { "bad" };
                let _ = write!(o, "<tr class=\"{class}\"><td>{}</td><td>{}", Esc(&v.name), Esc(&v.state));
                for c in &v.failing {
                    let _ = write!(o, "<br>{} failed", Esc(c));
                }
                let _ = writeln!(
                    o,
                    "</td><td>{}</td><td>{}</td></tr>",
                    v.restarts,
                    Ago(v.started_seconds, self.time_seconds)
                );
            }
            o.push_str("</table>\n");
        }
        if let Some(p) = &self.push {
            let _ = write!(
                o,
                "<h2>Push</h2>\n<p>{} samples queued · {} dropped · last delivered {}</p>\n",
                p.queued_samples,
                p.dropped_samples,
                Ago(p.last_success_timestamp_seconds, self.time_seconds),
            );
        }
        if let Some([firing, queued, dropped]) = self.notify {
            let _ = write!(
                o,
                "<h2>Notifications</h2>\n<p>{firing} alerts firing · {queued} queued · {dropped} dropped</p>\n"
            );
        }
        if let Some([files, forwarded, dropped]) = self.logs {
            let _ = write!(
                o,
                "<h2>Logs</h2>\n<p>{files} files followed · {forwarded} lines forwarded · {dropped} dropped</p>\n"
            );
        }
        if !self.collectors_failed.is_empty() {
            o.push_str("<h2>Collectors that failed</h2>\n<p class=\"bad\">");
            for (i, c) in self.collectors_failed.iter().enumerate() {
                let _ = write!(o, "{}{}", if i > 0 { ", " } else { "" }, Esc(c));
            }
            o.push_str("</p>\n");
        }
        let _ = write!(
            o,
            "<footer>sonde {} · <a href=\"/metrics\">metrics</a> · <a href=\"/status.json\">status.json</a></footer>\n</body></html>\n",
            self.version
        );
        o
    }

    /// The JSON: the same fields, by the same names.
    pub fn json(&self) -> String {
        let mut o = String::with_capacity(512 + 160 * self.checks.len());
        let _ = write!(
            o,
            "{{\"version\":{},\"host\":{},\"time_seconds\":{},\"uptime_seconds\":{},\"load\":[{},{},{}],\
\"memory_available_bytes\":{},\"memory_total_bytes\":{},\"fullest_filesystem\":",
            Json(self.version),
            Json(&self.host),
            Num(self.time_seconds),
            Num(self.uptime_seconds),
            Num(self.load[0]),
            Num(self.load[1]),
            Num(self.load[2]),
            Num(self.memory_available_bytes),
            Num(self.memory_total_bytes),
        );
        match &self.fullest_filesystem {
            Some((mount, used)) => {
                let _ = write!(o, "{{\"mountpoint\":{},\"used\":{}}}", Json(mount), Num(*used));
            }
            None => o.push_str("null"),
        }
        o.push_str(",\"checks\":[");
        for (i, c) in self.checks.iter().enumerate() {
            let _ = write!(
                o,
                "{}{{\"name\":{},\"address\":{},\"up\":{},\"reason\":{},\"duration_seconds\":{},\
\"since_seconds\":{},\"next_run_seconds\":{}}}",
                if i > 0 { "," } else { "" },
                Json(&c.name),
                Json(&c.address),
                c.up,
                Json(&c.reason),
                Num(c.duration_seconds),
                Num(c.since_seconds),
                Num(c.next_run_seconds)
            );
        }
        o.push_str("],\"services\":[");
        for (i, v) in self.services.iter().enumerate() {
            let _ = write!(
                o,
                "{}{{\"name\":{},\"state\":{},\"restarts\":{},\"started_seconds\":{},\"failing\":[",
                if i > 0 { "," } else { "" },
                Json(&v.name),
                Json(&v.state),
                Num(v.restarts),
                Num(v.started_seconds)
            );
            for (j, c) in v.failing.iter().enumerate() {
                let _ = write!(o, "{}{}", if j > 0 { "," } else { "" }, Json(c));
            }
            o.push_str("]}");
        }
        o.push_str("],\"push\":");
        match &self.push {
            Some(p) => {
                let _ = write!(
                    o,
                    "{{\"queued_samples\":{},\"last_success_timestamp_seconds\":{},\"dropped_samples\":{}}}",
                    Num(p.queued_samples),
                    Num(p.last_success_timestamp_seconds),
                    Num(p.dropped_samples)
                );
            }
            None => o.push_str("null"),
        }
        for (key, counts, names) in [
            ("notify", self.notify, ["alerts", "queued", "dropped"]),
            ("logs", self.logs, ["files", "lines_forwarded", "lines_dropped"]),
        ] {
            let _ = write!(o, ",\"{key}\":");
            match counts {
                Some([a, b, c]) => {
                    let _ = write!(
                        o,
                        "{{\"{}\":{},\"{}\":{},\"{}\":{}}}",
                        names[0],
                        Num(a),
                        names[1],
                        Num(b),
                        names[2],
                        Num(c)
                    );
                }
                None => o.push_str("null"),
            }
        }
        o.push_str(",\"collectors_failed\":[");
        for (i, c) in self.collectors_failed.iter().enumerate() {
            let _ = write!(o, "{}{}", if i > 0 { "," } else { "" }, Json(c));
        }
        o.push_str("]}\n");
        o
    }
}

/// The service named `name`, added in the order first seen.
fn service(list: &mut Vec<Service>, name: String) -> &mut Service {
    let i = list.iter().position(|v| v.name == name).unwrap_or_else(|| {
        list.push(Service { name, ..Service::default() });
        list.len() - 1
    });
    &mut list[i]
}

/// A JSON string (RFC 8259 §7): quoted, with `"`, `\\` and control
/// characters escaped.
struct Json<'a>(&'a str);

impl std::fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// A JSON number: Rust's shortest round-trip form, never an exponent;
/// `null` for NaN and the infinities, which JSON cannot spell.
struct Num(f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_finite() {
            write!(f, "{}", self.0)
        } else {
            f.write_str("null")
        }
    }
}

const CSS: &str = "body{font:15px/1.4 system-ui,sans-serif;margin:1em auto;max-width:50em;padding:0 .6em;color:#222}\
h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.1em;margin:1.2em 0 .3em}table{border-collapse:collapse;width:100%}\
td,th{text-align:left;padding:.25em .4em;border-bottom:1px solid #ddd;word-break:break-word}\
th,.t td:nth-child(n+4){white-space:nowrap;word-break:normal}@media(max-width:34em){.n{display:none}}\
.ok td:nth-child(3){color:#186a2e}.bad,.bad td:nth-child(3){color:#b00020;font-weight:600}\
footer{margin-top:2em;color:#777;font-size:.85em}";

/// HTML-escaped text.
struct Esc<'a>(&'a str);

impl std::fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '&' => f.write_str("&amp;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

struct Uptime(f64);

impl std::fmt::Display for Uptime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0.max(0.0) as u64;
        match s {
            0..=3599 => write!(f, "{} min", s / 60),
            3600..=86399 => write!(f, "{} h {} min", s / 3600, s % 3600 / 60),
            _ => write!(f, "{} days {} h", s / 86400, s % 86400 / 3600),
        }
    }
}

/// How long before `.1` the time `.0` was; "never" for 0.
struct Ago(f64, f64);

impl std::fmt::Display for Ago {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 <= 0.0 {
            return f.write_str("never");
        }
        let s = (self.1 - self.0).max(0.0) as u64;
        match s {
            0..=119 => write!(f, "{s} s ago"),
            120..=7199 => write!(f, "{} min ago", s / 60),
            _ => write!(f, "{} h ago", s / 3600),
        }
    }
}

/// How soon the time `.0` comes, seen at `.1` (both Unix seconds).
struct In(f64, f64);

impl std::fmt::Display for In {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 <= 0.0 {
            return f.write_str("-");
        }
        let s = (self.0 - self.1).max(0.0) as u64;
        match s {
            0 => f.write_str("now"),
            1..=119 => write!(f, "in {s} s"),
            120..=7199 => write!(f, "in {} min", s / 60),
            _ => write!(f, "in {} h", s / 3600),
        }
    }
}

/// `.0` with `.1` decimals, rounded; written with integers, because
/// core's fixed-precision float formatting costs kilobytes on armv7.
struct Fixed(f64, u32);

impl std::fmt::Display for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scale = 10u64.pow(self.1);
        let v = if self.0.is_finite() { self.0 } else { 0.0 };
        let n = (v.abs() * scale as f64).round() as u64;
        let sign = if v < 0.0 && n > 0 { "-" } else { "" };
        match self.1 {
            0 => write!(f, "{sign}{n}"),
            d => write!(f, "{sign}{}.{:0w$}", n / scale, n % scale, w = d as usize),
        }
    }
}

struct Bytes(f64);

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut v = self.0;
        for unit in ["B", "KiB", "MiB", "GiB"] {
            if v < 1024.0 {
                return write!(f, "{} {unit}", Fixed(v, 0));
            }
            v /= 1024.0;
        }
        write!(f, "{} TiB", Fixed(v, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRAPE: &[u8] = b"\
node_uname_info{nodename=\"ntp-<1>\",sysname=\"Linux\"} 1
node_time_seconds 1000000
node_boot_time_seconds 913600
node_load1 0.5
node_memory_MemAvailable_bytes 25
node_memory_MemTotal_bytes 100
node_filesystem_avail_bytes{device=\"a\",mountpoint=\"/\"} 50
node_filesystem_size_bytes{device=\"a\",mountpoint=\"/\"} 100
node_filesystem_avail_bytes{device=\"b\",mountpoint=\"/data\"} 5
node_filesystem_size_bytes{device=\"b\",mountpoint=\"/data\"} 100
probe_success{check=\"web\",address=\"127.0.0.1\",family=\"ipv4\"} 0
probe_success{check=\"ntp\",address=\"::1\",family=\"ipv6\"} 1
probe_duration_seconds{check=\"web\",address=\"127.0.0.1\",family=\"ipv4\"} 0.25
sonde_check_failure_info{check=\"web\",address=\"127.0.0.1\",family=\"ipv4\",reason=\"connection_refused\"} 1
sonde_check_state_since_timestamp_seconds{check=\"web\"} 999700
sonde_check_next_run_timestamp_seconds{check=\"web\"} 1000030
sonde_collector_success{collector=\"chrony\"} 0
sonde_collector_success{collector=\"cpu\"} 1
sonde_log_files{log=\"auth\"} 1
sonde_service_state{service=\"nginx\",state=\"ok\"} 0
sonde_service_state{service=\"nginx\",state=\"restarting\"} 1
sonde_service_restarts_total{service=\"nginx\"} 2
sonde_service_condition_success{service=\"nginx\",condition=\"port 80\"} 0
namedprocess_namegroup_oldest_start_time_seconds{groupname=\"nginx\"} 999940
sonde_log_lines_forwarded_total{log=\"auth\",output=\"syslog\"} 12
";

    #[test]
    fn json_escapes_and_numbers() {
        let s = Status { host: "a\"b\\c\n\u{1}é".into(), load: [f64::NAN, 1e21, -0.5], ..Status::default() };
        let v: serde_json::Value = serde_json::from_str(&s.json()).unwrap();
        assert_eq!(v["host"], "a\"b\\c\n\u{1}é");
        assert!(v["load"][0].is_null());
        assert_eq!(v["load"][1], 1e21);
        assert_eq!(v["load"][2], -0.5);
    }

    #[test]
    fn fixed_point() {
        assert_eq!(Fixed(0.125, 2).to_string(), "0.13");
        assert_eq!(Fixed(1.5, 0).to_string(), "2");
        assert_eq!(Fixed(-0.0001, 3).to_string(), "0.000");
        assert_eq!(Fixed(-2.25, 1).to_string(), "-2.3");
        assert_eq!(Fixed(f64::NAN, 2).to_string(), "0.00");
        assert_eq!(Fixed(0.000112, 3).to_string(), "0.000");
    }

    #[test]
    fn reads_the_scrape() {
        let s = Status::read(SCRAPE);
        assert_eq!(s.host, "ntp-<1>");
        assert_eq!(s.uptime_seconds, 86400.0);
        assert_eq!(s.fullest_filesystem, Some(("/data".into(), 0.95)));
        assert_eq!(s.checks.len(), 2);
        assert!(!s.checks[0].up);
        assert_eq!(s.checks[0].reason, "connection_refused");
        assert_eq!(s.checks[0].duration_seconds, 0.25);
        assert_eq!((s.checks[0].since_seconds, s.checks[0].next_run_seconds), (999700.0, 1000030.0));
        assert!(s.checks[1].up);
        assert_eq!(s.checks[1].since_seconds, 0.0, "not in the scrape: not run yet");
        assert_eq!(s.collectors_failed, vec!["chrony".to_owned()]);
    }

    #[test]
    fn page_escapes_and_marks_failures() {
        let html = Status::read(SCRAPE).html();
        assert!(html.contains("<title>ntp-&lt;1&gt; (1 failing) sonde</title>"), "{html}");
        assert!(html.contains("FAILING: connection_refused"));
        assert!(html.contains("<td>restarting<br>port 80 failed</td><td>2</td><td>60 s ago</td>"), "{html}");
        assert!(!html.contains("<script"));
        assert!(html.len() < 4096, "{}", html.len());
        let json = Status::read(SCRAPE).json();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["checks"][0]["reason"], "connection_refused");
        assert_eq!(v["checks"][0]["up"], false);
        assert_eq!(v["host"], "ntp-<1>");
        assert_eq!(v["fullest_filesystem"]["mountpoint"], "/data");
        assert_eq!(v["uptime_seconds"], 86400.0);
        assert_eq!(v["collectors_failed"][0], "chrony");
        assert!(v["push"].is_null());
        assert!(v["notify"].is_null());
        assert_eq!(v["services"][0]["state"], "restarting");
        assert_eq!(v["services"][0]["failing"][0], "port 80");
        assert_eq!(v["services"][0]["restarts"], 2.0);
        assert_eq!(v["logs"]["lines_forwarded"], 12.0);
    }
}
