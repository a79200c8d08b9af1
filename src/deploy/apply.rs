//! Apply: writing a decided plan in the deploy's transaction: the drift triggers a table
//! lacks and the drift markers the plan repairs ([`upkeep`]), then changed rows (COPY into
//! a stage, then merge), packs, manifests, the deploy record and the outbox row of its
//! cache flush, and the digest of the saved plan it applied ([`apply`]).

use anyhow::Result;

use super::Plan;
use super::content::Content;
use super::decide::Work;
use super::report::summary;
use crate::build::{Compiled, Mode};
use crate::db::{self, STATEMENT_TIMEOUT, StoredCollection, drift, outbox, registry, rows};
use crate::json::canon::HashVersion;
use crate::project::config::Config;

/// What every deploy that commits does, even one that writes no row: tables deployed
/// before drift detection (or whose triggers were dropped) get them, and the drift markers
/// read are cleared, the data of every drifted collection matching the seeds once this
/// commits.
pub(super) fn upkeep(tx: &mut postgres::Transaction, schema: &str, content: &Content, work: &Work) -> Result<()> {
    for &i in &work.triggers {
        let p = &content.collections[i];
        drift::create_drift_triggers(tx, schema, p.table, p.name)?;
    }
    for (collection, seq) in &work.markers {
        drift::clear_drift(tx, schema, collection, *seq)?;
    }
    // Recorded hashes of an older definition, of content that did not change: no row is
    // written, and nothing is flushed.
    for &i in &work.restamp {
        let p = &content.collections[i];
        registry::restamp_collection(tx, schema, p.name, &p.hash, HashVersion::CURRENT)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) fn apply(
    tx: &mut postgres::Transaction,
    config: &Config,
    compiled: &Compiled,
    content: &Content,
    plan: &Plan,
    work: &Work,
    deploy_id: i64,
    saved: Option<&str>,
    watchdog: &db::Watchdog,
) -> Result<()> {
    let schema = config.deploy.schema.as_str();
    for (((p, c), diff), exists) in content.collections.iter().zip(&plan.collections).zip(&work.diffs).zip(&work.table_exists) {
        if !c.changed {
            continue;
        }
        watchdog.arm(&format!("writing table {:?}", p.table), STATEMENT_TIMEOUT);
        let pick = |idx: &[usize]| idx.iter().map(|&i| p.rows[i].clone()).collect::<Vec<_>>();
        if !exists {
            rows::create_table(tx, p.table, &p.version, &pick(&diff.insert))?;
            // After the load, which thus captures no transition rows.
            drift::create_drift_triggers(tx, schema, p.table, p.name)?;
        } else if !diff.insert.is_empty() {
            rows::insert_rows(tx, p.table, &p.version, &pick(&diff.insert))?;
        }
        if !diff.update.is_empty() {
            rows::update_rows(tx, p.table, &p.version, &pick(&diff.update))?;
        }
        if !diff.delete.is_empty() {
            rows::delete_rows(tx, p.table, &diff.delete)?;
        }
        let after = StoredCollection {
            table: p.table.to_owned(),
            version: p.version.clone(),
            hash: Some(p.hash),
            hash_version: HashVersion::CURRENT,
            records: p.rows.len() as i64,
            rows_kept: c.kept as i64,
        };
        registry::record_collection(tx, schema, p.name, &after, deploy_id)?;
    }
    watchdog.arm("writing packs, manifests and the deploy record", STATEMENT_TIMEOUT);
    for &i in &work.new_packs {
        let b = &compiled.bundles[i];
        let row = registry::PackRow {
            hash: b.hash.to_string(),
            pack_id: &b.pack_id,
            version: &b.version,
            kind: &b.kind,
            pack_schema_v: &b.pack_schema_v,
            body: &b.bytes,
        };
        registry::insert_pack(tx, schema, &row, deploy_id)?;
    }
    for &i in &work.new_manifests {
        let m = &compiled.manifests[i];
        let mode = match m.manifest.mode {
            Mode::Daily => "DAILY",
            Mode::Freeplay => "FREEPLAY",
        };
        let row = registry::ManifestRow {
            manifest_id: &m.manifest.manifest_id,
            mode,
            date: m.manifest.daily.as_ref().map(|d| d.date.as_str()),
            hash: m.hash.to_string(),
            body: &m.bytes,
        };
        registry::insert_manifest(tx, schema, &row, deploy_id)?;
    }
    let record = registry::DeployRecord {
        id: deploy_id,
        project: &config.project.name,
        content_version: &plan.content_version,
        summary: &summary(plan),
        rollback: !plan.rollbacks.is_empty(),
        plan: saved,
    };
    registry::record_deploy(tx, schema, &record)?;
    let mut keys: Vec<String> = plan.changed_collections().flat_map(|c| config.cache_keys(&c.collection)).collect();
    if !keys.is_empty() {
        keys.sort();
        keys.dedup();
        outbox::record_flush(tx, schema, deploy_id, &keys, &config.cache.version_key, &plan.content_version)?;
    }
    Ok(())
}
