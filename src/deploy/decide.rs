//! Decide: from a [`Snapshot`] of the database and the prepared content, the plan a deploy
//! writes, or the refusal that stops it (a rollback not asked for, a published manifest
//! that would change). Pure: no I/O, so every refusal and every kind of drift is tested on
//! plain values below. The row comparisons themselves are [`plan`]'s.

use std::collections::{HashMap, HashSet};

use rustc_hash::FxBuildHasher;

use super::content::{Content, Prepared};
use super::inspect::{Rows, Snapshot, StoredData, TableState};
use super::plan::{self, RowDiff};
use super::{CollectionPlan, Counts, Op, Options, Plan, RecordChange, Rollback};
use crate::db::{DriftMarker, LastDeploy, StoredCollection};
use crate::exit::{Exit, ExitError};
use crate::json::canon::ContentHash;
use crate::load::Record;

/// The plan, and what writing it needs beyond the plan.
#[derive(Debug)]
pub(crate) struct Decision {
    pub plan: Plan,
    pub work: Work,
}

/// What `apply` needs beyond the plan.
#[derive(Debug, Default)]
pub(crate) struct Work {
    /// The row diff of each collection, in the content's order.
    pub diffs: Vec<RowDiff>,
    /// Whether each collection's table exists, in the content's order.
    pub table_exists: Vec<bool>,
    /// Indexes of the content's packs and manifests that are not published yet.
    pub new_packs: Vec<usize>,
    pub new_manifests: Vec<usize>,
    /// The drift markers read (collection, seq): the deploy clears them, its data now
    /// matching the seeds.
    pub markers: Vec<(String, i64)>,
    /// Collections whose table exists without its drift triggers (deployed before drift
    /// detection, or dropped by hand): the deploy adds them.
    pub triggers: Vec<usize>,
    /// Unchanged collections whose recorded hash is of an older definition
    /// ([`super::inspect::recorded_now`]): the deploy rewrites it in the current one.
    pub restamp: Vec<usize>,
}

/// Why a deploy is refused (exit 4), with nothing written.
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    /// Collections the database holds at a higher version, or at this version with other
    /// content, and no `--allow-rollback`.
    Rollback { rollbacks: Vec<Rollback>, last: Option<LastDeploy> },
    /// Published manifests this content would change: (id, published hash, new hash).
    ManifestChanged(Vec<(String, String, ContentHash)>),
}

impl Refusal {
    /// The refusal as the error the deploy ends with: exit 4, saying what and what to do.
    pub(crate) fn into_error(self) -> anyhow::Error {
        match self {
            Refusal::Rollback { rollbacks, last } => {
                let last = last.map_or(String::new(), |d| format!(" (last deploy #{} at {})", d.id, d.at));
                let lines: Vec<String> = rollbacks
                    .iter()
                    .map(|r| {
                        if r.from == r.to {
                            format!("{}: the database holds {} with other content{last}", r.collection, r.from)
                        } else {
                            format!("{}: the database holds {}{last}, this content is the older {}", r.collection, r.from, r.to)
                        }
                    })
                    .collect();
                ExitError::new(
                    Exit::Refused,
                    format!(
                        "refusing to roll back the database; nothing was committed\n  {}\n  bump the collection's version past the deployed one, or pass --allow-rollback to deploy it on purpose",
                        lines.join("\n  ")
                    ),
                )
            }
            Refusal::ManifestChanged(changed) => {
                let lines: Vec<String> = changed
                    .iter()
                    .map(|(id, old, new)| format!("{id} is published ({old}) and this build would change it to {new}"))
                    .collect();
                ExitError::new(
                    Exit::Refused,
                    format!(
                        "refusing to change a published manifest; nothing was committed\n  {}\n  a daily is immutable once published: deploy other dates, or restore the content it was built from",
                        lines.join("\n  ")
                    ),
                )
            }
        }
    }
}

