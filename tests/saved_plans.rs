//! Saved deploy plans against the real PostgreSQL and Redis of `scripts/test`: a plan made
//! by `deploy --dry-run --save-plan` is applied exactly (`deploy --plan`), or refused with
//! exit 4, nothing written, and a message naming what changed since it was made.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::services::{Env, set_field};

/// `deploy --dry-run --save-plan` into the test's root; returns the plan file.
fn save_plan(env: &Env, name: &str) -> PathBuf {
    let path = env.root.path().join(name);
    let run = env.seedc(&["deploy", "--dry-run", "--save-plan", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(run.stderr.contains("plan saved to"), "the dry run says where the plan went: {}", run.snapshot());
    path
}

fn apply(env: &Env, plan: &std::path::Path) -> crate::support::Run {
    env.seedc(&["deploy", "--plan", plan.to_str().unwrap()])
}

/// Applies `plan` expecting a refusal with exit `code` whose message has every one of
/// `needles`, and checks that nothing at all was written.
fn refused(env: &Env, plan: &std::path::Path, code: i32, needles: &[&str]) {
    let before = env.db.all_xmins();
    let run = apply(env, plan);
    assert_eq!(run.code, code, "{}", run.snapshot());
    for needle in needles {
        assert!(run.stderr.contains(needle), "the refusal says {needle:?}: {}", run.snapshot());
    }
    assert_eq!(env.db.all_xmins(), before, "a refused plan writes nothing: {}", run.snapshot());
}

#[test]
fn a_plan_applies_exactly_its_rows_once() {
    let Some(env) = Env::new("planapply") else { return };
    env.deploy(&[], 0);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 13.into()));
    let plan = save_plan(&env, "plan.json");
    let before = env.db.all_xmins();
    env.set_keys(&["enemies", "enemies:goblin_scout", "items"]);

    let run = apply(&env, &plan);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(run.stderr.contains("from plan sha256:"), "{}", run.snapshot());
    let after = env.db.all_xmins();
    for (table, rows) in &before {
        if table.starts_with("seedc.") {
            continue;
        }
        for (id, xmin) in rows {
            let changed = after[table][id] != *xmin;
            assert_eq!(changed, table == "enemies" && id == "goblin_scout", "{table}/{id}: only the planned row is written");
        }
    }
    assert_eq!(env.db.record("enemies", "goblin_scout")["hp"], 13);
    assert!(!env.key_exists("enemies") && !env.key_exists("enemies:goblin_scout"), "the changed collection's keys are flushed");
    assert!(env.key_exists("items"), "an unchanged collection's keys stay");
    let digest: String = env.db.one("SELECT plan FROM seedc.deploys ORDER BY id DESC LIMIT 1");
    assert!(digest.starts_with("sha256:"), "the deploy record names the plan it applied");

    refused(&env, &plan, 4, &["this plan was applied already, by deploy #2"]);
}

#[test]
fn a_row_edited_in_sql_after_planning_is_named_by_key_and_field() {
    let Some(env) = Env::new("planedited") else { return };
    env.deploy(&[], 0);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 13.into()));
    let plan = save_plan(&env, "plan.json");
    // A hot-fix of the planned row, and of a row the plan leaves alone.
    let mut db = env.db.client();
    db.batch_execute("UPDATE enemies SET data = jsonb_set(data, '{name}', '\"Goblin Sniper\"') WHERE id = 'goblin_scout'").unwrap();
    db.batch_execute("UPDATE items SET data = jsonb_set(data, '{value}', '999') WHERE id = 'iron_sword'").unwrap();
    refused(
        &env,
        &plan,
        4,
        &[
            "written outside seedc since the plan",
            "goblin_scout: changed outside seedc: /name \"Goblin Scout\" -> \"Goblin Sniper\"",
            "iron_sword: changed outside seedc: /value",
            "-> 999",
        ],
    );
    // A new plan sees the drift and repairs it.
    let again = save_plan(&env, "plan2.json");
    let run = apply(&env, &again);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert_ne!(env.db.record("items", "iron_sword")["value"], 999, "the drift was repaired");
}

#[test]
fn a_row_deleted_or_added_in_sql_is_named() {
    let Some(env) = Env::new("planrows") else { return };
    env.deploy(&[], 0);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 13.into()));
    let plan = save_plan(&env, "plan.json");
    let mut db = env.db.client();
    db.batch_execute("DELETE FROM items WHERE id = 'iron_sword'").unwrap();
    db.batch_execute(
        "INSERT INTO traps (id, data, content_hash, version) SELECT 'trapdoor', data, content_hash, version FROM traps LIMIT 1",
    )
    .unwrap();
    refused(&env, &plan, 4, &["iron_sword: deleted outside seedc", "trapdoor: added outside seedc"]);
}

