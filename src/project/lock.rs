//! `seedc.lock`: the version and content hash of every collection, and the hash of every
//! pack version ever built. Machine-written by `seedc build`; read by `check` to enforce
//! version discipline. Written as sorted, pretty JSON so it diffs well in review.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::json::canon::{ContentHash, HashVersion};
use crate::project::tree::Tree;

pub const LOCK_FILE: &str = "seedc.lock";

/// The largest `seedc.lock` read: generous (every pack version ever built is in it), but
/// a bound, so a device or a runaway file cannot exhaust memory.
pub const LOCK_LIMIT: u64 = 256 << 20;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// Format version of this file: 2 (collection hashes of record hashes); 1 is read until a build.
    pub v: u32,
    /// Collection name → its current version and content hash.
    pub collections: BTreeMap<String, LockedCollection>,
    /// pack_id → version → the hash that version was built with. Entries are never removed,
    /// so a version can never come back with other content.
    pub packs: BTreeMap<String, BTreeMap<String, ContentHash>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockedCollection {
    pub version: String,
    pub hash: ContentHash,
    /// The seed file's text `hash` was taken from ([`LockedText`]): a check of the same text
    /// takes `hash` from here instead of hashing every record. Absent from locks written
    /// before it came; the next build adds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<LockedText>,
}

/// What seedc.lock pins of the text a collection hash was taken from: its length and a
/// BLAKE3 seal, both of the text without carriage returns (so a checkout with CRLF line
/// endings writes the same lock), the seal bound to the hash and the collection's key field.
/// A seal that matches proves the hash: a carriage return in a file that parses is
/// whitespace, so the same text without them is the same records, and the key field orders
/// them. Editing `hash` (or the seal) by hand only makes the check hash the records again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockedText {
    /// The text's length in bytes, carriage returns not counted.
    pub bytes: u64,
    /// `blake3:<64 lowercase hex>`, derived from the text's BLAKE3, `bytes`, the key field
    /// and `hash`.
    pub seal: String,
}

impl LockedText {
    /// The pin of a text with `print`, whose records (keyed by `key_field`) hash to `hash`.
    pub fn of(print: &TextPrint, key_field: &str, hash: &ContentHash) -> LockedText {
        let mut seal = blake3::Hasher::new_derive_key("seedc.lock 2026-12 text of a collection hash of its records' hashes");
        seal.update(&(key_field.len() as u64).to_le_bytes());
        seal.update(key_field.as_bytes());
        seal.update(&hash.0);
        seal.update(&print.len.to_le_bytes());
        seal.update(&print.blake3);
        LockedText { bytes: print.len, seal: format!("blake3:{}", seal.finalize().to_hex()) }
    }

    fn is_well_formed(&self) -> bool {
        self.seal.strip_prefix("blake3:").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    }
}

/// A seed file's text as [`LockedText`] pins it: the length and BLAKE3 of the text without
/// its carriage returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPrint {
    pub len: u64,
    pub blake3: [u8; 32],
}

impl TextPrint {
    pub fn of(text: &[u8]) -> TextPrint {
        let mut printer = TextPrinter::default();
        printer.update(text);
        printer.print()
    }
}

/// Takes a text's [`TextPrint`] a piece at a time, and the BLAKE3 of its very bytes beside
/// it: until the first carriage return the two are one hash, so a file without any (the
/// usual case) is hashed once.
#[derive(Default, Clone)]
pub struct TextPrinter {
    raw: blake3::Hasher,
    raw_len: u64,
    /// From the first carriage return on: the hash of the text without them, and its length.
    stripped: Option<(blake3::Hasher, u64)>,
}

impl TextPrinter {
    pub fn update(&mut self, bytes: &[u8]) {
        if self.stripped.is_none() && memchr::memchr(b'\r', bytes).is_some() {
            self.stripped = Some((self.raw.clone(), self.raw_len));
        }
        if let Some((hasher, len)) = &mut self.stripped {
            let mut start = 0;
            for cr in memchr::memchr_iter(b'\r', bytes).chain([bytes.len()]) {
                hasher.update(&bytes[start..cr]);
                *len += (cr - start) as u64;
                start = cr + 1;
            }
        }
        self.raw.update(bytes);
        self.raw_len += bytes.len() as u64;
    }

    /// The BLAKE3 and length of the very bytes.
    pub fn raw(&self) -> ([u8; 32], u64) {
        (*self.raw.finalize().as_bytes(), self.raw_len)
    }

    pub fn print(&self) -> TextPrint {
        match &self.stripped {
            Some((hasher, len)) => TextPrint { len: *len, blake3: *hasher.finalize().as_bytes() },
            None => {
                let (blake3, len) = self.raw();
                TextPrint { len, blake3 }
            }
        }
    }
}

impl Lock {
    /// Reads the lock under `root`; a missing lock is an empty one (a new project).
    pub fn load(root: &Path) -> Result<Lock> {
        Self::load_tree(&Tree::dir(root))
    }

    /// Reads the lock of a directory or a git revision, at most [`LOCK_LIMIT`] bytes; a
    /// missing lock is an empty one (a new project).
    pub fn load_tree(tree: &Tree) -> Result<Lock> {
        match tree.read_optional(LOCK_FILE, LOCK_LIMIT)? {
            Some(text) => Self::parse(&text),
            None => Ok(Lock::empty()),
        }
    }

