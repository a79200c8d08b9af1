//! A sink's diagnostics and their summary, in each format: the report every command that
//! checks something prints (the per-diagnostic renderers are the `render_*` files).

use super::{Severity, Sink, Sources, Summary, render_github, render_human::Human, render_json};
use crate::render::{Render, Style};

/// Every diagnostic in `sink`, located in `sources`, then a summary over `files` files.
pub struct Diagnostics<'a> {
    pub sink: &'a Sink,
    pub sources: &'a Sources,
    pub files: usize,
}

impl Diagnostics<'_> {
    fn summary(&self) -> Summary {
        Summary { errors: self.sink.errors(), warnings: self.sink.warnings(), files: self.files }
    }
}

impl Render for Diagnostics<'_> {
    fn json(&self) -> String {
        let mut out = String::new();
        for d in self.sink.iter() {
            out.push_str(&render_json::render(d));
            out.push('\n');
        }
        out.push_str(&render_json::render_summary(&self.summary()));
        out.push('\n');
        out
    }

    /// Every annotation, even under `-q` (they are the point of the format); the summary
    /// notice only without it.
    fn github(&self, style: &Style) -> String {
        let mut out = String::new();
        for d in self.sink.iter() {
            out.push_str(&render_github::render_in(d, style.github_prefix));
            out.push('\n');
        }
        if !style.quiet {
            out.push_str(&render_github::render_summary(&self.summary()));
            out.push('\n');
        }
        out
    }

    /// `-q` leaves out the warnings and the summary.
    fn human(&self, style: &Style) -> String {
        let human = Human::new(style.color);
        let mut out = String::new();
        for d in self.sink.iter() {
            if style.quiet && d.severity == Severity::Warning {
                continue;
            }
            out.push_str(&human.render(d, self.sources));
            out.push_str("\n\n");
        }
        if !style.quiet {
            out.push_str(&human.render_summary(&self.summary()));
            out.push('\n');
        }
        out
    }
}
