//! `purposelint lsp`: a language server over stdio (lsp-server + lsp-types, synchronous).
//!
//! - [`server`]: lifecycle, documents, debounced re-linting, publishing only what changed;
//! - [`convert`]: positions in the negotiated encoding (UTF-8 or UTF-16) and `file:` URIs;
//! - [`diagnostics`]: findings → diagnostics with related information for every hop;
//! - [`features`]: hover, go-to-definition, the `allow` quick fix and completion, read from the
//!   symbol table the formats fill while linking;
//! - [`transport`]: stdio framing that answers malformed JSON instead of dying.

pub mod convert;
pub mod diagnostics;
pub mod features;
pub mod server;
pub mod transport;

pub use server::{serve, Config};

/// Serves over stdin/stdout; returns the process exit code.
pub fn run_stdio(config: Config) -> u8 {
    let (conn, threads) = transport::stdio();
    let code = serve(&conn, config);
    drop(conn);
    threads.join();
    code as u8
}
