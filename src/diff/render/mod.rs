//! A diff as a report: one file per format (`human`, `json`, `github`, `markdown`), and the
//! [`Render`] that picks one.

pub(crate) mod github;
pub(crate) mod human;
pub(crate) mod json;
pub(crate) mod markdown;

use super::Diff;
use crate::report::{Render, Style};

impl Render for Diff {
    fn json(&self) -> String {
        json::render(self) + "\n"
    }

    fn github(&self, style: &Style) -> String {
        github::render(self, style.github_prefix)
    }

    /// `-q` prints nothing when nothing changed.
    fn human(&self, style: &Style) -> String {
        if style.quiet && !self.summary.changed { String::new() } else { human::render(self, style.color) }
    }

    fn markdown(&self) -> Option<String> {
        Some(markdown::render(self))
    }

    fn step_summary(&self) -> Option<String> {
        Some(markdown::render(self))
    }
}
