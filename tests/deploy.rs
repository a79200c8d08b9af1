//! `seedc deploy` and `seedc flush` against the real PostgreSQL and Redis of `scripts/test`:
//! mirroring, no-op redeploys (asserted on row `xmin`s), minimal rewrites and flushes,
//! prune, dry runs, racing deploys, kill -9 mid-deploy, immutable dailies, lock timeouts,
//! TLS and hostile strings. The cache side (Redis down, hung, Cluster, TLS) is
//! `tests/flush.rs`; the service fixtures both use are `tests/support/services.rs`.

use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::services::{Env, collection, edit_records, set_field, with_database};
use crate::support::{self, Root, Run};

const DAY: &str = "2026-01-25";

#[test]
fn first_deploy_mirrors_the_sample_and_a_redeploy_writes_nothing() {
    let Some(env) = Env::new("mirror") else { return };
    let first = env.deploy(&["--date", DAY], 0);
    assert!(first["deploy_id"].is_i64());
    assert_eq!(collection(&first, "enemies")["inserted"], 28);

    // Every record, exactly as in the seed file, with its hash and version.
    let seeds: Value = serde_json::from_str(&env.root.read("data/seeds/enemies.json")).unwrap();
    for record in seeds["data"].as_array().unwrap() {
        let id = record["id"].as_str().unwrap();
        assert_eq!(env.db.record("enemies", id), *record, "{id}");
    }
    let hash: String = env.db.one("SELECT content_hash FROM enemies WHERE id = 'goblin_scout'");
    let goblin = seeds["data"].as_array().unwrap().iter().find(|r| r["id"] == "goblin_scout").unwrap();
    assert_eq!(hash, seedc::json::canon::hash_value(goblin).to_string());
    assert_eq!(env.db.one::<String>("SELECT version FROM enemies LIMIT 1"), "1.3.0");
    // The jsonb holds the record's canonical form (what the hash is of), and the key added
    // after the load is the same primary key an inline one would be.
    let stored: String = env.db.one("SELECT data::text FROM enemies WHERE id = 'goblin_scout'");
    assert_eq!(serde_json::from_str::<Value>(&stored).unwrap(), *goblin);
    let key: String = env.db.one(
        "SELECT pg_get_constraintdef(oid) || ' ' || conname FROM pg_constraint WHERE conrelid = 'enemies'::regclass AND contype = 'p'",
    );
    assert_eq!(key, "PRIMARY KEY (id) enemies_pkey");
    assert_eq!(env.db.one::<i32>("SELECT version FROM seedc.schema_version"), seedc::db::migrate::SCHEMA_VERSION);
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM seedc.packs"), 4);
    // Published bundles are the exact bytes of out/.
    let (hash, body): (String, Vec<u8>) = {
        let row = env.db.client().query_one("SELECT hash, body FROM seedc.packs WHERE pack_id = 'protocol.core'", &[]).unwrap();
        (row.get(0), row.get(1))
    };
    let on_disk = std::fs::read(env.root.file(&format!("out/packs/sha256/{}.json", hash.trim_start_matches("sha256:")))).unwrap();
    assert_eq!(body, on_disk);
    let daily: String = env.db.one(&format!("SELECT manifest_id FROM seedc.manifests WHERE date = '{DAY}'"));
    assert_eq!(daily, format!("manifest_{DAY}_daily"));
    // The lock and out/ are what `seedc build` writes.
    let build = env.root.seedc(&["build", "--date", DAY, "--format", "json"]);
    assert!(build.stdout.contains("\"bundles_written\":0"), "{}", build.snapshot());
    // The flush ran: nothing pending, the version key holds the content version.
    assert_eq!(env.pending_flushes(), 0);
    assert_eq!(env.version_key().as_deref(), first["plan"]["content_version"].as_str());

    let before = env.db.all_xmins();
    let again = env.deploy(&["--date", DAY], 0);
    assert_eq!(again["deploy_id"], Value::Null);
    // The build cache vouched for the inputs: no check, and the database proved the rest.
    assert_eq!(again["build"]["checked"], false, "{again}");
    assert_eq!(collection(&again, "enemies")["unchanged"], 28);
    assert_eq!(again["flush"]["deploys"], serde_json::json!([]));
    assert!(again["plan"]["collections"].as_array().unwrap().iter().all(|c| c["changed"] == false && c["inserted"] == 0));
    assert_eq!(env.db.all_xmins(), before, "a redeploy of unchanged content rewrote rows");

    // The manifests are immutable in the database too.
    let err = env.db.client().execute("UPDATE seedc.manifests SET mode = 'X'", &[]).unwrap_err();
    assert!(err.as_db_error().unwrap().message().contains("immutable"), "{err:?}");
}

