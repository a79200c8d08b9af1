//! Drives `seedc lsp` over stdio to time what a designer waits for (`scripts/bench lsp`):
//! initialize → the first analysis (a request waits for it), then EDITS edits of the
//! largest seed file (incremental: its version string) → the diagnostics published for
//! that edit. Prints `first_ms=… median_ms=… max_ms=… peak_rss_kb=… rss_file_kb=…`.
//!
//!   lsp_bench SEEDC ROOT [EDITS]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdout, Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (seedc, root) = (&args[1], std::fs::canonicalize(&args[2]).expect("root"));
    let edits: usize = args.get(3).map_or(20, |n| n.parse().expect("EDITS"));
    let mut child = Command::new(seedc)
        .args(["--root", root.to_str().unwrap(), "lsp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start seedc lsp");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |message: Value| {
        let body = message.to_string();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    };
    let root_uri = format!("file://{}", root.display());
    let start = Instant::now();
    send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"processId": null, "rootUri": root_uri, "capabilities": {}, "initializationOptions": {"debounceMs": 0}}}));
    wait(&mut stdout, |m| m["id"] == 1);
    send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    // A request is answered from the analysis of the latest edit: this waits for the first.
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "workspace/symbol", "params": {"query": "no such record"}}));
    wait(&mut stdout, |m| m["id"] == 2);
    let first = start.elapsed();

    let seeds = root.join("data/seeds");
    let largest =
        std::fs::read_dir(&seeds).unwrap().map(|e| e.unwrap().path()).max_by_key(|p| std::fs::metadata(p).unwrap().len()).unwrap();
    let text = std::fs::read_to_string(&largest).unwrap();
    let uri = format!("file://{}", largest.display());
    send(json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
        "params": {"textDocument": {"uri": uri, "languageId": "json", "version": 0, "text": text}}}));
    let (line, start_char, end_char) = version_value(&text);
    let mut times = Vec::new();
    for i in 1..=edits {
        // An invalid version, another each time, so each edit publishes its own diagnostic.
        let new = format!("\"bad-{i}\"");
        let range = json!({"start": {"line": line, "character": start_char}, "end": {"line": line, "character": if i == 1 { end_char } else { start_char + format!("\"bad-{}\"", i - 1).len() }}});
        let sent = Instant::now();
        send(json!({"jsonrpc": "2.0", "method": "textDocument/didChange",
            "params": {"textDocument": {"uri": uri, "version": i}, "contentChanges": [{"range": range, "text": new}]}}));
        wait(&mut stdout, |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri.as_str() && m["params"]["version"] == i
        });
        times.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let kb = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).map_or(0, |v| v.trim().trim_end_matches(" kB").parse::<u64>().unwrap_or(0))
    };
    // The peak, and how much of what is resident now is the binary's and libraries' pages
    // (file-backed) rather than memory the server allocated.
    let (peak, file) = (kb("VmHWM:"), kb("RssFile:"));
    send(json!({"jsonrpc": "2.0", "id": 3, "method": "shutdown", "params": null}));
    wait(&mut stdout, |m| m["id"] == 3);
    send(json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(0), "seedc lsp exit code");
    times.sort_by(f64::total_cmp);
    let median = (times[(times.len() - 1) / 2] + times[times.len() / 2]) / 2.0;
    let line = format!(
        "first_ms={:.1} median_ms={median:.1} max_ms={:.1} peak_rss_kb={peak} rss_file_kb={file} file={}",
        first.as_secs_f64() * 1000.0,
        times[times.len() - 1],
        largest.file_name().unwrap().to_string_lossy()
    );
    std::io::stdout().write_all(format!("{line}\n").as_bytes()).expect("write stdout");
}

/// The line and UTF-16 range of the `version` value (ASCII, on one line).
fn version_value(text: &str) -> (usize, usize, usize) {
    for (n, line) in text.lines().enumerate() {
        if let Some(at) = line.find("\"version\"") {
            let start = at + line[at..].find(':').unwrap() + 1;
            let start = start + line[start..].find('"').unwrap();
            let end = start + 1 + line[start + 1..].find('"').unwrap() + 1;
            return (n, start, end);
        }
    }
    panic!("no version in the largest seed file");
}

/// Reads messages until one satisfies `done`.
fn wait(out: &mut BufReader<ChildStdout>, done: impl Fn(&Value) -> bool) -> Value {
    loop {
        let mut length = 0;
        loop {
            let mut line = String::new();
            assert!(out.read_line(&mut line).unwrap() > 0, "seedc lsp closed stdout");
            if line == "\r\n" {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        out.read_exact(&mut body).unwrap();
        let message: Value = serde_json::from_slice(&body).unwrap();
        if done(&message) {
            return message;
        }
    }
}
