//! Maps a JSON pointer back to a position in the source text, only when a diagnostic is
//! reported (parsing never tracks positions, which keeps the hot path fast). Also converts
//! byte offsets to 1-based line and character column.

/// Where a pointer's value (and the key naming it, if it is an object member) starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Located {
    /// Byte offset of the key's opening quote, when the value is an object member.
    pub key: Option<(usize, usize)>,
    /// Byte offset and length of the value; a container's length covers its first line only.
    pub value: (usize, usize),
}

/// Finds the value at `pointer` (RFC 6901) in `text`, which must be valid JSON. When an object
/// has the same key twice, the *last* occurrence wins, which is the one a duplicate-key
/// diagnostic points at. Returns `None` if the pointer does not resolve.
pub(crate) fn locate(text: &str, pointer: &str) -> Option<Located> {
    let bytes = text.as_bytes();
    let mut pos = skip_ws(bytes, 0);
    let mut key = None;
    for token in crate::json::pointer::tokens(pointer)? {
        match *bytes.get(pos)? {
            b'{' => {
                let (k, v) = find_member(text, pos, &token)?;
                key = Some(k);
                pos = v;
            }
            b'[' => {
                let index: usize = token.parse().ok()?;
                pos = nth_element(bytes, pos, index)?;
                key = None;
            }
            _ => return None,
        }
    }
    let end = value_end(bytes, pos)?;
    let first_line_end = text[pos..end].find('\n').map_or(end, |i| pos + i);
    Some(Located { key, value: (pos, first_line_end - pos) })
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b'\n' | b'\r') {
        pos += 1;
    }
    pos
}

