//! What a deploy deploys: the content root checked (against the memo of the last deploy
//! when there is one), and each collection's rows prepared from it, with the packs and
//! manifests the build compiled. `status` compares the database with the same values.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use super::memo;
use crate::build::Compiled;
use crate::build::cache::Fingerprint;
use crate::build::write;
use crate::check::Checked;
use crate::db::rows::Row;
use crate::diag::Sink;
use crate::diag::render::Diagnostics;
use crate::json::canon::{self, ContentHash};
use crate::load::Record;
use crate::load::known::{Known, KnownRecord};
use crate::project::Project;

/// A content root checked clean (warnings aside), with the known records it was checked
/// against.
pub(crate) struct CheckedRoot {
    pub checked: Checked,
    pub sink: Sink,
    pub known: Option<Known>,
}

/// The check of a deploy. With the memo of the last deploy ([`memo`]) only records whose
/// bytes changed are parsed and validated; the memo comes back as the index of known
/// records the plan may read the deployed rows from. What is reported is exactly what
/// `seedc check` reports (see [`crate::load::known`]). Content with errors comes back as
/// `command`'s diagnostics.
pub(crate) fn check(project: &Project, fingerprint: &Fingerprint, command: &'static str) -> Result<Result<CheckedRoot, Diagnostics>> {
    let root = project.root().unwrap_or(Path::new(""));
    // The memo stands for unchanged records wherever they are read: the field-level changes
    // (`-v`) of a record it vouched for are read from its canonical bytes.
    let known = memo::load(&root.join(write::OUT_DIR), &fingerprint.global);
    let (checked, sink) = match &known {
        // Nothing to lean on (a first deploy, a fresh checkout): no record is held parsed longer
        // than it takes to validate and write it canonically.
        None => crate::check::run(project, crate::check::Mode::FirstDeploy)?,
        Some(known) => crate::check::run(project, crate::check::Mode::Deploy(known))?,
    };
    if sink.has_errors() {
        return Ok(Err(Diagnostics::new(command, sink, checked.content.sources)));
    }
    Ok(Ok(CheckedRoot { checked, sink, known }))
}

/// The content a deploy compares with the database and writes: every collection's rows,
/// and the hashes of the packs and manifests compiled from it.
pub(crate) struct Content<'a> {
    pub collections: Vec<Prepared<'a>>,
    /// Every bundle's hash, in the order of [`Compiled::bundles`].
    pub packs: Vec<ContentHash>,
    /// Every manifest's id and hash, in the order of [`Compiled::manifests`].
    pub manifests: Vec<(&'a str, ContentHash)>,
}

impl<'a> Content<'a> {
    /// The content of `checked` as compiled; `known` is the memo it was checked against.
    pub(crate) fn new(checked: &'a Checked, compiled: Option<&'a Compiled>, known: Option<&'a Known>) -> Content<'a> {
        let (packs, manifests) = match compiled {
            Some(c) => (
                c.bundles.iter().map(|b| b.hash).collect(),
                c.manifests.iter().map(|m| (m.manifest.manifest_id.as_str(), m.hash)).collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        Content { collections: prepare(checked, known), packs, manifests }
    }

    /// The content version: see [`content_version`].
    pub(crate) fn version(&self) -> String {
        content_version(self.collections.iter().map(|p| (p.name, p.hash)))
    }
}

/// One collection's new rows, with each record's hash.
pub(crate) struct Prepared<'a> {
    pub name: &'a str,
    pub table: &'a str,
    pub version: String,
    pub hash: ContentHash,
    pub rows: Vec<Row<'a>>,
    /// The records the rows are made from, in the same order.
    pub records: &'a [Record],
    /// What the memo of the last deploy holds of the collection: its hash and records.
    pub memo: Option<(ContentHash, &'a [KnownRecord])>,
}

impl Prepared<'_> {
    /// Each row's key and hash, in file order.
    pub(crate) fn keyed(&self) -> impl Iterator<Item = (&str, ContentHash)> {
        self.rows.iter().map(|r| (r.id, r.hash))
    }
}

fn prepare<'a>(checked: &'a Checked, known: Option<&'a Known>) -> Vec<Prepared<'a>> {
    checked
        .config
        .collections
        .keys()
        .filter_map(|name| {
            let seed = checked.content.seeds.get(name)?;
            let hash = *checked.collection_hashes.get(name)?;
            let kept = checked.records.get(name)?;
            let rows = seed
                .records
                .iter()
                .zip(kept)
                .map(|(r, c)| Row { id: r.key.as_deref().unwrap_or_default(), canonical: &c.bytes, hash: c.hash })
                .collect();
            let version = seed.version.as_ref().map(ToString::to_string).unwrap_or_default();
            let memo = known.and_then(|k| k.collections.get(name)).map(|k| (k.hash, k.records.as_slice()));
            Some(Prepared { name, table: checked.config.table(name), version, hash, rows, records: &seed.records, memo })
        })
        .collect()
}

/// The content version: the hash of every collection's content hash, so it names exactly
/// the data the cache is rebuilt from.
pub(crate) fn content_version<'a>(collections: impl Iterator<Item = (&'a str, ContentHash)>) -> String {
    let map: BTreeMap<&str, String> = collections.map(|(name, hash)| (name, hash.to_string())).collect();
    ContentHash::of(&canon::canonical_of(&map).expect("a map of strings canonicalizes")).to_string()
}
