//! exporter-toolkit's `web-config.yml`, read as operators have it for
//! node_exporter and the other Prometheus exporters: `basic_auth_users`
//! (bcrypt hashes), `http_server_config` (its five headers, `http2`),
//! `rate_limit`, and `tls_server_config`.
//!
//! Strict, as the toolkit's `yaml.UnmarshalStrict`: a key it does not know
//! is an error with its line, and so is a hash that is not bcrypt or a
//! header it would refuse. `tls_server_config` needs the build with the
//! `tls` feature (rustls); without it a file that asks for TLS is refused
//! rather than served in clear text, and so is what rustls cannot do as
//! the file asks (inline PEM, a cipher suite or curve that rustls with
//! ring lacks, client certificates taken unverified). `cipher_suites`,
//! `curve_preferences` and `client_allowed_sans` mean what they mean to
//! the toolkit: Go's names of TLS 1.2 suites (TLS 1.3's are taken and
//! change nothing, as in Go), Go's names of curves, and the subject
//! alternative names a client certificate must carry one of. Its rustls
//! configuration is made when the file is read, so a missing or bad
//! certificate is an error with the line.
//!
//! Behaviour that differs from the toolkit, on purpose: the file is parsed
//! when it changes, not on every request, and a changed file that does not
//! parse leaves the running one in force (the toolkit answers 500 until it
//! is fixed).

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::limits::MAX_CONFIG_FILE;
use crate::wire::bcrypt::{self, Hash};
use crate::wire::yaml::{self, Key, Node};

/// What reading the file found wrong: `(line, message)`.
pub type Errors = Vec<(usize, String)>;

/// The file, checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Web {
    /// `basic_auth_users`, in file order; none: no authentication.
    pub users: Vec<(String, Hash)>,
    /// `http_server_config.headers`: added to every response.
    pub headers: Vec<(&'static str, String)>,
    /// `rate_limit`: a token bucket over every request (429 when empty).
    pub rate_limit: Option<RateLimit>,
    /// `tls_server_config` (only a build with the `tls` feature takes it).
    pub tls: Option<crate::tls::ServerTls>,
    /// Its rustls configuration, made when the file is read.
    #[cfg(feature = "tls")]
    pub tls_built: Option<crate::tls::server::Built>,
}

/// One token every `interval`, at most `burst` saved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub interval: Duration,
    pub burst: u32,
}

/// The file and what identifies the version read: a change of either
/// makes the endpoint read it again.
#[derive(Clone, Debug, PartialEq)]
pub struct WebFile {
    pub path: std::path::PathBuf,
    pub stamp: Option<(SystemTime, u64)>,
    pub web: std::sync::Arc<Web>,
}

/// The five headers exporter-toolkit lets a file set.
const HEADERS: &[&str] = &[
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "X-XSS-Protection",
    "Strict-Transport-Security",
];

const TLS_KEYS: &[&str] = &[
    "cert",
    "cert_file",
    "key",
    "key_file",
    "client_auth_type",
    "client_ca",
    "client_ca_file",
    "client_allowed_sans",
    "cipher_suites",
    "curve_preferences",
    "min_version",
    "max_version",
    "prefer_server_cipher_suites",
];

/// Most users a file may name; each costs a verification's cache slot.
pub const MAX_USERS: usize = 64;

/// The modification time and size of `path`, the change stamp.
pub fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// The stamp of the file and of the TLS files it names, so a renewed
/// certificate is read again as the file is (exporter-toolkit reads them
/// at each handshake): the latest modification time of them all and the
/// sum of their sizes.
pub fn stamp_with_tls(path: &Path, web: Option<&Web>) -> Option<(SystemTime, u64)> {
    let mut all = stamp(path)?;
    let tls = web.and_then(|w| w.tls.as_ref());
    let files = tls.iter().flat_map(|t| [Some(&t.cert_file), Some(&t.key_file), t.client_ca_file.as_ref()]);
    for (modified, len) in files.flatten().filter_map(|f| stamp(f)) {
        all = (all.0.max(modified), all.1.wrapping_add(len));
    }
    Some(all)
}

