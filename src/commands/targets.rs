//! Where `deploy`, `status`, `flush` and `publish` go: the database, the cache and the
//! publish URL, and the deploy options an environment sets. Without an environment they
//! come from the flags, their variables and `[publish] url`, as they always have. With one
//! (`--env NAME`, `SEEDC_ENV`) they come from its entries, whose secrets are read here:
//! an ambient DATABASE_URL or REDIS_URL is never used (it may belong to another target),
//! and a flag may fill in what the environment leaves out but not contradict what it
//! names. Every refusal is exit 2, before any connection.

use std::time::Duration;

use anyhow::Result;

use crate::cli::Cli;
use crate::exit::{Exit, ExitError};
use crate::project::Project;
use crate::project::config::PublishConfig;
use crate::project::environments::{Environment, Secret};
use crate::report::shown;

/// How long a deploy waits for another's lock when neither the flag nor the environment says.
const LOCK_TIMEOUT: u64 = 60;

/// The targets of one command: the chosen environment, if any, and what the command line
/// typed itself.
pub(super) struct Targets<'a> {
    chosen: Option<(&'a str, &'a Environment)>,
    cli: &'a Cli,
}

/// The commands an environment is for.
pub(super) const COMMANDS: &str = "deploy, status, flush and publish";

fn usage(message: String) -> anyhow::Error {
    ExitError::new(Exit::Usage, message)
}

/// What a message adds when `SEEDC_ENV` chose the environment: a variable set for a whole
/// CI job is easy to forget.
fn chosen_by(cli: &Cli) -> &'static str {
    if cli.given.env { "" } else { " (SEEDC_ENV)" }
}

