//! Declared references between collections (seedc.toml `references`): every key named at a
//! reference's path must exist in the target collection. A dangling reference names both
//! ends: the referring record and field, and the collection lacking the key.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::config::Config;
use crate::diag::{Code, Diagnostic};
use crate::load::json::escape_pointer;
use crate::load::{Content, record_label};

pub fn check(content: &Content, config: &Config) -> Vec<Diagnostic> {
    let keys: HashMap<&str, HashSet<&str>> = content
        .seeds
        .iter()
        .map(|(name, seed)| (name.as_str(), seed.records.iter().filter_map(|r| r.key.as_deref()).collect()))
        .collect();
    let mut diags = Vec::new();
    for (name, seed) in &content.seeds {
        let Some(c) = config.collections.get(name) else { continue };
        for reference in &c.references {
            let target = reference.collection.as_str();
            // Without the whole target collection every reference into it would look dangling.
            let complete = content.seeds.get(target).is_some_and(|s| s.complete) && !content.unavailable.iter().any(|u| u == target);
            let Some(target_keys) = keys.get(target).filter(|_| complete) else { continue };
            let tokens: Vec<&str> = reference.path.split('/').skip(1).collect();
            for record in &seed.records {
                let mut found = Vec::new();
                walk(&record.value, &tokens, String::new(), &mut found);
                for (pointer, key) in found {
                    if target_keys.contains(key) {
                        continue;
                    }
                    let target_file = content.seeds.get(target).map_or("", |s| s.file.as_str());
                    let mut d = Diagnostic::error(
                        Code::DanglingReference,
                        format!("{} refers to {target} {key:?}, which does not exist", record_label(name, record.key.as_deref(), record.index)),
                    )
                    .in_file(&seed.file)
                    .at_value(format!("/data/{}{pointer}", record.index))
                    .record(record_label(name, record.key.as_deref(), record.index));
                    d = match super::did_you_mean(key, target_keys.iter().copied()) {
                        Some(s) => d.help(format!("no record in {target_file} has key {key:?}; did you mean {s:?}?")),
                        None => d.help(format!("no record in {target_file} has key {key:?}")),
                    };
                    diags.push(d);
                }
            }
        }
    }
    diags
}

/// Collects the string values at `tokens` below `value` with their pointers; `*` matches
/// every element of an array or member of an object. Missing paths yield nothing.
fn walk<'v>(value: &'v Value, tokens: &[&str], pointer: String, out: &mut Vec<(String, &'v str)>) {
    let Some((token, rest)) = tokens.split_first() else {
        if let Value::String(s) = value {
            out.push((pointer, s));
        }
        return;
    };
    match (value, *token) {
        (Value::Array(items), "*") => {
            for (i, item) in items.iter().enumerate() {
                walk(item, rest, format!("{pointer}/{i}"), out);
            }
        }
        (Value::Object(map), "*") => {
            for (k, v) in map {
                walk(v, rest, format!("{pointer}/{}", escape_pointer(k)), out);
            }
        }
        (Value::Array(items), t) => {
            if let Some(item) = t.parse::<usize>().ok().and_then(|i| items.get(i)) {
                walk(item, rest, format!("{pointer}/{t}"), out);
            }
        }
        (Value::Object(map), t) => {
            let key = t.replace("~1", "/").replace("~0", "~");
            if let Some(v) = map.get(&key) {
                walk(v, rest, format!("{pointer}/{t}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn walk_expands_wildcards_and_skips_missing() {
        let v = json!({"drops": [{"item": "a"}, {"chance": 1}, {"item": "b"}], "tags": {"x": "c", "y": 1}});
        let mut out = Vec::new();
        walk(&v, &["drops", "*", "item"], String::new(), &mut out);
        assert_eq!(out, vec![("/drops/0/item".to_owned(), "a"), ("/drops/2/item".to_owned(), "b")]);
        out.clear();
        walk(&v, &["tags", "*"], String::new(), &mut out);
        assert_eq!(out, vec![("/tags/x".to_owned(), "c")]);
        out.clear();
        walk(&v, &["nope", "*"], String::new(), &mut out);
        assert!(out.is_empty());
    }
}
