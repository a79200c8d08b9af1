//! Stage 1, load: finds the seed files and packs of a content root, reads them as strict
//! JSON and splits them into the content model ([`Content`]). Seed records are parsed in
//! parallel, each from its own slice of the file, so one 80 MB file uses every core.
//! Every problem becomes a diagnostic; a file that cannot be read at all is left out of
//! later stages, and so are the checks that depend on it.
//!
//! This file holds the content model and the entry ([`load_tree_with`]); `discover` lists the
//! files, `file` reads one, `envelope` splits a seed file's top level, `seed` and `pack`
//! turn one file into its part of the model.

mod discover;
mod envelope;
mod file;
pub(crate) mod json;
pub(crate) mod known;
mod pack;
mod records;
mod seed;
mod stream;
pub(crate) mod time;

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value;

use crate::diag::{Code, Diagnostic, SourceFile, Sources};
use crate::json::canon::{CanonicalParts, CanonicalRecord, ContentHash};
use crate::load::known::{Known, RawDigest, RefArena};
use crate::project::config::Config;
use crate::project::lock::TextPrint;
use crate::project::tree::Tree;

pub(crate) use discover::discover_tree;
#[cfg(test)]
pub(crate) use stream::READ_FOR_TESTS;

pub(crate) const SEEDS_DIR: &str = "data/seeds";
pub(crate) const PACKS_DIR: &str = "data/packs";

/// One record of a collection.
#[derive(Debug, Clone)]
pub struct Record {
    /// Position in the file's `data` array (and in its [`SourceFile::records`]).
    pub index: usize,
    /// The record's key, if it has a usable one.
    pub key: Option<String>,
    pub body: Body,
    /// The BLAKE3 of the record's bytes, when loaded against a [`Known`] index (it is looked
    /// up there by them).
    pub digest: Option<RawDigest>,
}

/// A record is either parsed, or known by its bytes and not parsed at all.
#[derive(Debug, Clone)]
pub enum Body {
    /// Parsed; `known` is the known record with the same bytes, when the check found one.
    Parsed { value: Value, known: Option<usize> },
    /// Not parsed: its bytes are those of this record of the collection's [`KnownCollection`].
    Known(usize),
    /// Parsed, validated and hashed while loading, then its value dropped ([`Reduce`]):
    /// what the reference check needs of it, the keys it names at its collection's
    /// reference paths, is all that is left, in its file's [`SeedFile::reduced`].
    Reduced(RefsAt),
}

/// What a check that keeps no records does with them while the file is still being read:
/// the records of a declared collection are parsed a run at a time on each core, and each
/// run is validated, hashed if need be and reduced ([`Body::Reduced`]) by the core that
/// parsed it, while its values are still in that core's cache, so that only a few runs
/// are ever held parsed, whatever the size of the file.
pub(crate) trait Reduce: Sync {
    /// Whether `collection`'s hash is wanted: if so, what its runs write for it, empty
    /// ([`Written`]).
    fn writes(&self, collection: &str) -> Option<Written>;
    /// Whether each file's text is kept once its records are reduced (the editor places
    /// ranges in every file): such a file is read whole, never streamed, and not released.
    fn keeps_text(&self) -> bool;
    /// Validates a run of records just parsed (at most [`REDUCE_RUN`], from `run.file` of
    /// `run.collection`), writes what its hash needs of them (in order, as [`Reduce::writes`]
    /// says) if `run.hashed`, and reduces them: their references go into one arena, built in
    /// `scratch`, which will be arena `run.arena` of the file's [`SeedFile::reduced`].
    /// Returns their diagnostics, what was written, and the arena.
    fn run(&self, run: Run, records: &mut [Record], scratch: &mut RefArena) -> (Vec<Diagnostic>, Option<Written>, RefArena);
    /// The whole file has been read: `written` holds what every record of `seed` wrote for
    /// its hash, when it is complete, or [`Written::Vouched`].
    fn file(&self, seed: &SeedFile, written: Option<Written>);
    /// The length (carriage returns not counted) of the text of `collection`'s file that
    /// seedc.lock vouches for ([`Reduce::vouches`]), if it vouches for one: a file streamed
    /// with that many bytes is read without hashing its records, and read again, hashing
    /// them, if its text turns out not to be that one.
    fn vouched_len(&self, collection: &str) -> Option<u64>;
    /// Whether seedc.lock vouches for the collection hash of a file of `collection` with
    /// this text: its runs then need write nothing for the hash ([`Written::Vouched`]).
    fn vouches(&self, collection: &str, print: &TextPrint) -> bool;
}

