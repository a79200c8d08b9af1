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
    ContentHash::of(&canonical(value))
}

/// The content hash of a collection: of the canonical JSON object mapping each record's key
/// to the record, so reordering records in the file does not change it.
pub fn hash_collection<'a>(records: impl IntoIterator<Item = (&'a str, &'a Value)>) -> ContentHash {
    let mut hasher = Sha256::new();
    let mut sorted: Vec<_> = records.into_iter().collect();
    // JCS sorts object members by UTF-16 code units; build the object and let it do so.
    sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    hasher.update(b"{");
    for (i, (key, record)) in sorted.iter().enumerate() {
        if i > 0 {
            hasher.update(b",");
        }
        hasher.update(canonical(&Value::String((*key).to_owned())));
        hasher.update(b":");
        hasher.update(canonical(record));
    }
    hasher.update(b"}");
    ContentHash(hasher.finalize().into())
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
    }

    #[test]
    fn hash_round_trips_through_text() {
        let h = ContentHash::of(b"abc");
        assert_eq!(h.to_string(), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(ContentHash::parse(&h.to_string()), Some(h));
        assert_eq!(ContentHash::parse("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"), None);
    }
}
