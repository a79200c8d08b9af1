//! A publish's report for people (a status line, the repairs, the dry run's list) and as
//! one JSON object (`{"publish": ...}`).

use super::{Counts, Report};
use crate::report::{Render, Style};

/// `{"publish": ...}` under `--format json`.
pub(crate) fn json(report: &Report) -> String {
    serde_json::json!({ "publish": report }).to_string()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn counts(c: &Counts) -> String {
    let mut parts = vec![plural(c.bundles, "bundle", "bundles"), plural(c.manifests, "manifest", "manifests")];
    if c.index > 0 {
        parts.push("index.json".to_owned());
    }
    parts.join(", ")
}

/// Bytes for people: `812 B`, `48.2 KiB`, `97.7 MiB`.
pub(crate) fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1 << 20 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
    }
}

/// One line for people: what went where.
pub(crate) fn outcome(report: &Report) -> String {
    let verb = if report.dry_run { "would upload" } else { "uploaded" };
    let up = &report.uploaded;
    let upload = if up.bundles + up.manifests + up.index == 0 {
        format!("{verb} nothing")
    } else {
        format!("{verb} {} ({})", counts(up), size(report.bytes))
    };
    format!("{}: {upload}; already there: {}", report.url, counts(&report.present))
}

impl Render for Report {
    fn json(&self) -> String {
        json(self) + "\n"
    }

    fn github(&self, _style: &Style) -> String {
        self.repaired
            .iter()
            .map(|rel| format!("::warning title=corrupt bundle replaced::{}/{rel} did not match the hash in its name\n", self.url))
            .collect()
    }

    fn human(&self, style: &Style) -> String {
        let mut text = String::new();
        for rel in &self.repaired {
            text.push_str(&format!("repaired {}/{rel}: its bytes did not match the hash in its name\n", self.url));
        }
        if !style.quiet {
            for rel in &self.would_upload {
                text.push_str(&format!("would upload {rel}\n"));
            }
        }
        text
    }

    fn status(&self) -> Option<String> {
        Some(outcome(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_outcomes() {
        let first = Report {
            url: "s3://cdn-origin/ember".into(),
            uploaded: Counts { bundles: 4, manifests: 2, index: 1 },
            bytes: 48_213,
            ..Report::default()
        };
        let noop =
            Report { url: "s3://cdn-origin/ember".into(), present: Counts { bundles: 4, manifests: 2, index: 1 }, ..Report::default() };
        let repair = Report {
            url: "file:///srv/cdn".into(),
            uploaded: Counts { bundles: 1, manifests: 0, index: 0 },
            present: Counts { bundles: 3, manifests: 2, index: 1 },
            bytes: 812,
            repaired: vec!["packs/sha256/ab12.json".into()],
            ..Report::default()
        };
        let dry = Report {
            url: "s3://cdn-origin/ember".into(),
            dry_run: true,
            uploaded: Counts { bundles: 1, manifests: 1, index: 1 },
            bytes: 3 << 20,
            would_upload: vec!["packs/sha256/ab12.json".into(), "manifests/manifest_2026-01-25_daily.json".into(), "index.json".into()],
            ..Report::default()
        };
        let style = Style { color: false, quiet: false, verbose: false, github_prefix: "" };
        let text = [&first, &noop, &repair, &dry].map(|r| format!("{}\n{}{}", outcome(r), r.human(&style), json(r))).join("\n---\n");
        insta::assert_snapshot!(text);
    }
}
