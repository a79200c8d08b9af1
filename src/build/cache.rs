//! The incremental build cache (`out/.cache/build.json`): BLAKE3 fingerprints of everything a
//! clean check depends on, and what that check produced (the packs' metadata and hashes).
//! When every fingerprint matches, `build` skips loading, parsing and validating entirely.
//!
//! The cache is only ever a shortcut, never a source of truth: it is written last, after
//! every output it describes, and `write` still re-hashes every output before trusting a
//! hit (see docs/build.md for why re-hashing beats size+mtime here). A missing, corrupt or
//! foreign cache file is simply a miss.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::PackIndex;
use crate::check::Checked;
use crate::project::config::{CONFIG_FILE, CONFIG_LIMIT};
use crate::project::lock::{LOCK_FILE, LOCK_LIMIT};
use crate::project::tree::Tree;
use crate::validate::schemas::SCHEMAS_DIR;

/// The cache file, relative to `out/`.
pub const CACHE_FILE: &str = ".cache/build.json";

/// Bumped whenever the meaning of the cache changes, so an old cache is a miss.
const FORMAT: u32 = 2;

/// BLAKE3 fingerprints of a content root's inputs, taken before anything is checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Tool version, seedc.toml and every file under `schemas/`: what every check depends on.
    pub global: String,
    /// seedc.lock's bytes (version discipline depends on it); "absent" when there is none.
    pub lock: String,
    /// Every seed file and pack, by path relative to the root.
    pub inputs: BTreeMap<String, String>,
}

impl Fingerprint {
    /// Reads and hashes every input. Cheap next to a check: BLAKE3 runs at several GB/s and
    /// the files are read in parallel.
    pub fn compute(root: &Path) -> Result<Fingerprint> {
        let mut fingerprint = Fingerprint::without_inputs(root)?;
        let rels = input_files(root);
        fingerprint.inputs = hash_files(&Tree::dir(root), &rels).into_iter().collect();
        Ok(fingerprint)
    }

    /// The global and lock fingerprints alone: what a run with no build cache to compare
    /// with needs before its check. [`Fingerprint::of_checked_inputs`] completes it after
    /// the check, so the content is read once.
    pub fn without_inputs(root: &Path) -> Result<Fingerprint> {
        let mut global = blake3::Hasher::new();
        global.update(b"seedc-build-cache\0");
        global.update(&FORMAT.to_le_bytes());
        framed(&mut global, env!("CARGO_PKG_VERSION").as_bytes());
        let tree = Tree::dir(root);
        let config = tree.read_limited(CONFIG_FILE, CONFIG_LIMIT).with_context(|| format!("cannot read {CONFIG_FILE}"))?;
        framed(&mut global, &config);
        let schema_files = tree.files_under(SCHEMAS_DIR).with_context(|| format!("cannot list {}", root.join(SCHEMAS_DIR).display()))?;
        for (rel, hash) in hash_files(&tree, &schema_files) {
            framed(&mut global, rel.as_bytes());
            framed(&mut global, hash.as_bytes());
        }
        Ok(Fingerprint { global: global.finalize().to_hex().to_string(), lock: lock_hash(root)?, inputs: BTreeMap::new() })
    }

    /// This fingerprint with the inputs `checked` read: each file's BLAKE3 taken from the
    /// very bytes the check read, so what is cached as checked is what was checked. The
    /// same as [`Fingerprint::compute`] would give for files unchanged since; a file the
    /// check did not read gets a marker that matches no hash (the next run misses).
    pub fn of_checked_inputs(self, root: &Path, checked: &Checked) -> Fingerprint {
        let inputs = input_files(root)
            .into_iter()
            .map(|rel| {
                let hash = checked.content.sources.get(&rel).map(|s| s.fingerprint().to_hex().to_string());
                let hash = hash.unwrap_or_else(|| "unchecked".to_owned());
                (rel, hash)
            })
            .collect();
        Fingerprint { inputs, ..self }
    }
}

/// Every seed file and pack of the content root, relative to it.
fn input_files(root: &Path) -> Vec<String> {
    let found = crate::load::discover_tree(&Tree::dir(root));
    found.seeds.into_iter().chain(found.packs).collect()
}

