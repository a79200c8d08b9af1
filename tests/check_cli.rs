//! `seedc check` and `seedc explain` end to end: the sample content is valid and complete
//! (the counts PRODUCT.md promises), every output format, help texts, and usage errors.

use std::collections::{BTreeMap, HashSet};

use crate::support::{Root, seedc_cmd};

#[test]
fn sample_content_is_valid() {
    let root = Root::sample();
    let run = root.seedc(&["check"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(run.stdout.contains("no problems"), "{}", run.stdout);
}

#[test]
fn json_summary_counts_files() {
    let root = Root::sample();
    let run = root.seedc(&["check", "--format", "json"]);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1, "only the summary: {}", run.stdout);
    assert_eq!(lines[0]["summary"]["errors"], 0);
    assert_eq!(lines[0]["summary"]["files"], 14);
}

/// The sample game is what PRODUCT.md describes: every collection with its count, bosses
/// whose loot tables name existing items, and one pack of each kind.
#[test]
fn sample_content_has_the_promised_shape() {
    let root = Root::sample();
    let (checked, sink) = crate::support::check(root.path(), seedc::check::Mode::Build).unwrap();
    let found: Vec<String> = sink.iter().map(|d| format!("{} {}", d.code, d.message)).collect();
    assert!(found.is_empty(), "no errors and no warnings: {found:?}");

    let counts: BTreeMap<&str, usize> = checked.content.seeds.iter().map(|(n, s)| (n.as_str(), s.records.len())).collect();
    for (name, count) in
        [("enemies", 28), ("bosses", 8), ("items", 23), ("races", 5), ("classes", 4), ("themes", 8), ("traps", 4), ("hazards", 4)]
    {
        assert_eq!(counts.get(name), Some(&count), "{name}: {counts:?}");
    }
    assert!(counts["elements"] >= 2, "{counts:?}");
    assert!(counts["achievements"] >= 1, "{counts:?}");

    let items: HashSet<&str> = checked.content.seeds["items"].records.iter().filter_map(|r| r.key.as_deref()).collect();
    for boss in &checked.content.seeds["bosses"].records {
        let loot = boss.value().unwrap()["loot_table"].as_array().unwrap_or_else(|| panic!("{:?} has no loot table", boss.key));
        assert!(!loot.is_empty(), "{:?}", boss.key);
        for entry in loot {
            let item = entry["item"].as_str().unwrap();
            assert!(items.contains(item), "{:?} drops unknown {item}", boss.key);
        }
    }

    let packs: Vec<(&str, &str)> = checked.content.packs.iter().map(|p| (p.pack_id.as_str(), p.kind.as_str())).collect();
    assert_eq!(
        packs,
        [("artifact.core", "ARTIFACT"), ("incident.core", "INCIDENT"), ("protocol.core", "PROTOCOL"), ("voice.core.en", "VOICE")]
    );
}

#[test]
fn sample_check_in_every_format() {
    let root = Root::sample();
    for format in ["human", "json", "github"] {
        let run = root.seedc(&["check", "--format", format, "--color", "never"]);
        assert_eq!(run.code, 0, "{}", run.snapshot());
        insta::assert_snapshot!(format!("sample_check_{format}"), run.snapshot());
    }
}

#[test]
fn quiet_check_of_valid_content_prints_nothing() {
    let root = Root::sample();
    let run = root.seedc(&["check", "-q"]);
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "", ""));
}

