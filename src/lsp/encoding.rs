//! Positions: seedc's spans (1-based line, 1-based column in characters, byte offsets) to
//! and from LSP positions, whose `character` counts code units of the negotiated encoding
//! (UTF-16 unless the client offers UTF-8), so a non-BMP character before a position
//! counts two units under UTF-16 and one character in seedc's column.

use lsp_types::{ClientCapabilities, Position, PositionEncodingKind, Range};

use crate::diag::Span;

/// The unit of `Position::character`, fixed at initialize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    /// UTF-8 when the client offers it (no conversion at all), else UTF-16, which the
    /// protocol makes every client support.
    pub(crate) fn negotiate(capabilities: &ClientCapabilities) -> Encoding {
        let offered = capabilities.general.as_ref().and_then(|g| g.position_encodings.as_ref());
        if offered.is_some_and(|kinds| kinds.contains(&PositionEncodingKind::UTF8)) { Encoding::Utf8 } else { Encoding::Utf16 }
    }

    pub(crate) fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }
    }

    /// Code units of `text` in this encoding.
    fn units(self, text: &str) -> usize {
        match self {
            Encoding::Utf8 => text.len(),
            Encoding::Utf16 => text.chars().map(char::len_utf16).sum(),
        }
    }
}

/// The line starts of one text, to convert both ways in the negotiated encoding.
pub(crate) struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
    encoding: Encoding,
}

impl<'t> Lines<'t> {
    pub(crate) fn new(text: &'t str, encoding: Encoding) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { text, starts, encoding }
    }

    /// The position of byte `offset` (clamped to the text, moved back to a character
    /// boundary).
    pub(crate) fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let character = self.encoding.units(&self.text[self.starts[line]..offset]);
        Position::new(to_u32(line), to_u32(character))
    }

    /// The byte offset of `position`; a character past the end of its line means the end
    /// of the line, a line past the end the end of the text (as the protocol says).
    pub(crate) fn offset(&self, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else { return self.text.len() };
        let end = self.starts.get(position.line as usize + 1).map_or(self.text.len(), |&s| s - 1);
        let line = &self.text[start..end];
        let wanted = position.character as usize;
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= wanted {
                return start + i;
            }
            units += match self.encoding {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
        }
        end
    }

    pub(crate) fn range(&self, bytes: std::ops::Range<usize>) -> Range {
        Range::new(self.position(bytes.start), self.position(bytes.end))
    }

    /// The range of a seedc span: its start from the 1-based line and character column,
    /// its end `len` bytes on.
    pub(crate) fn span(&self, span: &Span) -> Range {
        let start = self.starts.get(span.line.saturating_sub(1)).map_or(self.text.len(), |&s| {
            let rest = &self.text[s..];
            rest.char_indices().nth(span.column.saturating_sub(1)).map_or(self.text.len(), |(i, _)| s + i)
        });
        let end = (start + span.len).min(self.text.len());
        Range::new(self.position(start), self.position(end))
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_bmp_character_counts_two_units_under_utf16() {
        let text = "{\n  \"name\": \"🐉 x\", \"hp\": 0\n}";
        let at = text.find("0\n").unwrap();
        let utf16 = Lines::new(text, Encoding::Utf16);
        let utf8 = Lines::new(text, Encoding::Utf8);
        // 23 characters before the 0 on its line; the dragon is one of them: two UTF-16
        // units, four bytes.
        assert_eq!(utf16.position(at), Position::new(1, 24));
        assert_eq!(utf8.position(at), Position::new(1, 26));
        assert_eq!(utf16.offset(Position::new(1, 24)), at);
        assert_eq!(utf8.offset(Position::new(1, 26)), at);
        let span = Span { line: 2, column: 24, offset: at, len: 1 };
        assert_eq!(utf16.span(&span), Range::new(Position::new(1, 24), Position::new(1, 25)));
        assert_eq!(utf16.offset(Position::new(1, 999)), text.rfind('\n').unwrap());
        assert_eq!(utf16.offset(Position::new(9, 0)), text.len());
    }
}
