//! `seedc lsp`: a Language Server Protocol server on the synchronous `lsp-server` crate. One
//! loop thread owns the open buffers and the last analysis; a check thread owns the
//! workspace as last checked and checks snapshots of the buffers laid over the files, only
//! the files an edit changed at once, the references into them after a pause (`worker`);
//! requests are answered from the analysis of the latest edit, waiting for it when an edit
//! is being checked, and only the files whose diagnostics changed are published.
//!
//! Files: `store` (buffers, URIs), `encoding` (positions), `worker` (the check thread),
//! `workspace` (its state: per file, what it gives alone and the references it makes),
//! `stamps` (the files on disk as read, so that a save re-checks only those that changed),
//! `stdio` (the connection over stdin and stdout),
//! `analysis` (what requests are answered from: diagnostics and an index of records and
//! references), `diagnostics` (conversion, quick fixes), `navigate`, `edit`, `cursor`.

mod analysis;
mod cursor;
mod diagnostics;
mod edit;
mod encoding;
mod navigate;
mod stamps;
pub(crate) mod stdio;
mod store;
mod worker;
mod workspace;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use crossbeam_channel::{Receiver, Sender, select};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{InitializeParams, PublishDiagnosticsParams, ServerCapabilities, Uri};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::project::Project;
use crate::report::printer::log;
use analysis::Analysis;
use diagnostics::Published;
use encoding::Encoding;
use store::{Documents, Root};
use worker::{Job, Outcome};

/// How long the cross-file pass waits after an edit for more edits, unless the client says
/// otherwise (`initializationOptions.debounceMs`); an edit's own file is checked at once.
const DEBOUNCE: Duration = Duration::from_millis(30);

/// How the server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `exit` after `shutdown`: a clean end (exit code 0).
    Exit,
    /// `exit` without `shutdown` (the protocol asks for exit code 1).
    ExitWithoutShutdown,
    /// The client went away (stdin closed).
    Disconnected,
}

/// Serves one client on `connection` until it exits or goes away. The content root is the
/// client's workspace folder (or `rootUri`), else `default_root`; it is the nearest folder
/// at or above it that holds `seedc.toml`.
pub fn serve(connection: &Connection, default_root: &Path) -> Result<Ended> {
    let (id, params) = match connection.initialize_start() {
        Ok(start) => start,
        Err(err) if err.channel_is_disconnected() => return Ok(Ended::Disconnected),
        Err(err) => return Err(err.into()),
    };
    let params: InitializeParams = serde_json::from_value(params)?;
    let encoding = Encoding::negotiate(&params.capabilities);
    let root = content_root(&params, default_root).map(Root::new);
    let debounce =
        params.initialization_options.as_ref().and_then(|o| o.get("debounceMs")?.as_u64()).map_or(DEBOUNCE, Duration::from_millis);
    let result = serde_json::json!({
        "capabilities": capabilities(encoding),
        "serverInfo": { "name": "seedc", "version": env!("CARGO_PKG_VERSION") },
    });
    match connection.initialize_finish(id, result) {
        Ok(()) => {}
        Err(err) if err.channel_is_disconnected() => return Ok(Ended::Disconnected),
        Err(err) => return Err(err.into()),
    }
    match &root {
        Some(root) => log(&format!("content root {}", root.dir.display())),
        None => log("no seedc.toml in the workspace: nothing to check"),
    }
    let (jobs, outcomes) = match &root {
        Some(root) => {
            let (jobs, outcomes) = worker::spawn(root.dir.clone(), encoding, debounce)?;
            (Some(jobs), outcomes)
        }
        None => (None, crossbeam_channel::never()),
    };
    let mut server = Server {
        sender: connection.sender.clone(),
        root,
        encoding,
        docs: Documents::default(),
        generation: 0,
        analysis: None,
        analyzed: 0,
        published: BTreeMap::new(),
        pending: Vec::new(),
        jobs,
        shutdown: false,
    };
    server.changed(Vec::new(), true, false);
    server.run(&connection.receiver, &outcomes)
}

