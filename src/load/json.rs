//! Strict JSON: serde_json's grammar (no comments, no trailing commas, no NaN) plus the
//! checks serde_json does not make: duplicate object keys, integers beyond ±(2^53-1) and a
//! nesting limit. Findings that do not stop parsing are collected, not raised, so one file
//! reports all of its duplicate keys at once.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::pointer::Pointer;

/// The largest integer magnitude that survives a round trip through an IEEE-754 double.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A problem found while parsing that does not stop the parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The object at `pointer` has `key` more than once (the first value is kept).
    DuplicateKey { pointer: Pointer, key: String },
    /// The number at `pointer` is an integer beyond ±(2^53-1).
    UnsafeInteger { pointer: Pointer, literal: String },
}

/// A problem that stops the parse. Offsets are in bytes from the start of the parsed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fatal {
    Syntax { message: String, line: usize, column_bytes: usize },
    TooDeep { limit: usize, line: usize, column_bytes: usize },
}

const TOO_DEEP: &str = "\u{0}seedc:too-deep";

/// Parses `text` strictly. `base` is the JSON pointer prefix of the parsed value inside its
/// file (e.g. `/data/3` for a record parsed on its own); findings carry full pointers.
pub fn parse(text: &str, base: &str, max_depth: usize) -> Result<(Value, Vec<Finding>), Fatal> {
    let mut ctx = Ctx { path: Vec::new(), findings: Vec::new(), depth: 0, max_depth, base };
    let mut de = serde_json::Deserializer::from_str(text);
    // Our own limit is the one that matters; serde_json's fixed 128 would pre-empt a higher one.
    de.disable_recursion_limit();
    let result = Seed { ctx: &mut ctx }.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match result {
        Ok(value) => Ok((value, ctx.findings)),
        Err(err) => Err(match fatal(err, max_depth) {
            // serde_json's position for an error raised on entering a container depends on
            // what follows the bracket, so find the offending bracket ourselves.
            Fatal::TooDeep { limit, line, column_bytes } => match too_deep_at(text, limit) {
                Some(offset) => {
                    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
                    let line = text[..offset].matches('\n').count() + 1;
                    Fatal::TooDeep { limit, line, column_bytes: offset - line_start + 1 }
                }
                None => Fatal::TooDeep { limit, line, column_bytes },
            },
            syntax => syntax,
        }),
    }
}

/// Byte offset of the first bracket nested deeper than `limit`. Only called after the parser
/// stopped there, so everything before it is valid JSON and brackets inside strings are the
/// only ones to skip.
fn too_deep_at(text: &str, limit: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut i, mut in_string) = (0usize, 0, false);
    while i < bytes.len() {
        match (in_string, bytes[i]) {
            (true, b'\\') => i += 1,
            (_, b'"') => in_string = !in_string,
            (false, b'[' | b'{') => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            (false, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn fatal(err: serde_json::Error, limit: usize) -> Fatal {
    let (line, column_bytes) = (err.line(), err.column());
    let message = err.to_string();
    if message.starts_with(TOO_DEEP) || message.starts_with("recursion limit exceeded") {
        // serde_json reports the position after the bracket that went one level too deep.
        return Fatal::TooDeep { limit, line, column_bytes: column_bytes.saturating_sub(1).max(1) };
    }
    // serde_json appends " at line L column C"; the diagnostic carries the position itself.
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    };
    Fatal::Syntax { message, line, column_bytes }
}

/// One step of the path from the root to the value being parsed.
enum Seg {
    Key(String),
    Index(usize),
}

struct Ctx<'b> {
    path: Vec<Seg>,
    findings: Vec<Finding>,
    depth: usize,
    max_depth: usize,
    base: &'b str,
}

impl Ctx<'_> {
    fn pointer(&self) -> Pointer {
        let mut p = Pointer::from(self.base);
        for seg in &self.path {
            match seg {
                Seg::Key(k) => p.push_key(k),
                Seg::Index(i) => p.push_index(*i),
            }
        }
        p
    }

    fn unsafe_integer(&mut self, literal: String) {
        let pointer = self.pointer();
        self.findings.push(Finding::UnsafeInteger { pointer, literal });
    }

    fn enter<E: de::Error>(&mut self) -> Result<(), E> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(E::custom(TOO_DEEP));
        }
        Ok(())
    }
}

