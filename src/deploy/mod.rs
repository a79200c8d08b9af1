//! Stage 5, deploy: publishes checked content to PostgreSQL in one transaction, then hands
//! the cache flush to [`crate::flush`]. The order of events is the contract:
//!
//! 1. check (errors: exit 1, no connection) and compile, in memory;
//! 2. connect; finish any flush an earlier deploy left pending;
//! 3. BEGIN; take the deploy advisory lock (bounded by `--lock-timeout`, exit 3 naming the
//!    holder); migrate seedc's own schema forward;
//! 4. plan: read the stored hashes and diff client-side ([`plan`]); refuse (exit 4) if a
//!    published manifest would change; `--dry-run` stops here and rolls back;
//! 5. write `out/` and seedc.lock exactly as `seedc build` would;
//! 6. write only what changed: rows, packs, manifests, the deploy record and the outbox row
//!    of the cache flush; COMMIT. Unchanged content writes no row at all;
//! 7. flush the cache (exit 5 if Redis fails: committed, flush pending).

pub mod memo;
pub mod plan;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use crate::build::cache::Fingerprint;
use crate::build::write::{self, Report as BuildReport};
use crate::build::{Compiled, Mode};
use crate::canon::{self, ContentHash};
use crate::check::{Checked, Keep};
use crate::db::sql::{self as store, Row, StoredCollection};
use crate::db::{self, STATEMENT_TIMEOUT, pg};
use crate::diag::Sink;
use crate::diag::Sources;
use crate::exit::{Exit, ExitError, exit_of};
use crate::flush::{self, FlushReport};
use crate::known::Known;
use plan::{FieldChange, RowDiff};

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub build: write::Options,
    pub database_url: String,
    /// Required unless `dry_run`.
    pub redis_url: Option<String>,
    pub lock_timeout: Duration,
    pub dry_run: bool,
    pub prune: bool,
    /// Collect field-level changes (`-v`).
    pub details: bool,
    /// Reports a database that stopped answering, just before the process exits 3.
    pub on_timeout: db::OnTimeout,
}

/// How a deploy ended, short of an error.
pub enum Outcome {
    /// The content has errors: nothing was connected to or written.
    Invalid { sink: Sink, sources: Sources },
    /// Planned (and, unless a dry run, committed). `sink` holds the check's warnings.
    Done { report: Box<Report>, sink: Sink, sources: Sources },
}

/// What a deploy did, for people and machines.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub plan: Plan,
    /// The build of `out/` (absent in a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildReport>,
    pub committed: bool,
    /// The deploy record written, if anything changed.
    pub deploy_id: Option<i64>,
    /// Cache flushes completed by this run (an earlier deploy's included).
    pub flush: FlushReport,
    /// Why the cache flush is still pending (the run exits 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flush_error: Option<String>,
}

/// The plan: what the deploy writes (or, in a dry run, would write).
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub dry_run: bool,
    /// The content version the version key is set to when a collection changes.
    pub content_version: String,
    pub collections: Vec<CollectionPlan>,
    pub packs: Counts,
    pub manifests: Counts,
}

impl Plan {
    pub fn changed_collections(&self) -> impl Iterator<Item = &CollectionPlan> {
        self.collections.iter().filter(|c| c.changed)
    }

