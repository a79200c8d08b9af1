//! The object_store wiring of `publish`: a URL (`s3://bucket/prefix`, `file:///dir`) and
//! `[publish]` made into one store, with a tokio runtime of its own (nothing outside this
//! module is async), a timeout and retries with backoff on every request, bounded
//! concurrency, and error messages scrubbed of every credential they could carry.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::{self, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig,
};

use crate::build::write::OUT_FILE_LIMIT;
use crate::exit::{Exit, ExitError};
use crate::project::config::{PublishConfig, timeout_secs};
use crate::project::tree::Tree;

/// Where a copy is published, as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `s3://bucket/prefix`: the prefix without leading or trailing `/` (may be empty).
    S3 { bucket: String, prefix: String },
    /// `file:///dir`: an absolute directory.
    File { dir: std::path::PathBuf },
}

impl Target {
    /// Parses a publish URL; anything else is a usage error (exit 2).
    pub fn parse(url: &str) -> Result<Target> {
        let usage = |why: &str| ExitError::new(Exit::Usage, format!("invalid publish URL {url:?}: {why}"));
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let valid_bucket = (3..=63).contains(&bucket.len())
                && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
            if !valid_bucket {
                return Err(usage("the bucket name must be 3 to 63 characters of a-z, 0-9, '-' and '.'"));
            }
            let prefix = prefix.trim_matches('/');
            if prefix.split('/').any(|p| p == "." || p == "..") || prefix.contains("//") || prefix.contains(['?', '#', '\\']) {
                return Err(usage("the prefix must be plain path segments"));
            }
            return Ok(Target::S3 { bucket: bucket.to_owned(), prefix: prefix.to_owned() });
        }
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(usage("a file URL names an absolute directory: file:///dir"));
            }
            let dir = std::path::PathBuf::from(path);
            if dir.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
                return Err(usage("the directory must not contain '..'"));
            }
            return Ok(Target::File { dir });
        }
        Err(usage("publish to s3://bucket/prefix or file:///dir"))
    }

    /// The URL again, normalized: how diagnostics and reports name the copy.
    pub fn url(&self) -> String {
        match self {
            Target::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}"),
            Target::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
            Target::File { dir } => format!("file://{}", dir.display()),
        }
    }
}

/// The kind of object, which decides its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bundle,
    Manifest,
    Index,
}

/// An object as the one listing saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub size: u64,
    /// The MD5 of the bytes, when the store's ETag is one (S3 and most S3-compatible
    /// stores, for objects not uploaded in parts); `None` means only a read can tell.
    pub md5: Option<[u8; 16]>,
}

/// One object to write: its path under the prefix and how.
pub(crate) struct Put {
    pub rel: String,
    pub kind: Kind,
    /// `Create`: only if absent (conditional create); `Overwrite`: replace.
    pub mode: PutMode,
}

/// How a write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    Created,
    /// A create found the object already there (another publisher, or a retry of our own
    /// request that had landed): the caller decides whether its bytes are right.
    Exists,
}

/// What a store is opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Open {
    /// Publishing: a `file://` directory is created if absent.
    Write,
    /// `--dry-run`: a missing `file://` directory is an empty store.
    DryRun,
    /// `verify URL`: a missing `file://` directory is an error.
    Verify,
}

/// A published copy: the store, the prefix inside it, and the runtime its requests run on.
pub(crate) struct Store {
    runtime: tokio::runtime::Runtime,
    inner: Arc<dyn ObjectStore>,
    prefix: Option<StorePath>,
    pub target: Target,
    concurrency: usize,
    retries: usize,
    backoff: BackoffConfig,
    cache_control: String,
    index_cache_control: String,
    /// Every credential the store was given: removed from any error text.
    secrets: Vec<String>,
}

