//! A path with every symlink (and, on Windows, junction) resolved, as
//! `std::fs::canonicalize` gives it, also where Wine cannot give it: Wine's
//! `GetFinalPathNameByHandleW` reads the name into a fixed buffer and answers
//! `ERROR_MORE_DATA` past about 260 characters, where Windows returns the size it needs
//! (and std asks again). So on Windows a path too long for that is resolved by hand:
//! its longest ancestor that `canonicalize` resolves, then each further component,
//! following every link met with `read_link`, at most [`MAX_LINKS`] (a loop ends there).
//! Everywhere else this is `canonicalize`, and the tree's root check is unchanged.

use std::io;
use std::path::{Component, Path, PathBuf};

/// Links followed by hand before giving up, as Linux's `ELOOP` limit.
const MAX_LINKS: u32 = 40;
/// What Wine's `GetFinalPathNameByHandleW` answers past its buffer.
const ERROR_MORE_DATA: i32 = 234;

/// `path` resolved: [`std::fs::canonicalize`], or the same by hand where Wine's answer is
/// too long for it.
pub(crate) fn resolve(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref();
    match std::fs::canonicalize(path) {
        Err(e) if too_long(&e) => by_hand(path, &mut 0, &|p| std::fs::canonicalize(p)),
        other => other,
    }
}

/// Wine's answer for a resolved path too long for its buffer (only on Windows: the
/// number means nothing else there, and another thing elsewhere).
fn too_long(e: &io::Error) -> bool {
    cfg!(windows) && e.raw_os_error() == Some(ERROR_MORE_DATA)
}

/// The longest ancestor of `path` (itself included) that `canonical` resolves, then the
/// rest a component at a time. `canonical` stands for `canonicalize`, so a test can make
/// it fail as Wine's does.
fn by_hand(path: &Path, links: &mut u32, canonical: &dyn Fn(&Path) -> io::Result<PathBuf>) -> io::Result<PathBuf> {
    let path = std::path::absolute(path)?;
    let components: Vec<Component> = path.components().collect();
    let mut resolved = components.len();
    let mut out = loop {
        if resolved == 0 {
            return Err(io::Error::other(format!("{}: no part of the path can be resolved", path.display())));
        }
        match canonical(&components[..resolved].iter().collect::<PathBuf>()) {
            Ok(p) => break p,
            Err(e) if e.raw_os_error() == Some(ERROR_MORE_DATA) => resolved -= 1,
            Err(e) => return Err(e),
        }
    };
    for component in &components[resolved..] {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => {
                let next = out.join(name);
                if std::fs::symlink_metadata(&next)?.file_type().is_symlink() {
                    *links += 1;
                    if *links > MAX_LINKS {
                        return Err(io::Error::other(format!("{}: more than {MAX_LINKS} links to follow", next.display())));
                    }
                    // A relative target is of the link's directory; an absolute one replaces it.
                    out = by_hand(&out.join(std::fs::read_link(&next)?), links, canonical)?;
                } else {
                    out = next;
                }
            }
            // Only the first components can be these, and `canonical` took at least them.
            Component::Prefix(_) | Component::RootDir => out.push(component),
        }
    }
    Ok(out)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// `canonicalize`, failing as Wine's does for every path longer than `limit` bytes.
    fn wine_like(limit: usize) -> impl Fn(&Path) -> io::Result<PathBuf> {
        move |p: &Path| {
            if p.as_os_str().len() > limit { Err(io::Error::from_raw_os_error(ERROR_MORE_DATA)) } else { std::fs::canonicalize(p) }
        }
    }

    #[test]
    fn by_hand_resolves_as_canonicalize_does() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(base.join("a/b/c")).unwrap();
        std::fs::create_dir_all(base.join("elsewhere/d")).unwrap();
        std::fs::write(base.join("a/b/c/f.json"), "{}").unwrap();
        std::os::unix::fs::symlink("b/c", base.join("a/rel")).unwrap();
        std::os::unix::fs::symlink(base.join("elsewhere"), base.join("a/b/abs")).unwrap();
        std::os::unix::fs::symlink("loop", base.join("a/loop")).unwrap();
        let limit = base.as_os_str().len() + 2;
        for rel in ["a/b/c/f.json", "a/rel/f.json", "a/b/abs/d", "a/b/c/../c/./f.json", "a/rel/../c"] {
            let path = base.join(rel);
            assert_eq!(by_hand(&path, &mut 0, &wine_like(limit)).unwrap(), std::fs::canonicalize(&path).unwrap(), "{rel}");
        }
        let err = by_hand(&base.join("a/loop/x"), &mut 0, &wine_like(limit)).unwrap_err();
        assert!(err.to_string().contains("more than 40 links"), "{err}");
        let missing = by_hand(&base.join("a/none/x"), &mut 0, &wine_like(limit)).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }
}
