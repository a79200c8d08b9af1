//! `seedc publish`: mirrors a verified `out/` to object storage (S3 and S3-compatible
//! stores, or a directory a CDN serves), with the guarantees `out/` has on disk. The order
//! of events is the contract:
//!
//! 1. verify `out/` (damage: exit 1, nothing is contacted); list the remote prefix once;
//! 2. decide, without writing ([`plan`], pure): what is missing, what is there and intact
//!    (judged by its MD5 ETag, or by reading it when the store has none), what is corrupt;
//!    a published manifest that differs is refused (exit 4) before anything is written;
//! 3. bundles: each created only if absent (conditional create), a corrupt one replaced;
//! 4. manifests, create-only: they name only bundles already readable;
//! 5. `index.json` last, the one object that is replaced: a client that reads it never
//!    finds a manifest whose packs are missing.
//!
//! `deploy` runs 1–4 before its transaction commits and 5 after ([`Publication`]).
//! [`verify_remote`] checks a published copy with the checks of `seedc verify`.

mod crypto;
mod profile;
pub(crate) mod render;
pub(crate) mod store;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use md5::{Digest, Md5};
use object_store::PutMode;
use rayon::prelude::*;
use serde::Serialize;

use crate::build::write::{INDEX_FILE, OUT_DIR, OUT_FILE_LIMIT};
use crate::build::{Index, manifest_path};
use crate::diag::Sink;
use crate::diag::render::Diagnostics;
use crate::exit::{Exit, ExitError};
use crate::json::canon::ContentHash;
use crate::project::config::PublishConfig;
use crate::project::tree::Tree;
use crate::report::progress::Progress;
use crate::verify::Found;
pub(crate) use store::{Kind, Listed, Store, Target};

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    pub config: PublishConfig,
    /// List what would be uploaded; write nothing.
    pub dry_run: bool,
    /// Whether a progress bar may be drawn.
    pub progress: bool,
}

/// One object of `out/` to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Local {
    /// Path relative to `out/` and to the remote prefix (the layouts are the same).
    pub rel: String,
    pub kind: Kind,
    pub size: u64,
    pub sha256: ContentHash,
    pub md5: [u8; 16],
}

/// What to do with one object, decided before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Absent remotely: create it (only if still absent, for bundles and manifests).
    Upload,
    /// There with the same bytes: leave it alone.
    Present,
    /// A bundle or the index whose remote bytes differ from ours: a bundle is corrupt (its
    /// bytes do not hash to its name), the index is an older one; replace it.
    Replace,
    /// A published manifest that differs: refused, it is immutable.
    Conflict,
    /// The listing cannot tell (the store's ETag is not an MD5): read it, then [`settle`].
    Read,
}

/// Decides every object from the one listing; pure.
pub(crate) fn plan(local: &[Local], remote: &BTreeMap<String, Listed>) -> Vec<Action> {
    local
        .iter()
        .map(|l| {
            let Some(r) = remote.get(&l.rel) else { return Action::Upload };
            match (r.size == l.size, r.md5) {
                (true, Some(md5)) if md5 == l.md5 => Action::Present,
                (true, None) => Action::Read,
                _ => differs(l.kind),
            }
        })
        .collect()
}

/// The action for an object whose remote bytes were read: `remote` is their SHA-256 (`None`:
/// it vanished since the listing).
pub(crate) fn settle(local: &Local, remote: Option<ContentHash>) -> Action {
    match remote {
        None => Action::Upload,
        Some(h) if h == local.sha256 => Action::Present,
        Some(_) => differs(local.kind),
    }
}

fn differs(kind: Kind) -> Action {
    match kind {
        Kind::Manifest => Action::Conflict,
        Kind::Bundle | Kind::Index => Action::Replace,
    }
}

/// Counts of one kind of object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub bundles: usize,
    pub manifests: usize,
    pub index: usize,
}

impl Counts {
    fn add(&mut self, kind: Kind) {
        match kind {
            Kind::Bundle => self.bundles += 1,
            Kind::Manifest => self.manifests += 1,
            Kind::Index => self.index += 1,
        }
    }
}

/// What a publish did (or, under `--dry-run`, would do); [`render`] says it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub url: String,
    pub dry_run: bool,
    /// Objects written (under `--dry-run`: that would be).
    pub uploaded: Counts,
    /// Objects already there with the same bytes.
    pub present: Counts,
    /// Bytes written (would be).
    pub bytes: u64,
    /// Corrupt bundles found and replaced, by path.
    pub repaired: Vec<String>,
    /// Under `--dry-run`: every path that would be written, in order.
    pub would_upload: Vec<String>,
}