#[test]
fn another_deploy_in_between_is_named_by_id() {
    let Some(env) = Env::new("planrace") else { return };
    env.deploy(&[], 0);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 13.into()));
    let plan = save_plan(&env, "plan.json");
    // Another branch deploys first: the same content, even.
    env.deploy(&[], 0);
    refused(&env, &plan, 4, &["another deploy since the plan: it was made after deploy #1", "deploy #2 at"]);
}

#[test]
fn content_changed_after_planning_is_named_without_connecting() {
    let Some(env) = Env::new("plancontent") else { return };
    env.deploy(&[], 0);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 13.into()));
    let plan = save_plan(&env, "plan.json");
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 14.into()));
    refused(&env, &plan, 4, &["the content root is no longer the planned content", "enemies: version 1.3.1 planned, 1.3.2 now"]);
    // Without a database at all, the refusal is the same: it comes before any connection.
    let run = env
        .command(&["deploy", "--plan", plan.to_str().unwrap()])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(4), "{}", String::from_utf8_lossy(&run.stderr));
}

#[test]
fn a_plan_for_another_database_is_refused() {
    let Some(env) = Env::new("planhere") else { return };
    let Some(other) = Env::new("planthere") else { return };
    env.deploy(&[], 0);
    other.deploy(&[], 0);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 13.into()));
    let plan = save_plan(&env, "plan.json");
    let here: String = env.db.one("SELECT id FROM seedc.identity");
    let there: String = other.db.one("SELECT id FROM seedc.identity");
    assert_ne!(here, there, "every database has an identity of its own");
    let before = other.db.all_xmins();
    let run = env.command(&["deploy", "--plan", plan.to_str().unwrap()]).env("DATABASE_URL", &other.db.url).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains(&format!("the plan was made for database {here}; this is database {there}")), "{stderr}");
    assert_eq!(other.db.all_xmins(), before);
    // Its own database takes it.
    assert_eq!(apply(&env, &plan).code, 0);
}

#[test]
fn an_altered_plan_file_is_refused_and_the_original_still_applies() {
    let Some(env) = Env::new("planaltered") else { return };
    env.deploy(&[], 0);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 13.into()));
    let plan = save_plan(&env, "plan.json");
    let text = std::fs::read_to_string(&plan).unwrap();
    let altered = env.root.path().join("altered.json");
    // One digit: the planned hp.
    let at = text.find("\"new\": 13").expect("the field change is in the plan");
    std::fs::write(&altered, format!("{}\"new\": 12{}", &text[..at], &text[at + "\"new\": 13".len()..])).unwrap();
    refused(&env, &altered, 2, &["the plan file was altered after it was saved"]);

    let mut newer: Value = serde_json::from_str(&text).unwrap();
    newer["v"] = 2.into();
    std::fs::write(&altered, newer.to_string()).unwrap();
    refused(&env, &altered, 2, &["a plan of format version 2, which this seedc", "cannot read"]);
    std::fs::write(&altered, "{\"format\": \"terraform\"}").unwrap();
    refused(&env, &altered, 2, &["not a seedc plan file"]);
    std::fs::write(&altered, "not json").unwrap();
    refused(&env, &altered, 2, &["not a plan file"]);
    refused(&env, &env.root.path().join("missing.json"), 2, &["cannot read the plan"]);

    let run = apply(&env, &plan);
    assert_eq!(run.code, 0, "a valid plan applies after refused attempts: {}", run.snapshot());
}

#[test]
fn a_plan_with_no_changes_applies_as_a_no_op() {
    let Some(env) = Env::new("plannoop") else { return };
    env.deploy(&[], 0);
    let plan = save_plan(&env, "plan.json");
    let before = env.db.all_xmins();
    for _ in 0..2 {
        let run = apply(&env, &plan);
        assert_eq!(run.code, 0, "{}", run.snapshot());
        assert!(run.stderr.contains("nothing to deploy"), "{}", run.snapshot());
        assert_eq!(env.db.all_xmins(), before, "a no-op plan writes nothing");
    }
}

