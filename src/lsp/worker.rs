//! The check thread. It owns the [`Workspace`]: the first job checks it whole; after that,
//! each job (the newest snapshot of the buffers, older ones not yet started being skipped)
//! checks again only the files it changed and the references they make, and the analysis
//! goes back to the loop at once; the cross-file pass (the references into the changed
//! files, from every other file) runs once no edit has come for the delay
//! (`initializationOptions.debounceMs`), on the state of the latest edit. Every outcome is
//! tagged with the generation of the edit it reflects; the loop publishes it only if no
//! edit came since.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::analysis::{Analysis, Checks};
use super::encoding::Encoding;
use super::workspace::Workspace;

/// A snapshot of the buffers to check.
pub(crate) struct Job {
    /// Counts the edits: the loop's generation when it took this snapshot.
    pub(crate) generation: u64,
    pub(crate) buffers: super::store::Buffers,
    /// The version of each buffer in `buffers`, published with its diagnostics.
    pub(crate) versions: BTreeMap<String, i32>,
    /// Files the client says changed on disk.
    pub(crate) disk: Vec<String>,
    /// Check the whole workspace again, in the cross-file pass (files created or deleted).
    pub(crate) rescan: bool,
    /// Compare the files on disk with what was read (a save): those that changed are
    /// checked again like `disk`.
    pub(crate) probe: bool,
}

/// A finished check.
pub(crate) struct Outcome {
    pub(crate) generation: u64,
    pub(crate) versions: BTreeMap<String, i32>,
    /// None when the check panicked (logged): the previous analysis stands.
    pub(crate) analysis: Option<Arc<Analysis>>,
}

/// Starts the check thread for the content root `root`; the cross-file pass waits `delay`
/// for more edits. It ends when the loop drops the job sender.
pub(crate) fn spawn(root: PathBuf, encoding: Encoding, delay: Duration) -> std::io::Result<(Sender<Job>, Receiver<Outcome>)> {
    let (jobs, job_rx) = crossbeam_channel::unbounded::<Job>();
    let (outcome_tx, outcomes) = crossbeam_channel::unbounded::<Outcome>();
    std::thread::Builder::new().name("seedc-lsp-check".to_owned()).spawn(move || {
        let mut thread = Thread {
            root,
            encoding,
            workspace: None,
            generation: 0,
            versions: BTreeMap::new(),
            buffers: Vec::new(),
            checks: Checks::default(),
        };
        loop {
            let job = if thread.workspace.as_ref().is_some_and(Workspace::pending) {
                match job_rx.recv_timeout(delay) {
                    Ok(job) => job,
                    Err(RecvTimeoutError::Timeout) => {
                        let analysis = thread.guarded(Thread::cross);
                        if outcome_tx.send(thread.outcome(analysis)).is_err() {
                            break;
                        }
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match job_rx.recv() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            };
            let job = newest(job, &job_rx);
            let analysis = thread.guarded(|t| t.apply(job));
            if outcome_tx.send(thread.outcome(analysis)).is_err() {
                break;
            }
        }
    })?;
    Ok((jobs, outcomes))
}

/// The newest of `job` and the jobs already queued behind it; what the skipped ones
/// said about files on disk is kept.
fn newest(mut job: Job, queue: &Receiver<Job>) -> Job {
    while let Ok(mut newer) = queue.try_recv() {
        newer.disk.append(&mut job.disk);
        newer.rescan |= job.rescan;
        newer.probe |= job.probe;
        job = newer;
    }
    job
}

/// The check thread's state.
struct Thread {
    root: PathBuf,
    encoding: Encoding,
    /// None before the first check, and when the last whole check could not run.
    workspace: Option<Workspace>,
    /// The generation, versions and buffers of the latest job.
    generation: u64,
    versions: BTreeMap<String, i32>,
    buffers: super::store::Buffers,
    /// What the workspaces before the current one were checked with.
    checks: Checks,
}

impl Thread {
    /// Every check so far, the current workspace's included.
    fn checks(&self) -> Checks {
        let files = self.workspace.as_ref().map_or(0, |w| w.files_checked);
        Checks { whole: self.checks.whole, files: self.checks.files + files }
    }

    fn outcome(&self, analysis: Option<Arc<Analysis>>) -> Outcome {
        Outcome { generation: self.generation, versions: self.versions.clone(), analysis }
    }

    /// Runs `work`; a panic is logged, and the workspace checked whole at the next job.
    fn guarded(&mut self, work: impl FnOnce(&mut Thread) -> Analysis) -> Option<Arc<Analysis>> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(self))) {
            Ok(mut analysis) => {
                analysis.checks = self.checks();
                Some(Arc::new(analysis))
            }
            Err(panic) => {
                crate::report::printer::log(&format!("the check panicked: {}", super::panic_message(&*panic)));
                self.workspace = None;
                None
            }
        }
    }

    /// An edit: its files checked again, or the whole workspace when it must be.
    fn apply(&mut self, job: Job) -> Analysis {
        let Job { generation, buffers, versions, mut disk, mut rescan, probe } = job;
        (self.generation, self.versions, self.buffers) = (generation, versions, buffers.clone());
        if let Some(workspace) = &mut self.workspace {
            if probe {
                rescan |= workspace.probe(&mut disk);
            }
            if workspace.edit(buffers, &disk) {
                if rescan {
                    workspace.rescan();
                }
                return workspace.snapshot();
            }
        }
        self.whole()
    }

    /// The cross-file pass, or the whole check it was asked to be.
    fn cross(&mut self) -> Analysis {
        if let Some(workspace) = &mut self.workspace
            && workspace.cross()
        {
            return workspace.snapshot();
        }
        self.whole()
    }

    fn whole(&mut self) -> Analysis {
        // The old state goes first: never two workspaces held at once.
        self.checks = self.checks();
        self.checks.whole += 1;
        self.workspace = None;
        match Workspace::whole(&self.root, self.buffers.clone(), self.encoding) {
            Ok(workspace) => {
                let analysis = workspace.snapshot();
                self.workspace = Some(workspace);
                analysis
            }
            Err(err) => {
                self.workspace = None;
                let diagnostics = super::diagnostics::failure(&err);
                Analysis {
                    encoding: self.encoding,
                    diagnostics,
                    config: None,
                    collections: BTreeMap::new(),
                    checks: Checks::default(),
                    pending: false,
                }
            }
        }
    }
}
