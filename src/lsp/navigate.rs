//! Navigation, answered from the index of the last check: definition (from a reference to
//! the record it names), references (of a record, from its key or any reference to it),
//! hover (the named record's key fields), document and workspace symbols.

use lsp_types::{
    DocumentSymbol, GotoDefinitionResponse, Hover, HoverContents, Location, MarkupContent, MarkupKind, OneOf, Position, SymbolKind,
    WorkspaceSymbol,
};
use serde_json::Value;

use super::analysis::{Analysis, Collection, Named};
use super::encoding::Lines;
use super::store::Root;

/// How many top-level fields a hover shows.
const HOVER_FIELDS: usize = 12;
/// How many records a workspace symbol query returns at most.
const SYMBOLS: usize = 500;

/// What the position names, with the file's text.
pub(crate) fn named(analysis: &Analysis, rel: &str, position: Position) -> Option<Named> {
    let text = analysis.text(rel)?;
    let offset = Lines::new(&text, analysis.encoding).offset(position);
    analysis.named_at(rel, offset)
}

/// The location of a byte range of a file of the check.
pub(crate) fn location(analysis: &Analysis, root: &Root, rel: &str, bytes: std::ops::Range<usize>) -> Option<Location> {
    let text = analysis.text(rel)?;
    Some(Location::new(root.uri(rel), Lines::new(&text, analysis.encoding).range(bytes)))
}

/// The locations of byte ranges of files of the check, in the order given: each file's
/// text is read (and its lines counted) once, however many ranges fall in it.
pub(crate) fn locations(analysis: &Analysis, root: &Root, ranges: &[(&str, std::ops::Range<usize>)]) -> Vec<Location> {
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_by_key(|&i| ranges[i].0);
    let mut found: Vec<Option<Location>> = vec![None; ranges.len()];
    for group in order.chunk_by(|&a, &b| ranges[a].0 == ranges[b].0) {
        let rel = ranges[group[0]].0;
        let Some(text) = analysis.text(rel) else { continue };
        let (lines, uri) = (Lines::new(&text, analysis.encoding), root.uri(rel));
        for &i in group {
            found[i] = Some(Location::new(uri.clone(), lines.range(ranges[i].1.clone())));
        }
    }
    found.into_iter().flatten().collect()
}

/// Where the record a position names is defined (its key).
pub(crate) fn definition(analysis: &Analysis, root: &Root, rel: &str, position: Position) -> Option<GotoDefinitionResponse> {
    let named = named(analysis, rel, position)?;
    let (c, record) = analysis.record(&named.collection, &named.key)?;
    let bytes = record.key_bytes.clone().unwrap_or(record.bytes.clone());
    Some(GotoDefinitionResponse::Scalar(location(analysis, root, &c.file, bytes)?))
}

/// Every reference to the record a position names, and its definition if asked.
pub(crate) fn references(analysis: &Analysis, root: &Root, rel: &str, position: Position, declaration: bool) -> Option<Vec<Location>> {
    let named = named(analysis, rel, position)?;
    let mut ranges = Vec::new();
    if declaration
        && let Some((c, record)) = analysis.record(&named.collection, &named.key)
        && let Some(bytes) = record.key_bytes.clone()
    {
        ranges.push((c.file.as_str(), bytes));
    }
    ranges.extend(analysis.references_to(&named.collection, &named.key).map(|(file, site)| (file, site.bytes.clone())));
    Some(locations(analysis, root, &ranges))
}

/// The record a position names: where it is and its top-level scalar fields.
pub(crate) fn hover(analysis: &Analysis, rel: &str, position: Position) -> Option<Hover> {
    let named = named(analysis, rel, position)?;
    let text = analysis.text(rel)?;
    let lines = Lines::new(&text, analysis.encoding);
    let range = Some(lines.range(named.bytes.clone()));
    let Some((c, record)) = analysis.record(&named.collection, &named.key) else {
        let value = format!("**{}** `{}`: no such record", named.collection, named.key);
        return Some(Hover { contents: HoverContents::Markup(markdown(value)), range });
    };
    let t = c.text()?;
    let line = t[..record.bytes.start.min(t.len())].matches('\n').count() + 1;
    let mut value = format!("**{}** `{}` ({}:{line})\n\n```json\n{{\n", named.collection, named.key, c.file);
    if let Some(Value::Object(map)) = Collection::value(&t, record) {
        let scalars = map.iter().filter(|(_, v)| !v.is_object() && !v.is_array());
        for (field, v) in scalars.take(HOVER_FIELDS) {
            value.push_str(&format!("  {}: {},\n", Value::from(field.as_str()), v));
        }
    }
    value.push_str("}\n```");
    Some(Hover { contents: HoverContents::Markup(markdown(value)), range })
}

fn markdown(value: String) -> MarkupContent {
    MarkupContent { kind: MarkupKind::Markdown, value }
}

/// One symbol per record of a seed file, named by its key.
pub(crate) fn document_symbols(analysis: &Analysis, rel: &str) -> Vec<DocumentSymbol> {
    let (Some((name, c)), Some(text)) = (analysis.collection_of(rel), analysis.text(rel)) else { return Vec::new() };
    let lines = Lines::new(&text, analysis.encoding);
    c.records
        .iter()
        .filter_map(|r| {
            let range = lines.range(r.bytes.clone());
            #[allow(deprecated)] // `deprecated` is a required field of the type
            Some(DocumentSymbol {
                name: r.key.clone()?,
                detail: Some(name.to_owned()),
                kind: SymbolKind::OBJECT,
                tags: None,
                deprecated: None,
                range,
                selection_range: r.key_bytes.clone().map_or(range, |b| lines.range(b)),
                children: None,
            })
        })
        .collect()
}

/// Every record of every collection whose key contains `query` (case-insensitive).
pub(crate) fn workspace_symbols(analysis: &Analysis, root: &Root, query: &str) -> Vec<WorkspaceSymbol> {
    let query = query.to_lowercase();
    let mut found = Vec::new();
    for (name, c) in &analysis.collections {
        let matches = |r: &&super::analysis::RecordSite| r.key.as_ref().is_some_and(|k| k.to_lowercase().contains(&query));
        // A file no buffer holds is read again only when one of its records matches.
        if !c.records.iter().any(|r| matches(&r)) {
            continue;
        }
        let Some(text) = c.text() else { continue };
        let lines = Lines::new(&text, analysis.encoding);
        for r in c.records.iter().filter(matches) {
            let Some(key) = r.key.as_ref() else { continue };
            let bytes = r.key_bytes.clone().unwrap_or(r.bytes.clone());
            found.push(WorkspaceSymbol {
                name: key.clone(),
                kind: SymbolKind::OBJECT,
                tags: None,
                container_name: Some(name.clone()),
                location: OneOf::Left(Location::new(root.uri(&c.file), lines.range(bytes))),
                data: None,
            });
            if found.len() == SYMBOLS {
                return found;
            }
        }
    }
    found
}
