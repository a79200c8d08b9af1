//! `seedc check`: load, then every validation, then hashes; the front half of every command.
//! Content problems come back as diagnostics in the [`Sink`]; config and I/O failures as
//! errors (exit 2).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::canon::{self, CanonicalRecord, ContentHash};
use crate::config::Config;
use crate::diag::{Code, Diagnostic, Sink};
use crate::load::{self, Content};
use crate::lock::Lock;
use crate::memo::Memo;
use crate::tree::Tree;
use crate::validate::{self, Reuse, schemas::Schemas};

/// A checked content root: what `build`, `deploy` and `diff` work from.
#[derive(Debug)]
pub struct Checked {
    /// The content root directory; empty when the content was read from a git revision.
    pub root: PathBuf,
    pub config: Config,
    pub content: Content,
    /// Content hash of every complete collection (see [`canon::hash_collection`]).
    pub collection_hashes: BTreeMap<String, ContentHash>,
    /// Hash of each pack's canonical bytes, parallel to `content.packs`.
    pub pack_hashes: Vec<ContentHash>,
    pub lock: Lock,
    /// With [`Keep::canonical_records`]: each complete collection's records in canonical
    /// form, parallel to its `records`; empty otherwise.
    pub canonical: BTreeMap<String, Vec<CanonicalRecord>>,
    /// The hash of every schema document: equal fingerprints validate alike.
    pub schemas_fingerprint: ContentHash,
}

/// What a check keeps beyond its verdict, for the command that runs it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keep {
    /// Every record's canonical bytes and hash (deploy writes both), computed in the same
    /// pass as the collection hashes.
    pub canonical_records: bool,
}

impl Checked {
    /// The lock this content would write: current collections, every pack version ever seen.
    pub fn next_lock(&self) -> Lock {
        let mut lock = Lock { v: 1, collections: BTreeMap::new(), packs: self.lock.packs.clone() };
        for (name, hash) in &self.collection_hashes {
            if let Some(version) = self.content.seeds.get(name).and_then(|s| s.version.as_ref()) {
                lock.collections.insert(name.clone(), crate::lock::LockedCollection { version: version.to_string(), hash: *hash });
            }
        }
        for (pack, hash) in self.content.packs.iter().zip(&self.pack_hashes) {
            lock.packs.entry(pack.pack_id.clone()).or_default().insert(pack.version.to_string(), *hash);
        }
        lock
    }
}

/// Runs every check over the content root at `root`.
pub fn check(root: &Path) -> Result<(Checked, Sink)> {
    check_tree(&Tree::dir(root), Keep::default())
}

/// Runs every check over a content root in a directory or a git revision.
pub fn check_tree(tree: &Tree, keep: Keep) -> Result<(Checked, Sink)> {
    finish(prepare(tree)?, keep, None)
}

/// A content root read and parsed, its schemas compiled: the first half of a check.
pub struct Prepared {
    root: PathBuf,
    config: Config,
    lock: Lock,
    schemas: Schemas,
    schemas_fingerprint: ContentHash,
    content: Content,
    sink: Sink,
}

impl Prepared {
    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn schemas_fingerprint(&self) -> ContentHash {
        self.schemas_fingerprint
    }

    /// Whether [`finish`] with `prior`, the memo this was prepared with, sees everything a
    /// full check would: the references of a record left unparsed are only proven by the
    /// memo while every key their target collections had is still there.
    pub fn memo_suffices(&self, prior: &Checked) -> bool {
        self.content.seeds.iter().filter(|(_, seed)| seed.elided.iter().any(Option::is_some)).all(|(name, _)| {
            let Some(c) = self.config.collections.get(name) else { return true };
            c.references.iter().all(|reference| {
                let target = reference.collection.as_str();
                let (Some(old), Some(new)) = (prior.content.seeds.get(target), self.content.seeds.get(target)) else { return false };
                let keys: std::collections::HashSet<&str, rustc_hash::FxBuildHasher> =
                    new.records.iter().filter_map(|r| r.key.as_deref()).collect();
                old.records.iter().all(|r| r.key.as_deref().is_none_or(|k| keys.contains(k)))
            })
        })
    }
}

/// The first half of a check: config, lock, schemas, and every file loaded.
pub fn prepare(tree: &Tree) -> Result<Prepared> {
    prepare_with(tree, None)
}

/// [`prepare`], leaving unparsed every record whose bytes `memo` knows: the check must then
/// be finished with that memo as its prior ([`Memo::into_prior`]).
pub fn prepare_with(tree: &Tree, memo: Option<&Memo>) -> Result<Prepared> {
    let (config, lock) = match tree.root() {
        Some(root) => (Config::load(root)?, Lock::load(root)?),
        None => {
            let text = tree
                .read_optional(crate::config::CONFIG_FILE)?
                .with_context(|| format!("there is no {} in {} (is it a seedc content root?)", crate::config::CONFIG_FILE, tree.label()))?;
            let config = Config::parse(&text).with_context(|| format!("in {}", tree.label()))?;
            let lock = match tree.read_optional(crate::lock::LOCK_FILE)? {
                Some(text) => Lock::parse(&text)?,
                None => Lock { v: 1, ..Lock::default() },
            };
            (config, lock)
        }
    };
    let schemas = Schemas::compile_tree(tree, &config)?;
    let schemas_fingerprint = ContentHash::of(&canon::canonical_of(&schemas.documents)?);
    let (content, load_diags) =
        load::load_tree_with(tree, &config, memo).with_context(|| format!("cannot list the content of {}", tree.label()))?;
    let root = tree.root().map_or_else(PathBuf::new, Path::to_owned);
    let mut sink = Sink::default();
    sink.extend(load_diags);
    sink.extend(schema_refs(tree, &content));
    Ok(Prepared { root, config, lock, schemas, schemas_fingerprint, content, sink })
}

