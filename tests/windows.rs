//! seedc on Windows: the Windows binary (cross-built by `scripts/windows`) run under Wine
//! against the Linux binary on the same content roots. Diagnostics (codes, `/` paths,
//! lines, columns) must be the same in human and JSON form, CRLF files must place them
//! where LF files do, names Windows cannot hold are located errors, bundles are
//! byte-identical, and a deploy over TLS (SChannel) reaches the test PostgreSQL.
//!
//! `scripts/test` sets `SEEDC_WINE` (the loader) and `SEEDC_WINE_EXE` (seedc.exe, with the
//! `ProcessPrng` shim beside it); under it (`SEEDC_REQUIRE_SERVICES=1`) a missing one fails
//! the test. The CRLF and case tests of the Linux binary alone always run.

use std::path::Path;
use std::process::Command;

use crate::support::services::{Env, required_var};
use crate::support::{Root, Run, seedc_cmd};

/// The loader and the .exe, or None (skip) outside `scripts/test`.
fn wine() -> Option<(String, String)> {
    Some((required_var("SEEDC_WINE")?, required_var("SEEDC_WINE_EXE")?))
}

/// Which binary runs.
#[derive(Clone, Copy, Debug)]
enum Bin {
    Linux,
    Wine,
}

/// seedc run in `root` (its default content root, `.`: no Unix path crosses into Wine),
/// with the deterministic environment of `seedc_cmd`.
fn command(bin: Bin, root: &Path, args: &[&str]) -> Command {
    let mut cmd = match bin {
        Bin::Linux => seedc_cmd(),
        Bin::Wine => {
            let (wine, exe) = wine().expect("checked by the caller");
            let mut cmd = Command::new(wine);
            cmd.arg(exe).env_remove("NO_COLOR").env_remove("GITHUB_STEP_SUMMARY").env_remove("SOURCE_DATE_EPOCH").env("CI", "true");
            cmd
        }
    };
    cmd.current_dir(root).args(args);
    cmd
}

fn run(bin: Bin, root: &Path, args: &[&str]) -> Run {
    Run::of(command(bin, root, args).output().unwrap_or_else(|e| panic!("run seedc ({bin:?}): {e}")), root)
}

/// The located fields of each JSON diagnostic, summary aside.
fn located(run: &Run) -> Vec<(String, String, String, String, String)> {
    let field = |d: &serde_json::Value, k: &str| d.get(k).map(|v| v.to_string()).unwrap_or_default();
    run.json_lines()
        .iter()
        .filter(|d| d.get("summary").is_none())
        .map(|d| (field(d, "code"), field(d, "file"), field(d, "line"), field(d, "column"), field(d, "pointer")))
        .collect()
}

/// A copy of the sample with errors in three files of three kinds: a schema violation and
/// an unbumped version (enemies), a duplicate key (bosses), a syntax error (a pack).
fn broken() -> Root {
    let root = Root::sample();
    root.edit("data/seeds/enemies.json", "\"hp\": 12,", "\"hp\": 0,");
    root.edit("data/seeds/bosses.json", "\"hp\": 120,", "\"hp\": 120,\n      \"hp\": 121,");
    root.edit("data/packs/protocol.core.json", "\"title\": \"Core run protocols\",", "\"title\": \"Core run protocols\" \"x\",");
    root
}

/// Rewrites every `.json` file under `dir` with CRLF line ends.
fn to_crlf(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            to_crlf(&path);
        } else if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, text.replace("\r\n", "\n").replace('\n', "\r\n")).unwrap();
        }
    }
}

/// Every file under `dir` but the build cache, by relative path, with its bytes.
fn files(dir: &Path, rel: &str, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir.join(rel)).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let child = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        if child == ".cache" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            files(dir, &child, out);
        } else {
            out.push((child, std::fs::read(entry.path()).unwrap()));
        }
    }
    out.sort();
}

#[test]
fn crlf_files_place_diagnostics_where_lf_files_do() {
    let (lf, crlf) = (broken(), broken());
    to_crlf(&crlf.file("data"));
    for args in [&["check", "--color", "never"][..], &["check", "--format", "json"]] {
        let (a, b) = (run(Bin::Linux, lf.path(), args), run(Bin::Linux, crlf.path(), args));
        assert_eq!((a.code, &a.stdout), (b.code, &b.stdout), "{args:?}\n{}\n{}", a.snapshot(), b.snapshot());
    }
    assert_eq!(located(&run(Bin::Linux, lf.path(), &["check", "--format", "json"])).len(), 4);
}

