//! The language server over real stdio, driven message by message: it uses the
//! workspace's `purposelint.yaml` exactly as `check` does, and reloads it when it
//! changes, without a restart.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Every notification received so far.
    seen: Vec<Value>,
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

impl Client {
    fn start(cwd: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_purposelint"))
            .args(["lsp", "--debounce-ms", "0"])
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (tx, incoming) = channel();
        std::thread::spawn(move || loop {
            let mut len = 0usize;
            let mut line = String::new();
            loop {
                line.clear();
                if out.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.strip_prefix("Content-Length: ") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            if out.read_exact(&mut body).is_err() {
                return;
            }
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        });
        Client {
            child,
            stdin,
            incoming,
            next_id: 1,
            seen: Vec::new(),
        }
    }

    fn send(&mut self, v: Value) {
        let s = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{s}", s.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its answer; notifications that arrive first (the
    /// server handles messages in order) are kept in `seen`.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self
                .incoming
                .recv_timeout(Duration::from_secs(60))
                .expect("the server answers");
            if m["id"] == id && m.get("method").is_none() {
                return m;
            }
            if m.get("id").is_some() && m.get("method").is_some() {
                // A request from the server (registerCapability): answer it.
                let answer = json!({"jsonrpc": "2.0", "id": m["id"], "result": null});
                self.send(answer);
            }
            self.seen.push(m);
        }
    }

    /// The latest diagnostics published for each file since the last call, by rule.
    fn published_rules(&mut self) -> Vec<(String, i64)> {
        let mut latest: std::collections::BTreeMap<String, Vec<(String, i64)>> = Default::default();
        for m in self.seen.drain(..) {
            if m["method"] != "textDocument/publishDiagnostics" {
                continue;
            }
            let file = m["params"]["uri"].as_str().unwrap().to_string();
            let rules = m["params"]["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    let code = d["code"].as_str().unwrap_or_default().to_string();
                    (code, d["severity"].as_i64().unwrap_or_default())
                })
                .collect();
            latest.insert(file, rules);
        }
        latest.into_values().flatten().collect()
    }
}

/// A request whose answer shows that everything sent before it was handled.
fn barrier(c: &mut Client, file: &Path) {
    let params =
        json!({"textDocument": {"uri": uri(file)}, "position": {"line": 0, "character": 0}});
    c.request("textDocument/hover", params);
}

#[test]
fn workspace_configuration_applies_and_reloads_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    support::copy_tree(&support::example("tailored-audiences"), &root);
    let config = root.join("purposelint.yaml");
    std::fs::write(&config, "severity:\n  security-to-advertising: off\n").unwrap();
    let pipeline = root.join("pipelines/matching.yaml");
    // Started elsewhere: the configuration is the workspace root's, as `check` from there.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut c = Client::start(elsewhere.path());
    let init = c.request(
        "initialize",
        json!({
            "capabilities": {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}},
            "workspaceFolders": [{"uri": uri(&root), "name": "ws"}],
        }),
    );
    assert!(init["result"]["capabilities"].is_object(), "{init}");
    c.notify("initialized", json!({}));
    barrier(&mut c, &pipeline);
    let rules = c.published_rules();
    assert!(
        !rules.iter().any(|(r, _)| r == "security-to-advertising"),
        "{rules:?}"
    );

    // The configuration is removed: the findings come back.
    std::fs::remove_file(&config).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&config), "type": 3}]}),
    );
    barrier(&mut c, &pipeline);
    let rules = c.published_rules();
    let ads: Vec<&(String, i64)> = rules
        .iter()
        .filter(|(r, _)| r == "security-to-advertising")
        .collect();
    assert_eq!(ads.len(), 3, "{rules:?}");
    assert!(ads.iter().all(|(_, severity)| *severity == 1), "errors");

    // It is written again, lowering the rule to a warning, and saved in the editor.
    std::fs::write(&config, "severity:\n  security-to-advertising: warning\n").unwrap();
    c.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri(&config)}}),
    );
    barrier(&mut c, &pipeline);
    let rules = c.published_rules();
    let ads: Vec<&(String, i64)> = rules
        .iter()
        .filter(|(r, _)| r == "security-to-advertising")
        .collect();
    assert_eq!(ads.len(), 3, "{rules:?}");
    assert!(ads.iter().all(|(_, severity)| *severity == 2), "warnings");

    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    assert!(c.child.wait().unwrap().success());
}
