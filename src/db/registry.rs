//! seedc's registry of what it deployed: collection versions and hashes, published packs
//! (insert-only) and manifests (immutable), and the deploy records.

use std::collections::HashMap;

use anyhow::Result;
use postgres::Transaction;
use postgres::types::Json;
use serde_json::Value;

use super::catalog::ident;
use super::pg;
use crate::json::canon::{ContentHash, HashVersion};

/// What seedc recorded about a collection at its last deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCollection {
    pub table: String,
    pub version: String,
    pub hash: Option<ContentHash>,
    /// The definition `hash` follows; a hash is only ever compared with one of its own.
    pub hash_version: HashVersion,
    pub records: i64,
    pub rows_kept: i64,
}

pub(crate) fn stored_collections(tx: &mut Transaction, schema: &str) -> Result<HashMap<String, StoredCollection>> {
    // A schema not yet migrated (`status`, a dry run) recorded hashes of the first definition.
    let hash_v = if super::migrate::schema_version(tx, schema)? >= 3 { "hash_v" } else { "1" };
    let rows = tx
        .query(
            &format!("SELECT name, table_name, version, content_hash, records, rows_kept, {hash_v} FROM {}.collections", ident(schema)),
            &[],
        )
        .map_err(pg)?;
    Ok(rows
        .iter()
        .map(|r| {
            let hash: String = r.get(3);
            // A definition this seedc does not know compares with nothing: no hash.
            let hash_version = u32::try_from(r.get::<_, i32>(6)).ok().and_then(HashVersion::from_number);
            (
                r.get(0),
                StoredCollection {
                    table: r.get(1),
                    version: r.get(2),
                    hash: hash_version.and(ContentHash::parse(&hash)),
                    hash_version: hash_version.unwrap_or(HashVersion::CURRENT),
                    records: r.get(4),
                    rows_kept: r.get(5),
                },
            )
        })
        .collect())
}

/// The last deploy recorded: id, time (UTC) and content version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LastDeploy {
    pub id: i64,
    pub at: String,
    pub content_version: String,
    pub rollback: bool,
}

pub(crate) fn last_deploy(tx: &mut Transaction, schema: &str) -> Result<Option<LastDeploy>> {
    let rollback = if super::migrate::schema_version(tx, schema)? >= 2 { "rollback" } else { "false" };
    let row = tx
        .query_opt(
            &format!(
                "SELECT id, to_char(deployed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), content_version, {rollback} FROM {}.deploys ORDER BY id DESC LIMIT 1",
                ident(schema)
            ),
            &[],
        )
        .map_err(pg)?;
    Ok(row.map(|r| LastDeploy { id: r.get(0), at: r.get(1), content_version: r.get(2), rollback: r.get(3) }))
}

/// Records a collection's new version and hash (called only when they differ).
pub(crate) fn record_collection(tx: &mut Transaction, schema: &str, name: &str, c: &StoredCollection, deploy_id: i64) -> Result<()> {
    let hash = c.hash.map(|h| h.to_string()).unwrap_or_default();
    let hash_v = c.hash_version.number() as i32;
    tx.execute(
        &format!(
            "INSERT INTO {}.collections AS c (name, table_name, version, content_hash, hash_v, records, rows_kept, deploy_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (name) DO UPDATE SET table_name = EXCLUDED.table_name, version = EXCLUDED.version, content_hash = EXCLUDED.content_hash,
               hash_v = EXCLUDED.hash_v, records = EXCLUDED.records, rows_kept = EXCLUDED.rows_kept, deploy_id = EXCLUDED.deploy_id",
            ident(schema)
        ),
        &[&name, &c.table, &c.version, &hash, &hash_v, &c.records, &c.rows_kept, &deploy_id],
    )
    .map_err(pg)?;
    Ok(())
}

/// Rewrites the recorded hash of an unchanged collection in another definition, and nothing
/// else: the content it stands for, and so the rows, are those already deployed.
pub(crate) fn restamp_collection(tx: &mut Transaction, schema: &str, name: &str, hash: &ContentHash, v: HashVersion) -> Result<()> {
    let sql = format!("UPDATE {}.collections SET content_hash = $2, hash_v = $3 WHERE name = $1", ident(schema));
    tx.execute(&sql, &[&name, &hash.to_string(), &(v.number() as i32)]).map_err(pg)?;
    Ok(())
}

