//! The services of the test run in one place: the connection URLs `scripts/test` exports
//! (and the rule that a missing one fails under it), a PostgreSQL database per test, the
//! content root, database and cache prefix a deploy test works in, and private Redis
//! servers and clusters for tests that stop, freeze or reshard them.
//!
//! Isolation: every test deploys into a PostgreSQL database of its own (created on the
//! shared server, dropped at the end) and uses a cache key prefix of its own; tests that
//! stop Redis start a private redis-server.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Root, Run};

/// The one rule for what a test needs from outside (a service, a tool, Wine): `Some(())`
/// when `ok`; else, under `scripts/test` (SEEDC_REQUIRE_SERVICES=1), the test fails naming
/// `what` is missing, and elsewhere it is skipped with a message.
pub(crate) fn required(ok: bool, what: &str) -> Option<()> {
    if ok {
        return Some(());
    }
    if std::env::var_os("SEEDC_REQUIRE_SERVICES").is_some() {
        panic!("{what}: run the suite with scripts/test, which provides it");
    }
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "skipping: {what} (run scripts/test for the full suite)");
    None
}

/// An environment variable `scripts/test` exports, under [`required`]'s rule.
pub(crate) fn required_var(name: &str) -> Option<String> {
    let value = std::env::var(name).ok();
    required(value.is_some(), &format!("{name} is not set"))?;
    value
}

/// Connection URLs of the test services, under [`required`]'s rule.
pub(crate) fn services() -> Option<(String, String)> {
    Some((required_var("DATABASE_URL")?, required_var("REDIS_URL")?))
}

/// A variable `scripts/services` exports, once the services are there.
pub(crate) fn service_var(name: &str) -> Option<String> {
    services()?;
    required_var(name)
}

/// A database of the test's own, dropped (with its connections) at the end.
pub(crate) struct Db {
    name: String,
    pub(crate) url: String,
    admin_url: String,
}

