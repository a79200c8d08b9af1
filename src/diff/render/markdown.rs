//! `seedc diff --format markdown`: a report to post as a pull-request comment (or append
//! to the GitHub step summary). An overview table, then one table per collection and pack;
//! a section longer than [`FOLD`] rows is folded into `<details>`.

use super::super::{Change, Diff, FieldChange, VersionChange};
use super::{delta_text, short_hash, short_value, summary_line};

/// Rows above which a section is collapsed.
pub(crate) const FOLD: usize = 10;
/// Rows in the whole report: GitHub refuses a comment over 65,536 characters, and a
/// review of thousands of rows is read in the JSON anyway.
pub(crate) const MAX_ROWS: usize = 300;
pub(crate) const VALUE_WIDTH: usize = 60;
/// Where a cut section's other rows are.
const ALL: &str = "`seedc diff --format json` lists them all";

pub(crate) fn render(diff: &Diff) -> String {
    let mut out = format!("### seedc diff: {} → {}\n\n", code(&diff.base), code(&diff.head));
    if !diff.summary.changed {
        out.push_str("No changes.\n");
        return out;
    }
    out.push_str(&format!("{}.\n\n", capitalize(&summary_line(&diff.summary))));
    out.push_str("| | version | added | removed | renamed | changed |\n|---|---|---:|---:|---:|---:|\n");
    for c in &diff.collections {
        out.push_str(&format!(
            "| {}{} | {} | {} | {} | {} | {} |\n",
            code(&c.collection),
            status_note(c.status),
            version(&c.version),
            c.added.len(),
            c.removed.len(),
            c.renamed.len(),
            c.changed.len()
        ));
    }
    for p in &diff.packs {
        out.push_str(&format!(
            "| pack {}{} | {} | | | | {} |\n",
            code(&p.pack_id),
            status_note(p.status),
            version(&p.version),
            p.fields.len()
        ));
    }

    let mut budget = MAX_ROWS;
    for c in &diff.collections {
        let mut rows = Vec::new();
        for key in &c.added {
            rows.push(format!("| {} | *added* | | | |", code(key)));
        }
        for key in &c.removed {
            rows.push(format!("| {} | *removed* | | | |", code(key)));
        }
        for r in &c.renamed {
            rows.push(format!("| {} | *renamed from* {} | | | |", code(&r.new), code(&r.old)));
        }
        for r in &c.changed {
            for f in &r.fields {
                rows.push(field_row(&code(&r.key), f));
            }
        }
        let title = format!("{} {}", code(&c.collection), version(&c.version));
        section(&mut out, &title, "| record | field | old | new | Δ |\n|---|---|---|---|---|", &rows, &mut budget, ALL);
    }
    for p in &diff.packs {
        let mut rows: Vec<String> = p.fields.iter().map(|f| field_row("", f)).collect();
        if rows.is_empty() {
            rows.push(format!(
                "| *{}* | | | |",
                match p.status {
                    Change::Added => "added",
                    Change::Removed => "removed",
                    Change::Changed => "changed",
                }
            ));
        }
        let title = format!("pack {} {}", code(&p.pack_id), version(&p.version));
        section(&mut out, &title, "| field | old | new | Δ |\n|---|---|---|---|", &rows, &mut budget, ALL);
    }
    if !diff.daily_pack_refs.is_empty() {
        let rows: Vec<String> = diff
            .daily_pack_refs
            .iter()
            .map(|r| {
                let side = |s: &Option<crate::build::PackRef>| {
                    s.as_ref().map_or_else(|| "—".to_owned(), |s| format!("{} {}", s.version, code(&short_hash(&s.hash))))
                };
                format!("| {} | {} | {} |", code(&r.pack_id), side(&r.old), side(&r.new))
            })
            .collect();
        // Few, and what a release manager looks for first: never cut.
        section(&mut out, "Daily manifest pack refs", "| pack | old | new |\n|---|---|---|", &rows, &mut rows.len(), ALL);
    }
    out
}

fn field_row(record: &str, f: &FieldChange) -> String {
    let show = |v: &Option<serde_json::Value>| v.as_ref().map_or_else(|| "—".to_owned(), |v| code(&short_value(v, VALUE_WIDTH)));
    let record = if record.is_empty() { String::new() } else { format!("{record} | ") };
    format!("| {record}{} | {} | {} | {} |", code(f.pointer.as_str()), show(&f.old), show(&f.new), delta_text(f).unwrap_or_default())
}

/// Writes one section, spending at most `budget` rows of the whole report on it; a cut
/// section says where to find the rest (`all`).
pub(crate) fn section(out: &mut String, title: &str, header: &str, rows: &[String], budget: &mut usize, all: &str) {
    let shown = rows.len().min(*budget);
    *budget -= shown;
    let folded = rows.len() > FOLD;
    if folded {
        // GitHub does not render Markdown inside <summary>: plain text there.
        let plain = title.replace(['`', '*'], "");
        out.push_str(&format!("\n<details><summary>{plain} ({} rows)</summary>\n\n", rows.len()));
    } else {
        out.push_str(&format!("\n#### {title}\n\n"));
    }
    if shown > 0 {
        out.push_str(header);
        out.push('\n');
    }
    for r in &rows[..shown] {
        out.push_str(r);
        out.push('\n');
    }
    if shown < rows.len() {
        out.push_str(&format!("\n*…and {} more rows: {all}*\n", rows.len() - shown));
    }
    if folded {
        out.push_str("\n</details>\n");
    }
}

fn status_note(s: Change) -> &'static str {
    match s {
        Change::Added => " (added)",
        Change::Removed => " (removed)",
        Change::Changed => "",
    }
}

fn version(v: &VersionChange) -> String {
    v.text(|b| format!("**{b}**"))
}

/// A code span that survives a table cell: control characters escaped (a newline would end
/// the table, ESC would reach a terminal), pipes escaped, backticks fenced.
pub(crate) fn code(text: &str) -> String {
    let text = crate::report::printable(text).replace('|', "\\|");
    if text.contains('`') { format!("`` {text} ``") } else { format!("`{text}`") }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_sections_fold_short_ones_do_not() {
        let short = render(&crate::diff::sample_diff(FOLD));
        assert!(short.contains("#### `enemies` 1.0.0 → **1.1.0**") && !short.contains("<details>"), "{short}");
        let long = render(&crate::diff::sample_diff(FOLD + 1));
        assert!(long.contains("<details><summary>enemies 1.0.0 → 1.1.0 (11 rows)</summary>\n\n| record |"), "{long}");
        assert!(long.contains("| `r10` | `/hp` | `12` | `15` | +3, +25% |\n\n</details>\n"), "{long}");
        let huge = render(&crate::diff::sample_diff(MAX_ROWS + 5));
        assert!(huge.contains(&format!("| `r{}` |", MAX_ROWS - 1)) && !huge.contains(&format!("| `r{}` |", MAX_ROWS)), "{huge}");
        assert!(huge.contains("\n*…and 5 more rows: `seedc diff --format json` lists them all*\n\n</details>\n"), "{huge}");
    }

    #[test]
    fn cells_escape_pipes_and_backticks() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("a`b"), "`` a`b ``");
    }
}
