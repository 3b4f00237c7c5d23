//! purposelint: a static linter for data-flow configuration.
//!
//! discover → formats (read, declare, link) → model → graph → rules → findings → report,
//! all run by one [`session::Session`] for the command line and the language server.

#![warn(unreachable_pub)]

pub(crate) mod baseline;
pub mod check;
pub mod cli;
pub(crate) mod config;
/// The `lineage-conformance` example's scoring, against DataHub's SQL-parser tests.
pub mod conformance;
pub(crate) mod coverage;
pub(crate) mod decode;
mod diagnostic;
pub mod discover;
pub(crate) mod explain;
pub(crate) mod expr;
pub mod finding;
pub(crate) mod formats;
#[doc(hidden)]
pub mod fuzz;
pub(crate) mod graph;
pub mod lsp;
pub mod model;
pub mod report;
pub mod rules;
pub mod session;
pub mod source;
pub(crate) mod sql;
pub(crate) mod suggest;
pub(crate) mod suppress;
pub(crate) mod taxonomy;
pub(crate) mod timings;
pub mod yaml;
