//! The catalog: identifiers quoted for SQL, and what exists in the database (a relation,
//! a collection table with seedc's columns).

use anyhow::Result;
use postgres::GenericClient;

use super::pg;
use crate::exit::{Exit, ExitError};
use crate::project::config::is_identifier;

/// A quoted identifier. Config has already checked it; quoting keeps reserved words usable.
pub(crate) fn ident(name: &str) -> String {
    debug_assert!(is_identifier(name), "{name:?} reached SQL unchecked");
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The oid of a table in `schema` (default: the connection's current schema), if it exists.
///
/// Asked of the catalog with SQL, not `to_regclass`: after waiting for the deploy lock the
/// backend's catalog caches may still say "absent" about what the deploy that held the lock
/// created, while a query sees everything committed before it started.
pub(crate) fn relation(client: &mut impl GenericClient, schema: Option<&str>, name: &str) -> Result<Option<u32>> {
    let row = client
        .query_opt(
            "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relname = $2 AND n.nspname = coalesce($1, current_schema())",
            &[&schema, &name],
        )
        .map_err(pg)?;
    Ok(row.map(|r| r.get(0)))
}

/// Whether a collection table exists (in the connection's default schema); a table that
/// exists without seedc's columns is refused rather than written into.
pub(crate) fn table_exists(tx: &mut impl GenericClient, table: &str) -> Result<bool> {
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
