//! A seed file's records and envelope members, whichever path reads the file (`seed`, whole;
//! `stream`, a block at a time): each record parsed strictly from its own text, blocks of
//! them parsed and reduced a run per core, the envelope's members checked.

use rayon::prelude::*;
use serde_json::Value;

use super::file::{fatal_diagnostic, findings_to_diags, whole_file_limit};
use super::{Body, REDUCE_RUN, Record, Reduce, Run, SeedFile, Written, json, key_of, record_label};
use crate::diag::{Code, Diagnostic};
use crate::json::pointer::Pointer;
use crate::load::known::{self, KnownCollection, RefArena};
use crate::project::config::Config;

/// The envelope's members other than `data` (name, raw text, offset in the file): each
/// checked, and those that are known set on `seed`; then the ones that must be there.
pub(super) fn envelope_members(
    members: &[(&str, &str, usize)],
    rel: &str,
    config: &Config,
    seed: &mut SeedFile,
    diags: &mut Vec<Diagnostic>,
) {
    for &(key, raw, offset) in members {
        let pointer = Pointer::root().key(key);
        let value = match json::parse(raw, pointer.as_str(), config.limits.max_depth - 1) {
            Ok((value, findings)) => {
                diags.extend(findings_to_diags(findings, rel, None));
                value
            }
            Err(fatal) => {
                diags.push(fatal_diagnostic(whole_file_limit(fatal, config), raw, offset, rel));
                continue;
            }
        };
        let envelope_error = |msg: String| Diagnostic::error(Code::InvalidEnvelope, msg).in_file(rel).at_value(pointer.clone());
        match (key, &value) {
            ("$schema", Value::String(s)) => seed.schema_ref = Some(s.clone()),
            ("version", Value::String(s)) => match semver::Version::parse(s) {
                Ok(v) => seed.version = Some(v),
                Err(e) => diags.push(envelope_error(format!("`version` {s:?} is not a semantic version: {e}"))),
            },
            ("updated_at", Value::String(s)) => match super::time::parse_rfc3339(s) {
                Some(_) => seed.updated_at = Some(s.clone()),
                None => diags.push(envelope_error(format!("`updated_at` {s:?} is not an RFC 3339 timestamp"))),
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
        if !members.iter().any(|(k, _, _)| *k == required) {
            diags.push(Diagnostic::error(Code::InvalidEnvelope, format!("seed file has no `{required}`")).in_file(rel).at_value(""));
        }
    }
}

/// A record parsed, or None (its diagnostic says why: too large, or not JSON), with the
/// diagnostics of its parse.
pub(super) type Parsed = (Option<Record>, Vec<Diagnostic>);

/// How one seed file's records are parsed: strictly, each from its own slice.
pub(super) struct RecordParser<'a> {
    pub(super) rel: &'a str,
    pub(super) collection: &'a str,
    pub(super) config: &'a Config,
    key_field: &'a str,
    /// The memo's records: each record's bytes are digested to be looked up in it (only
    /// then; a deploy with no memo digests the records it memoizes after deciding, from the
    /// file read again, and one that writes no memo never does).
    known: Option<&'a KnownCollection>,
}

impl<'a> RecordParser<'a> {
    pub(super) fn new(rel: &'a str, collection: &'a str, config: &'a Config, known: Option<&'a KnownCollection>) -> Self {
        let key_field = config.collections.get(collection).map_or("id", |c| c.key.as_str());
        RecordParser { rel, collection, config, key_field, known }
    }

    /// Record `index` of the file, whose text `raw` starts at byte `offset` of it.
    pub(super) fn parse(&self, index: usize, raw: &str, offset: usize) -> Parsed {
        let (rel, limits) = (self.rel, &self.config.limits);
        let digest = self.known.is_some().then(|| known::raw_digest(raw));
        if let Some((k, j)) = self.known.zip(digest.as_ref()).and_then(|(k, d)| Some((k, k.find(index, d)?))) {
            let key = Some(k.records[j].key.clone());
            return (Some(Record { index, key, body: Body::Known(j), digest }), Vec::new());
        }
        let pointer = format!("/data/{index}");
        let len = raw.len() as u64;
        if len > limits.max_record_bytes {
            let max = limits.max_record_bytes;
            let d = Diagnostic::error(Code::RecordTooLarge, format!("record is {len} bytes, over the limit of {max} bytes"))
                .in_file(rel)
                .at_value(pointer);
            return (None, vec![d]);
        }
        match json::parse(raw, &pointer, limits.max_depth.saturating_sub(2).max(1)) {
            Ok((value, findings)) => {
                let key = key_of(&value, self.key_field);
                let mut diags = Vec::new();
                if !findings.is_empty() {
                    let label = record_label(self.collection, key.as_deref(), index);
                    diags.extend(findings_to_diags(findings, rel, Some(&label)));
                }
                (Some(Record { index, key, body: Body::Parsed { value, known: None }, digest }), diags)
            }
            Err(fatal) => (None, vec![fatal_diagnostic(whole_file_limit(fatal, self.config), raw, offset, rel)]),
        }
    }
}

pub(super) fn add(parsed: Vec<Parsed>, seed: &mut SeedFile, diags: &mut Vec<Diagnostic>) {
    for (record, record_diags) in parsed {
        diags.extend(record_diags);
        match record {
            Some(r) => seed.records.push(r),
            None => seed.complete = false,
        }
    }
}

/// Records per block of a reduced file: a block per core at a time, enough records to
/// share out, few enough that their parsed values (several times their text) stay small.
pub(super) fn reduce_block_len() -> usize {
    REDUCE_BLOCK * rayon::current_num_threads().max(1)
}

/// A block of a reduced file's records: the text and offset of each, from record `first`.
pub(super) struct Block<'a> {
    pub(super) first: usize,
    pub(super) raws: &'a [(&'a str, usize)],
}

