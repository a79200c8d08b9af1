//! Property tests: whatever bytes a seed file or a pack holds, `check` never panics, reports
//! the file as invalid with at least one located diagnostic, and every position it reports
//! lies inside the file; every renderer handles those diagnostics. The library is called
//! directly on a small content root, so each case costs well under a millisecond of setup.
//! Hostile trees too: FIFOs, device links, symlink loops and unreadable paths wherever seedc
//! reads never hang the check, panic it, or go unreported.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use seedc::diag::Diagnostic;
use seedc::diag::render::{github as render_github, human::Human, json as render_json};

const SEED: &str = "data/seeds/things.json";
const PACK: &str = "data/packs/basic.core.json";

const CONFIG: &str = r#"[project]
name = "props"
daily_salt = "s"

[limits]
max_depth = 16

[collections.things]
schema = "schemas/thing.schema.json"
references = [{ path = "/friend", collection = "things" }]

[packs.kinds.BASIC]
schemas = { "1.0" = "schemas/basic-1.0.schema.json" }
"#;

const THING_SCHEMA: &str = r#"{"type": "object", "required": ["id"], "additionalProperties": false,
 "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "hp": {"type": "integer", "minimum": 1},
   "friend": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}}"#;

const BASIC_SCHEMA: &str = r#"{"type": "object", "required": ["entries"],
 "properties": {"entries": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "weight": {"type": "integer"}}}}}}"#;

const VALID_SEED: &str = r#"{
  "version": "1.0.0",
  "updated_at": "2026-01-13T00:00:00Z",
  "data": [
    { "id": "ember_imp", "name": "Ember Imp — é", "hp": 3, "tags": ["fire", "small"] },
    { "id": "ash_wolf", "name": "Ash Wolf", "hp": 12, "friend": "ember_imp" },
    { "id": "cinder_golem", "name": "Cinder Golem", "hp": 90, "tags": [] }
  ]
}
"#;

const VALID_PACK: &str = r#"{
  "pack_id": "basic.core",
  "version": "1.0.0",
  "kind": "BASIC",
  "pack_schema_v": "1.0",
  "entries": [ { "id": "a", "weight": 1 }, { "id": "ü", "weight": 2 } ]
}
"#;

fn small_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("seedc.toml", CONFIG);
    write("schemas/thing.schema.json", THING_SCHEMA);
    write("schemas/basic-1.0.schema.json", BASIC_SCHEMA);
    write(SEED, VALID_SEED);
    write(PACK, VALID_PACK);
    dir
}

/// Bytes from JSON's alphabet (and a multibyte character), which reach deeper into the
/// parser than uniformly random bytes.
fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"{}[]\":,-+.0123456789eEtrufalsn \n\\/u".iter().copied().chain([0xc3, 0xa9, 0xff]).collect();
    proptest::collection::vec(proptest::sample::select(alphabet), 0..160)
}

/// A valid file, damaged: truncated, one byte changed, or two files spliced together.
fn mutated(valid: &'static str, other: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let (a, b) = (valid.as_bytes(), other.as_bytes());
    prop_oneof![
        (0..a.len()).prop_map(move |n| a[..n].to_vec()),
        (0..a.len(), any::<u8>()).prop_map(move |(i, byte)| {
            let mut v = a.to_vec();
            v[i] = byte;
            v
        }),
        (0..a.len(), 0..b.len()).prop_map(move |(i, j)| [&a[..i], &b[j..]].concat()),
    ]
}

/// JSON text, valid but for what a record may hold: repeated keys, unsafe integers, NUL,
/// numbers out of range, values of any type where the schema wants another.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        any::<i32>().prop_map(|n| n.to_string()),
        Just("9007199254740993".to_owned()),
        Just("1e400".to_owned()),
        Just("-0.5e-3".to_owned()),
        "[a-z\\\\\"\\]\\}é\u{0}]{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("\"ember_imp\"".to_owned()),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        let key = proptest::sample::select(vec!["id", "name", "hp", "friend", "tags", "x"]);
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            proptest::collection::vec((key, inner), 0..5).prop_map(|m| {
                let members: Vec<String> = m.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
                format!("{{{}}}", members.join(",\n  "))
            }),
        ]
    })
}

