//! `seedc init`: makes a content root of the folder at `--root`. With seed files in
//! `data/seeds/` it adopts them (what it guesses is `crate::init`'s); with none it starts
//! with an example collection. It checks what it would write, in memory, with the check
//! every command runs, and writes seedc.toml, a schema per collection and seedc.lock (made
//! from that check, as `seedc build` makes it) only when it passes. Nothing is written
//! before every refusal is decided: an existing file without `--force`, a seed file it
//! cannot adopt, guesses the check refuses.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::cli::InitArgs;
use crate::diag::render::Diagnostics;
use crate::exit::{Exit, ExitError};
use crate::init::render::Report;
use crate::init::{Input, Json};
use crate::project::Project;
use crate::project::tree::Tree;
use crate::report::printable;
use crate::report::printer::Printer;

/// The seed file of the example collection, in a folder that has none.
const EXAMPLE_FILE: &str = "data/seeds/items.json";

pub(super) fn run(root: &Path, args: &InitArgs, printer: &Printer) -> Result<Exit> {
    let updated_at = now_rfc3339()?;
    let seeds = seed_files(root)?;
    let example = seeds.is_empty();
    let seeds = if example { vec![(EXAMPLE_FILE.to_owned(), example_text(&updated_at))] } else { seeds };

    let mut inputs = Vec::new();
    let mut wraps = Vec::new();
    let mut problems = Vec::new();
    for (rel, text) in &seeds {
        match adopt(rel, text) {
            Ok(Adopted::Envelope(input)) => inputs.push(input),
            Ok(Adopted::Bare(input)) if args.wrap => {
                wraps.push((rel.clone(), wrap(text, &updated_at)));
                inputs.push(input);
            }
            Ok(Adopted::Bare(_)) => problems.push(format!(
                "{}: a bare array of records; `seedc init --wrap` puts it in the envelope (`version` 1.0.0, `updated_at` now, `data`)",
                printable(rel)
            )),
            Err(why) => problems.push(format!("{}: {why}", printable(rel))),
        }
    }
    if !problems.is_empty() {
        return Err(ExitError::new(
            Exit::Invalid,
            format!("cannot adopt these seed files; nothing was written:\n  {}", problems.join("\n  ")),
        ));
    }

    let collections = crate::init::guess(&inputs);
    let config = crate::init::config_text(&project_name(root), &collections);
    crate::project::config::Config::parse(&config).context("seedc init made a seedc.toml that seedc refuses (a bug)")?;
    let mut files = vec![(crate::project::config::CONFIG_FILE.to_owned(), config)];
    files.extend(collections.iter().map(|c| (c.schema_path.clone(), c.schema.to_pretty())));
    if example {
        files.extend(seeds.iter().cloned());
    }

    let lock = crate::project::lock::LOCK_FILE;
    let existing: Vec<String> = files
        .iter()
        .map(|(rel, _)| rel.as_str())
        .chain([lock])
        .filter(|rel| root.join(rel).exists())
        .map(|rel| printable(rel).into_owned())
        .collect();
    if !existing.is_empty() && !args.force {
        return Err(ExitError::new(
            Exit::Usage,
            format!(
                "{} already exist{}; nothing was written (`seedc init --force` replaces them)",
                existing.join(", "),
                if existing.len() == 1 { "s" } else { "" }
            ),
        ));
    }

    // Checked before anything is written, by the check every command runs, on the files as
    // they would be (a lock of nothing in place of one --force replaces): a guess seedc
    // would refuse is reported, never written.
    let empty_lock = crate::project::lock::Lock { v: 1, ..Default::default() }.to_text();
    let buffers = wraps.iter().chain(&files).cloned().chain(args.force.then(|| (lock.to_owned(), empty_lock)));
    let scratch = tempfile::tempdir()?;
    let over = if root.exists() { root } else { scratch.path() };
    let project = Project::with_buffers(over, buffers.map(|(rel, text)| (rel, Arc::new(text))))?;
    let (mut checked, sink) = crate::check::run(&project, crate::check::Mode::Build)?;
    let report = Report {
        dry_run: args.dry_run,
        example,
        collections,
        wrapped: wraps.iter().map(|(rel, _)| rel.clone()).collect(),
        written: files.iter().map(|(rel, _)| rel.clone()).chain([lock.to_owned()]).collect(),
        refused: sink.has_errors(),
    };
    if report.refused {
        printer.report(&report)?;
        printer.report(&Diagnostics::new("init", sink, std::mem::take(&mut checked.content.sources)))?;
        return Ok(Exit::Invalid);
    }
    files.push((lock.to_owned(), checked.next_lock().to_text()));
    if !args.dry_run {
        for (rel, text) in wraps.iter().chain(&files) {
            write(root, rel, text, args.force || wraps.iter().any(|(w, _)| w == rel))?;
        }
    }
    printer.report(&report)?;
    Ok(Exit::Ok)
}

