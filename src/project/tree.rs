//! Where a content root's files come from: a directory, or a git revision (`git.rs`), with
//! an editor's buffers laid over either. Paths are
//! relative to the content root and `/`-separated, whichever the source.
//!
//! Every read of a content root goes through here, and here alone it is made safe against
//! what an editor, a sync tool or a hostile pull request can leave in a directory: only
//! regular files are read (a FIFO would block, a device never end), every read stops at
//! its limit while reading (a size from `stat` can lie), nothing that resolves outside the
//! root is opened, and a walk visits each directory once (symlink loops, and junctions on
//! Windows). It is portable: a directory's identity is (device, inode) on Unix and (volume,
//! file index) on Windows, a junction or symlink is resolved before the root check on
//! both (`resolve.rs`, which also copes with Wine past 260 characters), and a name Windows
//! reserves for a device (`names.rs`) is never opened.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use super::git::GitTree;
use super::names;
pub use super::path::{Entry, ReadError, name_text, normalize};
use super::resolve::resolve;

/// A content root: the files of a directory or of a git revision, with in-memory buffers
/// (an editor's unsaved text) laid over them: a buffer is read instead of the file at its
/// path, and listed whether or not that file exists.
#[derive(Debug)]
pub struct Tree {
    source: Source,
    buffers: BTreeMap<String, Arc<String>>,
}

/// Where a tree's files come from.
#[derive(Debug)]
enum Source {
    Dir(Dir),
    Git(GitTree),
}

/// A directory content root, and its path resolved (links and junctions followed) once it
/// has been: every read checks the file it opens against it.
#[derive(Debug)]
struct Dir {
    root: PathBuf,
    resolved: std::sync::OnceLock<PathBuf>,
}

impl Dir {
    /// The root resolved, the first time only: on Windows each resolution is a handle opened
    /// and its final name asked for (under Wine, a round trip to its mount manager), and
    /// doing it again for every file was most of what a check costs there beyond starting.
    fn resolved(&self) -> io::Result<&Path> {
        if let Some(path) = self.resolved.get() {
            return Ok(path);
        }
        let path = resolve(&self.root)?;
        Ok(self.resolved.get_or_init(|| path))
    }
}

/// What kind of file a file type is, for messages; None for a regular file or directory.
#[cfg(unix)]
fn special_kind(t: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        Some("FIFO (named pipe)")
    } else if t.is_char_device() {
        Some("character device")
    } else if t.is_block_device() {
        Some("block device")
    } else if t.is_socket() {
        Some("socket")
    } else if t.is_file() || t.is_dir() {
        None
    } else {
        Some("special file")
    }
}

/// What kind of file a file type is, for messages; None for a regular file or directory.
/// Windows has no FIFOs or devices in a directory (its devices are names, refused before
/// this); anything else is named as such.
#[cfg(not(unix))]
fn special_kind(t: std::fs::FileType) -> Option<&'static str> {
    if t.is_file() || t.is_dir() { None } else { Some("special file") }
}

/// Opens a file for reading. On Unix without blocking: a FIFO swapped in after the type
/// check must not block the open; its type is checked again on the open file.
fn open_nonblocking(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path)
}

/// What tells two directories apart, so a walk visits each once: (device, inode) on Unix;
/// on Windows (volume serial, file index) through `same_file::Handle` (std keeps those
/// behind an unstable API), which holds the directory open while the walk runs.
#[cfg(unix)]
type DirIdentity = (u64, u64);
#[cfg(windows)]
type DirIdentity = same_file::Handle;

#[cfg(unix)]
fn dir_identity(path: &Path) -> io::Result<DirIdentity> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    Ok((meta.dev(), meta.ino()))
}

#[cfg(windows)]
fn dir_identity(path: &Path) -> io::Result<DirIdentity> {
    same_file::Handle::from_path(path)
}

