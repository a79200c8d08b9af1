//! What the files a check reads looked like on disk (length and modification time), taken
//! before they are read. A save is the fallback of clients that send no file events: it
//! compares the files with their stamps, and only those that differ are checked again,
//! not the whole workspace.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::load::{PACKS_DIR, SEEDS_DIR};
use crate::project::config::CONFIG_FILE;
use crate::project::lock::LOCK_FILE;
use crate::project::tree::Tree;
use crate::validate::schemas::SCHEMAS_DIR;

/// Where the files a check reads live, besides `seedc.toml` and `seedc.lock`.
const DIRS: [&str; 3] = [SEEDS_DIR, PACKS_DIR, SCHEMAS_DIR];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

/// The stamp of every file a check of the root reads.
pub(crate) struct Stamps {
    root: PathBuf,
    files: BTreeMap<String, Stamp>,
}

/// How the files differ from their stamps.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    /// Files whose length or modification time changed.
    pub(crate) changed: Vec<String>,
    /// Whether a file came or went.
    pub(crate) listing: bool,
}

impl Stamps {
    /// Stamps every file a check of `root` reads, as it is now.
    pub(crate) fn take(root: &Path) -> Stamps {
        Stamps { root: root.to_owned(), files: scan(root) }
    }

    /// Compares the files with their stamps, and stamps them anew.
    pub(crate) fn probe(&mut self) -> Changes {
        let now = scan(&self.root);
        let listing = now.len() != self.files.len() || now.keys().zip(self.files.keys()).any(|(a, b)| a != b);
        let changed = now.iter().filter(|(rel, s)| self.files.get(*rel).is_some_and(|old| old != *s)).map(|(rel, _)| rel.clone()).collect();
        self.files = now;
        Changes { changed, listing }
    }

    /// Stamps `rel` anew, before it is read again.
    pub(crate) fn refresh(&mut self, rel: &str) {
        match stamp(&self.root, rel) {
            Some(s) => self.files.insert(rel.to_owned(), s),
            None => self.files.remove(rel),
        };
    }
}

/// Whether a check reads `rel` (a path relative to the root): `seedc.toml`, `seedc.lock`, or
/// a file under the seed, pack or schema folders. A change to any other file changes nothing.
pub(crate) fn matters(rel: &str) -> bool {
    rel == CONFIG_FILE || rel == LOCK_FILE || DIRS.iter().any(|dir| rel.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/')))
}

fn scan(root: &Path) -> BTreeMap<String, Stamp> {
    let tree = Tree::dir(root);
    // A folder that cannot be listed stamps nothing: the check that reads it says why.
    let listed = DIRS.iter().flat_map(|dir| tree.files_under(dir).unwrap_or_default());
    let files = [CONFIG_FILE.to_owned(), LOCK_FILE.to_owned()].into_iter().chain(listed);
    files.filter_map(|rel| Some((rel.clone(), stamp(root, &rel)?))).collect()
}

fn stamp(root: &Path, rel: &str) -> Option<Stamp> {
    let meta = std::fs::metadata(root.join(rel)).ok()?;
    Some(Stamp { len: meta.len(), modified: meta.modified().ok() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_names_the_changed_files_and_sees_files_come_and_go() {
        let dir = tempfile::tempdir().unwrap();
        let write = |rel: &str, text: &str| {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(CONFIG_FILE, "");
        write("data/seeds/a.json", "{}");
        write("data/seeds/b.json", "{}");
        write("README.md", "");
        let mut stamps = Stamps::take(dir.path());
        assert_eq!(stamps.probe(), Changes::default());
        write("data/seeds/a.json", "{ }");
        write("README.md", "changed");
        assert_eq!(stamps.probe(), Changes { changed: vec!["data/seeds/a.json".to_owned()], listing: false });
        assert_eq!(stamps.probe(), Changes::default(), "stamped anew");
        write("data/packs/p.json", "{}");
        assert!(stamps.probe().listing);
        std::fs::remove_file(dir.path().join("data/seeds/b.json")).unwrap();
        assert!(stamps.probe().listing);
        assert!(matters("data/seeds/a.json") && matters("schemas/x.json") && matters(LOCK_FILE));
        assert!(!matters("README.md") && !matters("out/x.json") && !matters("data/seedsx/a.json"));
    }
}
