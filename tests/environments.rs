//! Named environments (`[environments.<name>]`, `--env`, `SEEDC_ENV`): deploy, status and
//! flush against the real PostgreSQL and Redis with the URLs read from variables and from
//! files, while DATABASE_URL and REDIS_URL point at decoys that must never be connected
//! to; two environments deployed from one content root; publish and deploy to an
//! environment's `file://` target. Every refusal (an unknown environment, a missing
//! variable or file, a secret written in seedc.toml, a flag that contradicts the
//! environment) is exit 2 with its message and no connection made.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::services::{Db, Env, collection, services};
use crate::support::{Root, Run, seedc_cmd};

/// A PostgreSQL and a Redis that must never be used: listeners that hold any connection
/// made to them, so a test can tell that none was.
struct Decoys {
    db: TcpListener,
    redis: TcpListener,
}

impl Decoys {
    fn new() -> Decoys {
        let listen = || {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.set_nonblocking(true).unwrap();
            l
        };
        Decoys { db: listen(), redis: listen() }
    }

    fn database_url(&self) -> String {
        format!("postgres://postgres@{}/decoy?connect_timeout=2", self.db.local_addr().unwrap())
    }

    fn redis_url(&self) -> String {
        format!("redis://{}/", self.redis.local_addr().unwrap())
    }

    /// Neither decoy was connected to.
    fn assert_untouched(&self, run: &Run) {
        assert!(self.db.accept().is_err(), "the decoy DATABASE_URL was connected to: {}", run.snapshot());
        assert!(self.redis.accept().is_err(), "the decoy REDIS_URL was connected to: {}", run.snapshot());
    }
}

/// seedc in `root` with the decoys as DATABASE_URL and REDIS_URL, and `vars` set.
fn run(root: &Path, decoys: &Decoys, vars: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd: Command = seedc_cmd();
    cmd.arg("--root").arg(root).args(args).env("DATABASE_URL", decoys.database_url()).env("REDIS_URL", decoys.redis_url());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = run_of(cmd, root);
    decoys.assert_untouched(&out);
    out
}

fn run_of(mut cmd: Command, root: &Path) -> Run {
    Run::of(cmd.output().expect("run seedc"), root)
}

fn append(root: &Root, toml: &str) {
    root.write("seedc.toml", root.read("seedc.toml") + toml);
}

fn deploy_report(run: &Run) -> Value {
    assert_eq!(run.code, 0, "{}", run.snapshot());
    run.json_lines().into_iter().find_map(|l| l.get("deploy").cloned()).unwrap_or_else(|| panic!("no deploy report: {}", run.snapshot()))
}

#[test]
fn deploy_status_and_flush_use_the_environments_variables_not_the_ambient_ones() {
    let Some(env) = Env::new("envvars") else { return };
    let cdn = tempfile::tempdir().unwrap();
    let cdn_url = format!("file://{}/staging", cdn.path().display());
    append(
        &env.root,
        &format!(
            "\n[environments.staging]\ndatabase_url = {{ env = \"STAGING_DATABASE_URL\" }}\nredis_url = {{ env = \"STAGING_REDIS_URL\" }}\npublish_url = \"{cdn_url}\"\n"
        ),
    );
    let decoys = Decoys::new();
    let vars = [("STAGING_DATABASE_URL", env.db.url.as_str()), ("STAGING_REDIS_URL", env.redis.as_str())];
    let root = env.root.path();

    let first = deploy_report(&run(root, &decoys, &vars, &["deploy", "--env", "staging", "--format", "json", "--date", "2026-01-25"]));
    assert!(first["deploy_id"].is_i64(), "{first}");
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM enemies"), 28);
    // The environment's publish_url, published before the commit.
    assert!(cdn.path().join("staging/index.json").is_file(), "{first}");
    assert!(cdn.path().join("staging/manifests/manifest_2026-01-25_daily.json").is_file());

    // The environment's Redis is the one flushed.
    env.set_keys(&["items", "items:rusty_dagger"]);
    env.edit_records("items", |r| crate::support::services::set_field(r, "rusty_dagger", "value", 999.into()));
    let second = deploy_report(&run(root, &decoys, &vars, &["--env", "staging", "deploy", "--format", "json", "--date", "2026-01-25"]));
    assert_eq!(collection(&second, "items")["updated"], 1, "{second}");
    assert!(!env.key_exists("items") && !env.key_exists("items:rusty_dagger"), "the environment's cache was not flushed");
    assert_eq!(env.version_key().as_deref(), second["plan"]["content_version"].as_str());

    let status = run(root, &decoys, &vars, &["status", "--env", "staging"]);
    assert_eq!(status.code, 0, "{}", status.snapshot());
    let flush = run(root, &decoys, &vars, &["flush", "--env", "staging", "--format", "json"]);
    assert_eq!(flush.code, 0, "{}", flush.snapshot());

    // Without --env, DATABASE_URL is what counts, as always: a closed port, so exit 3.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = seedc_cmd();
    cmd.arg("--root").arg(root).args(["status"]).env("DATABASE_URL", format!("postgres://postgres@127.0.0.1:{closed}/x"));
    let ambient = run_of(cmd, root);
    assert_eq!(ambient.code, 3, "{}", ambient.snapshot());
}