#[test]
fn one_changed_record_rewrites_one_row_and_flushes_only_its_collection() {
    let Some(env) = Env::new("onechange") else { return };
    env.deploy(&[], 0);
    env.set_keys(&["enemies", "enemies:goblin_scout", "enemies:list:1", "items", "items:iron_sword"]);
    // A key that is not UTF-8 matches the pattern too, and must not make the flush fail.
    let raw_key = [format!("{}:enemies:", env.prefix).into_bytes(), vec![0xff, 0xfe]].concat();
    redis::cmd("SET").arg(&raw_key).arg("cached").exec(&mut env.redis()).unwrap();
    let before = env.db.all_xmins();

    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 13.into()));
    let report = env.deploy(&[], 0);
    let enemies = collection(&report, "enemies");
    assert_eq!((enemies["updated"].as_u64(), enemies["unchanged"].as_u64()), (Some(1), Some(27)));
    assert_eq!(report["plan"]["collections"].as_array().unwrap().iter().filter(|c| c["changed"] == true).count(), 1);

    let after = env.db.all_xmins();
    for (table, rows) in &after {
        let changed: Vec<&String> = rows.iter().filter(|(id, x)| before[table].get(*id) != Some(*x)).map(|(id, _)| id).collect();
        match table.as_str() {
            "enemies" => assert_eq!(changed, ["goblin_scout"]),
            "seedc.collections" => assert_eq!(changed, ["enemies"]),
            "seedc.deploys" | "seedc.flush_outbox" => assert_eq!(changed.len(), 1, "{table}"),
            _ => assert!(changed.is_empty(), "{table} rewrote {changed:?}"),
        }
    }
    let goblin = env.db.record("enemies", "goblin_scout");
    assert_eq!(goblin["hp"], 13);
    let hash: String = env.db.one("SELECT content_hash FROM enemies WHERE id = 'goblin_scout'");
    assert_eq!(hash, seedc::json::canon::hash_value(&goblin).to_string());
    assert_eq!(env.db.one::<String>("SELECT version FROM enemies WHERE id = 'goblin_scout'"), "1.3.1");
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM enemies WHERE version = '1.3.0'"), 27);

    for gone in ["enemies", "enemies:goblin_scout", "enemies:list:1"] {
        assert!(!env.key_exists(gone), "{gone} was not flushed");
    }
    for kept in ["items", "items:iron_sword"] {
        assert!(env.key_exists(kept), "{kept} was flushed but items did not change");
    }
    let raw_left: i64 = redis::cmd("EXISTS").arg(&raw_key).query(&mut env.redis()).unwrap();
    assert_eq!(raw_left, 0, "the non-UTF-8 key was not flushed");
    assert_eq!(report["flush"]["keys_removed"], 4);
    assert_eq!(env.version_key().as_deref(), report["plan"]["content_version"].as_str());
}

