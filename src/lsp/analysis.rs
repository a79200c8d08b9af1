//! What the editor is answered from: a snapshot of the workspace's state after an edit (its
//! diagnostics per file, in LSP terms, and an index of every record (where its key is) and
//! every declared reference (where it stands, what it names), per collection). Made on the
//! check thread from the parts that changed, the rest shared (`Arc`) with the snapshot
//! before, then handed read-only to the loop. Record values are not kept: the few requests
//! that read one (hover, completion labels, rename) parse it again from its text.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value;

use crate::check::Finder;
use crate::diag::SourceFile;
use crate::diag::locate;
use crate::load::SeedFile;
use crate::project::Project;
use crate::project::config::{CollectionConfig, Config};
use crate::project::tree::Tree;

use super::diagnostics::Published;
use super::encoding::Encoding;

/// Records a core indexes at a time.
const INDEX_CHUNK: usize = 512;

/// The workspace as the editor sees it after one edit.
pub(crate) struct Analysis {
    pub(crate) encoding: Encoding,
    /// Diagnostics of every file that has any, by path relative to the root.
    pub(crate) diagnostics: BTreeMap<String, Arc<[Published]>>,
    /// None when the check could not run (a broken `seedc.toml`): nothing to navigate.
    pub(crate) config: Option<Arc<Config>>,
    pub(crate) collections: BTreeMap<String, Arc<Collection>>,
    /// How much checking the analyses so far took (`seedc/status`).
    pub(crate) checks: Checks,
    /// Whether the cross-file pass has work left after this analysis.
    pub(crate) pending: bool,
}

/// How many checks of the whole workspace, and of one file alone, the server has made.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Checks {
    pub(crate) whole: u64,
    pub(crate) files: u64,
}

/// A collection's records and the references they make, as the index knows them.
pub(crate) struct Collection {
    pub(crate) file: String,
    /// The seed file's text as checked; released ([`SourceFile::release`]) once indexed
    /// unless an editor's buffer holds it: then [`Collection::text`] reads it again.
    pub(crate) source: Arc<SourceFile>,
    /// The content root on disk, and the size limit the file was read under.
    root: PathBuf,
    limit: u64,
    pub(crate) key_field: String,
    pub(crate) records: Vec<RecordSite>,
    /// Positions in `records`, sorted by key (then position): a key's first record is found
    /// by a binary search, with no second copy of the keys.
    by_key: Vec<u32>,
    /// The record schema's top-level properties, with their descriptions.
    pub(crate) fields: Arc<Vec<(String, Option<String>)>>,
    /// The collections its declared references name, in its `references` order.
    targets: Vec<String>,
    /// Every declared reference its records make, in file order.
    pub(crate) refs: Vec<RefSite>,
}

/// Where a record is.
pub(crate) struct RecordSite {
    pub(crate) key: Option<String>,
    /// The record's bytes in its file.
    pub(crate) bytes: Range<usize>,
    /// The key's value (quotes included), when it is there.
    pub(crate) key_bytes: Option<Range<usize>>,
}

/// One declared reference: a string value at a reference path of a record.
pub(crate) struct RefSite {
    /// The value, quotes included.
    pub(crate) bytes: Range<usize>,
    /// Which of the collection's declared references (its target is in `targets`).
    reference: u32,
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

impl Collection {
    /// The index of one seed file, loaded with its records reduced (their keys and
    /// references are all that is left of them), from its text `source`.
    pub(crate) fn index(
        config: &CollectionConfig,
        seed: &SeedFile,
        source: Arc<SourceFile>,
        (root, limit): (PathBuf, u64),
        fields: Arc<Vec<(String, Option<String>)>>,
    ) -> Self {
        let finder = Finder::of_seed(config, None, seed);
        let key = format!("/{}", crate::json::pointer::escape(&config.key));
        // Each place is found by walking its record's text (its own slice): a few thousand
        // records a core.
        let parts: Vec<(Vec<RecordSite>, Vec<RefSite>)> = seed
            .records
            .par_chunks(INDEX_CHUNK)
            .map(|chunk| {
                let (mut records, mut refs) = (Vec::with_capacity(chunk.len()), Vec::new());
                for record in chunk {
                    let bytes = source.records.get(record.index).cloned().unwrap_or_default();
                    let text = source.text.get(bytes.clone()).unwrap_or_default();
                    let value_bytes = |pointer: &str| {
                        let (at, len) = locate::locate(text, pointer)?.value;
                        Some(bytes.start + at..bytes.start + at + len)
                    };
                    let key_bytes = record.key.as_ref().and_then(|_| value_bytes(&key));
                    records.push(RecordSite { key: record.key.clone(), bytes: bytes.clone(), key_bytes });
                    finder.each(record, &mut |reference, pointer, key| {
                        if let Some(bytes) = value_bytes(pointer) {
                            refs.push(RefSite { bytes, reference, key: key.to_owned() });
                        }
                    });
                }
                (records, refs)
            })
            .collect();
        let mut records = Vec::with_capacity(seed.records.len());
        let mut refs = Vec::with_capacity(parts.iter().map(|(_, r)| r.len()).sum());
        for (r, f) in parts {
            records.extend(r);
            refs.extend(f);
        }
        let mut by_key: Vec<u32> = (0..records.len() as u32).filter(|&i| records[i as usize].key.is_some()).collect();
        by_key.sort_by(|&a, &b| records[a as usize].key.cmp(&records[b as usize].key).then(a.cmp(&b)));
        let targets = config.references.iter().map(|r| r.collection.clone()).collect();
        Collection { file: seed.file.clone(), source, root, limit, key_field: config.key.clone(), records, by_key, fields, targets, refs }
    }

