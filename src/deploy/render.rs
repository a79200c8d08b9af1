//! Renders a deploy's [`Report`]: the plan for people (with `-v`, record and field
//! changes), the one-line outcome, the `--format github` notice and the JSON object.

use super::{CollectionPlan, Op, Plan, RecordChange, Report};
use crate::report::{Render, Style, plural, shown, shown_json};

/// `{"deploy": ...}` under `--format json`.
pub(crate) fn json(report: &Report) -> String {
    serde_json::json!({ "deploy": report }).to_string()
}

/// The `::notice` line under `--format github`.
pub(crate) fn github(report: &Report) -> String {
    format!("::notice title=seedc deploy::{}", outcome(report))
}

/// The plan, one line per collection; `details` (`-v`) adds each record and field change.
pub(crate) fn plan(plan: &Plan, details: bool) -> String {
    let width = plan.collections.iter().map(|c| shown(&c.collection).to_string().chars().count()).max().unwrap_or(0);
    let mut out = format!("{}plan for content version {}\n", if plan.dry_run { "dry run: " } else { "" }, shown(&plan.content_version));
    for c in &plan.collections {
        out.push_str(&format!(
            "  {:width$}  {:>6} inserted {:>6} updated {:>6} deleted {:>6} unchanged{}{}{}\n",
            shown(&c.collection),
            c.inserted,
            c.updated,
            c.deleted,
            c.unchanged,
            if c.kept > 0 { format!(" ({} kept by --no-prune)", c.kept) } else { String::new() },
            if c.drifted > 0 { format!(", {} drifted (written outside seedc)", c.drifted) } else { String::new() },
            version_change(c),
        ));
        if !c.foreign_kept.is_empty() {
            out.push_str(&format!("      rows added outside seedc, kept by --no-prune: {}\n", list(&c.foreign_kept)));
        }
        if details {
            for r in &c.changes {
                out.push_str(&record_change(r));
            }
        }
    }
    out.push_str(&format!(
        "  packs: {} new, {} already published; manifests: {} new, {} already published\n",
        plan.packs.new, plan.packs.unchanged, plan.manifests.new, plan.manifests.unchanged
    ));
    out
}

/// Up to ten keys, then how many more.
pub(crate) fn list(keys: &[String]) -> String {
    let mut text = keys.iter().take(10).map(|k| shown(k).to_string()).collect::<Vec<_>>().join(", ");
    if keys.len() > 10 {
        text.push_str(&format!(" and {} more", keys.len() - 10));
    }
    text
}

/// One record's change (`-v`) with its fields; a repair of drift says what happened outside
/// seedc, and each field reads stored value → seeds' value.
pub(crate) fn record_change(r: &RecordChange) -> String {
    let (sign, outside) = match r.op {
        Op::Insert => ('+', "deleted outside seedc"),
        Op::Update => ('~', "changed outside seedc"),
        Op::Delete => ('-', "added outside seedc"),
        Op::Keep => ('=', "added outside seedc, kept by --no-prune"),
    };
    let id = shown(&r.id);
    let mut out = if r.drifted { format!("      {sign} {id} ({outside})\n") } else { format!("      {sign} {id}\n") };
    for f in &r.fields {
        let show = |v: &Option<serde_json::Value>| v.as_ref().map_or("(absent)".to_owned(), |v| shown_json(v).to_string());
        let why = if r.drifted { " (changed outside seedc)" } else { "" };
        out.push_str(&format!("          {}: {} -> {}{why}\n", shown(f.pointer.as_str()), show(&f.old), show(&f.new)));
    }
    out
}

fn version_change(c: &CollectionPlan) -> String {
    match &c.previous_version {
        Some(v) if *v != c.version => format!("  {} -> {}", shown(v), shown(&c.version)),
        None => format!("  new at {}", shown(&c.version)),
        _ => String::new(),
    }
}