/// The seed files of `data/seeds/` and their text.
fn seed_files(root: &Path) -> Result<Vec<(String, String)>> {
    if !root.exists() {
        return Ok(Vec::new());
    }
    let tree = Tree::dir(root);
    let found = crate::load::discover_tree(&tree);
    if let Some(problem) = found.problems.first() {
        let file = problem.file.as_deref().unwrap_or_default();
        return Err(ExitError::new(Exit::Usage, format!("{}: {}", printable(file), printable(&problem.message))));
    }
    let limit = crate::project::config::Limits::default().max_file_bytes;
    found
        .seeds
        .into_iter()
        .map(|rel| {
            let bytes = tree.read_limited(&rel, limit).with_context(|| format!("cannot read {}", printable(&rel)))?;
            let text = String::from_utf8(bytes).map_err(|_| ExitError::new(Exit::Invalid, format!("{}: not UTF-8", printable(&rel))))?;
            Ok((rel, text))
        })
        .collect()
}

enum Adopted {
    Envelope(Input),
    Bare(Input),
}

/// A seed file's records: in the envelope (which must then be complete), or a bare array.
fn adopt(rel: &str, text: &str) -> Result<Adopted, String> {
    let name = rel.trim_start_matches("data/seeds/").trim_end_matches(".json");
    if !crate::project::config::is_identifier(name) {
        return Err(format!("the collection name {:?} must match [a-z][a-z0-9_]* (rename the file)", printable(name)));
    }
    let value: Json = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let input = |records| Input { name: name.to_owned(), file: rel.to_owned(), records };
    match value {
        Json::Array(records) => Ok(Adopted::Bare(input(records))),
        Json::Object(mut members) => {
            for needed in ["version", "updated_at"] {
                if !members.iter().any(|(k, v)| k == needed && matches!(v, Json::String(_))) {
                    return Err(format!("the envelope has no `{needed}` string; add it, or keep only the array of records and use --wrap"));
                }
            }
            match members.iter().position(|(k, _)| k == "data") {
                Some(at) => match members.swap_remove(at).1 {
                    Json::Array(records) => Ok(Adopted::Envelope(input(records))),
                    _ => Err("`data` is not an array of records".to_owned()),
                },
                None => Err("an object without `data`: a seed file is `{\"version\", \"updated_at\", \"data\": [records]}`".to_owned()),
            }
        }
        _ => Err("neither an array of records nor a seed file's envelope".to_owned()),
    }
}

/// The bare array `text` inside an envelope; the records' own text is kept as it was.
fn wrap(text: &str, updated_at: &str) -> String {
    format!("{{\n  \"version\": \"1.0.0\",\n  \"updated_at\": \"{updated_at}\",\n  \"data\": {}\n}}\n", text.trim())
}

fn example_text(updated_at: &str) -> String {
    format!(
        r#"{{
  "version": "1.0.0",
  "updated_at": "{updated_at}",
  "data": [
    {{ "id": "health_potion", "name": "Health Potion", "rarity": "common", "price": 25, "stackable": true }},
    {{ "id": "iron_sword", "name": "Iron Sword", "rarity": "common", "price": 120, "stackable": false }},
    {{ "id": "ember_blade", "name": "Ember Blade", "rarity": "rare", "price": 900, "stackable": false }}
  ]
}}
"#
    )
}

/// `updated_at` of a new or wrapped seed file: `SOURCE_DATE_EPOCH` when set, else now.
fn now_rfc3339() -> Result<String> {
    let now = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(secs) => {
            let secs: i64 = secs
                .trim()
                .parse()
                .map_err(|_| ExitError::new(Exit::Usage, format!("SOURCE_DATE_EPOCH {secs:?} is not a number of seconds")))?;
            jiff::Timestamp::from_second(secs).map_err(|e| ExitError::new(Exit::Usage, format!("SOURCE_DATE_EPOCH {secs}: {e}")))?
        }
        Err(_) => jiff::Timestamp::now(),
    };
    Ok(now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// The project's name: the folder's, in letters, digits, `-` and `_`.
fn project_name(root: &Path) -> String {
    let folder = std::fs::canonicalize(root).ok().and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).unwrap_or_default();
    let name: String =
        folder.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c.to_ascii_lowercase() } else { '-' }).collect();
    let name = name.trim_matches('-');
    if name.is_empty() { "game".to_owned() } else { name.to_owned() }
}

/// Writes `rel` under `root` atomically; unless `replace`, never over a file that appeared
/// since the refusal was decided (the rename is a no-clobber link).
fn write(root: &Path, rel: &str, text: &str, replace: bool) -> Result<()> {
    let path = root.join(rel);
    let dir = path.parent().unwrap_or(root);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if replace {
        return crate::project::atomic::write_atomic(&path, text.as_bytes());
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(crate::project::atomic::TMP_PREFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    tmp.as_file().sync_all().with_context(|| format!("cannot sync {}", path.display()))?;
    tmp.persist_noclobber(&path).map_err(|e| e.error).with_context(|| format!("cannot create {} (does it exist now?)", path.display()))?;
    Ok(())
}
