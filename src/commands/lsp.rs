//! `seedc lsp`: the language server on stdio; the server itself is `crate::lsp`.

use std::path::Path;

use anyhow::{Context, Result};

use crate::exit::Exit;
use crate::lsp::Ended;

/// Serves one editor on stdin/stdout until it exits or closes stdin. Only protocol frames
/// reach stdout; logs go to stderr.
pub(super) fn run(root: &Path) -> Result<Exit> {
    let (connection, io) = lsp_server::Connection::stdio();
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
