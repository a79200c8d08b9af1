//! What one check of the workspace gives the editor: its diagnostics per file, in LSP terms,
//! and an index of every record (where its key is defined) and every declared reference
//! (where it stands, what it names), which navigation and editing answer from. Built on
//! the check thread, then shared read-only (`Arc`) with the loop.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::check::{self, Checked, Mode};
use crate::json::pointer::Pointer;
use crate::load::Record;
use crate::project::Project;

use super::diagnostics::{self, Published};
use super::encoding::Encoding;

/// One check of the workspace, as the editor sees it.
pub(crate) struct Analysis {
    pub(crate) encoding: Encoding,
    /// Diagnostics of every file that has any, by path relative to the root.
    pub(crate) diagnostics: BTreeMap<String, Vec<Published>>,
    /// None when the check could not run (a broken `seedc.toml`): nothing to navigate.
    pub(crate) checked: Option<Checked>,
    pub(crate) collections: BTreeMap<String, Collection>,
    /// Every declared reference of every record, in file order.
    pub(crate) refs: Vec<RefSite>,
}

/// A collection's records as the index knows them.
pub(crate) struct Collection {
    pub(crate) file: String,
    pub(crate) key_field: String,
    pub(crate) records: Vec<RecordSite>,
    /// Record position in `records` by key (the first, when a key is duplicated).
    pub(crate) by_key: HashMap<String, usize>,
    /// The record schema's top-level properties, with their descriptions.
    pub(crate) fields: Vec<(String, Option<String>)>,
}

/// Where a record is.
pub(crate) struct RecordSite {
    pub(crate) key: Option<String>,
    /// The record's index in its file's `data`.
    pub(crate) index: usize,
    /// The record's bytes in its file.
    pub(crate) bytes: Range<usize>,
    /// The key's value (quotes included), when it is there.
    pub(crate) key_bytes: Option<Range<usize>>,
}

/// One declared reference: a string value at a reference path of a record.
pub(crate) struct RefSite {
    pub(crate) file: String,
    /// The value, quotes included.
    pub(crate) bytes: Range<usize>,
    pub(crate) target: String,
    pub(crate) key: String,
}

/// What a position in a file names: a record of a collection, by its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named {
    pub(crate) collection: String,
    pub(crate) key: String,
    /// The bytes of the name under the position (quotes included).
    pub(crate) bytes: Range<usize>,
}

impl Analysis {
    /// Checks the content root `root` with `buffers` over its files, as `seedc check` does.
    pub(crate) fn run(root: &Path, buffers: Vec<(String, Arc<str>)>, encoding: Encoding) -> Analysis {
        let checked = Project::with_buffers(root, buffers).and_then(|project| Ok((check::run(&project, Mode::Editor)?, project)));
        match checked {
            Ok(((checked, sink), project)) => {
                let diagnostics = diagnostics::convert(&checked, sink, encoding);
                let (collections, refs) = index(&checked, &project);
                Analysis { encoding, diagnostics, checked: Some(checked), collections, refs }
            }
            Err(err) => {
                let diagnostics = diagnostics::failure(&err);
                Analysis { encoding, diagnostics, checked: None, collections: BTreeMap::new(), refs: Vec::new() }
            }
        }
    }

    /// The text of a file of the check (a buffer's, or the file's on disk).
    pub(crate) fn text(&self, rel: &str) -> Option<&str> {
        Some(self.checked.as_ref()?.content.sources.get(rel)?.text.as_str())
    }

    /// The collection whose seed file `rel` is.
    pub(crate) fn collection_of(&self, rel: &str) -> Option<(&str, &Collection)> {
        self.collections.iter().find(|(_, c)| c.file == rel).map(|(n, c)| (n.as_str(), c))
    }

    /// The record of `collection` with `key`.
    pub(crate) fn record(&self, collection: &str, key: &str) -> Option<(&Collection, &RecordSite)> {
        let c = self.collections.get(collection)?;
        Some((c, &c.records[*c.by_key.get(key)?]))
    }

