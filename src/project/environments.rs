//! `[environments.<name>]` of seedc.toml: the named targets one content root deploys to
//! (staging, then each production region), chosen with `--env NAME` or `SEEDC_ENV`. An
//! environment says where its secrets are (an environment variable or a file), never holds
//! them: seedc.toml is committed. [`Secret::read`] fetches a value, before any connection.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;

use anyhow::{Result, anyhow, bail, ensure};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::report::shown;

/// The largest secret file read: a URL is one line; anything near this is the wrong file.
const SECRET_LIMIT: u64 = 64 << 10;

/// Every `[environments.<name>]` of seedc.toml, by name.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Environments(
    #[schemars(extend("propertyNames" = { "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$" }))] BTreeMap<String, Environment>,
);

/// One named target: its database, cache and publish URL, and its deploy options. With an
/// environment chosen, DATABASE_URL, REDIS_URL and `[publish] url` are not used: an
/// explicit flag may fill in what the environment leaves out, never replace its entries.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The PostgreSQL URL: `{ env = "VARIABLE" }` or `{ file = "path" }`, never the URL itself.
    pub database_url: Option<Secret>,
    /// The Redis URL: `{ env = "VARIABLE" }` or `{ file = "path" }`, never the URL itself.
    pub redis_url: Option<Secret>,
    /// Where `publish` (and `deploy`) mirror `out/`: `s3://bucket/prefix` or `file:///dir`.
    pub publish_url: Option<String>,
    /// Delete rows whose record left the seed file (default true; `false` deploys as `--no-prune`).
    #[serde(default = "yes")]
    pub prune: bool,
    /// Seconds to wait for another deploy's lock (default 60; `--lock-timeout` overrides it).
    #[schemars(range(max = 86400))]
    pub lock_timeout: Option<u64>,
}

fn yes() -> bool {
    true
}

/// Where a secret is. The value is read when a command needs it, never written in seedc.toml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// `{ env = "VARIABLE" }`: the value of an environment variable.
    Env(String),
    /// `{ file = "path" }`: a file's text, its trailing newline trimmed; a relative path is
    /// relative to the content root.
    File(String),
    /// A value written in seedc.toml itself: refused at load. It is dropped as it is read,
    /// so nothing keeps it or can show it.
    Inline,
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        struct SecretVisitor;
        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = Secret;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#"{ env = "VARIABLE" } or { file = "path" }"#)
            }

            // Accepted here and refused by `check`: a parse error would quote the line,
            // and with it the secret.
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Secret, E> {
                Ok(Secret::Inline)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Secret, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Secret::Inline)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Secret, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<String>()? {
                    let secret = match key.as_str() {
                        "env" => Secret::Env(map.next_value()?),
                        "file" => Secret::File(map.next_value()?),
                        other => return Err(de::Error::unknown_field(other, &["env", "file"])),
                    };
                    if found.replace(secret).is_some() {
                        return Err(de::Error::custom("give either `env` or `file`, not both"));
                    }
                }
                found.ok_or_else(|| de::Error::custom(r#"expected { env = "VARIABLE" } or { file = "path" }"#))
            }
        }
        deserializer.deserialize_any(SecretVisitor)
    }
}

