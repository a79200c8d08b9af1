//! The row comparisons of a plan, pure: which rows to insert, update and delete, decided by
//! comparing the content hashes stored in the database with the new ones, or, for a
//! collection written outside seedc (drift), the stored data itself. No I/O, so it is tested
//! on plain values; [`super::inspect`] reads the inputs and [`super::decide`] plans with
//! them. (The field changes `-v` shows are `fielddiff`'s, the same as `seedc diff`'s.)

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use crate::db::StoredCollection;
use crate::json::canon::ContentHash;
use rustc_hash::FxBuildHasher;

/// What happens to one collection's table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RowDiff {
    /// Indexes into the new records: not in the table yet.
    pub insert: Vec<usize>,
    /// Indexes into the new records: in the table with another hash.
    pub update: Vec<usize>,
    /// Keys in the table that left the seed file, to delete.
    pub delete: Vec<String>,
    /// Keys that left the seed file but stay (`--no-prune`).
    pub kept: Vec<String>,
    pub unchanged: usize,
    /// Keys (sorted) whose write or keep is a repair of drift, not a change of the seeds:
    /// a row edited, deleted or added outside seedc.
    pub drifted: Vec<String>,
}

impl RowDiff {
    pub(crate) fn writes(&self) -> usize {
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
pub(crate) enum RowSource {
    /// The recorded hash is the new content's: every row is unchanged, and the rows kept by
    /// an earlier `--no-prune` stay. No row is read.
    Recorded { kept: usize },
    /// The database records that the table holds exactly the memo's records: plan from the
    /// memo, read no row.
    Memo,
    /// Read the table's hashes.
    Table,
    /// The table was written outside seedc (or `status --full` asks): read every row's data
    /// and compare it, not only its hash.
    Stored,
    /// There is no table yet: every record is an insert.
    Empty,
}

/// Which rows drift is compared on, as deploy and `status` both decide it: the keys the
/// drift triggers named (only those rows are read), or, when they could not name them or
/// `--full` asks, the whole table (`drifted`, [`RowSource::Stored`]).
pub(crate) fn drift_scope(keys: Option<Option<&[String]>>, exists: bool, full: bool) -> (Option<&[String]>, bool) {
    let named = keys.flatten().filter(|_| exists && !full);
    let drifted = (keys.is_some() || full) && named.is_none();
    (named, drifted)
}

/// Decides where the rows of a collection come from: `recorded` is what seedc.collections
/// says of it, `exists` whether its table exists, `table` and `hash` the new content's, and
/// `memo` the memo's collection hash and record count, if the memo has the collection. The
/// recorded hash is trusted as the no-op proof trusts it; the memo only when the record says
/// the table holds exactly its records (none kept by `--no-prune`). Neither is trusted for a
/// table that `drifted` (its triggers noted a write outside seedc): its data is compared.
pub(crate) fn row_source(
    recorded: Option<&StoredCollection>,
    exists: bool,
    drifted: bool,
    table: &str,
    hash: ContentHash,
    memo: Option<(ContentHash, usize)>,
    prune: bool,
) -> RowSource {
    if !exists {
        return RowSource::Empty;
    }
    if drifted {
        return RowSource::Stored;
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
pub(crate) fn diff_rows<'a, K: Borrow<str> + Eq + Hash, S: BuildHasher>(
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

/// What is known of a drifted table's writes outside seedc, to tell drift from the seeds'
/// own changes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Drift<'a> {
    /// The keys the drift triggers noted; None when unknown (too many, a TRUNCATE, or
    /// `status --full` with no marker).
    pub keys: Option<&'a HashSet<String, FxBuildHasher>>,
    /// The seeds' collection hash is the one recorded: every difference is drift.
    pub seeds_unchanged: bool,
    /// The record says an earlier `--no-prune` kept rows: rows not in the seeds may be those.
    pub kept_before: bool,
}

/// A stored row reduced to what the comparison needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoredHashes {
    /// Its `content_hash` column (None: does not parse).
    pub column: Option<ContentHash>,
    /// The content hash of its `data` column, computed from the data.
    pub data: ContentHash,
}

/// [`diff_rows`] from the stored data: a row is unchanged only when both its data and its
/// hash column are the new record's. A row whose data no longer matches its own hash column
/// was edited outside seedc; so was any row the triggers named, and every difference in a
/// collection whose seeds did not change.
pub(crate) fn diff_stored<'a, S: BuildHasher>(
    new: impl IntoIterator<Item = (&'a str, ContentHash)>,
    stored: &HashMap<String, StoredHashes, S>,
    drift: Drift,
    prune: bool,
) -> RowDiff {
    let mut diff = RowDiff::default();
    let named = |key: &str| drift.keys.is_some_and(|k| k.contains(key));
    let mut seen: HashSet<&str, FxBuildHasher> = HashSet::default();
    for (i, (key, hash)) in new.into_iter().enumerate() {
        seen.insert(key);
        match stored.get(key) {
            None => {
                diff.insert.push(i);
                if drift.seeds_unchanged || named(key) {
                    diff.drifted.push(key.to_owned());
                }
            }
            Some(row) if row.data == hash && row.column == Some(hash) => diff.unchanged += 1,
            Some(row) => {
                diff.update.push(i);
                if drift.seeds_unchanged || named(key) || row.column != Some(row.data) {
                    diff.drifted.push(key.to_owned());
                }
            }
        }
    }
    let gone: Vec<&str> = stored.keys().map(String::as_str).filter(|k| !seen.contains(k)).collect();
    let foreign = |key: &str| match drift.keys {
        Some(_) => named(key),
        None => drift.seeds_unchanged && !drift.kept_before,
    };
    diff.drifted.extend(gone.iter().filter(|k| foreign(k)).map(|k| (*k).to_owned()));
    diff.drifted.sort();
    diff.gone(gone.into_iter(), prune);
    diff
}

/// A drifted table whose triggers named the keys written outside seedc: `base` is the diff
/// of every row as if nothing had drifted (from the record, the memo or the hashes), and
/// only the named rows are compared by their data (`stored`: those of them that exist), so
/// a repair costs what the drift is, not what the table is. Every named row that differs is
/// drift.
pub(crate) fn overlay_named<S: BuildHasher, T: BuildHasher>(
    mut base: RowDiff,
    new: &[(&str, ContentHash)],
    named: &HashSet<String, S>,
    stored: &HashMap<String, StoredHashes, T>,
    prune: bool,
) -> RowDiff {
    let (insert, update): (HashSet<usize>, HashSet<usize>) = (base.insert.iter().copied().collect(), base.update.iter().copied().collect());
    let mine: Vec<usize> = (0..new.len()).filter(|i| named.contains(new[*i].0)).collect();
    for i in &mine {
        if !insert.contains(i) && !update.contains(i) {
            base.unchanged = base.unchanged.saturating_sub(1);
        }
    }
    base.insert.retain(|i| !named.contains(new[*i].0));
    base.update.retain(|i| !named.contains(new[*i].0));
    base.delete.retain(|k| !named.contains(k));
    base.kept.retain(|k| !named.contains(k));
    let mut seen: HashSet<&str, FxBuildHasher> = HashSet::default();
    for i in mine {
        let (key, hash) = new[i];
        seen.insert(key);
        match stored.get(key) {
            Some(row) if row.data == hash && row.column == Some(hash) => base.unchanged += 1,
            Some(_) => base.update.push(i),
            None => base.insert.push(i),
        }
        if stored.get(key).is_none_or(|row| row.data != hash || row.column != Some(hash)) {
            base.drifted.push(key.to_owned());
        }
    }
    let mut foreign: Vec<String> = stored.keys().filter(|k| !seen.contains(k.as_str())).cloned().collect();
    base.drifted.extend(foreign.iter().cloned());
    if prune {
        base.delete.append(&mut foreign)
    } else {
        base.kept.append(&mut foreign)
    }
    base.insert.sort_unstable();
    base.update.sort_unstable();
    base.delete.sort();
    base.kept.sort();
    base.drifted.sort();
    base
}

/// [`diff_rows`] against stored rows known record by record (the deploy memo): `same[i]`
/// is the index in `stored` of a row new record `i` is byte-identical to, so unchanged; only
/// the other records are looked up, by position first, then by key.
pub(crate) fn diff_known<'a>(
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
    fn drift_is_compared_on_the_named_rows_else_on_the_whole_table() {
        let keys = vec!["goblin".to_owned()];
        let named = Some(Some(keys.as_slice()));
        assert_eq!(drift_scope(None, true, false), (None, false), "no marker: nothing drifted");
        assert_eq!(drift_scope(named, true, false), (Some(keys.as_slice()), false), "only the named rows");
        assert_eq!(drift_scope(Some(None), true, false), (None, true), "too many keys to name: the whole table");
        assert_eq!(drift_scope(named, true, true), (None, true), "--full reads every row");
        assert_eq!(drift_scope(None, true, true), (None, true), "--full without a marker");
        assert_eq!(drift_scope(named, false, false), (None, true), "no table: nothing to read by key");
    }

    #[test]
    fn rows_are_inserted_updated_deleted_or_left_alone() {
        let stored: HashMap<String, ContentHash> =
            [("a", h(1)), ("b", h(2)), ("gone", h(3))].into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let new = [("a", h(1)), ("b", h(9)), ("c", h(4))];
        let diff = diff_rows(new, &stored, true);
        assert_eq!(diff, RowDiff { insert: vec![2], update: vec![1], delete: vec!["gone".into()], unchanged: 1, ..RowDiff::default() });
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
            hash_version: crate::json::canon::HashVersion::CURRENT,
            records,
            rows_kept,
        };
        use RowSource::*;
        let cases = [
            // (recorded, exists, new hash, memo, prune) -> source; never drifted
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
            let got = row_source(recorded.as_ref(), exists, false, "enemies", h(hash), memo, prune);
            assert_eq!(got, expected, "{recorded:?} exists={exists} hash={hash} memo={memo:?} prune={prune}");
            // A drifted table is compared by its data whatever the record or the memo say;
            // a table that does not exist has nothing to compare.
            let drifted = row_source(recorded.as_ref(), exists, true, "enemies", h(hash), memo, prune);
            assert_eq!(drifted, if exists { Stored } else { Empty }, "drifted, {recorded:?} exists={exists}");
        }
        let elsewhere = StoredCollection { table: "foes".into(), ..stored(1, 3, 0) };
        assert_eq!(row_source(Some(&elsewhere), true, false, "enemies", h(1), None, true), Table, "a table recorded under another name");
    }