/// `rel` (`/`-separated) under `root`, joined a component at a time: a verbatim Windows
/// root (`\\?\C:\...`) takes no `/`.
fn on_disk(root: &Path, rel: &str) -> PathBuf {
    rel.split('/').filter(|c| !c.is_empty()).fold(root.to_path_buf(), |path, c| path.join(c))
}

/// Opens the regular file at `path` with its metadata; a directory is an I/O error, a FIFO,
/// device or socket [`ReadError::NotRegular`], never opened in a way that blocks.
fn open_regular_at(path: &Path) -> Result<(std::fs::File, std::fs::Metadata), ReadError> {
    // Asked before opening on Unix, where opening a FIFO could block. A Windows directory
    // holds no FIFO or device (its devices are names, refused by the callers that read a
    // content root), and the open file's type is checked below on every platform.
    #[cfg(unix)]
    if let Some(kind) = special_kind(std::fs::metadata(path)?.file_type()) {
        return Err(ReadError::NotRegular(kind));
    }
    let file = open_nonblocking(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(io::ErrorKind::IsADirectory, "it is a directory").into());
    }
    if let Some(kind) = special_kind(meta.file_type()) {
        return Err(ReadError::NotRegular(kind));
    }
    Ok((file, meta))
}

/// Reads at most `limit` bytes of the regular file at `path`, one the user names outside
/// any content root (a saved plan, a secret, a certificate): as a content root's files
/// are, a FIFO or a device is refused without blocking, and a file over `limit` is
/// [`ReadError::TooLarge`].
pub fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, meta) = open_regular_at(path)?;
    read_bounded(file, limit, meta.len())
}

/// Reads at most `limit` bytes; one more means the file is over it.
fn read_bounded(mut r: impl Read, limit: u64, hint: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::with_capacity(hint.min(limit).min(64 << 20) as usize);
    r.by_ref().take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit, size: (hint > limit).then_some(hint) });
    }
    Ok(bytes)
}

impl Tree {
    pub fn dir(root: impl Into<PathBuf>) -> Tree {
        Tree { source: Source::Dir(Dir { root: root.into(), resolved: std::sync::OnceLock::new() }), buffers: BTreeMap::new() }
    }

    /// The content root at `rev` of the repository holding `dir`; `dir` may be a
    /// subdirectory of the repository (its path inside it is the prefix of every file).
    pub fn git(dir: &Path, rev: &str) -> Result<Tree> {
        Ok(Tree { source: Source::Git(GitTree::open(dir, rev)?), buffers: BTreeMap::new() })
    }

    /// This tree with `text` read at `rel` instead of the file there (if any): the unsaved
    /// buffer of an editor. A path that leaves the root is refused.
    pub fn with_buffer(mut self, rel: &str, text: Arc<String>) -> Result<Tree> {
        let rel = normalize(rel).with_context(|| format!("{rel} is outside the content root"))?;
        self.buffers.insert(rel, text);
        Ok(self)
    }

    /// The buffers laid over the files, by normalized path.
    pub fn buffers(&self) -> impl Iterator<Item = (&str, &Arc<String>)> {
        self.buffers.iter().map(|(rel, text)| (rel.as_str(), text))
    }

    /// How the tree is named in messages: the directory, or `rev` of the repository.
    pub fn label(&self) -> String {
        match &self.source {
            Source::Dir(dir) => dir.root.display().to_string(),
            Source::Git(git) => git.rev.clone(),
        }
    }

    /// The directory on disk, for a directory tree.
    pub fn root(&self) -> Option<&Path> {
        match &self.source {
            Source::Dir(dir) => Some(&dir.root),
            Source::Git(_) => None,
        }
    }

    /// Whether `rel` can be streamed ([`open_regular`](Self::open_regular)): a file of a
    /// directory tree that no buffer stands for.
    pub fn streamable(&self, rel: &str) -> bool {
        self.root().is_some() && !normalize(rel).is_some_and(|r| self.buffers.contains_key(&r))
    }

    /// The buffer laid over `rel`, if any.
    pub fn buffer(&self, rel: &str) -> Option<&Arc<String>> {
        if self.buffers.is_empty() {
            return None;
        }
        self.buffers.get(&normalize(rel)?)
    }

