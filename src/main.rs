//! The `seedc` binary: everything lives in the library; this only maps to a process exit code.

// Checking a large root allocates and frees millions of small JSON values from every
// core; mimalloc does that markedly faster than glibc's malloc (see scripts/bench check).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    seedc::main()
}
