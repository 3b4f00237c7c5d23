//! Column-level lineage of one SQL query: which upstream columns flow into each output
//! column, directly (projections) or indirectly (join keys, filters, grouping keys, window
//! partitions), through CTEs, subqueries, joins, unions and `*` expansion.
//!
//! The SQL is parsed with sqlparser in the caller's dialect (or the first of several that
//! parses it). Relations that are not CTEs are looked up in the caller's [`Catalog`], which
//! says which upstream they are and which columns it is known to have.

use sqlparser::ast::Statement;
use sqlparser::parser::Parser;

use super::resolve::{Ctes, Cx, Open, Src};
use super::Dialect;
use crate::model::FlowKind;

/// A position range in the rendered SQL: 1-based lines and character columns, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct SqlSpan {
    pub start: (u32, u32),
    pub end: (u32, u32),
}

impl SqlSpan {
    pub(crate) fn of(s: sqlparser::tokenizer::Span) -> Option<SqlSpan> {
        if s.start.line == 0 {
            return None;
        }
        Some(SqlSpan {
            start: (s.start.line as u32, s.start.column as u32),
            end: (s.end.line as u32, s.end.column as u32),
        })
    }
}

/// What the caller knows about an upstream relation.
pub(crate) struct Upstream {
    /// Index the caller uses for it.
    pub id: u32,
    /// Known columns, lower-case.
    pub columns: Vec<String>,
    /// More columns may exist than are known (a source whose YAML lists only some).
    pub open: bool,
    /// Name it can be qualified with when the query gives no alias.
    pub default_alias: String,
}

/// What the caller knows about the relations a query reads.
pub(crate) trait Catalog {
    /// The relation `name` (its dotted parts as written, unquoted, e.g. `["raw", "stripe",
    /// "charges"]` or dbt's placeholder `["ref:orders"]`), or `None` when unknown.
    fn relation(&mut self, name: &[String]) -> Option<Upstream>;
}

/// One upstream column flowing into an output column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Input {
    pub upstream: u32,
    pub column: String,
    pub kind: FlowKind,
    pub functions: Vec<String>,
    /// Where in the rendered SQL the flow happens.
    pub span: Option<SqlSpan>,
    /// How telling `span` is: 0 none, 1 `*`, 2 `t.*`, 3 an expression naming the column.
    /// A later, more telling place replaces it; an expression is never replaced.
    pub level: u8,
}

#[derive(Debug, Clone)]
pub(crate) struct OutColumn {
    pub name: String,
    pub span: Option<SqlSpan>,
    pub inputs: Vec<Input>,
}

/// Columns the query passes through unchanged with `*` from an upstream whose columns are
/// not all known: any other column of `upstream` also flows to the same output column.
#[derive(Debug, Clone)]
pub(crate) struct Passthrough {
    pub upstream: u32,
    pub span: Option<SqlSpan>,
    /// Indirect inputs that apply to every passed-through column.
    pub indirect: Vec<Input>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Lineage {
    pub columns: Vec<OutColumn>,
    pub passthrough: Option<Passthrough>,
    /// Why the lineage is not complete; empty when it is.
    pub problems: Vec<String>,
}

fn parse(sql: &str, dialect: Dialect) -> Result<Vec<Statement>, String> {
    Parser::new(dialect.parser_dialect())
        .with_recursion_limit(64)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| e.to_string())
}

/// Statements parsed in the first dialect that parses them, or the first error.
pub(crate) type Parsed = Result<(Dialect, Vec<Statement>), String>;