impl Store {
    /// Opens the store of `target` with `[publish]`'s settings and the AWS environment.
    /// No request is made yet.
    pub(crate) fn open(target: Target, config: &PublishConfig, mode: Open) -> Result<Store> {
        let usage = |e: anyhow::Error| ExitError::new(Exit::Usage, format!("{e:#}"));
        let timeout = timeout_secs("publish.timeout", config.timeout).map_err(usage)?;
        let connect_timeout = timeout_secs("publish.connect_timeout", config.connect_timeout).map_err(usage)?;
        let backoff = BackoffConfig { init_backoff: Duration::from_millis(100), max_backoff: Duration::from_secs(5), base: 2.0 };
        let retry = RetryConfig {
            backoff: backoff.clone(),
            max_retries: config.retries,
            // Every attempt may take the whole timeout, and the backoffs add up to at most
            // 5 s each: the bound on one request, retries included.
            retry_timeout: (timeout + Duration::from_secs(5)) * (config.retries as u32 + 1),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("seedc-publish")
            .enable_all()
            .build()
            .context("cannot start the publish runtime")?;
        let mut secrets = Vec::new();
        let (inner, prefix): (Arc<dyn ObjectStore>, Option<StorePath>) = match &target {
            Target::File { dir } => {
                match mode {
                    Open::Write => std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?,
                    Open::Verify if !dir.is_dir() => {
                        return Err(ExitError::new(Exit::Service, format!("{} is not a directory", target.url())));
                    }
                    // A dry run writes nothing, not even the directory: it sees an empty store.
                    Open::DryRun if !dir.is_dir() => {
                        let empty: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
                        return Ok(Store::new(runtime, empty, None, target, config, backoff, secrets));
                    }
                    Open::Verify | Open::DryRun => {}
                }
                let fs = LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| ExitError::new(Exit::Service, format!("cannot open {}: {e}", target.url())))?
                    .with_fsync(true);
                (Arc::new(fs), None)
            }
            Target::S3 { bucket, prefix } => {
                let mut b = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_retry(retry)
                    .with_crypto_provider(Arc::new(super::crypto::RustCrypto));
                let profile = config.profile.clone().or_else(|| std::env::var("AWS_PROFILE").ok()).filter(|p| !p.is_empty());
                let from_profile = match &profile {
                    Some(name) => super::profile::load(name)?,
                    None => super::profile::Profile::default(),
                };
                // The environment, then the profile, then seedc.toml: the most specific wins.
                let region = config.region.clone().or(from_profile.region);
                let endpoint = config.endpoint.clone().or(from_profile.endpoint_url);
                if let Some(region) = region {
                    b = b.with_region(region);
                }
                let mut options = ClientOptions::new().with_timeout(timeout).with_connect_timeout(connect_timeout);
                if let Some(endpoint) = &endpoint {
                    b = b.with_endpoint(endpoint);
                }
                let endpoint = endpoint.or_else(|| std::env::var("AWS_ENDPOINT_URL").ok()).or_else(|| std::env::var("AWS_ENDPOINT").ok());
                // An endpoint the user named with http:// is one they chose to reach without TLS
                // (MinIO or a test server on loopback); nothing else may be.
                if endpoint.as_deref().is_some_and(|e| e.starts_with("http://")) {
                    options = options.with_allow_http(true);
                }
                b = b.with_virtual_hosted_style_request(config.virtual_hosted).with_client_options(options);
                let key = config.access_key_id.clone().or(from_profile.access_key_id);
                let secret = config.secret_access_key.clone().or(from_profile.secret_access_key);
                let token = config.session_token.clone().or(from_profile.session_token);
                if let Some(key) = key {
                    b = b.with_access_key_id(key);
                }
                if let Some(secret) = secret {
                    secrets.push(secret.clone());
                    b = b.with_secret_access_key(secret);
                }
                if let Some(token) = token {
                    secrets.push(token.clone());
                    b = b.with_token(token);
                }
                for var in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
                    secrets.extend(std::env::var(var).ok());
                }
                secrets.retain(|s| s.len() >= 4);
                let scrub = |text: String| redact(&text, &secrets);
                let s3 =
                    b.build().map_err(|e| ExitError::new(Exit::Usage, scrub(format!("cannot configure S3 for {}: {e}", target.url()))))?;
                let prefix = (!prefix.is_empty()).then(|| StorePath::from(prefix.as_str()));
                (Arc::new(s3), prefix)
            }
        };
        Ok(Store::new(runtime, inner, prefix, target, config, backoff, secrets))
    }

    fn new(
        runtime: tokio::runtime::Runtime,
        inner: Arc<dyn ObjectStore>,
        prefix: Option<StorePath>,
        target: Target,
        config: &PublishConfig,
        backoff: BackoffConfig,
        secrets: Vec<String>,
    ) -> Store {
        Store {
            runtime,
            inner,
            prefix,
            target,
            concurrency: config.concurrency,
            retries: config.retries,
            backoff,
            cache_control: config.cache_control.clone(),
            index_cache_control: config.index_cache_control.clone(),
            secrets,
        }
    }

    /// How diagnostics and reports name the copy.
    pub(crate) fn url(&self) -> String {
        self.target.url()
    }

    fn path(&self, rel: &str) -> StorePath {
        match &self.prefix {
            Some(p) => StorePath::from(format!("{p}/{rel}")),
            None => StorePath::from(rel),
        }
    }

    /// A service failure (exit 3) about `what`, without any credential in its text.
    fn failed(&self, what: &str, err: impl std::fmt::Display) -> anyhow::Error {
        ExitError::new(Exit::Service, redact(&format!("{what} {}: {err}", self.url()), &self.secrets))
    }

    /// Every object under the prefix, by path relative to it: the one listing a publish makes.
    pub(crate) fn list(&self) -> Result<BTreeMap<String, Listed>> {
        let inner = Arc::clone(&self.inner);
        let prefix = self.prefix.clone();
        let strip = self.prefix.as_ref().map(|p| format!("{p}/"));
        let listed = self.runtime.block_on(async move { inner.list(prefix.as_ref()).try_collect::<Vec<_>>().await });
        let listed = listed.map_err(|e| self.failed("cannot list", e))?;
        Ok(listed
            .into_iter()
            .filter_map(|meta| {
                let key = meta.location.to_string();
                let rel = match &strip {
                    Some(s) => key.strip_prefix(s.as_str())?.to_owned(),
                    None => key,
                };
                Some((rel, Listed { size: meta.size, md5: meta.e_tag.as_deref().and_then(etag_md5) }))
            })
            .collect())
    }

    /// Reads objects, at most `concurrency` at once, and hands each one's bytes (`None`: it
    /// is not there) to `f`; the results come back in the order of `rels`.
    pub(crate) fn read_each<T: Send + 'static>(
        &self,
        rels: &[String],
        f: impl Fn(&str, Option<Bytes>) -> T + Send + Sync + 'static,
    ) -> Result<Vec<T>> {
        let f = Arc::new(f);
        // A directory is read as a content root's files are (`Tree`: regular files inside
        // it only, bounded), not by the local store, which would open a FIFO and block.
        let local = match &self.target {
            Target::File { dir } => Some(dir.clone()),
            Target::S3 { .. } => None,
        };
        let jobs: Vec<_> = rels
            .iter()
            .map(|rel| {
                let (inner, path, rel, f) = (Arc::clone(&self.inner), self.path(rel), rel.clone(), Arc::clone(&f));
                let local = local.clone();
                async move {
                    let bytes = if let Some(dir) = local {
                        match Tree::dir(dir).read_limited(&rel, OUT_FILE_LIMIT) {
                            Ok(bytes) => Some(Bytes::from(bytes)),
                            Err(e) if e.is_not_found() => None,
                            Err(e) => return Err((rel, e.to_string())),
                        }
                    } else {
                        match inner.get(&path).await {
                            Ok(r) => Some(r.bytes().await.map_err(|e| (rel.clone(), e.to_string()))?),
                            Err(object_store::Error::NotFound { .. }) => None,
                            Err(e) => return Err((rel, e.to_string())),
                        }
                    };
                    Ok(f(&rel, bytes))
                }
            })
            .collect();
        let results = self.runtime.block_on(stream::iter(jobs).buffered(self.concurrency).collect::<Vec<_>>());
        results.into_iter().map(|r| r.map_err(|(rel, e)| self.failed(&format!("cannot read {rel} of"), e))).collect()
    }

    /// Reads one object (`None`: it is not there).
    pub(crate) fn read(&self, rel: &str) -> Result<Option<Bytes>> {
        Ok(self.read_each(&[rel.to_owned()], |_, b| b)?.pop().flatten())
    }

    /// Writes objects, at most `concurrency` at once, each with the bytes `load` gives for
    /// it; `done` is called as each one lands (the progress bar). Stops at the first
    /// failure (the others in flight finish or are dropped; each object is whole or absent).
    pub(crate) fn write_each(
        &self,
        puts: Vec<Put>,
        load: impl Fn(&str) -> Result<Vec<u8>> + Send + Sync + 'static,
        done: impl Fn() + Send + Sync + 'static,
    ) -> Result<Vec<Written>> {
        let (load, done) = (Arc::new(load), Arc::new(done));
        let is_file = matches!(self.target, Target::File { .. });
        let jobs: Vec<_> = puts
            .into_iter()
            .map(|put| {
                let (inner, path, load, done) = (Arc::clone(&self.inner), self.path(&put.rel), Arc::clone(&load), Arc::clone(&done));
                // A directory a CDN serves takes its headers from the server, and the local
                // store keeps no attributes.
                let attributes = if is_file { Attributes::new() } else { self.attributes(put.kind) };
                let (retries, backoff) = (self.retries, self.backoff.clone());
                async move {
                    let bytes = PutPayload::from(load(&put.rel).map_err(|e| (put.rel.clone(), e))?);
                    let written = put_retrying(&*inner, &path, bytes, &put.mode, attributes, retries, &backoff)
                        .await
                        .map_err(|e| (put.rel.clone(), anyhow::Error::new(e)))?;
                    done();
                    Ok::<_, (String, anyhow::Error)>(written)
                }
            })
            .collect();
        let results = self.runtime.block_on(stream::iter(jobs).buffered(self.concurrency).try_collect::<Vec<_>>());
        results.map_err(|(rel, e)| self.failed(&format!("cannot write {rel} to"), format!("{e:#}")))
    }

    fn attributes(&self, kind: Kind) -> Attributes {
        let mut a = Attributes::new();
        a.insert(Attribute::ContentType, "application/json".into());
        let cache = if kind == Kind::Index { &self.index_cache_control } else { &self.cache_control };
        a.insert(Attribute::CacheControl, cache.clone().into());
        a
    }
}

