//! The PostgreSQL side of seedc, shared by deploy, status and flush: the session
//! (connecting with TLS and timeouts, [`connect`]; the client-side deadline, [`watchdog`])
//! and the classification of database errors into exit codes. The SQL is split by what it
//! touches: seedc's own schema ([`migrate`], its migrations in `migrations/*.sql`), the
//! catalog, a collection table's rows, drift detection, the registry of what was deployed,
//! the advisory locks and the cache flush outbox. Identifiers come from a checked config
//! and are quoted besides; every value is a parameter.

pub(crate) mod catalog;
pub(crate) mod connect;
pub(crate) mod drift;
pub(crate) mod locks;
pub mod migrate;
pub(crate) mod outbox;
pub(crate) mod registry;
pub(crate) mod rows;
pub(crate) mod tls_files;
pub(crate) mod watchdog;

use anyhow::Result;

use crate::exit::{Exit, ExitError};
pub use connect::STATEMENT_TIMEOUT;
pub use drift::{DriftMarker, Triggers};
pub use locks::AdvisoryLock;
pub use registry::{LastDeploy, StoredCollection};
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
    /// Then verifies seedc's schema `schema` ([`migrate::verify`]): a database whose
    /// migrations are not this build's is refused before anything reads or writes it.
    pub fn open(url: &str, application_name: &str, schema: &str, on_timeout: OnTimeout) -> Result<Session> {
        let watchdog = Watchdog::start(on_timeout);
        let mut client = connect::connect(url, application_name, &watchdog)?;
        watchdog.arm("reading seedc's schema", STATEMENT_TIMEOUT);
        // One snapshot, so a deploy migrating meanwhile is seen whole or not at all.
        let mut tx =
            client.build_transaction().isolation_level(postgres::IsolationLevel::RepeatableRead).read_only(true).start().map_err(pg)?;
        migrate::verify(&mut tx, schema)?;
        tx.rollback().map_err(pg)?;
        watchdog.disarm();
        Ok(Session { client, watchdog })
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

/// Keeps an error's message but makes it a service failure unless it already has a code.
pub(crate) fn service(e: anyhow::Error) -> anyhow::Error {
    if e.chain().any(|c| c.downcast_ref::<ExitError>().is_some()) {
        return e;
    }
    let text = e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ");
    ExitError::new(Exit::Service, text)
}
