//! `seedc build`'s writer: turns a compiled build into `out/` and seedc.lock, atomically and
//! incrementally, and reports what it did.
//!
//! The order of events is the contract:
//! 1. decide everything without writing: check (exit 1 on errors), `--locked` (exit 4),
//!    published dailies that would change (exit 4);
//! 2. remove stray temporaries of a killed build, then write bundles, manifests, the index,
//!    remove stale outputs, write seedc.lock, and last the cache. Every write is atomic
//!    (`build_support::write_atomic`), so a kill at any moment leaves each final name with
//!    either its old or its new content, and the next build finishes the job.
//!
//! `out/` accumulates published dailies: a daily manifest already in `out/` is kept (and so
//! are the bundles it binds) even when this build does not ask for its date, because it is
//! immutable once published. The FREEPLAY manifest and bundles nothing binds are replaced.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::Serialize;

use super::cache::{self, BuildCache, Fingerprint};
use super::{Bundle, Index, ManifestFile, Mode, PackIndex, bundle_path, manifest_path};
use crate::diag::Sink;
use crate::diag::Sources;
use crate::diag::render::Diagnostics;
use crate::exit::{Exit, ExitError};
use crate::json::canon::HashVersion;
use crate::json::canon::{self, ContentHash};
use crate::project::Project;
use crate::project::atomic::{TMP_PREFIX, write_atomic};
use crate::project::config::Config;
use crate::project::lock::LOCK_FILE;
use crate::project::tree::{ReadError, Tree};
use crate::report::progress::Progress;

/// The output directory under the content root.
pub(crate) const OUT_DIR: &str = "out";
pub(crate) const INDEX_FILE: &str = "index.json";
pub(crate) const BUNDLES_DIR: &str = "packs/sha256";
pub(crate) const MANIFESTS_DIR: &str = "manifests";

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Daily dates, possibly repeated (a date is emitted once).
    pub dates: Vec<jiff::civil::Date>,
    /// Refuse (exit 4) instead of changing seedc.lock.
    pub locked: bool,
    /// Whether a progress bar may be drawn.
    pub progress: bool,
}

/// What a build did; `build::render` says it for people and for machines (`--format json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// False when the cache proved the inputs unchanged, so nothing was parsed or validated.
    pub checked: bool,
    pub bundles_written: usize,
    pub bundles_reused: usize,
    pub manifests_written: usize,
    pub manifests_reused: usize,
    pub index_written: bool,
    /// Stale outputs removed: bundles nothing binds any more, an older FREEPLAY manifest.
    pub removed: usize,
    /// Temporary files left by a killed build, removed.
    pub temporaries_removed: usize,
    pub lock_written: bool,
}

impl Report {
    /// True when the build changed nothing at all on disk (the cache aside).
    pub fn nothing_done(&self) -> bool {
        self.bundles_written == 0
            && self.manifests_written == 0
            && !self.index_written
            && self.removed == 0
            && self.temporaries_removed == 0
            && !self.lock_written
    }
}

/// How a build ended, short of a tool error: written (the diagnostics hold the check's
/// warnings, none when the cache answered), or nothing written.
pub(crate) type Outcome = crate::diag::render::Outcome<Report>;

/// Said when the content has errors.
const NOT_DONE: &str = "nothing was written: fix the errors above and build again";

/// Runs a whole build of the content root `project` opened (a directory: `out/` is written
/// inside it).
pub(crate) fn build(project: &Project, options: &Options) -> Result<Outcome> {
    let root = project.root().context("a build needs a content root in a directory")?;
    let config = project.config();
    let out = root.join(OUT_DIR);
    let fingerprint = Fingerprint::compute(root)?;
    let state = OutState::scan(&out)?;
    let source_epoch = |content_time| super::freeplay_time(content_time);

    // A lock of an older format, or one that does not pin the text of every collection
    // hash (written before it did), is rewritten by a plain build, which takes a check.
    let lock = project.lock();
    let rewrites_lock =
        !options.locked && (lock.hash_version() != HashVersion::CURRENT || lock.collections.values().any(|c| c.text.is_none()));
    if let Some(cached) = BuildCache::load(&out).filter(|c| !rewrites_lock && c.hit(&fingerprint, root)) {
        let plan = Plan::new(&out, config, &cached.packs, &options.dates, source_epoch(cached.content_time), &state)?;
        // Trust the cache for the inputs, never for the outputs: every bundle is re-hashed.
        let intact = intact_bundles(&out, cached.packs.iter().map(|p| p.pack_hash));
        if intact.len() == cached.packs.len() {
            let mut report = Report { checked: false, bundles_reused: intact.len(), ..Report::default() };
            apply(&out, &plan, &[], &mut report, options)?;
            return Ok(Outcome::Done { report, diagnostics: Diagnostics::new("build", Sink::default(), Sources::default()) });
        }
        // A bundle is missing or damaged: only the content can rebuild it, so check it.
    }

    let (checked, sink) = crate::check::run(project, crate::check::Mode::Build)?;
    if sink.has_errors() {
        return Ok(Outcome::Invalid { diagnostics: Diagnostics::new("build", sink, checked.content.sources), not_done: NOT_DONE });
    }
    let compiled = super::compile(&checked, &options.dates)?;
    let report = write_checked(root, options, fingerprint, state, &checked, &sink, &compiled)?;
    Ok(Outcome::Done { report, diagnostics: Diagnostics::new("build", sink, checked.content.sources) })
}

