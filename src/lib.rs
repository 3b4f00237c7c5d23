//! purposelint: a static linter for data-flow configuration.
//!
//! discover → formats (read, declare, link) → model → graph → rules → findings → report,
//! all run by one [`session::Session`] for the command line and the language server.

pub mod baseline;
pub mod check;
pub mod cli;
pub mod config;
pub mod coverage;
pub mod decode;
mod diagnostic;
pub mod discover;
pub mod explain;
pub mod expr;
pub mod finding;
pub mod formats;
#[doc(hidden)]
pub mod fuzz;
pub mod graph;
pub mod lsp;
pub mod model;
pub mod report;
pub mod rules;
pub mod session;
pub mod source;
pub mod sql;
pub mod suggest;
pub mod suppress;
pub mod taxonomy;
pub mod timings;
pub mod yaml;
