//! The cache flush against real servers: a standalone Redis down or hung before the deploy
//! begins (exit 3, nothing committed) or after it commits (exit 5, then `seedc flush`), the
//! 3-primary Redis Cluster and the TLS servers of `scripts/services`, and private clusters
//! of the test's own for a primary stopped mid-flush and a reshard mid-flush.
//!
//! "Mid-flush" is made deterministic with the flush lock: the test holds seedc's flush
//! advisory lock, so a deploy commits and then waits for it with its cache connections
//! open; the test breaks the cache (or moves slots) and lets go.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::services::{Env, PrivateCluster, PrivateRedis, Tls, service_var, set_field};
use crate::support::{self, Run};

fn run_cmd(mut cmd: Command, env: &Env) -> Run {
    Run::of(cmd.output().expect("run seedc"), env.root.path())
}

/// Holds seedc's flush lock; a deploy started meanwhile commits, then waits for it.
struct FlushLock {
    client: postgres::Client,
}

impl FlushLock {
    fn take(env: &Env) -> FlushLock {
        let mut client = env.db.client();
        client.execute("SELECT pg_advisory_lock($1)", &[&seedc::db::AdvisoryLock::Flush.key("seedc")]).unwrap();
        FlushLock { client }
    }

    /// Until another session of this database waits for an advisory lock.
    fn wait_for_waiter(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let waiting: i64 = self
                .client
                .query_one(
                    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
                     WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()",
                    &[],
                )
                .unwrap()
                .get(0);
            if waiting > 0 {
                return;
            }
            assert!(Instant::now() < deadline, "no deploy came to wait for the flush lock");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn release(mut self) {
        self.client.execute("SELECT pg_advisory_unlock($1)", &[&seedc::db::AdvisoryLock::Flush.key("seedc")]).unwrap();
    }
}

fn spawn(mut cmd: Command) -> Child {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn seedc")
}

fn finish(child: Child, env: &Env) -> Run {
    Run::of(child.wait_with_output().unwrap(), env.root.path())
}

#[test]
fn an_unreachable_or_malformed_cache_fails_before_anything_is_committed() {
    if support::services().is_none() {
        return;
    }
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let Some(env) = Env::with_redis("cacheunreach", format!("redis://127.0.0.1:{closed}/")) else { return };
    let run = env.seedc(&["deploy"]);
    assert_eq!(run.code, 3, "{}", run.snapshot());
    assert!(run.stderr.contains(&format!("connection refused (cache node 127.0.0.1:{closed})")), "{}", run.snapshot());
    assert!(run.stderr.contains("nothing was committed"), "{}", run.snapshot());
    let schema: Option<String> = env.db.one("SELECT to_regnamespace('seedc')::text");
    assert_eq!(schema, None, "the deploy wrote to the database");

    // A malformed URL is found before the database is even connected to: a listener
    // standing in for PostgreSQL sees no connection at all.
    let fake_db = TcpListener::bind("127.0.0.1:0").unwrap();
    fake_db.set_nonblocking(true).unwrap();
    let db_url = format!("postgres://postgres@{}/x?connect_timeout=2", fake_db.local_addr().unwrap());
    for url in ["redis:/127.0.0.1", "http://127.0.0.1:6379/", "redis://127.0.0.1:6379/zero"] {
        let mut cmd = env.command(&["deploy"]);
        cmd.env("DATABASE_URL", &db_url).env("REDIS_URL", url);
        let out = run_cmd(cmd, &env);
        assert_eq!(out.code, 2, "{url}: {}", out.snapshot());
        assert!(out.stderr.contains("invalid redis url"), "{}", out.snapshot());
        assert!(fake_db.accept().is_err(), "{url}: the database was connected to");
    }
}

#[test]
fn redis_down_after_commit_exits_5_and_the_next_deploy_completes_the_flush() {
    if support::services().is_none() {
        return;
    }
    let redis = PrivateRedis::start();
    let Some(env) = Env::with_redis("redisdown", redis.url()) else { return };
    env.deploy(&[], 0);
    env.edit_records("items", |r| set_field(r, "rusty_dagger", "value", 999.into()));
    let mut lock = FlushLock::take(&env);
    let deploy = spawn(env.command(&["deploy"]));
    lock.wait_for_waiter();
    let port = redis.stop();
    lock.release();
    let run = finish(deploy, &env);
    assert_eq!(run.code, 5, "{}", run.snapshot());
    assert!(run.stderr.contains(&format!("(cache node 127.0.0.1:{port})")), "{}", run.snapshot());
    assert!(run.stderr.contains("seedc flush"), "{}", run.snapshot());
    // Committed: the data is there, the flush is recorded as pending.
    assert_eq!(env.db.record("items", "rusty_dagger")["value"], 999);
    assert_eq!(env.pending_flushes(), 1);

    // Down before the deploy begins: exit 3, and nothing new is committed.
    env.edit_records("items", |r| set_field(r, "rusty_dagger", "value", 1000.into()));
    let run = env.seedc(&["deploy"]);
    assert_eq!(run.code, 3, "{}", run.snapshot());
    assert_eq!(env.db.record("items", "rusty_dagger")["value"], 999);

    let redis = PrivateRedis::on(port);
    env.set_keys(&["items", "items:x", "enemies"]);
    let report = env.deploy(&[], 0);
    // Its own flush and the one left pending.
    assert_eq!(report["flush"]["deploys"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(env.pending_flushes(), 0);
    assert_eq!(env.db.record("items", "rusty_dagger")["value"], 1000);
    assert!(!env.key_exists("items") && !env.key_exists("items:x"));
    assert!(env.key_exists("enemies"));
    drop(redis);
}

#[test]
fn a_hung_redis_fails_in_bounded_time_before_begin_and_after_commit() {
    if support::services().is_none() {
        return;
    }
    let redis = PrivateRedis::start();
    let Some(env) = Env::with_redis("redishung", redis.url()) else { return };
    env.deploy(&[], 0);
    env.set_keys(&["traps"]);
    env.edit_records("traps", |r| set_field(r, "spike_pit", "damage", 77.into()));
    let timeouts = ["--redis-connect-timeout", "2", "--redis-timeout", "1"];

    redis.signal("-STOP");
    let started = Instant::now();
    let run = env.seedc(&[&["deploy"][..], &timeouts].concat());
    assert_eq!(run.code, 3, "{}", run.snapshot());
    assert!(started.elapsed() < Duration::from_secs(8), "a hung redis held the deploy for {:?}", started.elapsed());
    assert!(run.stderr.contains("timeout: no answer within 2s ([cache] connect_timeout)"), "{}", run.snapshot());
    assert_eq!(env.pending_flushes(), 0);
    redis.signal("-CONT");

    let mut lock = FlushLock::take(&env);
    let deploy = spawn(env.command(&[&["deploy"][..], &timeouts].concat()));
    lock.wait_for_waiter();
    redis.signal("-STOP");
    let started = Instant::now();
    lock.release();
    let run = finish(deploy, &env);
    assert_eq!(run.code, 5, "{}", run.snapshot());
    assert!(started.elapsed() < Duration::from_secs(8), "a hung redis held the flush for {:?}", started.elapsed());
    assert!(run.stderr.contains("timeout: no reply within 1s ([cache] reply_timeout)"), "{}", run.snapshot());
    assert_eq!(env.pending_flushes(), 1);

    redis.signal("-CONT");
    let flush = env.seedc(&["flush", "--format", "json"]);
    assert_eq!(flush.code, 0, "{}", flush.snapshot());
    assert_eq!(flush.json_lines()[0]["flush"]["deploys"].as_array().unwrap().len(), 1);
    assert_eq!(env.pending_flushes(), 0);
    assert!(!env.key_exists("traps"));
}

// ------------------------------------------------------------------ cluster helpers

/// The primaries of the cluster at `url`, by `host:port`.
fn primaries(url: &str, tls: &Tls) -> Vec<String> {
    let slots: Vec<(i64, i64, (String, i64))> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query::<Vec<Vec<redis::Value>>>(&mut tls.connect(url))
        .unwrap()
        .into_iter()
        .map(|r| {
            let int = |v: &redis::Value| if let redis::Value::Int(n) = v { *n } else { panic!("{v:?}") };
            let redis::Value::Array(node) = &r[2] else { panic!("{r:?}") };
            let redis::Value::BulkString(host) = &node[0] else { panic!("{node:?}") };
            (int(&r[0]), int(&r[1]), (String::from_utf8_lossy(host).into_owned(), int(&node[1])))
        })
        .collect();
    let mut out: Vec<String> = slots.into_iter().map(|(_, _, (h, p))| format!("{h}:{p}")).collect();
    out.sort();
    out.dedup();
    out
}

fn node_url(url: &str, addr: &str) -> String {
    format!("{}://{addr}/", url.split("://").next().unwrap())
}

/// Keys matching `pattern` on each primary.
fn count_on_each(url: &str, tls: &Tls, pattern: &str) -> BTreeMap<String, usize> {
    primaries(url, tls)
        .into_iter()
        .map(|addr| {
            let mut con = tls.connect(&node_url(url, &addr));
            let keys: Vec<Vec<u8>> = redis::cmd("SCAN")
                .cursor_arg(0)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .clone()
                .iter::<Vec<u8>>(&mut con)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (addr, keys.len())
        })
        .collect()
}

/// SETs keys on a cluster, each where its slot lives: pipelined to one node, then the
/// MOVED ones pipelined again to the node each names.
fn set_on_cluster(url: &str, tls: &Tls, keys: impl Iterator<Item = String>) {
    let keys: Vec<String> = keys.collect();
    let mut con = tls.connect(url);
    let mut elsewhere: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    for chunk in keys.chunks(1000) {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for k in chunk {
            pipe.cmd("SET").arg(k).arg("cached");
        }
        let replies: Vec<redis::RedisResult<()>> = pipe.query(&mut con).unwrap();
        for (k, r) in chunk.iter().zip(replies) {
            if let Err(e) = r {
                let (to, _) = e.redirect_node().unwrap_or_else(|| panic!("SET {k}: {e}"));
                elsewhere.entry(to.to_owned()).or_default().push(k);
            }
        }
    }
    for (addr, keys) in elsewhere {
        let mut con = tls.connect(&node_url(url, &addr));
        let mut pipe = redis::pipe();
        for k in keys {
            pipe.cmd("SET").arg(k).arg("cached").ignore();
        }
        pipe.exec(&mut con).unwrap();
    }
}

fn get_on_cluster(url: &str, tls: &Tls, key: &str) -> Option<String> {
    match redis::cmd("GET").arg(key).query(&mut tls.connect(url)) {
        Ok(v) => v,
        Err(e) => {
            let (to, _) = e.redirect_node().unwrap_or_else(|| panic!("GET {key}: {e}"));
            redis::cmd("GET").arg(key).query(&mut tls.connect(&node_url(url, to))).unwrap()
        }
    }
}

/// Deploys to a cluster: 10,000 `items` keys across the slots (every primary holds some),
/// beside keys the deploy must not touch; after it, every `items` key is gone on every
/// node, the rest is there, and the version key is set.
fn cluster_deploy_case(test: &str, url: &str, tls: &Tls, matching: usize) {
    let Some(env) = Env::with_redis(test, url.to_owned()) else { return };
    let deploy = |extra: &[&str], code: i32| {
        let mut cmd = env.command(&[&["deploy", "--format", "json"][..], extra].concat());
        tls.apply(&mut cmd);
        let out = run_cmd(cmd, &env);
        assert_eq!(out.code, code, "{}", out.snapshot());
        out.json_lines().into_iter().find(|l| l.get("deploy").is_some()).unwrap()["deploy"].clone()
    };
    deploy(&[], 0);
    let p = &env.prefix;
    set_on_cluster(url, tls, (0..matching).map(|i| format!("{p}:items:{i}")).chain((0..500).map(|i| format!("{p}:itemsx:{i}"))));
    set_on_cluster(url, tls, (0..500).map(|i| format!("{p}:enemies:{i}")).chain([format!("{p}:items")]));
    let before = count_on_each(url, tls, &format!("{p}:items:*"));
    assert_eq!(before.len(), 3, "{before:?}");
    assert!(before.values().all(|&n| n > matching / 5), "keys not spread over the primaries: {before:?}");

    env.edit_records("items", |r| set_field(r, "rusty_dagger", "value", 321.into()));
    let report = deploy(&[], 0);
    assert_eq!(report["flush"]["keys_removed"], matching as u64 + 1, "{report}");
    assert!(count_on_each(url, tls, &format!("{p}:items:*")).values().all(|&n| n == 0));
    assert_eq!(count_on_each(url, tls, &format!("{p}:itemsx:*")).values().sum::<usize>(), 500);
    assert_eq!(count_on_each(url, tls, &format!("{p}:enemies:*")).values().sum::<usize>(), 500);
    assert_eq!(get_on_cluster(url, tls, &format!("{p}:version")).as_deref(), report["plan"]["content_version"].as_str());
    assert_eq!(env.pending_flushes(), 0);
}

#[test]
fn a_deploy_flushes_every_primary_of_a_cluster_and_nothing_else() {
    let Some(url) = service_var("SEEDC_REDIS_CLUSTER_URL") else { return };
    cluster_deploy_case("cluster", &url, &Tls::default(), 10_000);
}

#[test]
fn tls_standalone_and_cluster_flush_and_a_wrong_ca_exits_3_before_commit() {
    let (Some(url), Some(cluster)) = (service_var("SEEDC_REDIS_TLS_URL"), service_var("SEEDC_REDIS_TLS_CLUSTER_URL")) else { return };
    // The cluster accepts clients without a certificate; the standalone server requires one.
    cluster_deploy_case("tlscluster", &cluster, &Tls::of_services(false).unwrap(), 1_000);

    let tls = Tls::of_services(true).unwrap();
    let Some(env) = Env::with_redis("tls", url.clone()) else { return };
    let seedc = |args: &[&str], tls: &Tls| {
        let mut cmd = env.command(args);
        tls.apply(&mut cmd);
        run_cmd(cmd, &env)
    };
    assert_eq!(seedc(&["deploy"], &tls).code, 0);
    let key = format!("{}:items", env.prefix);
    redis::cmd("SET").arg(&key).arg("cached").exec(&mut tls.connect(&url)).unwrap();
    env.edit_records("items", |r| set_field(r, "rusty_dagger", "value", 55.into()));

    let wrong = Tls { ca: Some(std::env::var("SEEDC_PG_SSL_CERT").expect("SEEDC_PG_SSL_CERT").into()), cert: tls.cert.clone() };
    for (case, tls) in [("wrong CA", wrong), ("no client certificate", Tls { ca: tls.ca.clone(), cert: None })] {
        let run = seedc(&["deploy"], &tls);
        assert_eq!(run.code, 3, "{case}: {}", run.snapshot());
        assert!(run.stderr.contains("TLS: handshake failed") && run.stderr.contains("nothing was committed"), "{}", run.snapshot());
        assert!(run.stderr.contains(url.trim_start_matches("rediss://").trim_end_matches('/')), "{}", run.snapshot());
        assert_ne!(env.db.record("items", "rusty_dagger")["value"], 55, "{case}: committed");
    }
    let plain = {
        let mut cmd = env.command(&["deploy"]);
        cmd.env("REDIS_URL", url.replace("rediss://", "redis://"));
        run_cmd(cmd, &env)
    };
    assert_eq!(plain.code, 3, "{}", plain.snapshot());

    assert_eq!(seedc(&["deploy"], &tls).code, 0);
    let left: i64 = redis::cmd("EXISTS").arg(&key).query(&mut tls.connect(&url)).unwrap();
    assert_eq!(left, 0);
}

#[test]
fn a_primary_stopped_during_the_flush_exits_5_and_seedc_flush_completes_it() {
    if support::services().is_none() {
        return;
    }
    let mut cluster = PrivateCluster::start();
    let url = cluster.url();
    let Some(env) = Env::with_redis("clusterdown", url.clone()) else { return };
    env.deploy(&[], 0);
    let p = env.prefix.clone();
    set_on_cluster(&url, &Tls::default(), (0..2000).map(|i| format!("{p}:items:{i}")));
    env.edit_records("items", |r| set_field(r, "rusty_dagger", "value", 5.into()));

    let mut lock = FlushLock::take(&env);
    let deploy = spawn(env.command(&["deploy"]));
    lock.wait_for_waiter();
    let stopped = cluster.nodes[2].0;
    cluster.stop(2);
    lock.release();
    let run = finish(deploy, &env);
    assert_eq!(run.code, 5, "{}", run.snapshot());
    assert!(run.stderr.contains(&format!("cache node 127.0.0.1:{stopped}")), "{}", run.snapshot());
    assert_eq!(env.pending_flushes(), 1);

    cluster.launch(2);
    cluster.wait_ok();
    let left = count_on_each(&url, &Tls::default(), &format!("{p}:items:*"));
    assert!(left[&format!("127.0.0.1:{stopped}")] > 0, "the stopped primary lost its keys: {left:?}");
    let flush = env.seedc(&["flush", "--format", "json"]);
    assert_eq!(flush.code, 0, "{}", flush.snapshot());
    assert_eq!(env.pending_flushes(), 0);
    assert!(count_on_each(&url, &Tls::default(), &format!("{p}:items:*")).values().all(|&n| n == 0));
    assert!(get_on_cluster(&url, &Tls::default(), &format!("{p}:version")).is_some());
}

#[test]
fn a_reshard_while_keys_are_unlinked_still_removes_them_all() {
    if support::services().is_none() {
        return;
    }
    let cluster = PrivateCluster::start();
    let url = cluster.url();
    let Some(env) = Env::with_redis("reshard", url.clone()) else { return };
    env.deploy(&[], 0);
    let p = env.prefix.clone();
    let total = 3000;
    set_on_cluster(&url, &Tls::default(), (0..total).map(|i| format!("{p}:items:{i}")));
    env.edit_records("items", |r| set_field(r, "rusty_dagger", "value", 6.into()));

    let mut lock = FlushLock::take(&env);
    let deploy = spawn(env.command(&["deploy", "--format", "json"]));
    lock.wait_for_waiter();
    // With the deploy's connections open and its slot map read: move node 0's first 200
    // slots to node 1 outright, and leave 200 more half-migrated (some keys already on
    // node 1, the slot still owned by node 0), as a reshard in progress does.
    let (src, dst) = (cluster.id(0), cluster.id(1));
    let mut con0 = cluster.con(0);
    let ranges: Vec<Vec<redis::Value>> = redis::cmd("CLUSTER").arg("SLOTS").query(&mut con0).unwrap();
    let own: Vec<i64> = ranges
        .iter()
        .filter(|r| matches!(&r[2], redis::Value::Array(n) if matches!(&n[1], redis::Value::Int(port) if *port == i64::from(cluster.nodes[0].0))))
        .flat_map(|r| match (&r[0], &r[1]) {
            (redis::Value::Int(a), redis::Value::Int(b)) => *a..=*b,
            _ => panic!("{r:?}"),
        })
        .collect();
    let mut moved = 0;
    for (n, &slot) in own.iter().take(400).enumerate() {
        redis::cmd("CLUSTER").arg("SETSLOT").arg(slot).arg("IMPORTING").arg(&src).exec(&mut cluster.con(1)).unwrap();
        redis::cmd("CLUSTER").arg("SETSLOT").arg(slot).arg("MIGRATING").arg(&dst).exec(&mut con0).unwrap();
        let keys: Vec<String> = redis::cmd("CLUSTER").arg("GETKEYSINSLOT").arg(slot).arg(100).query(&mut con0).unwrap();
        let half = if n < 200 { keys.len() } else { keys.len() / 2 };
        if half > 0 {
            let mut migrate = redis::cmd("MIGRATE");
            migrate.arg("127.0.0.1").arg(cluster.nodes[1].0).arg("").arg(0).arg(5000).arg("KEYS").arg(&keys[..half]);
            migrate.exec(&mut con0).unwrap();
            moved += half;
        }
        if n < 200 {
            for i in 0..3 {
                redis::cmd("CLUSTER").arg("SETSLOT").arg(slot).arg("NODE").arg(&dst).exec(&mut cluster.con(i)).unwrap();
            }
        }
    }
    assert!(moved > 0, "no key moved");
    lock.release();
    let run = finish(deploy, &env);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    let report = &run.json_lines().into_iter().find(|l| l.get("deploy").is_some()).unwrap()["deploy"];
    assert_eq!(report["flush"]["keys_removed"], total, "{report}");
    assert!(count_on_each(&url, &Tls::default(), &format!("{p}:items:*")).values().all(|&n| n == 0));
}

#[test]
fn a_least_privilege_acl_user_flushes_and_a_refused_login_exits_3_naming_auth() {
    if support::services().is_none() {
        return;
    }
    let redis = PrivateRedis::start();
    let Some(admin) = Env::with_redis("acl", redis.url()) else { return };
    redis::cmd("ACL")
        .arg(&["SETUSER", "flusher", "on", ">pw", "~*", "-@all", "+scan", "+unlink", "+set"])
        .exec(&mut admin.redis())
        .unwrap();
    let url = |password: &str| format!("redis://flusher:{password}@127.0.0.1:{}/", redis.port);
    let env = Env { redis: url("pw"), ..admin };
    env.deploy(&[], 0);
    env.set_keys(&["items", "items:1"]);
    env.edit_records("items", |r| set_field(r, "rusty_dagger", "value", 77.into()));

    let mut cmd = env.command(&["deploy"]);
    cmd.env("REDIS_URL", url("s3cr3tX"));
    let refused = run_cmd(cmd, &env);
    assert_eq!(refused.code, 3, "{}", refused.snapshot());
    assert!(refused.stderr.contains("auth: the server refused the credentials"), "{}", refused.snapshot());
    assert!(!refused.stderr.contains("s3cr3tX"), "the password is in the message: {}", refused.snapshot());

    let report = env.deploy(&[], 0);
    assert_eq!(report["flush"]["keys_removed"], 2, "{report}");
    // The user may not even run EXISTS: ask as the default user.
    let mut plain = Tls::default().connect(&redis.url());
    let left: i64 =
        redis::cmd("EXISTS").arg(format!("{}:items", env.prefix)).arg(format!("{}:items:1", env.prefix)).query(&mut plain).unwrap();
    assert_eq!(left, 0);
}

#[test]
fn a_collection_whose_cache_keys_are_all_patterns_flushes() {
    let Some(env) = Env::new("patternonly") else { return };
    let p = env.prefix.clone();
    env.root.edit("seedc.toml", "[collections.items]\n", &format!("[collections.items]\ncache_keys = [\"{p}:items:*\", \"{p}:loot:*\"]\n"));
    env.deploy(&[], 0);
    env.set_keys(&["items:1", "loot:2", "items"]);
    env.edit_records("items", |r| set_field(r, "rusty_dagger", "value", 8.into()));
    let report = env.deploy(&[], 0);
    assert_eq!(report["flush"]["keys_removed"], 2, "{report}");
    assert!(!env.key_exists("items:1") && !env.key_exists("loot:2"));
    assert!(env.key_exists("items"), "an exact key that is not listed was removed");
}
