//! Column-level lineage of one SQL query: which upstream columns flow into each output
//! column, directly (projections) or indirectly (join keys, filters, grouping keys, window
//! partitions), through CTEs, subqueries, joins, unions and `*` expansion.
//!
//! The SQL is parsed with sqlparser in the caller's dialect (or the first of several that
//! parses it). Relations that are not CTEs are looked up in the caller's [`Catalog`], which
//! says which upstream they are and which columns it is known to have.

use std::rc::Rc;

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
    /// Known columns, lower-case; shared, since a catalogue gives the same list to every
    /// query that reads the relation.
    pub columns: Rc<[String]>,
    /// More columns may exist than are known (a source whose YAML lists only some).
    pub open: bool,
    /// Name it can be qualified with when the query gives no alias.
    pub default_alias: String,
}

/// What the caller knows about the relations a query reads.
pub(crate) trait Catalog {
    /// The relation `name` (its dotted parts as written, unquoted, e.g. `["raw", "stripe",
    /// "charges"]` or dbt's placeholder `["ref:orders"]`), or `None` when unknown. `span`
    /// is where the query names it (quotes included).
    fn relation(&mut self, name: &[String], span: Option<SqlSpan>) -> Option<Upstream>;
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
    /// A name it reads could not be resolved: its inputs include every column of the
    /// relations in that name's scope.
    pub fallback: bool,
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
    /// Why the lineage of the whole query is unknown; empty when it is known.
    pub problems: Vec<String>,
    /// Column references that could not be resolved, each falling back alone (the output
    /// columns that read one have [`OutColumn::fallback`]).
    pub unresolved: Vec<(String, Option<SqlSpan>)>,
    /// The dialect that parsed the SQL; `None` when none did.
    pub dialect: Option<Dialect>,
}

/// What `Parser::try_with_sql` does, with the token vector given room for one token in
/// about three characters (whitespace tokens included): growing it from empty copied
/// every token up to five times.
fn parse(sql: &str, dialect: Dialect) -> Result<Vec<Statement>, String> {
    let d = dialect.parser_dialect();
    let mut tokens = Vec::with_capacity(sql.len() / 3 + 8);
    sqlparser::tokenizer::Tokenizer::new(d, sql)
        .tokenize_with_location_into_buf(&mut tokens)
        .map_err(|e| sqlparser::parser::ParserError::from(e).to_string())?;
    Parser::new(d)
        .with_recursion_limit(64)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(|e| e.to_string())
}

use sqlparser::tokenizer::{Token, TokenWithSpan};

/// The tokens of `sql` but whitespace and comments, in the generic dialect.
fn significant_tokens(sql: &str) -> Option<Vec<TokenWithSpan>> {
    let dialect = sqlparser::dialect::GenericDialect {};
    let tokens = sqlparser::tokenizer::Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .ok()?;
    Some(
        tokens
            .into_iter()
            .filter(|t| !matches!(t.token, Token::Whitespace(_)))
            .collect(),
    )
}

/// The relations a query names after `FROM` and `JOIN`, read from its tokens alone, CTEs
/// left out: for SQL that does not parse, so that what it plainly reads still links and
/// every column it sends can come from there (activation spec §7.3).
pub(crate) fn relations_named(sql: &str) -> Vec<String> {
    let Some(tokens) = significant_tokens(sql) else {
        return Vec::new();
    };
    let word = |i: usize| match tokens.get(i).map(|t| &t.token) {
        Some(Token::Word(w)) => Some(w),
        _ => None,
    };
    let mut ctes: Vec<String> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i].token;
        if is(t, "from") || is(t, "join") {
            let mut parts: Vec<String> = Vec::new();
            let mut j = i + 1;
            while let Some(w) = word(j) {
                parts.push(w.to_string());
                j += 1;
                if !matches!(tokens.get(j).map(|t| &t.token), Some(Token::Period)) {
                    break;
                }
                j += 1;
            }
            let keyword = ["select", "lateral", "unnest", "table", "values"];
            if parts
                .first()
                .is_some_and(|p| !keyword.iter().any(|k| p.eq_ignore_ascii_case(k)))
            {
                let name = parts.join(".");
                if !out.contains(&name) {
                    out.push(name);
                }
            }
            i = j.max(i + 1);
            continue;
        }
        if let (Some(w), Some(next)) = (word(i), tokens.get(i + 1)) {
            let opens = matches!(tokens.get(i + 2).map(|t| &t.token), Some(Token::LParen));
            if is(&next.token, "as") && opens {
                ctes.push(w.value.to_lowercase());
            }
        }
        i += 1;
    }
    out.retain(|n| !ctes.contains(&n.to_lowercase()));
    out
}

