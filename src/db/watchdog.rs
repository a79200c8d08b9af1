//! A client-side deadline on the database. Server-side timeouts (`statement_timeout`,
//! `lock_timeout`) need a server that runs; TCP keepalives need a host that is gone. A
//! PostgreSQL that accepts connections but never answers (frozen, SIGSTOPped, stuck on a
//! disk) defeats both, and the `postgres` crate's `connect_timeout` covers only the TCP
//! connect. So every database phase runs under this watchdog: when a phase outlives its
//! limit, the process reports it and exits 3. Dropping the connection that way rolls the
//! transaction back, which is exactly "nothing was committed".

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::exit::Exit;

/// Added to every phase's own limit (up to doubling it), so the server's own timeouts fire
/// first whenever the server is able to.
pub(crate) const SLACK: Duration = Duration::from_secs(15);

#[derive(Default)]
struct State {
    /// The phase being watched and its deadline; None when disarmed.
    armed: Option<(String, Instant)>,
    stopped: bool,
}

pub struct Watchdog {
    shared: Arc<(Mutex<State>, Condvar)>,
}

impl Watchdog {
    /// Starts the watching thread, disarmed. `on_timeout` reports an expired phase, just
    /// before the process exits.
    pub fn start(on_timeout: super::OnTimeout) -> Watchdog {
        let shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let watched = Arc::clone(&shared);
        std::thread::spawn(move || watch(&watched, on_timeout));
        Watchdog { shared }
    }

    /// Watches `phase` (e.g. "waiting for the deploy lock"): it must end within `limit`.
    pub fn arm(&self, phase: &str, limit: Duration) {
        let (lock, wake) = &*self.shared;
        let mut state = lock.lock().unwrap_or_else(|p| p.into_inner());
        state.armed = Some((phase.to_owned(), Instant::now() + limit + SLACK.min(limit)));
        wake.notify_all();
    }

    pub fn disarm(&self) {
        let (lock, wake) = &*self.shared;
        lock.lock().unwrap_or_else(|p| p.into_inner()).armed = None;
        wake.notify_all();
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let (lock, wake) = &*self.shared;
        let mut state = lock.lock().unwrap_or_else(|p| p.into_inner());
        state.armed = None;
        state.stopped = true;
        wake.notify_all();
    }
}

fn watch(shared: &(Mutex<State>, Condvar), on_timeout: super::OnTimeout) {
    let (lock, wake) = shared;
    let mut state = lock.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        if state.stopped {
            return;
        }
        match &state.armed {
            None => state = wake.wait(state).unwrap_or_else(|p| p.into_inner()),
            Some((phase, deadline)) => {
                let now = Instant::now();
                if now >= *deadline {
                    on_timeout(&format!("the database did not answer in time while {phase}; gave up rather than hang"));
                    std::process::exit(Exit::Service as i32);
                }
                let wait = *deadline - now;
                state = wake.wait_timeout(state, wait).unwrap_or_else(|p| p.into_inner()).0;
            }
        }
    }
}
