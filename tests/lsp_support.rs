//! The language server's test client: `seedc::lsp::serve` on a thread over an in-memory
//! connection, on a temp copy of the sample game. Published diagnostics are kept as state
//! (latest per file, and every publish in order); any other message the tests do not claim
//! (a server request, a log, a response nobody waits for) fails the test.

use std::collections::HashMap;
use std::str::FromStr;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response, ResponseError};
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{Diagnostic, Position, PublishDiagnosticsParams, Range, TextDocumentIdentifier, TextDocumentPositionParams, Uri};
use seedc::lsp::Ended;

use crate::support::Root;

/// How long any awaited message may take.
const PATIENCE: Duration = Duration::from_secs(60);

pub(crate) struct Client {
    pub root: Root,
    conn: Connection,
    server: Option<JoinHandle<anyhow::Result<Ended>>>,
    next_id: i32,
    versions: HashMap<String, i32>,
    /// The buffers as the client holds them.
    pub texts: HashMap<String, String>,
    /// The latest diagnostics of each URI.
    latest: HashMap<String, PublishDiagnosticsParams>,
    /// Every publish, in order.
    pub history: Vec<PublishDiagnosticsParams>,
}

impl Client {
    /// A server on a fresh copy of the sample game, negotiated to UTF-16.
    pub(crate) fn start() -> Client {
        Client::start_with(Root::sample(), &[])
    }

    /// A server on `root`, the client offering these position encodings.
    pub(crate) fn start_with(root: Root, encodings: &[&str]) -> Client {
        Client::start_delayed(root, encodings, 0)
    }

    /// A server on `root`, the client offering these position encodings, whose cross-file
    /// pass waits `debounce_ms` for more edits.
    pub(crate) fn start_delayed(root: Root, encodings: &[&str], debounce_ms: u64) -> Client {
        let (server_side, conn) = Connection::memory();
        let dir = root.path().to_owned();
        let server = std::thread::spawn(move || seedc::lsp::serve(&server_side, &dir));
        let mut client = Client {
            root,
            conn,
            server: Some(server),
            next_id: 0,
            versions: HashMap::new(),
            texts: HashMap::new(),
            latest: HashMap::new(),
            history: Vec::new(),
        };
        let general = serde_json::json!({ "positionEncodings": encodings });
        let params = serde_json::json!({
            "processId": null,
            "rootUri": client.root_uri(),
            "capabilities": { "general": general },
            "initializationOptions": { "debounceMs": debounce_ms },
        });
        let result: serde_json::Value = client.call(req::Initialize::METHOD, params).expect("initialize");
        let expected = if encodings.contains(&"utf-8") { "utf-8" } else { "utf-16" };
        assert_eq!(result["capabilities"]["positionEncoding"], expected);
        client.notify(note::Initialized::METHOD, serde_json::json!({}));
        client
    }

    fn root_uri(&self) -> String {
        format!("file://{}", self.root.path().display())
    }

    pub(crate) fn uri(&self, rel: &str) -> Uri {
        Uri::from_str(&format!("{}/{rel}", self.root_uri())).unwrap()
    }

    pub(crate) fn notify(&self, method: &str, params: serde_json::Value) {
        self.conn.sender.send(Message::Notification(Notification::new(method.to_owned(), params))).unwrap();
    }

    /// Opens `rel` with its text on disk.
    pub(crate) fn open(&mut self, rel: &str) {
        let text = self.root.read(rel);
        self.versions.insert(rel.to_owned(), 1);
        self.texts.insert(rel.to_owned(), text.clone());
        let item = serde_json::json!({ "uri": self.uri(rel), "languageId": "json", "version": 1, "text": text });
        self.notify(note::DidOpenTextDocument::METHOD, serde_json::json!({ "textDocument": item }));
    }

    /// Replaces the whole buffer of `rel` (unsaved); returns its new version.
    pub(crate) fn change(&mut self, rel: &str, text: &str) -> i32 {
        let version = self.versions.get(rel).expect("open first") + 1;
        self.versions.insert(rel.to_owned(), version);
        self.texts.insert(rel.to_owned(), text.to_owned());
        let doc = serde_json::json!({ "uri": self.uri(rel), "version": version });
        self.notify(note::DidChangeTextDocument::METHOD, serde_json::json!({ "textDocument": doc, "contentChanges": [{ "text": text }] }));
        version
    }

    /// Replaces `range` of the buffer of `rel` (incremental sync), `expected` being the
    /// whole text the client then holds.
    pub(crate) fn change_range(&mut self, rel: &str, range: Range, text: &str, expected: &str) -> i32 {
        let version = self.versions.get(rel).expect("open first") + 1;
        self.versions.insert(rel.to_owned(), version);
        self.texts.insert(rel.to_owned(), expected.to_owned());
        let doc = serde_json::json!({ "uri": self.uri(rel), "version": version });
        let change = serde_json::json!({ "range": range, "text": text });
        self.notify(note::DidChangeTextDocument::METHOD, serde_json::json!({ "textDocument": doc, "contentChanges": [change] }));
        version
    }