    /// Parses and checks a lock. A damaged lock is an error, never a reason to check less:
    /// an unknown format version or a collection version that is not semver would
    /// otherwise silently turn off the version-bump check.
    pub fn parse(text: &str) -> Result<Lock> {
        let corrupt = || format!("{LOCK_FILE} is corrupt; restore it from version control");
        let lock: Lock = serde_json::from_str(text).with_context(corrupt)?;
        lock.validate().with_context(corrupt)?;
        Ok(lock)
    }

    /// A lock with nothing in it, of the format this seedc writes.
    pub fn empty() -> Lock {
        Lock { v: HashVersion::CURRENT.number(), ..Lock::default() }
    }

    /// The definition its collection hashes follow: the file's format version says.
    pub fn hash_version(&self) -> HashVersion {
        // A parsed lock has a known version; only `Lock::default()` has none.
        HashVersion::from_number(self.v).unwrap_or(HashVersion::CURRENT)
    }

    fn validate(&self) -> Result<()> {
        let current = HashVersion::CURRENT.number();
        ensure!(
            HashVersion::from_number(self.v).is_some(),
            "format version `v` is {}, but this seedc reads versions 1 to {current}",
            self.v
        );
        for (name, c) in &self.collections {
            ensure!(semver::Version::parse(&c.version).is_ok(), "collections.{name}.version {:?} is not a semantic version", c.version);
            ensure!(c.text.as_ref().is_none_or(LockedText::is_well_formed), "collections.{name}.text.seal is not blake3:<64 hex>");
        }
        for (pack, versions) in &self.packs {
            for v in versions.keys() {
                ensure!(semver::Version::parse(v).is_ok(), "packs.{pack:?} has version {v:?}, which is not a semantic version");
            }
        }
        Ok(())
    }

    /// The file's exact text: sorted keys, two-space indent, final newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("the lock always serializes");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_lock_is_refused() {
        let hash = format!("sha256:{}", "0".repeat(64));
        let good = format!(r#"{{"v":1,"collections":{{"a":{{"version":"1.0.0","hash":"{hash}"}}}},"packs":{{}}}}"#);
        Lock::parse(&good).unwrap();
        for bad in [
            good.replace("\"v\":1", "\"v\":99"),
            good.replace("1.0.0", "banana"),
            good.replace("\"packs\":{}", "\"packs\":{\"p\":{\"x\":\"sha256:00\"}}"),
        ] {
            assert!(format!("{:#}", Lock::parse(&bad).unwrap_err()).contains("corrupt"), "{bad}");
        }
        let pinned = good.replace("\"hash\":", &format!("\"text\":{{\"bytes\":1,\"seal\":\"blake3:{}\"}},\"hash\":", "a".repeat(64)));
        Lock::parse(&pinned).unwrap();
        for bad in [pinned.replace("blake3:", "sha256:"), pinned.replace("\"blake3:a", "\"blake3:A"), pinned.replace("aaaa\"", "\"")] {
            assert!(format!("{:#}", Lock::parse(&bad).unwrap_err()).contains("corrupt"), "{bad}");
        }
    }

    /// A text's print is the same read in any pieces, and the same with or without carriage
    /// returns; the bytes' own digest beside it is of the very bytes.
    #[test]
    fn a_print_is_of_the_text_without_carriage_returns_in_any_pieces() {
        let lf = "{\n  \"data\": [\n    1,\n    2\n  ]\n}\n";
        let crlf = lf.replace('\n', "\r\n");
        let print = TextPrint::of(lf.as_bytes());
        assert_eq!(print, TextPrint { len: lf.len() as u64, blake3: *blake3::hash(lf.as_bytes()).as_bytes() });
        for text in [lf, crlf.as_str(), "\r\r{\n  \"data\": [\n    1,\n    2\n  ]\n}\n\r"] {
            for piece in [1, 2, 3, 7, 64] {
                let mut printer = TextPrinter::default();
                text.as_bytes().chunks(piece).for_each(|p| printer.update(p));
                assert_eq!(printer.print(), print, "{text:?} in pieces of {piece}");
                assert_eq!(printer.raw(), (*blake3::hash(text.as_bytes()).as_bytes(), text.len() as u64));
            }
        }
        assert_ne!(TextPrint::of(b"{\"data\": [1]}"), TextPrint::of(b"{\"data\": [2]}"));
    }

    /// A seal stands for one text, key field and hash: change any and it is another.
    #[test]
    fn a_seal_binds_the_text_the_key_field_and_the_hash() {
        let (print, hash) = (TextPrint::of(b"{}"), ContentHash([1; 32]));
        let seal = LockedText::of(&print, "id", &hash);
        assert!(seal.is_well_formed() && seal == LockedText::of(&print, "id", &hash));
        let others = [
            LockedText::of(&TextPrint::of(b"{ }"), "id", &hash),
            LockedText::of(&TextPrint { len: 3, ..print }, "id", &hash),
            LockedText::of(&print, "key", &hash),
            LockedText::of(&print, "id", &ContentHash([2; 32])),
        ];
        assert!(others.iter().all(|other| other.seal != seal.seal), "{others:?}");
    }
}
