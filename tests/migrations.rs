//! seedc's own schema against the real PostgreSQL of `scripts/test`: every applied
//! migration is recorded with the checksum of its text, a database whose recorded migration
//! differs is refused (exit 3, naming it) by every command that connects, a schema migrated
//! before checksums were kept is adopted, and a migration appended to the list runs (through
//! `migrate_with`, the library entry the binary calls with its own list).

use seedc::db::migrate::{MIGRATIONS, Migration, SCHEMA_VERSION, migrate_with};

use crate::support::services::{Env, set_field};

/// `name checksum` of every migration recorded, in order.
fn recorded(env: &Env) -> Vec<String> {
    env.db.query("SELECT name || ' ' || checksum FROM seedc.migrations ORDER BY version")
}

fn expected(migrations: &[Migration]) -> Vec<String> {
    migrations.iter().map(|m| format!("{} {}", m.name, m.checksum())).collect()
}

#[test]
fn a_migration_recorded_with_another_text_is_refused_naming_it() {
    let Some(env) = Env::new("migtamper") else { return };
    env.deploy(&["--date", "2026-01-25"], 0);
    assert_eq!(recorded(&env), expected(MIGRATIONS));
    assert_eq!(env.db.one::<i32>("SELECT version FROM seedc.schema_version"), MIGRATIONS.len() as i32);

    env.db.client().batch_execute("UPDATE seedc.migrations SET checksum = 'sha256:' || repeat('0', 64) WHERE name = '0002_drift'").unwrap();
    // Content that differs, so a deploy that went on would write.
    env.edit_records("enemies", |records| set_field(records, "goblin_scout", "hp", 13.into()));
    let before = env.db.all_xmins();
    for args in [&["deploy"][..], &["deploy", "--dry-run"], &["status"], &["flush"]] {
        let run = env.seedc(args);
        assert_eq!(run.code, 3, "{args:?}: {}", run.snapshot());
        assert!(run.stderr.contains("migration 0002_drift"), "{args:?} names the migration: {}", run.snapshot());
        assert!(run.stderr.contains(&MIGRATIONS[1].checksum()), "{args:?} shows this seedc's checksum: {}", run.snapshot());
    }
    assert_eq!(env.db.all_xmins(), before, "nothing was written");
}

#[test]
fn a_schema_migrated_before_checksums_is_adopted() {
    let Some(env) = Env::new("migadopt") else { return };
    env.deploy(&[], 0);
    // As a seedc that kept no checksums left it.
    env.db.client().batch_execute("DROP TABLE seedc.migrations").unwrap();
    let adopted = env.deploy(&[], 0);
    assert_eq!((&adopted["committed"], &adopted["deploy_id"]), (&true.into(), &serde_json::Value::Null), "recorded, no row written");
    assert_eq!(recorded(&env), expected(MIGRATIONS));
    let again = env.deploy(&[], 0);
    assert_eq!(again["committed"], false, "adopted once");
}

#[test]
fn an_appended_migration_runs_and_is_recorded() {
    let Some(env) = Env::new("migappend") else { return };
    env.deploy(&[], 0);
    let mut migrations = MIGRATIONS.to_vec();
    migrations.push(Migration { name: "0003_notes", sql: "CREATE TABLE {s}.notes (note text NOT NULL);\n" });
    let mut client = env.db.client();
    let mut tx = client.transaction().unwrap();
    assert!(migrate_with(&mut tx, "seedc", &migrations).unwrap(), "the new migration ran");
    assert!(!migrate_with(&mut tx, "seedc", &migrations).unwrap(), "and only once");
    tx.commit().unwrap();
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM seedc.notes"), 0);
    assert_eq!(env.db.one::<i32>("SELECT version FROM seedc.schema_version"), SCHEMA_VERSION + 1);
    assert_eq!(recorded(&env), expected(&migrations));

    // This build knows one migration fewer: it asks to be upgraded, and writes nothing.
    let run = env.seedc(&["deploy"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stderr.contains("newer than this seedc knows"), "{}", run.snapshot());
}