    /// The entries of directory `dir`, unsorted; `NotFound` when there is no such directory.
    /// A directory that resolves outside the root is refused like a file would be.
    pub fn read_dir(&self, dir: &str) -> io::Result<Vec<Entry>> {
        let mut entries = match self.source_dir(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && self.buffered_entries(dir).next().is_some() => Vec::new(),
            other => other?,
        };
        for entry in self.buffered_entries(dir) {
            if !entries.iter().any(|e| e.name == entry.name) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    /// The buffers directly in `dir` (files) or below it (their first directory), as entries.
    fn buffered_entries<'a>(&'a self, dir: &str) -> impl Iterator<Item = Entry> + 'a {
        let prefix = normalize(dir).map(|d| if d.is_empty() { d } else { format!("{d}/") });
        self.buffers.keys().filter_map(move |path| {
            let rest = path.strip_prefix(prefix.as_deref()?)?;
            Some(match rest.split_once('/') {
                Some((first, _)) => Entry { name: first.to_owned(), is_dir: true, utf8: true },
                None => Entry { name: rest.to_owned(), is_dir: false, utf8: true },
            })
        })
    }

    /// [`read_dir`](Self::read_dir) of the source alone.
    fn source_dir(&self, dir: &str) -> io::Result<Vec<Entry>> {
        match &self.source {
            Source::Dir(source) => {
                let canonical_root = source.resolved()?;
                let path = resolve(on_disk(&source.root, dir))?;
                if !path.starts_with(canonical_root) {
                    return Err(io::Error::other(format!("{dir} resolves outside the content root")));
                }
                dir_entries(&path)
            }
            Source::Git(git) => git.read_dir(dir),
        }
    }

