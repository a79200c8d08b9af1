//! The check thread's state between edits: the workspace as last checked, file by file. A
//! whole check (`check::run` in `Mode::Editor`) makes it; after that, an edit re-checks
//! only the files it changed (`check::file`), and the references they make, at once; the
//! references into them from other files (and packs defined twice) wait for the cross-file
//! pass ([`Workspace::cross`]), which the thread runs once the edits pause. Each file's
//! diagnostics are kept in three parts (its own, the dangling references it makes, its pack
//! id taken twice) and converted again only when a part changed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use rayon::prelude::*;

use crate::check::{self, FileChecked, Mode};
use crate::diag::{Code, Diagnostic, Sink};
use crate::load::{Content, PACKS_DIR};
use crate::project::Project;
use crate::project::config::{CONFIG_FILE, Config};
use crate::validate::schemas::Schemas;
use crate::validate::{packs, references};

use super::analysis::{self, Analysis, Collection};
use super::diagnostics::{self, Published};
use super::encoding::Encoding;
use super::stamps::{self, Stamps};
use super::store::Buffers;

type Fields = Arc<Vec<(String, Option<String>)>>;

/// The workspace as last checked.
pub(crate) struct Workspace {
    encoding: Encoding,
    /// The content root with the buffers it was last checked with; its config and lock are
    /// those of the last whole check.
    project: Project,
    config: Arc<Config>,
    schemas: Schemas,
    /// Every file as loaded: seed files with their records reduced (keys and references
    /// left), packs, and the text of each.
    content: Content,
    /// Per file: what the file alone gives.
    own: BTreeMap<String, Vec<Diagnostic>>,
    /// Per file: the dangling references it makes.
    dangling: BTreeMap<String, Vec<Diagnostic>>,
    /// Per file: its pack id defined by an earlier pack too.
    twice: BTreeMap<String, Vec<Diagnostic>>,
    /// Per file with any: the three parts together, in LSP terms.
    published: BTreeMap<String, Arc<[Published]>>,
    collections: BTreeMap<String, Arc<Collection>>,
    fields: BTreeMap<String, Fields>,
    pending: Pending,
    /// The files on disk as they were when last read.
    stamps: Stamps,
    /// How many files were checked again on their own since the whole check.
    pub(crate) files_checked: u64,
}

/// What the cross-file pass has left to do.
#[derive(Default)]
struct Pending {
    /// Collections whose keys changed: the references into them are checked again.
    keys: BTreeSet<String>,
    /// A pack changed: which pack ids are defined twice.
    packs: bool,
    /// Check the whole workspace again (a file created or deleted, or changed on disk
    /// where one file's check cannot take it: `seedc.toml`, `seedc.lock`, a schema).
    whole: bool,
}

impl Workspace {
    /// Checks the whole content root `root` with `buffers` over its files.
    pub(crate) fn whole(root: &Path, buffers: Buffers, encoding: Encoding) -> Result<Workspace> {
        let stamps = Stamps::take(root);
        let project = Project::with_buffers(root, buffers)?;
        let (checked, sink) = check::run(&project, Mode::Editor)?;
        let schemas = Schemas::compile_tree(project.tree(), project.config())?;
        let config = Arc::new(project.config().clone());
        let fields: BTreeMap<String, Fields> =
            config.collections.iter().map(|(name, c)| (name.clone(), Arc::new(analysis::fields(&project, &c.schema)))).collect();
        let mut ws = Workspace {
            encoding,
            project,
            config,
            schemas,
            content: checked.content,
            own: BTreeMap::new(),
            dangling: BTreeMap::new(),
            twice: BTreeMap::new(),
            published: BTreeMap::new(),
            collections: BTreeMap::new(),
            fields,
            pending: Pending::default(),
            stamps,
            files_checked: 0,
        };
        for d in sink.into_vec() {
            let part = match d.code {
                Code::DanglingReference => &mut ws.dangling,
                Code::DuplicatePack => &mut ws.twice,
                _ => &mut ws.own,
            };
            part.entry(d.file.clone().unwrap_or_else(|| CONFIG_FILE.to_owned())).or_default().push(d);
        }
        let names: Vec<&String> = ws.content.seeds.keys().collect();
        let indexed: Vec<(String, Arc<Collection>)> =
            names.par_iter().filter_map(|name| Some(((*name).clone(), ws.index(name)?))).collect();
        ws.collections = indexed.into_iter().collect();
        let files: BTreeSet<String> = ws.own.keys().chain(ws.dangling.keys()).chain(ws.twice.keys()).cloned().collect();
        for file in files {
            ws.convert(&file);
        }
        ws.release_texts();
        Ok(ws)
    }

