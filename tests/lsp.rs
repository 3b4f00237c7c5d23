//! The language server, in memory (`Connection::memory`) and over stdio with the real binary.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use purposelint::lsp::{self, convert};
use serde_json::{json, Value};

mod support;
use support::copy_tree;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tailored-audiences");

fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    copy_tree(Path::new(EXAMPLE), &root);
    (dir, root)
}

fn uri(path: &Path) -> String {
    convert::path_to_uri(path).as_str().to_string()
}

struct Client {
    conn: Connection,
    server: Option<JoinHandle<i32>>,
    next: i32,
    /// publishDiagnostics received so far, in order.
    published: Vec<Value>,
    other: Vec<Message>,
}

impl Client {
    fn start() -> Client {
        let (server, client) = Connection::memory();
        let handle = std::thread::spawn(move || {
            let config = lsp::Config {
                debounce: Duration::ZERO,
                ..lsp::Config::default()
            };
            lsp::serve(&server, config)
        });
        Client {
            conn: client,
            server: Some(handle),
            next: 1,
            published: Vec::new(),
            other: Vec::new(),
        }
    }

    fn init(root: &Path, encodings: &[&str]) -> (Client, Value) {
        let mut c = Client::start();
        let caps = json!({
            "general": {"positionEncodings": encodings},
            "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}
        });
        let result = c.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": caps,
                   "workspaceFolders": [{"uri": uri(root), "name": "ws"}]}),
        );
        c.notify("initialized", json!({}));
        c.sync();
        (c, result.unwrap())
    }

    fn notify(&mut self, method: &str, params: Value) {
        let n = Notification::new(method.to_string(), params);
        self.conn.sender.send(n.into()).unwrap();
    }

    /// Sends a request and returns its result (or error object as Err).
    fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = RequestId::from(self.next);
        self.next += 1;
        let r = Request::new(id.clone(), method.to_string(), params);
        self.conn.sender.send(r.into()).unwrap();
        loop {
            let msg = self
                .conn
                .receiver
                .recv_timeout(Duration::from_secs(60))
                .expect("server answers");
            match msg {
                Message::Response(resp) if resp.id == id => {
                    return match resp.response_result {
                        Err(e) => Err(serde_json::to_value(e).unwrap()),
                        Ok(v) => Ok(v),
                    };
                }
                Message::Notification(n) if n.method == "textDocument/publishDiagnostics" => {
                    self.published.push(n.params)
                }
                m => self.other.push(m),
            }
        }
    }

    /// Waits until the server has handled everything sent so far.
    fn sync(&mut self) {
        let r = self.request("purposelint/barrier", json!({}));
        assert_eq!(r.unwrap_err()["code"], -32601);
    }

    /// Diagnostics published for `uri` since the last call, the latest last.
    fn take(&mut self, uri: &str) -> Vec<Vec<Value>> {
        let (mine, rest): (Vec<Value>, Vec<Value>) = std::mem::take(&mut self.published)
            .into_iter()
            .partition(|p| p["uri"] == uri);
        self.published = rest;
        mine.into_iter()
            .map(|p| p["diagnostics"].as_array().unwrap().clone())
            .collect()
    }

    fn shutdown(mut self) -> i32 {
        assert_eq!(self.request("shutdown", Value::Null).unwrap(), Value::Null);
        let after = self.request("textDocument/hover", json!({}));
        assert_eq!(after.unwrap_err()["code"], -32600);
        self.notify("exit", Value::Null);
        self.server.take().unwrap().join().unwrap()
    }

    fn open(&mut self, path: &Path) {
        let text = std::fs::read_to_string(path).unwrap();
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri(path), "languageId": "yaml", "version": 1, "text": text}}),
        );
    }

    fn change(&mut self, path: &Path, version: i32, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(path), "version": version}, "contentChanges": changes}),
        );
    }
}

