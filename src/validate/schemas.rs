//! The JSON Schemas of a content root, compiled once. Every `*.json` under `schemas/` is
//! pre-loaded into one registry under a `file:///` URI relative to the content root, so a
//! `$ref` between local schema files resolves without I/O or network, and schema locations
//! in diagnostics read `schemas/seeds/enemies.schema.json#/properties/hp/minimum` on every
//! machine. A schema that does not load or compile is a config error (exit 2).

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow, bail};
use jsonschema::{Draft, Registry, Resource, Validator};
use rayon::prelude::*;
use serde_json::Value;

use crate::project::config::{Config, SchemaVersion};
use crate::project::tree::Tree;

pub(crate) const SCHEMAS_DIR: &str = "schemas";
const URI_PREFIX: &str = "file:///";

/// Compiled validators for every collection and every (pack kind, schema version).
pub(crate) struct Schemas {
    pub collections: BTreeMap<String, CompiledSchema>,
    pub packs: BTreeMap<(String, SchemaVersion), CompiledSchema>,
    /// Every schema document by relative path, for hints that read the schema itself.
    pub documents: BTreeMap<String, Value>,
}

pub(crate) struct CompiledSchema {
    /// Relative to the content root.
    pub path: String,
    pub validator: Validator,
}

impl Schemas {
    /// Compiles the schemas of a directory or a git revision.
    pub(crate) fn compile_tree(tree: &Tree, config: &Config) -> Result<Schemas> {
        let mut documents = BTreeMap::new();
        collect(tree, SCHEMAS_DIR, config.limits.max_file_bytes, &mut documents)?;
        let mut builder = Registry::new().draft(Draft::Draft202012);
        for (rel, value) in &documents {
            builder = builder
                .add(format!("{URI_PREFIX}{rel}"), Resource::from_contents(value.clone()))
                .with_context(|| format!("cannot register schema {rel}"))?;
        }
        let registry = builder.prepare().map_err(|e| anyhow!("cannot resolve the schemas under {SCHEMAS_DIR}/: {e}"))?;
        let compile = |rel: &str, used_by: &str| -> Result<CompiledSchema> {
            let rel = rel.trim_start_matches("./");
            let Some(schema) = documents.get(rel) else {
                bail!("{used_by} names schema {rel:?}, but there is no such file under {SCHEMAS_DIR}/");
            };
            let validator = jsonschema::options()
                .with_draft(Draft::Draft202012)
                .with_registry(&registry)
                .with_base_uri(format!("{URI_PREFIX}{rel}"))
                .should_validate_formats(true)
                .offline()
                .build(schema)
                .map_err(|e| anyhow!("schema {rel} (used by {used_by}) does not compile: {e}"))?;
            Ok(CompiledSchema { path: rel.to_owned(), validator })
        };
        // Compiling is most of a small check's time: every schema at once, on every core;
        // the first that fails, in the config's order, is the error.
        enum Use {
            Collection(String),
            Pack(String, SchemaVersion),
        }
        let mut jobs = Vec::new();
        for (name, c) in &config.collections {
            jobs.push((Use::Collection(name.clone()), c.schema.as_str(), format!("collections.{name}")));
        }
        for (kind, k) in &config.packs.kinds {
            for (v, path) in &k.schemas {
                let version = SchemaVersion::parse(v).expect("checked when the config was loaded");
                jobs.push((Use::Pack(kind.clone(), version), path.as_str(), format!("packs.kinds.{kind}.schemas.\"{v}\"")));
            }
        }
        let compiled: Vec<Result<CompiledSchema>> = jobs.par_iter().map(|(_, rel, used_by)| compile(rel, used_by)).collect();
        let (mut collections, mut packs) = (BTreeMap::new(), BTreeMap::new());
        for ((used, _, _), schema) in jobs.into_iter().zip(compiled) {
            match used {
                Use::Collection(name) => collections.insert(name, schema?),
                Use::Pack(kind, version) => packs.insert((kind, version), schema?),
            };
        }
        Ok(Schemas { collections, packs, documents })
    }
}

/// Reads every `*.json` below `dir` (relative to the root), keyed by relative path.
fn collect(tree: &Tree, dir: &str, limit: u64, out: &mut BTreeMap<String, Value>) -> Result<()> {
    let files = tree.files_under(dir).with_context(|| format!("cannot list {dir}/ in {}", tree.label()))?;
    for rel in files.into_iter().filter(|f| f.ends_with(".json")) {
        let bytes = tree.read_limited(&rel, limit).with_context(|| format!("cannot read schema {rel}"))?;
        let value = serde_json::from_slice(&bytes).with_context(|| format!("schema {rel} is not valid JSON"))?;
        out.insert(rel, value);
    }
    Ok(())
}

/// Turns a keyword's absolute location (`file:///schemas/x.json#/properties/hp/minimum`)
/// back into a root-relative one.
pub(crate) fn relative_location(uri: &str) -> String {
    uri.strip_prefix(URI_PREFIX).unwrap_or(uri).to_owned()
}