/// The plan of deploying `content` onto the database `snapshot` describes, or why not.
/// With `-v` (`options.details`) each collection lists its record changes; the fields of
/// the updates are filled in afterwards from the stored values ([`super::fields`]).
pub(crate) fn decide(snapshot: &Snapshot, content: &Content, options: &Options) -> Result<Decision, Refusal> {
    let mut work = Work::default();
    let mut collections = Vec::new();
    let mut rollbacks = Vec::new();
    for (i, (p, table)) in content.collections.iter().zip(&snapshot.tables).enumerate() {
        let before = snapshot.recorded.get(p.name);
        rollbacks.extend(before.and_then(|b| rollback(p, b)));
        let marker = snapshot.markers.get(p.name);
        let diff = row_diff(p, table, before, marker, options.prune);
        let after = StoredCollection {
            table: p.table.to_owned(),
            version: p.version.clone(),
            hash: Some(p.hash),
            hash_version: crate::json::canon::HashVersion::CURRENT,
            records: p.rows.len() as i64,
            rows_kept: diff.kept.len() as i64,
        };
        let changed = diff.writes() > 0 || before != Some(&after);
        if let Some(m) = marker {
            work.markers.push((p.name.to_owned(), m.seq));
        }
        if table.triggers == Some(crate::db::Triggers::Missing) {
            work.triggers.push(i);
        }
        // A changed collection records its new hash anyway.
        if !changed && snapshot.restamp.iter().any(|name| name == p.name) {
            work.restamp.push(i);
        }
        collections.push(CollectionPlan {
            collection: p.name.to_owned(),
            table: p.table.to_owned(),
            version: p.version.clone(),
            previous_version: before.map(|b| b.version.clone()),
            inserted: diff.insert.len(),
            updated: diff.update.len(),
            deleted: diff.delete.len(),
            kept: diff.kept.len(),
            unchanged: diff.unchanged,
            drifted: diff.drifted.len(),
            drift: marker.cloned(),
            foreign_kept: diff.kept.iter().filter(|k| diff.drifted.binary_search(k).is_ok()).cloned().collect(),
            changed,
            changes: if options.details { record_changes(p, &diff) } else { Vec::new() },
        });
        work.diffs.push(diff);
        work.table_exists.push(table.exists);
    }
    if !rollbacks.is_empty() && !options.allow_rollback {
        return Err(Refusal::Rollback { rollbacks, last: snapshot.last_deploy.clone() });
    }

    let mut packs = Counts::default();
    for (i, hash) in content.packs.iter().enumerate() {
        if snapshot.packs.contains(&hash.to_string()) {
            packs.unchanged += 1;
        } else {
            packs.new += 1;
            work.new_packs.push(i);
        }
    }
    let mut manifests = Counts::default();
    let mut changed = Vec::new();
    for (i, (id, hash)) in content.manifests.iter().enumerate() {
        match snapshot.manifests.get(*id) {
            None => {
                manifests.new += 1;
                work.new_manifests.push(i);
            }
            Some(h) if *h == hash.to_string() => manifests.unchanged += 1,
            Some(h) => changed.push(((*id).to_owned(), h.clone(), *hash)),
        }
    }
    if !changed.is_empty() {
        return Err(Refusal::ManifestChanged(changed));
    }
    let plan = Plan { dry_run: options.dry_run, content_version: content.version(), collections, packs, manifests, rollbacks };
    Ok(Decision { plan, work })
}

/// A collection version lower than the database's, or the database's version with other
/// content: a rollback, which the deploy must be told is meant.
fn rollback(p: &Prepared, before: &StoredCollection) -> Option<Rollback> {
    let (new, old) = (semver::Version::parse(&p.version).ok()?, semver::Version::parse(&before.version).ok()?);
    let reused = new == old && before.hash.is_some_and(|h| h != p.hash);
    (new < old || reused).then(|| Rollback { collection: p.name.to_owned(), from: before.version.clone(), to: p.version.clone() })
}

