//! `seedc diff`'s model: what changed between two checked content roots, in game terms.
//! Records are matched by their collection's key; a changed record lists its changed
//! fields as JSON pointers (old → new, and for numbers the signed delta and percentage);
//! packs are matched by `pack_id`; the daily manifest's pack refs are planned on both sides
//! with the build's own [`manifests_for`], so the diff says exactly what a build would bind.
//! Renderers (human, json, markdown) are separate files and only format this model.
//!
//! Rename detection: a removed and an added record whose content is identical apart from
//! the key are reported as one rename. A record that was renamed *and* changed has no sound
//! identity, so it shows as removed + added.

pub(crate) mod render;

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::build::{self, Mode, PackIndex, PackRef};
use crate::check::Checked;
use crate::diag::SourceFile;
use crate::json::canon::{self, ContentHash};
use crate::json::fielddiff::field_changes;
pub(crate) use crate::json::fielddiff::{FieldChange, FieldStatus};
use crate::load::{Pack, Record, SeedFile};

/// Everything that differs between two content roots.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Diff {
    /// How the old side was named on the command line.
    pub base: String,
    /// How the new side was named (`working tree` by default).
    pub head: String,
    /// Collections with any change, sorted by name.
    pub collections: Vec<CollectionDiff>,
    /// Packs with any change, sorted by pack_id.
    pub packs: Vec<PackDiff>,
    /// Daily manifest pack refs that a build of the new side would bind differently.
    pub daily_pack_refs: Vec<PackRefChange>,
    pub summary: DiffSummary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Change {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CollectionDiff {
    pub collection: String,
    pub status: Change,
    /// The seed file (the new side's, unless the collection was removed).
    pub file: String,
    pub version: VersionChange,
    /// Keys of the records only on the new side, sorted.
    pub added: Vec<String>,
    /// Keys of the records only on the old side, sorted.
    pub removed: Vec<String>,
    /// Records whose content is unchanged apart from the key.
    pub renamed: Vec<Rename>,
    /// Records on both sides whose content differs, sorted by key.
    pub changed: Vec<RecordDiff>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct VersionChange {
    pub old: Option<String>,
    pub new: Option<String>,
}

impl VersionChange {
    pub(crate) fn bumped(&self) -> bool {
        self.old != self.new
    }

    /// `old → new` when the version moved (the new one passed through `emphasize`), else
    /// the one version there is.
    pub(crate) fn text(&self, emphasize: impl Fn(&str) -> String) -> String {
        match (&self.old, &self.new) {
            (Some(a), Some(b)) if a == b => a.clone(),
            (Some(a), Some(b)) => format!("{a} → {}", emphasize(b)),
            (None, Some(b)) => b.clone(),
            (Some(a), None) => a.clone(),
            (None, None) => String::new(),
        }
    }
}

impl CollectionDiff {
    /// The non-zero record counts, e.g. `["2 added", "1 changed"]`.
    pub(crate) fn counts(&self) -> Vec<String> {
        [(self.added.len(), "added"), (self.removed.len(), "removed"), (self.renamed.len(), "renamed"), (self.changed.len(), "changed")]
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Rename {
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct RecordDiff {
    pub key: String,
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct PackDiff {
    pub pack_id: String,
    pub status: Change,
    pub file: String,
    pub version: VersionChange,
    pub hash: HashChange,
    /// The pack's changed values (not its `version`, shown above), for a changed pack.
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct HashChange {
    pub old: Option<ContentHash>,
    pub new: Option<ContentHash>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PackRefChange {
    pub pack_id: String,
    pub old: Option<PackRef>,
    pub new: Option<PackRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct DiffSummary {
    /// True when anything at all differs.
    pub changed: bool,
    pub collections: usize,
    pub records_added: usize,
    pub records_removed: usize,
    pub records_renamed: usize,
    pub records_changed: usize,
    pub packs_added: usize,
    pub packs_removed: usize,
    pub packs_changed: usize,
    pub daily_pack_refs: usize,
}

/// Compares two checked content roots (each must have checked without errors).
pub(crate) fn diff<'a>(base: &'a Checked, head: &'a Checked, base_label: &str, head_label: &str) -> Result<Diff> {
    let names: std::collections::BTreeSet<&String> = base.content.seeds.keys().chain(head.content.seeds.keys()).collect();
    let collections: Vec<CollectionDiff> = names
        .into_par_iter()
        .filter_map(|name| {
            let key_of = |c: &Checked| c.config.collections.get(name).map_or("id", |c| c.key.as_str()).to_owned();
            let side = |c: &'a Checked| c.content.seeds.get(name).map(|s| (s, c.content.sources.get(&s.file).map(|f| &**f)));
            collection_diff(name, side(base), side(head), &key_of(base), &key_of(head))
        })
        .collect();
    let packs = pack_diffs(base, head);
    let daily_pack_refs = ref_changes(
        &daily_refs(base).context("cannot plan the old side's daily manifest")?,
        &daily_refs(head).context("cannot plan the new side's daily manifest")?,
    );

    let mut summary = DiffSummary { collections: collections.len(), daily_pack_refs: daily_pack_refs.len(), ..DiffSummary::default() };
    for c in &collections {
        summary.records_added += c.added.len();
        summary.records_removed += c.removed.len();
        summary.records_renamed += c.renamed.len();
        summary.records_changed += c.changed.len();
    }
    for p in &packs {
        match p.status {
            Change::Added => summary.packs_added += 1,
            Change::Removed => summary.packs_removed += 1,
            Change::Changed => summary.packs_changed += 1,
        }
    }
    summary.changed = !collections.is_empty() || !packs.is_empty() || !daily_pack_refs.is_empty();
    Ok(Diff { base: base_label.to_owned(), head: head_label.to_owned(), collections, packs, daily_pack_refs, summary })
}

/// A seed file with its source text, whose record slices make the common case (an
/// unchanged record, byte for byte) a memcmp instead of a walk over two parsed values.
type Side<'a> = Option<(&'a SeedFile, Option<&'a SourceFile>)>;

fn collection_diff<'a>(name: &str, old_side: Side<'a>, new_side: Side<'a>, old_key: &str, new_key: &str) -> Option<CollectionDiff> {
    let (old, new) = (old_side.map(|s| s.0), new_side.map(|s| s.0));
    let raw = |side: Side<'a>, r: &Record| -> Option<&'a str> {
        let source = side?.1?;
        source.text.get(source.records.get(r.index)?.clone())
    };
    let version = VersionChange {
        old: old.and_then(|s| s.version.as_ref()).map(ToString::to_string),
        new: new.and_then(|s| s.version.as_ref()).map(ToString::to_string),
    };
    let status = match (old, new) {
        (None, Some(_)) => Change::Added,
        (Some(_), None) => Change::Removed,
        _ => Change::Changed,
    };
    let file = new.or(old).map(|s| s.file.clone()).unwrap_or_default();
    let olds: &[Record] = old.map_or(&[], |s| &s.records);
    let news: &[Record] = new.map_or(&[], |s| &s.records);
    let record_diff = |key: &str, a: &Value, b: &Value| (a != b).then(|| RecordDiff { key: key.to_owned(), fields: field_changes(a, b) });
    // Most edits keep the records in place: pair them by position first, which needs no
    // hashing, and match only the rest by key. Keys are unique on each side (check saw to
    // it), so a key paired by position appears nowhere else.
    let same_place = |i: usize| olds[i].key.is_some() && olds[i].key == news[i].key;
    let common = olds.len().min(news.len());
    let mut changed: Vec<RecordDiff> = (0..common)
        .into_par_iter()
        .filter(|i| same_place(*i))
        .filter(|i| raw(old_side, &olds[*i]).is_none_or(|a| Some(a) != raw(new_side, &news[*i])))
        .filter_map(|i| record_diff(olds[i].key.as_deref().unwrap_or_default(), olds[i].value()?, news[i].value()?))
        .collect();
    let rest = |records: &'a [Record]| -> HashMap<&'a str, &'a Value> {
        records
            .iter()
            .enumerate()
            .filter(|(i, _)| *i >= common || !same_place(*i))
            .filter_map(|(_, r)| Some((r.key.as_deref()?, r.value()?)))
            .collect()
    };
    let (old_records, new_records) = (rest(olds), rest(news));

    let mut added: Vec<&str> = new_records.keys().filter(|k| !old_records.contains_key(*k)).copied().collect();
    let mut removed: Vec<&str> = old_records.keys().filter(|k| !new_records.contains_key(*k)).copied().collect();
    changed.extend(new_records.iter().filter_map(|(key, b)| record_diff(key, old_records.get(key)?, b)));
    changed.sort_by(|a, b| a.key.cmp(&b.key));
    let renamed = renames(&mut removed, &mut added, &old_records, &new_records, old_key, new_key);
    added.sort_unstable();
    removed.sort_unstable();

    let untouched = status == Change::Changed
        && !version.bumped()
        && added.is_empty()
        && removed.is_empty()
        && renamed.is_empty()
        && changed.is_empty();
    (!untouched).then(|| CollectionDiff {
        collection: name.to_owned(),
        status,
        file,
        version,
        added: added.into_iter().map(str::to_owned).collect(),
        removed: removed.into_iter().map(str::to_owned).collect(),
        renamed,
        changed,
    })
}

/// Pairs removed and added records whose content, without the key field, is identical and
/// unique on both sides; takes them out of `removed` and `added`.
fn renames(
    removed: &mut Vec<&str>,
    added: &mut Vec<&str>,
    old: &HashMap<&str, &Value>,
    new: &HashMap<&str, &Value>,
    old_key: &str,
    new_key: &str,
) -> Vec<Rename> {
    if removed.is_empty() || added.is_empty() {
        return Vec::new();
    }
    let body = |value: &Value, key_field: &str| -> ContentHash {
        let mut value = value.clone();
        if let Value::Object(map) = &mut value {
            map.remove(key_field);
        }
        canon::hash_value(&value)
    };
    let mut by_body: HashMap<ContentHash, (Vec<&str>, Vec<&str>)> = HashMap::new();
    for k in removed.iter() {
        by_body.entry(body(old[k], old_key)).or_default().0.push(k);
    }
    for k in added.iter() {
        by_body.entry(body(new[k], new_key)).or_default().1.push(k);
    }
    let mut renames: Vec<Rename> = by_body
        .into_values()
        .filter(|(o, n)| o.len() == 1 && n.len() == 1)
        .map(|(o, n)| Rename { old: o[0].to_owned(), new: n[0].to_owned() })
        .collect();
    renames.sort_by(|a, b| a.old.cmp(&b.old));
    removed.retain(|k| !renames.iter().any(|r| r.old == *k));
    added.retain(|k| !renames.iter().any(|r| r.new == *k));
    renames
}

fn pack_diffs(old: &Checked, new: &Checked) -> Vec<PackDiff> {
    fn index(c: &Checked) -> BTreeMap<String, (&Pack, ContentHash)> {
        c.content.packs.iter().zip(&c.pack_hashes).map(|(p, h)| (p.pack_id.clone(), (p, *h))).collect()
    }
    let (old, new) = (index(old), index(new));
    let ids: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = Vec::new();
    for id in ids {
        let (o, n) = (old.get(id), new.get(id));
        if let (Some((_, a)), Some((_, b))) = (o, n)
            && a == b
        {
            continue;
        }
        let status = match (o, n) {
            (None, _) => Change::Added,
            (_, None) => Change::Removed,
            _ => Change::Changed,
        };
        let mut fields = Vec::new();
        if let (Some((a, _)), Some((b, _))) = (o, n) {
            fields = field_changes(&a.value, &b.value);
            fields.retain(|f| f.pointer != "/version");
        }
        out.push(PackDiff {
            pack_id: id.clone(),
            status,
            file: n.or(o).map(|(p, _)| p.file.clone()).unwrap_or_default(),
            version: VersionChange { old: o.map(|(p, _)| p.version.to_string()), new: n.map(|(p, _)| p.version.to_string()) },
            hash: HashChange { old: o.map(|(_, h)| *h), new: n.map(|(_, h)| *h) },
            fields,
        });
    }
    out
}

/// The pack refs a daily manifest of this content would bind (they are the same for every
/// date: which packs a daily includes comes from seedc.toml).
fn daily_refs(checked: &Checked) -> Result<Vec<PackRef>> {
    let packs: Vec<PackIndex> = checked
        .content
        .packs
        .iter()
        .zip(&checked.pack_hashes)
        .map(|(p, hash)| PackIndex {
            v: 1,
            pack_hash: *hash,
            pack_id: p.pack_id.clone(),
            version: p.version.to_string(),
            kind: p.kind.clone(),
            pack_schema_v: p.schema_v.clone(),
            bytes: 0,
            path: build::bundle_path(hash),
        })
        .collect();
    let any_date = jiff::civil::date(2000, 1, 1);
    let manifests = build::manifests_for(&checked.config, &packs, &[any_date], 0)?;
    Ok(manifests.into_iter().find(|m| m.manifest.mode == Mode::Daily).map(|m| m.manifest.pack_refs).unwrap_or_default())
}

fn ref_changes(old: &[PackRef], new: &[PackRef]) -> Vec<PackRefChange> {
    let by_id = |refs: &[PackRef]| -> BTreeMap<String, PackRef> { refs.iter().map(|r| (r.pack_id.clone(), r.clone())).collect() };
    let (old, new) = (by_id(old), by_id(new));
    let ids: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    ids.into_iter()
        .filter(|id| old.get(*id) != new.get(*id))
        .map(|id| PackRefChange { pack_id: id.clone(), old: old.get(id).cloned(), new: new.get(id).cloned() })
        .collect()
}

#[cfg(test)]
pub(crate) fn sample_diff(changed_records: usize) -> Diff {
    let fields = vec![FieldChange {
        pointer: crate::json::pointer::Pointer::from("/hp"),
        status: FieldStatus::Changed,
        old: Some(Value::from(12)),
        new: Some(Value::from(15)),
        delta: Some(serde_json::Number::from(3)),
        percent: Some(25.0),
    }];
    let changed: Vec<RecordDiff> = (0..changed_records).map(|i| RecordDiff { key: format!("r{i:02}"), fields: fields.clone() }).collect();
    let summary = DiffSummary { changed: true, collections: 1, records_changed: changed.len(), ..DiffSummary::default() };
    Diff {
        base: "main".to_owned(),
        head: "working tree".to_owned(),
        collections: vec![CollectionDiff {
            collection: "enemies".to_owned(),
            status: Change::Changed,
            file: "data/seeds/enemies.json".to_owned(),
            version: VersionChange { old: Some("1.0.0".to_owned()), new: Some("1.1.0".to_owned()) },
            added: Vec::new(),
            removed: Vec::new(),
            renamed: Vec::new(),
            changed,
        }],
        packs: Vec::new(),
        daily_pack_refs: Vec::new(),
        summary,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_summary_line_counts_in_the_singular_and_plural() {
        let one = DiffSummary { changed: true, collections: 1, records_changed: 1, ..DiffSummary::default() };
        assert_eq!(render::summary_line(&one), "1 collection (1 changed record), 0 packs, 0 daily pack refs changed");
        let more = DiffSummary { records_added: 1, ..one };
        assert_eq!(render::summary_line(&more), "1 collection (1 added, 1 changed records), 0 packs, 0 daily pack refs changed");
        assert_eq!(render::summary_line(&DiffSummary::default()), "no changes");
    }

    fn seed(records: &[Value]) -> SeedFile {
        SeedFile {
            collection: "enemies".to_owned(),
            file: "data/seeds/enemies.json".to_owned(),
            version: Some(semver::Version::new(1, 0, 0)),
            updated_at: None,
            schema_ref: None,
            records: records
                .iter()
                .enumerate()
                .map(|(index, v)| Record {
                    index,
                    key: crate::load::key_of(v, "id"),
                    body: crate::load::Body::Parsed { value: v.clone(), known: None },
                    digest: None,
                })
                .collect(),
            complete: true,
            reduced: None,
            print: None,
        }
    }

    #[test]
    fn records_match_by_key_wherever_they_are() {
        let (a, b, c) = (json!({"id": "a", "hp": 1}), json!({"id": "b", "hp": 2}), json!({"id": "c", "hp": 3}));
        let (before, moved) = (seed(&[a.clone(), b.clone(), c.clone()]), seed(&[c.clone(), a.clone(), b.clone()]));
        assert!(collection_diff("enemies", Some((&before, None)), Some((&moved, None)), "id", "id").is_none());

        let inserted = seed(&[a.clone(), json!({"id": "x", "hp": 9}), json!({"id": "b", "hp": 5}), c.clone()]);
        let d = collection_diff("enemies", Some((&before, None)), Some((&inserted, None)), "id", "id").unwrap();
        assert_eq!(d.added, ["x"]);
        assert_eq!(d.changed.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["b"]);
        assert!(d.removed.is_empty() && d.renamed.is_empty());
    }

    #[test]
    fn pointers_read_as_paths() {
        assert_eq!(render::dotted(&crate::json::pointer::Pointer::from("/loot/0/item")), "loot[0].item");
        assert_eq!(render::dotted(&crate::json::pointer::Pointer::from("/tags/y~0~1")), "tags[\"y~/\"]");
    }
}
