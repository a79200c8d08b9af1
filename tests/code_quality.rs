//! `--format sarif` and `--format gitlab`: the SARIF log validates against the official
//! SARIF 2.1.0 schema (tests/fixtures/sarif-schema-2.1.0.json, from the OASIS TC's
//! repository) with seedc's own validator, and its results match `--format json` one to
//! one; the GitLab Code Quality report has one entry per diagnostic and unique
//! fingerprints; both refuse commands whose report is not diagnostics.

use serde_json::Value;

use crate::support::Root;

/// Errors of several codes in two files, and one twice at the same place.
fn broken() -> Root {
    let root = Root::sample();
    root.edit("data/seeds/enemies.json", "\"hp\": 12,", "\"hp\": 0, \"hp\": 0,");
    root.edit("data/seeds/enemies.json", "\"rusty_dagger\"", "\"rusty_daggr\"");
    root.edit("data/seeds/bosses.json", "\"name\":", "\"nme\":");
    root
}

fn sarif_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(crate::support::repo().join("tests/fixtures/sarif-schema-2.1.0.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).expect("the SARIF schema compiles")
}

fn sarif_of(root: &Root, command: &str) -> (i32, Value) {
    let run = root.seedc(&[command, "--format", "sarif"]);
    assert!(run.stderr.is_empty(), "{}", run.snapshot());
    (run.code, serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}:\n{}", run.stdout)))
}

#[test]
fn sarif_validates_and_matches_the_json_diagnostics() {
    let schema = sarif_schema();
    let root = broken();
    for command in ["check", "build"] {
        let (code, log) = sarif_of(&root, command);
        assert_eq!(code, 1, "{command}");
        let errors: Vec<String> = schema.iter_errors(&log).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{command}: the log does not validate:\n{}", errors.join("\n"));

        let json = root.seedc(&[command, "--format", "json"]).json_lines();
        let expected: Vec<(String, String, u64, u64)> = json
            .iter()
            .filter(|l| l.get("summary").is_none())
            .map(|l| {
                (
                    l["code"].as_str().unwrap().into(),
                    l["file"].as_str().unwrap().into(),
                    l["line"].as_u64().unwrap(),
                    l["column"].as_u64().unwrap(),
                )
            })
            .collect();
        let results = log["runs"][0]["results"].as_array().unwrap();
        let found: Vec<(String, String, u64, u64)> = results
            .iter()
            .map(|r| {
                let at = &r["locations"][0]["physicalLocation"];
                let region = &at["region"];
                (
                    r["ruleId"].as_str().unwrap().into(),
                    at["artifactLocation"]["uri"].as_str().unwrap().into(),
                    region["startLine"].as_u64().unwrap(),
                    region["startColumn"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(found, expected, "{command}: one result per diagnostic, in order");
        assert!(expected.len() >= 4, "several errors: {expected:?}");

        let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        for r in results {
            let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
            assert_eq!(rule["id"], r["ruleId"]);
            assert!(rule["help"]["text"].as_str().is_some_and(|t| t.len() > 40), "{rule}");
            assert!(r["partialFingerprints"]["seedc/v1"].as_str().is_some_and(|f| f.len() == 64), "{r}");
            assert!(r["properties"]["pointer"].is_string(), "{r}");
        }
    }
}

#[test]
fn sarif_of_a_clean_root_validates_with_no_results() {
    let root = Root::sample();
    let (code, log) = sarif_of(&root, "check");
    assert_eq!(code, 0);
    let schema = sarif_schema();
    let errors: Vec<String> = schema.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The validator does bite: a level SARIF does not have is refused.
    let mut bad = log.clone();
    bad["runs"][0]["results"] = serde_json::json!([{ "message": { "text": "x" }, "level": "fatal" }]);
    assert!(!schema.is_valid(&bad));
    assert_eq!(log["runs"][0]["results"].as_array().map(Vec::len), Some(0));
}

/// An alert survives lines moving: its fingerprint is code, file and pointer.
#[test]
fn sarif_fingerprints_do_not_move_with_lines() {
    let root = broken();
    let (_, before) = sarif_of(&root, "check");
    root.edit("data/seeds/enemies.json", "{\n  \"$schema\"", "{\n\n\n  \"$schema\"");
    let (_, after) = sarif_of(&root, "check");
    let prints = |log: &Value| -> Vec<(String, u64)> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["partialFingerprints"]["seedc/v1"].as_str().unwrap().to_owned(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let (b, a) = (prints(&before), prints(&after));
    assert_eq!(b.iter().map(|p| &p.0).collect::<Vec<_>>(), a.iter().map(|p| &p.0).collect::<Vec<_>>());
    assert_ne!(b.iter().map(|p| p.1).collect::<Vec<_>>(), a.iter().map(|p| p.1).collect::<Vec<_>>(), "the lines did move");
}

#[test]
fn gitlab_report_has_one_entry_per_diagnostic_with_unique_fingerprints() {
    let root = broken();
    let run = root.seedc(&["check", "--format", "gitlab"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    let report: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    let json = root.seedc(&["check", "--format", "json"]).json_lines();
    let diagnostics: Vec<&Value> = json.iter().filter(|l| l.get("summary").is_none()).collect();
    assert_eq!(report.len(), diagnostics.len());
    for (entry, d) in report.iter().zip(&diagnostics) {
        assert_eq!(entry["check_name"], d["code"]);
        assert_eq!(entry["description"], d["message"]);
        assert_eq!(entry["location"]["path"], d["file"]);
        assert_eq!(entry["location"]["lines"]["begin"], d["line"]);
        assert!(matches!(entry["severity"].as_str(), Some("major" | "minor")), "{entry}");
    }
    let prints: std::collections::HashSet<&str> = report.iter().map(|e| e["fingerprint"].as_str().unwrap()).collect();
    assert_eq!(prints.len(), report.len(), "unique fingerprints");
    let clean = Root::sample().seedc(&["check", "--format", "gitlab"]);
    assert_eq!((clean.code, clean.stdout.trim()), (0, "[]"));
}

#[test]
fn code_quality_formats_are_refused_where_there_is_no_check() {
    let root = Root::sample();
    for format in ["sarif", "gitlab"] {
        let run = root.seedc(&["explain", "syntax", "--format", format]);
        assert_eq!(run.code, 2, "{}", run.snapshot());
        assert!(run.stderr.contains("are for `seedc check` and `seedc build`"), "{}", run.stderr);
    }
}
