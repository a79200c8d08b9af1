//! Where the SQL is: seedc's own schema and its forward migrations, the collection tables,
//! every read and write a deploy makes, the advisory locks and the flush outbox.
//! Identifiers come from a checked config and are quoted besides; every value is a parameter.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::{BufMut, BytesMut};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{IsNull, Json, ToSql, Type};
use postgres::{Client, GenericClient, Transaction};
use serde_json::Value;

use crate::exit::{Exit, ExitError};
use crate::json::canon::ContentHash;
use crate::project::config::is_identifier;
use rustc_hash::FxBuildHasher;

use super::pg;

/// The newest version of seedc's own schema this build knows; recorded in `schema_version`.
pub const SCHEMA_VERSION: i32 = 2;

/// A quoted identifier. Config has already checked it; quoting keeps reserved words usable.
pub fn ident(name: &str) -> String {
    debug_assert!(is_identifier(name), "{name:?} reached SQL unchecked");
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The migrations, in order: index `i` takes the schema from version `i` to `i + 1`.
/// `{s}` is the quoted schema. Append only: a published migration never changes.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE {s}.deploys (
    id bigserial PRIMARY KEY,
    deployed_at timestamptz NOT NULL DEFAULT now(),
    project text NOT NULL,
    content_version text NOT NULL,
    seedc_version text NOT NULL,
    summary jsonb NOT NULL
);
CREATE TABLE {s}.collections (
    name text PRIMARY KEY,
    table_name text NOT NULL,
    version text NOT NULL,
    content_hash text NOT NULL,
    records bigint NOT NULL,
    rows_kept bigint NOT NULL,
    deploy_id bigint NOT NULL REFERENCES {s}.deploys (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE {s}.packs (
    hash text PRIMARY KEY,
    pack_id text NOT NULL,
    version text NOT NULL,
    kind text NOT NULL,
    pack_schema_v text NOT NULL,
    body bytea NOT NULL,
    deploy_id bigint NOT NULL REFERENCES {s}.deploys (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE {s}.manifests (
    manifest_id text PRIMARY KEY,
    mode text NOT NULL,
    date date,
    hash text NOT NULL,
    body bytea NOT NULL,
    deploy_id bigint NOT NULL REFERENCES {s}.deploys (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE {s}.flush_outbox (
    deploy_id bigint PRIMARY KEY REFERENCES {s}.deploys (id) DEFERRABLE INITIALLY DEFERRED,
    keys text[] NOT NULL,
    version_key text NOT NULL,
    content_version text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    done_at timestamptz
);
CREATE INDEX flush_outbox_pending ON {s}.flush_outbox (deploy_id) WHERE done_at IS NULL;
CREATE FUNCTION {s}.refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'seedc: rows of %.% are immutable', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER immutable BEFORE UPDATE ON {s}.manifests FOR EACH ROW EXECUTE FUNCTION {s}.refuse_update();
CREATE TRIGGER immutable BEFORE UPDATE ON {s}.packs FOR EACH ROW EXECUTE FUNCTION {s}.refuse_update();
"#,
    r#"
CREATE TABLE {s}.drift (
    collection text PRIMARY KEY,
    seq bigint NOT NULL,
    first_at timestamptz NOT NULL DEFAULT now(),
    last_at timestamptz NOT NULL DEFAULT now(),
    statements bigint NOT NULL,
    rows bigint,
    keys text[],
    ops text[] NOT NULL
);
CREATE FUNCTION {s}.note_drift() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n bigint;
    ks text[];
BEGIN
    IF coalesce(current_setting('seedc.deploy', true), '') <> '' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO n FROM new_rows;
        IF n = 0 THEN RETURN NULL; END IF;
        IF n <= 10000 THEN SELECT array_agg(DISTINCT id ORDER BY id) INTO ks FROM new_rows; END IF;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM old_rows;
        IF n = 0 THEN RETURN NULL; END IF;
        IF n <= 10000 THEN SELECT array_agg(DISTINCT id ORDER BY id) INTO ks FROM old_rows; END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT count(*) INTO n FROM new_rows;
        IF n = 0 THEN RETURN NULL; END IF;
        IF n <= 5000 THEN
            SELECT array_agg(DISTINCT id ORDER BY id) INTO ks FROM (SELECT id FROM old_rows UNION SELECT id FROM new_rows) AS both_sides;
        END IF;
    END IF;
    INSERT INTO {s}.drift AS d (collection, seq, statements, rows, keys, ops) VALUES (TG_ARGV[0], 1, 1, n, ks, ARRAY[TG_OP])
    ON CONFLICT (collection) DO UPDATE SET
        seq = d.seq + 1,
        last_at = now(),
        statements = d.statements + 1,
        rows = d.rows + EXCLUDED.rows,
        keys = CASE WHEN d.keys IS NULL OR EXCLUDED.keys IS NULL OR cardinality(d.keys) + cardinality(EXCLUDED.keys) > 10000 THEN NULL
                    ELSE ARRAY(SELECT DISTINCT k FROM unnest(d.keys || EXCLUDED.keys) AS k ORDER BY k) END,
        ops = CASE WHEN EXCLUDED.ops[1] = ANY (d.ops) THEN d.ops ELSE d.ops || EXCLUDED.ops END;
    RETURN NULL;
END
$$;
ALTER TABLE {s}.deploys ADD COLUMN rollback boolean NOT NULL DEFAULT false;
"#,
];

/// Brings seedc's own schema up to [`SCHEMA_VERSION`]; returns whether it changed anything.
/// Runs under the deploy lock, so two first deploys never race to create it.
pub fn migrate(tx: &mut Transaction, schema: &str) -> Result<bool> {
    let s = ident(schema);
    let current = schema_version(tx, schema)?;
    if current > SCHEMA_VERSION {
        return Err(ExitError::new(
            Exit::Usage,
            format!(
                "the database's seedc schema {schema:?} is at version {current}, newer than this seedc knows ({SCHEMA_VERSION}); upgrade seedc"
            ),
        ));
    }
    if current == SCHEMA_VERSION {
        return Ok(false);
    }
    if current == 0 {
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {s}; CREATE TABLE IF NOT EXISTS {s}.schema_version (version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now());"
        ))
        .with_context(|| format!("cannot create schema {schema:?}"))
        .map_err(service)?;
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.batch_execute(&sql.replace("{s}", &s))
            .with_context(|| format!("migration of schema {schema:?} to version {} failed", from + 1))
            .map_err(service)?;
    }
    tx.execute(&format!("DELETE FROM {s}.schema_version"), &[]).map_err(pg)?;
    tx.execute(&format!("INSERT INTO {s}.schema_version (version) VALUES ($1)"), &[&SCHEMA_VERSION]).map_err(pg)?;
    Ok(true)
}

/// The recorded version of seedc's schema; 0 when it does not exist yet.
pub fn schema_version(tx: &mut Transaction, schema: &str) -> Result<i32> {
    if relation(tx, Some(schema), "schema_version")?.is_none() {
        return Ok(0);
    }
    let row = tx.query_opt(&format!("SELECT max(version) FROM {}.schema_version", ident(schema)), &[]).map_err(pg)?;
    Ok(row.and_then(|r| r.get::<_, Option<i32>>(0)).unwrap_or(0))
}

/// The oid of a table in `schema` (default: the connection's current schema), if it exists.
///
/// Asked of the catalog with SQL, not `to_regclass`: after waiting for the deploy lock the
/// backend's catalog caches may still say "absent" about what the deploy that held the lock
/// created, while a query sees everything committed before it started.
fn relation(tx: &mut Transaction, schema: Option<&str>, name: &str) -> Result<Option<u32>> {
    let row = tx
        .query_opt(
            "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relname = $2 AND n.nspname = coalesce($1, current_schema())",
            &[&schema, &name],
        )
        .map_err(pg)?;
    Ok(row.map(|r| r.get(0)))
}

/// What seedc recorded about a collection at its last deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCollection {
    pub table: String,
    pub version: String,
    pub hash: Option<ContentHash>,
    pub records: i64,
    pub rows_kept: i64,
}

pub fn stored_collections(tx: &mut Transaction, schema: &str) -> Result<HashMap<String, StoredCollection>> {
    let rows = tx
        .query(&format!("SELECT name, table_name, version, content_hash, records, rows_kept FROM {}.collections", ident(schema)), &[])
        .map_err(pg)?;
    Ok(rows
        .iter()
        .map(|r| {
            let hash: String = r.get(3);
            (
                r.get(0),
                StoredCollection {
                    table: r.get(1),
                    version: r.get(2),
                    hash: ContentHash::parse(&hash),
                    records: r.get(4),
                    rows_kept: r.get(5),
                },
            )
        })
        .collect())
}

/// Whether a collection table exists (in the connection's default schema); a table that
/// exists without seedc's columns is refused rather than written into.
pub fn table_exists(tx: &mut Transaction, table: &str) -> Result<bool> {
    let Some(oid) = relation(tx, None, table)? else {
        return Ok(false);
    };
    let row = tx
        .query_one("SELECT coalesce(array_agg(attname::text), '{}') FROM pg_catalog.pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped", &[&oid])
        .map_err(pg)?;
    let columns: Vec<String> = row.get(0);
    let missing: Vec<&str> = ["id", "data", "content_hash", "version"].into_iter().filter(|c| !columns.iter().any(|x| x == c)).collect();
    if !missing.is_empty() {
        return Err(ExitError::new(
            Exit::Usage,
            format!(
                "table {table:?} exists but is not a seedc table (no column {}); set collections.<name>.table to another name",
                missing.join(", ")
            ),
        ));
    }
    Ok(true)
}

/// Creates a collection table holding `rows`. The primary key comes after the load, as
/// pg_restore does it: one sorted index build is cheaper than maintaining the index row by
/// row, and the table is invisible to everyone else until the commit anyway.
pub fn create_table(tx: &mut Transaction, table: &str, version: &str, rows: &[Row]) -> Result<()> {
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
pub fn stored_hashes(tx: &mut Transaction, table: &str) -> Result<HashMap<String, ContentHash, FxBuildHasher>> {
    let rows = tx.query(&format!("SELECT id, content_hash FROM {}", ident(table)), &[]).map_err(pg)?;
    let mut out = HashMap::with_capacity_and_hasher(rows.len(), FxBuildHasher);
    for r in &rows {
        out.insert(r.get::<_, String>(0), ContentHash::parse(r.get(1)).unwrap_or(ContentHash([0; 32])));
    }
    Ok(out)
}

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
pub fn drift_triggers(tx: &mut Transaction, table: &str) -> Result<Triggers> {
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
pub fn create_drift_triggers(tx: &mut Transaction, schema: &str, table: &str, collection: &str) -> Result<()> {
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
pub fn mark_deploy(tx: &mut Transaction) -> Result<()> {
    tx.execute("SELECT set_config('seedc.deploy', $1, true)", &[&format!("pid {}", std::process::id())]).map_err(pg)?;
    Ok(())
}

/// What the drift triggers noted of one collection since the last deploy repaired it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
pub fn drift_markers(tx: &mut Transaction, schema: &str) -> Result<HashMap<String, DriftMarker>> {
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
pub fn clear_drift(tx: &mut Transaction, schema: &str, collection: &str, seq: i64) -> Result<()> {
    tx.execute(&format!("DELETE FROM {}.drift WHERE collection = $1 AND seq = $2", ident(schema)), &[&collection, &seq]).map_err(pg)?;
    Ok(())
}

/// One stored row as it is, for comparing its data (not only its hash) with the seeds.
pub struct StoredRow {
    pub id: String,
    /// The `content_hash` column; None when it does not parse.
    pub hash: Option<ContentHash>,
    /// The `data` column as text.
    pub data: String,
}

/// Every row of a table, data included.
pub fn stored_rows(tx: &mut Transaction, table: &str) -> Result<Vec<StoredRow>> {
    let rows = tx.query(&format!("SELECT id, content_hash, data::text FROM {}", ident(table)), &[]).map_err(pg)?;
    Ok(rows.iter().map(|r| StoredRow { id: r.get(0), hash: ContentHash::parse(r.get(1)), data: r.get(2) }).collect())
}

/// The rows with these keys, data included.
pub fn stored_rows_with(tx: &mut Transaction, table: &str, ids: &[String]) -> Result<Vec<StoredRow>> {
    let rows = tx.query(&format!("SELECT id, content_hash, data::text FROM {} WHERE id = ANY($1)", ident(table)), &[&ids]).map_err(pg)?;
    Ok(rows.iter().map(|r| StoredRow { id: r.get(0), hash: ContentHash::parse(r.get(1)), data: r.get(2) }).collect())
}

/// The last deploy recorded: id, time (UTC) and content version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LastDeploy {
    pub id: i64,
    pub at: String,
    pub content_version: String,
    pub rollback: bool,
}

pub fn last_deploy(tx: &mut Transaction, schema: &str) -> Result<Option<LastDeploy>> {
    let rollback = if schema_version(tx, schema)? >= 2 { "rollback" } else { "false" };
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

/// The stored records with these keys, for field-level changes.
pub fn stored_records(tx: &mut Transaction, table: &str, ids: &[&str]) -> Result<HashMap<String, Value>> {
    let rows = tx.query(&format!("SELECT id, data FROM {} WHERE id = ANY($1)", ident(table)), &[&ids]).map_err(pg)?;
    Ok(rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, Json<Value>>(1).0)).collect())
}

/// One row to write.
#[derive(Clone)]
pub struct Row<'a> {
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
pub fn insert_rows(tx: &mut Transaction, table: &str, version: &str, rows: &[Row]) -> Result<u64> {
    copy_into(tx, &ident(table), version, rows)
}

/// Rewrites changed rows: binary COPY into a temporary table, then one upsert that touches
/// only rows whose hash or data really differs (data: a row edited outside seedc).
pub fn update_rows(tx: &mut Transaction, table: &str, version: &str, rows: &[Row]) -> Result<u64> {
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

pub fn delete_rows(tx: &mut Transaction, table: &str, ids: &[String]) -> Result<u64> {
    tx.execute(&format!("DELETE FROM {} WHERE id = ANY($1)", ident(table)), &[&ids]).map_err(pg)
}

/// Records a collection's new version and hash (called only when they differ).
pub fn record_collection(tx: &mut Transaction, schema: &str, name: &str, c: &StoredCollection, deploy_id: i64) -> Result<()> {
    let hash = c.hash.map(|h| h.to_string()).unwrap_or_default();
    tx.execute(
        &format!(
            "INSERT INTO {}.collections AS c (name, table_name, version, content_hash, records, rows_kept, deploy_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (name) DO UPDATE SET table_name = EXCLUDED.table_name, version = EXCLUDED.version, content_hash = EXCLUDED.content_hash,
               records = EXCLUDED.records, rows_kept = EXCLUDED.rows_kept, deploy_id = EXCLUDED.deploy_id",
            ident(schema)
        ),
        &[&name, &c.table, &c.version, &hash, &c.records, &c.rows_kept, &deploy_id],
    )
    .map_err(pg)?;
    Ok(())
}

/// The pack hashes among `hashes` that are already published.
pub fn published_packs(tx: &mut Transaction, schema: &str, hashes: &[String]) -> Result<Vec<String>> {
    let rows = tx.query(&format!("SELECT hash FROM {}.packs WHERE hash = ANY($1)", ident(schema)), &[&hashes]).map_err(pg)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub struct PackRow<'a> {
    pub hash: String,
    pub pack_id: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub pack_schema_v: &'a str,
    pub body: &'a [u8],
}

pub fn insert_pack(tx: &mut Transaction, schema: &str, p: &PackRow, deploy_id: i64) -> Result<()> {
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
pub fn published_manifests(tx: &mut Transaction, schema: &str, ids: &[String]) -> Result<HashMap<String, String>> {
    let rows =
        tx.query(&format!("SELECT manifest_id, hash FROM {}.manifests WHERE manifest_id = ANY($1)", ident(schema)), &[&ids]).map_err(pg)?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub struct ManifestRow<'a> {
    pub manifest_id: &'a str,
    pub mode: &'a str,
    pub date: Option<&'a str>,
    pub hash: String,
    pub body: &'a [u8],
}

pub fn insert_manifest(tx: &mut Transaction, schema: &str, m: &ManifestRow, deploy_id: i64) -> Result<()> {
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

pub fn next_deploy_id(tx: &mut Transaction, schema: &str) -> Result<i64> {
    let seq = format!("{}.deploys_id_seq", ident(schema));
    Ok(tx.query_one("SELECT nextval($1::text::regclass)", &[&seq]).map_err(pg)?.get(0))
}

/// Records a deploy; `rollback` when it deployed an older version on purpose.
pub fn record_deploy(
    tx: &mut Transaction,
    schema: &str,
    id: i64,
    project: &str,
    content_version: &str,
    summary: &Value,
    rollback: bool,
) -> Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO {}.deploys (id, project, content_version, seedc_version, summary, rollback) VALUES ($1, $2, $3, $4, $5, $6)",
            ident(schema)
        ),
        &[&id, &project, &content_version, &env!("CARGO_PKG_VERSION"), &Json(summary), &rollback],
    )
    .map_err(pg)?;
    Ok(())
}

pub fn record_flush(
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

/// Keeps an error's message but makes it a service failure unless it already has a code.
fn service(e: anyhow::Error) -> anyhow::Error {
    if e.chain().any(|c| c.downcast_ref::<ExitError>().is_some()) {
        return e;
    }
    let text = e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ");
    ExitError::new(Exit::Service, text)
}

/// Sets `lock_timeout` for the transaction (`local`) or the session.
fn set_lock_timeout(client: &mut impl GenericClient, timeout: Duration, local: bool) -> Result<()> {
    let ms = timeout.as_millis().max(1).to_string();
    client.execute("SELECT set_config('lock_timeout', $1, $2)", &[&ms, &local]).map_err(pg)?;
    Ok(())
}

/// Takes the transaction-scoped advisory lock `key`; false if `timeout` ran out first (zero:
/// if another session holds it now).
pub fn xact_lock(tx: &mut Transaction, key: i64, timeout: Duration) -> Result<bool> {
    if timeout.is_zero() {
        return Ok(tx.query_one("SELECT pg_try_advisory_xact_lock($1)", &[&key]).map_err(pg)?.get(0));
    }
    set_lock_timeout(tx, timeout, true)?;
    match tx.execute("SELECT pg_advisory_xact_lock($1)", &[&key]) {
        Ok(_) => Ok(true),
        Err(e) if super::is_lock_timeout(&e) => Ok(false),
        Err(e) => Err(pg(e)),
    }
}

/// Takes the session-scoped advisory lock `key`; false if `timeout` ran out first.
pub fn session_lock(client: &mut Client, key: i64, timeout: Duration) -> Result<bool> {
    if timeout.is_zero() {
        return Ok(client.query_one("SELECT pg_try_advisory_lock($1)", &[&key]).map_err(pg)?.get(0));
    }
    set_lock_timeout(client, timeout, false)?;
    match client.execute("SELECT pg_advisory_lock($1)", &[&key]) {
        Ok(_) => Ok(true),
        Err(e) if super::is_lock_timeout(&e) => Ok(false),
        Err(e) => Err(pg(e)),
    }
}

/// Releases a session-scoped advisory lock; a failure only leaves it to the session's end.
pub fn session_unlock(client: &mut Client, key: i64) {
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&key]);
}

/// Who holds an advisory lock, as a clause for an error message (empty if unknown).
pub fn lock_holder(client: &mut Client, key: i64) -> String {
    let (classid, objid) = ((key >> 32) as u32, key as u32);
    let row = client.query_opt(
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local'), coalesce(to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '')
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1 LIMIT 1",
        &[&classid, &objid],
    );
    match row {
        Ok(Some(r)) => {
            let (pid, app, addr, since): (i32, String, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
            let app = if app.is_empty() { String::new() } else { format!(", {app:?}") };
            format!(" (server pid {pid}{app}, from {addr}, since {since})")
        }
        _ => String::new(),
    }
}

/// A cache flush recorded by a committed deploy and not yet done (the outbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingFlush {
    pub deploy_id: i64,
    pub keys: Vec<String>,
    pub version_key: String,
    pub content_version: String,
}

/// Whether seedc's schema has its outbox yet (a database never deployed to has none).
pub fn outbox_exists(client: &mut impl GenericClient, schema: &str) -> Result<bool> {
    let outbox = format!("{}.flush_outbox", ident(schema));
    Ok(client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&outbox]).map_err(pg)?.get(0))
}

/// The pending flushes, oldest first.
pub fn pending_flushes(client: &mut impl GenericClient, schema: &str) -> Result<Vec<PendingFlush>> {
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
pub fn mark_flushed(client: &mut Client, schema: &str, deploy_ids: &[i64]) -> Result<()> {
    client
        .execute(
            &format!("UPDATE {}.flush_outbox SET done_at = now() WHERE deploy_id = ANY($1) AND done_at IS NULL", ident(schema)),
            &[&deploy_ids],
        )
        .map_err(pg)?;
    Ok(())
}
