//! A reduced seed file ([`Reduce`]) read a block of records at a time and never held whole:
//! a scan of its top level through a bounded buffer finds each record's bytes, and each
//! block of records is parsed, validated and reduced before the next is read.
//!
//! The scan takes only a well-formed file: an object with distinct, unescaped member names,
//! a `data` array, UTF-8 throughout, and every record and member parsing without a fatal
//! error. Anything else (a syntax error, a record over the limit, a repeated `data`...) is
//! left to the whole-text path in `seed`, which reads the file again and says what is wrong
//! with it; so a file gives the same diagnostics whichever path reads it. Nothing is handed
//! on until the scan has accepted the whole file.

use std::io::Read;
use std::ops::Range;

use super::json;
use super::records::{Block, RecordParser, empty_seed, envelope_members, reduce_block, reduce_block_len};
use super::{Reduce, SeedFile, Written};
use crate::diag::{Diagnostic, SourceFile, TextDigest};
use crate::json::pointer::Pointer;
use crate::project::tree::Tree;

/// Bytes read at a time.
const CHUNK: u64 = 256 << 10;

/// The size of a read: [`CHUNK`], or in the crate's unit tests the size a test set
/// ([`READ_FOR_TESTS`]): whatever the reads, the records found, and so everything computed
/// from them, are the same.
fn read_size() -> u64 {
    #[cfg(test)]
    if let n @ 1.. = READ_FOR_TESTS.load(std::sync::atomic::Ordering::Relaxed) {
        return n;
    }
    CHUNK
}

/// A read size a unit test sets for every file streamed meanwhile (0: [`CHUNK`]).
#[cfg(test)]
pub(crate) static READ_FOR_TESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Loads the seed file `parser.rel` of the directory tree `tree` a block at a time; None when the
/// scan does not take it (see the module's doc), and it must be read whole. Reading and
/// scanning the next block overlaps with parsing and reducing this one, on another core.
///
/// A file of the length seedc.lock vouches for ([`Reduce::vouched_len`]) is read without
/// hashing its records; if its text is not the vouched one after all (an edit that kept the
/// length), it is read again, hashing them.
pub(super) fn load_streamed(tree: &Tree, parser: &RecordParser, reduce: &dyn Reduce) -> Option<Streamed> {
    match stream(tree, parser, reduce, true)? {
        Ok(loaded) => Some(loaded),
        Err(NotVouched) => stream(tree, parser, reduce, false)?.ok(),
    }
}

/// A seed file loaded a block at a time: the file, its source (released) and diagnostics.
pub(super) type Streamed = (SeedFile, SourceFile, Vec<Diagnostic>);

/// A file read without hashing its records whose text is not the one seedc.lock vouches
/// for: what was read is of no use.
struct NotVouched;

