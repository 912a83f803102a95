// Records the target triple for `sonde_build_info` and `--version`, so a
// binary copied onto a box says what it was built for.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=SONDE_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
