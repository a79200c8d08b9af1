//! seedc's diagnostics as LSP diagnostics: the seedc code as `code`, `source: "seedc"`,
//! the help appended to the message, the range in the negotiated encoding; and the quick
//! fix a diagnostic carries, when seedc knows one (bump a version, take the did-you-mean).

use std::collections::BTreeMap;
use std::sync::Arc;

use lsp_types::{DiagnosticSeverity, NumberOrString, Range};

use crate::diag::{Code, Diagnostic, Severity};
use crate::project::config::CONFIG_FILE;

use super::encoding::{Encoding, Sweep};

/// A diagnostic as published, with the edit that fixes it, if any.
pub(crate) struct Published {
    pub(crate) diagnostic: lsp_types::Diagnostic,
    pub(crate) fix: Option<Fix>,
}

/// A quick fix: replace `range` of the diagnostic's file with `text`.
#[derive(Debug, Clone)]
pub(crate) struct Fix {
    pub(crate) title: String,
    pub(crate) range: Range,
    pub(crate) text: String,
}

/// The diagnostics of one file, whose text is `text`, in LSP terms. `locked` is the
/// collection the file holds and its version in `seedc.lock`, for the version-bump fix.
pub(crate) fn convert(text: &str, diags: &[Diagnostic], encoding: Encoding, locked: Option<(&str, &str)>) -> Vec<Published> {
    let mut sweep = Sweep::new(text, encoding);
    diags
        .iter()
        .map(|d| {
            let range = d.span.map_or_else(Range::default, |span| sweep.span(&span));
            Published { diagnostic: lsp(d, range), fix: fix(locked, d, range) }
        })
        .collect()
}

/// A check that could not run (an unreadable or invalid `seedc.toml`): one diagnostic on
/// `seedc.toml` saying why, so the editor shows it where it can be fixed.
pub(crate) fn failure(err: &anyhow::Error) -> BTreeMap<String, Arc<[Published]>> {
    let message = err.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ");
    let diagnostic = lsp_types::Diagnostic {
        severity: Some(DiagnosticSeverity::ERROR),
        code: Some(NumberOrString::String("config".to_owned())),
        source: Some("seedc".to_owned()),
        message,
        ..lsp_types::Diagnostic::default()
    };
    BTreeMap::from([(CONFIG_FILE.to_owned(), Arc::from(vec![Published { diagnostic, fix: None }]))])
}

fn lsp(d: &Diagnostic, range: Range) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    lsp_types::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.name().to_owned())),
        source: Some("seedc".to_owned()),
        message,
        ..lsp_types::Diagnostic::default()
    }
}

/// The fix of a diagnostic: a version above the locked one for `version-not-bumped`, the
/// suggested key for a `dangling-reference` that has one.
fn fix(locked: Option<(&str, &str)>, d: &Diagnostic, range: Range) -> Option<Fix> {
    match d.code {
        Code::VersionNotBumped => {
            let (name, locked) = locked?;
            let locked = semver::Version::parse(locked).ok()?;
            let next = semver::Version::new(locked.major, locked.minor, locked.patch + 1);
            Some(Fix { title: format!("Bump the version of `{name}` to {next}"), range, text: format!("\"{next}\"") })
        }
        Code::DanglingReference => {
            let suggestion = did_you_mean(d.help.as_deref()?)?;
            Some(Fix { title: format!("Replace with {suggestion:?}"), range, text: serde_json::to_string(&suggestion).ok()? })
        }
        _ => None,
    }
}

/// The key a dangling reference's help suggests (`…; did you mean "x"?`).
fn did_you_mean(help: &str) -> Option<String> {
    let (_, rest) = help.rsplit_once("did you mean ")?;
    serde_json::from_str(rest.strip_suffix('?')?).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_suggestion_is_read_back_from_the_help() {
        let help = r#"no record in data/seeds/items.json has key "iron_swrd"; did you mean "iron_sword"?"#;
        assert_eq!(super::did_you_mean(help).as_deref(), Some("iron_sword"));
        assert_eq!(super::did_you_mean("no record has key \"x\""), None);
    }
}
