//! The `seedc` binary: everything lives in the library; this only maps to a process exit code.

// Checking a large root allocates and frees millions of small JSON values from every
// core; mimalloc does that markedly faster than glibc's malloc (see scripts/bench check).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // mimalloc commits its arenas eagerly, and where transparent huge pages are on (Debian
    // sets them to `always`) each 2 MiB of an arena touched at all is backed whole: a
    // check of 94 MB of content then peaks at ~140 MB instead of ~100 MB, no faster. Only
    // this process is affected; failing is harmless.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    seedc::main()
}
