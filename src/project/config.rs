//! `seedc.toml`: the project config. Parsed strictly (unknown keys are errors) and checked
//! once up front, so later stages can trust names, paths and identifiers. A bad config is a
//! usage error (exit 2), not a content diagnostic.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::project::tree::Tree;

pub(crate) const CONFIG_FILE: &str = "seedc.toml";

/// The largest `seedc.toml` read: a config is a page of settings, never megabytes.
pub(crate) const CONFIG_LIMIT: u64 = 1 << 20;

/// The whole `seedc.toml`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub project: Project,
    #[serde(default)]
    pub limits: Limits,
    /// One table per collection: `data/seeds/<name>.json`.
    #[serde(default)]
    pub collections: BTreeMap<String, CollectionConfig>,
    #[serde(default)]
    pub packs: PacksConfig,
    #[serde(default)]
    pub daily: DailyConfig,
    #[serde(default)]
    pub deploy: DeployConfig,
    #[serde(default)]
    pub cache: CacheConfig,
    #[serde(default)]
    pub publish: PublishConfig,
    #[serde(default)]
    pub environments: crate::project::environments::Environments,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// A name for messages and the deploy record.
    pub name: String,
    /// Mixed into every daily seed, so two games with the same dates get different seeds.
    pub daily_salt: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest record, in bytes as written (default 2 MiB).
    pub max_record_bytes: u64,
    /// Largest seed file or pack, in bytes (default 64 MiB).
    pub max_file_bytes: u64,
    /// Deepest nesting of arrays and objects (default 64, at most 512).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_record_bytes: 2 << 20, max_file_bytes: 64 << 20, max_depth: 64 }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionConfig {
    /// The JSON Schema of one record, relative to the content root.
    pub schema: String,
    /// The field that identifies a record (default `id`).
    #[serde(default = "default_key")]
    pub key: String,
    /// The database table (default: the collection name).
    pub table: Option<String>,
    /// Cache keys to delete when the collection changes; a trailing `*` is a SCAN pattern
    /// (default `game:<name>` and `game:<name>:*`).
    pub cache_keys: Option<Vec<String>>,
    /// References from fields of a record to keys of other collections.
    #[serde(default)]
    pub references: Vec<Reference>,
}

fn default_key() -> String {
    "id".to_owned()
}

/// A declared reference: every string found at `path` in a record must be a key of `collection`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// A JSON pointer into one record; a `*` token matches every array element or object member.
    pub path: String,
    pub collection: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PacksConfig {
    /// How many minors before the newest known one are still accepted (default 2).
    pub compat_window: u32,
    /// Pack kinds, e.g. `PROTOCOL`, each with its schema per `pack_schema_v`.
    pub kinds: BTreeMap<String, PackKind>,
}

