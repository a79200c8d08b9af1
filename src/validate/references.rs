//! Declared references between collections (seedc.toml `references`): every key named at a
//! reference's path must exist in the target collection. A dangling reference names both
//! ends: the referring record and field, and the collection lacking the key.

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;
use serde_json::Value;

use crate::config::{CollectionConfig, Config};
use crate::diag::{Code, Diagnostic};
use crate::known::{KnownCollection, OutRef};
use crate::load::{Body, Content, Record, SeedFile, record_label};
use crate::pointer::Pointer;

/// Each record's outgoing references, per collection, in the order of its `records`.
pub(crate) type Refs = BTreeMap<String, Vec<Vec<OutRef>>>;

/// Checks every declared reference. A known record's references are those `known`
/// recorded for it (the same keys at the same places, as its bytes are the same), checked
/// against the target's keys as they are now. With `keep`, also returns every record's
/// outgoing references.
pub(crate) fn check(content: &Content, config: &Config, known: &BTreeMap<&str, &KnownCollection>, keep: bool) -> (Vec<Diagnostic>, Refs) {
    let keys: HashMap<&str, HashSet<&str, rustc_hash::FxBuildHasher>> = content
        .seeds
        .par_iter()
        .map(|(name, seed)| (name.as_str(), seed.records.iter().filter_map(|r| r.key.as_deref()).collect()))
        .collect();
    let mut diags = Vec::new();
    let mut refs = Refs::new();
    for (name, seed) in &content.seeds {
        let Some(c) = config.collections.get(name) else { continue };
        if c.references.is_empty() {
            continue;
        }
        let declared: Vec<Declared> = c
            .references
            .iter()
            .map(|reference| {
                let target = reference.collection.as_str();
                // Without the whole target collection every reference into it would look dangling.
                let complete = content.seeds.get(target).is_some_and(|s| s.complete) && !content.unavailable.iter().any(|u| u == target);
                Declared {
                    target,
                    target_file: content.seeds.get(target).map_or("", |s| s.file.as_str()),
                    target_keys: keys.get(target).filter(|_| complete),
                    // Unescaped once here, not once per record.
                    tokens: tokens(&reference.path),
                }
            })
            .collect();
        if !keep && declared.iter().all(|d| d.target_keys.is_none()) {
            continue;
        }
        let k = known.get(name.as_str()).copied();
        let found: Vec<(Vec<Dangling>, Vec<OutRef>)> =
            seed.records.par_iter().map(|record| check_record(name, &seed.file, record, k, &declared, keep)).collect();
        let mut kept = Vec::with_capacity(if keep { found.len() } else { 0 });
        // Hints for the first few dangling references of each declared reference, in
        // record order, so the work is bounded and the output deterministic.
        let mut hinted = vec![0usize; declared.len()];
        for (d, r) in found {
            for (mut diag, reference, key) in d {
                if hinted[reference] < super::SUGGESTIONS {
                    hinted[reference] += 1;
                    diag = suggest(diag, &declared[reference], &key);
                }
                diags.push(diag);
            }
            if keep {
                kept.push(r);
            }
        }
        if keep {
            refs.insert(name.clone(), kept);
        }
    }
    (diags, refs)
}

/// Every record's outgoing references (the keys at the collection's reference paths), in
/// the order of its `records`; empty when the collection declares none. What a reduced
/// record ([`Body::Reduced`]) keeps for [`check`].
pub(crate) fn out_refs(seed: &SeedFile, collection: &CollectionConfig) -> Vec<Vec<OutRef>> {
    if collection.references.is_empty() {
        return Vec::new();
    }
    let declared: Vec<Declared> = collection
        .references
        .iter()
        .map(|r| Declared { target: &r.collection, target_file: "", target_keys: None, tokens: tokens(&r.path) })
        .collect();
    seed.records.par_iter().map(|record| check_record(&seed.collection, &seed.file, record, None, &declared, true).1).collect()
}

