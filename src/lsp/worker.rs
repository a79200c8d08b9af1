//! The check thread: takes the newest snapshot of the buffers (after the debounce, newer
//! ones replacing older ones not yet started), checks the workspace, and hands the
//! analysis back to the loop tagged with the snapshot's generation; the loop publishes it
//! only if no edit came since.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::analysis::Analysis;
use super::encoding::Encoding;

/// A snapshot of the buffers to check.
pub(crate) struct Job {
    /// Counts the edits: the loop's generation when it took this snapshot.
    pub(crate) generation: u64,
    pub(crate) buffers: super::store::Buffers,
    /// The version of each buffer in `buffers`, published with its diagnostics.
    pub(crate) versions: BTreeMap<String, i32>,
}

/// A finished check.
pub(crate) struct Outcome {
    pub(crate) generation: u64,
    pub(crate) versions: BTreeMap<String, i32>,
    /// None when the check panicked (logged): the previous analysis stands.
    pub(crate) analysis: Option<Arc<Analysis>>,
}

/// Starts the check thread for the content root `root`; it ends when the loop drops the
/// job sender.
pub(crate) fn spawn(root: PathBuf, encoding: Encoding, debounce: Duration) -> std::io::Result<(Sender<Job>, Receiver<Outcome>)> {
    let (jobs, job_rx) = crossbeam_channel::unbounded::<Job>();
    let (outcome_tx, outcomes) = crossbeam_channel::unbounded::<Outcome>();
    std::thread::Builder::new().name("seedc-lsp-check".to_owned()).spawn(move || {
        while let Ok(mut job) = job_rx.recv() {
            if !debounce.is_zero() {
                std::thread::sleep(debounce);
            }
            // Only the newest snapshot is worth checking.
            while let Ok(newer) = job_rx.try_recv() {
                job = newer;
            }
            let Job { generation, buffers, versions } = job;
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Analysis::run(&root, buffers, encoding)));
            let analysis = match run {
                Ok(analysis) => Some(Arc::new(analysis)),
                Err(panic) => {
                    crate::report::printer::log(&format!("the check panicked: {}", super::panic_message(&*panic)));
                    None
                }
            };
            if outcome_tx.send(Outcome { generation, versions, analysis }).is_err() {
                break;
            }
        }
    })?;
    Ok((jobs, outcomes))
}
