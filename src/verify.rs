//! `seedc verify`: checks `out/` against itself, trusting nothing but the bytes on disk.
//! Every bundle is re-hashed against its name, every manifest parsed and each of its
//! `pack_refs` resolved to an intact bundle, and `index.json` compared with exactly what is
//! there. Each damaged or missing file is one diagnostic naming it (codes `corrupt-bundle`,
//! `missing-bundle`, `unresolved-pack-ref`, `corrupt-manifest`, `missing-manifest`,
//! `index-mismatch`), so CI reads the result like any other check.
//!
//! The same checks run on a published copy (`seedc verify URL`): [`verify_copy`] reads
//! through [`Copy`], which `out/` ([`OutDir`]) and the publish stage's store implement.
//! `out/` is read through [`Tree`] like any file of a content root: a FIFO, a device link
//! or a file over [`OUT_FILE_LIMIT`] standing where a bundle, a manifest or the index
//! should be is a diagnostic naming it ([`Found::Unreadable`]), never a hang.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use crate::build::write::{BUNDLES_DIR, INDEX_FILE, MANIFESTS_DIR, OUT_DIR, OUT_FILE_LIMIT};
use crate::build::{Index, Manifest, bundle_path, manifest_path};
use crate::diag::{Code, Diagnostic, Sink};
use crate::json::canon::{self, ContentHash};
use crate::project::atomic::TMP_PREFIX;
use crate::project::tree::{ReadError, Tree};

/// The findings of a verification and how many files it read.
pub(crate) struct Verified {
    pub sink: Sink,
    pub files: usize,
}

/// What reading one file of a copy found.
pub(crate) enum Found<T> {
    Present(T),
    /// Not there (or gone since the listing).
    Absent,
    /// Something stands there that is not read: why, e.g. "it is a FIFO (named pipe), not a
    /// regular file".
    Unreadable(String),
}

impl<T> From<Option<T>> for Found<T> {
    fn from(found: Option<T>) -> Self {
        found.map_or(Found::Absent, Found::Present)
    }
}

/// A built copy to verify: `out/` on disk, or a published one.
pub(crate) trait Copy {
    /// How diagnostics name its files: `out`, `s3://bucket/prefix`.
    fn base(&self) -> String;
    /// The file names of one of its directories (`packs/sha256`, `manifests`), sorted,
    /// without temporaries.
    fn list(&self, dir: &str) -> Result<Vec<String>>;
    /// SHA-256 and length of each bundle of `packs/sha256` named, in that order (`Absent`:
    /// it vanished since the listing).
    fn hash_bundles(&self, names: &[String]) -> Result<Vec<Found<(ContentHash, u64)>>>;
    /// A file's bytes, by path relative to the copy.
    fn read(&self, path: &str) -> Result<Found<Vec<u8>>>;
}

/// `out/` under a content root, read as a [`Tree`] of its own: regular files inside it only,
/// at most [`OUT_FILE_LIMIT`] bytes each.
pub(crate) struct OutDir(pub Tree);

impl OutDir {
    pub(crate) fn new(out: std::path::PathBuf) -> OutDir {
        OutDir(Tree::dir(out))
    }

    /// A file of `out/`: a FIFO, a device, a link out of `out/` or a file over the limit is
    /// `Unreadable`; any other failure to read is an error.
    fn read_file(&self, rel: &str) -> Result<Found<Vec<u8>>> {
        match self.0.read_limited(rel, OUT_FILE_LIMIT) {
            Ok(bytes) => Ok(Found::Present(bytes)),
            Err(e) if e.is_not_found() => Ok(Found::Absent),
            Err(e @ (ReadError::NotRegular(_) | ReadError::Outside | ReadError::TooLarge { .. })) => Ok(Found::Unreadable(e.to_string())),
            Err(e) => Err(e).with_context(|| format!("cannot read {OUT_DIR}/{rel}")),
        }
    }
}

impl Copy for OutDir {
    fn base(&self) -> String {
        OUT_DIR.to_owned()
    }

