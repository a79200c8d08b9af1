//! Renders what a build did (the [`Report`]): one line for people (also the step summary's),
//! the `--format github` notice and the JSON object.

use super::write::Report;
use crate::report::{Render, Style};

/// `{"build": ...}` under `--format json`, fields in the report's order.
pub(crate) fn json(report: &Report) -> String {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        build: &'a Report,
    }
    serde_json::to_string(&Line { build: report }).expect("reports always serialize")
}

/// The `::notice` line under `--format github`.
pub(crate) fn github(report: &Report) -> String {
    format!("::notice title=seedc build::{}", outcome(report))
}

/// One line: what was written, reused, removed and cleaned.
pub(crate) fn outcome(report: &Report) -> String {
    if report.nothing_done() {
        return format!("nothing to do: reused everything ({} bundles, {} manifests)", report.bundles_reused, report.manifests_reused);
    }
    let plural = |n: usize, what: &str| format!("{n} {what}{}", crate::report::plural(n));
    let mut text = format!(
        "wrote {}, reused {}; wrote {}, reused {}",
        plural(report.bundles_written, "bundle"),
        report.bundles_reused,
        plural(report.manifests_written, "manifest"),
        report.manifests_reused
    );
    if report.index_written {
        text.push_str("; wrote index.json");
    }
    if report.removed > 0 {
        text.push_str(&format!("; removed {} stale", plural(report.removed, "file")));
    }
    if report.temporaries_removed > 0 {
        text.push_str(&format!("; cleaned {}", plural(report.temporaries_removed, "stray temporary file")));
    }
    if report.lock_written {
        text.push_str("; updated seedc.lock");
    }
    text
}

/// A build's only words for people are its status line; `-q` leaves out the notice.
impl Render for Report {
    fn json(&self) -> String {
        json(self) + "\n"
    }

    fn github(&self, style: &Style) -> String {
        if style.quiet { String::new() } else { github(self) + "\n" }
    }

    fn human(&self, _style: &Style) -> String {
        String::new()
    }

    fn status(&self) -> Option<String> {
        Some(outcome(self))
    }

    fn step_summary(&self) -> Option<String> {
        Some(format!("{}\n", outcome(self)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_outcomes() {
        let nothing = Report { bundles_reused: 3, manifests_reused: 2, ..Report::default() };
        let one = Report { checked: true, bundles_written: 1, bundles_reused: 2, manifests_written: 1, ..Report::default() };
        let all = Report {
            checked: true,
            bundles_written: 2,
            manifests_written: 3,
            manifests_reused: 1,
            index_written: true,
            removed: 1,
            temporaries_removed: 2,
            lock_written: true,
            ..Report::default()
        };
        let text = [&nothing, &one, &all].map(outcome).join("\n");
        insta::assert_snapshot!(text);
    }
}
