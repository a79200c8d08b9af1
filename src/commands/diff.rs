//! `seedc diff BASE [HEAD]`: check both sides (concurrently), refuse to diff a side that
//! does not check, then print the balance diff in the chosen format. Exit 0 whether or not
//! anything changed; with `--exit-code`, 1 when something did.

use std::path::Path;

use anyhow::{Context, Result};

use crate::check::{self, Mode};
use crate::cli::DiffArgs;
use crate::diag::render::Diagnostics;
use crate::diff;
use crate::exit::{Exit, ExitError};
use crate::project::Project;
use crate::project::tree::Tree;
use crate::report::printer::Printer;
use crate::report::{Note, plural};

/// How the default new side is named.
pub(super) const WORKING_TREE: &str = "working tree";

pub(super) fn run(root: &Path, args: &DiffArgs, printer: &Printer) -> Result<Exit> {
    let base = side(root, &args.base)?;
    let head = match &args.head {
        Some(h) => side(root, h)?,
        None => Tree::dir(root),
    };
    let head_label = args.head.clone().unwrap_or_else(|| WORKING_TREE.to_owned());
    // The old side first, keeping its canonical records: most of the new side is byte for
    // byte the old one, and a record the old side found valid is not even parsed again.
    let mut old = Project::from_tree(base)
        .and_then(|base| check::run(&base, Mode::DiffOld))
        .with_context(|| format!("cannot check the old side ({})", args.base))?;
    let known = (!old.1.has_errors()).then(|| old.0.take_known());
    let mut new = Project::from_tree(head)
        .and_then(|head| check::run(&head, Mode::DiffNew(known.as_ref())))
        .with_context(|| format!("cannot check the new side ({head_label})"))?;

    let mut invalid = Vec::new();
    for ((checked, sink), label) in [(&mut old, &args.base), (&mut new, &head_label)] {
        if sink.has_errors() {
            let errors = sink.errors();
            let diagnostics = Diagnostics::new("diff", std::mem::take(sink), std::mem::take(&mut checked.content.sources));
            printer.report(&(Note(format!("{label} does not check:")), diagnostics))?;
            invalid.push(format!("{label} ({errors} error{})", plural(errors)));
        }
    }
    if !invalid.is_empty() {
        return Err(ExitError::new(Exit::Invalid, format!("not diffed: {} does not check", invalid.join(" and "))));
    }

    let diff = diff::diff(&old.0, &new.0, &args.base, &head_label)?;
    printer.report(&diff)?;
    // The process exits next: freeing both contents (millions of small allocations) would
    // take longer than the diff itself, and the OS reclaims the memory at once.
    std::mem::forget(old);
    std::mem::forget(new);
    Ok(if args.exit_code && diff.summary.changed { Exit::Invalid } else { Exit::Ok })
}

/// A side named on the command line: an existing directory, else a git revision of the
/// repository holding `root`.
fn side(root: &Path, arg: &str) -> Result<Tree> {
    if Path::new(arg).is_dir() {
        return Ok(Tree::dir(arg));
    }
    Tree::git(root, arg).map_err(|e| ExitError::new(Exit::Usage, e.to_string()))
}