/// The folder holding `seedc.toml` at or above the client's workspace folder.
fn content_root(params: &InitializeParams, default_root: &Path) -> Option<PathBuf> {
    #[allow(deprecated)] // `root_uri` is what older clients send
    let given =
        params.workspace_folders.as_ref().and_then(|f| f.first()).map(|f| &f.uri).or(params.root_uri.as_ref()).and_then(store::path_of);
    let start = given.unwrap_or_else(|| default_root.to_owned());
    let start = std::path::absolute(&start).unwrap_or(start);
    start.ancestors().find(|dir| dir.join(crate::project::config::CONFIG_FILE).is_file()).map(Path::to_owned)
}

fn capabilities(encoding: Encoding) -> ServerCapabilities {
    use lsp_types::*;
    ServerCapabilities {
        position_encoding: Some(encoding.kind()),
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions { include_text: Some(false) })),
            ..TextDocumentSyncOptions::default()
        })),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions { trigger_characters: Some(vec!["\"".to_owned()]), ..CompletionOptions::default() }),
        rename_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        ..ServerCapabilities::default()
    }
}

/// The loop's state.
struct Server {
    sender: Sender<Message>,
    /// None when the workspace has no `seedc.toml`: requests are answered empty.
    root: Option<Root>,
    encoding: Encoding,
    docs: Documents,
    /// Counts the edits (and file events): a check of an older generation is stale.
    generation: u64,
    analysis: Option<Arc<Analysis>>,
    /// The generation `analysis` answers for.
    analyzed: u64,
    /// The diagnostics last published for each file that has any.
    published: BTreeMap<String, Arc<[Published]>>,
    /// Requests waiting for the check of the latest edit.
    pending: Vec<Request>,
    jobs: Option<Sender<Job>>,
    shutdown: bool,
}

/// A request answered with an error.
struct Failure {
    code: i32,
    message: String,
}

impl Failure {
    fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure { code: code as i32, message: message.into() }
    }
}

impl Server {
    fn run(&mut self, messages: &Receiver<Message>, outcomes: &Receiver<Outcome>) -> Result<Ended> {
        loop {
            select! {
                recv(messages) -> message => match message {
                    Ok(Message::Request(request)) => self.on_request(request),
                    Ok(Message::Notification(n)) if n.method == note::Exit::METHOD => {
                        return Ok(if self.shutdown { Ended::Exit } else { Ended::ExitWithoutShutdown });
                    }
                    Ok(Message::Notification(n)) => self.on_notification(n),
                    Ok(Message::Response(_)) => {}
                    Err(_) => return Ok(Ended::Disconnected),
                },
                recv(outcomes) -> outcome => match outcome {
                    Ok(outcome) => self.on_outcome(outcome),
                    Err(_) => anyhow::bail!("the check thread ended"),
                },
            }
        }
    }

    fn send(&self, message: impl Into<Message>) {
        // A send fails only when the client is gone, which the receiving side sees next.
        let _ = self.sender.send(message.into());
    }

