//! The content root: where its files come from (`tree`), its config (`seedc.toml`), its lock
//! (`seedc.lock`), and how seedc writes a file into it without ever tearing one (`atomic`).

pub(crate) mod atomic;
pub mod config;
pub mod lock;
pub mod tree;
