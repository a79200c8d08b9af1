//! Stage 2, validate: everything `seedc check` verifies after loading. Each check takes the
//! loaded content and returns diagnostics; none of them stops the others.
//!
//! - [`schemas`]: compiles the JSON Schemas named in seedc.toml, once each
//! - [`records`]: each record against its collection schema, unique keys, size
//! - [`references`]: declared references between collections
//! - [`packs`]: `pack_schema_v` compatibility and each pack against its schema
//! - [`versions`]: version discipline against seedc.lock

pub mod packs;
pub mod records;
pub mod references;
pub mod schemas;
pub mod versions;

/// A hasher for sets of record keys. Keys come from the user's own files, so resistance to
/// crafted collisions (std's SipHash) buys nothing, and hashing is a measurable share of a
/// check of a few hundred thousand records. This is FxHash (rustc's hasher).
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("chunks of 8"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.write(&[byte]);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashSet`/`HashMap` build-hasher for record keys.
pub type KeyHash = std::hash::BuildHasherDefault<KeyHasher>;

/// Edit distance, for "did you mean" hints on short names.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The closest candidate within a third of the name's length, if any.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates.into_iter().map(|c| (levenshtein(name, c), c)).filter(|(d, _)| *d <= limit).min().map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_or_absent() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(did_you_mean("hpp", ["hp", "attack"]), Some("hp"));
        assert_eq!(did_you_mean("rusty_swrd", ["rusty_sword", "iron_sword"]), Some("rusty_sword"));
        assert_eq!(did_you_mean("zzz", ["hp", "attack"]), None);
    }
}
