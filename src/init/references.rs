//! References between collections, guessed from the data: a place in a collection's records
//! where every value is a string and every string is a key of one other collection (or of
//! its own, as an element's `strong_against` names elements).

use std::collections::{BTreeSet, HashSet};

use super::shape::Shape;

/// A guessed reference, as seedc.toml declares it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Reference {
    pub path: String,
    pub collection: String,
    /// How many distinct keys the data names there.
    pub values: usize,
}

/// A place whose strings are all keys of more than one collection, none named like it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Ambiguous {
    pub path: String,
    pub collections: Vec<String>,
}

/// The keys of one collection, as a reference check compares them (strings).
pub(crate) struct Target<'a> {
    pub name: &'a str,
    pub keys: &'a HashSet<String>,
}

/// The references of the records shaped `shape` (whose key is at `key_path`) into `targets`.
pub(crate) fn guess(shape: &Shape, key_path: &str, targets: &[Target]) -> (Vec<Reference>, Vec<Ambiguous>) {
    let mut found = Vec::new();
    let mut ambiguous = Vec::new();
    shape.walk(&mut String::new(), &mut |path, place| {
        if path == key_path || !place.only_strings() {
            return;
        }
        let candidates: Vec<&Target> = targets.iter().filter(|t| is_subset(&place.distinct, t.keys)).collect();
        let chosen = match candidates.as_slice() {
            [] => return,
            [one] => *one,
            many => {
                let named: Vec<&&Target> = many.iter().filter(|t| names(path, t.name)).collect();
                match named.as_slice() {
                    [one] => **one,
                    _ => {
                        ambiguous.push(Ambiguous { path: path.to_owned(), collections: many.iter().map(|t| t.name.to_owned()).collect() });
                        return;
                    }
                }
            }
        };
        found.push(Reference { path: path.to_owned(), collection: chosen.name.to_owned(), values: place.distinct.len() });
    });
    (found, ambiguous)
}

fn is_subset(values: &BTreeSet<String>, keys: &HashSet<String>) -> bool {
    values.iter().all(|v| keys.contains(v))
}

/// Whether the last named token of `path` names `collection`: `item` or `items` for
/// `items`, `enemy` for `enemies`, `boss` for `bosses`, `loot_item` for `items`.
fn names(path: &str, collection: &str) -> bool {
    let Some(token) = path.rsplit('/').find(|t| *t != "*") else { return false };
    let singular = collection
        .strip_suffix("ies")
        .map(|s| format!("{s}y"))
        .or_else(|| collection.strip_suffix("es").filter(|s| s.ends_with(['s', 'x', 'h'])).map(str::to_owned))
        .or_else(|| collection.strip_suffix('s').map(str::to_owned))
        .unwrap_or_else(|| collection.to_owned());
    [collection, singular.as_str()].iter().any(|name| token == *name || token.ends_with(&format!("_{name}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::json::Json;

    fn keys(list: &[&str]) -> HashSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_place_whose_strings_are_all_keys_of_one_collection_is_a_reference() {
        let records: Json = serde_json::from_str(
            r#"[{"id":"b1","theme":"caves","loot":[{"item":"sword"},{"item":"potion"}],"mood":"grim"},
                {"id":"b2","theme":"caves","loot":[],"mood":"sword"}]"#,
        )
        .unwrap();
        let Json::Array(records) = records else { panic!() };
        let mut shape = Shape::default();
        records.iter().for_each(|r| shape.add(r));
        let (items, themes, bosses) = (keys(&["sword", "potion"]), keys(&["caves"]), keys(&["b1", "b2"]));
        let targets =
            [Target { name: "items", keys: &items }, Target { name: "themes", keys: &themes }, Target { name: "bosses", keys: &bosses }];
        let (found, ambiguous) = guess(&shape, "/id", &targets);
        let found: Vec<(&str, &str)> = found.iter().map(|r| (r.path.as_str(), r.collection.as_str())).collect();
        assert_eq!(found, [("/theme", "themes"), ("/loot/*/item", "items")]);
        assert!(ambiguous.is_empty());
    }

    #[test]
    fn names_match_singulars_and_suffixes() {
        assert!(names("/drops/*/item", "items"));
        assert!(!names("/minions/*", "enemies") && names("/enemy", "enemies"));
        assert!(names("/criteria/boss", "bosses") && names("/home_theme", "themes"));
        assert!(!names("/theme", "items"));
    }
}