#[test]
fn files_chosen_by_seedc_env_and_the_environments_deploy_options() {
    let Some(env) = Env::new("envfiles") else { return };
    // A relative path (from the content root) for the database, an absolute one for Redis,
    // each with the trailing newline an editor or `echo` leaves.
    env.root.write("secrets/staging-db", format!("{}\n", env.db.url));
    let elsewhere = tempfile::tempdir().unwrap();
    let redis_file = elsewhere.path().join("redis-url");
    std::fs::write(&redis_file, format!("{}\r\n", env.redis)).unwrap();
    append(
        &env.root,
        &format!(
            "\n[environments.staging]\ndatabase_url = {{ file = \"secrets/staging-db\" }}\nredis_url = {{ file = \"{}\" }}\nprune = false\nlock_timeout = 1\n",
            redis_file.display()
        ),
    );
    let decoys = Decoys::new();
    let vars = [("SEEDC_ENV", "staging")];
    let root = env.root.path();

    let first = deploy_report(&run(root, &decoys, &vars, &["deploy", "--format", "json"]));
    assert!(first["deploy_id"].is_i64(), "{first}");
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM enemies"), 28);

    // prune = false: a record that left the seed file keeps its row, as with --no-prune.
    env.edit_records("achievements", |r| r.retain(|a| a["id"] != "rat_catcher"));
    let kept = deploy_report(&run(root, &decoys, &vars, &["deploy", "--format", "json"]));
    let achievements = collection(&kept, "achievements");
    assert_eq!((achievements["deleted"].as_u64(), achievements["kept"].as_u64()), (Some(0), Some(1)), "{kept}");
    assert_eq!(env.db.one::<i64>("SELECT count(*) FROM achievements WHERE id = 'rat_catcher'"), 1);

    let status = run(root, &decoys, &vars, &["status"]);
    assert_eq!(status.code, 0, "{}", status.snapshot());
    let flush = run(root, &decoys, &vars, &["flush"]);
    assert_eq!(flush.code, 0, "{}", flush.snapshot());

    // lock_timeout = 1: a held deploy lock is given up on after a second; the flag overrides it.
    let mut holder = env.db.client();
    let mut tx = holder.transaction().unwrap();
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&seedc::db::AdvisoryLock::Deploy.key("seedc")]).unwrap();
    env.edit_records("items", |r| crate::support::services::set_field(r, "rusty_dagger", "value", 998.into()));
    let busy = run(root, &decoys, &vars, &["deploy"]);
    assert_eq!(busy.code, 3, "{}", busy.snapshot());
    assert!(busy.stderr.contains("gave up after 1s"), "{}", busy.snapshot());
    let busy = run(root, &decoys, &vars, &["deploy", "--lock-timeout", "2"]);
    assert_eq!(busy.code, 3, "{}", busy.snapshot());
    assert!(busy.stderr.contains("gave up after 2s"), "{}", busy.snapshot());
    tx.rollback().unwrap();
}