fn line_of(text: &str, needle: &str) -> (u32, u32) {
    for (i, l) in text.lines().enumerate() {
        if let Some(c) = l.find(needle) {
            return (i as u32, l[..c].encode_utf16().count() as u32);
        }
    }
    panic!("{needle} not found");
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn initialize_publishes_cross_file_diagnostics_with_related_information() {
    let (_dir, root) = workspace();
    let (mut c, init) = Client::init(&root, &["utf-16"]);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(init["capabilities"]["textDocumentSync"]["change"], 2);
    // The server asks to watch YAML files.
    assert!(c
        .other
        .iter()
        .any(|m| matches!(m, Message::Request(r) if r.method == "client/registerCapability")));
    let pipeline = root.join("pipelines/matching.yaml");
    let text = std::fs::read_to_string(&pipeline).unwrap();
    let published = c.take(&uri(&pipeline));
    assert_eq!(published.len(), 1, "published once, unopened");
    let diags = &published[0];
    assert_eq!(diags.len(), 3);
    let d = &diags[0];
    let (line, col) = line_of(&text, "sha256(accounts");
    assert_eq!(d["range"]["start"], json!({"line": line, "character": col}));
    assert_eq!(d["range"]["end"]["line"], line);
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "purposelint");
    assert_eq!(d["code"], "security-to-advertising");
    // No rule-page link unless the client configures `docsBaseUrl`: there is no
    // public site to point at.
    assert_eq!(d["codeDescription"], Value::Null);
    let related = d["relatedInformation"].as_array().unwrap();
    assert_eq!(related.len(), 4, "source, two hops, sink: {related:#?}");
    assert!(related[0]["location"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("schemas/accounts.yaml"));
    assert!(related[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("source: accounts.security_contacts.email"));
    assert!(related[1]["message"]
        .as_str()
        .unwrap()
        .starts_with("hop 1: "));
    assert!(related[2]["message"]
        .as_str()
        .unwrap()
        .contains("passthrough"));
    let sink = &related[3];
    assert!(sink["location"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("/sinks.yaml"));
    assert_eq!(
        sink["location"]["range"]["start"],
        json!({"line": 2, "character": 6})
    );
    assert!(sink["message"]
        .as_str()
        .unwrap()
        .starts_with("sink: x_tailored_audiences"));
    // Files without findings get nothing.
    assert!(c.take(&uri(&root.join("sinks.yaml"))).is_empty());
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn edits_clear_and_recreate_findings_across_files() {
    let (_dir, root) = workspace();
    let (mut c, _) = Client::init(&root, &[]);
    let pipeline = root.join("pipelines/matching.yaml");
    let schema = root.join("schemas/accounts.yaml");
    let text = std::fs::read_to_string(&schema).unwrap();
    c.take(&uri(&pipeline));
    c.open(&schema);
    c.sync();
    assert_eq!(
        c.take(&uri(&schema)),
        vec![Vec::<Value>::new()],
        "opened: published empty"
    );
    assert!(c.take(&uri(&pipeline)).is_empty(), "nothing changed there");

    // The phone number's own purpose no longer is security: still security via the dataset.
    // Drop the dataset-level purpose and the field's: the finding in the *pipeline* goes.
    let (line, _) = line_of(&text, "purposes: [essential.service.authentication]");
    let (dline, _) = line_of(&text, "purposes: [essential.service.security]");
    c.change(
        &schema,
        2,
        json!([
            {"range": {"start": {"line": line, "character": 0}, "end": {"line": line + 1, "character": 0}}, "text": ""},
        ]),
    );
    c.sync();
    let after = c.take(&uri(&pipeline));
    assert_eq!(after.len(), 1);
    assert_eq!(
        after[0].len(),
        3,
        "still security via the dataset's purposes"
    );
    let msg = after[0][1]["message"].as_str().unwrap();
    assert!(
        msg.contains("phone_number, collected for essential.service.security,"),
        "{msg}"
    );
    c.change(
        &schema,
        3,
        json!([
            {"range": {"start": {"line": dline, "character": 0}, "end": {"line": dline + 1, "character": 0}}, "text": ""},
        ]),
    );
    c.sync();
    let cleared = c.take(&uri(&pipeline));
    assert_eq!(cleared.len(), 1);
    assert_eq!(
        codes(&cleared[0]),
        vec!["security-to-advertising"],
        "only the e-mail's own purpose is left"
    );
    // Full sync back to the original text re-creates all three.
    c.change(&schema, 4, json!([{"text": text}]));
    c.sync();
    let back = c.take(&uri(&pipeline));
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].len(), 3);

    // Edit the join and the user_id mapping out of the open pipeline: its diagnostics clear.
    c.open(&pipeline);
    c.sync();
    assert_eq!(c.take(&uri(&pipeline))[0].len(), 3);
    let ptext = std::fs::read_to_string(&pipeline).unwrap();
    let (join, _) = line_of(&ptext, "join:");
    let (uid, _) = line_of(&ptext, "user_id:");
    c.change(
        &pipeline,
        2,
        json!([
            {"range": {"start": {"line": uid, "character": 0}, "end": {"line": uid + 1, "character": 0}}, "text": ""},
            {"range": {"start": {"line": join, "character": 0}, "end": {"line": join + 1, "character": 0}}, "text": ""},
        ]),
    );
    c.sync();
    let p = c.take(&uri(&pipeline));
    assert_eq!(p, vec![Vec::<Value>::new()]);
    // Closing reverts to the disk text, which still has the join.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri(&pipeline)}}),
    );
    c.sync();
    assert_eq!(c.take(&uri(&pipeline))[0].len(), 3);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn utf16_and_utf8_ranges_after_multibyte_text() {
    for (enc, expect_col) in [("utf-16", 0u32), ("utf-8", 0u32)] {
        let (_dir, root) = workspace();
        let pipeline = root.join("pipelines/matching.yaml");
        let text = std::fs::read_to_string(&pipeline).unwrap();
        // Multi-byte text before the join on the same line, in a flow mapping key-less comment-free way:
        let text = text.replace("    join: sha256(", "    join: /* é😀 */ sha256(");
        std::fs::write(&pipeline, &text).unwrap();
        let (mut c, init) = Client::init(&root, &[enc, "utf-16"]);
        assert_eq!(init["capabilities"]["positionEncoding"], enc);
        let diags = c.take(&uri(&pipeline)).pop().unwrap();
        let d = &diags[0];
        let (line, _) = line_of(&text, "join:");
        let l = text.lines().nth(line as usize).unwrap();
        let start = l.find("/* é").unwrap();
        let end = l.len();
        let units = |s: &str| match enc {
            "utf-8" => s.len() as u32,
            _ => s.encode_utf16().count() as u32,
        };
        assert_eq!(
            d["range"]["start"]["character"],
            units(&l[..start]) + expect_col
        );
        assert_eq!(d["range"]["end"]["character"], units(&l[..end]), "{enc}");
        // Hover on a column reference after the emoji resolves in this encoding.
        let at = l.find("accounts.security_contacts.phone_number").unwrap() + 10;
        let h = c
            .request(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri(&pipeline)}, "position": {"line": line, "character": units(&l[..at])}}),
            )
            .unwrap();
        let md = h["contents"]["value"].as_str().unwrap();
        assert!(
            md.contains("**field** `accounts.security_contacts.phone_number`"),
            "{enc}: {md}"
        );
        assert_eq!(
            h["range"]["start"]["character"],
            units(&l[..l.find("accounts.security_contacts.phone_number").unwrap()])
        );
        assert_eq!(c.shutdown(), 0);
    }
}

