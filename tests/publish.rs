//! `seedc publish URL` and `seedc verify URL`, each case on the S3-protocol server of
//! `scripts/services` (moto, `SEEDC_S3_ENDPOINT`) and on a `file://` directory: first
//! publish, no-op republish, a changed published manifest refused before any write, a
//! corrupted and a missing remote bundle found by `verify URL` and repaired by the next
//! publish, kill -9 mid-publish, a server that hangs, and credentials kept out of errors.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::{Root, Run};

const DATE: &str = "2026-01-25";
const DAILY: &str = "manifests/manifest_2026-01-25_daily.json";

const MOTO_AUTH: &str =
    "Authorization: AWS4-HMAC-SHA256 Credential=seedc-test-key/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";

/// A place to publish to, with the means to read and damage it behind seedc's back.
enum Remote {
    S3 { endpoint: String, bucket: String, prefix: String },
    File { dir: tempfile::TempDir },
}

impl Remote {
    /// A fresh prefix of the test bucket, or None (skipped) without the S3 server.
    fn s3() -> Option<Remote> {
        let endpoint = crate::support::services::required_var("SEEDC_S3_ENDPOINT")?;
        let bucket = std::env::var("SEEDC_S3_BUCKET").unwrap_or_else(|_| "seedc-test".to_owned());
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let prefix = format!("t{}-{n}-{}/game", std::process::id(), Instant::now().elapsed().as_nanos());
        Some(Remote::S3 { endpoint, bucket, prefix })
    }

    fn file() -> Remote {
        Remote::File { dir: tempfile::tempdir().unwrap() }
    }

    /// Both backends (S3 only when its server runs).
    fn all() -> Vec<Remote> {
        Remote::s3().into_iter().chain([Remote::file()]).collect()
    }

    fn url(&self) -> String {
        match self {
            Remote::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}"),
            Remote::File { dir } => format!("file://{}/cdn", dir.path().display()),
        }
    }

    fn dir(&self) -> Option<PathBuf> {
        match self {
            Remote::File { dir } => Some(dir.path().join("cdn")),
            Remote::S3 { .. } => None,
        }
    }

    /// `[publish]` settings the root needs for this remote: the endpoint, short timeouts.
    fn config(&self) -> String {
        let endpoint = match self {
            Remote::S3 { endpoint, .. } => format!("endpoint = \"{endpoint}\"\n"),
            Remote::File { .. } => String::new(),
        };
        format!("\n[publish]\n{endpoint}timeout = 10\nretries = 2\n")
    }

    /// An object's bytes, or None.
    fn get(&self, rel: &str) -> Option<Vec<u8>> {
        match self {
            Remote::File { .. } => std::fs::read(self.dir().unwrap().join(rel)).ok(),
            Remote::S3 { .. } => {
                let (status, _, body) = self.http("GET", rel, b"");
                (status == 200).then_some(body)
            }
        }
    }

    /// Replaces an object's bytes, as a hand edit or a broken upload tool would.
    fn put(&self, rel: &str, bytes: &[u8]) {
        match self {
            Remote::File { .. } => std::fs::write(self.dir().unwrap().join(rel), bytes).unwrap(),
            Remote::S3 { .. } => assert_eq!(self.http("PUT", rel, bytes).0, 200),
        }
    }

    fn delete(&self, rel: &str) {
        match self {
            Remote::File { .. } => std::fs::remove_file(self.dir().unwrap().join(rel)).unwrap(),
            Remote::S3 { .. } => assert_eq!(self.http("DELETE", rel, b"").0, 204),
        }
    }

    /// The response headers of an object (S3 only), lowercase names.
    fn headers(&self, rel: &str) -> Vec<(String, String)> {
        self.http("HEAD", rel, b"").1
    }

    /// One plain HTTP/1.1 request to moto, which reads the access key from an
    /// Authorization header without checking the signature: test plumbing that shares
    /// nothing with seedc's client.
    fn http(&self, method: &str, rel: &str, body: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let Remote::S3 { endpoint, bucket, prefix } = self else { unreachable!() };
        let host = endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let head = format!(
            "{method} /{bucket}/{prefix}/{rel} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n{MOTO_AUTH}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP response");
        let text = String::from_utf8_lossy(&response[..split]).into_owned();
        let mut lines = text.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())).collect();
        let body = response[split + 4..].to_vec();
        (status, headers, body)
    }
}

