//! Collection hashes changed definition (`canon::HashVersion`): a seedc.lock written under
//! the first one is still read, its version discipline enforced, and rewritten in the
//! current definition by the next build, with nothing else changed: no spurious
//! version-not-bumped.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::Root;

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
