//! Collection hashes changed definition (`canon::HashVersion`): a seedc.lock and a database
//! written under the first one are still read, their version discipline enforced, and
//! rewritten in the current definition by the next build and the next deploy, with nothing
//! else changed: no spurious version-not-bumped, no row rewritten, no cache flushed. The
//! lock's pin of each collection's text (`text`), which lets a check take a hash from the
//! lock instead of hashing every record, came later still: a lock without it is enforced as
//! before and completed by the next build, and a pin never stands for any other text.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::Root;
use crate::support::services::Env;

/// Every collection of the sample's seed files, hashed as the first definition says (the
/// canonical object of each key to its record).
fn whole_hashes(root: &Root) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(root.file("data/seeds")).unwrap() {
        let path = entry.unwrap().path();
        let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let records = file["data"].as_array().unwrap();
        let hash = seedc::json::canon::hash_collection_whole(records.iter().map(|r| (r["id"].as_str().unwrap(), r)));
        out.insert(path.file_stem().unwrap().to_str().unwrap().to_owned(), hash.to_string());
    }
    out
}

/// The lock the seedc before this definition wrote for the same content: format 1, each
/// collection's hash of the first definition.
fn first_format_lock(root: &Root) -> String {
    let mut lock: Value = serde_json::from_str(&root.read("seedc.lock")).unwrap();
    assert_eq!(lock["v"], 2, "the sample's lock is of the current format");
    lock["v"] = 1.into();
    for (name, hash) in whole_hashes(root) {
        lock["collections"][&name]["hash"] = hash.into();
        lock["collections"][&name].as_object_mut().unwrap().remove("text");
    }
    format!("{}\n", serde_json::to_string_pretty(&lock).unwrap())
}