#[test]
fn prune_deletes_rows_that_left_the_seeds_and_no_prune_keeps_them() {
    let Some(env) = Env::new("prune") else { return };
    env.deploy(&[], 0);
    env.edit_records("achievements", |r| r.retain(|a| a["id"] != "rat_catcher"));

    let kept = env.deploy(&["--no-prune"], 0);
    assert_eq!(
        (collection(&kept, "achievements")["deleted"].as_u64(), collection(&kept, "achievements")["kept"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM achievements WHERE id = 'rat_catcher'"), 1);
    assert_eq!(env.deploy(&["--no-prune"], 0)["deploy_id"], Value::Null);

    let pruned = env.deploy(&[], 0);
    assert_eq!(collection(&pruned, "achievements")["deleted"], 1);
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM achievements WHERE id = 'rat_catcher'"), 0);
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM achievements"), 22);
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let Some(env) = Env::new("dryrun") else { return };
    let plan = env.deploy(&["--dry-run"], 0);
    assert_eq!(plan["plan"]["dry_run"], true);
    assert_eq!(collection(&plan, "enemies")["inserted"], 28);
    assert!(
        env.db.one::<bool>("SELECT to_regclass('seedc.deploys') IS NULL AND to_regclass('enemies') IS NULL"),
        "a dry run created tables"
    );
    assert!(!env.root.file("out").exists(), "a dry run wrote out/");

    env.deploy(&[], 0);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 14.into()));
    let lock_before = env.root.read("seedc.lock");
    let before = env.db.all_xmins();
    let run = env.seedc(&["deploy", "--dry-run", "-v"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(run.stdout.contains("~ goblin_scout") && run.stdout.contains("/hp: 12 -> 14"), "{}", run.snapshot());
    let json = env.deploy(&["--dry-run", "-v"], 0);
    let change = &collection(&json, "enemies")["changes"][0];
    assert_eq!((change["id"].as_str(), change["op"].as_str()), (Some("goblin_scout"), Some("update")));
    assert_eq!(change["fields"], serde_json::json!([{"pointer": "/hp", "old": 12, "new": 14}]));
    assert_eq!(env.db.all_xmins(), before);
    assert_eq!(env.root.read("seedc.lock"), lock_before);
}

#[test]
fn concurrent_deploys_serialize_and_leave_one_whole_state() {
    let Some(env) = Env::new("race") else { return };
    let variants: Vec<Root> = (0..4)
        .map(|i| {
            let root = Root::sample();
            root.write("seedc.toml", env.root.read("seedc.toml"));
            edit_records(&root, "enemies", |r| {
                for record in r.iter_mut() {
                    record["hp"] = (100 + i).into();
                }
            });
            root
        })
        .collect();
    let children: Vec<Child> = variants
        .iter()
        .map(|root| {
            let mut cmd = support::seedc_cmd();
            cmd.arg("--root").arg(root.path()).args(["deploy", "-q"]).env("DATABASE_URL", &env.db.url).env("REDIS_URL", &env.redis);
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    // Every variant is enemies 1.3.1 with other content: the first to take the lock deploys,
    // and each later one finds that version deployed with other content and is refused.
    let mut codes: Vec<i32> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            let code = out.status.code().unwrap();
            assert!(
                code == 0 || String::from_utf8_lossy(&out.stderr).contains("with other content"),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            code
        })
        .collect();
    codes.sort();
    assert_eq!(codes, [0, 4, 4, 4]);
    // One variant, wholly: every enemy has the same hp, and the recorded hash is its hash.
    let hps: Vec<i64> = env.db.query("SELECT DISTINCT (data->>'hp')::bigint FROM enemies");
    assert_eq!(hps.len(), 1, "interleaved deploys: {hps:?}");
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM enemies"), 28);
    let winner = (hps[0] - 100) as usize;
    let dry = {
        let mut cmd = support::seedc_cmd();
        cmd.arg("--root").arg(variants[winner].path()).args(["deploy", "--dry-run", "--format", "json"]).env("DATABASE_URL", &env.db.url);
        Run::of(cmd.output().unwrap(), variants[winner].path())
    };
    assert!(dry.stdout.contains("\"changed\":false") && !dry.stdout.contains("\"changed\":true"), "{}", dry.snapshot());
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM seedc.deploys"), 1);
}

#[test]
fn kill_9_mid_deploy_leaves_the_old_state_and_the_next_deploy_runs_at_once() {
    let Some(env) = Env::new("kill9") else { return };
    env.deploy(&[], 0);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 50.into()));

    // Hold up the deploy after it wrote the rows: it waits to insert its deploy record.
    let mut blocker = env.db.client();
    let mut tx = blocker.transaction().unwrap();
    tx.batch_execute("LOCK TABLE seedc.deploys IN ACCESS EXCLUSIVE MODE").unwrap();
    let mut child = env.command(&["deploy", "-q"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: i64 =
            env.db.one("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'seedc deploy%' AND wait_event_type = 'Lock'");
        if waiting > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the deploy never reached the blocked insert");
        assert!(child.try_wait().unwrap().is_none(), "the deploy ended before it was blocked");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    tx.rollback().unwrap();

    assert_eq!(env.db.record("enemies", "goblin_scout")["hp"], 12);
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM seedc.deploys"), 1);
    let started = Instant::now();
    let report = env.deploy(&["--lock-timeout", "10"], 0);
    assert!(started.elapsed() < Duration::from_secs(5), "the next deploy waited {:?}", started.elapsed());
    assert_eq!(collection(&report, "enemies")["updated"], 1);
    assert_eq!(env.db.record("enemies", "goblin_scout")["hp"], 50);
}

#[test]
fn a_changed_daily_for_a_published_date_is_refused_and_nothing_is_committed() {
    let Some(env) = Env::new("daily") else { return };
    env.deploy(&["--date", DAY], 0);
    let before = env.db.all_xmins();
    env.root.edit("seedc.toml", "meta_perks_disabled = true", "meta_perks_disabled = false");
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 15.into()));
    // A fresh checkout: out/ does not know the published daily, the database does.
    std::fs::remove_dir_all(env.root.file("out")).unwrap();

    let run = env.seedc(&["deploy", "--date", DAY]);
    assert_eq!(run.code, 4, "{}", run.snapshot());
    assert!(run.stderr.contains(&format!("manifest_{DAY}_daily is published")), "{}", run.snapshot());
    assert_eq!(env.db.all_xmins(), before);
    // Another date is fine, and so is the same date with the content it was built from.
    env.deploy(&["--date", "2026-01-26"], 0);
    env.root.edit("seedc.toml", "meta_perks_disabled = false", "meta_perks_disabled = true");
    let same = env.deploy(&["--date", DAY], 0);
    assert_eq!((same["plan"]["manifests"]["new"].as_u64(), same["plan"]["manifests"]["unchanged"].as_u64()), (Some(0), Some(2)));
}

#[test]
fn service_failures_exit_3_and_invalid_content_exit_1_whatever_the_services() {
    if support::services().is_none() {
        return;
    }
    let root = Root::sample();
    let unreachable = "postgres://postgres@127.0.0.1:1/nothing?connect_timeout=3";
    let (_, redis) = support::services().unwrap();
    let mut cmd = support::seedc_cmd();
    cmd.arg("--root").arg(root.path()).args(["deploy", "--database-url", unreachable, "--redis-url", &redis]);
    let run = Run::of(cmd.output().unwrap(), root.path());
    assert_eq!(run.code, 3, "{}", run.snapshot());
    assert!(run.stderr.contains("cannot connect to the database"), "{}", run.snapshot());

    // No Redis to flush into is a usage error, found before any connection.
    let mut cmd = support::seedc_cmd();
    cmd.arg("--root").arg(root.path()).args(["deploy", "--database-url", unreachable]).env_remove("REDIS_URL");
    let run = Run::of(cmd.output().unwrap(), root.path());
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stderr.contains("REDIS_URL"), "{}", run.snapshot());

    root.edit("data/seeds/enemies.json", "\"hp\": 12", "\"hp\": 0");
    let mut cmd = support::seedc_cmd();
    cmd.arg("--root").arg(root.path()).args(["deploy", "--database-url", unreachable, "--redis-url", "redis://127.0.0.1:1/"]);
    let run = Run::of(cmd.output().unwrap(), root.path());
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(!run.stderr.contains("connect"), "{}", run.snapshot());

    // The connections are opened while the content is checked; invalid content does not
    // wait for them, not even for a database that accepts and never answers (its watchdog
    // would end the process with exit 3 after connect_timeout and its slack).
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging = format!("postgres://postgres@{}/x?connect_timeout=20", silent.local_addr().unwrap());
    let mut cmd = support::seedc_cmd();
    cmd.arg("--root").arg(root.path()).args(["deploy", "--database-url", &hanging, "--redis-url", &redis]);
    let started = Instant::now();
    let run = Run::of(cmd.output().unwrap(), root.path());
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(run.stdout.contains("error[schema-violation]") && !run.stderr.contains("database"), "{}", run.snapshot());
    assert!(started.elapsed() < Duration::from_secs(20), "waited for the silent database");
}

#[test]
fn a_held_deploy_lock_times_out_with_exit_3_naming_the_holder() {
    let Some(env) = Env::new("locktimeout") else { return };
    let mut holder = env.db.client();
    let mut tx = holder.transaction().unwrap();
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&seedc::db::AdvisoryLock::Deploy.key("seedc")]).unwrap();
    let run = env.seedc(&["deploy", "--lock-timeout", "1"]);
    assert_eq!(run.code, 3, "{}", run.snapshot());
    assert!(run.stderr.contains("another deploy holds the deploy lock") && run.stderr.contains("server pid"), "{}", run.snapshot());
    tx.rollback().unwrap();
    assert!(env.db.one::<bool>("SELECT to_regclass('seedc.deploys') IS NULL"), "nothing was committed");
}

