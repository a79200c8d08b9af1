//! `seedc diff BASE [HEAD]`: check both sides (concurrently), refuse to diff a side that
//! does not check, then print the balance diff in the chosen format. Exit 0 whether or not
//! anything changed; with `--exit-code`, 1 when something did.

use std::path::Path;

use anyhow::{Context, Result};

use crate::check::{self, Checked};
use crate::cli::{DiffArgs, Format};
use crate::diag::Sink;
use crate::diff::{self, render_human, render_json, render_markdown};
use crate::exit::{Exit, ExitError};
use crate::output::Printer;
use crate::tree::Tree;

/// How the default new side is named.
pub const WORKING_TREE: &str = "working tree";

pub fn run(root: &Path, args: &DiffArgs, printer: &Printer) -> Result<Exit> {
    let base = side(root, &args.base)?;
    let head = match &args.head {
        Some(h) => side(root, h)?,
        None => Tree::dir(root),
    };
    let head_label = args.head.clone().unwrap_or_else(|| WORKING_TREE.to_owned());
    let (old, new) = rayon::join(|| check::check_tree(&base), || check::check_tree(&head));
    let old = old.with_context(|| format!("cannot check the old side ({})", args.base))?;
    let new = new.with_context(|| format!("cannot check the new side ({head_label})"))?;

    let mut invalid = Vec::new();
    for ((checked, sink), label) in [(&old, &args.base), (&new, &head_label)] {
        if sink.has_errors() {
            report_invalid(printer, label, checked, sink);
            invalid.push(format!("{label} ({} error{})", sink.errors(), if sink.errors() == 1 { "" } else { "s" }));
        }
    }
    if !invalid.is_empty() {
        return Err(ExitError::new(Exit::Invalid, format!("not diffed: {} does not check", invalid.join(" and "))));
    }

    let diff = diff::diff(&old.0, &new.0, &args.base, &head_label)?;
    let markdown = render_markdown::render(&diff);
    let text = match printer.format {
        Format::Human => render_human::render(&diff, printer.color),
        Format::Json => render_json::render(&diff) + "\n",
        Format::Markdown => markdown.clone(),
        Format::Github => github(&diff, &printer.github_prefix),
    };
    if !(printer.quiet && printer.format == Format::Human) || diff.summary.changed {
        printer.stdout(&text);
    }
    crate::summary::append(&markdown)?;
    // The process exits next: freeing both contents (millions of small allocations) would
    // take longer than the diff itself, and the OS reclaims the memory at once.
    std::mem::forget(old);
    std::mem::forget(new);
    Ok(if args.exit_code && diff.summary.changed { Exit::Invalid } else { Exit::Ok })
}

/// A notice per changed seed file and pack (shown on the file in the pull request), then
/// the summary.
fn github(diff: &diff::Diff, prefix: &str) -> String {
    use crate::diag::render_github::notice;
    let mut out = String::new();
    let counts = |c: &diff::CollectionDiff| {
        let n = [(c.added.len(), "added"), (c.removed.len(), "removed"), (c.renamed.len(), "renamed"), (c.changed.len(), "changed")];
        let parts: Vec<String> = n.iter().filter(|(n, _)| *n > 0).map(|(n, w)| format!("{n} {w}")).collect();
        if parts.is_empty() { "records unchanged".to_owned() } else { format!("records {}", parts.join(", ")) }
    };
    let version = |v: &diff::VersionChange| match (&v.old, &v.new) {
        (Some(a), Some(b)) if a != b => format!("{a} → {b}"),
        (a, b) => b.clone().or_else(|| a.clone()).unwrap_or_default(),
    };
    for c in &diff.collections {
        let file = (c.status != diff::Status::Removed).then(|| format!("{prefix}{}", c.file));
        let message = format!("{} {}: {}", c.collection, version(&c.version), counts(c));
        out.push_str(&notice("balance changed", file.as_deref(), &message));
        out.push('\n');
    }
    for p in &diff.packs {
        let file = (p.status != diff::Status::Removed).then(|| format!("{prefix}{}", p.file));
        let status = match p.status {
            diff::Status::Added => "added",
            diff::Status::Removed => "removed",
            diff::Status::Changed => "changed",
        };
        let message = format!("pack {} {}: {status}", p.pack_id, version(&p.version));
        out.push_str(&notice("pack changed", file.as_deref(), &message));
        out.push('\n');
    }
    out.push_str(&notice("seedc diff", None, &diff::summary_line(&diff.summary)));
    out.push('\n');
    out
}

/// A side named on the command line: an existing directory, else a git revision of the
/// repository holding `root`.
fn side(root: &Path, arg: &str) -> Result<Tree> {
    if Path::new(arg).is_dir() {
        return Ok(Tree::dir(arg));
    }
    Tree::git(root, arg).map_err(|e| ExitError::new(Exit::Usage, e.to_string()))
}

fn report_invalid(printer: &Printer, label: &str, checked: &Checked, sink: &Sink) {
    printer.status(&format!("{label} does not check:"));
    printer.diagnostics(sink, &checked.content.sources, checked.content.sources.len());
}
