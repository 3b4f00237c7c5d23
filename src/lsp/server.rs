//! The server loop: lifecycle, documents, debounced re-linting and publishing.

use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    CompletionOptions, CompletionParams, Diagnostic, DidChangeTextDocumentParams,
    DidChangeWatchedFilesParams, DidChangeWorkspaceFoldersParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DidSaveTextDocumentParams, FileChangeType, GotoDefinitionParams,
    HoverParams, HoverProviderCapability, InitializeParams, InitializeResult, OneOf,
    PositionEncodingKind, PublishDiagnosticsParams, Registration, RegistrationParams, SaveOptions,
    ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Uri, WorkspaceFoldersServerCapabilities,
    WorkspaceServerCapabilities,
};
use serde_json::Value;

use super::convert::{self, Encoding};
use super::diagnostics::{self, UriOf};
use super::features;
use super::transport;
use crate::check::Options;
use crate::config;
use crate::session::{ConfigChoice, Failure, Session, Settings, View};
use crate::source::{FileId, Sources};

/// How the server behaves; tests use a zero debounce.
#[derive(Debug, Clone)]
pub struct Config {
    /// Quiet time after the last edit before re-linting; zero lints after every change.
    pub debounce: Duration,
    /// `--rules` folders, after those the workspace's configuration names.
    pub rule_dirs: Vec<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            debounce: Duration::from_millis(150),
            rule_dirs: Vec::new(),
        }
    }
}

struct Doc {
    uri: Uri,
    text: Arc<str>,
    version: i32,
}

/// URIs as the client knows them: open documents keep the client's spelling.
struct Uris<'a> {
    docs: &'a HashMap<PathBuf, Doc>,
    memo: std::cell::RefCell<HashMap<FileId, Uri>>,
}

impl<'a> Uris<'a> {
    fn new(docs: &'a HashMap<PathBuf, Doc>) -> Self {
        Uris {
            docs,
            memo: Default::default(),
        }
    }
}

impl UriOf for Uris<'_> {
    fn uri_of(&self, sources: &Sources, file: FileId) -> Uri {
        if let Some(u) = self.memo.borrow().get(&file) {
            return u.clone();
        }
        let path = &sources.get(file).path;
        let uri = match self.docs.get(path) {
            Some(d) => d.uri.clone(),
            None => convert::path_to_uri(path),
        };
        self.memo.borrow_mut().insert(file, uri.clone());
        uri
    }
}

struct Server<'c> {
    conn: &'c Connection,
    debounce: Duration,
    enc: Encoding,
    docs_base: String,
    roots: Vec<PathBuf>,
    rule_dirs: Vec<PathBuf>,
    /// The run over the workspace, configured as `purposelint check` in its first folder.
    session: Session,
    /// Why the workspace's configuration or rules cannot be used, while they cannot.
    config_failure: Option<Failure>,
    /// Why the last run failed (a rule id the run does not know, a configured name no file
    /// declares): found again or cleared by every run.
    run_failure: Option<Failure>,
    docs: HashMap<PathBuf, Doc>,
    view: Option<Arc<View>>,
    published: BTreeMap<String, Vec<Diagnostic>>,
    /// Where each file's findings are in `view`, while `published` holds exactly the
    /// diagnostics of those findings (no configuration failure mixed in) for the
    /// documents open then: an edit converts again only the files whose findings changed.
    converted: Option<HashMap<FileId, std::ops::Range<usize>>>,
    /// Publish for these even if nothing changed (just opened).
    force: BTreeMap<String, Uri>,
    pending: Option<Instant>,
    watch: bool,
    /// Time the last lint took (for the benchmark and logs).
    pub last_lint: Duration,
}

/// A configuration file's name: a change to it reloads the configuration.
fn is_config(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str());
    name.is_some_and(|n| config::FILE_NAMES.contains(&n))
}

/// What went wrong with a request, as a JSON-RPC error.
struct Fail(ErrorCode, String);

fn params<P: serde::de::DeserializeOwned>(v: Value) -> Result<P, Fail> {
    serde_json::from_value(v).map_err(|e| Fail(ErrorCode::InvalidParams, e.to_string()))
}

/// Runs the server until `exit`. Returns the process exit code: 0 after `shutdown`, else 1.
pub fn serve(conn: &Connection, config: Config) -> i32 {
    let mut s = Server {
        conn,
        debounce: config.debounce,
        enc: Encoding::Utf16,
        docs_base: String::new(),
        roots: Vec::new(),
        rule_dirs: config.rule_dirs,
        session: Session::new(Options {
            symbols: true,
            ..Options::new(Vec::new())
        })
        .keep_between_runs(),
        config_failure: None,
        run_failure: None,
        docs: HashMap::new(),
        view: None,
        published: BTreeMap::new(),
        converted: None,
        force: BTreeMap::new(),
        pending: None,
        watch: false,
        last_lint: Duration::ZERO,
    };
    s.run()
}

