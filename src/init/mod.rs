//! `seedc init`'s guesses, pure: from each collection's records, the key, a record schema
//! (types, required fields, integer or number, enums for small closed sets of strings,
//! string formats) and the references between collections, and the seedc.toml that
//! declares them. The command (`commands/init.rs`) reads the files and writes the results.

pub(crate) mod json;
mod references;
pub(crate) mod render;
mod shape;

use std::collections::{BTreeSet, HashSet};

pub(crate) use json::Json;
pub(crate) use references::{Ambiguous, Reference};
use shape::{Detail, Formats, Guesser, Shape};

/// The JSON Schema dialect of every schema seedc reads.
const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The fields tried as a key first, in this order; then any other field, in the data's order.
const KEY_NAMES: [&str; 4] = ["id", "key", "slug", "code"];

/// One collection's records, read from its seed file.
pub(crate) struct Input {
    pub name: String,
    /// The seed file, relative to the content root.
    pub file: String,
    pub records: Vec<Json>,
}

/// What was guessed about one collection.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Collection {
    pub name: String,
    pub file: String,
    pub records: usize,
    pub key: String,
    /// False when no field could be a key (no record, or none unique in every record), so
    /// `key` is the default `id`.
    pub key_guessed: bool,
    pub schema_path: String,
    #[serde(skip)]
    pub schema: Json,
    pub details: Vec<Detail>,
    pub references: Vec<Reference>,
    pub ambiguous: Vec<Ambiguous>,
}

/// Guesses every collection; `inputs` in any order, the result sorted by name.
pub(crate) fn guess(inputs: &[Input]) -> Vec<Collection> {
    let mut inputs: Vec<&Input> = inputs.iter().collect();
    inputs.sort_by(|a, b| a.name.cmp(&b.name));
    let shapes: Vec<Shape> = inputs
        .iter()
        .map(|input| {
            let mut shape = Shape::default();
            input.records.iter().for_each(|r| shape.add(r));
            shape
        })
        .collect();
    let keys: Vec<Option<(String, HashSet<String>)>> = inputs.iter().zip(&shapes).map(|(input, shape)| key_of(input, shape)).collect();
    let targets: Vec<references::Target> = inputs
        .iter()
        .zip(&keys)
        .filter_map(|(input, key)| key.as_ref().map(|(_, keys)| references::Target { name: &input.name, keys }))
        .collect();
    let formats = Formats::new();
    inputs
        .iter()
        .zip(&shapes)
        .zip(&keys)
        .map(|((input, shape), key)| {
            let key_guessed = key.is_some();
            let key = key.as_ref().map_or("id", |(field, _)| field.as_str()).to_owned();
            let key_path = crate::json::pointer::Pointer::root().key(&key).into_string();
            let (references, ambiguous) = references::guess(shape, &key_path, &targets);
            let open: BTreeSet<String> = references.iter().map(|r| r.path.clone()).chain([key_path]).collect();
            let mut guesser = Guesser { open: &open, formats: &formats, details: Vec::new() };
            let mut schema = vec![
                ("$schema", Json::str(DIALECT)),
                ("title", Json::str(input.name.as_str())),
                (
                    "description",
                    Json::str(format!(
                        "One record of {}, guessed by `seedc init` from {} records of {}: edit it to say what the data means (ranges, descriptions, patterns).",
                        input.name,
                        input.records.len(),
                        input.file
                    )),
                ),
            ];
            let body = guesser.schema(shape, &mut String::new());
            if body.is_empty() {
                schema.push(("type", Json::str("object")));
            }
            schema.extend(body);
            Collection {
                name: input.name.clone(),
                file: input.file.clone(),
                records: input.records.len(),
                key,
                key_guessed,
                schema_path: schema_path(&input.name),
                schema: shape::object(schema),
                details: guesser.details,
                references,
                ambiguous,
            }
        })
        .collect()
}

/// Where a collection's guessed record schema is written.
pub(crate) fn schema_path(collection: &str) -> String {
    format!("schemas/seeds/{collection}.schema.json")
}

