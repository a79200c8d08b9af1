//! The rows of a collection table: creating it, reading its keys, hashes and data, and
//! writing rows with binary COPY (new rows straight in; changed rows through a staging
//! table and one upsert; deleted rows by key).

use std::collections::HashMap;

use anyhow::{Context, Result};
use bytes::{BufMut, BytesMut};
use postgres::Transaction;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{IsNull, Json, ToSql, Type};
use rustc_hash::FxBuildHasher;
use serde_json::Value;

use super::catalog::ident;
use super::{pg, service};
use crate::json::canon::ContentHash;

/// Creates a collection table holding `rows`. The primary key comes after the load, as
/// pg_restore does it: one sorted index build is cheaper than maintaining the index row by
/// row, and the table is invisible to everyone else until the commit anyway.
pub(crate) fn create_table(tx: &mut Transaction, table: &str, version: &str, rows: &[Row]) -> Result<()> {
    let t = ident(table);
    tx.batch_execute(&format!(
        "CREATE TABLE {t} (id text NOT NULL, data jsonb NOT NULL, content_hash text NOT NULL, version text NOT NULL)"
    ))
    .with_context(|| format!("cannot create table {table:?}"))
    .map_err(service)?;
    copy_into(tx, &t, version, rows)?;
    tx.batch_execute(&format!("ALTER TABLE {t} ADD PRIMARY KEY (id)")).map_err(pg)
}

/// Every stored row's key and content hash. A hash that does not parse (edited by hand)
/// reads as zeros, which no content hashes to: that row is rewritten.
pub(crate) fn stored_hashes(tx: &mut Transaction, table: &str) -> Result<HashMap<String, ContentHash, FxBuildHasher>> {
    let rows = tx.query(&format!("SELECT id, content_hash FROM {}", ident(table)), &[]).map_err(pg)?;
    let mut out = HashMap::with_capacity_and_hasher(rows.len(), FxBuildHasher);
    for r in &rows {
        out.insert(r.get::<_, String>(0), ContentHash::parse(r.get(1)).unwrap_or(ContentHash([0; 32])));
    }
    Ok(out)
}

/// One stored row as it is, for comparing its data (not only its hash) with the seeds.
pub(crate) struct StoredRow {
    pub id: String,
    /// The `content_hash` column; None when it does not parse.
    pub hash: Option<ContentHash>,
    /// The `data` column as text.
    pub data: String,
}

/// Every row of a table, data included, handed to `each` in batches of `batch` rows as they
/// arrive: a whole table's data is never held at once.
pub(crate) fn stored_rows(tx: &mut Transaction, table: &str, batch: usize, mut each: impl FnMut(Vec<StoredRow>)) -> Result<()> {
    use postgres::fallible_iterator::FallibleIterator;
    let sql = format!("SELECT id, content_hash, data::text FROM {}", ident(table));
    let mut rows = tx.query_raw(&sql, std::iter::empty::<&dyn ToSql>()).map_err(pg)?;
    let mut buf = Vec::with_capacity(batch);
    while let Some(r) = rows.next().map_err(pg)? {
        buf.push(StoredRow { id: r.get(0), hash: ContentHash::parse(r.get(1)), data: r.get(2) });
        if buf.len() == batch {
            each(std::mem::replace(&mut buf, Vec::with_capacity(batch)));
        }
    }
    if !buf.is_empty() {
        each(buf);
    }
    Ok(())
}

/// The rows with these keys, data included.
pub(crate) fn stored_rows_with(tx: &mut Transaction, table: &str, ids: &[String]) -> Result<Vec<StoredRow>> {
    let rows = tx.query(&format!("SELECT id, content_hash, data::text FROM {} WHERE id = ANY($1)", ident(table)), &[&ids]).map_err(pg)?;
    Ok(rows.iter().map(|r| StoredRow { id: r.get(0), hash: ContentHash::parse(r.get(1)), data: r.get(2) }).collect())
}

/// The stored records with these keys, for field-level changes.
pub(crate) fn stored_records(tx: &mut Transaction, table: &str, ids: &[&str]) -> Result<HashMap<String, Value>> {
    let rows = tx.query(&format!("SELECT id, data FROM {} WHERE id = ANY($1)", ident(table)), &[&ids]).map_err(pg)?;
    Ok(rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, Json<Value>>(1).0)).collect())
}

/// One row to write.
#[derive(Clone)]
pub(crate) struct Row<'a> {
    pub id: &'a str,
    /// The record in canonical form: what the `jsonb` column receives.
    pub canonical: &'a [u8],
    pub hash: ContentHash,
}

/// JSON text already serialized (a record's canonical bytes), sent as `jsonb`.
#[derive(Debug)]
struct JsonText<'a>(&'a [u8]);

impl ToSql for JsonText<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // jsonb's binary format: a version byte (1), then the JSON text.
        out.put_u8(1);
        out.put_slice(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }

    postgres::types::to_sql_checked!();
}

/// Writes new rows straight into the table with binary COPY: the deploy lock guarantees
/// their keys are not there.
pub(crate) fn insert_rows(tx: &mut Transaction, table: &str, version: &str, rows: &[Row]) -> Result<u64> {
    copy_into(tx, &ident(table), version, rows)
}

/// Rewrites changed rows: binary COPY into a temporary table, then one upsert that touches
/// only rows whose hash or data really differs (data: a row edited outside seedc).
pub(crate) fn update_rows(tx: &mut Transaction, table: &str, version: &str, rows: &[Row]) -> Result<u64> {
    tx.batch_execute(
        "CREATE TEMP TABLE IF NOT EXISTS seedc_stage (id text, data jsonb, content_hash text, version text) ON COMMIT DROP; TRUNCATE seedc_stage",
    )
    .map_err(pg)?;
    copy_into(tx, "seedc_stage", version, rows)?;
    let t = ident(table);
    let n = tx
        .execute(
            &format!(
                "INSERT INTO {t} AS t (id, data, content_hash, version) SELECT id, data, content_hash, version FROM seedc_stage
                 ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, content_hash = EXCLUDED.content_hash, version = EXCLUDED.version
                 WHERE t.content_hash IS DISTINCT FROM EXCLUDED.content_hash OR t.data IS DISTINCT FROM EXCLUDED.data"
            ),
            &[],
        )
        .map_err(pg)?;
    Ok(n)
}

fn copy_into(tx: &mut Transaction, target: &str, version: &str, rows: &[Row]) -> Result<u64> {
    let sink = tx.copy_in(&format!("COPY {target} (id, data, content_hash, version) FROM STDIN (FORMAT binary)")).map_err(pg)?;
    let mut writer = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::JSONB, Type::TEXT, Type::TEXT]);
    for row in rows {
        let hash = row.hash.to_string();
        writer.write(&[&row.id, &JsonText(row.canonical), &hash, &version]).map_err(pg)?;
    }
    writer.finish().map_err(pg)
}

pub(crate) fn delete_rows(tx: &mut Transaction, table: &str, ids: &[String]) -> Result<u64> {
    tx.execute(&format!("DELETE FROM {} WHERE id = ANY($1)", ident(table)), &[&ids]).map_err(pg)
}
