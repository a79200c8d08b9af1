//! `seedc.lock`: the version and content hash of every collection, and the hash of every
//! pack version ever built. Machine-written by `seedc build`; read by `check` to enforce
//! version discipline. Written as sorted, pretty JSON so it diffs well in review.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::canon::ContentHash;

pub const LOCK_FILE: &str = "seedc.lock";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// Format version of this file (1).
    pub v: u32,
    /// Collection name → its current version and content hash.
    pub collections: BTreeMap<String, LockedCollection>,
    /// pack_id → version → the hash that version was built with. Entries are never removed,
    /// so a version can never come back with other content.
    pub packs: BTreeMap<String, BTreeMap<String, ContentHash>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockedCollection {
    pub version: String,
    pub hash: ContentHash,
}

impl Lock {
    /// Reads the lock under `root`; a missing lock is an empty one (a new project).
    pub fn load(root: &Path) -> Result<Lock> {
        let path = root.join(LOCK_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Lock { v: 1, ..Lock::default() }),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn parse(text: &str) -> Result<Lock> {
        serde_json::from_str(text).with_context(|| format!("{LOCK_FILE} is corrupt; restore it from version control"))
    }

    /// The file's exact text: sorted keys, two-space indent, final newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("the lock always serializes");
        text.push('\n');
        text
    }
}
