//! `seedc check`: load, then every validation, then hashes; the front half of every command.
//! Content problems come back as diagnostics in the [`Sink`]; config and I/O failures as
//! errors (exit 2).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::diag::{Code, Diagnostic, Sink};
use crate::json::canon::{self, CanonicalRecord, ContentHash, HashVersion};
use crate::load::known::{KnownCollection, KnownRecord, RecordBytes};
use crate::load::{self, Content};
use crate::project::Project;
use crate::project::config::Config;
use crate::project::lock::{Lock, LockedCollection, LockedText, TextPrint};
use crate::project::tree::Tree;
use crate::validate::{self, schemas::Schemas};
use reduce::{Reduced, Reducer};

/// A checked content root: what `build`, `deploy` and `diff` work from.
#[derive(Debug)]
pub struct Checked {
    /// The content root directory; empty when the content was read from a git revision.
    pub root: PathBuf,
    pub config: Config,
    pub content: Content,
    /// Content hash of every complete collection (see [`canon::hash_collection`]); with
    /// [`Hashes::Pinned`], only of those `seedc.lock` pins.
    pub collection_hashes: BTreeMap<String, ContentHash>,
    /// When `seedc.lock` is of the older definition ([`HashVersion::Whole`]): the hash of
    /// that definition of every hashed collection it pins, which its version discipline
    /// compares. Empty under a lock of the current definition.
    pub whole_hashes: BTreeMap<String, ContentHash>,
    /// Hash of each pack's canonical bytes, parallel to `content.packs` (packs are small:
    /// always all of them).
    pub pack_hashes: Vec<ContentHash>,
    pub lock: Lock,
    /// With [`Keep::records`]: the canonical form of each record of every complete
    /// collection, in the order of its `records`; empty otherwise.
    pub records: BTreeMap<String, Vec<CanonicalRecord>>,
    /// The hash of every schema document: equal fingerprints validate alike.
    pub schemas_fingerprint: ContentHash,
}

/// The index a check may lean on, and one outgoing reference, as [`Checked`]'s API names them.
pub use crate::load::known::{Known, OutRef};
/// Finds the outgoing references of a checked collection's records ([`Checked::references`]).
pub use crate::validate::references::Finder;

mod file;
mod reduce;

pub(crate) use file::{FileChecked, file};

/// What a check keeps beyond its verdict ([`Mode::plan`]).
#[derive(Debug, Clone, Copy, Default)]
struct Keep {
    /// Every record's canonical bytes and hash (deploy writes both): what
    /// [`Checked::take_known`] needs to vouch for the records later.
    records: bool,
}

/// Which collections a check hashes: the choice of the command that runs it, made explicit
/// because hashing (canonical writing and SHA-256 of every record) is a fifth of a check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Hashes {
    /// Every complete collection: `build` writes them to `seedc.lock`, `deploy` and `diff`
    /// compare them.
    #[default]
    All,
    /// Only collections `seedc.lock` pins: the version-bump check is the one consumer in
    /// `seedc check`, and it compares only those.
    Pinned,
}

impl Hashes {
    /// Whether `collection` is hashed, `lock` being the content root's `seedc.lock`.
    fn wants(self, lock: &Lock, collection: &str) -> bool {
        self == Hashes::All || lock.collections.contains_key(collection)
    }
}

impl Checked {
    /// What finds the outgoing references of `collection`'s records, the content having
    /// been checked against `known` (None: if it was, the index must be given).
    pub fn references<'a>(&'a self, collection: &str, known: Option<&'a Known>) -> Option<Finder<'a>> {
        let c = self.config.collections.get(collection)?;
        let known = known.and_then(|k| k.applicable(collection, &self.config, self.schemas_fingerprint));
        Some(match self.content.seeds.get(collection) {
            Some(seed) => Finder::of_seed(c, known, seed),
            None => Finder::new(c, known),
        })
    }