/// Reads `path`. The stamp is of the file before it was read and of its
/// TLS files after they were: a certificate replaced between the two
/// reads waits for the next change to be seen.
pub fn load(path: &Path) -> Result<WebFile, Errors> {
    let before = stamp(path);
    let mut buf = Vec::new();
    crate::sys::file::read_bounded(path, &mut buf, MAX_CONFIG_FILE)
        .map_err(|e| vec![(0, format!("cannot read: {e}"))])?;
    let text = std::str::from_utf8(&buf).map_err(|e| {
        let line = buf[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        vec![(line, "not valid UTF-8".to_owned())]
    })?;
    let web = parse(text)?;
    let stamp = before.and_then(|b| stamp_with_tls(path, Some(&web)).map(|tls| (b.0.max(tls.0), tls.1)));
    Ok(WebFile { path: path.to_owned(), stamp, web: std::sync::Arc::new(web) })
}

/// Reads the text of a web-config.yml.
pub fn parse(text: &str) -> Result<Web, Errors> {
    let root = yaml::parse(text).map_err(|e| vec![(e.line, e.what.into_owned())])?;
    let mut errors = Errors::new();
    let mut web = Web::default();
    for (k, v) in entries(&root, &mut errors) {
        match k.text.as_str() {
            "basic_auth_users" => {
                for (user, hash) in entries(v, &mut errors) {
                    match hash.as_str().map(|h| Hash::parse(h.as_bytes())) {
                        Some(Ok(h)) if web.users.len() < MAX_USERS => web.users.push((user.text.clone(), h)),
                        Some(Ok(_)) => errors.push((user.line, format!("more than {MAX_USERS} users"))),
                        Some(Err(bad)) => errors.push((hash.line, format!("user '{}': {}", user.text, bad.as_str()))),
                        None => errors.push((hash.line, format!("user '{}': expected a bcrypt hash", user.text))),
                    }
                }
            }
            "http_server_config" => {
                for (k, v) in entries(v, &mut errors) {
                    match k.text.as_str() {
                        "http2" if v.as_bool().is_some() => {} // sonde speaks HTTP/1.1 only
                        "http2" => errors.push((v.line, "http2: expected true or false".into())),
                        "headers" => headers(v, &mut web, &mut errors),
                        _ => unknown(k, "http_server_config", &mut errors),
                    }
                }
            }
            "rate_limit" => {
                let (mut interval, mut burst) = (None, None);
                for (k, v) in entries(v, &mut errors) {
                    match k.text.as_str() {
                        "interval" => match v.as_str().and_then(super::blackbox::go_duration) {
                            Some(d) => interval = Some(d),
                            None => errors.push((v.line, "interval: expected a duration such as 1s".into())),
                        },
                        "burst" => match v.as_int().and_then(|n| u32::try_from(n).ok()) {
                            Some(n) => burst = Some(n),
                            None => errors.push((v.line, "burst: expected a whole number".into())),
                        },
                        _ => unknown(k, "rate_limit", &mut errors),
                    }
                }
                match (interval, burst) {
                    // The toolkit's own rule: no interval, no limit.
                    (None | Some(Duration::ZERO), _) => {}
                    (Some(_), None | Some(0)) => errors.push((
                        k.line,
                        "rate_limit: a burst of at least 1 is needed, or every request is refused".into(),
                    )),
                    (Some(interval), Some(burst)) => web.rate_limit = Some(RateLimit { interval, burst }),
                }
            }
            "tls_server_config" if !v.is_null() => tls_server(k, v, &mut web, &mut errors),
            "tls_server_config" => {}
            _ => unknown(k, "the file", &mut errors),
        }
    }
    // In file order as found (a sort would cost 2 KiB of code for the one
    // error reported after its section's own: a rate_limit with no burst).
    if errors.is_empty() {
        Ok(web)
    } else {
        Err(errors)
    }
}

/// `tls_server_config`: read as the toolkit's keys; what rustls cannot do
/// as asked (inline PEM, a suite or curve ring lacks, unverified client
/// certificates) is an error rather than something else done quietly.
fn tls_server(key: &Key, v: &Node, web: &mut Web, errors: &mut Errors) {
    use crate::tls::{ServerTls, Version, TLS_BUILT, WITHOUT_TLS};
    if !TLS_BUILT {
        errors.push((key.line, format!("tls_server_config: {WITHOUT_TLS}")));
        return;
    }
    let before = errors.len();
    let mut t = ServerTls {
        cert_file: Default::default(),
        key_file: Default::default(),
        client_ca_file: None,
        require_client_cert: false,
        min_version: None,
        max_version: None,
        cipher_suites: None,
        curves: Vec::new(),
        client_allowed_sans: Vec::new(),
    };
    let mut auth = "NoClientCert";
    for (k, v) in entries(v, errors) {
        let text = v.as_str().filter(|s| !s.is_empty());
        let name = k.text.as_str();
        match (name, text) {
            ("cert_file", Some(p)) => t.cert_file = p.into(),
            ("key_file", Some(p)) => t.key_file = p.into(),
            ("client_ca_file", Some(p)) => t.client_ca_file = Some(p.into()),
            ("client_auth_type", Some(a)) => auth = a,
            ("min_version", Some(m)) => match Version::min_from_name(m) {
                Some(m) => t.min_version = m,
                None => errors.push((v.line, format!("min_version: '{m}' is not TLS10, TLS11, TLS12 or TLS13"))),
            },
            ("max_version", Some(m)) => match m {
                "TLS12" => t.max_version = Some(Version::Tls12),
                "TLS13" => {}
                _ => {
                    errors.push((v.line, format!("max_version: '{m}' is not TLS12 or TLS13 (rustls speaks no older)")))
                }
            },
            ("prefer_server_cipher_suites", _) if v.as_bool().is_some() => {}
            ("cert" | "key" | "client_ca", _) => {
                errors.push((k.line, format!("{name}: give the PEM as a file ({name}_file)")))
            }
            ("cipher_suites", _) => {
                let (items, mut suites) = (strings(name, v, errors), Vec::new());
                for (line, s) in &items {
                    match crate::tls::cipher_suite(s) {
                        Ok(Some(n)) if !suites.contains(&n) => suites.push(n),
                        Ok(_) => {} // a TLS 1.3 suite, or said twice
                        Err(e) => errors.push((*line, e)),
                    }
                }
                // As Go: an empty list leaves the defaults, and a list of
                // TLS 1.3 suites alone leaves TLS 1.2 none.
                if !items.is_empty() {
                    t.cipher_suites = Some(suites);
                }
            }
            ("curve_preferences", _) => {
                for (line, c) in strings(name, v, errors) {
                    match crate::tls::curve(c) {
                        Ok(c) if !t.curves.contains(&c) => t.curves.push(c),
                        Ok(_) => {}
                        Err(e) => errors.push((line, e)),
                    }
                }
            }
            ("client_allowed_sans", _) => {
                t.client_allowed_sans = strings(name, v, errors).into_iter().map(|(_, s)| s.to_owned()).collect();
                if t.client_allowed_sans.is_empty() && v.as_seq().is_some() {
                    // The toolkit would then refuse every client.
                    errors.push((v.line, format!("{name}: lists no SAN, so no client would be served")));
                }
            }
            _ if TLS_KEYS.contains(&name) => errors.push((v.line, format!("{name}: expected a value"))),
            _ => unknown(k, "tls_server_config", errors),
        }
    }
    match auth {
        "NoClientCert" => t.client_ca_file = None,
        "RequireAndVerifyClientCert" | "VerifyClientCertIfGiven" => {
            t.require_client_cert = auth == "RequireAndVerifyClientCert";
            if t.client_ca_file.is_none() {
                errors.push((key.line, format!("tls_server_config: {auth} needs client_ca_file")));
            }
        }
        "RequestClientCert" | "RequireAnyClientCert" => errors.push((
            key.line,
            format!("client_auth_type: {auth} takes certificates unverified; use RequireAndVerifyClientCert"),
        )),
        other => errors.push((key.line, format!("client_auth_type: '{other}' is not one exporter-toolkit knows"))),
    }
    if !t.client_allowed_sans.is_empty() && !t.require_client_cert {
        // As the toolkit: the names are matched against a certificate every
        // client must present, so none gets past them without one.
        errors.push((key.line, "client_allowed_sans needs client_auth_type RequireAndVerifyClientCert".into()));
    }
    if t.cert_file.as_os_str().is_empty() || t.key_file.as_os_str().is_empty() {
        errors.push((key.line, "tls_server_config: cert_file and key_file are both needed".into()));
    }
    if errors.len() > before {
        return;
    }
    #[cfg(feature = "tls")]
    match crate::tls::server::server_config(&t) {
        Ok(c) => web.tls_built = Some(crate::tls::server::Built(c)),
        Err(e) => {
            errors.push((key.line, format!("tls_server_config: {e}")));
            return;
        }
    }
    web.tls = Some(t);
}

/// A list of strings, each with its line; an item that is not one, or a
/// value that is not a list, is an error (null: an empty list).
fn strings<'a>(name: &str, v: &'a Node, errors: &mut Errors) -> Vec<(usize, &'a str)> {
    if v.is_null() {
        return Vec::new();
    }
    let Some(items) = v.as_seq() else {
        errors.push((v.line, format!("{name}: expected a list, found {}", v.type_name())));
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        match item.as_str().filter(|s| !s.is_empty()) {
            Some(s) => out.push((item.line, s)),
            None => errors.push((item.line, format!("{name}: each item must be a name (a non-empty string)"))),
        }
    }
    out
}

