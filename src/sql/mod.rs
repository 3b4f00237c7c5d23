//! SQL shared by every format that carries queries (dbt models, activation configs):
//! column-level lineage of one query in a warehouse's dialect.
//!
//! - [`dialect`]: warehouse and adapter names to sqlparser's dialects;
//! - [`lineage`]: output columns of a query with their direct and indirect inputs,
//!   against a [`Catalog`] of the relations it reads.

pub mod dialect;
pub mod lineage;
mod names;
mod refs;
mod resolve;

pub use dialect::Dialect;
pub use lineage::{
    lineage, lineage_of, parse_first, Catalog, Input, Lineage, OutColumn, Parsed, Passthrough,
    SqlSpan, Upstream,
};
