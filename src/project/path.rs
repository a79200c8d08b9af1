//! What a listing and a read of a content root say, whichever the source: a directory
//! entry, why a file was not read, a file name as text, and a relative path resolved.

use std::io;

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name; when it is not UTF-8, its bytes with each invalid one written `\xNN`.
    pub name: String,
    pub is_dir: bool,
    /// False when the name is not UTF-8: such a file cannot be named in a message or a
    /// manifest, so it is reported instead of read.
    pub utf8: bool,
}

/// Why a file of the content root was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] io::Error),
    /// A FIFO, device or socket: reading it could block or never end.
    #[error("it is a {0}, not a regular file")]
    NotRegular(&'static str),
    /// Over `limit` bytes; `size` is the whole size when it is known.
    #[error("it is over the limit of {limit} bytes")]
    TooLarge { limit: u64, size: Option<u64> },
    /// A symlink, junction (or a path with `..`) that leads out of the content root.
    #[error("it resolves outside the content root")]
    Outside,
    /// A name Windows reserves for a device, such as `CON` or `NUL.json`.
    #[error("{0:?} is a device name on Windows, never a file there")]
    Reserved(String),
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }

    /// A directory, FIFO, device or socket: there, but not a file to read.
    pub fn is_not_regular(&self) -> bool {
        matches!(self, ReadError::NotRegular(_)) || matches!(self, ReadError::Io(e) if e.kind() == io::ErrorKind::IsADirectory)
    }
}

/// A file name as text: exact when it is UTF-8, else each invalid byte as `\xNN` (of its
/// bytes on Unix; of its WTF-8 form on Windows, where a name is UTF-16 that may hold an
/// unpaired surrogate).
pub fn name_text(name: &std::ffi::OsStr) -> (String, bool) {
    match name.to_str() {
        Some(s) => (s.to_owned(), true),
        None => (bytes_text(name.as_encoded_bytes()), false),
    }
}

/// Bytes as text, each byte that is not part of valid UTF-8 written `\xNN`.
pub(crate) fn bytes_text(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
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