/// The key of a collection's records and the set of its values: the first field, `id`
/// first, present in every record with a distinct non-empty string or integer in each.
/// Integer keys are keys but never reference targets (references are guessed from strings).
fn key_of(input: &Input, shape: &Shape) -> Option<(String, HashSet<String>)> {
    let named = KEY_NAMES.iter().copied().filter(|name| shape.fields().any(|(f, _)| f == *name));
    let others = shape.fields().map(|(f, _)| f).filter(|f| !KEY_NAMES.contains(f));
    let records = input.records.len();
    for field in named.chain(others) {
        let Some((_, place)) = shape.fields().find(|(f, _)| *f == field) else { continue };
        if records == 0 || place.seen != records {
            continue;
        }
        if place.only_strings() && place.distinct.len() == records && !place.distinct.contains("") {
            return Some((field.to_owned(), place.distinct.iter().cloned().collect()));
        }
        if place.only_integers() {
            let values: HashSet<String> = input.records.iter().filter_map(|r| member(r, field)).map(|v| v.to_string()).collect();
            if values.len() == records {
                return Some((field.to_owned(), HashSet::new()));
            }
        }
    }
    None
}

fn member<'a>(record: &'a Json, field: &str) -> Option<&'a serde_json::Number> {
    let Json::Object(members) = record else { return None };
    members.iter().find(|(k, _)| k == field).and_then(|(_, v)| if let Json::Integer(n) = v { Some(n) } else { None })
}

/// The seedc.toml declaring `collections` (as [`guess`] returns them). Content text (names
/// of fields) appears only inside TOML strings, escaped, never in a comment.
pub(crate) fn config_text(project: &str, collections: &[Collection]) -> String {
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let mut text = String::from(
        "# seedc project config, written by `seedc init`: the keys and references below were guessed\n\
         # from the data in data/seeds/. Read them, edit them, commit them (see docs/formats.md).\n\n",
    );
    text.push_str(&format!("[project]\nname = {}\n", quote(project)));
    text.push_str(&format!(
        "daily_salt = {}      # mixed into every daily seed: make it this game's own\n",
        quote(&format!("{project}-daily-v1"))
    ));
    for c in collections {
        text.push_str(&format!("\n[collections.{}]\nschema = {}\n", c.name, quote(&c.schema_path)));
        let why = if c.key_guessed {
            format!("unique in all {} records", c.records)
        } else {
            "the default: no field is unique in every record".to_owned()
        };
        text.push_str(&format!("key = {}      # {why}\n", quote(&c.key)));
        if !c.references.is_empty() {
            text.push_str("references = [\n");
            for r in &c.references {
                let values = if r.values == 1 { "1 value".to_owned() } else { format!("{} values", r.values) };
                text.push_str(&format!(
                    "  {{ path = {}, collection = {} }},      # {values}, all keys of {}\n",
                    quote(&r.path),
                    quote(&r.collection),
                    r.collection
                ));
            }
            text.push_str("]\n");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, records: &str) -> Input {
        let Json::Array(records) = serde_json::from_str(records).unwrap() else { panic!() };
        Input { name: name.to_owned(), file: format!("data/seeds/{name}.json"), records }
    }

    #[test]
    fn keys_references_and_config_are_guessed() {
        let inputs = [
            input("enemies", r#"[{"slug":"rat","hp":3,"drops":["cheese"]},{"slug":"bat","hp":2,"drops":[]}]"#),
            input("items", r#"[{"name":"Cheese","id":"cheese"},{"name":"Cheese","id":"bread"}]"#),
            input("empty", "[]"),
        ];
        let guessed = guess(&inputs);
        let names: Vec<(&str, &str, bool)> = guessed.iter().map(|c| (c.name.as_str(), c.key.as_str(), c.key_guessed)).collect();
        assert_eq!(names, [("empty", "id", false), ("enemies", "slug", true), ("items", "id", true)]);
        assert_eq!(guessed[1].references, [Reference { path: "/drops/*".into(), collection: "items".into(), values: 1 }]);
        let text = config_text("game", &guessed);
        let config: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(config["collections"]["enemies"]["references"][0]["path"].as_str(), Some("/drops/*"), "{text}");
        assert_eq!(config["collections"]["items"]["key"].as_str(), Some("id"));
    }
}