fn headers(v: &Node, web: &mut Web, errors: &mut Errors) {
    for (k, v) in entries(v, errors) {
        let Some(name) = HEADERS.iter().find(|h| h.eq_ignore_ascii_case(&k.text)) else {
            errors.push((
                k.line,
                format!("header '{}' is not one exporter-toolkit lets a file set ({})", k.text, HEADERS.join(", ")),
            ));
            continue;
        };
        let Some(value) = v.as_str().filter(|s| !s.bytes().any(|b| b.is_ascii_control())) else {
            errors.push((v.line, format!("{name}: expected a one-line string")));
            continue;
        };
        let ok = match *name {
            "X-Frame-Options" => value.eq_ignore_ascii_case("deny") || value.eq_ignore_ascii_case("sameorigin"),
            "X-Content-Type-Options" => value.eq_ignore_ascii_case("nosniff"),
            _ => true,
        };
        if ok {
            web.headers.push((name, value.to_owned()));
        } else {
            errors.push((v.line, format!("{name}: '{value}' is not a value exporter-toolkit allows")));
        }
    }
}

/// A mapping's entries; anything else (but null) is an error.
fn entries<'a>(n: &'a Node, errors: &mut Errors) -> &'a [(Key, Node)] {
    if n.is_null() {
        return &[];
    }
    n.as_map().unwrap_or_else(|| {
        errors.push((n.line, format!("expected a mapping, found {}", n.type_name())));
        &[]
    })
}

