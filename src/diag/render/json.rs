//! `--format json`: one JSON object per diagnostic per line, then a summary line. The field
//! names are a public interface (CI scripts parse them): add fields, never rename one.

use serde::Serialize;

use super::super::{Diagnostic, Severity, Summary};

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: Severity,
    code: &'static str,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    pointer: Option<&'a str>,
    schema: Option<&'a str>,
    help: Option<&'a str>,
}

/// One line (without the newline) for a diagnostic.
pub fn render(d: &Diagnostic) -> String {
    let line = JsonDiagnostic {
        severity: d.severity,
        code: d.code.name(),
        message: &d.message,
        file: d.file.as_deref(),
        line: d.span.map(|s| s.line),
        column: d.span.map(|s| s.column),
        pointer: d.pointer(),
        schema: d.schema.as_deref(),
        help: d.help.as_deref(),
    };
    crate::report::json_safe(serde_json::to_string(&line).expect("diagnostics always serialize"))
}

pub fn render_summary(summary: &Summary) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        summary: &'a Summary,
    }
    serde_json::to_string(&Line { summary }).expect("summaries always serialize")
}