#[test]
fn invalid_content_in_github_format() {
    let root = Root::sample();
    std::fs::remove_file(root.file("seedc.lock")).unwrap();
    root.edit("data/seeds/enemies.json", "\"hp\": 12,", "\"hp\": 0,");
    let run = root.seedc(&["check", "--format", "github"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(run.stdout.starts_with("::error file=data/seeds/enemies.json,line=9,col=13,title=schema-violation::"), "{}", run.stdout);
    insta::assert_snapshot!("invalid_check_github", run.snapshot());
}

fn help(args: &[&str]) -> String {
    let out = seedc_cmd().args(args).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("help", help(&[]));
    for command in ["check", "build", "verify", "deploy", "flush", "diff", "schema", "explain"] {
        let text = help(&[command]);
        assert!(text.contains(&format!("Usage: seedc {command}")), "{text}");
        insta::assert_snapshot!(format!("help_{command}"), text);
    }
}

#[test]
fn explain_a_code_and_list_them_all() {
    let root = Root::sample();
    let run = root.seedc(&["explain", "dangling-reference"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(run.stdout.starts_with("dangling-reference: "), "{}", run.stdout);
    insta::assert_snapshot!("explain_dangling_reference", run.snapshot());

    let list = root.seedc(&["explain", "--list"]);
    assert_eq!(list.code, 0, "{}", list.snapshot());
    assert_eq!(list.stdout.lines().count(), seedc::diag::Code::ALL.len());
    insta::assert_snapshot!("explain_list", list.stdout);
}

/// `explain` is a report like any other: under `--format json` it is JSON, not text.
#[test]
fn explain_speaks_json_when_asked() {
    let root = Root::sample();
    let one = root.seedc(&["explain", "dangling-reference", "--format", "json"]);
    assert_eq!(one.code, 0, "{}", one.snapshot());
    let lines = one.json_lines();
    assert_eq!(lines.len(), 1, "{}", one.stdout);
    assert_eq!(lines[0]["code"], "dangling-reference");
    assert!(lines[0]["explanation"].as_str().is_some_and(|t| t.len() > 40), "{}", one.stdout);
    let all = root.seedc(&["explain", "--list", "--format", "json"]).json_lines();
    let codes: Vec<&str> = all.iter().map(|l| l["code"].as_str().unwrap()).collect();
    let expected: Vec<String> = seedc::diag::Code::ALL.iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(codes, expected);
}

#[test]
fn explain_of_an_unknown_code_is_a_usage_error() {
    let root = Root::sample();
    let run = root.seedc(&["explain", "no-such-code"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stdout.is_empty());
    insta::assert_snapshot!("explain_unknown", run.snapshot());
}

#[test]
fn a_missing_or_invalid_config_is_a_usage_error() {
    let root = Root::sample();
    std::fs::remove_file(root.file("seedc.toml")).unwrap();
    let run = root.seedc(&["check"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stdout.is_empty());
    insta::assert_snapshot!("config_missing", run.snapshot());

    let root = Root::sample();
    root.edit("seedc.toml", "max_depth = 64", "max_dept = 64");
    let run = root.seedc(&["check", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    // Under --format json the error is also one JSON object on stdout, for CI scripts.
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert_eq!(lines[0]["error"]["exit"], 2);
    assert!(lines[0]["error"]["message"].as_str().unwrap().contains("max_dept"), "{}", run.stdout);
    insta::assert_snapshot!("config_unknown_key", run.snapshot());

    let root = Root::sample();
    root.edit("seedc.toml", "[limits]", "[limits");
    let run = root.seedc(&["check"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stderr.contains("invalid seedc.toml"), "{}", run.stderr);
}

#[test]
fn a_bad_flag_is_a_usage_error() {
    let root = Root::sample();
    let run = root.seedc(&["check", "--format", "yaml"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    let run = root.seedc(&["check", "--format", "markdown"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stderr.contains("only for `seedc diff`"), "{}", run.stderr);
}

/// `seedc check` hashes only what `seedc.lock` pins (its one use of a hash), and reports
/// exactly what a full check reports: here a collection left out of the lock changed,
/// and a pinned one changed without a version bump.
#[test]
fn verdict_hashes_only_pinned_collections_and_reports_the_same() {
    let root = Root::sample();
    let mut lock: serde_json::Value = serde_json::from_str(&root.read("seedc.lock")).unwrap();
    lock["collections"].as_object_mut().unwrap().remove("items").expect("the sample lock pins items");
    root.write("seedc.lock", serde_json::to_string_pretty(&lock).unwrap());
    root.edit("data/seeds/items.json", "\"value\": ", "\"value\": 1");
    root.edit("data/seeds/enemies.json", "\"hp\": ", "\"hp\": 1");
    // And what the reduced records must still answer for: a schema violation, a dangling
    // reference (with its hint) and a duplicate key.
    root.edit("data/seeds/enemies.json", "\"attack\": 4", "\"attack\": \"4\"");
    root.edit("data/seeds/bosses.json", "\"item\": \"", "\"item\": \"x");
    root.edit("data/seeds/items.json", "\"id\": \"", "\"id\": \"health_potion\", \"_x\": \"");

    let (full, full_sink) = crate::support::check(root.path(), seedc::check::Mode::Build).unwrap();
    let (verdict, verdict_sink) = crate::support::check(root.path(), seedc::check::Mode::Verdict).unwrap();
    let diags = |sink: &seedc::diag::Sink| sink.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>();
    assert_eq!(diags(&verdict_sink), diags(&full_sink));
    for code in ["version-not-bumped", "schema-violation", "dangling-reference"] {
        assert!(verdict_sink.iter().any(|d| d.code.to_string() == code), "{code}: {:?}", diags(&verdict_sink));
    }
    assert!(verdict.content.seeds.values().flat_map(|s| &s.records).all(|r| r.value().is_none()), "every record reduced");

    assert!(full.collection_hashes.contains_key("items"), "{:?}", full.collection_hashes.keys());
    assert!(!verdict.collection_hashes.contains_key("items"), "{:?}", verdict.collection_hashes.keys());
    assert_eq!(verdict.collection_hashes["enemies"], full.collection_hashes["enemies"]);
    let pinned: Vec<&String> = lock["collections"].as_object().unwrap().keys().collect();
    assert_eq!(verdict.collection_hashes.keys().collect::<Vec<_>>(), pinned);
}

/// A seed file of many blocks (`seedc check` parses, validates and reduces a file's records
/// a block at a time): problems in the first, a middle and the last block, references held
/// in many arenas, the records reordered so the hash must sort them, and still exactly what
/// a full check reports, with the same hash.
#[test]
fn verdict_of_a_file_of_many_blocks_reports_the_same() {
    let root = Root::sample();
    let mut doc: serde_json::Value = serde_json::from_str(&root.read("data/seeds/enemies.json")).unwrap();
    let template = doc["data"][0].clone();
    let count = 5000;
    let records: Vec<serde_json::Value> = (0..count)
        .rev()
        .map(|i| {
            let mut r = template.clone();
            r["id"] = format!("enemy_{i:05}").into();
            match i {
                7 => r["hp"] = "7".into(),
                2500 => r["drops"][1]["item"] = "no_such_item".into(),
                4998 => r["themes"][0] = "no_such_theme".into(),
                4999 => r["attack"] = (-1).into(),
                _ => {}
            }
            r
        })
        .collect();
    doc["data"] = records.into();
    root.write("data/seeds/enemies.json", serde_json::to_string_pretty(&doc).unwrap());

    let (full, full_sink) = crate::support::check(root.path(), seedc::check::Mode::Build).unwrap();
    let (verdict, verdict_sink) = crate::support::check(root.path(), seedc::check::Mode::Verdict).unwrap();
    let diags = |sink: &seedc::diag::Sink| sink.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>();
    assert_eq!(diags(&verdict_sink), diags(&full_sink));
    let in_enemies = |d: &&seedc::diag::Diagnostic| d.file.as_deref() == Some("data/seeds/enemies.json");
    let count_of = |code: &str| verdict_sink.iter().filter(in_enemies).filter(|d| d.code.to_string() == code).count();
    assert_eq!((count_of("schema-violation"), count_of("dangling-reference")), (2, 2), "{:?}", diags(&verdict_sink));
    let enemies = &verdict.content.seeds["enemies"];
    assert_eq!(enemies.records.len(), count);
    assert!(enemies.records.iter().all(|r| r.value().is_none()), "every record reduced");
    assert!(enemies.reduced.as_ref().is_some_and(|arenas| arenas.len() > 1), "references in many arenas");
    assert_eq!(verdict.collection_hashes["enemies"], full.collection_hashes["enemies"]);
}