#[test]
fn a_lock_of_the_first_format_is_enforced_then_rewritten_by_build() {
    let root = Root::sample();
    let current = root.read("seedc.lock");
    let old = first_format_lock(&root);
    root.write("seedc.lock", &old);

    let check = root.seedc(&["check"]);
    assert_eq!(check.code, 0, "the same content is no change: {}", check.snapshot());
    // It says the same as the current lock would: --locked leaves it alone.
    let locked = root.seedc(&["build", "--locked"]);
    assert_eq!(locked.code, 0, "{}", locked.snapshot());
    assert_eq!(root.read("seedc.lock"), old);

    // A changed collection without a bump is still refused under the old lock.
    let enemies = root.read("data/seeds/enemies.json");
    root.edit("data/seeds/enemies.json", "\"hp\": 12,", "\"hp\": 13,");
    let changed = root.seedc(&["check", "--format", "json"]);
    assert_eq!(changed.code, 1, "{}", changed.snapshot());
    let codes: Vec<(String, String)> = changed
        .json_lines()
        .iter()
        .filter_map(|l| Some((l.get("code")?.as_str()?.to_owned(), l.get("file")?.as_str()?.to_owned())))
        .collect();
    assert_eq!(codes, [("version-not-bumped".to_owned(), "data/seeds/enemies.json".to_owned())]);
    let refused = root.seedc(&["build"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert_eq!(root.read("seedc.lock"), old, "a refused build writes no lock");
    root.write("data/seeds/enemies.json", &enemies);

    // The next build rewrites it in the current format: the sample's own lock.
    let build = root.seedc(&["build"]);
    assert_eq!(build.code, 0, "{}", build.snapshot());
    assert_eq!(root.read("seedc.lock"), current);
    assert_eq!(root.seedc(&["check"]).code, 0);
}

#[test]
fn a_database_deployed_under_the_first_definition_redeploys_writing_no_row() {
    let Some(env) = Env::new("hashv1") else { return };
    env.deploy(&[], 0);
    // What the seedc before this definition left: its lock, its recorded hashes (and no
    // column saying which definition they follow), its schema version, no build cache.
    let whole = whole_hashes(&env.root);
    env.root.write("seedc.lock", first_format_lock(&env.root));
    let mut client = env.db.client();
    for (name, hash) in &whole {
        client.execute("UPDATE seedc.collections SET content_hash = $2 WHERE name = $1", &[name, hash]).unwrap();
    }
    client
        .batch_execute(
            "ALTER TABLE seedc.collections DROP COLUMN hash_v; DELETE FROM seedc.migrations WHERE version > 2; UPDATE seedc.schema_version SET version = 2",
        )
        .unwrap();
    std::fs::remove_dir_all(env.root.file("out/.cache")).unwrap();
    let before = env.db.all_xmins();

    let report = env.deploy(&[], 0);
    assert_eq!(report["deploy_id"], Value::Null, "no deploy record: {report}");
    assert!(report["plan"]["collections"].as_array().unwrap().iter().all(|c| c["changed"] == false && c["inserted"] == 0), "{report}");
    assert_eq!(report["flush"]["deploys"], serde_json::json!([]), "nothing flushed");
    let after = env.db.all_xmins();
    for (table, rows) in &after {
        if table != "seedc.collections" {
            assert_eq!(rows, &before[table], "{table} was rewritten");
        }
    }
    // Only the recorded hashes were rewritten, in the current definition: the new lock's.
    let lock: Value = serde_json::from_str(&env.root.read("seedc.lock")).unwrap();
    assert_eq!(lock["v"], 2, "the deploy's build rewrote the lock");
    for name in whole.keys() {
        let (hash, v): (String, i32) = {
            let row = client.query_one("SELECT content_hash, hash_v FROM seedc.collections WHERE name = $1", &[name]).unwrap();
            (row.get(0), row.get(1))
        };
        assert_eq!((hash.as_str(), v), (lock["collections"][name]["hash"].as_str().unwrap(), 2), "{name}");
    }
    assert_eq!(env.db.one::<i32>("SELECT version FROM seedc.schema_version"), seedc::db::migrate::SCHEMA_VERSION);

    // From then on the build cache and the recorded hashes prove a no-op without a check.
    let after = env.db.all_xmins();
    let again = env.deploy(&[], 0);
    assert_eq!(again["build"]["checked"], false, "{again}");
    assert_eq!(env.db.all_xmins(), after);
}

/// The sample's lock as the seedc before text pins wrote it: format 2, no `text`.
fn unpinned_lock(root: &Root) -> String {
    let mut lock: Value = serde_json::from_str(&root.read("seedc.lock")).unwrap();
    for (_, c) in lock["collections"].as_object_mut().unwrap() {
        c.as_object_mut().unwrap().remove("text").expect("the sample's lock pins every collection's text");
    }
    format!("{}\n", serde_json::to_string_pretty(&lock).unwrap())
}

/// The codes and files of a check's diagnostics (run with `--format json`).
fn found(run: &crate::support::Run) -> Vec<(String, String)> {
    run.json_lines().iter().filter_map(|l| Some((l.get("code")?.as_str()?.to_owned(), l.get("file")?.as_str()?.to_owned()))).collect()
}

fn not_bumped(file: &str) -> Vec<(String, String)> {
    vec![("version-not-bumped".to_owned(), file.to_owned())]
}

#[test]
fn a_lock_without_text_pins_is_enforced_then_completed_by_build() {
    let root = Root::sample();
    let current = root.read("seedc.lock");
    let old = unpinned_lock(&root);
    root.write("seedc.lock", &old);
    assert_eq!(root.seedc(&["check"]).code, 0);
    let enemies = root.read("data/seeds/enemies.json");
    root.edit("data/seeds/enemies.json", "\"hp\": 12,", "\"hp\": 13,");
    assert_eq!(found(&root.seedc(&["check", "--format", "json"])), not_bumped("data/seeds/enemies.json"));
    root.write("data/seeds/enemies.json", &enemies);

    // --locked leaves it alone (and caches nothing: a plain build must check to complete
    // it); a plain build then completes it.
    let locked = root.seedc(&["build", "--locked"]);
    assert_eq!(locked.code, 0, "{}", locked.snapshot());
    assert_eq!(root.read("seedc.lock"), old);
    let build = root.seedc(&["build"]);
    assert_eq!(build.code, 0, "{}", build.snapshot());
    assert_eq!(root.read("seedc.lock"), current);
}

#[test]
fn a_text_pin_stands_for_its_own_text_and_hash_only() {
    let root = Root::sample();
    let current = root.read("seedc.lock");
    let enemies = root.read("data/seeds/enemies.json");
    let check = |root: &Root| found(&root.seedc(&["check", "--format", "json"]));

    // A hash edited by hand beside its pin: the pin no longer holds, the records are hashed.
    let mut lock: Value = serde_json::from_str(&current).unwrap();
    lock["collections"]["enemies"]["hash"] = format!("sha256:{}", "0".repeat(64)).into();
    root.write("seedc.lock", serde_json::to_string_pretty(&lock).unwrap());
    assert_eq!(check(&root), not_bumped("data/seeds/enemies.json"), "a tampered hash");
    root.write("seedc.lock", &current);

    // An edit that keeps the file's length, and one that does not.
    root.edit("data/seeds/enemies.json", "\"hp\": 12,", "\"hp\": 13,");
    assert_eq!(root.read("data/seeds/enemies.json").len(), enemies.len());
    assert_eq!(check(&root), not_bumped("data/seeds/enemies.json"), "the same length");
    root.edit("data/seeds/enemies.json", "\"hp\": 13,", "\"hp\": 130,");
    assert_eq!(check(&root), not_bumped("data/seeds/enemies.json"), "another length");

    // CRLF line endings (a Windows checkout) are the same content, and the same lock.
    root.write("data/seeds/enemies.json", enemies.replace('\n', "\r\n"));
    assert_eq!(check(&root), [], "CRLF");
    assert_eq!(root.seedc(&["build"]).code, 0);
    assert_eq!(root.read("seedc.lock"), current, "a CRLF checkout writes the same lock");
    // Whitespace alone is no change either; the next build pins the new text.
    root.write("data/seeds/enemies.json", enemies.replace("\"hp\": ", "\"hp\":  "));
    assert_eq!(check(&root), [], "whitespace");
    assert_eq!(root.seedc(&["build", "--locked"]).code, 0, "--locked: the lock still says the same");
    assert_eq!(root.seedc(&["build"]).code, 0);
    let rebuilt: Value = serde_json::from_str(&root.read("seedc.lock")).unwrap();
    let before: Value = serde_json::from_str(&current).unwrap();
    assert_eq!(rebuilt["collections"]["enemies"]["hash"], before["collections"]["enemies"]["hash"]);
    assert_ne!(rebuilt["collections"]["enemies"]["text"], before["collections"]["enemies"]["text"]);
    root.write("data/seeds/enemies.json", &enemies);
    root.write("seedc.lock", &current);

    // Under a pin that holds, the records are still validated: a schema that no longer
    // admits them is reported.
    root.edit("schemas/seeds/enemies.schema.json", "\"minimum\": 1", "\"minimum\": 100");
    assert!(check(&root).iter().any(|(code, file)| code == "schema-violation" && file == "data/seeds/enemies.json"), "{:?}", check(&root));
}
