//! The record memo (`out/.cache/records.bin`): what the last clean deploy knew about every
//! record, so that the next deploy reads only the records that changed.
//!
//! For each complete collection it keeps the collection's content hash and, per record,
//! the BLAKE3 of the record's bytes in the seed file, its key, and its canonical bytes and
//! hash. A record whose bytes are identical to a memo record's, under identical config,
//! schemas and seedc version (the build cache's global fingerprint), parses to the same
//! value: it is valid, has that key and those canonical bytes. The loader then skips
//! parsing it ([`crate::load::SeedFile::elided`]) and the check takes the rest from the
//! memo as it takes it from a prior check in `seedc diff` ([`crate::validate::Reuse`]).
//!
//! Like the build cache it is only ever a shortcut: a body checksum guards it, and a
//! missing, torn, corrupt or foreign memo is a miss. It is written without fsync for the
//! same reason: a memo lost in a crash only costs the next deploy a full check.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result};
use bytes::Bytes;
use rayon::prelude::*;
use serde_json::Value;

use crate::build_support::TMP_PREFIX;
use crate::canon::{CanonicalRecord, ContentHash};
use crate::check::Checked;
use crate::config::Config;
use crate::load::{Content, Record, SeedFile};
use rustc_hash::FxBuildHasher;

/// The memo, relative to `out/`.
pub const MEMO_FILE: &str = ".cache/records.bin";

/// The first bytes of a memo: a name and the format version, bumped when the layout or its
/// meaning changes, so an old memo is a miss.
const MAGIC: &[u8; 16] = b"seedc-records\0\0\x01";

/// A BLAKE3 digest of a record's bytes as they stand in its seed file.
pub type RawDigest = [u8; 32];

pub fn raw_digest(raw: &str) -> RawDigest {
    *blake3::hash(raw.as_bytes()).as_bytes()
}

/// A memo read back from disk.
#[derive(Debug)]
pub struct Memo {
    pub collections: BTreeMap<String, MemoCollection>,
}

#[derive(Debug)]
pub struct MemoCollection {
    /// The collection's content hash when the memo was written.
    pub hash: ContentHash,
    pub raw: Vec<RawDigest>,
    pub keys: Vec<String>,
    pub canonical: Vec<CanonicalRecord>,
    by_raw: OnceLock<HashMap<RawDigest, usize, FxBuildHasher>>,
}

impl MemoCollection {
    /// The memo record with exactly these bytes, looked for first at the same position in
    /// the file (most records keep their place), then anywhere.
    pub fn find(&self, index: usize, raw: &RawDigest) -> Option<usize> {
        if self.raw.get(index) == Some(raw) {
            return Some(index);
        }
        let by_raw = self.by_raw.get_or_init(|| self.raw.iter().enumerate().map(|(i, d)| (*d, i)).collect());
        by_raw.get(raw).copied()
    }
}

impl Memo {
    /// The memo under `out/`, if there is one made under the global fingerprint `global`
    /// (seedc version, seedc.toml, every schema) and intact; None otherwise.
    pub fn load(out: &Path, global: &str) -> Option<Memo> {
        let file = std::fs::File::open(out.join(MEMO_FILE)).ok()?;
        // Mapped, not read: reading would cost fresh memory the size of the content, and the
        // records' canonical bytes stay slices of the mapping.
        // SAFETY: a mapping is undefined behaviour if the file changes under it. seedc never
        // writes into a memo: a new one is written under another name and renamed over it,
        // which leaves this file (and the mapping) as it was. Only a process truncating the
        // memo in place could, and `out/.cache` is seedc's own.
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        Memo::decode(Bytes::from_owner(map), global)
    }

