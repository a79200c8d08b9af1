//! One cache server as a flush talks to it: its URL, TLS files and timeouts
//! ([`CacheOptions`]), checked without any I/O ([`Endpoint::parse`], exit 2), and one
//! connection to it ([`Node`]), authenticated and PINGed. A standalone Redis is one node;
//! a Redis Cluster is a node per primary (`cluster`); `cache` puts them together.
//!
//! Every failure names the node and the cause (refused, timeout, TLS, auth, ACL, MOVED,
//! CROSSSLOT, ...) in a [`CacheError`]; the caller adds what it means for the deploy.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Result;

use crate::exit::{Exit, ExitError};
use crate::project::config::CacheMode;

/// Keys per SCAN step.
pub(super) const SCAN_COUNT: usize = 1000;
/// Keys per UNLINK: a few kB of arguments, so one slow UNLINK never holds the server long.
pub(super) const UNLINK_BATCH: usize = 100;

/// What the user said about the cache: flags, environment and `[cache]` in seedc.toml.
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// `redis://`, `rediss://` (TLS) or `redis+unix://`.
    pub url: String,
    /// PEM file of the CA certificates a `rediss://` server's certificate is checked
    /// against (default: the system's roots).
    pub ca: Option<PathBuf>,
    /// PEM client certificate and its PKCS#8 key, for servers that require one.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub mode: CacheMode,
    pub timeouts: Timeouts,
}

/// How long the cache may take, so a hung server costs a bounded, documented wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    /// TCP connect, TLS handshake, AUTH and the first PING, together.
    pub connect: Duration,
    /// Each reply after that.
    pub reply: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect: Duration::from_secs(10), reply: Duration::from_secs(5) }
    }
}

/// A cache URL and TLS files that parsed and read: what connecting needs, no I/O left but
/// the network.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(super) info: redis::ConnectionInfo,
    /// `host:port` (or the socket path) for messages.
    pub(super) addr: String,
    pub(super) mode: CacheMode,
    pub(super) timeouts: Timeouts,
}

impl Endpoint {
    /// Checks the URL and reads the TLS files: exit 2 on anything malformed, before any
    /// connection is made.
    pub(crate) fn parse(options: &CacheOptions) -> Result<Endpoint> {
        let usage = |m: String| ExitError::new(Exit::Usage, m);
        let url = options.url.trim();
        let scheme = url.split_once("://").map(|(s, _)| s);
        let tls = match scheme {
            Some("redis" | "redis+unix" | "unix") => false,
            Some("rediss") => true,
            _ => {
                return Err(usage(format!(
                    "invalid redis url {:?}: it must start with redis://, rediss:// (TLS) or redis+unix://",
                    redacted(url)
                )));
            }
        };
        if !tls && (options.ca.is_some() || options.client_cert.is_some()) {
            return Err(usage("--redis-ca and --redis-cert need a rediss:// (TLS) url".to_owned()));
        }
        if options.client_cert.is_some() != options.client_key.is_some() {
            return Err(usage("--redis-cert and --redis-key go together: give both or neither".to_owned()));
        }
        let read =
            |path: &PathBuf, what: &str| std::fs::read(path).map_err(|e| usage(format!("cannot read the {what} {}: {e}", path.display())));
        let info = if tls {
            let certs = redis::TlsCertificates {
                client_tls: match (&options.client_cert, &options.client_key) {
                    (Some(cert), Some(key)) => Some(redis::ClientTlsConfig {
                        client_cert: read(cert, "client certificate (--redis-cert)")?,
                        client_key: read(key, "client key (--redis-key)")?,
                    }),
                    _ => None,
                },
                root_cert: options.ca.as_ref().map(|ca| read(ca, "CA file (--redis-ca)")).transpose()?,
            };
            redis::Client::build_with_tls(url, certs)
        } else {
            redis::Client::open(url)
        }
        .map_err(|e| usage(format!("invalid redis url {:?}: {}", redacted(url), e.detail().unwrap_or(e.category()))))?
        .get_connection_info()
        .clone();
        let addr = match info.addr() {
            redis::ConnectionAddr::Tcp(host, port) | redis::ConnectionAddr::TcpTls { host, port, .. } => {
                if host.is_empty() {
                    return Err(usage(format!("invalid redis url {:?}: no host", redacted(url))));
                }
                format!("{host}:{port}")
            }
            redis::ConnectionAddr::Unix(path) => path.display().to_string(),
            _ => return Err(usage(format!("invalid redis url {:?}: unsupported address", redacted(url)))),
        };
        if options.mode == CacheMode::Cluster && matches!(info.addr(), redis::ConnectionAddr::Unix(_)) {
            return Err(usage("[cache] mode = \"cluster\" needs a TCP url, not a unix socket".to_owned()));
        }
        Ok(Endpoint { info, addr, mode: options.mode, timeouts: options.timeouts })
    }

