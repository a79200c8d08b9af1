//! Version discipline against seedc.lock: a collection whose content hash changed must have
//! a higher version; a pack version once built always has the same hash.

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic};
use crate::json::canon::ContentHash;
use crate::load::Content;
use crate::project::lock::Lock;

pub(crate) fn check(
    content: &Content,
    lock: &Lock,
    collection_hashes: &BTreeMap<String, ContentHash>,
    pack_hashes: &[ContentHash],
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (name, hash) in collection_hashes {
        let (Some(seed), Some(locked)) = (content.seeds.get(name), lock.collections.get(name)) else { continue };
        let (Some(version), Ok(locked_version)) = (&seed.version, semver::Version::parse(&locked.version)) else { continue };
        if *hash != locked.hash && *version <= locked_version {
            diags.push(
                Diagnostic::error(
                    Code::VersionNotBumped,
                    format!("`{name}` changed but its version {version} is not above the locked {locked_version}"),
                )
                .in_file(&seed.file)
                .at_value("/version")
                .help(format!(
                    "balance changed without a version bump: set `version` above {locked_version} (e.g. \"{}\")",
                    bump(&locked_version)
                )),
            );
        }
    }
    for (pack, hash) in content.packs.iter().zip(pack_hashes) {
        let Some(locked) = lock.packs.get(&pack.pack_id).and_then(|v| v.get(&pack.version.to_string())) else { continue };
        if locked != hash {
            diags.push(
                Diagnostic::error(
                    Code::PackVersionReused,
                    format!("pack `{}` version {} was built with other content ({locked})", pack.pack_id, pack.version),
                )
                .in_file(&pack.file)
                .at_value("/version")
                .help(format!("a pack version always denotes the same bytes: set `version` above {}", pack.version)),
            );
        }
    }
    diags
}

fn bump(v: &semver::Version) -> semver::Version {
    semver::Version::new(v.major, v.minor, v.patch + 1)
}
