//! Saved deploy plans: `deploy --dry-run --save-plan FILE` writes the plan it printed
//! together with everything it was made against, and `deploy --plan FILE` applies exactly
//! that plan or refuses ([`stale`]). The file is a versioned JSON document ([`SavedPlan`])
//! ending in the SHA-256 of its own canonical bytes, so an altered file is refused before
//! anything else happens (an integrity check, not a signature: whoever may edit the file
//! may recompute it; keep plans where reviewers put them, as CI artifacts).
//!
//! What binds the plan to the database is read in the deploy's own transaction, under the
//! deploy lock: the database's identity (a seedc-owned id made by its first deploy), the
//! last deploy, what seedc recorded of each collection, and the stored state (content hash
//! column and data) of every row the plan updates or deletes. Applying re-inspects the same
//! way and decides again; the plan is applied only when the new decision is the saved one.

pub(crate) mod render;
pub(crate) mod stale;

use crate::project::tree::ReadError;
use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Plan;
use super::content::Content;
use super::decide::Work;
use super::report::Op;
use crate::db::{LastDeploy, StoredCollection, rows};
use crate::exit::{Exit, ExitError};
use crate::json::canon::{self, ContentHash};

/// The `format` of a plan file, and the `v` this seedc writes and reads.
pub const FORMAT: &str = "seedc-plan";
pub const VERSION: u32 = 1;

/// A plan file is read whole; one larger than this is not a plan seedc wrote.
const MAX_BYTES: u64 = 1 << 30;

/// A saved plan: the plan printed by the dry run that made it, what it was made against,
/// and the rows it writes with their preconditions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPlan {
    pub format: String,
    pub v: u32,
    /// The seedc that made it (information only).
    pub seedc_version: String,
    /// When it was made, UTC (information only).
    pub made_at: String,
    /// The environment (`--env`) it was made for; applying it to another is refused.
    pub environment: Option<String>,
    /// The deploy options it was made with; applying it uses these, not the command line's.
    pub options: PlanOptions,
    pub against: Against,
    /// The plan as `deploy --dry-run -v --format json` prints it.
    pub plan: Plan,
    /// One per collection of the content, in its order.
    pub rows: Vec<CollectionRows>,
    /// `sha256:` of the canonical (RFC 8785) bytes of this document without `digest`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanOptions {
    pub prune: bool,
    pub full: bool,
    pub allow_rollback: bool,
    /// The dailies it publishes (YYYY-MM-DD): `--days` resolved when the plan was made.
    pub dates: Vec<String>,
}

/// What the plan was made against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Against {
    /// The database's identity; None when it had none yet (no deploy by a seedc that makes one).
    pub database: Option<String>,
    /// seedc's schema in that database.
    pub schema: String,
    /// The last deploy recorded then; None before the first.
    pub last_deploy: Option<LastDeploy>,
    pub content: ContentState,
}

/// The content a plan deploys: enough to tell, without reading it again, whether a content
/// root is still the planned one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentState {
    pub version: String,
    pub collections: Vec<CollectionState>,
    pub packs: Vec<ContentHash>,
    pub manifests: Vec<ManifestState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionState {
    pub name: String,
    pub version: String,
    pub hash: ContentHash,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestState {
    pub id: String,
    pub hash: ContentHash,
}

impl ContentState {
    pub(crate) fn of(content: &Content) -> ContentState {
        ContentState {
            version: content.version(),
            collections: content
                .collections
                .iter()
                .map(|p| CollectionState { name: p.name.to_owned(), version: p.version.clone(), hash: p.hash })
                .collect(),
            packs: content.packs.clone(),
            manifests: content.manifests.iter().map(|(id, hash)| ManifestState { id: (*id).to_owned(), hash: *hash }).collect(),
        }
    }
}

/// One collection's table as the plan found it, and the rows the plan writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionRows {
    pub collection: String,
    pub table: String,
    pub table_exists: bool,
    /// What seedc had recorded of the collection.
    pub recorded: Option<Recorded>,
    /// Sorted by key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowPlan>,
}

