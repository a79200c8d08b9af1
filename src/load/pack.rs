//! One content pack: its envelope (`pack_id`, `version`, `kind`, `pack_schema_v`), checked
//! against the file's name.

use std::sync::Arc;

use serde_json::Value;

use super::file::{fatal_diagnostic, findings_to_diags, read_text};
use super::{Loaded, PACKS_DIR, Pack, json};
use crate::diag::{Code, Diagnostic, SourceFile};
use crate::project::config::Config;
use crate::project::tree::Tree;

pub(super) fn load_pack(tree: &Tree, rel: &str, config: &Config) -> (Loaded<Option<Pack>>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let Some(text) = read_text(tree, rel, config.limits.max_file_bytes, &mut diags) else {
        return (None, diags);
    };
    let source = Arc::new(SourceFile::new(rel.to_owned(), text));
    let (mut value, findings) = match json::parse(&source.text, "", config.limits.max_depth) {
        Ok(parsed) => parsed,
        Err(fatal) => {
            diags.push(fatal_diagnostic(fatal, &source.text, 0, rel));
            return (Some((None, source)), diags);
        }
    };
    let had_findings = !findings.is_empty();
    diags.extend(findings_to_diags(findings, rel, None));
    let Value::Object(map) = &mut value else {
        let what = match value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => unreachable!("matched above"),
        };
        diags.push(
            Diagnostic::error(Code::InvalidEnvelope, format!("a pack must be a JSON object, found {what}")).in_file(rel).at_value(""),
        );
        return (Some((None, source)), diags);
    };
    // The same rule as a seed file's: `$schema` is a string or absent.
    let schema_ref = match map.remove("$schema") {
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            diags.push(Diagnostic::error(Code::InvalidEnvelope, "`$schema` must be a string").in_file(rel).at_value("/$schema"));
            return (Some((None, source)), diags);
        }
        None => None,
    };
    let mut field = |name: &str| -> Option<String> {
        match map.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                diags.push(
                    Diagnostic::error(Code::InvalidEnvelope, format!("`{name}` must be a string"))
                        .in_file(rel)
                        .at_value(format!("/{name}")),
                );
                None
            }
            None => {
                diags.push(Diagnostic::error(Code::InvalidEnvelope, format!("pack has no `{name}`")).in_file(rel).at_value(""));
                None
            }
        }
    };
    let (pack_id, version, kind, schema_v) = (field("pack_id"), field("version"), field("kind"), field("pack_schema_v"));
    let (Some(pack_id), Some(version), Some(kind), Some(schema_v)) = (pack_id, version, kind, schema_v) else {
        return (Some((None, source)), diags);
    };
    let version = match semver::Version::parse(&version) {
        Ok(v) => v,
        Err(e) => {
            diags.push(
                Diagnostic::error(Code::InvalidEnvelope, format!("`version` {version:?} is not a semantic version: {e}"))
                    .in_file(rel)
                    .at_value("/version"),
            );
            return (Some((None, source)), diags);
        }
    };
    let expected = rel.trim_start_matches(PACKS_DIR).trim_start_matches('/').trim_end_matches("/pack.json").trim_end_matches(".json");
    if expected != pack_id {
        diags.push(
            Diagnostic::error(Code::PackIdMismatch, format!("pack `{pack_id}` is in a file named for `{expected}`"))
                .in_file(rel)
                .at_value("/pack_id")
                .help(format!("move it to {PACKS_DIR}/{pack_id}.json or change `pack_id`")),
        );
    }
    let _ = config;
    let pack = (!had_findings).then(|| Pack { file: rel.to_owned(), pack_id, version, kind, schema_v, schema_ref, value });
    (Some((pack, source)), diags)
}
