//! Measures how fast seedc hashes bundle bytes (the work of `seedc verify` and of a no-op
//! `seedc build`), for `scripts/bench.d/build.sh` to compare with `sha256sum` in the same run.
//!
//!   cargo run --release --example hash_bundles -- out/packs/sha256 [ROUNDS]
//!
//! Prints one line: `bytes=<hashed> single_ns=<one thread> parallel_ns=<rayon, as verify>`.
//! The bundles are read into memory first, so the figures are hashing, not I/O.

use std::time::Instant;

use std::io::Write as _;

use rayon::prelude::*;
use seedc::json::canon::ContentHash;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), rounds) = (args.next(), args.next()) else {
        let _ = writeln!(std::io::stderr(), "usage: hash_bundles DIR [ROUNDS]");
        return std::process::ExitCode::from(2);
    };
    let rounds: usize = rounds.and_then(|r| r.parse().ok()).unwrap_or(1).max(1);
    let mut bundles = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the bundle directory is readable") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let bytes = std::fs::read(&path).expect("a readable bundle");
            let name = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            bundles.push((ContentHash::parse_hex(&name).expect("bundles are named by their hash"), bytes));
        }
    }
    let total: usize = bundles.iter().map(|(_, b)| b.len()).sum::<usize>() * rounds;

    let start = Instant::now();
    for _ in 0..rounds {
        for (hash, bytes) in &bundles {
            assert_eq!(ContentHash::of(bytes), *hash, "a bundle does not match its name");
        }
    }
    let single = start.elapsed();

    let start = Instant::now();
    for _ in 0..rounds {
        bundles.par_iter().for_each(|(hash, bytes)| assert_eq!(ContentHash::of(bytes), *hash));
    }
    let parallel = start.elapsed();
    let _ = writeln!(std::io::stdout(), "bytes={total} single_ns={} parallel_ns={}", single.as_nanos(), parallel.as_nanos());
    std::process::ExitCode::SUCCESS
}
