//! Packs: one file per `pack_id`; `kind` declared; `pack_schema_v` within the supported
//! window of its kind; then the pack against the schema of that version.
//!
//! The window, per kind and major: the newest minor seedc.toml lists for that major, and the
//! `packs.compat_window` minors before it. Anything else is refused with the supported list.

use std::collections::BTreeMap;

use super::records::schema_violations;
use super::schemas::Schemas;
use crate::diag::{Code, Diagnostic};
use crate::load::{Content, Pack};
use crate::project::config::{Config, SchemaVersion};

pub(crate) fn check(content: &Content, config: &Config, schemas: &Schemas) -> Vec<Diagnostic> {
    let mut diags = duplicates(&content.packs);
    for pack in &content.packs {
        let Some(kind) = config.packs.kinds.get(&pack.kind) else {
            let known: Vec<_> = config.packs.kinds.keys().map(String::as_str).collect();
            diags.push(
                Diagnostic::error(Code::UnknownPackKind, format!("unknown pack kind {:?}", pack.kind))
                    .in_file(&pack.file)
                    .at_value("/kind")
                    .help(format!("known kinds: {}", known.join(", "))),
            );
            continue;
        };
        let known: Vec<SchemaVersion> = kind.schemas.keys().filter_map(|v| SchemaVersion::parse(v)).collect();
        match supported(&known, config.packs.compat_window, &pack.schema_v) {
            Ok(version) => {
                let schema = &schemas.packs[&(pack.kind.clone(), version)];
                let label = format!("pack {:?}", pack.pack_id);
                diags.extend(schema_violations(schemas, schema, &pack.value, "", &pack.file, &label));
            }
            Err(reason) => {
                let list = accepted(&known, config.packs.compat_window).iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
                diags.push(
                    Diagnostic::error(
                        Code::UnsupportedPackSchema,
                        format!("pack_schema_v {:?} of kind {} {reason}", pack.schema_v, pack.kind),
                    )
                    .in_file(&pack.file)
                    .at_value("/pack_schema_v")
                    .help(format!("supported pack_schema_v for {}: {list}", pack.kind)),
                );
            }
        }
    }
    diags
}

/// Each pack whose `pack_id` an earlier one has (in file order): the one check of packs
/// that reads more than one pack.
pub(crate) fn duplicates(packs: &[Pack]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for pack in packs {
        if let Some(first) = seen.insert(&pack.pack_id, &pack.file) {
            seen.insert(&pack.pack_id, first);
            diags.push(
                Diagnostic::error(Code::DuplicatePack, format!("pack `{}` is also defined in {first}", pack.pack_id))
                    .in_file(&pack.file)
                    .at_value("/pack_id"),
            );
        }
    }
    diags
}

/// The versions a kind accepts: per major, the newest known minor and `window` before it.
pub(crate) fn accepted(known: &[SchemaVersion], window: u32) -> Vec<SchemaVersion> {
    known.iter().copied().filter(|v| newest_minor(known, v.major).is_some_and(|n| v.minor + window >= n)).collect()
}

fn newest_minor(known: &[SchemaVersion], major: u32) -> Option<u32> {
    known.iter().filter(|k| k.major == major).map(|k| k.minor).max()
}

/// Why a `pack_schema_v` is refused, or the version whose schema to use.
pub(crate) fn supported(known: &[SchemaVersion], window: u32, requested: &str) -> Result<SchemaVersion, String> {
    let Some(v) = SchemaVersion::parse(requested) else {
        return Err("is not a \"major.minor\" version".to_owned());
    };
    let Some(newest) = newest_minor(known, v.major) else {
        return Err(format!("has unknown major version {}", v.major));
    };
    if v.minor > newest {
        return Err(format!("is newer than this seedc knows (newest {}.{newest})", v.major));
    }
    if v.minor + window < newest {
        return Err(format!("is older than the compatibility window of {window} minor version{}", crate::report::plural(window as usize)));
    }
    if !known.contains(&v) {
        return Err("has no schema listed in seedc.toml".to_owned());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> SchemaVersion {
        SchemaVersion::parse(s).unwrap()
    }

    #[test]
    fn window_accepts_newest_and_two_before() {
        let known = [v("1.0"), v("1.1"), v("1.2"), v("1.3"), v("2.0")];
        assert_eq!(accepted(&known, 2), [v("1.1"), v("1.2"), v("1.3"), v("2.0")]);
        assert_eq!(supported(&known, 2, "1.3"), Ok(v("1.3")));
        assert_eq!(supported(&known, 2, "1.1"), Ok(v("1.1")));
        assert!(supported(&known, 2, "1.0").unwrap_err().contains("older than"));
        assert!(supported(&known, 2, "1.4").unwrap_err().contains("newer than"));
        assert!(supported(&known, 2, "3.0").unwrap_err().contains("unknown major"));
        assert!(supported(&known, 2, "1.x").unwrap_err().contains("major.minor"));
        assert_eq!(supported(&known, 0, "1.3"), Ok(v("1.3")));
        assert!(supported(&known, 0, "1.2").is_err());
    }
}
