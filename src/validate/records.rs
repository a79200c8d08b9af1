//! Records against their collection schema (in parallel, one compiled validator shared by
//! every thread), unique keys per collection, and records with no usable key.

use std::collections::HashMap;

use jsonschema::error::ValidationErrorKind;
use rayon::prelude::*;

use super::schemas::{CompiledSchema, Schemas, relative_location};
use crate::diag::{Code, Diagnostic};
use crate::json::pointer::Pointer;
use crate::load::{Body, Content, Record, SeedFile, record_label};

/// A record known to be valid ([`crate::load::known`]) is not validated again.
pub(crate) fn check(content: &Content, schemas: &Schemas, key_fields: &HashMap<&str, &str>) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (name, seed) in &content.seeds {
        if !schemas.collections.contains_key(name) {
            continue;
        }
        diags.extend(against_schema(name, seed, schemas));
        diags.extend(keys(seed, key_fields.get(name.as_str()).copied().unwrap_or("id")));
    }
    diags
}

/// The records of one seed file that are parsed and not known, against the collection's
/// schema, on every core (a reduced record was checked while loading, by [`run_against_schema`]).
pub(crate) fn against_schema(name: &str, seed: &SeedFile, schemas: &Schemas) -> Vec<Diagnostic> {
    let Some(schema) = schemas.collections.get(name) else { return Vec::new() };
    seed.records.par_iter().flat_map_iter(|r| record_against(name, &seed.file, r, schemas, schema)).collect()
}

/// [`against_schema`] of a run of the records of `name`'s seed file `file`, on this core.
pub(crate) fn run_against_schema(name: &str, file: &str, records: &[Record], schemas: &Schemas) -> Vec<Diagnostic> {
    let Some(schema) = schemas.collections.get(name) else { return Vec::new() };
    records.iter().flat_map(|r| record_against(name, file, r, schemas, schema)).collect()
}

fn record_against(name: &str, file: &str, r: &Record, schemas: &Schemas, schema: &CompiledSchema) -> Vec<Diagnostic> {
    match &r.body {
        // The label costs a formatted string: only records with errors need one.
        Body::Parsed { value, known: None } if !schema.validator.is_valid(value) => {
            let label = record_label(name, r.key.as_deref(), r.index);
            schema_violations(schemas, schema, value, &format!("/data/{}", r.index), file, &label)
        }
        _ => Vec::new(),
    }
}

/// Every way `value` violates `schema`, as diagnostics at `base` + the instance path.
pub(crate) fn schema_violations(
    schemas: &Schemas,
    schema: &CompiledSchema,
    value: &serde_json::Value,
    base: &str,
    file: &str,
    label: &str,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // Almost every record is valid, and answering yes or no is much cheaper than
    // collecting errors with their paths.
    if schema.validator.is_valid(value) {
        return out;
    }
    for error in schema.validator.iter_errors(value) {
        // jsonschema's instance path is already an escaped pointer.
        let pointer = Pointer::from(format!("{base}{}", error.instance_path().as_str()));
        let location = match error.absolute_keyword_location() {
            Some(uri) => relative_location(uri.as_str()),
            None => format!("{}#{}", schema.path, error.schema_path().as_str()),
        };
        let unexpected = match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                Some(unexpected.clone())
            }
            _ => None,
        };
        match unexpected {
            // One diagnostic per unknown field, pointing at its key: that is where the typo is.
            Some(names) => {
                for name in names {
                    let known = known_properties(schemas, &location);
                    let mut d = Diagnostic::error(Code::SchemaViolation, format!("unknown field `{name}`"))
                        .in_file(file)
                        .at_key(pointer.clone().key(&name))
                        .record(label)
                        .schema(location.clone());
                    if let Some(s) = super::did_you_mean(&name, known.iter().map(String::as_str)) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    out.push(d);
                }
            }
            None => out.push(
                Diagnostic::error(Code::SchemaViolation, lowercase_first(&error.to_string()))
                    .in_file(file)
                    .at_value(pointer)
                    .record(label)
                    .schema(location),
            ),
        }
    }
    out
}

/// Property names declared next to the failing `additionalProperties` keyword, for "did
/// you mean" hints (best effort: names declared only in other `allOf` branches are missed).
fn known_properties(schemas: &Schemas, location: &str) -> Vec<String> {
    let Some((file, fragment)) = location.split_once('#') else { return Vec::new() };
    let parent = fragment.rsplit_once('/').map_or("", |(p, _)| p);
    let properties = schemas.documents.get(file).and_then(|d| d.pointer(parent)).and_then(|s| s.get("properties"));
    match properties {
        Some(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_uppercase() && !chars.clone().next().is_some_and(char::is_uppercase) => c.to_lowercase().chain(chars).collect(),
        _ => s.to_owned(),
    }
}

fn keys(seed: &SeedFile, key_field: &str) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut first: HashMap<&str, usize, rustc_hash::FxBuildHasher> =
        HashMap::with_capacity_and_hasher(seed.records.len(), Default::default());
    for r in &seed.records {
        match &r.key {
            None => diags.push(
                Diagnostic::error(Code::MissingKey, format!("record has no `{key_field}` (a non-empty string or an integer)"))
                    .in_file(&seed.file)
                    .at_value(format!("/data/{}", r.index))
                    .record(record_label(&seed.collection, None, r.index)),
            ),
            Some(key) => {
                if let Some(prev) = first.insert(key, r.index) {
                    first.insert(key, prev);
                    diags.push(
                        Diagnostic::error(Code::DuplicateId, format!("duplicate {key_field} {key:?} in `{}`", seed.collection))
                            .in_file(&seed.file)
                            .at_value(Pointer::from("/data").index(r.index).key(key_field))
                            .record(record_label(&seed.collection, Some(key), r.index))
                            .help(format!("the first record with this {key_field} is /data/{prev}")),
                    );
                }
            }
        }
    }
    diags
}