impl CollectionRows {
    /// The stored data of a row the plan updates or deletes.
    pub(crate) fn stored(&self, id: &str) -> Option<&Value> {
        let at = self.rows.binary_search_by(|r| r.id.as_str().cmp(id)).ok()?;
        self.rows[at].stored.as_ref().map(|s| &s.data)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    pub table: String,
    pub version: String,
    pub hash: Option<ContentHash>,
    pub records: i64,
    pub rows_kept: i64,
}

impl From<&StoredCollection> for Recorded {
    fn from(c: &StoredCollection) -> Recorded {
        Recorded { table: c.table.clone(), version: c.version.clone(), hash: c.hash, records: c.records, rows_kept: c.rows_kept }
    }
}

/// One row the plan writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowPlan {
    pub id: String,
    pub op: Op,
    /// The content hash of the record written (insert, update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<ContentHash>,
    /// The row as the table held it (update, delete): the precondition of the write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<StoredState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredState {
    /// Its `content_hash` column (None when that did not parse).
    pub hash: Option<ContentHash>,
    pub data: Value,
}

/// The rows the decided plan writes, with the stored state of those it updates or deletes,
/// read in `tx` (the deploy's transaction, under the deploy lock); `recorded` is what seedc
/// recorded of the collections ([`super::inspect::Snapshot::recorded`]).
pub(crate) fn bind_rows(
    tx: &mut postgres::Transaction,
    recorded: &HashMap<String, StoredCollection>,
    content: &Content,
    work: &Work,
) -> Result<Vec<CollectionRows>> {
    let mut out = Vec::new();
    for ((p, diff), exists) in content.collections.iter().zip(&work.diffs).zip(&work.table_exists) {
        let mut rows: Vec<RowPlan> = diff
            .insert
            .iter()
            .map(|&i| RowPlan { id: p.rows[i].id.to_owned(), op: Op::Insert, hash: Some(p.rows[i].hash), stored: None })
            .collect();
        rows.extend(diff.update.iter().map(|&i| RowPlan {
            id: p.rows[i].id.to_owned(),
            op: Op::Update,
            hash: Some(p.rows[i].hash),
            stored: None,
        }));
        rows.extend(diff.delete.iter().map(|id| RowPlan { id: id.clone(), op: Op::Delete, hash: None, stored: None }));
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        let read: Vec<String> = rows.iter().filter(|r| r.op != Op::Insert).map(|r| r.id.clone()).collect();
        if *exists && !read.is_empty() {
            for stored in rows::stored_rows_with(tx, p.table, &read)? {
                let Ok(at) = rows.binary_search_by(|r| r.id.as_str().cmp(&stored.id)) else { continue };
                // jsonb text always parses.
                let data = serde_json::from_str(&stored.data).unwrap_or(Value::Null);
                rows[at].stored = Some(StoredState { hash: stored.hash, data });
            }
        }
        out.push(CollectionRows {
            collection: p.name.to_owned(),
            table: p.table.to_owned(),
            table_exists: *exists,
            recorded: recorded.get(p.name).map(Recorded::from),
            rows,
        });
    }
    Ok(out)
}

