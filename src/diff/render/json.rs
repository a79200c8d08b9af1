//! `seedc diff --format json`: the whole diff as one JSON object on one line,
//! `{"diff": {...}}`. The field names are documented in docs/diff.md and stable: add
//! fields, never rename one.

use serde::Serialize;

use super::super::Diff;

pub(crate) fn render(diff: &Diff) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        diff: &'a Diff,
    }
    crate::report::json_safe(serde_json::to_string(&Line { diff }).expect("a diff always serializes"))
}
