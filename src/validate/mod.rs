//! Stage 2, validate: everything `seedc check` verifies after loading. Each check takes the
//! loaded content and returns diagnostics; none of them stops the others.
//!
//! - [`schemas`]: compiles the JSON Schemas named in seedc.toml, once each
//! - [`records`]: each record against its collection schema, unique keys, size
//! - [`references`]: declared references between collections
//! - [`packs`]: `pack_schema_v` compatibility and each pack against its schema
//! - [`versions`]: version discipline against seedc.lock

pub(crate) mod packs;
pub(crate) mod records;
pub(crate) mod references;
pub(crate) mod schemas;
pub(crate) mod versions;

/// Edit distance, for "did you mean" hints on short names.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
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

/// How many diagnostics of one kind (per collection and reference, say) get a "did you
/// mean" hint: each costs a pass over the candidates, so 10,000 dangling references against
/// 10,000 keys would otherwise be 10^8 edit distances.
pub(crate) const SUGGESTIONS: usize = 20;

/// Names longer than this get no suggestion: the edit distance is quadratic in length.
const SUGGEST_MAX_CHARS: usize = 64;

/// The closest candidate within a third of the name's length, if any. Candidates whose
/// length alone puts them out of reach are skipped before any distance is computed.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let len = name.chars().count();
    if len > SUGGEST_MAX_CHARS {
        return None;
    }
    let limit = (len / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| c.len() <= 4 * (len + limit) && c.chars().count().abs_diff(len) <= limit)
        .map(|c| (levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
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