    /// The hashes `seedc.lock`'s version discipline compares: of its own definition.
    pub fn hashes_as_locked(&self) -> &BTreeMap<String, ContentHash> {
        match self.lock.hash_version() {
            HashVersion::Whole => &self.whole_hashes,
            HashVersion::Records => &self.collection_hashes,
        }
    }

    /// Whether `seedc.lock` already says what `next` (this content's [`Checked::next_lock`])
    /// says, perhaps in the older format: the same packs, collection versions and, under
    /// the lock's own definition, collection hashes. `build --locked` leaves such a lock
    /// alone; a plain build rewrites it in the current format.
    pub fn lock_says(&self, next: &Lock) -> bool {
        let as_locked = self.hashes_as_locked();
        let same_collection = |(name, c): (&String, &LockedCollection)| {
            next.collections.get(name).is_some_and(|n| n.version == c.version) && as_locked.get(name) == Some(&c.hash)
        };
        self.lock.packs == next.packs
            && self.lock.collections.len() == next.collections.len()
            && self.lock.collections.iter().all(same_collection)
    }

    /// The lock this content would write: current collections, each with the text its hash
    /// was taken from ([`LockedText`]), every pack version ever seen.
    pub fn next_lock(&self) -> Lock {
        let mut lock = Lock { collections: BTreeMap::new(), packs: self.lock.packs.clone(), ..Lock::empty() };
        let collections: Vec<_> = self
            .collection_hashes
            .par_iter()
            .filter_map(|(name, hash)| {
                let seed = self.content.seeds.get(name)?;
                let version = seed.version.as_ref()?.to_string();
                let key = &self.config.collections.get(name)?.key;
                let text = self.print_of(seed).map(|print| LockedText::of(&print, key, hash));
                Some((name.clone(), LockedCollection { version, hash: *hash, text }))
            })
            .collect();
        lock.collections.extend(collections);
        for (pack, hash) in self.content.packs.iter().zip(&self.pack_hashes) {
            lock.packs.entry(pack.pack_id.clone()).or_default().insert(pack.version.to_string(), *hash);
        }
        lock
    }
}

impl Checked {
    /// The print of `seed`'s text: taken while loading it, or now from the text kept.
    fn print_of(&self, seed: &load::SeedFile) -> Option<TextPrint> {
        let source = || self.content.sources.get(&seed.file).filter(|s| !s.is_released());
        seed.print.or_else(|| Some(TextPrint::of(source()?.text.as_bytes())))
    }
}

/// Who runs a check, and so what it keeps and hashes beyond its verdict. The one table of
/// what each mode does is [`Mode::plan`].
#[derive(Clone, Copy)]
pub enum Mode<'a> {
    /// `seedc check`: the verdict alone. Hashes only the collections `seedc.lock` pins (the
    /// version-bump rule is their one consumer) and keeps no record parsed: each core
    /// validates, hashes and reduces a seed file's records a run at a time as it parses them
    /// ([`load::Body::Reduced`]), and a file's text is let go until a diagnostic needs it,
    /// so memory is bounded by the files in flight. Its `Checked` has no record values.
    Verdict,
    /// `seedc build`: every collection hashed (the lock), every value kept parsed (packs and
    /// manifests are compiled from the checked content).
    Build,
    /// A deploy with no memo to lean on: every hash and every record's canonical form (the
    /// rows' `jsonb`), records reduced while loading as [`Mode::Verdict`]'s are, each keeping
    /// its canonical form; no file's text held (the digests of the records' bytes that a
    /// memo keeps are made only if one is written, from the files read again).
    FirstDeploy,
    /// A deploy with the memo of its last deploy: records byte-identical to a known one are
    /// not even parsed; every record's canonical form kept.
    Deploy(&'a Known),
    /// The old side of a diff: every record's canonical form kept, for
    /// [`Checked::take_known`] to make the index the new side leans on.
    DiffOld,
    /// The new side of a diff, leaning on the old side's index when it checked clean.
    DiffNew(Option<&'a Known>),
    /// The language server, over the editor's buffers: every diagnostic `seedc check` gives,
    /// each file read whole and its text kept (the editor places ranges in it), its records
    /// reduced as [`Mode::Verdict`]'s are, so no value outlives its run; then one file at a
    /// time ([`file`]).
    Editor,
}

/// What a [`Mode`] asks of the check.
struct Plan<'a> {
    keep: Keep,
    hashes: Hashes,
    /// Validate, hash and reduce each seed file's records while loading it.
    reduce: bool,
    /// Keep every file's text, even reduced ones (never streamed nor released).
    text: bool,
    known: Option<&'a Known>,
}