/// A publish in progress: decided, and written as far as its phases went.
pub(crate) struct Publication {
    store: Store,
    out: PathBuf,
    local: Vec<Local>,
    actions: Vec<Action>,
    report: Report,
    progress: bool,
}

/// How a publish can end short of a tool or service error: done, or `out/` is damaged
/// (its diagnostics) and nothing was contacted.
pub(crate) type Outcome = crate::diag::render::Outcome<Report>;

/// Said when `out/` is damaged.
const NOT_DONE: &str = "nothing was published: out/ is damaged; run `seedc build` and publish again";

/// Runs a whole publish of `root`'s `out/`.
pub(crate) fn publish(root: &Path, options: &Options) -> Result<Outcome> {
    let mut publication = match Publication::prepare(root, options)? {
        Ok(p) => p,
        Err(sink) => {
            let files = sink.iter().count();
            return Ok(Outcome::Invalid { diagnostics: Diagnostics::unplaced("publish", sink, files), not_done: NOT_DONE });
        }
    };
    if !options.dry_run {
        publication.content()?;
        publication.index()?;
    }
    Ok(Outcome::Done { report: publication.report, diagnostics: Diagnostics::default() })
}

impl Publication {
    /// Steps 1 and 2: verifies `out/`, lists the store, decides; refuses (exit 4) a
    /// published manifest that differs. Damage in `out/` comes back as its diagnostics.
    pub(crate) fn prepare(root: &Path, options: &Options) -> Result<Result<Publication, Sink>> {
        let verified = crate::verify::verify(root)?;
        if verified.sink.has_errors() {
            return Ok(Err(verified.sink));
        }
        let out = root.join(OUT_DIR);
        let local = local_objects(&out)?;
        let mode = if options.dry_run { store::Open::DryRun } else { store::Open::Write };
        let store = Store::open(options.target.clone(), &options.config, mode)?;
        let remote = store.list()?;
        let mut actions = plan(&local, &remote);

        let unknown: Vec<usize> = (0..local.len()).filter(|&i| actions[i] == Action::Read).collect();
        let rels: Vec<String> = unknown.iter().map(|&i| local[i].rel.clone()).collect();
        let hashes = store.read_each(&rels, |_, bytes| bytes.map(|b| ContentHash::of(&b)))?;
        for (&i, remote) in unknown.iter().zip(hashes) {
            actions[i] = settle(&local[i], remote);
        }

        let conflicts: Vec<&str> =
            local.iter().zip(&actions).filter(|(_, a)| **a == Action::Conflict).map(|(l, _)| l.rel.as_str()).collect();
        if !conflicts.is_empty() {
            return Err(refused(&store.url(), &conflicts));
        }

        let mut report = Report { url: store.url(), dry_run: options.dry_run, ..Report::default() };
        for (l, a) in local.iter().zip(&actions) {
            match a {
                Action::Present => report.present.add(l.kind),
                Action::Upload | Action::Replace => {
                    if options.dry_run {
                        report.uploaded.add(l.kind);
                        report.bytes += l.size;
                        report.would_upload.push(l.rel.clone());
                    }
                }
                Action::Conflict | Action::Read => unreachable!("settled above"),
            }
        }
        Ok(Ok(Publication { store, out, local, actions, report, progress: options.progress }))
    }

    /// Steps 3 and 4: bundles, then manifests. After this every manifest of `out/` is in
    /// the store with every bundle it names.
    pub(crate) fn content(&mut self) -> Result<()> {
        self.write_kind(Kind::Bundle)?;
        self.write_kind(Kind::Manifest)
    }

    /// Step 5: `index.json`, replaced only when it differs.
    pub(crate) fn index(&mut self) -> Result<()> {
        self.write_kind(Kind::Index)
    }

    /// What was done so far.
    pub(crate) fn report(&self) -> &Report {
        &self.report
    }