    fn stored_rows(rows: &[(&str, Option<u8>, u8)]) -> HashMap<String, StoredHashes> {
        rows.iter().map(|(k, column, data)| ((*k).to_owned(), StoredHashes { column: column.map(h), data: h(*data) })).collect()
    }

    #[test]
    fn drift_is_found_in_the_data_and_told_apart_from_the_seeds_changes() {
        // Seeds unchanged since the deploy: a=1 b=2 c=3 d=4; outside seedc, a's data was
        // edited (hash column left alone), b's hash column was edited, c was deleted and x
        // was added.
        let stored = stored_rows(&[("a", Some(1), 9), ("b", Some(8), 2), ("d", Some(4), 4), ("x", Some(5), 5)]);
        let new = [("a", h(1)), ("b", h(2)), ("c", h(3)), ("d", h(4))];
        let drift = Drift { keys: None, seeds_unchanged: true, kept_before: false };
        let diff = diff_stored(new, &stored, drift, true);
        assert_eq!((diff.insert, diff.update, diff.delete, diff.unchanged), (vec![2], vec![0, 1], vec!["x".to_owned()], 1));
        assert_eq!(diff.drifted, ["a", "b", "c", "x"]);
        // With --no-prune the foreign row stays, and is still named as drift.
        let kept = diff_stored(new, &stored, drift, false);
        assert_eq!((kept.kept, kept.drifted.len()), (vec!["x".to_owned()], 4));

        // The seeds changed too (d 4 -> 6, e new, b left the file): only what the
        // triggers named, or a row whose data no longer matches its hash, is drift.
        let named: HashSet<String, FxBuildHasher> = ["c", "x"].into_iter().map(str::to_owned).collect();
        let new = [("a", h(1)), ("c", h(3)), ("d", h(6)), ("e", h(7))];
        let stored = stored_rows(&[("a", Some(1), 9), ("b", Some(2), 2), ("d", Some(4), 4), ("x", Some(5), 5)]);
        let drift = Drift { keys: Some(&named), seeds_unchanged: false, kept_before: false };
        let diff = diff_stored(new, &stored, drift, true);
        assert_eq!((diff.insert, diff.update, diff.delete), (vec![1, 3], vec![0, 2], vec!["b".to_owned(), "x".to_owned()]));
        assert_eq!(diff.drifted, ["a", "c", "x"]);
        // Without the keys (a TRUNCATE, too many rows), a missing row is a plain insert.
        let diff = diff_stored(new, &stored, Drift { keys: None, ..drift }, true);
        assert_eq!(diff.drifted, ["a"]);
    }