#[test]
fn a_first_deploy_plan_applies_to_an_empty_database() {
    let Some(env) = Env::new("planfirst") else { return };
    let plan = save_plan(&env, "plan.json");
    let show = env.seedc(&["show", plan.to_str().unwrap()]);
    assert_eq!(show.code, 0, "{}", show.snapshot());
    assert!(show.stdout.contains("before any deploy"), "{}", show.snapshot());
    assert_eq!(apply(&env, &plan).code, 0);
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM enemies"), 28);
}

#[test]
fn show_renders_a_real_plan_in_every_format() {
    let Some(env) = Env::new("planshow") else { return };
    env.deploy(&[], 0);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 13.into()));
    let plan = save_plan(&env, "plan.json");
    let path = plan.to_str().unwrap();
    let human = env.seedc(&["show", path]);
    assert!(human.stdout.contains("after deploy #1") && human.stdout.contains("/hp: 12 -> 13"), "{}", human.snapshot());
    let json = env.seedc(&["show", path, "--format", "json"]);
    let doc = &json.json_lines()[0]["plan"];
    assert_eq!(doc["format"], "seedc-plan");
    assert_eq!(doc["against"]["last_deploy"]["id"], 1);
    let md = env.seedc(&["show", path, "--format", "markdown"]);
    assert!(md.stdout.starts_with("### seedc deploy plan"), "{}", md.snapshot());
    assert!(md.stdout.contains("| `goblin_scout` | *updated* | `/hp` | `12` | `13` | +1, +8.33% |"), "{}", md.snapshot());
    // `show` needs no database and no content root.
    let alone = crate::support::seedc_cmd().args(["show", path]).env_remove("DATABASE_URL").current_dir("/").output().unwrap();
    assert_eq!(alone.status.code(), Some(0));
}

#[test]
fn a_plan_for_one_environment_is_refused_in_another() {
    let Some(env) = Env::new("planenv") else { return };
    // Two environments of one database: only the environment tells them apart.
    let mut toml = env.root.read("seedc.toml");
    for name in ["staging", "production"] {
        toml.push_str(&format!(
            "\n[environments.{name}]\ndatabase_url = {{ env = \"TARGET_DB\" }}\nredis_url = {{ env = \"TARGET_REDIS\" }}\n"
        ));
    }
    env.root.write("seedc.toml", toml);
    let seedc = |args: &[&str]| {
        let out = env.command(args).env("TARGET_DB", &env.db.url).env("TARGET_REDIS", &env.redis).output().unwrap();
        crate::support::Run::of(out, env.root.path())
    };
    assert_eq!(seedc(&["deploy", "--env", "staging"]).code, 0);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 13.into()));
    let plan = env.root.path().join("plan.json");
    let plan = plan.to_str().unwrap();
    assert_eq!(seedc(&["deploy", "--env", "staging", "--dry-run", "--save-plan", plan]).code, 0);
    assert!(seedc(&["show", plan]).stdout.contains("environment staging"));

    let before = env.db.all_xmins();
    for (args, says) in [
        (&["deploy", "--env", "production", "--plan", plan][..], "this deploy is for environment production"),
        (&["deploy", "--plan", plan][..], "this deploy is for no environment"),
    ] {
        let run = seedc(args);
        assert_eq!(run.code, 4, "{}", run.snapshot());
        assert!(run.stderr.contains("the plan was made for environment staging") && run.stderr.contains(says), "{}", run.snapshot());
    }
    assert_eq!(env.db.all_xmins(), before, "nothing was written");
    let run = seedc(&["deploy", "--env", "staging", "--plan", plan]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
}

#[test]
fn a_write_outside_seedc_that_was_undone_still_makes_the_plan_stale() {
    let Some(env) = Env::new("planundone") else { return };
    env.deploy(&[], 0);
    env.edit_records("enemies", |r| set_field(r, "goblin_scout", "hp", 13.into()));
    let plan = save_plan(&env, "plan.json");
    // A hot-fix and its revert: every row is as planned, but someone wrote the table.
    let mut db = env.db.client();
    db.batch_execute("UPDATE items SET data = jsonb_set(data, '{value}', '999') WHERE id = 'iron_sword'").unwrap();
    let value: Value = serde_json::from_str(&env.root.read("data/seeds/items.json")).unwrap();
    let original = value["data"].as_array().unwrap().iter().find(|r| r["id"] == "iron_sword").unwrap()["value"].clone();
    db.execute("UPDATE items SET data = jsonb_set(data, '{value}', $1) WHERE id = 'iron_sword'", &[&postgres::types::Json(&original)])
        .unwrap();
    refused(&env, &plan, 4, &["items: written outside seedc since the plan (2 statements"]);
}
