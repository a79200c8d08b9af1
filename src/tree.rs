//! Where a content root's files come from: a directory, or a git revision read straight
//! from the object store (`git ls-tree` once, then one `git cat-file --batch` process for
//! every blob), so `seedc diff main` needs no checkout and no temporary clone. Paths are
//! relative to the content root and `/`-separated, whichever the source.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

/// A content root: the files of a directory or of a git revision.
#[derive(Debug)]
pub enum Tree {
    Dir(PathBuf),
    Git(GitTree),
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub is_dir: bool,
}

impl Tree {
    pub fn dir(root: impl Into<PathBuf>) -> Tree {
        Tree::Dir(root.into())
    }

    /// The content root at `rev` of the repository holding `dir`; `dir` may be a
    /// subdirectory of the repository (its path inside it is the prefix of every file).
    pub fn git(dir: &Path, rev: &str) -> Result<Tree> {
        Ok(Tree::Git(GitTree::open(dir, rev)?))
    }

    /// How the tree is named in messages: the directory, or `rev` of the repository.
    pub fn label(&self) -> String {
        match self {
            Tree::Dir(root) => root.display().to_string(),
            Tree::Git(git) => git.rev.clone(),
        }
    }

    /// The directory on disk, for a directory tree.
    pub fn root(&self) -> Option<&Path> {
        match self {
            Tree::Dir(root) => Some(root),
            Tree::Git(_) => None,
        }
    }

    /// The entries of directory `dir`, unsorted; `NotFound` when there is no such directory.
    pub fn read_dir(&self, dir: &str) -> io::Result<Vec<Entry>> {
        match self {
            Tree::Dir(root) => {
                let mut out = Vec::new();
                for entry in std::fs::read_dir(root.join(dir))? {
                    let entry = entry?;
                    // Follows symlinks, as a checkout would be read.
                    out.push(Entry { name: entry.file_name().to_string_lossy().into_owned(), is_dir: entry.path().is_dir() });
                }
                Ok(out)
            }
            Tree::Git(git) => git.read_dir(dir),
        }
    }

    /// Every file below `dir`, recursively, as relative paths, sorted.
    pub fn files_under(&self, dir: &str) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        let mut pending = vec![dir.to_owned()];
        while let Some(d) = pending.pop() {
            let entries = match self.read_dir(&d) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound && d == dir => return Ok(out),
                Err(e) => return Err(e),
            };
            for e in entries {
                let rel = format!("{d}/{}", e.name);
                if e.is_dir { pending.push(rel) } else { out.push(rel) }
            }
        }
        out.sort();
        Ok(out)
    }

    pub fn is_file(&self, rel: &str) -> bool {
        match self {
            Tree::Dir(root) => root.join(rel).is_file(),
            Tree::Git(git) => normalize(rel).is_some_and(|r| git.files.contains_key(&r)),
        }
    }

    /// The size of a file in bytes, without reading it.
    pub fn len(&self, rel: &str) -> io::Result<u64> {
        match self {
            Tree::Dir(root) => Ok(std::fs::metadata(root.join(rel))?.len()),
            Tree::Git(git) => Ok(git.blob(rel)?.size),
        }
    }

    pub fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        match self {
            Tree::Dir(root) => std::fs::read(root.join(rel)),
            Tree::Git(git) => git.read(rel),
        }
    }

    /// A file's text; `Ok(None)` when it does not exist.
    pub fn read_optional(&self, rel: &str) -> Result<Option<String>> {
        match self.read(rel) {
            Ok(bytes) => Ok(Some(String::from_utf8(bytes).with_context(|| format!("{rel} is not UTF-8"))?)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {rel} in {}", self.label())),
        }
    }
}

/// Resolves `.` and `..` in a relative path; `None` if it leaves the root.
pub fn normalize(rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[derive(Debug, Clone)]
struct Blob {
    oid: String,
    size: u64,
}

/// The files of one git revision, read on demand through a `git cat-file --batch` process.
#[derive(Debug)]
pub struct GitTree {
    pub rev: String,
    files: BTreeMap<String, Blob>,
    batch: Mutex<Option<Batch>>,
    repo_dir: PathBuf,
}

#[derive(Debug)]
struct Batch {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Batch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir);
    cmd
}

