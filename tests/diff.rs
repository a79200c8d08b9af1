//! `seedc diff`: snapshots of every format over a base/head pair built from the sample
//! (additions, removals, numeric and nested changes, a pure rename and a renamed-and-changed
//! record, a pack bump), the exit-code contract, a side that does not check, and git
//! revisions read from a temporary repository (also with the content root in a subdirectory).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{self, Run, git};

/// A temp dir holding `base/` (the sample) and `head/` (the sample, edited by `edits`).
struct Pair {
    dir: tempfile::TempDir,
}

impl Pair {
    fn new() -> Pair {
        let dir = tempfile::tempdir().unwrap();
        for side in ["base", "head"] {
            copy_sample(&dir.path().join(side));
        }
        Pair { dir }
    }

    fn head(&self) -> PathBuf {
        self.dir.path().join("head")
    }

    /// Runs `seedc --root head diff ARGS` from the pair's directory, so paths read `base`.
    fn diff(&self, args: &[&str]) -> Run {
        let mut cmd = support::seedc_cmd();
        cmd.current_dir(self.dir.path()).args(["--root", "head", "diff"]).args(args);
        Run::of(cmd.output().unwrap(), self.dir.path())
    }
}

fn copy_sample(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["seedc.toml", "seedc.lock"] {
        std::fs::copy(support::repo().join(f), to.join(f)).unwrap();
    }
    for d in ["data", "schemas"] {
        support::copy_dir(&support::repo().join(d), &to.join(d));
    }
}

/// Rewrites a JSON file through `f` (pretty-printed: formatting is not content).
fn edit_json(path: &Path, f: impl FnOnce(&mut Value)) {
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    f(&mut value);
    std::fs::write(path, serde_json::to_string_pretty(&value).unwrap() + "\n").unwrap();
}

fn record<'a>(data: &'a mut Value, id: &str) -> &'a mut Value {
    data["data"].as_array_mut().unwrap().iter_mut().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no record {id}"))
}

/// The balance change under test, applied to a content root.
fn edit_balance(root: &Path) {
    edit_json(&root.join("data/seeds/enemies.json"), |e| {
        e["version"] = json!("1.4.0");
        let scout = record(e, "goblin_scout");
        scout["hp"] = json!(15);
        scout["drops"][0]["chance"] = json!(0.15);
        scout["name"] = json!("Goblin Skirmisher");
        scout.as_object_mut().unwrap().remove("abilities");
        record(e, "cave_rat")["speed"] = json!(9);
        // A pure rename: identical content under a new key.
        record(e, "wraith")["id"] = json!("shade");
        // Renamed and changed: no sound identity, so removed + added.
        let troll = record(e, "cave_troll");
        troll["id"] = json!("stone_troll");
        troll["hp"] = json!(99);
        let data = e["data"].as_array_mut().unwrap();
        data.retain(|r| r["id"] != "skeleton_warrior");
        let mut imp = data[0].clone();
        imp["id"] = json!("ember_imp");
        imp["name"] = json!("Ember Imp");
        data.push(imp);
    });
    edit_json(&root.join("data/packs/protocol.core.json"), |p| {
        p["version"] = json!("1.3.0");
        p["title"] = json!("Core protocols");
    });
}

