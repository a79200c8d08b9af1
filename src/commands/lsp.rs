//! `seedc lsp`: the language server on stdio; the server itself is `crate::lsp`.

use std::path::Path;

use anyhow::{Context, Result};

use crate::exit::Exit;
use crate::lsp::Ended;

/// Serves one editor on stdin/stdout until it exits or closes stdin. Only protocol frames
/// reach stdout; logs go to stderr.
pub(super) fn run(root: &Path) -> Result<Exit> {
    #[cfg(all(unix, feature = "mimalloc"))]
    purge_freed_memory_at_once();
    let (connection, io) = crate::lsp::stdio::connect();
    let ended = crate::lsp::serve(&connection, root)?;
    // The writer thread ends once every sender of the connection is gone.
    drop(connection);
    io.join().context("the language server's stdio failed")?;
    Ok(match ended {
        Ended::Exit | Ended::Disconnected => Exit::Ok,
        // The protocol's exit code for `exit` without `shutdown`.
        Ended::ExitWithoutShutdown => Exit::Invalid,
    })
}

/// The variable mimalloc reads, once as the process starts, for how long freed memory is
/// kept before it goes back to the system.
#[cfg(all(unix, feature = "mimalloc"))]
const PURGE_DELAY: &str = "MIMALLOC_PURGE_DELAY";

/// Starts this process again with mimalloc's purge delay at 0, unless it is set already.
/// A server lives for hours and frees big transients (a file's parsed records at every
/// edit, the text of each message) on several threads; with the default delay mimalloc
/// keeps them, and the peak on 20,000 records grew from 65 to ~95 MB over 20 edits (which
/// were ~1.2x faster for it). mimalloc reads its options only from the environment as the process
/// starts (setting one later takes `unsafe`, which seedc forbids), so the process is
/// replaced by itself with the variable set, before stdin is read. Where that fails, the
/// server runs on with the default.
#[cfg(all(unix, feature = "mimalloc"))]
fn purge_freed_memory_at_once() {
    use std::os::unix::process::CommandExt as _;
    if std::env::var_os(PURGE_DELAY).is_some() {
        return;
    }
    let mut args = std::env::args_os();
    let (Some(arg0), Ok(exe)) = (args.next(), std::env::current_exe()) else { return };
    let err = std::process::Command::new(exe).arg0(arg0).args(args).env(PURGE_DELAY, "0").exec();
    crate::report::printer::log(&format!("cannot restart with {PURGE_DELAY}=0 ({err}); freed memory is kept longer"));
}