impl SavedPlan {
    /// The plan a dry run made, sealed: `database` is the identity read before anything
    /// else, `last_deploy` and `rows` what the plan was decided on.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn made(
        options: &super::Options,
        database: Option<String>,
        schema: &str,
        last_deploy: Option<LastDeploy>,
        content: &Content,
        plan: &Plan,
        rows: Vec<CollectionRows>,
    ) -> Result<SavedPlan> {
        let mut dates: Vec<String> = options.build.dates.iter().map(ToString::to_string).collect();
        dates.sort();
        dates.dedup();
        SavedPlan {
            format: FORMAT.to_owned(),
            v: VERSION,
            seedc_version: env!("CARGO_PKG_VERSION").to_owned(),
            made_at: jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            environment: options.environment.clone(),
            options: PlanOptions { prune: options.prune, full: options.full, allow_rollback: options.allow_rollback, dates },
            against: Against { database, schema: schema.to_owned(), last_deploy, content: ContentState::of(content) },
            plan: plan.clone(),
            rows,
            digest: String::new(),
        }
        .seal()
    }

    /// The digest this document should carry.
    fn compute_digest(&self) -> Result<String> {
        let mut body = serde_json::to_value(self).context("the plan does not serialize")?;
        Ok(digest_of(&mut body).1)
    }

    /// Seals the plan with its digest.
    pub(crate) fn seal(mut self) -> Result<SavedPlan> {
        self.digest = self.compute_digest()?;
        Ok(self)
    }

    /// Writes the plan to `path`, atomically (a reader never sees half a plan).
    pub(crate) fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self).context("the plan does not serialize")?;
        text.push('\n');
        crate::project::atomic::write_atomic(path, text.as_bytes()).with_context(|| format!("cannot save the plan to {}", path.display()))
    }

    /// Reads a plan file, refusing (exit 2) one that is not a regular file, not JSON, of
    /// another format or version, or altered since it was written.
    pub fn read(path: &Path) -> Result<SavedPlan> {
        let usage = |why: String| ExitError::new(Exit::Usage, format!("{}: {why}", crate::report::shown(&path.display().to_string())));
        let bytes = crate::project::tree::read_regular_file(path, MAX_BYTES).map_err(|e| match e {
            e if e.is_not_regular() => usage("not a regular file".to_owned()),
            ReadError::TooLarge { .. } => usage(format!("larger than {} MiB: not a plan seedc wrote", MAX_BYTES >> 20)),
            e => usage(format!("cannot read the plan: {e}")),
        })?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| usage(format!("not a plan file: {e}")))?;
        let format = value.get("format").and_then(Value::as_str);
        let v = value.get("v").and_then(Value::as_u64);
        if format != Some(FORMAT) {
            return Err(usage(format!("not a seedc plan file (its format is {}, not {FORMAT:?})", shown_member(value.get("format")))));
        }
        if v != Some(u64::from(VERSION)) {
            return Err(usage(format!(
                "a plan of format version {}, which this seedc ({}) cannot read (it reads version {VERSION}): make the plan with the seedc that applies it",
                shown_member(value.get("v")),
                env!("CARGO_PKG_VERSION")
            )));
        }
        let mut body = value;
        let (digest, computed) = digest_of(&mut body);
        let sealed = digest.as_ref().and_then(Value::as_str) == Some(computed.as_str());
        let mut plan: SavedPlan = serde_json::from_value(body).map_err(|e| usage(format!("a malformed plan file: {e}")))?;
        plan.digest = digest.as_ref().and_then(Value::as_str).unwrap_or_default().to_owned();
        // The digest is of the document as read; that it also reads back as a plan of this
        // format is what deserializing it (without unknown members) checked.
        if !sealed {
            return Err(usage(
                "the plan file was altered after it was saved (its digest does not match its content); make a new plan with `seedc deploy --dry-run --save-plan`"
                    .to_owned(),
            ));
        }
        Ok(plan)
    }

    /// The dates of the dailies it publishes.
    pub fn dates(&self) -> Result<Vec<jiff::civil::Date>> {
        self.options
            .dates
            .iter()
            .map(|d| {
                d.parse()
                    .map_err(|e| ExitError::new(Exit::Usage, format!("the plan names an invalid date {}: {e}", crate::report::shown(d))))
            })
            .collect()
    }
}

/// Takes `digest` out of a plan document and returns it with the digest the rest has: the
/// SHA-256 of its canonical (RFC 8785) bytes.
fn digest_of(body: &mut Value) -> (Option<Value>, String) {
    let digest = body.as_object_mut().and_then(|m| m.remove("digest"));
    (digest, canon::hash_value(body).to_string())
}

/// A member of an unreadable plan, for its error message.
fn shown_member(v: Option<&Value>) -> String {
    v.map_or("missing".to_owned(), |v| crate::report::shown_json(v).to_string())
}
