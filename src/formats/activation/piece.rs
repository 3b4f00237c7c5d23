//! What every provider reader turns a resource or rudder-cli document into: sources,
//! event-stream sources, destinations and connections with the flows their attributes
//! declare, each located at a byte range of its file. Linking reads only these.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::hcl::Range;
use super::text::Embedded;
use crate::model::FlowKind;
use crate::source::FileId;
use crate::sql::{self, Dialect};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Platform {
    RudderStack,
    Census,
    Segment,
}

impl Platform {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Platform::RudderStack => "rudderstack",
            Platform::Census => "census",
            Platform::Segment => "segment",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Platform> {
        match s {
            "rudderstack" => Some(Platform::RudderStack),
            "census" => Some(Platform::Census),
            "segment" => Some(Platform::Segment),
            _ => None,
        }
    }
}

/// A string read literally, at its node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lit {
    pub value: String,
    pub span: Range,
}

/// A value that could not be read literally, and why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unknown {
    pub what: String,
    pub why: String,
    pub span: Range,
}

/// How a piece names another: by Terraform address, by a literal id (Git Sync exports,
/// ids of things managed elsewhere), by rudder-cli URN, or not literally at all.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ref {
    Address { address: String, span: Range },
    Id(Lit),
    Unknown(Unknown),
}

impl Ref {
    pub(crate) fn span(&self) -> Range {
        match self {
            Ref::Address { span, .. } => *span,
            Ref::Id(l) => l.span,
            Ref::Unknown(u) => u.span,
        }
    }
}

/// One column a connection or key uses, and how.
#[derive(Debug, Clone)]
pub(crate) struct Use {
    pub column: String,
    pub kind: FlowKind,
    pub span: Range,
    /// Where it lands in the destination (`to`, a settings key path).
    pub destination_field: Option<String>,
}

/// SQL of a source, with where its text is in the file (or another file).
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    pub text: Embedded,
    /// The SQL is in another file (`file:` of a rudder-cli model), relative to the piece's
    /// file; `text` is then empty until linking reads it.
    pub file: Option<(String, Range)>,
    /// `text` parsed by an earlier run of an editor session, which keeps the piece for
    /// the next run: shared by the piece's copies, so that only an edited file's SQL is
    /// parsed again (see [`Sql::keeps_parse`]).
    pub parsed: Arc<OnceLock<Parse>>,
}

/// SQL parsed in these dialects.
#[derive(Debug)]
pub(crate) struct Parse {
    pub dialects: Vec<Dialect>,
    pub parsed: sql::Parsed,
}

impl Sql {
    /// SQL written in the piece's own file.
    pub(crate) fn inline(text: Embedded) -> Self {
        Sql {
            text,
            file: None,
            parsed: Arc::default(),
        }
    }

    /// The statements an earlier run parsed in `dialects`.
    pub(crate) fn parsed_in(&self, dialects: &[Dialect]) -> Option<&sql::Parsed> {
        let p = self.parsed.get()?;
        (p.dialects == dialects).then_some(&p.parsed)
    }

    /// Whether a parse of the text is worth keeping: another copy of the piece shares it
    /// (an editor session's cache), and the text is in the piece's own file (another
    /// file's SQL can change while the piece does not). A command-line run moves its
    /// pieces, so its trees are dropped once linked.
    pub(crate) fn keeps_parse(&self) -> bool {
        self.file.is_none() && Arc::strong_count(&self.parsed) > 1
    }

    /// The statements `parsed` (in `dialects`), kept for the next run when that is worth
    /// it, else held in `slot` for this one.
    pub(crate) fn keep<'a>(
        &'a self,
        dialects: Vec<Dialect>,
        parsed: sql::Parsed,
        slot: &'a mut Option<sql::Parsed>,
    ) -> &'a sql::Parsed {
        // Linking is single-threaded: an empty cell is filled by this call.
        if self.keeps_parse() && self.parsed.get().is_none() {
            return &self
                .parsed
                .get_or_init(|| Parse { dialects, parsed })
                .parsed;
        }
        slot.insert(parsed)
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// `schema.table`, `catalog.schema.table`: the parts as written, at the table value.
    Table {
        parts: Vec<String>,
        span: Range,
    },
    Sql(Sql),
    Unknown(Unknown),
}

#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub origin: Origin,
    /// Primary key, cursor, identifier column: indirect into every sink fed from here.
    pub keys: Vec<Use>,
    /// Warehouse dialect when the config names it (spec §7.2).
    pub dialect: Option<String>,
    /// A Census dataset's warehouse connection, whose `type` gives the dialect.
    pub warehouse: Option<Ref>,
    /// Whether the link hop into this source is a plain table read (its primary location
    /// is skipped in favour of the mapping, spec §11).
    pub table: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Destination {
    pub platform: Platform,
    /// The type as matched against the catalogue, at its node; unknown when not literal.
    pub kind: Result<Lit, Unknown>,
    /// A Segment destination's `source_id` (its classic passthrough and default source).
    pub source: Option<Ref>,
}

