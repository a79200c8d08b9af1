//! `seedc schema`: writes the JSON Schemas of seedc's own formats (or, with `--check`,
//! reports the ones that are out of date).

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::SchemaArgs;
use crate::exit::Exit;
use crate::formats::render::Written;
use crate::report::printer::Printer;

pub(super) fn run(root: &Path, args: &SchemaArgs, printer: &Printer) -> Result<Exit> {
    let dir = args.out_dir.clone().unwrap_or_else(|| root.join("schemas").join("seedc"));
    let mut written = Written::default();
    for (name, schema) in crate::formats::all() {
        let path = dir.join(name);
        let text = crate::formats::to_text(&schema);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if args.check {
            written.stale.push(path.display().to_string());
        } else {
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            crate::project::atomic::write_atomic(&path, text.as_bytes())?;
            written.wrote.push(path.display().to_string());
        }
    }
    printer.report(&written)?;
    Ok(if written.stale.is_empty() { Exit::Ok } else { Exit::Invalid })
}
