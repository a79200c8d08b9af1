//! The one diagnostic currency: every problem found in the user's content becomes a
//! [`Diagnostic`] with a stable [`Code`], collected into a [`Sink`], rendered by one of the
//! renderers in `diag/render_*.rs`. Nothing else in the crate prints.

pub(crate) mod codes;
pub(crate) mod locate;
pub mod render;
mod source;

pub use codes::Code;
pub use source::{SourceFile, Sources, Text, TextDigest};

use serde::Serialize;

use crate::json::pointer::Pointer;

/// The longest message or help, in characters; longer ones end in an ellipsis.
pub const MAX_MESSAGE_CHARS: usize = 500;
/// The longest record label (it holds the record's key, which may be anything).
pub const MAX_LABEL_CHARS: usize = 120;

/// How bad a finding is. Errors make the command exit 1; warnings never change the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Where in a file a diagnostic points. Lines and columns are 1-based; the column counts
/// characters (not bytes), as editors do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub line: usize,
    pub column: usize,
    /// Byte offset of the start, used by the human renderer to underline.
    pub offset: usize,
    /// Byte length of the underlined token (at least 1 when the file is not empty).
    pub len: usize,
}

/// What the diagnostic points at inside a JSON document, before it is resolved to a span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// The whole file (or a position unknown).
    File,
    /// The value at this JSON pointer.
    Value(Pointer),
    /// The key of the member at this JSON pointer (for unknown properties).
    Key(Pointer),
    /// The `occurrence`-th key (1-based) of the member name at this JSON pointer, for a
    /// duplicate key: each repeat is placed where it stands. Every such target of one
    /// object is placed in one pass over it.
    KeyAt { pointer: Pointer, occurrence: usize },
    /// An already known position (invalid UTF-8, where no text is kept).
    At(Span),
    /// A byte offset into the file's text (syntax errors).
    Offset(usize),
}

/// One problem in the user's content.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    /// Lowercase, rustc-style, no final period.
    pub message: String,
    /// Relative to the content root, `/`-separated.
    pub file: Option<String>,
    pub target: Anchor,
    /// Resolved from `target` against the file's text just before rendering.
    pub span: Option<Span>,
    /// A short human label for the record involved, e.g. `enemies "goblin_scout"`.
    pub record: Option<String>,
    /// The schema keyword that failed, e.g. `schemas/seeds/enemies.schema.json#/properties/hp/minimum`.
    pub schema: Option<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    fn new(severity: Severity, code: Code, message: impl Into<String>) -> Self {
        let message: String = message.into();
        Diagnostic {
            severity,
            code,
            // A message may quote a value of any size (a schema violation quotes the
            // instance): bounded here, once, for every renderer.
            message: match crate::report::shorten(&message, MAX_MESSAGE_CHARS) {
                std::borrow::Cow::Borrowed(_) => message,
                std::borrow::Cow::Owned(short) => short,
            },
            file: None,
            target: Anchor::File,
            span: None,
            record: None,
            schema: None,
            help: code.default_help().map(str::to_owned),
        }
    }

    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn at(mut self, target: Anchor) -> Self {
        self.target = target;
        self
    }

    pub fn at_value(self, pointer: impl Into<Pointer>) -> Self {
        self.at(Anchor::Value(pointer.into()))
    }

    pub fn at_key(self, pointer: impl Into<Pointer>) -> Self {
        self.at(Anchor::Key(pointer.into()))
    }

    pub fn record(mut self, label: impl Into<String>) -> Self {
        let label: String = label.into();
        self.record = Some(crate::report::shorten(&label, MAX_LABEL_CHARS).into_owned());
        self
    }

    pub fn schema(mut self, location: impl Into<String>) -> Self {
        self.schema = Some(location.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        let help: String = help.into();
        self.help = Some(crate::report::shorten(&help, MAX_MESSAGE_CHARS).into_owned());
        self
    }

    /// The JSON pointer of the value this diagnostic is about, if any.
    pub fn pointer(&self) -> Option<&str> {
        match &self.target {
            Anchor::Value(p) | Anchor::Key(p) | Anchor::KeyAt { pointer: p, .. } => Some(p.as_str()),
            Anchor::File | Anchor::At(_) | Anchor::Offset(_) => None,
        }
    }
}

/// Collects diagnostics from every stage; never stops at the first.
#[derive(Debug, Default)]
pub struct Sink {
    diagnostics: Vec<Diagnostic>,
}

impl Sink {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.diagnostics.extend(diagnostics);
    }

    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == severity).count()
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter()
    }

    /// Sorts into a stable, reader-friendly order: by file, then position, then code.
    /// Stages run in parallel, so without this the output order would not be deterministic.
    pub fn sort(&mut self) {
        self.diagnostics.sort_by(|a, b| {
            (&a.file, a.span.map(|s| s.offset), a.code.name(), &a.message).cmp(&(
                &b.file,
                b.span.map(|s| s.offset),
                b.code.name(),
                &b.message,
            ))
        });
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.diagnostics
    }
}

/// Totals printed after the diagnostics.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub files: usize,
}
