//! Tests of canonical JSON and the record and collection hashes.

use super::*;
use serde_json::json;

#[test]
fn collection_hash_equals_hash_of_the_canonical_object() {
    let a = json!({"id": "a", "hp": 1});
    let b = json!({"id": "é", "hp": 2.5});
    let c = json!({"id": "\u{1f600}", "hp": 3});
    let h = |v: &Value| json!(hash_value(v).to_string());
    // Each key to its record's content hash: what a table's `id` and `content_hash` give.
    let by_hand = hash_value(&json!({"a": h(&a), "é": h(&b), "\u{1f600}": h(&c)}));
    assert_eq!(hash_collection([("\u{1f600}", &c), ("a", &a), ("é", &b)]), by_hand);
    let kept = [("é", CanonicalRecord::of(&b)), ("\u{1f600}", CanonicalRecord::of(&c)), ("a", CanonicalRecord::of(&a))];
    assert_eq!(hash_canonical_collection(kept.iter().map(|(k, r)| (*k, r))), by_hand);
    assert_eq!(kept[0].1.bytes, canonical(&b));
    assert_eq!(kept[0].1.hash, hash_value(&b));
    // The older definition: each key to its record.
    let whole = hash_value(&json!({"a": a, "é": b, "\u{1f600}": c}));
    assert_eq!(hash_collection_whole([("\u{1f600}", &c), ("a", &a), ("é", &b)]), whole);
    assert_eq!(hash_canonical_collection_whole(kept.iter().map(|(k, r)| (*k, r))), whole);
    assert_eq!(hash_of_record_hashes([]), hash_value(&json!({})));
}

#[test]
fn the_fast_writer_matches_the_canonicalizer() {
    let values = [
        json!({"b": 1, "a": [1, -2, 3.5, 1e21, 1e-7, -0.0, 0.1, 9007199254740991_i64, -9007199254740992_i64, 18446744073709551615_u64]}),
        json!({"\u{1f600}": 1, "\u{e000}": 2, "é": 3, "z": 4, "": 5, "A": 6}),
        json!(["\u{0}\u{1f}\u{7f}\"\\/\u{2028}\u{8}\t\n\u{c}\r", null, true, false, {}, [], 100, 1.0, 2.5e-10]),
    ];
    for value in values {
        let mut out = Vec::new();
        write_canonical(&value, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), String::from_utf8(canonical(&value)).unwrap());
    }
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(repo.join("data/seeds")).unwrap() {
        let value: Value = serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        let mut out = Vec::new();
        write_canonical(&value, &mut out);
        assert_eq!(out, canonical(&value));
    }
}

fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,6}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    /// Bundle names come from `canonical`, lock and collection hashes from the fast
    /// writer: they must never disagree.
    #[test]
    fn the_fast_writer_matches_the_canonicalizer_on_any_value(value in arb_json()) {
        let mut out = Vec::new();
        write_canonical(&value, &mut out);
        proptest::prop_assert_eq!(out, canonical(&value));
    }

    /// A deploy hashes collections from kept canonical records, a check from values:
    /// the lock must not depend on which one ran.
    #[test]
    fn both_collection_hashes_agree(records in proptest::collection::btree_map(".{0,6}", arb_json(), 0..8)) {
        let kept: Vec<(&str, CanonicalRecord)> = records.iter().map(|(k, v)| (k.as_str(), CanonicalRecord::of(v))).collect();
        let values = || records.iter().map(|(k, v)| (k.as_str(), v));
        proptest::prop_assert_eq!(hash_canonical_collection(kept.iter().rev().map(|(k, r)| (*k, r))), hash_collection(values()));
        proptest::prop_assert_eq!(hash_canonical_collection_whole(kept.iter().rev().map(|(k, r)| (*k, r))), hash_collection_whole(values()));
        let object = |f: &dyn Fn(&Value) -> Value| Value::Object(records.iter().map(|(k, v)| (k.clone(), f(v))).collect());
        proptest::prop_assert_eq!(hash_collection(values()), hash_value(&object(&|v| json!(hash_value(v).to_string()))));
        proptest::prop_assert_eq!(hash_collection_whole(values()), hash_value(&object(&|v| v.clone())));
    }
}

#[test]
fn needs_escape_finds_every_byte_that_needs_one_anywhere() {
    for len in 0..20 {
        for at in 0..len {
            for b in 0..=255u8 {
                let mut bytes = vec![b'a'; len];
                bytes[at] = b;
                assert_eq!(needs_escape(&bytes), b < 0x20 || b == b'"' || b == b'\\', "{b:#x} at {at} of {len}");
            }
        }
        assert!(!needs_escape(&vec![0xff; len]) && !needs_escape(&vec![0x20; len]) && !needs_escape(&vec![0x7f; len]));
    }
}

/// The fast writer takes an object's members in the order serde_json's map iterates
/// them: byte order, as long as its `preserve_order` feature (which some crate could
/// turn on for every user of serde_json) stays off.
#[test]
fn maps_iterate_in_byte_order() {
    let map: serde_json::Map<String, Value> = ["b", "a", "\u{e000}", "A", "ab"].iter().map(|k| ((*k).to_owned(), Value::Null)).collect();
    assert_eq!(map.keys().map(String::as_str).collect::<Vec<_>>(), ["A", "a", "ab", "b", "\u{e000}"]);
}

#[test]
fn hash_round_trips_through_text() {
    let h = ContentHash::of(b"abc");
    assert_eq!(h.to_string(), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(ContentHash::parse(&h.to_string()), Some(h));
    assert_eq!(ContentHash::parse("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"), None);
}
