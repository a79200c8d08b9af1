//! `seedc show PLAN`: a saved plan for review, without a database. For people, what the
//! dry run that made it printed with `-v`, under a header saying what it was made against;
//! `--format json`, the plan file itself on one line; `--format markdown`, a pull-request
//! comment: an overview table, one table of record and field changes per collection, drift
//! repairs called out.

use super::SavedPlan;
use crate::deploy::report::{CollectionPlan, Op, RecordChange};
use crate::diff::render::markdown::{VALUE_WIDTH, code, section};
use crate::diff::render::{delta_text, short_value};
use crate::report::{Render, Style, plural, shown};

/// Rows of the markdown report, at most (GitHub refuses a comment over 65,536 characters).
const MAX_ROWS: usize = 300;
const ALL: &str = "`seedc show --format json` lists them all";

/// What the plan was made against, one line each.
fn header(saved: &SavedPlan) -> Vec<String> {
    let a = &saved.against;
    let mut lines = vec![format!("plan {} made {} by seedc {}", saved.digest, shown(&saved.made_at), shown(&saved.seedc_version))];
    if let Some(env) = &saved.environment {
        lines.push(format!("environment {}", shown(env)));
    }
    lines.push(match &a.database {
        Some(id) => format!("database {} (seedc schema {})", shown(id), shown(&a.schema)),
        None => format!("a database seedc had not given an identity yet (seedc schema {})", shown(&a.schema)),
    });
    lines.push(match &a.last_deploy {
        Some(d) => format!("after deploy #{} at {} (content version {})", d.id, shown(&d.at), shown(&d.content_version)),
        None => "before any deploy".to_owned(),
    });
    if !saved.options.dates.is_empty() {
        lines.push(format!("dailies for {}", saved.options.dates.iter().map(|d| shown(d).to_string()).collect::<Vec<_>>().join(", ")));
    }
    let mut flags = Vec::new();
    if !saved.options.prune {
        flags.push("--no-prune");
    }
    if saved.options.full {
        flags.push("--full");
    }
    if saved.options.allow_rollback {
        flags.push("--allow-rollback");
    }
    if !flags.is_empty() {
        lines.push(format!("made with {}", flags.join(" ")));
    }
    lines
}

pub(crate) fn human(saved: &SavedPlan) -> String {
    let mut out: String = header(saved).into_iter().map(|l| l + "\n").collect();
    let mut plan = saved.plan.clone();
    plan.dry_run = false;
    out.push_str(&crate::deploy::render::plan(&plan, true));
    out
}

fn op_text(r: &RecordChange) -> &'static str {
    match (r.op, r.drifted) {
        (Op::Insert, false) => "*inserted*",
        (Op::Update, false) => "*updated*",
        (Op::Delete, false) => "*deleted*",
        (Op::Insert, true) => "*restored* (deleted outside seedc)",
        (Op::Update, true) => "*restored* (changed outside seedc)",
        (Op::Delete, true) => "*deleted* (added outside seedc)",
        (Op::Keep, _) => "*kept* (added outside seedc, `--no-prune`)",
    }
}

fn version(c: &CollectionPlan) -> String {
    match &c.previous_version {
        Some(v) if *v != c.version => format!("{} → **{}**", code(v), code(&c.version)),
        Some(_) => code(&c.version),
        None => format!("**{}** (new)", code(&c.version)),
    }
}

