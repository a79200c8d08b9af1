//! Whether a saved plan still holds, and if not, exactly why: each check returns the
//! refusal (exit 4, nothing written) naming what changed since the plan was made. They run
//! in the order a deploy meets them: the environment and the content before any connection,
//! the database's identity and deploy history under the deploy lock, the rows after
//! deciding again.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::Value;

use super::{CollectionRows, ContentState, RowPlan, SavedPlan};
use crate::db::{LastDeploy, registry};
use crate::deploy::content::Content;
use crate::deploy::report::{Op, Plan};
use crate::exit::{Exit, ExitError};
use crate::json::fielddiff;
use crate::report::{shown, shown_json};

/// What every refusal ends with.
const REMAKE: &str = "make a new plan (`seedc deploy --dry-run --save-plan FILE`), review it, and apply that one";

/// Rows named in a refusal, at most; then how many more.
const MAX_ROWS: usize = 20;

fn refuse(lines: &[String]) -> anyhow::Error {
    ExitError::new(Exit::Refused, format!("refusing to apply a stale plan; nothing was written\n  {}\n  {REMAKE}", lines.join("\n  ")))
}

fn env_name(env: Option<&str>) -> String {
    env.map_or("no environment".to_owned(), |e| format!("environment {}", shown(e)))
}

/// The plan was made for the environment this deploy is for.
pub(crate) fn environment(saved: &SavedPlan, env: Option<&str>) -> Result<()> {
    if saved.environment.as_deref() == env {
        return Ok(());
    }
    Err(refuse(&[format!(
        "the plan was made for {}, and this deploy is for {} (--env, SEEDC_ENV)",
        env_name(saved.environment.as_deref()),
        env_name(env)
    )]))
}

/// The content root is still the planned content: every collection at the same version and
/// hash, the same packs and manifests.
pub(crate) fn content(saved: &SavedPlan, content: &Content) -> Result<()> {
    let now = ContentState::of(content);
    let planned = &saved.against.content;
    if *planned == now {
        return Ok(());
    }
    let mut lines = vec!["the content root is no longer the planned content:".to_owned()];
    let before: BTreeMap<&str, _> = planned.collections.iter().map(|c| (c.name.as_str(), c)).collect();
    let after: BTreeMap<&str, _> = now.collections.iter().map(|c| (c.name.as_str(), c)).collect();
    for name in before.keys().chain(after.keys()).collect::<std::collections::BTreeSet<_>>() {
        match (before.get(name), after.get(name)) {
            (Some(b), Some(a)) if b == a => {}
            (Some(b), Some(a)) if b.version == a.version => {
                lines.push(format!("  {}: changed at version {} ({} planned, {} now)", shown(name), shown(&a.version), b.hash, a.hash));
            }
            (Some(b), Some(a)) => {
                lines.push(format!("  {}: version {} planned, {} now", shown(name), shown(&b.version), shown(&a.version)))
            }
            (Some(_), None) => lines.push(format!("  {}: planned, and no longer in the content root", shown(name))),
            (None, Some(_)) => lines.push(format!("  {}: in the content root, and not in the plan", shown(name))),
            (None, None) => {}
        }
    }
    if planned.packs != now.packs {
        lines.push("  the content packs differ from the planned ones".to_owned());
    }
    if planned.manifests != now.manifests {
        let ids = |m: &[super::ManifestState]| m.iter().map(|m| shown(&m.id).to_string()).collect::<Vec<_>>().join(", ");
        lines.push(format!("  the manifests differ: planned {}; now {}", or_none(ids(&planned.manifests)), or_none(ids(&now.manifests))));
    }
    Err(refuse(&lines))
}

fn or_none(text: String) -> String {
    if text.is_empty() { "none".to_owned() } else { text }
}

fn deploy_line(d: &LastDeploy) -> String {
    format!("deploy #{} at {} (content version {})", d.id, d.at, d.content_version)
}

