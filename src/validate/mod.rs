//! Stage 2, validate: everything `seedc check` verifies after loading. Each check takes the
//! loaded content and returns diagnostics; none of them stops the others.
//!
//! - [`schemas`]: compiles the JSON Schemas named in seedc.toml, once each
//! - [`records`]: each record against its collection schema, unique keys, size
//! - [`references`]: declared references between collections
//! - [`packs`]: `pack_schema_v` compatibility and each pack against its schema
//! - [`versions`]: version discipline against seedc.lock

pub mod packs;
pub mod records;
pub mod references;
pub mod schemas;
pub mod versions;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::check::Checked;
use crate::config::Config;
use crate::load::{Content, Record, SeedFile, SourceFile};

/// What a check may take from a prior check that found no error (`seedc diff` checks the
/// old side first and the new side against it): a record byte-identical to one of the
/// prior's parses to the same value, so under the same schemas it is valid, its canonical
/// bytes are the ones the prior made, and its references resolve as long as no key they
/// could name has gone from the target collection.
pub struct Reuse<'p> {
    pub prior: &'p Checked,
    /// Per collection, for each record: the index of the byte-identical prior record.
    same: BTreeMap<String, Vec<Option<usize>>>,
    /// Collections whose record schema is the prior's: every schema document is identical
    /// and the collection names the same one.
    same_schema: BTreeSet<String>,
}

impl<'p> Reuse<'p> {
    /// Matches the records of `content` with the prior's, by key and then by bytes (or, for
    /// content loaded with a memo, as the loader matched them: `prior` is then the memo).
    pub fn new(prior: &'p Checked, config: &Config, content: &Content, schemas_fingerprint: crate::canon::ContentHash) -> Self {
        let same = content
            .seeds
            .par_iter()
            .filter_map(|(name, seed)| {
                // Records the loader matched with a memo by their bytes (see `memo`).
                if !seed.elided.is_empty() {
                    return Some((name.clone(), seed.elided.clone()));
                }
                let old = prior.content.seeds.get(name)?;
                let (old_source, new_source) = (prior.content.sources.get(&old.file)?, content.sources.get(&seed.file)?);
                Some((name.clone(), identical((old, old_source), (seed, new_source))))
            })
            .collect();
        let same_schema = if prior.schemas_fingerprint == schemas_fingerprint {
            config
                .collections
                .iter()
                .filter(|(name, c)| prior.config.collections.get(*name).is_some_and(|p| p.schema == c.schema && p.key == c.key))
                .map(|(name, _)| name.clone())
                .collect()
        } else {
            BTreeSet::new()
        };
        Reuse { prior, same, same_schema }
    }

    /// For each record of `collection` (in `records`), the index of the byte-identical prior
    /// record; empty when the prior has no such collection.
    pub fn same(&self, collection: &str) -> &[Option<usize>] {
        self.same.get(collection).map_or(&[], Vec::as_slice)
    }

    /// [`Reuse::same`], where it also proves the records satisfy their schema: only when
    /// the collection's schema is the prior's.
    pub fn valid(&self, collection: &str) -> &[Option<usize>] {
        if self.same_schema.contains(collection) { self.same(collection) } else { &[] }
    }
}

/// Whether record `i` has a byte-identical prior record, in a slice from [`Reuse::same`].
pub fn reused(same: &[Option<usize>], i: usize) -> Option<usize> {
    same.get(i).copied().flatten()
}

/// For each new record, the index of the old record with the same key and the same bytes.
fn identical(old: (&SeedFile, &SourceFile), new: (&SeedFile, &SourceFile)) -> Vec<Option<usize>> {
    fn raw<'f>(file: &'f SourceFile, r: &Record) -> Option<&'f str> {
        file.records.get(r.index).and_then(|range| file.text.get(range.clone()))
    }
    // Most records keep their place: look them up by key only when they moved.
    let by_key: OnceLock<HashMap<&str, usize, rustc_hash::FxBuildHasher>> = OnceLock::new();
    let index = || old.0.records.iter().enumerate().filter_map(|(j, r)| Some((r.key.as_deref()?, j))).collect();
    new.0
        .records
        .par_iter()
        .enumerate()
        .map(|(i, r)| {
            let key = r.key.as_deref()?;
            let j = match old.0.records.get(i) {
                Some(o) if o.key.as_deref() == Some(key) => i,
                _ => *by_key.get_or_init(index).get(key)?,
            };
            let before = raw(old.1, &old.0.records[j])?;
            (Some(before) == raw(new.1, r)).then_some(j)
        })
        .collect()
}

/// Edit distance, for "did you mean" hints on short names.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The closest candidate within a third of the name's length, if any.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates.into_iter().map(|c| (levenshtein(name, c), c)).filter(|(d, _)| *d <= limit).min().map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_or_absent() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(did_you_mean("hpp", ["hp", "attack"]), Some("hp"));
        assert_eq!(did_you_mean("rusty_swrd", ["rusty_sword", "iron_sword"]), Some("rusty_sword"));
        assert_eq!(did_you_mean("zzz", ["hp", "attack"]), None);
    }
}
