//! stdio framing that survives bad input: a body that is not JSON is answered with a
//! JSON-RPC parse error (id null) and the server keeps reading; a JSON value that is not a
//! message is answered with "invalid request".

use std::io::{self, BufRead, Write};
use std::thread;

use crossbeam_channel::{unbounded, Receiver, Sender};
use lsp_server::{Connection, ErrorCode, Message};
use serde_json::Value;

/// Internal method that carries a raw reply through the server, so that replies to
/// malformed input keep their place in the output order.
pub const RAW_REPLY: &str = "$/purposelint/rawReply";

/// What one frame of input turned out to be.
#[derive(Debug)]
pub enum Frame {
    Message(Message),
    /// A reply to send straight back (malformed input), already serialized.
    Reject(String),
}

fn error_json(id: Value, code: ErrorCode, message: &str) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code as i32, "message": message},
    })
    .to_string()
}

/// Reads one frame; `Ok(None)` at end of input.
pub fn read_frame(r: &mut impl BufRead) -> io::Result<Option<Frame>> {
    let mut length: Option<usize> = None;
    let mut saw_header = false;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            }
        }
    }
    let Some(length) = length.filter(|&n| n <= 64 * 1024 * 1024) else {
        let msg = "missing or invalid Content-Length header";
        return Ok(Some(Frame::Reject(error_json(
            Value::Null,
            ErrorCode::ParseError,
            msg,
        ))));
    };
    let mut body = vec![0u8; length];
    r.read_exact(&mut body)?;
    Ok(Some(classify(&body)))
}

/// A frame body as a message, or the error to answer it with.
pub fn classify(body: &[u8]) -> Frame {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            let msg = format!("parse error: {e}");
            return Frame::Reject(error_json(Value::Null, ErrorCode::ParseError, &msg));
        }
    };
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    match serde_json::from_value::<Message>(value) {
        Ok(m) => Frame::Message(m),
        Err(e) => {
            let id = match id {
                Value::Number(_) | Value::String(_) => id,
                _ => Value::Null,
            };
            let msg = format!("invalid request: {e}");
            Frame::Reject(error_json(id, ErrorCode::InvalidRequest, &msg))
        }
    }
}

/// Handles of the reader and writer threads.
pub struct IoThreads {
    reader: thread::JoinHandle<()>,
    writer: thread::JoinHandle<io::Result<()>>,
}

impl IoThreads {
    pub fn join(self) {
        let _ = self.reader.join();
        let _ = self.writer.join();
    }
}

fn write_frame(w: &mut impl Write, text: &str) -> io::Result<()> {
    write!(w, "Content-Length: {}\r\n\r\n{}", text.len(), text)?;
    w.flush()
}

/// A connection over stdin/stdout.
pub fn stdio() -> (Connection, IoThreads) {
    let (to_server, server_rx) = unbounded::<Message>();
    let (server_tx, from_server) = unbounded::<Message>();
    let reader = thread::spawn(move || reader_loop(to_server));
    let writer = thread::spawn(move || writer_loop(from_server));
    let conn = Connection {
        sender: server_tx,
        receiver: server_rx,
    };
    (conn, IoThreads { reader, writer })
}

fn reader_loop(to_server: Sender<Message>) {
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    loop {
        match read_frame(&mut stdin) {
            Ok(Some(Frame::Message(m))) => {
                let exit = matches!(&m, Message::Notification(n) if n.method == "exit");
                if to_server.send(m).is_err() || exit {
                    return;
                }
            }
            Ok(Some(Frame::Reject(text))) => {
                let n = lsp_server::Notification::new(RAW_REPLY.into(), text);
                if to_server.send(n.into()).is_err() {
                    return;
                }
            }
            Ok(None) | Err(_) => return,
        }
    }
}

fn writer_loop(messages: Receiver<Message>) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for m in messages {
        match m {
            Message::Notification(n) if n.method == RAW_REPLY => {
                if let Some(text) = n.params.as_str() {
                    write_frame(&mut out, text)?;
                }
            }
            m => m.write(&mut out)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_frames_become_errors_and_reading_goes_on() {
        let input = b"Content-Length: 5\r\n\r\n{oops\
Content-Length: 14\r\n\r\n{\"id\":3,\"x\":1}\
Content-Length: 40\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"initialized\"}";
        let mut r = &input[..];
        let a = read_frame(&mut r).unwrap().unwrap();
        assert!(
            matches!(&a, Frame::Reject(t) if t.contains("-32700") && t.contains("\"id\":null"))
        );
        let b = read_frame(&mut r).unwrap().unwrap();
        assert!(matches!(&b, Frame::Reject(t) if t.contains("-32600") && t.contains("\"id\":3")));
        let c = read_frame(&mut r).unwrap().unwrap();
        assert!(matches!(c, Frame::Message(Message::Notification(_))));
        assert!(read_frame(&mut r).unwrap().is_none());
    }
}
