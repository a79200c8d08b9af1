//! Stage 5, deploy: publishes checked content to PostgreSQL in one transaction, then hands
//! the cache flush to [`crate::flush`]. The order of events is the contract:
//!
//! 1. check (errors: exit 1, no connection) and compile, in memory;
//! 2. parse the cache URL (exit 2), connect to the cache and PING it (exit 3: nothing is
//!    committed yet); connect; finish any flush an earlier deploy left pending;
//! 3. BEGIN; take the deploy advisory lock (bounded by `--lock-timeout`, exit 3 naming the
//!    holder); migrate seedc's own schema forward;
//! 4. plan: read the stored hashes and diff client-side ([`plan`]); refuse (exit 4) if a
//!    published manifest would change; `--dry-run` stops here and rolls back;
//! 5. write `out/` and seedc.lock exactly as `seedc build` would;
//! 6. write only what changed: rows, packs, manifests, the deploy record and the outbox row
//!    of the cache flush; COMMIT. Unchanged content writes no row at all;
//! 7. flush the cache (exit 5 if Redis fails: committed, flush pending).

mod apply;
pub mod memo;
mod noop;
pub(crate) mod plan;
pub(crate) mod render;
mod report;
mod session;
pub(crate) mod status;
pub(crate) mod status_render;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::build::Compiled;
use crate::build::cache::Fingerprint;
use crate::build::write;
use crate::check::Checked;
use crate::db::sql::{self as store, Row, StoredCollection};
use crate::db::{self, STATEMENT_TIMEOUT, pg};
use crate::diag::Sink;
use crate::diag::Sources;
use crate::exit::{Exit, ExitError};
use crate::json::canon::{self, ContentHash};
use crate::json::fielddiff;
use crate::load::known::Known;
use noop::Unchanged;
use plan::{RowDiff, RowSource};
pub use report::{CollectionPlan, Counts, Op, Outcome, Plan, RecordChange, Report, Rollback};
use session::{Session, begin};

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub build: write::Options,
    pub database_url: String,
    /// The cache to flush; required unless `dry_run`.
    pub cache: Option<crate::flush::CacheOptions>,
    pub lock_timeout: Duration,
    pub dry_run: bool,
    pub prune: bool,
    /// Deploy a collection version lower than the database's (or its version with other
    /// content) on purpose; recorded as a rollback.
    pub allow_rollback: bool,
    /// Plan every collection from its stored data, as if every table had drifted: finds
    /// edits made while the drift triggers were off (`--full`).
    pub full: bool,
    /// Collect field-level changes (`-v`).
    pub details: bool,
    /// Reports a database that stopped answering, just before the process exits 3.
    pub on_timeout: db::OnTimeout,
    /// Where to publish `out/` (`[publish] url`): bundles and manifests before COMMIT,
    /// `index.json` after it.
    pub publish: Option<crate::publish::Options>,
}

/// One collection's new rows, with each record's hash.
struct Prepared<'a> {
    name: &'a str,
    table: &'a str,
    version: String,
    hash: ContentHash,
    rows: Vec<Row<'a>>,
    /// The records the rows are made from, in the same order.
    records: &'a [crate::load::Record],
}

fn prepare(checked: &Checked) -> Vec<Prepared<'_>> {
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
            Some(Prepared { name, table: checked.config.table(name), version, hash, rows, records: &seed.records })
        })
        .collect()
}

/// The content version: the hash of every collection's content hash, so it names exactly
/// the data the cache is rebuilt from.
fn content_version<'a>(collections: impl Iterator<Item = (&'a str, ContentHash)>) -> String {
    let map: BTreeMap<&str, String> = collections.map(|(name, hash)| (name, hash.to_string())).collect();
    ContentHash::of(&canon::canonical_of(&map).expect("a map of strings canonicalizes")).to_string()
}

pub fn application_name() -> String {
    format!("seedc deploy (pid {})", std::process::id())
}

/// How a deploy starts: either a cache hit of the build may prove it a no-op without a
/// check, or the content is checked first.
enum Start {
    Unchanged(Box<Unchanged>),
    Checked(Box<CheckedRoot>),
}