#[test]
fn hover_definition_code_action_and_completion() {
    let (_dir, root) = workspace();
    let (mut c, _) = Client::init(&root, &[]);
    let pipeline = root.join("pipelines/matching.yaml");
    let schema = root.join("schemas/accounts.yaml");
    let ptext = std::fs::read_to_string(&pipeline).unwrap();
    let stext = std::fs::read_to_string(&schema).unwrap();
    c.open(&pipeline);
    c.sync();
    let pos = |line: u32, character: u32, u: &str| json!({"textDocument": {"uri": u}, "position": {"line": line, "character": character}});

    // Hover on the declaration of a source field lists the sinks it reaches.
    let (l, col) = line_of(&stext, "phone_number");
    let h = c
        .request("textDocument/hover", pos(l, col + 2, &uri(&schema)))
        .unwrap();
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(
        md.contains("categories: `user.contact.phone_number`"),
        "{md}"
    );
    assert!(
        md.contains("purposes: `essential.service.authentication`, `essential.service.security`"),
        "{md}"
    );
    assert!(
        md.contains("`x_tailored_audiences` under `security-to-advertising` (error, 2 hops)"),
        "{md}"
    );

    // Hover on a `from` reference and on a taxonomy key.
    let (l, col) = line_of(&ptext, "accounts.security_contacts]");
    let h = c
        .request("textDocument/hover", pos(l, col + 1, &uri(&pipeline)))
        .unwrap();
    assert!(h["contents"]["value"]
        .as_str()
        .unwrap()
        .starts_with("**dataset** `accounts.security_contacts`"));
    let (l, col) = line_of(&stext, "user.contact.phone_number");
    let h = c
        .request("textDocument/hover", pos(l, col + 1, &uri(&schema)))
        .unwrap();
    assert!(h["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("data category"));

    // Definition: expression column → field declaration; `to` → sink; `from` → dataset.
    let (l, col) = line_of(&ptext, "accounts.security_contacts.phone_number");
    let d = c
        .request("textDocument/definition", pos(l, col + 30, &uri(&pipeline)))
        .unwrap();
    let (fl, fc) = line_of(&stext, "name: phone_number");
    assert_eq!(d["uri"], uri(&schema));
    assert_eq!(
        d["range"]["start"],
        json!({"line": fl, "character": fc + 6})
    );
    let (l, col) = line_of(&ptext, "to: x_tailored_audiences");
    let d = c
        .request("textDocument/definition", pos(l, col + 6, &uri(&pipeline)))
        .unwrap();
    assert!(d["uri"].as_str().unwrap().ends_with("/sinks.yaml"));
    let (l, col) = line_of(&ptext, "user_id: accounts.security_contacts.user_id");
    let d = c
        .request("textDocument/definition", pos(l, col + 1, &uri(&pipeline)))
        .unwrap();
    assert!(d["uri"].as_str().unwrap().ends_with("/ads.yaml") || d["uri"] == uri(&pipeline));
    // Nothing there → null.
    let d = c
        .request("textDocument/definition", pos(0, 0, &uri(&pipeline)))
        .unwrap();
    assert_eq!(d, Value::Null);

    // Completion in `from` offers dataset names; in purposes, taxonomy keys.
    let (l, col) = line_of(&ptext, "from: ads.audience_members");
    let items = c
        .request("textDocument/completion", pos(l, col + 9, &uri(&pipeline)))
        .unwrap();
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"accounts.security_contacts"), "{labels:?}");
    assert_eq!(items[0]["textEdit"]["range"]["start"]["character"], col + 6);
    let (l, col) = line_of(&stext, "purposes: [essential.service.security]");
    let items = c
        .request("textDocument/completion", pos(l, col + 14, &uri(&schema)))
        .unwrap();
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"marketing.advertising"), "{labels:?}");

    // Code action on the join diagnostic adds an allow entry to a step on its path.
    let (l, _) = line_of(&ptext, "join:");
    let actions = c
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri(&pipeline)},
                   "range": {"start": {"line": l, "character": 12}, "end": {"line": l, "character": 12}},
                   "context": {"diagnostics": []}}),
        )
        .unwrap();
    let actions = actions.as_array().unwrap();
    assert!(!actions.is_empty());
    let a = actions
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap()
                .contains("tailored_audience_matching/match_uploads")
        })
        .unwrap();
    assert_eq!(a["kind"], "quickfix");
    let edit = &a["edit"]["changes"][uri(&pipeline)][0];
    let new_text = edit["newText"].as_str().unwrap();
    assert!(
        new_text.starts_with(
            "    allow:\n      - rule: security-to-advertising\n        reason: \"TODO"
        ),
        "{new_text:?}"
    );
    // Applied as it is, the placeholder reason is rejected (spec §3.2): the allow does
    // not pass until the user writes why.
    let line = edit["range"]["start"]["line"].as_u64().unwrap() as u32;
    c.change(
        &pipeline,
        2,
        json!([{"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}}, "text": new_text}]),
    );
    c.sync();
    let diags = c.take(&uri(&pipeline)).pop().unwrap();
    let placeholder = diags
        .iter()
        .find(|d| d["code"] == "invalid-manifest")
        .unwrap_or_else(|| panic!("{diags:#?}"));
    assert!(placeholder["message"]
        .as_str()
        .unwrap()
        .contains("is a placeholder, not a reason"));
    assert!(diags.iter().any(|d| d["code"] == "security-to-advertising"));

    assert_eq!(c.shutdown(), 0);
}

#[test]
fn protocol_errors_unknown_methods_and_files_outside_or_deleted() {
    let (_dir, root) = workspace();
    let mut c = Client::start();
    // Requests before initialize are refused.
    let r = c.request("textDocument/hover", json!({}));
    assert_eq!(r.unwrap_err()["code"], -32002);
    // Bad initialize params are refused; a good one then works.
    let r = c.request("initialize", json!({"capabilities": 5}));
    assert_eq!(r.unwrap_err()["code"], -32602);
    let r = c.request(
        "initialize",
        json!({"capabilities": {}, "workspaceFolders": [{"uri": uri(&root), "name": "ws"}]}),
    );
    assert_eq!(r.unwrap()["capabilities"]["positionEncoding"], "utf-16");
    c.notify("initialized", json!({}));
    // Unknown request → MethodNotFound; unknown and malformed notifications are ignored.
    assert_eq!(
        c.request("foo/bar", json!(null)).unwrap_err()["code"],
        -32601
    );
    c.notify("foo/bar", json!({"x": 1}));
    c.notify("textDocument/didOpen", json!({"nonsense": true}));
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": "file:///nowhere.yaml", "version": 3}, "contentChanges": [{"text": "x"}]}));
    // Bad params on a known request → InvalidParams.
    let r = c.request("textDocument/hover", json!({"textDocument": 3}));
    assert_eq!(r.unwrap_err()["code"], -32602);
    // A document outside the workspace is linted with it; garbage text is fine.
    let outside = tempfile::tempdir().unwrap();
    let stray = outside.path().canonicalize().unwrap().join("stray.yaml");
    std::fs::write(&stray, "kind: dataset\nname: [unclosed\n").unwrap();
    c.open(&stray);
    c.sync();
    let d = c.take(&uri(&stray));
    assert_eq!(codes(&d[0]), vec!["invalid-manifest"]);
    // Out-of-range positions are clamped, not fatal.
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&stray)}, "position": {"line": 99, "character": 99}}),
    );
    assert_eq!(h.unwrap(), Value::Null);
    c.change(&stray, 2, json!([{"range": {"start": {"line": 50, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "\u{0}"}]));
    c.sync();
    // Deleting the sink file on disk (watched-files event) moves the findings: the sink is
    // gone, and the step that wrote to it now ends nowhere known.
    let pipeline = root.join("pipelines/matching.yaml");
    c.take(&uri(&pipeline));
    std::fs::remove_file(root.join("sinks.yaml")).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&root.join("sinks.yaml")), "type": 3}]}),
    );
    c.sync();
    let p = c.take(&uri(&pipeline));
    assert_eq!(p.len(), 1);
    assert_eq!(codes(&p[0]), vec!["undeclared-destination"], "{:#?}", p[0]);
    // Re-created: the findings are back.
    std::fs::copy(
        Path::new(EXAMPLE).join("sinks.yaml"),
        root.join("sinks.yaml"),
    )
    .unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&root.join("sinks.yaml")), "type": 1}]}),
    );
    c.sync();
    assert_eq!(c.take(&uri(&pipeline))[0].len(), 3);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn exit_without_shutdown_is_code_1() {
    let mut c = Client::start();
    c.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    c.notify("exit", Value::Null);
    assert_eq!(c.server.take().unwrap().join().unwrap(), 1);
}

