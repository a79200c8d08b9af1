//! The human rendering of a diff: one block per collection and pack, the changed fields of
//! each record aligned in columns, coloured on a TTY.

use crate::report::printable;

use super::super::{Change, Diff, FieldChange, FieldStatus, VersionChange};
use super::{delta_text, dotted, short_hash, short_value, summary_line};

const VALUE_WIDTH: usize = 48;

struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }
    fn added(&self, t: &str) -> String {
        self.paint("32", t)
    }
    fn removed(&self, t: &str) -> String {
        self.paint("31", t)
    }
    fn changed(&self, t: &str) -> String {
        self.paint("33", t)
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
}

pub(crate) fn render(diff: &Diff, color: bool) -> String {
    let p = Paint { color };
    // Keys and pack ids come from the content: printed escaped (values are JSON already).
    let mut out = format!("{} {} → {}\n", p.bold("diff"), printable(&diff.base), printable(&diff.head));
    for c in &diff.collections {
        let status = match c.status {
            Change::Added => p.added("added"),
            Change::Removed => p.removed("removed"),
            Change::Changed => String::new(),
        };
        out.push_str(&format!("\n{} {}{}\n", p.bold(&c.collection), version(&c.version), with_space(&status)));
        let counts = c.counts();
        if !counts.is_empty() {
            out.push_str(&format!("  {}\n", counts.join(", ")));
        }
        for key in &c.added {
            out.push_str(&format!("  {} {}\n", p.added("+"), printable(key)));
        }
        for key in &c.removed {
            out.push_str(&format!("  {} {}\n", p.removed("-"), printable(key)));
        }
        for r in &c.renamed {
            out.push_str(&format!("  {} {} → {} (renamed, content unchanged)\n", p.changed("~"), printable(&r.old), printable(&r.new)));
        }
        for r in &c.changed {
            out.push_str(&format!("  {} {}\n", p.changed("~"), printable(&r.key)));
            fields(&mut out, &p, &r.fields);
        }
    }
    for pack in &diff.packs {
        let status = match pack.status {
            Change::Added => p.added("added"),
            Change::Removed => p.removed("removed"),
            Change::Changed => p.changed("changed"),
        };
        out.push_str(&format!(
            "\n{} {} {}{}\n",
            p.bold("pack"),
            p.bold(&printable(&pack.pack_id)),
            version(&pack.version),
            with_space(&status)
        ));
        fields(&mut out, &p, &pack.fields);
    }
    if !diff.daily_pack_refs.is_empty() {
        out.push_str(&format!("\n{}\n", p.bold("daily manifest pack refs")));
        let width = diff.daily_pack_refs.iter().map(|r| printable(&r.pack_id).chars().count()).max().unwrap_or(0);
        for r in &diff.daily_pack_refs {
            let side = |r: &Option<crate::build::PackRef>| match r {
                Some(r) => format!("{} ({})", r.version, short_hash(&r.hash)),
                None => "(none)".to_owned(),
            };
            let mark = match (&r.old, &r.new) {
                (None, _) => p.added("+"),
                (_, None) => p.removed("-"),
                _ => p.changed("~"),
            };
            out.push_str(&format!("  {mark} {:<width$}  {} → {}\n", printable(&r.pack_id), side(&r.old), side(&r.new)));
        }
    }
    out.push_str(&format!("\n{}\n", summary_line(&diff.summary)));
    out
}

fn with_space(s: &str) -> String {
    if s.is_empty() { String::new() } else { format!(" {s}") }
}

fn version(v: &VersionChange) -> String {
    v.text(str::to_owned)
}

/// The field lines of one record or pack, in three aligned columns: path, old → new, delta.
fn fields(out: &mut String, p: &Paint, fields: &[FieldChange]) {
    let rows: Vec<(String, String, String, Option<String>, FieldStatus)> = fields
        .iter()
        .map(|f| {
            // JSON text escapes C0 controls but not C1 or bidi overrides: printable does.
            let show = |v: &Option<serde_json::Value>| {
                v.as_ref().map_or_else(|| "(none)".to_owned(), |v| printable(&short_value(v, VALUE_WIDTH)).into_owned())
            };
            (printable(&dotted(&f.pointer)).into_owned(), show(&f.old), show(&f.new), delta_text(f), f.status)
        })
        .collect();
    let path_w = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let old_w = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let new_w = rows.iter().filter(|r| r.3.is_some()).map(|r| r.2.chars().count()).max().unwrap_or(0);
    for (path, old, new, delta, status) in rows {
        let new = match status {
            FieldStatus::Added => p.added(&new),
            FieldStatus::Removed => p.removed(&new),
            FieldStatus::Changed => new,
        };
        let line = match delta {
            Some(d) => {
                let pad = " ".repeat(new_w.saturating_sub(strip_len(&new)));
                format!("      {path:<path_w$}  {old:>old_w$} → {new}{pad}  ({d})")
            }
            None => format!("      {path:<path_w$}  {old:>old_w$} → {new}"),
        };
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// The visible width of a possibly coloured text.
fn strip_len(s: &str) -> usize {
    let mut n = 0;
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}
