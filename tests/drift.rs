//! Drift: rows written outside seedc (a hot-fix in SQL) on the real PostgreSQL of
//! `scripts/test`. For each kind of out-of-band write, `status` names it, the dry-run plan
//! names it (and `--exit-code` exits 1), the deploy repairs exactly those rows (every other
//! row keeps its `xmin`) and flushes that collection's cache keys, and the next deploy
//! writes nothing. Also: versions against the database (rollbacks), `--lock-timeout 0`,
//! and a deployment from before drift detection getting its triggers.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::services::{Env, collection, set_field};

/// One write outside seedc and the rows a deploy must rewrite (or remove) to repair it.
struct Case {
    what: &'static str,
    sql: &'static str,
    table: &'static str,
    /// The keys the status and the plan must name, and the deploy rewrite or remove.
    repaired: &'static [&'static str],
    /// The triggers were off: only `--full` finds it.
    full_only: bool,
}

const CASES: &[Case] = &[
    Case {
        what: "an UPDATE of data only",
        sql: "UPDATE enemies SET data = jsonb_set(data, '{hp}', '999') WHERE id = 'goblin_scout'",
        table: "enemies",
        repaired: &["goblin_scout"],
        full_only: false,
    },
    Case {
        what: "an UPDATE of content_hash only",
        sql: "UPDATE items SET content_hash = 'sha256:' || repeat('0', 64) WHERE id = 'iron_sword'",
        table: "items",
        repaired: &["iron_sword"],
        full_only: false,
    },
    Case {
        what: "a DELETE",
        sql: "DELETE FROM items WHERE id = 'rusty_dagger'",
        table: "items",
        repaired: &["rusty_dagger"],
        full_only: false,
    },
    Case {
        what: "an INSERT of a foreign row",
        sql: "INSERT INTO races (id, data, content_hash, version) SELECT 'intruder', data, content_hash, version FROM races WHERE id = 'elf'",
        table: "races",
        repaired: &["intruder"],
        full_only: false,
    },
    Case {
        what: "a TRUNCATE",
        sql: "TRUNCATE traps",
        table: "traps",
        repaired: &["flame_jet", "poison_dart", "shock_plate", "spike_pit"],
        full_only: false,
    },
    Case {
        what: "an UPDATE with the triggers disabled",
        sql: "ALTER TABLE hazards DISABLE TRIGGER USER; UPDATE hazards SET data = jsonb_set(data, '{name}', '\"Hot Lava\"') WHERE id = 'lava_pool'; ALTER TABLE hazards ENABLE TRIGGER USER",
        table: "hazards",
        repaired: &["lava_pool"],
        full_only: true,
    },
    Case {
        what: "an UPDATE under session_replication_role = replica",
        sql: "SET session_replication_role = replica; UPDATE themes SET data = data || '{\"name\": \"Nowhere\"}' WHERE id = 'crystal_caverns'; SET session_replication_role = origin",
        table: "themes",
        repaired: &["crystal_caverns"],
        full_only: true,
    },
];

/// The keys named in a status or plan report's changes of `name`.
fn named(report: &Value, name: &str) -> BTreeSet<String> {
    let c = report["collections"].as_array().unwrap().iter().find(|c| c["collection"] == name).unwrap();
    c["changes"].as_array().map_or_else(BTreeSet::new, |a| a.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect())
}

fn status(env: &Env, extra: &[&str], code: i32) -> Value {
    let mut args = vec!["status", "--format", "json"];
    args.extend_from_slice(extra);
    let run = env.seedc(&args);
    assert_eq!(run.code, code, "{}", run.snapshot());
    run.json_lines().into_iter().find(|l| l.get("status").is_some()).expect("a status report")["status"].clone()
}

