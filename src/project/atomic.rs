//! File writing that never leaves a torn file under its final name: write a temporary file
//! in the same directory, fsync it, rename it over the target, fsync the directory.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Prefix of temporary files; a later build removes strays left by a killed one.
pub(crate) const TMP_PREFIX: &str = ".seedc-tmp-";

/// Replaces `path` with `bytes` atomically: a reader (or a crash) sees the old content or
/// the new, never a mix. The temporary lives in the same directory so the rename never
/// crosses a file system; the file is fsynced before the rename so the name can never
/// point at unwritten blocks after a power loss.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(TMP_PREFIX);
    // Temporaries are private (0600) on Unix; outputs are ordinary files, and a file we
    // replace (seedc.lock) keeps the mode its owner gave it.
    #[cfg(unix)]
    builder.permissions(match std::fs::metadata(path) {
        Ok(m) => m.permissions(),
        Err(_) => std::os::unix::fs::PermissionsExt::from_mode(0o644),
    });
    let mut tmp = builder.tempfile_in(dir).with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    tmp.as_file().sync_all().with_context(|| format!("cannot sync {}", path.display()))?;
    tmp.persist(path).map_err(|e| e.error).with_context(|| format!("cannot rename into {}", path.display()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Persists the rename itself; not supported on every platform, so best effort.
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.json")]);
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_ordinary_and_replaced_files_keep_their_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh");
        write_atomic(&fresh, b"x").unwrap();
        assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o644);
        let kept = dir.path().join("kept");
        std::fs::write(&kept, b"old").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&kept, b"new").unwrap();
        assert_eq!(std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