impl<'a> Mode<'a> {
    /// The one table of what each mode keeps, hashes and leans on.
    fn plan(self) -> Plan<'a> {
        let (records, hashes, reduce, text, known) = match self {
            Mode::Verdict => (false, Hashes::Pinned, true, false, None),
            Mode::Build => (false, Hashes::All, false, true, None),
            Mode::FirstDeploy => (true, Hashes::All, true, false, None),
            Mode::Deploy(known) => (true, Hashes::All, false, true, Some(known)),
            Mode::DiffOld => (true, Hashes::All, false, true, None),
            Mode::DiffNew(known) => (false, Hashes::All, false, true, known),
            Mode::Editor => (false, Hashes::Pinned, true, true, None),
        };
        Plan { keep: Keep { records }, hashes, reduce, text, known }
    }
}

/// Checks the content root `project` opened, as `mode` needs it: load, every validation,
/// the hashes. Content problems are the [`Sink`]'s; an error (exit 2) is a config or I/O
/// failure, or a file a diagnostic falls in that changed while it was checked.
pub fn run(project: &Project, mode: Mode) -> Result<(Checked, Sink)> {
    let plan = mode.plan();
    let reduce = plan.reduce.then_some((plan.hashes, plan.keep, plan.text));
    let prepared = prepare(project, plan.known, reduce)?;
    finish(prepared, plan.keep, plan.known, plan.hashes, plan.reduce.then(|| project.tree()))
}

/// A content root read and parsed, its schemas compiled: the first half of a check.
struct Prepared {
    root: PathBuf,
    config: Config,
    lock: Lock,
    schemas: Schemas,
    schemas_fingerprint: ContentHash,
    content: Content,
    sink: Sink,
    /// The hashes of the collections reduced while loading ([`load::Body::Reduced`]), and
    /// their canonical records if kept.
    reduced: Reduced,
}

/// The first half of a check: schemas, and every file loaded. Records whose bytes a
/// record of `known` has are left unparsed where `known` applies; with `reduce_for`, each
/// seed file is validated and hashed as soon as it is loaded and its records reduced
/// ([`load::Reduce`]).
fn prepare(project: &Project, known: Option<&Known>, reduce_for: Option<(Hashes, Keep, bool)>) -> Result<Prepared> {
    let tree = project.tree();
    let config = project.config().clone();
    let lock = project.lock().clone();
    let schemas = Schemas::compile_tree(tree, &config)?;
    let schemas_fingerprint = ContentHash::of(&canon::canonical_of(&schemas.documents)?);
    let reducer = reduce_for.map(|(hashes, keep, text)| Reducer {
        config: &config,
        lock: &lock,
        schemas: &schemas,
        hashes,
        reduced: Mutex::default(),
        keep,
        text,
    });
    let (content, load_diags) =
        load::load_tree_with(tree, &config, known.map(|k| (k, schemas_fingerprint)), reducer.as_ref().map(|r| r as &dyn load::Reduce))
            .with_context(|| format!("cannot list the content of {}", tree.label()))?;
    let root = tree.root().map_or_else(PathBuf::new, Path::to_owned);
    let mut sink = Sink::default();
    sink.extend(load_diags);
    sink.extend(schema_refs(tree, &content));
    let reduced = reducer.map(|r| r.reduced.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner)).unwrap_or_default();
    Ok(Prepared { root, config, lock, schemas, schemas_fingerprint, content, sink, reduced })
}