/// One read of [`load_streamed`]; with `trust`, a file of the vouched length is read without
/// hashing its records.
fn stream(tree: &Tree, parser: &RecordParser, reduce: &dyn Reduce, trust: bool) -> Option<Result<Streamed, NotVouched>> {
    let (rel, limits) = (parser.rel, &parser.config.limits);
    let file = tree.open_regular(rel).ok()?;
    let size = file.metadata().map_or(0, |m| m.len());
    let vouched = trust && reduce.vouched_len(parser.collection) == Some(size);
    let mut reader = Reader {
        file: file.take(limits.max_file_bytes.saturating_add(1)),
        limits,
        buf: Vec::new(),
        base: 0,
        scan: Scan::default(),
        digest: TextDigest::default(),
        eof: false,
    };
    let mut seed = empty_seed(parser.collection, rel);
    let (mut diags, mut ranges, mut refs) = (Vec::new(), Vec::new(), Vec::new());
    let mut parts = if vouched { None } else { reduce.writes(parser.collection) };
    let block_len = reduce_block_len();
    let mut reduce_one = |block: ReadBlock| -> bool {
        let Some(raws) = block
            .ranges
            .iter()
            .map(|r| Some((std::str::from_utf8(&block.bytes[r.clone()]).ok()?, block.base + r.start)))
            .collect::<Option<Vec<_>>>()
        else {
            return false;
        };
        if ranges.is_empty() {
            // Room for as many records as the first block says the file holds.
            let per_record = (block.base + block.bytes.len()).div_ceil(raws.len()).max(1);
            let expected = usize::try_from(size).unwrap_or(0) / per_record + raws.len();
            seed.records.reserve_exact(expected);
            ranges.reserve_exact(expected);
        }
        let ok = reduce_block(parser, reduce, Block { first: ranges.len(), raws: &raws }, &mut seed, parts.as_mut(), &mut refs, &mut diags);
        ranges.extend(block.ranges.iter().map(|r| block.base + r.start..block.base + r.end));
        ok
    };
    let mut next = reader.next_block(block_len)?;
    while !next.ranges.is_empty() {
        let (reduced, read) = rayon::join(|| reduce_one(next), || reader.next_block(block_len));
        if !reduced {
            return None;
        }
        next = read?;
    }
    let Reader { scan, digest, .. } = reader;
    if !(scan.at == At::End && scan.data) {
        return None;
    }
    // The members were taken as text; one that does not parse is the whole-text path's.
    let max_depth = limits.max_depth - 1;
    if scan.members.iter().any(|(key, raw, _)| json::parse(raw, Pointer::root().key(key).as_str(), max_depth).is_err()) {
        return None;
    }
    let members: Vec<_> = scan.members.iter().map(|(key, raw, offset)| (key.as_str(), raw.as_str(), *offset)).collect();
    let mut envelope = Vec::new();
    envelope_members(&members, rel, parser.config, &mut seed, &mut envelope);
    envelope.append(&mut diags);
    let print = digest.print();
    let written = match vouched {
        false => parts,
        true if reduce.vouches(parser.collection, &print) => Some(Written::Vouched),
        true => return Some(Err(NotVouched)),
    };
    seed.reduced = Some(refs);
    seed.print = Some(print);
    reduce.file(&seed, written);
    Some(Ok((seed, SourceFile::released(rel.to_owned(), digest, ranges), envelope)))
}

/// A file being read and scanned, a buffer at a time.
struct Reader<'a> {
    file: std::io::Take<std::fs::File>,
    limits: &'a crate::project::config::Limits,
    buf: Vec<u8>,
    /// The file offset of `buf[0]`.
    base: usize,
    scan: Scan,
    digest: TextDigest,
    eof: bool,
}

/// Records read and not yet reduced: their bytes, with what came before them since the
/// last block, from offset `base` of the file.
struct ReadBlock {
    bytes: Vec<u8>,
    base: usize,
    /// Each record's range of `bytes`.
    ranges: Vec<Range<usize>>,
}

impl Reader<'_> {
    /// Reads and scans on until `n` records are found or the file ends, and hands those
    /// records on in a buffer of their own; none once the file has ended. None when the file
    /// is not one the scan takes.
    fn next_block(&mut self, n: usize) -> Option<ReadBlock> {
        while self.scan.records.len() < n && !self.eof {
            let read = self.buf.len();
            self.eof = (&mut self.file).take(read_size()).read_to_end(&mut self.buf).ok()? == 0;
            self.digest.update(&self.buf[read..]);
            if (self.base + self.buf.len()) as u64 > self.limits.max_file_bytes {
                return None;
            }
            self.scan.advance(&self.buf, self.base, self.eof, self.limits.max_record_bytes)?;
            if self.scan.records.is_empty() {
                // Let go of what is behind the scan, when that is at least half the buffer:
                // each byte is moved a bounded number of times, however long a value is.
                let keep = self.scan.keep_from();
                if keep > 0 && keep >= self.buf.len() / 2 {
                    self.buf.drain(..keep);
                    self.base += keep;
                    self.scan.shift(keep);
                }
            }
        }
        let take = self.scan.records.len().min(n);
        let ranges: Vec<_> = self.scan.records.drain(..take).collect();
        let end = ranges.last().map_or(0, |r| r.end);
        // The bytes after the block move to a buffer of their own, with room for the next.
        let mut rest = Vec::with_capacity((end + CHUNK as usize).max(self.buf.len() - end));
        rest.extend_from_slice(&self.buf[end..]);
        self.buf.truncate(end);
        let bytes = std::mem::replace(&mut self.buf, rest);
        let block = ReadBlock { bytes, base: self.base, ranges };
        self.base += end;
        self.scan.shift(end);
        Some(block)
    }
}

