//! `seedc verify`: checks `out/` against itself, trusting nothing but the bytes on disk.
//! Every bundle is re-hashed against its name, every manifest parsed and each of its
//! `pack_refs` resolved to an intact bundle, and `index.json` compared with exactly what is
//! there. Each damaged or missing file is one diagnostic naming it (codes `corrupt-bundle`,
//! `missing-bundle`, `unresolved-pack-ref`, `corrupt-manifest`, `missing-manifest`,
//! `index-mismatch`), so CI reads the result like any other check.

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

/// What verify learned about one bundle file.
struct BundleFile {
    /// The hash its name claims (None: the name is not `<64 hex>.json`).
    named: Option<ContentHash>,
    len: u64,
    intact: bool,
}

pub fn verify(root: &Path) -> Result<Verified> {
    let out = root.join(OUT_DIR);
    let mut sink = Sink::default();
    let rel = |p: &str| format!("{OUT_DIR}/{p}");

    let bundle_names = list(&out.join(BUNDLES_DIR))?;
    let bundles: BTreeMap<String, BundleFile> = bundle_names
        .par_iter()
        .map(|name| {
            let path = out.join(BUNDLES_DIR).join(name);
            let named = name.strip_suffix(".json").and_then(ContentHash::parse_hex);
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let intact = named.is_some_and(|h| ContentHash::of(&bytes) == h);
            Ok((name.clone(), BundleFile { named, len: bytes.len() as u64, intact }))
        })
        .collect::<Result<_>>()?;
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

    let manifest_dir = out.join(MANIFESTS_DIR);
    let mut manifests: BTreeMap<String, (ContentHash, bool)> = BTreeMap::new();
    for name in list(&manifest_dir)? {
        let path = manifest_dir.join(&name);
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let file = rel(&format!("{MANIFESTS_DIR}/{name}"));
        let ok = check_manifest(&name, &bytes, &file, &intact, &mut sink);
        manifests.insert(name, (ContentHash::of(&bytes), ok));
    }

    let index_file = rel(INDEX_FILE);
    match std::fs::read(out.join(INDEX_FILE)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            sink.push(Diagnostic::error(Code::IndexMismatch, "index.json is missing: out/ holds no complete build").in_file(&index_file));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", out.join(INDEX_FILE).display())),
        Ok(bytes) => match serde_json::from_slice::<Index>(&bytes) {
            Err(e) => {
                sink.push(Diagnostic::error(Code::IndexMismatch, format!("index.json is not a valid index: {e}")).in_file(&index_file))
            }
            Ok(index) => {
                if canon::canonical_of(&index).ok().as_deref() != Some(bytes.as_slice()) {
                    sink.push(
                        Diagnostic::error(Code::IndexMismatch, "index.json is not in canonical (RFC 8785) form").in_file(&index_file),
                    );
                }
                check_index(&index, &bundles, &manifests, &index_file, &mut sink);
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
    index_file: &str,
    sink: &mut Sink,
) {
    let mut listed = BTreeSet::new();
    for (i, row) in index.packs.iter().enumerate() {
        let name = format!("{}.json", row.pack_hash.hex());
        listed.insert(name.clone());
        let file = format!("{OUT_DIR}/{}", bundle_path(&row.pack_hash));
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
            Diagnostic::error(Code::IndexMismatch, "bundle is not listed in index.json").in_file(format!("{OUT_DIR}/{BUNDLES_DIR}/{name}")),
        );
    }

    let mut listed = BTreeSet::new();
    for (i, row) in index.manifests.iter().enumerate() {
        let name = format!("{}.json", row.manifest_id);
        listed.insert(name.clone());
        let file = format!("{OUT_DIR}/{}", manifest_path(&row.manifest_id));
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
                .in_file(format!("{OUT_DIR}/{MANIFESTS_DIR}/{name}")),
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
