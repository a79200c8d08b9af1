//! Renders a [`Status`]: for people, one line per collection and the records that differ
//! (their fields with `-v`); one JSON object under `--format json`; a notice or warning
//! under `--format github`.

use super::{CollectionStatus, Status};
use crate::db::Triggers;
use crate::deploy::render::{list, record_change};
use crate::report::plural;
use crate::report::{Render, Style};

/// At most this many records are listed per collection for people (JSON lists them all).
const SHOWN: usize = 20;

/// `{"status": ...}` under `--format json`.
pub(crate) fn json(status: &Status) -> String {
    serde_json::json!({ "status": status }).to_string()
}

/// The verdict in one line.
pub(crate) fn outcome(status: &Status) -> String {
    if status.mirrors {
        return format!("the database mirrors the content root{}", if status.full { " (every row compared)" } else { "" });
    }
    let differ: Vec<&str> = status.collections.iter().filter(|c| !c.mirrors).map(|c| c.collection.as_str()).collect();
    let mut why = Vec::new();
    if !differ.is_empty() {
        why.push(format!("{} differ{}: {}", differ.len(), if differ.len() == 1 { "s" } else { "" }, differ.join(", ")));
    }
    if !status.pending_flushes.is_empty() {
        why.push("a cache flush is pending (`seedc flush`)".to_owned());
    }
    format!("the database does not mirror the content root: {}", why.join("; "))
}

/// The report for people: the last deploy, one line per collection, the records that
/// differ (with `details`, their fields), the pending flushes.
pub(crate) fn human(status: &Status, details: bool) -> String {
    let mut out = match &status.last_deploy {
        None => format!("no deploy recorded in schema {:?}\n", status.schema),
        Some(d) => format!(
            "last deploy #{} at {}{}, content version {}\n",
            d.id,
            d.at,
            if d.rollback { " (a rollback)" } else { "" },
            d.content_version
        ),
    };
    out.push_str(&format!("seeds' content version {}\n", status.content_version));
    let width = status.collections.iter().map(|c| c.collection.len()).max().unwrap_or(0);
    for c in &status.collections {
        out.push_str(&format!("  {:width$}  {}\n", c.collection, collection_line(c)));
        for r in c.changes.iter().take(SHOWN) {
            let text = record_change(r);
            if details {
                out.push_str(&text);
            } else {
                out.push_str(text.lines().next().unwrap_or_default());
                out.push('\n');
            }
        }
        if c.changes.len() > SHOWN {
            out.push_str(&format!("      … and {} more (--format json lists them all)\n", c.changes.len() - SHOWN));
        }
    }
    if status.pending_flushes.is_empty() {
        out.push_str("  cache flushes: none pending\n");
    } else {
        let ids: Vec<String> = status.pending_flushes.iter().map(|d| format!("#{d}")).collect();
        out.push_str(&format!("  cache flushes pending for deploy{} {} (`seedc flush` completes them)\n", plural(ids.len()), list(&ids)));
    }
    out
}

fn collection_line(c: &CollectionStatus) -> String {
    let version = match &c.deployed_version {
        None => format!("{} not deployed", c.version),
        Some(v) if *v != c.version => format!("{v} deployed, seeds at {}", c.version),
        Some(v) if !c.deployed => format!("{v} deployed with other content than the seeds'"),
        Some(v) => format!("{v} deployed"),
    };
    let mut parts = vec![version];
    if let Some(m) = &c.drift {
        let rows = m.rows.map_or("rows".to_owned(), |n| format!("{n} row{}", plural(n as usize)));
        parts.push(format!(
            "written outside seedc ({} by {} statement{} since {})",
            rows_ops(&rows, &m.ops),
            m.statements,
            plural(m.statements as usize),
            m.since
        ));
    }
    if c.compared {
        parts.push(if c.differ == 0 && c.drifted == 0 {
            "every row's data matches the seeds".to_owned()
        } else {
            format!("{} row{} differ{} ({} drifted)", c.differ, plural(c.differ), if c.differ == 1 { "s" } else { "" }, c.drifted)
        });
    }
    match c.triggers {
        Some(Triggers::Missing) => parts.push("drift triggers missing (the next deploy adds them)".to_owned()),
        Some(Triggers::Disabled) => parts.push("drift triggers disabled: writes go unnoticed (--full compares the data)".to_owned()),
        _ => {}
    }
    parts.push(if c.mirrors { "mirrors".to_owned() } else { "differs".to_owned() });
    parts.join("; ")
}

