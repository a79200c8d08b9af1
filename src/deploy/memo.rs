//! The record memo (`out/.cache/records.bin`): what the last clean deploy knew about every
//! record, so that the next deploy reads only the records that changed. Its file format is
//! here, beside the transaction that decides its lifecycle: removed before a deploy writes,
//! put in place only after its commit. It decodes into a [`Known`] index ([`crate::load::known`]).
//!
//! It holds the schemas fingerprint and, per complete collection, the collection config's
//! identity and content hash and, per record, the BLAKE3 of the record's bytes in the seed
//! file, its key, its canonical bytes and hash, and the keys it names at its reference
//! paths.
//!
//! Like the build cache it is only ever a shortcut: it is made under the build cache's
//! global fingerprint (seedc version, seedc.toml, every schema), a body checksum guards it,
//! and a missing, torn, corrupt or foreign memo is a miss. It is written without fsync for
//! the same reason: a memo lost in a crash only costs the next deploy a full check. It is
//! read whole rather than mapped, so seedc has no `unsafe` code.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use bytes::Bytes;
use rayon::prelude::*;

use crate::check::{Checked, Finder};
use crate::json::canon::{CanonicalRecord, ContentHash};
use crate::load::SeedFile;
use crate::load::known::{self, Known, KnownCollection, KnownRecord, RawDigest, RecordBytes, RefArena};
use crate::project::atomic::TMP_PREFIX;
use crate::project::tree::Tree;

/// The memo, relative to `out/`.
pub const MEMO_FILE: &str = ".cache/records.bin";

/// The first bytes of a memo: a name and the format version, bumped when the layout or its
/// meaning changes, so an old memo is a miss.
const MAGIC: &[u8; 16] = b"seedc-records\0\0\x03";

/// The largest memo read: one over it is a miss (the deploy checks in full), so a device or
/// a huge sparse file standing there costs a bounded read at most.
const MEMO_LIMIT: u64 = 4 << 30;

/// The memo under `out/`, if there is one made under the global fingerprint `global`
/// (seedc version, seedc.toml, every schema) and intact; None otherwise. Read through
/// [`Tree`], like every file seedc reads: a FIFO, a device link or a link out of `out/` is
/// refused unread, so it is a miss.
pub fn load(out: &Path, global: &str) -> Option<Known> {
    let bytes = Tree::dir(out).read_limited(MEMO_FILE, MEMO_LIMIT).ok()?;
    decode(Bytes::from(bytes), global)
}