    /// The first record with `key`.
    pub(crate) fn find(&self, key: &str) -> Option<&RecordSite> {
        let at = self.by_key.partition_point(|&i| self.records[i as usize].key.as_deref() < Some(key));
        let &i = self.by_key.get(at)?;
        let record = &self.records[i as usize];
        (record.key.as_deref() == Some(key)).then_some(record)
    }

    /// The collection a reference of this one's names.
    pub(crate) fn target(&self, site: &RefSite) -> &str {
        self.targets.get(site.reference as usize).map_or("", String::as_str)
    }

    /// A record's value, parsed again from `text`, the collection's [`text`](Self::text)
    /// (None if it does not parse).
    pub(crate) fn value(text: &str, record: &RecordSite) -> Option<Value> {
        serde_json::from_str(text.get(record.bytes.clone())?).ok()
    }

    /// The seed file's text as checked: read again from disk when it was released. None
    /// when the file changed since (a file event or a save checks it again).
    pub(crate) fn text(&self) -> Option<Cow<'_, str>> {
        if !self.source.is_released() {
            return Some(Cow::Borrowed(self.source.text.as_str()));
        }
        let text = Tree::dir(&self.root).read_optional(&self.file, self.limit).ok()??;
        self.source.is_text(&text).then_some(Cow::Owned(text))
    }
}

impl Analysis {
    /// The text of a seed file of the check (a buffer's, or the file's on disk).
    pub(crate) fn text(&self, rel: &str) -> Option<Cow<'_, str>> {
        self.collection_of(rel)?.1.text()
    }

    /// The collection whose seed file `rel` is.
    pub(crate) fn collection_of(&self, rel: &str) -> Option<(&str, &Collection)> {
        self.collections.iter().find(|(_, c)| c.file == rel).map(|(n, c)| (n.as_str(), &**c))
    }

    /// The record of `collection` with `key`.
    pub(crate) fn record(&self, collection: &str, key: &str) -> Option<(&Collection, &RecordSite)> {
        let c = self.collections.get(collection)?;
        Some((c, c.find(key)?))
    }

    /// What byte `offset` of `rel` names: a record's key where it is defined, or a declared
    /// reference (the cursor may stand on either quote).
    pub(crate) fn named_at(&self, rel: &str, offset: usize) -> Option<Named> {
        let inside = |r: &Range<usize>| r.start <= offset && offset <= r.end;
        let (name, c) = self.collection_of(rel)?;
        if let Some(site) = c.refs.iter().find(|s| inside(&s.bytes)) {
            return Some(Named { collection: c.target(site).to_owned(), key: site.key.clone(), bytes: site.bytes.clone() });
        }
        let record = c.records.iter().find(|r| r.key_bytes.as_ref().is_some_and(inside))?;
        Some(Named { collection: name.to_owned(), key: record.key.clone()?, bytes: record.key_bytes.clone()? })
    }

    /// Every declared reference to the record `key` of `collection`, with its file.
    pub(crate) fn references_to<'a>(&'a self, collection: &'a str, key: &'a str) -> impl Iterator<Item = (&'a str, &'a RefSite)> + 'a {
        self.collections
            .values()
            .flat_map(move |c| c.refs.iter().filter(move |s| s.key == key && c.target(s) == collection).map(move |s| (c.file.as_str(), s)))
    }
}

/// The top-level properties a record schema declares (its own, and those of the schemas
/// it combines with `allOf`, `anyOf` or `oneOf`), with their descriptions.
pub(crate) fn fields(project: &Project, schema: &str) -> Vec<(String, Option<String>)> {
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