#[test]
fn names_that_differ_only_in_case_are_an_error_on_linux_too() {
    let root = Root::sample();
    root.write("data/seeds/Enemies.json", root.read("data/seeds/enemies.json"));
    let run = run(Bin::Linux, root.path(), &["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    let found = located(&run);
    assert_eq!(found, [("\"unportable-name\"".into(), "\"data/seeds/Enemies.json\"".into(), "null".into(), "null".into(), "null".into())]);
}

#[test]
fn the_sample_checks_clean_under_wine() {
    if wine().is_none() {
        return;
    }
    let root = Root::sample();
    let run = run(Bin::Wine, root.path(), &["check"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(run.stdout.contains("no problems"), "{}", run.snapshot());
}

#[test]
fn wine_reports_what_linux_reports_in_human_and_json_lf_and_crlf() {
    if wine().is_none() {
        return;
    }
    let (lf, crlf) = (broken(), broken());
    to_crlf(&crlf.file("data"));
    for args in [&["check", "--color", "never"][..], &["check", "--format", "json"]] {
        let linux = run(Bin::Linux, lf.path(), args);
        assert_eq!(linux.code, 1, "{}", linux.snapshot());
        for root in [&lf, &crlf] {
            let windows = run(Bin::Wine, root.path(), args);
            assert_eq!((windows.code, &windows.stdout), (linux.code, &linux.stdout), "{args:?}\n{}", windows.snapshot());
        }
    }
    let found = located(&run(Bin::Wine, crlf.path(), &["check", "--format", "json"]));
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(found.iter().all(|(_, file, ..)| file.contains('/') && !file.contains('\\')), "{found:?}");
}

#[test]
fn device_names_and_case_twins_are_located_errors_under_wine() {
    if wine().is_none() {
        return;
    }
    let root = Root::sample();
    root.write("data/seeds/CON.json", "{}\n");
    root.write("data/seeds/NUL.json", "{}\n");
    root.write("data/seeds/Enemies.json", root.read("data/seeds/enemies.json"));
    let windows = run(Bin::Wine, root.path(), &["check", "--format", "json"]);
    let linux = run(Bin::Linux, root.path(), &["check", "--format", "json"]);
    assert_eq!(windows.code, 1, "{}", windows.snapshot());
    assert_eq!(windows.stdout, linux.stdout);
    let files: Vec<String> = located(&windows).into_iter().filter(|d| d.0 == "\"unportable-name\"").map(|d| d.1).collect();
    assert_eq!(files, ["\"data/seeds/CON.json\"", "\"data/seeds/Enemies.json\"", "\"data/seeds/NUL.json\""], "{}", windows.snapshot());
}

#[test]
fn wine_builds_the_bundles_linux_builds_and_verifies_them() {
    if wine().is_none() {
        return;
    }
    let (linux, windows) = (Root::sample(), Root::sample());
    let args = ["build", "--date", "2026-01-25", "-q"];
    let a = run(Bin::Linux, linux.path(), &args);
    let b = run(Bin::Wine, windows.path(), &args);
    assert_eq!((a.code, b.code), (0, 0), "{}\n{}", a.snapshot(), b.snapshot());
    let verify = run(Bin::Wine, windows.path(), &["verify"]);
    assert_eq!(verify.code, 0, "{}", verify.snapshot());
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    files(&linux.file("out"), "", &mut ours);
    files(&windows.file("out"), "", &mut theirs);
    assert!(ours.iter().any(|(p, _)| p.starts_with("packs/sha256/")), "{:?}", ours.iter().map(|f| &f.0).collect::<Vec<_>>());
    assert!(
        ours == theirs,
        "out/ differs: {:?} vs {:?}",
        ours.iter().map(|f| &f.0).collect::<Vec<_>>(),
        theirs.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(std::fs::read(linux.file("seedc.lock")).unwrap(), std::fs::read(windows.file("seedc.lock")).unwrap());
}

/// `diff`, `explain`, `schema` and `show` print under Wine exactly what they print on Linux.
#[test]
fn wine_diffs_explains_and_writes_schemas_as_linux_does() {
    if wine().is_none() {
        return;
    }
    let root = Root::sample();
    // The old side, beside the content root's own files: a path relative to it, as no Unix
    // path crosses into Wine.
    for part in ["seedc.toml", "seedc.lock", "data", "schemas"] {
        let (from, to) = (root.file(part), root.file(&format!("base/{part}")));
        if from.is_dir() {
            crate::support::copy_dir(&from, &to);
        } else {
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&from, &to).unwrap();
        }
    }
    crate::support::services::edit_records(&root, "enemies", |r| crate::support::services::set_field(r, "goblin_scout", "hp", 13.into()));
    let cases: [&[&str]; 6] = [
        &["diff", "base", "--color", "never"],
        &["diff", "base", "--format", "json"],
        &["diff", "base", "--format", "markdown"],
        &["explain", "dangling-reference"],
        &["explain", "--list", "--format", "json"],
        &["schema", "--check"],
    ];
    for args in cases {
        let linux = run(Bin::Linux, root.path(), args);
        let windows = run(Bin::Wine, root.path(), args);
        assert!(!linux.stdout.is_empty() || args[0] == "schema", "{args:?}: {}", linux.snapshot());
        assert_eq!((windows.code, &windows.stdout), (linux.code, &linux.stdout), "{args:?}\n{}\n{}", windows.snapshot(), linux.snapshot());
    }
    let wrote = run(Bin::Wine, root.path(), &["schema", "--out-dir", "schemas-out"]);
    assert_eq!(wrote.code, 0, "{}", wrote.snapshot());
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    files(&root.file("schemas-out"), "", &mut ours);
    files(&root.file("schemas/seedc"), "", &mut theirs);
    assert!(!ours.is_empty() && ours == theirs, "the schemas Wine wrote are the repository's");
}

#[test]
fn wine_deploys_into_postgresql_over_tls() {
    if wine().is_none() {
        return;
    }
    // sslmode=require: a server without TLS is refused, so a deploy that succeeds spoke TLS.
    let Some(env) = Env::new("wine_tls") else { return };
    let mut cmd = command(Bin::Wine, env.root.path(), &["deploy", "--date", "2026-01-25", "--format", "json"]);
    cmd.env("DATABASE_URL", format!("{}?sslmode=require", env.db.url)).env("REDIS_URL", &env.redis);
    let run = Run::of(cmd.output().unwrap(), env.root.path());
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM enemies"), 28);
}

/// Moves `root`'s content root into a directory nested below it, deep enough that its path
/// as Wine sees it (`Z:` and the Unix path) has `windows_len` characters; returns the
/// nested directory relative to `root`, `/`-separated.
fn nest(root: &Root, windows_len: usize) -> String {
    let mut rel = String::new();
    let base = "Z:".len() + root.path().as_os_str().len() + 1;
    for n in 0.. {
        let room = windows_len.saturating_sub(base + rel.len());
        if room == 0 {
            break;
        }
        let part = format!("d{n}{}", "x".repeat(room.min(60).saturating_sub(3)));
        rel = if rel.is_empty() { part } else { format!("{rel}/{part}") };
    }
    std::fs::create_dir_all(root.file(&rel)).unwrap();
    for part in ["seedc.toml", "seedc.lock", "data", "schemas"] {
        std::fs::rename(root.file(part), root.file(&format!("{rel}/{part}"))).unwrap();
    }
    rel
}

/// Paths past Windows' 260 characters: a content root whose own path is shorter but whose
/// files lie past 260, and one whose own path is past 260, given as `--root` (a working
/// directory that long is refused by Windows itself). Diagnostics name files relative to
/// the root with `/` as on Linux; a build there verifies on both.
#[test]
fn paths_past_260_characters_work_under_wine() {
    if wine().is_none() {
        return;
    }
    for len in [245, 330] {
        let root = broken();
        let rel = nest(&root, len);
        assert!(root.file(&format!("{rel}/data/seeds/achievements.json")).as_os_str().len() + 2 > 260);
        for args in [&["--root", &rel, "check", "--color", "never"][..], &["--root", &rel, "check", "--format", "json"]] {
            let linux = run(Bin::Linux, root.path(), args);
            let windows = run(Bin::Wine, root.path(), args);
            assert_eq!(linux.code, 1, "{}", linux.snapshot());
            assert_eq!((windows.code, &windows.stdout), (linux.code, &linux.stdout), "{len}: {args:?}\n{}", windows.snapshot());
        }
        let found = located(&run(Bin::Wine, root.path(), &["--root", &rel, "check", "--format", "json"]));
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found.iter().all(|(_, file, ..)| file.starts_with("\"data/") && !file.contains('\\')), "{found:?}");
    }
    let root = Root::sample();
    let rel = nest(&root, 330);
    for (bin, args) in [
        (Bin::Wine, &["--root", &rel, "build", "--date", "2026-01-25", "-q"][..]),
        (Bin::Wine, &["--root", &rel, "verify"]),
        (Bin::Linux, &["--root", &rel, "verify"]),
    ] {
        let run = run(bin, root.path(), args);
        assert_eq!(run.code, 0, "{bin:?} {args:?}\n{}", run.snapshot());
    }
    assert!(root.file(&format!("{rel}/out/index.json")).is_file());
}
