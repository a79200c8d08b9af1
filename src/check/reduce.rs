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
use crate::project::lock::Lock;
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
}

/// What [`Reducer`] keeps of the collections reduced so far: their hashes, and with
/// [`Keep::records`] their records' canonical forms.
#[derive(Default)]
pub(super) struct Reduced {
    pub(super) hashes: BTreeMap<String, ContentHash>,
    pub(super) records: BTreeMap<String, Vec<CanonicalRecord>>,
}

impl load::Reduce for Reducer<'_> {
    fn hashes(&self, collection: &str) -> bool {
        self.hashes.wants(self.lock, collection)
    }

    fn keeps(&self) -> bool {
        self.keep.records
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
            } else {
                let mut parts = CanonicalParts::default();
                values().for_each(|v| parts.push(v));
                load::Written::Parts(parts)
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

    fn file(&self, seed: &load::SeedFile, written: Option<load::Written>) {
        let Some(written) = written.filter(|_| seed.is_hashable()) else { return };
        let keys = seed.records.iter().map(record_key);
        let (hash, kept) = match written {
            load::Written::Parts(parts) => {
                debug_assert_eq!(parts.len(), seed.records.len(), "a canonical form for every record");
                (canon::hash_canonical_bytes(keys.zip(parts.iter())), None)
            }
            load::Written::Records(records) => {
                debug_assert_eq!(records.len(), seed.records.len(), "a canonical form for every record");
                (canon::hash_canonical_collection(keys.zip(&records)), Some(records))
            }
        };
        let mut reduced = self.reduced.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        reduced.hashes.insert(seed.collection.clone(), hash);
        if let Some(kept) = kept {
            reduced.records.insert(seed.collection.clone(), kept);
        }
    }
}
