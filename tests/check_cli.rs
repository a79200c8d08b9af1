//! `seedc check` on the sample content, end to end.

use crate::support::Root;

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
