//! `cargo bench --bench editor`: how long the language server takes from a one-line edit
//! to the diagnostics it publishes, in generated workspaces of 1,000 and 10,000 files.
//!
//! The server runs in this process over lsp-server's in-memory connection, exactly as
//! over stdio but without the pipe. Each edit adds or removes one line of a pipeline
//! (a broken column reference, so that every edit changes the file's diagnostics and is
//! published); the time is from sending `didChange` to receiving the
//! `publishDiagnostics` of that version. Environment: `PURPOSELINT_BENCH_SIZES` (default
//! `1000,10000`), `PURPOSELINT_BENCH_EDITS` (default 21).

#[path = "../examples/corpus/mod.rs"]
#[allow(dead_code)]
mod corpus;

use std::path::Path;
use std::time::{Duration, Instant};

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{json, Value};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn uri(path: &Path) -> String {
    purposelint::lsp::convert::path_to_uri(path)
        .as_str()
        .to_string()
}

struct Client {
    conn: Connection,
    next: i32,
}

impl Client {
    fn notify(&self, method: &str, params: Value) {
        let n = Notification::new(method.to_string(), params);
        self.conn.sender.send(n.into()).unwrap();
    }

    /// Sends a request and waits for its answer, dropping what comes before it.
    fn request(&mut self, method: &str, params: Value) {
        let id = RequestId::from(self.next);
        self.next += 1;
        let r = Request::new(id.clone(), method.to_string(), params);
        self.conn.sender.send(r.into()).unwrap();
        loop {
            match self.conn.receiver.recv().unwrap() {
                Message::Response(r) if r.id == id => return,
                _ => {}
            }
        }
    }

    /// Waits for the diagnostics of `uri` at `version`.
    fn published(&self, uri: &str, version: i32) -> usize {
        loop {
            if let Message::Notification(n) = self.conn.receiver.recv().unwrap() {
                let p = &n.params;
                if n.method == "textDocument/publishDiagnostics"
                    && p["uri"] == uri
                    && p["version"] == version
                {
                    return p["diagnostics"].as_array().map_or(0, Vec::len);
                }
            }
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn measure(files: usize, edits: usize) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let cfg = corpus::Config {
        files,
        seed: 1,
        violating: 0.1,
    };
    let stats = corpus::generate(&cfg, &root).unwrap();
    let (server, conn) = Connection::memory();
    let handle = std::thread::spawn(move || {
        let config = purposelint::lsp::Config {
            debounce: Duration::ZERO,
            ..Default::default()
        };
        purposelint::lsp::serve(&server, config)
    });
    let mut c = Client { conn, next: 1 };
    let started = Instant::now();
    c.request(
        "initialize",
        json!({"capabilities": {}, "workspaceFolders": [{"uri": uri(&root), "name": "ws"}]}),
    );
    c.notify("initialized", json!({}));
    c.request("purposelint/barrier", json!({}));
    let initial = started.elapsed();

    let pipeline = root.join("pipelines/000/p_000000.yaml");
    let text = std::fs::read_to_string(&pipeline).unwrap();
    let u = uri(&pipeline);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": u, "languageId": "yaml", "version": 1, "text": text}}),
    );
    c.request("purposelint/barrier", json!({}));
    // The line after the first `fields:`: an output field with a broken reference.
    let line = text
        .lines()
        .position(|l| l.trim() == "fields:")
        .expect("a step with fields") as u32
        + 1;
    let broken = "      bench_probe: nowhere.column\n";
    let mut times = Vec::with_capacity(edits);
    for i in 0..edits {
        let version = i as i32 + 2;
        let change = if i % 2 == 0 {
            json!([{"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}}, "text": broken}])
        } else {
            json!([{"range": {"start": {"line": line, "character": 0}, "end": {"line": line + 1, "character": 0}}, "text": ""}])
        };
        let t = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": u, "version": version}, "contentChanges": change}),
        );
        let diags = c.published(&u, version);
        times.push(t.elapsed());
        assert_eq!(diags > 0, i % 2 == 0, "edit {i} changes the diagnostics");
    }
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    handle.join().unwrap();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut sorted = times.clone();
    sorted.sort();
    println!(
        "{files:>6} files ({} fields): initial lint {:>8.1} ms; edit -> published: median {:>6.1} ms, min {:>6.1}, max {:>6.1} ({edits} edits)",
        stats.fields,
        ms(initial),
        ms(median(times)),
        ms(sorted[0]),
        ms(sorted[sorted.len() - 1]),
    );
}

fn main() {
    let sizes = std::env::var("PURPOSELINT_BENCH_SIZES").unwrap_or_else(|_| "1000,10000".into());
    let edits: usize = std::env::var("PURPOSELINT_BENCH_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(21);
    println!(
        "editor latency, {} threads",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for size in sizes.split(',').filter_map(|s| s.trim().parse().ok()) {
        measure(size, edits);
    }
}