/// A well-formed seed file (the envelope is a JSON object) whose members and records may
/// be anything: what is wrong is inside a record or a member, where a check reading the
/// file a block at a time finds it.
fn well_formed_seed() -> impl Strategy<Value = Vec<u8>> {
    let member = prop_oneof![
        Just("\"version\": \"1.0.0\""),
        Just("\"version\": \"one\""),
        Just("\"updated_at\": \"2026-01-13T00:00:00Z\""),
        Just("\"updated_at\": 5"),
        Just("\"$schema\": \"../../schemas/thing.schema.json\""),
        Just("\"extra\": {\"a\": [1, 2]}"),
    ];
    let records = proptest::collection::vec(json_text(), 0..6);
    (proptest::collection::vec(member, 0..5), records, any::<proptest::sample::Index>()).prop_map(|(mut members, records, at)| {
        let data = format!("\"data\": [\n  {}\n]", records.join(",\n  "));
        let mut all: Vec<&str> = std::mem::take(&mut members);
        all.insert(at.index(all.len() + 1), &data);
        format!("{{\n {}\n}}\n", all.join(",\n ")).into_bytes()
    })
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![proptest::collection::vec(any::<u8>(), 0..120), jsonish()]
}

/// Checks the root with `rel` holding `bytes`: no panic, and the properties above.
fn check_file(root: &std::path::Path, rel: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    std::fs::write(root.join(rel), bytes).unwrap();
    let (checked, sink) =
        crate::support::check(root, seedc::check::Mode::Build).map_err(|e| TestCaseError::fail(format!("tool error: {e:#}")))?;
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.split('\n').collect();
    let ours: Vec<&Diagnostic> = sink.iter().filter(|d| d.file.as_deref() == Some(rel)).collect();
    let human = Human::new(false);
    for d in sink.iter() {
        // Every renderer copes with every diagnostic (slicing at odd offsets must not panic).
        human.render(d, &checked.content.sources);
        render_json::render(d);
        render_github::render(d);
    }
    for d in &ours {
        if let Some(span) = d.span {
            let inside = span.line >= 1
                && span.line <= lines.len()
                && span.column >= 1
                && span.column <= lines[span.line - 1].chars().count() + 1
                && span.offset <= bytes.len();
            prop_assert!(inside, "{} at {}:{} (offset {}) is outside the file: {:?}", d.code, span.line, span.column, span.offset, text);
        }
    }
    // `seedc check` reads the file a block at a time where it can, and whole where it must:
    // either way, the diagnostics are those of the check that reads every file whole.
    let (_, verdict) =
        crate::support::check(root, seedc::check::Mode::Verdict).map_err(|e| TestCaseError::fail(format!("tool error: {e:#}")))?;
    let all: Vec<String> = sink.iter().map(render_json::render).collect();
    let reduced: Vec<String> = verdict.iter().map(render_json::render).collect();
    prop_assert_eq!(all, reduced, "check and verdict disagree on {:?}", text);
    // Only a damaged file must be refused: a mutation can leave a file valid (say, a byte
    // of whitespace changed into another), and then there is nothing to report.
    let must_fail = serde_json::from_slice::<serde_json::Value>(bytes).is_err();
    if must_fail {
        prop_assert!(sink.has_errors(), "no error for {:?}", text);
        prop_assert!(ours.iter().any(|d| d.span.is_some()), "no located diagnostic in {rel} for {:?}: {:?}", text, ours);
    }
    Ok(())
}