/// A dangling reference's diagnostic, with the index of its declared reference and the
/// missing key, for the hint added afterwards.
type Dangling = (Diagnostic, usize, String);

/// One declared reference of a collection, ready to check.
struct Declared<'c> {
    target: &'c str,
    target_file: &'c str,
    /// None when the target is not complete: nothing into it is checked.
    target_keys: Option<&'c HashSet<&'c str, rustc_hash::FxBuildHasher>>,
    tokens: Vec<Token>,
}

/// The dangling references of one record and, with `keep`, all its outgoing references.
fn check_record(
    name: &str,
    file: &str,
    record: &Record,
    known: Option<&KnownCollection>,
    declared: &[Declared],
    keep: bool,
) -> (Vec<Dangling>, Vec<OutRef>) {
    let mut diags = Vec::new();
    let mut kept = Vec::new();
    let mut check = |reference: usize, pointer: &dyn Fn() -> Pointer, key: &str| {
        let d = &declared[reference];
        if let Some(target_keys) = d.target_keys
            && !target_keys.contains(key)
        {
            diags.push((dangling(name, file, record, d, &pointer(), key), reference, key.to_owned()));
        }
    };
    match (&record.body, known) {
        (Body::Parsed { value, .. }, _) => {
            for (i, d) in declared.iter().enumerate() {
                if d.target_keys.is_none() && !keep {
                    continue;
                }
                let mut path = Vec::new();
                walk(value, &d.tokens, &mut path, &mut |path: &[Step], key: &str| {
                    check(i, &|| pointer(path), key);
                    if keep {
                        kept.push(OutRef { reference: i as u32, pointer: pointer(path), key: key.to_owned() });
                    }
                });
            }
        }
        (Body::Known(j), Some(k)) => {
            let refs = &k.records[*j].refs;
            for r in refs {
                check(r.reference as usize, &|| r.pointer.clone(), &r.key);
            }
            if keep {
                kept = refs.clone();
            }
        }
        (Body::Reduced { refs }, _) => {
            for r in refs {
                check(r.reference as usize, &|| r.pointer.clone(), &r.key);
            }
            if keep {
                kept = refs.clone();
            }
        }
        (Body::Known(_), None) => unreachable!("a record left unparsed is known"),
    }
    (diags, kept)
}

fn dangling(name: &str, file: &str, record: &Record, d: &Declared, pointer: &Pointer, key: &str) -> Diagnostic {
    let label = record_label(name, record.key.as_deref(), record.index);
    let target = d.target;
    let diag = Diagnostic::error(Code::DanglingReference, format!("{label} refers to {target} {key:?}, which does not exist"))
        .in_file(file)
        .at_value(Pointer::from("/data").index(record.index).join(pointer))
        .record(label);
    diag.help(format!("no record in {} has key {key:?}", d.target_file))
}

/// Adds a "did you mean" to a dangling reference's help, when a target key is close.
fn suggest(diag: Diagnostic, d: &Declared, key: &str) -> Diagnostic {
    match d.target_keys.and_then(|keys| super::did_you_mean(key, keys.iter().copied())) {
        Some(s) => diag.help(format!("no record in {} has key {key:?}; did you mean {s:?}?", d.target_file)),
        None => diag,
    }
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

fn pointer(path: &[Step]) -> Pointer {
    let mut p = Pointer::root();
    for step in path {
        match step {
            Step::Index(i) => p.push_index(*i),
            Step::Member(k) => p.push_key(k),
        }
    }
    p
}

/// A reference path's tokens, unescaped; `*` is the wildcard (config made sure the path
/// starts with `/`).
fn tokens(path: &str) -> Vec<Token> {
    crate::pointer::tokens(path).into_iter().flatten().map(|t| if t == "*" { Token::Any } else { Token::Name(t.into_owned()) }).collect()
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
            let tokens = tokens(path);
            let mut out = Vec::new();
            walk(&v, &tokens, &mut Vec::new(), &mut |p: &[Step], s: &str| out.push((pointer(p).into_string(), s.to_owned())));
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
