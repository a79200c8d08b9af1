//! Stage 5, deploy: publishes checked content to PostgreSQL in one transaction, then hands
//! the cache flush to [`crate::flush`]. The order of events is the contract:
//!
//! 1. check (errors: exit 1, nothing read from or written to any service) and compile, in
//!    memory; a plain deploy opens its connections (step 2's first half) meanwhile, and
//!    drops them unused when the content is invalid;
//! 2. parse the cache URL (exit 2), connect to the cache and PING it (exit 3: nothing is
//!    committed yet); connect; finish any flush an earlier deploy left pending;
//! 3. BEGIN; take the deploy advisory lock (bounded by `--lock-timeout`, exit 3 naming the
//!    holder); migrate seedc's own schema forward (verifying the migrations it has);
//! 4. plan: [`inspect`] reads what the database holds into one snapshot; [`decide`], pure,
//!    makes the plan from it and the content, or refuses (exit 4: a rollback not asked
//!    for, a published manifest that would change); `--dry-run` stops here and rolls back;
//! 5. write `out/` and seedc.lock exactly as `seedc build` would;
//! 6. write only what changed: rows, packs, manifests, the deploy record and the outbox row
//!    of the cache flush; COMMIT. Unchanged content writes no row at all;
//! 7. flush the cache (exit 5 if Redis fails: committed, flush pending).

mod apply;
pub(crate) mod content;
pub(crate) mod decide;
pub(crate) mod fields;
pub(crate) mod inspect;
pub mod memo;
mod noop;
pub(crate) mod plan;
pub(crate) mod render;
mod report;
pub mod saved;
mod session;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::build::cache::Fingerprint;
use crate::build::write;
use crate::db::{self, STATEMENT_TIMEOUT, migrate, pg, registry};
use crate::diag::Sink;
use crate::diag::Sources;
use crate::exit::{Exit, ExitError};
use crate::project::Project;
use content::{CheckedRoot, Content, check};
use inspect::Reads;
use noop::Unchanged;
pub use report::{CollectionPlan, Counts, Op, Outcome, Plan, RecordChange, Report, Rollback, SavedRef};
pub use saved::SavedPlan;
use session::{DeploySession, begin};

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
    /// The environment of seedc.toml the targets came from (`--env`, `SEEDC_ENV`), if any;
    /// a saved plan records it.
    pub environment: Option<String>,
    /// Save the plan of a dry run, or apply a saved plan.
    pub saved: Saved,
}

/// What a deploy does with a saved plan ([`saved`]).
#[derive(Debug, Clone, Default)]
pub enum Saved {
    #[default]
    No,
    /// `--dry-run --save-plan FILE`.
    Save(PathBuf),
    /// `--plan FILE`: apply exactly this plan, or refuse.
    Apply(Box<SavedPlan>),
}

impl Saved {
    fn any(&self) -> bool {
        !matches!(self, Saved::No)
    }
}

pub fn application_name() -> String {
    format!("seedc deploy (pid {})", std::process::id())
}

/// How a deploy starts: either a cache hit of the build may prove it a no-op without a
/// check, or the content is checked first.
enum Start {
    Unchanged(Box<Unchanged>),
    Checked(Box<Ready>),
}

impl Start {
    fn schema(&self) -> &str {
        match self {
            Start::Unchanged(u) => &u.config.deploy.schema,
            Start::Checked(r) => &r.root.checked.config.deploy.schema,
        }
    }
}

/// Content checked clean and compiled (bundles, manifests, index), before any connection.
struct Ready {
    root: CheckedRoot,
    compiled: crate::build::Compiled,
}

impl Ready {
    fn compile(root: CheckedRoot, options: &Options) -> Result<Ready> {
        let compiled = crate::build::compile(&root.checked, &options.build.dates)?;
        Ok(Ready { root, compiled })
    }
}

