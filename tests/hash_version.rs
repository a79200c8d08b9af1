//! Collection hashes changed definition (`canon::HashVersion`): a seedc.lock and a database
//! written under the first one are still read, their version discipline enforced, and
//! rewritten in the current definition by the next build and the next deploy, with nothing
//! else changed: no spurious version-not-bumped, no row rewritten, no cache flushed.

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
