//! Writing a plan: changed rows (COPY into a stage, then merge), packs, manifests, the
//! deploy record and the outbox row of its cache flush, all in the deploy's transaction.

use anyhow::Result;

use super::report::summary;
use super::{Plan, Prepared, Work};
use crate::build::{Compiled, Mode};
use crate::check::Checked;
use crate::db::sql::{self as store, StoredCollection};
use crate::db::{self, STATEMENT_TIMEOUT};

#[allow(clippy::too_many_arguments)]
pub(super) fn apply(
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
            // After the load, which thus captures no transition rows. (The deploy benchmark
            // leaves them out once, to measure what they cost a first deploy.)
            if std::env::var_os("SEEDC_BENCH_NO_DRIFT_TRIGGERS").is_none() {
                store::create_drift_triggers(tx, schema, p.table, p.name)?;
            }
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
    store::record_deploy(tx, schema, deploy_id, &config.project.name, &plan.content_version, &summary(plan), !plan.rollbacks.is_empty())?;
    let mut keys: Vec<String> = plan.changed_collections().flat_map(|c| config.cache_keys(&c.collection)).collect();
    if !keys.is_empty() {
        keys.sort();
        keys.dedup();
        store::record_flush(tx, schema, deploy_id, &keys, &config.cache.version_key, &plan.content_version)?;
    }
    Ok(())
}
