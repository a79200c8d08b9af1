//! `--format sarif`: one SARIF 2.1.0 log for GitHub code scanning and every tool that reads
//! it: a rule per diagnostic code (its summary, and its `seedc explain` text as help), a
//! result per diagnostic with the file as a URI relative to the content root, its region,
//! the JSON pointer and record as properties, and a fingerprint of code, file and pointer,
//! so an alert keeps its identity when lines move. A small serde model of our own: the
//! published SARIF crates are generated and unmaintained.

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::super::{Code, Diagnostic, Severity, Sources};

/// The fingerprint key: versioned, so a change of what it covers reads as new alerts.
const FINGERPRINT: &str = "seedc/v1";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Value,
    original_uri_base_ids: Value,
    results: Vec<Value>,
}

/// The whole log; `prefix` is prepended to every file (the content root's path inside the
/// repository, as for `--format github`).
pub(crate) fn render<'a>(diagnostics: impl Iterator<Item = &'a Diagnostic>, sources: &Sources, prefix: &str) -> String {
    let rules: Vec<Value> = Code::ALL.iter().map(|c| rule(*c)).collect();
    let results = diagnostics.map(|d| result(d, sources, prefix)).collect();
    let log = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [Run {
            tool: json!({ "driver": {
                "name": "seedc",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }}),
            original_uri_base_ids: json!({ "SRCROOT": { "description": { "text": "the repository root" } } }),
            results,
        }],
    };
    crate::report::json_safe(serde_json::to_string(&log).expect("a SARIF log always serializes")) + "\n"
}

fn rule(code: Code) -> Value {
    let mut help = code.explanation().to_owned();
    if let Some(hint) = code.default_help() {
        help.push_str(&format!("\n\nhelp: {hint}"));
    }
    json!({
        "id": code.name(),
        "name": code.name(),
        "shortDescription": { "text": code.summary() },
        "fullDescription": { "text": code.explanation() },
        "help": { "text": help },
    })
}

fn result(d: &Diagnostic, sources: &Sources, prefix: &str) -> Value {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let rule_index = Code::ALL.iter().position(|c| *c == d.code).expect("every code is in Code::ALL");
    let mut out = json!({
        "ruleId": d.code.name(),
        "ruleIndex": rule_index,
        "level": level,
        "message": { "text": message },
        "partialFingerprints": { FINGERPRINT: fingerprint(d) },
    });
    if let Some(file) = &d.file {
        let mut physical = json!({ "artifactLocation": { "uri": format!("{prefix}{}", uri_path(file)), "uriBaseId": "SRCROOT" } });
        if let Some(span) = d.span {
            let mut region = json!({ "startLine": span.line, "startColumn": span.column });
            let token = sources.get(file).and_then(|s| s.text.get(span.offset..span.offset + span.len));
            if let Some(token) = token.filter(|t| !t.contains('\n')) {
                region["endLine"] = span.line.into();
                region["endColumn"] = (span.column + token.chars().count()).into();
            }
            physical["region"] = region;
        }
        out["locations"] = json!([{ "physicalLocation": physical }]);
    }
    let mut properties = serde_json::Map::new();
    if let Some(pointer) = d.pointer() {
        properties.insert("pointer".to_owned(), pointer.into());
    }
    if let Some(record) = &d.record {
        properties.insert("record".to_owned(), record.as_str().into());
    }
    if let Some(schema) = &d.schema {
        properties.insert("schema".to_owned(), schema.as_str().into());
    }
    if !properties.is_empty() {
        out["properties"] = properties.into();
    }
    out
}

/// The SHA-256 of code, file and pointer: what makes an alert the same alert.
pub(crate) fn fingerprint(d: &Diagnostic) -> String {
    let mut hasher = Sha256::new();
    for part in [d.code.name(), d.file.as_deref().unwrap_or_default(), d.pointer().unwrap_or_default()] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// A root-relative path as a URI reference: each segment percent-encoded where a URI needs it.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