/// What a reduced file's runs wrote of their records for its collection hash, in order:
/// each record's content hash (all [`HashVersion::Records`](crate::json::canon::HashVersion::Records) needs), the canonical bytes in
/// one buffer (what a lock of
/// [`HashVersion::Whole`](crate::json::canon::HashVersion::Whole) needs), or, when they are kept
/// ([`Reduce::keeps`]), each record's canonical bytes with their hash.
#[derive(Debug)]
pub(crate) enum Written {
    Hashes(Vec<ContentHash>),
    Parts(CanonicalParts),
    Records(Vec<CanonicalRecord>),
    /// Nothing: the text is the one seedc.lock vouches for ([`Reduce::vouches`]), and so
    /// its hash is the lock's.
    Vouched,
}

impl Written {
    /// Appends a later run's.
    pub(crate) fn append(&mut self, other: Written) {
        match (self, other) {
            (Written::Hashes(hashes), Written::Hashes(more)) => hashes.extend(more),
            (Written::Parts(parts), Written::Parts(more)) => parts.append(more),
            (Written::Records(records), Written::Records(more)) => records.extend(more),
            (Written::Vouched, Written::Vouched) => {}
            _ => unreachable!("the runs of one file write alike"),
        }
    }
}

/// Records a core parses in a row before it reduces them ([`Reduce::run`]).
pub(crate) const REDUCE_RUN: usize = 64;

/// Where a run of records handed to [`Reduce::run`] comes from.
#[derive(Clone, Copy)]
pub(crate) struct Run<'a> {
    pub(crate) collection: &'a str,
    pub(crate) file: &'a str,
    pub(crate) hashed: bool,
    /// The index its arena will have in the file's [`SeedFile::reduced`].
    pub(crate) arena: usize,
}

impl Record {
    /// The parsed value; None for a record left unparsed because it is known.
    pub fn value(&self) -> Option<&Value> {
        match &self.body {
            Body::Parsed { value, .. } => Some(value),
            Body::Known(_) | Body::Reduced { .. } => None,
        }
    }

    /// The known record this one is byte-identical to, if any.
    pub fn known(&self) -> Option<usize> {
        match self.body {
            Body::Parsed { known, .. } => known,
            Body::Known(j) => Some(j),
            Body::Reduced { .. } => None,
        }
    }
}

/// A parsed seed file: one collection.
#[derive(Debug, Clone)]
pub struct SeedFile {
    pub collection: String,
    pub file: String,
    pub version: Option<semver::Version>,
    pub updated_at: Option<String>,
    pub schema_ref: Option<String>,
    pub records: Vec<Record>,
    /// False when a record could not be parsed: its content hash is then unknown.
    pub complete: bool,
    /// Some when the file was reduced while loading ([`Reduce`]): the outgoing references
    /// of its reduced records, in arenas that [`RefsAt`] points into. Its collection hash,
    /// if wanted, was taken then too.
    pub reduced: Option<Vec<RefArena>>,
    /// Its text's print ([`TextPrint`]), when it was taken while loading (a reduced file).
    pub print: Option<TextPrint>,
}

/// Where a reduced record's outgoing references are: a record of one arena of its file's
/// [`SeedFile::reduced`].
#[derive(Debug, Clone, Copy)]
pub struct RefsAt {
    pub arena: usize,
    pub record: usize,
}

impl SeedFile {
    /// Whether its collection hash is defined: every record parsed, and each with a key.
    pub fn is_hashable(&self) -> bool {
        self.complete && self.records.iter().all(|r| r.key.is_some())
    }
}

/// A parsed content pack.
#[derive(Debug, Clone)]
pub struct Pack {
    pub file: String,
    pub pack_id: String,
    pub version: semver::Version,
    pub kind: String,
    pub schema_v: String,
    pub schema_ref: Option<String>,
    /// The pack document without its editor-only `$schema` member: the bundle's content.
    pub value: Value,
}

/// Everything loaded from a content root.
#[derive(Debug, Default)]
pub struct Content {
    pub seeds: BTreeMap<String, SeedFile>,
    pub packs: Vec<Pack>,
    pub sources: Sources,
    /// Collections whose file is missing or unreadable: checks that need them are skipped.
    pub unavailable: Vec<String>,
}