/// The fingerprint of seedc.lock as it is now on disk.
pub fn lock_hash(root: &Path) -> Result<String> {
    match Tree::dir(root).read_limited(LOCK_FILE, LOCK_LIMIT) {
        Ok(bytes) => Ok(blake3::hash(&bytes).to_hex().to_string()),
        Err(e) if e.is_not_found() => Ok("absent".to_owned()),
        Err(e) => Err(e).with_context(|| format!("cannot read {LOCK_FILE}")),
    }
}

/// What a clean check of exactly these inputs produced: enough to plan manifests and the
/// index, and to verify the bundles on disk, without reading any pack.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildCache {
    pub format: u32,
    pub fingerprint: Fingerprint,
    /// The current packs, in `index.json` order.
    pub packs: Vec<PackIndex>,
    /// The content's latest `updated_at` (the FREEPLAY `created_at` without SOURCE_DATE_EPOCH).
    pub content_time: i64,
    /// Files named by a `$schema` of some input: check warns when one goes missing, so a
    /// hit requires that they all still exist.
    pub schema_refs: Vec<String>,
}

impl BuildCache {
    /// The cache entry for a clean check of `fingerprint`'s inputs.
    pub fn new(fingerprint: Fingerprint, checked: &Checked, packs: Vec<PackIndex>) -> BuildCache {
        let refs = checked
            .content
            .seeds
            .values()
            .filter_map(|s| Some((s.file.as_str(), s.schema_ref.as_deref()?)))
            .chain(checked.content.packs.iter().filter_map(|p| Some((p.file.as_str(), p.schema_ref.as_deref()?))));
        let mut schema_refs: Vec<String> = refs
            .filter(|(_, r)| !r.contains("://"))
            .map(|(file, r)| {
                let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
                let path = r.split('#').next().unwrap_or_default();
                if dir.is_empty() { path.to_owned() } else { format!("{dir}/{path}") }
            })
            .collect();
        schema_refs.sort();
        schema_refs.dedup();
        BuildCache { format: FORMAT, fingerprint, packs, content_time: super::content_time(checked), schema_refs }
    }

    /// Reads `out/.cache/build.json`; anything unreadable or of another format is a miss.
    pub fn load(out: &Path) -> Option<BuildCache> {
        // Bounded like every read: a cache entry is a few kilobytes per pack.
        let bytes = Tree::dir(out).read_limited(CACHE_FILE, crate::build::write::OUT_FILE_LIMIT).ok()?;
        serde_json::from_slice::<BuildCache>(&bytes).ok().filter(|c| c.format == FORMAT)
    }

    /// Whether this entry describes exactly the inputs of `now` under `root`.
    pub fn hit(&self, now: &Fingerprint, root: &Path) -> bool {
        self.fingerprint == *now && self.schema_refs.iter().all(|r| root.join(r).is_file())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(self).expect("the cache always serializes");
        bytes.push(b'\n');
        bytes
    }
}

/// Hashes a length-prefixed field, so two fields can never run into each other.
fn framed(h: &mut blake3::Hasher, bytes: &[u8]) {
    h.update(&(bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// BLAKE3 of each file; a file that cannot be read gets a marker instead (the check that
/// follows a miss reports it as a diagnostic, with the content's other problems). Opened
/// through the tree: regular files inside the root only, so a FIFO cannot block a build.
fn hash_files(tree: &Tree, rels: &[String]) -> Vec<(String, String)> {
    rels.par_iter()
        .map(|rel| {
            // Streamed: reading whole files would cost fresh memory the size of the content.
            let hash = tree
                .open_regular(rel)
                .map_err(|e| e.to_string())
                .and_then(|f| blake3::Hasher::new().update_reader(f).map(|h| h.finalize()).map_err(|e| e.to_string()));
            let hash = match hash {
                Ok(hash) => hash.to_hex().to_string(),
                Err(e) => format!("unreadable: {e}"),
            };
            (rel.clone(), hash)
        })
        .collect()
}
