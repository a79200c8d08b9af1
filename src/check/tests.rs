//! Tests of the check: its modes, and the collection hash it streams.

use super::*;
use proptest::strategy::Strategy as _;

/// A deploy's check with nothing to lean on reduces its records while loading: it must
/// vouch for the very same hashes, canonical forms and record digests as the check that
/// keeps every record parsed and reads every file whole.
#[test]
fn kept_records_are_those_of_the_check_that_keeps_every_value() {
    let project = Project::open(env!("CARGO_MANIFEST_DIR")).unwrap();
    let (full, full_sink) = run(&project, Mode::DiffOld).unwrap();
    let (kept, kept_sink) = run(&project, Mode::FirstDeploy).unwrap();
    assert!(!full_sink.has_errors() && !kept_sink.has_errors());
    assert_eq!(kept.collection_hashes, full.collection_hashes);
    assert!(!kept.records.is_empty());
    assert_eq!(kept.records.keys().collect::<Vec<_>>(), full.records.keys().collect::<Vec<_>>());
    for (name, records) in &kept.records {
        let same = records.iter().zip(&full.records[name]).all(|(a, b)| a.bytes == b.bytes && a.hash == b.hash);
        assert!(same && records.len() == full.records[name].len(), "{name}");
        let (k, f) = (&kept.content.seeds[name], &full.content.seeds[name]);
        for (a, b) in k.records.iter().zip(&f.records) {
            assert!(matches!(a.body, load::Body::Reduced(_)), "{name}: reduced while loading");
            // Digested only if a memo is written, after deciding (`deploy::memo::prepare`).
            assert_eq!((a.key.as_deref(), a.digest), (b.key.as_deref(), None), "{name}");
        }
        assert!(kept.content.sources.get(&k.file).unwrap().is_released(), "{name}: no text held");
    }
}

/// A content root of one collection, `things`, whose file holds `records` in that order,
/// pinned by a lock of format `lock_v`.
fn one_collection(records: &[serde_json::Value], lock_v: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("seedc.toml", "[project]\nname = \"p\"\ndaily_salt = \"s\"\n\n[collections.things]\nschema = \"schemas/thing.json\"\n");
    write("schemas/thing.json", r#"{"type": "object", "required": ["id"]}"#);
    let file = serde_json::json!({"version": "1.0.1", "updated_at": "2026-01-13T00:00:00Z", "data": records});
    write("data/seeds/things.json", &serde_json::to_string_pretty(&file).unwrap());
    let zeros = ContentHash([0; 32]);
    write(
        "seedc.lock",
        &format!(r#"{{"v": {lock_v}, "collections": {{"things": {{"version": "1.0.0", "hash": "{zeros}"}}}}, "packs": {{}}}}"#),
    );
    dir
}

fn arb_record() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        any::<i32>().prop_map(|i| serde_json::json!(i)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| serde_json::json!(f)),
        "[a-z\"\\\\\u{e9}\u{e000}\u{1f600}\n]{0,6}".prop_map(serde_json::Value::String),
    ];
    proptest::collection::btree_map("[a-z\u{e9}]{1,3}", leaf, 0..4).prop_map(|m| serde_json::Value::Object(m.into_iter().collect()))
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, failure_persistence: None, ..Default::default() })]

    /// `seedc check` hashes a collection as its file streams by: read a buffer at a time,
    /// split into blocks and runs of records in the file's order, each record's hash
    /// taken on the core that parsed it. For any order of the records and any size of
    /// read, that is the hash of the whole collection taken from every value at once, by
    /// its definition (the canonical object of each key's record hash), and the hash a
    /// lock of the older definition is compared with is that definition's too.
    #[test]
    fn the_streamed_collection_hash_is_that_of_the_whole_collection(
        records in proptest::collection::btree_map("[a-z0-9\u{e9}\u{e000}\u{1f600}]{1,4}", arb_record(), 0..1300)
            .prop_map(|m| m.into_iter().map(|(k, mut v)| { v["id"] = serde_json::json!(k); v }).collect::<Vec<_>>())
            .prop_shuffle(),
        read in 1u64..3000,
    ) {
        use proptest::{prop_assert, prop_assert_eq};
        let keyed = || records.iter().map(|r| (r["id"].as_str().unwrap(), r));
        let by_hand: serde_json::Map<String, serde_json::Value> =
            keyed().map(|(k, r)| (k.to_owned(), serde_json::json!(canon::hash_value(r).to_string()))).collect();
        let whole = canon::hash_collection(keyed());
        prop_assert_eq!(whole, canon::hash_value(&serde_json::Value::Object(by_hand)));
        for lock_v in [1, 2] {
            let root = one_collection(&records, lock_v);
            let project = Project::open(root.path()).unwrap();
            crate::load::READ_FOR_TESTS.store(read, std::sync::atomic::Ordering::Relaxed);
            let streamed = run(&project, Mode::Verdict);
            crate::load::READ_FOR_TESTS.store(0, std::sync::atomic::Ordering::Relaxed);
            let (checked, sink) = streamed.unwrap();
            prop_assert!(!sink.has_errors(), "{:?}", sink.iter().map(|d| d.message.clone()).collect::<Vec<_>>());
            prop_assert!(checked.content.sources.get("data/seeds/things.json").unwrap().is_released(), "streamed, not read whole");
            prop_assert_eq!(checked.collection_hashes.get("things"), Some(&whole));
            if lock_v == 1 {
                prop_assert_eq!(checked.whole_hashes.get("things"), Some(&canon::hash_collection_whole(keyed())));
            } else {
                prop_assert!(checked.whole_hashes.is_empty());
            }
        }
    }
}