#[test]
fn one_content_root_deploys_to_two_environments() {
    let Some(env) = Env::new("envtwo") else { return };
    let Some((server, _)) = services() else { return };
    let production = Db::new("envtwo_prod", &server);
    append(
        &env.root,
        "\n[environments.staging]\ndatabase_url = { env = \"STAGING_DATABASE_URL\" }\nredis_url = { env = \"CACHE_URL\" }\n\
         \n[environments.production]\ndatabase_url = { env = \"PRODUCTION_DATABASE_URL\" }\nredis_url = { env = \"CACHE_URL\" }\n",
    );
    let decoys = Decoys::new();
    let vars =
        [("STAGING_DATABASE_URL", env.db.url.as_str()), ("PRODUCTION_DATABASE_URL", production.url.as_str()), ("CACHE_URL", &env.redis)];
    let root = env.root.path();

    deploy_report(&run(root, &decoys, &vars, &["deploy", "--env", "staging", "--format", "json"]));
    assert_eq!(production.one::<Option<String>>("SELECT to_regnamespace('seedc')::text"), None, "staging's deploy reached production");
    // The deploy to staging left its memo and build cache; production still gets every row.
    let prod = deploy_report(&run(root, &decoys, &vars, &["deploy", "--env", "production", "--format", "json"]));
    assert!(prod["deploy_id"].is_i64(), "{prod}");
    assert_eq!(production.one::<i64>("SELECT count(*) FROM enemies"), 28);
    for name in ["staging", "production"] {
        let status = run(root, &decoys, &vars, &["status", "--env", name]);
        assert_eq!(status.code, 0, "{name}: {}", status.snapshot());
    }
    // A change goes to staging only, and production's status says it differs.
    env.edit_records("items", |r| crate::support::services::set_field(r, "rusty_dagger", "value", 997.into()));
    deploy_report(&run(root, &decoys, &vars, &["deploy", "--env", "staging", "--format", "json"]));
    assert_eq!(env.db.record("items", "rusty_dagger")["value"], 997);
    assert_ne!(production.record("items", "rusty_dagger")["value"], 997);
    let behind = run(root, &decoys, &vars, &["status", "--env", "production"]);
    assert_eq!(behind.code, 1, "{}", behind.snapshot());
}

/// The sample with environments that name variables, files, and nothing.
fn configured() -> Root {
    let root = Root::sample();
    append(
        &root,
        "\n[environments.staging]\ndatabase_url = { env = \"STAGING_DATABASE_URL\" }\nredis_url = { env = \"STAGING_REDIS_URL\" }\npublish_url = \"file:///nonexistent/staging\"\n\
         \n[environments.production]\ndatabase_url = { file = \"secrets/production-db\" }\n\
         \n[environments.bare]\n",
    );
    root
}

/// A refusal: the arguments, the variables set, what the message says.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn every_refusal_is_exit_2_before_any_connection() {
    let root = configured();
    let decoys = Decoys::new();
    let (db, redis) = (decoys.database_url(), decoys.redis_url());
    let both = [("STAGING_DATABASE_URL", db.as_str()), ("STAGING_REDIS_URL", redis.as_str())];
    let cases: &[Case] = &[
        (&["deploy", "--env", "prod"], &[], "unknown environment \"prod\": seedc.toml defines bare, production, staging"),
        (&["status"], &[("SEEDC_ENV", "prod")], "unknown environment \"prod\": seedc.toml defines bare, production, staging (SEEDC_ENV)"),
        (&["flush", "--env", "prod"], &[], "unknown environment \"prod\""),
        (&["publish", "--env", "prod"], &[], "unknown environment \"prod\""),
        (
            &["deploy", "--env", "staging"],
            &[],
            "environment \"staging\": database_url names the environment variable STAGING_DATABASE_URL, which is not set",
        ),
        (
            &["deploy", "--env", "staging"],
            &[("STAGING_DATABASE_URL", db.as_str())],
            "environment \"staging\": redis_url names the environment variable STAGING_REDIS_URL, which is not set",
        ),
        (
            &["flush", "--env", "staging"],
            &[("STAGING_DATABASE_URL", db.as_str()), ("STAGING_REDIS_URL", "")],
            "STAGING_REDIS_URL, which is empty",
        ),
        (&["status", "--env", "production"], &[], "environment \"production\": database_url names the file "),
        (&["status", "--env", "production"], &[], "secrets/production-db, which cannot be read"),
        (
            &["deploy", "--env", "staging", "--database-url", db.as_str()],
            &both,
            "--database-url conflicts with environment \"staging\", which names its own database_url: give one or the other",
        ),
        (&["status", "--env", "staging", "--database-url", db.as_str()], &both, "--database-url conflicts with environment \"staging\""),
        (
            &["deploy", "--database-url", db.as_str()],
            &[("SEEDC_ENV", "staging")],
            "--database-url conflicts with environment \"staging\" (SEEDC_ENV), which names its own database_url",
        ),
        (&["status"], &[("SEEDC_ENV", "staging")], "environment \"staging\" (SEEDC_ENV): database_url names the environment variable"),
        (&["flush", "--env", "staging", "--redis-url", redis.as_str()], &both, "--redis-url conflicts with environment \"staging\""),
        (&["deploy", "--dry-run", "--env", "staging", "--redis-url", redis.as_str()], &both, "--redis-url conflicts"),
        (&["publish", "--env", "staging", "file:///tmp/elsewhere"], &[], "the URL argument conflicts with environment \"staging\""),
        (&["deploy", "--env", "bare"], &[], "deploy needs a database: environment \"bare\" has no database_url"),
        (&["deploy", "--env", "bare", "--database-url", db.as_str()], &[], "deploy needs Redis: environment \"bare\" has no redis_url"),
        (&["flush", "--env", "bare", "--database-url", db.as_str()], &[], "flush needs Redis: environment \"bare\" has no redis_url"),
        (&["publish", "--env", "bare"], &[], "publish needs a URL: environment \"bare\" has no publish_url"),
        (&["check", "--env", "staging"], &[], "--env is for deploy, status, flush and publish"),
        (&["--env", "staging", "build"], &[], "--env is for deploy, status, flush and publish"),
    ];
    for (args, vars, says) in cases {
        let out = run(root.path(), &decoys, vars, args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.snapshot());
        assert!(out.stderr.contains(says), "{args:?}: expected {says:?} in\n{}", out.snapshot());
    }
    // The same under --format json: the message in the error object.
    let out = run(root.path(), &decoys, &[], &["deploy", "--env", "prod", "--format", "json"]);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    let error = &out.json_lines()[0]["error"];
    assert_eq!(
        (error["exit"].as_u64(), error["message"].as_str()),
        (Some(2), Some("unknown environment \"prod\": seedc.toml defines bare, production, staging"))
    );

    // SEEDC_ENV set for a whole job does not trouble a command that has no use for it.
    let check = run(root.path(), &decoys, &[("SEEDC_ENV", "staging")], &["check", "-q"]);
    assert_eq!(check.code, 0, "{}", check.snapshot());
    // An empty SEEDC_ENV chooses none: the flags and their variables count, as without one.
    let mut cmd = seedc_cmd();
    cmd.arg("--root").arg(root.path()).arg("status").env("SEEDC_ENV", "").env_remove("DATABASE_URL");
    let none = run_of(cmd, root.path());
    assert_eq!(none.code, 2, "{}", none.snapshot());
    assert!(none.stderr.contains("status needs a database: set --database-url or DATABASE_URL"), "{}", none.snapshot());
}