#[test]
fn diff_every_format() {
    let pair = Pair::new();
    edit_balance(&pair.head());

    let human = pair.diff(&["base", "--color", "never"]);
    assert_eq!(human.code, 0, "{}", human.snapshot());
    insta::assert_snapshot!("diff_human", human.snapshot());

    let markdown = pair.diff(&["base", "--format", "markdown"]);
    assert_eq!(markdown.code, 0);
    insta::assert_snapshot!("diff_markdown", markdown.stdout);

    let github = pair.diff(&["base", "--format", "github"]);
    assert_eq!(github.code, 0);
    insta::assert_snapshot!("diff_github", github.stdout);

    let json = pair.diff(&["base", "--format", "json"]);
    assert_eq!(json.code, 0);
    let lines = json.json_lines();
    assert_eq!(lines.len(), 1, "one JSON document: {}", json.stdout);
    insta::assert_json_snapshot!("diff_json", lines[0]);

    // The JSON is the stable interface: check the facts, not just the snapshot.
    let d = &lines[0]["diff"];
    let enemies = &d["collections"][0];
    assert_eq!(enemies["collection"], "enemies");
    assert_eq!(enemies["version"], json!({"old": "1.3.0", "new": "1.4.0"}));
    assert_eq!(enemies["added"], json!(["ember_imp", "stone_troll"]));
    assert_eq!(enemies["removed"], json!(["cave_troll", "skeleton_warrior"]));
    assert_eq!(enemies["renamed"], json!([{"old": "wraith", "new": "shade"}]));
    let scout = enemies["changed"].as_array().unwrap().iter().find(|r| r["key"] == "goblin_scout").unwrap();
    let hp = scout["fields"].as_array().unwrap().iter().find(|f| f["pointer"] == "/hp").unwrap();
    assert_eq!((&hp["old"], &hp["new"], &hp["delta"], &hp["percent"]), (&json!(12), &json!(15), &json!(3), &json!(25.0)));
    assert!(scout["fields"].as_array().unwrap().iter().any(|f| f["pointer"] == "/drops/0/chance"));
    assert!(scout["fields"].as_array().unwrap().iter().any(|f| f["pointer"] == "/abilities" && f["status"] == "removed"));
    assert_eq!(d["packs"][0]["pack_id"], "protocol.core");
    assert_eq!(d["daily_pack_refs"][0]["new"]["version"], "1.3.0");
    assert_eq!(d["summary"]["changed"], true);
}

#[test]
fn exit_code_only_with_the_flag() {
    let pair = Pair::new();
    assert_eq!(pair.diff(&["base", "--exit-code"]).code, 0, "no change");
    let same = pair.diff(&["base"]);
    assert_eq!((same.code, same.stdout.trim_end().ends_with("no changes")), (0, true), "{}", same.stdout);

    edit_balance(&pair.head());
    assert_eq!(pair.diff(&["base"]).code, 0);
    assert_eq!(pair.diff(&["base", "--exit-code"]).code, 1);
    // Both sides named explicitly, the other way round.
    let reverse = pair.diff(&["head", "base", "--format", "json"]);
    assert_eq!(reverse.json_lines()[0]["diff"]["collections"][0]["added"], json!(["cave_troll", "skeleton_warrior"]));
}