fn rows_ops(rows: &str, ops: &[String]) -> String {
    format!("{rows}, {}", ops.join("/"))
}

impl Render for Status {
    fn json(&self) -> String {
        json(self) + "\n"
    }

    fn github(&self, _style: &Style) -> String {
        let level = if self.mirrors { "notice" } else { "warning" };
        format!("::{level} title=seedc status::{}\n", outcome(self))
    }

    fn human(&self, style: &Style) -> String {
        if style.quiet { String::new() } else { human(self, style.verbose) }
    }

    fn status(&self) -> Option<String> {
        Some(outcome(self))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::db::{DriftMarker, LastDeploy};
    use crate::deploy::{Op, RecordChange};
    use crate::json::fielddiff::field_changes;

    fn collection(name: &str) -> CollectionStatus {
        CollectionStatus {
            collection: name.to_owned(),
            table: name.to_owned(),
            version: "1.3.0".to_owned(),
            deployed_version: Some("1.3.0".to_owned()),
            deployed: true,
            compared: false,
            triggers: Some(Triggers::Enabled),
            drift: None,
            differ: 0,
            drifted: 0,
            changes: Vec::new(),
            mirrors: true,
        }
    }

    /// A database where enemies was edited and items lost a row outside seedc, races is a
    /// version behind and traps' triggers are disabled.
    fn status() -> Status {
        let mut enemies = collection("enemies");
        enemies.drift = Some(DriftMarker {
            seq: 1,
            since: "2026-01-25T10:00:00Z".to_owned(),
            last: "2026-01-25T10:00:00Z".to_owned(),
            statements: 1,
            rows: Some(1),
            keys: Some(vec!["goblin_scout".to_owned()]),
            ops: vec!["UPDATE".to_owned()],
        });
        enemies.compared = true;
        (enemies.differ, enemies.drifted, enemies.mirrors) = (1, 1, false);
        enemies.changes = vec![RecordChange {
            id: "goblin_scout".to_owned(),
            op: Op::Update,
            drifted: true,
            fields: field_changes(&json!({"hp": 999}), &json!({"hp": 12})),
        }];
        let mut items = collection("items");
        items.compared = true;
        (items.differ, items.drifted, items.mirrors) = (1, 1, false);
        items.changes = vec![RecordChange { id: "rusty_dagger".to_owned(), op: Op::Insert, drifted: true, fields: Vec::new() }];
        let mut races = collection("races");
        (races.version, races.deployed, races.mirrors) = ("1.1.0".to_owned(), false, false);
        let mut traps = collection("traps");
        traps.triggers = Some(Triggers::Disabled);
        Status {
            mirrors: false,
            full: false,
            schema: "seedc".to_owned(),
            content_version: "sha256:0123abcd".to_owned(),
            last_deploy: Some(LastDeploy {
                id: 7,
                at: "2026-01-24T09:00:00Z".to_owned(),
                content_version: "sha256:89ef".to_owned(),
                rollback: false,
            }),
            collections: vec![enemies, items, races, traps, collection("themes")],
            pending_flushes: vec![7],
        }
    }

    #[test]
    fn status_for_people() {
        let s = status();
        insta::assert_snapshot!(format!("{}{}\n---\n{}", human(&s, false), outcome(&s), human(&s, true)));
    }

    #[test]
    fn a_mirror_says_so() {
        let mut s = status();
        s.collections = vec![collection("enemies")];
        s.pending_flushes.clear();
        s.mirrors = true;
        insta::assert_snapshot!(format!("{}{}", human(&s, false), outcome(&s)));
    }
}
