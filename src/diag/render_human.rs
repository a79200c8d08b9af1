//! `--format human`: rustc-style diagnostics rendered by annotate-snippets, showing only the
//! line the diagnostic points at (a seed file may be 80 MB; the renderer never sees it whole).

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{Diagnostic, Severity, Summary};
use crate::diag::Sources;

pub struct Human {
    renderer: Renderer,
    color: bool,
}

impl Human {
    pub fn new(color: bool) -> Self {
        let renderer = if color { Renderer::styled() } else { Renderer::plain() };
        Human { renderer, color }
    }

    pub fn render(&self, d: &Diagnostic, sources: &Sources) -> String {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let title = level.primary_title(d.message.as_str()).id(d.code.name());
        let label = match (d.pointer().filter(|p| !p.is_empty()), &d.record) {
            (Some(p), Some(r)) => format!("at {p} ({r})"),
            (Some(p), None) => format!("at {p}"),
            (None, Some(r)) => r.clone(),
            (None, None) => String::new(),
        };
        let source = d.file.as_deref().and_then(|f| sources.get(f));
        let mut group = match (&d.file, d.span, source) {
            (Some(file), Some(span), Some(source)) => {
                let range = source.lines().line_range(&source.text, span.line);
                let line_text = &source.text[range.clone()];
                // A span from a byte position (a syntax error) may start or end inside a
                // multibyte character: widen it to whole characters before slicing.
                let mut start = span.offset.saturating_sub(range.start).min(line_text.len());
                while !line_text.is_char_boundary(start) {
                    start -= 1;
                }
                let mut end = (start + span.len).min(line_text.len()).max(start);
                while !line_text.is_char_boundary(end) {
                    end += 1;
                }
                let snippet = Snippet::source(line_text)
                    .line_start(span.line)
                    .path(file.as_str())
                    .annotation(AnnotationKind::Primary.span(start..end).label(label));
                Group::with_title(title).element(snippet)
            }
            (Some(file), span, _) => {
                let origin = match span {
                    Some(s) => annotate_snippets::Origin::path(file.as_str()).line(s.line).char_column(s.column),
                    None => annotate_snippets::Origin::path(file.as_str()),
                };
                let group = Group::with_title(title).element(origin);
                if label.is_empty() { group } else { group.element(Level::NOTE.message(label)) }
            }
            (None, _, _) => Group::with_title(title),
        };
        if let Some(schema) = &d.schema {
            group = group.element(Level::NOTE.with_name("schema").message(schema.as_str()));
        }
        if let Some(help) = &d.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        self.renderer.render(&[group])
    }

    pub fn render_summary(&self, summary: &Summary) -> String {
        let text = match (summary.errors, summary.warnings) {
            (0, 0) => format!("checked {} files: no problems", summary.files),
            (e, w) => format!(
                "checked {} files: {e} error{}, {w} warning{}",
                summary.files,
                if e == 1 { "" } else { "s" },
                if w == 1 { "" } else { "s" }
            ),
        };
        if self.color && summary.errors > 0 {
            format!("\x1b[1;31m{text}\x1b[0m")
        } else if self.color {
            format!("\x1b[1;32m{text}\x1b[0m")
        } else {
            text
        }
    }
}