    /// Every file below `dir`, recursively, as relative paths, sorted. Each directory is
    /// visited once (by its identity: device and inode, or volume and file index), so
    /// symlink and junction loops end; a directory that resolves outside the root, a name
    /// that is not UTF-8 or that Windows reserves for a device, is an error that names it.
    pub fn files_under(&self, dir: &str) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        let canonical_root = match &self.source {
            Source::Dir(source) => Some(source.resolved()?),
            Source::Git(_) => None,
        };
        let mut visited: HashSet<DirIdentity> = HashSet::new();
        let mut pending = vec![dir.to_owned()];
        while let Some(d) = pending.pop() {
            let buffered = self.buffered_entries(&d).next().is_some();
            let mut entries = match (&self.source, &canonical_root) {
                (Source::Dir(source), Some(canonical_root)) => {
                    let path = match resolve(on_disk(&source.root, &d)) {
                        Ok(p) => Some(p),
                        Err(e) if e.kind() == io::ErrorKind::NotFound && (buffered || d == dir) => None,
                        Err(e) => return Err(io::Error::new(e.kind(), format!("{d}: {e}"))),
                    };
                    match path {
                        None => Vec::new(),
                        Some(path) => {
                            if !path.starts_with(canonical_root) {
                                return Err(io::Error::other(format!("{d} resolves outside the content root")));
                            }
                            let identity = dir_identity(&path).map_err(|e| io::Error::new(e.kind(), format!("{d}: {e}")))?;
                            if !visited.insert(identity) {
                                continue;
                            }
                            dir_entries(&path).map_err(|e| io::Error::new(e.kind(), format!("{d}: {e}")))?
                        }
                    }
                }
                _ => match self.source_dir(&d) {
                    Ok(e) => e,
                    Err(e) if e.kind() == io::ErrorKind::NotFound && (buffered || d == dir) => Vec::new(),
                    Err(e) => return Err(e),
                },
            };
            for entry in self.buffered_entries(&d) {
                if !entries.iter().any(|e| e.name == entry.name) {
                    entries.push(entry);
                }
            }
            for e in entries {
                let rel = format!("{d}/{}", e.name);
                if !e.utf8 {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{rel}: the file name is not valid UTF-8")));
                }
                if names::is_reserved(&e.name) {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{rel}: {}", ReadError::Reserved(e.name.clone()))));
                }
                if e.is_dir { pending.push(rel) } else { out.push(rel) }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Whether anything stands at `rel` (of any kind: reading it says whether it is a
    /// regular file); an error other than its absence, e.g. an unreadable directory, is
    /// returned.
    pub fn exists(&self, rel: &str) -> io::Result<bool> {
        if self.buffer(rel).is_some() {
            return Ok(true);
        }
        match &self.source {
            Source::Dir(dir) => match std::fs::metadata(on_disk(&dir.root, rel)) {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(e),
            },
            Source::Git(git) => Ok(normalize(rel).is_some_and(|r| git.has_file(&r))),
        }
    }

    pub fn is_file(&self, rel: &str) -> bool {
        if self.buffer(rel).is_some() {
            return true;
        }
        match &self.source {
            Source::Dir(dir) => names::reserved_component(rel).is_none() && on_disk(&dir.root, rel).is_file(),
            Source::Git(_) => self.exists(rel).unwrap_or(false),
        }
    }

    /// Opens a regular file of a directory tree for reading, after making sure it is one
    /// and lies inside the root: a FIFO is never opened for reading without O_NONBLOCK, and
    /// its type is checked again on the open file; a name Windows reserves for a device is
    /// refused before anything is opened (there, it would open the device).
    pub fn open_regular(&self, rel: &str) -> Result<std::fs::File, ReadError> {
        let Source::Dir(source) = &self.source else {
            return Err(io::Error::new(io::ErrorKind::Unsupported, "not a directory tree").into());
        };
        if let Some(name) = names::reserved_component(rel) {
            return Err(ReadError::Reserved(name.to_owned()));
        }
        let canonical_root = source.resolved()?;
        let path = match normalize(rel) {
            Some(rel) => resolve(on_disk(&source.root, &rel))?,
            None => return Err(ReadError::Outside),
        };
        if !path.starts_with(canonical_root) {
            return Err(ReadError::Outside);
        }
        Ok(open_regular_at(&path)?.0)
    }

    /// A file's bytes, at most `limit` of them (counted while reading: a size from `stat`
    /// can lie, as a device's does).
    pub fn read_limited(&self, rel: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        if let Some(name) = names::reserved_component(rel) {
            return Err(ReadError::Reserved(name.to_owned()));
        }
        if let Some(text) = self.buffer(rel) {
            let size = text.len() as u64;
            return if size > limit { Err(ReadError::TooLarge { limit, size: Some(size) }) } else { Ok(text.as_bytes().to_vec()) };
        }
        match &self.source {
            Source::Dir(_) => {
                let file = self.open_regular(rel)?;
                let hint = file.metadata().map(|m| m.len()).unwrap_or(0);
                read_bounded(file, limit, hint)
            }
            Source::Git(git) => git.read(rel, limit),
        }
    }

    /// A file's text, at most `limit` bytes; `Ok(None)` when it does not exist.
    pub fn read_optional(&self, rel: &str, limit: u64) -> Result<Option<String>> {
        match self.read_limited(rel, limit) {
            Ok(bytes) => Ok(Some(String::from_utf8(bytes).with_context(|| format!("{rel} is not UTF-8"))?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {rel} in {}", self.label())),
        }
    }
}

/// The entries of a directory on disk, with whether each is (or links to) a directory.
fn dir_entries(path: &Path) -> io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let (name, utf8) = name_text(&entry.file_name());
        // Follows symlinks (and junctions), as a checkout would be read; a broken or
        // unreadable link is listed as a file, so reading it reports why. The listing
        // already says what every other entry is: asking again cost a call per file (on
        // Windows a handle opened and closed).
        let is_dir = match entry.file_type() {
            Ok(t) if !t.is_symlink() => t.is_dir(),
            _ => std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()),
        };
        out.push(Entry { name, is_dir, utf8 });
    }
    Ok(out)
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