    /// True when the deploy writes nothing at all.
    pub fn is_noop(&self) -> bool {
        self.changed_collections().next().is_none() && self.packs.new == 0 && self.manifests.new == 0
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub new: usize,
    pub unchanged: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CollectionPlan {
    pub collection: String,
    pub table: String,
    pub version: String,
    /// The version deployed before, if any.
    pub previous_version: Option<String>,
    pub inserted: usize,
    pub updated: usize,
    pub deleted: usize,
    /// Rows whose record left the seed file, kept by `--no-prune`.
    pub kept: usize,
    pub unchanged: usize,
    /// Rows written, or the collection's version or hash changed: its cache keys are flushed.
    pub changed: bool,
    /// Record-level changes (with `-v`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<RecordChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordChange {
    pub id: String,
    pub op: Op,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Insert,
    Update,
    Delete,
}

/// What deploy needs of a check: every record's canonical bytes (the rows' `jsonb`) and
/// hash (the plan), made in the pass that hashes the collections.
const KEEP: Keep = Keep { records: true };

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
                .map(|(r, c)| Row { id: r.key.as_deref().unwrap_or_default(), canonical: &c.canonical.bytes, hash: c.canonical.hash })
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

/// Runs a whole deploy of the content root at `root`.
pub fn deploy(root: &Path, options: &Options) -> Result<Outcome> {
    let fingerprint = Fingerprint::compute(root)?;
    // Inputs a clean build has already checked need no new check to prove a no-op.
    let unchanged = if options.details { None } else { Unchanged::load(root, &fingerprint, options)? };
    let mut checked = None;
    if unchanged.is_none() {
        let (c, sink, prior) = check(root, &fingerprint, options)?;
        if sink.has_errors() {
            return Ok(Outcome::Invalid { sink, sources: c.content.sources });
        }
        checked = Some((c, sink, prior));
    }
    if !options.dry_run && options.redis_url.is_none() {
        return Err(ExitError::new(
            Exit::Usage,
            "deploy needs a Redis url to flush the cache: set --redis-url or REDIS_URL (or use --dry-run)",
        ));
    }
    let schema = match (&checked, &unchanged) {
        (Some((c, _, _)), _) => c.config.deploy.schema.clone(),
        (None, Some(u)) => u.config.deploy.schema.clone(),
        (None, None) => unreachable!("either checked or proven unchanged"),
    };

    let mut session = Session::open(options, &schema)?;
    if let Some(unchanged) = unchanged {
        if let Some(plan) = unchanged.probe(&mut session, options)? {
            let (build, sink, sources) = if options.dry_run {
                (None, Sink::default(), Sources::default())
            } else {
                match write::build(root, &options.build)? {
                    write::Outcome::Invalid { sink, sources } => return Ok(Outcome::Invalid { sink, sources }),
                    write::Outcome::Built { report, sink, sources } => (Some(report), sink, sources),
                }
            };
            session.finish_flush(options, false);
            let report = session.report(plan, build, None, false);
            return Ok(Outcome::Done { report: Box::new(report), sink, sources });
        }
        // Something differs from what the database holds: this deploy writes, so check.
        let (c, sink, prior) = check(root, &fingerprint, options)?;
        if sink.has_errors() {
            return Ok(Outcome::Invalid { sink, sources: c.content.sources });
        }
        checked = Some((c, sink, prior));
    }
    let (checked, sink, prior) = checked.expect("checked above");
    publish(root, options, fingerprint, session, checked, sink, prior)
}

/// The check of a deploy. With the memo of the last deploy ([`memo`]) only records whose
/// bytes changed are parsed and validated; the memo comes back as the index of known
/// records the plan may read the deployed rows from. What is reported is exactly what
/// `seedc check` reports (see [`crate::known`]).
fn check(root: &Path, fingerprint: &Fingerprint, options: &Options) -> Result<(Checked, Sink, Option<Known>)> {
    let tree = crate::tree::Tree::dir(root);
    // Field-level changes (`-v`) compare record values, which a memo does not keep.
    let known = if options.details { None } else { memo::load(&root.join(write::OUT_DIR), &fingerprint.global) };
    let prepared = crate::check::prepare_with(&tree, known.as_ref())?;
    let (checked, sink) = crate::check::finish(prepared, KEEP, known.as_ref())?;
    Ok((checked, sink, known))
}

/// The connection of one deploy, its watchdog, and the flushes it has completed so far.
struct Session {
    db: db::Session,
    schema: String,
    flushed: FlushReport,
    flush_error: Option<String>,
}

impl Session {
    /// Connects, then completes any flush an earlier deploy left pending: its keys are
    /// stale right now. A Redis failure there is remembered, not fatal: this deploy's own
    /// flush retries it.
    fn open(options: &Options, schema: &str) -> Result<Session> {
        let db = db::Session::open(&options.database_url, &application_name(), options.on_timeout)?;
        let mut session = Session { db, schema: schema.to_owned(), flushed: FlushReport::default(), flush_error: None };
        if let (false, Some(redis)) = (options.dry_run, options.redis_url.as_deref()) {
            session.db.watchdog.arm("completing a pending cache flush", options.lock_timeout + STATEMENT_TIMEOUT);
            match flush::flush(&mut session.db.client, schema, redis, options.lock_timeout) {
                Ok(report) => session.flushed = report,
                Err(e) if exit_of(&e) == Exit::FlushPending => session.flush_error = Some(e.to_string()),
                Err(e) => return Err(e),
            }
        }
        Ok(session)
    }

    /// Flushes after the commit when this deploy recorded a flush (`pending`) or an
    /// earlier one is still waiting.
    fn finish_flush(&mut self, options: &Options, pending: bool) {
        if options.dry_run || !(pending || self.flush_error.is_some()) {
            return;
        }
        let redis = options.redis_url.as_deref().unwrap_or_default();
        self.db.watchdog.arm("flushing the cache (the deploy is committed)", options.lock_timeout + STATEMENT_TIMEOUT);
        match flush::flush(&mut self.db.client, &self.schema, redis, options.lock_timeout) {
            Ok(report) => {
                self.flushed.deploys.extend(report.deploys);
                self.flushed.keys_removed += report.keys_removed;
                self.flushed.version = report.version.or(self.flushed.version.take());
                self.flush_error = None;
            }
            Err(e) => self.flush_error = Some(e.to_string()),
        }
        self.db.watchdog.disarm();
    }

    /// The error of a deploy lock that timed out, naming the holder if it still holds it.
    fn lock_busy(&mut self, options: &Options) -> anyhow::Error {
        let holder = store::lock_holder(&mut self.db.client, db::Lock::Deploy.key(&self.schema));
        ExitError::new(
            Exit::Service,
            format!(
                "another deploy holds the deploy lock of schema {:?}{holder}; gave up after {}s (--lock-timeout); nothing was committed",
                self.schema,
                options.lock_timeout.as_secs()
            ),
        )
    }

    fn report(self, plan: Plan, build: Option<BuildReport>, deploy_id: Option<i64>, migrated: bool) -> Report {
        Report { plan, build, committed: deploy_id.is_some() || migrated, deploy_id, flush: self.flushed, flush_error: self.flush_error }
    }
}

/// What a cache hit of the build proves without a check: the collections' versions and
/// hashes (seedc.lock, written by that clean build) and the packs and manifests.
struct Unchanged {
    config: crate::config::Config,
    lock: crate::lock::Lock,
    packs: Vec<crate::build::PackIndex>,
    manifests: Vec<crate::build::ManifestFile>,
}

impl Unchanged {
    fn load(root: &Path, fingerprint: &Fingerprint, options: &Options) -> Result<Option<Unchanged>> {
        let Some(cached) = crate::build::cache::Cache::load(&root.join(write::OUT_DIR)).filter(|c| c.hit(fingerprint, root)) else {
            return Ok(None);
        };
        let config = crate::config::Config::load(root)?;
        let lock = crate::lock::Lock::load(root)?;
        if !config.collections.keys().all(|name| lock.collections.contains_key(name)) {
            return Ok(None);
        }
        let freeplay_at = crate::build::freeplay_time(cached.content_time);
        // A config the manifests cannot be made from: the full path reports it.
        let Ok(manifests) = crate::build::manifests_for(&config, &cached.packs, &options.build.dates, freeplay_at) else {
            return Ok(None);
        };
        Ok(Some(Unchanged { config, lock, packs: cached.packs, manifests }))
    }

    /// The plan of a deploy that writes nothing, if the database already holds exactly this
    /// content; None when anything differs (the caller then checks and plans in full).
    fn probe(&self, session: &mut Session, options: &Options) -> Result<Option<Plan>> {
        let schema = self.config.deploy.schema.as_str();
        let Some((mut tx, _)) = begin(&mut session.db, schema, options)? else {
            return Err(session.lock_busy(options));
        };
        let plan = self.compare(&mut tx, options)?;
        tx.rollback().map_err(pg)?;
        session.db.watchdog.disarm();
        Ok(plan)
    }

    fn compare(&self, tx: &mut postgres::Transaction, options: &Options) -> Result<Option<Plan>> {
        let schema = self.config.deploy.schema.as_str();
        if store::schema_version(tx, schema)? != store::SCHEMA_VERSION {
            return Ok(None);
        }
        let stored = store::stored_collections(tx, schema)?;
        let mut collections = Vec::new();
        for name in self.config.collections.keys() {
            let locked = &self.lock.collections[name];
            let table = self.config.table(name);
            let Some(b) = stored.get(name) else { return Ok(None) };
            if b.table != table || b.version != locked.version || b.hash != Some(locked.hash) || (b.rows_kept > 0 && options.prune) {
                return Ok(None);
            }
            if !store::table_exists(tx, table)? {
                return Ok(None);
            }
            collections.push(CollectionPlan {
                collection: name.clone(),
                table: table.to_owned(),
                version: b.version.clone(),
                previous_version: Some(b.version.clone()),
                inserted: 0,
                updated: 0,
                deleted: 0,
                kept: b.rows_kept as usize,
                unchanged: b.records as usize,
                changed: false,
                changes: Vec::new(),
            });
        }
        let hashes: Vec<String> = self.packs.iter().map(|p| p.pack_hash.to_string()).collect();
        if store::published_packs(tx, schema, &hashes)?.len() != hashes.len() {
            return Ok(None);
        }
        let ids: Vec<String> = self.manifests.iter().map(|m| m.manifest.manifest_id.clone()).collect();
        let published = store::published_manifests(tx, schema, &ids)?;
        if !self.manifests.iter().all(|m| published.get(&m.manifest.manifest_id) == Some(&m.hash.to_string())) {
            return Ok(None);
        }
        let content_version = content_version(
            self.lock.collections.iter().filter(|(n, _)| self.config.collections.contains_key(*n)).map(|(n, c)| (n.as_str(), c.hash)),
        );
        Ok(Some(Plan {
            dry_run: options.dry_run,
            content_version,
            collections,
            packs: Counts { new: 0, unchanged: hashes.len() },
            manifests: Counts { new: 0, unchanged: ids.len() },
        }))
    }
}

/// The full path: plan from checked content, write `out/`, write what changed, commit, flush.
fn publish(
    root: &Path,
    options: &Options,
    fingerprint: Fingerprint,
    mut session: Session,
    checked: Checked,
    sink: Sink,
    known: Option<Known>,
) -> Result<Outcome> {
    let compiled = crate::build::compile(&checked, &options.build.dates)?;
    let mut prepared = prepare(&checked);
    let schema = session.schema.clone();
    let Some((mut tx, watchdog)) = begin(&mut session.db, &schema, options)? else {
        return Err(session.lock_busy(options));
    };
    let migrated = if options.dry_run { false } else { store::migrate(&mut tx, &schema)? };
    let have_schema = migrated || store::schema_version(&mut tx, &schema)? > 0;

    let (plan, work) = make_plan(&mut tx, &checked, known.as_ref(), &mut prepared, have_schema, &compiled, options)?;
    drop(known);
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
    let committing = format!("committing (whether the commit happened is unknown: see {schema}.deploys)");
    let mut deploy_id = None;
    let memo = std::thread::scope(|scope| -> Result<Result<memo::Pending>> {
        let memo = scope.spawn(|| memo::prepare(&out, &checked, &global));
        if plan.is_noop() {
            watchdog.arm(&committing, STATEMENT_TIMEOUT);
            // Nothing to write: not even a deploy record. Only a migration is worth a commit.
            if migrated { tx.commit() } else { tx.rollback() }.map_err(pg)?;
        } else {
            let id = store::next_deploy_id(&mut tx, &schema)?;
            apply(&mut tx, &checked, &compiled, &prepared, &plan, &work, id, watchdog)?;
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
    std::thread::spawn(move || drop(checked));
    session.finish_flush(options, deploy_id.is_some() && plan.changed_collections().next().is_some());
    let report = session.report(plan, Some(build), deploy_id, migrated);
    Ok(Outcome::Done { report: Box::new(report), sink, sources })
}

/// BEGIN and the deploy lock; None (the transaction rolled back) if the lock timed out.
fn begin<'a>(db: &'a mut db::Session, schema: &str, options: &Options) -> Result<Option<(postgres::Transaction<'a>, &'a db::Watchdog)>> {
    db.watchdog.arm("waiting for the deploy lock", options.lock_timeout);
    let tx = db::begin_locked(&mut db.client, db::Lock::Deploy.key(schema), options.lock_timeout)?;
    if tx.is_some() {
        db.watchdog.arm("planning", STATEMENT_TIMEOUT);
    }
    Ok(tx.map(|tx| (tx, &db.watchdog)))
}

/// What `apply` needs beyond the plan: the row diff of each collection, by name.
#[derive(Default)]
struct Work {
    diffs: HashMap<String, RowDiff>,
    table_exists: HashMap<String, bool>,
    new_packs: Vec<usize>,
    new_manifests: Vec<usize>,
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
    let mut work = Work::default();
    let mut collections = Vec::new();
    for p in prepared.iter_mut() {
        let exists = store::table_exists(tx, p.table)?;
        let before = stored.get(p.name);
        // The recorded hash vouches for the table: unchanged content reads no row at all.
        let trusted = before.filter(|b| exists && b.table == p.table && b.hash == Some(p.hash) && (b.rows_kept == 0 || !options.prune));
        let diff = match trusted {
            Some(b) => RowDiff { unchanged: p.rows.len(), kept: vec![String::new(); b.rows_kept as usize], ..RowDiff::default() },
            None => match before.filter(|_| exists).and_then(|b| deployed_rows(known, p, b)) {
                // The memo is what the table holds: no need to read its hashes.
                Some(rows) => {
                    let same: Vec<Option<usize>> = p.records.iter().map(crate::load::Record::known).collect();
                    plan::diff_known(p.rows.iter().map(|r| (r.id, r.hash)), &same, &rows, options.prune)
                }
                None => {
                    let rows = if exists { store::stored_hashes(tx, p.table)? } else { HashMap::default() };
                    plan::diff_rows(p.rows.iter().map(|r| (r.id, r.hash)), &rows, options.prune)
                }
            },
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
            changed,
            changes,
        });
        work.diffs.insert(p.name.to_owned(), diff);
        work.table_exists.insert(p.name.to_owned(), exists);
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
    };
    Ok((plan, work))
}

/// The rows of a collection's table according to the memo (`known`), when the database
/// records that the table holds exactly the memo's records: the same collection hash, as
/// many records, none kept by `--no-prune`. This is the trust a no-op deploy places in the
/// recorded hash; rows edited by hand are not noticed (see docs/deploying.md).
fn deployed_rows<'k>(known: Option<&'k Known>, p: &Prepared, before: &StoredCollection) -> Option<Vec<(&'k str, ContentHash)>> {
    let k = known?.collections.get(p.name)?;
    let vouched =
        before.table == p.table && before.hash == Some(k.hash) && before.rows_kept == 0 && before.records == k.records.len() as i64;
    vouched.then(|| k.records.iter().map(|r| (r.key.as_str(), r.canonical.hash)).collect())
}

/// Record-level changes of one collection, with the fields of each update.
fn record_changes(tx: &mut postgres::Transaction, p: &Prepared, diff: &RowDiff, exists: bool) -> Result<Vec<RecordChange>> {
    let mut out: Vec<RecordChange> = Vec::new();
    let ids: Vec<&str> = diff.update.iter().map(|&i| p.rows[i].id).collect();
    let old = if exists && !ids.is_empty() { store::stored_records(tx, p.table, &ids)? } else { HashMap::new() };
    for &i in &diff.update {
        let row = &p.rows[i];
        let new = p.records[i].value();
        let fields = old.get(row.id).zip(new).map(|(o, n)| plan::field_changes(o, n)).unwrap_or_default();
        out.push(RecordChange { id: row.id.to_owned(), op: Op::Update, fields });
    }
    out.extend(diff.insert.iter().map(|&i| RecordChange { id: p.rows[i].id.to_owned(), op: Op::Insert, fields: Vec::new() }));
    out.extend(diff.delete.iter().map(|id| RecordChange { id: id.clone(), op: Op::Delete, fields: Vec::new() }));
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

// The one caller hands over everything the plan was made from; a struct would only rename it.
#[allow(clippy::too_many_arguments)]
fn apply(
    tx: &mut postgres::Transaction,
    checked: &Checked,
    compiled: &Compiled,
    prepared: &[Prepared],
    plan: &Plan,
    work: &Work,
    deploy_id: i64,
    watchdog: &db::Watchdog,
) -> Result<()> {
    let config = &checked.config;
    let schema = config.deploy.schema.as_str();
    for (p, c) in prepared.iter().zip(&plan.collections) {
        if !c.changed {
            continue;
        }
        watchdog.arm(&format!("writing table {:?}", p.table), STATEMENT_TIMEOUT);
        let diff = &work.diffs[p.name];
        let pick = |idx: &[usize]| idx.iter().map(|&i| p.rows[i].clone()).collect::<Vec<_>>();
        if !work.table_exists[p.name] {
            store::create_table(tx, p.table, &p.version, &pick(&diff.insert))?;
        } else if !diff.insert.is_empty() {
            store::insert_rows(tx, p.table, &p.version, &pick(&diff.insert))?;
        }
        if !diff.update.is_empty() {
            store::update_rows(tx, p.table, &p.version, &pick(&diff.update))?;
        }
        if !diff.delete.is_empty() {
            store::delete_rows(tx, p.table, &diff.delete)?;
        }
        let after = StoredCollection {
            table: p.table.to_owned(),
            version: p.version.clone(),
            hash: Some(p.hash),
            records: p.rows.len() as i64,
            rows_kept: c.kept as i64,
        };
        store::record_collection(tx, schema, p.name, &after, deploy_id)?;
    }
    watchdog.arm("writing packs, manifests and the deploy record", STATEMENT_TIMEOUT);
    for &i in &work.new_packs {
        let b = &compiled.bundles[i];
        let row = store::PackRow {
            hash: b.hash.to_string(),
            pack_id: &b.pack_id,
            version: &b.version,
            kind: &b.kind,
            pack_schema_v: &b.pack_schema_v,
            body: &b.bytes,
        };
        store::insert_pack(tx, schema, &row, deploy_id)?;
    }
    for &i in &work.new_manifests {
        let m = &compiled.manifests[i];
        let mode = match m.manifest.mode {
            Mode::Daily => "DAILY",
            Mode::Freeplay => "FREEPLAY",
        };
        let row = store::ManifestRow {
            manifest_id: &m.manifest.manifest_id,
            mode,
            date: m.manifest.daily.as_ref().map(|d| d.date.as_str()),
            hash: m.hash.to_string(),
            body: &m.bytes,
        };
        store::insert_manifest(tx, schema, &row, deploy_id)?;
    }
    store::record_deploy(tx, schema, deploy_id, &config.project.name, &plan.content_version, &summary(plan))?;
    let mut keys: Vec<String> = plan.changed_collections().flat_map(|c| config.cache_keys(&c.collection)).collect();
    if !keys.is_empty() {
        keys.sort();
        keys.dedup();
        store::record_flush(tx, schema, deploy_id, &keys, &config.cache.version_key, &plan.content_version)?;
    }
    Ok(())
}

/// The summary of a plan kept in the deploy record: counts, never record contents.
fn summary(plan: &Plan) -> Value {
    let mut plan = plan.clone();
    for c in &mut plan.collections {
        c.changes.clear();
    }
    serde_json::to_value(&plan).expect("plans serialize")
}