/// Parses a block of records on every core, a run at a time, each run validated, hashed
/// and reduced by `reduce` on the core that parsed it. False when a record could not be
/// parsed (its diagnostic says why).
pub(super) fn reduce_block(
    parser: &RecordParser,
    reduce: &dyn Reduce,
    block: Block,
    seed: &mut SeedFile,
    parts: Option<&mut Written>,
    refs: &mut Vec<RefArena>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let first_arena = refs.len();
    let hashed = parts.is_some();
    type Reduced = (Vec<Record>, Vec<Diagnostic>, Option<Written>, RefArena, bool);
    let runs: Vec<Reduced> = block
        .raws
        .par_chunks(REDUCE_RUN)
        .enumerate()
        .map_init(RefArena::default, |scratch, (r, raws)| {
            let (mut records, mut diags, mut all) = (Vec::with_capacity(raws.len()), Vec::new(), true);
            for (i, &(raw, offset)) in raws.iter().enumerate() {
                let (record, record_diags) = parser.parse(block.first + r * REDUCE_RUN + i, raw, offset);
                diags.extend(record_diags);
                match record {
                    Some(record) => records.push(record),
                    None => all = false,
                }
            }
            let run = Run { collection: parser.collection, file: parser.rel, hashed, arena: first_arena + r };
            let (reduce_diags, written, arena) = reduce.run(run, &mut records, scratch);
            diags.extend(reduce_diags);
            (records, diags, written, arena, all)
        })
        .collect();
    let mut all = true;
    let mut parts = parts;
    for (records, run_diags, written, arena, run_all) in runs {
        seed.records.extend(records);
        seed.complete &= run_all;
        all &= run_all;
        diags.extend(run_diags);
        if let Some((parts, written)) = parts.as_deref_mut().zip(written) {
            parts.append(written);
        }
        refs.push(arena);
    }
    all
}

/// Records per core in a block of a reduced file ([`Reduce`]).
const REDUCE_BLOCK: usize = 512;

pub(super) fn empty_seed(collection: &str, rel: &str) -> SeedFile {
    SeedFile {
        collection: collection.to_owned(),
        file: rel.to_owned(),
        version: None,
        updated_at: None,
        schema_ref: None,
        records: Vec::new(),
        complete: false,
        reduced: None,
        print: None,
    }
    .with_complete()
}

impl SeedFile {
    fn with_complete(mut self) -> Self {
        self.complete = true;
        self
    }
}