struct Seed<'a, 'b> {
    ctx: &'a mut Ctx<'b>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        if v.unsigned_abs() > MAX_SAFE_INTEGER {
            self.ctx.unsafe_integer(v.to_string());
        }
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        if v > MAX_SAFE_INTEGER {
            self.ctx.unsafe_integer(v.to_string());
        }
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // Integer literals that fit 64 bits arrive through visit_i64/visit_u64; one that reaches
        // here integral and this large was written beyond 64 bits and has already lost precision.
        if v.fract() == 0.0 && v.abs() >= 2f64.powi(63) {
            self.ctx.unsafe_integer(format!("{v:e}"));
        }
        // serde_json never yields NaN or infinity from text, so this always succeeds.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.ctx.enter()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            self.ctx.path.push(Seg::Index(items.len()));
            let next = seq.next_element_seed(Seed { ctx: &mut *self.ctx });
            self.ctx.path.pop();
            match next? {
                Some(v) => items.push(v),
                None => break,
            }
        }
        self.ctx.depth -= 1;
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        self.ctx.enter()?;
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            // The key is moved onto the path and back, so tracking it costs no allocation.
            self.ctx.path.push(Seg::Key(key));
            let value = access.next_value_seed(Seed { ctx: &mut *self.ctx });
            let Some(Seg::Key(key)) = self.ctx.path.pop() else { unreachable!("pushed a key") };
            let value = value?;
            match map.entry(key) {
                serde_json::map::Entry::Vacant(e) => {
                    e.insert(value);
                }
                serde_json::map::Entry::Occupied(e) => {
                    let key = e.key().clone();
                    let pointer = self.ctx.pointer();
                    self.ctx.findings.push(Finding::DuplicateKey { pointer, key });
                }
            }
        }
        self.ctx.depth -= 1;
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_all_found_with_their_object() {
        let (v, f) = parse(r#"{"a":1,"b":{"c":1,"c":2},"a":3}"#, "", 64).unwrap();
        assert_eq!(v["a"], 1, "the first value is kept");
        assert_eq!(
            f,
            vec![
                Finding::DuplicateKey { pointer: "/b".into(), key: "c".into() },
                Finding::DuplicateKey { pointer: "".into(), key: "a".into() },
            ]
        );
    }

    #[test]
    fn unsafe_integers_are_found_and_safe_ones_are_not() {
        let text = r#"[9007199254740991, -9007199254740991, 9007199254740992, -9007199254740993, 100000000000000000000, 1.5]"#;
        let (_, f) = parse(text, "/x", 64).unwrap();
        let pointers: Vec<_> = f
            .iter()
            .map(|f| match f {
                Finding::UnsafeInteger { pointer, .. } => pointer.as_str(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(pointers, ["/x/2", "/x/3", "/x/4"]);
    }

    #[test]
    fn nesting_limit_is_enforced_with_a_position() {
        let deep = format!("{}{}", "[".repeat(5), "]".repeat(5));
        assert!(parse(&deep, "", 5).is_ok());
        assert_eq!(parse(&deep, "", 4).unwrap_err(), Fatal::TooDeep { limit: 4, line: 1, column_bytes: 5 });
        // the position does not depend on what follows the bracket
        let deep = "{\"a\": \"[[\", \"b\": [[[[[[]]]]]]}";
        assert_eq!(parse(deep, "", 4).unwrap_err(), Fatal::TooDeep { limit: 4, line: 1, column_bytes: 21 });
        assert_eq!(&deep[17..21], "[[[[", "the fourth bracket of b is the fifth level");
        // far beyond serde_json's own limit: still our error, never a stack overflow
        let deeper = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(parse(&deeper, "", 64), Err(Fatal::TooDeep { .. })));
    }

    #[test]
    fn syntax_errors_carry_position_without_the_suffix() {
        for (text, line, col) in [("{\"a\": 1,}", 1, 9), ("[1,\n 2,\n NaN]", 3, 2), ("{\"a\" // c\n:1}", 1, 6)] {
            match parse(text, "", 64) {
                Err(Fatal::Syntax { message, line: l, column_bytes: c }) => {
                    assert_eq!((l, c), (line, col), "{text:?}: {message}");
                    assert!(!message.contains(" at line "), "{message}");
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        let (_, f) = parse(r#"{"a/b":{"~":1,"~":2}}"#, "", 64).unwrap();
        assert_eq!(f, vec![Finding::DuplicateKey { pointer: "/a~1b".into(), key: "~".into() }]);
    }
}