/// The acceptance session over real stdio: initialize, open the pipeline, get the finding
/// with related information down to the sink, edit the join out, get empty diagnostics.
#[test]
fn scripted_stdio_session() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};
    let (_dir, root) = workspace();
    let pipeline = root.join("pipelines/matching.yaml");
    let text = std::fs::read_to_string(&pipeline).unwrap();
    let (join, _) = line_of(&text, "join:");
    let (uid, _) = line_of(&text, "user_id:");
    let u = uri(&pipeline);
    let frame = |v: Value| {
        let s = v.to_string();
        format!("Content-Length: {}\r\n\r\n{}", s.len(), s)
    };
    let mut input = String::new();
    input += &frame(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "capabilities": {}, "workspaceFolders": [{"uri": uri(&root), "name": "ws"}]}}),
    );
    input += "Content-Length: 9\r\n\r\n{not json";
    input += &frame(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    input += &frame(
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": u, "languageId": "yaml", "version": 1, "text": text}}}),
    );
    input += &frame(
        json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": u, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": uid, "character": 0}, "end": {"line": uid + 1, "character": 0}}, "text": ""},
            {"range": {"start": {"line": join, "character": 0}, "end": {"line": join + 1, "character": 0}}, "text": ""}]}}),
    );
    input += &frame(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}));
    input += &frame(json!({"jsonrpc": "2.0", "method": "exit"}));
    let mut child = Command::new(env!("CARGO_BIN_EXE_purposelint"))
        .args(["lsp", "--debounce-ms", "0"])
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut messages = Vec::new();
    loop {
        let mut len = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if out.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                len = v.trim().parse().unwrap();
            }
        }
        if len == 0 {
            break;
        }
        let mut body = vec![0; len];
        out.read_exact(&mut body).unwrap();
        messages.push(serde_json::from_slice::<Value>(&body).unwrap());
    }
    assert!(
        child.wait().unwrap().success(),
        "exit code 0 after shutdown"
    );
    if std::env::var_os("PURPOSELINT_LSP_TRANSCRIPT").is_some() {
        for m in &messages {
            eprintln!("<- {m}");
        }
    }
    assert_eq!(messages[0]["id"], 1);
    assert_eq!(
        messages[1]["error"]["code"], -32700,
        "malformed JSON answered in order"
    );
    assert_eq!(messages[1]["id"], Value::Null);
    let for_pipeline: Vec<&Value> = messages
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == u)
        .collect();
    // Once for the workspace lint (unopened), once on open, once after the edit.
    let first = &for_pipeline[0]["params"]["diagnostics"];
    assert_eq!(first.as_array().unwrap().len(), 3);
    let d = &first[0];
    let (line, col) = line_of(&text, "sha256(accounts");
    assert_eq!(d["range"]["start"], json!({"line": line, "character": col}));
    let related = d["relatedInformation"].as_array().unwrap();
    assert!(related.last().unwrap()["message"]
        .as_str()
        .unwrap()
        .starts_with("sink: x_tailored_audiences"));
    let last = for_pipeline.last().unwrap();
    assert_eq!(last["params"]["version"], 2);
    assert_eq!(last["params"]["diagnostics"], json!([]));
    assert_eq!(messages.last().unwrap()["id"], 2);
}

