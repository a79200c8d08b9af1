//! Editing help, answered from the index of the last check: completion of the ids a
//! declared reference may name (of its target collection only) and of a record's field
//! names (from its schema); rename of a record id across files; the quick fixes that
//! seedc's diagnostics carry.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CompletionItem, CompletionItemKind, CompletionTextEdit, Position, Range, TextEdit,
    WorkspaceEdit,
};
use serde_json::Value;

use crate::project::Project;
use crate::validate::schemas::Schemas;

use super::analysis::{Analysis, Collection};
use super::cursor::{self, Step};
use super::encoding::Lines;
use super::navigate;
use super::store::Root;

/// Completion at `position` of `rel`: ids inside a value at a declared reference path,
/// field names where a member name of a record goes.
pub(crate) fn completion(analysis: &Analysis, rel: &str, position: Position) -> Vec<CompletionItem> {
    let (Some(text), Some(config), Some((name, collection))) = (analysis.text(rel), &analysis.config, analysis.collection_of(rel)) else {
        return Vec::new();
    };
    let lines = Lines::new(&text, analysis.encoding);
    let Some(at) = cursor::at(&text, lines.offset(position)) else { return Vec::new() };
    let rest = match at.path.as_slice() {
        [Step::Member(data), Step::Index(_), rest @ ..] if data == "data" => rest,
        _ => return Vec::new(),
    };
    let replace = at.string.clone().map(|bytes| lines.range(bytes));
    let item = |label: &str, detail: Option<String>, kind: CompletionItemKind, text: String| CompletionItem {
        label: label.to_owned(),
        kind: Some(kind),
        detail,
        filter_text: Some(Value::from(label).to_string()),
        text_edit: replace.map(|range| CompletionTextEdit::Edit(TextEdit::new(range, Value::from(label).to_string()))),
        insert_text: replace.is_none().then_some(text),
        ..CompletionItem::default()
    };
    if at.name {
        if !rest.is_empty() {
            return Vec::new();
        }
        return collection
            .fields
            .iter()
            .map(|(field, description)| {
                item(field, description.clone(), CompletionItemKind::FIELD, format!("{}: ", Value::from(field.as_str())))
            })
            .collect();
    }
    let Some(config) = config.collections.get(name) else { return Vec::new() };
    let Some(target) = config.references.iter().find(|r| matches(&r.path, rest)).map(|r| r.collection.as_str()) else {
        return Vec::new();
    };
    let Some(target_collection) = analysis.collections.get(target) else { return Vec::new() };
    let target_text = target_collection.text().unwrap_or_default();
    target_collection
        .records
        .iter()
        .filter_map(|r| {
            let key = r.key.as_deref()?;
            let label = Collection::value(&target_text, r).and_then(|v| v.get("name")?.as_str().map(str::to_owned));
            Some(item(
                key,
                Some(label.map_or(target.to_owned(), |l| format!("{target}: {l}"))),
                CompletionItemKind::VALUE,
                Value::from(key).to_string(),
            ))
        })
        .collect()
}

/// Whether the path below a record, `rest`, is at the reference path `path` (`*` matching
/// any member or index).
fn matches(path: &str, rest: &[Step]) -> bool {
    let Some(tokens) = crate::json::pointer::tokens(path) else { return false };
    let tokens: Vec<_> = tokens.collect();
    tokens.len() == rest.len()
        && tokens.iter().zip(rest).all(|(t, step)| match step {
            _ if t == "*" => true,
            Step::Member(m) => m == t,
            Step::Index(i) => t.parse::<usize>().ok() == Some(*i),
        })
}

/// Renames the record named at `position` to `new`: its key and every declared reference
/// to it, in one edit. Refused (the message says why) when `new` is taken in the
/// collection or not a key its schema accepts; `project` is the workspace the check saw.
// lsp-types keys `WorkspaceEdit::changes` by `Uri`, whose parsed form caches a cell.
#[allow(clippy::mutable_key_type)]
pub(crate) fn rename(
    analysis: &Analysis,
    root: &Root,
    project: &Project,
    rel: &str,
    position: Position,
    new: &str,
) -> Result<Option<WorkspaceEdit>, String> {
    let Some(named) = navigate::named(analysis, rel, position) else { return Ok(None) };
    let Some((c, record)) = analysis.record(&named.collection, &named.key) else {
        return Err(format!("{} has no record {:?} to rename", named.collection, named.key));
    };
    if new == named.key {
        return Ok(None);
    }
    if c.find(new).is_some() {
        return Err(format!("{} already has a record {new:?}", named.collection));
    }
    refused_by_schema(c.text().and_then(|t| Collection::value(&t, record)), project, &named.collection, &c.key_field, new)?;
    let json = Value::from(new).to_string();
    let mut ranges: Vec<(&str, std::ops::Range<usize>)> = record.key_bytes.clone().map(|b| (c.file.as_str(), b)).into_iter().collect();
    ranges.extend(analysis.references_to(&named.collection, &named.key).map(|(file, site)| (file, site.bytes.clone())));
    let mut changes: HashMap<lsp_types::Uri, Vec<TextEdit>> = HashMap::new();
    for location in navigate::locations(analysis, root, &ranges) {
        changes.entry(location.uri).or_default().push(TextEdit::new(location.range, json.clone()));
    }
    Ok(Some(WorkspaceEdit::new(changes)))
}

/// The record `value` of `collection` with its key set to `new`, validated against the
/// collection's schema: an error at the key refuses the name.
fn refused_by_schema(value: Option<Value>, project: &Project, collection: &str, key_field: &str, new: &str) -> Result<(), String> {
    let Some(Value::Object(record)) = value else { return Ok(()) };
    let schemas = Schemas::compile_tree(project.tree(), project.config()).map_err(|e| format!("cannot compile the schemas: {e}"))?;
    let Some(schema) = schemas.collections.get(collection) else { return Ok(()) };
    let mut renamed = record;
    renamed.insert(key_field.to_owned(), Value::from(new));
    let at_key = format!("/{}", crate::json::pointer::escape(key_field));
    let renamed = Value::Object(renamed);
    match schema.validator.iter_errors(&renamed).find(|e| e.instance_path().as_str() == at_key) {
        Some(error) => Err(format!("{new:?} is not a valid key of {collection}: {error}")),
        None => Ok(()),
    }
}

/// The quick fixes of the diagnostics of `rel` that touch `range`.
#[allow(clippy::mutable_key_type)] // as in `rename`
pub(crate) fn code_actions(analysis: &Analysis, root: &Root, rel: &str, range: Range) -> Vec<CodeActionOrCommand> {
    let touches = |r: &Range| r.start <= range.end && range.start <= r.end;
    let Some(published) = analysis.diagnostics.get(rel) else { return Vec::new() };
    published
        .iter()
        .filter(|p| touches(&p.diagnostic.range))
        .filter_map(|p| {
            let fix = p.fix.as_ref()?;
            let edit = TextEdit::new(fix.range, fix.text.clone());
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: fix.title.clone(),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![p.diagnostic.clone()]),
                edit: Some(WorkspaceEdit::new(HashMap::from([(root.uri(rel), vec![edit])]))),
                is_preferred: Some(true),
                ..CodeAction::default()
            }))
        })
        .collect()
}