fn unknown(k: &Key, whose: &str, errors: &mut Errors) {
    errors.push((k.line, format!("unknown key '{}' in {whose} (exporter-toolkit has no such key)", k.text)));
}

/// Keeps the cost in use visible to check-config: the verification time
/// doubles with each step.
pub fn cost_note(web: &Web) -> Option<String> {
    let max = web.users.iter().map(|(_, h)| h.cost).max()?;
    (max > 12).then(|| {
        format!("bcrypt cost {max} takes seconds per check on a small ARM box; 10 is usual (max {})", bcrypt::MAX_COST)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// exporter-toolkit's own example, with a hash made by htpasswd -B.
    #[test]
    fn toolkit_file() {
        let text = "\
# web-config.yml
http_server_config:
  http2: true
  headers:
    X-Frame-Options: deny
    Content-Security-Policy: \"default-src 'self'\"
basic_auth_users:
  alice: $2y$04$emniLMJ2LfjsOuJxuqwcg.1qyBq7mZ57DyDsbyJLjpOkHvKKY8hBi
rate_limit:
  interval: 100ms
  burst: 5
";
        let w = parse(text).unwrap();
        assert_eq!(w.users.len(), 1);
        assert_eq!(w.users[0].0, "alice");
        assert!(w.users[0].1.verify(b"secret"));
        assert_eq!(w.headers[0], ("X-Frame-Options", "deny".into()));
        assert_eq!(w.headers[1].0, "Content-Security-Policy");
        assert_eq!(w.rate_limit, Some(RateLimit { interval: Duration::from_millis(100), burst: 5 }));
        assert_eq!(parse("").unwrap(), Web::default());
    }

    #[test]
    fn errors_have_their_lines() {
        let text = "\
basic_auth_users:
  bob: $2y$04$tooshort
  carol: [1]
http_server_config:
  headers:
    X-Powered-By: me
    X-Frame-Options: allow
rate_limit:
  interval: soon
bogus: 1
";
        let e = parse(text).unwrap_err();
        let lines: Vec<usize> = e.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![2, 3, 6, 7, 9, 10], "{e:?}");
        assert!(e[0].1.contains("bcrypt"), "{e:?}");
    }

    /// A `tls_server_config` with the fixture certificate and key, and
    /// `more` lines after them (from line 4 on).
    #[cfg(feature = "tls")]
    fn tls_file(more: &str) -> String {
        let d = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/x509");
        format!("tls_server_config:\n  cert_file: {d}/sans.pem\n  key_file: {d}/sans.key\n{more}")
    }

    #[test]
    #[cfg(feature = "tls")]
    fn cipher_suites_and_curves_as_the_toolkit_means_them() {
        let w = parse(&tls_file(
            "  cipher_suites:\n    - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n    - TLS_AES_128_GCM_SHA256\n\
             \x20   - TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305\n    - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n\
             \x20 curve_preferences: [CurveP384, X25519]\n  prefer_server_cipher_suites: false\n",
        ))
        .unwrap();
        let t = w.tls.unwrap();
        // TLS 1.3's name changes nothing; Go's short ChaCha20 name is the
        // suite's; a name said twice is one.
        let tls12 = vec!["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"];
        assert_eq!(t.cipher_suites, Some(tls12));
        assert_eq!(t.curves, vec!["CurveP384", "X25519"]);
        assert!(w.tls_built.is_some());

        // Empty lists and nulls leave rustls's defaults, as in Go.
        let t = parse(&tls_file("  cipher_suites: []\n  curve_preferences:\n  client_allowed_sans:\n"))
            .unwrap()
            .tls
            .unwrap();
        assert_eq!((t.cipher_suites, t.curves.len(), t.client_allowed_sans.len()), (None, 0, 0));
        // TLS 1.3's names alone leave TLS 1.2 no suite: fine while TLS
        // 1.3 is spoken, and an error when it is not.
        let t = parse(&tls_file("  cipher_suites: [TLS_AES_256_GCM_SHA384]\n")).unwrap().tls.unwrap();
        assert_eq!(t.cipher_suites, Some(vec![]));
        let e = parse(&tls_file("  cipher_suites: [TLS_AES_256_GCM_SHA384]\n  max_version: TLS12\n")).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].0 == 1 && e[0].1.contains("cipher suites"), "{e:?}");
    }

    #[test]
    #[cfg(feature = "tls")]
    fn what_ring_lacks_is_an_error_on_its_line() {
        let e = parse(&tls_file(
            "  cipher_suites:\n    - TLS_RSA_WITH_AES_128_CBC_SHA\n    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n\
             \x20   - TLS_FANCY_NEW\n    - [1]\n  curve_preferences: [X25519, CurveP521, P-256]\n\
             \x20 client_allowed_sans: []\n  cipher_suites_x: 1\n",
        ))
        .unwrap_err();
        let mut e = e;
        e.sort();
        let lines: Vec<usize> = e.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![5, 7, 8, 9, 9, 10, 11], "{e:?}");
        assert!(e[0].1.contains("'TLS_RSA_WITH_AES_128_CBC_SHA' is not offered by sonde"), "{e:?}");
        assert!(e[0].1.contains("sonde offers TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "), "{e:?}");
        assert!(e[1].1.contains("'TLS_FANCY_NEW' is not a suite Go knows"), "{e:?}");
        assert!(e[2].1.contains("a name"), "{e:?}");
        // (sorted: a quote before a letter)
        assert!(e[3].1.contains("'P-256' is not CurveP256, CurveP384, CurveP521 or X25519"), "{e:?}");
        assert!(e[4].1.contains("CurveP521 is not offered by sonde (ring lacks it)"), "{e:?}");
        assert!(e[5].1.contains("no SAN"), "{e:?}");
        assert!(e[6].1.contains("unknown key 'cipher_suites_x'"), "{e:?}");
    }

    #[test]
    #[cfg(feature = "tls")]
    fn client_allowed_sans_need_verified_client_certificates() {
        let d = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/x509");
        let ca = format!("  client_ca_file: {d}/sans.pem\n");
        let sans = "  client_allowed_sans:\n    - prometheus.example.org\n    - 10.0.0.7\n";
        let e = parse(&tls_file(&format!("{ca}{sans}"))).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, 1);
        assert!(e[0].1.contains("needs client_auth_type RequireAndVerifyClientCert"), "{e:?}");
        let e = parse(&tls_file(&format!("{ca}{sans}  client_auth_type: VerifyClientCertIfGiven\n"))).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        let good = format!("{ca}{sans}  client_auth_type: RequireAndVerifyClientCert\n");
        let t = parse(&tls_file(&good)).unwrap().tls.unwrap();
        assert_eq!(t.client_allowed_sans, vec!["prometheus.example.org", "10.0.0.7"]);
    }

    #[test]
    fn tls_server_config_keys() {
        let text = "tls_server_config:\n  cert_file: a.pem\n  key_fil: a.key\n  cipher_suites: [X]\n  client_auth_type: RequireAnyClientCert\n";
        let e = parse(text).unwrap_err();
        if !crate::tls::TLS_BUILT {
            assert_eq!(e.len(), 1, "{e:?}");
            assert!(e[0].1.contains("without TLS"), "{e:?}");
            return;
        }
        let mut lines: Vec<usize> = e.iter().map(|(l, _)| *l).collect();
        lines.sort_unstable();
        // key_fil, cipher_suites, RequireAnyClientCert and no key_file.
        assert_eq!(lines, vec![1, 1, 3, 4], "{e:?}");
    }
}
