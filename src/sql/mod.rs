//! SQL shared by every format that carries queries (dbt models, activation configs):
//! column-level lineage of one query in a warehouse's dialect.
//!
//! - [`dialect`]: warehouse and adapter names to sqlparser's dialects;
//! - [`lineage`]: output columns of a query with their direct and indirect inputs,
//!   against a [`Catalog`] of the relations it reads.

pub(crate) mod dialect;
pub(crate) mod lineage;
mod names;
mod refs;
mod resolve;

pub(crate) use dialect::Dialect;
pub(crate) use lineage::{
    error_position, lineage, lineage_of, parse_first, relations_named, Catalog, Lineage, OutColumn,
    Parsed, SqlSpan, Upstream,
};
pub(crate) use refs::{special_function, window_keys};
