//! JSON as seedc needs it beyond parsing: RFC 8785 canonical bytes and content hashes
//! (`canon`), the one JSON pointer type (`pointer`), and the field-level diff of two values
//! (`fielddiff`).

pub mod canon;
pub(crate) mod fielddiff;
pub(crate) mod pointer;
