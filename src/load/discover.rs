//! Discovery: which files of a content root are seed files and which are packs. What
//! cannot be listed (an unreadable directory, a name that is not UTF-8) is a diagnostic
//! that names it, never a silently shorter list; so is a name that would not survive a
//! checkout on another platform (`project::names`), which is then not read.

use super::{PACKS_DIR, SEEDS_DIR};
use crate::diag::{Code, Diagnostic};
use crate::project::names;
use crate::project::tree::Tree;

/// The input files of a content root, as sorted relative paths.
#[derive(Debug, Default)]
pub(crate) struct Discovered {
    pub seeds: Vec<String>,
    pub packs: Vec<String>,
    /// Entries that could not be listed or named.
    pub problems: Vec<Diagnostic>,
}

/// Lists the seed files and packs of a tree. It cannot fail: what cannot be listed is
/// among the `problems`.
pub(crate) fn discover_tree(tree: &Tree) -> Discovered {
    let mut found = Discovered::default();
    found.seeds = list_json(tree, SEEDS_DIR, false, &mut found.problems);
    found.packs = list_json(tree, PACKS_DIR, true, &mut found.problems);
    found
}

fn list_json(tree: &Tree, dir: &str, nested_pack: bool, problems: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut out = Vec::new();
    let entries = match tree.read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return out,
        Err(e) => {
            problems.push(Diagnostic::error(Code::Io, format!("cannot read directory: {e}")).in_file(dir));
            return out;
        }
    };
    // Names another spelling is kept for, on a case-insensitive file system.
    let collisions = names::case_collisions(entries.iter().filter(|e| e.utf8).map(|e| e.name.as_str()));
    for (name, kept) in &collisions {
        problems.push(
            Diagnostic::error(
                Code::UnportableName,
                format!("`{name}` and `{kept}` differ only in case: on Windows and macOS they are one file"),
            )
            .in_file(format!("{dir}/{name}")),
        );
    }
    let collided: Vec<String> = collisions.iter().map(|(name, _)| (*name).to_owned()).collect();
    for entry in entries {
        let name = entry.name;
        let rel = format!("{dir}/{name}");
        if collided.contains(&name) {
            continue;
        }
        if entry.utf8 && names::is_reserved(&name) && (entry.is_dir || name.ends_with(".json")) {
            problems.push(
                Diagnostic::error(
                    Code::UnportableName,
                    format!(
                        "`{name}` is a device name on Windows (CON, PRN, AUX, NUL, COM0-9, LPT0-9, with any extension), never a file there"
                    ),
                )
                .in_file(rel),
            );
            continue;
        }
        if !entry.utf8 {
            if entry.is_dir || name.ends_with(".json") {
                problems.push(
                    Diagnostic::error(Code::Io, "the file name is not valid UTF-8 (shown with `\\xNN` for each invalid byte)")
                        .in_file(rel)
                        .help("rename it: seedc names every file in messages, manifests and the lock as UTF-8"),
                );
            }
            continue;
        }
        if entry.is_dir && name.ends_with(".json") {
            // Named like an input but a directory (or a link to one, a loop included):
            // skipping it would check one file fewer without a word.
            problems.push(Diagnostic::error(Code::Io, "cannot read file: it is a directory, not a file").in_file(rel));
            continue;
        }
        if entry.is_dir {
            if !nested_pack {
                continue;
            }
            let pack = format!("{rel}/pack.json");
            match tree.exists(&pack) {
                Ok(true) => out.push(pack),
                Ok(false) => {}
                Err(e) => problems.push(Diagnostic::error(Code::Io, format!("cannot read directory: {e}")).in_file(rel)),
            }
        } else if name.ends_with(".json") {
            out.push(rel);
        }
    }
    out.sort();
    out
}