/// A member of the envelope other than `data`: its name, raw text and offset in the file.
type Member = (String, String, usize);

/// Where the scan of the top level is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Before the opening brace.
    #[default]
    Start,
    /// After the opening brace: a member name or the closing brace.
    KeyOrEnd,
    /// After a comma between members: a member name.
    Key,
    /// Inside a member name that starts at this index of the buffer.
    KeyText(usize),
    Colon,
    MemberValue,
    AfterMember,
    /// After `data`'s opening bracket: a record or the closing bracket.
    RecordOrEnd,
    /// After a comma between records.
    Record,
    AfterRecord,
    End,
}

/// The scan of a file's top level, which may stop anywhere and go on once more is read.
#[derive(Default)]
struct Scan {
    /// The next byte of the buffer to look at.
    pos: usize,
    at: At,
    /// The name of the member whose value comes next.
    key: String,
    /// The value being scanned, if one is.
    value: Option<ValueScan>,
    /// The records found and not yet handed on, as ranges of the buffer.
    records: Vec<Range<usize>>,
    members: Vec<Member>,
    /// Member names seen so far (a file has a handful).
    names: Vec<String>,
    /// Whether `data` was seen (as an array).
    data: bool,
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl Scan {
    /// Scans `buf` (whose first byte is at `base` in the file) as far as it goes. None when
    /// the file is not one this scan takes.
    fn advance(&mut self, buf: &[u8], base: usize, eof: bool, max_record: u64) -> Option<()> {
        loop {
            if let Some(value) = &mut self.value {
                let end = value.step(buf, &mut self.pos, eof);
                let (start, record) = (value.start, value.record);
                if record && (self.pos - start) as u64 > max_record {
                    return None;
                }
                let Some(end) = end else {
                    return (!eof).then_some(());
                };
                self.value = None;
                if record {
                    self.records.push(start..end);
                } else {
                    let text = std::str::from_utf8(&buf[start..end]).ok()?.to_owned();
                    self.members.push((std::mem::take(&mut self.key), text, base + start));
                }
                continue;
            }
            let Some(&b) = buf.get(self.pos) else {
                return (!eof || self.at == At::End).then_some(());
            };
            if let At::KeyText(start) = self.at {
                let Some(i) = memchr::memchr2(b'"', b'\\', &buf[self.pos..]) else {
                    self.pos = buf.len();
                    return (!eof).then_some(());
                };
                let end = self.pos + i;
                // An escaped name, or one with a control character, is the whole-text path's.
                let name = buf[start..end].iter().all(|&c| c >= 0x20).then(|| std::str::from_utf8(&buf[start..end]).ok()).flatten();
                let name = name.filter(|n| buf[end] == b'"' && !self.names.iter().any(|seen| seen == n))?;
                self.names.push(name.to_owned());
                self.key = name.to_owned();
                self.pos = end + 1;
                self.at = At::Colon;
                continue;
            }
            if is_whitespace(b) {
                self.pos += 1;
                continue;
            }
            let pos = self.pos;
            let value = |record| Some(ValueScan::new(pos, record));
            self.at = match (self.at, b) {
                (At::Start, b'{') => At::KeyOrEnd,
                (At::KeyOrEnd | At::Key, b'"') => At::KeyText(self.pos + 1),
                (At::KeyOrEnd | At::AfterMember, b'}') => At::End,
                (At::Colon, b':') => At::MemberValue,
                (At::MemberValue, b'[') if self.key == "data" => {
                    self.data = true;
                    At::RecordOrEnd
                }
                (At::RecordOrEnd | At::AfterRecord, b']') => At::AfterMember,
                // A value never starts with these; no need to scan an empty one.
                (At::MemberValue | At::RecordOrEnd | At::Record, b',' | b':' | b']' | b'}') => return None,
                (At::MemberValue, _) if self.key != "data" => {
                    self.value = value(false);
                    At::AfterMember
                }
                (At::AfterMember, b',') => At::Key,
                (At::RecordOrEnd | At::Record, _) => {
                    self.value = value(true);
                    At::AfterRecord
                }
                (At::AfterRecord, b',') => At::Record,
                _ => return None,
            };
            // A value's scan starts at its first byte; every other step takes its byte.
            if self.value.is_none() {
                self.pos += 1;
            }
        }
    }

    /// The first byte of the buffer still needed: that of the first record not handed on,
    /// or of the name or value being scanned.
    fn keep_from(&self) -> usize {
        let mut keep = self.pos;
        if let At::KeyText(start) = self.at {
            keep = keep.min(start);
        }
        if let Some(v) = &self.value {
            keep = keep.min(v.start);
        }
        self.records.first().map_or(keep, |r| keep.min(r.start))
    }

    /// The first `n` bytes of the buffer were dropped.
    fn shift(&mut self, n: usize) {
        self.pos -= n;
        if let At::KeyText(start) = &mut self.at {
            *start -= n;
        }
        if let Some(v) = &mut self.value {
            v.start -= n;
        }
        for r in &mut self.records {
            *r = r.start - n..r.end - n;
        }
    }
}

/// The scan of one value (a record, or a member's value), found by its brackets and
/// strings alone; the parser checks the rest of it.
struct ValueScan {
    start: usize,
    record: bool,
    /// Brackets open; 0 for a scalar or a string.
    depth: usize,
    /// Inside a string, and just after a backslash in it.
    in_string: bool,
    escaped: bool,
    /// Neither a container nor a string: ends before whitespace, a comma or a closing bracket.
    scalar: bool,
    started: bool,
}

impl ValueScan {
    fn new(start: usize, record: bool) -> Self {
        ValueScan { start, record, depth: 0, in_string: false, escaped: false, scalar: false, started: false }
    }