    #[test]
    fn named_rows_are_compared_by_their_data_and_the_rest_kept_from_the_base_diff() {
        // Seeds: a b c d e (d changed in the seeds: an update in the base diff). Outside
        // seedc: a edited, c deleted, x added, e written back as it was.
        let new = [("a", h(1)), ("b", h(2)), ("c", h(3)), ("d", h(6)), ("e", h(5))];
        let base = RowDiff { update: vec![3], unchanged: 4, ..RowDiff::default() };
        let named: HashSet<String> = ["a", "c", "e", "x"].into_iter().map(str::to_owned).collect();
        let stored = stored_rows(&[("a", Some(1), 9), ("e", Some(5), 5), ("x", Some(7), 7)]);
        let diff = overlay_named(base.clone(), &new, &named, &stored, true);
        assert_eq!((diff.insert, diff.update, diff.delete, diff.unchanged), (vec![2], vec![0, 3], vec!["x".to_owned()], 2));
        assert_eq!(diff.drifted, ["a", "c", "x"]);
        let kept = overlay_named(base, &new, &named, &stored, false);
        assert_eq!((kept.kept, kept.delete.len()), (vec!["x".to_owned()], 0));
    }

    #[test]
    fn rows_kept_by_no_prune_are_not_drift_and_matching_rows_are_unchanged() {
        let stored = stored_rows(&[("a", Some(1), 1), ("old", Some(2), 2)]);
        let drift = Drift { keys: None, seeds_unchanged: true, kept_before: true };
        let diff = diff_stored([("a", h(1))], &stored, drift, false);
        assert_eq!(diff.writes(), 0);
        assert_eq!((diff.unchanged, diff.kept, diff.drifted), (1, vec!["old".to_owned()], Vec::<String>::new()));
        // A hash column that does not parse is rewritten.
        let stored = stored_rows(&[("a", None, 1)]);
        let diff = diff_stored([("a", h(1))], &stored, Drift { kept_before: false, ..drift }, true);
        assert_eq!((diff.update, diff.drifted), (vec![0], vec!["a".to_owned()]));
    }

    #[test]
    fn unchanged_content_writes_nothing() {
        let stored: HashMap<String, ContentHash> = [("a".to_owned(), h(1))].into();
        assert_eq!(diff_rows([("a", h(1))], &stored, true).writes(), 0);
    }
}