/// One write. object_store retries an overwrite on any transient failure, but a
/// conditional create only when the request was never sent (it is not idempotent to the
/// server); for seedc it is (the same bytes under the same name), so a failed create is
/// retried here, and a create that finds the object there after a retry is `Exists`, for
/// the caller to judge by its bytes.
async fn put_retrying(
    store: &dyn ObjectStore,
    path: &StorePath,
    bytes: PutPayload,
    mode: &PutMode,
    attributes: Attributes,
    retries: usize,
    backoff: &BackoffConfig,
) -> object_store::Result<Written> {
    let mut wait = backoff.init_backoff;
    let mut attempt = 0;
    loop {
        let opts = PutOptions { mode: mode.clone(), attributes: attributes.clone(), ..PutOptions::default() };
        match store.put_opts(path, bytes.clone(), opts).await {
            Ok(_) => return Ok(Written::Created),
            Err(object_store::Error::AlreadyExists { .. }) => return Ok(Written::Exists),
            Err(e) if matches!(mode, PutMode::Create) && attempt < retries && transient(&e) => {
                attempt += 1;
                tokio::time::sleep(wait).await;
                wait = (wait.mul_f64(backoff.base)).min(backoff.max_backoff);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether a failed request may succeed when sent again (not a refusal of the request).
fn transient(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::Generic { .. })
}

/// The MD5 in an ETag, when it is one: 32 hex digits, quoted or not. A multipart upload's
/// ETag (`<hex>-<parts>`) and a local file's are not.
pub(crate) fn etag_md5(etag: &str) -> Option<[u8; 16]> {
    let hex = etag.trim_start_matches("W/").trim_matches('"');
    if hex.len() != 32 {
        return None;
    }
    let mut md5 = [0u8; 16];
    hex::decode_to_slice(hex, &mut md5).ok()?;
    Some(md5)
}

/// `text` with every secret replaced, so no credential reaches a message.
pub(crate) fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_owned(), |t, s| t.replace(s.as_str(), "[redacted]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_strictly() {
        assert_eq!(
            Target::parse("s3://my-bucket/games/ember/").unwrap(),
            Target::S3 { bucket: "my-bucket".into(), prefix: "games/ember".into() }
        );
        assert_eq!(Target::parse("s3://my-bucket").unwrap().url(), "s3://my-bucket");
        assert_eq!(Target::parse("file:///srv/cdn").unwrap(), Target::File { dir: "/srv/cdn".into() });
        for bad in ["http://x/y", "s3://B/x", "s3://ab", "s3://bucket/a/../b", "file://relative", "file:///a/../b", "bucket/p"] {
            let err = Target::parse(bad).unwrap_err();
            assert_eq!(crate::exit::exit_of(&err), Exit::Usage, "{bad}");
        }
    }

    #[test]
    fn only_plain_etags_are_md5() {
        assert_eq!(etag_md5("\"c4ca4238a0b923820dcc509a6f75849b\"").map(hex::encode).as_deref(), Some("c4ca4238a0b923820dcc509a6f75849b"));
        assert_eq!(etag_md5("c4ca4238a0b923820dcc509a6f75849b-3"), None);
        assert_eq!(etag_md5("1a2b-5f3c-32"), None);
    }

    #[test]
    fn redact_removes_every_secret() {
        let text = redact("signing with abcdSECRET and tok-123 failed", &["abcdSECRET".into(), "tok-123".into()]);
        assert_eq!(text, "signing with [redacted] and [redacted] failed");
    }
}