    /// Scans on from `pos`: the end of the value once found, None while it goes on past the
    /// buffer (or the file, at `eof`; a scalar then ends with it).
    fn step(&mut self, buf: &[u8], pos: &mut usize, eof: bool) -> Option<usize> {
        if !self.started {
            self.started = true;
            match buf[*pos] {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth = 1,
                _ => self.scalar = true,
            }
            if !self.scalar {
                *pos += 1;
            }
        }
        if self.scalar {
            while let Some(&b) = buf.get(*pos) {
                if is_whitespace(b) || matches!(b, b',' | b']' | b'}') {
                    return Some(*pos);
                }
                *pos += 1;
            }
            return eof.then_some(*pos);
        }
        loop {
            if self.in_string {
                if self.escaped {
                    if *pos >= buf.len() {
                        return None;
                    }
                    *pos += 1;
                    self.escaped = false;
                }
                let Some(i) = memchr::memchr2(b'"', b'\\', &buf[*pos..]) else {
                    *pos = buf.len();
                    return None;
                };
                *pos += i + 1;
                if buf[*pos - 1] == b'\\' {
                    self.escaped = true;
                    continue;
                }
                self.in_string = false;
                if self.depth == 0 {
                    return Some(*pos);
                }
            }
            loop {
                let &b = buf.get(*pos)?;
                *pos += 1;
                match b {
                    b'"' => {
                        self.in_string = true;
                        break;
                    }
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            return Some(*pos);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