/// Under the deploy lock, before migrating: the plan is for this database and schema, was
/// not applied already, and no deploy came after it.
pub(crate) fn database(saved: &SavedPlan, tx: &mut postgres::Transaction, schema: &str) -> Result<()> {
    let against = &saved.against;
    if against.schema != schema {
        return Err(refuse(&[format!(
            "the plan was made for seedc's schema {}, and this deploy uses {} ([deploy] schema)",
            shown(&against.schema),
            shown(schema)
        )]));
    }
    let id = registry::database_id(tx, schema)?;
    if let Some(planned) = &against.database
        && id.as_ref() != Some(planned)
    {
        let this =
            id.map_or("a database seedc has no identity for (never deployed to)".to_owned(), |id| format!("database {}", shown(&id)));
        return Err(refuse(&[format!("the plan was made for database {}; this is {this}", shown(planned))]));
    }
    if let Some(applied) = registry::deploy_of_plan(tx, schema, &saved.digest)? {
        return Err(refuse(&[format!("this plan was applied already, by {}", deploy_line(&applied))]));
    }
    let last = if crate::db::migrate::schema_version(tx, schema)? > 0 { registry::last_deploy(tx, schema)? } else { None };
    if last != against.last_deploy {
        let made = against.last_deploy.as_ref().map_or("before any deploy".to_owned(), |d| format!("after deploy #{}", d.id));
        let now = last.as_ref().map_or("has no deploy record".to_owned(), |d| format!("was last deployed by {}", deploy_line(d)));
        return Err(refuse(&[format!("another deploy since the plan: it was made {made}, and the database {now}")]));
    }
    Ok(())
}

/// After deciding again: the rows the new decision writes, and their stored state, are the
/// plan's; otherwise something wrote them (or others) outside seedc since the plan.
pub(crate) fn rows(saved: &SavedPlan, fresh: &[CollectionRows], plan: &Plan, content: &Content) -> Result<()> {
    let mut lines = Vec::new();
    for (now, p) in fresh.iter().zip(&content.collections) {
        let Some(then) = saved.rows.iter().find(|c| c.collection == now.collection) else {
            lines.push(format!("{}: not in the plan", shown(&now.collection)));
            continue;
        };
        if then.table_exists != now.table_exists {
            let what = if now.table_exists { "was created" } else { "was dropped" };
            lines.push(format!("{}: its table {} {what} outside seedc since the plan", shown(&now.collection), shown(&now.table)));
            continue;
        }
        if then.recorded != now.recorded {
            lines.push(format!("{}: seedc's record of the collection changed since the plan", shown(&now.collection)));
        }
        if then.rows == now.rows {
            continue;
        }
        let record = |id: &str| -> Option<Value> {
            let i = p.rows.iter().position(|r| r.id == id)?;
            p.records[i].value().cloned().or_else(|| serde_json::from_slice(p.rows[i].canonical).ok())
        };
        let edits = edited(&then.rows, &now.rows, record);
        if !edits.is_empty() {
            let n = edits.len();
            lines.push(format!("rows of {} (table {}) written outside seedc since the plan:", shown(&now.collection), shown(&now.table)));
            lines.extend(edits.into_iter().take(MAX_ROWS).map(|e| format!("  {e}")));
            if n > MAX_ROWS {
                lines.push(format!("  and {} more", n - MAX_ROWS));
            }
        }
    }
    if lines.is_empty() {
        // Writes outside seedc that left every planned row as it was (undone, or a TRUNCATE
        // and reload): the drift triggers noted them all the same.
        for (then, now) in saved.plan.collections.iter().zip(&plan.collections) {
            // As the plan file holds it: the marker's sequence number and keys are not saved.
            let same = serde_json::to_value(&then.drift).ok() == serde_json::to_value(&now.drift).ok();
            if !same && let Some(d) = &now.drift {
                lines.push(format!(
                    "{}: written outside seedc since the plan ({} statement{} ({}) between {} and {})",
                    shown(&now.collection),
                    d.statements,
                    crate::report::plural(d.statements as usize),
                    d.ops.iter().map(|o| shown(o).to_string()).collect::<Vec<_>>().join(", "),
                    shown(&d.since),
                    shown(&d.last)
                ));
            }
        }
    }
    if lines.is_empty() {
        // Every row and record as planned: any other difference is still a plan that is not
        // the reviewed one.
        let mut planned = saved.plan.clone();
        planned.dry_run = plan.dry_run;
        let (a, b) = (serde_json::to_value(&planned)?, serde_json::to_value(plan)?);
        if a == b {
            return Ok(());
        }
        let differing =
            planned.collections.iter().zip(&plan.collections).find(|(x, y)| serde_json::to_value(x).ok() != serde_json::to_value(y).ok());
        lines.push(match differing {
            Some((c, _)) => format!("the database no longer gives the planned plan for {}", shown(&c.collection)),
            None => "the database no longer gives the planned plan (packs, manifests or rollbacks)".to_owned(),
        });
    }
    Err(refuse(&lines))
}

