//! The exit-code policy, one meaning per code (PRODUCT.md):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | ok |
//! | 1 | the content is invalid (diagnostics were printed), or `verify` found damage, or `diff --exit-code` found changes |
//! | 2 | usage or config error: bad flags, a broken seedc.toml or schema, an unreadable root |
//! | 3 | a service failed (PostgreSQL unreachable, lock timeout, ...); nothing was committed |
//! | 4 | refused: it would change something immutable (a published manifest, a locked version) |
//! | 5 | deploy committed, but a step after the commit is still pending: the cache flush (`seedc flush` finishes it) or the publish of `index.json` (`seedc publish` finishes it) |
//!
//! Commands return `anyhow::Result<Exit>`; an error means exit 2 unless an [`ExitError`] in
//! its chain says otherwise.

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Invalid = 1,
    Usage = 2,
    Service = 3,
    Refused = 4,
    FlushPending = 5,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// An error that maps to a specific exit code. Wrap the cause:
/// `Err(ExitError::new(Exit::Service, err))`, or attach with `.context(...)` around it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct ExitError {
    pub exit: Exit,
    pub message: String,
}

impl ExitError {
    #[expect(clippy::new_ret_no_self, reason = "every caller needs the anyhow::Error that carries it")]
    pub(crate) fn new(exit: Exit, message: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(ExitError { exit, message: message.into() })
    }
}

/// The exit code an error maps to: the first [`ExitError`] in its chain, else usage (2).
pub(crate) fn exit_of(err: &anyhow::Error) -> Exit {
    err.chain().find_map(|e| e.downcast_ref::<ExitError>()).map_or(Exit::Usage, |e| e.exit)
}
