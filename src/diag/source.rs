//! The source database: the text of every input file, kept so that diagnostics are placed
//! (line, character column, snippet) only when they are reported.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use super::{Anchor, Diagnostic, Span, locate};
use crate::project::lock::{TextPrint, TextPrinter};

/// The text of one input file, kept for locating diagnostics.
#[derive(Debug)]
pub struct SourceFile {
    /// Relative to the content root, `/`-separated.
    pub path: String,
    pub text: Text,
    /// For a seed file: the byte range of each element of `data`.
    pub records: Vec<Range<usize>>,
    lines: OnceLock<locate::LineIndex>,
    /// Set when `text` was let go to bound memory ([`SourceFile::release`]): the BLAKE3
    /// and length it had, so that it is read back only if a diagnostic falls in the file,
    /// and taken back only if unchanged.
    released: Option<([u8; 32], usize)>,
}

impl SourceFile {
    pub fn new(path: String, text: impl Into<Text>) -> Self {
        SourceFile { path, text: text.into(), records: Vec::new(), lines: OnceLock::new(), released: None }
    }

    /// Lets go of the text (a check that keeps no records holds no file's text it does not
    /// need): until [`Sources::restore`] gives it back, nothing in this file can be placed.
    pub fn release(&mut self) {
        self.released = Some((digest(&self.text), self.text.len()));
        self.text = Text::default();
        self.lines = OnceLock::new();
    }

    /// A file that was read a piece at a time and never held whole: released from the
    /// start, with the digest of the text its pieces made up ([`TextDigest`]).
    pub fn released(path: String, digest: TextDigest, records: Vec<Range<usize>>) -> Self {
        let (hash, len) = digest.printer.raw();
        let released = Some((hash, usize::try_from(len).unwrap_or(usize::MAX)));
        SourceFile { path, text: Text::default(), records, lines: OnceLock::new(), released }
    }

    pub fn is_released(&self) -> bool {
        self.released.is_some()
    }

    /// The BLAKE3 of the file's bytes as they were read, held or released.
    pub fn fingerprint(&self) -> blake3::Hash {
        match self.released {
            Some((released, _)) => blake3::Hash::from_bytes(released),
            None => blake3::hash(self.text.as_bytes()),
        }
    }

    /// Whether `text` is this file's text (the one it released, if it did).
    pub fn is_text(&self, text: &str) -> bool {
        match self.released {
            Some((released, len)) => len == text.len() && digest(text) == released,
            None => self.text.as_str() == text,
        }
    }

    pub fn lines(&self) -> &locate::LineIndex {
        self.lines.get_or_init(|| locate::LineIndex::new(&self.text))
    }

    /// A span for a byte range; the column counts characters.
    pub fn span(&self, offset: usize, len: usize) -> Span {
        // serde_json reports a byte position, which may fall inside a multibyte character
        // (at the end of a truncated file, say): point at the character's start.
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let (line, column) = self.lines().line_col(&self.text, offset);
        Span { line, column, offset, len: len.max(1) }
    }

    /// Resolves a JSON pointer (value or key) to a span, using the record slices to avoid
    /// scanning a whole large file.
    pub fn locate(&self, pointer: &str, key: bool) -> Option<Span> {
        let (base, rest) = self.record_slice(pointer).unwrap_or((0..self.text.len(), pointer));
        let found = locate::locate(&self.text[base.clone()], rest)?;
        let (offset, len) = match (key, found.key) {
            (true, Some(k)) => k,
            _ => found.value,
        };
        Some(self.span(base.start + offset, len))
    }

    /// The bytes of the value (or key) a JSON pointer names, like [`SourceFile::locate`]
    /// but with no line or column counted.
    pub fn locate_bytes(&self, pointer: &str, key: bool) -> Option<Range<usize>> {
        let (base, rest) = self.record_slice(pointer).unwrap_or((0..self.text.len(), pointer));
        let found = locate::locate(&self.text[base.clone()], rest)?;
        let (offset, len) = match (key, found.key) {
            (true, Some(k)) => k,
            _ => found.value,
        };
        Some(base.start + offset..base.start + offset + len)
    }