/// What was written outside seedc, row by row: `then` are the planned rows, `now` those the
/// new decision writes (both sorted by key); `record` is the content's record of a key.
fn edited(then: &[RowPlan], now: &[RowPlan], record: impl Fn(&str) -> Option<Value>) -> Vec<String> {
    let then: BTreeMap<&str, &RowPlan> = then.iter().map(|r| (r.id.as_str(), r)).collect();
    let now: BTreeMap<&str, &RowPlan> = now.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut out = Vec::new();
    for id in then.keys().chain(now.keys()).collect::<std::collections::BTreeSet<_>>() {
        let (t, n) = (then.get(id).copied(), now.get(id).copied());
        if t == n {
            continue;
        }
        let key = shown(id);
        let line = match (t, n) {
            // Still written, but the stored row is not the one planned on.
            (Some(t), Some(n)) if t.op == n.op => match (&t.stored, &n.stored) {
                (Some(a), Some(b)) => format!("{key}: changed outside seedc: {}", fields(&a.data, &b.data)),
                _ => format!("{key}: changed outside seedc"),
            },
            (Some(t), Some(n)) => match (t.op, n.op, &n.stored) {
                (Op::Insert, _, Some(b)) => {
                    format!("{key}: added outside seedc: {}", crate::report::shorten(&shown_json(&b.data).to_string(), 120))
                }
                (_, Op::Insert, _) => format!("{key}: deleted outside seedc"),
                _ => format!("{key}: changed outside seedc"),
            },
            (Some(t), None) => match t.op {
                Op::Insert => format!("{key}: added outside seedc (with the planned content)"),
                Op::Delete => format!("{key}: deleted outside seedc"),
                _ => format!("{key}: changed outside seedc (it now holds the planned content)"),
            },
            (None, Some(n)) => match (n.op, &n.stored) {
                (Op::Insert, _) => format!("{key}: deleted outside seedc"),
                (Op::Delete, _) => format!("{key}: added outside seedc"),
                (_, Some(b)) => match record(id) {
                    Some(seeds) => format!("{key}: changed outside seedc: {}", fields(&seeds, &b.data)),
                    None => format!("{key}: changed outside seedc"),
                },
                _ => format!("{key}: changed outside seedc"),
            },
            (None, None) => continue,
        };
        out.push(line);
    }
    out
}

/// `pointer: old -> new` of every field that differs, or what else did.
fn fields(old: &Value, new: &Value) -> String {
    let changes = fielddiff::field_changes(old, new);
    if changes.is_empty() {
        return "its content_hash column".to_owned();
    }
    let show = |v: &Option<Value>| v.as_ref().map_or("(absent)".to_owned(), |v| shown_json(v).to_string());
    let mut parts: Vec<String> =
        changes.iter().take(5).map(|f| format!("{} {} -> {}", shown(f.pointer.as_str()), show(&f.old), show(&f.new))).collect();
    if changes.len() > 5 {
        parts.push(format!("and {} more fields", changes.len() - 5));
    }
    parts.join(", ")
}
