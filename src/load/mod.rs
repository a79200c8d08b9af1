//! Stage 1, load: finds the seed files and packs of a content root, reads them as strict
//! JSON and splits them into the content model ([`Content`]). Seed records are parsed in
//! parallel, each from its own slice of the file, so one 80 MB file uses every core.
//! Every problem becomes a diagnostic; a file that cannot be read at all is left out of
//! later stages, and so are the checks that depend on it.

pub mod json;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::de::{self, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::canon::ContentHash;
use crate::config::Config;
use crate::diag::locate;
use crate::diag::{Code, Diagnostic, SourceFile, Sources, Span, Target};
use crate::known::{self, Known, KnownCollection, RawDigest};
use crate::pointer::Pointer;
use crate::tree::Tree;

pub const SEEDS_DIR: &str = "data/seeds";
pub const PACKS_DIR: &str = "data/packs";

/// One record of a collection.
#[derive(Debug, Clone)]
pub struct Record {
    /// Position in the file's `data` array (and in its [`SourceFile::records`]).
    pub index: usize,
    /// The record's key, if it has a usable one.
    pub key: Option<String>,
    pub body: Body,
    /// The BLAKE3 of the record's bytes, when loaded against a [`Known`] index (a deploy
    /// memoizes it for the next one).
    pub digest: Option<RawDigest>,
}

/// A record is either parsed, or known by its bytes and not parsed at all.
#[derive(Debug, Clone)]
pub enum Body {
    /// Parsed; `known` is the known record with the same bytes, when the check found one.
    Parsed { value: Value, known: Option<usize> },
    /// Not parsed: its bytes are those of this record of the collection's [`KnownCollection`].
    Known(usize),
}

impl Record {
    /// The parsed value; None for a record left unparsed because it is known.
    pub fn value(&self) -> Option<&Value> {
        match &self.body {
            Body::Parsed { value, .. } => Some(value),
            Body::Known(_) => None,
        }
    }

    /// The known record this one is byte-identical to, if any.
    pub fn known(&self) -> Option<usize> {
        match self.body {
            Body::Parsed { known, .. } => known,
            Body::Known(j) => Some(j),
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

/// Files found under a directory of the content root: (absolute path, relative path).
pub type Listing = Vec<(PathBuf, String)>;

/// Lists the seed files and packs under `root`, sorted, as (absolute, relative) paths.
pub fn discover(root: &Path) -> std::io::Result<(Listing, Listing)> {
    let (seeds, packs) = discover_tree(&Tree::dir(root))?;
    let abs = |rels: Vec<String>| rels.into_iter().map(|rel| (root.join(&rel), rel)).collect();
    Ok((abs(seeds), abs(packs)))
}

/// Lists the seed files and packs of a tree, sorted, as relative paths.
pub fn discover_tree(tree: &Tree) -> std::io::Result<(Vec<String>, Vec<String>)> {
    let seeds = list_json(tree, SEEDS_DIR, false)?;
    let packs = list_json(tree, PACKS_DIR, true)?;
    Ok((seeds, packs))
}

fn list_json(tree: &Tree, dir: &str, nested_pack: bool) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let entries = match tree.read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let name = entry.name;
        if entry.is_dir {
            let pack = format!("{dir}/{name}/pack.json");
            if nested_pack && tree.is_file(&pack) {
                out.push(pack);
            }
        } else if name.ends_with(".json") {
            out.push(format!("{dir}/{name}"));
        }
    }
    out.sort();
    Ok(out)
}

/// Loads a content root from a directory or a git revision.
pub fn load_tree(tree: &Tree, config: &Config) -> std::io::Result<(Content, Vec<Diagnostic>)> {
    load_tree_with(tree, config, None)
}

/// [`load_tree`], leaving unparsed every record whose bytes are a known record's
/// ([`Body::Known`]), where `known` applies under schemas with this fingerprint.
pub fn load_tree_with(tree: &Tree, config: &Config, known: Option<(&Known, ContentHash)>) -> std::io::Result<(Content, Vec<Diagnostic>)> {
    let (seed_paths, pack_paths) = discover_tree(tree)?;
    let mut diags = Vec::new();
    let mut content = Content::default();

    let seeds: Vec<_> = seed_paths
        .par_iter()
        .map(|rel| {
            let collection = rel.trim_start_matches(SEEDS_DIR).trim_start_matches('/').trim_end_matches(".json");
            let known = known.and_then(|(k, schemas)| k.applicable(collection, config, schemas));
            load_seed_file(tree, rel, collection, config, known)
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
                    .in_file(crate::config::CONFIG_FILE)
                    .help(format!("create {SEEDS_DIR}/{name}.json or remove [collections.{name}] from seedc.toml")),
            );
            content.unavailable.push(name.clone());
        }
    }

