//! Where a cursor stands in JSON text that may be half typed: the path of members and
//! indices that leads to it, and whether it is on a member name or a value. A tolerant scan
//! from the start of the text, so it answers on a buffer that does not parse yet.

use std::ops::Range;

/// One step of the path to the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Index(usize),
    Member(String),
}

/// What the cursor is on.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct At {
    /// The path to the value the cursor is in (for a member name: to its object).
    pub(crate) path: Vec<Step>,
    /// The cursor is where a member name goes (on one, or between members).
    pub(crate) name: bool,
    /// The string under the cursor, quotes included (the closing one may be missing).
    pub(crate) string: Option<Range<usize>>,
}

enum Frame {
    /// An object: the last member name read, and whether the next string is a name.
    Object {
        member: Option<String>,
        want_name: bool,
    },
    Array {
        index: usize,
    },
}

/// The place of byte `offset` in `text`; None when it is outside every container.
pub(crate) fn at(text: &str, offset: usize) -> Option<At> {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() && i < offset {
        match bytes[i] {
            b'"' => {
                let (end, closed) = string_end(bytes, i);
                let is_name = matches!(stack.last(), Some(Frame::Object { want_name: true, .. }));
                if offset < end || (offset == end && !closed) {
                    return Some(At { path: path(&stack, is_name), name: is_name, string: Some(i..end) });
                }
                if let Some(Frame::Object { member, want_name }) = stack.last_mut()
                    && *want_name
                {
                    *member = serde_json::from_slice::<String>(&bytes[i..end]).ok();
                    *want_name = false;
                }
                i = end;
                continue;
            }
            b'{' => stack.push(Frame::Object { member: None, want_name: true }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { want_name, .. }) => *want_name = true,
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    if stack.is_empty() {
        return None;
    }
    let name = matches!(stack.last(), Some(Frame::Object { want_name: true, .. }));
    Some(At { path: path(&stack, name), name, string: None })
}

/// The end of the string starting at `start` (after its closing quote), or where the line
/// or text ends when it is not closed; and whether it is closed.
fn string_end(bytes: &[u8], start: usize) -> (usize, bool) {
    let mut j = start + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'"' => return (j + 1, true),
            b'\n' => return (j, false),
            _ => j += 1,
        }
    }
    (bytes.len(), false)
}

/// The path of the value being written: every container's step, and, for a value in an
/// object, its member name.
fn path(stack: &[Frame], name: bool) -> Vec<Step> {
    let mut path = Vec::new();
    for (depth, frame) in stack.iter().enumerate() {
        let last = depth + 1 == stack.len();
        match frame {
            Frame::Array { index } => path.push(Step::Index(*index)),
            Frame::Object { member: Some(m), .. } if !(last && name) => path.push(Step::Member(m.clone())),
            Frame::Object { .. } if last => {}
            // A value of an object whose member name was not read cannot be told.
            Frame::Object { .. } => path.push(Step::Member(String::new())),
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(path: &[&str]) -> Vec<Step> {
        path.iter().map(|s| s.parse().map_or_else(|_| Step::Member((*s).to_owned()), Step::Index)).collect()
    }

    #[test]
    fn finds_values_and_names_in_half_typed_text() {
        let text = r#"{"data": [{"id": "a", "drops": [{"item": "x"}, {"item": "go"#;
        let at = super::at(text, text.len()).unwrap();
        assert_eq!(at.path, steps(&["data", "0", "drops", "1", "item"]));
        assert!(!at.name);
        assert_eq!(at.string, Some(text.rfind('"').unwrap()..text.len()));

        let text = r#"{"data": [{"id": "a"}, {"id": "b", "#;
        let at = super::at(text, text.len()).unwrap();
        assert_eq!((at.path, at.name, at.string), (steps(&["data", "1"]), true, None));

        let text = r#"{"data": [{"id": "a", "na": 1}]}"#;
        let offset = text.find("na").unwrap() + 1;
        let at = super::at(text, offset).unwrap();
        assert_eq!((at.path, at.name), (steps(&["data", "0"]), true));

        let text = r#"{"a": "x\"y", "b": "#;
        assert_eq!(at_path(text), steps(&["b"]));
    }

    fn at_path(text: &str) -> Vec<Step> {
        super::at(text, text.len()).unwrap().path
    }
}
