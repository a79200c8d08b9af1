//! Stage 4, bundle and manifests: turns checked content into the build outputs, in memory.
//! Pure: the same checked content and dates always give the same bytes. Writing them to
//! `out/` (atomically, incrementally) is [`write`]'s job, with [`cache`] deciding what can
//! be skipped; `deploy` publishes the same values.
//!
//! - a bundle per pack: its RFC 8785 canonical bytes, addressed by their SHA-256
//! - a daily manifest per requested date and one FREEPLAY manifest (D19 §3.4)
//! - `index.json`: every pack as a PackIndex row (D19 §3.5) and every manifest

pub mod cache;
pub(crate) mod manifest;
pub(crate) mod render;
pub(crate) mod write;

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::check::Checked;
use crate::json::canon::{self, ContentHash};
use crate::project::config::Config;
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

    /// The bundle's row of `index.json`: everything about it but its bytes.
    pub fn meta(&self) -> PackIndex {
        PackIndex {
            v: 1,
            pack_hash: self.hash,
            pack_id: self.pack_id.clone(),
            version: self.version.clone(),
            kind: self.kind.clone(),
            pack_schema_v: self.pack_schema_v.clone(),
            bytes: self.bytes.len() as u64,
            path: self.path(),
        }
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

    let packs: Vec<PackIndex> = bundles.iter().map(Bundle::meta).collect();
    let manifests = manifests_for(&checked.config, &packs, dates, freeplay_time(content_time(checked)))?;
    let index = index_of(packs, &manifests);
    let index_bytes = canon::canonical_of(&index)?;
    Ok(Compiled { bundles, manifests, index, index_bytes })
}

/// The manifests of a build, from the metadata of the current packs alone (no pack
/// content needed, so a cached build can plan them without parsing anything): a daily per
/// distinct date and the FREEPLAY manifest, sorted by id.
pub fn manifests_for(config: &Config, packs: &[PackIndex], dates: &[jiff::civil::Date], freeplay_at: i64) -> Result<Vec<ManifestFile>> {
    let by_id: BTreeMap<&str, &PackIndex> = packs.iter().map(|b| (b.pack_id.as_str(), b)).collect();
    let daily_refs: Vec<PackRef> = match &config.daily.packs {
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
        None => packs.iter().map(PackRef::of).collect(),
    };
    let all_refs: Vec<PackRef> = packs.iter().map(PackRef::of).collect();

    let mut manifests = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for date in dates {
        if seen.insert(*date) {
            manifests.push(ManifestFile::new(manifest::daily(config, *date, daily_refs.clone())));
        }
    }
    manifests.push(ManifestFile::new(manifest::freeplay(config, all_refs, freeplay_at)));
    manifests.sort_by(|a, b| a.manifest.manifest_id.cmp(&b.manifest.manifest_id));
    Ok(manifests)
}

/// The index of a set of bundles and manifests, each list in its documented order.
pub fn index_of(mut packs: Vec<PackIndex>, manifests: &[ManifestFile]) -> Index {
    // The hash breaks ties only for bundles kept from older builds (see `write`).
    packs.sort_by(|a, b| (&a.pack_id, &a.version, a.pack_hash).cmp(&(&b.pack_id, &b.version, b.pack_hash)));
    packs.dedup_by(|a, b| a.pack_hash == b.pack_hash);
    let mut manifests: Vec<ManifestIndex> = manifests
        .iter()
        .map(|m| ManifestIndex {
            manifest_id: m.manifest.manifest_id.clone(),
            mode: m.manifest.mode,
            date: m.manifest.daily.as_ref().map(|d| d.date.clone()),
            hash: m.hash,
            path: manifest_path(&m.manifest.manifest_id),
        })
        .collect();
    manifests.sort_by(|a, b| a.manifest_id.cmp(&b.manifest_id));
    Index { v: 1, packs, manifests }
}

impl ManifestFile {
    pub fn new(manifest: Manifest) -> Self {
        let bytes = canon::canonical_of(&manifest).expect("manifests always canonicalize");
        let hash = ContentHash::of(&bytes);
        ManifestFile { manifest, bytes, hash }
    }
}

/// The FREEPLAY manifest's `created_at`: SOURCE_DATE_EPOCH if set, else `content_time`
/// (the content's own latest `updated_at`), so it never depends on when the build ran.
pub fn freeplay_time(content_time: i64) -> i64 {
    std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.trim().parse::<i64>().ok()).unwrap_or(content_time)
}

/// The latest `updated_at` of the seed files, in epoch seconds (0 if none).
pub fn content_time(checked: &Checked) -> i64 {
    checked
        .content
        .seeds
        .values()
        // The check's own parser: what it accepted is what the build reads.
        .filter_map(|s| crate::load::time::parse_rfc3339(s.updated_at.as_deref()?))
        .max()
        .unwrap_or(0)
}
