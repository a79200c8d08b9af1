//! Declared references between collections (seedc.toml `references`): every key named at a
//! reference's path must exist in the target collection. A dangling reference names both
//! ends: the referring record and field, and the collection lacking the key.

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;
use serde_json::Value;

use crate::diag::{Code, Diagnostic};
use crate::json::pointer::Pointer;
use crate::load::known::{KnownCollection, OutRef, RefArena};
use crate::load::{Body, Content, Record, SeedFile, record_label};
use crate::project::config::{CollectionConfig, Config};

/// Checks every declared reference. A known record's references are those `known`
/// recorded for it (the same keys at the same places, as its bytes are the same), checked
/// against the target's keys as they are now.
pub(crate) fn check(content: &Content, config: &Config, known: &BTreeMap<&str, &KnownCollection>) -> Vec<Diagnostic> {
    check_from(content, config, known, &|_| true)
}

/// [`check`] of the references made by the collections `from` accepts only (the language
/// server's, after one file changed): the same diagnostics [`check`] gives for them.
pub(crate) fn check_from(
    content: &Content,
    config: &Config,
    known: &BTreeMap<&str, &KnownCollection>,
    from: &dyn Fn(&str) -> bool,
) -> Vec<Diagnostic> {
    let sources: Vec<(&String, &SeedFile, &CollectionConfig)> = content
        .seeds
        .iter()
        .filter(|(name, _)| from(name))
        .filter_map(|(name, seed)| Some((name, seed, config.collections.get(name)?)))
        .collect();
    // The keys of the collections those name, and only theirs.
    let targets: HashSet<&str> = sources.iter().flat_map(|(_, _, c)| c.references.iter().map(|r| r.collection.as_str())).collect();
    let keys: HashMap<&str, HashSet<&str, rustc_hash::FxBuildHasher>> = content
        .seeds
        .par_iter()
        .filter(|(name, _)| targets.contains(name.as_str()))
        .map(|(name, seed)| (name.as_str(), seed.records.iter().filter_map(|r| r.key.as_deref()).collect()))
        .collect();
    let mut diags = Vec::new();
    for (name, seed, c) in sources {
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
                }
            })
            .collect();
        if declared.iter().all(|d| d.target_keys.is_none()) {
            continue;
        }
        let finder = Finder::of_seed(c, known.get(name.as_str()).copied(), seed);
        let found: Vec<Vec<Dangling>> =
            seed.records.par_iter().map(|record| check_record(name, &seed.file, record, &finder, &declared)).collect();
        // Hints for the first few dangling references of each declared reference, in
        // record order, so the work is bounded and the output deterministic.
        let mut hinted = vec![0usize; declared.len()];
        for (mut diag, reference, key) in found.into_iter().flatten() {
            if hinted[reference] < super::SUGGESTIONS {
                hinted[reference] += 1;
                diag = suggest(diag, &declared[reference], &key);
            }
            diags.push(diag);
        }
    }
    diags
}

/// Finds the outgoing references of a collection's records, whatever their body: walked in
/// a parsed value, kept by a reduced record, or known from the index (kept there, or found
/// again in the known record's canonical bytes). The one walk the reference check, the
/// reduced records and the deploy memo share.
pub struct Finder<'c> {
    /// Each declared reference's path, unescaped once here, not once per record.
    tokens: Vec<Vec<Token>>,
    known: Option<&'c KnownCollection>,
    /// The arenas of the reduced records' references ([`SeedFile::reduced`]).
    reduced: &'c [RefArena],
}

impl<'c> Finder<'c> {
    /// For the records of a collection configured as `collection`, loaded against `known`
    /// (the collection's applicable known records, if any).
    pub(crate) fn new(collection: &CollectionConfig, known: Option<&'c KnownCollection>) -> Self {
        Finder { tokens: collection.references.iter().map(|r| tokens(&r.path)).collect(), known, reduced: &[] }
    }

    /// For the records of `seed`, which may have been reduced while loading.
    pub(crate) fn of_seed(collection: &CollectionConfig, known: Option<&'c KnownCollection>, seed: &'c SeedFile) -> Self {
        Finder { reduced: seed.reduced.as_deref().unwrap_or_default(), ..Finder::new(collection, known) }
    }

    /// Calls `found` with each outgoing reference of `record`, in walk order: its position
    /// in the collection's `references`, its pointer relative to the record, and the key.
    pub fn each(&self, record: &Record, found: &mut dyn FnMut(u32, &str, &str)) {
        let mut text = String::new();
        self.visit(record, &|_| true, &mut |i, pointer, key| {
            text.clear();
            pointer(&mut text);
            found(i as u32, &text, key);
        });
    }

