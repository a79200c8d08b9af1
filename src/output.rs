//! The only place that prints. Renders diagnostics in the chosen format to stdout, status
//! lines to stderr, and decides colour (flag, NO_COLOR, TTY) once.

use std::io::{IsTerminal, Write};

use crate::cli::{Color, Format, Global};
use crate::deploy::{CollectionPlan, Op, Report as DeployReport};
use crate::diag::Sources;
use crate::diag::{Sink, Summary, render_github, render_human::Human, render_json};
use crate::flush::FlushReport;

pub struct Printer {
    pub format: Format,
    pub color: bool,
    pub quiet: bool,
    pub verbose: u8,
    /// Prepended to file paths in `--format github` (see [`render_github::workspace_prefix`]).
    pub github_prefix: String,
}

impl Printer {
    pub fn new(global: &Global) -> Self {
        let color = match global.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal(),
        };
        let github_prefix = if global.format == Format::Github { render_github::workspace_prefix(&global.root) } else { String::new() };
        Printer { format: global.format, color, quiet: global.quiet, verbose: global.verbose, github_prefix }
    }

    /// Prints every diagnostic, then the summary. Human format skips warnings under `-q`.
    pub fn diagnostics(&self, sink: &Sink, sources: &Sources, files: usize) {
        let summary = Summary { errors: sink.errors(), warnings: sink.warnings(), files };
        let mut out = String::new();
        match self.format {
            Format::Json => {
                for d in sink.iter() {
                    out.push_str(&render_json::render(d));
                    out.push('\n');
                }
                out.push_str(&render_json::render_summary(&summary));
                out.push('\n');
            }
            Format::Github => {
                for d in sink.iter() {
                    out.push_str(&render_github::render_in(d, &self.github_prefix));
                    out.push('\n');
                }
                if !self.quiet {
                    out.push_str(&render_github::render_summary(&summary));
                    out.push('\n');
                }
            }
            Format::Human | Format::Markdown => {
                let human = Human::new(self.color);
                for d in sink.iter() {
                    if self.quiet && d.severity == crate::diag::Severity::Warning {
                        continue;
                    }
                    out.push_str(&human.render(d, sources));
                    out.push_str("\n\n");
                }
                if !self.quiet {
                    out.push_str(&human.render_summary(&summary));
                    out.push('\n');
                }
            }
        }
        self.stdout(&out);
    }

    /// Writes to stdout; a closed pipe (`seedc check | head`) is not an error worth a panic.
    pub fn stdout(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// A status line for people, on stderr; silent under `-q` and in machine formats.
    pub fn status(&self, text: &str) {
        if !self.quiet && self.format == Format::Human {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }

    /// An error of the tool itself (not of the content), on stderr, always.
    pub fn error(&self, err: &anyhow::Error) {
        let prefix = if self.color { "\x1b[1;31merror\x1b[0m" } else { "error" };
        let mut text = format!("{prefix}: {err}");
        for cause in err.chain().skip(1) {
            text.push_str(&format!("\n  caused by: {cause}"));
        }
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    /// A deploy's plan and outcome: the plan on stdout (with `-v`, record and field
    /// changes), the outcome on stderr; one `{"deploy": ...}` line under `--format json`.
    pub fn deploy_report(&self, report: &DeployReport) {
        match self.format {
            Format::Json => {
                let line = serde_json::json!({ "deploy": report });
                self.stdout(&format!("{line}\n"));
            }
            Format::Github => {
                if !self.quiet {
                    self.stdout(&format!("::notice title=seedc deploy::{}\n", deploy_outcome(report)));
                }
            }
            Format::Human | Format::Markdown => {
                if !self.quiet {
                    self.stdout(&render_plan(report, self.verbose > 0));
                }
                self.status(&deploy_outcome(report));
            }
        }
    }

    /// What `seedc flush` did.
    pub fn flush_report(&self, report: &FlushReport) {
        match self.format {
            Format::Json => {
                let line = serde_json::json!({ "flush": report });
                self.stdout(&format!("{line}\n"));
            }
            _ => self.status(&flush_outcome(report)),
        }
    }
}

/// An error reported from outside any command (the database watchdog, just before it ends
/// the process), on stderr.
pub fn fatal(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {text}");
}

fn render_plan(report: &DeployReport, details: bool) -> String {
    let plan = &report.plan;
    let width = plan.collections.iter().map(|c| c.collection.len()).max().unwrap_or(0);
    let mut out = format!("{}plan for content version {}\n", if plan.dry_run { "dry run: " } else { "" }, plan.content_version);
    for c in &plan.collections {
        out.push_str(&format!(
            "  {:width$}  {:>6} inserted {:>6} updated {:>6} deleted {:>6} unchanged{}{}\n",
            c.collection,
            c.inserted,
            c.updated,
            c.deleted,
            c.unchanged,
            if c.kept > 0 { format!(" ({} kept by --no-prune)", c.kept) } else { String::new() },
            version_change(c),
        ));
        if details {
            for r in &c.changes {
                let sign = match r.op {
                    Op::Insert => '+',
                    Op::Update => '~',
                    Op::Delete => '-',
                };
                out.push_str(&format!("      {sign} {}\n", r.id));
                for f in &r.fields {
                    let show = |v: &Option<serde_json::Value>| v.as_ref().map_or("(absent)".to_owned(), |v| v.to_string());
                    out.push_str(&format!("          {}: {} -> {}\n", f.pointer, show(&f.old), show(&f.new)));
                }
            }
        }
    }
    out.push_str(&format!(
        "  packs: {} new, {} already published; manifests: {} new, {} already published\n",
        plan.packs.new, plan.packs.unchanged, plan.manifests.new, plan.manifests.unchanged
    ));
    out
}

fn version_change(c: &CollectionPlan) -> String {
    match &c.previous_version {
        Some(v) if *v != c.version => format!("  {v} -> {}", c.version),
        None => format!("  new at {}", c.version),
        _ => String::new(),
    }
}

fn deploy_outcome(report: &DeployReport) -> String {
    let plan = &report.plan;
    if plan.dry_run {
        return "dry run: nothing was written".to_owned();
    }
    let mut text = match report.deploy_id {
        None => "nothing to deploy: the database already holds this content".to_owned(),
        Some(id) => {
            let n = plan.changed_collections().count();
            format!("deployed #{id}: {n} collection{} changed", if n == 1 { "" } else { "s" })
        }
    };
    if report.flush_error.is_some() {
        text.push_str("; the cache flush is pending");
    } else if !report.flush.deploys.is_empty() {
        text.push_str(&format!("; {}", flush_outcome(&report.flush)));
    }
    text
}

fn flush_outcome(report: &FlushReport) -> String {
    match &report.version {
        None => "no cache flush was pending".to_owned(),
        Some(v) => format!(
            "cache flushed for deploy{} {} ({} key{} removed, version {v})",
            if report.deploys.len() == 1 { "" } else { "s" },
            report.deploys.iter().map(|d| format!("#{d}")).collect::<Vec<_>>().join(", "),
            report.keys_removed,
            if report.keys_removed == 1 { "" } else { "s" },
        ),
    }
}