    /// The buffers changed, or the files `disk` on disk (or any, with `rescan`; those
    /// that differ from what was read, with `probe`): check a snapshot of them.
    fn changed(&mut self, disk: Vec<String>, rescan: bool, probe: bool) {
        self.generation += 1;
        let (buffers, versions) = self.docs.snapshot();
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job { generation: self.generation, buffers, versions, disk, rescan, probe });
        }
    }

    fn on_notification(&mut self, n: Notification) {
        let rel = |uri: &Uri| self.root.as_ref()?.rel(uri);
        match n.method.as_str() {
            note::DidOpenTextDocument::METHOD => {
                let Some(p) = params::<lsp_types::DidOpenTextDocumentParams>(n.params) else { return };
                if let Some(rel) = rel(&p.text_document.uri) {
                    self.docs.open(rel, p.text_document.text, p.text_document.version);
                    self.changed(Vec::new(), false, false);
                }
            }
            note::DidChangeTextDocument::METHOD => {
                let Some(p) = params::<lsp_types::DidChangeTextDocumentParams>(n.params) else { return };
                if let Some(rel) = rel(&p.text_document.uri)
                    && self.docs.change(&rel, p.text_document.version, p.content_changes, self.encoding)
                {
                    self.changed(Vec::new(), false, false);
                }
            }
            note::DidCloseTextDocument::METHOD => {
                let Some(p) = params::<lsp_types::DidCloseTextDocumentParams>(n.params) else { return };
                if let Some(rel) = rel(&p.text_document.uri)
                    && self.docs.close(&rel)
                {
                    self.changed(Vec::new(), false, false);
                }
            }
            // Files changed outside the editor: a changed seed file or pack is checked again
            // alone; a file created or deleted, `seedc.toml`, `seedc.lock` or a schema has
            // the whole workspace checked again; a file no check reads changes nothing.
            note::DidChangeWatchedFiles::METHOD => {
                let Some(p) = params::<lsp_types::DidChangeWatchedFilesParams>(n.params) else { return };
                let (mut disk, mut rescan) = (Vec::new(), false);
                for change in p.changes {
                    match rel(&change.uri).filter(|rel| stamps::matters(rel)) {
                        Some(rel) if change.typ == lsp_types::FileChangeType::CHANGED => disk.push(rel),
                        Some(_) => rescan = true,
                        None => {}
                    }
                }
                if rescan || !disk.is_empty() {
                    self.changed(disk, rescan, false);
                }
            }
            // A save, for the clients that send no file events: the files on disk that
            // changed since they were read are checked again, alone where they can be.
            note::DidSaveTextDocument::METHOD => self.changed(Vec::new(), false, true),
            note::Cancel::METHOD => {
                let Some(p) = params::<lsp_types::CancelParams>(n.params) else { return };
                let id: RequestId = match p.id {
                    lsp_types::NumberOrString::Number(n) => n.into(),
                    lsp_types::NumberOrString::String(s) => s.into(),
                };
                if let Some(at) = self.pending.iter().position(|r| r.id == id) {
                    let r = self.pending.remove(at);
                    self.send(Response::new_err(r.id, ErrorCode::RequestCanceled as i32, "canceled".to_owned()));
                }
            }
            _ => {}
        }
    }

    fn on_request(&mut self, request: Request) {
        if self.shutdown {
            self.send(Response::new_err(request.id, ErrorCode::InvalidRequest as i32, "the server is shutting down".to_owned()));
        } else if request.method == req::Shutdown::METHOD {
            self.shutdown = true;
            self.send(Response::new_ok(request.id, ()));
        } else if self.root.is_some() && self.analyzed != self.generation {
            self.pending.push(request);
        } else {
            self.answer(request);
        }
    }

    /// A check finished: published and answered from only if no edit came since.
    fn on_outcome(&mut self, outcome: Outcome) {
        if outcome.generation != self.generation {
            return;
        }
        if let Some(analysis) = outcome.analysis {
            self.publish(&analysis, &outcome.versions);
            self.analysis = Some(analysis);
        }
        self.analyzed = outcome.generation;
        for request in std::mem::take(&mut self.pending) {
            self.answer(request);
        }
    }

    /// Publishes the diagnostics of each file whose diagnostics changed since they were
    /// last published, and clears those of files now clean.
    fn publish(&mut self, analysis: &Analysis, versions: &BTreeMap<String, i32>) {
        let Some(root) = &self.root else { return };
        for (rel, published) in &analysis.diagnostics {
            let same = self.published.get(rel).is_some_and(|before| {
                Arc::ptr_eq(before, published) || before.iter().map(|p| &p.diagnostic).eq(published.iter().map(|p| &p.diagnostic))
            });
            if !same {
                let diagnostics = published.iter().map(|p| p.diagnostic.clone()).collect();
                self.send(publish(root.uri(rel), diagnostics, versions.get(rel).copied()));
            }
        }
        for rel in self.published.keys().filter(|rel| !analysis.diagnostics.contains_key(*rel)) {
            self.send(publish(root.uri(rel), Vec::new(), versions.get(rel).copied()));
        }
        self.published = analysis.diagnostics.clone();
    }

    /// Answers a request; a handler that panics is answered with an error, and the server
    /// goes on.
    fn answer(&self, request: Request) {
        let outcome = catch_unwind(AssertUnwindSafe(|| self.dispatch(&request)));
        let response = match outcome {
            Ok(Ok(value)) => Response::new_ok(request.id, value),
            Ok(Err(failure)) => Response::new_err(request.id, failure.code, failure.message),
            Err(panic) => {
                let message = format!("seedc lsp failed on {}: {}", request.method, panic_message(&*panic));
                log(&message);
                Response::new_err(request.id, ErrorCode::InternalError as i32, message)
            }
        };
        self.send(response);
    }

    fn dispatch(&self, request: &Request) -> Result<Value, Failure> {
        let (Some(root), Some(analysis)) = (&self.root, &self.analysis) else {
            return match request.method.as_str() {
                req::Completion::METHOD | req::DocumentSymbolRequest::METHOD | req::CodeActionRequest::METHOD => {
                    Ok(Value::Array(Vec::new()))
                }
                _ => Ok(Value::Null),
            };
        };
        let file = |uri: &Uri| root.rel(uri).ok_or_else(|| Failure::new(ErrorCode::InvalidParams, "not a file of the content root"));
        let json = |value: Result<Value, serde_json::Error>| value.map_err(|e| Failure::new(ErrorCode::InternalError, e.to_string()));
        match request.method.as_str() {
            req::GotoDefinition::METHOD => {
                let p: lsp_types::GotoDefinitionParams = parse(request)?;
                let at = p.text_document_position_params;
                json(serde_json::to_value(navigate::definition(analysis, root, &file(&at.text_document.uri)?, at.position)))
            }
            req::References::METHOD => {
                let p: lsp_types::ReferenceParams = parse(request)?;
                let at = p.text_document_position;
                let found = navigate::references(analysis, root, &file(&at.text_document.uri)?, at.position, p.context.include_declaration);
                json(serde_json::to_value(found))
            }
            req::HoverRequest::METHOD => {
                let p: lsp_types::HoverParams = parse(request)?;
                let at = p.text_document_position_params;
                json(serde_json::to_value(navigate::hover(analysis, &file(&at.text_document.uri)?, at.position)))
            }
            req::DocumentSymbolRequest::METHOD => {
                let p: lsp_types::DocumentSymbolParams = parse(request)?;
                json(serde_json::to_value(navigate::document_symbols(analysis, &file(&p.text_document.uri)?)))
            }
            req::WorkspaceSymbolRequest::METHOD => {
                let p: lsp_types::WorkspaceSymbolParams = parse(request)?;
                json(serde_json::to_value(navigate::workspace_symbols(analysis, root, &p.query)))
            }
            req::Completion::METHOD => {
                let p: lsp_types::CompletionParams = parse(request)?;
                let at = p.text_document_position;
                json(serde_json::to_value(edit::completion(analysis, &file(&at.text_document.uri)?, at.position)))
            }
            req::Rename::METHOD => {
                let p: lsp_types::RenameParams = parse(request)?;
                let at = p.text_document_position;
                let project = Project::with_buffers(&root.dir, self.docs.snapshot().0)
                    .map_err(|e| Failure::new(ErrorCode::RequestFailed, format!("cannot open the content root: {e}")))?;
                let rel = file(&at.text_document.uri)?;
                let edit = edit::rename(analysis, root, &project, &rel, at.position, &p.new_name)
                    .map_err(|message| Failure::new(ErrorCode::RequestFailed, message))?;
                json(serde_json::to_value(edit))
            }
            req::CodeActionRequest::METHOD => {
                let p: lsp_types::CodeActionParams = parse(request)?;
                json(serde_json::to_value(edit::code_actions(analysis, root, &file(&p.text_document.uri)?, p.range)))
            }
            // How much checking the server has done: tests and curious users.
            "seedc/status" => Ok(serde_json::json!({ "checks": analysis.checks, "pending": analysis.pending })),
            #[cfg(debug_assertions)]
            "seedc/panic" => panic!("a handler panicked, as asked"),
            _ => Err(Failure::new(ErrorCode::MethodNotFound, format!("seedc lsp does not handle {}", request.method))),
        }
    }
}

fn publish(uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) -> Notification {
    Notification::new(note::PublishDiagnostics::METHOD.to_owned(), PublishDiagnosticsParams { uri, diagnostics, version })
}

fn params<P: DeserializeOwned>(value: Value) -> Option<P> {
    serde_json::from_value(value).map_err(|e| log(&format!("malformed notification: {e}"))).ok()
}

fn parse<P: DeserializeOwned>(request: &Request) -> Result<P, Failure> {
    serde_json::from_value(request.params.clone()).map_err(|e| Failure::new(ErrorCode::InvalidParams, e.to_string()))
}

/// The text a panic carried.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}