/// The row diff of one collection from what was read of its table: `before` is what
/// seedc recorded of it, `marker` what its drift triggers noted. Shared with `status`, which
/// compares with the same rules.
pub(crate) fn row_diff(
    p: &Prepared,
    table: &TableState,
    before: Option<&StoredCollection>,
    marker: Option<&DriftMarker>,
    prune: bool,
) -> RowDiff {
    let base = match &table.rows {
        // The recorded hash vouches for the table: unchanged content reads no row at all.
        Rows::Recorded { kept } => RowDiff { unchanged: p.rows.len(), kept: vec![String::new(); *kept], ..RowDiff::default() },
        // The memo is what the table holds: no need to read its hashes.
        Rows::Memo => {
            let rows: Vec<(&str, ContentHash)> =
                p.memo.iter().flat_map(|(_, records)| records.iter()).map(|r| (r.key.as_str(), r.canonical.hash)).collect();
            let same: Vec<Option<usize>> = p.records.iter().map(Record::known).collect();
            plan::diff_known(p.keyed(), &same, &rows, prune)
        }
        Rows::Hashes(stored) => plan::diff_rows(p.keyed(), stored, prune),
        Rows::Data(stored) => diff_stored(p, stored, before, marker, prune),
        Rows::Empty => plan::diff_rows(p.keyed(), &HashMap::<String, ContentHash>::new(), prune),
        Rows::Uncompared => RowDiff { unchanged: p.rows.len(), ..RowDiff::default() },
    };
    // The triggers named every key written outside seedc: only those rows are compared by
    // their data, the rest as if nothing drifted.
    match (&table.named, marker.and_then(|m| m.keys.as_ref())) {
        (Some(stored), Some(keys)) => {
            let named: HashSet<String> = keys.iter().cloned().collect();
            let new: Vec<(&str, ContentHash)> = p.keyed().collect();
            plan::overlay_named(base, &new, &named, stored, prune)
        }
        _ => base,
    }
}

/// [`plan::diff_stored`] of a drifted table: every stored row's data compared with the
/// new record's hash and the row's own hash column, so an edit that left `content_hash`
/// alone is found.
fn diff_stored(p: &Prepared, stored: &StoredData, before: Option<&StoredCollection>, marker: Option<&DriftMarker>, prune: bool) -> RowDiff {
    let keys: Option<HashSet<String, FxBuildHasher>> = marker.and_then(|m| m.keys.as_ref()).map(|k| k.iter().cloned().collect());
    let recorded = before.filter(|b| b.table == p.table);
    let drift = plan::Drift {
        keys: keys.as_ref(),
        seeds_unchanged: recorded.is_some_and(|b| b.hash == Some(p.hash)),
        kept_before: recorded.is_none_or(|b| b.rows_kept > 0),
    };
    plan::diff_stored(p.keyed(), stored, drift, prune)
}