impl Db {
    pub(crate) fn new(test: &str, server: &str) -> Db {
        let server = server.to_owned();
        let name = format!("seedc_{test}_{}", std::process::id());
        let url = with_database(&server, &name);
        let mut admin = postgres::Client::connect(&server, postgres::NoTls).expect("connect to the test server");
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).expect("drop a leftover test database");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
        Db { name, url, admin_url: server }
    }

    pub(crate) fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect to the test database")
    }

    pub(crate) fn query<T: for<'a> postgres::types::FromSql<'a>>(&self, sql: &str) -> Vec<T> {
        self.client().query(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}")).iter().map(|r| r.get(0)).collect()
    }

    pub(crate) fn one<T: for<'a> postgres::types::FromSql<'a>>(&self, sql: &str) -> T {
        self.client().query_one(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
    }

    /// Every row of a table as `id -> xmin`: a row rewritten in any way gets a new xmin.
    pub(crate) fn xmins(&self, table: &str) -> BTreeMap<String, String> {
        let sql = format!("SELECT id::text, xmin::text FROM {table}");
        self.client().query(&sql, &[]).unwrap().iter().map(|r| (r.get(0), r.get(1))).collect()
    }

    /// The xmins of every collection table and of seedc's own tables.
    pub(crate) fn all_xmins(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for t in ["achievements", "bosses", "classes", "elements", "enemies", "hazards", "items", "races", "themes", "traps"] {
            out.insert(t.to_owned(), self.xmins(t));
        }
        for (t, key) in
            [("deploys", "id"), ("collections", "name"), ("packs", "hash"), ("manifests", "manifest_id"), ("flush_outbox", "deploy_id")]
        {
            let sql = format!("SELECT {key}::text, xmin::text FROM seedc.{t}");
            out.insert(format!("seedc.{t}"), self.client().query(&sql, &[]).unwrap().iter().map(|r| (r.get(0), r.get(1))).collect());
        }
        out
    }

    pub(crate) fn record(&self, table: &str, id: &str) -> Value {
        self.client().query_one(&format!("SELECT data FROM {table} WHERE id = $1"), &[&id]).unwrap().get(0)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

pub(crate) fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let slash = base.rfind('/').expect("a database url with a path");
    let mut out = format!("{}/{name}", &base[..slash]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A content root, its database, and the Redis it flushes, with a key prefix of its own.
pub(crate) struct Env {
    pub(crate) root: Root,
    pub(crate) db: Db,
    pub(crate) redis: String,
    pub(crate) prefix: String,
}

impl Env {
    /// None (the test is skipped) only outside `scripts/test`; see `support::services`.
    pub(crate) fn new(test: &str) -> Option<Env> {
        let (_, redis) = services()?;
        Env::with_redis(test, redis)
    }

    pub(crate) fn with_redis(test: &str, redis: String) -> Option<Env> {
        let (server, _) = services()?;
        let root = Root::sample();
        let prefix = format!("t_{test}_{}", std::process::id());
        root.edit("seedc.toml", "version_key = \"game:version\"", &format!("version_key = \"{prefix}:version\"\nprefix = \"{prefix}\""));
        Some(Env { root, db: Db::new(test, &server), redis, prefix })
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = super::seedc_cmd();
        cmd.arg("--root").arg(self.root.path()).args(args).env("DATABASE_URL", &self.db.url).env("REDIS_URL", &self.redis);
        cmd
    }

    pub(crate) fn seedc(&self, args: &[&str]) -> Run {
        Run::of(self.command(args).output().expect("run seedc"), self.root.path())
    }

    /// `deploy --format json`, expecting `code`; returns the `deploy` object.
    pub(crate) fn deploy(&self, extra: &[&str], code: i32) -> Value {
        let mut args = vec!["deploy", "--format", "json"];
        args.extend_from_slice(extra);
        let run = self.seedc(&args);
        assert_eq!(run.code, code, "{}", run.snapshot());
        let line = run.json_lines().into_iter().find(|l| l.get("deploy").is_some());
        line.unwrap_or_else(|| panic!("no deploy report: {}", run.snapshot()))["deploy"].clone()
    }

    pub(crate) fn redis(&self) -> redis::Connection {
        let con = redis::Client::open(self.redis.as_str()).unwrap().get_connection_with_timeout(Duration::from_secs(5)).expect("redis");
        con.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        con
    }

    pub(crate) fn set_keys(&self, keys: &[&str]) {
        let mut con = self.redis();
        for k in keys {
            redis::cmd("SET").arg(format!("{}:{k}", self.prefix)).arg("cached").exec(&mut con).unwrap();
        }
    }

    pub(crate) fn key_exists(&self, key: &str) -> bool {
        let n: i64 = redis::cmd("EXISTS").arg(format!("{}:{key}", self.prefix)).query(&mut self.redis()).unwrap();
        n == 1
    }

    pub(crate) fn version_key(&self) -> Option<String> {
        redis::cmd("GET").arg(format!("{}:version", self.prefix)).query(&mut self.redis()).unwrap()
    }

    /// Edits a collection's records and bumps its patch version, as a designer would.
    pub(crate) fn edit_records(&self, collection: &str, edit: impl FnOnce(&mut Vec<Value>)) {
        edit_records(&self.root, collection, edit);
    }

    pub(crate) fn pending_flushes(&self) -> i64 {
        self.db.one("SELECT count(*) FROM seedc.flush_outbox WHERE done_at IS NULL")
    }
}

pub(crate) fn edit_records(root: &Root, collection: &str, edit: impl FnOnce(&mut Vec<Value>)) {
    let rel = format!("data/seeds/{collection}.json");
    let mut file: Value = serde_json::from_str(&root.read(&rel)).unwrap();
    let version = semver::Version::parse(file["version"].as_str().unwrap()).unwrap();
    file["version"] = Value::String(semver::Version::new(version.major, version.minor, version.patch + 1).to_string());
    let Value::Array(data) = &mut file["data"] else { panic!("no data array in {rel}") };
    edit(data);
    root.write(&rel, serde_json::to_string_pretty(&file).unwrap());
}

pub(crate) fn set_field(records: &mut [Value], id: &str, field: &str, value: Value) {
    let record = records.iter_mut().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no record {id}"));
    record[field] = value;
}

pub(crate) fn collection<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["plan"]["collections"].as_array().unwrap().iter().find(|c| c["collection"] == name).unwrap()
}

/// A redis-server of the test's own, so stopping or freezing it disturbs no other test.
pub(crate) struct PrivateRedis {
    child: Child,
    pub(crate) port: u16,
    _dir: tempfile::TempDir,
}

impl PrivateRedis {
    pub(crate) fn start() -> PrivateRedis {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        PrivateRedis::on(port)
    }

    pub(crate) fn on(port: u16) -> PrivateRedis {
        let dir = tempfile::tempdir().unwrap();
        let server = ["redis-server", "/usr/bin/redis-server"]
            .into_iter()
            .find(|c| Command::new(c).arg("--version").output().is_ok())
            .expect("redis-server");
        let child = Command::new(server)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let redis = PrivateRedis { child, port, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ok = redis::Client::open(redis.url().as_str())
                .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                .is_ok();
            if ok {
                return redis;
            }
            assert!(Instant::now() < deadline, "private redis-server did not start on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub(crate) fn signal(&self, sig: &str) {
        let ok = Command::new("kill").args([sig, &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok, "kill {sig}");
    }

    pub(crate) fn stop(mut self) -> u16 {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.port
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        let _ = Command::new("kill").args(["-CONT", &self.child.id().to_string()]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 3-primary cluster of the test's own (with RDB saves on shutdown, so a primary that is
/// stopped and started again comes back with its keys).
pub(crate) struct PrivateCluster {
    pub(crate) nodes: Vec<(u16, Option<Child>)>,
    pub(crate) dir: tempfile::TempDir,
}

fn free_node_port() -> u16 {
    loop {
        let p = 20_000 + rand_u16() % 10_000;
        if TcpListener::bind(("127.0.0.1", p)).is_ok() && TcpListener::bind(("127.0.0.1", p + 10_000)).is_ok() {
            return p;
        }
    }
}

fn rand_u16() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    h.finish() as u16
}

impl PrivateCluster {
    pub(crate) fn start() -> PrivateCluster {
        let dir = tempfile::tempdir().unwrap();
        let mut cluster = PrivateCluster { nodes: Vec::new(), dir };
        for _ in 0..3 {
            let port = free_node_port();
            cluster.nodes.push((port, None));
            cluster.launch(cluster.nodes.len() - 1);
        }
        let addrs: Vec<String> = cluster.nodes.iter().map(|(p, _)| format!("127.0.0.1:{p}")).collect();
        let out = Command::new("redis-cli").args(["--cluster", "create"]).args(&addrs).args(["--cluster-yes"]).output().unwrap();
        assert!(out.status.success(), "redis-cli --cluster create: {}", String::from_utf8_lossy(&out.stdout));
        cluster.wait_ok();
        cluster
    }

    pub(crate) fn launch(&mut self, i: usize) {
        let port = self.nodes[i].0;
        let dir = self.dir.path().join(format!("n{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.nodes[i].1 = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis::Client::open(self.url_of(i).as_str()).and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200))).is_err()
        {
            assert!(Instant::now() < deadline, "cluster node {port} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn url_of(&self, i: usize) -> String {
        format!("redis://127.0.0.1:{}/", self.nodes[i].0)
    }

    pub(crate) fn url(&self) -> String {
        self.url_of(0)
    }

    pub(crate) fn con(&self, i: usize) -> redis::Connection {
        Tls::default().connect(&self.url_of(i))
    }

    pub(crate) fn wait_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        for i in 0..self.nodes.len() {
            loop {
                let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut self.con(i)).unwrap_or_default();
                if info.contains("cluster_state:ok") {
                    break;
                }
                assert!(Instant::now() < deadline, "the private cluster did not become ok");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// SHUTDOWN SAVE: its keys come back when it starts again.
    pub(crate) fn stop(&mut self, i: usize) {
        let _ = redis::cmd("SHUTDOWN").arg("SAVE").exec(&mut self.con(i));
        if let Some(mut child) = self.nodes[i].1.take() {
            child.wait().unwrap();
        }
    }

    pub(crate) fn id(&self, i: usize) -> String {
        redis::cmd("CLUSTER").arg("MYID").query(&mut self.con(i)).unwrap()
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        for (_, child) in &mut self.nodes {
            if let Some(child) = child {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// TLS files for the test servers' CA and client certificate.
#[derive(Clone, Default)]
pub(crate) struct Tls {
    pub(crate) ca: Option<PathBuf>,
    pub(crate) cert: Option<(PathBuf, PathBuf)>,
}

impl Tls {
    pub(crate) fn of_services(client_cert: bool) -> Option<Tls> {
        let ca = service_var("SEEDC_REDIS_TLS_CA")?.into();
        let cert = client_cert.then(|| Some((service_var("SEEDC_REDIS_TLS_CERT")?.into(), service_var("SEEDC_REDIS_TLS_KEY")?.into())));
        Some(Tls { ca: Some(ca), cert: cert.flatten() })
    }

    pub(crate) fn certificates(&self) -> redis::TlsCertificates {
        redis::TlsCertificates {
            client_tls: self
                .cert
                .as_ref()
                .map(|(c, k)| redis::ClientTlsConfig { client_cert: std::fs::read(c).unwrap(), client_key: std::fs::read(k).unwrap() }),
            root_cert: self.ca.as_ref().map(|ca| std::fs::read(ca).unwrap()),
        }
    }

    pub(crate) fn apply(&self, cmd: &mut Command) {
        if let Some(ca) = &self.ca {
            cmd.env("REDIS_CA", ca);
        }
        if let Some((cert, key)) = &self.cert {
            cmd.env("REDIS_CLIENT_CERT", cert).env("REDIS_CLIENT_KEY", key);
        }
    }

    pub(crate) fn connect(&self, url: &str) -> redis::Connection {
        let client = if url.starts_with("rediss://") {
            redis::Client::build_with_tls(url, self.certificates()).unwrap()
        } else {
            redis::Client::open(url).unwrap()
        };
        let con = client.get_connection_with_timeout(Duration::from_secs(5)).expect("connect to a cache node");
        con.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        con
    }
}
