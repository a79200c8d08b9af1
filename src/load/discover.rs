//! Discovery: which files of a content root are seed files and which are packs.

use std::path::{Path, PathBuf};

use super::{PACKS_DIR, SEEDS_DIR};
use crate::tree::Tree;

/// Files found under a directory of the content root: (absolute path, relative path).
pub type Listing = Vec<(PathBuf, String)>;

/// Lists the seed files and packs under `root`, sorted, as (absolute, relative) paths.
pub fn discover(root: &Path) -> std::io::Result<(Listing, Listing)> {
    let (seeds, packs) = discover_tree(&Tree::dir(root))?;
    let abs = |rels: Vec<String>| rels.into_iter().map(|rel| (root.join(&rel), rel)).collect();
    Ok((abs(seeds), abs(packs)))
}

/// Lists the seed files and packs of a tree, sorted, as relative paths.
pub fn discover_tree(tree: &Tree) -> std::io::Result<(Vec<String>, Vec<String>)> {
    let seeds = list_json(tree, SEEDS_DIR, false)?;
    let packs = list_json(tree, PACKS_DIR, true)?;
    Ok((seeds, packs))
}

fn list_json(tree: &Tree, dir: &str, nested_pack: bool) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let entries = match tree.read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let name = entry.name;
        if entry.is_dir {
            let pack = format!("{dir}/{name}/pack.json");
            if nested_pack && tree.is_file(&pack) {
                out.push(pack);
            }
        } else if name.ends_with(".json") {
            out.push(format!("{dir}/{name}"));
        }
    }
    out.sort();
    Ok(out)
}
