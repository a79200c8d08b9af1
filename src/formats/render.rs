//! What `seedc schema` did, as a report: the files it wrote (a status line each), or with
//! `--check` the files that are out of date.

use crate::report::{Render, Style, shown};

/// The schema files written, and those found out of date by `--check`.
#[derive(Debug, Default, serde::Serialize)]
pub(crate) struct Written {
    pub wrote: Vec<String>,
    pub stale: Vec<String>,
}

impl Render for Written {
    fn json(&self) -> String {
        serde_json::json!({ "schema": self }).to_string() + "\n"
    }

    fn github(&self, style: &Style) -> String {
        self.human(style)
    }

    fn human(&self, _style: &Style) -> String {
        if self.stale.is_empty() {
            return String::new();
        }
        let stale: Vec<String> = self.stale.iter().map(|p| shown(p).to_string()).collect();
        format!("out of date (run `seedc schema`):\n{}\n", stale.join("\n"))
    }

    fn status(&self) -> Option<String> {
        let wrote: Vec<String> = self.wrote.iter().map(|p| format!("wrote {}", shown(p))).collect();
        (!wrote.is_empty()).then(|| wrote.join("\n"))
    }
}
