//! The stable diagnostic codes: one kebab-case name each, with a one-line summary, an
//! explanation for `seedc explain CODE` and `docs/codes.md`, and an optional default help.
//! Codes are a public interface (CI scripts match on them): never rename one.

use serde::Serialize;

macro_rules! codes {
    ($( $variant:ident = $name:literal, $summary:literal, help: $help:expr, $explain:literal; )*) => {
        /// A stable diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $variant, )* }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable kebab-case name.
            pub fn name(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            /// One line: what went wrong.
            pub fn summary(self) -> &'static str {
                match self { $( Code::$variant => $summary, )* }
            }

            /// A paragraph: why it is a problem and how to fix it.
            pub fn explanation(self) -> &'static str {
                match self { $( Code::$variant => $explain, )* }
            }

            /// The help line attached when the finding has no more specific one.
            pub fn default_help(self) -> Option<&'static str> {
                match self { $( Code::$variant => $help, )* }
            }
        }
    };
}

codes! {
    Syntax = "syntax", "the file is not valid JSON", help: None,
        "seedc reads strict JSON (RFC 8259): no comments, no trailing commas, no single quotes, \
         no NaN or Infinity. The diagnostic points at the first character the parser could not \
         accept; fix it and run `seedc check` again to see what follows.";
    InvalidUtf8 = "invalid-utf8", "the file is not valid UTF-8", help: Some("save the file as UTF-8"),
        "JSON text exchanged between systems must be UTF-8 (RFC 8259 §8.1). The diagnostic points \
         at the first byte that is not part of a valid UTF-8 sequence; this usually means the file \
         was saved in a legacy encoding such as Windows-1252.";
    DuplicateKey = "duplicate-key", "an object has the same key twice", help: Some("remove or rename one of the two members"),
        "Most JSON parsers keep only the last of two members with the same name, silently, so one \
         of the two values you wrote is ignored. seedc refuses the file instead and points at the \
         second occurrence.";
    UnsafeInteger = "unsafe-integer", "an integer does not survive a round trip through an IEEE-754 double",
        help: Some("integers must lie within ±(2^53 - 1); write large identifiers as strings"),
        "Game clients read content in JavaScript, where every number is an IEEE-754 double, and \
         RFC 8785 canonical JSON (used for content hashes) writes numbers the same way. An integer \
         whose magnitude exceeds 2^53 - 1 = 9007199254740991 would silently change value, so seedc \
         refuses it.";
    NumberOutOfRange = "number-out-of-range", "a number is too large for an IEEE-754 double",
        help: Some("write a smaller number, or a string if it is an identifier"),
        "A number such as `1e400` is valid JSON grammar, but its magnitude overflows a double: a \
         JavaScript client reads it as Infinity, and canonical JSON (RFC 8785) cannot write it. \
         seedc refuses it. Numbers written with an exponent or a fraction that stay within range \
         (`1E22`, `-1.0e+28`) are accepted: they are doubles in the source already.";
    NulCharacter = "nul-character", "a string or key contains the character U+0000",
        help: Some("remove the `\\u0000` escape"),
        "PostgreSQL's `jsonb`, where `seedc deploy` stores every record, cannot hold U+0000 in a \
         string or a member name, so a deploy of such content would fail far from its cause. \
         `seedc check` refuses it where it stands, as it refuses other content PostgreSQL \
         cannot store.";
    NestingTooDeep = "nesting-too-deep", "arrays and objects are nested deeper than the limit",
        help: Some("flatten the structure or raise `limits.max_depth` in seedc.toml"),
        "Deeply nested documents are almost always a mistake and can exhaust the stack of the \
         programs that read them. The limit is `limits.max_depth` in seedc.toml (default 64).";
    FileTooLarge = "file-too-large", "a file is larger than the configured limit",
        help: Some("split the file or raise `limits.max_file_bytes` in seedc.toml"),
        "Each seed file and pack must be at most `limits.max_file_bytes` bytes (default 64 MiB). \
         seedc does not read a larger file at all.";
    RecordTooLarge = "record-too-large", "a record is larger than the configured limit",
        help: Some("split the record or raise `limits.max_record_bytes` in seedc.toml"),
        "Each record of a seed file must be at most `limits.max_record_bytes` bytes as written \
         (default 2 MiB), so that one runaway record cannot bloat a database row or a cache entry.";
    InvalidEnvelope = "invalid-envelope", "a seed file or pack lacks the fields every file of its kind has",
        help: None,
        "A seed file is an object with `version` (semver, e.g. \"1.3.0\"), `updated_at` (RFC 3339, \
         e.g. \"2026-01-13T00:00:00Z\"), `data` (an array of records) and optionally `$schema`. \
         A pack has `pack_id`, `version` (semver), `kind` and `pack_schema_v` (\"major.minor\").";
    SchemaViolation = "schema-violation", "a value does not match its JSON Schema", help: None,
        "Every record is validated against the schema of its collection (seedc.toml \
         `collections.<name>.schema`) and every pack against the schema of its kind and \
         `pack_schema_v`. The diagnostic names the value (JSON pointer) and the schema keyword \
         that failed.";
    DuplicateId = "duplicate-id", "two records of a collection have the same key", help: None,
        "Every record of a collection is identified by its key field (`id` unless \
         `collections.<name>.key` says otherwise), and the database table uses that key as its \
         primary key, so it must be unique within the collection.";
    MissingKey = "missing-key", "a record has no usable key", help: None,
        "Every record must have its collection's key field (`id` by default) as a non-empty string \
         or an integer.";
    DanglingReference = "dangling-reference", "a reference names a record that does not exist", help: None,
        "References between collections are declared in seedc.toml (`references` of a \
         collection). Each referenced key must exist in the target collection. The diagnostic \
         names both ends: the referring record and field, and the collection that lacks the key.";
    VersionNotBumped = "version-not-bumped", "content changed but its version did not increase",
        help: Some("increase `version` (semver) in this file"),
        "seedc.lock records the version and content hash of every collection. When the content of \
         a collection changes, its `version` must increase, so that servers, caches and players \
         can tell the two apart. Run `seedc build` after bumping the version to update the lock.";
    PackVersionReused = "pack-version-reused", "a pack version already published with other content",
        help: Some("increase the pack's `version`"),
        "A pack's (pack_id, version) must always denote the same bytes: clients cache packs by \
         version and manifests bind to them. seedc.lock remembers the hash of every pack version \
         it has built; changing a pack without bumping its version is refused.";
    UnsupportedPackSchema = "unsupported-pack-schema", "a pack's `pack_schema_v` is not supported",
        help: None,
        "seedc knows a set of pack schema versions per kind (seedc.toml `packs.kinds`). For each \
         major version it accepts the newest minor it knows and `packs.compat_window` minors \
         before it. An unknown major, a minor older than the window, or a minor newer than seedc \
         knows is refused; the message lists the supported versions.";
    UnknownPackKind = "unknown-pack-kind", "a pack's `kind` is not declared in seedc.toml", help: None,
        "The pack kinds (e.g. PROTOCOL, INCIDENT, ARTIFACT, VOICE) and their schemas are declared \
         under `packs.kinds` in seedc.toml.";
    DuplicatePack = "duplicate-pack", "two pack files declare the same `pack_id`", help: None,
        "Each pack_id is defined by exactly one file under data/packs/.";
    PackIdMismatch = "pack-id-mismatch", "a pack's file name does not match its `pack_id`", help: None,
        "A pack lives in `data/packs/<pack_id>.json` or `data/packs/<pack_id>/pack.json`, so that \
         its id can be found from its path and vice versa.";
    UnknownCollection = "unknown-collection", "a seed file has no collection in seedc.toml",
        help: Some("declare it as `[collections.<name>]` in seedc.toml, or remove the file"),
        "Every `data/seeds/<name>.json` must be declared in seedc.toml, which says which schema \
         validates its records and where it is deployed.";
    MissingSeedFile = "missing-seed-file", "a collection declared in seedc.toml has no seed file", help: None,
        "Every `[collections.<name>]` in seedc.toml needs a `data/seeds/<name>.json`.";
    MissingSchemaFile = "missing-schema-file", "a `$schema` names a file that does not exist",
        help: Some("fix the relative path so editors can validate the file while you type"),
        "The `$schema` member of a seed file or pack is for editors (VS Code, JetBrains) to validate \
         while typing; seedc itself validates with the schemas named in seedc.toml. A `$schema` \
         that points at a missing file is reported as a warning.";
    Io = "io", "a file could not be read", help: None,
        "seedc could not read a file of the content root (permissions, a broken link, or the file \
         vanished while reading).";
    UnportableName = "unportable-name", "a file name would not survive a checkout on Windows or macOS",
        help: Some("rename the file"),
        "Content roots are shared through git between Linux, Windows and macOS, so seedc refuses, \
         on every platform, the names one of them cannot hold. A name Windows reserves for a \
         device (`CON`, `PRN`, `AUX`, `NUL`, `COM0`-`COM9`, `LPT0`-`LPT9`, whatever the extension: \
         `NUL.json` is `NUL`) opens the device there instead of a file. Two names that differ only \
         in case (`Enemies.json` beside `enemies.json`) are one file on Windows and macOS, so a \
         checkout keeps one of them and silently drops the other. The file named is not read.";
    CorruptBundle = "corrupt-bundle", "a bundle's bytes do not match the hash in its name",
        help: Some("run `seedc build` to rewrite it from the content"),
        "A bundle `out/packs/sha256/<hex>.json` is named by the SHA-256 of exactly its bytes, so \
         clients and `sha256sum` can verify it. `seedc verify` re-hashes every bundle; one whose \
         hash differs from its name was damaged after it was written (by hand, a tool or the \
         disk). Something other than a regular file in its place (a FIFO, a device, a link out \
         of `out/`) or a file over 1 GiB is not read and is reported the same way. `seedc \
         build` rewrites every bundle of the current content that is damaged.";
    MissingBundle = "missing-bundle", "index.json lists a bundle that is not in out/",
        help: Some("run `seedc build` to write it again"),
        "`out/index.json` lists every bundle of the build. A listed bundle that is absent from \
         `out/packs/sha256/` was deleted after the build; `seedc build` writes it again.";
    UnresolvedPackRef = "unresolved-pack-ref", "a manifest binds a bundle that is missing or damaged",
        help: Some("run `seedc build` to restore the bundle"),
        "Every `pack_refs[].hash` of a manifest must name a bundle in the same `out/`, intact, so \
         the manifest resolves offline. The diagnostic points at the reference whose bundle is \
         absent or whose bytes no longer match its hash.";
    CorruptManifest = "corrupt-manifest", "a manifest is not a valid, canonical seedc manifest",
        help: None,
        "A file under `out/manifests/` must parse as a seedc manifest (see \
         schemas/seedc/manifest.schema.json), be in RFC 8785 canonical form, and be named after its \
         `manifest_id`. A truncated or edited manifest fails these checks, and so does \
         something other than a regular file in its place (a FIFO, a device, a link out of \
         `out/`) or a file over 1 GiB, which is not read. `seedc build` \
         rewrites the manifests it emits; a damaged daily of another date must be restored \
         from where it was published.";
    MissingManifest = "missing-manifest", "index.json lists a manifest that is not in out/",
        help: Some("run `seedc build` with the same dates to write it again"),
        "`out/index.json` lists every manifest of the build. A listed manifest that is absent \
         from `out/manifests/` was deleted after the build.";
    IndexMismatch = "index-mismatch", "index.json does not describe exactly what is in out/",
        help: Some("run `seedc build` to rewrite the index"),
        "`out/index.json` lists every bundle and manifest in `out/`, with their hashes and sizes. \
         It is missing, damaged, not canonical, not a regular file (a FIFO, a device, a link out \
         of `out/`: not read), lists a file with another hash or size, or a file in `out/` is \
         not listed.";
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl std::str::FromStr for Code {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Code::ALL.iter().copied().find(|c| c.name() == s).ok_or(())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