    fn decode(bytes: Bytes, global: &str) -> Option<Memo> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(MAGIC.len())?.as_ref() != MAGIC {
            return None;
        }
        let checksum = r.take(32)?;
        if blake3::hash(&r.bytes[r.at..]).as_bytes() != checksum.as_ref() {
            return None;
        }
        if r.chunk()?.as_ref() != global.as_bytes() {
            return None;
        }
        let mut collections = BTreeMap::new();
        for _ in 0..r.u32()? {
            let name = String::from_utf8(r.chunk()?.to_vec()).ok()?;
            let hash = ContentHash(r.array()?);
            let n = r.u32()? as usize;
            // A record takes at least 72 bytes: a count beyond what is left is not believed.
            let room = n.min((r.bytes.len() - r.at) / 72);
            let (mut raw, mut keys, mut canonical) = (Vec::with_capacity(room), Vec::with_capacity(room), Vec::with_capacity(room));
            for _ in 0..n {
                raw.push(r.array()?);
                let hash = ContentHash(r.array()?);
                keys.push(String::from_utf8(r.chunk()?.to_vec()).ok()?);
                canonical.push(CanonicalRecord { bytes: r.chunk()?, hash });
            }
            collections.insert(name, MemoCollection { hash, raw, keys, canonical, by_raw: OnceLock::new() });
        }
        (r.at == r.bytes.len()).then_some(Memo { collections })
    }

    /// The memo as a prior check for [`crate::check::finish`]: the config and schemas are
    /// the current ones (the global fingerprint proves them identical), each memo collection
    /// has its keys (record values are not kept), canonical records and hash. Consumes the
    /// memo: its canonical bytes move, not copy.
    pub fn into_prior(self, config: &Config, schemas_fingerprint: ContentHash) -> Checked {
        let mut content = Content::default();
        let mut collection_hashes = BTreeMap::new();
        let mut canonical = BTreeMap::new();
        for (name, c) in self.collections {
            let records = c.keys.into_iter().enumerate().map(|(index, key)| Record { index, key: Some(key), value: Value::Null }).collect();
            let seed = SeedFile {
                collection: name.clone(),
                file: String::new(),
                version: None,
                updated_at: None,
                schema_ref: None,
                records,
                complete: true,
                elided: Vec::new(),
                digests: Vec::new(),
            };
            content.seeds.insert(name.clone(), seed);
            collection_hashes.insert(name.clone(), c.hash);
            canonical.insert(name, c.canonical);
        }
        Checked {
            root: Default::default(),
            config: config.clone(),
            content,
            collection_hashes,
            pack_hashes: Vec::new(),
            lock: Default::default(),
            canonical,
            schemas_fingerprint,
        }
    }
}

/// A memo written under a temporary name beside its final one, put in place by
/// [`Pending::commit`] once the content it describes is committed.
pub struct Pending {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl Pending {
    pub fn commit(self) -> Result<()> {
        self.tmp.persist(&self.path).map_err(|e| e.error).with_context(|| format!("cannot rename into {}", self.path.display()))?;
        Ok(())
    }
}

/// Writes the memo of a clean check made with every record's canonical form kept, under the
/// global fingerprint `global`, to a temporary file in `out/.cache/`. Streamed: the memo is
/// the size of the content, and building it in memory first would cost as much again.
pub fn prepare(out: &Path, checked: &Checked, global: &str) -> Result<Pending> {
    let path = out.join(MEMO_FILE);
    let dir = path.parent().expect("the memo is in a directory");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    // Per collection: name, records, canonical records, hash, and each record's digest.
    type Part<'a> = (&'a String, &'a SeedFile, &'a [CanonicalRecord], ContentHash, Cow<'a, [RawDigest]>);
    let collections: Vec<Part> = checked
        .canonical
        .iter()
        .filter_map(|(name, canonical)| {
            let seed = checked.content.seeds.get(name)?;
            let hash = *checked.collection_hashes.get(name)?;
            if seed.records.len() != canonical.len() || seed.records.iter().any(|r| r.key.is_none()) {
                return None;
            }
            // A memo made the digests while loading; otherwise the bytes are still at hand.
            let digests = if seed.digests.len() == seed.records.len() {
                Cow::Borrowed(seed.digests.as_slice())
            } else {
                let source = checked.content.sources.get(&seed.file)?;
                Cow::Owned(
                    seed.records
                        .par_iter()
                        .map(|r| source.records.get(r.index).and_then(|range| source.text.get(range.clone())).map(raw_digest))
                        .collect::<Option<_>>()?,
                )
            };
            Some((name, seed, canonical.as_slice(), hash, digests))
        })
        .collect();
    let write = || -> std::io::Result<()> {
        let mut body = Body { out: std::io::BufWriter::with_capacity(1 << 20, tmp.as_file()), hasher: blake3::Hasher::new() };
        body.out.write_all(MAGIC)?;
        body.out.write_all(&[0; 32])?;
        body.chunk(global.as_bytes())?;
        body.put(&(collections.len() as u32).to_le_bytes())?;
        for (name, seed, canonical, hash, digests) in &collections {
            body.chunk(name.as_bytes())?;
            body.put(&hash.0)?;
            body.put(&(seed.records.len() as u32).to_le_bytes())?;
            for ((record, c), raw) in seed.records.iter().zip(*canonical).zip(digests.iter()) {
                body.put(raw)?;
                body.put(&c.hash.0)?;
                body.chunk(record.key.as_deref().unwrap_or_default().as_bytes())?;
                body.chunk(&c.bytes)?;
            }
        }
        let checksum = body.hasher.finalize();
        let mut file = body.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(MAGIC.len() as u64))?;
        file.write_all(checksum.as_bytes())
    };
    write().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Pending { tmp, path })
}