#[test]
fn tls_sslmode_require_and_verify() {
    let Some(env) = Env::new("tls") else { return };
    let mut cmd = env.command(&["deploy", "-q"]);
    cmd.env("DATABASE_URL", format!("{}?sslmode=require", env.db.url));
    let run = Run::of(cmd.output().unwrap(), env.root.path());
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM enemies"), 28);

    // The test server's certificate is self-signed: verify-full needs it as the root.
    let mut cmd = env.command(&["deploy", "-q", "--dry-run"]);
    cmd.env("DATABASE_URL", format!("{}?sslmode=verify-full&sslrootcert=/nonexistent", env.db.url));
    assert_eq!(Run::of(cmd.output().unwrap(), env.root.path()).code, 2);
    if let Ok(cert) = std::env::var("SEEDC_PG_SSL_CERT") {
        let mut cmd = env.command(&["deploy", "-q", "--dry-run"]);
        cmd.env("DATABASE_URL", format!("{}?sslmode=verify-full&sslrootcert={cert}", env.db.url));
        let run = Run::of(cmd.output().unwrap(), env.root.path());
        assert_eq!(run.code, 0, "{}", run.snapshot());
    }
}

#[test]
fn strings_are_stored_verbatim_and_numbers_canonically() {
    let Some(env) = Env::new("hostile") else { return };
    let evil = "Robert'); DROP TABLE enemies; -- \"quoted\" \\ back $1 $$ \u{1f480}";
    env.edit_records("enemies", |r| {
        set_field(r, "goblin_scout", "name", evil.into());
        set_field(r, "cave_rat", "drops", serde_json::json!([{ "item": "rusty_dagger", "chance": 1.0 }]));
    });
    assert!(env.root.read("data/seeds/enemies.json").contains("\"chance\": 1.0"));
    env.deploy(&[], 0);
    assert_eq!(env.db.record("enemies", "goblin_scout")["name"], evil);
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM enemies"), 28);
    // The row holds the RFC 8785 form its content hash is of: 1.0 is written 1.
    assert_eq!(env.db.one::<String>("SELECT data->'drops'->0->>'chance' FROM enemies WHERE id = 'cave_rat'"), "1");
}

