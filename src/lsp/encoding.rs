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

/// The byte offset of `position` in `text`, as [`Lines::offset`] gives it, found without a
/// table of every line: what one edit of a large buffer needs.
pub(crate) fn offset(text: &str, position: Position, encoding: Encoding) -> usize {
    let start = match position.line {
        0 => 0,
        line => match text.match_indices('\n').nth(line as usize - 1) {
            Some((at, _)) => at + 1,
            None => return text.len(),
        },
    };
    let end = text[start..].find('\n').map_or(text.len(), |at| start + at);
    start + in_line(&text[start..end], position.character, encoding)
}

/// The byte offset in `line` of its `character`-th unit (its end, past it).
fn in_line(line: &str, character: u32, encoding: Encoding) -> usize {
    let wanted = character as usize;
    let mut units = 0;
    for (i, c) in line.char_indices() {
        if units >= wanted {
            return i;
        }
        units += match encoding {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        };
    }
    line.len()
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
        start + in_line(&self.text[start..end], position.character, self.encoding)
    }

    pub(crate) fn range(&self, bytes: std::ops::Range<usize>) -> Range {
        Range::new(self.position(bytes.start), self.position(bytes.end))
    }
}

/// Positions of byte offsets of one text, found by walking from one to the next instead of
/// from a table of every line: what converting a file's few diagnostics needs after each
/// edit of a large buffer. Cheapest in ascending order.
pub(crate) struct Sweep<'t> {
    text: &'t str,
    encoding: Encoding,
    /// The last offset placed, its line and that line's start.
    at: usize,
    line: usize,
    start: usize,
}

impl<'t> Sweep<'t> {
    pub(crate) fn new(text: &'t str, encoding: Encoding) -> Self {
        Sweep { text, encoding, at: 0, line: 0, start: 0 }
    }

    /// The position of byte `offset`, as [`Lines::position`] gives it.
    pub(crate) fn position(&mut self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        if offset >= self.at {
            for (i, _) in self.text[self.at..offset].match_indices('\n') {
                self.line += 1;
                self.start = self.at + i + 1;
            }
        } else {
            self.line -= self.text[offset..self.at].matches('\n').count();
            self.start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        }
        self.at = offset;
        Position::new(to_u32(self.line), to_u32(self.encoding.units(&self.text[self.start..offset])))
    }

    /// The range of a seedc span: `len` bytes from its offset.
    pub(crate) fn span(&mut self, span: &Span) -> Range {
        let start = self.position(span.offset);
        let end = self.position(span.offset.saturating_add(span.len));
        Range::new(start, end)
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
        assert_eq!(Sweep::new(text, Encoding::Utf16).span(&span), Range::new(Position::new(1, 24), Position::new(1, 25)));
        // Walking, back and forth, the positions the table gives.
        let mut sweep = Sweep::new(text, Encoding::Utf16);
        for offset in [0, 3, at, 1, text.len(), 12, 2, 999] {
            assert_eq!(sweep.position(offset), utf16.position(offset), "{offset}");
        }
        assert_eq!(utf16.offset(Position::new(1, 999)), text.rfind('\n').unwrap());
        assert_eq!(utf16.offset(Position::new(9, 0)), text.len());
        // Without the table of lines, the same offsets.
        for (line, character) in [(0, 0), (0, 5), (1, 24), (1, 999), (2, 0), (2, 1), (3, 0), (9, 0)] {
            for (lines, encoding) in [(&utf16, Encoding::Utf16), (&utf8, Encoding::Utf8)] {
                let p = Position::new(line, character);
                assert_eq!(offset(text, p, encoding), lines.offset(p), "{p:?}");
            }
        }
    }
}