impl JsonSchema for Secret {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Secret".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Where a secret is, never the secret itself: `{ env = \"VARIABLE\" }` or `{ file = \"path\" }` (trailing newline trimmed; relative to the content root).",
            "oneOf": [
                {
                    "type": "object",
                    "properties": { "env": { "type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "description": "The name of an environment variable that holds the value." } },
                    "required": ["env"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": { "file": { "type": "string", "minLength": 1, "description": "A file that holds the value." } },
                    "required": ["file"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// An environment's name: letters, digits, `_` and `-`, starting with a letter or digit,
/// at most 63 bytes. It is written in messages and in saved plans.
fn is_name(name: &str) -> bool {
    name.len() <= 63
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

/// The portable name of an environment variable (POSIX): letters, digits and `_`, not
/// starting with a digit.
fn is_variable(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Environments {
    /// The environment called `name`; an unknown name is a usage error that lists the known ones.
    pub fn get(&self, name: &str) -> Result<&Environment> {
        self.0.get(name).ok_or_else(|| match self.0.is_empty() {
            true => anyhow!("unknown environment \"{}\": seedc.toml defines no environments ([environments.<name>])", shown(name)),
            false => {
                let known: Vec<&str> = self.0.keys().map(String::as_str).collect();
                anyhow!("unknown environment \"{}\": seedc.toml defines {}", shown(name), known.join(", "))
            }
        })
    }

    /// Every rule of `[environments]`, checked at load. No message quotes a value that
    /// might be a secret: a literal URL, or a URL put where a variable name or a path goes.
    pub(crate) fn check(&self) -> Result<()> {
        for (name, env) in &self.0 {
            ensure!(
                is_name(name),
                "environment name {name:?} must be letters, digits, '_' and '-', starting with a letter or digit (at most 63 bytes)"
            );
            for (key, secret) in [("database_url", &env.database_url), ("redis_url", &env.redis_url)] {
                let at = format!("environments.{name}.{key}");
                match secret {
                    None => {}
                    Some(Secret::Inline) => bail!(
                        "{at} must name where the URL is, not hold it: {{ env = \"VARIABLE\" }} or {{ file = \"path\" }} (seedc.toml is committed, a secret does not belong in it)"
                    ),
                    Some(Secret::Env(var)) => ensure!(
                        is_variable(var),
                        "{at}: `env` must be the name of an environment variable (letters, digits and '_', not starting with a digit)"
                    ),
                    Some(Secret::File(path)) => {
                        ensure!(!path.is_empty(), "{at}: `file` must not be empty");
                        ensure!(!path.contains("://"), "{at}: `file` must be the path of a file that holds the URL, not the URL itself");
                    }
                }
            }
            ensure!(env.publish_url.as_ref().is_none_or(|url| !url.is_empty()), "environments.{name}.publish_url must not be empty");
            if let Some(secs) = env.lock_timeout {
                ensure!(secs <= 86_400, "environments.{name}.lock_timeout must be at most 86400 seconds (a day), not {secs}");
            }
        }
        Ok(())
    }
}

impl Secret {
    /// The value, for `what` (`environment "staging": database_url`) in messages: the
    /// variable's (through `var`, the process environment outside tests), or the file's
    /// text with its trailing line ends trimmed, a relative path taken from `root`. Missing,
    /// empty, unreadable or more than one line is an error that names the variable or file.
    pub fn read(&self, what: &str, root: &Path, var: impl Fn(&str) -> Option<OsString>) -> Result<String> {
        match self {
            Secret::Inline => bail!("{what} is written in seedc.toml"),
            Secret::Env(name) => {
                let value = var(name).ok_or_else(|| anyhow!("{what} names the environment variable {name}, which is not set"))?;
                let value = value.into_string().map_err(|_| anyhow!("{what} names the environment variable {name}, which is not UTF-8"))?;
                ensure!(!value.is_empty(), "{what} names the environment variable {name}, which is empty");
                Ok(value)
            }
            Secret::File(rel) => {
                let path = root.join(rel);
                let says = |why: &str| anyhow!("{what} names the file {}, which {why}", shown(&path.display().to_string()));
                let bytes = super::tree::read_regular_file(&path, SECRET_LIMIT).map_err(|e| match e {
                    e if e.is_not_regular() => says("is not a regular file"),
                    super::tree::ReadError::TooLarge { .. } => says("is larger than 64 KiB (it should hold one line)"),
                    e => says(&format!("cannot be read: {e}")),
                })?;
                let text = String::from_utf8(bytes).map_err(|_| says("is not UTF-8"))?;
                let value = text.trim_end_matches(['\n', '\r']);
                ensure!(!value.is_empty(), says("is empty"));
                ensure!(!value.contains(['\n', '\r']), says("holds more than one line (it should hold the URL alone)"));
                Ok(value.to_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::config::Config;

    const MINIMAL: &str = "[project]\nname = \"g\"\ndaily_salt = \"s\"\n";

    fn parse(environments: &str) -> Result<Config> {
        Config::parse(&format!("{MINIMAL}{environments}"))
    }

    fn error(environments: &str) -> String {
        format!("{:#}", parse(environments).unwrap_err())
    }

    #[test]
    fn environments_parse_with_defaults() {
        let c = parse(
            "[environments.staging]\ndatabase_url = { env = \"STAGING_DATABASE_URL\" }\nredis_url = { file = \"/run/secrets/redis\" }\n\
             publish_url = \"s3://game-content/staging\"\nprune = false\nlock_timeout = 120\n[environments.prod-eu]\n",
        )
        .unwrap();
        let staging = c.environments.get("staging").unwrap();
        assert_eq!(staging.database_url, Some(Secret::Env("STAGING_DATABASE_URL".into())));
        assert_eq!(staging.redis_url, Some(Secret::File("/run/secrets/redis".into())));
        assert_eq!(
            (staging.publish_url.as_deref(), staging.prune, staging.lock_timeout),
            (Some("s3://game-content/staging"), false, Some(120))
        );
        let eu = c.environments.get("prod-eu").unwrap();
        assert_eq!((&eu.database_url, &eu.redis_url, &eu.publish_url, eu.prune, eu.lock_timeout), (&None, &None, &None, true, None));
        assert_eq!(parse("").unwrap().environments.0.len(), 0);
    }

    #[test]
    fn a_secret_written_in_the_file_is_refused_without_being_quoted() {
        let secret = "postgres://deploy:hunter2@db.internal/game";
        for entry in
            [format!("database_url = \"{secret}\""), format!("redis_url = [\"{secret}\"]"), format!("database_url = '''{secret}'''")]
        {
            let err = error(&format!("[environments.staging]\n{entry}\n"));
            assert!(err.contains("must name where the URL is, not hold it"), "{entry}: {err}");
            assert!(err.contains("{ env = \"VARIABLE\" } or { file = \"path\" }"), "{err}");
            assert!(!err.contains("hunter2"), "the secret is quoted: {err}");
        }
        for (entry, says) in [
            (format!("database_url = {{ env = \"{secret}\" }}"), "name of an environment variable"),
            (format!("database_url = {{ file = \"{secret}\" }}"), "not the URL itself"),
        ] {
            let err = error(&format!("[environments.staging]\n{entry}\n"));
            assert!(err.contains(says), "{entry}: {err}");
            assert!(!err.contains("hunter2"), "the secret is quoted: {err}");
        }
    }

    #[test]
    fn every_rule_of_an_environment_holds_at_load() {
        for (bad, says) in [
            ("[environments.staging]\ndatabase_uri = { env = \"X\" }\n", "database_uri"),
            ("[environments.staging]\ndatabase_url = { env = \"X\", file = \"y\" }\n", "not both"),
            ("[environments.staging]\ndatabase_url = { variable = \"X\" }\n", "variable"),
            ("[environments.staging]\ndatabase_url = {}\n", "expected { env"),
            ("[environments.staging]\ndatabase_url = { env = \"1X\" }\n", "name of an environment variable"),
            ("[environments.staging]\ndatabase_url = { file = \"\" }\n", "must not be empty"),
            ("[environments.staging]\npublish_url = \"\"\n", "publish_url must not be empty"),
            ("[environments.staging]\nlock_timeout = 100000\n", "at most 86400"),
            ("[environments.staging]\nlock_timeout = -1\n", "lock_timeout"),
            ("[environments.staging]\nschema = \"x\"\n", "schema"),
            ("[environments.\"prod eu\"]\n", "environment name"),
            ("[environments.-x]\n", "environment name"),
            ("[environments]\nstaging = 1\n", "staging"),
        ] {
            let err = error(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn an_unknown_environment_lists_the_known_ones() {
        let c = parse("[environments.staging]\n[environments.production]\n").unwrap();
        assert_eq!(
            c.environments.get("prod").unwrap_err().to_string(),
            "unknown environment \"prod\": seedc.toml defines production, staging"
        );
        let none = parse("").unwrap().environments.get("prod\u{1b}[2J").unwrap_err().to_string();
        assert_eq!(none, "unknown environment \"prod\\u{1b}[2J\": seedc.toml defines no environments ([environments.<name>])");
    }

    #[test]
    fn secrets_are_read_from_variables_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let vars = |name: &str| match name {
            "SET" => Some(OsString::from("postgres://a@b/c")),
            "EMPTY" => Some(OsString::new()),
            _ => None,
        };
        let what = "environment \"staging\": database_url";
        assert_eq!(Secret::Env("SET".into()).read(what, dir.path(), vars).unwrap(), "postgres://a@b/c");
        let err = Secret::Env("UNSET".into()).read(what, dir.path(), vars).unwrap_err().to_string();
        assert_eq!(err, "environment \"staging\": database_url names the environment variable UNSET, which is not set");
        assert!(Secret::Env("EMPTY".into()).read(what, dir.path(), vars).unwrap_err().to_string().ends_with("which is empty"));

        std::fs::create_dir(dir.path().join("secrets")).unwrap();
        for (text, value) in [("redis://x\n", "redis://x"), ("redis://x\r\n", "redis://x"), ("redis://x", "redis://x")] {
            std::fs::write(dir.path().join("secrets/redis"), text).unwrap();
            assert_eq!(Secret::File("secrets/redis".into()).read(what, dir.path(), vars).unwrap(), value, "{text:?}");
        }
        let absolute = dir.path().join("secrets/redis").display().to_string();
        assert_eq!(Secret::File(absolute).read(what, Path::new("/nonexistent"), vars).unwrap(), "redis://x");
        for (bytes, says) in [(&b"\n"[..], "is empty"), (b"redis://x\nredis://y\n", "more than one line"), (b"\xff\xfe", "not UTF-8")] {
            std::fs::write(dir.path().join("secrets/redis"), bytes).unwrap();
            let err = Secret::File("secrets/redis".into()).read(what, dir.path(), vars).unwrap_err().to_string();
            assert!(err.contains(says), "{bytes:?}: {err}");
        }
        std::fs::write(dir.path().join("secrets/big"), "x".repeat(70_000)).unwrap();
        let big = Secret::File("secrets/big".into()).read(what, dir.path(), vars).unwrap_err().to_string();
        assert!(big.contains("larger than 64 KiB"), "{big}");
        let missing = Secret::File("secrets/none".into()).read(what, dir.path(), vars).unwrap_err().to_string();
        assert!(
            missing.starts_with("environment \"staging\": database_url names the file ") && missing.contains("cannot be read"),
            "{missing}"
        );
        let dir_err = Secret::File("secrets".into()).read(what, dir.path(), vars).unwrap_err().to_string();
        assert!(dir_err.ends_with("which is not a regular file"), "{dir_err}");
    }
}
