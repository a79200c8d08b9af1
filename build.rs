//! Links the Windows (GNU) binary with its sections aligned to pages in the file as well as
//! in memory. Wine maps such an image straight from the file, but reads one aligned to
//! 512 bytes (the GNU linker's default) into fresh memory at every start: 25 MB for seedc,
//! about 15 ms of CPU and 23 MiB of peak memory per run under Wine. Windows loads either
//! alike, and the file is the same size within 0.1%. Nothing else is built here.

use std::io::Write as _;

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    let mut out = std::io::stdout();
    if target.ends_with("-windows-gnu") {
        let _ = writeln!(out, "cargo:rustc-link-arg-bins=-Wl,--file-alignment=4096");
    }
    let _ = writeln!(out, "cargo:rerun-if-changed=build.rs");
}