#[test]
fn a_secret_written_in_seedc_toml_is_refused_and_never_shown() {
    let root = Root::sample();
    append(&root, "\n[environments.staging]\ndatabase_url = \"postgres://deploy:hunter2@db.internal/game\"\n");
    let decoys = Decoys::new();
    for args in [&["deploy", "--env", "staging"][..], &["status"], &["check"], &["deploy", "--format", "json"]] {
        let out = run(root.path(), &decoys, &[], args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.snapshot());
        assert!(
            out.stderr.contains(
                "environments.staging.database_url must name where the URL is, not hold it: { env = \"VARIABLE\" } or { file = \"path\" }"
            ),
            "{args:?}: {}",
            out.snapshot()
        );
        assert!(!out.stderr.contains("hunter2") && !out.stdout.contains("hunter2"), "the secret is shown: {}", out.snapshot());
    }
}

#[test]
fn publish_goes_to_the_environments_target_and_only_there() {
    let root = Root::sample();
    let cdn = tempfile::tempdir().unwrap();
    let (shared, staging) = (cdn.path().join("shared"), cdn.path().join("staging"));
    append(
        &root,
        &format!(
            "\n[publish]\nurl = \"file://{}\"\n\n[environments.staging]\npublish_url = \"file://{}\"\n\n[environments.bare]\n",
            shared.display(),
            staging.display()
        ),
    );
    let built = root.seedc(&["build", "--date", "2026-01-25"]);
    assert_eq!(built.code, 0, "{}", built.snapshot());
    let decoys = Decoys::new();

    let out = run(root.path(), &decoys, &[], &["publish", "--env", "staging", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.snapshot());
    assert!(staging.join("index.json").is_file() && staging.join("manifests/manifest_2026-01-25_daily.json").is_file());
    assert!(!shared.exists(), "[publish] url is not used with an environment");
    let verify = root.seedc(&["verify", &format!("file://{}", staging.display())]);
    assert_eq!(verify.code, 0, "{}", verify.snapshot());

    // An environment without publish_url does not fall back to [publish] url.
    let bare = run(root.path(), &decoys, &[], &["publish", "--env", "bare"]);
    assert_eq!(bare.code, 2, "{}", bare.snapshot());
    assert!(!shared.exists());
    // Without an environment, [publish] url as always.
    let plain = run(root.path(), &decoys, &[], &["publish"]);
    assert_eq!(plain.code, 0, "{}", plain.snapshot());
    assert!(shared.join("index.json").is_file());
}