    /// Places the `occurrence`-th key of every (member pointer, occurrence) given, all of
    /// one object, in one pass over that object.
    fn locate_keys(&self, object: &str, wanted: &[(&str, usize)]) -> Vec<Option<Span>> {
        let (base, rest) = self.record_slice(object).unwrap_or((0..self.text.len(), object));
        let slice = &self.text[base.clone()];
        let Some(found) = locate::locate(slice, rest) else { return vec![None; wanted.len()] };
        let names: std::collections::HashSet<&str> = wanted.iter().map(|(n, _)| *n).collect();
        let mut seen: std::collections::HashMap<String, Vec<(usize, usize)>> = std::collections::HashMap::new();
        for (name, span) in locate::member_keys(slice, found.value.0) {
            if names.contains(name.as_str()) {
                seen.entry(name).or_default().push(span);
            }
        }
        wanted
            .iter()
            .map(|(name, n)| {
                let (offset, len) = *seen.get(*name)?.get(n.checked_sub(1)?)?;
                Some(self.span(base.start + offset, len))
            })
            .collect()
    }

    fn record_slice<'p>(&self, pointer: &'p str) -> Option<(Range<usize>, &'p str)> {
        let rest = pointer.strip_prefix("/data/")?;
        let (index, rest) = rest.split_once('/').map_or((rest, ""), |(i, r)| (i, r));
        let range = self.records.get(index.parse::<usize>().ok()?)?.clone();
        // `rest` is everything after the index, including its leading '/', or empty.
        let rest = &pointer[pointer.len() - rest.len() - usize::from(!rest.is_empty())..];
        Some((range, rest))
    }
}

/// A file's text: read from its file, or an editor's buffer shared with the editor (an open
/// file's text is then held once, not copied for each check).
#[derive(Debug, Clone)]
pub enum Text {
    Owned(String),
    Shared(Arc<String>),
}

impl Text {
    pub fn as_str(&self) -> &str {
        match self {
            Text::Owned(text) => text,
            Text::Shared(text) => text,
        }
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::Owned(String::new())
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text::Owned(text)
    }
}

impl From<Arc<String>> for Text {
    fn from(text: Arc<String>) -> Self {
        Text::Shared(text)
    }
}

/// What tells a released text from any other.
fn digest(text: &str) -> [u8; 32] {
    *blake3::hash(text.as_bytes()).as_bytes()
}

/// The digest a released file keeps, taken a piece at a time from a text never held whole,
/// and beside it the print seedc.lock pins the text by ([`TextPrint`]), mostly the same hash.
#[derive(Default)]
pub struct TextDigest {
    printer: TextPrinter,
}

impl TextDigest {
    pub fn update(&mut self, bytes: &[u8]) {
        self.printer.update(bytes);
    }

    /// The text's print, as seedc.lock pins it.
    pub fn print(&self) -> TextPrint {
        self.printer.print()
    }
}

/// Every source file, by relative path.
#[derive(Debug, Default)]
pub struct Sources {
    files: BTreeMap<String, Arc<SourceFile>>,
}

impl Sources {
    pub fn insert(&mut self, file: Arc<SourceFile>) {
        self.files.insert(file.path.clone(), file);
    }