/// The second half of a check: every validation, then the hashes. A record byte-identical
/// to a record of `known` (where it applies) is not validated again, keeps its canonical
/// form, and has its references checked from what `known` recorded of them; the
/// diagnostics are the same as without it. `known` must be the index the content was
/// prepared with, if any; `tree` is where the text of files released while loading is
/// read back from.
fn finish(prepared: Prepared, keep: Keep, known: Option<&Known>, hashes: Hashes, tree: Option<&Tree>) -> Result<(Checked, Sink)> {
    let Prepared { root, config, lock, schemas, schemas_fingerprint, mut content, mut sink, reduced } = prepared;
    let known: BTreeMap<&str, &KnownCollection> = match known {
        Some(k) => {
            config.collections.keys().filter_map(|name| Some((name.as_str(), k.applicable(name, &config, schemas_fingerprint)?))).collect()
        }
        None => BTreeMap::new(),
    };
    let key_fields: HashMap<&str, &str> = config.collections.iter().map(|(n, c)| (n.as_str(), c.key.as_str())).collect();
    // The stages below only read the content: run them side by side, so that one stage's
    // tail (a last large collection) does not leave the other cores idle.
    let ((record_diags, reference_diags), (pack_diags, (collection_hashes, pack_hashes))) = rayon::join(
        || {
            rayon::join(
                || validate::records::check(&content, &schemas, &key_fields),
                || validate::references::check(&content, &config, &known),
            )
        },
        || {
            rayon::join(
                || validate::packs::check(&content, &config, &schemas),
                || {
                    let wanted = |name: &str| keep.records || hashes.wants(&lock, name);
                    let hashes = collection_hashes(&content, keep, &known, wanted, |name| wants_whole(&lock, name));
                    let pack_hashes: Vec<ContentHash> = content.packs.par_iter().map(|p| canon::hash_value(&p.value)).collect();
                    (hashes, pack_hashes)
                },
            )
        },
    );
    let CollectionHashes { hashes: mut collection_hashes, mut whole_hashes, mut records } = collection_hashes;
    collection_hashes.extend(reduced.hashes);
    whole_hashes.extend(reduced.whole);
    if keep.records {
        records.extend(reduced.records);
    }
    sink.extend(record_diags);
    sink.extend(reference_diags);
    sink.extend(pack_diags);
    let as_locked = if lock.hash_version() == HashVersion::Whole { &whole_hashes } else { &collection_hashes };
    sink.extend(validate::versions::check(&content, &lock, as_locked, &pack_hashes));

    let mut diags = std::mem::take(&mut sink).into_vec();
    if let Some(tree) = tree {
        restore_released(tree, &config, &mut content, &diags)?;
    }
    content.sources.resolve(&mut diags);
    sink.extend(diags);
    sink.sort();
    let checked = Checked { root, config, content, collection_hashes, whole_hashes, pack_hashes, lock, records, schemas_fingerprint };
    Ok((checked, sink))
}

/// Reads back the text of each released file that a diagnostic falls in. A file that is no
/// longer what was checked is an error: its diagnostics could not be placed.
fn restore_released(tree: &Tree, config: &Config, content: &mut Content, diags: &[Diagnostic]) -> Result<()> {
    for path in content.sources.released_in(diags) {
        let text = tree.read_optional(&path, config.limits.max_file_bytes).ok().flatten();
        if !text.is_some_and(|text| content.sources.restore(&path, text)) {
            anyhow::bail!("{path} changed while it was being checked: run the check again");
        }
    }
    Ok(())
}

/// What [`collection_hashes`] computes.
#[derive(Default)]
struct CollectionHashes {
    hashes: BTreeMap<String, ContentHash>,
    /// Of [`HashVersion::Whole`], where the lock asks for them.
    whole_hashes: BTreeMap<String, ContentHash>,
    records: BTreeMap<String, Vec<CanonicalRecord>>,
}

/// Whether `collection` must also be hashed as [`HashVersion::Whole`] defines it: `lock`
/// is of that definition and pins it, so its version discipline compares such a hash.
fn wants_whole(lock: &Lock, collection: &str) -> bool {
    lock.hash_version() == HashVersion::Whole && lock.collections.contains_key(collection)
}