impl Default for PacksConfig {
    fn default() -> Self {
        PacksConfig { compat_window: 2, kinds: BTreeMap::new() }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackKind {
    /// `"major.minor"` → schema path relative to the content root.
    pub schemas: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DailyConfig {
    /// The pack ids every daily manifest binds (default: every pack).
    pub packs: Option<Vec<String>>,
    /// Copied verbatim into each daily manifest's `constraints`.
    pub constraints: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DeployConfig {
    /// The PostgreSQL schema of seedc's own tables (default `seedc`).
    pub schema: String,
}

impl Default for DeployConfig {
    fn default() -> Self {
        DeployConfig { schema: "seedc".to_owned() }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// The key set to the new content version after a flush (default `game:version`).
    pub version_key: String,
    /// Prefix of the default per-collection keys (default `game`).
    pub prefix: String,
    /// `auto` (default: asks the server with CLUSTER SLOTS), `standalone` (never asks: for
    /// a user without +cluster|slots) or `cluster` (anything else is an error).
    pub mode: CacheMode,
    /// Seconds to connect, handshake TLS, authenticate and PING (default 10).
    pub connect_timeout: f64,
    /// Seconds to wait for each reply after that (default 5).
    pub reply_timeout: f64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            version_key: "game:version".to_owned(),
            prefix: "game".to_owned(),
            mode: CacheMode::Auto,
            connect_timeout: 10.0,
            reply_timeout: 5.0,
        }
    }
}

/// `[publish]`: where `seedc publish` (and `deploy`, when `url` is set) mirrors `out/`.
/// Every S3 setting here overrides the standard AWS environment (`AWS_REGION`,
/// `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, ...), which applies otherwise.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PublishConfig {
    /// `s3://bucket/prefix` or `file:///dir`; `deploy` publishes there when it is set.
    pub url: Option<String>,
    /// The S3 region (default: `AWS_REGION`, else `us-east-1`).
    pub region: Option<String>,
    /// An S3-compatible endpoint (R2, MinIO, ...); path-style addressing unless
    /// `virtual_hosted` (default: `AWS_ENDPOINT_URL`).
    pub endpoint: Option<String>,
    /// Address the bucket as `<bucket>.<endpoint host>` instead of `<endpoint>/<bucket>`.
    pub virtual_hosted: bool,
    /// Static credentials (better kept in the environment than in a committed file).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// An AWS profile of `~/.aws/credentials` and `~/.aws/config` (default: `AWS_PROFILE`).
    pub profile: Option<String>,
    /// `Cache-Control` of bundles and manifests, which never change under their name.
    pub cache_control: String,
    /// `Cache-Control` of `index.json`, the one object that is replaced.
    pub index_cache_control: String,
    /// Requests in flight at once (default 32).
    pub concurrency: usize,
    /// Seconds for one request, connecting included (default 30).
    pub timeout: f64,
    /// Seconds to connect (default 5).
    pub connect_timeout: f64,
    /// Retries of a failed request, with exponential backoff (default 3).
    pub retries: usize,
}

impl Default for PublishConfig {
    fn default() -> Self {
        PublishConfig {
            url: None,
            region: None,
            endpoint: None,
            virtual_hosted: false,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            profile: None,
            cache_control: "public, max-age=31536000, immutable".to_owned(),
            index_cache_control: "public, max-age=60".to_owned(),
            concurrency: 32,
            timeout: 30.0,
            connect_timeout: 5.0,
            retries: 3,
        }
    }
}

/// Whether the cache is a Redis Cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CacheMode {
    /// Ask the server (CLUSTER SLOTS).
    #[default]
    Auto,
    Standalone,
    Cluster,
}

/// A timeout in seconds from seedc.toml or a flag: positive, at most an hour.
pub(crate) fn timeout_secs(what: &str, secs: f64) -> Result<std::time::Duration> {
    ensure!(secs.is_finite() && secs > 0.0 && secs <= 3600.0, "{what} must be a number of seconds above 0 and at most 3600, not {secs}");
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// Whether PostgreSQL reserves a name or resolves it to a schema of its own: `pg_*` names
/// (every system catalog, `pg_catalog` first on every search path, so a table `pg_type`
/// would be the catalog's) and `information_schema`.
pub(crate) fn is_reserved_by_postgres(name: &str) -> bool {
    name.starts_with("pg_") || name == "information_schema"
}

/// A pack id as named in `daily.packs`: the name of a file under `data/packs/`, so only
/// letters, digits, `.`, `_` and `-`, not starting with `.` (no `..`, no `/`).
pub(crate) fn is_pack_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && !id.contains("..")
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The largest `packs.compat_window`: far beyond any real release cadence, and small enough
/// that `minor + window` can never overflow.
pub(crate) const MAX_COMPAT_WINDOW: u32 = 10_000;

/// A name usable as a collection, table or schema: lowercase ASCII, digits and `_`,
/// starting with a letter, at most 63 bytes (PostgreSQL's identifier limit).
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z')) && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_')) && name.len() <= 63
}

/// Whether `text` is a JSON pointer (RFC 6901): empty or `/`-led, every `~` escaping `0` or `1`.
pub(crate) fn is_json_pointer(text: &str) -> bool {
    (text.is_empty() || text.starts_with('/')) && text.split('~').skip(1).all(|rest| rest.starts_with(['0', '1']))
}

impl Config {
    /// Reads and checks `seedc.toml` under `root`.
    pub fn load(root: &Path) -> Result<Config> {
        Self::load_tree(&Tree::dir(root))
    }

    /// Reads and checks the `seedc.toml` of a directory or a git revision, through the
    /// tree's bounded read of regular files only.
    pub fn load_tree(tree: &Tree) -> Result<Config> {
        let text = tree
            .read_optional(CONFIG_FILE, CONFIG_LIMIT)?
            .with_context(|| format!("there is no {CONFIG_FILE} in {} (is --root a seedc content root?)", tree.label()))?;
        match tree.root() {
            Some(_) => Self::parse(&text),
            None => Self::parse(&text).with_context(|| format!("in {}", tree.label())),
        }
    }