    /// The address in the URL, for messages.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// The same settings (credentials, TLS files) for another node of the cluster.
    pub(super) fn at(&self, host: &str, port: u16) -> Endpoint {
        let addr = match self.info.addr() {
            redis::ConnectionAddr::TcpTls { insecure, tls_params, .. } => {
                redis::ConnectionAddr::TcpTls { host: host.to_owned(), port, insecure: *insecure, tls_params: tls_params.clone() }
            }
            _ => redis::ConnectionAddr::Tcp(host.to_owned(), port),
        };
        Endpoint { info: self.info.clone().set_addr(addr), addr: format!("{host}:{port}"), mode: self.mode, timeouts: self.timeouts }
    }

    /// The host of the URL (cluster nodes that announce no host of their own share it).
    pub(super) fn host(&self) -> &str {
        match self.info.addr() {
            redis::ConnectionAddr::Tcp(host, _) | redis::ConnectionAddr::TcpTls { host, .. } => host,
            _ => "127.0.0.1",
        }
    }

    fn is_tls(&self) -> bool {
        matches!(self.info.addr(), redis::ConnectionAddr::TcpTls { .. })
    }
}

/// The URL with its password replaced, fit for a message.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

/// Why the cache failed, and where.
#[derive(Debug, Clone)]
pub(crate) struct CacheError {
    /// The node, `host:port`.
    pub node: String,
    pub cause: String,
}

impl std::fmt::Display for CacheError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (cache node {})", self.cause, self.node)
    }
}

impl CacheError {
    pub(super) fn new(node: &str, cause: impl Into<String>) -> CacheError {
        CacheError { node: node.to_owned(), cause: cause.into() }
    }

    /// Names the cause of a failed command on `node`.
    pub(super) fn of(node: &str, e: &redis::RedisError, timeouts: &Timeouts) -> CacheError {
        use redis::{ErrorKind, ServerErrorKind};
        let detail = e.detail().unwrap_or_default();
        let cause = if e.is_timeout() {
            format!("timeout: no reply within {}s ([cache] reply_timeout)", secs(timeouts.reply))
        } else if e.is_connection_refusal() {
            "connection refused".to_owned()
        } else if e.to_string().contains("SSL") || e.to_string().contains("TLS") {
            format!("TLS: {}", tls_reason(&e.to_string()))
        } else {
            match (e.kind(), e.code()) {
                (ErrorKind::AuthenticationFailed, _) | (_, Some("WRONGPASS" | "NOAUTH")) => {
                    format!("auth: the server refused the credentials of the url: {}", e.to_string().trim())
                }
                (ErrorKind::Server(ServerErrorKind::NoPerm), _) => {
                    format!(
                        "auth: the user may not run this command (NOPERM {detail}): grant it +scan +unlink +set (+cluster|slots on a cluster)"
                    )
                }
                (ErrorKind::Server(ServerErrorKind::Moved), _) => {
                    format!(
                        "MOVED {detail}: the server is a Redis Cluster node; set [cache] mode = \"cluster\" or let the user run CLUSTER SLOTS"
                    )
                }
                (ErrorKind::Server(ServerErrorKind::CrossSlot), _) => format!("CROSSSLOT: {detail}"),
                (ErrorKind::Server(ServerErrorKind::ClusterDown), _) => format!("CLUSTERDOWN: {detail}"),
                (ErrorKind::Server(ServerErrorKind::MasterDown), _) => format!("MASTERDOWN: {detail}"),
                (ErrorKind::Server(ServerErrorKind::BusyLoading), _) => "LOADING: the node is loading its data set".to_owned(),
                (ErrorKind::Server(ServerErrorKind::ReadOnly), _) => {
                    "READONLY: the node is a replica (failing over?); writes must go to a primary".to_owned()
                }
                (ErrorKind::Io, _) => format!("connection lost: {}", e.to_string().trim()),
                _ => e.to_string().trim().to_owned(),
            }
        };
        CacheError::new(node, cause)
    }

    /// As an error of a deploy that has not begun: exit 3.
    pub(crate) fn before_commit(self) -> anyhow::Error {
        ExitError::new(Exit::Service, format!("cannot reach the cache: {self}; nothing was committed"))
    }

    /// As an error of a flush: exit 5, the outbox rows stay pending.
    pub(crate) fn pending(self) -> anyhow::Error {
        ExitError::new(
            Exit::FlushPending,
            format!("cache flush failed: {self}; the flush stays pending: run `seedc flush` once the cache answers"),
        )
    }
}

/// The part of an OpenSSL handshake error a person can act on.
fn tls_reason(text: &str) -> String {
    let reason = if text.contains("certificate verify failed") {
        "the server's certificate is not signed by a trusted CA (give its CA with --redis-ca)"
    } else if text.contains("wrong version number") || text.contains("packet length too long") {
        "the server does not speak TLS on this port (use redis:// for it, or its TLS port)"
    } else {
        ""
    };
    let text = text.trim();
    if reason.is_empty() { format!("handshake failed: {text}") } else { format!("handshake failed: {reason}: {text}") }
}

pub(super) fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 { format!("{s:.0}") } else { format!("{s}") }
}

/// One connection to one server.
pub(super) struct Node {
    pub addr: String,
    pub con: redis::Connection,
    pub timeouts: Timeouts,
}