fn decode(bytes: Bytes, global: &str) -> Option<Known> {
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
    let schemas_fingerprint = ContentHash(r.array()?);
    let mut collections = BTreeMap::new();
    for _ in 0..r.u32()? {
        let name = String::from_utf8(r.chunk()?.to_vec()).ok()?;
        let identity = ContentHash(r.array()?);
        let hash = ContentHash(r.array()?);
        let n = r.u32()? as usize;
        // A record takes at least 76 bytes: a count beyond what is left is not believed.
        let mut records = Vec::with_capacity(n.min((r.bytes.len() - r.at) / 76));
        let mut digests = Vec::with_capacity(records.capacity());
        let mut refs = RefArena::default();
        for _ in 0..n {
            let digest = r.array()?;
            let hash = ContentHash(r.array()?);
            let key = String::from_utf8(r.chunk()?.to_vec()).ok()?;
            let canonical = CanonicalRecord { bytes: r.chunk()?, hash };
            for _ in 0..r.u32()? {
                let reference = r.u32()?;
                let (pointer, key) = (r.chunk()?, r.chunk()?);
                refs.push(reference, std::str::from_utf8(&pointer).ok()?, std::str::from_utf8(&key).ok()?)?;
            }
            refs.end_record()?;
            records.push(KnownRecord { key, canonical });
            digests.push(digest);
        }
        collections.insert(name, KnownCollection::new(identity, hash, records, RecordBytes::Digests { digests, refs }));
    }
    (r.at == r.bytes.len()).then_some(Known { schemas_fingerprint, collections })
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

/// Writes the memo of a clean check made with every record's canonical form kept (against
/// `known`, if it was), under the global fingerprint `global`, to a temporary file in
/// `out/.cache/`. Streamed: the memo is the size of the content, and building it in memory
/// first would cost as much again. Each record's outgoing references are found as it is
/// written ([`Finder`]), so the check keeps none of them.
pub fn prepare(root: &Path, checked: &Checked, known: Option<&Known>, global: &str) -> Result<Pending> {
    let path = root.join(crate::build::write::OUT_DIR).join(MEMO_FILE);
    let dir = path.parent().expect("the memo is in a directory");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    // Per collection: name, identity, hash, records, their canonical forms, each record's
    // digest, and what finds their references.
    type Part<'a> = (&'a String, ContentHash, ContentHash, &'a SeedFile, &'a [CanonicalRecord], Vec<RawDigest>, Finder<'a>);
    // On every core: a collection's digests may be made here by reading its file again, and
    // a deploy that writes a few rows waits for this before it ends.
    let collections: Vec<Part> = checked
        .records
        .par_iter()
        .filter_map(|(name, kept)| {
            let seed = checked.content.seeds.get(name)?;
            let hash = *checked.collection_hashes.get(name)?;
            let identity = known::identity(&checked.config, name)?;
            if seed.records.len() != kept.len() || seed.records.iter().any(|r| r.key.is_none()) {
                return None;
            }
            // Loaded against a memo, the digests were made while loading; otherwise they are
            // made now, from the bytes checked: still at hand, or read again. A file that
            // is no longer what was checked leaves its collection out (the next deploy
            // checks it in full).
            let digests = match seed.records.iter().map(|r| r.digest).collect::<Option<Vec<_>>>() {
                Some(digests) => digests,
                None => {
                    let source = checked.content.sources.get(&seed.file)?;
                    let by_index: Vec<RawDigest> = if source.is_released() {
                        digests_read_again(root, &seed.file, &source.records, source.fingerprint(), 1 << 20)?
                    } else {
                        source
                            .records
                            .par_iter()
                            .map(|range| source.text.get(range.clone()).map(known::raw_digest))
                            .collect::<Option<_>>()?
                    };
                    seed.records.iter().map(|r| by_index.get(r.index).copied()).collect::<Option<_>>()?
                }
            };
            Some((name, identity, hash, seed, kept.as_slice(), digests, checked.references(name, known)?))
        })
        .collect();
    let write = || -> std::io::Result<()> {
        let mut body = Body { out: std::io::BufWriter::with_capacity(1 << 20, tmp.as_file()), hasher: blake3::Hasher::new() };
        body.out.write_all(MAGIC)?;
        body.out.write_all(&[0; 32])?;
        body.chunk(global.as_bytes())?;
        body.put(&checked.schemas_fingerprint.0)?;
        body.put(&(collections.len() as u32).to_le_bytes())?;
        // One record's references, encoded before their count is known.
        let mut refs = Vec::new();
        for (name, identity, hash, seed, kept, digests, finder) in &collections {
            body.chunk(name.as_bytes())?;
            body.put(&identity.0)?;
            body.put(&hash.0)?;
            body.put(&(seed.records.len() as u32).to_le_bytes())?;
            for ((record, canonical), raw) in seed.records.iter().zip(*kept).zip(digests.iter()) {
                body.put(raw)?;
                body.put(&canonical.hash.0)?;
                body.chunk(record.key.as_deref().unwrap_or_default().as_bytes())?;
                body.chunk(&canonical.bytes)?;
                refs.clear();
                let mut count = 0u32;
                finder.each(record, &mut |reference, pointer, key| {
                    count += 1;
                    refs.extend_from_slice(&reference.to_le_bytes());
                    for part in [pointer, key] {
                        refs.extend_from_slice(&(part.len() as u32).to_le_bytes());
                        refs.extend_from_slice(part.as_bytes());
                    }
                });
                body.put(&count.to_le_bytes())?;
                body.put(&refs)?;
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

/// The digest of each of `ranges` (in file order) of the file `rel` under `root`, read
/// again `chunk` bytes at a time, never whole: None unless the file still has the BLAKE3
/// `checked` it had when it was checked.
fn digests_read_again(root: &Path, rel: &str, ranges: &[Range<usize>], checked: blake3::Hash, chunk: usize) -> Option<Vec<RawDigest>> {
    let mut file = Tree::dir(root).open_regular(rel).ok()?;
    let mut whole = blake3::Hasher::new();
    // Reads on into `buf`, the file's bytes from offset `base` on; false at the end.
    let mut fill = |buf: &mut Vec<u8>| -> Option<bool> {
        let at = buf.len();
        buf.resize(at + chunk, 0);
        let n = file.read(&mut buf[at..]).ok()?;
        buf.truncate(at + n);
        whole.update(&buf[at..]);
        Some(n > 0)
    };
    let (mut buf, mut base) = (Vec::with_capacity(chunk), 0usize);
    let mut digests = Vec::with_capacity(ranges.len());
    for range in ranges {
        if range.start < base {
            return None;
        }
        // What lies before this record is done with: let go of it when reading on (once a
        // read, not once a record).
        while buf.len() < range.end - base {
            let done = (range.start - base).min(buf.len());
            buf.drain(..done);
            base += done;
            if !fill(&mut buf)? {
                return None;
            }
        }
        digests.push(*blake3::hash(&buf[range.start - base..range.end - base]).as_bytes());
    }
    buf.clear();
    while fill(&mut buf)? {
        buf.clear();
    }
    (whole.finalize() == checked).then_some(digests)
}

/// Removes the memo: content that is not what the memo describes is about to be deployed.
/// Whether the memo a deploy was checked against (`known`, made under the same global
/// fingerprint) already is the memo of `checked`: every collection at the same content
/// hash, config and schemas, and no other. Then the deploy keeps it as it is instead of
/// writing the same records again (a drift repair, a deploy of unchanged content). Its
/// records' byte digests may be older than a reformatted file's: a later deploy parses those
/// records again, nothing worse.
pub fn stands(known: Option<&Known>, checked: &Checked) -> bool {
    let Some(known) = known else { return false };
    known.collections.len() == checked.collection_hashes.len()
        && checked.collection_hashes.iter().all(|(name, hash)| {
            known.applicable(name, &checked.config, checked.schemas_fingerprint).is_some_and(|k| k.hash == *hash)
                && checked.records.get(name).is_some_and(|kept| kept.len() == known.collections[name].records.len())
        })
}

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
    use crate::build::cache::Fingerprint;

    #[test]
    fn a_damaged_or_foreign_memo_is_a_miss() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (checked, sink) = crate::check::run(&crate::project::Project::open(root).unwrap(), crate::check::Mode::DiffOld).unwrap();
        assert!(!sink.has_errors());
        let out = tempfile::tempdir().unwrap();
        prepare(out.path(), &checked, None, "global").unwrap().commit().unwrap();
        let bytes = std::fs::read(out.path().join("out").join(MEMO_FILE)).unwrap();
        let memo = decode(Bytes::from(bytes.clone()), "global").expect("a memo reads back");
        assert_eq!(memo.collections.len(), checked.records.len());
        assert_eq!(memo.schemas_fingerprint, checked.schemas_fingerprint);
        let enemies = &memo.collections["enemies"];
        assert_eq!(enemies.hash, checked.collection_hashes["enemies"]);
        assert_eq!(enemies.records.len(), checked.content.seeds["enemies"].records.len());
        assert_eq!(enemies.records[3].canonical.bytes, checked.records["enemies"][3].bytes);
        let finder = checked.references("enemies", None).unwrap();
        let record = &checked.content.seeds["enemies"].records[3];
        let refs: Vec<(u32, String, String)> = enemies.refs(3).unwrap().map(|(i, p, k)| (i, p.to_owned(), k.to_owned())).collect();
        let found: Vec<(u32, String, String)> =
            finder.all(record).into_iter().map(|r| (r.reference, r.pointer.into_string(), r.key)).collect();
        assert_eq!(refs, found);
        assert!(!refs.is_empty(), "enemies name their element");
        let digest = enemies.digest(5);
        assert_eq!(enemies.find(5, &digest), Some(5));
        assert_eq!(enemies.find(0, &digest), Some(5), "a record that moved is found by its bytes");

        assert!(decode(Bytes::from(bytes.clone()), "other config").is_none(), "another fingerprint");
        for at in [0, 20, 60, bytes.len() / 2, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 1;
            assert!(decode(Bytes::from(damaged), "global").is_none(), "a flipped bit at {at}");
        }
        assert!(decode(Bytes::from(bytes[..bytes.len() - 7].to_vec()), "global").is_none(), "torn");
        assert!(decode(Bytes::new(), "global").is_none(), "empty");
    }

    /// A deploy with no memo digests its records only when it writes one, from the files
    /// read again; a file that changed since it was checked is left out, never memoized
    /// under bytes that were not checked.
    #[test]
    fn a_memo_after_a_streamed_check_digests_the_bytes_checked() {
        let root = crate::check::tests::copy_of_sample();
        let project = crate::project::Project::open(root.path()).unwrap();
        let (checked, sink) = crate::check::run(&project, crate::check::Mode::FirstDeploy).unwrap();
        assert!(!sink.has_errors());
        let items = &checked.content.seeds["items"];
        assert!(checked.content.sources.get(&items.file).unwrap().is_released(), "streamed: no text held");
        assert!(items.records.iter().all(|r| r.digest.is_none()), "nothing digested while checking");

        // Same length, other bytes: items.json is no longer what was checked.
        let path = root.path().join(&items.file);
        let text = std::fs::read_to_string(&path).unwrap();
        let at = text.find("\"id\"").unwrap();
        let edited = format!("{}\"ID\"{}", &text[..at], &text[at + 4..]);
        std::fs::write(&path, &edited).unwrap();
        prepare(root.path(), &checked, None, "global").unwrap().commit().unwrap();
        let bytes = std::fs::read(root.path().join("out").join(MEMO_FILE)).unwrap();
        let memo = decode(Bytes::from(bytes), "global").unwrap();
        assert!(!memo.collections.contains_key("items"), "a file changed since its check is not memoized");
        let enemies = &checked.content.seeds["enemies"];
        let text = std::fs::read_to_string(root.path().join(&enemies.file)).unwrap();
        let source = checked.content.sources.get(&enemies.file).unwrap();
        let known = &memo.collections["enemies"];
        assert_eq!(known.records.len(), enemies.records.len());
        for r in &enemies.records {
            assert_eq!(known.digest(r.index), known::raw_digest(&text[source.records[r.index].clone()]));
        }
    }

    /// Records cut across reads at every place, gaps, the end: the same digests as read
    /// whole, and none for a file that is not the one checked.
    #[test]
    fn digests_read_again_a_piece_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let text = "{\"data\": [ {\"id\": \"a\"},{\"id\": \"bb\", \"x\": [1, 2, 3]} ,\n  {}, {\"id\":\"c\"} ] }";
        std::fs::write(dir.path().join("f.json"), text).unwrap();
        let ranges: Vec<Range<usize>> = {
            let starts: Vec<usize> = text.match_indices("{\"id").map(|(i, _)| i).chain(text.find("{}")).collect();
            let mut starts = starts;
            starts.sort();
            starts.iter().map(|&s| s..s + text[s..].find('}').unwrap() + 1).collect()
        };
        let want: Vec<RawDigest> = ranges.iter().map(|r| known::raw_digest(&text[r.clone()])).collect();
        let checked = blake3::hash(text.as_bytes());
        for chunk in 1..=text.len() + 1 {
            assert_eq!(digests_read_again(dir.path(), "f.json", &ranges, checked, chunk), Some(want.clone()), "chunk {chunk}");
        }
        assert_eq!(digests_read_again(dir.path(), "f.json", &ranges, blake3::hash(b"other"), 5), None);
        std::fs::write(dir.path().join("f.json"), &text[..text.len() - 3]).unwrap();
        assert_eq!(digests_read_again(dir.path(), "f.json", &ranges, checked, 5), None, "shorter");
    }

    /// A deploy from a fresh checkout takes its inputs' fingerprints from the bytes it
    /// checked: the build cache it writes is the one the next run computes, so that run's
    /// no-op shortcut holds.
    #[test]
    fn fingerprints_from_the_check_are_those_read_from_disk() {
        let root = crate::check::tests::copy_of_sample();
        let project = crate::project::Project::open(root.path()).unwrap();
        let (checked, sink) = crate::check::run(&project, crate::check::Mode::FirstDeploy).unwrap();
        assert!(!sink.has_errors());
        let deferred = Fingerprint::without_inputs(root.path()).unwrap().of_checked_inputs(root.path(), &checked);
        let computed = Fingerprint::compute(root.path()).unwrap();
        assert!(computed.inputs.keys().any(|f| f.starts_with("data/packs/")) && computed.inputs.len() > 10);
        assert_eq!(deferred, computed);
    }
}