#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub source: Option<Ref>,
    pub destination: Ref,
    pub uses: Vec<Use>,
    /// Every field of the source flows, at this node (event streams, sync-all).
    pub passthrough: Option<Range>,
    /// Values that could not be read: every source field flows directly, at the value.
    pub unknown: Vec<Unknown>,
    /// What it writes in the destination (a Census sync's `object`), for messages only.
    pub object: Option<String>,
    /// Its source is a table, model or dataset (reverse ETL), not an event stream: a
    /// literal source id that resolves to nothing is unknown (spec §10, §7.3).
    pub rows: bool,
    /// The warehouse connection it names (Census `source_attributes.connection_id`) when
    /// no source piece of its own holds it: only checked to exist.
    pub warehouse: Option<Ref>,
}

impl Connection {
    /// A connection that sends nothing yet.
    pub(crate) fn new(source: Option<Ref>, destination: Ref) -> Self {
        Connection {
            source,
            destination,
            uses: Vec::new(),
            passthrough: None,
            unknown: Vec::new(),
            object: None,
            rows: false,
            warehouse: None,
        }
    }

    /// Locates the uses from `before` on at `label`, when given: a `dynamic` block's
    /// uses are written once, in its content.
    pub(crate) fn relocate(&mut self, before: usize, label: Option<Range>) {
        if let Some(label) = label {
            for u in &mut self.uses[before..] {
                u.span = label;
            }
        }
    }

    /// The column `v` names, used as `kind`: a use when literal, an unknown otherwise.
    pub(crate) fn read_use(
        &mut self,
        v: Option<Result<Lit, Unknown>>,
        kind: FlowKind,
        destination_field: Option<String>,
    ) {
        match v {
            Some(Ok(l)) => self.uses.push(Use {
                column: l.value,
                kind,
                span: l.span,
                destination_field,
            }),
            Some(Err(u)) => self.unknown.push(u),
            None => {}
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum What {
    Source(Source),
    EventSource,
    Destination(Destination),
    Connection(Connection),
    /// A warehouse connection (Census source): its dialect, for datasets that use it.
    Warehouse {
        dialect: Option<String>,
    },
    /// A resource of our providers whose type is not read: references to it are unknown.
    Unread {
        rtype: String,
    },
}

/// One resource or document, before names are made unique across directories.
#[derive(Debug, Clone)]
pub(crate) struct Piece {
    pub file: FileId,
    /// Terraform address or `<kind>.<id>`.
    pub name: String,
    /// The directory whose files form its module (rudder-cli: its project folder).
    /// Shared by the pieces of a file: one allocation per file, not per piece.
    pub dir: Arc<Path>,
    /// Where the declaration is named: the resource's name label, the `spec.id` value.
    pub name_span: Range,
    /// Literal ids by which others may refer to it (`import` ids, rudder-cli URNs).
    pub ids: Vec<String>,
    pub what: What,
}

/// Something read but not followed, reported as `incomplete-lineage`.
#[derive(Debug, Clone)]
pub(crate) struct Note {
    pub file: FileId,
    pub span: Range,
    pub message: String,
}

/// The note for a schema or catalog of a table source that cannot be read literally.
pub(crate) fn unqualified(u: &Unknown) -> String {
    format!(
        "{} cannot be read literally: {}; the table is matched by the rest of its name",
        u.what, u.why
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQL: &str = "select a from t";

    fn parse(dialects: &[Dialect]) -> sql::Parsed {
        sql::parse_first(SQL, dialects)
    }

    #[test]
    fn a_parse_is_kept_only_for_a_copy_the_session_shares() {
        let d = vec![Dialect::Snowflake, Dialect::Generic];
        // A command-line run's piece: nothing else holds it, so nothing is kept.
        let alone = Sql::inline(Embedded::verbatim(SQL, 0));
        let mut slot = None;
        assert!(alone.keep(d.clone(), parse(&d), &mut slot).is_ok());
        assert!(slot.is_some() && alone.parsed_in(&d).is_none());
        // An editor session's piece: the copy linked fills the cell the cache holds.
        let cached = Sql::inline(Embedded::verbatim(SQL, 0));
        let linked = cached.clone();
        let mut slot = None;
        assert!(linked.keep(d.clone(), parse(&d), &mut slot).is_ok());
        assert!(slot.is_none());
        assert!(cached.parsed_in(&d).is_some());
        assert!(cached.parsed_in(&[Dialect::Postgres]).is_none());
        // SQL read from another file can change while the piece does not.
        let in_file = Sql {
            file: Some(("query.sql".into(), (0, 0))),
            ..Sql::inline(Embedded::verbatim("", 0))
        };
        let linked = in_file.clone();
        let mut slot = None;
        linked.keep(d.clone(), parse(&d), &mut slot);
        assert!(slot.is_some() && in_file.parsed_in(&d).is_none());
    }
}