impl Node {
    /// Connects, authenticates (the URL's credentials) and PINGs, all within the connect
    /// timeout. The crate bounds neither a TLS handshake with a server that never answers
    /// nor the sum over a host's addresses, so the whole of it runs on a thread of its own
    /// that is given up on at the deadline (left to end with the process).
    pub(super) fn connect(endpoint: &Endpoint) -> Result<Node, CacheError> {
        let (tx, rx) = mpsc::channel();
        let (info, timeouts, addr) = (endpoint.info.clone(), endpoint.timeouts, endpoint.addr.clone());
        std::thread::spawn(move || {
            let attempt = || -> redis::RedisResult<redis::Connection> {
                let mut con = redis::Client::open(info)?.get_connection_with_timeout(timeouts.connect)?;
                con.set_read_timeout(Some(timeouts.reply))?;
                con.set_write_timeout(Some(timeouts.reply))?;
                match redis::cmd("PING").query::<redis::Value>(&mut con) {
                    // An ACL user without +ping still proved the connection and the login.
                    Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoPerm) => Ok(con),
                    Err(e) => Err(e),
                    Ok(_) => Ok(con),
                }
            };
            let _ = tx.send(attempt());
        });
        match rx.recv_timeout(endpoint.timeouts.connect) {
            Ok(Ok(con)) => Ok(Node { addr, con, timeouts }),
            Ok(Err(e)) => {
                let mut err = CacheError::of(&endpoint.addr, &e, &endpoint.timeouts);
                if e.is_timeout() {
                    err.cause = format!("timeout: no answer within {}s ([cache] connect_timeout)", secs(endpoint.timeouts.connect));
                } else if endpoint.is_tls() && e.is_io_error() && !err.cause.starts_with("TLS") && !e.is_connection_refusal() {
                    err.cause = format!("TLS: handshake failed: {}", e.to_string().trim());
                }
                Err(err)
            }
            Err(_) => Err(CacheError::new(
                &endpoint.addr,
                format!(
                    "timeout: no answer within {}s ([cache] connect_timeout){}",
                    secs(endpoint.timeouts.connect),
                    if endpoint.is_tls() { " while connecting over TLS" } else { "" }
                ),
            )),
        }
    }

    pub(super) fn query<T: redis::FromRedisValue>(&mut self, cmd: &redis::Cmd) -> Result<T, CacheError> {
        cmd.query(&mut self.con).map_err(|e| CacheError::of(&self.addr, &e, &self.timeouts))
    }

    /// One pipeline of UNLINKs, each of at most [`UNLINK_BATCH`] keys; every reply, errors
    /// included, so the caller can follow a redirect of one batch without losing the rest.
    pub(super) fn unlink_batches(&mut self, batches: &[&[Vec<u8>]]) -> Result<Vec<redis::RedisResult<u64>>, CacheError> {
        // An empty pipeline is an error to the crate, and there is nothing to send.
        if batches.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for keys in batches {
            pipe.cmd("UNLINK").arg(*keys);
        }
        pipe.query(&mut self.con).map_err(|e| CacheError::of(&self.addr, &e, &self.timeouts))
    }

    /// One SCAN step on this node.
    pub(super) fn scan(&mut self, cursor: u64, pattern: &str) -> Result<(u64, Vec<Vec<u8>>), CacheError> {
        self.query(redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(SCAN_COUNT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(url: &str) -> CacheOptions {
        CacheOptions {
            url: url.to_owned(),
            ca: None,
            client_cert: None,
            client_key: None,
            mode: CacheMode::Auto,
            timeouts: Timeouts::default(),
        }
    }

    #[test]
    fn malformed_urls_are_usage_errors_that_hide_the_password() {
        for url in ["redis:/host", "http://127.0.0.1:6379/", "127.0.0.1:6379", "redis://127.0.0.1:6379/notanumber", "redis://:pw@/"] {
            let err = Endpoint::parse(&options(url)).err().unwrap_or_else(|| panic!("{url} parsed"));
            assert_eq!(crate::exit::exit_of(&err), Exit::Usage, "{url}: {err}");
            assert!(err.to_string().starts_with("invalid redis url"), "{url}: {err}");
        }
        let err = Endpoint::parse(&options("http://u:secret@host/")).err().unwrap();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert_eq!(Endpoint::parse(&options("rediss://u:pw@10.0.0.1:6380/2")).unwrap().addr(), "10.0.0.1:6380");
    }

    #[test]
    fn tls_files_need_a_tls_url_and_come_in_pairs() {
        let mut o = options("redis://127.0.0.1/");
        o.ca = Some("ca.pem".into());
        assert!(Endpoint::parse(&o).err().unwrap().to_string().contains("rediss://"));
        let mut o = options("rediss://127.0.0.1/");
        o.client_cert = Some("c.pem".into());
        assert!(Endpoint::parse(&o).err().unwrap().to_string().contains("go together"));
        let mut o = options("rediss://127.0.0.1/");
        o.ca = Some("/nonexistent/ca.pem".into());
        let err = Endpoint::parse(&o).err().unwrap();
        assert_eq!(crate::exit::exit_of(&err), Exit::Usage);
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }
}
