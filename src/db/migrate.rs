//! seedc's own schema, migrated forward: the migrations are the `.sql` files of
//! `src/db/migrations/`, in order; the schema version is how many of them a database has
//! received, and each one it received is recorded with the SHA-256 of its text, so a
//! database whose migration differs from this build's (edited after release, or by hand)
//! is refused rather than built on (after sqlx's and atlas's migration checksums).

use anyhow::{Context, Result};
use postgres::{GenericClient, Transaction};

use super::catalog::{ident, relation};
use super::{pg, service};
use crate::exit::{Exit, ExitError};
use crate::json::canon::ContentHash;

/// One migration: its file's name (without `.sql`) and its text. `{s}` in the text is the
/// quoted schema; the checksum is of the text as written, so it does not depend on it.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// The SHA-256 of the migration's text, as recorded in `migrations.checksum`.
    pub fn checksum(&self) -> String {
        ContentHash::of(self.sql.as_bytes()).to_string()
    }
}

/// This build's migrations, in order: migration `i` (from 0) takes the schema from version
/// `i` to `i + 1`. Append only: a released migration never changes, which the recorded
/// checksums hold every database to.
pub const MIGRATIONS: &[Migration] = &[
    Migration { name: "0001_registry", sql: include_str!("migrations/0001_registry.sql") },
    Migration { name: "0002_drift", sql: include_str!("migrations/0002_drift.sql") },
    Migration { name: "0003_hash_version", sql: include_str!("migrations/0003_hash_version.sql") },
    Migration { name: "0004_identity", sql: include_str!("migrations/0004_identity.sql") },
];

/// The newest version of seedc's schema this build knows: how many migrations it has.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Brings seedc's schema up to this build's [`MIGRATIONS`]; see [`migrate_with`].
pub fn migrate(tx: &mut Transaction, schema: &str) -> Result<bool> {
    migrate_with(tx, schema, MIGRATIONS)
}

/// Brings seedc's schema up to the version of `migrations` (the binary passes its own list;
/// a test may pass a longer one); returns whether it changed anything. The migrations the
/// database has are verified first ([`verify_with`]); those recorded by a seedc that kept no
/// checksums get this list's. Every migration it lacks runs, and is recorded. Runs under the
/// deploy lock, so two first deploys never race to create the schema.
pub fn migrate_with(tx: &mut Transaction, schema: &str, migrations: &[Migration]) -> Result<bool> {
    let s = ident(schema);
    let applied = verify_with(tx, schema, migrations)?;
    let target = migrations.len() as i32;
    if applied.version == 0 {
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {s}; CREATE TABLE IF NOT EXISTS {s}.schema_version (version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now());"
        ))
        .with_context(|| format!("cannot create schema {schema:?}"))
        .map_err(service)?;
    }
    let adopt = applied.recorded < applied.version;
    if applied.version == target && !adopt {
        return Ok(false);
    }
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {s}.migrations (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
    ))
    .map_err(pg)?;
    for (i, m) in migrations.iter().enumerate() {
        let version = i as i32 + 1;
        if version > applied.version {
            tx.batch_execute(&m.sql.replace("{s}", &s))
                .with_context(|| format!("migration {} of schema {schema:?} failed", m.name))
                .map_err(service)?;
        }
        // A migration applied before checksums were kept is recorded as this build's: it is
        // the only text a seedc of that version ever ran.
        tx.execute(
            &format!("INSERT INTO {s}.migrations (version, name, checksum) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING"),
            &[&version, &m.name, &m.checksum()],
        )
        .map_err(pg)?;
    }
    // Kept for seedc builds from before the checksums, which read only this table: one that
    // is older than the schema refuses it rather than misreading it.
    tx.execute(&format!("DELETE FROM {s}.schema_version"), &[]).map_err(pg)?;
    tx.execute(&format!("INSERT INTO {s}.schema_version (version) VALUES ($1)"), &[&target]).map_err(pg)?;
    Ok(true)
}

/// What a database says of its seedc schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// The schema version (0: there is no schema yet).
    pub version: i32,
    /// How many of its migrations have a recorded checksum (fewer: migrated by a seedc that
    /// kept none; the next migrate records them).
    pub recorded: i32,
}

/// Verifies this build's [`MIGRATIONS`] against the database; see [`verify_with`].
pub fn verify(client: &mut impl GenericClient, schema: &str) -> Result<Applied> {
    verify_with(client, schema, MIGRATIONS)
}

/// Reads which migrations the database has and checks each recorded checksum against
/// `migrations`; writes nothing, so a read-only command verifies too. A schema newer than
/// `migrations` is a usage error (exit 2: upgrade seedc); a migration recorded with another
/// text is a service error (exit 3) naming it.
pub fn verify_with(client: &mut impl GenericClient, schema: &str, migrations: &[Migration]) -> Result<Applied> {
    let version = schema_version(client, schema)?;
    let known = migrations.len() as i32;
    if version > known {
        return Err(ExitError::new(
            Exit::Usage,
            format!("the database's seedc schema {schema:?} is at version {version}, newer than this seedc knows ({known}); upgrade seedc"),
        ));
    }
    if relation(client, Some(schema), "migrations")?.is_none() {
        return Ok(Applied { version, recorded: 0 });
    }
    let rows =
        client.query(&format!("SELECT version, name, checksum FROM {}.migrations ORDER BY version", ident(schema)), &[]).map_err(pg)?;
    for r in &rows {
        let (v, name, checksum): (i32, String, String) = (r.get(0), r.get(1), r.get(2));
        let Some(m) = usize::try_from(v - 1).ok().and_then(|i| migrations.get(i)) else {
            return Err(ExitError::new(
                Exit::Usage,
                format!(
                    "the database's seedc schema {schema:?} records migration {name} (version {v}), which this seedc does not know; upgrade seedc"
                ),
            ));
        };
        if checksum != m.checksum() {
            return Err(ExitError::new(
                Exit::Service,
                format!(
                    "the database's seedc schema {schema:?} received another text of migration {}: its recorded checksum is {checksum}, this seedc's is {}; refusing a schema this seedc did not make (nothing was written)",
                    m.name,
                    m.checksum()
                ),
            ));
        }
    }
    Ok(Applied { version, recorded: rows.len() as i32 })
}

/// The recorded version of seedc's schema; 0 when it does not exist yet.
pub(crate) fn schema_version(client: &mut impl GenericClient, schema: &str) -> Result<i32> {
    if relation(client, Some(schema), "schema_version")?.is_none() {
        return Ok(0);
    }
    let row = client.query_opt(&format!("SELECT max(version) FROM {}.schema_version", ident(schema)), &[]).map_err(pg)?;
    Ok(row.and_then(|r| r.get::<_, Option<i32>>(0)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_and_distinct() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert!(m.name.starts_with(&format!("{:04}_", i + 1)), "{} is migration {}", m.name, i + 1);
        }
        let mut sums: Vec<String> = MIGRATIONS.iter().map(Migration::checksum).collect();
        sums.dedup();
        assert_eq!(sums.len(), MIGRATIONS.len());
        assert_eq!(SCHEMA_VERSION, MIGRATIONS.len() as i32);
    }
}