    /// Every entry that is not a directory (a FIFO or a link too, so that it is reported
    /// rather than skipped), without temporaries.
    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let entries = match self.0.read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("cannot list {OUT_DIR}/{dir}")),
        };
        let mut names = Vec::new();
        for entry in entries.into_iter().filter(|e| !e.is_dir && !e.name.starts_with(TMP_PREFIX)) {
            if !entry.utf8 {
                bail!("{OUT_DIR}/{dir}/{}: the file name is not valid UTF-8, and seedc writes none such", entry.name);
            }
            names.push(entry.name);
        }
        names.sort();
        Ok(names)
    }

    fn hash_bundles(&self, names: &[String]) -> Result<Vec<Found<(ContentHash, u64)>>> {
        names
            .par_iter()
            .map(|name| {
                Ok(match self.read_file(&format!("{BUNDLES_DIR}/{name}"))? {
                    Found::Present(bytes) => Found::Present((ContentHash::of(&bytes), bytes.len() as u64)),
                    Found::Absent => Found::Absent,
                    Found::Unreadable(why) => Found::Unreadable(why),
                })
            })
            .collect()
    }

    fn read(&self, path: &str) -> Result<Found<Vec<u8>>> {
        self.read_file(path)
    }
}

/// What verify learned about one bundle file.
struct BundleFile {
    /// The hash its name claims (None: the name is not `<64 hex>.json`).
    named: Option<ContentHash>,
    len: u64,
    intact: bool,
    /// Why it was not read, when something other than a regular file stands there.
    unreadable: Option<String>,
}

/// Verifies `out/` under a content root.
pub(crate) fn verify(root: &Path) -> Result<Verified> {
    verify_copy(&OutDir::new(root.join(OUT_DIR)))
}

/// Verifies a built copy: `out/`, or a published one.
pub(crate) fn verify_copy(copy: &dyn Copy) -> Result<Verified> {
    let base = copy.base();
    let mut sink = Sink::default();
    let rel = |p: &str| format!("{base}/{p}");

    let bundle_names = copy.list(BUNDLES_DIR)?;
    let hashes = copy.hash_bundles(&bundle_names)?;
    let bundles: BTreeMap<String, BundleFile> = bundle_names
        .into_iter()
        .zip(hashes)
        .filter_map(|(name, hashed)| {
            let named = name.strip_suffix(".json").and_then(ContentHash::parse_hex);
            let (intact, len, unreadable) = match hashed {
                Found::Present((hash, len)) => (named.is_some_and(|h| hash == h), len, None),
                Found::Absent => return None,
                Found::Unreadable(why) => (false, 0, Some(why)),
            };
            Some((name, BundleFile { named, len, intact, unreadable }))
        })
        .collect();
    let intact: BTreeSet<ContentHash> = bundles.values().filter(|b| b.intact).filter_map(|b| b.named).collect();
    for (name, b) in &bundles {
        let file = rel(&format!("{BUNDLES_DIR}/{name}"));
        if let Some(why) = &b.unreadable {
            sink.push(Diagnostic::error(Code::CorruptBundle, format!("bundle cannot be read: {why}")).in_file(file));
        } else if b.named.is_none() {
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
        let file = rel(&format!("{MANIFESTS_DIR}/{name}"));
        let bytes = match copy.read(&format!("{MANIFESTS_DIR}/{name}"))? {
            Found::Present(bytes) => bytes,
            Found::Absent => continue,
            Found::Unreadable(why) => {
                sink.push(Diagnostic::error(Code::CorruptManifest, format!("manifest cannot be read: {why}")).in_file(file));
                // Listed as corrupt, so the index's row is not also reported as missing.
                manifests.insert(name, (ContentHash::of(b""), false));
                continue;
            }
        };
        let ok = check_manifest(&name, &bytes, &file, &intact, &mut sink);
        manifests.insert(name, (ContentHash::of(&bytes), ok));
    }

    let index_file = rel(INDEX_FILE);
    match copy.read(INDEX_FILE)? {
        Found::Unreadable(why) => {
            sink.push(Diagnostic::error(Code::IndexMismatch, format!("index.json cannot be read: {why}")).in_file(&index_file))
        }
        Found::Absent => {
            sink.push(
                Diagnostic::error(Code::IndexMismatch, format!("index.json is missing: {base}/ holds no complete build"))
                    .in_file(&index_file),
            );
        }
        Found::Present(bytes) => match serde_json::from_slice::<Index>(&bytes) {
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