/// A content root checked clean (warnings aside), with the known records it was checked
/// against.
struct CheckedRoot {
    checked: Checked,
    sink: Sink,
    known: Option<Known>,
}

impl Start {
    fn schema(&self) -> &str {
        match self {
            Start::Unchanged(u) => &u.config.deploy.schema,
            Start::Checked(c) => &c.checked.config.deploy.schema,
        }
    }
}

/// Runs a whole deploy of the content root `project` opened (a directory: `out/` is
/// written inside it).
pub fn deploy(project: &crate::project::Project, options: &Options) -> Result<Outcome> {
    let root = project.root().ok_or_else(|| anyhow::anyhow!("a deploy needs a content root in a directory"))?;
    let fingerprint = Fingerprint::compute(root)?;
    // Inputs a clean build has already checked need no new check to prove a no-op.
    let unchanged = if options.details || options.full { None } else { Unchanged::load(project, &fingerprint, options)? };
    let start = match unchanged {
        Some(u) => Start::Unchanged(Box::new(u)),
        None => match check(project, &fingerprint, !options.details)? {
            Ok(c) => Start::Checked(Box::new(c)),
            Err(invalid) => return Ok(invalid),
        },
    };
    if !options.dry_run && options.cache.is_none() {
        return Err(ExitError::new(
            Exit::Usage,
            "deploy needs a Redis url to flush the cache: set --redis-url or REDIS_URL (or use --dry-run)",
        ));
    }
    // Before any database connection: a malformed URL is exit 2; before BEGIN: a cache that
    // is unreachable, refuses the login or fails TLS is exit 3, with nothing committed.
    let cache = match (&options.cache, options.dry_run) {
        (Some(cache), false) => {
            Some(crate::flush::Cache::connect(&crate::flush::Endpoint::parse(cache)?).map_err(crate::flush::CacheError::before_commit)?)
        }
        _ => None,
    };
    let mut session = Session::open(options, start.schema(), cache)?;
    let checked = match start {
        Start::Checked(c) => *c,
        Start::Unchanged(unchanged) => {
            if let Some(plan) = unchanged.probe(&mut session, options)? {
                let (build, sink, sources) = if options.dry_run {
                    (None, Sink::default(), Sources::default())
                } else {
                    match write::build(project, &options.build)? {
                        write::Outcome::Invalid { diagnostics, .. } => {
                            return Ok(Outcome::Invalid { sink: diagnostics.sink, sources: diagnostics.sources });
                        }
                        write::Outcome::Done { report, diagnostics } => (Some(report), diagnostics.sink, diagnostics.sources),
                    }
                };
                session.finish_flush(options, false);
                let mut report = session.report(plan, build, None, false);
                // The database holds this content; the store may not (an earlier publish failed).
                if let (Some(publish), false) = (&options.publish, options.dry_run) {
                    let mut publication = prepare_publication(root, publish)?;
                    publication.content()?;
                    publication.index()?;
                    report.publish = Some(publication.report().clone());
                }
                return Ok(Outcome::Done { report: Box::new(report), sink, sources });
            }
            // Something differs from what the database holds: this deploy writes, so check.
            match check(project, &fingerprint, !options.details)? {
                Ok(c) => c,
                Err(invalid) => return Ok(invalid),
            }
        }
    };
    publish(root, options, fingerprint, session, checked)
}

/// The check of a deploy. With the memo of the last deploy ([`memo`]) only records whose
/// bytes changed are parsed and validated; the memo comes back as the index of known
/// records the plan may read the deployed rows from. What is reported is exactly what
/// `seedc check` reports (see [`crate::load::known`]). Content with errors is the outcome.
fn check(project: &crate::project::Project, fingerprint: &Fingerprint, use_memo: bool) -> Result<Result<CheckedRoot, Outcome>> {
    let root = project.root().unwrap_or(Path::new(""));
    // Field-level changes (`-v`) compare record values, which a memo does not keep.
    let known = if use_memo { memo::load(&root.join(write::OUT_DIR), &fingerprint.global) } else { None };
    let (checked, sink) = match &known {
        // Nothing to lean on (a first deploy, or `-v`): no record is held parsed longer
        // than it takes to validate and write it canonically.
        None => crate::check::run(project, crate::check::Mode::FirstDeploy)?,
        Some(known) => crate::check::run(project, crate::check::Mode::Deploy(known))?,
    };
    if sink.has_errors() {
        return Ok(Err(Outcome::Invalid { sink, sources: checked.content.sources }));
    }
    Ok(Ok(CheckedRoot { checked, sink, known }))
}

