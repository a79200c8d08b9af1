//! What the values found at one place of a collection's records look like (`Shape`: the
//! types seen, every distinct string, the fields of objects and the items of arrays), and
//! the JSON Schema guessed from it: as tight as the data allows and no tighter, so every
//! record it was made from is valid against it.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use super::json::Json;

/// At most this many distinct strings make an enum...
const ENUM_MAX: usize = 10;
/// ...each at most this long (longer text is prose, not a closed set)...
const ENUM_VALUE_MAX: usize = 40;
/// ...and each seen this many times on average: a value used once is no evidence of a set.
const ENUM_REPEATS: usize = 2;

#[derive(Debug, Default)]
pub(crate) struct Shape {
    /// Values seen here.
    pub seen: usize,
    nulls: usize,
    bools: usize,
    integers: usize,
    floats: usize,
    strings: usize,
    /// Every distinct string seen here.
    pub distinct: BTreeSet<String>,
    arrays: usize,
    items: Option<Box<Shape>>,
    objects: usize,
    /// The fields of the objects seen here, in the order they first appeared.
    fields: Vec<(String, Shape)>,
    index: FxHashMap<String, usize>,
}

impl Shape {
    pub(crate) fn add(&mut self, value: &Json) {
        self.seen += 1;
        match value {
            Json::Null => self.nulls += 1,
            Json::Bool(_) => self.bools += 1,
            Json::Integer(_) => self.integers += 1,
            Json::Float(_) => self.floats += 1,
            Json::String(text) => {
                self.strings += 1;
                if !self.distinct.contains(text) {
                    self.distinct.insert(text.clone());
                }
            }
            Json::Array(items) => {
                self.arrays += 1;
                let shape = self.items.get_or_insert_with(Box::default);
                items.iter().for_each(|item| shape.add(item));
            }
            Json::Object(members) => {
                self.objects += 1;
                for (name, value) in members {
                    let at = *self.index.entry(name.clone()).or_insert_with(|| {
                        self.fields.push((name.clone(), Shape::default()));
                        self.fields.len() - 1
                    });
                    self.fields[at].1.add(value);
                }
            }
        }
    }

    /// Whether every value seen here is a string (and at least one was).
    pub(crate) fn only_strings(&self) -> bool {
        self.strings > 0 && self.strings == self.seen
    }

    /// Whether every value seen here is an integer (and at least one was).
    pub(crate) fn only_integers(&self) -> bool {
        self.integers > 0 && self.integers == self.seen
    }

    /// The fields of the objects seen here, in the order they first appeared.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&str, &Shape)> {
        self.fields.iter().map(|(name, shape)| (name.as_str(), shape))
    }

    /// Calls `f` with the JSON pointer (`*` for every array element) and shape of every
    /// place below this one, parents first.
    pub(crate) fn walk(&self, path: &mut String, f: &mut dyn FnMut(&str, &Shape)) {
        let len = path.len();
        if let Some(items) = &self.items {
            path.push_str("/*");
            f(path, items);
            items.walk(path, f);
            path.truncate(len);
        }
        for (name, shape) in &self.fields {
            crate::json::pointer::push_key_to(path, name);
            f(path, shape);
            shape.walk(path, f);
            path.truncate(len);
        }
    }
}

/// What a schema guessed beyond the types, for the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub(crate) enum Detail {
    Enum { path: String, values: usize },
    Format { path: String, format: &'static str },
}

/// The string formats told apart, each with a cheap test a value must pass before the
/// validator that `seedc check` uses (formats asserted, draft 2020-12) is asked: a format
/// is guessed only when that same validator accepts every value.
pub(crate) struct Formats {
    checks: Vec<Format>,
}

/// A format's name, its cheap test, and the validator of `{"format": name}`.
type Format = (&'static str, Cheap, jsonschema::Validator);
type Cheap = fn(&str) -> bool;

impl Formats {
    pub(crate) fn new() -> Formats {
        let candidates: [(&'static str, Cheap); 5] = [
            ("date-time", |s| s.len() >= 20 && matches!(s.as_bytes()[10], b'T' | b't')),
            ("date", |s| s.len() == 10 && s.as_bytes()[4] == b'-'),
            ("uuid", |s| s.len() == 36 && s.as_bytes()[8] == b'-'),
            ("uri", |s| s.contains("://") && !s.contains(char::is_whitespace)),
            ("email", |s| s.contains('@') && !s.contains(char::is_whitespace)),
        ];
        let checks = candidates
            .into_iter()
            .map(|(name, cheap)| {
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&serde_json::json!({ "type": "string", "format": name }))
                    .expect("a format schema compiles");
                (name, cheap, validator)
            })
            .collect();
        Formats { checks }
    }

    /// The first format every one of `values` has.
    fn of(&self, values: &BTreeSet<String>) -> Option<&'static str> {
        self.checks.iter().find_map(|(name, cheap, validator)| {
            let all = values.iter().all(|v| cheap(v) && validator.is_valid(&serde_json::Value::String(v.clone())));
            all.then_some(*name)
        })
    }
}

/// How a schema is guessed: which places must stay open strings (keys and references,
/// whose values the reference check judges, not an enum), and where the details go.
pub(crate) struct Guesser<'a> {
    pub open: &'a BTreeSet<String>,
    pub formats: &'a Formats,
    pub details: Vec<Detail>,
}