/// `sql` parsed in the first of `dialects` that parses it: the parsing half of
/// [`lineage`], for callers that parse in parallel and resolve later.
pub(crate) fn parse_first(sql: &str, dialects: &[Dialect]) -> Parsed {
    let mut first_error = None;
    for &d in dialects {
        match parse(sql, d) {
            Ok(stmts) => return Ok((d, stmts)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| "no dialect to parse it with".into()))
}

/// Extracts the lineage of `sql`, parsed in the first of `dialects` that parses it (the
/// warehouse's dialect, or [`Dialect::CHAIN`] when it is not known). Never panics on bad
/// input: problems are reported.
pub(crate) fn lineage(sql: &str, dialects: &[Dialect], catalog: &mut dyn Catalog) -> Lineage {
    lineage_of(&parse_first(sql, dialects), catalog)
}

/// The lineage of statements [`parse_first`] gave.
pub(crate) fn lineage_of(parsed: &Parsed, catalog: &mut dyn Catalog) -> Lineage {
    let stmts = match parsed {
        Ok((_, stmts)) => stmts,
        Err(e) => {
            return Lineage {
                problems: vec![format!("the SQL does not parse: {e}")],
                ..Lineage::default()
            }
        }
    };
    let mut queries = stmts.iter().filter_map(|s| match s {
        Statement::Query(q) => Some(q),
        _ => None,
    });
    let Some(query) = queries.next() else {
        return Lineage {
            problems: vec!["the SQL holds no SELECT query".into()],
            ..Lineage::default()
        };
    };
    let mut cx = Cx::new(catalog);
    let rel = cx.query(query, &Ctes::default(), None);
    let names = &cx.names;
    let input = |s: &Src| Input {
        upstream: s.upstream,
        column: names.str(s.column).to_string(),
        kind: s.kind,
        functions: names.functions(s.functions),
        span: s.span,
        level: s.level,
    };
    let mut out = Lineage {
        ..Lineage::default()
    };
    for c in &rel.cols {
        out.columns.push(OutColumn {
            name: names.str(c.name).to_string(),
            span: c.span,
            inputs: c.srcs.iter().map(input).collect(),
        });
    }
    let mut problems = std::mem::take(&mut cx.problems);
    match &rel.open {
        Some(Open::Base {
            upstream,
            span,
            extra,
        }) => {
            out.passthrough = Some(Passthrough {
                upstream: *upstream,
                span: *span,
                indirect: extra.iter().map(input).collect(),
            })
        }
        Some(Open::Any(_)) | Some(Open::Unknown) => {
            problems.push("`*` over a relation whose columns are unknown".into())
        }
        None => {}
    }
    problems.dedup();
    out.problems = problems;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Cat;
    impl Catalog for Cat {
        fn relation(&mut self, name: &[String]) -> Option<Upstream> {
            match name.join(".").to_lowercase().as_str() {
                "ref:customers" => Some(Upstream {
                    id: 0,
                    columns: vec!["id".into(), "email".into(), "phone".into()],
                    open: false,
                    default_alias: "customers".into(),
                }),
                "ref:orders" => Some(Upstream {
                    id: 1,
                    columns: vec!["id".into(), "customer_id".into(), "amount".into()],
                    open: false,
                    default_alias: "orders".into(),
                }),
                "source:raw.events" => Some(Upstream {
                    id: 2,
                    columns: vec!["user_id".into()],
                    open: true,
                    default_alias: "events".into(),
                }),
                _ => None,
            }
        }
    }

    fn inputs(l: &Lineage, col: &str) -> Vec<(u32, String, FlowKind)> {
        let c = l.columns.iter().find(|c| c.name == col).unwrap();
        let mut v: Vec<_> = c
            .inputs
            .iter()
            .map(|i| (i.upstream, i.column.clone(), i.kind))
            .collect();
        v.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
        v
    }

    #[test]
    fn ctes_joins_and_indirect_keys() {
        let sql = r#"
with c as (select * from "ref:customers"),
o as (select customer_id, sum(amount) as total from "ref:orders" group by 1)
select c.id, sha256(lower(c.email)) as hashed, o.total
from c left join o on c.id = o.customer_id
where c.phone is not null
"#;
        let l = lineage(sql, &[Dialect::Generic], &mut Cat);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        let h = inputs(&l, "hashed");
        assert!(h.contains(&(0, "email".into(), FlowKind::Direct)));
        assert!(h.contains(&(0, "phone".into(), FlowKind::Indirect)));
        assert!(h.contains(&(1, "customer_id".into(), FlowKind::Indirect)));
        let c = l.columns.iter().find(|c| c.name == "hashed").unwrap();
        let e = c
            .inputs
            .iter()
            .find(|i| i.column == "email" && i.kind == FlowKind::Direct)
            .unwrap();
        assert_eq!(e.functions, vec!["sha256", "lower"]);
        assert_eq!(e.span.unwrap().start.0, 4);
        let t = inputs(&l, "total");
        assert!(t.contains(&(1, "amount".into(), FlowKind::Direct)));
    }

    #[test]
    fn union_window_and_open_passthrough() {
        let sql = r#"
select id, row_number() over (partition by email order by id) as rn from "ref:customers"
union all
select id, 1 from "ref:orders"
"#;
        let l = lineage(sql, &[Dialect::Generic], &mut Cat);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        let rn = inputs(&l, "rn");
        assert!(rn.contains(&(0, "email".into(), FlowKind::Indirect)));
        assert_eq!(inputs(&l, "id").len(), 2);

        let l = lineage(
            r#"select *, user_id as uid from "source:raw.events" where kind = 'x'"#,
            &[Dialect::Generic],
            &mut Cat,
        );
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        let p = l.passthrough.unwrap();
        assert_eq!(p.upstream, 2);
        assert_eq!(p.indirect[0].column, "kind");
    }

    #[test]
    fn unresolved_and_unparsable_are_problems() {
        let l = lineage(
            r#"select nope from "ref:customers""#,
            &[Dialect::Generic],
            &mut Cat,
        );
        assert!(!l.problems.is_empty());
        let l = lineage("select from where (", &[Dialect::Generic], &mut Cat);
        assert!(!l.problems.is_empty());
        let l = lineage("select a from elsewhere", &[Dialect::Generic], &mut Cat);
        assert!(!l.problems.is_empty());
    }
}