/// Whether `t` is the keyword (or word) `k`, in any case.
fn is(t: &Token, k: &str) -> bool {
    matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case(k))
}

/// `CREATE … AS [(] SELECT|WITH …` with everything before the query blanked out (lines
/// kept, so positions stay those of `sql`); `None` for any other statement.
fn query_after_as(sql: &str) -> Option<String> {
    let words = significant_tokens(sql)?;
    if !words.first().is_some_and(|t| is(&t.token, "create")) {
        return None;
    }
    let mut depth = 0i32;
    for (i, t) in words.iter().enumerate() {
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            tok if depth == 0 && is(tok, "as") => {
                let mut j = i + 1;
                while words.get(j).is_some_and(|t| t.token == Token::LParen) {
                    j += 1;
                }
                let start = words.get(j)?;
                if is(&start.token, "select") || is(&start.token, "with") {
                    let at = words.get(i + 1)?.span.start;
                    return Some(blank_before(sql, at.line, at.column));
                }
            }
            _ => {}
        }
    }
    None
}

/// `sql` with each `GROUP BY *` written `GROUP BY ALL`; `None` when it has none.
fn group_by_star(sql: &str) -> Option<String> {
    let words = significant_tokens(sql)?;
    let mut stars = Vec::new();
    for w in words.windows(3) {
        if is(&w[0].token, "group") && is(&w[1].token, "by") && w[2].token == Token::Mul {
            stars.push((w[2].span.start.line, w[2].span.start.column));
        }
    }
    if stars.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(sql.len() + 2 * stars.len());
    let (mut l, mut c) = (1u64, 1u64);
    for ch in sql.chars() {
        if ch == '*' && stars.contains(&(l, c)) {
            out.push_str("ALL");
        } else {
            out.push(ch);
        }
        if ch == '\n' {
            l += 1;
            c = 1;
        } else {
            c += 1;
        }
    }
    Some(out)
}

/// `sql` with every character before 1-based `line`:`column` a space (newlines kept).
fn blank_before(sql: &str, line: u64, column: u64) -> String {
    let mut out = String::with_capacity(sql.len());
    let (mut l, mut c) = (1u64, 1u64);
    for ch in sql.chars() {
        let before = l < line || (l == line && c < column);
        if ch == '\n' {
            out.push('\n');
            l += 1;
            c = 1;
            continue;
        }
        out.push(if before { ' ' } else { ch });
        c += 1;
    }
    out
}

/// The query of a statement, with the names the statement gives its columns (none when
/// the query names them): a query, `CREATE VIEW|TABLE … AS`, `INSERT … SELECT`.
fn query_of(s: &Statement) -> Option<(&sqlparser::ast::Query, Vec<String>)> {
    match s {
        Statement::Query(q) => Some((q, Vec::new())),
        Statement::CreateView(v) => {
            let names = v.columns.iter().map(|c| c.name.value.clone()).collect();
            Some((&v.query, names))
        }
        Statement::CreateTable(t) => {
            let names = t.columns.iter().map(|c| c.name.value.clone()).collect();
            Some((t.query.as_deref()?, names))
        }
        Statement::Insert(i) => {
            let names = i
                .columns
                .iter()
                .filter_map(|c| match c.0.last()? {
                    sqlparser::ast::ObjectNamePart::Identifier(i) => Some(i.value.clone()),
                    sqlparser::ast::ObjectNamePart::Function(f) => Some(f.name.value.clone()),
                })
                .collect();
            Some((i.source.as_deref()?, names))
        }
        _ => None,
    }
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
    // DDL options a dialect of sqlparser does not know (`WITH TAG (…)`, `AUTO REFRESH
    // YES`, ClickHouse's `TO t`): the query after its `AS` still has lineage. And `GROUP
    // BY *`, what `dbt_utils.star` renders for a relation whose columns are unknown at
    // compile time: it groups by every column, as `GROUP BY ALL` does.
    for text in [query_after_as(sql), group_by_star(sql)]
        .into_iter()
        .flatten()
    {
        if let Some(found) = dialects
            .iter()
            .find_map(|&d| parse(&text, d).ok().map(|s| (d, s)))
        {
            return Ok(found);
        }
    }
    Err(first_error.unwrap_or_else(|| "no dialect to parse it with".into()))
}