/// Re-lint time after a one-line edit in a 1,000-manifest workspace. Prints the figure
/// (`cargo test --test lsp relint -- --nocapture`); asserts only the results, never the time.
#[test]
fn relint_after_one_line_edit_on_1000_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    for d in ["schemas", "pipelines", "sinks"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let groups = 250; // 4 manifests each
    for i in 0..groups {
        std::fs::write(
            root.join(format!("schemas/security_{i}.yaml")),
            format!("kind: dataset\nname: accounts.security_{i}\npurposes: [essential.service.security]\nfields:\n  - name: user_id\n    categories: [user.unique_id]\n  - name: phone_number\n    categories: [user.contact.phone_number]\n    purposes: [essential.service.authentication]\n  - name: email\n    categories: [user.contact.email]\n"),
        )
        .unwrap();
        std::fs::write(
            root.join(format!("schemas/uploads_{i}.yaml")),
            format!("kind: dataset\nname: ads.uploads_{i}\npurposes: [marketing.advertising.third_party.targeted]\nfields:\n  - name: audience_id\n  - name: hashed_phone\n    categories: [user.contact.phone_number]\n"),
        )
        .unwrap();
        std::fs::write(
            root.join(format!("pipelines/match_{i}.yaml")),
            format!("kind: pipeline\nname: match_{i}\nsteps:\n  - name: match\n    from: [ads.uploads_{i}, accounts.security_{i}]\n    to: ads.members_{i}\n    join: sha256(accounts.security_{i}.phone_number) = ads.uploads_{i}.hashed_phone\n    fields:\n      audience_id: ads.uploads_{i}.audience_id\n  - name: publish\n    from: ads.members_{i}\n    to: audiences_{i}\n"),
        )
        .unwrap();
        std::fs::write(
            root.join(format!("sinks/audiences_{i}.yaml")),
            format!("kind: sink\nname: audiences_{i}\nuses: [marketing.advertising.third_party.targeted]\n"),
        )
        .unwrap();
    }
    let started = std::time::Instant::now();
    let (mut c, _) = Client::init(&root, &[]);
    let initial = started.elapsed();
    assert_eq!(c.published.len(), groups);
    c.published.clear();
    let pipeline = root.join("pipelines/match_7.yaml");
    c.open(&pipeline);
    c.sync();
    c.take(&uri(&pipeline));
    let text = std::fs::read_to_string(&pipeline).unwrap();
    let (join, _) = line_of(&text, "join:");
    let mut times = Vec::new();
    let join_line =
        "    join: sha256(accounts.security_7.phone_number) = ads.uploads_7.hashed_phone\n";
    for i in 0..10 {
        let (v, edit) = (i + 2, if i % 2 == 0 { "" } else { join_line });
        let change = if edit.is_empty() {
            json!([{"range": {"start": {"line": join, "character": 0}, "end": {"line": join + 1, "character": 0}}, "text": ""}])
        } else {
            json!([{"range": {"start": {"line": join, "character": 0}, "end": {"line": join, "character": 0}}, "text": edit}])
        };
        let t = std::time::Instant::now();
        c.change(&pipeline, v, change);
        c.sync();
        times.push(t.elapsed());
        let p = c.take(&uri(&pipeline));
        assert_eq!(p.len(), 1, "only the edited file changes");
        assert!(c.published.is_empty());
    }
    times.sort();
    eprintln!(
        "1000 manifests: initial lint {:?}; re-lint after a one-line edit (edit → diagnostics published): median {:?}, min {:?}, max {:?} over {} edits",
        initial,
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len()
    );
    assert_eq!(c.shutdown(), 0);
}

/// Arbitrary document text and positions never make a request fail inside the server.
#[test]
fn arbitrary_text_and_positions_never_fail_internally() {
    use proptest::prelude::*;
    let (_dir, root) = workspace();
    let (mut c, _) = Client::init(&root, &["utf-8"]);
    let path = root.join("pipelines/matching.yaml");
    let base = std::fs::read_to_string(&path).unwrap();
    c.open(&path);
    c.sync();
    let version = std::cell::Cell::new(1);
    let c = std::cell::RefCell::new(c);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    });
    let text = prop_oneof![
        "[ -~\\n]{0,200}",
        "(kind: (dataset|pipeline|sink)\\n)?[a-z_:é😀\\[\\]{}., \\n-]{0,120}",
        (0..base.len()).prop_map(move |cut| base[..cut].to_string()),
    ];
    runner
        .run(&(text, 0u32..30, 0u32..200), |(text, line, character)| {
            version.set(version.get() + 1);
            let mut c = c.borrow_mut();
            c.change(&path, version.get(), json!([{"text": text}]));
            let pos = json!({"line": line, "character": character});
            for (method, params) in [
                ("textDocument/hover", json!({"textDocument": {"uri": uri(&path)}, "position": pos})),
                ("textDocument/definition", json!({"textDocument": {"uri": uri(&path)}, "position": pos})),
                ("textDocument/completion", json!({"textDocument": {"uri": uri(&path)}, "position": pos})),
                ("textDocument/codeAction", json!({"textDocument": {"uri": uri(&path)},
                    "range": {"start": {"line": 0, "character": 0}, "end": pos}, "context": {"diagnostics": []}})),
            ] {
                if let Err(e) = c.request(method, params) {
                    prop_assert!(false, "{method} failed: {e}");
                }
            }
            let edit = json!([{"range": {"start": pos, "end": {"line": 0, "character": 1}}, "text": "é\n"}]);
            c.change(&path, version.get(), edit);
            Ok(())
        })
        .unwrap();
    assert_eq!(c.into_inner().shutdown(), 0);
}

