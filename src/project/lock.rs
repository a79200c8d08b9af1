//! `seedc.lock`: the version and content hash of every collection, and the hash of every
//! pack version ever built. Machine-written by `seedc build`; read by `check` to enforce
//! version discipline. Written as sorted, pretty JSON so it diffs well in review.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::json::canon::{ContentHash, HashVersion};
use crate::project::tree::Tree;

pub const LOCK_FILE: &str = "seedc.lock";

/// The largest `seedc.lock` read: generous (every pack version ever built is in it), but
/// a bound, so a device or a runaway file cannot exhaust memory.
pub const LOCK_LIMIT: u64 = 256 << 20;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// Format version of this file: 2 (collection hashes of record hashes); 1 is read until a build.
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
        Self::load_tree(&Tree::dir(root))
    }

    /// Reads the lock of a directory or a git revision, at most [`LOCK_LIMIT`] bytes; a
    /// missing lock is an empty one (a new project).
    pub fn load_tree(tree: &Tree) -> Result<Lock> {
        match tree.read_optional(LOCK_FILE, LOCK_LIMIT)? {
            Some(text) => Self::parse(&text),
            None => Ok(Lock::empty()),
        }
    }

    /// Parses and checks a lock. A damaged lock is an error, never a reason to check less:
    /// an unknown format version or a collection version that is not semver would
    /// otherwise silently turn off the version-bump check.
    pub fn parse(text: &str) -> Result<Lock> {
        let corrupt = || format!("{LOCK_FILE} is corrupt; restore it from version control");
        let lock: Lock = serde_json::from_str(text).with_context(corrupt)?;
        lock.validate().with_context(corrupt)?;
        Ok(lock)
    }

    /// A lock with nothing in it, of the format this seedc writes.
    pub fn empty() -> Lock {
        Lock { v: HashVersion::CURRENT.number(), ..Lock::default() }
    }

    /// The definition its collection hashes follow: the file's format version says.
    pub fn hash_version(&self) -> HashVersion {
        // A parsed lock has a known version; only `Lock::default()` has none.
        HashVersion::from_number(self.v).unwrap_or(HashVersion::CURRENT)
    }

    fn validate(&self) -> Result<()> {
        let current = HashVersion::CURRENT.number();
        ensure!(
            HashVersion::from_number(self.v).is_some(),
            "format version `v` is {}, but this seedc reads versions 1 to {current}",
            self.v
        );
        for (name, c) in &self.collections {
            ensure!(semver::Version::parse(&c.version).is_ok(), "collections.{name}.version {:?} is not a semantic version", c.version);
        }
        for (pack, versions) in &self.packs {
            for v in versions.keys() {
                ensure!(semver::Version::parse(v).is_ok(), "packs.{pack:?} has version {v:?}, which is not a semantic version");
            }
        }
        Ok(())
    }

    /// The file's exact text: sorted keys, two-space indent, final newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("the lock always serializes");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_lock_is_refused() {
        let hash = format!("sha256:{}", "0".repeat(64));
        let good = format!(r#"{{"v":1,"collections":{{"a":{{"version":"1.0.0","hash":"{hash}"}}}},"packs":{{}}}}"#);
        Lock::parse(&good).unwrap();
        for bad in [
            good.replace("\"v\":1", "\"v\":99"),
            good.replace("1.0.0", "banana"),
            good.replace("\"packs\":{}", "\"packs\":{\"p\":{\"x\":\"sha256:00\"}}"),
        ] {
            assert!(format!("{:#}", Lock::parse(&bad).unwrap_err()).contains("corrupt"), "{bad}");
        }
    }
}
