//! Input formats. Each adapter turns files of one format into the shared [`crate::model`].

pub mod dbt;
pub mod fides;
pub mod native;
