//! Stage 3, canonicalize and hash: RFC 8785 (JCS) canonical bytes and the SHA-256 content
//! addresses written as `sha256:<hex>`. Integers beyond 2^53 never get here: `check`
//! refuses them, because JCS (like JavaScript) would silently round them.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A SHA-256 content hash, displayed and serialized as `sha256:<64 lowercase hex>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
    pub fn of(bytes: &[u8]) -> Self {
        ContentHash(Sha256::digest(bytes).into())
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn parse(s: &str) -> Option<Self> {
        let hex = s.strip_prefix("sha256:")?;
        Self::parse_hex(hex)
    }

    pub fn parse_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 || hex.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex, &mut out).ok()?;
        Some(ContentHash(out))
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl Serialize for ContentHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ContentHash::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a sha256:<hex> hash")))
    }
}

impl schemars::JsonSchema for ContentHash {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ContentHash".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^sha256:[0-9a-f]{64}$",
            "description": "SHA-256 of the canonical (RFC 8785) bytes, as sha256:<hex>"
        })
    }
}

/// The RFC 8785 canonical bytes of a JSON value.
pub fn canonical(value: &Value) -> Vec<u8> {
    // Serializing a `Value` cannot fail: its map keys are strings and its numbers finite.
    serde_json_canonicalizer::to_vec(value).expect("a serde_json::Value always canonicalizes")
}

/// The canonical bytes of any serializable value (manifests, index, lock).
pub fn canonical_of<T: Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    serde_json_canonicalizer::to_vec(value)
}

/// The content hash of a value: SHA-256 of its canonical bytes.
pub fn hash_value(value: &Value) -> ContentHash {
    // The fast writer: deploy hashes every record of a changed collection.
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    ContentHash::of(&out)
}

/// The content hash of a collection: of the canonical JSON object mapping each record's key
/// to the record, so reordering records in the file does not change it.
pub fn hash_collection<'a>(records: impl IntoIterator<Item = (&'a str, &'a Value)>) -> ContentHash {
    use rayon::prelude::*;
    let mut hasher = Sha256::new();
    let mut sorted: Vec<_> = records.into_iter().collect();
    sort_members(&mut sorted);
    hasher.update(b"{");
    // Canonicalizing is the costly part and each record is independent: do it on every core,
    // a block at a time so memory stays bounded, and feed the hasher in order.
    const CHUNK: usize = 2048;
    let block = CHUNK * rayon::current_num_threads().max(1);
    let mut first = true;
    for block in sorted.chunks(block) {
        let parts: Vec<Vec<u8>> = block
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut out = Vec::new();
                for (key, record) in chunk {
                    // Every member is preceded by a comma; the object's first one is not.
                    out.push(b',');
                    write_string(key, &mut out);
                    out.push(b':');
                    write_canonical(record, &mut out);
                }
                out
            })
            .collect();
        for part in &parts {
            hasher.update(if first { &part[1..] } else { &part[..] });
            first = false;
        }
    }
    hasher.update(b"}");
    ContentHash(hasher.finalize().into())
}

/// A record's canonical bytes and their hash, kept by a check for `deploy`, which stores
/// both (the hash to plan with, the bytes as the row's `jsonb`).
/// The bytes are shared, so records read back from the deploy memo (see
/// `deploy::memo`) are slices of one buffer, not one allocation each.
#[derive(Debug, Clone)]
pub struct CanonicalRecord {
    pub bytes: bytes::Bytes,
    pub hash: ContentHash,
}

impl CanonicalRecord {
    pub fn of(value: &Value) -> Self {
        let mut bytes = Vec::new();
        write_canonical(value, &mut bytes);
        let hash = ContentHash::of(&bytes);
        // Copied out at its size: the buffer grew by doubling, and a deploy keeps every
        // record's bytes at once (half again as much memory, kept as spare room).
        CanonicalRecord { bytes: bytes::Bytes::copy_from_slice(&bytes), hash }
    }
}

/// The canonical bytes of a file's records in one buffer, in order: what a check that keeps
/// no records holds of a collection it must hash, one allocation instead of one per record.
#[derive(Debug, Default)]
pub struct CanonicalParts {
    bytes: Vec<u8>,
    /// Where each record's bytes end in `bytes`.
    ends: Vec<usize>,
}

impl CanonicalParts {
    /// Appends the canonical bytes of one more record.
    pub fn push(&mut self, value: &Value) {
        write_canonical(value, &mut self.bytes);
        self.ends.push(self.bytes.len());
    }

    /// Appends every record of `other`, after those already here.
    pub fn append(&mut self, other: CanonicalParts) {
        let base = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        self.ends.extend(other.ends.iter().map(|end| base + end));
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Each record's canonical bytes, in the order pushed.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(start, &end)| &self.bytes[start..end])
    }
}

