//! Drift detection in the database: the statement-level triggers every collection table
//! carries, the transaction mark that lets a deploy's own writes pass, and the markers the
//! triggers leave in `seedc.drift` for writes outside seedc.

use std::collections::HashMap;

use anyhow::{Context, Result};
use postgres::Transaction;

use super::catalog::{ident, relation};
use super::{pg, service};

/// The names of the drift triggers every collection table carries, one per kind of write.
const DRIFT_TRIGGERS: [(&str, &str, &str); 4] = [
    ("seedc_drift_insert", "INSERT", "REFERENCING NEW TABLE AS new_rows"),
    ("seedc_drift_update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("seedc_drift_delete", "DELETE", "REFERENCING OLD TABLE AS old_rows"),
    ("seedc_drift_truncate", "TRUNCATE", ""),
];

/// Whether a collection table carries the drift triggers (statement-level, so a bulk write
/// pays once per statement, not per row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Triggers {
    /// All four, enabled: every write outside a deploy is noted.
    Enabled,
    /// Some are missing (a table deployed before drift detection, or dropped by hand).
    Missing,
    /// All there, but one is disabled (`ALTER TABLE … DISABLE TRIGGER`): writes go unnoticed.
    Disabled,
}

/// The drift triggers of a collection table that exists.
pub(crate) fn drift_triggers(tx: &mut Transaction, table: &str) -> Result<Triggers> {
    let names: Vec<&str> = DRIFT_TRIGGERS.iter().map(|t| t.0).collect();
    let row = tx
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE t.tgenabled = 'D') FROM pg_catalog.pg_trigger t
             JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relname = $1 AND n.nspname = current_schema() AND t.tgname = ANY($2)",
            &[&table, &names],
        )
        .map_err(pg)?;
    let (present, disabled): (i64, i64) = (row.get(0), row.get(1));
    Ok(if present < DRIFT_TRIGGERS.len() as i64 {
        Triggers::Missing
    } else if disabled > 0 {
        Triggers::Disabled
    } else {
        Triggers::Enabled
    })
}

/// Creates the drift triggers of `table` (noting writes to `collection`), replacing any of
/// the same name. Called after a new table's rows are loaded, so the load captures no
/// transition rows.
pub(crate) fn create_drift_triggers(tx: &mut Transaction, schema: &str, table: &str, collection: &str) -> Result<()> {
    let (s, t) = (ident(schema), ident(table));
    let arg = format!("'{}'", collection.replace('\'', "''"));
    let sql: String = DRIFT_TRIGGERS
        .iter()
        .map(|(name, event, referencing)| {
            format!("CREATE OR REPLACE TRIGGER {name} AFTER {event} ON {t} {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {s}.note_drift({arg});\n")
        })
        .collect();
    tx.batch_execute(&sql).with_context(|| format!("cannot create the drift triggers of table {table:?}")).map_err(service)
}

/// Marks the transaction as seedc's own: the drift triggers ignore its writes. Local to the
/// transaction, so it ends with it.
pub(crate) fn mark_deploy(tx: &mut Transaction) -> Result<()> {
    tx.execute("SELECT set_config('seedc.deploy', $1, true)", &[&format!("pid {}", std::process::id())]).map_err(pg)?;
    Ok(())
}

/// What the drift triggers noted of one collection since the last deploy repaired it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DriftMarker {
    /// Bumped by every statement: a deploy clears only the marker it read.
    #[serde(skip)]
    pub seq: i64,
    pub since: String,
    pub last: String,
    pub statements: i64,
    /// Rows written; None after a TRUNCATE.
    pub rows: Option<i64>,
    /// The keys written, None when there were too many to keep (or after a TRUNCATE).
    #[serde(skip)]
    pub keys: Option<Vec<String>>,
    /// The kinds of statement: INSERT, UPDATE, DELETE, TRUNCATE.
    pub ops: Vec<String>,
}

/// Every collection's drift marker (none when seedc's schema predates drift detection).
pub(crate) fn drift_markers(tx: &mut Transaction, schema: &str) -> Result<HashMap<String, DriftMarker>> {
    if relation(tx, Some(schema), "drift")?.is_none() {
        return Ok(HashMap::new());
    }
    let time = |c: &str| format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
    let rows = tx
        .query(
            &format!(
                "SELECT collection, seq, {}, {}, statements, rows, keys, ops FROM {}.drift",
                time("first_at"),
                time("last_at"),
                ident(schema)
            ),
            &[],
        )
        .map_err(pg)?;
    Ok(rows
        .iter()
        .map(|r| {
            let marker = DriftMarker {
                seq: r.get(1),
                since: r.get(2),
                last: r.get(3),
                statements: r.get(4),
                rows: r.get(5),
                keys: r.get(6),
                ops: r.get(7),
            };
            (r.get(0), marker)
        })
        .collect())
}

/// Clears a collection's drift marker, unless a write outside seedc came after it was read.
pub(crate) fn clear_drift(tx: &mut Transaction, schema: &str, collection: &str, seq: i64) -> Result<()> {
    tx.execute(&format!("DELETE FROM {}.drift WHERE collection = $1 AND seq = $2", ident(schema)), &[&collection, &seq]).map_err(pg)?;
    Ok(())
}