    let packs: Vec<_> = pack_paths.par_iter().map(|rel| load_pack(tree, rel, config)).collect();
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

/// Reads a file within the size limit and checks it is UTF-8.
fn read_text(tree: &Tree, rel: &str, limit: u64, diags: &mut Vec<Diagnostic>) -> Option<String> {
    let len = match tree.len(rel) {
        Ok(len) => len,
        Err(e) => {
            diags.push(Diagnostic::error(Code::Io, format!("cannot read file: {e}")).in_file(rel));
            return None;
        }
    };
    if len > limit {
        diags.push(Diagnostic::error(Code::FileTooLarge, format!("file is {len} bytes, over the limit of {limit} bytes")).in_file(rel));
        return None;
    }
    let bytes = match tree.read(rel) {
        Ok(b) => b,
        Err(e) => {
            diags.push(Diagnostic::error(Code::Io, format!("cannot read file: {e}")).in_file(rel));
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(e) => {
            let bytes = e.as_bytes();
            let offset = e.utf8_error().valid_up_to();
            // Everything before the bad byte is valid UTF-8, so line and column are exact.
            let prefix = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
            let line = prefix.matches('\n').count() + 1;
            let column = prefix.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            diags.push(
                Diagnostic::error(Code::InvalidUtf8, format!("invalid UTF-8 byte 0x{:02x}", bytes[offset]))
                    .in_file(rel)
                    .at(Target::At(Span { line, column, offset, len: 1 })),
            );
            None
        }
    }
}

fn fatal_diagnostic(fatal: json::Fatal, source: &str, base: usize, rel: &str) -> Diagnostic {
    let offset_in = |line: usize, column_bytes: usize| base + locate::LineIndex::new(source).offset(line, column_bytes);
    let (d, offset) = match fatal {
        json::Fatal::Syntax { message, line, column_bytes } => (Diagnostic::error(Code::Syntax, message), offset_in(line, column_bytes)),
        json::Fatal::TooDeep { limit, line, column_bytes } => {
            (Diagnostic::error(Code::NestingTooDeep, format!("nesting deeper than the limit of {limit}")), offset_in(line, column_bytes))
        }
    };
    d.in_file(rel).at(Target::Offset(offset))
}

/// A part of a file is parsed with the depth left below it; the message names the limit the
/// user configured, not that remainder.
fn whole_file_limit(fatal: json::Fatal, config: &Config) -> json::Fatal {
    match fatal {
        json::Fatal::TooDeep { line, column_bytes, .. } => json::Fatal::TooDeep { limit: config.limits.max_depth, line, column_bytes },
        syntax => syntax,
    }
}

fn findings_to_diags(findings: Vec<json::Finding>, rel: &str, record: Option<&str>) -> impl Iterator<Item = Diagnostic> {
    findings.into_iter().map(move |f| {
        let d = match f {
            json::Finding::DuplicateKey { pointer, key } => {
                Diagnostic::error(Code::DuplicateKey, format!("duplicate key `{key}`")).at_key(pointer.key(&key))
            }
            json::Finding::UnsafeInteger { pointer, literal } => {
                Diagnostic::error(Code::UnsafeInteger, format!("integer {literal} is beyond ±(2^53 - 1)")).at_value(pointer)
            }
        };
        let d = d.in_file(rel);
        match record {
            Some(r) => d.record(r.to_owned()),
            None => d,
        }
    })
}

/// What the envelope visitor collects: every top-level member as raw text, with `data`
/// split into raw records (if it is an array).
#[derive(Default)]
struct Envelope<'a> {
    members: Vec<(String, &'a RawValue)>,
    data: Option<Result<Vec<&'a RawValue>, &'static str>>,
    duplicates: Vec<String>,
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'de>, A::Error> {
        let mut env = Envelope::default();
        while let Some(key) = map.next_key::<String>()? {
            let seen = key == "data" && env.data.is_some() || env.members.iter().any(|(k, _)| *k == key);
            if key == "data" {
                let data = map.next_value::<DataField>()?.0;
                if !seen {
                    env.data = Some(data);
                }
            } else {
                let raw = map.next_value::<&RawValue>()?;
                if !seen {
                    env.members.push((key.clone(), raw));
                }
            }
            if seen {
                env.duplicates.push(key);
            }
        }
        Ok(env)
    }
}

struct DataField<'a>(Result<Vec<&'a RawValue>, &'static str>);

impl<'de: 'a, 'a> de::Deserialize<'de> for DataField<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DataField<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                    items.push(raw);
                }
                Ok(DataField(Ok(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(DataField(Err("an object")))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(DataField(Err("a string")))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(DataField(Err("a boolean")))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(DataField(Err("a number")))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(DataField(Err("a number")))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(DataField(Err("a number")))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(DataField(Err("null")))
            }
        }
        deserializer.deserialize_any(V)
    }
}