#[test]
fn every_write_outside_seedc_is_reported_planned_and_repaired_exactly() {
    let Some(env) = Env::new("drift") else { return };
    env.deploy(&[], 0);
    assert_eq!(status(&env, &[], 0)["mirrors"], true);
    assert_eq!(status(&env, &["--full"], 0)["mirrors"], true);
    for case in CASES {
        let repaired: BTreeSet<String> = case.repaired.iter().map(|s| (*s).to_owned()).collect();
        let what = case.what;
        let other = if case.table == "enemies" { "items" } else { "enemies" };
        env.set_keys(&[case.table, &format!("{}:x", case.table), other]);
        env.db.client().batch_execute(case.sql).unwrap_or_else(|e| panic!("{what}: {e}"));
        let full: &[&str] = if case.full_only { &["--full"] } else { &[] };

        if case.full_only {
            // The triggers saw nothing: only comparing every row finds it.
            assert_eq!(status(&env, &[], 0)["mirrors"], true, "{what}");
        }
        let found = status(&env, full, 1);
        assert_eq!(named(&found, case.table), repaired, "{what}: {found}");
        let c = found["collections"].as_array().unwrap().iter().find(|c| c["collection"] == case.table).unwrap();
        assert_eq!(c["drifted"].as_u64(), Some(repaired.len() as u64), "{what}: {c}");
        assert!(found["collections"].as_array().unwrap().iter().filter(|c| c["collection"] != case.table).all(|c| c["mirrors"] == true));

        let mut args = vec!["--dry-run", "--exit-code", "-v"];
        args.extend_from_slice(full);
        let plan = env.deploy(&args, 1);
        assert_eq!(named(&plan["plan"], case.table), repaired, "{what}: {plan}");
        assert_eq!(collection(&plan, case.table)["drifted"].as_u64(), Some(repaired.len() as u64), "{what}");
        assert!(
            plan["plan"]["collections"].as_array().unwrap().iter().filter(|c| c["collection"] != case.table).all(|c| c["changed"] == false)
        );

        let before = env.db.all_xmins();
        let report = env.deploy(full, 0);
        assert!(report["deploy_id"].is_i64(), "{what}: {report}");
        let after = env.db.all_xmins();
        for (table, rows) in &after {
            let old = &before[table];
            let keys: BTreeSet<&String> = rows.keys().chain(old.keys()).collect();
            let rewritten: BTreeSet<String> = keys.into_iter().filter(|k| rows.get(*k) != old.get(*k)).cloned().collect();
            if table == case.table {
                assert_eq!(rewritten, repaired, "{what}: rows rewritten in {table}");
            } else if !table.starts_with("seedc.") {
                assert!(rewritten.is_empty(), "{what}: {table} rewrote {rewritten:?}");
            }
        }
        assert!(!env.key_exists(case.table) && !env.key_exists(&format!("{}:x", case.table)), "{what}: cache keys not flushed");
        assert!(env.key_exists(other), "{what}: {other} was flushed");
        assert_eq!(status(&env, &["--full"], 0)["mirrors"], true, "{what}: not repaired");

        let again = env.deploy(&[], 0);
        assert_eq!(again["deploy_id"], Value::Null, "{what}: {again}");
        assert_eq!(env.db.all_xmins(), after, "{what}: a second deploy wrote");
        env.deploy(&["--dry-run", "--exit-code"], 0);
    }
}

