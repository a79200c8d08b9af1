//! The content root a command works on, opened once: where its files come from (`tree`),
//! its config (`seedc.toml`, with its named deploy targets in `environments`) and its lock
//! (`seedc.lock`), each read once per process, and how seedc writes a file into it without
//! ever tearing one (`atomic`).

pub(crate) mod atomic;
pub mod config;
pub mod environments;
mod git;
pub mod lock;
pub(crate) mod names;
pub mod path;
mod resolve;
pub mod tree;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use config::Config;
use lock::Lock;
use tree::Tree;

/// A content root opened once: every command and stage takes this instead of a path, so
/// `seedc.toml` and `seedc.lock` are read (and checked) exactly once. The tree may carry an
/// editor's unsaved buffers over the files on disk ([`Project::with_buffers`]).
#[derive(Debug)]
pub struct Project {
    tree: Tree,
    config: Config,
    lock: Lock,
}

impl Project {
    /// Opens the content root in directory `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Project> {
        Project::from_tree(Tree::dir(root))
    }

    /// Opens the content root of `tree` (a directory or a git revision): reads and checks
    /// its `seedc.toml` (exit 2 when it is missing or wrong) and its `seedc.lock`.
    pub fn from_tree(tree: Tree) -> Result<Project> {
        let config = Config::load_tree(&tree)?;
        let lock = Lock::load_tree(&tree)?;
        Ok(Project { tree, config, lock })
    }

    /// The content root in `root` with `buffers` (path relative to the root, text) read
    /// instead of the files at their paths: what an editor shows, saved or not. A buffer of
    /// `seedc.toml` or `seedc.lock` counts too.
    pub fn with_buffers(root: impl Into<PathBuf>, buffers: impl IntoIterator<Item = (String, Arc<String>)>) -> Result<Project> {
        let mut tree = Tree::dir(root);
        for (rel, text) in buffers {
            tree = tree.with_buffer(&rel, text)?;
        }
        Project::from_tree(tree)
    }

    /// This content root (a directory) with `buffers` over its files instead of the ones it
    /// had, and its `seedc.toml` and `seedc.lock` as they were read: what the language
    /// server checks one changed file in, against the config of its last whole check.
    pub fn with_new_buffers(&self, buffers: impl IntoIterator<Item = (String, Arc<String>)>) -> Result<Project> {
        let root = self.root().context("only a directory takes buffers")?;
        let mut tree = Tree::dir(root);
        for (rel, text) in buffers {
            tree = tree.with_buffer(&rel, text)?;
        }
        Ok(Project { tree, config: self.config.clone(), lock: self.lock.clone() })
    }

    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn lock(&self) -> &Lock {
        &self.lock
    }

    /// The directory on disk, for a content root in one (not a git revision).
    pub fn root(&self) -> Option<&Path> {
        self.tree.root()
    }
}