/// The sample root, built for DATE, set up to publish to `remote`.
fn built(remote: &Remote) -> Root {
    let root = Root::sample();
    let config = root.read("seedc.toml") + &remote.config();
    root.write("seedc.toml", config);
    let run = root.seedc(&["build", "--date", DATE]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    root
}

fn publish(root: &Root, remote: &Remote) -> (Run, serde_json::Value) {
    let run = root.seedc(&["--format", "json", "publish", &remote.url()]);
    let report = run.json_lines().pop().map(|l| l["publish"].clone()).unwrap_or_default();
    (run, report)
}

fn counts(report: &serde_json::Value, what: &str) -> (u64, u64, u64) {
    let c = &report[what];
    (c["bundles"].as_u64().unwrap(), c["manifests"].as_u64().unwrap(), c["index"].as_u64().unwrap())
}

/// Bundle paths of the built root, from its index.
fn bundles(root: &Root) -> Vec<String> {
    let index: serde_json::Value = serde_json::from_str(&root.read("out/index.json")).unwrap();
    index["packs"].as_array().unwrap().iter().map(|p| p["path"].as_str().unwrap().to_owned()).collect()
}

fn codes(run: &Run) -> Vec<String> {
    run.json_lines().iter().filter_map(|l| l["code"].as_str().map(str::to_owned)).collect()
}

#[test]
fn first_publish_uploads_everything_and_a_republish_nothing() {
    for remote in Remote::all() {
        let root = built(&remote);
        let packs = bundles(&root).len() as u64;
        let (run, report) = publish(&root, &remote);
        assert_eq!(run.code, 0, "{}", run.snapshot());
        // The sample's packs, its daily and FREEPLAY manifests, and the index.
        assert_eq!(counts(&report, "uploaded"), (packs, 2, 1), "{}", run.stdout);
        assert_eq!(counts(&report, "present"), (0, 0, 0));
        // The layout mirrors out/ byte for byte.
        for rel in bundles(&root).iter().map(String::as_str).chain([DAILY, "index.json"]) {
            assert_eq!(remote.get(rel).as_deref(), Some(std::fs::read(root.file(&format!("out/{rel}"))).unwrap().as_slice()), "{rel}");
        }
        if let Remote::S3 { .. } = remote {
            let h = remote.headers(&bundles(&root)[0]);
            assert!(h.contains(&("content-type".into(), "application/json".into())), "{h:?}");
            assert!(h.contains(&("cache-control".into(), "public, max-age=31536000, immutable".into())), "{h:?}");
            assert!(remote.headers("index.json").contains(&("cache-control".into(), "public, max-age=60".into())));
        }

        let verify = root.seedc(&["--format", "json", "verify", &remote.url()]);
        assert_eq!(verify.code, 0, "{}", verify.snapshot());

        let (run, report) = publish(&root, &remote);
        assert_eq!(run.code, 0, "{}", run.snapshot());
        assert_eq!(counts(&report, "uploaded"), (0, 0, 0), "a republish of unchanged content uploads nothing");
        assert_eq!(counts(&report, "present"), (packs, 2, 1));
        assert_eq!(report["bytes"], 0);
    }
}

#[test]
fn dry_run_lists_the_uploads_and_writes_nothing() {
    for remote in Remote::all() {
        let root = built(&remote);
        let (run, report) = {
            let run = root.seedc(&["--format", "json", "publish", "--dry-run", &remote.url()]);
            let report = run.json_lines().pop().unwrap()["publish"].clone();
            (run, report)
        };
        assert_eq!(run.code, 0, "{}", run.snapshot());
        let listed: Vec<&str> = report["would_upload"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(listed.last(), Some(&"index.json"), "the index is written last");
        assert!(listed.contains(&DAILY));
        assert_eq!(remote.get("index.json"), None);
        if let Some(dir) = remote.dir() {
            assert!(!dir.exists(), "a dry run does not even create the directory");
        }
        let human = root.seedc(&["publish", "--dry-run", &remote.url()]);
        assert!(human.stdout.contains("would upload index.json"), "{}", human.snapshot());
    }
}

#[test]
fn a_changed_published_manifest_is_refused_before_anything_is_written() {
    for remote in Remote::all() {
        let root = built(&remote);
        assert_eq!(publish(&root, &remote).0.code, 0);
        // Someone published other bytes for the same daily, and a bundle went missing.
        let theirs = remote.get(DAILY).unwrap();
        let other = String::from_utf8(theirs).unwrap().replacen("\"seed\":", "\"seed\":1", 1);
        remote.put(DAILY, other.as_bytes());
        let missing = bundles(&root)[0].clone();
        remote.delete(&missing);
        let index_before = remote.get("index.json");

        let run = root.seedc(&["publish", &remote.url()]);
        assert_eq!(run.code, 4, "{}", run.snapshot());
        assert!(run.stderr.contains("refusing to change a published manifest"), "{}", run.stderr);
        assert!(run.stderr.contains(DAILY), "{}", run.stderr);
        // Decided before the first write: the missing bundle was not uploaded either.
        assert_eq!(remote.get(&missing), None);
        assert_eq!(remote.get(DAILY).as_deref(), Some(other.as_bytes()));
        assert_eq!(remote.get("index.json"), index_before);
    }
}

#[test]
fn verify_url_finds_a_corrupt_and_a_missing_bundle_and_publish_repairs_them() {
    for remote in Remote::all() {
        let root = built(&remote);
        assert_eq!(publish(&root, &remote).0.code, 0);
        let all = bundles(&root);
        let (corrupt, missing) = (&all[0], &all[1]);
        let mut bytes = remote.get(corrupt).unwrap();
        bytes[1] ^= 0x20; // same size, other bytes: only a hash (or the ETag's MD5) tells
        remote.put(corrupt, &bytes);
        remote.delete(missing);

        let verify = root.seedc(&["--format", "json", "verify", &remote.url()]);
        assert_eq!(verify.code, 1, "{}", verify.snapshot());
        let found = codes(&verify);
        assert!(found.contains(&"corrupt-bundle".to_owned()) && found.contains(&"missing-bundle".to_owned()), "{found:?}");
        let files: Vec<String> = verify.json_lines().iter().filter_map(|l| l["file"].as_str().map(str::to_owned)).collect();
        assert!(files.contains(&format!("{}/{corrupt}", remote.url())), "{files:?}");

        let (run, report) = publish(&root, &remote);
        assert_eq!(run.code, 0, "{}", run.snapshot());
        assert_eq!(counts(&report, "uploaded"), (2, 0, 0), "{}", run.stdout);
        assert_eq!(report["repaired"], serde_json::json!([corrupt]));
        let human = root.seedc(&["publish", &remote.url()]);
        assert!(human.stderr.contains("uploaded nothing"), "{}", human.snapshot());

        let verify = root.seedc(&["verify", &remote.url()]);
        assert_eq!(verify.code, 0, "{}", verify.snapshot());
    }
}

#[test]
fn a_damaged_out_dir_is_not_published() {
    let remote = Remote::file();
    let root = built(&remote);
    let rel = format!("out/{}", bundles(&root)[0]);
    root.write(&rel, b"{}");
    let run = root.seedc(&["publish", &remote.url()]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(run.stdout.contains("corrupt-bundle"), "{}", run.snapshot());
    assert!(!remote.dir().unwrap().exists(), "nothing was contacted");
}

#[test]
fn publish_killed_midway_then_run_again_completes() {
    for remote in Remote::all() {
        // Enough bundles that a publish with one request at a time takes a while.
        let big = Root::sample();
        let pack = big.read("data/packs/artifact.core.json");
        for i in 0..400 {
            let id = format!("artifact.bulk{i}");
            big.write(&format!("data/packs/{id}.json"), pack.replacen("\"artifact.core\"", &format!("\"{id}\""), 1));
        }
        big.write("seedc.toml", big.read("seedc.toml") + &remote.config() + "concurrency = 1\n");
        let run = big.seedc(&["build", "--date", DATE]);
        assert_eq!(run.code, 0, "{}", run.snapshot());
        let packs = bundles(&big);
        assert!(packs.len() >= 400);

        let mut child = crate::support::seedc_cmd()
            .arg("--root")
            .arg(big.path())
            .args(["publish", &remote.url()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill it once some bundles, but not all, are in the store.
        let deadline = Instant::now() + Duration::from_secs(60);
        while remote.get(&packs[0]).is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let landed = packs.iter().filter(|p| remote.get(p).is_some()).count();
        assert!(landed > 0 && landed < packs.len(), "killed after {landed} of {} bundles", packs.len());
        assert_eq!(remote.get("index.json"), None, "the index goes last");
        // Nothing torn: every bundle there is whole, so verify's only complaint is the index.
        let verify = big.seedc(&["--format", "json", "verify", &remote.url()]);
        let found = codes(&verify);
        assert_eq!(verify.code, 1, "{}", verify.snapshot());
        assert!(found.contains(&"index-mismatch".to_owned()), "the index is missing: {found:?}");
        assert!(!found.contains(&"corrupt-bundle".to_owned()), "{found:?}");

        let (run, report) = publish(&big, &remote);
        assert_eq!(run.code, 0, "{}", run.snapshot());
        assert_eq!(counts(&report, "present").0 + counts(&report, "uploaded").0, packs.len() as u64);
        assert!(counts(&report, "present").0 >= landed as u64 - 1);
        let verify = big.seedc(&["verify", &remote.url()]);
        assert_eq!(verify.code, 0, "{}", verify.snapshot());
        if let Some(dir) = remote.dir() {
            let strays: Vec<_> = walk(&dir).into_iter().filter(|p| p.contains('#')).collect();
            assert!(strays.len() <= 1, "{strays:?}");
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path().display().to_string());
        }
    }
    out
}

/// A loopback server that accepts connections and never answers.
fn hanging_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_server_that_hangs_fails_in_bounded_time_with_exit_3_and_no_credentials() {
    let endpoint = hanging_server();
    let root = Root::sample();
    let secret = "sEcReT-publish-4711-do-not-print";
    let token = "tOkEn-publish-0815-do-not-print";
    root.write(
        "seedc.toml",
        root.read("seedc.toml")
            + &format!(
                "\n[publish]\nendpoint = \"{endpoint}\"\ntimeout = 1\nconnect_timeout = 1\nretries = 1\nsession_token = \"{token}\"\n"
            ),
    );
    assert_eq!(root.seedc(&["build", "--date", DATE]).code, 0);
    for args in [&["publish", "s3://seedc-test/hang"][..], &["verify", "s3://seedc-test/hang"]] {
        let start = Instant::now();
        let mut cmd = crate::support::seedc_cmd();
        cmd.arg("--root").arg(root.path()).args(args);
        cmd.env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE").env("AWS_SECRET_ACCESS_KEY", secret).env_remove("AWS_PROFILE");
        let run = Run::of(cmd.output().unwrap(), root.path());
        let took = start.elapsed();
        assert_eq!(run.code, 3, "{args:?}: {}", run.snapshot());
        assert!(took < Duration::from_secs(30), "{args:?} took {took:?}");
        assert!(run.stderr.contains("s3://seedc-test/hang"), "the error names the store: {}", run.stderr);
        for s in [secret, token] {
            assert!(!run.stderr.contains(s) && !run.stdout.contains(s), "{s} printed: {}", run.snapshot());
        }
    }
}

#[test]
fn a_missing_bucket_is_exit_3_without_credentials() {
    let Some(Remote::S3 { endpoint, .. }) = Remote::s3() else { return };
    let root = Root::sample();
    root.write("seedc.toml", root.read("seedc.toml") + &format!("\n[publish]\nendpoint = \"{endpoint}\"\ntimeout = 5\nretries = 0\n"));
    assert_eq!(root.seedc(&["build", "--date", DATE]).code, 0);
    let run = root.seedc(&["publish", "s3://no-such-bucket-seedc/x"]);
    assert_eq!(run.code, 3, "{}", run.snapshot());
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default();
    assert!(!secret.is_empty() && !run.stderr.contains(&secret), "{}", run.stderr);
}

#[test]
fn bad_urls_are_usage_errors() {
    let root = Root::sample();
    for url in ["http://example.com/x", "s3://UPPER/x", "file://relative/dir"] {
        let run = root.seedc(&["publish", url]);
        assert_eq!(run.code, 2, "{url}: {}", run.snapshot());
        assert!(run.stderr.contains("invalid publish URL"), "{}", run.stderr);
    }
    let run = root.seedc(&["publish"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stderr.contains("publish needs a URL"), "{}", run.stderr);
}

#[test]
fn deploy_publishes_bundles_before_it_commits_and_the_index_after() {
    for (i, remote) in Remote::all().into_iter().enumerate() {
        let Some(env) = crate::support::services::Env::new(&format!("publish{i}")) else { return };
        env.root.write("seedc.toml", env.root.read("seedc.toml") + &remote.config() + &format!("url = \"{}\"\n", remote.url()));
        let first = env.deploy(&["--date", DATE], 0);
        assert!(first["deploy_id"].is_i64(), "{first}");
        let packs = bundles(&env.root).len() as u64;
        assert_eq!(counts(&first["publish"], "uploaded"), (packs, 2, 1), "{first}");
        let verify = env.root.seedc(&["verify", &remote.url()]);
        assert_eq!(verify.code, 0, "{}", verify.snapshot());

        // A no-op deploy still makes sure the store is whole, and uploads nothing.
        remote.delete(&bundles(&env.root)[0]);
        let again = env.deploy(&["--date", DATE], 0);
        assert_eq!(again["deploy_id"], serde_json::Value::Null);
        assert_eq!(counts(&again["publish"], "uploaded"), (1, 0, 0), "{again}");
        let again = env.deploy(&["--date", DATE], 0);
        assert_eq!(counts(&again["publish"], "uploaded"), (0, 0, 0), "{again}");
    }
}

#[test]
fn deploy_with_a_store_that_fails_commits_nothing() {
    let Some(env) = crate::support::services::Env::new("publish_hang") else { return };
    let endpoint = hanging_server();
    env.root.write(
        "seedc.toml",
        env.root.read("seedc.toml")
            + &format!(
                "\n[publish]\nurl = \"s3://seedc-test/hang\"\nendpoint = \"{endpoint}\"\ntimeout = 1\nconnect_timeout = 1\nretries = 0\n"
            ),
    );
    let run = env.seedc(&["deploy", "--date", DATE]);
    assert_eq!(run.code, 3, "{}", run.snapshot());
    assert!(run.stderr.contains("s3://seedc-test/hang"), "{}", run.stderr);
    // The rows that would name the bundles were never committed.
    assert!(env.db.one::<bool>("SELECT to_regclass('enemies') IS NULL"), "the deploy committed rows");
}
