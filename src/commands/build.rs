//! `seedc build`: check, then write `out/` and seedc.lock; print the diagnostics and a
//! report of what was written and reused (one JSON object under `--format json`).

use anyhow::Result;

use crate::build::write::{self, Options};
use crate::cli::{BuildArgs, Format};
use crate::exit::{Exit, ExitError};
use crate::project::Project;
use crate::report::printer::Printer;

/// Pins "today" for `--days` (YYYY-MM-DD), so tests and reproducible pipelines do not
/// depend on the clock.
pub(super) const TODAY_ENV: &str = "SEEDC_TODAY";

/// Ten years of dailies: more in one build is a typo, not a plan.
const MAX_DAYS: u32 = 3660;

pub(super) fn run(project: &Project, args: &BuildArgs, printer: &Printer) -> Result<Exit> {
    let options = Options {
        dates: dates(args)?,
        locked: args.locked,
        progress: crate::report::progress::allowed(printer.format == Format::Human, printer.quiet),
    };
    let outcome = write::build(project, &options)?;
    printer.report(&outcome)?;
    Ok(if outcome.report().is_some() { Exit::Ok } else { Exit::Invalid })
}

/// The daily dates asked for: every `--date`, then `--days N` from today (UTC).
pub(super) fn dates(args: &BuildArgs) -> Result<Vec<jiff::civil::Date>> {
    let mut dates = Vec::new();
    for text in &args.dates {
        dates.push(parse_date(text).map_err(|why| ExitError::new(Exit::Usage, format!("invalid --date {text:?}: {why}")))?);
    }
    if let Some(days) = args.days {
        if days > MAX_DAYS {
            return Err(ExitError::new(Exit::Usage, format!("--days {days} is more than {MAX_DAYS} days of dailies")));
        }
        let today = match std::env::var(TODAY_ENV) {
            Ok(text) => parse_date(&text).map_err(|why| ExitError::new(Exit::Usage, format!("invalid {TODAY_ENV} {text:?}: {why}")))?,
            Err(_) => jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
        };
        for n in 0..days {
            let date = today
                .checked_add(jiff::Span::new().days(i64::from(n)))
                .map_err(|e| ExitError::new(Exit::Usage, format!("--days {days} runs past the last supported date: {e}")))?;
            dates.push(date);
        }
    }
    Ok(dates)
}

/// A calendar date written exactly `YYYY-MM-DD` (jiff alone would accept other spellings).
fn parse_date(text: &str) -> Result<jiff::civil::Date, String> {
    let b = text.as_bytes();
    let shaped = b.len() == 10 && b[4] == b'-' && b[7] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err("expected YYYY-MM-DD".to_owned());
    }
    text.parse::<jiff::civil::Date>().map_err(|e| format!("not a calendar date ({e})"))
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn dates_are_strict() {
        assert_eq!(parse_date("2026-01-25").unwrap().to_string(), "2026-01-25");
        for bad in ["2026-1-25", "2026-02-30", "20260125", "2026-01-25T00:00", "tomorrow", ""] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }
}
