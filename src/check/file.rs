//! One file checked again on its own: what the language server does when a buffer changes,
//! instead of checking the whole content root. Everything [`run`](super::run) in
//! [`Mode::Editor`](super::Mode::Editor) finds in a seed file or a pack that depends on that
//! file alone comes from here, by the same code: its syntax, envelope and limits, each
//! record against its schema, its duplicate and missing keys, the version discipline of its
//! collection (or pack) against `seedc.lock`, its `$schema`. What needs other files (the
//! references, a pack id defined twice) is left to the caller, which holds the rest.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::reduce::Reducer;
use super::{Mode, schema_refs};
use crate::diag::{Diagnostic, Sink};
use crate::json::canon::{self, ContentHash, HashVersion};
use crate::load::{self, Content, One};
use crate::project::Project;
use crate::validate::{self, schemas::Schemas};

/// One file checked on its own.
pub(crate) struct FileChecked {
    /// The file as loaded: its seed file (records reduced, as in [`Mode::Editor`]) or its
    /// pack, and its source, alone in a [`Content`].
    pub(crate) content: Content,
    /// Its diagnostics, placed and sorted as [`run`](super::run) sorts them.
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Checks the seed file or pack `rel` of `project` on its own, against `schemas` (compiled
/// from `project`'s). None when `rel` is neither a seed file of a declared collection nor a
/// pack, or cannot be read: then only a check of the whole root says what it is.
pub(crate) fn file(project: &Project, schemas: &Schemas, rel: &str) -> Option<FileChecked> {
    let plan = Mode::Editor.plan();
    let (config, lock) = (project.config(), project.lock());
    let reducer = Reducer { config, lock, schemas, hashes: plan.hashes, reduced: Mutex::default(), keep: plan.keep, text: plan.text };
    let (one, mut diags) = load::load_file(project.tree(), config, rel, Some(&reducer))?;
    let reduced = reducer.reduced.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut content = Content::default();
    match one {
        One::Seed(seed, source) => {
            content.sources.insert(source);
            content.seeds.insert(seed.collection.clone(), seed);
            let key_fields = config.collections.iter().map(|(n, c)| (n.as_str(), c.key.as_str())).collect();
            diags.extend(validate::records::check(&content, schemas, &key_fields));
            let as_locked: &BTreeMap<String, ContentHash> =
                if lock.hash_version() == HashVersion::Whole { &reduced.whole } else { &reduced.hashes };
            diags.extend(validate::versions::check(&content, lock, as_locked, &[]));
        }
        One::Pack(pack, source) => {
            content.sources.insert(source);
            content.packs.extend(pack);
            diags.extend(validate::packs::check(&content, config, schemas));
            let pack_hashes: Vec<ContentHash> = content.packs.iter().map(|p| canon::hash_value(&p.value)).collect();
            diags.extend(validate::versions::check(&content, lock, &BTreeMap::new(), &pack_hashes));
        }
    }
    diags.extend(schema_refs(project.tree(), &content));
    content.sources.resolve(&mut diags);
    let mut sink = Sink::default();
    sink.extend(diags);
    sink.sort();
    Some(FileChecked { content, diagnostics: sink.into_vec() })
}