    fn write_kind(&mut self, kind: Kind) -> Result<()> {
        let todo: Vec<usize> = (0..self.local.len())
            .filter(|&i| self.local[i].kind == kind && matches!(self.actions[i], Action::Upload | Action::Replace))
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        let puts = todo
            .iter()
            .map(|&i| {
                let l = &self.local[i];
                // A corrupt bundle and an older index are replaced; everything else is created
                // only if absent, so nothing immutable is ever overwritten.
                let mode = if self.actions[i] == Action::Replace || kind == Kind::Index { PutMode::Overwrite } else { PutMode::Create };
                store::Put { rel: l.rel.clone(), kind, mode }
            })
            .collect();
        let label = match kind {
            Kind::Bundle => "bundles",
            Kind::Manifest => "manifests",
            Kind::Index => "index",
        };
        let bar = Arc::new(Progress::new(self.progress, todo.len() as u64, label));
        let out = self.out.clone();
        let tick = Arc::clone(&bar);
        let written = self.store.write_each(puts, move |rel| read_local(&out, rel), move || tick.inc())?;
        bar.finish();

        // A create that found the object there: someone (or a retry of ours) was first. Its
        // bytes decide: the same is fine, a bundle that differs is replaced, a manifest is refused.
        let raced: Vec<usize> = todo.iter().zip(&written).filter(|(_, w)| **w == store::Written::Exists).map(|(&i, _)| i).collect();
        let rels: Vec<String> = raced.iter().map(|&i| self.local[i].rel.clone()).collect();
        let hashes = self.store.read_each(&rels, |_, bytes| bytes.map(|b| ContentHash::of(&b)))?;
        let mut again = Vec::new();
        for (&i, remote) in raced.iter().zip(hashes) {
            match settle(&self.local[i], remote) {
                Action::Present => {}
                Action::Conflict => return Err(refused(&self.store.url(), &[self.local[i].rel.as_str()])),
                _ => again.push(i),
            }
        }
        if !again.is_empty() {
            let puts = again.iter().map(|&i| store::Put { rel: self.local[i].rel.clone(), kind, mode: PutMode::Overwrite }).collect();
            let out = self.out.clone();
            self.store.write_each(puts, move |rel| read_local(&out, rel), || {})?;
        }
        for &i in &todo {
            let l = &self.local[i];
            if raced.contains(&i) && !again.contains(&i) {
                self.report.present.add(kind);
                continue;
            }
            self.report.uploaded.add(kind);
            self.report.bytes += l.size;
            if kind == Kind::Bundle && (self.actions[i] == Action::Replace || again.contains(&i)) {
                self.report.repaired.push(l.rel.clone());
            }
            self.actions[i] = Action::Present;
        }
        Ok(())
    }
}

fn refused(url: &str, manifests: &[&str]) -> anyhow::Error {
    ExitError::new(
        Exit::Refused,
        format!(
            "refusing to change a published manifest in {url}; nothing was written after it\n  {}\n  a manifest is immutable once published: publish other dates, or restore the content it was built from",
            manifests.iter().map(|m| format!("{m} is published with other bytes")).collect::<Vec<_>>().join("\n  ")
        ),
    )
}

/// A file of the verified `out/`, read as `verify` read it (through [`Tree`]: a regular file
/// inside `out/`, bounded), so a FIFO swapped in since is an error, not a hang.
fn read_local(out: &Path, rel: &str) -> Result<Vec<u8>> {
    Tree::dir(out).read_limited(rel, OUT_FILE_LIMIT).with_context(|| format!("cannot read {}", out.join(rel).display()))
}

/// The objects of a verified `out/`: every bundle and manifest its index lists, then the
/// index, with their sizes and digests (read in parallel, not kept).
fn local_objects(out: &Path) -> Result<Vec<Local>> {
    let index_bytes = read_local(out, INDEX_FILE)?;
    let index: Index = serde_json::from_slice(&index_bytes).context("out/index.json is not an index")?;
    // A bundle's SHA-256 is its name and a manifest's the one the index lists, both of which
    // the verification of `out/` just confirmed: neither is hashed again.
    let mut rels: Vec<(String, Kind, ContentHash)> = index.packs.iter().map(|p| (p.path.clone(), Kind::Bundle, p.pack_hash)).collect();
    rels.extend(index.manifests.iter().map(|m| (manifest_path(&m.manifest_id), Kind::Manifest, m.hash)));
    let mut local: Vec<Local> = rels
        .into_par_iter()
        .map(|(rel, kind, sha256)| {
            let bytes = read_local(out, &rel)?;
            Ok(Local { size: bytes.len() as u64, sha256, md5: Md5::digest(&bytes).into(), rel, kind })
        })
        .collect::<Result<_>>()?;
    local.push(Local {
        rel: INDEX_FILE.to_owned(),
        kind: Kind::Index,
        size: index_bytes.len() as u64,
        sha256: ContentHash::of(&index_bytes),
        md5: Md5::digest(&index_bytes).into(),
    });
    Ok(local)
}

