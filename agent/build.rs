// A build script that cannot read its own crate's file has failed; the panic
// is the report.
#![allow(clippy::expect_used)]

// Records the target triple for `sonde_build_info` and `--version`, so a
// binary copied onto a box says what it was built for.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=SONDE_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
    default_config();
}

/// The embedded default config, `src/config/default.toml`, is mostly
/// comments: the reference of every key, 23 KB that `sonde
/// default-config` prints. The binary keeps it snappy-compressed (the
/// Remote-Write codec is in the binary anyway) and, for parsing at every
/// start, the same text without its comment lines.
fn default_config() {
    let path = "src/config/default.toml";
    println!("cargo:rerun-if-changed={path}");
    let text = std::fs::read_to_string(path).expect("src/config/default.toml");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let packed = snap::raw::Encoder::new().compress_vec(text.as_bytes()).expect("snappy");
    std::fs::write(out.join("default.toml.sz"), packed).expect("OUT_DIR");
    // Whole comment lines and blank lines only: a `#` after a value is
    // the TOML reader's to strip, and a line is never joined to another.
    let settings: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .flat_map(|l| [l, "\n"])
        .collect();
    std::fs::write(out.join("default.settings.toml"), settings).expect("OUT_DIR");
}