/// The editor's buffers stand for the files at their paths, and a buffer with no file
/// behind it is a file of the content root: the check sees what the editor shows.
#[test]
fn the_editor_mode_checks_buffers_over_the_files() {
    let root = env!("CARGO_MANIFEST_DIR");
    let enemies = std::fs::read_to_string(Path::new(root).join("data/seeds/enemies.json")).unwrap();
    let broken = enemies.replacen("\"hp\": 12,", "\"hp\": 0,", 1);
    assert_ne!(broken, enemies);
    let imps = r#"{"version": "1.0.0", "updated_at": "2026-01-13T00:00:00Z", "data": [{"id": "imp"}]}"#;
    let buffers =
        [("data/seeds/enemies.json".to_owned(), Arc::new(broken)), ("data/seeds/./imps.json".to_owned(), Arc::new(imps.to_owned()))];
    let project = Project::with_buffers(root, buffers).unwrap();
    let (checked, sink) = run(&project, Mode::Editor).unwrap();
    let found: Vec<(String, String)> = sink.iter().map(|d| (d.code.name().to_owned(), d.file.clone().unwrap_or_default())).collect();
    assert!(found.contains(&("schema-violation".to_owned(), "data/seeds/enemies.json".to_owned())), "{found:?}");
    assert!(checked.content.sources.get("data/seeds/imps.json").is_some(), "the new buffer is a file of the root: {found:?}");
    let (_, clean) = run(&Project::open(root).unwrap(), Mode::Editor).unwrap();
    assert!(!clean.has_errors(), "the files on disk are untouched");
}

/// One file checked on its own gives what the whole check gives for that file, but for
/// what needs other files (its dangling references, a pack id defined twice): on buffers
/// broken every way one file can be, seed files and a pack.
#[test]
fn a_file_checked_alone_gives_what_the_whole_check_gives_for_it() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |rel: &str| std::fs::read_to_string(Path::new(root).join(rel)).unwrap();
    let edits: [(&str, &str, &str); 5] = [
        ("data/seeds/enemies.json", "\"hp\": 12,", "\"hp\": 0, \"hp\": 1, \"speed\": 9007199254740993,"),
        ("data/seeds/items.json", "\"id\": \"rusty_dagger\"", "\"id\": \"iron_sword\""),
        ("data/seeds/bosses.json", "\"item\": \"iron_sword\"", "\"item\": \"iron_swrd\""),
        ("data/seeds/races.json", "\"version\": \"", "\"version\": \"x"),
        ("data/packs/protocol.core.json", "\"pack_schema_v\": \"", "\"pack_schema_v\": \"9"),
    ];
    let buffers: Vec<(String, Arc<String>)> = edits
        .iter()
        .map(|(rel, from, to)| {
            let text = read(rel);
            assert!(text.contains(from), "{rel}: {from}");
            ((*rel).to_owned(), Arc::from(text.replacen(from, to, 1)))
        })
        .collect();
    let project = Project::with_buffers(root, buffers).unwrap();
    let (_, sink) = run(&project, Mode::Editor).unwrap();
    let schemas = Schemas::compile_tree(project.tree(), project.config()).unwrap();
    let shown = |d: &Diagnostic| {
        format!("{} {:?} {} {}", d.code.name(), d.span.map(|s| (s.line, s.column)), d.message, d.help.as_deref().unwrap_or(""))
    };
    for (rel, _, _) in edits {
        let whole: Vec<String> = sink
            .iter()
            .filter(|d| d.file.as_deref() == Some(rel) && !matches!(d.code, Code::DanglingReference | Code::DuplicatePack))
            .map(shown)
            .collect();
        let alone = file(&project, &schemas, rel).unwrap();
        assert!(!whole.is_empty(), "{rel}: the edit breaks it");
        assert_eq!(alone.diagnostics.iter().map(shown).collect::<Vec<_>>(), whole, "{rel}");
    }
    assert!(file(&project, &schemas, "seedc.toml").is_none() && file(&project, &schemas, "data/seeds/nope.json").is_none());
}

