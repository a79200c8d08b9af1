//! The deploy plan, pure: which rows to insert, update and delete, decided by comparing the
//! content hashes stored in the database with the new ones. No I/O, so it is tested on
//! plain values; `store` reads the inputs and applies the result. (The field changes `-v`
//! shows are `fielddiff`'s, the same as `seedc diff`'s.)

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use crate::canon::ContentHash;
use crate::db::sql::StoredCollection;
use rustc_hash::FxBuildHasher;

/// What happens to one collection's table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowDiff {
    /// Indexes into the new records: not in the table yet.
    pub insert: Vec<usize>,
    /// Indexes into the new records: in the table with another hash.
    pub update: Vec<usize>,
    /// Keys in the table that left the seed file, to delete.
    pub delete: Vec<String>,
    /// Keys that left the seed file but stay (`--no-prune`).
    pub kept: Vec<String>,
    pub unchanged: usize,
}

impl RowDiff {
    pub fn writes(&self) -> usize {
        self.insert.len() + self.update.len() + self.delete.len()
    }

    /// Stored keys that left the seed file: deleted, or kept with `--no-prune`; sorted.
    fn gone<'k>(&mut self, keys: impl Iterator<Item = &'k str>, prune: bool) {
        let mut gone: Vec<String> = keys.map(str::to_owned).collect();
        gone.sort();
        if prune {
            self.delete = gone;
        } else {
            self.kept = gone;
        }
    }
}

/// Where the plan of one collection takes the deployed rows from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowSource {
    /// The recorded hash is the new content's: every row is unchanged, and the rows kept by
    /// an earlier `--no-prune` stay. No row is read.
    Recorded { kept: usize },
    /// The database records that the table holds exactly the memo's records: plan from the
    /// memo, read no row.
    Memo,
    /// Read the table's hashes.
    Table,
    /// There is no table yet: every record is an insert.
    Empty,
}

/// Decides where the rows of a collection come from: `recorded` is what seedc.collections
/// says of it, `exists` whether its table exists, `table` and `hash` the new content's, and
/// `memo` the memo's collection hash and record count, if the memo has the collection. The
/// recorded hash is trusted as the no-op proof trusts it; the memo only when the record says
/// the table holds exactly its records (none kept by `--no-prune`).
pub fn row_source(
    recorded: Option<&StoredCollection>,
    exists: bool,
    table: &str,
    hash: ContentHash,
    memo: Option<(ContentHash, usize)>,
    prune: bool,
) -> RowSource {
    if !exists {
        return RowSource::Empty;
    }
    let Some(b) = recorded.filter(|b| b.table == table) else { return RowSource::Table };
    if b.hash == Some(hash) && (b.rows_kept == 0 || !prune) {
        return RowSource::Recorded { kept: b.rows_kept as usize };
    }
    match memo {
        Some((memo_hash, records)) if b.hash == Some(memo_hash) && b.rows_kept == 0 && b.records == records as i64 => RowSource::Memo,
        _ => RowSource::Table,
    }
}

/// Compares the new records (key and hash, in file order) with the stored ones.
pub fn diff_rows<'a, K: Borrow<str> + Eq + Hash, S: BuildHasher>(
    new: impl IntoIterator<Item = (&'a str, ContentHash)>,
    stored: &HashMap<K, ContentHash, S>,
    prune: bool,
) -> RowDiff {
    let mut diff = RowDiff::default();
    let mut seen: HashSet<&str, FxBuildHasher> = HashSet::default();
    for (i, (key, hash)) in new.into_iter().enumerate() {
        // Into an empty table every row is an insert and nothing is gone.
        if stored.is_empty() {
            diff.insert.push(i);
            continue;
        }
        seen.insert(key);
        match stored.get(key) {
            None => diff.insert.push(i),
            Some(old) if *old != hash => diff.update.push(i),
            Some(_) => diff.unchanged += 1,
        }
    }
    diff.gone(stored.keys().map(|k| k.borrow()).filter(|k| !seen.contains(k)), prune);
    diff
}

