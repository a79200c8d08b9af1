//! The document store: the editor's open buffers (text and version, by path relative to
//! the content root), laid over the files on disk for every check, and the conversion
//! between `file://` URIs and those paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use lsp_types::{TextDocumentContentChangeEvent, Uri};

use super::encoding::{Encoding, offset};

/// Buffers to lay over the files (path relative to the root, text). An `Arc<String>`, not an
/// `Arc<str>`: the text an edit makes (or a `didOpen` brings) is shared as it is, never
/// copied once more, which at a 5 MB file's edit held three copies at once.
pub(crate) type Buffers = Vec<(String, Arc<String>)>;

/// One open buffer.
pub(crate) struct Document {
    pub(crate) text: Arc<String>,
    pub(crate) version: i32,
}

/// Every open buffer of the content root, by path relative to it.
#[derive(Default)]
pub(crate) struct Documents {
    open: BTreeMap<String, Document>,
}

impl Documents {
    pub(crate) fn open(&mut self, rel: String, text: String, version: i32) {
        self.open.insert(rel, Document { text: Arc::from(text), version });
    }

    pub(crate) fn close(&mut self, rel: &str) -> bool {
        self.open.remove(rel).is_some()
    }

    /// Applies the changes of one `didChange`, in order: a change with a range replaces
    /// that range (in the negotiated encoding), one without replaces the whole text.
    pub(crate) fn change(&mut self, rel: &str, version: i32, changes: Vec<TextDocumentContentChangeEvent>, encoding: Encoding) -> bool {
        let Some(doc) = self.open.get_mut(rel) else { return false };
        // Room for every change made: a change never moves the text once more.
        let mut text = String::with_capacity(doc.text.len() + changes.iter().map(|c| c.text.len()).sum::<usize>());
        text.push_str(&doc.text);
        for change in changes {
            match change.range {
                None => text = change.text,
                Some(range) => {
                    let (start, end) = (offset(&text, range.start, encoding), offset(&text, range.end, encoding));
                    text.replace_range(start..end.max(start), &change.text);
                }
            }
        }
        *doc = Document { text: Arc::from(text), version };
        true
    }

    /// The buffers a check lays over the files, and their versions.
    pub(crate) fn snapshot(&self) -> (Buffers, BTreeMap<String, i32>) {
        let buffers = self.open.iter().map(|(rel, d)| (rel.clone(), Arc::clone(&d.text))).collect();
        let versions = self.open.iter().map(|(rel, d)| (rel.clone(), d.version)).collect();
        (buffers, versions)
    }
}

/// The content root's directory as URIs name it: its own path and, when different, its
/// real path (a client may name files either way).
#[derive(Clone)]
pub(crate) struct Root {
    pub(crate) dir: PathBuf,
    real: Option<PathBuf>,
}

impl Root {
    pub(crate) fn new(dir: PathBuf) -> Root {
        let real = std::fs::canonicalize(&dir).ok().filter(|r| *r != dir);
        Root { dir, real }
    }

    /// The path relative to the root, `/`-separated, of a `file://` URI inside it.
    pub(crate) fn rel(&self, uri: &Uri) -> Option<String> {
        let path = path_of(uri)?;
        let rel = path.strip_prefix(&self.dir).ok().or_else(|| path.strip_prefix(self.real.as_ref()?).ok())?;
        let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
        let rel = parts?.join("/");
        (!rel.is_empty()).then_some(rel)
    }

    /// The URI of a path relative to the root.
    pub(crate) fn uri(&self, rel: &str) -> Uri {
        uri_of(&self.dir.join(rel))
    }
}

/// The path a `file://` URI names, percent-decoded.
pub(crate) fn path_of(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    let path = path.split(['?', '#']).next()?;
    let bytes = decode(path)?;
    let text = String::from_utf8(bytes).ok()?;
    // `file:///C:/dir` names `C:/dir` on Windows.
    let text = match text.as_bytes() {
        [b'/', drive, b':', ..] if cfg!(windows) && drive.is_ascii_alphabetic() => text[1..].to_owned(),
        _ => text,
    };
    Some(PathBuf::from(text))
}

/// The `file://` URI of an absolute path.
pub(crate) fn uri_of(path: &Path) -> Uri {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut uri = String::from("file://");
    if !text.starts_with('/') {
        uri.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) || (b == b':' && cfg!(windows)) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&uri).expect("a percent-encoded path is a valid URI")
}

fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip_through_paths() {
        let root = Root::new(PathBuf::from("/tmp/a dir/ém"));
        let uri = root.uri("data/seeds/x y.json");
        assert_eq!(uri.as_str(), "file:///tmp/a%20dir/%C3%A9m/data/seeds/x%20y.json");
        assert_eq!(root.rel(&uri).as_deref(), Some("data/seeds/x y.json"));
        let outside = Uri::from_str("file:///elsewhere/x.json").unwrap();
        assert_eq!(root.rel(&outside), None);
    }
}
