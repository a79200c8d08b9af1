//! The `seedc` binary: everything lives in the library; this only maps to a process exit code.

fn main() -> std::process::ExitCode {
    seedc::main().into()
}
