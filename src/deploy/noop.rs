//! The no-op proof: when the build cache covers every input, the lock, packs and manifests
//! are compared with what the database recorded, under the deploy lock, and a deploy that
//! would write nothing ends there without a check.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use anyhow::Result;

use super::content::content_version;
use super::session::{DeploySession, begin};
use super::{CollectionPlan, Counts, Options, Plan};
use crate::build::cache::Fingerprint;
use crate::db::{StoredCollection, Triggers, catalog, drift, migrate, pg, registry};

/// What a cache hit of the build proves without a check: the collections' versions and
/// hashes (seedc.lock, written by that clean build) and the packs and manifests.
pub(super) struct Unchanged {
    pub(super) config: crate::project::config::Config,
    pub(super) lock: crate::project::lock::Lock,
    pub(super) packs: Vec<crate::build::PackIndex>,
    pub(super) manifests: Vec<crate::build::ManifestFile>,
}

impl Unchanged {
    /// From the build cache `cached` (`out/.cache/build.json`, read by the caller), when it
    /// holds the inputs of `fingerprint`.
    pub(super) fn load(
        project: &crate::project::Project,
        cached: Option<crate::build::cache::BuildCache>,
        fingerprint: &Fingerprint,
        options: &Options,
    ) -> Result<Option<Unchanged>> {
        let root = project.root().unwrap_or(Path::new(""));
        let Some(cached) = cached.filter(|c| c.hit(fingerprint, root)) else {
            return Ok(None);
        };
        let (config, lock) = (project.config().clone(), project.lock().clone());
        // A lock of an older format: the deploy's build rewrites it, and the recorded hashes.
        let current = lock.hash_version() == crate::json::canon::HashVersion::CURRENT;
        if !current || !config.collections.keys().all(|name| lock.collections.contains_key(name)) {
            return Ok(None);
        }
        let freeplay_at = crate::build::freeplay_time(cached.content_time);
        // A config the manifests cannot be made from: the full path reports it.
        let Ok(manifests) = crate::build::manifests_for(&config, &cached.packs, &options.build.dates, freeplay_at) else {
            return Ok(None);
        };
        Ok(Some(Unchanged { config, lock, packs: cached.packs, manifests }))
    }

    /// The plan of a deploy that writes nothing, if the database already holds exactly this
    /// content; None when anything differs (the caller then checks and plans in full).
    pub(super) fn probe(&self, session: &mut DeploySession, options: &Options) -> Result<Option<Plan>> {
        let schema = self.config.deploy.schema.as_str();
        let Some((mut tx, _)) = begin(&mut session.db, schema, options)? else {
            return Err(session.lock_busy(options));
        };
        let plan = self.compare(&mut tx, options)?;
        tx.rollback().map_err(pg)?;
        session.db.watchdog.disarm();
        Ok(plan)
    }

    /// Reads what the database recorded about this content, then decides ([`Unchanged::prove`]).
    fn compare(&self, tx: &mut postgres::Transaction, options: &Options) -> Result<Option<Plan>> {
        let schema = self.config.deploy.schema.as_str();
        // A schema to migrate, or whose migrations' checksums are still to be recorded, is
        // written to: not a no-op.
        let applied = migrate::verify(tx, schema)?;
        if applied.version != migrate::SCHEMA_VERSION || applied.recorded != applied.version {
            return Ok(None);
        }
        let collections = registry::stored_collections(tx, schema)?;
        let mut tables = BTreeSet::new();
        for name in self.config.collections.keys() {
            let table = self.config.table(name);
            // A table without its drift triggers is not a no-op: the deploy adds them.
            if catalog::table_exists(tx, table)? && drift::drift_triggers(tx, table)? != Triggers::Missing {
                tables.insert(table.to_owned());
            }
        }
        let hashes: Vec<String> = self.packs.iter().map(|p| p.pack_hash.to_string()).collect();
        let ids: Vec<String> = self.manifests.iter().map(|m| m.manifest.manifest_id.clone()).collect();
        let recorded = Recorded {
            collections,
            tables,
            packs: registry::published_packs(tx, schema, &hashes)?.into_iter().collect(),
            manifests: registry::published_manifests(tx, schema, &ids)?,
            drifted: drift::drift_markers(tx, schema)?.into_keys().collect(),
        };
        Ok(self.prove(&recorded, options.prune, options.dry_run))
    }