    /// What the editor is answered from now.
    pub(crate) fn snapshot(&self) -> Analysis {
        Analysis {
            encoding: self.encoding,
            diagnostics: self.published.clone(),
            config: Some(Arc::clone(&self.config)),
            collections: self.collections.clone(),
            checks: analysis::Checks::default(),
            pending: self.pending(),
        }
    }

    /// Whether the cross-file pass has work left.
    pub(crate) fn pending(&self) -> bool {
        let p = &self.pending;
        p.whole || p.packs || !p.keys.is_empty()
    }

    /// Asks for a whole check at the next cross-file pass.
    pub(crate) fn rescan(&mut self) {
        self.pending.whole = true;
    }

    /// The files on disk that changed since they were read (a save, from a client that may
    /// send no file events): each is checked again alone by the next [`edit`](Self::edit),
    /// unless a buffer stands for it. True when a whole check is needed: a file came or
    /// went.
    pub(crate) fn probe(&mut self, disk: &mut Vec<String>) -> bool {
        let changes = self.stamps.probe();
        disk.extend(changes.changed);
        changes.listing
    }

    /// The editor's buffers are now `buffers`, and the files `disk` changed on disk: checks
    /// again each changed file and the references it makes. False when a change is not one
    /// a file's own check can take (a new file, `seedc.toml`, a schema): check the whole
    /// workspace instead.
    pub(crate) fn edit(&mut self, buffers: Buffers, disk: &[String]) -> bool {
        let old: BTreeMap<&str, &Arc<String>> = self.project.tree().buffers().collect();
        let new: BTreeMap<String, Arc<String>> = buffers.iter().cloned().collect();
        let mut changed: BTreeSet<String> = BTreeSet::new();
        for (rel, text) in &new {
            if !old.get(rel.as_str()).is_some_and(|o| Arc::ptr_eq(o, text)) {
                changed.insert(rel.clone());
            }
        }
        changed.extend(old.keys().filter(|rel| !new.contains_key(**rel)).map(|rel| (*rel).to_owned()));
        let limit = self.config.limits.max_file_bytes;
        // A buffer's text now, or the file's on disk.
        let text = |project: &Project, rel: &str| project.tree().read_optional(rel, limit).ok().flatten();
        let mut before = BTreeMap::new();
        for rel in changed.iter().filter(|rel| !self.takes(rel)) {
            before.insert(rel.clone(), text(&self.project, rel));
        }
        let Ok(project) = self.project.with_new_buffers(buffers) else { return false };
        self.project = project;
        let mut todo = Vec::new();
        for rel in changed {
            if self.takes(&rel) {
                // A buffer opened as it was checked changes nothing.
                let checked = self.content.sources.get(&rel).map(Arc::clone);
                let is_checked = |text: Option<&str>| checked.as_ref().zip(text).is_some_and(|(c, t)| c.is_text(t));
                let same = match self.project.tree().buffer(&rel) {
                    Some(buffer) => is_checked(Some(buffer)),
                    None => {
                        // A buffer closed: the file on disk stands again, as read now.
                        self.stamps.refresh(&rel);
                        is_checked(text(&self.project, &rel).as_deref())
                    }
                };
                if !same {
                    todo.push(rel);
                }
            } else if before.get(&rel).is_none_or(|b| *b != text(&self.project, &rel)) {
                return false;
            }
        }
        for rel in disk.iter().filter(|rel| !new.contains_key(*rel) && stamps::matters(rel)) {
            if self.takes(rel) {
                todo.push(rel.clone());
            } else {
                self.pending.whole = true;
            }
        }
        todo.sort();
        todo.dedup();
        for rel in todo {
            if self.project.tree().buffer(&rel).is_none() {
                self.stamps.refresh(&rel);
            }
            let Some(checked) = check::file(&self.project, &self.schemas, &rel) else { return false };
            self.files_checked += 1;
            self.replace(&rel, checked);
        }
        self.release_texts();
        true
    }

