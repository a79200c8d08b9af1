//! Records already known to be valid: the one index that lets a check skip work it has
//! done before, from the last deploy (decoded from the deploy memo) or from the old side of a
//! diff (`Checked::take_known`).
//!
//! A record whose bytes are identical to a known record's, in a collection checked under
//! the same schemas and the same collection config ([`identity`]), parses to the same value.
//! So it is valid, has that key and those canonical bytes, and names the same keys at its
//! reference paths ([`KnownCollection::refs`]). The loader then does not parse it
//! (`load::Body::Known`); the check takes its verdict, canonical form and references
//! from here and checks those references against the current target keys exactly, so a
//! check that leans on this index reports what a full check reports.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use rustc_hash::FxBuildHasher;

use crate::diag::SourceFile;
use crate::json::canon::{CanonicalRecord, ContentHash};
use crate::json::pointer::Pointer;
use crate::project::config::Config;

/// A BLAKE3 digest of a record's bytes as they stand in its seed file.
pub(crate) type RawDigest = [u8; 32];

pub(crate) fn raw_digest(raw: &str) -> RawDigest {
    *blake3::hash(raw.as_bytes()).as_bytes()
}

/// One string found at a declared reference path of a record: the key it names in the
/// reference's target collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRef {
    /// The reference's position in its collection's `references`.
    pub reference: u32,
    /// Where the string is, as a JSON pointer relative to the record.
    pub pointer: Pointer,
    pub key: String,
}

/// What is known of one valid record.
#[derive(Debug, Clone)]
pub struct KnownRecord {
    pub key: String,
    pub canonical: CanonicalRecord,
}

/// How the bytes of known records are recognised, and where their outgoing references
/// come from.
#[derive(Debug)]
pub enum RecordBytes {
    /// Only a digest of each record's bytes was kept (the deploy memo), and so the keys each
    /// record names at its reference paths, which nothing else could tell.
    Digests { digests: Vec<RawDigest>, refs: RefArena },
    /// The text the records were read from is at hand (the old side of a diff, in memory):
    /// record `i` is `source.text[ranges[i]]`, compared directly, hashed only on demand.
    /// Its references are found again from its canonical bytes, when they are needed at
    /// all: a diff parses every record of its new side, so they never are there.
    Text { source: Arc<SourceFile>, ranges: Vec<Range<usize>> },
}

/// The outgoing references of every record of a collection, in one arena: one string for
/// all their pointers and keys instead of two allocations per reference.
#[derive(Debug, Clone, Default)]
pub struct RefArena {
    text: String,
    /// Per reference: its position in the collection's `references`, and where its pointer
    /// and key end in `text` (each starts where the one before it ends).
    refs: Vec<(u32, u32, u32)>,
    /// Per record, where its references end in `refs`.
    ends: Vec<u32>,
}

impl RefArena {
    /// Adds one outgoing reference to the record being added. None once the arena is
    /// beyond what its offsets can count (4 GiB of text).
    pub fn push(&mut self, reference: u32, pointer: &str, key: &str) -> Option<()> {
        self.push_with(reference, &|out: &mut String| out.push_str(pointer), key)
    }

    /// [`push`](Self::push), with the pointer written by `pointer` straight into the arena.
    pub fn push_with(&mut self, reference: u32, pointer: &dyn Fn(&mut String), key: &str) -> Option<()> {
        pointer(&mut self.text);
        let pointer_end = u32::try_from(self.text.len()).ok()?;
        self.text.push_str(key);
        let key_end = u32::try_from(self.text.len()).ok()?;
        self.refs.push((reference, pointer_end, key_end));
        Some(())
    }

    /// Ends the record being added: the references pushed since the last one are its.
    pub fn end_record(&mut self) -> Option<()> {
        self.ends.push(u32::try_from(self.refs.len()).ok()?);
        Some(())
    }

    /// Empties it, keeping its room.
    pub fn clear(&mut self) {
        self.text.clear();
        self.refs.clear();
        self.ends.clear();
    }

    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Record `j`'s references: position in `references`, pointer, key.
    pub fn record(&self, j: usize) -> impl Iterator<Item = (u32, &str, &str)> {
        let start = if j == 0 { 0 } else { self.ends[j - 1] as usize };
        let end = self.ends[j] as usize;
        let text_at = |i: usize| if i == 0 { 0 } else { self.refs[i - 1].2 as usize };
        (start..end).map(move |i| {
            let (reference, pointer_end, key_end) = self.refs[i];
            let begin = text_at(i);
            (reference, &self.text[begin..pointer_end as usize], &self.text[pointer_end as usize..key_end as usize])
        })
    }
}