/// One line saying what happened: nothing, a dry run, or the deploy and its cache flush.
pub(crate) fn outcome(report: &Report) -> String {
    let plan = &report.plan;
    if plan.dry_run {
        return match &report.saved_plan {
            Some(saved) => format!(
                "dry run: nothing was written; plan saved to {} ({})",
                shown(saved.file.as_deref().unwrap_or_default()),
                saved.digest
            ),
            None => "dry run: nothing was written".to_owned(),
        };
    }
    let mut text = match report.deploy_id {
        None => "nothing to deploy: the database already holds this content".to_owned(),
        Some(id) => {
            let n = plan.changed_collections().count();
            let drifted: usize = plan.collections.iter().map(|c| c.drifted).sum();
            let mut text = format!("deployed #{id}: {n} collection{} changed", plural(n));
            if let Some(saved) = &report.saved_plan {
                text = format!("deployed #{id} from plan {}: {n} collection{} changed", saved.digest, plural(n));
            }
            if drifted > 0 {
                text.push_str(&format!(", {drifted} drifted row{} repaired", plural(drifted)));
            }
            if !plan.rollbacks.is_empty() {
                let names: Vec<String> = plan.rollbacks.iter().map(|r| shown(&r.collection).to_string()).collect();
                text.push_str(&format!(", rolled back {}", names.join(", ")));
            }
            text
        }
    };
    if report.flush_error.is_some() {
        text.push_str("; the cache flush is pending");
    } else if !report.flush.deploys.is_empty() {
        text.push_str(&format!("; {}", crate::flush::render::outcome(&report.flush)));
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
        if style.quiet { String::new() } else { plan(&self.plan, style.verbose) }
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
    use crate::flush::FlushReport;
    use crate::json::fielddiff::field_changes;

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
            drifted: changes.iter().filter(|c| c.drifted).count(),
            drift: None,
            foreign_kept: Vec::new(),
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
                RecordChange { id: "bat".to_owned(), op: Op::Insert, drifted: false, fields: Vec::new() },
                RecordChange { id: "goblin_scout".to_owned(), op: Op::Update, drifted: false, fields: field_changes(&old, &new) },
                RecordChange { id: "slime".to_owned(), op: Op::Delete, drifted: false, fields: Vec::new() },
            ],
        );
        let items =
            collection("items", None, vec![RecordChange { id: "coin".to_owned(), op: Op::Insert, drifted: false, fields: Vec::new() }]);
        let mut levels = collection("levels", Some("1.1.0"), Vec::new());
        levels.kept = 1;
        Report {
            plan: Plan {
                dry_run: false,
                content_version: "sha256:0123abcd".to_owned(),
                collections: vec![enemies, items, levels],
                packs: Counts { new: 1, unchanged: 2 },
                manifests: Counts { new: 2, unchanged: 0 },
                rollbacks: Vec::new(),
            },
            build: None,
            committed: true,
            deploy_id: Some(7),
            flush: FlushReport { deploys: vec![6, 7], keys_removed: 3, version: Some("sha256:0123abcd".to_owned()) },
            flush_error: None,
            publish: None,
            saved_plan: None,
        }
    }

    #[test]
    fn plan_for_people() {
        insta::assert_snapshot!(format!("{}{}", plan(&report().plan, false), outcome(&report())));
    }

    #[test]
    fn plan_for_people_with_details() {
        insta::assert_snapshot!(plan(&report().plan, true));
    }

    /// A deploy that repairs drift: a row edited outside seedc (hp 999 back to 12), one
    /// deleted, one added and kept by --no-prune, beside a change of the seeds.
    fn drift_report() -> Report {
        let mut r = report();
        let edited = json!({"hp": 999, "name": "Goblin Scout"});
        let seeds = json!({"hp": 12, "name": "Goblin Scout"});
        let change = |id: &str, op, drifted, fields| RecordChange { id: id.to_owned(), op, drifted, fields };
        let mut enemies = collection(
            "enemies",
            Some("1.1.0"),
            vec![
                change("cave_rat", Op::Update, false, field_changes(&json!({"hp": 4}), &json!({"hp": 5}))),
                change("goblin_scout", Op::Update, true, field_changes(&edited, &seeds)),
                change("intruder", Op::Keep, true, Vec::new()),
                change("rusty_dagger", Op::Insert, true, Vec::new()),
            ],
        );
        enemies.foreign_kept = vec!["intruder".to_owned()];
        enemies.kept = 1;
        enemies.unchanged = 25;
        r.plan.collections = vec![enemies];
        r.plan.packs = Counts { new: 0, unchanged: 4 };
        r.plan.manifests = Counts { new: 0, unchanged: 1 };
        r.flush = FlushReport { deploys: vec![7], keys_removed: 2, version: Some("sha256:0123abcd".to_owned()) };
        r
    }

    #[test]
    fn plan_with_drift_for_people() {
        let r = drift_report();
        insta::assert_snapshot!(format!("{}{}\n---\n{}", plan(&r.plan, false), outcome(&r), plan(&r.plan, true)));
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
