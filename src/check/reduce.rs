//! What a check does with a seed file's values while the file is read ([`load::Reduce`]):
//! its schema check, its outgoing references and its hash, a run of records at a time on
//! the core that parsed them; what is left of the records is their keys and references.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{Finder, Hashes, Keep, record_key};
use crate::diag::Diagnostic;
use crate::json::canon::{self, CanonicalParts, CanonicalRecord, ContentHash};
use crate::load::known::RefArena;
use crate::load::{self, Body};
use crate::project::config::Config;
use crate::project::lock::{Lock, LockedCollection, LockedText, TextPrint};
use crate::validate::{self, schemas::Schemas};

/// What [`finish`] would do with a collection's values, done while its file is read
/// ([`load::Reduce`]): its schema check, its outgoing references and its hash. Key checks,
/// reference checks and everything else need only what is left, and stay in `finish`.
pub(super) struct Reducer<'a> {
    pub(super) config: &'a Config,
    pub(super) lock: &'a Lock,
    pub(super) schemas: &'a Schemas,
    pub(super) hashes: Hashes,
    /// What is kept of the collections reduced so far.
    pub(super) reduced: Mutex<Reduced>,
    pub(super) keep: Keep,
    /// Keep each file's text ([`load::Reduce::keeps_text`]).
    pub(super) text: bool,
}

/// What [`Reducer`] keeps of the collections reduced so far: their hashes (and those of
/// [`HashVersion::Whole`](canon::HashVersion::Whole) a lock of that definition is compared with), and with
/// [`Keep::records`] their records' canonical forms.
#[derive(Default)]
pub(super) struct Reduced {
    pub(super) hashes: BTreeMap<String, ContentHash>,
    pub(super) whole: BTreeMap<String, ContentHash>,
    pub(super) records: BTreeMap<String, Vec<CanonicalRecord>>,
}

impl Reducer<'_> {
    /// Whether `collection` is also hashed as [`HashVersion::Whole`](canon::HashVersion::Whole)
    /// defines it: its lock is
    /// of that definition and pins it.
    fn whole(&self, collection: &str) -> bool {
        super::wants_whole(self.lock, collection)
    }

    /// What seedc.lock says of the text `collection`'s hash was taken from, where a check
    /// may take that hash from the lock: one of the current definition, that pins the text,
    /// for a check that wants the hash alone (not each record's canonical form).
    fn locked_text(&self, collection: &str) -> Option<(&LockedCollection, &LockedText)> {
        if self.keep.records || self.lock.hash_version() != canon::HashVersion::CURRENT || !self.hashes.wants(self.lock, collection) {
            return None;
        }
        let locked = self.lock.collections.get(collection)?;
        Some((locked, locked.text.as_ref()?))
    }
}

impl load::Reduce for Reducer<'_> {
    fn writes(&self, collection: &str) -> Option<load::Written> {
        if !self.hashes.wants(self.lock, collection) {
            return None;
        }
        Some(if self.keep.records {
            load::Written::Records(Vec::new())
        } else if self.whole(collection) {
            // Ordered by key only once the file has ended: every canonical record is held.
            load::Written::Parts(CanonicalParts::default())
        } else {
            // 32 bytes a record, whatever its size.
            load::Written::Hashes(Vec::new())
        })
    }

    fn keeps_text(&self) -> bool {
        self.text
    }

    fn run(
        &self,
        run: load::Run,
        records: &mut [load::Record],
        scratch: &mut RefArena,
    ) -> (Vec<Diagnostic>, Option<load::Written>, RefArena) {
        let diags = validate::records::run_against_schema(run.collection, run.file, records, self.schemas);
        let values = || records.iter().filter_map(load::Record::value);
        let written = run.hashed.then(|| {
            if self.keep.records {
                load::Written::Records(values().map(CanonicalRecord::of).collect())
            } else if self.whole(run.collection) {
                let mut parts = CanonicalParts::default();
                values().for_each(|v| parts.push(v));
                load::Written::Parts(parts)
            } else {
                let mut scratch = Vec::new();
                load::Written::Hashes(values().map(|v| canon::hash_value_in(v, &mut scratch)).collect())
            }
        });
        let Some(c) = self.config.collections.get(run.collection) else { return (diags, written, RefArena::default()) };
        // Beyond what an arena's offsets can count (never, in files under 4 GiB), the
        // records stay parsed, and are checked from their values.
        let Some(arena) = Finder::new(c, None).arena(records, scratch) else { return (diags, written, RefArena::default()) };
        // Their values are dropped here, by the core that made them (freeing them is a
        // tenth of the work).
        for (i, r) in records.iter_mut().enumerate() {
            r.body = Body::Reduced(load::RefsAt { arena: run.arena, record: i });
        }
        (diags, written, arena)
    }

    fn vouched_len(&self, collection: &str) -> Option<u64> {
        Some(self.locked_text(collection)?.1.bytes)
    }

    fn vouches(&self, collection: &str, print: &TextPrint) -> bool {
        let (Some((locked, text)), Some(c)) = (self.locked_text(collection), self.config.collections.get(collection)) else { return false };
        *text == LockedText::of(print, &c.key, &locked.hash)
    }

    fn file(&self, seed: &load::SeedFile, written: Option<load::Written>) {
        let Some(written) = written.filter(|_| seed.is_hashable()) else { return };
        let keys = || seed.records.iter().map(record_key);
        let whole = self.whole(&seed.collection);
        let (hash, whole, kept) = match written {
            load::Written::Vouched => match self.lock.collections.get(&seed.collection) {
                Some(locked) => (locked.hash, None, None),
                None => return,
            },
            load::Written::Hashes(hashes) => {
                debug_assert_eq!(hashes.len(), seed.records.len(), "a hash for every record");
                (canon::hash_of_record_hashes(keys().zip(&hashes)), None, None)
            }
            load::Written::Parts(parts) => {
                debug_assert_eq!(parts.len(), seed.records.len(), "a canonical form for every record");
                let hashes: Vec<ContentHash> = parts.iter().map(ContentHash::of).collect();
                let whole = canon::hash_canonical_bytes_whole(keys().zip(parts.iter()));
                (canon::hash_of_record_hashes(keys().zip(&hashes)), Some(whole), None)
            }
            load::Written::Records(records) => {
                debug_assert_eq!(records.len(), seed.records.len(), "a canonical form for every record");
                let whole = whole.then(|| canon::hash_canonical_collection_whole(keys().zip(&records)));
                (canon::hash_canonical_collection(keys().zip(&records)), whole, Some(records))
            }
        };
        let mut reduced = self.reduced.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        reduced.hashes.insert(seed.collection.clone(), hash);
        if let Some(whole) = whole {
            reduced.whole.insert(seed.collection.clone(), whole);
        }
        if let Some(kept) = kept {
            reduced.records.insert(seed.collection.clone(), kept);
        }
    }
}
