//! A diff as a report: one file per format (`human`, `json`, `github`, `markdown`), and the
//! [`Render`] that picks one.

pub(crate) mod github;
pub(crate) mod human;
pub(crate) mod json;
pub(crate) mod markdown;

use super::{Diff, DiffSummary, FieldChange};
use crate::json::canon::ContentHash;
use crate::json::pointer::Pointer;
use crate::report::{Render, Style};
use serde_json::Value;

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

/// A JSON pointer as a path for people: `/loot/0/item` → `loot[0].item`.
pub(crate) fn dotted(pointer: &Pointer) -> String {
    let mut out = String::new();
    for part in pointer.tokens().into_iter().flatten() {
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else if !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        } else {
            out.push_str(&format!("[{part:?}]"));
        }
    }
    out
}

/// A value in one line, cut to `max` characters.
pub(crate) fn short_value(value: &Value, max: usize) -> String {
    let text = value.to_string();
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `+3 (+25%)`, `-0.5 (-10%)`, `+2`: the delta and percent of a numeric change.
pub(crate) fn delta_text(change: &FieldChange) -> Option<String> {
    let delta = change.delta.as_ref()?;
    let sign = if delta.as_f64().is_some_and(|d| d > 0.0) { "+" } else { "" };
    let mut text = format!("{sign}{delta}");
    if let Some(p) = change.percent {
        let sign = if p > 0.0 { "+" } else { "" };
        text.push_str(&format!(", {sign}{p}%"));
    }
    Some(text)
}

/// `sha256:0123456789ab`: a hash short enough to read.
pub(crate) fn short_hash(hash: &ContentHash) -> String {
    format!("sha256:{}", &hash.hex()[..12])
}

/// One line saying what changed, or that nothing did.
pub(crate) fn summary_line(s: &DiffSummary) -> String {
    if !s.changed {
        return "no changes".to_owned();
    }
    let mut parts = Vec::new();
    let mut push = |n: usize, what: &str| {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    };
    push(s.records_added, "added");
    push(s.records_removed, "removed");
    push(s.records_renamed, "renamed");
    push(s.records_changed, "changed");
    use crate::report::plural;
    let total = s.records_added + s.records_removed + s.records_renamed + s.records_changed;
    let records = if parts.is_empty() { String::new() } else { format!(" ({} record{})", parts.join(", "), plural(total)) };
    let packs = s.packs_added + s.packs_removed + s.packs_changed;
    format!(
        "{} collection{}{records}, {packs} pack{}, {} daily pack ref{} changed",
        s.collections,
        plural(s.collections),
        plural(packs),
        s.daily_pack_refs,
        plural(s.daily_pack_refs)
    )
}