/// The pack hashes among `hashes` that are already published.
pub(crate) fn published_packs(tx: &mut Transaction, schema: &str, hashes: &[String]) -> Result<Vec<String>> {
    let rows = tx.query(&format!("SELECT hash FROM {}.packs WHERE hash = ANY($1)", ident(schema)), &[&hashes]).map_err(pg)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub(crate) struct PackRow<'a> {
    pub hash: String,
    pub pack_id: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub pack_schema_v: &'a str,
    pub body: &'a [u8],
}

pub(crate) fn insert_pack(tx: &mut Transaction, schema: &str, p: &PackRow, deploy_id: i64) -> Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO {}.packs (hash, pack_id, version, kind, pack_schema_v, body, deploy_id) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hash) DO NOTHING",
            ident(schema)
        ),
        &[&p.hash, &p.pack_id, &p.version, &p.kind, &p.pack_schema_v, &p.body, &deploy_id],
    )
    .map_err(pg)?;
    Ok(())
}

/// The stored hash of each of these manifests that is already published.
pub(crate) fn published_manifests(tx: &mut Transaction, schema: &str, ids: &[String]) -> Result<HashMap<String, String>> {
    let rows =
        tx.query(&format!("SELECT manifest_id, hash FROM {}.manifests WHERE manifest_id = ANY($1)", ident(schema)), &[&ids]).map_err(pg)?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub(crate) struct ManifestRow<'a> {
    pub manifest_id: &'a str,
    pub mode: &'a str,
    pub date: Option<&'a str>,
    pub hash: String,
    pub body: &'a [u8],
}

pub(crate) fn insert_manifest(tx: &mut Transaction, schema: &str, m: &ManifestRow, deploy_id: i64) -> Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO {}.manifests (manifest_id, mode, date, hash, body, deploy_id) VALUES ($1, $2, $3::text::date, $4, $5, $6)",
            ident(schema)
        ),
        &[&m.manifest_id, &m.mode, &m.date, &m.hash, &m.body, &deploy_id],
    )
    .map_err(pg)?;
    Ok(())
}

pub(crate) fn next_deploy_id(tx: &mut Transaction, schema: &str) -> Result<i64> {
    let seq = format!("{}.deploys_id_seq", ident(schema));
    Ok(tx.query_one("SELECT nextval($1::text::regclass)", &[&seq]).map_err(pg)?.get(0))
}

/// A deploy's record: what it deployed, and the saved plan it applied, if any.
pub(crate) struct DeployRecord<'a> {
    pub id: i64,
    pub project: &'a str,
    pub content_version: &'a str,
    pub summary: &'a Value,
    /// It deployed an older version on purpose.
    pub rollback: bool,
    /// The digest of the saved plan it applied.
    pub plan: Option<&'a str>,
}

/// Records a deploy.
pub(crate) fn record_deploy(tx: &mut Transaction, schema: &str, d: &DeployRecord) -> Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO {}.deploys (id, project, content_version, seedc_version, summary, rollback, plan) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            ident(schema)
        ),
        &[&d.id, &d.project, &d.content_version, &env!("CARGO_PKG_VERSION"), &Json(d.summary), &d.rollback, &d.plan],
    )
    .map_err(pg)?;
    Ok(())
}

/// The database's identity ([`super::migrate`]'s `0004_identity`), None before that migration.
pub(crate) fn database_id(tx: &mut Transaction, schema: &str) -> Result<Option<String>> {
    if super::migrate::schema_version(tx, schema)? < 4 {
        return Ok(None);
    }
    Ok(tx.query_opt(&format!("SELECT id FROM {}.identity", ident(schema)), &[]).map_err(pg)?.map(|r| r.get(0)))
}

/// The deploy that applied the saved plan of this digest, if one did.
pub(crate) fn deploy_of_plan(tx: &mut Transaction, schema: &str, digest: &str) -> Result<Option<LastDeploy>> {
    if super::migrate::schema_version(tx, schema)? < 4 {
        return Ok(None);
    }
    let row = tx
        .query_opt(
            &format!(
                "SELECT id, to_char(deployed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), content_version, rollback FROM {}.deploys WHERE plan = $1 ORDER BY id LIMIT 1",
                ident(schema)
            ),
            &[&digest],
        )
        .map_err(pg)?;
    Ok(row.map(|r| LastDeploy { id: r.get(0), at: r.get(1), content_version: r.get(2), rollback: r.get(3) }))
}
