//! `seedc explain`: what a diagnostic code means and how to fix it, as a report: the text
//! for people, one JSON object per code under `--format json`.

use super::super::Code;
use crate::report::{Render, Style};

/// One code explained, or the list of every code with its one-line summary.
pub(crate) enum Explanation {
    One(Code),
    All,
}

impl Render for Explanation {
    fn json(&self) -> String {
        let line = |code: Code, full: bool| {
            let mut value = serde_json::json!({ "code": code.name(), "summary": code.summary() });
            if full {
                value["explanation"] = code.explanation().into();
                value["help"] = code.default_help().into();
            }
            value.to_string() + "\n"
        };
        match self {
            Explanation::One(code) => line(*code, true),
            Explanation::All => Code::ALL.iter().map(|c| line(*c, false)).collect(),
        }
    }

    fn github(&self, style: &Style) -> String {
        self.human(style)
    }

    fn human(&self, _style: &Style) -> String {
        match self {
            Explanation::One(code) => explain(*code),
            Explanation::All => {
                let width = Code::ALL.iter().map(|c| c.name().len()).max().unwrap_or(0);
                Code::ALL.iter().map(|c| format!("{:width$}  {}\n", c.name(), c.summary())).collect()
            }
        }
    }
}

/// The code, its summary, its explanation wrapped at 88 columns and its usual help.
fn explain(code: Code) -> String {
    let mut text = format!("{}: {}\n\n{}\n", code.name(), code.summary(), wrap(code.explanation(), 88));
    if let Some(help) = code.default_help() {
        text.push_str(&format!("\nhelp: {help}\n"));
    }
    text
}

fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.len() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}