fn offset_in(text: &str, raw: &RawValue) -> usize {
    raw.get().as_ptr() as usize - text.as_ptr() as usize
}

/// A human label for a record in messages: `enemies "goblin_scout"` or `enemies[3]`.
pub fn record_label(collection: &str, key: Option<&str>, index: usize) -> String {
    match key {
        Some(k) => format!("{collection} {k:?}"),
        None => format!("{collection}[{index}]"),
    }
}

/// A record's key as a string: a non-empty string or an integer.
pub fn key_of(value: &Value, field: &str) -> Option<String> {
    match value.get(field)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

type Loaded<T> = Option<(T, Arc<SourceFile>)>;

fn load_seed_file(
    tree: &Tree,
    rel: &str,
    collection: &str,
    config: &Config,
    known: Option<&KnownCollection>,
) -> (String, Loaded<SeedFile>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let Some(text) = read_text(tree, rel, config.limits.max_file_bytes, &mut diags) else {
        return (rel.to_owned(), None, diags);
    };
    let key_field = config.collections.get(collection).map_or("id", |c| c.key.as_str());
    let mut source = SourceFile::new(rel.to_owned(), text);
    let text = &source.text;
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = de.deserialize_any(EnvelopeVisitor).and_then(|env| de.end().map(|()| env));
    let env = match parsed {
        Ok(env) => env,
        Err(e) => {
            // Re-parse strictly to get our own error (depth, precise syntax message).
            let fatal = match json::parse(text, "", config.limits.max_depth) {
                Err(f) => f,
                Ok(_) => json::Fatal::Syntax { message: e.to_string(), line: e.line(), column_bytes: e.column() },
            };
            let d = fatal_diagnostic(fatal, text, 0, rel);
            diags.push(d);
            let source = Arc::new(source);
            // Its records are unknown: checks that need the whole collection skip it.
            let seed = SeedFile { complete: false, ..empty_seed(collection, rel) };
            return (rel.to_owned(), Some((seed, source)), diags);
        }
    };

    let mut seed = empty_seed(collection, rel);
    for key in &env.duplicates {
        diags.push(Diagnostic::error(Code::DuplicateKey, format!("duplicate key `{key}`")).in_file(rel).at_key(Pointer::root().key(key)));
    }
    for (key, raw) in &env.members {
        let pointer = Pointer::root().key(key);
        let value = match json::parse(raw.get(), pointer.as_str(), config.limits.max_depth - 1) {
            Ok((value, findings)) => {
                diags.extend(findings_to_diags(findings, rel, None));
                value
            }
            Err(fatal) => {
                diags.push(fatal_diagnostic(whole_file_limit(fatal, config), raw.get(), offset_in(text, raw), rel));
                continue;
            }
        };
        let envelope_error = |msg: String| Diagnostic::error(Code::InvalidEnvelope, msg).in_file(rel).at_value(pointer.clone());
        match (key.as_str(), &value) {
            ("$schema", Value::String(s)) => seed.schema_ref = Some(s.clone()),
            ("version", Value::String(s)) => match semver::Version::parse(s) {
                Ok(v) => seed.version = Some(v),
                Err(e) => diags.push(envelope_error(format!("`version` {s:?} is not a semantic version: {e}"))),
            },
            ("updated_at", Value::String(s)) => match s.parse::<jiff::Timestamp>() {
                Ok(_) if is_rfc3339(s) => seed.updated_at = Some(s.clone()),
                _ => diags.push(envelope_error(format!("`updated_at` {s:?} is not an RFC 3339 timestamp"))),
            },
            ("$schema" | "version" | "updated_at", _) => diags.push(envelope_error(format!("`{key}` must be a string"))),
            _ => diags.push(
                Diagnostic::error(Code::InvalidEnvelope, format!("unknown member `{key}` in a seed file"))
                    .in_file(rel)
                    .at_key(pointer)
                    .help("a seed file has `$schema`, `version`, `updated_at` and `data`; records go inside `data`"),
            ),
        }
    }
    for required in ["version", "updated_at"] {
        if !env.members.iter().any(|(k, _)| k == required) {
            diags.push(Diagnostic::error(Code::InvalidEnvelope, format!("seed file has no `{required}`")).in_file(rel).at_value(""));
        }
    }
    let raws = match env.data {
        Some(Ok(raws)) => raws,
        Some(Err(what)) => {
            diags.push(
                Diagnostic::error(Code::InvalidEnvelope, format!("`data` must be an array of records, found {what}"))
                    .in_file(rel)
                    .at_value("/data"),
            );
            seed.complete = false;
            Vec::new()
        }
        None => {
            diags.push(Diagnostic::error(Code::InvalidEnvelope, "seed file has no `data` array").in_file(rel).at_value(""));
            seed.complete = false;
            Vec::new()
        }
    };
    source.records = raws
        .iter()
        .map(|r| {
            let start = offset_in(text, r);
            start..start + r.get().len()
        })
        .collect();

    let max_record = config.limits.max_record_bytes;
    let depth = config.limits.max_depth.saturating_sub(2).max(1);
    type Parsed = (Option<Record>, Vec<Diagnostic>);
    let parse = |index: usize, raw: &RawValue| -> Parsed {
        let digest = known.map(|_| known::raw_digest(raw.get()));
        if let Some((k, j)) = known.zip(digest.as_ref()).and_then(|(k, d)| Some((k, k.find(index, d)?))) {
            let key = Some(k.records[j].key.clone());
            return (Some(Record { index, key, body: Body::Known(j), digest }), Vec::new());
        }
        let pointer = format!("/data/{index}");
        let len = raw.get().len() as u64;
        if len > max_record {
            let d = Diagnostic::error(Code::RecordTooLarge, format!("record is {len} bytes, over the limit of {max_record} bytes"))
                .in_file(rel)
                .at_value(pointer);
            return (None, vec![d]);
        }
        match json::parse(raw.get(), &pointer, depth) {
            Ok((value, findings)) => {
                let key = key_of(&value, key_field);
                let mut diags = Vec::new();
                if !findings.is_empty() {
                    let label = record_label(collection, key.as_deref(), index);
                    diags.extend(findings_to_diags(findings, rel, Some(&label)));
                }
                (Some(Record { index, key, body: Body::Parsed { value, known: None }, digest }), diags)
            }
            Err(fatal) => (None, vec![fatal_diagnostic(whole_file_limit(fatal, config), raw.get(), offset_in(text, raw), rel)]),
        }
    };
    let parsed: Vec<Parsed> = raws.par_iter().enumerate().map(|(index, raw)| parse(index, raw)).collect();
    for (record, record_diags) in parsed {
        diags.extend(record_diags);
        match record {
            Some(r) => seed.records.push(r),
            None => seed.complete = false,
        }
    }
    (rel.to_owned(), Some((seed, Arc::new(source))), diags)
}

fn empty_seed(collection: &str, rel: &str) -> SeedFile {
    SeedFile {
        collection: collection.to_owned(),
        file: rel.to_owned(),
        version: None,
        updated_at: None,
        schema_ref: None,
        records: Vec::new(),
        complete: false,
    }
    .with_complete()
}

impl SeedFile {
    fn with_complete(mut self) -> Self {
        self.complete = true;
        self
    }
}

/// RFC 3339 requires a date, `T` (or `t`/space), a time and an explicit offset; jiff's
/// parser is lenient about some of these, so check the shape too.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':'
        && (s.ends_with(['Z', 'z']) || matches!(b[b.len() - 6], b'+' | b'-'))
}

