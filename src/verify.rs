//! `seedc verify`: checks `out/` against itself, trusting nothing but the bytes on disk.
//! Every bundle is re-hashed against its name, every manifest parsed and each of its
//! `pack_refs` resolved to an intact bundle, and `index.json` compared with exactly what is
//! there. Each damaged or missing file is one diagnostic naming it (codes `corrupt-bundle`,
//! `missing-bundle`, `unresolved-pack-ref`, `corrupt-manifest`, `missing-manifest`,
//! `index-mismatch`), so CI reads the result like any other check.
//!
//! The same checks run on a published copy (`seedc verify URL`): [`verify_copy`] reads
//! through [`Copy`], which `out/` ([`OutDir`]) and the publish stage's store implement.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::build::write::{BUNDLES_DIR, INDEX_FILE, MANIFESTS_DIR, OUT_DIR};
use crate::build::{Index, Manifest, bundle_path, manifest_path};
use crate::build_support::TMP_PREFIX;
use crate::canon::{self, ContentHash};
use crate::diag::{Code, Diagnostic, Sink};

/// The findings of a verification and how many files it read.
pub struct Verified {
    pub sink: Sink,
    pub files: usize,
}

/// A built copy to verify: `out/` on disk, or a published one.
pub trait Copy {
    /// How diagnostics name its files: `out`, `s3://bucket/prefix`.
    fn base(&self) -> String;
    /// The file names of one of its directories (`packs/sha256`, `manifests`), sorted,
    /// without temporaries.
    fn list(&self, dir: &str) -> Result<Vec<String>>;
    /// SHA-256 and length of each bundle of `packs/sha256` named, in that order (`None`: it
    /// vanished since the listing).
    fn hash_bundles(&self, names: &[String]) -> Result<Vec<Option<(ContentHash, u64)>>>;
    /// A file's bytes, by path relative to the copy (`None`: absent).
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>>;
}

/// `out/` under a content root.
pub struct OutDir(pub std::path::PathBuf);

impl Copy for OutDir {
    fn base(&self) -> String {
        OUT_DIR.to_owned()
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        list(&self.0.join(dir))
    }

