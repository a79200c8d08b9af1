//! What `seedc init` guessed and wrote, for people (a block per collection, then the files),
//! `--format github` (a notice per seed file) and JSON (one object).

use super::Collection;
use super::shape::Detail;
use crate::diag::render::github::notice;
use crate::report::{Render, Style, plural, shown};

/// One run of `seedc init`.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Report {
    pub dry_run: bool,
    /// Whether the folder held no seed file, so an example collection was made.
    pub example: bool,
    pub collections: Vec<Collection>,
    /// Seed files that were a bare array, put into the envelope (`--wrap`).
    pub wrapped: Vec<String>,
    /// Files written (or, with `--dry-run`, that would be), relative to the content root.
    pub written: Vec<String>,
    /// Whether `seedc check` refused the guesses (its diagnostics follow), so nothing was
    /// written.
    pub refused: bool,
}

impl Report {
    fn verb(&self) -> &'static str {
        if self.dry_run || self.refused { "would write" } else { "wrote" }
    }

    /// The guesses about one collection, one line each.
    fn lines(c: &Collection) -> Vec<(&'static str, String)> {
        let mut lines = Vec::new();
        let key = if c.key_guessed { "unique in every record" } else { "the default: no field is unique in every record" };
        lines.push(("key", format!("{} ({key})", shown(&c.key))));
        for r in &c.references {
            let keys = if r.values == 1 { "1 key".to_owned() } else { format!("{} keys", r.values) };
            lines.push(("reference", format!("{} → {} ({keys})", shown(&r.path), r.collection)));
        }
        for d in &c.details {
            lines.push(match d {
                Detail::Enum { path, values } => ("enum", format!("{} ({values} values)", shown(path))),
                Detail::Format { path, format } => ("format", format!("{}: {format}", shown(path))),
            });
        }
        for a in &c.ambiguous {
            lines.push(("not declared", format!("{}: keys of {}, which one?", shown(&a.path), a.collections.join(" and "))));
        }
        lines
    }
}

impl Render for Report {
    fn json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Line<'a> {
            init: &'a Report,
        }
        serde_json::to_string(&Line { init: self }).expect("reports always serialize") + "\n"
    }

    fn github(&self, style: &Style) -> String {
        let mut out = String::new();
        for c in &self.collections {
            let file = format!("{}{}", style.github_prefix, c.file);
            let text: Vec<String> = Self::lines(c).into_iter().map(|(what, line)| format!("{what} {line}")).collect();
            out.push_str(&notice("seedc init", Some(&file), &text.join("; ")));
            out.push('\n');
        }
        out.push_str(&notice("seedc init", None, &self.status().unwrap_or_default()));
        out.push('\n');
        out
    }

    fn human(&self, style: &Style) -> String {
        let mut out = String::new();
        if self.example {
            out.push_str("no seed file in data/seeds/: starting with an example collection\n\n");
        }
        for c in &self.collections {
            out.push_str(&format!("{}  {} records in {}\n", c.name, c.records, shown(&c.file)));
            if !style.quiet {
                for (what, line) in Self::lines(c) {
                    out.push_str(&format!("  {what:<12} {line}\n"));
                }
            }
        }
        if !self.collections.is_empty() {
            out.push('\n');
        }
        for file in &self.wrapped {
            out.push_str(&format!("{} {} (its records in the envelope)\n", self.verb(), shown(file)));
        }
        for file in &self.written {
            out.push_str(&format!("{} {}\n", self.verb(), shown(file)));
        }
        out
    }

    fn status(&self) -> Option<String> {
        let n = self.collections.len();
        let collections = format!("{n} collection{}", plural(n));
        Some(if self.refused {
            format!("guessed {collections}, but `seedc check` refuses them (below), so nothing was written")
        } else if self.dry_run {
            format!("guessed {collections}; nothing written (--dry-run)")
        } else {
            format!("guessed {collections}: review the guesses (they are meant to be edited), then run `seedc check`")
        })
    }
}