fn run(rel: &'static str, strategy: impl Strategy<Value = Vec<u8>>, cases: u32) {
    let root = small_root();
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let result = runner.run(&strategy, |bytes| check_file(root.path(), rel, &bytes));
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn the_small_root_is_valid() {
    let root = small_root();
    let (_, sink) = crate::support::check(root.path(), seedc::check::Mode::Build).unwrap();
    let found: Vec<_> = sink.iter().map(|d| format!("{}: {}", d.code, d.message)).collect();
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn arbitrary_bytes_as_a_seed_file() {
    run(SEED, bytes(), 300);
}

#[test]
fn arbitrary_bytes_as_a_pack() {
    run(PACK, bytes(), 300);
}

#[test]
fn damaged_seed_files() {
    run(SEED, mutated(VALID_SEED, VALID_PACK), 300);
}

#[test]
fn well_formed_seed_files_with_anything_inside() {
    run(SEED, well_formed_seed(), 300);
}

#[test]
fn damaged_packs() {
    run(PACK, mutated(VALID_PACK, VALID_SEED), 300);
}

/// What a hostile tree can hold where seedc reads: anything but a regular file.
#[derive(Debug, Clone, Copy)]
enum Hostile {
    Fifo,
    DeviceLink,
    LinkOutside,
    LinkLoop,
    SelfLink,
    Unreadable,
    UnreadableDir,
}

fn hostile() -> impl Strategy<Value = (Hostile, &'static str)> {
    let kind = proptest::sample::select(vec![
        Hostile::Fifo,
        Hostile::DeviceLink,
        Hostile::LinkOutside,
        Hostile::LinkLoop,
        Hostile::SelfLink,
        Hostile::Unreadable,
        Hostile::UnreadableDir,
    ]);
    let place = proptest::sample::select(vec![
        "data/seeds/hostile.json",
        "data/packs/hostile.json",
        "data/packs/hostile/pack.json",
        "schemas/hostile.json",
        "schemas/nested/hostile",
        "seedc.lock",
    ]);
    (kind, place)
}

/// Puts `kind` at `rel` under `root`.
fn plant(root: &std::path::Path, kind: Hostile, rel: &str) {
    use std::os::unix::fs::{PermissionsExt as _, symlink};
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    match kind {
        Hostile::Fifo => assert!(std::process::Command::new("mkfifo").arg(&path).status().unwrap().success()),
        Hostile::DeviceLink => symlink("/dev/zero", &path).unwrap(),
        Hostile::LinkOutside => symlink("/etc/passwd", &path).unwrap(),
        Hostile::LinkLoop => symlink(".", &path).unwrap(),
        Hostile::SelfLink => symlink(&path, &path).unwrap(),
        Hostile::Unreadable => {
            std::fs::write(&path, VALID_PACK).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        }
        Hostile::UnreadableDir => {
            std::fs::create_dir_all(&path).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        }
    }
}

/// Whatever stands where seedc reads, `check` ends (within a deadline), never panics, and
/// is either a tool error (config, lock, schemas: exit 2) or diagnostics that every
/// renderer handles, with an error naming the entry when it stands under `data/`. Run in
/// process, so a hang is caught by the deadline rather than by the suite's timeout. As root,
/// permission bits deny nothing: the unreadable cases then check only the first part.
#[test]
fn fifos_device_links_loops_and_unreadable_paths_never_hang_or_mislead() {
    let mut runner = TestRunner::new(Config { cases: 64, failure_persistence: None, ..Config::default() });
    let result = runner.run(&hostile(), |(kind, rel)| {
        let root = small_root();
        plant(root.path(), kind, rel);
        let dir = root.path().to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let outcome = std::panic::catch_unwind(|| {
                crate::support::check(&dir, seedc::check::Mode::Build).map(|(checked, sink)| {
                    let human = Human::new(false);
                    for d in sink.iter() {
                        human.render(d, &checked.content.sources);
                        render_json::render(d);
                        render_github::render(d);
                    }
                    sink.into_vec()
                })
            });
            let _ = tx.send(outcome.map_err(|_| ()));
        });
        let outcome = rx.recv_timeout(std::time::Duration::from_secs(30));
        // Restore the bits, so the temp dir can be removed.
        let _ = std::process::Command::new("chmod").args(["-R", "u+rwX"]).arg(root.path()).status();
        let outcome = outcome.map_err(|_| TestCaseError::fail(format!("{kind:?} at {rel}: check did not finish in 30 s")))?;
        let result = outcome.map_err(|()| TestCaseError::fail(format!("{kind:?} at {rel}: check panicked")))?;
        // Under data/ every hostile entry is a diagnostic in the content, never a tool error.
        prop_assert!(result.is_ok() || !rel.starts_with("data/"), "{kind:?} at {rel}: a tool error");
        if let Ok(diags) = result {
            // Permissions do not bite a test run as root: those kinds may read fine.
            let permissions = matches!(kind, Hostile::Unreadable | Hostile::UnreadableDir);
            let named =
                |d: &Diagnostic| d.file.as_deref().is_some_and(|f| rel.starts_with(f) || f.starts_with(rel.trim_end_matches("/pack.json")));
            if rel.starts_with("data/") && !permissions {
                prop_assert!(diags.iter().any(|d| d.severity == seedc::diag::Severity::Error && named(d)), "{kind:?} at {rel}: {diags:?}");
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
