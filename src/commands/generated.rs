//! What `seedc completions` and `seedc man` print, as a report: the text made from the clap
//! definitions (a completion script, a roff page) as it is for people, inside a JSON object
//! under `--format json`, or the files written (a status line each).

use crate::report::{Render, Style, shown};

#[derive(Debug, serde::Serialize)]
pub(super) struct Generated {
    #[serde(skip)]
    pub command: &'static str,
    /// The script or page, when printed rather than written.
    pub text: Option<String>,
    /// The files written.
    pub wrote: Vec<String>,
}

impl Render for Generated {
    fn json(&self) -> String {
        serde_json::json!({ self.command: self }).to_string() + "\n"
    }

    fn github(&self, style: &Style) -> String {
        self.human(style)
    }

    fn human(&self, _style: &Style) -> String {
        self.text.clone().unwrap_or_default()
    }

    fn status(&self) -> Option<String> {
        let wrote: Vec<String> = self.wrote.iter().map(|p| format!("wrote {}", shown(p))).collect();
        (!wrote.is_empty()).then(|| wrote.join("\n"))
    }
}