/// The hash of every `wanted` complete collection whose records all have keys (and its
/// [`HashVersion::Whole`] hash if `whole`), and, if asked, its records in canonical form. A
/// known record's canonical form is not written again.
fn collection_hashes(
    content: &Content,
    keep: Keep,
    known: &BTreeMap<&str, &KnownCollection>,
    wanted: impl Fn(&str) -> bool + Sync,
    whole: impl Fn(&str) -> bool + Sync,
) -> CollectionHashes {
    type Hashed<'a> = (&'a String, ContentHash, Option<ContentHash>, Vec<CanonicalRecord>);
    let hashed: Vec<Hashed> = content
        .seeds
        .par_iter()
        .filter(|(name, s)| {
            // A reduced collection was hashed while loading, if at all.
            wanted(name) && s.reduced.is_none() && s.is_hashable()
        })
        .map(|(name, s)| {
            let k = known.get(name.as_str()).copied();
            // Nothing to keep and nothing known: hash straight from the values.
            if k.is_none() && !keep.records {
                let values = || s.records.iter().filter_map(|r| Some((record_key(r), r.value()?)));
                let whole = whole(name).then(|| canon::hash_collection_whole(values()));
                return (name, canon::hash_collection(values()), whole, Vec::new());
            }
            let records: Vec<CanonicalRecord> = s
                .records
                .par_iter()
                .map(|r| match (r.known(), k, r.value()) {
                    (Some(j), Some(k), _) => k.records[j].canonical.clone(),
                    (_, _, Some(value)) => CanonicalRecord::of(value),
                    (Some(_), None, None) | (None, _, None) => unreachable!("a record left unparsed is known"),
                })
                .collect();
            let keyed = || s.records.iter().map(record_key).zip(&records);
            let whole = whole(name).then(|| canon::hash_canonical_collection_whole(keyed()));
            (name, canon::hash_canonical_collection(keyed()), whole, records)
        })
        .collect();
    let mut out = CollectionHashes::default();
    for (name, hash, whole, records) in hashed {
        out.hashes.insert(name.clone(), hash);
        if let Some(whole) = whole {
            out.whole_hashes.insert(name.clone(), whole);
        }
        if keep.records {
            out.records.insert(name.clone(), records);
        }
    }
    out
}

fn record_key(r: &load::Record) -> &str {
    r.key.as_deref().unwrap_or_default()
}

impl Checked {
    /// What this clean check vouches for, for a later check of changed content: every
    /// record of each collection whose records it kept ([`Keep::records`]). They move into
    /// the index (`records` is left empty), which also holds on to their source text, so
    /// that a record of the later check is recognised by comparing bytes, not hashing them.
    pub fn take_known(&mut self) -> Known {
        let collections = std::mem::take(&mut self.records)
            .into_par_iter()
            .filter_map(|(name, kept)| {
                let seed = self.content.seeds.get(&name)?;
                let identity = crate::load::known::identity(&self.config, &name)?;
                let hash = *self.collection_hashes.get(&name)?;
                let source = self.content.sources.get(&seed.file)?;
                let ranges = seed.records.iter().map(|r| source.records.get(r.index).cloned()).collect::<Option<Vec<_>>>()?;
                let records = seed
                    .records
                    .iter()
                    .zip(kept)
                    .map(|(r, canonical)| Some(KnownRecord { key: r.key.clone()?, canonical }))
                    .collect::<Option<Vec<_>>>()?;
                let bytes = RecordBytes::Text { source: Arc::clone(source), ranges };
                Some((name, KnownCollection::new(identity, hash, records, bytes)))
            })
            .collect();
        Known { schemas_fingerprint: self.schemas_fingerprint, collections }
    }
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
            None => crate::project::tree::normalize(&format!("{}/{path}", dir.display())).is_none_or(|rel| tree.is_file(&rel)),
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

#[cfg(test)]
pub(crate) mod tests;