/// Removes the memo: content that is not what the memo describes is about to be deployed.
pub fn remove(out: &Path) {
    let _ = std::fs::remove_file(out.join(MEMO_FILE));
}

/// The memo's body as it is written, and its checksum.
struct Body<W: Write> {
    out: W,
    hasher: blake3::Hasher,
}

impl<W: Write> Body<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hasher.update(bytes);
        self.out.write_all(bytes)
    }

    fn chunk(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.put(&(bytes.len() as u32).to_le_bytes())?;
        self.put(bytes)
    }
}

/// A bounds-checked cursor: anything short or out of place is None, never a panic.
struct Reader {
    bytes: Bytes,
    at: usize,
}

impl Reader {
    fn take(&mut self, n: usize) -> Option<Bytes> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.bytes.len())?;
        let out = self.bytes.slice(self.at..end);
        self.at = end;
        Some(out)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.as_ref().try_into().ok()?))
    }

    fn array(&mut self) -> Option<[u8; 32]> {
        self.take(32)?.as_ref().try_into().ok()
    }

    fn chunk(&mut self) -> Option<Bytes> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_or_foreign_memo_is_a_miss() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (checked, sink) =
            crate::check::check_tree(&crate::tree::Tree::dir(root), crate::check::Keep { canonical_records: true }).unwrap();
        assert!(!sink.has_errors());
        let out = tempfile::tempdir().unwrap();
        prepare(out.path(), &checked, "global").unwrap().commit().unwrap();
        let bytes = std::fs::read(out.path().join(MEMO_FILE)).unwrap();
        let memo = Memo::decode(Bytes::from(bytes.clone()), "global").expect("a memo reads back");
        assert_eq!(memo.collections.len(), checked.canonical.len());
        let enemies = &memo.collections["enemies"];
        assert_eq!(enemies.hash, checked.collection_hashes["enemies"]);
        assert_eq!(enemies.keys.len(), checked.content.seeds["enemies"].records.len());
        assert_eq!(enemies.canonical[3].bytes, checked.canonical["enemies"][3].bytes);
        assert_eq!(enemies.find(5, &enemies.raw[5]), Some(5));
        assert_eq!(enemies.find(0, &enemies.raw[5]), Some(5), "a record that moved is found by its bytes");

        assert!(Memo::decode(Bytes::from(bytes.clone()), "other config").is_none(), "another fingerprint");
        for at in [0, 20, 60, bytes.len() / 2, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 1;
            assert!(Memo::decode(Bytes::from(damaged), "global").is_none(), "a flipped bit at {at}");
        }
        assert!(Memo::decode(Bytes::from(bytes[..bytes.len() - 7].to_vec()), "global").is_none(), "torn");
        assert!(Memo::decode(Bytes::new(), "global").is_none(), "empty");
    }
}