    /// The cross-file pass: the references into the collections whose keys changed, and
    /// packs defined twice. False when a whole check was asked for instead.
    pub(crate) fn cross(&mut self) -> bool {
        if self.pending.whole {
            return false;
        }
        let changed = std::mem::take(&mut self.pending.keys);
        let from: BTreeSet<String> = self
            .config
            .collections
            .iter()
            .filter(|(_, c)| c.references.iter().any(|r| changed.contains(&r.collection)))
            .map(|(name, _)| name.clone())
            .collect();
        self.references_from(&from);
        if std::mem::take(&mut self.pending.packs) {
            let mut diags = packs::duplicates(&self.content.packs);
            self.resolve(&mut diags);
            let mut files: BTreeSet<String> = std::mem::take(&mut self.twice).into_keys().collect();
            for d in diags {
                let file = d.file.clone().unwrap_or_default();
                files.insert(file.clone());
                self.twice.entry(file).or_default().push(d);
            }
            files.iter().for_each(|file| self.convert(file));
        }
        true
    }

    /// Whether `rel` is a file one file's check takes: a seed file or a pack of this check.
    fn takes(&self, rel: &str) -> bool {
        self.content.sources.get(rel).is_some() && (rel.starts_with(PACKS_DIR) || self.content.seeds.values().any(|s| s.file == rel))
    }

    /// Lays the new check of the file `rel` over the workspace.
    fn replace(&mut self, rel: &str, checked: FileChecked) {
        let FileChecked { content, diagnostics } = checked;
        set(&mut self.own, rel, diagnostics);
        if let Some(source) = content.sources.get(rel) {
            self.content.sources.insert(Arc::clone(source));
        }
        if rel.starts_with(PACKS_DIR) {
            self.content.packs.retain(|p| p.file != rel);
            for pack in content.packs {
                let at = self.content.packs.partition_point(|p| p.file < pack.file);
                self.content.packs.insert(at, pack);
            }
            self.pending.packs = true;
        }
        for (name, seed) in content.seeds {
            let old = self.content.seeds.insert(name.clone(), seed);
            let new = &self.content.seeds[&name];
            let same_keys = old.is_some_and(|old| {
                old.complete == new.complete && old.records.iter().map(|r| &r.key).eq(new.records.iter().map(|r| &r.key))
            });
            if !same_keys {
                self.pending.keys.insert(name.clone());
            }
            if let Some(index) = self.index(&name) {
                self.collections.insert(name.clone(), index);
            }
            // The references it makes, at once: the keys of the other files are as checked.
            self.references_from(&BTreeSet::from([name]));
        }
        self.convert(rel);
    }

    /// Checks again the references that the collections `from` make.
    fn references_from(&mut self, from: &BTreeSet<String>) {
        if from.is_empty() {
            return;
        }
        let mut diags = references::check_from(&self.content, &self.config, &BTreeMap::new(), &|name| from.contains(name));
        self.resolve(&mut diags);
        let files: Vec<String> = from.iter().filter_map(|name| Some(self.content.seeds.get(name)?.file.clone())).collect();
        let mut by_file: BTreeMap<String, Vec<Diagnostic>> = files.iter().map(|f| (f.clone(), Vec::new())).collect();
        for d in diags {
            by_file.entry(d.file.clone().unwrap_or_default()).or_default().push(d);
        }
        for (file, diags) in by_file {
            set(&mut self.dangling, &file, diags);
            self.convert(&file);
        }
    }