    pub fn parse(text: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| anyhow::anyhow!("invalid {CONFIG_FILE}: {e}"))?;
        config.check()?;
        Ok(config)
    }

    /// Every rule of the config, checked once at load, the same for every command: later
    /// stages trust names, paths and numbers.
    fn check(&self) -> Result<()> {
        ensure!(self.limits.max_depth >= 2 && self.limits.max_depth <= 512, "limits.max_depth must be between 2 and 512");
        ensure!(
            (1..=4 << 30).contains(&self.limits.max_file_bytes),
            "limits.max_file_bytes must be between 1 and 4294967296 (4 GiB), not {}",
            self.limits.max_file_bytes
        );
        ensure!(
            (1..=4 << 30).contains(&self.limits.max_record_bytes),
            "limits.max_record_bytes must be between 1 and 4294967296 (4 GiB), not {}",
            self.limits.max_record_bytes
        );
        ensure!(
            self.packs.compat_window <= MAX_COMPAT_WINDOW,
            "packs.compat_window must be between 0 and {MAX_COMPAT_WINDOW}, not {}",
            self.packs.compat_window
        );
        ensure!(is_identifier(&self.deploy.schema), "deploy.schema {:?} is not a valid identifier", self.deploy.schema);
        ensure!(
            !is_reserved_by_postgres(&self.deploy.schema),
            "deploy.schema {:?} is a name PostgreSQL reserves (pg_* and information_schema)",
            self.deploy.schema
        );
        for id in self.daily.packs.iter().flatten() {
            ensure!(is_pack_id(id), "daily.packs: {id:?} is not a pack id (letters, digits, '.', '_' and '-', not starting with '.')");
        }
        timeout_secs("cache.connect_timeout", self.cache.connect_timeout)?;
        timeout_secs("cache.reply_timeout", self.cache.reply_timeout)?;
        timeout_secs("publish.timeout", self.publish.timeout)?;
        timeout_secs("publish.connect_timeout", self.publish.connect_timeout)?;
        ensure!((1..=256).contains(&self.publish.concurrency), "publish.concurrency must be between 1 and 256");
        ensure!(self.publish.retries <= 20, "publish.retries must be at most 20");
        for (key, value) in [("cache_control", &self.publish.cache_control), ("index_cache_control", &self.publish.index_cache_control)] {
            ensure!(
                !value.is_empty() && value.bytes().all(|b| (0x20..0x7f).contains(&b)),
                "publish.{key} must be a non-empty header value of printable ASCII"
            );
        }
        for (name, c) in &self.collections {
            ensure!(is_identifier(name), "collection name {name:?} must match [a-z][a-z0-9_]* (at most 63 bytes)");
            let table = self.table(name);
            ensure!(is_identifier(table), "collections.{name}.table {table:?} must match [a-z][a-z0-9_]*");
            ensure!(
                !is_reserved_by_postgres(table),
                "collections.{name}.table {table:?} is a name PostgreSQL reserves or resolves to its own catalog (pg_* and information_schema); set another `table`"
            );
            ensure!(!c.key.is_empty(), "collections.{name}.key must not be empty");
            for r in &c.references {
                ensure!(
                    self.collections.contains_key(&r.collection),
                    "collections.{name}.references: {:?} names unknown collection {:?}",
                    r.path,
                    r.collection
                );
                ensure!(r.path.starts_with('/'), "collections.{name}.references: path {:?} must start with '/'", r.path);
                ensure!(
                    is_json_pointer(&r.path),
                    "collections.{name}.references: path {:?} is not a valid JSON pointer ('~' must be followed by 0 or 1)",
                    r.path
                );
            }
        }
        let mut tables: BTreeMap<&str, &str> = BTreeMap::new();
        for name in self.collections.keys() {
            if let Some(other) = tables.insert(self.table(name), name) {
                bail!("collections {other:?} and {name:?} both deploy to table {:?}", self.table(name));
            }
        }
        for (kind, k) in &self.packs.kinds {
            ensure!(!k.schemas.is_empty(), "packs.kinds.{kind} lists no schemas");
            for v in k.schemas.keys() {
                ensure!(SchemaVersion::parse(v).is_some(), "packs.kinds.{kind}.schemas: {v:?} is not a \"major.minor\" version");
            }
        }
        self.environments.check()
    }

    /// The database table of a collection.
    pub fn table<'a>(&'a self, collection: &'a str) -> &'a str {
        self.collections.get(collection).and_then(|c| c.table.as_deref()).unwrap_or(collection)
    }

    /// The cache keys (and `*` patterns) of a collection.
    pub fn cache_keys(&self, collection: &str) -> Vec<String> {
        match self.collections.get(collection).and_then(|c| c.cache_keys.clone()) {
            Some(keys) => keys,
            None => {
                let p = &self.cache.prefix;
                vec![format!("{p}:{collection}"), format!("{p}:{collection}:*")]
            }
        }
    }
}

/// A `pack_schema_v`: `"major.minor"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct SchemaVersion {
    pub major: u32,
    pub minor: u32,
}

impl SchemaVersion {
    pub(crate) fn parse(s: &str) -> Option<SchemaVersion> {
        let (major, minor) = s.split_once('.')?;
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'));
        if !digits(major) || !digits(minor) {
            return None;
        }
        Some(SchemaVersion { major: major.parse().ok()?, minor: minor.parse().ok()? })
    }
}