impl<'a> Targets<'a> {
    /// The environment `--env` or `SEEDC_ENV` chose (an empty `SEEDC_ENV` chooses none); an
    /// unknown name is refused, listing the known ones.
    pub(super) fn of(cli: &'a Cli, project: &'a Project) -> Result<Targets<'a>> {
        let chosen = match cli.global.environment.as_deref() {
            None | Some("") => None,
            Some(name) => Some((name, project.config().environments.get(name).map_err(|e| usage(format!("{e}{}", chosen_by(cli))))?)),
        };
        Ok(Targets { chosen, cli })
    }

    /// `environment "NAME"` for messages, saying so when `SEEDC_ENV` chose it.
    fn named(&self, name: &str) -> String {
        format!("environment \"{}\"{}", shown(name), chosen_by(self.cli))
    }

    /// The chosen environment's name.
    pub(super) fn environment(&self) -> Option<&'a str> {
        self.chosen.map(|(name, _)| name)
    }

    /// The database URL `command` connects to: `--database-url`/`DATABASE_URL`, or the
    /// environment's `database_url` (or, where it has none, `--database-url`).
    pub(super) fn database_url(&self, command: &str, flag: Option<&str>) -> Result<String> {
        let entry = self.chosen.and_then(|(_, env)| env.database_url.as_ref());
        let url = self.service("database_url", "--database-url", entry, flag, self.cli.given.database_url, true)?;
        url.ok_or_else(|| {
            usage(match self.chosen {
                None => format!("{command} needs a database: set --database-url or DATABASE_URL"),
                Some((name, _)) => format!(
                    "{command} needs a database: {} has no database_url (add database_url = {{ env = \"VARIABLE\" }} to it, or give --database-url; DATABASE_URL is not used with an environment)",
                    self.named(name)
                ),
            })
        })
    }

    /// The Redis URL: `--redis-url`/`REDIS_URL`, or the environment's `redis_url` (or, where
    /// it has none, `--redis-url`). With an environment and `needed` false (a dry run), its
    /// secret is not read: a plan can be made where only the database's is at hand.
    pub(super) fn redis_url(&self, flag: Option<&str>, needed: bool) -> Result<Option<String>> {
        let entry = self.chosen.and_then(|(_, env)| env.redis_url.as_ref());
        self.service("redis_url", "--redis-url", entry, flag, self.cli.given.redis_url, needed)
    }

    /// Why there is no Redis URL, for a command that needs one.
    pub(super) fn no_redis(&self, command: &str) -> anyhow::Error {
        usage(match self.chosen {
            None => format!("{command} needs Redis: set --redis-url or REDIS_URL"),
            Some((name, _)) => format!(
                "{command} needs Redis: {} has no redis_url (add redis_url = {{ env = \"VARIABLE\" }} to it, or give --redis-url; REDIS_URL is not used with an environment)",
                self.named(name)
            ),
        })
    }

    /// One service URL. `value` is clap's (the flag's, or its variable's); `typed` says it
    /// was the flag.
    fn service(
        &self,
        key: &str,
        flag: &str,
        entry: Option<&Secret>,
        value: Option<&str>,
        typed: bool,
        read: bool,
    ) -> Result<Option<String>> {
        let Some((name, _)) = self.chosen else { return Ok(value.map(str::to_owned)) };
        let typed_value = value.filter(|_| typed);
        match (entry, typed_value) {
            (Some(_), Some(_)) => {
                Err(usage(format!("{flag} conflicts with {}, which names its own {key}: give one or the other", self.named(name))))
            }
            (Some(_), None) if !read => Ok(None),
            (Some(secret), None) => {
                let what = format!("{}: {key}", self.named(name));
                secret.read(&what, &self.cli.global.root, |var| std::env::var_os(var)).map(Some).map_err(|e| usage(e.to_string()))
            }
            (None, typed_value) => Ok(typed_value.map(str::to_owned)),
        }
    }

    /// Where to publish: the URL argument or `[publish] url`; with an environment, the
    /// argument or its `publish_url`, not both (`[publish] url` may be another target's).
    pub(super) fn publish_url(&self, argument: Option<&str>, config: &PublishConfig) -> Result<Option<String>> {
        let Some((name, env)) = self.chosen else { return Ok(argument.or(config.url.as_deref()).map(str::to_owned)) };
        match (&env.publish_url, argument) {
            (Some(_), Some(_)) => Err(usage(format!(
                "the URL argument conflicts with {}, which names its own publish_url: give one or the other",
                self.named(name)
            ))),
            (Some(url), None) => Ok(Some(url.clone())),
            (None, argument) => Ok(argument.map(str::to_owned)),
        }
    }

    /// Why there is no publish URL.
    pub(super) fn no_publish_url(&self) -> anyhow::Error {
        usage(match self.chosen {
            None => "publish needs a URL: `seedc publish s3://bucket/prefix` (or file:///dir), or [publish] url in seedc.toml".to_owned(),
            Some((name, _)) => format!(
                "publish needs a URL: {} has no publish_url (add one to it, or give the URL; [publish] url is not used with an environment)",
                self.named(name)
            ),
        })
    }

    /// Whether a deploy prunes: not with `--no-prune`, nor in an environment with `prune = false`.
    pub(super) fn prune(&self, no_prune: bool) -> bool {
        !no_prune && self.chosen.is_none_or(|(_, env)| env.prune)
    }

    /// The deploy lock's timeout: `--lock-timeout`, else the environment's, else 60 s.
    pub(super) fn lock_timeout(&self, flag: Option<u64>) -> Duration {
        Duration::from_secs(flag.or(self.chosen.and_then(|(_, env)| env.lock_timeout)).unwrap_or(LOCK_TIMEOUT))
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, FromArgMatches as _};

    use super::*;

    /// A content root whose seedc.toml has `toml` after its `[project]`, and the command line
    /// `args` parsed as `seedc::main` parses it. Only typed flags are given: the process
    /// environment of a test run may hold DATABASE_URL and REDIS_URL, which the
    /// integration tests cover.
    fn parsed(toml: &str, args: &[&str]) -> (tempfile::TempDir, Cli, Project) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("seedc.toml"), format!("[project]\nname = \"g\"\ndaily_salt = \"s\"\n{toml}")).unwrap();
        let root = dir.path().display().to_string();
        let argv = ["seedc", "--root", root.as_str()].into_iter().chain(args.iter().copied());
        let matches = Cli::command().try_get_matches_from(argv).unwrap();
        let mut cli = Cli::from_arg_matches(&matches).unwrap();
        cli.given = crate::cli::Given::of(&matches);
        let project = Project::open(dir.path()).unwrap();
        (dir, cli, project)
    }

    const STAGING: &str = "[publish]\nurl = \"file:///shared\"\n\
        [environments.staging]\ndatabase_url = { env = \"SEEDC_TEST_NEVER_SET\" }\npublish_url = \"file:///staging\"\nprune = false\nlock_timeout = 120\n\
        [environments.bare]\n";

    #[test]
    fn options_take_the_flag_then_the_environment_then_the_default() {
        let (_dir, cli, project) = parsed(STAGING, &["deploy", "--env", "staging"]);
        let t = Targets::of(&cli, &project).unwrap();
        assert_eq!(t.environment(), Some("staging"));
        assert_eq!((t.lock_timeout(None), t.lock_timeout(Some(5))), (Duration::from_secs(120), Duration::from_secs(5)));
        assert_eq!((t.prune(false), t.prune(true)), (false, false));
        let (_dir, cli, project) = parsed(STAGING, &["deploy", "--env", "bare"]);
        let t = Targets::of(&cli, &project).unwrap();
        assert_eq!((t.lock_timeout(None), t.prune(false), t.prune(true)), (Duration::from_secs(60), true, false));
        let (_dir, cli, project) = parsed(STAGING, &["deploy"]);
        let t = Targets::of(&cli, &project).unwrap();
        assert_eq!((t.environment(), t.lock_timeout(None), t.prune(false)), (None, Duration::from_secs(60), true));
    }

    #[test]
    fn a_typed_flag_fills_a_gap_and_never_contradicts() {
        let (_dir, cli, project) = parsed(STAGING, &["deploy", "--env", "staging", "--database-url", "postgres://typed"]);
        let t = Targets::of(&cli, &project).unwrap();
        let err = t.database_url("deploy", cli_database_url(&cli)).unwrap_err().to_string();
        assert_eq!(err, "--database-url conflicts with environment \"staging\", which names its own database_url: give one or the other");
        let (_dir, cli, project) = parsed(STAGING, &["deploy", "--env", "bare", "--database-url", "postgres://typed"]);
        let t = Targets::of(&cli, &project).unwrap();
        assert_eq!(t.database_url("deploy", cli_database_url(&cli)).unwrap(), "postgres://typed");
        // A value clap took from a variable (not typed) is not used with an environment.
        let (_dir, cli, project) = parsed(STAGING, &["status", "--env", "bare"]);
        let t = Targets::of(&cli, &project).unwrap();
        let given_by_variable = Some("postgres://ambient");
        let err = t.database_url("status", given_by_variable).unwrap_err().to_string();
        assert!(err.starts_with("status needs a database: environment \"bare\" has no database_url"), "{err}");
        assert_eq!(t.redis_url(Some("redis://ambient"), true).unwrap(), None);
    }

    #[test]
    fn the_publish_target_is_the_environments_or_the_argument() {
        let (_dir, cli, project) = parsed(STAGING, &["publish", "--env", "staging"]);
        let (t, config) = (Targets::of(&cli, &project).unwrap(), &project.config().publish);
        assert_eq!(t.publish_url(None, config).unwrap().as_deref(), Some("file:///staging"));
        assert!(t.publish_url(Some("file:///x"), config).unwrap_err().to_string().starts_with("the URL argument conflicts"));
        let (_dir, cli, project) = parsed(STAGING, &["publish", "--env", "bare"]);
        let (t, config) = (Targets::of(&cli, &project).unwrap(), &project.config().publish);
        assert_eq!(t.publish_url(None, config).unwrap(), None, "[publish] url is another target's");
        assert_eq!(t.publish_url(Some("file:///x"), config).unwrap().as_deref(), Some("file:///x"));
        let (_dir, cli, project) = parsed(STAGING, &["publish"]);
        let (t, config) = (Targets::of(&cli, &project).unwrap(), &project.config().publish);
        assert_eq!(t.publish_url(None, config).unwrap().as_deref(), Some("file:///shared"));
        let (_dir, cli, project) = parsed(STAGING, &["publish", "--env", "prod"]);
        let err = Targets::of(&cli, &project).err().unwrap().to_string();
        assert_eq!(err, "unknown environment \"prod\": seedc.toml defines bare, staging");
    }

    fn cli_database_url(cli: &Cli) -> Option<&str> {
        match &cli.command {
            crate::cli::Command::Deploy(args) => args.services.database_url.as_deref(),
            _ => None,
        }
    }
}