/// Where in the SQL sqlparser's error `msg` is (`… at Line: 4, Column: 19`), and the
/// message without that position.
pub(crate) fn error_position(msg: &str) -> Option<(SqlSpan, &str)> {
    let at = msg.rfind(" at Line: ")?;
    let (line, column) = msg[at + " at Line: ".len()..].split_once(", Column: ")?;
    let line: u32 = line.parse().ok()?;
    let column: u32 = column.trim_end().parse().ok()?;
    (line > 0 && column > 0).then_some((
        SqlSpan {
            start: (line, column),
            end: (line, column + 1),
        },
        &msg[..at],
    ))
}

/// Extracts the lineage of `sql`, parsed in the first of `dialects` that parses it (the
/// warehouse's dialect, or [`Dialect::CHAIN`] when it is not known). Never panics on bad
/// input: problems are reported.
pub(crate) fn lineage(sql: &str, dialects: &[Dialect], catalog: &mut dyn Catalog) -> Lineage {
    lineage_of(&parse_first(sql, dialects), catalog)
}

/// The lineage of statements [`parse_first`] gave.
pub(crate) fn lineage_of(parsed: &Parsed, catalog: &mut dyn Catalog) -> Lineage {
    let (dialect, stmts) = match parsed {
        Ok((d, stmts)) => (*d, stmts),
        Err(e) => {
            return Lineage {
                problems: vec![format!("the SQL does not parse: {e}")],
                ..Lineage::default()
            }
        }
    };
    let Some((query, names)) = stmts.iter().find_map(query_of) else {
        return Lineage {
            problems: vec!["the SQL holds no SELECT query".into()],
            ..Lineage::default()
        };
    };
    let mut cx = Cx::new(catalog);
    let mut rel = cx.query(query, &Ctes::default(), None);
    for (c, name) in rel.cols.iter_mut().zip(names) {
        c.name = cx.names.lower(&name);
    }
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
        columns: Vec::with_capacity(rel.cols.len()),
        dialect: Some(dialect),
        ..Lineage::default()
    };
    for c in &rel.cols {
        out.columns.push(OutColumn {
            name: names.str(c.name).to_string(),
            span: c.span,
            inputs: c.srcs.iter().map(input).collect(),
            fallback: c.srcs.iter().any(|s| s.guess),
        });
    }
    out.unresolved = std::mem::take(&mut cx.unresolved);
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
    cx.names.keep();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parse_error_is_at_the_position_sqlparser_gives() {
        let l = lineage("select a,\n  b +* c from t", &[Dialect::Generic], &mut Cat);
        let (at, msg) = error_position(&l.problems[0]).unwrap();
        assert_eq!(at.start, (2, 6));
        assert!(msg.ends_with("found: *"), "{msg}");
        assert!(error_position("no position here").is_none());
    }

    struct Cat;
    impl Catalog for Cat {
        fn relation(&mut self, name: &[String], _: Option<SqlSpan>) -> Option<Upstream> {
            match name.join(".").to_lowercase().as_str() {
                "ref:customers" => Some(Upstream {
                    id: 0,
                    columns: ["id", "email", "phone"].map(String::from).into(),
                    open: false,
                    default_alias: "customers".into(),
                }),
                "ref:orders" => Some(Upstream {
                    id: 1,
                    columns: ["id", "customer_id", "amount"].map(String::from).into(),
                    open: false,
                    default_alias: "orders".into(),
                }),
                "source:raw.events" => Some(Upstream {
                    id: 2,
                    columns: ["user_id"].map(String::from).into(),
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
    fn window_keys_are_not_sanitized_and_special_syntax_is_a_function() {
        let sql = r#"select count(*) over (partition by lower(phone)) as n,
  trim(email) as t, id::varchar as i, extract(year from id) as y from "ref:customers""#;
        let l = lineage(sql, &[Dialect::Generic], &mut Cat);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        let col = |n: &str| l.columns.iter().find(|c| c.name == n).unwrap();
        let phone = &col("n").inputs[0];
        assert_eq!(
            (phone.column.as_str(), phone.kind),
            ("phone", FlowKind::Indirect)
        );
        assert_eq!(phone.functions, vec!["lower"]);
        assert_eq!(col("t").inputs[0].functions, vec!["trim"]);
        assert_eq!(col("i").inputs[0].functions, vec!["cast"]);
        assert_eq!(col("y").inputs[0].functions, vec!["extract"]);
    }

    #[test]
    fn statements_around_a_query() {
        let names = |sql: &str| {
            let l = lineage(sql, &[Dialect::Snowflake, Dialect::Generic], &mut Cat);
            assert!(l.problems.is_empty(), "{sql}: {:?}", l.problems);
            let cols: Vec<String> = l.columns.iter().map(|c| c.name.clone()).collect();
            (cols, l)
        };
        let (cols, _) = names(r#"create view v (a, b) as select id, email from "ref:customers""#);
        assert_eq!(cols, ["a", "b"]);
        let (cols, _) = names(r#"insert into t (x) select phone from "ref:customers""#);
        assert_eq!(cols, ["x"]);
        let (cols, _) =
            names(r#"with c as (select id from "ref:customers") insert into t select id from c"#);
        assert_eq!(cols, ["id"]);
        // Options sqlparser does not know: the query after `AS`, at its own lines.
        let (cols, l) = names(
            "create materialized view mv\nauto refresh yes\nas (\nselect email from \"ref:customers\")",
        );
        assert_eq!(cols, ["email"]);
        assert_eq!(l.columns[0].span.unwrap().start.0, 4);
        let (cols, _) = names(r#"select *, max(id) as m from "ref:customers" group by *"#);
        assert_eq!(cols, ["id", "email", "phone", "m"]);
    }

    #[test]
    fn qualified_names_struct_fields_and_semantic_views() {
        let sql = r#"select raw.app.customers.email.domain as d from "ref:customers""#;
        let l = lineage(sql, &[Dialect::Generic], &mut Cat);
        assert!(l.problems.is_empty() && l.unresolved.is_empty(), "{l:?}");
        assert_eq!(inputs(&l, "d"), vec![(0, "email".into(), FlowKind::Direct)]);

        let sql = r#"select * from semantic_view("ref:customers" dimensions email metrics id where phone > 0)"#;
        let l = lineage(sql, &[Dialect::Snowflake], &mut Cat);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        assert_eq!(
            inputs(&l, "email"),
            vec![
                (0, "email".into(), FlowKind::Direct),
                (0, "phone".into(), FlowKind::Indirect)
            ]
        );
    }

    #[test]
    fn an_unresolved_column_falls_back_alone() {
        let sql = "select c.id,\n  nope as guessed\nfrom \"ref:customers\" c";
        let l = lineage(sql, &[Dialect::Generic], &mut Cat);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        assert_eq!(l.unresolved.len(), 1);
        assert_eq!(l.unresolved[0].0, "nope");
        assert_eq!(l.unresolved[0].1.unwrap().start, (2, 3));
        let id = l.columns.iter().find(|c| c.name == "id").unwrap();
        assert!(!id.fallback);
        assert_eq!(inputs(&l, "id"), vec![(0, "id".into(), FlowKind::Direct)]);
        let g = l.columns.iter().find(|c| c.name == "guessed").unwrap();
        assert!(g.fallback);
        assert_eq!(inputs(&l, "guessed").len(), 3);

        // Qualified by a relation that lacks it: that relation's columns only.
        let sql =
            r#"select o.nope from "ref:orders" o join "ref:customers" c on o.customer_id = c.id"#;
        let l = lineage(sql, &[Dialect::Generic], &mut Cat);
        let direct: Vec<_> = inputs(&l, "nope")
            .into_iter()
            .filter(|i| i.2 == FlowKind::Direct)
            .collect();
        assert!(direct.iter().all(|i| i.0 == 1), "{direct:?}");
        assert_eq!(direct.len(), 3);
    }

    #[test]
    fn unresolved_and_unparsable_are_problems() {
        // No relation to fall back to.
        let l = lineage("select nope", &[Dialect::Generic], &mut Cat);
        assert!(!l.problems.is_empty());
        let l = lineage("select from where (", &[Dialect::Generic], &mut Cat);
        assert!(!l.problems.is_empty());
        let l = lineage("select a from elsewhere", &[Dialect::Generic], &mut Cat);
        assert!(!l.problems.is_empty());
    }
}
