//! Which file names a content root may hold: names that survive a checkout on every
//! platform seedc runs on. A name Windows reserves for a device (`CON.json`) opens the
//! console there instead of a file, and two names that differ only in case
//! (`Enemies.json` beside `enemies.json`) are one file on Windows and macOS, so a checkout
//! keeps one of the two. Both are refused on every platform, so a content root checks the
//! same everywhere.

/// The device names Windows reserves in every directory, whatever the extension
/// (`NUL.json` is `NUL`); `COM0`/`LPT0` and the superscript digits are reserved as well.
const RESERVED: &[&str] = &["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"];

/// Whether Windows reads `name` (one path component) as a device: its part before the
/// first `.`, trailing spaces dropped, is a reserved name in any case.
pub(crate) fn is_reserved(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).trim_end_matches(' ');
    if RESERVED.iter().any(|r| stem.eq_ignore_ascii_case(r)) {
        return true;
    }
    let mut chars = stem.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    let rest: Vec<char> = chars.collect();
    (prefix.eq_ignore_ascii_case("COM") || prefix.eq_ignore_ascii_case("LPT"))
        && matches!(rest.as_slice(), [d] if d.is_ascii_digit() || matches!(d, '¹' | '²' | '³'))
}

/// The first reserved component of a `/`-separated path, if any.
pub(crate) fn reserved_component(rel: &str) -> Option<&str> {
    rel.split('/').find(|c| is_reserved(c))
}

/// The key under which names collide on a case-insensitive file system: Unicode lower case
/// (NTFS and APFS fold more than ASCII).
fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// For each name that another name of `names` folds to the same key as, the name it is
/// kept out for: of a colliding group the last in byte order is kept (the lower-case
/// spelling, when there is one), each other member names it.
pub(crate) fn case_collisions<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<(&'a str, &'a str)> {
    let mut groups: std::collections::BTreeMap<String, Vec<&str>> = std::collections::BTreeMap::new();
    for name in names {
        groups.entry(fold(name)).or_default().push(name);
    }
    let mut out = Vec::new();
    for mut group in groups.into_values().filter(|g| g.len() > 1) {
        group.sort_unstable();
        group.dedup();
        if let Some((kept, others)) = group.split_last() {
            out.extend(others.iter().map(|o| (*o, *kept)));
        }
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_with_any_extension_and_case() {
        for name in ["CON", "con.json", "Nul.json", "AUX.tar.gz", "prn", "COM1.json", "lpt9", "COM¹.json", "CON .json", "conin$.json"] {
            assert!(is_reserved(name), "{name}");
        }
        for name in ["CONSOLE.json", "icon.json", "COM10.json", "LPT.json", "enemies.json", "nul_items.json", "COMX"] {
            assert!(!is_reserved(name), "{name}");
        }
        assert_eq!(reserved_component("data/packs/aux/pack.json"), Some("aux"));
        assert_eq!(reserved_component("data/seeds/enemies.json"), None);
    }

    #[test]
    fn collisions_keep_the_last_spelling() {
        assert_eq!(case_collisions(["enemies.json", "Enemies.json", "items.json"]), vec![("Enemies.json", "enemies.json")]);
        assert_eq!(case_collisions(["a.json", "b.json"]), vec![]);
        assert_eq!(case_collisions(["ÉPÉE.json", "épée.json", "Épée.json"]), vec![("ÉPÉE.json", "épée.json"), ("Épée.json", "épée.json")]);
    }
}
