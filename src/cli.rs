//! The command line: one clap args struct per command, and the dispatch from a parsed
//! [`Cli`] to the library. Service URLs mirror their environment variables.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub(crate) use crate::report::{Color, Format};

#[derive(Debug, Parser)]
#[command(name = "seedc", version, about = "Validate, bundle and deploy versioned game content", long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: Global,
    /// Filled by [`Given::of`] after parsing.
    #[arg(skip)]
    pub given: Given,
}

/// Which values were typed on the command line rather than taken from their environment
/// variable (`SEEDC_ENV`, `DATABASE_URL`, `REDIS_URL`), as clap tells: with an environment
/// chosen, a flag naming a target it names is refused and an ambient variable is not used.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Given {
    pub env: bool,
    pub database_url: bool,
    pub redis_url: bool,
}

impl Given {
    pub(crate) fn of(matches: &clap::ArgMatches) -> Given {
        // `value_source` panics on an id the command does not have: asked only of the present.
        let typed = |m: &clap::ArgMatches, id: &str| {
            m.ids().any(|present| present.as_str() == id) && m.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
        };
        let sub = matches.subcommand().map(|(_, m)| m);
        Given {
            env: typed(matches, "environment") || sub.is_some_and(|m| typed(m, "environment")),
            database_url: sub.is_some_and(|m| typed(m, "database_url")),
            redis_url: sub.is_some_and(|m| typed(m, "redis_url")),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub(crate) struct Global {
    /// The content root (the directory holding seedc.toml)
    #[arg(long, global = true, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// When to use colour (NO_COLOR is honoured under `auto`)
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Print less: errors only, no summary
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more (e.g. field-level changes in a deploy plan)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// A named environment of seedc.toml ([environments.NAME]) for deploy, status, flush
    /// and publish; DATABASE_URL, REDIS_URL and [publish] url are then not used
    #[arg(long = "env", global = true, env = "SEEDC_ENV", value_name = "NAME", hide_env_values = true)]
    pub environment: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Validate the whole content root; writes nothing
    Check,
    /// Check, then write out/ and update seedc.lock
    Build(BuildArgs),
    /// Re-hash everything in out/ (or a published copy) and report what is missing or corrupt
    Verify(VerifyArgs),
    /// Build, then publish to PostgreSQL in one transaction, then flush cache keys
    Deploy(DeployArgs),
    /// Upload bundles, manifests and index to object storage (s3://, file://)
    Publish(PublishArgs),
    /// Retry cache flushes left pending by an earlier deploy
    Flush(ServiceArgs),
    /// Does the database mirror the content root? (drift, versions, pending flushes); writes nothing
    Status(StatusArgs),
    /// Show a saved deploy plan (deploy --dry-run --save-plan) for review; needs no database
    Show(ShowArgs),
    /// Balance diff between two content roots or git revisions
    Diff(DiffArgs),
    /// Write the JSON Schemas of seedc's own formats
    Schema(SchemaArgs),
    /// Explain a diagnostic code
    Explain(ExplainArgs),
    /// Start a content root, or adopt a folder of existing JSON seed files
    Init(InitArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Write the man pages (the main page to stdout, or one page per command to --out-dir)
    Man(ManArgs),
    /// Language server for editors (stdio): live diagnostics, navigation, completion, rename
    Lsp,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct BuildArgs {
    /// Emit a daily manifest for this date (YYYY-MM-DD); repeatable
    #[arg(long = "date", value_name = "YYYY-MM-DD")]
    pub dates: Vec<String>,
    /// Emit daily manifests for N days starting today (UTC)
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,
    /// Fail (exit 4) instead of updating seedc.lock
    #[arg(long)]
    pub locked: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ServiceArgs {
    /// PostgreSQL connection URL
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Redis connection URL: redis://, rediss:// (TLS) or redis+unix://
    #[arg(long, env = "REDIS_URL", value_name = "URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// PEM file of the CA that signed a rediss:// server's certificate (default: the system's roots)
    #[arg(long, env = "REDIS_CA", value_name = "FILE", hide_env_values = true)]
    pub redis_ca: Option<PathBuf>,
    /// PEM client certificate for a rediss:// server that requires one (with --redis-key)
    #[arg(long, env = "REDIS_CLIENT_CERT", value_name = "FILE", hide_env_values = true)]
    pub redis_cert: Option<PathBuf>,
    /// PKCS#8 PEM key of --redis-cert
    #[arg(long, env = "REDIS_CLIENT_KEY", value_name = "FILE", hide_env_values = true)]
    pub redis_key: Option<PathBuf>,
    /// Seconds to connect to Redis, TLS and AUTH included (default: [cache] connect_timeout, 10)
    #[arg(long, value_name = "SECONDS")]
    pub redis_connect_timeout: Option<f64>,
    /// Seconds to wait for each Redis reply (default: [cache] reply_timeout, 5)
    #[arg(long, value_name = "SECONDS")]
    pub redis_timeout: Option<f64>,
    /// Seconds to wait for another deploy's lock before giving up (default: the
    /// environment's lock_timeout, else 60)
    #[arg(long, value_name = "SECONDS")]
    pub lock_timeout: Option<u64>,
}

impl ServiceArgs {
    /// The cache options of Redis `url` (from these flags or an environment), these flags
    /// and `[cache]`; none without a URL.
    pub(crate) fn cache(
        &self,
        url: Option<String>,
        config: &crate::project::config::CacheConfig,
    ) -> anyhow::Result<Option<crate::flush::CacheOptions>> {
        let Some(url) = url else { return Ok(None) };
        let timeout = |flag: &str, given: Option<f64>, configured: f64| {
            crate::project::config::timeout_secs(flag, given.unwrap_or(configured))
                .map_err(|e| crate::exit::ExitError::new(crate::exit::Exit::Usage, e.to_string()))
        };
        Ok(Some(crate::flush::CacheOptions {
            url,
            ca: self.redis_ca.clone(),
            client_cert: self.redis_cert.clone(),
            client_key: self.redis_key.clone(),
            mode: config.mode,
            timeouts: crate::flush::Timeouts {
                connect: timeout("--redis-connect-timeout", self.redis_connect_timeout, config.connect_timeout)?,
                reply: timeout("--redis-timeout", self.redis_timeout, config.reply_timeout)?,
            },
        }))
    }
}

#[derive(Debug, Clone, Args)]
pub(crate) struct DeployArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    #[command(flatten)]
    pub services: ServiceArgs,
    /// Print the plan and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Keep rows whose record left the seed file (and rows added outside seedc)
    #[arg(long)]
    pub no_prune: bool,
    /// Plan every collection from its stored data, not only the drifted ones (finds edits
    /// made while the drift triggers were off)
    #[arg(long)]
    pub full: bool,
    /// With --dry-run: exit 1 when the plan would write anything (drift repairs included)
    #[arg(long, requires = "dry_run")]
    pub exit_code: bool,
    /// Deploy a collection version lower than the deployed one (or the deployed version with
    /// other content) on purpose; recorded as a rollback
    #[arg(long)]
    pub allow_rollback: bool,
    /// With --dry-run: save the plan to FILE, bound to the database and content it was made
    /// against, for `seedc show` and `seedc deploy --plan`
    #[arg(long, value_name = "FILE", requires = "dry_run")]
    pub save_plan: Option<PathBuf>,
    /// Apply exactly this saved plan, or refuse (exit 4, nothing written) if anything it was
    /// made against has changed; its options (dates, --no-prune, --full, --allow-rollback)
    /// are the plan's
    #[arg(long, value_name = "FILE", conflicts_with_all = ["dry_run", "dates", "days", "no_prune", "full", "allow_rollback"])]
    pub plan: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ShowArgs {
    /// The plan file (written by `seedc deploy --dry-run --save-plan FILE`)
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct StatusArgs {
    /// PostgreSQL connection URL
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Compare every row's data with the seeds (also finds edits made while the drift
    /// triggers were off)
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct VerifyArgs {
    /// A published copy to verify instead of out/: s3://bucket/prefix or file:///dir
    pub url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct PublishArgs {
    /// Where to publish: s3://bucket/prefix or file:///dir (default: [publish] url)
    pub url: Option<String>,
    /// List what would be uploaded and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct DiffArgs {
    /// The old side: a content root directory or a git revision
    pub base: String,
    /// The new side (default: the working tree of --root)
    pub head: Option<String>,
    /// Exit 1 when something changed
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct SchemaArgs {
    /// Where to write the schemas (default: schemas/seedc/ under --root)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Fail (exit 1) if the files on disk differ instead of writing them
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ExplainArgs {
    /// The code, e.g. schema-violation
    #[arg(required_unless_present = "list", value_parser = CodeName, hide_possible_values = true)]
    pub code: Option<String>,
    /// List every code with its summary
    #[arg(long)]
    pub list: bool,
}

/// Any string, as `seedc explain` reports an unknown code itself; the possible values are
/// there for shell completion only (clap_complete's value completion from local data is
/// still unstable, so the codes are offered statically).
#[derive(Debug, Clone, Copy)]
struct CodeName;

impl clap::builder::TypedValueParser for CodeName {
    type Value = String;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &std::ffi::OsStr) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(crate::diag::Code::ALL.iter().map(|c| clap::builder::PossibleValue::new(c.name()).help(c.summary()))))
    }
}

#[derive(Debug, Clone, Args)]
pub(crate) struct InitArgs {
    /// Replace files that already exist (seedc.toml, the schemas, seedc.lock)
    #[arg(long)]
    pub force: bool,
    /// Print what would be written and guessed; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Put seed files that are a bare JSON array into the envelope (`version` 1.0.0,
    /// `updated_at`, `data`), rewriting them in place
    #[arg(long)]
    pub wrap: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ManArgs {
    /// Write seedc.1 and a page per command (seedc-check.1, ...) here instead of printing
    /// the main page
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}
