//! Renders what `seedc flush` did (the [`FlushReport`]): one JSON object, or one status line
//! for people. Kept beside `flush.rs`, not in it, so the Redis code stays only Redis code.

use crate::flush::FlushReport;
use crate::report::{Render, Style};

/// `{"flush": ...}` under `--format json`.
pub(crate) fn json(report: &FlushReport) -> String {
    serde_json::json!({ "flush": report }).to_string()
}

/// One line for people: which deploys' flushes completed, how many keys went.
pub(crate) fn outcome(report: &FlushReport) -> String {
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

/// A flush has no notice and no plan: its status line is all there is for people.
impl Render for FlushReport {
    fn json(&self) -> String {
        json(self) + "\n"
    }

    fn github(&self, _style: &Style) -> String {
        String::new()
    }

    fn human(&self, _style: &Style) -> String {
        String::new()
    }

    fn status(&self) -> Option<String> {
        Some(outcome(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_outcomes() {
        let none = FlushReport::default();
        let one = FlushReport { deploys: vec![7], keys_removed: 1, version: Some("sha256:ab12".to_owned()) };
        let two = FlushReport { deploys: vec![7, 8], keys_removed: 1200, version: Some("sha256:cd34".to_owned()) };
        let text = [&none, &one, &two].map(|r| format!("{}\n{}", outcome(r), json(r))).join("\n");
        insta::assert_snapshot!(text);
    }
}
