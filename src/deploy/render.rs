//! Renders a deploy's [`Report`]: the plan for people (with `-v`, record and field
//! changes), the one-line outcome, the `--format github` notice and the JSON object.

use super::{CollectionPlan, Op, Report};
use crate::render::{Render, Style};

/// `{"deploy": ...}` under `--format json`.
pub fn json(report: &Report) -> String {
    serde_json::json!({ "deploy": report }).to_string()
}

/// The `::notice` line under `--format github`.
pub fn github(report: &Report) -> String {
    format!("::notice title=seedc deploy::{}", outcome(report))
}

/// The plan, one line per collection; `details` (`-v`) adds each record and field change.
pub fn plan(report: &Report, details: bool) -> String {
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

/// One line saying what happened: nothing, a dry run, or the deploy and its cache flush.
pub fn outcome(report: &Report) -> String {
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
        text.push_str(&format!("; {}", crate::flush_render::outcome(&report.flush)));
    }
    if let Some(published) = &report.publish {
        text.push_str(&format!("; published {}", crate::publish::render::outcome(published)));
    }
    text
}

/// `-q` leaves out the plan and the notice, never the JSON.
impl Render for Report {
    fn json(&self) -> String {
        json(self) + "\n"
    }

    fn github(&self, style: &Style) -> String {
        if style.quiet { String::new() } else { github(self) + "\n" }
    }

    fn human(&self, style: &Style) -> String {
        if style.quiet { String::new() } else { plan(self, style.verbose) }
    }

    fn status(&self) -> Option<String> {
        Some(outcome(self))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::deploy::{Counts, Plan, RecordChange};
    use crate::fielddiff::field_changes;
    use crate::flush::FlushReport;

    fn collection(name: &str, previous: Option<&str>, changes: Vec<RecordChange>) -> CollectionPlan {
        CollectionPlan {
            collection: name.to_owned(),
            table: format!("seed_{name}"),
            version: "1.1.0".to_owned(),
            previous_version: previous.map(str::to_owned),
            inserted: changes.iter().filter(|c| c.op == Op::Insert).count(),
            updated: changes.iter().filter(|c| c.op == Op::Update).count(),
            deleted: changes.iter().filter(|c| c.op == Op::Delete).count(),
            kept: 0,
            unchanged: 40,
            changed: !changes.is_empty(),
            changes,
        }
    }

    /// A deploy of three collections: one with every kind of record change, one new, one
    /// untouched apart from a record `--no-prune` kept.
    fn report() -> Report {
        let old = json!({"hp": 12, "loot": [{"item": "axe"}], "tags": {"a/b": "x"}});
        let new = json!({"hp": 14, "loot": [{"item": "axe"}, {"item": "coin"}], "tags": {}});
        let enemies = collection(
            "enemies",
            Some("1.0.0"),
            vec![
                RecordChange { id: "bat".to_owned(), op: Op::Insert, fields: Vec::new() },
                RecordChange { id: "goblin_scout".to_owned(), op: Op::Update, fields: field_changes(&old, &new) },
                RecordChange { id: "slime".to_owned(), op: Op::Delete, fields: Vec::new() },
            ],
        );
        let items = collection("items", None, vec![RecordChange { id: "coin".to_owned(), op: Op::Insert, fields: Vec::new() }]);
        let mut levels = collection("levels", Some("1.1.0"), Vec::new());
        levels.kept = 1;
        Report {
            plan: Plan {
                dry_run: false,
                content_version: "sha256:0123abcd".to_owned(),
                collections: vec![enemies, items, levels],
                packs: Counts { new: 1, unchanged: 2 },
                manifests: Counts { new: 2, unchanged: 0 },
            },
            build: None,
            committed: true,
            deploy_id: Some(7),
            flush: FlushReport { deploys: vec![6, 7], keys_removed: 3, version: Some("sha256:0123abcd".to_owned()) },
            flush_error: None,
            publish: None,
        }
    }

    #[test]
    fn plan_for_people() {
        insta::assert_snapshot!(format!("{}{}", plan(&report(), false), outcome(&report())));
    }

    #[test]
    fn plan_for_people_with_details() {
        insta::assert_snapshot!(plan(&report(), true));
    }

    #[test]
    fn outcomes() {
        let mut dry = report();
        dry.plan.dry_run = true;
        let mut noop = report();
        noop.deploy_id = None;
        noop.flush = FlushReport::default();
        let mut pending = report();
        pending.flush_error = Some("redis is down".to_owned());
        let text = [&dry, &noop, &pending, &report()].map(outcome).join("\n");
        insta::assert_snapshot!(text);
    }
}
