//! Fitting where teams already work: shell completions that bash really loads, man pages that
//! `man` really renders, and the pre-commit hook run by the real pre-commit tool. Tools that
//! are missing are installed (pre-commit with pip into the test's own directory, man-db with
//! apt-get); under `scripts/test` (SEEDC_REQUIRE_SERVICES=1) a tool that cannot be had fails
//! the test, elsewhere the test says so and skips.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::services::required as need;
use crate::support::{Root, repo, seedc_cmd};

fn on_path(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success())
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    assert!(out.status.success(), "{cmd:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// What bash's completion of `words` (the last one being completed) offers, after sourcing
/// `seedc completions bash` and calling the function it registered for `seedc`.
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    let driver = r#"
source "$1" || exit 3
fn=$(complete -p seedc | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ -n "$fn" ] || { echo "no completion registered for seedc" >&2; exit 4; }
shift
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
"$fn" seedc "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let out = stdout_of(Command::new("bash").arg("--norc").arg("-c").arg(driver).arg("driver").arg(script).args(words));
    out.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

#[test]
fn bash_loads_the_completions_and_completes_commands_and_codes() {
    if need(on_path("bash"), "bash is not installed").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("seedc.bash");
    std::fs::write(&script, stdout_of(seedc_cmd().args(["completions", "bash"]))).unwrap();
    assert_eq!(bash_complete(&script, &["seedc", "dep"]), ["deploy"]);
    assert_eq!(bash_complete(&script, &["seedc", "explain", "dangl"]), ["dangling-reference"]);
    assert_eq!(bash_complete(&script, &["seedc", "completions", "fi"]), ["fish"]);
    assert!(bash_complete(&script, &["seedc", "init", "--"]).contains(&"--dry-run".to_owned()));
}

#[test]
fn completions_for_every_shell() {
    for (shell, mark) in [
        ("zsh", "#compdef seedc"),
        ("fish", "complete -c seedc"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let script = stdout_of(seedc_cmd().args(["completions", shell]));
        assert!(script.contains(mark) && script.contains("deploy"), "{shell}: {script}");
    }
    let json = stdout_of(seedc_cmd().args(["completions", "fish", "--format", "json"]));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(value["completions"]["text"].as_str().unwrap().contains("complete -c seedc"), "{json}");
    let unknown = seedc_cmd().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}

/// `man`, installed with apt-get (man-db) when missing and allowed.
fn man() -> Option<()> {
    if !on_path("man") && std::env::var_os("SEEDC_REQUIRE_SERVICES").is_some() && on_path("apt-get") {
        let install = "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends man-db";
        let _ = Command::new("sh").args(["-c", install]).status();
    }
    need(on_path("man"), "`man` (man-db) is not installed")
}

fn render_man(page: &Path) -> String {
    stdout_of(
        Command::new("man").arg("-l").arg(page).env("MANWIDTH", "100").env("MANPAGER", "cat").env("PAGER", "cat").env("LC_ALL", "C.UTF-8"),
    )
}

#[test]
fn man_renders_the_main_page_and_one_per_command() {
    if man().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("seedc.1");
    let roff = stdout_of(seedc_cmd().arg("man"));
    assert!(roff.contains(".TH seedc 1"), "{roff}");
    std::fs::write(&main, roff).unwrap();
    let page = render_man(&main);
    for part in
        ["NAME", "seedc - Validate, bundle and deploy versioned game content", "SYNOPSIS", "SUBCOMMANDS", "seedc-deploy(1)", "--format"]
    {
        assert!(page.contains(part), "{part:?} missing from:\n{page}");
    }

    let pages = dir.path().join("pages");
    let run = seedc_cmd().arg("man").arg("--out-dir").arg(&pages).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&pages).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    for expected in ["seedc.1", "seedc-check.1", "seedc-deploy.1", "seedc-init.1", "seedc-man.1"] {
        assert!(names.contains(&expected.to_owned()), "{expected}: {names:?}");
    }
    assert!(!names.iter().any(|n| n.starts_with("seedc-help")), "{names:?}");
    let deploy = render_man(&pages.join("seedc-deploy.1"));
    assert!(deploy.contains("seedc-deploy") && deploy.contains("--dry-run") && deploy.contains("--database-url"), "{deploy}");
}

/// A directory where the pre-commit package is importable: `SEEDC_PRE_COMMIT_PY` (where
/// `pip install --target DIR pre-commit` already ran), else installed with pip into `dir`.
fn pre_commit(dir: &Path) -> Option<PathBuf> {
    let importable = |py: &Path| {
        Command::new("python3").args(["-c", "import pre_commit"]).env("PYTHONPATH", py).output().is_ok_and(|o| o.status.success())
    };
    if let Some(py) = std::env::var_os("SEEDC_PRE_COMMIT_PY").map(PathBuf::from) {
        need(importable(&py), &format!("SEEDC_PRE_COMMIT_PY={} holds no pre-commit", py.display()))?;
        return Some(py);
    }
    need(on_path("python3"), "python3 is not installed")?;
    let py = dir.join("py");
    let pip = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-script-location", "--target"])
        .arg(&py)
        .arg("pre-commit")
        .output();
    let why = match &pip {
        Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
        Err(e) => e.to_string(),
    };
    need(importable(&py), &format!("pip could not install pre-commit: {why}"))?;
    Some(py)
}

/// `PATH` with the seedc under test first, as a hook or a workflow step finds it.
fn path_with_seedc() -> std::ffi::OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_seedc")).parent().unwrap().to_path_buf();
    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).unwrap()
}

