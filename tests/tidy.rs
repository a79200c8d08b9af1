//! Tidy: the few code rules that matter, enforced (after rust-analyzer's `tidy.rs`).
//! Every source file says what it is for in its first line; only `src/report/printer.rs` prints;
//! only `src/project/tree.rs` reads the files of a content root.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "examples", "benches"] {
        if root.join(dir).is_dir() {
            rust_files(&root.join(dir), &mut files);
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let missing: Vec<String> =
        sources().into_iter().filter(|(_, text)| !text.trim_start().starts_with("//!")).map(|(rel, _)| rel).collect();
    assert!(missing.is_empty(), "these files do not open with a `//!` line saying what they are for: {missing:?}");
}

#[test]
fn only_the_output_module_prints() {
    let printing = ["println!", "print!(", "eprintln!", "eprint!(", "dbg!("];
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|(rel, _)| rel.starts_with("src/") && rel != "src/report/printer.rs")
        .filter(|(_, text)| printing.iter().any(|m| text.contains(m)))
        .map(|(rel, _)| rel)
        .collect();
    assert!(offenders.is_empty(), "only src/report/printer.rs may print (use the Printer): {offenders:?}");
}

/// The layers of `src/`, lowest first, in four bands (ARCHITECTURE.md, "Layers"): the
/// base every stage stands on, the stages of the pipeline that read and write only files,
/// the adapters that drive a service (object storage, PostgreSQL, Redis), and the commands.
/// A module may use modules of lower layers and its own submodules, never one of its own
/// layer or above: the pipeline only points down, so each stage can be read, tested and
/// changed without the ones above.
const BANDS: &[(&str, &[&[&str]])] = &[
    ("base", &[&["exit", "json", "report"], &["project"], &["diag"]]),
    ("stages", &[&["load"], &["validate"], &["check"], &["build"], &["verify", "diff", "formats", "init"]]),
    ("adapters", &[&["publish"], &["db"], &["flush"], &["deploy"], &["status"]]),
    ("commands", &[&["cli", "lsp"], &["commands"]]),
];

/// Every layer of every band, lowest first.
fn layers() -> Vec<&'static [&'static str]> {
    BANDS.iter().flat_map(|(_, layers)| layers.iter().copied()).collect()
}

/// The top-level module a file of `src/` belongs to (`None` for the crate root files).
fn module_of(rel: &str) -> Option<&str> {
    let rest = rel.strip_prefix("src/")?;
    let first = rest.split('/').next()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then_some(name)
}

/// Every top-level module named by a `crate::` path in `text`, `use crate::{a, b::c}` included.
fn crate_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    for (at, _) in text.match_indices("crate::") {
        // Skip `seedc::crate_...` lookalikes and doc text such as "[`crate::load::known`]" alike:
        // both name a module, which is what is checked.
        if text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        start = false;
                        out.push(ident(&group[i..]));
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(rest));
        }
    }
    out
}

#[test]
fn layers_only_point_down() {
    let layers = layers();
    let layer = |m: &str| layers.iter().position(|l| l.contains(&m));
    let mut offenders = Vec::new();
    for (rel, text) in sources() {
        let Some(from) = module_of(&rel) else { continue };
        let Some(from_layer) = layer(from) else {
            offenders.push(format!("{rel}: module `{from}` is in no layer (add it to BANDS and ARCHITECTURE.md)"));
            continue;
        };
        let mut seen = std::collections::BTreeSet::new();
        for to in crate_paths(&text) {
            if to == from || !seen.insert(to.clone()) {
                continue;
            }
            match layer(&to) {
                Some(l) if l < from_layer => {}
                Some(l) if l == from_layer => offenders.push(format!("{rel}: `{from}` uses `{to}`, beside it in its layer")),
                Some(_) => offenders.push(format!("{rel}: `{from}` uses `{to}`, a layer above it")),
                None => offenders.push(format!("{rel}: `{from}` uses `{to}`, which is in no layer")),
            }
        }
    }
    assert!(offenders.is_empty(), "imports against the layers (see BANDS in tests/tidy.rs):\n  {}", offenders.join("\n  "));
}

#[test]
fn the_layer_test_reads_grouped_imports() {
    let paths = crate_paths("use crate::{check::{self, Keep}, diag::Sink};\nlet x = crate::json::canon::raw_digest(b);");
    assert_eq!(paths, ["check", "diag", "json"]);
}

/// ARCHITECTURE.md: every read of a content root, `out/` included, goes through `Tree`, the
/// one reader that refuses FIFOs, devices and links out of the root and bounds every read.
/// Outside `src/project/tree.rs` only files that are no part of a content root are read with
/// `std::fs` (an AWS profile, TLS files of Redis, `seedc schema`'s output, a directory
/// opened to fsync it), and tests; other files the user names outside a content root (a
/// saved plan, a secret, PostgreSQL's TLS files) go through `tree::read_regular_file`.
#[test]
fn only_the_tree_reads_files_of_a_content_root() {
    let allowed = ["src/project/tree.rs", "src/publish/profile.rs", "src/flush/node.rs", "src/commands/schema.rs", "src/project/atomic.rs"];
    let reads = ["fs::read(", "fs::read_to_string(", "File::open(", "OpenOptions::new().read("];
    let offenders: Vec<String> = sources()
        .into_iter()
        // A module's tests in a file of their own (`tests.rs`) are tests throughout.
        .filter(|(rel, _)| rel.starts_with("src/") && !allowed.contains(&rel.as_str()) && !rel.ends_with("/tests.rs"))
        .filter(|(_, text)| {
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            reads.iter().any(|r| code.contains(r))
        })
        .map(|(rel, _)| rel)
        .collect();
    assert!(offenders.is_empty(), "read files of a content root (or out/) through tree::Tree: {offenders:?}");
}

/// ARCHITECTURE.md: the layout shows the architecture. Few files loose at the top of
/// `src/` (the crate roots, the exit policy, the CLI), the rest in folders named for what
/// they hold; and no source file so long that it holds more than one thing.
#[test]
fn the_layout_stays_readable() {
    const MAX_LOOSE: usize = 6;
    const MAX_LINES: usize = 500;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loose: Vec<String> = std::fs::read_dir(root.join("src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(loose.len() <= MAX_LOOSE, "{} files loose at the top of src/ (at most {MAX_LOOSE}): {loose:?}", loose.len());
    let long: Vec<String> = sources()
        .into_iter()
        .filter(|(rel, _)| rel.starts_with("src/"))
        .filter(|(_, text)| text.lines().count() > MAX_LINES)
        .map(|(rel, text)| format!("{rel} ({} lines)", text.lines().count()))
        .collect();
    assert!(long.is_empty(), "source files over {MAX_LINES} lines: split them by what they hold: {long:?}");
}