/// Writes `out/` and seedc.lock exactly as [`build`] does, from content the caller has
/// already checked (without errors) and compiled for `options.dates`: `deploy` publishes
/// the same values it writes. `fingerprint` must be taken before the check, so an input
/// edited meanwhile can never be cached as checked.
pub(crate) fn build_checked(
    root: &Path,
    options: &Options,
    fingerprint: Fingerprint,
    checked: &crate::check::Checked,
    sink: &Sink,
    compiled: &super::Compiled,
) -> Result<Report> {
    let state = OutState::scan(&root.join(OUT_DIR))?;
    write_checked(root, options, fingerprint, state, checked, sink, compiled)
}

fn write_checked(
    root: &Path,
    options: &Options,
    fingerprint: Fingerprint,
    state: OutState,
    checked: &crate::check::Checked,
    sink: &Sink,
    compiled: &super::Compiled,
) -> Result<Report> {
    let config = &checked.config;
    let out = root.join(OUT_DIR);
    let next_lock = checked.next_lock();
    let lock_text = next_lock.to_text();
    let lock_on_disk = Tree::dir(root).read_optional(LOCK_FILE, crate::project::lock::LOCK_LIMIT)?;
    let write_lock = match lock_on_disk.as_deref() {
        Some(text) if text == lock_text => false,
        _ if options.locked && (!checked.lock_says(&next_lock) || lock_on_disk.is_none()) => {
            return Err(ExitError::new(
                Exit::Refused,
                format!(
                    "{LOCK_FILE} is out of date and --locked forbids updating it; run `seedc build` without --locked and commit {LOCK_FILE}"
                ),
            ));
        }
        // Under --locked a lock that says the same in other words is left alone.
        _ => !options.locked,
    };

    let packs: Vec<PackIndex> = compiled.bundles.iter().map(Bundle::meta).collect();
    let plan = Plan::new(&out, config, &packs, &options.dates, super::freeplay_time(super::content_time(checked)), &state)?;

    let mut report = Report { checked: true, ..Report::default() };
    apply(&out, &plan, &compiled.bundles, &mut report, options)?;
    if write_lock {
        write_atomic(&root.join(LOCK_FILE), lock_text.as_bytes())?;
        report.lock_written = true;
    }
    // Warnings are not cached (a hit would not repeat them), so only a spotless check is;
    // nor is a lock that --locked left as a plain build would not (an older format, a stale
    // text pin): the next plain build must check, and rewrite it.
    let lock_as_written = write_lock || lock_on_disk.as_deref() == Some(lock_text.as_str());
    if sink.iter().next().is_none() && lock_as_written {
        let fingerprint = Fingerprint { lock: cache::lock_hash(root)?, ..fingerprint };
        let entry = BuildCache::new(fingerprint, checked, packs);
        let path = out.join(cache::CACHE_FILE);
        create_dir(path.parent().unwrap_or(&out))?;
        write_atomic(&path, &entry.to_bytes())?;
    }
    Ok(report)
}

/// A manifest found in `out/manifests/`.
enum Existing {
    Parsed(ManifestFile),
    /// Present but not a manifest (damaged by hand or by the disk).
    Corrupt,
}

/// What `out/` holds before this build touches it.
#[derive(Default)]
struct OutState {
    /// File names under `packs/sha256/` (temporaries aside).
    bundles: BTreeSet<String>,
    /// Manifests by file name.
    manifests: BTreeMap<String, Existing>,
}