    /// Sends a request and waits for its response.
    pub(crate) fn call<T: serde::de::DeserializeOwned>(&mut self, method: &str, params: serde_json::Value) -> Result<T, ResponseError> {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.conn.sender.send(Message::Request(Request::new(id.clone(), method.to_owned(), params))).unwrap();
        match self.recv() {
            Message::Response(Response { id: got, response_result }) if got == id => {
                response_result.map(|result| serde_json::from_value(result).expect("a well-typed result"))
            }
            other => panic!("unclaimed message while waiting for {method}: {other:?}"),
        }
    }

    pub(crate) fn request<R: req::Request>(&mut self, params: R::Params) -> R::Result {
        self.call(R::METHOD, serde_json::to_value(params).unwrap()).unwrap_or_else(|e| panic!("{}: {e:?}", R::METHOD))
    }

    /// The next message that is not a publish (publishes are recorded).
    fn recv(&mut self) -> Message {
        loop {
            let message = self.conn.receiver.recv_timeout(PATIENCE).expect("the server answers in time");
            if !self.record(&message) {
                return message;
            }
        }
    }

    /// Records a publish; false for any other message.
    fn record(&mut self, message: &Message) -> bool {
        let Message::Notification(n) = message else { return false };
        if n.method != note::PublishDiagnostics::METHOD {
            return false;
        }
        let p: PublishDiagnosticsParams = serde_json::from_value(n.params.clone()).unwrap();
        self.latest.insert(p.uri.as_str().to_owned(), p.clone());
        self.history.push(p);
        true
    }

    /// Waits until the latest diagnostics of `rel` satisfy `done`; returns them.
    pub(crate) fn wait(&mut self, rel: &str, done: impl Fn(&[Diagnostic]) -> bool) -> Vec<Diagnostic> {
        let uri = self.uri(rel).as_str().to_owned();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(p) = self.latest.get(&uri)
                && done(&p.diagnostics)
            {
                return p.diagnostics.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .conn
                .receiver
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("{rel}: never published as awaited: {:?}", self.latest.get(&uri)));
            assert!(self.record(&message), "unclaimed message: {message:?}");
        }
    }

    /// Waits for a diagnostic with `code` in `rel`.
    pub(crate) fn wait_code(&mut self, rel: &str, code: &str) -> Diagnostic {
        let found = self.wait(rel, |ds| ds.iter().any(|d| has_code(d, code)));
        found.into_iter().find(|d| has_code(d, code)).unwrap()
    }

    /// Where the `nth` (0-based) occurrence of `needle` starts in the client's buffer of
    /// `rel` (or the file on disk), plus `within` bytes, as a UTF-16 position.
    pub(crate) fn find(&self, rel: &str, needle: &str, nth: usize, within: usize) -> Position {
        let text = self.texts.get(rel).cloned().unwrap_or_else(|| self.root.read(rel));
        let offset = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("{needle:?} in {rel}")).0 + within;
        utf16_position(&text, offset)
    }

    pub(crate) fn at(&self, rel: &str, position: Position) -> TextDocumentPositionParams {
        TextDocumentPositionParams { text_document: TextDocumentIdentifier { uri: self.uri(rel) }, position }
    }

    /// shutdown, exit: the server ends cleanly and left nothing unclaimed.
    pub(crate) fn shutdown(mut self) {
        let () = self.request::<req::Shutdown>(());
        self.notify(note::Exit::METHOD, serde_json::Value::Null);
        assert_eq!(self.join(), Ended::Exit);
    }

    /// The connection to the server (replace it to hang up).
    pub(crate) fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Waits for the server's end; fails on any message left unclaimed but publishes.
    pub(crate) fn join(&mut self) -> Ended {
        let ended = self.server.take().unwrap().join().expect("the server thread").expect("the server");
        while let Ok(message) = self.conn.receiver.try_recv() {
            assert!(self.record(&message), "unclaimed message: {message:?}");
        }
        ended
    }
}

pub(crate) fn has_code(d: &Diagnostic, code: &str) -> bool {
    d.code == Some(lsp_types::NumberOrString::String(code.to_owned())) && d.source.as_deref() == Some("seedc")
}

/// The UTF-16 position of byte `offset` of `text`.
pub(crate) fn utf16_position(text: &str, offset: usize) -> Position {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..offset].matches('\n').count();
    Position::new(line as u32, text[line_start..offset].encode_utf16().count() as u32)
}

/// The text with the edits of one file applied (ranges in UTF-16).
pub(crate) fn apply(text: &str, edits: &[lsp_types::TextEdit]) -> String {
    let offset = |p: Position| {
        let start: usize = text.split_inclusive('\n').take(p.line as usize).map(str::len).sum();
        let line = &text[start..];
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= p.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    let mut edits: Vec<_> = edits.iter().map(|e| (offset(e.range.start), offset(e.range.end), e.new_text.as_str())).collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_owned();
    for (start, end, new) in edits {
        out.replace_range(start..end, new);
    }
    out
}