/// Runs a whole deploy of the content root `project` opened (a directory: `out/` is
/// written inside it).
pub fn deploy(project: &Project, options: &Options) -> Result<Outcome> {
    let root = project.root().ok_or_else(|| anyhow::anyhow!("a deploy needs a content root in a directory"))?;
    // With a build cache to compare with, every input is hashed before the check (a hit
    // skips it); without one (a fresh checkout), the inputs' fingerprints are taken from the
    // bytes the check reads, so the content is read once.
    let out = root.join(write::OUT_DIR);
    let cached = crate::build::cache::BuildCache::load(&out);
    let has_cache = cached.is_some();
    let fingerprint = if has_cache { Fingerprint::compute(root)? } else { Fingerprint::without_inputs(root)? };
    // Inputs a clean build has already checked need no new check to prove a no-op.
    // A saved plan binds rows, which the shortcut never reads.
    let unchanged = if options.details || options.full || options.saved.any() {
        None
    } else {
        Unchanged::load(project, cached, &fingerprint, options)?
    };
    // The check is most of a deploy from a fresh checkout: the connections are opened while
    // it runs. Not for a saved plan, refused for stale content before connecting, nor for a
    // deploy whose usage error comes after the check.
    let connecting = (unchanged.is_none() && !options.saved.any() && (options.dry_run || options.cache.is_some())).then(|| {
        let (options, schema) = (options.clone(), project.config().deploy.schema.clone());
        std::thread::spawn(move || connect(&options, &schema))
    });
    let start = match unchanged {
        Some(u) => Start::Unchanged(Box::new(u)),
        None => match check(project, &fingerprint, "deploy")? {
            Ok(c) => Start::Checked(Box::new(Ready::compile(c, options)?)),
            Err(diagnostics) => return Ok(Outcome::Invalid { diagnostics, not_done: report::NOT_DONE }),
        },
    };
    // A plan made for other content or another environment is refused before connecting.
    if let (Saved::Apply(saved), Start::Checked(r)) = (&options.saved, &start) {
        saved::stale::environment(saved, options.environment.as_deref())?;
        saved::stale::content(saved, &Content::new(&r.root.checked, Some(&r.compiled), r.root.known.as_ref()))?;
    }
    if !options.dry_run && options.cache.is_none() {
        return Err(ExitError::new(
            Exit::Usage,
            "deploy needs a Redis url to flush the cache: set --redis-url or REDIS_URL (or use --dry-run)",
        ));
    }
    let connections = match connecting {
        Some(connecting) => connecting.join().unwrap_or_else(|_| Err(anyhow::anyhow!("connecting to the cache and the database failed"))),
        None => connect(options, start.schema()),
    }?;
    let mut session = DeploySession::open(options, start.schema(), connections)?;
    let ready = match start {
        Start::Checked(r) => *r,
        Start::Unchanged(unchanged) => {
            if let Some(plan) = unchanged.probe(&mut session, options)? {
                let (build, sink, sources) = if options.dry_run {
                    (None, Sink::default(), Sources::default())
                } else {
                    match write::build(project, &options.build)? {
                        write::Outcome::Invalid { diagnostics, .. } => {
                            return Ok(Outcome::Invalid { diagnostics, not_done: report::NOT_DONE });
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
                return Ok(report::done(report, sink, sources));
            }
            // Something differs from what the database holds: this deploy writes, so check.
            match check(project, &fingerprint, "deploy")? {
                Ok(c) => Ready::compile(c, options)?,
                Err(diagnostics) => return Ok(Outcome::Invalid { diagnostics, not_done: report::NOT_DONE }),
            }
        }
    };
    let fingerprint = if has_cache { fingerprint } else { fingerprint.of_checked_inputs(root, &ready.root.checked) };
    deploy_checked(root, options, fingerprint, session, ready)
}

/// Connects to the cache (a dry run needs none), then to the database. Before any database
/// connection: a malformed cache URL is exit 2; before BEGIN: a cache that is unreachable,
/// refuses the login or fails TLS is exit 3, with nothing committed.
fn connect(options: &Options, schema: &str) -> Result<(Option<crate::flush::Cache>, db::Session)> {
    let cache = match (&options.cache, options.dry_run) {
        (Some(cache), false) => {
            Some(crate::flush::Cache::connect(&crate::flush::Endpoint::parse(cache)?).map_err(crate::flush::CacheError::before_commit)?)
        }
        _ => None,
    };
    let db = db::Session::open(&options.database_url, &application_name(), schema, options.on_timeout)?;
    Ok((cache, db))
}

/// The full path of a deploy, from compiled content: under the deploy lock migrate, inspect
/// and decide; write `out/`; apply what changed and commit; flush; publish the index.
fn deploy_checked(root: &Path, options: &Options, fingerprint: Fingerprint, mut session: DeploySession, ready: Ready) -> Result<Outcome> {
    let Ready { root: CheckedRoot { checked, sink, known }, compiled } = ready;
    let content = Content::new(&checked, Some(&compiled), known.as_ref());
    let schema = session.schema.clone();
    let Some((mut tx, watchdog)) = begin(&mut session.db, &schema, options)? else {
        return Err(session.lock_busy(options));
    };
    // Before migrating, which may give the database its identity.
    let database = match &options.saved {
        Saved::Apply(saved) => {
            saved::stale::database(saved, &mut tx, &schema)?;
            None
        }
        Saved::Save(_) => db::registry::database_id(&mut tx, &schema)?,
        Saved::No => None,
    };
    let migrated = if options.dry_run { false } else { migrate::migrate(&mut tx, &schema)? };
    let snapshot = inspect::inspect(&mut tx, &schema, &content, Reads::Deploy { prune: options.prune, full: options.full })?;
    let decide::Decision { mut plan, work } = decide::decide(&snapshot, &content, options).map_err(decide::Refusal::into_error)?;
    // A saved plan reads the stored rows it binds once, and takes its field changes from them.
    let bound = if options.saved.any() { Some(saved::bind_rows(&mut tx, &snapshot.recorded, &content, &work)?) } else { None };
    if options.details {
        let collections = content.collections.iter().zip(&mut plan.collections).zip(work.diffs.iter().zip(&work.table_exists));
        for (i, ((p, c), (diff, exists))) in collections.enumerate() {
            match &bound {
                Some(bound) => fields::fill_from(p, diff, |id| bound[i].stored(id), &mut c.changes),
                None => fields::fill(&mut tx, p, diff, *exists, &mut c.changes)?,
            }
        }
    }
    let last_deploy = snapshot.last_deploy.clone();
    drop(snapshot);
    let mut saved_ref = None;
    match (&options.saved, bound) {
        (Saved::Apply(saved), Some(bound)) => {
            saved::stale::rows(saved, &bound, &plan, &content)?;
            saved_ref = Some(SavedRef { digest: saved.digest.clone(), file: None });
        }
        (Saved::Save(path), Some(bound)) if options.dry_run => {
            let made = saved::SavedPlan::made(options, database, &schema, last_deploy, &content, &plan, bound)?;
            made.write(path)?;
            saved_ref = Some(SavedRef { digest: made.digest, file: Some(path.display().to_string()) });
        }
        _ => {}
    }
    if options.dry_run {
        tx.rollback().map_err(pg)?;
        let mut report = session.report(plan, None, None, false);
        report.saved_plan = saved_ref;
        return Ok(report::done(report, sink, checked.content.sources));
    }
    // Tables given their drift triggers, and recorded hashes rewritten in the current
    // definition, count as a migration: worth a commit of their own.
    let migrated = migrated || !work.triggers.is_empty() || !work.restamp.is_empty();

    watchdog.disarm();
    let out = root.join(write::OUT_DIR);
    // The memo of this content is made while the database works, and replaces the old one
    // only once the content is committed (or found already there).
    // Content the memo already holds (a drift repair, unchanged content) keeps it as it is.
    // A deploy from a fresh checkout (no memo) that finds the database already holding the
    // content writes none: the next deploy of the same content is proven a no-op by the build
    // cache alone, and a fresh CI checkout would throw it away unread.
    let keep_memo = memo::stands(known.as_ref(), &checked);
    let cold_noop = known.is_none() && plan.is_noop();
    let write_memo = !(keep_memo || cold_noop);
    if !keep_memo {
        memo::remove(&out);
    }
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
    let memo = std::thread::scope(|scope| -> Result<Result<Option<memo::Pending>>> {
        let memo = scope.spawn(|| if write_memo { memo::prepare(root, &checked, known.as_ref(), &global).map(Some) } else { Ok(None) });
        apply::upkeep(&mut tx, &schema, &content, &work)?;
        if plan.is_noop() {
            watchdog.arm(&committing, STATEMENT_TIMEOUT);
            // Nothing to write: not even a deploy record. Only a migration (or a drift marker
            // with no row left to repair) is worth a commit.
            if migrated || !work.markers.is_empty() { tx.commit() } else { tx.rollback() }.map_err(pg)?;
        } else {
            let id = registry::next_deploy_id(&mut tx, &schema)?;
            let digest = saved_ref.as_ref().map(|s| s.digest.as_str());
            apply::apply(&mut tx, &checked.config, &compiled, &content, &plan, &work, id, digest, watchdog)?;
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
    let _ = memo.and_then(|pending| pending.map_or(Ok(()), memo::Pending::commit));
    drop((content, work));
    let mut checked = checked;
    let sources = std::mem::take(&mut checked.content.sources);
    // Freeing hundreds of thousands of parsed records takes a tenth of a large deploy; do it
    // beside the flush, and let the process end without waiting for it.
    std::thread::spawn(move || drop((checked, known)));
    session.finish_flush(options, deploy_id.is_some() && plan.changed_collections().next().is_some());
    let mut report = session.report(plan, Some(build), deploy_id, migrated);
    report.saved_plan = saved_ref;
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
    Ok(report::done(report, sink, sources))
}

/// The publish of a deploy, decided: `out/` was just written, so damage there is a tool error.
fn prepare_publication(root: &Path, options: &crate::publish::Options) -> Result<crate::publish::Publication> {
    crate::publish::Publication::prepare(root, options)?
        .map_err(|sink| anyhow::anyhow!("out/ fails verification after the build ({} problems): not publishing it", sink.iter().count()))
}
