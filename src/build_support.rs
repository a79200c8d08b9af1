//! File writing that never leaves a torn file under its final name: write a temporary file
//! in the same directory, fsync it, rename it over the target, fsync the directory.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Prefix of temporary files; a later build removes strays left by a killed one.
pub const TMP_PREFIX: &str = ".seedc-tmp-";

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    tmp.as_file().sync_all().with_context(|| format!("cannot sync {}", path.display()))?;
    tmp.persist(path).map_err(|e| e.error).with_context(|| format!("cannot rename into {}", path.display()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Persists the rename itself; not supported on every platform, so best effort.
        let _ = d.sync_all();
    }
    Ok(())
}