/// dbt and Fides files get the editor features of native manifests: they come from the
/// symbol table the formats fill, not from a second reader.
#[test]
fn hover_and_definition_in_dbt_and_fides_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cross-format");
    copy_tree(&fixture, &root);
    let (mut c, _) = Client::init(&root, &["utf-8"]);
    let sql = root.join("warehouse/models/customers.sql");
    let sources = root.join("warehouse/models/sources.yml");
    let fides = root.join("fides/auth.yml");
    let export = root.join("pipelines/export.yaml");
    let pos = |line: u32, character: u32, path: &Path| json!({"textDocument": {"uri": uri(path)}, "position": {"line": line, "character": character}});
    let text = |path: &Path| std::fs::read_to_string(path).unwrap();

    // Go to definition from `source('app', 'contacts')` in the model's SQL.
    let (l, col) = line_of(&text(&sql), "source('app'");
    let d = c
        .request("textDocument/definition", pos(l, col + 2, &sql))
        .unwrap();
    assert_eq!(d["uri"], uri(&sources), "{d}");
    let (table, _) = line_of(&text(&sources), "- name: contacts");
    assert_eq!(d["range"]["start"]["line"], table);

    // A dbt column's hover shows its purposes and what it reaches.
    let (l, col) = line_of(&text(&sources), "- name: phone");
    let h = c
        .request("textDocument/hover", pos(l, col + 9, &sources))
        .unwrap();
    let value = h["contents"]["value"].as_str().unwrap();
    assert!(
        value.starts_with("**field** `app.contacts.phone`"),
        "{value}"
    );

    // The native step's reference to the model opens the model's declaration.
    let (l, col) = line_of(&text(&export), "from: customers");
    let d = c
        .request("textDocument/definition", pos(l, col + 7, &export))
        .unwrap();
    assert_eq!(d["uri"], uri(&sources), "{d}");

    // A Fides field shows its purposes, and the sink it reaches under which rule.
    let (l, col) = line_of(&text(&fides), "- name: phone");
    let h = c
        .request("textDocument/hover", pos(l, col + 9, &fides))
        .unwrap();
    let value = h["contents"]["value"].as_str().unwrap();
    assert!(
        value.contains("essential.service.authentication"),
        "{value}"
    );
    assert!(
        value.contains("`ads_upload` under `security-to-advertising`"),
        "{value}"
    );
    // A purpose key anywhere hovers with its taxonomy label.
    let (l, col) = line_of(&text(&fides), "essential.service.authentication");
    let h = c
        .request("textDocument/hover", pos(l, col + 3, &fides))
        .unwrap();
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .starts_with("`essential.service.authentication` —"),
        "{h}"
    );
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn activation_configs_publish_diagnostics_and_follow_edits_of_tf_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    copy_tree(
        Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/reverse-etl-audience"
        )),
        &root,
    );
    let (mut c, _) = Client::init(&root, &["utf-16"]);
    let sql = root.join("warehouse/models/audience_members.sql");
    let published = c.take(&uri(&sql));
    assert_eq!(
        codes(published.last().unwrap()),
        ["security-to-advertising"]
    );
    let related = published.last().unwrap()[0]["relatedInformation"]
        .as_array()
        .unwrap()
        .clone();
    assert!(related.iter().any(|r| r["location"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("activation/rudderstack.tf")));
    // Sending only the e-mail (not the 2FA phone) clears the finding.
    let tf = root.join("activation/rudderstack.tf");
    c.open(&tf);
    let text = std::fs::read_to_string(&tf).unwrap();
    let edited = text.replace("from = \"phone\"", "from = \"email\"");
    c.change(&tf, 2, json!([{"text": edited}]));
    c.sync();
    let after = c.take(&uri(&sql));
    assert!(after.last().unwrap().is_empty(), "{after:?}");
    assert_eq!(c.shutdown(), 0);
}

/// Terraform references of the activation configs go to their resource.
#[test]
fn definition_from_a_terraform_reference() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/reverse-etl-audience");
    copy_tree(&example, &root);
    let (mut c, _) = Client::init(&root, &["utf-8"]);
    let tf = root.join("activation/rudderstack.tf");
    let text = std::fs::read_to_string(&tf).unwrap();
    let (l, col) = line_of(
        &text,
        "rudderstack_destination_facebook_conversions.meta_audience.id",
    );
    let d = c
        .request(
            "textDocument/definition",
            json!({"textDocument": {"uri": uri(&tf)}, "position": {"line": l, "character": col + 3}}),
        )
        .unwrap();
    assert_eq!(d["uri"], uri(&tf), "{d}");
    let (decl, _) = line_of(&text, "\"meta_audience\" {");
    assert_eq!(d["range"]["start"]["line"], decl, "{d}");
    let h = c
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri(&tf)}, "position": {"line": l, "character": col + 3}}),
        )
        .unwrap();
    let value = h["contents"]["value"].as_str().unwrap();
    assert!(
        value.starts_with("**sink** `rudderstack_destination_facebook_conversions.meta_audience`"),
        "{value}"
    );
    assert!(
        value.contains("marketing.advertising.third_party.targeted"),
        "{value}"
    );
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn rule_pages_are_linked_where_the_client_says_they_are() {
    let (_dir, root) = workspace();
    let mut c = Client::start();
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {},
               "initializationOptions": {"docsBaseUrl": "file:///srv/purposelint-docs/rules/"},
               "workspaceFolders": [{"uri": uri(&root), "name": "ws"}]}),
    )
    .unwrap();
    c.notify("initialized", json!({}));
    c.sync();
    let d = c
        .take(&uri(&root.join("pipelines/matching.yaml")))
        .remove(0);
    assert_eq!(
        d[0]["codeDescription"]["href"],
        "file:///srv/purposelint-docs/rules/security-to-advertising"
    );
    assert_eq!(c.shutdown(), 0);
}