/// A published copy, read through the store for `seedc verify URL`: listed once, bundles
/// re-hashed as they arrive (at most `concurrency` in flight, none kept).
struct RemoteCopy {
    store: Store,
    listed: BTreeMap<String, Listed>,
}

impl crate::verify::Copy for RemoteCopy {
    fn base(&self) -> String {
        self.store.url()
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let prefix = format!("{dir}/");
        Ok(self.listed.keys().filter_map(|k| k.strip_prefix(&prefix)).filter(|name| !name.contains('/')).map(str::to_owned).collect())
    }

    fn hash_bundles(&self, names: &[String]) -> Result<Vec<Found<(ContentHash, u64)>>> {
        let rels: Vec<String> = names.iter().map(|n| format!("{}/{n}", crate::build::write::BUNDLES_DIR)).collect();
        let hashed = self.store.read_each(&rels, |_, bytes| bytes.map(|b| (ContentHash::of(&b), b.len() as u64)))?;
        Ok(hashed.into_iter().map(Found::from).collect())
    }

    fn read(&self, path: &str) -> Result<Found<Vec<u8>>> {
        Ok(self.store.read(path)?.map(|b| b.to_vec()).into())
    }
}

/// `seedc verify URL`: the checks of `seedc verify` on a published copy.
pub(crate) fn verify_remote(target: Target, config: &PublishConfig) -> Result<crate::verify::Verified> {
    let store = Store::open(target, config, store::Open::Verify)?;
    let listed = store.list()?;
    crate::verify::verify_copy(&RemoteCopy { store, listed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(rel: &str, kind: Kind, bytes: &[u8]) -> Local {
        Local { rel: rel.into(), kind, size: bytes.len() as u64, sha256: ContentHash::of(bytes), md5: Md5::digest(bytes).into() }
    }

    fn listed(bytes: &[u8], md5: bool) -> Listed {
        Listed { size: bytes.len() as u64, md5: md5.then(|| Md5::digest(bytes).into()) }
    }

    #[test]
    fn the_listing_decides_what_it_can() {
        let objects = [
            local("packs/sha256/a.json", Kind::Bundle, b"{\"a\":1}"),
            local("packs/sha256/b.json", Kind::Bundle, b"{\"b\":1}"),
            local("packs/sha256/c.json", Kind::Bundle, b"{\"c\":1}"),
            local("packs/sha256/d.json", Kind::Bundle, b"{\"d\":1}"),
            local("manifests/m1.json", Kind::Manifest, b"{\"m\":1}"),
            local("manifests/m2.json", Kind::Manifest, b"{\"m\":2}"),
            local("index.json", Kind::Index, b"{\"i\":2}"),
        ];
        let remote: BTreeMap<String, Listed> = [
            // b: intact; c: same size, other bytes (corrupt); d: other size; no ETag on m1
            ("packs/sha256/b.json", listed(b"{\"b\":1}", true)),
            ("packs/sha256/c.json", listed(b"{\"c\":2}", true)),
            ("packs/sha256/d.json", listed(b"{}", true)),
            ("manifests/m1.json", listed(b"{\"m\":1}", false)),
            ("manifests/m2.json", listed(b"{\"m\":3}", true)),
            ("index.json", listed(b"{\"i\":1}", true)),
            ("stray.json", listed(b"x", true)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        use Action::*;
        assert_eq!(plan(&objects, &remote), vec![Upload, Present, Replace, Replace, Read, Conflict, Replace]);
    }

    #[test]
    fn a_read_settles_by_sha256() {
        let bundle = local("packs/sha256/a.json", Kind::Bundle, b"1");
        let manifest = local("manifests/m.json", Kind::Manifest, b"1");
        assert_eq!(settle(&bundle, Some(ContentHash::of(b"1"))), Action::Present);
        assert_eq!(settle(&bundle, Some(ContentHash::of(b"2"))), Action::Replace);
        assert_eq!(settle(&manifest, Some(ContentHash::of(b"2"))), Action::Conflict);
        assert_eq!(settle(&manifest, None), Action::Upload);
    }
}
