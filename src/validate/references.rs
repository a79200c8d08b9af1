//! Declared references between collections (seedc.toml `references`): every key named at a
//! reference's path must exist in the target collection. A dangling reference names both
//! ends: the referring record and field, and the collection lacking the key.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use serde_json::Value;

use super::Reuse;
use crate::config::Config;
use crate::diag::{Code, Diagnostic};
use crate::load::json::escape_pointer;
use crate::load::{Content, record_label};

pub fn check(content: &Content, config: &Config, reuse: Option<&Reuse>) -> Vec<Diagnostic> {
    let keys: HashMap<&str, HashSet<&str, rustc_hash::FxBuildHasher>> = content
        .seeds
        .par_iter()
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
            let target_file = content.seeds.get(target).map_or("", |s| s.file.as_str());
            // Unescaped once here, not once per record.
            let tokens: Vec<Token> = reference
                .path
                .split('/')
                .skip(1)
                .map(|t| match t {
                    "*" => Token::Any,
                    t => Token::Name(t.replace("~1", "/").replace("~0", "~")),
                })
                .collect();
            // A record identical to one of a clean prior check resolves as it did there, if its
            // references are declared alike and every key the prior's target had is still here.
            let resolved =
                match reuse {
                    Some(reuse)
                        if reuse.prior.config.collections.get(name).is_some_and(|p| p.references == c.references)
                            && reuse.prior.content.seeds.get(target).is_some_and(|old| {
                                old.records.iter().all(|r| r.key.as_deref().is_none_or(|k| target_keys.contains(k)))
                            }) =>
                    {
                        reuse.same(name)
                    }
                    _ => &[],
                };
            let found: Vec<Diagnostic> = seed
                .records
                .par_iter()
                .enumerate()
                .filter(|(i, _)| super::reused(resolved, *i).is_none())
                .flat_map_iter(|(_, record)| {
                    let mut dangling = Vec::new();
                    let mut path = Vec::new();
                    walk(&record.value, &tokens, &mut path, &mut |path: &[Step], key: &str| {
                        if !target_keys.contains(key) {
                            dangling.push((pointer(path), key.to_owned()));
                        }
                    });
                    dangling.into_iter().map(move |(pointer, key)| {
                        let label = record_label(name, record.key.as_deref(), record.index);
                        let d =
                            Diagnostic::error(Code::DanglingReference, format!("{label} refers to {target} {key:?}, which does not exist"))
                                .in_file(&seed.file)
                                .at_value(format!("/data/{}{pointer}", record.index))
                                .record(label);
                        match super::did_you_mean(&key, target_keys.iter().copied()) {
                            Some(s) => d.help(format!("no record in {target_file} has key {key:?}; did you mean {s:?}?")),
                            None => d.help(format!("no record in {target_file} has key {key:?}")),
                        }
                    })
                })
                .collect();
            diags.extend(found);
        }
    }
    diags
}

/// One token of a reference path: a member name (or array index), or `*`.
enum Token {
    Any,
    Name(String),
}

/// One step taken from a record to a referenced value.
enum Step<'v> {
    Index(usize),
    Member(&'v str),
}

fn pointer(path: &[Step]) -> String {
    let mut p = String::new();
    for step in path {
        p.push('/');
        match step {
            Step::Index(i) => p.push_str(&i.to_string()),
            Step::Member(k) => p.push_str(&escape_pointer(k)),
        }
    }
    p
}

/// Calls `found` with the path and value of every string at `tokens` below `value`; `*`
/// matches every element of an array or member of an object. Missing paths yield nothing.
/// The path is kept as borrowed steps so that a record without a dangling reference, the
/// usual case, allocates nothing.
fn walk<'v>(value: &'v Value, tokens: &[Token], path: &mut Vec<Step<'v>>, found: &mut dyn FnMut(&[Step<'v>], &'v str)) {
    let Some((token, rest)) = tokens.split_first() else {
        if let Value::String(s) = value {
            found(path, s);
        }
        return;
    };
    match (value, token) {
        (Value::Array(items), Token::Any) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                walk(item, rest, path, found);
                path.pop();
            }
        }
        (Value::Object(map), Token::Any) => {
            for (k, v) in map {
                path.push(Step::Member(k));
                walk(v, rest, path, found);
                path.pop();
            }
        }
        (Value::Array(items), Token::Name(t)) => {
            if let Some((i, item)) = t.parse::<usize>().ok().and_then(|i| Some((i, items.get(i)?))) {
                path.push(Step::Index(i));
                walk(item, rest, path, found);
                path.pop();
            }
        }
        (Value::Object(map), Token::Name(t)) => {
            if let Some((k, v)) = map.get_key_value(t.as_str()) {
                path.push(Step::Member(k));
                walk(v, rest, path, found);
                path.pop();
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
        let v = json!({"drops": [{"item": "a"}, {"chance": 1}, {"item": "b"}], "tags": {"x": "c", "y": 1, "a/b": "d"}});
        let run = |path: &str| {
            let tokens: Vec<Token> =
                path.split('/').skip(1).map(|t| if t == "*" { Token::Any } else { Token::Name(t.replace("~1", "/")) }).collect();
            let mut out = Vec::new();
            walk(&v, &tokens, &mut Vec::new(), &mut |p: &[Step], s: &str| out.push((pointer(p), s.to_owned())));
            out
        };
        let owned = |pairs: &[(&str, &str)]| pairs.iter().map(|(p, s)| (p.to_string(), s.to_string())).collect::<Vec<_>>();
        assert_eq!(run("/drops/*/item"), owned(&[("/drops/0/item", "a"), ("/drops/2/item", "b")]));
        assert_eq!(run("/tags/*"), owned(&[("/tags/a~1b", "d"), ("/tags/x", "c")]));
        assert_eq!(run("/tags/a~1b"), owned(&[("/tags/a~1b", "d")]));
        assert_eq!(run("/drops/2/item"), owned(&[("/drops/2/item", "b")]));
        assert!(run("/nope/*").is_empty());
    }
}