/// The full path: plan from checked content, write `out/`, write what changed, commit, flush.
fn publish(root: &Path, options: &Options, fingerprint: Fingerprint, mut session: Session, root_checked: CheckedRoot) -> Result<Outcome> {
    let CheckedRoot { checked, sink, known } = root_checked;
    let compiled = crate::build::compile(&checked, &options.build.dates)?;
    let mut prepared = prepare(&checked);
    let schema = session.schema.clone();
    let Some((mut tx, watchdog)) = begin(&mut session.db, &schema, options)? else {
        return Err(session.lock_busy(options));
    };
    let mut migrated = if options.dry_run { false } else { store::migrate(&mut tx, &schema)? };
    let have_schema = migrated || store::schema_version(&mut tx, &schema)? > 0;
    if !options.dry_run {
        // Tables deployed before drift detection (or whose triggers were dropped) get them.
        for p in &prepared {
            if store::table_exists(&mut tx, p.table)? && store::drift_triggers(&mut tx, p.table)? == store::Triggers::Missing {
                store::create_drift_triggers(&mut tx, &schema, p.table, p.name)?;
                migrated = true;
            }
        }
    }

    let (plan, work) = make_plan(&mut tx, &checked, known.as_ref(), &mut prepared, have_schema, &compiled, options)?;
    if options.dry_run {
        tx.rollback().map_err(pg)?;
        let report = session.report(plan, None, None, false);
        return Ok(Outcome::Done { report: Box::new(report), sink, sources: checked.content.sources });
    }

    watchdog.disarm();
    let out = root.join(write::OUT_DIR);
    // The memo of this content is made while the database works, and replaces the old one
    // only once the content is committed (or found already there).
    memo::remove(&out);
    let global = fingerprint.global.clone();
    let build = write::build_checked(root, &options.build, fingerprint, &checked, &sink, &compiled)?;
    // Every bundle (and the manifests naming them) is readable from the store before the
    // rows that name them commit; the index follows the commit. A store that fails here
    // fails the deploy with nothing committed.
    let mut publication = match &options.publish {
        Some(publish) => {
            let mut p = prepare_publication(root, publish)?;
            p.content()?;
            Some(p)
        }
        None => None,
    };
    let committing = format!("committing (whether the commit happened is unknown: see {schema}.deploys)");
    let mut deploy_id = None;
    let memo = std::thread::scope(|scope| -> Result<Result<memo::Pending>> {
        let memo = scope.spawn(|| memo::prepare(&out, &checked, known.as_ref(), &global));
        // The data of every drifted collection matches the seeds once this commits.
        for (collection, seq) in &work.markers {
            store::clear_drift(&mut tx, &schema, collection, *seq)?;
        }
        if plan.is_noop() {
            watchdog.arm(&committing, STATEMENT_TIMEOUT);
            // Nothing to write: not even a deploy record. Only a migration (or a drift marker
            // with no row left to repair) is worth a commit.
            if migrated || !work.markers.is_empty() { tx.commit() } else { tx.rollback() }.map_err(pg)?;
        } else {
            let id = store::next_deploy_id(&mut tx, &schema)?;
            apply::apply(&mut tx, &checked, &compiled, &prepared, &plan, &work, id, watchdog)?;
            watchdog.arm(&committing, STATEMENT_TIMEOUT);
            tx.commit()
                .map_err(|e| ExitError::new(Exit::Service, format!("the commit failed: {}; nothing was committed", db::error_text(&e))))?;
            deploy_id = Some(id);
        }
        // The content may be committed by now: a memo writer that panicked costs the next
        // deploy its shortcut, never this deploy its exit code or its cache flush.
        Ok(memo.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the record memo could not be written"))))
    })?;
    // Only a shortcut for the next deploy: failing to write it fails nothing.
    let _ = memo.and_then(memo::Pending::commit);
    drop(prepared);
    let mut checked = checked;
    let sources = std::mem::take(&mut checked.content.sources);
    // Freeing hundreds of thousands of parsed records takes a tenth of a large deploy; do it
    // beside the flush, and let the process end without waiting for it.
    std::thread::spawn(move || drop((checked, known)));
    session.finish_flush(options, deploy_id.is_some() && plan.changed_collections().next().is_some());
    let mut report = session.report(plan, Some(build), deploy_id, migrated);
    if let Some(publication) = &mut publication {
        // Committed: like a pending flush, a step after the commit is left to finish (exit 5),
        // never exit 3, which says nothing was committed.
        publication.index().map_err(|e| {
            ExitError::new(
                crate::exit::Exit::FlushPending,
                format!("the deploy is committed, but index.json could not be published: {e:#}; `seedc publish` finishes it"),
            )
        })?;
        report.publish = Some(publication.report().clone());
    }
    Ok(Outcome::Done { report: Box::new(report), sink, sources })
}

/// The publish of a deploy, decided: `out/` was just written, so damage there is a tool error.
fn prepare_publication(root: &Path, options: &crate::publish::Options) -> Result<crate::publish::Publication> {
    crate::publish::Publication::prepare(root, options)?
        .map_err(|sink| anyhow::anyhow!("out/ fails verification after the build ({} problems): not publishing it", sink.iter().count()))
}

/// What `apply` needs beyond the plan: the row diff of each collection, by name.
#[derive(Default)]
struct Work {
    diffs: HashMap<String, RowDiff>,
    table_exists: HashMap<String, bool>,
    new_packs: Vec<usize>,
    new_manifests: Vec<usize>,
    /// The drift markers read (collection, seq): the deploy clears them, its data now
    /// matching the seeds.
    markers: Vec<(String, i64)>,
}

fn make_plan(
    tx: &mut postgres::Transaction,
    checked: &Checked,
    known: Option<&Known>,
    prepared: &mut [Prepared],
    have_schema: bool,
    compiled: &Compiled,
    options: &Options,
) -> Result<(Plan, Work)> {
    let schema = checked.config.deploy.schema.as_str();
    let stored = if have_schema { store::stored_collections(tx, schema)? } else { HashMap::new() };
    let markers = if have_schema { store::drift_markers(tx, schema)? } else { HashMap::new() };
    let mut work = Work::default();
    let mut collections = Vec::new();
    let mut rollbacks = Vec::new();
    for p in prepared.iter_mut() {
        let exists = store::table_exists(tx, p.table)?;
        let before = stored.get(p.name);
        if let Some(r) = before.and_then(|b| rollback(p, b)) {
            rollbacks.push(r);
        }
        let marker = markers.get(p.name);
        let memo = known.and_then(|k| k.collections.get(p.name));
        // The triggers named every key written outside seedc: plan as if nothing drifted, then
        // compare only those rows by their data.
        let (named, drifted) = plan::drift_scope(marker.map(|m| m.keys.as_deref()), exists, options.full);
        let source = plan::row_source(before, exists, drifted, p.table, p.hash, memo.map(|k| (k.hash, k.records.len())), options.prune);
        let diff = match source {
            // The recorded hash vouches for the table: unchanged content reads no row at all.
            RowSource::Recorded { kept } => RowDiff { unchanged: p.rows.len(), kept: vec![String::new(); kept], ..RowDiff::default() },
            // The memo is what the table holds: no need to read its hashes.
            RowSource::Memo => {
                let rows: Vec<(&str, ContentHash)> =
                    memo.iter().flat_map(|k| &k.records).map(|r| (r.key.as_str(), r.canonical.hash)).collect();
                let same: Vec<Option<usize>> = p.records.iter().map(crate::load::Record::known).collect();
                plan::diff_known(p.rows.iter().map(|r| (r.id, r.hash)), &same, &rows, options.prune)
            }
            RowSource::Table => plan::diff_rows(p.rows.iter().map(|r| (r.id, r.hash)), &store::stored_hashes(tx, p.table)?, options.prune),
            RowSource::Stored => diff_stored(tx, p, before, marker, options.prune)?,
            RowSource::Empty => {
                plan::diff_rows(p.rows.iter().map(|r| (r.id, r.hash)), &HashMap::<String, ContentHash>::new(), options.prune)
            }
        };
        let diff = match named {
            Some(keys) => diff_named(tx, p, diff, keys, options.prune)?,
            None => diff,
        };
        let after = StoredCollection {
            table: p.table.to_owned(),
            version: p.version.clone(),
            hash: Some(p.hash),
            records: p.rows.len() as i64,
            rows_kept: diff.kept.len() as i64,
        };
        let changed = diff.writes() > 0 || before != Some(&after);
        let changes = if options.details { record_changes(tx, p, &diff, exists)? } else { Vec::new() };
        if let Some(m) = marker {
            work.markers.push((p.name.to_owned(), m.seq));
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
            changes,
        });
        work.diffs.insert(p.name.to_owned(), diff);
        work.table_exists.insert(p.name.to_owned(), exists);
    }

    if !rollbacks.is_empty() && !options.allow_rollback {
        let last = if have_schema { store::last_deploy(tx, schema)? } else { None };
        let last = last.map_or(String::new(), |d| format!(" (last deploy #{} at {})", d.id, d.at));
        let lines: Vec<String> = rollbacks
            .iter()
            .map(|r: &Rollback| {
                if r.from == r.to {
                    format!("{}: the database holds {} with other content{last}", r.collection, r.from)
                } else {
                    format!("{}: the database holds {}{last}, this content is the older {}", r.collection, r.from, r.to)
                }
            })
            .collect();
        return Err(ExitError::new(
            Exit::Refused,
            format!(
                "refusing to roll back the database; nothing was committed\n  {}\n  bump the collection's version past the deployed one, or pass --allow-rollback to deploy it on purpose",
                lines.join("\n  ")
            ),
        ));
    }

    let mut packs = Counts::default();
    let hashes: Vec<String> = compiled.bundles.iter().map(|b| b.hash.to_string()).collect();
    let published = if have_schema { store::published_packs(tx, schema, &hashes)? } else { Vec::new() };
    for (i, h) in hashes.iter().enumerate() {
        if published.contains(h) {
            packs.unchanged += 1;
        } else {
            packs.new += 1;
            work.new_packs.push(i);
        }
    }

    let mut manifests = Counts::default();
    let ids: Vec<String> = compiled.manifests.iter().map(|m| m.manifest.manifest_id.clone()).collect();
    let published = if have_schema { store::published_manifests(tx, schema, &ids)? } else { HashMap::new() };
    let mut refused = Vec::new();
    for (i, m) in compiled.manifests.iter().enumerate() {
        match published.get(&m.manifest.manifest_id) {
            None => {
                manifests.new += 1;
                work.new_manifests.push(i);
            }
            Some(h) if *h == m.hash.to_string() => manifests.unchanged += 1,
            Some(h) => refused.push(format!("{} is published ({h}) and this build would change it to {}", m.manifest.manifest_id, m.hash)),
        }
    }
    if !refused.is_empty() {
        return Err(ExitError::new(
            Exit::Refused,
            format!(
                "refusing to change a published manifest; nothing was committed\n  {}\n  a daily is immutable once published: deploy other dates, or restore the content it was built from",
                refused.join("\n  ")
            ),
        ));
    }

    let plan = Plan {
        dry_run: options.dry_run,
        content_version: content_version(prepared.iter().map(|p| (p.name, p.hash))),
        collections,
        packs,
        manifests,
        rollbacks,
    };
    Ok((plan, work))
}