pub(crate) fn markdown(saved: &SavedPlan) -> String {
    let plan = &saved.plan;
    let mut out = "### seedc deploy plan\n\n".to_owned();
    for line in header(saved) {
        out.push_str(&format!("- {}\n", escape(&crate::report::printable(&line))));
    }
    out.push('\n');
    if plan.is_noop() {
        out.push_str("No changes: the database already holds this content.\n");
        return out;
    }
    let drifted: usize = plan.collections.iter().map(|c| c.drifted).sum();
    if drifted > 0 {
        out.push_str(&format!(
            "> [!WARNING]\n> {drifted} row{} written outside seedc (a hot-fix in SQL?) will be put back to the seeds' content: {}.\n\n",
            plural(drifted),
            plan.collections
                .iter()
                .filter(|c| c.drifted > 0)
                .map(|c| format!("{} in {}", c.drifted, code(&c.collection)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out.push_str(
        "| collection | version | inserted | updated | deleted | unchanged | drift repaired |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    for c in plan.collections.iter().filter(|c| c.changed) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            code(&c.collection),
            version(c),
            c.inserted,
            c.updated,
            c.deleted,
            c.unchanged,
            c.drifted
        ));
    }
    let unchanged = plan.collections.iter().filter(|c| !c.changed).count();
    out.push_str(&format!(
        "\n{unchanged} other collection{} unchanged. Packs: {} new, {} already published; manifests: {} new, {} already published.\n",
        plural(unchanged),
        plan.packs.new,
        plan.packs.unchanged,
        plan.manifests.new,
        plan.manifests.unchanged
    ));
    let mut budget = MAX_ROWS;
    for c in plan.collections.iter().filter(|c| !c.changes.is_empty()) {
        let mut rows = Vec::new();
        for r in &c.changes {
            if r.fields.is_empty() {
                rows.push(format!("| {} | {} | | | | |", code(&r.id), op_text(r)));
            }
            for f in &r.fields {
                let show =
                    |v: &Option<serde_json::Value>| v.as_ref().map_or_else(|| "—".to_owned(), |v| code(&short_value(v, VALUE_WIDTH)));
                rows.push(format!(
                    "| {} | {} | {} | {} | {} | {} |",
                    code(&r.id),
                    op_text(r),
                    code(f.pointer.as_str()),
                    show(&f.old),
                    show(&f.new),
                    delta_text(f).unwrap_or_default()
                ));
            }
        }
        let title = format!("{} {}", code(&c.collection), version(c));
        section(&mut out, &title, "| record | change | field | stored | seeds | Δ |\n|---|---|---|---|---|---|", &rows, &mut budget, ALL);
    }
    if !plan.rollbacks.is_empty() {
        out.push_str("\n> [!CAUTION]\n> This plan rolls back ");
        let list: Vec<String> =
            plan.rollbacks.iter().map(|r| format!("{} from {} to {}", code(&r.collection), code(&r.from), code(&r.to))).collect();
        out.push_str(&list.join(", "));
        out.push_str(" (`--allow-rollback`).\n");
    }
    out
}

/// Text outside a code span, its Markdown punctuation backslash-escaped (GFM).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '<' | '>' | '|' | '[' | ']' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A saved plan, shown.
pub(crate) struct Show(pub SavedPlan);

impl Render for Show {
    fn json(&self) -> String {
        serde_json::json!({ "plan": &self.0 }).to_string() + "\n"
    }

    fn github(&self, _style: &Style) -> String {
        let plan = &self.0.plan;
        let n = plan.changed_collections().count();
        format!("::notice title=seedc plan::{} collection{} change ({})\n", n, plural(n), self.0.digest)
    }

    fn human(&self, _style: &Style) -> String {
        human(&self.0)
    }

    fn markdown(&self) -> Option<String> {
        Some(markdown(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// A plan for environment `production` after deploy #41: a seeds change of `enemies`
    /// (an update, an insert, a delete), a drift repair, and a new collection.
    fn saved() -> SavedPlan {
        let collection = |name: &str, previous: Option<&str>, changes: Value| {
            let changes: Vec<Value> = changes.as_array().unwrap().clone();
            let count = |op: &str| changes.iter().filter(|c| c["op"] == op).count();
            json!({
                "collection": name, "table": name, "version": "1.3.1", "previous_version": previous,
                "inserted": count("insert"), "updated": count("update"), "deleted": count("delete"), "kept": 0,
                "unchanged": 25, "drifted": changes.iter().filter(|c| c["drifted"] == true).count(),
                "changed": !changes.is_empty(), "changes": changes,
            })
        };
        let enemies = collection(
            "enemies",
            Some("1.3.0"),
            json!([
                { "id": "bat", "op": "insert" },
                { "id": "goblin_scout", "op": "update", "fields": [{ "pointer": "/hp", "old": 12, "new": 13 }, { "pointer": "/name", "old": "Goblin | Scout", "new": "Goblin Scout" }] },
                { "id": "ogre", "op": "update", "drifted": true, "fields": [{ "pointer": "/hp", "old": 999, "new": 40 }] },
                { "id": "slime", "op": "delete" }
            ]),
        );
        let traps = collection("traps", None, json!([{ "id": "pit", "op": "insert" }]));
        let items = collection("items", Some("1.1.0"), json!([]));
        let hash = format!("sha256:{}", "ab".repeat(32));
        let value = json!({
            "format": "seedc-plan", "v": 1, "seedc_version": "0.1.0", "made_at": "2026-12-07T10:00:00Z",
            "environment": "production",
            "options": { "prune": true, "full": false, "allow_rollback": false, "dates": ["2026-12-08"] },
            "against": {
                "database": "834fbfcc-2f75-4a4a-bf1b-46345c4b1634", "schema": "seedc",
                "last_deploy": { "id": 41, "at": "2026-12-06T18:30:00Z", "content_version": "sha256:0123", "rollback": false },
                "content": { "version": "sha256:4567", "collections": [], "packs": [], "manifests": [] }
            },
            "plan": {
                "dry_run": true, "content_version": "sha256:4567", "collections": [enemies, items, traps],
                "packs": { "new": 0, "unchanged": 4 }, "manifests": { "new": 1, "unchanged": 0 }
            },
            "rows": [],
            "digest": hash,
        });
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn for_people() {
        insta::assert_snapshot!(human(&saved()));
    }

    #[test]
    fn for_a_pull_request() {
        insta::assert_snapshot!(markdown(&saved()));
    }

    #[test]
    fn as_json_it_is_the_plan_file_on_one_line() {
        let text = Show(saved()).json();
        assert_eq!(text.lines().count(), 1);
        let back: Value = serde_json::from_str(&text).unwrap();
        let plan: SavedPlan = serde_json::from_value(back["plan"].clone()).unwrap();
        assert_eq!(serde_json::to_value(&plan).unwrap(), serde_json::to_value(saved()).unwrap(), "it reads back as the same plan");
    }

    #[test]
    fn a_plan_with_no_changes_says_so() {
        let mut s = saved();
        for c in &mut s.plan.collections {
            c.changed = false;
            c.changes.clear();
        }
        s.plan.manifests.new = 0;
        assert!(markdown(&s).contains("No changes: the database already holds this content."));
    }
}