    fn hash_bundles(&self, names: &[String]) -> Result<Vec<Option<(ContentHash, u64)>>> {
        names
            .par_iter()
            .map(|name| {
                let path = self.0.join(BUNDLES_DIR).join(name);
                let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
                Ok(Some((ContentHash::of(&bytes), bytes.len() as u64)))
            })
            .collect()
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let path = self.0.join(path);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
}

/// What verify learned about one bundle file.
struct BundleFile {
    /// The hash its name claims (None: the name is not `<64 hex>.json`).
    named: Option<ContentHash>,
    len: u64,
    intact: bool,
}

/// Verifies `out/` under a content root.
pub fn verify(root: &Path) -> Result<Verified> {
    verify_copy(&OutDir(root.join(OUT_DIR)))
}

/// Verifies a built copy: `out/`, or a published one.
pub fn verify_copy(copy: &dyn Copy) -> Result<Verified> {
    let base = copy.base();
    let mut sink = Sink::default();
    let rel = |p: &str| format!("{base}/{p}");

    let bundle_names = copy.list(BUNDLES_DIR)?;
    let hashes = copy.hash_bundles(&bundle_names)?;
    let bundles: BTreeMap<String, BundleFile> = bundle_names
        .into_iter()
        .zip(hashes)
        .filter_map(|(name, hashed)| {
            let (hash, len) = hashed?;
            let named = name.strip_suffix(".json").and_then(ContentHash::parse_hex);
            let intact = named.is_some_and(|h| hash == h);
            Some((name, BundleFile { named, len, intact }))
        })
        .collect();
    let intact: BTreeSet<ContentHash> = bundles.values().filter(|b| b.intact).filter_map(|b| b.named).collect();
    for (name, b) in &bundles {
        let file = rel(&format!("{BUNDLES_DIR}/{name}"));
        if b.named.is_none() {
            sink.push(
                Diagnostic::error(Code::CorruptBundle, "file name is not `<sha256 hex>.json`, so nothing can verify it")
                    .in_file(file)
                    .help("remove it; `seedc build` writes bundles only under their hash"),
            );
        } else if !b.intact {
            sink.push(Diagnostic::error(Code::CorruptBundle, "bundle bytes do not match the hash in its name").in_file(file));
        }
    }

    let mut manifests: BTreeMap<String, (ContentHash, bool)> = BTreeMap::new();
    for name in copy.list(MANIFESTS_DIR)? {
        let Some(bytes) = copy.read(&format!("{MANIFESTS_DIR}/{name}"))? else { continue };
        let file = rel(&format!("{MANIFESTS_DIR}/{name}"));
        let ok = check_manifest(&name, &bytes, &file, &intact, &mut sink);
        manifests.insert(name, (ContentHash::of(&bytes), ok));
    }

    let index_file = rel(INDEX_FILE);
    match copy.read(INDEX_FILE)? {
        None => {
            sink.push(
                Diagnostic::error(Code::IndexMismatch, format!("index.json is missing: {base}/ holds no complete build"))
                    .in_file(&index_file),
            );
        }
        Some(bytes) => match serde_json::from_slice::<Index>(&bytes) {
            Err(e) => {
                sink.push(Diagnostic::error(Code::IndexMismatch, format!("index.json is not a valid index: {e}")).in_file(&index_file))
            }
            Ok(index) => {
                if canon::canonical_of(&index).ok().as_deref() != Some(bytes.as_slice()) {
                    sink.push(
                        Diagnostic::error(Code::IndexMismatch, "index.json is not in canonical (RFC 8785) form").in_file(&index_file),
                    );
                }
                check_index(&index, &bundles, &manifests, &base, &index_file, &mut sink);
            }
        },
    }
    sink.sort();
    Ok(Verified { sink, files: bundles.len() + manifests.len() + 1 })
}

/// Checks one manifest; returns false if it is corrupt (then its index row is not compared).
fn check_manifest(name: &str, bytes: &[u8], file: &str, intact: &BTreeSet<ContentHash>, sink: &mut Sink) -> bool {
    let manifest = match serde_json::from_slice::<Manifest>(bytes) {
        Ok(m) => m,
        Err(e) => {
            sink.push(Diagnostic::error(Code::CorruptManifest, format!("not a valid manifest: {e}")).in_file(file));
            return false;
        }
    };
    let mut ok = true;
    if canon::canonical_of(&manifest).ok().as_deref() != Some(bytes) {
        sink.push(Diagnostic::error(Code::CorruptManifest, "manifest is not in canonical (RFC 8785) form").in_file(file));
        ok = false;
    }
    if format!("{}.json", manifest.manifest_id) != name {
        sink.push(
            Diagnostic::error(Code::CorruptManifest, format!("manifest `{}` is in a file named {name}", manifest.manifest_id))
                .in_file(file)
                .at_value("/manifest_id"),
        );
        ok = false;
    }
    for (i, r) in manifest.pack_refs.iter().enumerate() {
        if !intact.contains(&r.hash) {
            sink.push(
                Diagnostic::error(
                    Code::UnresolvedPackRef,
                    format!("pack `{}` {} is bound to {}, which is missing or damaged", r.pack_id, r.version, r.hash),
                )
                .in_file(file)
                .at_value(format!("/pack_refs/{i}/hash")),
            );
        }
    }
    ok
}

fn check_index(
    index: &Index,
    bundles: &BTreeMap<String, BundleFile>,
    manifests: &BTreeMap<String, (ContentHash, bool)>,
    base: &str,
    index_file: &str,
    sink: &mut Sink,
) {
    let mut listed = BTreeSet::new();
    for (i, row) in index.packs.iter().enumerate() {
        let name = format!("{}.json", row.pack_hash.hex());
        listed.insert(name.clone());
        let file = format!("{base}/{}", bundle_path(&row.pack_hash));
        if row.path != bundle_path(&row.pack_hash) {
            sink.push(
                Diagnostic::error(Code::IndexMismatch, format!("pack `{}` is listed at {:?}, not at its hash", row.pack_id, row.path))
                    .in_file(index_file)
                    .at_value(format!("/packs/{i}/path")),
            );
        }
        match bundles.get(&name) {
            None => sink.push(
                Diagnostic::error(Code::MissingBundle, format!("bundle of pack `{}` {} is missing", row.pack_id, row.version))
                    .in_file(file),
            ),
            Some(b) if b.intact && b.len != row.bytes => sink.push(
                Diagnostic::error(Code::IndexMismatch, format!("index.json says {} bytes, the bundle has {}", row.bytes, b.len))
                    .in_file(index_file)
                    .at_value(format!("/packs/{i}/bytes")),
            ),
            Some(_) => {}
        }
    }
    for name in bundles.keys().filter(|n| !listed.contains(*n)) {
        sink.push(
            Diagnostic::error(Code::IndexMismatch, "bundle is not listed in index.json").in_file(format!("{base}/{BUNDLES_DIR}/{name}")),
        );
    }

    let mut listed = BTreeSet::new();
    for (i, row) in index.manifests.iter().enumerate() {
        let name = format!("{}.json", row.manifest_id);
        listed.insert(name.clone());
        let file = format!("{base}/{}", manifest_path(&row.manifest_id));
        match manifests.get(&name) {
            None => sink.push(Diagnostic::error(Code::MissingManifest, format!("manifest `{}` is missing", row.manifest_id)).in_file(file)),
            Some((hash, true)) if *hash != row.hash => sink.push(
                Diagnostic::error(
                    Code::IndexMismatch,
                    format!("index.json lists `{}` with hash {}, the file has {hash}", row.manifest_id, row.hash),
                )
                .in_file(index_file)
                .at_value(format!("/manifests/{i}/hash")),
            ),
            Some(_) => {}
        }
    }
    for name in manifests.keys().filter(|n| !listed.contains(*n)) {
        sink.push(
            Diagnostic::error(Code::IndexMismatch, "manifest is not listed in index.json")
                .in_file(format!("{base}/{MANIFESTS_DIR}/{name}")),
        );
    }
}

/// Regular files of a directory, sorted, without the temporaries of a running or killed
/// build (they never carry a final name, so they are not outputs).
fn list(dir: &Path) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().is_ok_and(|t| t.is_file()) && !name.starts_with(TMP_PREFIX) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}
