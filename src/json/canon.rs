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
    hash_value_in(value, &mut Vec::new())
}

/// [`hash_value`], writing the canonical bytes in `scratch` (cleared first): a check hashes
/// every record, and one buffer a run is one allocation instead of one a record.
pub fn hash_value_in(value: &Value, scratch: &mut Vec<u8>) -> ContentHash {
    // The fast writer: deploy hashes every record of a changed collection.
    scratch.clear();
    write_canonical(value, scratch);
    ContentHash::of(scratch)
}

/// Which definition a collection hash follows. seedc.lock (its `v`) and the hashes a deploy
/// records in the database (`hash_v`) say which; a hash is only ever compared with one of
/// its own definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HashVersion {
    /// Written by seedc until this definition came (seedc.lock `v` 1): SHA-256 of the canonical object mapping each key to its
    /// record. Ordering whole canonical records by key means holding them all until the
    /// file ends: about the input's size again in memory.
    Whole = 1,
    /// SHA-256 of the canonical object mapping each key to its record's content hash
    /// (`"sha256:<hex>"`, [`hash_value`]): each record is hashed as it streams by, and only
    /// 32 bytes of it are held until the file ends. It is also what a table's `id` and
    /// `content_hash` columns give.
    Records = 2,
}

impl HashVersion {
    /// The definition this seedc writes.
    pub const CURRENT: HashVersion = HashVersion::Records;

    pub fn number(self) -> u32 {
        self as u32
    }

    pub fn from_number(v: u32) -> Option<HashVersion> {
        match v {
            1 => Some(HashVersion::Whole),
            2 => Some(HashVersion::Records),
            _ => None,
        }
    }
}

/// The content hash of a collection ([`HashVersion::Records`]): of the canonical JSON object
/// mapping each record's key to its record's content hash, so reordering records in the
/// file does not change it.
pub fn hash_collection<'a>(records: impl IntoIterator<Item = (&'a str, &'a Value)>) -> ContentHash {
    use rayon::prelude::*;
    let records: Vec<(&str, &Value)> = records.into_iter().collect();
    let hashes: Vec<ContentHash> = records.par_iter().map(|(_, v)| hash_value(v)).collect();
    hash_of_record_hashes(records.iter().map(|(k, _)| *k).zip(&hashes))
}

/// [`hash_collection`] of each record's key and content hash, in any order.
pub fn hash_of_record_hashes<'a>(records: impl IntoIterator<Item = (&'a str, &'a ContentHash)>) -> ContentHash {
    let mut sorted: Vec<_> = records.into_iter().collect();
    sort_members(&mut sorted);
    let mut hasher = Sha256::new();
    // A member is at most a key and 75 bytes: hash a buffer's worth at a time.
    let mut buf = Vec::with_capacity(64 << 10);
    buf.push(b'{');
    let mut hex = [0u8; 64];
    for (i, (key, hash)) in sorted.into_iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        write_string(key, &mut buf);
        buf.extend_from_slice(b":\"sha256:");
        hex::encode_to_slice(hash.0, &mut hex).expect("64 hex digits for 32 bytes");
        buf.extend_from_slice(&hex);
        buf.push(b'"');
        if buf.len() >= 60 << 10 {
            hasher.update(&buf);
            buf.clear();
        }
    }
    buf.push(b'}');
    hasher.update(&buf);
    ContentHash(hasher.finalize().into())
}

/// The content hash of a collection as [`HashVersion::Whole`] defines it, from its values:
/// what a seedc.lock or a database of that definition is compared with.
pub fn hash_collection_whole<'a>(records: impl IntoIterator<Item = (&'a str, &'a Value)>) -> ContentHash {
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

/// [`hash_collection`] of records already canonicalized: the same hash, from the hashes
/// they carry.
pub fn hash_canonical_collection<'a>(records: impl IntoIterator<Item = (&'a str, &'a CanonicalRecord)>) -> ContentHash {
    hash_of_record_hashes(records.into_iter().map(|(key, record)| (key, &record.hash)))
}

/// [`hash_collection_whole`] of records already canonicalized.
pub fn hash_canonical_collection_whole<'a>(records: impl IntoIterator<Item = (&'a str, &'a CanonicalRecord)>) -> ContentHash {
    hash_canonical_bytes_whole(records.into_iter().map(|(key, record)| (key, &record.bytes[..])))
}

/// [`hash_collection_whole`] of each record's key and canonical bytes.
pub fn hash_canonical_bytes_whole<'a>(records: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> ContentHash {
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
            Some(i) if i.unsigned_abs() < 1 << 53 => out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
            _ => serde_json_canonicalizer::to_writer(n, &mut *out).expect("a finite number always canonicalizes"),
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
            // serde_json's map iterates in byte order (a BTreeMap: its `preserve_order` is
            // off, which a test holds), which is already JCS order unless a key needs UTF-16
            // order; checking that is cheaper than sorting a copy.
            let in_order = !map.keys().any(|k| needs_utf16_order(k));
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

/// Whether `bytes` hold a control character, a quote or a backslash: eight bytes at a time,
/// each test exact for "any byte of the word" (the classic zero-byte tricks).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH != 0;
    let word_needs = |w: u64| {
        // Bytes below 0x20: subtracting 0x20 from each sets its high bit, which the byte lacked.
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH != 0;
        control || has_zero(w ^ (ONES * u64::from(b'"'))) || has_zero(w ^ (ONES * u64::from(b'\\')))
    };
    let mut words = bytes.chunks_exact(8);
    let found = words.by_ref().any(|w| word_needs(u64::from_ne_bytes(w.try_into().expect("eight bytes"))));
    found || words.remainder().iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// serde_json escapes exactly what RFC 8785 escapes (`"`, `\\`, control characters, with
/// the short forms and lowercase hex), and nothing else.
fn write_string(s: &str, out: &mut Vec<u8>) {
    // Most strings need no escape: copied whole, without a serializer.
    if !needs_escape(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

#[cfg(test)]
mod tests;