impl Server<'_> {
    fn send(&self, m: impl Into<Message>) {
        let _ = self.conn.sender.send(m.into());
    }

    fn reply(&self, id: RequestId, result: Result<Value, Fail>) {
        let resp = match result {
            Ok(v) => Response::new_ok(id, v),
            Err(Fail(code, msg)) => Response::new_err(id, code as i32, msg),
        };
        self.send(resp);
    }

    fn run(&mut self) -> i32 {
        // Before `initialize`: answer requests with "not initialized", drop notifications.
        loop {
            let Ok(msg) = self.conn.receiver.recv() else {
                return 1;
            };
            match msg {
                Message::Request(r) if r.method == "initialize" => {
                    let result = params::<InitializeParams>(r.params).map(|p| self.initialize(p));
                    let ok = result.is_ok();
                    self.reply(r.id, result);
                    if ok {
                        break;
                    }
                }
                Message::Request(r) => self.reply(
                    r.id,
                    Err(Fail(
                        ErrorCode::ServerNotInitialized,
                        "not initialized".into(),
                    )),
                ),
                Message::Notification(n) if n.method == "exit" => return 1,
                Message::Notification(n) if n.method == transport::RAW_REPLY => self.send(n),
                _ => {}
            }
        }
        let mut shutdown = false;
        loop {
            let msg = match self.pending {
                Some(at) => {
                    let wait = at.saturating_duration_since(Instant::now());
                    match self.conn.receiver.recv_timeout(wait) {
                        Ok(m) => m,
                        Err(RecvTimeoutError::Timeout) => {
                            self.flush();
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => return 1,
                    }
                }
                None => match self.conn.receiver.recv() {
                    Ok(m) => m,
                    Err(_) => return 1,
                },
            };
            match msg {
                Message::Request(r) => {
                    if shutdown {
                        let msg = "the server is shutting down".to_string();
                        self.reply(r.id, Err(Fail(ErrorCode::InvalidRequest, msg)));
                        continue;
                    }
                    if r.method == "shutdown" {
                        shutdown = true;
                        self.reply(r.id, Ok(Value::Null));
                        continue;
                    }
                    let id = r.id.clone();
                    let result =
                        catch_unwind(AssertUnwindSafe(|| self.request(r))).unwrap_or_else(|_| {
                            Err(Fail(ErrorCode::InternalError, "internal error".into()))
                        });
                    self.reply(id, result);
                }
                Message::Notification(n) if n.method == transport::RAW_REPLY => self.send(n),
                Message::Notification(n) => {
                    if n.method == "exit" {
                        return if shutdown { 0 } else { 1 };
                    }
                    if !shutdown {
                        let method = n.method.clone();
                        if catch_unwind(AssertUnwindSafe(|| self.notification(n))).is_err() {
                            eprintln!("purposelint: internal error while handling {method}");
                        }
                    }
                }
                Message::Response(_) => {}
            }
        }
    }

    fn initialize(&mut self, p: InitializeParams) -> Value {
        let offered = p
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref())
            .is_some_and(|encs| encs.contains(&PositionEncodingKind::UTF8));
        self.enc = if offered {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        };
        self.watch = p
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files)
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        if let Some(base) = p
            .initialization_options
            .as_ref()
            .and_then(|o| o.get("docsBaseUrl"))
            .and_then(Value::as_str)
        {
            self.docs_base = base.to_string();
        }
        let mut roots: Vec<PathBuf> = p
            .workspace_folders
            .unwrap_or_default()
            .iter()
            .filter_map(|f| convert::uri_to_path(&f.uri))
            .collect();
        #[allow(deprecated)]
        if roots.is_empty() {
            if let Some(root) = p.root_uri.as_ref().and_then(convert::uri_to_path) {
                roots.push(root);
            } else if let Some(root) = p.root_path {
                roots.push(PathBuf::from(root));
            }
        }
        self.roots = roots;
        let encoding = match self.enc {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        };
        let caps = ServerCapabilities {
            position_encoding: Some(encoding),
            text_document_sync: Some(TextDocumentSyncCapability::Options(
                TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                        include_text: Some(false),
                    })),
                    ..TextDocumentSyncOptions::default()
                },
            )),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            definition_provider: Some(OneOf::Left(true)),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                ..CodeActionOptions::default()
            })),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec![".".into(), " ".into(), "[".into()]),
                ..CompletionOptions::default()
            }),
            workspace: Some(WorkspaceServerCapabilities {
                workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                    supported: Some(true),
                    change_notifications: Some(OneOf::Left(true)),
                }),
                file_operations: None,
            }),
            ..ServerCapabilities::default()
        };
        serde_json::to_value(InitializeResult {
            capabilities: caps,
            server_info: Some(ServerInfo {
                name: "purposelint".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        })
        .unwrap_or(Value::Null)
    }

    /// (Re)loads the configuration of the workspace's first folder, as `purposelint
    /// check` would find it from there, and the rules it names.
    fn configure(&mut self) {
        let roots: Vec<PathBuf> = self.roots.iter().filter(|r| r.is_dir()).cloned().collect();
        let from = roots.first().cloned().unwrap_or_default();
        let mut settings = Settings::new(roots, from.clone());
        settings.rule_dirs = self.rule_dirs.clone();
        if from.as_os_str().is_empty() {
            settings.config = ConfigChoice::Ignore;
        }
        match crate::session::Session::configure(&settings) {
            Ok(configured) => {
                let file = configured.config_file().map(Path::to_path_buf);
                let opts = Options {
                    symbols: true,
                    ..configured.options().clone()
                };
                self.session.set_options(opts, file);
                self.config_failure = None;
            }
            Err(failure) => {
                eprintln!("purposelint lsp: {}", failure.message);
                // Lint on with what was there before, and show what is wrong.
                self.session.rediscover();
                self.config_failure = Some(failure);
            }
        }
    }

    fn schedule(&mut self) {
        if self.debounce.is_zero() {
            self.lint();
        } else {
            self.pending = Some(Instant::now() + self.debounce);
        }
    }

    fn flush(&mut self) {
        if self.pending.is_some() {
            self.lint();
        }
    }

    /// Re-lints the workspace (files read before come from the session's cache) and
    /// publishes the differences.
    fn lint(&mut self) {
        self.pending = None;
        let started = Instant::now();
        let view = match self.session.check_view() {
            Ok(v) => {
                self.run_failure = None;
                v
            }
            Err(failure) => {
                eprintln!("purposelint lsp: {}", failure.message);
                self.run_failure = Some(failure);
                let Ok(outcome) = self.session.check_files(Vec::new()) else {
                    return;
                };
                Arc::new(View::of(outcome))
            }
        };
        let t_check = started.elapsed();
        self.publish(&view);
        self.view = Some(view);
        self.last_lint = started.elapsed();
        if std::env::var_os("PURPOSELINT_LSP_TIMING").is_some() {
            eprintln!(
                "purposelint lsp: linted {t_check:?}, published {:?}",
                self.last_lint - t_check
            );
        }
    }

    fn publish(&mut self, view: &View) {
        let uris = Uris::new(&self.docs);
        let ranges = diagnostics::ranges(&view.findings);
        let before = match (self.converted.take(), &self.view) {
            (Some(r), Some(v)) if self.failure().is_none() => Some((r, v.clone())),
            _ => None,
        };
        // Files whose diagnostics are those published; the others are converted again.
        let mut fresh: BTreeMap<String, (Uri, Vec<Diagnostic>, bool)> = BTreeMap::new();
        for (&file, range) in &ranges {
            let uri = uris.uri_of(&view.sources, file);
            let key = uri.as_str().to_string();
            let same = before.as_ref().is_some_and(|(old, v)| {
                let old = old.get(&file).cloned();
                old.is_some_and(|old| diagnostics::unchanged(v, old, view, range.clone()))
            });
            if let Some(diags) = same.then(|| self.published.remove(&key)).flatten() {
                fresh.insert(key, (uri, diags, true));
                continue;
            }
            let diags = view.findings[range.clone()].iter().map(|f| {
                diagnostics::diagnostic(&view.sources, &uris, f, self.enc, &self.docs_base)
            });
            fresh.insert(key, (uri, diags.collect(), false));
        }
        // A configuration or rule file that cannot be used: its problems, at their place.
        if let Some(failure) = self.failure() {
            let uris = Uris::new(&self.docs);
            let diags = diagnostics::by_file(
                &failure.sources,
                &uris,
                &failure.diags,
                self.enc,
                &self.docs_base,
            );
            for (key, (uri, mut list)) in diags {
                let entry = fresh.entry(key).or_insert_with(|| (uri, Vec::new(), false));
                entry.1.append(&mut list);
            }
        }
        let versions: HashMap<&str, i32> = self
            .docs
            .values()
            .map(|d| (d.uri.as_str(), d.version))
            .collect();
        // Files that had diagnostics or were just opened, and now have none.
        let mut cleared: BTreeMap<&str, Uri> = BTreeMap::new();
        for key in self.published.keys() {
            if !fresh.contains_key(key) {
                if let Ok(uri) = Uri::from_str(key) {
                    cleared.insert(key, uri);
                }
            }
        }
        for (key, uri) in &self.force {
            if !fresh.contains_key(key) {
                cleared.insert(key, uri.clone());
            }
        }
        let changed = fresh.iter().filter_map(|(key, (uri, diags, same))| {
            let forced = self.force.contains_key(key);
            let old = self.published.get(key).map_or(&[][..], Vec::as_slice);
            let send = forced || !same && old != diags.as_slice();
            send.then(|| (key.as_str(), uri.clone(), diags.clone()))
        });
        let mut sends: Vec<(&str, Uri, Vec<Diagnostic>)> = changed
            .chain(cleared.into_iter().map(|(k, u)| (k, u, Vec::new())))
            .collect();
        sends.sort_by(|a, b| a.0.cmp(b.0));
        for (key, uri, diagnostics) in sends {
            let params = PublishDiagnosticsParams {
                version: versions.get(key).copied(),
                uri,
                diagnostics,
            };
            self.send(Notification::new(
                "textDocument/publishDiagnostics".into(),
                params,
            ));
        }
        self.force.clear();
        self.published = fresh.into_iter().map(|(k, (_, d, _))| (k, d)).collect();
        self.converted = self.failure().is_none().then_some(ranges);
    }

    /// What keeps the workspace's configuration from being used, if anything.
    fn failure(&self) -> Option<&Failure> {
        self.config_failure.as_ref().or(self.run_failure.as_ref())
    }

    fn register_watchers(&self) {
        if !self.watch {
            return;
        }
        let params = RegistrationParams {
            registrations: vec![Registration {
                id: "purposelint-watch-yaml".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                // Edits of the files formats read and of ignore files; files and folders
                // created or deleted anywhere (kind 5), which may join or leave the run.
                register_options: Some(serde_json::json!({
                    "watchers": [
                        {"globPattern": "**/*.{yaml,yml,sql,csv,json,tf}"},
                        {"globPattern": "**/{.gitignore,.ignore}"},
                        {"globPattern": "**/*", "kind": 5}
                    ]
                })),
            }],
        };
        self.send(Request::new(
            RequestId::from("purposelint-register-1".to_string()),
            "client/registerCapability".into(),
            params,
        ));
    }

    fn notification(&mut self, n: Notification) {
        let p = n.params;
        match n.method.as_str() {
            "initialized" => {
                self.register_watchers();
                self.configure();
                self.lint();
            }
            "textDocument/didOpen" => {
                let Ok(p) = params::<DidOpenTextDocumentParams>(p) else {
                    return;
                };
                let Some(path) = convert::uri_to_path(&p.text_document.uri) else {
                    return;
                };
                self.force.insert(
                    p.text_document.uri.as_str().to_string(),
                    p.text_document.uri.clone(),
                );
                let text: Arc<str> = Arc::from(p.text_document.text);
                self.session.set_overlay(path.clone(), text.clone());
                // Diagnostics name open documents by the client's URIs: convert anew.
                self.converted = None;
                self.docs.insert(
                    path,
                    Doc {
                        uri: p.text_document.uri,
                        text,
                        version: p.text_document.version,
                    },
                );
                self.schedule();
            }
            "textDocument/didChange" => {
                let Ok(p) = params::<DidChangeTextDocumentParams>(p) else {
                    return;
                };
                let Some(path) = convert::uri_to_path(&p.text_document.uri) else {
                    return;
                };
                let enc = self.enc;
                let Some(doc) = self.docs.get_mut(&path) else {
                    return;
                };
                let mut text = doc.text.to_string();
                for change in p.content_changes {
                    match change.range {
                        None => text = change.text,
                        Some(r) => {
                            let a = convert::offset(&text, r.start, enc);
                            let b = convert::offset(&text, r.end, enc);
                            let (a, b) = (a.min(b), a.max(b));
                            text.replace_range(a..b, &change.text);
                        }
                    }
                }
                doc.text = Arc::from(text);
                doc.version = p.text_document.version;
                self.session.set_overlay(path, doc.text.clone());
                self.schedule();
            }
            "textDocument/didSave" => {
                let Ok(p) = params::<DidSaveTextDocumentParams>(p) else {
                    return;
                };
                if let Some(path) = convert::uri_to_path(&p.text_document.uri) {
                    self.session.forget_disk(&path);
                    if is_config(&path) {
                        self.configure();
                    }
                }
                // Without a file watcher, a save is when files created or deleted outside
                // the editor are looked for.
                if !self.watch {
                    self.session.rediscover();
                }
                self.schedule();
            }
            "textDocument/didClose" => {
                let Ok(p) = params::<DidCloseTextDocumentParams>(p) else {
                    return;
                };
                if let Some(path) = convert::uri_to_path(&p.text_document.uri) {
                    self.docs.remove(&path);
                    self.session.remove_overlay(&path);
                    self.converted = None;
                }
                self.schedule();
            }
            "workspace/didChangeWatchedFiles" => {
                let Ok(p) = params::<DidChangeWatchedFilesParams>(p) else {
                    return;
                };
                let mut reconfigure = false;
                for c in &p.changes {
                    if let Some(path) = convert::uri_to_path(&c.uri) {
                        // A change of a file's text re-reads it; only a file created or
                        // deleted can change which files the run has.
                        if c.typ == FileChangeType::CHANGED {
                            self.session.forget_disk(&path);
                        } else {
                            self.session.created_or_deleted(&path);
                        }
                        reconfigure |= is_config(&path);
                    }
                }
                if reconfigure {
                    self.configure();
                }
                self.schedule();
            }
            "workspace/didChangeWorkspaceFolders" => {
                let Ok(p) = params::<DidChangeWorkspaceFoldersParams>(p) else {
                    return;
                };
                for f in &p.event.removed {
                    if let Some(path) = convert::uri_to_path(&f.uri) {
                        self.roots.retain(|r| *r != path);
                    }
                }
                for f in &p.event.added {
                    if let Some(path) = convert::uri_to_path(&f.uri) {
                        if !self.roots.contains(&path) {
                            self.roots.push(path);
                        }
                    }
                }
                self.configure();
                self.schedule();
            }
            _ => {}
        }
    }

    fn file_for(&self, uri: &Uri) -> Option<FileId> {
        let path = convert::uri_to_path(uri)?;
        self.view.as_ref()?.file_of(&path)
    }

    fn request(&mut self, r: Request) -> Result<Value, Fail> {
        let known = [
            "textDocument/hover",
            "textDocument/definition",
            "textDocument/codeAction",
            "textDocument/completion",
        ];
        if !known.contains(&r.method.as_str()) {
            let msg = format!("unknown method {}", r.method);
            return Err(Fail(ErrorCode::MethodNotFound, msg));
        }
        self.flush();
        let enc = self.enc;
        let tax = self.session.options().taxonomy.clone();
        let uris = Uris::new(&self.docs);
        let to_json = |v: Option<Value>| Ok(v.unwrap_or(Value::Null));
        match r.method.as_str() {
            "textDocument/hover" => {
                let p: HoverParams = params(r.params)?;
                let pp = p.text_document_position_params;
                let (Some(outcome), Some(file)) =
                    (&self.view, self.file_for(&pp.text_document.uri))
                else {
                    return Ok(Value::Null);
                };
                let h = features::hover(outcome, &tax, file, pp.position, enc);
                to_json(h.and_then(|h| serde_json::to_value(h).ok()))
            }
            "textDocument/definition" => {
                let p: GotoDefinitionParams = params(r.params)?;
                let pp = p.text_document_position_params;
                let (Some(outcome), Some(file)) =
                    (&self.view, self.file_for(&pp.text_document.uri))
                else {
                    return Ok(Value::Null);
                };
                let d = features::definition(outcome, &uris, file, pp.position, enc);
                to_json(d.and_then(|d| serde_json::to_value(d).ok()))
            }
            "textDocument/codeAction" => {
                let p: CodeActionParams = params(r.params)?;
                let (Some(outcome), Some(file)) = (&self.view, self.file_for(&p.text_document.uri))
                else {
                    return Ok(Value::Array(Vec::new()));
                };
                let actions = features::code_actions(
                    outcome,
                    &uris,
                    file,
                    p.range,
                    &p.context.diagnostics,
                    enc,
                );
                to_json(serde_json::to_value(actions).ok())
            }
            _ => {
                let p: CompletionParams = params(r.params)?;
                let pp = p.text_document_position;
                let (Some(outcome), Some(file)) =
                    (&self.view, self.file_for(&pp.text_document.uri))
                else {
                    return Ok(Value::Null);
                };
                let items = features::completion(outcome, &tax, file, pp.position, enc);
                to_json(serde_json::to_value(items).ok())
            }
        }
    }
}
