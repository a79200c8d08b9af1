//! The one integration test binary: every module below drives the real `seedc` binary or
//! the library against the sample content, fixtures, and (for deploy/flush) the real
//! PostgreSQL and Redis that `scripts/test` starts.

mod support;

mod adopt;
mod build;
mod check_cli;
mod check_codes;
mod check_props;
mod ci;
mod client_cert;
mod code_quality;
mod deploy;
mod diff;
mod docs;
mod drift;
mod environments;
mod escaping;
mod flush;
mod hash_version;
mod hostile;
mod init;
mod lsp;
mod lsp_incremental;
mod lsp_stdio;
mod lsp_support;
mod migrations;
mod publish;
mod saved_plans;
mod tidy;
mod windows;