/// Loads a content root from a directory or a git revision, leaving unparsed every record
/// whose bytes are a known record's ([`Body::Known`]), where `known` applies under schemas
/// with this fingerprint, and handing each seed file to `reduce` as soon as it is parsed.
pub(crate) fn load_tree_with(
    tree: &Tree,
    config: &Config,
    known: Option<(&Known, ContentHash)>,
    reduce: Option<&dyn Reduce>,
) -> std::io::Result<(Content, Vec<Diagnostic>)> {
    let discover::Discovered { seeds: seed_paths, packs: pack_paths, problems } = discover_tree(tree);
    let mut diags = problems;
    let mut content = Content::default();

    let seeds: Vec<_> = seed_paths
        .par_iter()
        .map(|rel| {
            let collection = rel.trim_start_matches(SEEDS_DIR).trim_start_matches('/').trim_end_matches(".json");
            let known = known.and_then(|(k, schemas)| k.applicable(collection, config, schemas));
            let reduce = reduce.filter(|_| config.collections.contains_key(collection));
            let parser = records::RecordParser::new(rel, collection, config, known);
            // A file that is reduced is read a block at a time, never whole, unless it is one
            // of the few that need the whole text to be told what is wrong with them.
            let streamed = reduce
                .filter(|r| !r.keeps_text())
                .filter(|_| tree.streamable(rel))
                .and_then(|reduce| stream::load_streamed(tree, &parser, reduce));
            match streamed {
                Some((seed, source, diags)) => (rel.clone(), Some((seed, Arc::new(source))), diags),
                None => seed::load_seed_file(tree, &parser, reduce),
            }
        })
        .collect();
    let mut present = Vec::new();
    for (rel, loaded, file_diags) in seeds {
        diags.extend(file_diags);
        let collection = rel.trim_start_matches(SEEDS_DIR).trim_start_matches('/').trim_end_matches(".json").to_owned();
        present.push(collection.clone());
        match loaded {
            Some((seed, source)) => {
                content.sources.insert(source);
                if config.collections.contains_key(&collection) {
                    content.seeds.insert(collection, seed);
                } else {
                    diags.push(
                        Diagnostic::error(Code::UnknownCollection, format!("seed file for undeclared collection `{collection}`"))
                            .in_file(rel),
                    );
                }
            }
            None => content.unavailable.push(collection),
        }
    }
    for name in config.collections.keys() {
        if !present.contains(name) {
            diags.push(
                Diagnostic::error(Code::MissingSeedFile, format!("collection `{name}` has no seed file"))
                    .in_file(crate::project::config::CONFIG_FILE)
                    .help(format!("create {SEEDS_DIR}/{name}.json or remove [collections.{name}] from seedc.toml")),
            );
            content.unavailable.push(name.clone());
        }
    }

    let packs: Vec<_> = pack_paths.par_iter().map(|rel| pack::load_pack(tree, rel, config)).collect();
    for (loaded, file_diags) in packs {
        diags.extend(file_diags);
        if let Some((pack, source)) = loaded {
            content.sources.insert(source);
            if let Some(pack) = pack {
                content.packs.push(pack);
            }
        }
    }
    Ok((content, diags))
}

/// One input file loaded alone, as [`load_tree_with`] loads it among the others.
pub(crate) enum One {
    /// The seed file of a declared collection.
    Seed(SeedFile, Arc<SourceFile>),
    /// A pack file, and its pack when its envelope is sound.
    Pack(Option<Pack>, Arc<SourceFile>),
}

/// Loads the seed file of a declared collection or the pack at `rel` alone, as
/// [`load_tree_with`] would (never streamed). None when `rel` is neither, or cannot be read:
/// only a load of the whole tree says what is wrong with it.
pub(crate) fn load_file(tree: &Tree, config: &Config, rel: &str, reduce: Option<&dyn Reduce>) -> Option<(One, Vec<Diagnostic>)> {
    if let Some(name) = rel.strip_prefix(SEEDS_DIR).and_then(|r| r.strip_prefix('/')).and_then(|r| r.strip_suffix(".json")) {
        let collection = config.collections.get_key_value(name).filter(|_| !name.contains('/'))?.0;
        let parser = records::RecordParser::new(rel, collection, config, None);
        let (_, loaded, diags) = seed::load_seed_file(tree, &parser, reduce);
        let (seed, source) = loaded?;
        return Some((One::Seed(seed, source), diags));
    }
    let pack = rel.strip_prefix(PACKS_DIR).and_then(|r| r.strip_prefix('/'))?;
    let flat = pack.ends_with(".json") && !pack.contains('/');
    let nested = pack.strip_suffix("/pack.json").is_some_and(|dir| !dir.contains('/'));
    if !flat && !nested {
        return None;
    }
    let (loaded, diags) = pack::load_pack(tree, rel, config);
    let (pack, source) = loaded?;
    Some((One::Pack(pack, source), diags))
}

/// A human label for a record in messages: `enemies "goblin_scout"` or `enemies[3]`.
pub(crate) fn record_label(collection: &str, key: Option<&str>, index: usize) -> String {
    match key {
        Some(k) => format!("{collection} {k:?}"),
        None => format!("{collection}[{index}]"),
    }
}

/// A record's key as a string: a non-empty string or an integer.
pub(crate) fn key_of(value: &Value, field: &str) -> Option<String> {
    match value.get(field)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// A loaded file and its source text, or None when it could not be read.
type Loaded<T> = Option<(T, Arc<SourceFile>)>;
