//! Tidy: the few code rules that matter, enforced (after rust-analyzer's `tidy.rs`).
//! Every source file says what it is for in its first line; only `src/output.rs` prints.

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
        .filter(|(rel, _)| rel.starts_with("src/") && rel != "src/output.rs")
        .filter(|(_, text)| printing.iter().any(|m| text.contains(m)))
        .map(|(rel, _)| rel)
        .collect();
    assert!(offenders.is_empty(), "only src/output.rs may print (use the Printer): {offenders:?}");
}