/// git in `dir` as a user with no configuration of their own, through pre-commit's hook
/// when one is installed.
fn git(dir: &Path, env: &[(&str, &std::ffi::OsStr)], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir).args(["-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"]).args(args);
    for (name, who) in [("NAME", "seedc"), ("EMAIL", "seedc@example.invalid")] {
        cmd.env(format!("GIT_AUTHOR_{name}"), who).env(format!("GIT_COMMITTER_{name}"), who);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1").env("HOME", dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run git")
}

#[test]
fn the_pre_commit_hook_passes_clean_content_and_stops_a_bad_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(py) = pre_commit(tmp.path()) else { return };
    let path = path_with_seedc();
    let home = tmp.path().join("pre-commit-home");
    let env: [(&str, &std::ffi::OsStr); 4] =
        [("PYTHONPATH", py.as_os_str()), ("PATH", &path), ("PRE_COMMIT_HOME", home.as_os_str()), ("PRE_COMMIT_COLOR", "never".as_ref())];
    let ok = |out: std::process::Output| {
        assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    // The hooks repository: this repository's .pre-commit-hooks.yaml, committed.
    let hooks = tmp.path().join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    std::fs::copy(repo().join(".pre-commit-hooks.yaml"), hooks.join(".pre-commit-hooks.yaml")).unwrap();
    ok(Command::new("python3")
        .args(["-m", "pre_commit", "validate-manifest", ".pre-commit-hooks.yaml"])
        .current_dir(&hooks)
        .envs(env)
        .output()
        .unwrap());
    ok(git(&hooks, &env, &["init", "-q"]));
    ok(git(&hooks, &env, &["add", "."]));
    ok(git(&hooks, &env, &["commit", "-q", "-m", "hooks"]));
    let rev = ok(git(&hooks, &env, &["rev-parse", "HEAD"])).trim().to_owned();

    // A game's repository made from the sample, using the hook.
    let game = Root::sample();
    let dir = game.path();
    game.write(
        ".pre-commit-config.yaml",
        format!("repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: seedc-check\n", hooks.display()),
    );
    ok(git(dir, &env, &["init", "-q"]));
    ok(Command::new("python3").args(["-m", "pre_commit", "install"]).current_dir(dir).envs(env).env("HOME", dir).output().unwrap());
    ok(git(dir, &env, &["add", "."]));
    let clean = git(dir, &env, &["commit", "-m", "the sample game"]);
    let text = format!("{}{}", String::from_utf8_lossy(&clean.stdout), String::from_utf8_lossy(&clean.stderr));
    assert!(clean.status.success(), "{text}");
    assert!(text.contains("seedc check") && text.contains("Passed"), "the hook ran: {text}");

    game.edit("data/seeds/enemies.json", "\"hp\": 12,", "\"hp\": 0,");
    ok(git(dir, &env, &["add", "data/seeds/enemies.json"]));
    let bad = git(dir, &env, &["commit", "-m", "goblins die at once"]);
    let text = format!("{}{}", String::from_utf8_lossy(&bad.stdout), String::from_utf8_lossy(&bad.stderr));
    assert!(!bad.status.success(), "the commit was stopped: {text}");
    assert!(text.contains("Failed") && text.contains("error[schema-violation]: 0 is less than the minimum of 1"), "{text}");
    assert!(text.contains("data/seeds/enemies.json:9:13"), "{text}");
}

/// The GitHub Action's run step (scripts/action/run.sh) as a runner would call it: the
/// command with `--format github`, its exit code as an output, the SARIF file and the
/// Markdown diff written, even when the check fails.
#[test]
fn the_action_runs_the_command_and_writes_the_diff() {
    let root = Root::sample();
    let base = tempfile::tempdir().unwrap();
    crate::support::copy_dir(root.path(), base.path());
    let runner = tempfile::tempdir().unwrap();
    let (output, summary) = (runner.path().join("output"), runner.path().join("summary.md"));
    let sarif = runner.path().join("seedc.sarif");
    let path = path_with_seedc();
    for script in ["install.sh", "run.sh"] {
        stdout_of(Command::new("bash").arg("-n").arg(repo().join("scripts/action").join(script)));
    }
    let run = |command: &str| {
        let out = Command::new("bash")
            .arg(repo().join("scripts/action/run.sh"))
            .env("PATH", &path)
            .env_remove("GITHUB_WORKSPACE")
            .env("CI", "true")
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("RUNNER_TEMP", runner.path())
            .env("SEEDC_COMMAND", command)
            .env("SEEDC_ROOT", root.path())
            .env("SEEDC_DIFF_BASE", base.path())
            .env("SEEDC_SARIF_FILE", &sarif)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), std::fs::read_to_string(&output).unwrap())
    };

    let (code, _, outputs) = run("check");
    assert_eq!(code, Some(0), "{outputs}");
    let diff_file = runner.path().join("seedc-diff.md");
    assert_eq!(outputs, format!("exit-code=0\nsarif-file={}\ndiff-file={}\n", sarif.display(), diff_file.display()));
    let log: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(std::fs::read_to_string(&diff_file).unwrap().contains("No changes."));
    assert!(std::fs::read_to_string(&summary).unwrap().contains("### ✅ seedc check"));

    std::fs::remove_file(&output).unwrap();
    root.edit("data/seeds/enemies.json", "\"hp\": 12,", "\"hp\": 0,");
    let (code, stdout, outputs) = run("check");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(outputs.starts_with("exit-code=1\n"), "{outputs}");
    assert!(stdout.contains("\n::error file=data/seeds/enemies.json,line=9,col=13,title=schema-violation::"), "{stdout}");
    assert!(std::fs::read_to_string(&diff_file).unwrap().contains("enemies"), "the diff is written when the check fails");
    let log: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "schema-violation"), "the SARIF is written when the check fails: {log}");
}