impl Guesser<'_> {
    /// The schema of the values of `shape`, found at `path`.
    pub(crate) fn schema(&mut self, shape: &Shape, path: &mut String) -> Vec<(&'static str, Json)> {
        let mut types = Vec::new();
        for (count, name) in [(shape.nulls, "null"), (shape.bools, "boolean")] {
            if count > 0 {
                types.push(name);
            }
        }
        if shape.floats > 0 {
            types.push("number");
        } else if shape.integers > 0 {
            types.push("integer");
        }
        for (count, name) in [(shape.strings, "string"), (shape.arrays, "array"), (shape.objects, "object")] {
            if count > 0 {
                types.push(name);
            }
        }
        let mut out = Vec::new();
        match types.as_slice() {
            [] => return out, // nothing seen here: anything goes
            [one] => out.push(("type", Json::str(*one))),
            many => out.push(("type", Json::Array(many.iter().map(|t| Json::str(*t)).collect()))),
        }
        if shape.strings > 0 {
            if let Some(format) = self.formats.of(&shape.distinct) {
                out.push(("format", Json::str(format)));
                self.details.push(Detail::Format { path: path.clone(), format });
            } else if shape.only_strings() && self.is_enum(shape, path) {
                out.push(("enum", Json::Array(shape.distinct.iter().map(|v| Json::str(v.as_str())).collect())));
                self.details.push(Detail::Enum { path: path.clone(), values: shape.distinct.len() });
            }
        }
        if let Some(items) = shape.items.as_deref().filter(|i| i.seen > 0) {
            let len = path.len();
            path.push_str("/*");
            let schema = self.schema(items, path);
            path.truncate(len);
            out.push(("items", object(schema)));
        }
        if shape.objects > 0 {
            let mut properties = Vec::new();
            let mut required = Vec::new();
            for (name, field) in &shape.fields {
                let len = path.len();
                crate::json::pointer::push_key_to(path, name);
                properties.push((name.clone(), object(self.schema(field, path))));
                path.truncate(len);
                if field.seen == shape.objects {
                    required.push(Json::str(name.as_str()));
                }
            }
            out.push(("properties", Json::Object(properties)));
            if !required.is_empty() {
                out.push(("required", Json::Array(required)));
            }
            // A misspelt field name is the commonest slip in hand-edited JSON.
            out.push(("additionalProperties", Json::Bool(false)));
        }
        out
    }

    fn is_enum(&self, shape: &Shape, path: &str) -> bool {
        let n = shape.distinct.len();
        !self.open.contains(path)
            && n <= ENUM_MAX
            && shape.strings >= ENUM_REPEATS * n
            && shape.distinct.iter().all(|v| v.chars().count() <= ENUM_VALUE_MAX)
    }
}

pub(crate) fn object(members: Vec<(&'static str, Json)>) -> Json {
    Json::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_of(records: &str) -> Shape {
        let Json::Array(records) = serde_json::from_str(records).unwrap() else { panic!() };
        let mut shape = Shape::default();
        records.iter().for_each(|r| shape.add(r));
        shape
    }

    #[test]
    fn types_required_enums_and_formats_are_guessed_from_the_data() {
        let shape = shape_of(
            r#"[{"id":"a","hp":1,"speed":1.5,"rarity":"common","at":"2026-01-01T00:00:00Z","tags":[]},
                {"id":"b","hp":2,"speed":2,"rarity":"common","at":"2026-01-02T10:00:00+01:00","tags":["x"]},
                {"id":"c","hp":3,"speed":1,"rarity":"rare","tags":["y"],"boss":null}]"#,
        );
        let open = BTreeSet::from(["/id".to_owned()]);
        let formats = Formats::new();
        let mut guesser = Guesser { open: &open, formats: &formats, details: Vec::new() };
        let schema = object(guesser.schema(&shape, &mut String::new()));
        let text = serde_json::to_string(&schema).unwrap();
        assert!(text.contains(r#""hp":{"type":"integer"}"#), "{text}");
        assert!(text.contains(r#""speed":{"type":"number"}"#), "{text}");
        assert!(text.contains(r#""at":{"type":"string","format":"date-time"}"#), "{text}");
        assert!(text.contains(r#""id":{"type":"string"}"#), "a key is never an enum: {text}");
        assert!(text.contains(r#""boss":{"type":"null"}"#), "{text}");
        assert!(text.contains(r#""required":["id","hp","speed","rarity","tags"]"#), "{text}");
        // Three values, two of them distinct: not enough repeats for an enum.
        assert!(text.contains(r#""rarity":{"type":"string"}"#), "{text}");
        assert_eq!(guesser.details, [Detail::Format { path: "/at".into(), format: "date-time" }]);
    }

    #[test]
    fn a_small_repeated_set_of_strings_is_an_enum() {
        let shape = shape_of(r#"[{"k":"a"},{"k":"b"},{"k":"a"},{"k":"b"},{"k":"a"}]"#);
        let formats = Formats::new();
        let mut guesser = Guesser { open: &BTreeSet::new(), formats: &formats, details: Vec::new() };
        let text = serde_json::to_string(&object(guesser.schema(&shape, &mut String::new()))).unwrap();
        assert!(text.contains(r#""k":{"type":"string","enum":["a","b"]}"#), "{text}");
    }
}
