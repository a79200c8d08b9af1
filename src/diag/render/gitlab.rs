//! `--format gitlab`: the GitLab Code Quality report, the JSON array a merge request's
//! widget reads: per diagnostic a description, the code as `check_name`, a fingerprint
//! unique within the report, a severity, and the file with its line.

use serde_json::{Value, json};

use super::super::{Diagnostic, Severity};
use super::sarif::fingerprint;

/// The whole report; `prefix` is prepended to every file (the content root's path inside
/// the repository).
pub(crate) fn render<'a>(diagnostics: impl Iterator<Item = &'a Diagnostic>, prefix: &str) -> String {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    let entries: Vec<Value> = diagnostics
        .map(|d| {
            // Code, file and pointer name an alert; the same one twice (two messages at one
            // place) gets its occurrence appended, so fingerprints stay unique.
            let base = fingerprint(d);
            let n = seen.entry(base.clone()).or_default();
            *n += 1;
            let fingerprint = if *n == 1 { base } else { format!("{base}-{n}") };
            let severity = match d.severity {
                Severity::Error => "major",
                Severity::Warning => "minor",
            };
            let line = d.span.map_or(1, |s| s.line);
            let path = format!("{prefix}{}", d.file.as_deref().unwrap_or("seedc.toml"));
            json!({
                "description": d.message,
                "check_name": d.code.name(),
                "fingerprint": fingerprint,
                "severity": severity,
                "location": { "path": path, "lines": { "begin": line } },
            })
        })
        .collect();
    crate::report::json_safe(serde_json::to_string_pretty(&entries).expect("a report always serializes")) + "\n"
}
