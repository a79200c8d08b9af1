//! The PostgreSQL session that deploy and flush share: connecting (TLS, timeouts,
//! [`connect`]), the client-side deadline ([`watchdog`]), the advisory locks, and the
//! classification of database errors into exit codes. Every statement is in [`sql`].

pub(crate) mod connect;
pub mod sql;
pub(crate) mod watchdog;

use std::time::Duration;

use anyhow::Result;

use crate::exit::{Exit, ExitError};
use crate::json::canon::ContentHash;
pub use connect::STATEMENT_TIMEOUT;
pub use watchdog::Watchdog;

/// What to do when the database outlives a phase's deadline, just before the process exits
/// 3: report it (the command layer passes the Printer's fatal-error line).
pub type OnTimeout = fn(&str);

/// One connection and the watchdog that bounds every phase run on it (apart, so a phase
/// can be armed while a transaction borrows the client).
pub struct Session {
    pub client: postgres::Client,
    pub watchdog: Watchdog,
}

impl Session {
    /// Connects with every timeout set; failure is a service error (exit 3), a malformed URL
    /// a usage error (exit 2).
    pub fn open(url: &str, application_name: &str, on_timeout: OnTimeout) -> Result<Session> {
        let watchdog = Watchdog::start(on_timeout);
        let client = connect::connect(url, application_name, &watchdog)?;
        watchdog.disarm();
        Ok(Session { client, watchdog })
    }
}

/// BEGIN, then the transaction-scoped advisory lock `key`, waiting at most `timeout` (zero:
/// not at all). None, with the transaction rolled back, when another session holds it.
pub fn begin_locked(client: &mut postgres::Client, key: i64, timeout: Duration) -> Result<Option<postgres::Transaction<'_>>> {
    let mut tx = client.transaction().map_err(pg)?;
    if !sql::xact_lock(&mut tx, key, timeout)? {
        tx.rollback().map_err(pg)?;
        return Ok(None);
    }
    Ok(Some(tx))
}

/// The advisory locks seedc takes, one pair per seedc schema.
#[derive(Debug, Clone, Copy)]
pub enum Lock {
    /// Held by a deploy's transaction from its first statement to its end.
    Deploy,
    /// Held by a cache flush for its session, so version keys are set in order.
    Flush,
}

impl Lock {
    /// The lock's key in `schema`: two projects with their own schema in one database never
    /// wait for each other.
    pub fn key(self, schema: &str) -> i64 {
        let what = match self {
            Lock::Deploy => "deploy",
            Lock::Flush => "flush",
        };
        let digest = ContentHash::of(format!("seedc {what} lock\0{schema}").as_bytes());
        i64::from_be_bytes(digest.0[..8].try_into().expect("8 bytes"))
    }
}

/// A PostgreSQL failure: a service error (exit 3); a transaction in progress rolls back.
pub fn pg(e: postgres::Error) -> anyhow::Error {
    ExitError::new(Exit::Service, format!("database error: {}", error_text(&e)))
}

/// A PostgreSQL error as one line: the server's message when there is one.
pub fn error_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity().to_lowercase(), db.message()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let s_text = s.to_string();
                if !text.contains(&s_text) {
                    text.push_str(&format!(": {s_text}"));
                }
                source = s.source();
            }
            text
        }
    }
}

/// Whether an error is `lock_timeout` running out.
fn is_lock_timeout(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE)
}
