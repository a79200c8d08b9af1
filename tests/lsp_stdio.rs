//! `seedc lsp` as an editor runs it: the real binary on piped stdio. Stdout must be nothing
//! but well-framed protocol messages; the process ends with 0 after shutdown and exit, and
//! by itself when stdin closes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Root, seedc_cmd};

/// How long any message, or the process's end, may take.
const PATIENCE: Duration = Duration::from_secs(60);

struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Each frame read from stdout, or what was wrong with stdout.
    frames: Receiver<Result<Value, String>>,
    next_id: i64,
}

impl Server {
    fn start(root: &Root) -> Server {
        let mut child = seedc_cmd()
            .arg("--root")
            .arg(root.path())
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start seedc lsp");
        let stdout = child.stdout.take().unwrap();
        let (tx, frames) = channel();
        std::thread::spawn(move || {
            let mut out = BufReader::new(stdout);
            while let Some(frame) = read_frame(&mut out).transpose() {
                let failed = frame.is_err();
                if tx.send(frame).is_err() || failed {
                    break;
                }
            }
        });
        Server { stdin: child.stdin.take(), child, frames, next_id: 0 }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        let stdin = self.stdin.as_mut().expect("stdin open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request; returns its result, skipping the publishes that come meanwhile.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let frame = self.next();
            if frame["id"] == id {
                assert!(frame.get("error").is_none(), "{frame}");
                return frame["result"].clone();
            }
            assert_eq!(frame["method"], "textDocument/publishDiagnostics", "unexpected {frame}");
        }
    }

    fn next(&self) -> Value {
        match self.frames.recv_timeout(PATIENCE) {
            Ok(Ok(frame)) => frame,
            Ok(Err(garbage)) => panic!("stdout is not only protocol frames: {garbage}"),
            Err(_) => panic!("no message from the server in time"),
        }
    }

    /// Waits for the process to end; its exit code.
    fn wait(mut self) -> i32 {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Whatever was left on stdout must be frames too.
                while let Ok(frame) = self.frames.recv_timeout(Duration::from_secs(5)) {
                    if let Err(garbage) = frame {
                        panic!("stdout is not only protocol frames: {garbage}");
                    }
                }
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("seedc lsp did not end in time");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One frame (`Content-Length` header, blank line, JSON body); None at a clean end.
fn read_frame(out: &mut impl BufRead) -> Result<Option<Value>, String> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return if length.is_none() { Ok(None) } else { Err("end inside a header".to_owned()) };
        }
        if line == "\r\n" {
            break;
        }
        let value = line.strip_prefix("Content-Length: ").and_then(|v| v.trim_end().parse::<usize>().ok());
        length = Some(value.ok_or_else(|| format!("not a header: {line:?}"))?);
    }
    let mut body = vec![0; length.ok_or("a frame without Content-Length")?];
    out.read_exact(&mut body).map_err(|e| e.to_string())?;
    serde_json::from_slice(&body).map(Some).map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&body)))
}

fn initialize(server: &mut Server, root: &Root) {
    let uri = format!("file://{}", root.path().display());
    let result = server.request(
        "initialize",
        json!({ "processId": null, "rootUri": uri, "capabilities": {}, "initializationOptions": { "debounceMs": 0 } }),
    );
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    server.notify("initialized", json!({}));
}

#[test]
fn an_editor_session_over_stdio_ends_with_exit_code_0() {
    let root = Root::sample();
    let mut server = Server::start(&root);
    initialize(&mut server, &root);
    let enemies = format!("file://{}/data/seeds/enemies.json", root.path().display());
    let text = root.read("data/seeds/enemies.json").replacen("\"hp\": 12,", "\"hp\": 0,", 1);
    server.notify("textDocument/didOpen", json!({ "textDocument": { "uri": enemies, "languageId": "json", "version": 1, "text": text } }));
    loop {
        let frame = server.next();
        let codes: Vec<&Value> = frame["params"]["diagnostics"].as_array().into_iter().flatten().map(|d| &d["code"]).collect();
        if frame["params"]["uri"] == enemies.as_str() && codes.contains(&&json!("schema-violation")) {
            assert_eq!(frame["params"]["version"], 1);
            break;
        }
    }
    let bosses = root.read("data/seeds/bosses.json");
    let line = bosses.lines().position(|l| l.contains("\"iron_sword\"")).unwrap();
    let character = bosses.lines().nth(line).unwrap().find("iron_sword").unwrap();
    let uri = format!("file://{}/data/seeds/bosses.json", root.path().display());
    let position = json!({ "line": line, "character": character });
    let location = server.request("textDocument/definition", json!({ "textDocument": { "uri": uri }, "position": position }));
    assert!(location["uri"].as_str().unwrap().ends_with("/data/seeds/items.json"), "{location}");
    assert_eq!(server.request("shutdown", Value::Null), Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait(), 0);
}

#[test]
fn closing_stdin_ends_the_server() {
    let root = Root::sample();
    let mut server = Server::start(&root);
    initialize(&mut server, &root);
    drop(server.stdin.take());
    assert_eq!(server.wait(), 0);

    // Before initialize, too.
    let mut server = Server::start(&root);
    drop(server.stdin.take());
    assert_eq!(server.wait(), 0);
}