    pub fn get(&self, path: &str) -> Option<&Arc<SourceFile>> {
        self.files.get(path)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The files whose text was released ([`SourceFile::release`]) that `diagnostics` fall
    /// in: what must be read back before [`Sources::resolve`].
    pub fn released_in(&self, diagnostics: &[Diagnostic]) -> Vec<String> {
        let wanted: std::collections::BTreeSet<&str> = diagnostics.iter().filter_map(|d| d.file.as_deref()).collect();
        wanted.into_iter().filter(|f| self.files.get(*f).is_some_and(|s| s.is_released())).map(str::to_owned).collect()
    }

    /// Lets go of the text of `path` ([`SourceFile::release`]), shared or not; the file as
    /// it is now.
    pub fn release(&mut self, path: &str) -> Option<Arc<SourceFile>> {
        let file = self.files.get_mut(path)?;
        if !file.is_released() {
            let released = SourceFile {
                path: file.path.clone(),
                text: Text::default(),
                records: file.records.clone(),
                lines: OnceLock::new(),
                released: Some((digest(&file.text), file.text.len())),
            };
            *file = Arc::new(released);
        }
        Some(Arc::clone(file))
    }

    /// Gives a released file its text back, read again: false (and nothing changed) unless
    /// it is the very text released.
    pub fn restore(&mut self, path: &str, text: String) -> bool {
        let Some(file) = self.files.get_mut(path) else { return false };
        let same = file.is_released() && file.is_text(&text);
        if same {
            let restored = SourceFile {
                path: file.path.clone(),
                text: text.into(),
                records: file.records.clone(),
                lines: OnceLock::new(),
                released: None,
            };
            *file = Arc::new(restored);
        }
        same
    }

    /// Fills in the span of every diagnostic from its target.
    pub fn resolve(&self, diagnostics: &mut [Diagnostic]) {
        self.resolve_repeated_keys(diagnostics);
        for d in diagnostics {
            if d.span.is_some() {
                continue;
            }
            // A file that is not valid UTF-8 has no text here, but its position is known.
            if let Anchor::At(span) = d.target {
                d.span = Some(span);
                continue;
            }
            let Some(file) = d.file.as_deref().and_then(|f| self.get(f)) else { continue };
            d.span = match &d.target {
                Anchor::File => None,
                Anchor::At(span) => Some(*span),
                Anchor::Offset(offset) => Some(file.span(*offset, 1)),
                Anchor::Value(p) => file.locate(p.as_str(), false),
                Anchor::Key(p) => file.locate(p.as_str(), true),
                // Placed by `resolve_repeated_keys`; unplaceable ones stay unplaced.
                Anchor::KeyAt { .. } => None,
            };
        }
    }

    /// Places every duplicate key, grouped by file and object, one pass per object: 20,000
    /// repeats of one key cost one scan of their object, not 20,000.
    fn resolve_repeated_keys(&self, diagnostics: &mut [Diagnostic]) {
        type Group = Vec<(usize, String, usize)>;
        let mut groups: BTreeMap<(&str, String), Group> = BTreeMap::new();
        for (i, d) in diagnostics.iter().enumerate() {
            if let (Anchor::KeyAt { pointer, occurrence }, Some(file), None) = (&d.target, d.file.as_deref(), d.span) {
                let p = pointer.as_str();
                let Some(cut) = p.rfind('/') else { continue };
                let name = crate::json::pointer::unescape(&p[cut + 1..]).into_owned();
                groups.entry((file, p[..cut].to_owned())).or_default().push((i, name, *occurrence));
            }
        }
        let mut placed = Vec::new();
        for ((file, object), members) in groups {
            let Some(source) = self.get(file) else { continue };
            let wanted: Vec<(&str, usize)> = members.iter().map(|(_, n, o)| (n.as_str(), *o)).collect();
            for ((i, _, _), span) in members.iter().zip(source.locate_keys(&object, &wanted)) {
                placed.push((*i, span));
            }
        }
        for (i, span) in placed {
            diagnostics[i].span = span;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;

    /// A file read in pieces is as released as one read whole: the same text, and only it,
    /// is taken back.
    #[test]
    fn a_file_read_in_pieces_takes_back_the_text_they_made_up() {
        let text = "{\n  \"data\": [1, 2]\n}\n";
        let mut digest = TextDigest::default();
        for piece in text.as_bytes().chunks(5) {
            digest.update(piece);
        }
        let mut sources = Sources::default();
        sources.insert(Arc::new(SourceFile::released("a.json".to_owned(), digest, vec![12..13, 15..16])));
        assert!(sources.get("a.json").unwrap().is_released());
        assert!(!sources.restore("a.json", text.replace('2', "3")));
        assert!(sources.restore("a.json", text.to_owned()));
        let file = sources.get("a.json").unwrap();
        assert_eq!((file.text.as_str(), &file.records[1]), (text, &(15..16)));
    }

    /// A released file is read back only for the diagnostics in it, and only its own text
    /// is taken back: an edit made in between, even of the same length, is refused.
    #[test]
    fn a_released_file_takes_back_only_its_own_text() {
        let text = "{\n  \"data\": [1]\n}\n";
        let mut sources = Sources::default();
        let mut file = SourceFile::new("data/seeds/a.json".to_owned(), text.to_owned());
        file.release();
        assert!(file.is_released() && file.text.is_empty());
        sources.insert(Arc::new(file));
        sources.insert(Arc::new(SourceFile::new("data/seeds/b.json".to_owned(), text.to_owned())));
        let mut diags = vec![
            Diagnostic::error(Code::Syntax, "x").in_file("data/seeds/a.json").at_value("/data/0"),
            Diagnostic::error(Code::Syntax, "y").in_file("data/seeds/b.json").at_value("/data/0"),
        ];
        assert_eq!(sources.released_in(&diags), ["data/seeds/a.json"]);

        assert!(!sources.restore("data/seeds/a.json", text.replace('1', "2")), "same length, other bytes");
        assert!(!sources.restore("data/seeds/a.json", format!("{text} ")), "other length");
        assert!(sources.get("data/seeds/a.json").unwrap().is_released());
        assert!(sources.restore("data/seeds/a.json", text.to_owned()));
        assert!(sources.released_in(&diags).is_empty());
        sources.resolve(&mut diags);
        assert_eq!(diags.iter().map(|d| d.span.map(|s| (s.line, s.column))).collect::<Vec<_>>(), [Some((2, 12)), Some((2, 12))]);
    }
}
