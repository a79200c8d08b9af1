//! The baseline of the check benchmark (scripts/bench.d/check.sh): reads every `*.json`
//! under a content root's `data/` and parses it with serde_json alone into a `Value`, one
//! file per task on every core. seedc check does this and much more; the benchmark reports
//! its throughput as a share of this one.
//!
//! ```text
//! cargo run --release --example parse_baseline -- DIR
//! ```

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            json_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let root = PathBuf::from(std::env::args().nth(1).context("usage: parse_baseline DIR")?);
    let mut files = Vec::new();
    json_files(&root.join("data"), &mut files)?;
    // Largest first, so one big file does not start last and leave a core idle.
    files.sort_by_key(|f| std::cmp::Reverse(std::fs::metadata(f).map_or(0, |m| m.len())));
    let bytes: usize = files
        .par_iter()
        .map(|f| -> Result<usize> {
            let text = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
            let value: serde_json::Value = serde_json::from_slice(&text).with_context(|| format!("{} is not JSON", f.display()))?;
            std::hint::black_box(&value);
            Ok(text.len())
        })
        .sum::<Result<usize>>()?;
    // The one line a benchmark script reads.
    writeln!(std::io::stdout(), "files={} bytes={bytes}", files.len())?;
    Ok(())
}