    /// The outgoing references of `records`, in one arena, in their order; None if they do
    /// not fit one. It is built in `scratch` (left empty, its room kept for the next), so
    /// that the arena is allocated once, at its size.
    pub(crate) fn arena(&self, records: &[Record], scratch: &mut RefArena) -> Option<RefArena> {
        scratch.clear();
        for r in records {
            let mut fits = true;
            self.visit(r, &|_| true, &mut |reference, pointer, key| fits &= scratch.push_with(reference as u32, pointer, key).is_some());
            fits.then_some(())?;
            scratch.end_record()?;
        }
        let arena = scratch.clone();
        scratch.clear();
        Some(arena)
    }

    /// Every outgoing reference of `record`, in walk order.
    pub fn all(&self, record: &Record) -> Vec<OutRef> {
        let mut all = Vec::new();
        self.visit(record, &|_| true, &mut |i, pointer, key| {
            all.push(OutRef { reference: i as u32, pointer: to_pointer(pointer), key: key.to_owned() });
        });
        all
    }

    /// Calls `found` with each outgoing reference of `record` through the declared
    /// references that are `wanted`; its pointer is written (into the string given) only if
    /// asked for, so a walk that finds nothing wrong allocates nothing.
    /// Generic, not `dyn`: this is the reference check's inner loop.
    fn visit<W, F>(&self, record: &Record, wanted: &W, found: &mut F)
    where
        W: Fn(usize) -> bool,
        F: FnMut(usize, &dyn Fn(&mut String), &str),
    {
        let walk_value = |value: &Value, found: &mut F| {
            for (i, tokens) in self.tokens.iter().enumerate().filter(|(i, _)| wanted(*i)) {
                walk(value, tokens, &mut Vec::new(), &mut |path: &[Step], key: &str| {
                    found(i, &|out: &mut String| write_pointer(path, out), key)
                });
            }
        };
        match (&record.body, self.known) {
            (Body::Parsed { value, .. }, _) => walk_value(value, found),
            (Body::Known(j), Some(k)) => match k.refs(*j) {
                Some(refs) => {
                    for (i, p, key) in refs.filter(|(i, _, _)| wanted(*i as usize)) {
                        found(i as usize, &|out: &mut String| out.push_str(p), key);
                    }
                }
                // Valid canonical JSON, keys and strings as in the record's own bytes.
                None => {
                    if let Ok(value) = serde_json::from_slice::<Value>(&k.records[*j].canonical.bytes) {
                        walk_value(&value, found);
                    }
                }
            },
            (Body::Reduced(at), _) => {
                let arena = self.reduced.get(at.arena).expect("a reduced record's file has its arenas");
                for (i, p, key) in arena.record(at.record).filter(|(i, _, _)| wanted(*i as usize)) {
                    found(i as usize, &|out: &mut String| out.push_str(p), key);
                }
            }
            (Body::Known(_), None) => unreachable!("a record left unparsed is known"),
        }
    }
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
}

/// The dangling references of one record.
fn check_record(name: &str, file: &str, record: &Record, finder: &Finder, declared: &[Declared]) -> Vec<Dangling> {
    let mut diags = Vec::new();
    finder.visit(record, &|i| declared[i].target_keys.is_some(), &mut |reference, pointer, key| {
        let d = &declared[reference];
        if let Some(target_keys) = d.target_keys
            && !target_keys.contains(key)
        {
            diags.push((dangling(name, file, record, d, &to_pointer(pointer), key), reference, key.to_owned()));
        }
    });
    diags
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

/// The pointer text of `path`, written at the end of `out`.
fn write_pointer(path: &[Step], out: &mut String) {
    for step in path {
        match step {
            Step::Index(i) => crate::json::pointer::push_index_to(out, *i),
            Step::Member(k) => crate::json::pointer::push_key_to(out, k),
        }
    }
}

fn to_pointer(write: &dyn Fn(&mut String)) -> Pointer {
    let mut text = String::new();
    write(&mut text);
    Pointer::from(text)
}

/// A reference path's tokens, unescaped; `*` is the wildcard (config made sure the path
/// starts with `/`).
fn tokens(path: &str) -> Vec<Token> {
    crate::json::pointer::tokens(path)
        .into_iter()
        .flatten()
        .map(|t| if t == "*" { Token::Any } else { Token::Name(t.into_owned()) })
        .collect()
}

/// Calls `found` with the path and value of every string at `tokens` below `value`; `*`
/// matches every element of an array or member of an object. Missing paths yield nothing.
/// The path is kept as borrowed steps so that a record without a dangling reference, the
/// usual case, allocates nothing.
fn walk<'v, F: FnMut(&[Step<'v>], &'v str)>(value: &'v Value, tokens: &[Token], path: &mut Vec<Step<'v>>, found: &mut F) {
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
            walk(&v, &tokens, &mut Vec::new(), &mut |p: &[Step], s: &str| {
                out.push((to_pointer(&|o: &mut String| write_pointer(p, o)).into_string(), s.to_owned()))
            });
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