    /// The plan of a deploy that writes nothing, if what the database recorded is exactly
    /// this content: every collection at its locked version and hash in its table (and no
    /// row kept by `--no-prune` when pruning), every pack and manifest published as built.
    /// Pure, so every way it can say no is tested on plain values.
    pub(super) fn prove(&self, recorded: &Recorded, prune: bool, dry_run: bool) -> Option<Plan> {
        let mut collections = Vec::new();
        for name in self.config.collections.keys() {
            let locked = self.lock.collections.get(name)?;
            let table = self.config.table(name);
            let b = recorded.collections.get(name)?;
            // A hash is compared with one of its own definition only.
            let same_hash = b.hash_version == self.lock.hash_version() && b.hash == Some(locked.hash);
            if b.table != table || b.version != locked.version || !same_hash || (b.rows_kept > 0 && prune) {
                return None;
            }
            // Written outside seedc since: the stored data is compared, so check and plan.
            if !recorded.tables.contains(table) || recorded.drifted.contains(name) {
                return None;
            }
            collections.push(CollectionPlan {
                collection: name.clone(),
                table: table.to_owned(),
                version: b.version.clone(),
                previous_version: Some(b.version.clone()),
                inserted: 0,
                updated: 0,
                deleted: 0,
                kept: b.rows_kept as usize,
                unchanged: b.records as usize,
                drifted: 0,
                drift: None,
                foreign_kept: Vec::new(),
                changed: false,
                changes: Vec::new(),
            });
        }
        if !self.packs.iter().all(|p| recorded.packs.contains(&p.pack_hash.to_string())) {
            return None;
        }
        if !self.manifests.iter().all(|m| recorded.manifests.get(&m.manifest.manifest_id) == Some(&m.hash.to_string())) {
            return None;
        }
        let content_version = content_version(
            self.lock.collections.iter().filter(|(n, _)| self.config.collections.contains_key(*n)).map(|(n, c)| (n.as_str(), c.hash)),
        );
        Some(Plan {
            dry_run,
            content_version,
            collections,
            packs: Counts { new: 0, unchanged: self.packs.len() },
            manifests: Counts { new: 0, unchanged: self.manifests.len() },
            rollbacks: Vec::new(),
        })
    }
}

/// What the database recorded, as far as the no-op proof asks.
#[derive(Debug, Default)]
pub(super) struct Recorded {
    pub(super) collections: HashMap<String, StoredCollection>,
    /// The collection tables that exist (with seedc's columns).
    pub(super) tables: BTreeSet<String>,
    /// The published pack hashes among this content's.
    pub(super) packs: BTreeSet<String>,
    /// The published manifests among this content's, with their hash.
    pub(super) manifests: HashMap<String, String>,
    /// The collections whose drift triggers noted a write outside seedc.
    pub(super) drifted: BTreeSet<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::canon::ContentHash;

    /// The sample's config and lock, one pack, and a database that recorded exactly them.
    fn sample() -> (Unchanged, Recorded) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (config, lock) = (crate::project::config::Config::load(root).unwrap(), crate::project::lock::Lock::load(root).unwrap());
        let pack = crate::build::PackIndex {
            v: 1,
            pack_hash: ContentHash::of(b"pack"),
            pack_id: "protocol.core".into(),
            version: "1.0.0".into(),
            kind: "PROTOCOL".into(),
            pack_schema_v: "1.0".into(),
            bytes: 4,
            path: String::new(),
        };
        let mut recorded = Recorded::default();
        for name in config.collections.keys() {
            let locked = &lock.collections[name];
            let table = config.table(name).to_owned();
            recorded.tables.insert(table.clone());
            let stored = StoredCollection {
                table,
                version: locked.version.clone(),
                hash: Some(locked.hash),
                hash_version: lock.hash_version(),
                records: 3,
                rows_kept: 0,
            };
            recorded.collections.insert(name.clone(), stored);
        }
        recorded.packs.insert(pack.pack_hash.to_string());
        (Unchanged { config, lock, packs: vec![pack], manifests: Vec::new() }, recorded)
    }

    #[test]
    fn exactly_the_recorded_content_is_a_no_op() {
        let (unchanged, recorded) = sample();
        let plan = unchanged.prove(&recorded, true, false).expect("a no-op");
        assert!(plan.is_noop());
        assert_eq!(plan.collections.len(), unchanged.config.collections.len());
        assert!(plan.collections.iter().all(|c| c.unchanged == 3 && !c.changed));
    }

    #[test]
    fn anything_the_database_did_not_record_is_not_a_no_op() {
        type Edit = fn(&mut Recorded);
        let edits: [(&str, Edit); 9] = [
            ("a collection never deployed", |r| {
                r.collections.remove("enemies");
            }),
            ("another version", |r| r.collections.get_mut("enemies").unwrap().version = "0.0.1".into()),
            ("another hash", |r| r.collections.get_mut("enemies").unwrap().hash = Some(ContentHash::of(b"other"))),
            ("another table", |r| r.collections.get_mut("enemies").unwrap().table = "foes".into()),
            ("a table dropped", |r| {
                r.tables.remove("enemies");
            }),
            ("a pack not published", |r| r.packs.clear()),
            ("rows kept by --no-prune, now pruning", |r| r.collections.get_mut("enemies").unwrap().rows_kept = 2),
            ("a collection written outside seedc", |r| {
                r.drifted.insert("items".into());
            }),
            ("a table without its drift triggers (absent from tables)", |r| {
                r.tables.remove("items");
            }),
        ];
        for (what, edit) in edits {
            let (unchanged, mut recorded) = sample();
            edit(&mut recorded);
            assert!(unchanged.prove(&recorded, true, false).is_none(), "{what}");
        }
        // Rows kept by an earlier --no-prune are no reason to write under --no-prune.
        let (unchanged, mut recorded) = sample();
        recorded.collections.get_mut("enemies").unwrap().rows_kept = 2;
        assert_eq!(unchanged.prove(&recorded, false, false).unwrap().collections.iter().map(|c| c.kept).sum::<usize>(), 2);
    }
}