/// A copy of the example's pipeline under other names (`prefix`), at `to`.
fn copy_of_pipeline(root: &Path, to: &Path, prefix: &str) {
    let text = std::fs::read_to_string(root.join("pipelines/matching.yaml")).unwrap();
    let text = text
        .replace("tailored_audience_matching", &format!("{prefix}_matching"))
        .replace("match_uploads", &format!("{prefix}_match"))
        .replace("- name: publish", &format!("- name: {prefix}_publish"));
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, text).unwrap();
}

/// The diagnostics the client holds, by URI: the latest published for each.
#[derive(Default)]
struct Shown(std::collections::BTreeMap<String, Vec<(String, u64)>>);

impl Shown {
    fn update(&mut self, c: &mut Client) {
        for p in std::mem::take(&mut c.published) {
            let diags = p["diagnostics"].as_array().unwrap();
            let found = diags.iter().map(|d| {
                let code = d["code"].as_str().unwrap().to_string();
                (code, d["range"]["start"]["line"].as_u64().unwrap())
            });
            let key = p["uri"].as_str().unwrap().to_string();
            self.0.insert(key, found.collect());
        }
        self.0.retain(|_, d| !d.is_empty());
    }

    /// Holds what `purposelint check` gives for the files on disk now.
    fn assert_as_check(&mut self, c: &mut Client, root: &Path, what: &str) {
        self.update(c);
        let opts = purposelint::check::Options::new(vec![root.to_path_buf()]);
        let outcome = purposelint::check::run(&opts).unwrap();
        let mut whole = std::collections::BTreeMap::<String, Vec<(String, u64)>>::new();
        for f in &outcome.findings {
            let file = outcome.model.sources.get(f.location.file);
            let line = u64::from(f.location.span.start_pos.line - 1);
            let found = (f.rule.clone(), line);
            whole.entry(uri(&file.path)).or_default().push(found);
        }
        assert_eq!(self.0, whole, "{what}");
    }
}

fn watched(c: &mut Client, path: &Path, typ: u8) {
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(path), "type": typ}]}),
    );
    c.sync();
}

#[test]
fn files_created_changed_and_deleted_outside_the_editor_follow_watched_file_events() {
    let (_dir, root) = workspace();
    let (mut c, _) = Client::init(&root, &[]);
    let mut shown = Shown::default();
    let pipeline = root.join("pipelines/matching.yaml");
    c.open(&pipeline);
    c.sync();
    shown.assert_as_check(&mut c, &root, "opened");

    // A new file, linted once the watcher reports it (edits do not walk the folders).
    let copy = root.join("pipelines/copied.yaml");
    copy_of_pipeline(&root, &copy, "copied");
    let text = std::fs::read_to_string(&pipeline).unwrap();
    c.change(&pipeline, 2, json!([{"text": text}]));
    c.sync();
    c.published.clear();
    watched(&mut c, &copy, 1);
    shown.assert_as_check(&mut c, &root, "a file created");
    assert!(shown.0.contains_key(&uri(&copy)), "{:?}", shown.0);

    // A new folder, reported as the folder alone: its files are found.
    let nested = root.join("more/deeper/nested.yaml");
    copy_of_pipeline(&root, &nested, "nested");
    watched(&mut c, &root.join("more"), 1);
    shown.assert_as_check(&mut c, &root, "a folder created");

    // A file changed on disk and not open: read again.
    let sinks = root.join("sinks.yaml");
    let text = std::fs::read_to_string(&sinks).unwrap();
    std::fs::write(&sinks, text.replace("x_tailored_audiences", "x_renamed")).unwrap();
    watched(&mut c, &sinks, 2);
    shown.assert_as_check(&mut c, &root, "a sink renamed");
    std::fs::write(&sinks, text).unwrap();
    watched(&mut c, &sinks, 2);
    shown.assert_as_check(&mut c, &root, "the sink restored");

    // Deleted, a file and a folder.
    std::fs::remove_file(&copy).unwrap();
    watched(&mut c, &copy, 3);
    shown.assert_as_check(&mut c, &root, "a file deleted");
    std::fs::remove_dir_all(root.join("more")).unwrap();
    watched(&mut c, &root.join("more"), 3);
    shown.assert_as_check(&mut c, &root, "a folder deleted");
    assert_eq!(c.shutdown(), 0);
}

/// The severities of every diagnostic published since the last call.
fn severities(c: &mut Client) -> Vec<u64> {
    let published = std::mem::take(&mut c.published);
    let diags = published
        .iter()
        .flat_map(|p| p["diagnostics"].as_array().unwrap());
    diags.map(|d| d["severity"].as_u64().unwrap()).collect()
}

