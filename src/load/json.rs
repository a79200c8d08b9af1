//! Strict JSON: serde_json's grammar (no comments, no trailing commas, no NaN) plus the
//! checks serde_json does not make: duplicate object keys, integers beyond ±(2^53-1) and a
//! nesting limit. Findings that do not stop parsing are collected, not raised, so one file
//! reports all of its duplicate keys at once. Also refused: U+0000 in a string or key
//! (PostgreSQL's `jsonb` cannot store it) and a number too large for a double (`1e400`).

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::json::pointer::Pointer;

/// The largest integer magnitude that survives a round trip through an IEEE-754 double.
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A problem found while parsing that does not stop the parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finding {
    /// The object at `pointer` has `key` more than once (the first value is kept); this is
    /// its `occurrence`-th member of that name (2 for the first repeat).
    DuplicateKey { pointer: Pointer, key: String, occurrence: usize },
    /// The number at `pointer` is an integer literal beyond ±(2^53-1).
    UnsafeInteger { pointer: Pointer, literal: String },
    /// The string at `pointer` (or, with `key`, the member name there) contains U+0000.
    NulCharacter { pointer: Pointer, key: bool },
}

/// A problem that stops the parse. Offsets are in bytes from the start of the parsed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fatal {
    Syntax {
        message: String,
        line: usize,
        column_bytes: usize,
    },
    TooDeep {
        limit: usize,
        line: usize,
        column_bytes: usize,
    },
    /// A number whose magnitude overflows a double (`1e400`): no reader can hold it.
    NumberOutOfRange {
        line: usize,
        column_bytes: usize,
    },
}

const TOO_DEEP: &str = "\u{0}seedc:too-deep";

