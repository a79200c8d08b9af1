//! The connection over stdin and stdout: `lsp-server`'s framing and messages, read so that
//! a big message (an editor opening a 5 MB seed file sends its whole text) is never held
//! twice. `lsp-server`'s own reader holds the body, then the parser's copy of each string,
//! then the message's; this one parses the body straight from stdin, which saves one copy
//! of the largest file opened at the server's peak.

use std::io::{self, BufRead, BufReader, Read};
use std::thread::JoinHandle;

use crossbeam_channel::bounded;
use lsp_server::{Connection, Message};

/// The reader and writer threads of a connection over stdio.
pub(crate) struct Io {
    reader: JoinHandle<io::Result<()>>,
    writer: JoinHandle<io::Result<()>>,
}

impl Io {
    /// Waits for both threads: the reader ends at `exit` or when stdin closes, the writer
    /// once every sender of the connection is gone.
    pub(crate) fn join(self) -> io::Result<()> {
        let reader = self.reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let writer = self.writer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        reader.and(writer)
    }
}

/// A connection over this process's stdin and stdout.
pub(crate) fn connect() -> (Connection, Io) {
    let (writer_sender, writer_receiver) = bounded::<Message>(0);
    let writer = std::thread::spawn(move || {
        let mut stdout = io::stdout().lock();
        writer_receiver.into_iter().try_for_each(|message| message.write(&mut stdout))
    });
    let (reader_sender, reader_receiver) = bounded::<Message>(0);
    let reader = std::thread::spawn(move || {
        let mut stdin = BufReader::new(io::stdin().lock());
        while let Some(message) = read(&mut stdin)? {
            let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
            reader_sender.send(message).map_err(io::Error::other)?;
            if exit {
                break;
            }
        }
        Ok(())
    });
    (Connection { sender: writer_sender, receiver: reader_receiver }, Io { reader, writer })
}

/// The longest header line read (the protocol's are a few dozen bytes).
const HEADER_LIMIT: u64 = 8 << 10;

/// Reads one message: its headers, then its body parsed as it is read. None at the end of
/// the input before a message starts.
fn read(input: &mut impl BufRead) -> io::Result<Option<Message>> {
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        // Bounded: a client that sends bytes without a line end must not grow a header
        // without end (a line cut at the bound is then malformed).
        if input.by_ref().take(HEADER_LIMIT).read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let Some(header) = line.strip_suffix("\r\n") else {
            let shown: String = line.chars().take(80).collect();
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("malformed header: {shown:?}")));
        };
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(": ") else {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("malformed header: {header:?}")));
        };
        if name.eq_ignore_ascii_case("Content-Length") {
            length = Some(value.parse::<u64>().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?);
        }
    }
    let length = length.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no Content-Length"))?;
    let mut body = input.take(length);
    let message =
        serde_json::from_reader(&mut body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("malformed message: {e}")))?;
    if body.limit() > 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the input ended inside a message"));
    }
    Ok(Some(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn reads_framed_messages_one_after_another() {
        let text = "a \"quoted\"\nline é 😀 \\ end";
        let open = serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"text": text}}).to_string();
        let request = r#"{"jsonrpc":"2.0","id":7,"method":"shutdown"}"#;
        let input = format!("{}Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n{}", frame(&open), frame(request));
        let mut input = input.as_bytes();
        let Some(Message::Notification(n)) = read(&mut input).unwrap() else { panic!("a notification") };
        assert_eq!(n.params["text"], text);
        let Some(Message::Request(r)) = read(&mut input).unwrap() else { panic!("a request") };
        assert_eq!((r.id, r.method.as_str()), (7.into(), "shutdown"));
        assert!(read(&mut input).unwrap().is_none(), "the end of the input");
    }

    #[test]
    fn malformed_input_is_an_error_never_a_hang() {
        for bad in [
            "Content-Length: 5\n\n{}",
            "Content-Length: x\r\n\r\n{}",
            "\r\n{}",
            "Content-Length: 9\r\n\r\n{\"a\": 1}",
            "Content-Length: 40\r\n\r\n{}",
        ] {
            assert!(read(&mut bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    /// A header line that never ends is an error once it passes the bound, not a line held
    /// whole: read from an endless input, the read ends.
    #[test]
    fn a_header_without_end_is_an_error_not_unbounded_memory() {
        let mut endless = io::BufReader::new(io::repeat(b'x'));
        let err = read(&mut endless).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    }
}