/// seedc.lock's pin of a collection's text ([`LockedText`]): a file whose text is the pinned
/// one takes its hash from the lock, whichever path reads it (streamed, for any size of
/// read, or whole, as the editor's check reads it); any other text is hashed, even of the
/// same length, and so is the pinned text under a pin of another key field.
#[test]
fn a_pinned_text_stands_for_its_hash_and_only_its_own() {
    let records: Vec<serde_json::Value> = (0..300).map(|i| serde_json::json!({"id": format!("t{i:03}"), "n": i % 10})).collect();
    let root = one_collection(&records, 2);
    let seeds = root.path().join("data/seeds/things.json");
    let text = std::fs::read_to_string(&seeds).unwrap();
    let hash_of_file = || {
        let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&seeds).unwrap()).unwrap();
        let records = file["data"].as_array().unwrap().clone();
        canon::hash_collection(records.iter().map(|r| (r["id"].as_str().unwrap(), r)))
    };
    let pin = |hash: ContentHash, key: &str, text: &str| {
        let text = LockedText::of(&TextPrint::of(text.as_bytes()), key, &hash);
        let locked = LockedCollection { version: "1.0.0".to_owned(), hash, text: Some(text) };
        let lock = Lock { collections: [("things".to_owned(), locked)].into(), ..Lock::empty() };
        std::fs::write(root.path().join("seedc.lock"), lock.to_text()).unwrap();
    };
    let hashed = |mode: Mode, read: u64| {
        crate::load::READ_FOR_TESTS.store(read, std::sync::atomic::Ordering::Relaxed);
        let checked = run(&Project::open(root.path()).unwrap(), mode);
        crate::load::READ_FOR_TESTS.store(0, std::sync::atomic::Ordering::Relaxed);
        let (checked, sink) = checked.unwrap();
        assert!(!sink.has_errors(), "{:?}", sink.iter().map(|d| d.message.clone()).collect::<Vec<_>>());
        checked.collection_hashes.get("things").copied()
    };
    let each_path = |expected: ContentHash, what: &str| {
        for read in [0, 7, 1000] {
            assert_eq!(hashed(Mode::Verdict, read), Some(expected), "{what}, streamed {read} bytes at a time");
        }
        assert_eq!(hashed(Mode::Editor, 0), Some(expected), "{what}, read whole");
    };
    let real = hash_of_file();
    // A pin of this text over a made-up hash: the check takes the lock's word for it, so it
    // hashed nothing. (A lock edited this way needs its seal made with this hash.)
    let made_up = ContentHash([7; 32]);
    pin(made_up, "id", &text);
    each_path(made_up, "the pinned text");
    assert_eq!(hashed(Mode::FirstDeploy, 0), Some(real), "a deploy hashes every record whatever the lock says");
    assert_eq!(hashed(Mode::Build, 0), Some(real), "a build too");
    pin(made_up, "n", &text);
    each_path(real, "a pin of another key field");

    // The same length, another text.
    pin(made_up, "id", &text);
    let edited = text.replacen("\"n\": 1\n", "\"n\": 2\n", 1);
    assert!(edited != text && edited.len() == text.len());
    std::fs::write(&seeds, &edited).unwrap();
    let real_edited = hash_of_file();
    assert_ne!(real_edited, real);
    each_path(real_edited, "an edit of the same length");

    // Carriage returns are whitespace: the pin of the text without them stands for the text
    // with them (read whole; a streamed file of another length than the pinned one is hashed
    // from the start, to the same hash).
    std::fs::write(&seeds, text.replace('\n', "\r\n")).unwrap();
    assert_eq!(hashed(Mode::Editor, 0), Some(made_up), "CRLF, read whole");
    assert_eq!(hashed(Mode::Verdict, 0), Some(real), "CRLF, streamed");
    pin(real, "id", &text);
    each_path(real, "CRLF under a true pin");
    // And a whitespace-only edit is only hashed again.
    std::fs::write(&seeds, text.replace("\"n\": ", "\"n\":  ")).unwrap();
    each_path(real, "a whitespace-only edit");
}

/// A copy of the sample game (seedc.toml, seedc.lock, data/, schemas/) in a new directory.
pub(crate) fn copy_of_sample() -> tempfile::TempDir {
    fn walk(path: &std::path::Path) -> Vec<std::path::PathBuf> {
        if path.is_file() {
            return vec![path.to_owned()];
        }
        std::fs::read_dir(path).unwrap().flat_map(|e| walk(&e.unwrap().path())).collect()
    }
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = tempfile::tempdir().unwrap();
    for rel in ["seedc.toml", "seedc.lock", "data", "schemas"] {
        for file in walk(&sample.join(rel)) {
            let to = root.path().join(file.strip_prefix(sample).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&file, to).unwrap();
        }
    }
    root
}