/// The known records of one collection.
#[derive(Debug)]
pub struct KnownCollection {
    /// The collection config they were checked under (see [`identity`]).
    pub identity: ContentHash,
    /// The collection's content hash at the time.
    pub hash: ContentHash,
    pub records: Vec<KnownRecord>,
    /// The bytes of each record of `records`, as they stood in the seed file.
    bytes: RecordBytes,
    by_digest: OnceLock<HashMap<RawDigest, usize, FxBuildHasher>>,
    by_key: OnceLock<HashMap<String, usize, FxBuildHasher>>,
}

impl KnownCollection {
    /// `bytes` must describe exactly `records`, in order.
    pub fn new(identity: ContentHash, hash: ContentHash, records: Vec<KnownRecord>, bytes: RecordBytes) -> Self {
        debug_assert!(match &bytes {
            RecordBytes::Digests { digests, refs } => digests.len() == records.len() && refs.len() == records.len(),
            RecordBytes::Text { ranges, .. } => ranges.len() == records.len(),
        });
        KnownCollection { identity, hash, records, bytes, by_digest: OnceLock::new(), by_key: OnceLock::new() }
    }

    /// The digest of known record `j`'s bytes.
    pub fn digest(&self, j: usize) -> RawDigest {
        match &self.bytes {
            RecordBytes::Digests { digests, .. } => digests[j],
            RecordBytes::Text { source, ranges } => raw_digest(&source.text[ranges[j].clone()]),
        }
    }

    /// The keys known record `j` names at its collection's reference paths, in walk order
    /// (position in `references`, pointer, key), when the index kept them; None when they
    /// are to be found again in its canonical bytes.
    pub fn refs(&self, j: usize) -> Option<impl Iterator<Item = (u32, &str, &str)>> {
        match &self.bytes {
            RecordBytes::Digests { refs, .. } => Some(refs.record(j)),
            RecordBytes::Text { .. } => None,
        }
    }

    /// The known record with exactly these bytes, given only their digest: looked for
    /// first at the same position (most records keep their place), then anywhere.
    pub fn find(&self, index: usize, digest: &RawDigest) -> Option<usize> {
        if index < self.records.len() && self.digest(index) == *digest {
            return Some(index);
        }
        let by_digest = self.by_digest.get_or_init(|| (0..self.records.len()).into_par_iter().map(|j| (self.digest(j), j)).collect());
        by_digest.get(digest).copied()
    }

    /// The known record with exactly the bytes `raw`, of a record whose key is `key`. When
    /// the known bytes are at hand they are compared, and nothing is hashed: a record with
    /// identical bytes has the same key, and keys are unique in a clean check.
    pub fn find_bytes(&self, index: usize, key: &str, raw: &str) -> Option<usize> {
        let RecordBytes::Text { source, ranges } = &self.bytes else {
            return self.find(index, &raw_digest(raw));
        };
        let same = |j: usize| source.text.get(ranges[j].clone()) == Some(raw);
        if index < self.records.len() && same(index) {
            return Some(index);
        }
        let by_key = self.by_key.get_or_init(|| self.records.iter().enumerate().map(|(j, r)| (r.key.clone(), j)).collect());
        by_key.get(key).copied().filter(|j| same(*j))
    }
}

/// Records known to be valid, per collection, under one set of schema documents.
#[derive(Debug)]
pub struct Known {
    /// The fingerprint of every schema document the records were validated against.
    pub schemas_fingerprint: ContentHash,
    pub collections: BTreeMap<String, KnownCollection>,
}

impl Known {
    /// The known records of `collection` that stand for records of a check under `config`
    /// and schemas `schemas_fingerprint`: the one reuse predicate. None when anything they
    /// were checked under differs.
    pub fn applicable(&self, collection: &str, config: &Config, schemas_fingerprint: ContentHash) -> Option<&KnownCollection> {
        if self.schemas_fingerprint != schemas_fingerprint {
            return None;
        }
        let known = self.collections.get(collection)?;
        (Some(known.identity) == identity(config, collection)).then_some(known)
    }
}

/// What a record's verdict depends on besides its bytes and the schema documents: its
/// collection's schema, key field and references, and the size and depth limits.
pub(crate) fn identity(config: &Config, collection: &str) -> Option<ContentHash> {
    let c = config.collections.get(collection)?;
    let mut text = format!("{}\0{}\0{}\0{}\0", c.schema, c.key, config.limits.max_record_bytes, config.limits.max_depth);
    for r in &c.references {
        text.push_str(&format!("{}\0{}\0", r.path, r.collection));
    }
    Some(ContentHash::of(text.as_bytes()))
}
