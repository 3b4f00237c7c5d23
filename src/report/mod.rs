//! Renderers: one per output format, all over the same [`Finding`](crate::finding::Finding).

pub mod compact;
pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod sarif;
pub mod statistics;

use crate::source::{Loc, Sources};

/// `file:line:column` of a location.
pub fn position(sources: &Sources, loc: Loc) -> String {
    format!(
        "{}:{}:{}",
        sources.get(loc.file).display,
        loc.span.start_pos.line,
        loc.span.start_pos.column
    )
}