/// Keeps the helper honest: `with_database` swaps only the path.
#[test]
fn database_urls_swap_only_the_database() {
    assert_eq!(with_database("postgres://u@h:1/a?sslmode=require", "b"), "postgres://u@h:1/b?sslmode=require");
    assert_eq!(with_database("postgres://u@h:1/a", "b"), "postgres://u@h:1/b");
}

#[test]
fn a_database_that_never_answers_fails_in_bounded_time() {
    // The cache is reached before the database, so it must answer.
    let Some((_, redis)) = support::services() else { return };
    // Accepts connections (the kernel completes the handshake) and never says a word.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let root = Root::sample();
    let url = format!("postgres://postgres@127.0.0.1:{port}/x?connect_timeout=1");
    let mut cmd = support::seedc_cmd();
    cmd.arg("--root").arg(root.path()).args(["deploy", "--database-url", &url, "--redis-url", &redis]);
    let started = Instant::now();
    let run = Run::of(cmd.output().unwrap(), root.path());
    assert_eq!(run.code, 3, "{}", run.snapshot());
    assert!(run.stderr.contains("did not answer in time while connecting"), "{}", run.snapshot());
    assert!(started.elapsed() < Duration::from_secs(40), "took {:?}", started.elapsed());
    drop(silent);
}