/// A collection version lower than the database's, or the database's version with other
/// content: a rollback, which the deploy must be told is meant.
fn rollback(p: &Prepared, before: &StoredCollection) -> Option<Rollback> {
    let (new, old) = (semver::Version::parse(&p.version).ok()?, semver::Version::parse(&before.version).ok()?);
    let reused = new == old && before.hash.is_some_and(|h| h != p.hash);
    (new < old || reused).then(|| Rollback { collection: p.name.to_owned(), from: before.version.clone(), to: p.version.clone() })
}

/// The row diff of a drifted table, from every stored row's data: its canonical hash is
/// computed here (on every core) and compared with the new record's and the row's own hash
/// column, so an edit that left `content_hash` alone is found.
fn diff_stored(
    tx: &mut postgres::Transaction,
    p: &Prepared,
    before: Option<&StoredCollection>,
    marker: Option<&store::DriftMarker>,
    prune: bool,
) -> Result<RowDiff> {
    let stored = stored_hashes(store::stored_rows(tx, p.table)?);
    let keys: Option<std::collections::HashSet<String, rustc_hash::FxBuildHasher>> =
        marker.and_then(|m| m.keys.as_ref()).map(|k| k.iter().cloned().collect());
    let recorded = before.filter(|b| b.table == p.table);
    let drift = plan::Drift {
        keys: keys.as_ref(),
        seeds_unchanged: recorded.is_some_and(|b| b.hash == Some(p.hash)),
        kept_before: recorded.is_none_or(|b| b.rows_kept > 0),
    };
    Ok(plan::diff_stored(p.rows.iter().map(|r| (r.id, r.hash)), &stored, drift, prune))
}