impl GitTree {
    fn open(dir: &Path, rev: &str) -> Result<GitTree> {
        let commit = git(dir)
            .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
            .arg(format!("{rev}^{{tree}}"))
            .stderr(Stdio::null())
            .output()
            .context("cannot run git (is it installed?)")?;
        if !commit.status.success() {
            bail!("{rev:?} is neither a directory nor a git revision of the repository at {}", dir.display());
        }
        let tree_id = String::from_utf8_lossy(&commit.stdout).trim().to_owned();
        // Run inside `dir`: ls-tree then lists only that subdirectory, with paths relative
        // to it, which is exactly the content root's prefix stripped.
        let listing = git(dir).args(["ls-tree", "-r", "-z", "--long", &tree_id]).output().context("cannot run git ls-tree")?;
        if !listing.status.success() {
            bail!("git ls-tree {rev} failed: {}", String::from_utf8_lossy(&listing.stderr).trim());
        }
        let mut files = BTreeMap::new();
        for entry in listing.stdout.split(|b| *b == 0).filter(|e| !e.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, path)) = entry.split_once('\t') else { continue };
            let mut meta = meta.split_whitespace();
            let (Some(mode), Some(kind), Some(oid), Some(size)) = (meta.next(), meta.next(), meta.next(), meta.next()) else { continue };
            // Symlinks and submodules have no content of their own to read.
            if kind != "blob" || mode == "120000" {
                continue;
            }
            let Ok(size) = size.parse() else { continue };
            files.insert(path.to_owned(), Blob { oid: oid.to_owned(), size });
        }
        Ok(GitTree { rev: rev.to_owned(), files, batch: Mutex::new(None), repo_dir: dir.to_owned() })
    }

    fn blob(&self, rel: &str) -> io::Result<&Blob> {
        normalize(rel)
            .and_then(|r| self.files.get(&r))
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{rel} is not in {}", self.rev)))
    }

    fn read_dir(&self, dir: &str) -> io::Result<Vec<Entry>> {
        let prefix = match normalize(dir) {
            Some(d) if d.is_empty() => String::new(),
            Some(d) => format!("{d}/"),
            None => return Err(io::ErrorKind::NotFound.into()),
        };
        let mut out: Vec<Entry> = Vec::new();
        for path in self.files.range(prefix.clone()..).map(|(p, _)| p).take_while(|p| p.starts_with(&prefix)) {
            let rest = &path[prefix.len()..];
            let (name, is_dir) = match rest.split_once('/') {
                Some((name, _)) => (name, true),
                None => (rest, false),
            };
            if out.last().is_none_or(|e| e.name != name) {
                out.push(Entry { name: name.to_owned(), is_dir });
            }
        }
        if out.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("{dir} is not in {}", self.rev)));
        }
        Ok(out)
    }

    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        let blob = self.blob(rel)?;
        let mut guard = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            let mut child = git(&self.repo_dir)
                .args(["cat-file", "--batch"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()?;
            let stdin = child.stdin.take().ok_or_else(|| io::Error::other("no stdin"))?;
            let stdout = BufReader::new(child.stdout.take().ok_or_else(|| io::Error::other("no stdout"))?);
            *guard = Some(Batch { child, stdin, stdout });
        }
        let batch = guard.as_mut().expect("started above");
        let result = (|| {
            writeln!(batch.stdin, "{}", blob.oid)?;
            batch.stdin.flush()?;
            let mut header = String::new();
            batch.stdout.read_line(&mut header)?;
            // `<oid> blob <size>`, or `<oid> missing`.
            let size: usize = header
                .split_whitespace()
                .nth(2)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| io::Error::other(format!("git cat-file: unexpected reply {:?} for {rel}", header.trim())))?;
            let mut bytes = vec![0; size + 1];
            batch.stdout.read_exact(&mut bytes)?;
            bytes.pop();
            Ok(bytes)
        })();
        if result.is_err() {
            // The stream may be out of step now: start afresh next time.
            *guard = None;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalize_resolves_dots_and_refuses_escapes() {
        assert_eq!(normalize("data/seeds/../../schemas/a.json").as_deref(), Some("schemas/a.json"));
        assert_eq!(normalize("./a//b").as_deref(), Some("a/b"));
        assert_eq!(normalize("data/../../x"), None);
    }
}