impl std::fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[project]\nname = \"g\"\ndaily_salt = \"s\"\n";

    #[test]
    fn defaults_apply() {
        let c = Config::parse(MINIMAL).unwrap();
        assert_eq!(c.limits.max_record_bytes, 2 << 20);
        assert_eq!(c.packs.compat_window, 2);
        assert_eq!(c.deploy.schema, "seedc");
    }

    #[test]
    fn rejects_unknown_keys_and_bad_identifiers() {
        let typo = format!("{MINIMAL}[limits]\nmax_dept = 3\n");
        assert!(Config::parse(&typo).unwrap_err().to_string().contains("max_dept"));
        let bad = format!("{MINIMAL}[collections.enemies]\nschema = \"s.json\"\ntable = \"x; drop table y\"\n");
        assert!(Config::parse(&bad).unwrap_err().to_string().contains("must match"));
        let dangling = format!("{MINIMAL}[collections.a]\nschema = \"s\"\nreferences = [{{ path = \"/x\", collection = \"b\" }}]\n");
        assert!(Config::parse(&dangling).unwrap_err().to_string().contains("unknown collection"));
    }

    #[test]
    fn cache_settings_parse_and_timeouts_are_bounded() {
        let c = Config::parse(&format!("{MINIMAL}[cache]\nmode = \"cluster\"\nconnect_timeout = 2\nreply_timeout = 0.5\n")).unwrap();
        assert_eq!((c.cache.mode, c.cache.connect_timeout, c.cache.reply_timeout), (CacheMode::Cluster, 2.0, 0.5));
        assert_eq!(Config::parse(MINIMAL).unwrap().cache.mode, CacheMode::Auto);
        for bad in ["reply_timeout = 0", "connect_timeout = -1", "connect_timeout = 7200", "mode = \"sentinel\""] {
            assert!(Config::parse(&format!("{MINIMAL}[cache]\n{bad}\n")).is_err(), "{bad}");
        }
    }

    #[test]
    fn publish_settings_have_defaults_and_bounds() {
        let c = Config::parse(MINIMAL).unwrap();
        assert_eq!((c.publish.url, c.publish.concurrency, c.publish.retries), (None, 32, 3));
        assert!(c.publish.cache_control.contains("immutable"));
        let c =
            Config::parse(&format!("{MINIMAL}[publish]\nurl = \"s3://b/p\"\nendpoint = \"http://127.0.0.1:9000\"\ntimeout = 2\n")).unwrap();
        assert_eq!((c.publish.url.as_deref(), c.publish.timeout), (Some("s3://b/p"), 2.0));
        for bad in ["concurrency = 0", "timeout = 0", "retries = 100", "cache_control = \"\"", "bucket = \"x\""] {
            assert!(Config::parse(&format!("{MINIMAL}[publish]\n{bad}\n")).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_rule_holds_at_load() {
        let collection = "[collections.a]\nschema = \"s\"\n";
        for (bad, says) in [
            ("[packs]\ncompat_window = 4294967295\n".to_owned(), "compat_window"),
            ("[limits]\nmax_file_bytes = 0\n".to_owned(), "max_file_bytes"),
            ("[limits]\nmax_record_bytes = 0\n".to_owned(), "max_record_bytes"),
            ("[daily]\npacks = [\"../../etc/passwd\"]\n".to_owned(), "daily.packs"),
            ("[daily]\npacks = [\"a/b\"]\n".to_owned(), "daily.packs"),
            (format!("{collection}table = \"pg_type\"\n"), "reserves"),
            (format!("{collection}table = \"information_schema\"\n"), "reserves"),
            ("[collections.pg_class]\nschema = \"s\"\n".to_owned(), "reserves"),
            ("[deploy]\nschema = \"pg_catalog\"\n".to_owned(), "reserves"),
            (format!("{collection}references = [{{ path = \"/ele~2ment\", collection = \"a\" }}]\n"), "JSON pointer"),
            (format!("{collection}references = [{{ path = \"/x~\", collection = \"a\" }}]\n"), "JSON pointer"),
        ] {
            let err = format!("{:#}", Config::parse(&format!("{MINIMAL}{bad}")).unwrap_err());
            assert!(err.contains(says), "{bad}: {err}");
        }
        let good = format!(
            "{MINIMAL}[packs]\ncompat_window = 10000\n[daily]\npacks = [\"voice.core.en\"]\n{collection}references = [{{ path = \"/a~0b~1c/*\", collection = \"a\" }}]\n"
        );
        Config::parse(&good).unwrap();
    }

    #[test]
    fn schema_versions_parse_strictly() {
        assert_eq!(SchemaVersion::parse("1.2"), Some(SchemaVersion { major: 1, minor: 2 }));
        for bad in ["1", "1.2.3", "01.2", "a.b", "1.", ""] {
            assert_eq!(SchemaVersion::parse(bad), None, "{bad}");
        }
    }
}