#[test]
fn a_side_that_does_not_check_is_reported_not_diffed() {
    let pair = Pair::new();
    // Changed balance without a version bump: the head does not check against its lock.
    edit_json(&pair.head().join("data/seeds/enemies.json"), |e| record(e, "goblin_scout")["hp"] = json!(13));
    let run = pair.diff(&["base", "--color", "never"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(run.stdout.contains("version-not-bumped"), "{}", run.stdout);
    assert!(run.stderr.contains("not diffed: working tree (1 error) does not check"), "{}", run.stderr);
    assert!(!run.stdout.contains("goblin_scout\n"), "no diff printed: {}", run.stdout);

    let unknown = pair.diff(&["no-such-revision"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("is neither a directory nor a git revision"), "{}", unknown.stderr);
}

fn diff_in(root: &Path, args: &[&str]) -> Run {
    let mut cmd = support::seedc_cmd();
    cmd.arg("--root").arg(root).arg("diff").args(args).args(["--format", "json"]);
    Run::of(cmd.output().unwrap(), root)
}

#[test]
fn git_revisions_are_read_from_objects() {
    let repo = tempfile::tempdir().unwrap();
    // The content root is a subdirectory of the repository, next to unrelated files.
    let root = repo.path().join("game/content");
    copy_sample(&root);
    std::fs::write(repo.path().join("README"), "not content\n").unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "README"]);
    git(repo.path(), &["commit", "-q", "-m", "before any content"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "base"]);

    let clean = diff_in(&root, &["HEAD"]);
    assert_eq!(clean.code, 0, "{}", clean.snapshot());
    assert_eq!(clean.json_lines()[0]["diff"]["summary"]["changed"], false);

    // Working tree against HEAD: the edit is seen, the checkout is untouched.
    edit_balance(&root);
    let run = diff_in(&root, &["HEAD"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    let d = &run.json_lines()[0]["diff"];
    assert_eq!((&d["base"], &d["head"]), (&json!("HEAD"), &json!("working tree")));
    assert_eq!(d["summary"]["records_changed"], 2);
    assert_eq!(d["summary"]["records_renamed"], 1);

    // Two revisions, neither of them checked out.
    git(repo.path(), &["commit", "-q", "-am", "balance"]);
    git(repo.path(), &["checkout", "-q", "HEAD~1"]);
    let run = diff_in(&root, &["main~1", "main"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert_eq!(run.json_lines()[0]["diff"]["collections"][0]["version"]["new"], "1.4.0");
    assert!(!std::fs::read_to_string(root.join("data/seeds/enemies.json")).unwrap().contains("\"1.4.0\""), "checkout untouched");

    // A revision in which the content root does not exist yet.
    let run = diff_in(&root, &["main~2"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stderr.contains("there is no seedc.toml"), "{}", run.stderr);
}

type Edit = fn(&Path);

/// Edits that break what a check leaning on a prior must still find.
fn breaking_edits() -> [(&'static str, Edit); 4] {
    [
        // Changed records that break their schema or a reference.
        ("a changed record breaks its schema", |head| {
            edit_json(&head.join("data/seeds/enemies.json"), |e| record(e, "goblin_scout")["hp"] = json!(0));
        }),
        ("a changed record names a missing key", |head| {
            edit_json(&head.join("data/seeds/items.json"), |i| record(i, "rusty_dagger")["element"] = json!("plasma"));
        }),
        // Unchanged records that no longer pass: a stricter schema, a key they name gone.
        ("the schema gets stricter", |head| {
            let path = head.join("schemas/seeds/enemies.schema.json");
            let text = std::fs::read_to_string(&path).unwrap().replacen("\"maximum\": 100000", "\"maximum\": 11", 1);
            std::fs::write(path, text).unwrap();
        }),
        ("a referenced key goes away", |head| {
            edit_json(&head.join("data/seeds/elements.json"), |e| e["data"].as_array_mut().unwrap().retain(|r| r["id"] != "fire"));
        }),
    ]
}

/// `diff` checks the new side after the old one and skips work for records byte-identical
/// to a clean old side's. Whatever the edit, that check must report exactly what a full
/// check of the new side reports, and hash alike.
#[test]
fn a_check_after_a_clean_prior_finds_what_a_full_check_finds() {
    use seedc::check::{self, Mode};
    use seedc::project::Project;

    let edits = [("nothing", (|_| {}) as Edit), ("the balance change", edit_balance)].into_iter().chain(breaking_edits());
    let describe = |(checked, sink): &(check::Checked, seedc::diag::Sink)| {
        let diags: Vec<String> = sink.iter().map(|d| format!("{d:?}")).collect();
        (diags, checked.collection_hashes.clone())
    };
    for (what, edit) in edits {
        let pair = Pair::new();
        edit(&pair.head());
        let mut base = check::run(&Project::open(pair.dir.path().join("base")).unwrap(), Mode::DiffOld).unwrap();
        assert!(!base.1.has_errors(), "the sample checks");
        let head = Project::open(pair.head()).unwrap();
        let full = check::run(&head, Mode::Build).unwrap();
        let known = base.0.take_known();
        let after = check::run(&head, Mode::DiffNew(Some(&known))).unwrap();
        assert_eq!(describe(&after), describe(&full), "{what}");
        let expect_errors = !matches!(what, "nothing" | "the balance change");
        assert_eq!(full.1.has_errors(), expect_errors, "{what}: {:?}", describe(&full).0);
    }
}

/// Each record a check kept, per collection: its hash, canonical bytes and outgoing
/// references (found as the deploy memo finds them, the check made against `known`).
fn kept_records(checked: &seedc::check::Checked, known: Option<&seedc::check::Known>) -> Vec<(String, Vec<KeptRecord>)> {
    checked
        .records
        .iter()
        .map(|(name, canonical)| {
            let finder = checked.references(name, known).expect("a declared collection");
            let seed = &checked.content.seeds[name];
            let kept = canonical.iter().zip(&seed.records).map(|(c, r)| (c.hash, c.bytes.clone(), finder.all(r))).collect();
            (name.clone(), kept)
        })
        .collect()
}

type KeptRecord = (seedc::json::canon::ContentHash, bytes::Bytes, Vec<seedc::check::OutRef>);

/// A pair whose base is as its last deploy left it: both sides' seed files rewritten as the
/// edits write them (so unedited records keep their bytes), the base checked keeping its
/// records, and its memo written to `head/out`. Returns the pair, the base's check, and
/// where the memo is.
fn deployed_pair() -> (Pair, seedc::check::Checked, seedc::diag::Sink, PathBuf) {
    use seedc::build::cache::Fingerprint;
    use seedc::check::{self, Mode};
    use seedc::project::Project;

    let pair = Pair::new();
    let base_root = pair.dir.path().join("base");
    for side in [base_root.clone(), pair.head()] {
        for entry in std::fs::read_dir(side.join("data/seeds")).unwrap() {
            edit_json(&entry.unwrap().path(), |_| {});
        }
    }
    let (base, sink) = check::run(&Project::open(&base_root).unwrap(), Mode::DiffOld).unwrap();
    let out = pair.head().join("out");
    seedc::deploy::memo::prepare(&pair.head(), &base, None, &Fingerprint::compute(&base_root).unwrap().global).unwrap().commit().unwrap();
    (pair, base, sink, out)
}

/// `deploy` checks against the record memo of its last deploy (`seedc::deploy::memo`):
/// records byte-identical to a memo record are not even parsed. Whenever the memo applies,
/// that check must report exactly what a full check reports and keep the same canonical
/// records and references; a schema change makes the memo a miss. A key gone that unchanged
/// records name is found from the references the memo recorded, with no full check.
#[test]
fn a_check_with_the_record_memo_finds_what_a_full_check_finds() {
    use seedc::build::cache::Fingerprint;
    use seedc::check::{self, Mode};
    use seedc::deploy::memo;
    use seedc::project::Project;

    let edits = [
        ("nothing", (|_| {}) as Edit),
        ("records change, move and arrive", |head| {
            edit_json(&head.join("data/seeds/enemies.json"), |e| {
                e["version"] = json!("1.4.0");
                record(e, "goblin_scout")["hp"] = json!(15);
                let data = e["data"].as_array_mut().unwrap();
                data.swap(3, 7);
                let mut imp = data[0].clone();
                imp["id"] = json!("ember_imp");
                data.push(imp);
            });
        }),
    ]
    .into_iter()
    .chain(breaking_edits())
    // Removes skeleton_warrior, which unchanged records name.
    .chain([("the balance change", edit_balance as Edit)]);
    for (what, edit) in edits {
        let (pair, _, sink, out) = deployed_pair();
        assert!(sink.iter().next().is_none(), "the sample checks spotless");
        edit(&pair.head());

        let head = Project::open(pair.head()).unwrap();
        let Some(known) = memo::load(&out, &Fingerprint::compute(&pair.head()).unwrap().global) else {
            assert_eq!(what, "the schema gets stricter", "only a changed schema makes the memo a miss");
            continue;
        };
        let (after, after_sink) = check::run(&head, Mode::Deploy(&known)).unwrap();
        let (full, full_sink) = check::run(&head, Mode::DiffOld).unwrap();
        let diags = |sink: &seedc::diag::Sink| sink.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>();
        assert_eq!(diags(&after_sink), diags(&full_sink), "{what}");
        let expect_errors = what.starts_with("a changed record") || what == "a referenced key goes away";
        assert_eq!(full_sink.has_errors(), expect_errors, "{what}");
        assert_eq!(after.collection_hashes, full.collection_hashes, "{what}");
        assert_eq!(kept_records(&after, Some(&known)), kept_records(&full, None), "{what}");
        let enemies = &after.content.seeds["enemies"];
        let parsed = enemies.records.iter().filter(|r| r.value().is_some()).count();
        let expected = match what {
            "nothing" | "a referenced key goes away" => 0,
            // goblin_scout and ember_imp; the swapped records are found by their bytes.
            "records change, move and arrive" => 2,
            "a changed record breaks its schema" => 1,
            _ => parsed,
        };
        assert_eq!(parsed, expected, "{what}: enemies parsed again");
    }
}

/// One step of a random edit script over the sample content.
#[derive(Debug, Clone)]
enum Step {
    /// Sets a number in a record of a collection (0 breaks enemies' `hp` minimum).
    SetValue {
        collection: usize,
        record: usize,
        value: i64,
    },
    /// Appends a copy of a record under a new id.
    Add {
        collection: usize,
        record: usize,
    },
    Remove {
        collection: usize,
        record: usize,
    },
    Swap {
        collection: usize,
        a: usize,
        b: usize,
    },
    /// Renames a record's id: references to it now dangle, unless nothing names it.
    Rename {
        collection: usize,
        record: usize,
    },
    /// Lowers the first `maximum` of a collection's schema.
    Tighten {
        collection: usize,
        maximum: i64,
    },
    /// Removes a referenced element.
    RemoveElement {
        record: usize,
    },
    /// A `$schema` naming a missing file: a warning.
    Warn {
        collection: usize,
    },
}

const SCRIPT_COLLECTIONS: [&str; 4] = ["enemies", "items", "bosses", "elements"];

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    let c = 0..SCRIPT_COLLECTIONS.len();
    prop_oneof![
        (c.clone(), 0..40usize, prop_oneof![Just(0i64), 1..500i64]).prop_map(|(collection, record, value)| Step::SetValue {
            collection,
            record,
            value
        }),
        (c.clone(), 0..40usize).prop_map(|(collection, record)| Step::Add { collection, record }),
        (c.clone(), 0..40usize).prop_map(|(collection, record)| Step::Remove { collection, record }),
        (c.clone(), 0..40usize, 0..40usize).prop_map(|(collection, a, b)| Step::Swap { collection, a, b }),
        (c.clone(), 0..40usize).prop_map(|(collection, record)| Step::Rename { collection, record }),
        (0..2usize, 5..200i64).prop_map(|(collection, maximum)| Step::Tighten { collection, maximum }),
        (0..12usize).prop_map(|record| Step::RemoveElement { record }),
        c.prop_map(|collection| Step::Warn { collection }),
    ]
}

fn apply_step(root: &Path, step: &Step) {
    let seeds = |c: usize| root.join(format!("data/seeds/{}.json", SCRIPT_COLLECTIONS[c]));
    let records = |v: &mut Value| v["data"].as_array_mut().unwrap().len();
    match *step {
        Step::SetValue { collection, record, value } => edit_json(&seeds(collection), |v| {
            let n = records(v);
            let r = v["data"][record % n].as_object_mut().unwrap();
            let field = ["hp", "price", "value", "damage_multiplier"].into_iter().find(|f| r.get(*f).is_some_and(Value::is_number));
            r.insert(field.unwrap_or("hp").to_owned(), json!(value));
        }),
        Step::Add { collection, record } => edit_json(&seeds(collection), |v| {
            let n = records(v);
            let mut copy = v["data"][record % n].clone();
            copy["id"] = json!(format!("{}_copy", copy["id"].as_str().unwrap_or("x")));
            v["data"].as_array_mut().unwrap().push(copy);
        }),
        Step::Remove { collection, record } => edit_json(&seeds(collection), |v| {
            let n = records(v);
            if n > 1 {
                v["data"].as_array_mut().unwrap().remove(record % n);
            }
        }),
        Step::Swap { collection, a, b } => edit_json(&seeds(collection), |v| {
            let n = records(v);
            v["data"].as_array_mut().unwrap().swap(a % n, b % n);
        }),
        Step::Rename { collection, record } => edit_json(&seeds(collection), |v| {
            let n = records(v);
            let r = &mut v["data"][record % n];
            r["id"] = json!(format!("{}_renamed", r["id"].as_str().unwrap_or("x")));
        }),
        Step::Tighten { collection, maximum } => {
            let path = root.join(format!("schemas/seeds/{}.schema.json", SCRIPT_COLLECTIONS[collection]));
            let text = std::fs::read_to_string(&path).unwrap();
            let Some(at) = text.find("\"maximum\": ") else { return };
            let end = at + text[at..].find([',', '\n']).unwrap();
            std::fs::write(&path, format!("{}\"maximum\": {maximum}{}", &text[..at], &text[end..])).unwrap();
        }
        Step::RemoveElement { record } => edit_json(&root.join("data/seeds/elements.json"), |v| {
            let n = records(v);
            if n > 1 {
                v["data"].as_array_mut().unwrap().remove(record % n);
            }
        }),
        Step::Warn { collection } => edit_json(&seeds(collection), |v| v["$schema"] = json!("../../schemas/nowhere.json")),
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 16, failure_persistence: None, ..Default::default() })]

    /// Whatever a random edit script does to the content, a check that leans on known
    /// records (from the old side, as `diff` does, or from the deploy memo, unparsed)
    /// reports exactly the diagnostics of a full check, and computes the same collection
    /// hashes, canonical records and outgoing references.
    #[test]
    fn known_records_never_change_what_a_check_finds(script in proptest::collection::vec(step(), 1..6)) {
        use seedc::build::cache::Fingerprint;
        use seedc::check::{self, Mode};
        use seedc::deploy::memo;
        use seedc::project::Project;

        let (pair, mut base, sink, out) = deployed_pair();
        proptest::prop_assert!(!sink.has_errors());
        for step in &script {
            apply_step(&pair.head(), step);
        }
        let head = Project::open(pair.head()).unwrap();
        let describe = |(checked, sink): &(check::Checked, seedc::diag::Sink), known: Option<&check::Known>| {
            let diags: Vec<String> = sink.iter().map(|d| format!("{d:?}")).collect();
            (diags, checked.collection_hashes.clone(), kept_records(checked, known))
        };
        let full = describe(&check::run(&head, Mode::DiffOld).unwrap(), None);
        // The old side's index, its records left unparsed: found by digest in the old
        // side's text.
        let known = base.take_known();
        let after = describe(&check::run(&head, Mode::Deploy(&known)).unwrap(), Some(&known));
        proptest::prop_assert_eq!(&after, &full, "against the old side's index, records unparsed");
        // As `diff` does: the same diagnostics and hashes, nothing kept.
        let (diff_new, diff_sink) = check::run(&head, Mode::DiffNew(Some(&known))).unwrap();
        let diags: Vec<String> = diff_sink.iter().map(|d| format!("{d:?}")).collect();
        proptest::prop_assert_eq!(&(diags, diff_new.collection_hashes.clone()), &(full.0.clone(), full.1.clone()), "as diff checks");
        // As `deploy` does: records the memo knows are not parsed at all.
        if let Some(known) = memo::load(&out, &Fingerprint::compute(&pair.head()).unwrap().global) {
            let after = describe(&check::run(&head, Mode::Deploy(&known)).unwrap(), Some(&known));
            proptest::prop_assert_eq!(&after, &full, "against the memo");
        }
    }
}
