//! The field-level changes of a plan's updates (`deploy -v`, `status`): the one read made
//! after deciding, of exactly the rows the plan updates, to explain the plan. It cannot
//! change what was decided.

use anyhow::Result;
use postgres::Transaction;
use serde_json::Value;

use super::RecordChange;
use super::content::Prepared;
use super::plan::RowDiff;
use crate::db::rows;
use crate::json::fielddiff;

/// Fills in the fields of each update among `changes` (made by
/// [`super::decide::record_changes`] from `diff`) from the values stored in `p`'s table.
pub(crate) fn fill(tx: &mut Transaction, p: &Prepared, diff: &RowDiff, exists: bool, changes: &mut [RecordChange]) -> Result<()> {
    let ids: Vec<&str> = diff.update.iter().map(|&i| p.rows[i].id).collect();
    if !exists || ids.is_empty() {
        return Ok(());
    }
    let old = rows::stored_records(tx, p.table, &ids)?;
    fill_from(p, diff, |id| old.get(id), changes);
    Ok(())
}

/// [`fill`] from stored values already read (a saved plan reads them to bind its rows).
pub(crate) fn fill_from<'a>(p: &Prepared, diff: &RowDiff, stored: impl Fn(&str) -> Option<&'a Value>, changes: &mut [RecordChange]) {
    for &i in &diff.update {
        let row = &p.rows[i];
        // A record the memo vouched for was not parsed: its canonical bytes are its value.
        let parsed: Option<Value> = if p.records[i].value().is_none() { serde_json::from_slice(row.canonical).ok() } else { None };
        let new = p.records[i].value().or(parsed.as_ref());
        let Some(fields) = stored(row.id).zip(new).map(|(o, n)| fielddiff::field_changes(o, n)) else { continue };
        if let Ok(at) = changes.binary_search_by(|c| c.id.as_str().cmp(row.id)) {
            changes[at].fields = fields;
        }
    }
}