/// The record-level changes of one collection, sorted by key; a repair of drift says so.
/// The fields of each update are left empty: they need the stored values
/// ([`super::fields::fill`]).
pub(crate) fn record_changes(p: &Prepared, diff: &RowDiff) -> Vec<RecordChange> {
    let drifted = |id: &str| diff.drifted.binary_search_by(|k| k.as_str().cmp(id)).is_ok();
    let change = |id: &str, op| RecordChange { id: id.to_owned(), op, drifted: drifted(id), fields: Vec::new() };
    let mut out: Vec<RecordChange> = diff.update.iter().map(|&i| change(p.rows[i].id, Op::Update)).collect();
    out.extend(diff.insert.iter().map(|&i| change(p.rows[i].id, Op::Insert)));
    out.extend(diff.delete.iter().map(|id| change(id, Op::Delete)));
    out.extend(diff.kept.iter().filter(|id| drifted(id)).map(|id| change(id, Op::Keep)));
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Triggers;
    use crate::db::rows::Row;
    use crate::deploy::plan::StoredHashes;
    use crate::load::Body;

    fn h(n: u8) -> ContentHash {
        ContentHash([n; 32])
    }

    /// The seeds of one collection, `enemies` 1.1.0, as (key, hash) pairs.
    struct Seeds {
        records: Vec<Record>,
        rows: Vec<(String, ContentHash)>,
        hash: ContentHash,
    }

    impl Seeds {
        fn new(rows: &[(&str, u8)], hash: u8) -> Seeds {
            let records = rows
                .iter()
                .enumerate()
                .map(|(index, (k, _))| Record {
                    index,
                    key: Some((*k).to_owned()),
                    body: Body::Parsed { value: serde_json::json!({ "id": k }), known: None },
                    digest: None,
                })
                .collect();
            Seeds { records, rows: rows.iter().map(|(k, v)| ((*k).to_owned(), h(*v))).collect(), hash: h(hash) }
        }

        fn content(&self, version: &str) -> Content<'_> {
            let rows = self.rows.iter().map(|(id, hash)| Row { id, canonical: b"{}", hash: *hash }).collect();
            let p = Prepared {
                name: "enemies",
                table: "enemies",
                version: version.to_owned(),
                hash: self.hash,
                rows,
                records: &self.records,
                memo: None,
            };
            Content { collections: vec![p], packs: vec![h(200)], manifests: vec![("manifest_2026-01-25_daily", h(201))] }
        }
    }

    fn options() -> Options {
        Options {
            build: crate::build::write::Options { dates: Vec::new(), locked: false, progress: false },
            database_url: String::new(),
            cache: None,
            lock_timeout: std::time::Duration::ZERO,
            dry_run: false,
            prune: true,
            allow_rollback: false,
            full: false,
            details: true,
            on_timeout: |_| {},
            publish: None,
            environment: None,
            saved: crate::deploy::Saved::No,
        }
    }

    /// A database that holds `enemies` at `version` with hash `hash` (3 records), its table
    /// `rows`, and this content's pack and manifest published.
    fn snapshot(version: &str, hash: u8, rows: Rows) -> Snapshot {
        let recorded = StoredCollection {
            table: "enemies".into(),
            version: version.into(),
            hash: Some(h(hash)),
            hash_version: crate::json::canon::HashVersion::CURRENT,
            records: 3,
            rows_kept: 0,
        };
        Snapshot {
            schema_version: crate::db::migrate::SCHEMA_VERSION,
            recorded: [("enemies".to_owned(), recorded)].into(),
            tables: vec![TableState { exists: true, triggers: Some(Triggers::Enabled), rows, named: None }],
            last_deploy: Some(LastDeploy {
                id: 7,
                at: "2026-01-24T09:00:00Z".into(),
                content_version: "sha256:01".into(),
                rollback: false,
            }),
            packs: [h(200).to_string()].into(),
            manifests: [("manifest_2026-01-25_daily".to_owned(), h(201).to_string())].into(),
            ..Snapshot::default()
        }
    }

    /// A drift marker; `keys`: the keys the triggers named, if they could.
    fn marker(keys: Option<&[&str]>) -> DriftMarker {
        DriftMarker {
            seq: 3,
            since: "2026-01-24T10:00:00Z".into(),
            last: "2026-01-24T10:00:00Z".into(),
            statements: 1,
            rows: Some(1),
            keys: keys.map(|k| k.iter().map(|s| (*s).to_owned()).collect()),
            ops: vec!["UPDATE".into()],
        }
    }

    /// Stored rows as (key, hash column, hash of the data).
    fn data(rows: &[(&str, u8, u8)]) -> StoredData {
        rows.iter().map(|(k, column, data)| ((*k).to_owned(), StoredHashes { column: Some(h(*column)), data: h(*data) })).collect()
    }

    fn ops(plan: &Plan) -> Vec<(String, Op, bool)> {
        plan.collections[0].changes.iter().map(|c| (c.id.clone(), c.op, c.drifted)).collect()
    }

    #[test]
    fn the_recorded_content_is_a_no_op() {
        let seeds = Seeds::new(&[("a", 1), ("b", 2), ("c", 3)], 9);
        let decision = decide(&snapshot("1.1.0", 9, Rows::Recorded { kept: 0 }), &seeds.content("1.1.0"), &options()).unwrap();
        assert!(decision.plan.is_noop(), "{:?}", decision.plan);
        assert_eq!(decision.plan.collections[0].unchanged, 3);
        assert!(decision.work.markers.is_empty() && decision.work.triggers.is_empty());
    }

    #[test]
    fn a_lower_version_or_the_same_version_with_other_content_is_refused_unless_meant() {
        let seeds = Seeds::new(&[("a", 1)], 8);
        for (deployed, hash, ours) in [("1.2.0", 9, "1.1.0"), ("1.1.0", 9, "1.1.0")] {
            let snap = snapshot(deployed, hash, Rows::Hashes([("a".to_owned(), h(1))].into_iter().collect()));
            let refusal = decide(&snap, &seeds.content(ours), &options()).unwrap_err();
            let Refusal::Rollback { rollbacks, last } = &refusal else { panic!("{refusal:?}") };
            assert_eq!((rollbacks[0].from.as_str(), rollbacks[0].to.as_str()), (deployed, ours));
            assert_eq!(last.as_ref().map(|l| l.id), Some(7));
            let error = refusal.into_error();
            assert_eq!(crate::exit::exit_of(&error), Exit::Refused);
            assert!(error.to_string().contains("last deploy #7"), "{error}");
            // Meant: planned, and recorded as a rollback.
            let meant = Options { allow_rollback: true, ..options() };
            assert_eq!(decide(&snap, &seeds.content(ours), &meant).unwrap().plan.rollbacks.len(), 1);
        }
        // A newer version is no rollback.
        let snap = snapshot("1.0.0", 9, Rows::Hashes([("a".to_owned(), h(1))].into_iter().collect()));
        assert!(decide(&snap, &seeds.content("1.1.0"), &options()).unwrap().plan.rollbacks.is_empty());
    }

    #[test]
    fn a_published_manifest_that_would_change_is_refused() {
        let seeds = Seeds::new(&[("a", 1)], 9);
        let mut snap = snapshot("1.1.0", 9, Rows::Recorded { kept: 0 });
        snap.manifests.insert("manifest_2026-01-25_daily".into(), h(77).to_string());
        let refusal = decide(&snap, &seeds.content("1.1.0"), &options()).unwrap_err();
        assert!(matches!(&refusal, Refusal::ManifestChanged(m) if m[0].0 == "manifest_2026-01-25_daily"), "{refusal:?}");
        assert_eq!(crate::exit::exit_of(&refusal.into_error()), Exit::Refused);
        // Not published yet: new, like a pack the database lacks.
        snap.manifests.clear();
        snap.packs.clear();
        let decision = decide(&snap, &seeds.content("1.1.0"), &options()).unwrap();
        assert_eq!((decision.work.new_packs, decision.work.new_manifests), (vec![0], vec![0]));
        assert!(!decision.plan.is_noop());
    }

    #[test]
    fn rows_that_left_the_seeds_are_deleted_or_kept_with_no_prune() {
        let seeds = Seeds::new(&[("a", 1), ("b", 5), ("c", 3)], 8);
        let stored = || Rows::Hashes([("a", 1), ("b", 2), ("gone", 4)].into_iter().map(|(k, v)| (k.to_owned(), h(v))).collect());
        let decision = decide(&snapshot("1.0.0", 9, stored()), &seeds.content("1.1.0"), &options()).unwrap();
        let c = &decision.plan.collections[0];
        assert_eq!((c.inserted, c.updated, c.deleted, c.kept, c.unchanged, c.changed), (1, 1, 1, 0, 1, true));
        assert_eq!(
            ops(&decision.plan),
            [("b".into(), Op::Update, false), ("c".into(), Op::Insert, false), ("gone".into(), Op::Delete, false)]
        );
        let kept = decide(&snapshot("1.0.0", 9, stored()), &seeds.content("1.1.0"), &Options { prune: false, ..options() }).unwrap();
        let c = &kept.plan.collections[0];
        assert_eq!((c.deleted, c.kept), (0, 1));
        assert_eq!(kept.work.diffs[0].kept, ["gone"]);
    }

    #[test]
    fn rows_edited_deleted_and_added_outside_seedc_are_drift_to_repair() {
        // The seeds did not change (a=1 b=2 c=3); outside seedc a's data was edited, c was
        // deleted and x was added, and the triggers could not name the keys: every row's
        // data was read.
        let seeds = Seeds::new(&[("a", 1), ("b", 2), ("c", 3)], 9);
        let mut snap = snapshot("1.1.0", 9, Rows::Data(data(&[("a", 1, 7), ("b", 2, 2), ("x", 5, 5)])));
        snap.markers.insert("enemies".into(), marker(None));
        let decision = decide(&snap, &seeds.content("1.1.0"), &options()).unwrap();
        let c = &decision.plan.collections[0];
        assert_eq!((c.inserted, c.updated, c.deleted, c.drifted, c.changed), (1, 1, 1, 3, true));
        assert_eq!(ops(&decision.plan), [("a".into(), Op::Update, true), ("c".into(), Op::Insert, true), ("x".into(), Op::Delete, true)]);
        assert_eq!(decision.work.markers, [("enemies".to_owned(), 3)], "the marker read is cleared");
        // With --no-prune the row added outside seedc stays, and is still drift.
        let kept = decide(&snap, &seeds.content("1.1.0"), &Options { prune: false, ..options() }).unwrap();
        assert_eq!(kept.plan.collections[0].foreign_kept, ["x"]);
        assert_eq!(ops(&kept.plan).last(), Some(&("x".into(), Op::Keep, true)));
    }

    #[test]
    fn only_the_rows_the_triggers_named_are_compared() {
        // The triggers named a (edited) and x (added); b and c stand as recorded.
        let seeds = Seeds::new(&[("a", 1), ("b", 2), ("c", 3)], 9);
        let mut snap = snapshot("1.1.0", 9, Rows::Recorded { kept: 0 });
        snap.tables[0].named = Some(data(&[("a", 1, 6), ("x", 4, 4)]));
        snap.markers.insert("enemies".into(), marker(Some(&["a", "x"])));
        let decision = decide(&snap, &seeds.content("1.1.0"), &options()).unwrap();
        let c = &decision.plan.collections[0];
        assert_eq!((c.updated, c.deleted, c.unchanged, c.drifted), (1, 1, 2, 2));
        assert_eq!(ops(&decision.plan), [("a".into(), Op::Update, true), ("x".into(), Op::Delete, true)]);
        // A marker whose rows were put back as they were: nothing to write, but the marker
        // is cleared (a commit of its own).
        snap.tables[0].named = Some(data(&[("a", 1, 1)]));
        snap.markers.insert("enemies".into(), marker(Some(&["a"])));
        let decision = decide(&snap, &seeds.content("1.1.0"), &options()).unwrap();
        assert!(decision.plan.is_noop());
        assert_eq!(decision.work.markers.len(), 1);
    }

    #[test]
    fn a_table_without_its_drift_triggers_gets_them_and_a_new_table_is_all_inserts() {
        let seeds = Seeds::new(&[("a", 1), ("b", 2), ("c", 3)], 9);
        let mut snap = snapshot("1.1.0", 9, Rows::Recorded { kept: 0 });
        snap.tables[0].triggers = Some(Triggers::Missing);
        let decision = decide(&snap, &seeds.content("1.1.0"), &options()).unwrap();
        assert_eq!(decision.work.triggers, [0]);
        assert!(decision.plan.is_noop(), "adding triggers writes no row");

        let empty = Snapshot { tables: vec![TableState { rows: Rows::Empty, ..TableState::default() }], ..Snapshot::default() };
        let decision = decide(&empty, &seeds.content("1.1.0"), &options()).unwrap();
        let c = &decision.plan.collections[0];
        assert_eq!((c.inserted, c.previous_version.as_deref(), c.changed), (3, None, true));
        assert_eq!((decision.work.table_exists.as_slice(), decision.plan.packs.new), ([false].as_slice(), 1));
    }
}