/// [`diff_rows`] against stored rows known record by record (the deploy memo): `same[i]`
/// is the index in `stored` of a row new record `i` is byte-identical to, so unchanged; only
/// the other records are looked up, by position first, then by key.
pub fn diff_known<'a>(
    new: impl IntoIterator<Item = (&'a str, ContentHash)>,
    same: &[Option<usize>],
    stored: &[(&str, ContentHash)],
    prune: bool,
) -> RowDiff {
    let mut diff = RowDiff::default();
    let mut matched = vec![false; stored.len()];
    let mut by_key: Option<HashMap<&str, usize, FxBuildHasher>> = None;
    for (i, (key, hash)) in new.into_iter().enumerate() {
        let j = match same.get(i).copied().flatten() {
            Some(j) => Some(j),
            None if stored.get(i).is_some_and(|(k, _)| *k == key) => Some(i),
            None => by_key.get_or_insert_with(|| stored.iter().enumerate().map(|(j, (k, _))| (*k, j)).collect()).get(key).copied(),
        };
        match j {
            None => diff.insert.push(i),
            Some(j) => {
                matched[j] = true;
                if stored[j].1 == hash { diff.unchanged += 1 } else { diff.update.push(i) }
            }
        }
    }
    diff.gone(stored.iter().zip(&matched).filter(|(_, m)| !**m).map(|((k, _), _)| *k), prune);
    diff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> ContentHash {
        ContentHash([n; 32])
    }

    #[test]
    fn rows_are_inserted_updated_deleted_or_left_alone() {
        let stored: HashMap<String, ContentHash> =
            [("a", h(1)), ("b", h(2)), ("gone", h(3))].into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let new = [("a", h(1)), ("b", h(9)), ("c", h(4))];
        let diff = diff_rows(new, &stored, true);
        assert_eq!(diff, RowDiff { insert: vec![2], update: vec![1], delete: vec!["gone".into()], kept: vec![], unchanged: 1 });
        assert_eq!(diff.writes(), 3);
        let kept = diff_rows(new, &stored, false);
        assert_eq!((kept.delete.len(), kept.kept), (0, vec!["gone".to_owned()]));
    }

    proptest::proptest! {
        /// Planning from the memo decides exactly what reading the table decides.
        #[test]
        fn known_rows_diff_as_stored_rows_do(
            stored in proptest::collection::btree_map("[a-e]{1,2}", 0u8..3, 0..12),
            new in proptest::collection::btree_map("[a-e]{1,2}", 0u8..3, 0..12),
            shuffle in proptest::collection::vec(proptest::bits::u8::ANY, 12),
            prune in proptest::bool::ANY,
        ) {
            let mut stored: Vec<(&str, ContentHash)> = stored.iter().map(|(k, v)| (k.as_str(), h(*v))).collect();
            let mut new: Vec<(&str, ContentHash)> = new.iter().map(|(k, v)| (k.as_str(), h(*v))).collect();
            // Records move in both the table's order and the file's.
            for (i, r) in shuffle.iter().enumerate() {
                if let n @ 1.. = new.len() {
                    new.swap(i % n, *r as usize % n);
                }
                if let n @ 1.. = stored.len() {
                    stored.swap(*r as usize % n, i % n);
                }
            }
            // Some unchanged records are known by their bytes, as the loader finds them.
            let same: Vec<Option<usize>> = new
                .iter()
                .enumerate()
                .map(|(i, (k, v))| stored.iter().position(|(sk, sv)| sk == k && sv == v).filter(|_| shuffle[i % 12] % 2 == 0))
                .collect();
            let table: HashMap<String, ContentHash> = stored.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
            proptest::prop_assert_eq!(diff_known(new.clone(), &same, &stored, prune), diff_rows(new, &table, prune));
        }
    }

    #[test]
    fn rows_come_from_the_record_the_memo_or_the_table() {
        let stored = |hash: u8, records: i64, rows_kept: i64| StoredCollection {
            table: "enemies".into(),
            version: "1.0.0".into(),
            hash: Some(h(hash)),
            records,
            rows_kept,
        };
        use RowSource::*;
        let cases = [
            // (recorded, exists, new hash, memo, prune) -> source
            (None, false, 1, None, true, Empty),
            (Some(stored(1, 3, 0)), false, 1, None, true, Empty),
            (None, true, 1, Some((h(1), 3)), true, Table),
            (Some(stored(1, 3, 0)), true, 1, None, true, Recorded { kept: 0 }),
            (Some(stored(1, 3, 2)), true, 1, None, false, Recorded { kept: 2 }),
            (Some(stored(1, 3, 2)), true, 1, None, true, Table),
            (Some(stored(1, 3, 0)), true, 2, Some((h(1), 3)), true, Memo),
            (Some(stored(1, 3, 0)), true, 2, Some((h(1), 4)), true, Table),
            (Some(stored(1, 3, 0)), true, 2, Some((h(9), 3)), true, Table),
            (Some(stored(1, 3, 1)), true, 2, Some((h(1), 3)), false, Table),
            (Some(stored(1, 3, 0)), true, 2, None, true, Table),
        ];
        for (recorded, exists, hash, memo, prune, expected) in cases {
            let got = row_source(recorded.as_ref(), exists, "enemies", h(hash), memo, prune);
            assert_eq!(got, expected, "{recorded:?} exists={exists} hash={hash} memo={memo:?} prune={prune}");
        }
        let elsewhere = StoredCollection { table: "foes".into(), ..stored(1, 3, 0) };
        assert_eq!(row_source(Some(&elsewhere), true, "enemies", h(1), None, true), Table, "a table recorded under another name");
    }

    #[test]
    fn unchanged_content_writes_nothing() {
        let stored: HashMap<String, ContentHash> = [("a".to_owned(), h(1))].into();
        assert_eq!(diff_rows([("a", h(1))], &stored, true).writes(), 0);
    }
}