    /// The index of the collection `name`.
    fn index(&self, name: &str) -> Option<Arc<Collection>> {
        let (seed, config) = (self.content.seeds.get(name)?, self.config.collections.get(name)?);
        let source = Arc::clone(self.content.sources.get(&seed.file)?);
        let disk = (self.project.root()?.to_owned(), self.config.limits.max_file_bytes);
        let fields = self.fields.get(name).cloned().unwrap_or_default();
        Some(Arc::new(Collection::index(config, seed, source, disk, fields)))
    }

    /// Lets go of the text of every seed file no buffer holds, once it is indexed and its
    /// diagnostics converted: what the server keeps of a file it does not show is its
    /// index, and its text is read again when a request or a diagnostic needs it.
    fn release_texts(&mut self) {
        let buffered: BTreeSet<&str> = self.project.tree().buffers().map(|(rel, _)| rel).collect();
        let names: Vec<String> = self
            .collections
            .iter()
            .filter(|(_, c)| !buffered.contains(c.file.as_str()) && !c.source.is_released())
            .map(|(name, _)| name.clone())
            .collect();
        for name in names {
            // An index a snapshot shares (a buffer closed as it was checked) is made anew.
            if self.collections.get_mut(&name).is_some_and(|c| Arc::get_mut(c).is_none())
                && let Some(fresh) = self.index(&name)
            {
                self.collections.insert(name.clone(), fresh);
            }
            let Some(c) = self.collections.get_mut(&name).and_then(Arc::get_mut) else { continue };
            if let Some(released) = self.content.sources.release(&c.file) {
                c.source = released;
            }
        }
    }

    /// The text of `file`, released once checked, read again. None when it changed on disk
    /// since: the whole workspace is then checked again.
    fn read_back(&mut self, file: &str) -> Option<String> {
        let source = Arc::clone(self.content.sources.get(file)?);
        let limit = self.config.limits.max_file_bytes;
        let text = self.project.tree().read_optional(file, limit).ok().flatten().filter(|t| source.is_text(t));
        if text.is_none() {
            self.pending.whole = true;
        }
        text
    }

    /// Places diagnostics, reading again the released files they fall in (and letting
    /// them go again).
    fn resolve(&mut self, diags: &mut [Diagnostic]) {
        let released = self.content.sources.released_in(diags);
        for file in &released {
            if let Some(text) = self.read_back(file) {
                self.content.sources.restore(file, text);
            }
        }
        self.content.sources.resolve(diags);
        for file in &released {
            self.content.sources.release(file);
        }
    }

    /// Converts the diagnostics of `file` again, from its three parts.
    fn convert(&mut self, file: &str) {
        let mut sink = Sink::default();
        for part in [&self.own, &self.dangling, &self.twice] {
            sink.extend(part.get(file).into_iter().flatten().cloned());
        }
        if sink.iter().next().is_none() {
            self.published.remove(file);
            return;
        }
        sink.sort();
        let source = self.content.sources.get(file).map(Arc::clone);
        let read;
        let text = match &source {
            Some(s) if s.is_released() => {
                read = self.read_back(file).unwrap_or_default();
                read.as_str()
            }
            Some(s) => s.text.as_str(),
            None => "",
        };
        let collection = self.content.seeds.values().find(|s| s.file == file).map(|s| s.collection.as_str());
        let locked = collection.and_then(|name| Some((name, self.project.lock().collections.get(name)?.version.as_str())));
        let published = diagnostics::convert(text, &sink.into_vec(), self.encoding, locked);
        self.published.insert(file.to_owned(), Arc::from(published));
    }
}

/// Sets the diagnostics of `file` in one part (none: removed).
fn set(part: &mut BTreeMap<String, Vec<Diagnostic>>, file: &str, diags: Vec<Diagnostic>) {
    if diags.is_empty() {
        part.remove(file);
    } else {
        part.insert(file.to_owned(), diags);
    }
}