/// Each stored row's own hash column and the canonical hash of its data (on every core).
fn stored_hashes(rows: Vec<store::StoredRow>) -> HashMap<String, plan::StoredHashes, rustc_hash::FxBuildHasher> {
    use rayon::prelude::*;
    rows.into_par_iter()
        .map(|r| {
            // jsonb text always parses; a failure would only make the row differ.
            let data = serde_json::from_str(&r.data).map_or(ContentHash([0; 32]), |v| canon::hash_value(&v));
            (r.id, plan::StoredHashes { column: r.hash, data })
        })
        .collect()
}

/// [`plan::overlay_named`]: the rows the drift triggers named, compared by their data.
fn diff_named(tx: &mut postgres::Transaction, p: &Prepared, base: RowDiff, keys: &[String], prune: bool) -> Result<RowDiff> {
    let stored = stored_hashes(store::stored_rows_with(tx, p.table, keys)?);
    let named: std::collections::HashSet<String> = keys.iter().cloned().collect();
    let new: Vec<(&str, ContentHash)> = p.rows.iter().map(|r| (r.id, r.hash)).collect();
    Ok(plan::overlay_named(base, &new, &named, &stored, prune))
}

/// Record-level changes of one collection, with the fields of each update; a repair of
/// drift says so.
fn record_changes(tx: &mut postgres::Transaction, p: &Prepared, diff: &RowDiff, exists: bool) -> Result<Vec<RecordChange>> {
    let mut out: Vec<RecordChange> = Vec::new();
    let ids: Vec<&str> = diff.update.iter().map(|&i| p.rows[i].id).collect();
    let old = if exists && !ids.is_empty() { store::stored_records(tx, p.table, &ids)? } else { HashMap::new() };
    let drifted = |id: &str| diff.drifted.binary_search_by(|k| k.as_str().cmp(id)).is_ok();
    for &i in &diff.update {
        let row = &p.rows[i];
        // A record the memo vouched for was not parsed: its canonical bytes are its value.
        let parsed: Option<serde_json::Value> =
            if p.records[i].value().is_none() { serde_json::from_slice(row.canonical).ok() } else { None };
        let new = p.records[i].value().or(parsed.as_ref());
        let fields = old.get(row.id).zip(new).map(|(o, n)| fielddiff::field_changes(o, n)).unwrap_or_default();
        out.push(RecordChange { id: row.id.to_owned(), op: Op::Update, drifted: drifted(row.id), fields });
    }
    let change = |id: &str, op| RecordChange { id: id.to_owned(), op, drifted: drifted(id), fields: Vec::new() };
    out.extend(diff.insert.iter().map(|&i| change(p.rows[i].id, Op::Insert)));
    out.extend(diff.delete.iter().map(|id| change(id, Op::Delete)));
    out.extend(diff.kept.iter().filter(|id| drifted(id)).map(|id| change(id, Op::Keep)));
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

// The one caller hands over everything the plan was made from; a struct would only rename it.
