//! Stage 4, bundle and manifests: turns checked content into the build outputs, in memory.
//! Pure: the same checked content and dates always give the same bytes. Writing them to
//! `out/` (atomically, incrementally) is [`write`]'s job; `deploy` publishes the same values.
//!
//! - a bundle per pack: its RFC 8785 canonical bytes, addressed by their SHA-256
//! - a daily manifest per requested date and one FREEPLAY manifest (D19 §3.4)
//! - `index.json`: every pack as a PackIndex row (D19 §3.5) and every manifest

pub mod manifest;

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::canon::{self, ContentHash};
use crate::check::Checked;
pub use manifest::{DailyInfo, Manifest, Mode, PackRef};

/// One pack bundle: the canonical bytes of a pack and their address.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub hash: ContentHash,
    pub pack_id: String,
    pub version: String,
    pub kind: String,
    pub pack_schema_v: String,
    pub bytes: Vec<u8>,
}

impl Bundle {
    /// Path relative to `out/`.
    pub fn path(&self) -> String {
        bundle_path(&self.hash)
    }
}

/// Path of a bundle relative to `out/`: `packs/sha256/<hex>.json`.
pub fn bundle_path(hash: &ContentHash) -> String {
    format!("packs/sha256/{}.json", hash.hex())
}

/// Path of a manifest relative to `out/`: `manifests/<manifest_id>.json`.
pub fn manifest_path(manifest_id: &str) -> String {
    format!("manifests/{manifest_id}.json")
}

/// A row of `index.json`'s `packs`: D19's PackIndex, minus the client-side install state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackIndex {
    /// Row format version (1).
    pub v: u32,
    /// The address of the bundle: SHA-256 of its bytes.
    pub pack_hash: ContentHash,
    pub pack_id: String,
    pub version: String,
    pub kind: String,
    pub pack_schema_v: String,
    /// Size of the bundle in bytes.
    pub bytes: u64,
    /// Where the bundle is, relative to `out/`.
    pub path: String,
}

/// A row of `index.json`'s `manifests`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManifestIndex {
    pub manifest_id: String,
    pub mode: Mode,
    /// The daily's date, for DAILY manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// SHA-256 of the manifest file's bytes.
    pub hash: ContentHash,
    pub path: String,
}

/// `out/index.json`: every pack and every manifest of the build, canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// Format version (1).
    pub v: u32,
    /// Sorted by pack_id, then version.
    pub packs: Vec<PackIndex>,
    /// Sorted by manifest_id.
    pub manifests: Vec<ManifestIndex>,
}

/// A manifest and its canonical bytes.
#[derive(Debug, Clone)]
pub struct ManifestFile {
    pub manifest: Manifest,
    pub bytes: Vec<u8>,
    pub hash: ContentHash,
}

/// Everything a build produces, in memory.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub bundles: Vec<Bundle>,
    pub manifests: Vec<ManifestFile>,
    pub index: Index,
    pub index_bytes: Vec<u8>,
}

/// Compiles checked content (which must have no errors) for the given daily dates.
pub fn compile(checked: &Checked, dates: &[jiff::civil::Date]) -> Result<Compiled> {
    let mut bundles: Vec<Bundle> = checked
        .content
        .packs
        .iter()
        .zip(&checked.pack_hashes)
        .map(|(p, hash)| {
            let bytes = canon::canonical(&p.value);
            debug_assert_eq!(ContentHash::of(&bytes), *hash);
            Bundle {
                hash: *hash,
                pack_id: p.pack_id.clone(),
                version: p.version.to_string(),
                kind: p.kind.clone(),
                pack_schema_v: p.schema_v.clone(),
                bytes,
            }
        })
        .collect();
    bundles.sort_by(|a, b| (&a.pack_id, &a.version).cmp(&(&b.pack_id, &b.version)));

    let by_id: BTreeMap<&str, &Bundle> = bundles.iter().map(|b| (b.pack_id.as_str(), b)).collect();
    let daily_refs: Vec<PackRef> = match &checked.config.daily.packs {
        Some(ids) => {
            let mut refs = Vec::new();
            for id in ids {
                let Some(b) = by_id.get(id.as_str()) else {
                    bail!("seedc.toml daily.packs names pack {id:?}, but there is no such pack under data/packs/");
                };
                refs.push(PackRef::of(b));
            }
            refs.sort_by(|a, b| a.pack_id.cmp(&b.pack_id));
            refs
        }
        None => bundles.iter().map(PackRef::of).collect(),
    };
    let all_refs: Vec<PackRef> = bundles.iter().map(PackRef::of).collect();

    let mut manifests = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for date in dates {
        if seen.insert(*date) {
            manifests.push(ManifestFile::new(manifest::daily(&checked.config, *date, daily_refs.clone())));
        }
    }
    manifests.push(ManifestFile::new(manifest::freeplay(&checked.config, all_refs, freeplay_time(checked))));
    manifests.sort_by(|a, b| a.manifest.manifest_id.cmp(&b.manifest.manifest_id));

    let index = Index {
        v: 1,
        packs: bundles
            .iter()
            .map(|b| PackIndex {
                v: 1,
                pack_hash: b.hash,
                pack_id: b.pack_id.clone(),
                version: b.version.clone(),
                kind: b.kind.clone(),
                pack_schema_v: b.pack_schema_v.clone(),
                bytes: b.bytes.len() as u64,
                path: b.path(),
            })
            .collect(),
        manifests: manifests
            .iter()
            .map(|m| ManifestIndex {
                manifest_id: m.manifest.manifest_id.clone(),
                mode: m.manifest.mode,
                date: m.manifest.daily.as_ref().map(|d| d.date.clone()),
                hash: m.hash,
                path: manifest_path(&m.manifest.manifest_id),
            })
            .collect(),
    };
    let index_bytes = canon::canonical_of(&index)?;
    Ok(Compiled { bundles, manifests, index, index_bytes })
}

impl ManifestFile {
    pub fn new(manifest: Manifest) -> Self {
        let bytes = canon::canonical_of(&manifest).expect("manifests always canonicalize");
        let hash = ContentHash::of(&bytes);
        ManifestFile { manifest, bytes, hash }
    }
}

/// The FREEPLAY manifest's `created_at`: SOURCE_DATE_EPOCH if set, else the latest
/// `updated_at` of the seed files, so it never depends on when the build ran.
fn freeplay_time(checked: &Checked) -> i64 {
    if let Some(epoch) = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.trim().parse::<i64>().ok()) {
        return epoch;
    }
    checked
        .content
        .seeds
        .values()
        .filter_map(|s| s.updated_at.as_deref()?.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_second())
        .max()
        .unwrap_or(0)
}