    /// The parsed record of `collection` at `index`.
    pub(crate) fn value(&self, collection: &str, index: usize) -> Option<&Record> {
        self.checked.as_ref()?.content.seeds.get(collection)?.records.get(index)
    }

    /// What byte `offset` of `rel` names: a record's key where it is defined, or a declared
    /// reference (the cursor may stand on either quote).
    pub(crate) fn named_at(&self, rel: &str, offset: usize) -> Option<Named> {
        let inside = |r: &Range<usize>| r.start <= offset && offset <= r.end;
        if let Some(site) = self.refs.iter().find(|s| s.file == rel && inside(&s.bytes)) {
            return Some(Named { collection: site.target.clone(), key: site.key.clone(), bytes: site.bytes.clone() });
        }
        let (name, c) = self.collection_of(rel)?;
        let record = c.records.iter().find(|r| r.key_bytes.as_ref().is_some_and(inside))?;
        Some(Named { collection: name.to_owned(), key: record.key.clone()?, bytes: record.key_bytes.clone()? })
    }

    /// Every declared reference to the record `key` of `collection`.
    pub(crate) fn references_to<'a>(&'a self, collection: &'a str, key: &'a str) -> impl Iterator<Item = &'a RefSite> + 'a {
        self.refs.iter().filter(move |s| s.target == collection && s.key == key)
    }
}

/// Every record's place and every declared reference of a checked workspace.
fn index(checked: &Checked, project: &Project) -> (BTreeMap<String, Collection>, Vec<RefSite>) {
    let mut collections = BTreeMap::new();
    let mut refs = Vec::new();
    for (name, seed) in &checked.content.seeds {
        let (Some(config), Some(source)) = (checked.config.collections.get(name), checked.content.sources.get(&seed.file)) else {
            continue;
        };
        let finder = checked.references(name, None);
        let mut records = Vec::with_capacity(seed.records.len());
        for record in &seed.records {
            let base = Pointer::from("/data").index(record.index);
            let value_bytes = |pointer: &Pointer| {
                let span = source.locate(pointer.as_str(), false)?;
                Some(span.offset..span.offset + span.len)
            };
            let key_bytes = record.key.as_ref().and_then(|_| value_bytes(&base.clone().key(&config.key)));
            let bytes = source.records.get(record.index).cloned().unwrap_or_default();
            records.push(RecordSite { key: record.key.clone(), index: record.index, bytes, key_bytes });
            let Some(finder) = &finder else { continue };
            for out in finder.all(record) {
                let Some(target) = config.references.get(out.reference as usize) else { continue };
                let Some(bytes) = value_bytes(&base.clone().join(&out.pointer)) else { continue };
                refs.push(RefSite { file: seed.file.clone(), bytes, target: target.collection.clone(), key: out.key });
            }
        }
        let mut by_key = HashMap::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            if let Some(key) = &r.key {
                by_key.entry(key.clone()).or_insert(i);
            }
        }
        let fields = fields(project, &config.schema);
        collections.insert(name.clone(), Collection { file: seed.file.clone(), key_field: config.key.clone(), records, by_key, fields });
    }
    (collections, refs)
}

/// The top-level properties a record schema declares (its own, and those of the schemas
/// it combines with `allOf`, `anyOf` or `oneOf`), with their descriptions.
fn fields(project: &Project, schema: &str) -> Vec<(String, Option<String>)> {
    let limit = project.config().limits.max_file_bytes;
    let Ok(Some(text)) = project.tree().read_optional(schema, limit) else { return Vec::new() };
    let Ok(doc) = serde_json::from_str::<Value>(&text) else { return Vec::new() };
    let parts = ["allOf", "anyOf", "oneOf"].iter().filter_map(|k| doc.get(*k)?.as_array()).flatten();
    let mut fields: Vec<(String, Option<String>)> = Vec::new();
    for part in std::iter::once(&doc).chain(parts) {
        for (name, property) in part.get("properties").and_then(Value::as_object).into_iter().flatten() {
            if !fields.iter().any(|(n, _)| n == name) {
                fields.push((name.clone(), property.get("description").and_then(Value::as_str).map(str::to_owned)));
            }
        }
    }
    fields
}
