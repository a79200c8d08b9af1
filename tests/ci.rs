//! CI-native output: `--format github` annotations (paths relative to GITHUB_WORKSPACE),
//! the GITHUB_STEP_SUMMARY report of check, build and diff, and the `$schema` warning that
//! editor integration relies on.

use crate::support::{Root, Run, seedc_cmd};

fn run_with(root: &Root, env: &[(&str, &std::path::Path)], args: &[&str]) -> Run {
    let mut cmd = seedc_cmd();
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.arg("--root").arg(root.path()).args(args);
    Run::of(cmd.output().unwrap(), root.path())
}

fn break_sample(root: &Root) {
    root.edit("data/seeds/enemies.json", "\"hp\": 12,", "\"hp\": 0,");
}

#[test]
fn github_annotations() {
    let root = Root::sample();
    break_sample(&root);
    let run = root.seedc(&["check", "--format", "github"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("check_github", run.stdout);

    let build = root.seedc(&["build", "--format", "github"]);
    assert_eq!(build.code, 1);
    assert!(build.stdout.starts_with("::error file=data/seeds/enemies.json,line="), "{}", build.stdout);
}

#[test]
fn github_paths_are_relative_to_the_workspace() {
    let workspace = tempfile::tempdir().unwrap();
    let root = Root::sample();
    let inner = workspace.path().join("game");
    crate::support::copy_dir(root.path(), &inner);
    let run = {
        let mut cmd = seedc_cmd();
        std::fs::write(
            inner.join("data/seeds/enemies.json"),
            root.read("data/seeds/enemies.json").replacen("\"hp\": 12,", "\"hp\": 0,", 1),
        )
        .unwrap();
        cmd.env("GITHUB_WORKSPACE", workspace.path()).arg("--root").arg(&inner).args(["check", "--format", "github"]);
        Run::of(cmd.output().unwrap(), workspace.path())
    };
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("\n::error file=game/data/seeds/enemies.json,line=9,col=13,title=schema-violation::"), "{}", run.stdout);
}

#[test]
fn step_summary_is_appended() {
    let root = Root::sample();
    let summary = root.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let ok = run_with(&root, &[("GITHUB_STEP_SUMMARY", &summary)], &["check"]);
    assert_eq!(ok.code, 0);
    break_sample(&root);
    let bad = run_with(&root, &[("GITHUB_STEP_SUMMARY", &summary)], &["check", "--format", "github"]);
    assert_eq!(bad.code, 1);
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.starts_with("earlier step\n\n### ✅ seedc check\n"), "{text}");
    insta::assert_snapshot!("check_step_summary", text);

    let pair_summary = root.path().join("diff-summary.md");
    let diff = run_with(&root, &[("GITHUB_STEP_SUMMARY", &pair_summary)], &["diff", root.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(diff.code, 1, "the root does not check: {}", diff.snapshot());
    root.edit("data/seeds/enemies.json", "\"hp\": 0,", "\"hp\": 12,");
    let diff = run_with(&root, &[("GITHUB_STEP_SUMMARY", &pair_summary)], &["diff", root.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(diff.code, 0, "{}", diff.snapshot());
    let text = std::fs::read_to_string(&pair_summary).unwrap();
    assert!(text.contains("### seedc diff: `") && text.contains("→ `working tree`"), "{text}");
    assert!(text.contains("No changes."), "{text}");
}

#[test]
fn missing_schema_file_is_a_warning_with_the_path() {
    let root = Root::sample();
    root.edit("data/seeds/items.json", "../../schemas/seeds/items.file.schema.json", "../../schemas/seeds/gone.schema.json");
    let run = root.seedc(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "a warning does not fail the check: {}", run.snapshot());
    let lines = run.json_lines();
    let warning = lines.iter().find(|l| l["code"] == "missing-schema-file").unwrap_or_else(|| panic!("{}", run.stdout));
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["file"], "data/seeds/items.json");
    assert_eq!(warning["pointer"], "/$schema");
    assert!(warning["message"].as_str().unwrap().contains("../../schemas/seeds/gone.schema.json"), "{warning}");
    assert_eq!(warning["line"], 2);

    // In a pack, too.
    root.edit("data/packs/voice.core.en.json", "\"$schema\": \"", "\"$schema\": \"missing/");
    let run = root.seedc(&["check", "--format", "json"]);
    assert!(
        run.json_lines().iter().any(|l| l["code"] == "missing-schema-file" && l["file"] == "data/packs/voice.core.en.json"),
        "{}",
        run.stdout
    );
}