/// A redeploy with the record memo of the last deploy (out/.cache/records.bin) parses only
/// the records that changed and plans from the memo instead of reading the tables; the
/// rows must come out exactly as a deploy without the memo leaves them. A damaged memo is
/// only a miss.
#[test]
fn a_redeploy_from_the_record_memo_leaves_the_rows_a_full_deploy_would() {
    let Some(env) = Env::new("memo") else { return };
    // Seed files as the edits below write them, so that unedited records keep their bytes.
    for c in ["achievements", "bosses", "classes", "elements", "enemies", "hazards", "items", "races", "themes", "traps"] {
        let rel = format!("data/seeds/{c}.json");
        let file: Value = serde_json::from_str(&env.root.read(&rel)).unwrap();
        env.root.write(&rel, serde_json::to_string_pretty(&file).unwrap());
    }
    env.deploy(&[], 0);
    let memo = env.root.path().join("out/.cache/records.bin");
    assert!(memo.is_file(), "a deploy leaves its record memo");

    env.edit_records("enemies", |r| {
        set_field(r, "goblin_scout", "hp", 14.into());
        let mut imp = r[0].clone();
        imp["id"] = "ember_imp".into();
        r.push(imp);
    });
    let report = env.deploy(&[], 0);
    let enemies = collection(&report, "enemies");
    assert_eq!((enemies["inserted"].as_u64(), enemies["updated"].as_u64(), enemies["unchanged"].as_u64()), (Some(1), Some(1), Some(27)));
    assert_eq!(env.db.record("enemies", "goblin_scout")["hp"], 14);
    assert_eq!(env.db.record("enemies", "ember_imp")["id"], "ember_imp");

    // Without the memo, the plan reads every table: nothing is left to do.
    std::fs::remove_file(&memo).unwrap();
    let fresh = env.deploy(&["--dry-run"], 0);
    for c in fresh["plan"]["collections"].as_array().unwrap() {
        assert_eq!((c["inserted"].as_u64(), c["updated"].as_u64(), c["deleted"].as_u64()), (Some(0), Some(0), Some(0)), "{c}");
    }

    // A damaged memo is a miss, not an error.
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 16.into()));
    env.deploy(&[], 0);
    let mut bytes = std::fs::read(&memo).expect("a deploy that checked wrote the memo again");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&memo, bytes).unwrap();
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 15.into()));
    let report = env.deploy(&[], 0);
    assert_eq!(collection(&report, "enemies")["updated"], 1);
    assert_eq!(env.db.record("enemies", "goblin_scout")["hp"], 15);
}

/// A deploy whose content is the memo's (here, the repair of a hot-fix) keeps the memo as it
/// is rather than writing the same records again, and the memo still serves the next deploy;
/// a content change writes it anew.
#[test]
fn a_drift_repair_keeps_the_record_memo_and_a_change_rewrites_it() {
    let Some(env) = Env::new("memokeep") else { return };
    env.deploy(&[], 0);
    let memo = env.root.path().join("out/.cache/records.bin");
    let modified = || std::fs::metadata(&memo).and_then(|m| m.modified()).expect("the memo is there");
    let before = (std::fs::read(&memo).unwrap(), modified());
    std::thread::sleep(std::time::Duration::from_millis(20));
    env.db.client().batch_execute("UPDATE enemies SET data = jsonb_set(data, '{hp}', '999') WHERE id = 'goblin_scout'").unwrap();
    let report = env.deploy(&[], 0);
    assert_eq!(collection(&report, "enemies")["drifted"], 1, "{report}");
    assert_ne!(env.db.record("enemies", "goblin_scout")["hp"], 999, "the repair was written");
    assert_eq!((std::fs::read(&memo).unwrap(), modified()), before, "the memo was kept as it was");

    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 14.into()));
    let report = env.deploy(&[], 0);
    assert_eq!(collection(&report, "enemies")["updated"], 1);
    assert_ne!(modified(), before.1, "changed content writes the memo anew");
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 15.into()));
    assert_eq!(collection(&env.deploy(&[], 0), "enemies")["updated"], 1);
    assert_eq!(env.db.record("enemies", "goblin_scout")["hp"], 15);
}

/// A deploy from a fresh checkout (no `out/`) of content the database already holds writes
/// no row and no record memo (a CI checkout would throw it away); `out/` is built as always,
/// so the next deploy of the same content is proven a no-op by the build cache, and a
/// change after it deploys as usual.
#[test]
fn a_cold_no_op_writes_no_row_and_no_memo() {
    let Some(env) = Env::new("coldnoop") else { return };
    env.deploy(&[], 0);
    std::fs::remove_dir_all(env.root.path().join("out")).unwrap();
    let before = env.db.all_xmins();
    let report = env.deploy(&[], 0);
    assert_eq!((&report["committed"], &report["deploy_id"]), (&false.into(), &Value::Null), "{report}");
    assert_eq!(env.db.all_xmins(), before, "a cold no-op writes no row");
    assert!(env.root.path().join("out/index.json").is_file(), "out/ is built");
    assert!(!env.root.path().join("out/.cache/records.bin").exists(), "no memo for a fresh checkout's no-op");
    let again = env.deploy(&[], 0);
    assert_eq!(again["committed"], false);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 14.into()));
    let changed = env.deploy(&[], 0);
    assert_eq!(collection(&changed, "enemies")["updated"], 1);
    assert!(env.root.path().join("out/.cache/records.bin").is_file(), "a deploy that writes leaves its memo");
}