impl OutState {
    fn scan(out: &Path) -> Result<OutState> {
        let mut state = OutState::default();
        for name in list_dir(&out.join(BUNDLES_DIR))? {
            if !name.starts_with(TMP_PREFIX) {
                state.bundles.insert(name);
            }
        }
        let dir = out.join(MANIFESTS_DIR);
        for name in list_dir(&dir)? {
            if name.starts_with(TMP_PREFIX) || !name.ends_with(".json") {
                continue;
            }
            let bytes = read_out(out, &format!("{MANIFESTS_DIR}/{name}"), OUT_FILE_LIMIT)
                .with_context(|| format!("cannot read {}", dir.join(&name).display()))?;
            let existing = match serde_json::from_slice::<super::Manifest>(&bytes) {
                Ok(manifest) => Existing::Parsed(ManifestFile { manifest, hash: ContentHash::of(&bytes), bytes }),
                Err(_) => Existing::Corrupt,
            };
            state.manifests.insert(name, existing);
        }
        Ok(state)
    }
}

/// Everything `out/` should hold after this build, decided before anything is written.
struct Plan {
    /// Every manifest: this build's and the published dailies kept from earlier builds.
    manifests: Vec<ManifestFile>,
    index_bytes: Vec<u8>,
    /// Stale files to remove, relative to `out/`.
    remove: Vec<String>,
}

impl Plan {
    fn new(
        out: &Path,
        config: &Config,
        packs: &[PackIndex],
        dates: &[jiff::civil::Date],
        freeplay_at: i64,
        state: &OutState,
    ) -> Result<Plan> {
        let fresh = super::manifests_for(config, packs, dates, freeplay_at)?;
        let fresh_names: BTreeSet<String> = fresh.iter().map(|m| file_name(&m.manifest.manifest_id)).collect();

        let mut refused = Vec::new();
        for m in fresh.iter().filter(|m| m.manifest.mode == Mode::Daily) {
            if let Some(Existing::Parsed(old)) = state.manifests.get(&file_name(&m.manifest.manifest_id))
                && old.bytes != m.bytes
            {
                refused.push(format!(
                    "out/{} is published ({}) and this build would change it to {}",
                    manifest_path(&m.manifest.manifest_id),
                    old.hash,
                    m.hash
                ));
            }
        }
        if !refused.is_empty() {
            return Err(ExitError::new(
                Exit::Refused,
                format!(
                    "refusing to change a published daily manifest; nothing was written\n  {}\n  a daily is immutable once published: build other dates, or restore the content it was built from",
                    refused.join("\n  ")
                ),
            ));
        }

        let mut remove = Vec::new();
        let mut manifests = fresh;
        for (name, existing) in &state.manifests {
            let Existing::Parsed(old) = existing else { continue };
            if fresh_names.contains(name) || file_name(&old.manifest.manifest_id) != *name {
                continue;
            }
            match old.manifest.mode {
                Mode::Daily => manifests.push(ManifestFile { manifest: old.manifest.clone(), bytes: old.bytes.clone(), hash: old.hash }),
                Mode::Freeplay => remove.push(format!("{MANIFESTS_DIR}/{name}")),
            }
        }
        manifests.sort_by(|a, b| a.manifest.manifest_id.cmp(&b.manifest.manifest_id));

        // Every bundle a manifest binds; those of kept dailies may predate the current packs.
        let mut metas: BTreeMap<ContentHash, PackIndex> = packs.iter().map(|p| (p.pack_hash, p.clone())).collect();
        for m in &manifests {
            for r in &m.manifest.pack_refs {
                if metas.contains_key(&r.hash) {
                    continue;
                }
                let meta = old_bundle_meta(out, &r.hash).ok_or_else(|| {
                    ExitError::new(
                        Exit::Invalid,
                        format!(
                            "out/{} binds {}, which is missing or damaged in out/ and is not built from the current content; restore that bundle or remove the manifest",
                            manifest_path(&m.manifest.manifest_id),
                            r.hash
                        ),
                    )
                })?;
                metas.insert(r.hash, meta);
            }
        }
        let needed: BTreeSet<String> = metas.keys().map(|h| format!("{}.json", h.hex())).collect();
        remove.extend(state.bundles.iter().filter(|n| !needed.contains(*n)).map(|n| format!("{BUNDLES_DIR}/{n}")));

        let index: Index = super::index_of(metas.into_values().collect(), &manifests);
        let index_bytes = canon::canonical_of(&index)?;
        Ok(Plan { manifests, index_bytes, remove })
    }
}

