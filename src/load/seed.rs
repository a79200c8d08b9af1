//! One seed file read whole: the envelope's members checked, then every record parsed
//! strictly, in parallel, from its own slice (or, for a [`Reduce`], a block at a time). The
//! path every file can take; `stream` is the one a reduced file takes when it can.

use std::sync::Arc;

use rayon::prelude::*;
use serde::de::Deserializer as _;

use super::envelope::{EnvelopeVisitor, offset_in};
use super::file::{fatal_diagnostic, read_text};
use super::records::{Block, RecordParser, add, empty_seed, envelope_members, reduce_block, reduce_block_len};
use super::{Loaded, Reduce, SeedFile, Written, json};
use crate::diag::{Anchor, Code, Diagnostic, SourceFile};
use crate::json::pointer::Pointer;
use crate::project::lock::TextPrint;
use crate::project::tree::Tree;

pub(super) fn load_seed_file(
    tree: &Tree,
    parser: &RecordParser,
    reduce: Option<&dyn Reduce>,
) -> (String, Loaded<SeedFile>, Vec<Diagnostic>) {
    let (rel, collection, config) = (parser.rel, parser.collection, parser.config);
    let mut diags = Vec::new();
    let Some(text) = read_text(tree, rel, config.limits.max_file_bytes, &mut diags) else {
        return (rel.to_owned(), None, diags);
    };
    let mut source = SourceFile::new(rel.to_owned(), text);
    let text = &source.text;
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = de.deserialize_any(EnvelopeVisitor).and_then(|env| de.end().map(|()| env));
    let env = match parsed {
        Ok(env) => env,
        Err(e) => {
            // Re-parse strictly to get our own error (depth, precise syntax message).
            let fatal = match json::parse(text, "", config.limits.max_depth) {
                Err(f) => f,
                Ok(_) => json::Fatal::Syntax { message: e.to_string(), line: e.line(), column_bytes: e.column() },
            };
            let d = fatal_diagnostic(fatal, text, 0, rel);
            diags.push(d);
            let source = Arc::new(source);
            // Its records are unknown: checks that need the whole collection skip it.
            let seed = SeedFile { complete: false, ..empty_seed(collection, rel) };
            return (rel.to_owned(), Some((seed, source)), diags);
        }
    };

    if let Some(what) = env.not_object {
        diags.push(
            Diagnostic::error(Code::InvalidEnvelope, format!("a seed file must be a JSON object, found {what}")).in_file(rel).at_value(""),
        );
        let seed = SeedFile { complete: false, ..empty_seed(collection, rel) };
        return (rel.to_owned(), Some((seed, Arc::new(source))), diags);
    }
    let mut seed = empty_seed(collection, rel);
    for (key, occurrence) in &env.duplicates {
        diags.push(
            Diagnostic::error(Code::DuplicateKey, format!("duplicate key `{key}`"))
                .in_file(rel)
                .at(Anchor::KeyAt { pointer: Pointer::root().key(key), occurrence: *occurrence }),
        );
    }
    let members: Vec<_> = env.members.iter().map(|(key, raw)| (key.as_str(), raw.get(), offset_in(text, raw))).collect();
    envelope_members(&members, rel, config, &mut seed, &mut diags);
    let raws = match env.data {
        Some(Ok(raws)) => raws,
        Some(Err(what)) => {
            diags.push(
                Diagnostic::error(Code::InvalidEnvelope, format!("`data` must be an array of records, found {what}"))
                    .in_file(rel)
                    .at_value("/data"),
            );
            seed.complete = false;
            Vec::new()
        }
        None => {
            diags.push(Diagnostic::error(Code::InvalidEnvelope, "seed file has no `data` array").in_file(rel).at_value(""));
            seed.complete = false;
            Vec::new()
        }
    };
    source.records = raws
        .iter()
        .map(|r| {
            let start = offset_in(text, r);
            start..start + r.get().len()
        })
        .collect();

    match reduce {
        None => {
            let parsed: Vec<_> =
                raws.par_iter().enumerate().map(|(index, raw)| parser.parse(index, raw.get(), offset_in(text, raw))).collect();
            add(parsed, &mut seed, &mut diags);
        }
        Some(reduce) => {
            let print = TextPrint::of(text.as_bytes());
            let vouched = reduce.vouches(collection, &print);
            let block = reduce_block_len();
            let mut parts = if vouched { None } else { reduce.writes(collection) };
            let mut refs = Vec::new();
            seed.records.reserve_exact(raws.len());
            for (b, raws) in raws.chunks(block).enumerate() {
                let raws: Vec<_> = raws.iter().map(|raw| (raw.get(), offset_in(text, raw))).collect();
                let block = Block { first: b * block, raws: &raws };
                reduce_block(parser, reduce, block, &mut seed, parts.as_mut(), &mut refs, &mut diags);
            }
            seed.reduced = Some(refs);
            seed.print = Some(print);
            reduce.file(&seed, if vouched { Some(Written::Vouched) } else { parts });
            // Nothing after loading needs a reduced file's text but the diagnostics placed in
            // it, for which it is read again (unless the text is kept for an editor).
            if !reduce.keeps_text() {
                source.release();
            }
        }
    }
    (rel.to_owned(), Some((seed, Arc::new(source))), diags)
}