/// The second half of a check: every validation, then the hashes. It takes what it can from
/// `prior`, a check of other content that found no error (see [`Reuse`]); the diagnostics
/// are the same as without it.
pub fn finish(prepared: Prepared, keep: Keep, prior: Option<&Checked>) -> Result<(Checked, Sink)> {
    let Prepared { root, config, lock, schemas, schemas_fingerprint, content, mut sink } = prepared;
    let reuse = prior.map(|prior| Reuse::new(prior, &config, &content, schemas_fingerprint));
    let reuse = reuse.as_ref();
    let key_fields: HashMap<&str, &str> = config.collections.iter().map(|(n, c)| (n.as_str(), c.key.as_str())).collect();
    // The stages below only read the content: run them side by side, so that one stage's
    // tail (a last large collection) does not leave the other cores idle.
    let ((record_diags, reference_diags), (pack_diags, (collection_hashes, pack_hashes))) = rayon::join(
        || {
            rayon::join(
                || validate::records::check(&content, &schemas, &key_fields, reuse),
                || validate::references::check(&content, &config, reuse),
            )
        },
        || {
            rayon::join(
                || validate::packs::check(&content, &config, &schemas),
                || {
                    let (collection_hashes, canonical) = collection_hashes(&content, keep, reuse);
                    let pack_hashes: Vec<ContentHash> = content.packs.par_iter().map(|p| canon::hash_value(&p.value)).collect();
                    ((collection_hashes, canonical), pack_hashes)
                },
            )
        },
    );
    let (collection_hashes, canonical) = collection_hashes;
    sink.extend(record_diags);
    sink.extend(reference_diags);
    sink.extend(pack_diags);
    sink.extend(validate::versions::check(&content, &lock, &collection_hashes, &pack_hashes));

    let mut diags = std::mem::take(&mut sink).into_vec();
    content.sources.resolve(&mut diags);
    sink.extend(diags);
    sink.sort();
    Ok((Checked { root, config, content, collection_hashes, pack_hashes, lock, canonical, schemas_fingerprint }, sink))
}

type CollectionHashes = (BTreeMap<String, ContentHash>, BTreeMap<String, Vec<CanonicalRecord>>);

/// The hash of every complete collection whose records all have keys, and, if asked, its
/// records in canonical form. A record identical to one whose canonical form the prior
/// check kept is not written again.
fn collection_hashes(content: &Content, keep: Keep, reuse: Option<&Reuse>) -> CollectionHashes {
    let hashed: Vec<(&String, ContentHash, Vec<CanonicalRecord>)> = content
        .seeds
        .par_iter()
        .filter(|(_, s)| s.complete && s.records.iter().all(|r| r.key.is_some()))
        .map(|(name, s)| {
            let old = reuse.and_then(|reuse| Some((reuse.prior.canonical.get(name)?, reuse.same(name))));
            // Nothing to keep and nothing to reuse: hash straight from the values.
            if old.is_none() && !keep.canonical_records {
                return (name, canon::hash_collection(s.records.iter().map(|r| (record_key(r), &r.value))), Vec::new());
            }
            let records: Vec<CanonicalRecord> = (0..s.records.len())
                .into_par_iter()
                .map(|i| match old.and_then(|(old, same)| old.get(validate::reused(same, i)?)) {
                    Some(kept) => kept.clone(),
                    None => CanonicalRecord::of(&s.records[i].value),
                })
                .collect();
            let hash = canon::hash_canonical_collection(s.records.iter().map(record_key).zip(&records));
            (name, hash, records)
        })
        .collect();
    let mut hashes = BTreeMap::new();
    let mut canonical = BTreeMap::new();
    for (name, hash, records) in hashed {
        hashes.insert(name.clone(), hash);
        if keep.canonical_records {
            canonical.insert(name.clone(), records);
        }
    }
    (hashes, canonical)
}

fn record_key(r: &load::Record) -> &str {
    r.key.as_deref().unwrap_or_default()
}

/// A `$schema` that points at a missing local file is a warning: editors would not validate.
fn schema_refs(tree: &Tree, content: &Content) -> Vec<Diagnostic> {
    let refs = content
        .seeds
        .values()
        .filter_map(|s| Some((s.file.as_str(), s.schema_ref.as_deref()?)))
        .chain(content.packs.iter().filter_map(|p| Some((p.file.as_str(), p.schema_ref.as_deref()?))));
    let mut diags = Vec::new();
    for (file, reference) in refs {
        if reference.contains("://") {
            continue;
        }
        let path = reference.split('#').next().unwrap_or_default();
        let dir = Path::new(file).parent().unwrap_or(Path::new(""));
        let exists = match tree.root() {
            Some(root) => root.join(dir).join(path).is_file(),
            // A path that leaves the content root cannot be read from a revision: no warning.
            None => crate::tree::normalize(&format!("{}/{path}", dir.display())).is_none_or(|rel| tree.is_file(&rel)),
        };
        if !exists {
            diags.push(
                Diagnostic::warning(Code::MissingSchemaFile, format!("`$schema` names {reference:?}, which does not exist"))
                    .in_file(file)
                    .at_value("/$schema"),
            );
        }
    }
    diags
}
