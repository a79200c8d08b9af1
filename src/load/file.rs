//! Reading one input file: the size limit, UTF-8, and the strict parser's findings and
//! fatal errors as located diagnostics.

use super::json;
use crate::diag::locate;
use crate::diag::{Anchor, Code, Diagnostic, Span, Text};
use crate::project::config::Config;
use crate::project::tree::{ReadError, Tree};

/// Reads a file within the size limit and checks it is UTF-8. Anything that is not a
/// regular file inside the content root is a located error, never read.
/// An editor's buffer is not copied: the text shares it.
pub(super) fn read_text(tree: &Tree, rel: &str, limit: u64, diags: &mut Vec<Diagnostic>) -> Option<Text> {
    if let Some(buffer) = tree.buffer(rel)
        && crate::project::names::reserved_component(rel).is_none()
        && buffer.len() as u64 <= limit
    {
        return Some(Text::Shared(std::sync::Arc::clone(buffer)));
    }
    let bytes = match tree.read_limited(rel, limit) {
        Ok(b) => b,
        Err(ReadError::TooLarge { limit, size }) => {
            let message = match size {
                Some(size) => format!("file is {size} bytes, over the limit of {limit} bytes"),
                None => format!("file is over the limit of {limit} bytes"),
            };
            diags.push(Diagnostic::error(Code::FileTooLarge, message).in_file(rel));
            return None;
        }
        Err(e) => {
            diags.push(Diagnostic::error(Code::Io, format!("cannot read file: {e}")).in_file(rel));
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Some(Text::Owned(text)),
        Err(e) => {
            let bytes = e.as_bytes();
            let offset = e.utf8_error().valid_up_to();
            // Everything before the bad byte is valid UTF-8, so line and column are exact.
            let prefix = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
            let line = prefix.matches('\n').count() + 1;
            let column = prefix.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            diags.push(
                Diagnostic::error(Code::InvalidUtf8, format!("invalid UTF-8 byte 0x{:02x}", bytes[offset]))
                    .in_file(rel)
                    .at(Anchor::At(Span { line, column, offset, len: 1 })),
            );
            None
        }
    }
}

pub(super) fn fatal_diagnostic(fatal: json::Fatal, source: &str, base: usize, rel: &str) -> Diagnostic {
    let offset_in = |line: usize, column_bytes: usize| base + locate::LineIndex::new(source).offset(line, column_bytes);
    let (d, offset) = match fatal {
        json::Fatal::Syntax { message, line, column_bytes } => (Diagnostic::error(Code::Syntax, message), offset_in(line, column_bytes)),
        json::Fatal::NumberOutOfRange { line, column_bytes } => (
            Diagnostic::error(Code::NumberOutOfRange, "number is too large for a double (it would be read as infinity)"),
            offset_in(line, column_bytes),
        ),
        json::Fatal::TooDeep { limit, line, column_bytes } => {
            (Diagnostic::error(Code::NestingTooDeep, format!("nesting deeper than the limit of {limit}")), offset_in(line, column_bytes))
        }
    };
    d.in_file(rel).at(Anchor::Offset(offset))
}

/// A part of a file is parsed with the depth left below it; the message names the limit the
/// user configured, not that remainder.
pub(super) fn whole_file_limit(fatal: json::Fatal, config: &Config) -> json::Fatal {
    match fatal {
        json::Fatal::TooDeep { line, column_bytes, .. } => json::Fatal::TooDeep { limit: config.limits.max_depth, line, column_bytes },
        syntax => syntax,
    }
}

pub(super) fn findings_to_diags(findings: Vec<json::Finding>, rel: &str, record: Option<&str>) -> impl Iterator<Item = Diagnostic> {
    findings.into_iter().map(move |f| {
        let d = match f {
            json::Finding::DuplicateKey { pointer, key, occurrence } => {
                Diagnostic::error(Code::DuplicateKey, format!("duplicate key `{key}`"))
                    .at(Anchor::KeyAt { pointer: pointer.key(&key), occurrence })
            }
            json::Finding::NulCharacter { pointer, key: true } => {
                Diagnostic::error(Code::NulCharacter, "member name contains U+0000, which PostgreSQL cannot store").at_key(pointer)
            }
            json::Finding::NulCharacter { pointer, key: false } => {
                Diagnostic::error(Code::NulCharacter, "string contains U+0000, which PostgreSQL cannot store").at_value(pointer)
            }
            json::Finding::UnsafeInteger { pointer, literal } => {
                Diagnostic::error(Code::UnsafeInteger, format!("integer {literal} is beyond ±(2^53 - 1)")).at_value(pointer)
            }
        };
        let d = d.in_file(rel);
        match record {
            Some(r) => d.record(r.to_owned()),
            None => d,
        }
    })
}