/// Returns the offset just past the value starting at `pos`.
fn value_end(bytes: &[u8], pos: usize) -> Option<usize> {
    match *bytes.get(pos)? {
        b'"' => string_end(bytes, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' => {
                        i = string_end(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = pos;
            while i < bytes.len() && !matches!(bytes[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                i += 1;
            }
            Some(i)
        }
    }
}

/// Returns the offset just past the string whose opening quote is at `pos`.
fn string_end(bytes: &[u8], pos: usize) -> Option<usize> {
    let mut i = pos + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// In the object at `pos`, finds the last member named `name`: (key span, value offset).
fn find_member(text: &str, pos: usize, name: &str) -> Option<((usize, usize), usize)> {
    let bytes = text.as_bytes();
    let mut found = None;
    let mut i = skip_ws(bytes, pos + 1);
    while bytes.get(i) == Some(&b'"') {
        let key_end = string_end(bytes, i)?;
        let key: String = serde_json::from_str(&text[i..key_end]).ok()?;
        let colon = skip_ws(bytes, key_end);
        let value = skip_ws(bytes, colon + 1);
        if key == name {
            found = Some(((i, key_end - i), value));
        }
        let after = skip_ws(bytes, value_end(bytes, value)?);
        if bytes.get(after) != Some(&b',') {
            break;
        }
        i = skip_ws(bytes, after + 1);
    }
    found
}

/// Every member key of the object at `pos`, in order: (name, key span).
pub(crate) fn member_keys(text: &str, pos: usize) -> impl Iterator<Item = (String, (usize, usize))> + '_ {
    let bytes = text.as_bytes();
    let mut i = if bytes.get(pos) == Some(&b'{') { Some(skip_ws(bytes, pos + 1)) } else { None };
    std::iter::from_fn(move || {
        let at = i.take()?;
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(bytes, at)?;
        let key: String = serde_json::from_str(&text[at..key_end]).ok()?;
        let value = skip_ws(bytes, skip_ws(bytes, key_end) + 1);
        let after = skip_ws(bytes, value_end(bytes, value)?);
        if bytes.get(after) == Some(&b',') {
            i = Some(skip_ws(bytes, after + 1));
        }
        Some((key, (at, key_end - at)))
    })
}

fn nth_element(bytes: &[u8], pos: usize, index: usize) -> Option<usize> {
    let mut i = skip_ws(bytes, pos + 1);
    if bytes.get(i) == Some(&b']') {
        return None;
    }
    for _ in 0..index {
        let after = skip_ws(bytes, value_end(bytes, i)?);
        if bytes.get(after) != Some(&b',') {
            return None;
        }
        i = skip_ws(bytes, after + 1);
    }
    Some(i)
}

/// Line starts of a text, for turning byte offsets into line and column.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    /// Every `CHECKPOINT` bytes (on a character boundary): (byte offset, characters before
    /// it). A column is then counted from the nearest checkpoint, not from the line start,
    /// so placing 10,000 diagnostics on one minified 80 MB line stays linear.
    checkpoints: Vec<(usize, usize)>,
}

const CHECKPOINT: usize = 1 << 14;

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut checkpoints = vec![(0, 0)];
        let (mut at, mut chars) = (0, 0);
        while at + CHECKPOINT < text.len() {
            let mut next = at + CHECKPOINT;
            while !text.is_char_boundary(next) {
                next += 1;
            }
            chars += text[at..next].chars().count();
            at = next;
            checkpoints.push((at, chars));
        }
        LineIndex { starts, checkpoints }
    }

    /// Characters in `text[..offset]`, `offset` on a character boundary.
    fn chars_before(&self, text: &str, offset: usize) -> usize {
        let (at, chars) = self.checkpoints[self.checkpoints.partition_point(|&(o, _)| o <= offset) - 1];
        chars + text[at..offset].chars().count()
    }

    /// 1-based line and 1-based column in characters of the byte `offset`.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let column = if text.is_char_boundary(offset) && offset - start > CHECKPOINT {
            self.chars_before(text, offset) - self.chars_before(text, start)
        } else {
            text.get(start..offset).map_or(offset - start, |s| s.chars().count())
        };
        (line + 1, column + 1)
    }

    /// Byte offset of a 1-based line and 1-based column counted in bytes (serde_json's).
    pub fn offset(&self, line: usize, column_bytes: usize) -> usize {
        let start = self.starts.get(line.saturating_sub(1)).copied().unwrap_or(0);
        start + column_bytes.saturating_sub(1)
    }

    /// The byte range of the 1-based `line`, without its line break.
    pub fn line_range(&self, text: &str, line: usize) -> std::ops::Range<usize> {
        let start = self.starts.get(line - 1).copied().unwrap_or(text.len());
        let end = self.starts.get(line).map_or(text.len(), |&s| s - 1);
        let end = if end > start && text.as_bytes()[end - 1] == b'\r' { end - 1 } else { end };
        start..end.max(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "{\n  \"data\": [\n    {\"id\": \"a\", \"hp\": 0},\n    {\"id\": \"b\\\"]\", \"tags\": [1, [2]], \"hp\": 3, \"hp\": 4}\n  ]\n}\n";

    #[test]
    fn columns_on_a_long_line_count_characters() {
        let text = format!("{}{}x", "é".repeat(20_000), "a".repeat(30_000));
        let index = LineIndex::new(&text);
        let offset = text.len() - 1;
        assert_eq!(index.line_col(&text, offset), (1, 50_001));
        let text = format!("\n{text}");
        assert_eq!(LineIndex::new(&text).line_col(&text, text.len() - 1), (2, 50_001));
    }

    fn at(pointer: &str) -> (usize, usize) {
        let l = locate(DOC, pointer).unwrap();
        LineIndex::new(DOC).line_col(DOC, l.value.0)
    }

    #[test]
    fn finds_values_by_pointer() {
        assert_eq!(at(""), (1, 1));
        assert_eq!(at("/data/0/hp"), (3, 23));
        assert_eq!(at("/data/1/tags/1/0"), (4, 33));
        assert_eq!(at("/data/1/hp"), (4, 53), "the last duplicate wins");
        assert!(locate(DOC, "/data/2").is_none());
        assert!(locate(DOC, "/data/0/nope").is_none());
    }

    #[test]
    fn key_span_points_at_the_quote() {
        let l = locate(DOC, "/data/0/hp").unwrap();
        assert_eq!(&DOC[l.key.unwrap().0..][..4], "\"hp\"");
    }

    #[test]
    fn columns_count_characters() {
        let text = "{\"é\": \"ü\", \"x\": 1}";
        let l = locate(text, "/x").unwrap();
        assert_eq!(LineIndex::new(text).line_col(text, l.value.0), (1, 17));
    }
}