fn load_pack(tree: &Tree, rel: &str, config: &Config) -> (Loaded<Option<Pack>>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let Some(text) = read_text(tree, rel, config.limits.max_file_bytes, &mut diags) else {
        return (None, diags);
    };
    let source = Arc::new(SourceFile::new(rel.to_owned(), text));
    let (mut value, findings) = match json::parse(&source.text, "", config.limits.max_depth) {
        Ok(parsed) => parsed,
        Err(fatal) => {
            diags.push(fatal_diagnostic(fatal, &source.text, 0, rel));
            return (Some((None, source)), diags);
        }
    };
    let had_findings = !findings.is_empty();
    diags.extend(findings_to_diags(findings, rel, None));
    let Value::Object(map) = &mut value else {
        diags.push(Diagnostic::error(Code::InvalidEnvelope, "a pack must be a JSON object").in_file(rel).at_value(""));
        return (Some((None, source)), diags);
    };
    let schema_ref = match map.remove("$schema") {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let mut field = |name: &str| -> Option<String> {
        match map.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                diags.push(
                    Diagnostic::error(Code::InvalidEnvelope, format!("`{name}` must be a string"))
                        .in_file(rel)
                        .at_value(format!("/{name}")),
                );
                None
            }
            None => {
                diags.push(Diagnostic::error(Code::InvalidEnvelope, format!("pack has no `{name}`")).in_file(rel).at_value(""));
                None
            }
        }
    };
    let (pack_id, version, kind, schema_v) = (field("pack_id"), field("version"), field("kind"), field("pack_schema_v"));
    let (Some(pack_id), Some(version), Some(kind), Some(schema_v)) = (pack_id, version, kind, schema_v) else {
        return (Some((None, source)), diags);
    };
    let version = match semver::Version::parse(&version) {
        Ok(v) => v,
        Err(e) => {
            diags.push(
                Diagnostic::error(Code::InvalidEnvelope, format!("`version` {version:?} is not a semantic version: {e}"))
                    .in_file(rel)
                    .at_value("/version"),
            );
            return (Some((None, source)), diags);
        }
    };
    let expected = rel.trim_start_matches(PACKS_DIR).trim_start_matches('/').trim_end_matches("/pack.json").trim_end_matches(".json");
    if expected != pack_id {
        diags.push(
            Diagnostic::error(Code::PackIdMismatch, format!("pack `{pack_id}` is in a file named for `{expected}`"))
                .in_file(rel)
                .at_value("/pack_id")
                .help(format!("move it to {PACKS_DIR}/{pack_id}.json or change `pack_id`")),
        );
    }
    let _ = config;
    let pack = (!had_findings).then(|| Pack { file: rel.to_owned(), pack_id, version, kind, schema_v, schema_ref, value });
    (Some((pack, source)), diags)
}
