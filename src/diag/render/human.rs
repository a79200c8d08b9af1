//! `--format human`: rustc-style diagnostics rendered by annotate-snippets, showing only the
//! line the diagnostic points at (a seed file may be 80 MB; the renderer never sees it whole).

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::super::{Diagnostic, Severity, Summary};
use crate::diag::Sources;
use crate::report::{printable, shorten};

/// A source line longer than this is not quoted: the position and label are shown instead
/// (a minified file, or a 100 MB string on one line). annotate-snippets cuts long lines to
/// the width it shows, but it still reads each whole, once per diagnostic.
const MAX_SNIPPET_LINE: usize = 4096;

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
        // Everything from the content is made printable: a file must not drive the terminal.
        let message = printable(&d.message);
        let title = level.primary_title(message.as_ref()).id(d.code.name());
        let pointer = d.pointer().filter(|p| !p.is_empty()).map(|p| shorten(p, 200));
        let label = match (pointer, &d.record) {
            (Some(p), Some(r)) => format!("at {p} ({r})"),
            (Some(p), None) => format!("at {p}"),
            (None, Some(r)) => r.clone(),
            (None, None) => String::new(),
        };
        let label = printable(&label).into_owned();
        let file = d.file.as_deref().map(|f| printable(f).into_owned());
        let source = d.file.as_deref().and_then(|f| sources.get(f));
        let line_of = |span: crate::diag::Span, source: &crate::diag::SourceFile| source.lines().line_range(&source.text, span.line);
        let quotable = match (d.span, source) {
            (Some(span), Some(source)) => line_of(span, source).len() <= MAX_SNIPPET_LINE,
            _ => false,
        };
        let mut group = match (&file, d.span, source) {
            (Some(file), Some(span), Some(source)) if quotable => {
                let range = line_of(span, source);
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
                // The line made printable, the span moved to match.
                let (before, inside, after) =
                    (printable(&line_text[..start]), printable(&line_text[start..end]), printable(&line_text[end..]));
                let (start, end) = (before.len(), before.len() + inside.len());
                let line_text = format!("{before}{inside}{after}");
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
            group = group.element(Level::NOTE.with_name("schema").message(printable(schema).into_owned()));
        }
        if let Some(help) = &d.help {
            group = group.element(Level::HELP.message(printable(help).into_owned()));
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
