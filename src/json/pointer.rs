//! JSON pointers (RFC 6901), one type for every place seedc names a value inside a document:
//! diagnostics, reference paths, the diff's and the deploy plan's field changes. Escaping
//! (`~` → `~0`, `/` → `~1`) is written here and nowhere else.

use std::borrow::Cow;
use std::fmt;

/// A JSON pointer in its escaped form, e.g. `/tags/a~1b/0`; the empty pointer is the root.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pointer(String);

impl Pointer {
    /// The whole document.
    pub const fn root() -> Pointer {
        Pointer(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Appends an object member's name, escaped.
    pub fn push_key(&mut self, key: &str) {
        push_key_to(&mut self.0, key);
    }

    /// Appends an array index.
    pub fn push_index(&mut self, index: usize) {
        push_index_to(&mut self.0, index);
    }

    /// Appends every token of `rest` (a pointer relative to this one).
    pub fn push_pointer(&mut self, rest: &Pointer) {
        self.0.push_str(&rest.0);
    }

    /// This pointer with an object member's name appended.
    pub fn key(mut self, key: &str) -> Pointer {
        self.push_key(key);
        self
    }

    /// This pointer with `rest` (relative to it) appended.
    pub fn join(mut self, rest: &Pointer) -> Pointer {
        self.push_pointer(rest);
        self
    }

    /// This pointer with an array index appended.
    pub fn index(mut self, index: usize) -> Pointer {
        self.push_index(index);
        self
    }

    /// The length of the escaped text, to [`truncate`](Self::truncate) back to: a walk
    /// over a document pushes and pops one pointer instead of allocating one per value.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Drops what was pushed after [`len`](Self::len) returned `len`.
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    /// The unescaped reference tokens, or `None` when this is not a pointer (text that is
    /// neither empty nor starts with `/`, which only [`From`] can make).
    pub fn tokens(&self) -> Option<impl Iterator<Item = Cow<'_, str>>> {
        tokens(&self.0)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Text already in pointer form (escaped), as jsonschema's instance paths and the literals
/// in seedc's own code (`"/version"`) are.
impl From<&str> for Pointer {
    fn from(text: &str) -> Pointer {
        Pointer(text.to_owned())
    }
}

impl From<String> for Pointer {
    fn from(text: String) -> Pointer {
        Pointer(text)
    }
}

impl PartialEq<str> for Pointer {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Pointer {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A pointer is a string in every JSON seedc writes (diagnostics, diff, deploy plan).
impl serde::Serialize for Pointer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Read back from a saved deploy plan: a pointer in its escaped form, empty or starting
/// with `/` (RFC 6901).
impl<'de> serde::Deserialize<'de> for Pointer {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Pointer, D::Error> {
        let text = String::deserialize(deserializer)?;
        if !(text.is_empty() || text.starts_with('/')) {
            return Err(serde::de::Error::custom(format!("{text:?} is not a JSON pointer")));
        }
        Ok(Pointer(text))
    }
}

/// Escapes one reference token; borrowed when there is nothing to escape (nearly always).
/// [`Pointer::push_key`] onto pointer text held elsewhere (an arena of pointers, say).
pub(crate) fn push_key_to(text: &mut String, key: &str) {
    text.push('/');
    text.push_str(&escape(key));
}

/// [`Pointer::push_index`] onto pointer text held elsewhere.
pub(crate) fn push_index_to(text: &mut String, index: usize) {
    text.push('/');
    text.push_str(itoa::Buffer::new().format(index));
}

pub(crate) fn escape(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) { Cow::Owned(token.replace('~', "~0").replace('/', "~1")) } else { Cow::Borrowed(token) }
}

/// Unescapes one reference token (`~1` first, so `~01` stays `~1`, as RFC 6901 says).
pub(crate) fn unescape(token: &str) -> Cow<'_, str> {
    if token.contains('~') { Cow::Owned(token.replace("~1", "/").replace("~0", "~")) } else { Cow::Borrowed(token) }
}

/// The unescaped reference tokens of pointer text; `None` when it is neither empty nor
/// starts with `/`.
pub(crate) fn tokens(text: &str) -> Option<impl Iterator<Item = Cow<'_, str>>> {
    let rest = if text.is_empty() { None } else { Some(text.strip_prefix('/')?) };
    Some(rest.into_iter().flat_map(|r| r.split('/')).map(unescape))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_through_escaping() {
        let p = Pointer::root().key("tags").key("a/b~c").index(3).key("");
        assert_eq!(p.as_str(), "/tags/a~1b~0c/3/");
        assert_eq!(p.tokens().unwrap().collect::<Vec<_>>(), ["tags", "a/b~c", "3", ""]);
        assert_eq!(tokens("").unwrap().count(), 0);
        assert!(tokens("tags").is_none());
        assert_eq!(unescape("~01"), "~1");
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"/tags/a~1b~0c/3/\"");
    }

    #[test]
    fn truncate_pops_what_was_pushed() {
        let mut p = Pointer::from("/data");
        let len = p.len();
        p.push_key("x");
        p.push_pointer(&Pointer::from("/y/0"));
        assert_eq!(p, "/data/x/y/0");
        p.truncate(len);
        assert_eq!(p, "/data");
    }
}