#[test]
fn configuration_and_ignore_files_changed_on_disk_reload_the_workspace() {
    let (_dir, root) = workspace();
    let (mut c, _) = Client::init(&root, &[]);
    let mut shown = Shown::default();
    let copy = root.join("pipelines/copied.yaml");
    copy_of_pipeline(&root, &copy, "copied");
    watched(&mut c, &copy, 1);
    shown.assert_as_check(&mut c, &root, "a file created");
    assert!(shown.0.contains_key(&uri(&copy)));

    // purposelint.yaml created, then changed: the configuration is read again each time.
    let config = root.join("purposelint.yaml");
    std::fs::write(&config, "severity:\n  security-to-advertising: warning\n").unwrap();
    watched(&mut c, &config, 1);
    assert_eq!(severities(&mut c), [2, 2, 2], "warnings now");
    std::fs::write(&config, "severity:\n  security-to-advertising: info\n").unwrap();
    watched(&mut c, &config, 2);
    assert_eq!(severities(&mut c), [3, 3, 3], "information now");

    // A .gitignore that ignores the copy: its diagnostics go.
    std::fs::write(root.join(".gitignore"), "copied.yaml\n").unwrap();
    watched(&mut c, &root.join(".gitignore"), 1);
    assert_eq!(c.take(&uri(&copy)).last().unwrap(), &Vec::<Value>::new());
    std::fs::write(root.join(".gitignore"), "nothing\n").unwrap();
    watched(&mut c, &root.join(".gitignore"), 2);
    assert!(!c.take(&uri(&copy)).last().unwrap().is_empty(), "back");
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn without_file_watching_a_save_finds_files_created_and_reloads_the_configuration() {
    let (_dir, root) = workspace();
    let mut c = Client::start();
    let init = json!({"capabilities": {}, "workspaceFolders": [{"uri": uri(&root), "name": "ws"}]});
    c.request("initialize", init).unwrap();
    c.notify("initialized", json!({}));
    let mut shown = Shown::default();
    let pipeline = root.join("pipelines/matching.yaml");
    c.open(&pipeline);
    c.sync();
    assert!(c.other.is_empty(), "no watcher registered: {:?}", c.other);
    shown.assert_as_check(&mut c, &root, "opened");

    let copy = root.join("pipelines/copied.yaml");
    copy_of_pipeline(&root, &copy, "copied");
    let save = |c: &mut Client, path: &Path| {
        c.notify(
            "textDocument/didSave",
            json!({"textDocument": {"uri": uri(path)}}),
        );
        c.sync();
    };
    save(&mut c, &pipeline);
    shown.assert_as_check(&mut c, &root, "a file created, then a save");
    assert!(shown.0.contains_key(&uri(&copy)));

    let config = root.join("purposelint.yaml");
    std::fs::write(&config, "exclude: [pipelines/copied.yaml]\n").unwrap();
    save(&mut c, &config);
    assert_eq!(c.take(&uri(&copy)).last().unwrap(), &Vec::<Value>::new());
    assert_eq!(c.shutdown(), 0);
}

/// Every diagnostic the client holds, by URI, as published (versions aside).
fn holds(held: &mut std::collections::BTreeMap<String, Value>, c: &mut Client) {
    for p in std::mem::take(&mut c.published) {
        let key = p["uri"].as_str().unwrap().to_string();
        match p["diagnostics"].as_array().unwrap().is_empty() {
            true => held.remove(&key),
            false => held.insert(key, p["diagnostics"].clone()),
        };
    }
}

/// After each edit (of a buffer, and on disk alike), the diagnostics the client holds,
/// related information included, are those a server started afresh publishes: the
/// server converts again only the files whose findings changed, and must miss none.
#[test]
fn edits_leave_the_diagnostics_a_fresh_server_publishes() {
    let (_dir, root) = workspace();
    let (mut c, _) = Client::init(&root, &[]);
    let mut held = std::collections::BTreeMap::new();
    holds(&mut held, &mut c);
    let files = ["schemas/accounts.yaml", "schemas/ads.yaml", "sinks.yaml"];
    let files = files.map(|f| root.join(f));
    let mut version = 1;
    for file in files.iter().chain([&root.join("pipelines/matching.yaml")]) {
        c.open(file);
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        // Each line removed, then the file restored.
        for skip in (0..lines.len()).chain([usize::MAX]) {
            let edited: String = (0..lines.len())
                .filter(|&i| i != skip)
                .map(|i| lines[i])
                .collect();
            std::fs::write(file, &edited).unwrap();
            version += 1;
            c.change(file, version, json!([{"text": edited}]));
            c.sync();
            holds(&mut held, &mut c);
            let (mut fresh, _) = Client::init(&root, &[]);
            let mut expected = std::collections::BTreeMap::new();
            holds(&mut expected, &mut fresh);
            assert_eq!(fresh.shutdown(), 0);
            assert_eq!(held, expected, "{} without line {skip}", file.display());
        }
    }
    assert_eq!(c.shutdown(), 0);
}

/// A `destinations:` key of the configuration that no file declares is what `check`
/// exits 2 with: the editor shows it at the key, and an edit that declares it again
/// clears it, as the run decides.
#[test]
fn configured_names_no_file_declares_are_shown_and_follow_edits() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("tf")).unwrap();
    let tf = root.join("tf/main.tf");
    let declared =
        "resource \"rudderstack_destination_webhook\" \"crm_hook\" {\n  name = \"hook\"\n}\n";
    std::fs::write(&tf, declared).unwrap();
    let config = root.join("purposelint.yaml");
    std::fs::write(
        &config,
        "destinations:\n  \"rudderstack_destination_webhook.crm_hook\": [sales]\n",
    )
    .unwrap();
    let (mut c, _) = Client::init(&root, &["utf-8"]);
    c.sync();
    let config_codes = |c: &mut Client| {
        let published = c.take(&uri(&config));
        published.last().map(|d| codes(d)).unwrap_or_default()
    };
    assert_eq!(config_codes(&mut c), Vec::<String>::new());
    // Renamed in the buffer: the key names no destination now.
    c.open(&tf);
    c.change(
        &tf,
        2,
        json!([{"text": declared.replace("crm_hook", "crm_hk")}]),
    );
    c.sync();
    assert_eq!(config_codes(&mut c), ["invalid-config"]);
    let out = purposelint_check_after_write(&root, &tf, &declared.replace("crm_hook", "crm_hk"));
    assert_eq!(out, Some(2), "check agrees");
    // Back: the diagnostic goes.
    c.change(&tf, 3, json!([{"text": declared}]));
    c.sync();
    assert_eq!(config_codes(&mut c), Vec::<String>::new());
    assert_eq!(c.shutdown(), 0);
}

/// The exit code of `purposelint check .` in `root` once `path` holds `text`.
fn purposelint_check_after_write(root: &Path, path: &Path, text: &str) -> Option<i32> {
    let before = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, text).unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_purposelint"))
        .args(["check", "--format", "compact", "."])
        .current_dir(root)
        .output()
        .unwrap()
        .status;
    std::fs::write(path, before).unwrap();
    status.code()
}