/// Parses `text` strictly. `base` is the JSON pointer prefix of the parsed value inside its
/// file (e.g. `/data/3` for a record parsed on its own); findings carry full pointers.
pub(crate) fn parse(text: &str, base: &str, max_depth: usize) -> Result<(Value, Vec<Finding>), Fatal> {
    let mut ctx = Ctx { path: Vec::new(), findings: Vec::new(), large: Vec::new(), depth: 0, max_depth, base };
    let mut de = serde_json::Deserializer::from_str(text);
    // Our own limit is the one that matters; serde_json's fixed 128 would pre-empt a higher one.
    de.disable_recursion_limit();
    let result = Seed { ctx: &mut ctx }.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match result {
        Ok(value) => {
            let mut findings = ctx.findings;
            // Only an integer *literal* is an unsafe integer: `1E22` or `1.5e30` is a double in
            // the source already, and every reader takes it as the same one.
            for (relative, pointer) in ctx.large {
                let literal = crate::diag::locate::locate(text, relative.as_str()).map(|l| &text[l.value.0..l.value.0 + l.value.1]);
                if let Some(literal) = literal.filter(|l| !l.contains(['.', 'e', 'E'])) {
                    findings.push(Finding::UnsafeInteger { pointer, literal: literal.to_owned() });
                }
            }
            Ok((value, findings))
        }
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
            // serde_json stops at the number's end: point at its start, where it is read.
            Fatal::NumberOutOfRange { line, column_bytes } => {
                let line_start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
                let mut offset = (line_start + column_bytes).min(text.len());
                let number = |b: u8| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-');
                while offset > line_start && !text.as_bytes().get(offset).is_some_and(|b| number(*b)) {
                    offset -= 1;
                }
                while offset > line_start && number(text.as_bytes()[offset - 1]) {
                    offset -= 1;
                }
                Fatal::NumberOutOfRange { line, column_bytes: offset - line_start + 1 }
            }
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
    if message.starts_with("number out of range") {
        return Fatal::NumberOutOfRange { line, column_bytes };
    }
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
    /// Integral doubles beyond 2^63, (pointer inside the text, full pointer): an unsafe
    /// integer if the literal has no fraction or exponent (decided from the text, after).
    large: Vec<(Pointer, Pointer)>,
    depth: usize,
    max_depth: usize,
    base: &'b str,
}

impl Ctx<'_> {
    fn pointer(&self) -> Pointer {
        self.pointer_from(Pointer::from(self.base))
    }

    fn pointer_from(&self, mut p: Pointer) -> Pointer {
        for seg in &self.path {
            match seg {
                Seg::Key(k) => p.push_key(k),
                Seg::Index(i) => p.push_index(*i),
            }
        }
        p
    }

    fn nul(&mut self, key: bool) {
        let pointer = self.pointer();
        self.findings.push(Finding::NulCharacter { pointer, key });
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
        // here integral and this large may be an integer literal beyond 64 bits (unsafe) or
        // a literal with an exponent (fine): the text decides, after the parse.
        if v.fract() == 0.0 && v.abs() >= 2f64.powi(63) {
            let relative = self.ctx.pointer_from(Pointer::root());
            let full = self.ctx.pointer();
            self.ctx.large.push((relative, full));
        }
        // serde_json never yields NaN or infinity from text, so this always succeeds.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        if v.contains('\0') {
            self.ctx.nul(false);
        }
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        if v.contains('\0') {
            self.ctx.nul(false);
        }
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
        // How often each repeated name has been seen; allocated only once one repeats.
        let mut repeats: Option<std::collections::HashMap<String, usize>> = None;
        while let Some(key) = access.next_key::<String>()? {
            // The key is moved onto the path and back, so tracking it costs no allocation.
            self.ctx.path.push(Seg::Key(key));
            if matches!(self.ctx.path.last(), Some(Seg::Key(k)) if k.contains('\0')) {
                self.ctx.nul(true);
            }
            let value = access.next_value_seed(Seed { ctx: &mut *self.ctx });
            let Some(Seg::Key(key)) = self.ctx.path.pop() else { unreachable!("pushed a key") };
            let value = value?;
            match map.entry(key) {
                serde_json::map::Entry::Vacant(e) => {
                    e.insert(value);
                }
                serde_json::map::Entry::Occupied(e) => {
                    let key = e.key().clone();
                    let seen = repeats.get_or_insert_default().entry(key.clone()).or_insert(1);
                    *seen += 1;
                    let occurrence = *seen;
                    let pointer = self.ctx.pointer();
                    self.ctx.findings.push(Finding::DuplicateKey { pointer, key, occurrence });
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
                Finding::DuplicateKey { pointer: "/b".into(), key: "c".into(), occurrence: 2 },
                Finding::DuplicateKey { pointer: "".into(), key: "a".into(), occurrence: 2 },
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
    fn numbers_with_an_exponent_or_fraction_are_doubles_not_unsafe_integers() {
        let text = r#"[1E22, 123e65, 123.456e78, -1.0e+28, 100000000000000000000, {"k": -100000000000000000000}]"#;
        let (_, f) = parse(text, "/x", 64).unwrap();
        assert_eq!(
            f,
            vec![
                Finding::UnsafeInteger { pointer: "/x/4".into(), literal: "100000000000000000000".into() },
                Finding::UnsafeInteger { pointer: "/x/5/k".into(), literal: "-100000000000000000000".into() },
            ]
        );
        assert!(matches!(parse("[1, 1e400]", "", 64), Err(Fatal::NumberOutOfRange { line: 1, .. })));
        assert!(matches!(parse("-1e400", "", 64), Err(Fatal::NumberOutOfRange { .. })));
    }

    #[test]
    fn nul_characters_are_found_in_values_and_keys() {
        let (_, f) = parse(r#"{"a":"x\u0000y","b\u0000":1,"c":["\u0000"]}"#, "/d", 64).unwrap();
        assert_eq!(
            f,
            vec![
                Finding::NulCharacter { pointer: "/d/a".into(), key: false },
                Finding::NulCharacter { pointer: "/d/b\u{0}".into(), key: true },
                Finding::NulCharacter { pointer: "/d/c/0".into(), key: false },
            ]
        );
    }

    #[test]
    fn every_repeat_of_a_key_counts_its_occurrence() {
        let (_, f) = parse(r#"{"a":1,"a":2,"a":3}"#, "", 64).unwrap();
        let occurrences: Vec<usize> = f
            .iter()
            .map(|f| match f {
                Finding::DuplicateKey { occurrence, .. } => *occurrence,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(occurrences, [2, 3]);
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
        assert_eq!(f, vec![Finding::DuplicateKey { pointer: "/a~1b".into(), key: "~".into(), occurrence: 2 }]);
    }
}
