//! The cache flush outbox: the flush a deploy records in its transaction, the flushes
//! still pending, and marking them done.

use anyhow::Result;
use postgres::{Client, GenericClient, Transaction};

use super::catalog::ident;
use super::pg;

pub(crate) fn record_flush(
    tx: &mut Transaction,
    schema: &str,
    deploy_id: i64,
    keys: &[String],
    version_key: &str,
    content_version: &str,
) -> Result<()> {
    tx.execute(
        &format!("INSERT INTO {}.flush_outbox (deploy_id, keys, version_key, content_version) VALUES ($1, $2, $3, $4)", ident(schema)),
        &[&deploy_id, &keys, &version_key, &content_version],
    )
    .map_err(pg)?;
    Ok(())
}

/// A cache flush recorded by a committed deploy and not yet done (the outbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingFlush {
    pub deploy_id: i64,
    pub keys: Vec<String>,
    pub version_key: String,
    pub content_version: String,
}

/// Whether seedc's schema has its outbox yet (a database never deployed to has none).
pub(crate) fn outbox_exists(client: &mut impl GenericClient, schema: &str) -> Result<bool> {
    let outbox = format!("{}.flush_outbox", ident(schema));
    Ok(client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&outbox]).map_err(pg)?.get(0))
}

/// The pending flushes, oldest first.
pub(crate) fn pending_flushes(client: &mut impl GenericClient, schema: &str) -> Result<Vec<PendingFlush>> {
    let rows = client
        .query(
            &format!(
                "SELECT deploy_id, keys, version_key, content_version FROM {}.flush_outbox WHERE done_at IS NULL ORDER BY deploy_id",
                ident(schema)
            ),
            &[],
        )
        .map_err(pg)?;
    Ok(rows
        .iter()
        .map(|r| PendingFlush { deploy_id: r.get(0), keys: r.get(1), version_key: r.get(2), content_version: r.get(3) })
        .collect())
}

/// Marks the flushes of `deploy_ids` done.
pub(crate) fn mark_flushed(client: &mut Client, schema: &str, deploy_ids: &[i64]) -> Result<()> {
    client
        .execute(
            &format!("UPDATE {}.flush_outbox SET done_at = now() WHERE deploy_id = ANY($1) AND done_at IS NULL", ident(schema)),
            &[&deploy_ids],
        )
        .map_err(pg)?;
    Ok(())
}
