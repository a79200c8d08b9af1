//! A content root at a git revision, read straight from the object store: `git ls-tree`
//! once, then one `git cat-file --batch` process for every blob, so `seedc diff main` needs
//! no checkout and no temporary clone.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

use super::path::{Entry, ReadError, bytes_text, normalize};

/// A path of `git ls-tree -z` as text: exact when it is UTF-8, else each component as
/// [`bytes_text`] writes it, the components that are not UTF-8 noted in `not_utf8`.
fn git_path(path: &[u8], not_utf8: &mut HashSet<String>) -> String {
    if let Ok(path) = std::str::from_utf8(path) {
        return path.to_owned();
    }
    let mut text = String::new();
    for part in path.split(|b| *b == b'/') {
        if !text.is_empty() {
            text.push('/');
        }
        let utf8 = std::str::from_utf8(part).is_ok();
        text.push_str(&bytes_text(part));
        if !utf8 {
            not_utf8.insert(text.clone());
        }
    }
    text
}

#[derive(Debug, Clone)]
struct Blob {
    oid: String,
    size: u64,
}

/// The files of one git revision, read on demand through a `git cat-file --batch` process.
#[derive(Debug)]
pub(crate) struct GitTree {
    pub(super) rev: String,
    files: BTreeMap<String, Blob>,
    /// The paths (of files and of directories) whose last component is not UTF-8, as
    /// [`bytes_text`] writes them: listed as such, as a directory's are, never read.
    not_utf8: HashSet<String>,
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
    pub(super) fn open(dir: &Path, rev: &str) -> Result<GitTree> {
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
        let mut not_utf8 = HashSet::new();
        for entry in listing.stdout.split(|b| *b == 0).filter(|e| !e.is_empty()) {
            let Some(tab) = entry.iter().position(|b| *b == b'\t') else { continue };
            let meta = String::from_utf8_lossy(&entry[..tab]);
            let path = git_path(&entry[tab + 1..], &mut not_utf8);
            let mut meta = meta.split_whitespace();
            let (Some(mode), Some(kind), Some(oid), Some(size)) = (meta.next(), meta.next(), meta.next(), meta.next()) else { continue };
            // Symlinks and submodules have no content of their own to read.
            if kind != "blob" || mode == "120000" {
                continue;
            }
            let Ok(size) = size.parse() else { continue };
            files.insert(path, Blob { oid: oid.to_owned(), size });
        }
        Ok(GitTree { rev: rev.to_owned(), files, not_utf8, batch: Mutex::new(None), repo_dir: dir.to_owned() })
    }

    fn blob(&self, rel: &str) -> io::Result<&Blob> {
        let path = normalize(rel).unwrap_or_default();
        // A name written with `\xNN` escapes stands for other bytes: it is not that file.
        let mut prefix = path.as_str();
        while !prefix.is_empty() {
            if self.not_utf8.contains(prefix) {
                return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{rel}: the file name is not valid UTF-8")));
            }
            prefix = prefix.rsplit_once('/').map_or("", |(p, _)| p);
        }
        self.files.get(&path).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{rel} is not in {}", self.rev)))
    }

    /// Whether the revision holds a file at `rel` (a normalized path).
    pub(super) fn has_file(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
    }

    pub(super) fn read_dir(&self, dir: &str) -> io::Result<Vec<Entry>> {
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
                let utf8 = !self.not_utf8.contains(&format!("{prefix}{name}"));
                out.push(Entry { name: name.to_owned(), is_dir, utf8 });
            }
        }
        if out.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("{dir} is not in {}", self.rev)));
        }
        Ok(out)
    }

    pub(super) fn read(&self, rel: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        let blob = self.blob(rel)?;
        if blob.size > limit {
            return Err(ReadError::TooLarge { limit, size: Some(blob.size) });
        }
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
            if size as u64 != blob.size {
                return Err(io::Error::other(format!("git cat-file: {rel} changed size")));
            }
            let mut bytes = vec![0; size + 1];
            batch.stdout.read_exact(&mut bytes)?;
            bytes.pop();
            Ok(bytes)
        })();
        if result.is_err() {
            // The stream may be out of step now: start afresh next time.
            *guard = None;
        }
        Ok(result?)
    }
}