/// [`hash_collection`] of records already canonicalized: the same hash, without writing
/// them again.
pub fn hash_canonical_collection<'a>(records: impl IntoIterator<Item = (&'a str, &'a CanonicalRecord)>) -> ContentHash {
    hash_canonical_bytes(records.into_iter().map(|(key, record)| (key, &record.bytes[..])))
}

/// [`hash_collection`] of each record's key and canonical bytes.
pub fn hash_canonical_bytes<'a>(records: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> ContentHash {
    let mut sorted: Vec<_> = records.into_iter().collect();
    sort_members(&mut sorted);
    let mut hasher = Sha256::new();
    let mut key = Vec::new();
    hasher.update(b"{");
    for (i, (k, record)) in sorted.into_iter().enumerate() {
        key.clear();
        if i > 0 {
            key.push(b',');
        }
        write_string(k, &mut key);
        key.push(b':');
        hasher.update(&key);
        hasher.update(record);
    }
    hasher.update(b"}");
    ContentHash(hasher.finalize().into())
}

/// Sorts object members into JCS order: by the UTF-16 code units of their names.
fn sort_members<T>(members: &mut [(&str, T)]) {
    if members.iter().any(|(k, _)| needs_utf16_order(k)) {
        members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    } else {
        members.sort_by(|a, b| a.0.cmp(b.0));
    }
}

/// UTF-8 byte order is code point order, which is UTF-16 order except between a character
/// above U+E000 and one beyond U+FFFF (a surrogate pair sorts first in UTF-16): only a string
/// with a 4-byte UTF-8 sequence needs the costlier comparison.
fn needs_utf16_order(s: &str) -> bool {
    s.bytes().any(|b| b >= 0xF0)
}

/// Appends the RFC 8785 form of `value`: the same bytes as [`canonical`], several times
/// faster because it writes straight into one buffer (collection hashes canonicalize every
/// record on every check). Numbers other than safe integers go through [`canonical`], which
/// formats them as ECMAScript does.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => match n.as_i64() {
            Some(i) if i.unsigned_abs() < 1 << 53 => {
                use std::io::Write as _;
                write!(out, "{i}").expect("writing to a Vec cannot fail");
            }
            _ => out.extend_from_slice(&canonical(value)),
        },
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // serde_json's map iterates in byte order (a BTreeMap), which is already JCS order
            // unless a key needs UTF-16 order; checking that is cheaper than sorting a copy.
            let in_order = map.keys().zip(map.keys().skip(1)).all(|(a, b)| a < b) && !map.keys().any(|k| needs_utf16_order(k));
            let mut members: Vec<(&String, &Value)>;
            let members: &mut dyn Iterator<Item = (&String, &Value)> = if in_order {
                &mut map.iter()
            } else {
                members = map.iter().collect();
                members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
                &mut members.into_iter()
            };
            out.push(b'{');
            for (i, (key, value)) in members.enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_canonical(value, out);
            }
            out.push(b'}');
        }
    }
}

/// serde_json escapes exactly what RFC 8785 escapes (`"`, `\\`, control characters, with
/// the short forms and lowercase hex), and nothing else.
fn write_string(s: &str, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collection_hash_equals_hash_of_the_canonical_object() {
        let a = json!({"id": "a", "hp": 1});
        let b = json!({"id": "é", "hp": 2.5});
        let c = json!({"id": "\u{1f600}", "hp": 3});
        let by_hand = hash_value(&json!({"a": a, "é": b, "\u{1f600}": c}));
        assert_eq!(hash_collection([("\u{1f600}", &c), ("a", &a), ("é", &b)]), by_hand);
        let kept = [("é", CanonicalRecord::of(&b)), ("\u{1f600}", CanonicalRecord::of(&c)), ("a", CanonicalRecord::of(&a))];
        assert_eq!(hash_canonical_collection(kept.iter().map(|(k, r)| (*k, r))), by_hand);
        assert_eq!(kept[0].1.bytes, canonical(&b));
        assert_eq!(kept[0].1.hash, hash_value(&b));
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
            proptest::prop_assert_eq!(
                hash_canonical_collection(kept.iter().rev().map(|(k, r)| (*k, r))),
                hash_collection(records.iter().map(|(k, v)| (k.as_str(), v)))
            );
        }
    }

    #[test]
    fn hash_round_trips_through_text() {
        let h = ContentHash::of(b"abc");
        assert_eq!(h.to_string(), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(ContentHash::parse(&h.to_string()), Some(h));
        assert_eq!(ContentHash::parse("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"), None);
    }
}