/// The index row of a bundle kept from an older build, read back from the bundle itself
/// (it is the pack document). None if it is missing, damaged or not a pack.
fn old_bundle_meta(out: &Path, hash: &ContentHash) -> Option<PackIndex> {
    let bytes = read_out(out, &bundle_path(hash), OUT_FILE_LIMIT).ok()?;
    if ContentHash::of(&bytes) != *hash {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let field = |name: &str| value.get(name)?.as_str().map(str::to_owned);
    Some(PackIndex {
        v: 1,
        pack_hash: *hash,
        pack_id: field("pack_id")?,
        version: field("version")?,
        kind: field("kind")?,
        pack_schema_v: field("pack_schema_v")?,
        bytes: bytes.len() as u64,
        path: bundle_path(hash),
    })
}

/// The hashes whose bundle is on disk with exactly the right bytes (re-hashed in parallel).
fn intact_bundles(out: &Path, hashes: impl Iterator<Item = ContentHash>) -> Vec<ContentHash> {
    let hashes: Vec<ContentHash> = hashes.collect();
    hashes
        .into_par_iter()
        .filter(|h| read_out(out, &bundle_path(h), OUT_FILE_LIMIT).is_ok_and(|bytes| ContentHash::of(&bytes) == *h))
        .collect()
}

/// Writes what differs from the plan, in crash-safe order. `bundles` holds the content of
/// the current packs (empty when the cache vouched for every bundle on disk).
fn apply(out: &Path, plan: &Plan, bundles: &[Bundle], report: &mut Report, options: &Options) -> Result<()> {
    create_dir(out)?;
    report.temporaries_removed = remove_temporaries(out)?;
    let bundle_dir = out.join(BUNDLES_DIR);
    let manifest_dir = out.join(MANIFESTS_DIR);
    create_dir(&bundle_dir)?;
    create_dir(&manifest_dir)?;

    let stale: Vec<&Bundle> =
        bundles.par_iter().filter(|b| read_out(out, &b.path(), b.bytes.len() as u64).map_or(true, |on_disk| on_disk != b.bytes)).collect();
    report.bundles_reused += bundles.len() - stale.len();
    let progress = Progress::new(options.progress, stale.len() as u64, "writing bundles");
    stale.par_iter().try_for_each(|b| {
        write_atomic(&out.join(b.path()), &b.bytes)?;
        progress.inc();
        anyhow::Ok(())
    })?;
    progress.finish();
    report.bundles_written = stale.len();

    for m in &plan.manifests {
        let rel = manifest_path(&m.manifest.manifest_id);
        let path = out.join(&rel);
        if read_out(out, &rel, m.bytes.len() as u64).is_ok_and(|on_disk| on_disk == m.bytes) {
            report.manifests_reused += 1;
        } else {
            write_atomic(&path, &m.bytes)?;
            report.manifests_written += 1;
        }
    }

    let index = out.join(INDEX_FILE);
    if !read_out(out, INDEX_FILE, plan.index_bytes.len() as u64).is_ok_and(|on_disk| on_disk == plan.index_bytes) {
        write_atomic(&index, &plan.index_bytes)?;
        report.index_written = true;
    }

    // Last: until the new index is in place, the old one may still name these.
    for rel in &plan.remove {
        remove_file(&out.join(rel))?;
        report.removed += 1;
    }
    Ok(())
}

/// Removes the temporaries a killed build left in `out/` and its subdirectories.
fn remove_temporaries(out: &Path) -> Result<usize> {
    let mut removed = 0;
    for dir in [out.to_owned(), out.join(BUNDLES_DIR), out.join(MANIFESTS_DIR), out.join(".cache")] {
        for name in list_dir(&dir)? {
            if name.starts_with(TMP_PREFIX) {
                remove_file(&dir.join(name))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

fn file_name(manifest_id: &str) -> String {
    format!("{manifest_id}.json")
}

/// The largest file of `out/` read back (an old bundle or manifest, by `build`, `verify`
/// and `publish`): a bound, so a device or FIFO left there cannot hang or exhaust seedc.
pub(crate) const OUT_FILE_LIMIT: u64 = 1 << 30;

/// A file of `out/`, through the tree's bounded read of regular files only.
fn read_out(out: &Path, rel: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
    Tree::dir(out).read_limited(rel, limit)
}

fn list_dir(dir: &Path) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).with_context(|| format!("cannot remove {}", path.display())),
        _ => Ok(()),
    }
}
