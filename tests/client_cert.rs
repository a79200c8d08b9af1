//! PostgreSQL client certificates (`sslcert`, `sslkey` in the database URL, as libpq reads
//! them) against the real server: `scripts/services` lets its role `seedc_cert` in over TCP
//! only with a certificate of its own CA (a `hostssl ... cert` line of pg_hba.conf), so a
//! deploy that succeeds as that role presented one.

use std::path::Path;

use crate::support::Run;
use crate::support::services::{Env, service_var};

/// A test database owned by the certificate's role, and the URL that logs in as it.
struct CertEnv {
    env: Env,
    url: String,
    cert: String,
    key: String,
}

impl CertEnv {
    fn new(test: &str) -> Option<CertEnv> {
        let user = service_var("SEEDC_PG_CERT_USER")?;
        let (cert, key) = (service_var("SEEDC_PG_CLIENT_CERT")?, service_var("SEEDC_PG_CLIENT_KEY")?);
        let env = Env::new(test)?;
        env.db
            .client()
            .batch_execute(&format!("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I OWNER TO {user}', current_database()); END $$"))
            .expect("give the test database to the certificate's role");
        let url = env.db.url.replacen("postgres@", &format!("{user}@"), 1);
        assert_ne!(url, env.db.url, "the test server's URL names the user postgres");
        Some(CertEnv { env, url, cert, key })
    }

    fn deploy(&self, query: &str, args: &[&str]) -> Run {
        let mut cmd = self.env.command(&[&["deploy", "-q"], args].concat());
        cmd.env("DATABASE_URL", format!("{}?{query}", self.url));
        Run::of(cmd.output().expect("run seedc"), self.env.root.path())
    }
}

/// A copy of `from` in `dir` with the permissions `mode`.
fn copy_with_mode(from: &str, dir: &Path, name: &str, mode: u32) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let to = dir.join(name);
    std::fs::copy(from, &to).unwrap();
    std::fs::set_permissions(&to, std::fs::Permissions::from_mode(mode)).unwrap();
    to.display().to_string()
}

#[test]
fn a_deploy_presents_the_client_certificate_the_url_names() {
    let Some(c) = CertEnv::new("clientcert") else { return };
    // Without a certificate the server refuses the role: a service failure.
    let run = c.deploy("sslmode=require", &[]);
    assert_eq!(run.code, 3, "{}", run.snapshot());
    assert!(run.stderr.contains("requires a valid client certificate"), "{}", run.snapshot());

    let run = c.deploy(&format!("sslmode=require&sslcert={}&sslkey={}", c.cert, c.key), &[]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert_eq!(c.env.db.one::<i64>("SELECT count(*) FROM enemies"), 28);
    assert_eq!(c.env.db.one::<String>("SELECT tableowner::text FROM pg_tables WHERE tablename = 'enemies'"), "seedc_cert");

    // The same key as PKCS#1 (`BEGIN RSA PRIVATE KEY`), with the server verified too.
    let (Some(rsa), Some(root)) = (service_var("SEEDC_PG_CLIENT_KEY_RSA"), service_var("SEEDC_PG_SSL_CERT")) else { return };
    assert!(std::fs::read_to_string(&rsa).unwrap().starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let run = c.deploy(&format!("sslmode=verify-full&sslrootcert={root}&sslcert={}&sslkey={rsa}", c.cert), &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
}

#[test]
fn unusable_certificate_and_key_files_are_usage_errors_naming_the_file() {
    let Some(c) = CertEnv::new("clientcertbad") else { return };
    let dir = tempfile::tempdir().unwrap();
    let refused = |query: String, names: &[&str], says: &str| {
        let run = c.deploy(&query, &["--dry-run"]);
        assert_eq!(run.code, 2, "{query}\n{}", run.snapshot());
        for name in names {
            assert!(run.stderr.contains(name), "{query}: should name {name}\n{}", run.snapshot());
        }
        assert!(run.stderr.contains(says), "{query}: should say {says:?}\n{}", run.snapshot());
        assert!(!run.stderr.contains("panicked"), "{}", run.snapshot());
    };
    let missing = dir.path().join("missing.crt").display().to_string();
    refused(format!("sslmode=require&sslcert={missing}&sslkey={}", c.key), &[&missing], "cannot be read");
    let missing_key = dir.path().join("missing.key").display().to_string();
    refused(format!("sslmode=require&sslcert={}&sslkey={missing_key}", c.cert), &[&missing_key], "cannot be read");
    // A key where the certificate belongs, a directory as the key.
    refused(format!("sslmode=require&sslcert={}&sslkey={}", c.key, c.key), &[&c.key], "no PEM certificate");
    let as_dir = dir.path().display().to_string();
    refused(format!("sslmode=require&sslcert={}&sslkey={as_dir}", c.cert), &[&as_dir], "not a regular file");
    // libpq's rule: a key others can read is refused.
    let open_key = copy_with_mode(&c.key, dir.path(), "open.key", 0o644);
    refused(format!("sslmode=require&sslcert={}&sslkey={open_key}", c.cert), &[&open_key], "0600");
    // Another certificate's key: the certificate and key are both named.
    let Some(other_key) = service_var("SEEDC_REDIS_TLS_KEY") else { return };
    let other_key = copy_with_mode(&other_key, dir.path(), "other.key", 0o600);
    refused(
        format!("sslmode=require&sslcert={}&sslkey={other_key}", c.cert),
        &[&other_key, &c.cert],
        "cannot be used with the certificate",
    );
    assert!(c.env.db.one::<bool>("SELECT to_regclass('seedc.deploys') IS NULL"), "nothing was written");
}
