//! `seedc build` and `seedc verify` end to end: the outputs (snapshots), RFC 8785 vectors,
//! reproducibility, atomicity under SIGKILL, damage detection and repair, refusals, and the
//! incremental cache (asserted on the build report, never on time).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::support::{Root, Run};

const DAY: &str = "2026-01-25";

/// Every file under `dir` by relative path, with its bytes: a whole tree to compare.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The single `{"build": ...}` report of `--format json`.
fn report(run: &Run) -> Value {
    assert_eq!(run.code, 0, "{}", run.snapshot());
    let lines = run.json_lines();
    let last = lines.last().unwrap_or_else(|| panic!("no report: {}", run.snapshot()));
    last["build"].clone()
}

/// The diagnostics of `verify --format json` as (code, file) pairs, summary aside.
fn findings(run: &Run) -> Vec<(String, String)> {
    run.json_lines()
        .into_iter()
        .filter(|l| l.get("summary").is_none())
        .map(|l| (l["code"].as_str().unwrap().to_owned(), l["file"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

fn pretty(bytes: &[u8]) -> String {
    serde_json::to_string_pretty(&serde_json::from_slice::<Value>(bytes).unwrap()).unwrap()
}

fn bundle_files(root: &Root) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(root.file("out/packs/sha256")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn sample_index_and_daily_manifest() {
    let root = Root::sample();
    let run = root.seedc(&["build", "--date", DAY]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    let index = std::fs::read(root.file("out/index.json")).unwrap();
    insta::assert_snapshot!("sample_index", pretty(&index));
    let daily = std::fs::read(root.file(&format!("out/manifests/manifest_{DAY}_daily.json"))).unwrap();
    insta::assert_snapshot!("sample_daily_manifest", pretty(&daily));

    // Canonical on disk: the pretty snapshot is for reading, the file is RFC 8785.
    let value: Value = serde_json::from_slice(&daily).unwrap();
    assert_eq!(seedc::json::canon::canonical(&value), daily);
    assert!(value["seed"].as_u64().unwrap() < 1 << 53);
    // Every bundle is named by the SHA-256 of exactly its bytes.
    for name in bundle_files(&root) {
        let bytes = std::fs::read(root.file(&format!("out/packs/sha256/{name}"))).unwrap();
        assert_eq!(format!("{}.json", seedc::json::canon::ContentHash::of(&bytes).hex()), name);
    }
    let verify = root.seedc(&["verify"]);
    assert_eq!(verify.code, 0, "{}", verify.snapshot());
}

/// RFC 8785's own examples: §3.2.2 (the sample), §3.2.3 (sorting by UTF-16 code units)
/// and Appendix B (number serialization, as IEEE-754 bit patterns).
#[test]
fn rfc8785_vectors() {
    let input = r#"{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"#;
    let expected =
        r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#;
    let value: Value = serde_json::from_str(input).unwrap();
    assert_eq!(String::from_utf8(seedc::json::canon::canonical(&value)).unwrap(), expected);

    let input = r#"{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
    let value: Value = serde_json::from_str(input).unwrap();
    assert_eq!(String::from_utf8(seedc::json::canon::canonical(&value)).unwrap(), expected);

    let numbers: &[(u64, &str)] = &[
        (0x0000000000000000, "0"),
        (0x8000000000000000, "0"),
        (0x0000000000000001, "5e-324"),
        (0x8000000000000001, "-5e-324"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0xffefffffffffffff, "-1.7976931348623157e+308"),
        (0x4340000000000000, "9007199254740992"),
        (0xc340000000000000, "-9007199254740992"),
        (0x4430000000000000, "295147905179352830000"),
        (0x44b52d02c7e14af5, "9.999999999999997e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
        (0x444b1ae4d6e2ef4e, "999999999999999700000"),
        (0x444b1ae4d6e2ef4f, "999999999999999900000"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
        (0x3eb0c6f7a0b5ed8d, "0.000001"),
        (0x41b3de4355555553, "333333333.3333332"),
        (0x41b3de4355555554, "333333333.33333325"),
        (0x41b3de4355555555, "333333333.3333333"),
        (0x41b3de4355555556, "333333333.3333334"),
        (0x41b3de4355555557, "333333333.33333343"),
        (0xbecbf647612f3696, "-0.0000033333333333333333"),
        (0x43143ff3c1cb0959, "1424953923781206.2"),
    ];
    for (bits, text) in numbers {
        let number = serde_json::Number::from_f64(f64::from_bits(*bits)).unwrap();
        let canonical = seedc::json::canon::canonical(&Value::Number(number));
        assert_eq!(String::from_utf8(canonical).unwrap(), *text, "IEEE-754 {bits:016x}");
    }
    // NaN and the infinities are not JSON at all: serde_json cannot even hold them.
    assert!(serde_json::Number::from_f64(f64::from_bits(0x7fffffffffffffff)).is_none());
    assert!(serde_json::Number::from_f64(f64::from_bits(0x7ff0000000000000)).is_none());
}

#[test]
fn same_inputs_give_byte_identical_outputs_anywhere() {
    let a = Root::sample();
    let b = Root::sample();
    assert_ne!(a.path(), b.path());
    for root in [&a, &b] {
        let run = root.seedc(&["build", "--date", DAY, "--date", "2026-01-26"]);
        assert_eq!(run.code, 0, "{}", run.snapshot());
    }
    let (ta, tb) = (tree(&a.file("out")), tree(&b.file("out")));
    assert!(ta.len() >= 8, "{:?}", ta.keys());
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(tb[path] == *bytes, "{path} differs between the two builds");
    }
    assert_eq!(a.read("seedc.lock"), b.read("seedc.lock"));
}

/// A content root with `packs` extra protocol packs of `entries` protocols each, so a
/// build parses, validates and fsyncs enough to be killed in the middle.
fn big_root(packs: usize, entries: usize) -> Root {
    let root = Root::sample();
    let template: Value = serde_json::from_str(&root.read("data/packs/protocol.core.json")).unwrap();
    let first = template["protocols"][0].clone();
    for p in 0..packs {
        let mut pack = template.clone();
        pack["pack_id"] = json!(format!("protocol.gen{p:04}"));
        pack["version"] = json!("1.0.0");
        let mut protocols = Vec::new();
        for e in 0..entries {
            let mut entry = first.clone();
            entry["id"] = json!(format!("gen_{p}_{e}"));
            entry["weight"] = json!(e % 100 + 1);
            protocols.push(entry);
        }
        pack["protocols"] = Value::Array(protocols);
        root.write(&format!("data/packs/protocol.gen{p:04}.json"), serde_json::to_vec_pretty(&pack).unwrap());
    }
    root
}

/// A small deterministic generator (xorshift64*), so a failure replays exactly.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

#[cfg(unix)]
#[test]
fn sigkill_at_any_moment_never_leaves_a_torn_output() {
    let root = big_root(300, 40);
    let build = |root: &Root| {
        let mut cmd = crate::support::seedc_cmd();
        cmd.arg("--root").arg(root.path()).args(["build", "--date", DAY, "-q"]);
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        cmd
    };
    // How long one cold build takes here decides where the kills land (not asserted).
    let started = std::time::Instant::now();
    assert!(build(&root).status().unwrap().success());
    let cold = started.elapsed().as_micros() as u64;

    let mut rng = Rng(0x5eed_c0de_2026_0125);
    for iteration in 0..10 {
        // Alternate a cold start with a damaged-but-present out/, so kills hit both.
        if iteration % 2 == 0 {
            let _ = std::fs::remove_dir_all(root.file("out"));
        } else {
            let _ = std::fs::remove_file(root.file("out/index.json"));
        }
        let mut child = build(&root).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_micros(rng.below(cold)));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();

        for name in std::fs::read_dir(root.file("out/packs/sha256")).into_iter().flatten() {
            let name = name.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with(".seedc-tmp-") {
                continue; // never a final name; the next build removes it
            }
            let bytes = std::fs::read(root.file(&format!("out/packs/sha256/{name}"))).unwrap();
            assert_eq!(format!("{}.json", seedc::json::canon::ContentHash::of(&bytes).hex()), name, "iteration {iteration}");
        }
        for name in std::fs::read_dir(root.file("out/manifests")).into_iter().flatten() {
            let name = name.unwrap().file_name().to_string_lossy().into_owned();
            if !name.starts_with(".seedc-tmp-") {
                let bytes = std::fs::read(root.file(&format!("out/manifests/{name}"))).unwrap();
                serde_json::from_slice::<seedc::build::Manifest>(&bytes)
                    .unwrap_or_else(|e| panic!("iteration {iteration}: {name} does not parse: {e}"));
            }
        }
        serde_json::from_str::<seedc::project::lock::Lock>(&root.read("seedc.lock")).expect("seedc.lock is never torn");
    }

    let run = root.seedc(&["build", "--date", DAY]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    let verify = root.seedc(&["verify"]);
    assert_eq!(verify.code, 0, "{}", verify.snapshot());
    assert!(tree(&root.file("out")).keys().all(|k| !k.contains(".seedc-tmp-")), "temporaries were cleaned");
}

#[test]
fn verify_reports_each_damaged_or_missing_file_by_name() {
    let root = Root::sample();
    assert_eq!(root.seedc(&["build", "--date", DAY]).code, 0);
    let names = bundle_files(&root);
    let flipped = format!("out/packs/sha256/{}", names[0]);
    let missing = format!("out/packs/sha256/{}", names[1]);
    let manifest = format!("out/manifests/manifest_{DAY}_daily.json");

    let mut bytes = std::fs::read(root.file(&flipped)).unwrap();
    bytes[10] ^= 0x01;
    root.write(&flipped, bytes);
    std::fs::remove_file(root.file(&missing)).unwrap();
    let text = std::fs::read(root.file(&manifest)).unwrap();
    root.write(&manifest, &text[..text.len() / 2]);

    let run = root.seedc(&["verify", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    let found = findings(&run);
    for expected in [("corrupt-bundle", &flipped), ("missing-bundle", &missing), ("corrupt-manifest", &manifest)] {
        assert!(found.contains(&(expected.0.to_owned(), expected.1.clone())), "{expected:?} not in {found:?}");
    }
    // The FREEPLAY manifest binds every pack, so both damaged bundles are unresolved there.
    assert_eq!(found.iter().filter(|(c, _)| c == "unresolved-pack-ref").count(), 2, "{found:?}");

    // Every format reports it; human output names the files.
    let human = root.seedc(&["verify"]);
    assert_eq!(human.code, 1);
    assert!(human.stdout.contains("error[corrupt-bundle]") && human.stdout.contains(&flipped), "{}", human.stdout);
    let github = root.seedc(&["verify", "--format", "github"]);
    assert_eq!(github.code, 1);
    assert!(github.stdout.contains("::error") && github.stdout.contains("missing-bundle"), "{}", github.stdout);

    // build repairs what the content can rebuild, then verify is clean.
    let repaired = report(&root.seedc(&["build", "--date", DAY, "--format", "json"]));
    assert_eq!(repaired["bundles_written"], 2, "{repaired}");
    assert_eq!(repaired["manifests_written"], 1, "{repaired}");
    let verify = root.seedc(&["verify"]);
    assert_eq!(verify.code, 0, "{}", verify.snapshot());
}

#[test]
fn verify_notices_an_unlisted_file_and_a_missing_index() {
    let root = Root::sample();
    assert_eq!(root.seedc(&["build"]).code, 0);
    let stray = format!("out/packs/sha256/{}.json", seedc::json::canon::ContentHash::of(b"{}").hex());
    root.write(&stray, "{}");
    let run = root.seedc(&["verify", "--format", "json"]);
    assert_eq!(findings(&run), vec![("index-mismatch".to_owned(), stray)]);

    std::fs::remove_file(root.file("out/index.json")).unwrap();
    let run = root.seedc(&["verify", "--format", "json"]);
    assert!(findings(&run).contains(&("index-mismatch".to_owned(), "out/index.json".to_owned())), "{}", run.stdout);
    assert_eq!(run.code, 1);
}

#[test]
fn locked_build_refuses_to_change_the_lock_and_writes_nothing() {
    let root = Root::sample();
    // The committed lock matches the sample: --locked passes.
    let run = root.seedc(&["build", "--locked"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    std::fs::remove_dir_all(root.file("out")).unwrap();

    let lock = root.read("seedc.lock");
    root.edit("data/packs/voice.core.en.json", "\"version\": \"1.0.0\"", "\"version\": \"1.0.1\"");
    let run = root.seedc(&["build", "--locked"]);
    assert_eq!(run.code, 4, "{}", run.snapshot());
    assert!(run.stderr.contains("--locked"), "{}", run.stderr);
    assert!(!root.file("out").exists(), "nothing written");
    assert_eq!(root.read("seedc.lock"), lock);
}

#[test]
fn a_published_daily_is_never_changed() {
    let root = Root::sample();
    assert_eq!(root.seedc(&["build", "--date", DAY]).code, 0);
    let before = tree(root.path());
    root.edit("seedc.toml", "meta_perks_disabled = true", "meta_perks_disabled = false");
    let run = root.seedc(&["build", "--date", DAY]);
    assert_eq!(run.code, 4, "{}", run.snapshot());
    assert!(run.stderr.contains(&format!("manifest_{DAY}_daily.json")), "{}", run.stderr);
    let mut after = tree(root.path());
    after.insert("seedc.toml".to_owned(), before["seedc.toml"].clone());
    assert!(before == after, "a refused build wrote something");

    // Other dates still build, and the published daily stays (and stays listed).
    let run = root.seedc(&["build", "--date", "2026-01-26"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert_eq!(
        root.read(&format!("out/manifests/manifest_{DAY}_daily.json")).as_bytes(),
        before[&format!("out/manifests/manifest_{DAY}_daily.json")]
    );
    assert!(root.read("out/index.json").contains(&format!("manifest_{DAY}_daily")));
    assert_eq!(root.seedc(&["verify"]).code, 0);
}

#[test]
fn dates_come_from_flags_or_the_pinned_today() {
    let root = Root::sample();
    for bad in [&["--date", "2026-02-30"][..], &["--date", "25-01-2026"], &["--date", "tomorrow"], &["--days", "100000"]] {
        let run = root.seedc(&[&["build"][..], bad].concat());
        assert_eq!(run.code, 2, "{bad:?}: {}", run.snapshot());
        assert!(!root.file("out").exists());
    }
    let mut cmd = crate::support::seedc_cmd();
    cmd.env("SEEDC_TODAY", "2026-12-31").arg("--root").arg(root.path()).args(["build", "--days", "2", "--date", "2026-12-31"]);
    let run = Run::of(cmd.output().unwrap(), root.path());
    assert_eq!(run.code, 0, "{}", run.snapshot());
    let index: Value = serde_json::from_str(&root.read("out/index.json")).unwrap();
    let dates: Vec<&str> = index["manifests"].as_array().unwrap().iter().filter_map(|m| m["date"].as_str()).collect();
    assert_eq!(dates, ["2026-12-31", "2027-01-01"]);
}

#[test]
fn rebuilds_reuse_what_did_not_change() {
    let root = Root::sample();
    let first = report(&root.seedc(&["build", "--date", DAY, "--format", "json"]));
    assert_eq!((first["checked"].as_bool(), first["bundles_written"].as_u64()), (Some(true), Some(4)), "{first}");

    // Unchanged inputs: the cache answers, nothing is parsed or written.
    let second = report(&root.seedc(&["build", "--date", DAY, "--format", "json"]));
    assert_eq!(second["checked"], false, "{second}");
    assert_eq!(second["bundles_written"], 0, "{second}");
    assert_eq!(second["bundles_reused"], 4, "{second}");
    assert_eq!(second["manifests_written"], 0, "{second}");
    let human = root.seedc(&["build", "--date", DAY]);
    assert!(human.stderr.contains("nothing to do: reused everything"), "{}", human.stderr);

    // A changed schema file is a changed input: everything is checked again, nothing rewritten.
    let schema = root.read("schemas/packs/voice-1.0.schema.json");
    root.write("schemas/packs/voice-1.0.schema.json", format!("{schema}\n"));
    let after_schema = report(&root.seedc(&["build", "--date", DAY, "--format", "json"]));
    assert_eq!(after_schema["checked"], true, "{after_schema}");
    assert_eq!(after_schema["bundles_written"], 0, "{after_schema}");
    assert_eq!(report(&root.seedc(&["build", "--date", DAY, "--format", "json"]))["checked"], false);

    // One changed pack: one bundle written, the others reused.
    let text = root.read("data/packs/voice.core.en.json").replacen("\"version\": \"1.0.0\"", "\"version\": \"1.0.1\"", 1);
    root.write("data/packs/voice.core.en.json", text);
    let third = report(&root.seedc(&["build", "--date", "2026-01-26", "--format", "json"]));
    assert_eq!(third["checked"], true, "{third}");
    assert_eq!(third["bundles_written"], 1, "{third}");
    assert_eq!(third["bundles_reused"], 3, "{third}");
    assert_eq!(third["lock_written"], true, "{third}");
    assert!(root.read("seedc.lock").contains("1.0.1"));
    // The old voice bundle stays: the published daily of DAY still binds it.
    assert_eq!(bundle_files(&root).len(), 5);
    assert_eq!(root.seedc(&["verify"]).code, 0);

    // A damaged bundle defeats the cache: it is found and rewritten.
    let name = &bundle_files(&root)[0];
    root.write(&format!("out/packs/sha256/{name}"), "{}");
    let fourth = report(&root.seedc(&["build", "--date", "2026-01-26", "--format", "json"]));
    assert_eq!(fourth["bundles_written"], 1, "{fourth}");
    assert_eq!(root.seedc(&["verify"]).code, 0);
}

#[test]
fn invalid_content_writes_nothing_at_all() {
    let root = Root::sample();
    assert_eq!(root.seedc(&["build"]).code, 0);
    let before = tree(root.path());
    root.edit("data/packs/protocol.core.json", "\"weight\": 100", "\"weight\": \"heavy\"");
    let run = root.seedc(&["build"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(run.stdout.contains("error["), "{}", run.stdout);
    let mut after = tree(root.path());
    let pack = "data/packs/protocol.core.json".to_owned();
    after.insert(pack.clone(), before[&pack].clone());
    assert!(before == after, "an invalid build wrote something");
}

#[test]
fn schema_files_are_in_sync() {
    let mut cmd = crate::support::seedc_cmd();
    cmd.arg("--root").arg(crate::support::repo()).args(["schema", "--check"]);
    let run = Run::of(cmd.output().unwrap(), &crate::support::repo());
    assert_eq!(run.code, 0, "run `cargo run -- schema`: {}", run.snapshot());
}
