//! `seedc diff --format github`: a workflow notice per changed seed file and pack (GitHub
//! shows it on the file in the pull request), then one for the summary.

use super::super::{Change, Diff};
use super::summary_line;
use crate::diag::render::github::notice;

pub(crate) fn render(diff: &Diff, prefix: &str) -> String {
    let mut out = String::new();
    for c in &diff.collections {
        let file = (c.status != Change::Removed).then(|| format!("{prefix}{}", c.file));
        let counts = c.counts();
        let counts = if counts.is_empty() { "records unchanged".to_owned() } else { format!("records {}", counts.join(", ")) };
        let message = format!("{} {}: {counts}", c.collection, c.version.text(str::to_owned));
        out.push_str(&notice("balance changed", file.as_deref(), &message));
        out.push('\n');
    }
    for p in &diff.packs {
        let file = (p.status != Change::Removed).then(|| format!("{prefix}{}", p.file));
        let status = match p.status {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        };
        let message = format!("pack {} {}: {status}", p.pack_id, p.version.text(str::to_owned));
        out.push_str(&notice("pack changed", file.as_deref(), &message));
        out.push('\n');
    }
    out.push_str(&notice("seedc diff", None, &summary_line(&diff.summary)));
    out.push('\n');
    out
}