#[test]
fn drift_and_a_change_of_the_seeds_in_one_collection_are_both_deployed_and_told_apart() {
    let Some(env) = Env::new("driftmix") else { return };
    env.deploy(&[], 0);
    env.db.client().batch_execute("UPDATE enemies SET data = jsonb_set(data, '{hp}', '999') WHERE id = 'goblin_scout'").unwrap();
    env.edit_records("enemies", |r| set_field(r, "cave_rat", "hp", 5.into()));
    let run = env.seedc(&["deploy", "--dry-run", "-v"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(run.stdout.contains("/hp: 999 -> 12 (changed outside seedc)"), "{}", run.snapshot());
    assert!(run.stdout.contains("~ cave_rat\n"), "{}", run.snapshot());
    let report = env.deploy(&[], 0);
    let enemies = collection(&report, "enemies");
    assert_eq!((enemies["updated"].as_u64(), enemies["drifted"].as_u64()), (Some(2), Some(1)), "{enemies}");
    assert_eq!(env.db.record("enemies", "goblin_scout")["hp"], 12);
    assert_eq!(env.db.record("enemies", "cave_rat")["hp"], 5);
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM seedc.drift"), 0, "the marker is cleared in the deploy");
}

#[test]
fn foreign_rows_are_kept_and_listed_with_no_prune() {
    let Some(env) = Env::new("driftkeep") else { return };
    env.deploy(&[], 0);
    env.db
        .client()
        .batch_execute("INSERT INTO races (id, data, content_hash, version) SELECT 'intruder', data, content_hash, version FROM races WHERE id = 'elf'")
        .unwrap();
    let run = env.seedc(&["deploy", "--no-prune"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(run.stdout.contains("rows added outside seedc, kept by --no-prune: intruder"), "{}", run.snapshot());
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM races WHERE id = 'intruder'"), 1);
    let pruned = env.deploy(&[], 0);
    assert_eq!(collection(&pruned, "races")["deleted"], 1);
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM races WHERE id = 'intruder'"), 0);
}

#[test]
fn a_deployment_from_before_drift_detection_gets_its_triggers_on_the_next_deploy() {
    let Some(env) = Env::new("driftmigrate") else { return };
    env.deploy(&[], 0);
    // Back to schema version 1: no drift table, no triggers, no rollback column.
    let mut sql = String::new();
    for t in ["achievements", "bosses", "classes", "elements", "enemies", "hazards", "items", "races", "themes", "traps"] {
        for trigger in ["insert", "update", "delete", "truncate"] {
            sql.push_str(&format!("DROP TRIGGER seedc_drift_{trigger} ON {t};"));
        }
    }
    sql.push_str("DROP TABLE seedc.drift; DROP FUNCTION seedc.note_drift(); ALTER TABLE seedc.deploys DROP COLUMN rollback; UPDATE seedc.schema_version SET version = 1");
    env.db.client().batch_execute(&sql).unwrap();
    let before = env.db.all_xmins();
    let report = env.deploy(&[], 0);
    assert_eq!((report["deploy_id"].clone(), report["committed"].clone()), (Value::Null, Value::Bool(true)), "{report}");
    assert_eq!(env.db.all_xmins().remove("enemies"), before.get("enemies").cloned(), "adding triggers rewrote no row");
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'seedc_drift_%'"), 40);
    env.db.client().batch_execute("DELETE FROM items WHERE id = 'rusty_dagger'").unwrap();
    assert_eq!(named(&status(&env, &[], 1), "items"), BTreeSet::from(["rusty_dagger".to_owned()]));
}

#[test]
fn an_older_or_reused_version_is_refused_unless_the_deploy_says_it_is_a_rollback() {
    let Some(env) = Env::new("rollback") else { return };
    env.deploy(&[], 0);
    let (old_file, old_lock) = (env.root.read("data/seeds/enemies.json"), env.root.read("seedc.lock"));
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 13.into()));
    let newer = env.deploy(&[], 0);
    let id = newer["deploy_id"].as_i64().unwrap();

    // An older branch: enemies 1.3.0 after 1.3.1.
    let new_file = env.root.read("data/seeds/enemies.json");
    env.root.write("data/seeds/enemies.json", &old_file);
    env.root.write("seedc.lock", &old_lock);
    let before = env.db.all_xmins();
    for args in [&["deploy"][..], &["deploy", "--dry-run"]] {
        let run = env.seedc(args);
        assert_eq!(run.code, 4, "{}", run.snapshot());
        for part in ["enemies", "1.3.1", "1.3.0", &format!("last deploy #{id}"), "--allow-rollback"] {
            assert!(run.stderr.contains(part), "{part}: {}", run.snapshot());
        }
    }
    assert_eq!(env.db.all_xmins(), before, "a refused deploy committed");

    // Another root's 1.3.1 that holds other content than the deployed 1.3.1.
    env.root.write("data/seeds/enemies.json", new_file.replace("\"hp\": 13", "\"hp\": 17"));
    // Its own lock: this root never saw the deployed 1.3.1.
    std::fs::remove_file(env.root.file("seedc.lock")).unwrap();
    let run = env.seedc(&["deploy"]);
    assert_eq!(run.code, 4, "{}", run.snapshot());
    assert!(run.stderr.contains("enemies: the database holds 1.3.1 with other content"), "{}", run.snapshot());
    assert_eq!(env.db.all_xmins(), before);

    // Said on purpose: deployed, and recorded as a rollback.
    env.root.write("data/seeds/enemies.json", &old_file);
    env.root.write("seedc.lock", &old_lock);
    let rolled = env.deploy(&["--allow-rollback"], 0);
    assert_eq!(rolled["plan"]["rollbacks"], serde_json::json!([{"collection": "enemies", "from": "1.3.1", "to": "1.3.0"}]));
    assert_eq!(env.db.record("enemies", "goblin_scout")["hp"], 12);
    let id = rolled["deploy_id"].as_i64().unwrap();
    let recorded: bool = env.db.one(&format!("SELECT rollback FROM seedc.deploys WHERE id = {id}"));
    assert!(recorded);
    let summary: Value = env.db.one(&format!("SELECT summary FROM seedc.deploys WHERE id = {id}"));
    assert_eq!(summary["rollbacks"][0]["collection"], "enemies");
    assert_eq!(status(&env, &[], 0)["last_deploy"]["rollback"], true);
}

#[test]
fn lock_timeout_0_does_not_wait() {
    let Some(env) = Env::new("locknowait") else { return };
    env.deploy(&["--lock-timeout", "0"], 0);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 13.into()));
    let mut holder = env.db.client();
    let mut tx = holder.transaction().unwrap();
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&seedc::db::AdvisoryLock::Deploy.key("seedc")]).unwrap();
    let started = Instant::now();
    let run = env.seedc(&["deploy", "--lock-timeout", "0"]);
    assert_eq!(run.code, 3, "{}", run.snapshot());
    assert!(started.elapsed() < Duration::from_secs(5), "waited {:?}", started.elapsed());
    assert!(run.stderr.contains("another deploy holds the deploy lock") && run.stderr.contains("did not wait"), "{}", run.snapshot());
    tx.rollback().unwrap();
    assert_eq!(env.db.record("enemies", "goblin_scout")["hp"], 12, "nothing was committed");
    env.deploy(&["--lock-timeout", "0"], 0);
    assert_eq!(env.db.record("enemies", "goblin_scout")["hp"], 13);
}

#[test]
fn status_exits_3_when_the_database_cannot_be_read() {
    let Some(env) = Env::new("statusdown") else { return };
    let run = env.seedc(&["status", "--database-url", "postgres://postgres@127.0.0.1:1/nothing?connect_timeout=3"]);
    assert_eq!(run.code, 3, "{}", run.snapshot());
    // Never deployed: the database does not mirror the seeds.
    assert_eq!(status(&env, &[], 1)["last_deploy"], Value::Null);
}
