//! Hostile content roots (issue 16): what an editor, a sync tool or a pull request can
//! leave behind never hangs seedc, exhausts its memory, or misleads its user. Every test
//! runs the real binary under a deadline, so a hang fails the test instead of the suite.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Root, Run, git, seedc_cmd};

/// Runs seedc on `root`, killed after 60 s: a hang is a failure with a message.
fn seedc_bounded(root: &Root, args: &[&str]) -> Run {
    let mut cmd = seedc_cmd();
    cmd.arg("--root").arg(root.path()).args(args);
    bounded(cmd, root.path())
}

fn bounded(mut cmd: Command, root: &Path) -> Run {
    use std::io::Read as _;
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run seedc");
    // Drained while it runs: a full pipe would otherwise stop seedc, not a hang of its own.
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("seedc {:?} did not finish in 60 s", cmd.get_args().collect::<Vec<_>>());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = std::process::Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() };
    Run::of(output, root)
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn symlink(target: impl AsRef<Path>, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap_or_else(|e| panic!("symlink {}: {e}", link.display()));
}

fn codes(run: &Run) -> Vec<(String, String)> {
    run.json_lines()
        .into_iter()
        .filter(|l| l.get("code").is_some())
        .map(|l| (l["code"].as_str().unwrap().to_owned(), l["file"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

#[test]
fn a_fifo_anywhere_seedc_reads_is_a_located_error_not_a_hang() {
    for (rel, located) in [
        ("data/seeds/fifo.json", true),
        ("data/packs/fifo.json", true),
        ("data/packs/nested/pack.json", true),
        ("schemas/fifo.json", false),
        ("seedc.lock", false),
        ("seedc.toml", false),
    ] {
        let root = Root::sample();
        let path = root.file(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&path);
        mkfifo(&path);
        for command in [&["check", "--format", "json"][..], &["build", "--format", "json"][..]] {
            let run = seedc_bounded(&root, command);
            if located {
                assert_eq!(run.code, 1, "{rel} {command:?}: {}", run.snapshot());
                let found = codes(&run);
                assert!(found.contains(&("io".to_owned(), rel.to_owned())), "{rel}: {found:?}");
                assert!(run.stdout.contains("FIFO"), "{rel}: {}", run.stdout);
            } else {
                assert_eq!(run.code, 2, "{rel} {command:?}: {}", run.snapshot());
                assert!(run.stderr.contains("FIFO") || run.stdout.contains("FIFO"), "{rel}: {}", run.snapshot());
            }
        }
    }
}

#[test]
fn a_link_to_a_device_or_outside_the_root_is_refused_before_it_is_read() {
    for (rel, target) in [
        ("data/seeds/zero.json", "/dev/zero"),
        ("data/packs/zero.json", "/dev/zero"),
        ("data/seeds/passwd.json", "/etc/passwd"),
        ("data/seeds/up.json", "../../../../../../../../../../etc/passwd"),
    ] {
        let root = Root::sample();
        symlink(target, &root.file(rel));
        let run = seedc_bounded(&root, &["check", "--format", "json"]);
        assert_eq!(run.code, 1, "{rel}: {}", run.snapshot());
        assert!(codes(&run).contains(&("io".to_owned(), rel.to_owned())), "{rel}: {}", run.stdout);
        assert!(run.stdout.contains("outside the content root"), "{rel}: {}", run.stdout);
        assert!(!run.stdout.contains("root:x:0"), "a line of the target reached the output: {}", run.stdout);
    }
    // The human snippet of a link to /etc/passwd must not quote it either.
    let root = Root::sample();
    symlink("/etc/passwd", &root.file("data/seeds/passwd.json"));
    let run = seedc_bounded(&root, &["check"]);
    assert!(!run.stdout.contains("root:") && !run.stderr.contains("root:"), "{}", run.snapshot());
}

#[test]
fn config_lock_and_schemas_are_bounded_reads() {
    for (rel, limit_hint) in [("seedc.toml", "limit"), ("seedc.lock", "limit"), ("schemas/zero.json", "")] {
        let root = Root::sample();
        let _ = std::fs::remove_file(root.file(rel));
        // Inside the root, so only the bounded read stops it: a sparse file of 2 GiB that
        // `stat` reports honestly but that would exhaust memory if read whole.
        let file = std::fs::File::create(root.file(rel)).unwrap();
        file.set_len(2 << 30).unwrap();
        let run = seedc_bounded(&root, &["check"]);
        assert_eq!(run.code, 2, "{rel}: {}", run.snapshot());
        assert!(run.stderr.contains(rel) && run.stderr.contains(limit_hint), "{rel}: {}", run.snapshot());
    }
}

#[test]
fn symlink_loops_in_schemas_are_walked_once() {
    let root = Root::sample();
    for name in ["a", "b", "c", "d"] {
        symlink(".", &root.file(&format!("schemas/{name}")));
    }
    let run = seedc_bounded(&root, &["check"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    // A link out of the root is refused, not followed.
    let root = Root::sample();
    symlink("/usr/share", &root.file("schemas/outside"));
    let run = seedc_bounded(&root, &["check"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stderr.contains("schemas/outside") && run.stderr.contains("outside the content root"), "{}", run.snapshot());
}

#[test]
fn a_file_name_that_is_not_utf8_is_named_for_what_is_wrong() {
    use std::os::unix::ffi::OsStrExt as _;
    let root = Root::sample();
    let name = std::ffi::OsStr::from_bytes(b"bad\xff.json");
    std::fs::write(root.file("data/seeds").join(name), "{}").unwrap();
    let run = seedc_bounded(&root, &["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(codes(&run).contains(&("io".to_owned(), "data/seeds/bad\\xff.json".to_owned())), "{}", run.stdout);
    assert!(run.stdout.contains("not valid UTF-8"), "{}", run.stdout);
    assert!(!run.stdout.contains("No such file"), "{}", run.stdout);
}

/// How to run seedc where permissions bite: as the unprivileged `seedc-test` user when
/// running as root (root reads everything, so "permission denied" cannot be observed),
/// directly otherwise. None (skip) only when root and that user cannot be used, outside
/// scripts/test.
fn unprivileged(root: &Root) -> Option<Command> {
    let exe = env!("CARGO_BIN_EXE_seedc");
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !is_root {
        return Some(seedc_cmd());
    }
    let ok = Command::new("setpriv")
        .args(["--reuid=seedc-test", "--regid=seedc-test", "--init-groups", exe, "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    // scripts/test creates that user (scripts/services): under it, a skip would hide a
    // class of the issue, so it fails instead.
    crate::support::services::required(ok, "running as root and cannot run seedc as user seedc-test (setpriv)")?;
    // The temp root must be reachable by that user; the part under test is then taken away.
    let chmod = Command::new("chmod").args(["-R", "a+rX"]).arg(root.path()).status().unwrap();
    assert!(chmod.success());
    // The same clean environment as `seedc_cmd`, run through setpriv.
    let cmd = seedc_cmd();
    let mut wrapped = Command::new("setpriv");
    wrapped.args(["--reuid=seedc-test", "--regid=seedc-test", "--init-groups", exe]);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    Some(wrapped)
}

#[test]
fn unreadable_directories_and_files_are_errors_that_name_them() {
    use std::os::unix::fs::PermissionsExt as _;
    for (rel, make_dir) in [("data/packs/locked", true), ("data/seeds/items.json", false), ("data/packs", true)] {
        let root = Root::sample();
        if make_dir && rel == "data/packs/locked" {
            root.write("data/packs/locked/pack.json", root.read("data/packs/artifact.core.json"));
        }
        let Some(mut cmd) = unprivileged(&root) else { return };
        std::fs::set_permissions(root.file(rel), std::fs::Permissions::from_mode(0o000)).unwrap();
        cmd.arg("--root").arg(root.path()).args(["check", "--format", "json"]);
        let run = bounded(cmd, root.path());
        std::fs::set_permissions(root.file(rel), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(run.code, 1, "{rel}: {}", run.snapshot());
        assert!(codes(&run).contains(&("io".to_owned(), rel.to_owned())), "{rel}: {}", run.stdout);
        assert!(run.stdout.contains("ermission denied"), "{rel}: {}", run.stdout);
    }
}

fn diagnostics(run: &Run) -> Vec<serde_json::Value> {
    run.json_lines().into_iter().filter(|l| l.get("code").is_some()).collect()
}

#[test]
fn each_repeat_of_a_key_is_reported_where_it_stands() {
    let root = Root::sample();
    root.edit("data/seeds/enemies.json", "\"hp\": 12,", "\"hp\": 12,\n      \"hp\": 13,\n      \"hp\": 14,");
    root.edit(
        "data/seeds/enemies.json",
        "\"version\": \"1.3.0\",",
        "\"version\": \"1.3.0\",\n  \"version\": \"1.3.0\",\n  \"version\": \"1.3.0\",",
    );
    let run = seedc_bounded(&root, &["check", "--format", "json"]);
    let lines: Vec<(u64, u64)> = diagnostics(&run)
        .iter()
        .filter(|d| d["code"] == "duplicate-key")
        .map(|d| (d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap()))
        .collect();
    assert_eq!(lines, [(4, 3), (5, 3), (12, 7), (13, 7)], "{}", run.stdout);
}

#[test]
fn valid_json_that_is_not_an_object_is_an_envelope_error_at_the_value() {
    for (rel, text) in [("data/seeds/enemies.json", "null"), ("data/seeds/enemies.json", " []"), ("data/packs/protocol.core.json", "42")] {
        let root = Root::sample();
        root.write(rel, text);
        let run = seedc_bounded(&root, &["check", "--format", "json"]);
        let found = diagnostics(&run);
        assert!(
            found.iter().any(|d| d["code"] == "invalid-envelope" && d["file"] == rel && d["pointer"] == "" && d["line"] == 1),
            "{text}: {}",
            run.stdout
        );
        assert!(!found.iter().any(|d| d["code"] == "syntax"), "{}", run.stdout);
    }
    let root = Root::sample();
    let mut pack: serde_json::Value = serde_json::from_str(&root.read("data/packs/protocol.core.json")).unwrap();
    pack["$schema"] = 5.into();
    root.write("data/packs/protocol.core.json", serde_json::to_string_pretty(&pack).unwrap());
    let run = seedc_bounded(&root, &["check", "--format", "json"]);
    assert!(
        diagnostics(&run).iter().any(|d| d["code"] == "invalid-envelope" && d["pointer"] == "/$schema" && d["line"] == 2),
        "{}",
        run.stdout
    );
}

#[test]
fn updated_at_offsets_and_fractions_follow_rfc_3339() {
    let root = Root::sample();
    root.edit("data/seeds/enemies.json", "2026-01-13T00:00:00Z", "2026-01-13T00:00:00+25:00");
    let run = seedc_bounded(&root, &["check", "--format", "json"]);
    assert!(diagnostics(&run).iter().any(|d| d["code"] == "invalid-envelope" && d["pointer"] == "/updated_at"), "{}", run.stdout);
    let root = Root::sample();
    root.edit("data/seeds/enemies.json", "2026-01-13T00:00:00Z", "2026-01-13T00:00:00.123456789123-23:59");
    let run = seedc_bounded(&root, &["check", "--format", "json"]);
    assert!(!run.stdout.contains("updated_at"), "{}", run.stdout);
}

#[test]
fn a_damaged_lock_is_an_error_never_a_reason_to_check_less() {
    for (from, to, says) in [("\"v\": 2", "\"v\": 99", "format version"), ("\"version\": \"", "\"version\": \"banana", "semantic version")]
    {
        let root = Root::sample();
        root.edit("seedc.lock", from, to);
        let run = seedc_bounded(&root, &["check"]);
        assert_eq!(run.code, 2, "{to}: {}", run.snapshot());
        assert!(run.stderr.contains("seedc.lock is corrupt") && run.stderr.contains(says), "{}", run.snapshot());
    }
}

#[test]
fn config_is_validated_in_full_at_load_for_every_command() {
    for (from, to, says) in [
        ("compat_window = 2 ", "compat_window = 4294967295 ", "compat_window must be between"),
        ("packs = [\"protocol.core\"", "packs = [\"../../etc/passwd\", \"protocol.core\"", "is not a pack id"),
        ("[collections.enemies]", "[collections.enemies]\ntable = \"pg_type\"", "PostgreSQL reserves"),
    ] {
        let root = Root::sample();
        root.edit("seedc.toml", from, to);
        for command in [&["check"][..], &["build"][..], &["diff", "."][..]] {
            let run = seedc_bounded(&root, command);
            assert_eq!(run.code, 2, "{to} {command:?}: {}", run.snapshot());
            assert!(run.stderr.contains(says) && !run.stderr.contains("panicked"), "{}", run.snapshot());
        }
    }
}

/// A seed file of `n` copies of the collection's first record, each changed by `edit`.
fn many_records(root: &Root, rel: &str, n: usize, edit: impl Fn(usize, &mut serde_json::Value)) {
    let mut file: serde_json::Value = serde_json::from_str(&root.read(rel)).unwrap();
    let first = file["data"][0].clone();
    file["data"] = (0..n)
        .map(|i| {
            let mut r = first.clone();
            edit(i, &mut r);
            r
        })
        .collect();
    root.write(rel, serde_json::to_string(&file).unwrap());
}

#[test]
fn thousands_of_findings_cost_near_linear_work_and_bounded_output() {
    // 20,000 repeats of one key in a record: each is located in one pass over the record.
    let root = Root::sample();
    let repeats: String = (0..20_000).map(|i| format!("\"hp\": {i},")).collect();
    root.edit("data/seeds/enemies.json", "\"hp\": 12,", &repeats);
    let run = seedc_bounded(&root, &["check", "--format", "json"]);
    let dups = diagnostics(&run).iter().filter(|d| d["code"] == "duplicate-key").count();
    assert_eq!(dups, 19_999, "every repeat, each placed");
    assert!(diagnostics(&run).iter().filter(|d| d["code"] == "duplicate-key").all(|d| d["line"].is_u64()));
    let human = seedc_bounded(&root, &["check", "--color", "never"]);
    assert!(human.stdout.contains("and 19,949 more duplicate-key diagnostics"), "{}", &human.stdout[human.stdout.len() - 500..]);
    assert!(human.stdout.len() < 100_000, "{} bytes", human.stdout.len());

    // 10,000 dangling references against 10,000 keys: suggestions are bounded.
    let root = Root::sample();
    many_records(&root, "data/seeds/elements.json", 10_000, |i, r| {
        r["id"] = format!("element_{i}").into();
        r["strong_against"] = serde_json::json!([format!("elemant_{i}")]);
        r["weak_against"] = serde_json::json!([]);
    });
    let run = seedc_bounded(&root, &["check", "--format", "json"]);
    let dangling: Vec<_> =
        diagnostics(&run).into_iter().filter(|d| d["code"] == "dangling-reference" && d["file"] == "data/seeds/elements.json").collect();
    assert_eq!(dangling.len(), 10_000);
    assert!(dangling[0]["help"].as_str().unwrap().contains("did you mean \"element_0\""), "{}", dangling[0]);
    let github = seedc_bounded(&root, &["check", "--format", "github"]);
    assert_eq!(
        github.stdout.lines().filter(|l| l.starts_with("::error") && l.contains("title=dangling-reference")).count(),
        50,
        "capped per code"
    );
    assert!(github.stdout.contains("more dangling-reference diagnostics"));
}

#[test]
fn a_huge_value_is_quoted_short() {
    let root = Root::sample();
    let huge = "x".repeat(1_500_000);
    root.edit("data/seeds/enemies.json", "\"hp\": 12,", &format!("\"hp\": \"{huge}\","));
    for format in ["human", "json", "github"] {
        let run = seedc_bounded(&root, &["check", "--format", format, "--color", "never"]);
        assert_eq!(run.code, 1, "{}", &run.stdout[..run.stdout.len().min(2000)]);
        assert!(run.stdout.contains("schema-violation"), "{format}");
        assert!(run.stdout.len() < 20_000, "{format}: {} bytes of output", run.stdout.len());
        assert!(run.stdout.contains('…'), "{format}: the value is cut with an ellipsis");
    }
}

#[test]
fn control_characters_from_the_content_are_escaped_in_every_format() {
    let root = Root::sample();
    // A key with ESC and a forged annotation after a newline, an unknown field with BEL.
    root.edit("data/seeds/enemies.json", "\"goblin_scout\"", "\"gob\\u001b[2J\\n::error file=x::forged\"");
    root.edit("data/seeds/enemies.json", "\"hp\": 12,", "\"hp\": 12, \"bell\\u0007\": 1,");
    std::fs::write(root.file("data/seeds/esc\u{1b}[31m.json"), "{}").unwrap();
    for format in ["human", "github", "json"] {
        let run = seedc_bounded(&root, &["check", "--format", format, "--color", "never"]);
        assert_eq!(run.code, 1, "{format}: {}", run.snapshot());
        for c in ['\u{1b}', '\u{7}'] {
            assert!(!run.stdout.contains(c), "{format}: raw {c:?} in {}", run.stdout);
        }
        assert!(!run.stdout.lines().any(|l| l.starts_with("::error file=x")), "{format}: a forged line: {}", run.stdout);
    }
    let json = seedc_bounded(&root, &["check", "--format", "json"]);
    assert!(json.stdout.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
}

#[test]
fn format_json_prints_a_json_object_for_usage_and_config_errors() {
    let root = Root::sample();
    root.edit("seedc.toml", "compat_window = 2 ", "compat_window = -1 ");
    for args in [&["check", "--format", "json"][..], &["check", "--format=json", "--no-such-flag"][..]] {
        let run = seedc_bounded(&root, args);
        assert_eq!(run.code, 2, "{}", run.snapshot());
        let lines = run.json_lines();
        assert_eq!(lines.len(), 1, "{}", run.stdout);
        assert_eq!(lines[0]["error"]["exit"], 2);
        assert!(lines[0]["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[test]
fn diff_renderers_escape_control_characters_from_the_content() {
    let base = Root::sample();
    let head = Root::sample();
    // Keys must match their schema; a description may hold anything.
    let text = head.read("data/seeds/items.json");
    let text = text.replacen("\"version\": \"1.1.0\"", "\"version\": \"1.2.0\"", 1);
    let at = text.find("\"description\": \"").expect("an item has a description") + "\"description\": \"".len();
    head.write(
        "data/seeds/items.json",
        format!("{}health\\u001b[2J\\u009b2J\\u202e\\n::error file=x::forged {}", &text[..at], &text[at..]),
    );
    for format in ["human", "markdown", "github", "json"] {
        let mut cmd = seedc_cmd();
        cmd.arg("--root").arg(head.path()).args(["diff", "--format", format, "--color", "never"]).arg(base.path());
        let run = bounded(cmd, head.path());
        assert!(format == "github" || run.stdout.contains("health"), "{format}: {}", run.snapshot());
        assert_eq!(run.code, 0, "{format}: {}", run.snapshot());
        for c in ['\u{1b}', '\u{9b}', '\u{202e}'] {
            assert!(!run.stdout.contains(c), "{format}: raw {c:?} in {}", run.stdout);
        }
        assert!(!run.stdout.lines().any(|l| l.starts_with("::error file=x")), "{format}: {}", run.stdout);
    }
}

/// What can stand in place of a file of `out/`: a FIFO, or a link to a device.
#[derive(Debug, Clone, Copy)]
enum Impostor {
    Fifo,
    DevZero,
}

impl Impostor {
    fn place(self, path: &Path) {
        let _ = std::fs::remove_file(path);
        match self {
            Impostor::Fifo => mkfifo(path),
            Impostor::DevZero => symlink("/dev/zero", path),
        }
    }

    /// What the diagnostic must say about it.
    fn said(self) -> &'static str {
        match self {
            Impostor::Fifo => "FIFO",
            Impostor::DevZero => "outside",
        }
    }
}

/// A built sample root and, relative to it, one bundle, one manifest and the index.
fn built_out() -> (Root, Vec<String>) {
    let root = Root::sample();
    let run = seedc_bounded(&root, &["build", "--date", "2026-01-25"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    let first = |dir: &str| {
        let mut names: Vec<String> =
            std::fs::read_dir(root.file(dir)).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        format!("{dir}/{}", names[0])
    };
    let rels = vec![first("out/packs/sha256"), first("out/manifests"), "out/index.json".to_owned()];
    (root, rels)
}

#[test]
fn a_fifo_or_device_link_in_out_is_a_located_diagnostic_for_verify_and_publish() {
    for impostor in [Impostor::Fifo, Impostor::DevZero] {
        let (root, rels) = built_out();
        for rel in &rels {
            let saved = std::fs::read(root.file(rel)).unwrap();
            impostor.place(&root.file(rel));
            let cdn = tempfile::tempdir().unwrap();
            let url = format!("file://{}/cdn", cdn.path().display());
            for command in [&["verify", "--format", "json"][..], &["publish", &url, "--format", "json"][..]] {
                let run = seedc_bounded(&root, command);
                assert_eq!(run.code, 1, "{impostor:?} {rel} {command:?}: {}", run.snapshot());
                let here: Vec<serde_json::Value> =
                    diagnostics(&run).into_iter().filter(|d| d["file"].as_str() == Some(rel.as_str())).collect();
                assert!(
                    here.iter().any(|d| d["message"].as_str().is_some_and(|m| m.contains(impostor.said()))),
                    "{impostor:?} {rel} {command:?}: {}",
                    run.snapshot()
                );
            }
            assert!(!cdn.path().join("cdn/index.json").exists(), "{impostor:?} {rel}: publish wrote to the store");
            // The next build replaces the impostor with the file it stands for.
            let run = seedc_bounded(&root, &["build", "--date", "2026-01-25"]);
            assert_eq!(run.code, 0, "{impostor:?} {rel}: {}", run.snapshot());
            assert_eq!(std::fs::read(root.file(rel)).unwrap(), saved, "{impostor:?} {rel}");
            let run = seedc_bounded(&root, &["verify"]);
            assert_eq!(run.code, 0, "{impostor:?} {rel}: {}", run.snapshot());
        }
    }
}

/// The record memo is only a shortcut: a FIFO or a device link in its place is a miss,
/// and the deploy checks in full, neither hanging nor reading without end.
#[test]
fn a_fifo_or_device_link_as_the_record_memo_is_a_miss() {
    let Some(env) = crate::support::services::Env::new("hostile_memo") else { return };
    let run = bounded(env.command(&["deploy", "--format", "json"]), env.root.path());
    assert_eq!(run.code, 0, "{}", run.snapshot());
    let memo = env.root.file("out/.cache/records.bin");
    assert!(memo.is_file(), "a deploy leaves its record memo");
    for (i, impostor) in [Impostor::Fifo, Impostor::DevZero].into_iter().enumerate() {
        impostor.place(&memo);
        env.edit_records("enemies", |r| crate::support::services::set_field(r, "goblin_scout", "hp", (13 + i).into()));
        let run = bounded(env.command(&["deploy", "--format", "json"]), env.root.path());
        assert_eq!(run.code, 0, "{impostor:?}: {}", run.snapshot());
        assert_eq!(env.db.record("enemies", "goblin_scout")["hp"], 13 + i, "{impostor:?}");
    }
}

/// A git revision is read like a directory: a file name that is not UTF-8 is reported for
/// what is wrong with it, not turned into U+FFFD and then "not found" or read.
#[test]
fn a_file_name_that_is_not_utf8_in_a_git_revision_is_named_for_what_is_wrong() {
    use std::os::unix::ffi::OsStrExt as _;
    for (dir, rel) in
        [("data/seeds", "data/seeds/bad\\xff.json"), ("data/packs", "data/packs/bad\\xff.json"), ("schemas", "schemas/bad\\xff.json")]
    {
        let root = Root::sample();
        let bad = root.file(dir).join(std::ffi::OsStr::from_bytes(b"bad\xff.json"));
        std::fs::write(&bad, "{}").unwrap();
        git(root.path(), &["init", "-q", "-b", "main"]);
        git(root.path(), &["add", "-A"]);
        git(root.path(), &["commit", "-q", "-m", "a bad name"]);
        // Only the revision has it: the working tree side checks clean.
        std::fs::remove_file(&bad).unwrap();
        let run = seedc_bounded(&root, &["diff", "HEAD", "--format", "json"]);
        assert!(run.code == 1 || run.code == 2, "{rel}: {}", run.snapshot());
        let located =
            diagnostics(&run).iter().any(|d| d["file"] == rel && d["message"].as_str().is_some_and(|m| m.contains("not valid UTF-8")));
        let named = run.stderr.contains(rel) && run.stderr.contains("not valid UTF-8");
        assert!(located || named, "{rel}: {}", run.snapshot());
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains('\u{fffd}') && !all.contains("is not in"), "{rel}: {}", run.snapshot());
    }
}

/// A published copy in a directory (`file://`) is read through the same reader as `out/`:
/// a FIFO or a device link where an object should be fails `verify URL` in bounded time,
/// naming what stands there.
#[test]
fn a_fifo_or_device_link_in_a_file_url_copy_is_not_read() {
    let (root, rels) = built_out();
    let cdn = tempfile::tempdir().unwrap();
    let url = format!("file://{}/cdn", cdn.path().display());
    let run = seedc_bounded(&root, &["publish", &url]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    for impostor in [Impostor::Fifo, Impostor::DevZero] {
        for rel in &rels {
            let published = cdn.path().join("cdn").join(rel.strip_prefix("out/").unwrap());
            let saved = std::fs::read(&published).unwrap();
            impostor.place(&published);
            let run = seedc_bounded(&root, &["verify", &url]);
            assert_ne!(run.code, 0, "{impostor:?} {rel}: {}", run.snapshot());
            let said = impostor.said();
            // The local store's listing leaves out what is not a regular file, so a bundle
            // or manifest is reported missing; the index is read by name.
            if rel == "out/index.json" {
                assert!(run.stdout.contains(said) || run.stderr.contains(said), "{impostor:?} {rel}: {}", run.snapshot());
            }
            std::fs::remove_file(&published).unwrap();
            std::fs::write(&published, saved).unwrap();
        }
    }
    let run = seedc_bounded(&root, &["verify", &url]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
}
