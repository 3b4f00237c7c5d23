//! Column-level lineage of one SQL query: which upstream columns flow into each output
//! column, directly (projections) or indirectly (join keys, filters, grouping keys, window
//! partitions), through CTEs, subqueries, joins, unions and `*` expansion.
//!
//! The SQL is parsed with sqlparser in the caller's dialect (or the first of several that
//! parses it). Relations that are not CTEs are looked up in the caller's [`Catalog`], which
//! says which upstream they are and which columns it is known to have.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::rc::Rc;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, GroupByExpr, Ident, JoinConstraint, JoinOperator,
    ObjectName, ObjectNamePart, Query, Select, SelectItem, SelectItemQualifiedWildcardKind,
    SetExpr, Spanned, Statement, TableAlias, TableFactor, TableWithJoins, Value, Visit, Visitor,
    WildcardAdditionalOptions, WindowType,
};
use sqlparser::parser::Parser;

use super::Dialect;
use crate::model::FlowKind;

/// A position range in the rendered SQL: 1-based lines and character columns, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SqlSpan {
    pub start: (u32, u32),
    pub end: (u32, u32),
}

impl SqlSpan {
    fn of(s: sqlparser::tokenizer::Span) -> Option<SqlSpan> {
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
pub struct Upstream {
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
pub trait Catalog {
    /// The relation `name` (its dotted parts as written, unquoted, e.g. `["raw", "stripe",
    /// "charges"]` or dbt's placeholder `["ref:orders"]`), or `None` when unknown.
    fn relation(&mut self, name: &[String]) -> Option<Upstream>;
}

/// One upstream column flowing into an output column.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
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
pub struct OutColumn {
    pub name: String,
    pub span: Option<SqlSpan>,
    pub inputs: Vec<Input>,
}

/// Columns the query passes through unchanged with `*` from an upstream whose columns are
/// not all known: any other column of `upstream` also flows to the same output column.
#[derive(Debug, Clone)]
pub struct Passthrough {
    pub upstream: u32,
    pub span: Option<SqlSpan>,
    /// Indirect inputs that apply to every passed-through column.
    pub indirect: Vec<Input>,
}

#[derive(Debug, Clone, Default)]
pub struct Lineage {
    pub columns: Vec<OutColumn>,
    pub passthrough: Option<Passthrough>,
    /// Why the lineage is not complete; empty when it is.
    pub problems: Vec<String>,
    /// Upstreams the query reads, in order of first use.
    pub upstreams: Vec<u32>,
    /// The dialect that parsed the SQL; `None` when none did.
    pub dialect: Option<Dialect>,
}

fn parse(sql: &str, dialect: Dialect) -> Result<Vec<Statement>, String> {
    Parser::new(dialect.parser_dialect())
        .with_recursion_limit(64)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| e.to_string())
}

/// Extracts the lineage of `sql`, parsed in the first of `dialects` that parses it (the
/// warehouse's dialect, or [`Dialect::CHAIN`] when it is not known). Never panics on bad
/// input: problems are reported.
pub fn lineage(sql: &str, dialects: &[Dialect], catalog: &mut dyn Catalog) -> Lineage {
    let mut first_error = None;
    let mut parsed = None;
    for &d in dialects {
        match parse(sql, d) {
            Ok(stmts) => {
                parsed = Some((d, stmts));
                break;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let Some((dialect, stmts)) = parsed else {
        let e = first_error.unwrap_or_else(|| "no dialect to parse it with".into());
        return Lineage {
            problems: vec![format!("the SQL does not parse: {e}")],
            ..Lineage::default()
        };
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
    let mut cx = Cx {
        catalog,
        problems: Vec::new(),
        upstreams: Vec::new(),
    };
    let rel = cx.query(query, &Ctes::default(), None);
    let mut out = Lineage {
        problems: cx.problems,
        upstreams: cx.upstreams,
        dialect: Some(dialect),
        ..Lineage::default()
    };
    for c in &rel.cols {
        out.columns.push(OutColumn {
            name: c.name.clone(),
            span: c.span,
            inputs: c.srcs.clone(),
        });
    }
    match &rel.open {
        Some(Open::Base {
            upstream,
            span,
            extra,
        }) => {
            out.passthrough = Some(Passthrough {
                upstream: *upstream,
                span: *span,
                indirect: extra.clone(),
            })
        }
        Some(Open::Any(_)) | Some(Open::Unknown) => out
            .problems
            .push("`*` over a relation whose columns are unknown".into()),
        None => {}
    }
    out.problems.dedup();
    out
}

#[derive(Debug, Clone)]
struct Col {
    name: String,
    span: Option<SqlSpan>,
    srcs: Vec<Input>,
}

#[derive(Debug, Clone)]
enum Open {
    /// Any other column `c` is `upstream.c`.
    Base {
        upstream: u32,
        span: Option<SqlSpan>,
        extra: Vec<Input>,
    },
    /// Any other column comes from these inputs (table functions, UNNEST).
    Any(Vec<Input>),
    /// Columns are unknown; a reference to one is a problem.
    Unknown,
}

#[derive(Debug, Clone, Default)]
struct Rel {
    cols: Vec<Col>,
    open: Option<Open>,
}

impl Rel {
    fn col(&self, name: &str) -> Option<&Col> {
        self.cols.iter().find(|c| c.name == name)
    }
}

#[derive(Default, Clone)]
struct Ctes {
    list: Vec<(String, Rc<Rel>)>,
}

impl Ctes {
    fn get(&self, name: &str) -> Option<Rc<Rel>> {
        self.list
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.clone())
    }
}

struct Scope<'p> {
    rels: Vec<(String, Rc<Rel>)>,
    /// CTEs visible here: a CTE is visible in every subquery nested below it.
    ctes: Ctes,
    /// Output columns of the current SELECT seen so far (lateral alias references).
    aliases: Vec<Col>,
    parent: Option<&'p Scope<'p>>,
}

struct Cx<'c> {
    catalog: &'c mut dyn Catalog,
    problems: Vec<String>,
    upstreams: Vec<u32>,
}

fn lower(i: &Ident) -> String {
    i.value.to_lowercase()
}

fn object_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => lower(i),
            ObjectNamePart::Function(f) => lower(&f.name),
        })
        .collect()
}

const DATE_PARTS: &[&str] = &[
    "year",
    "years",
    "quarter",
    "month",
    "months",
    "week",
    "weeks",
    "isoweek",
    "day",
    "days",
    "dayofweek",
    "dayofyear",
    "dow",
    "doy",
    "hour",
    "hours",
    "minute",
    "minutes",
    "second",
    "seconds",
    "millisecond",
    "microsecond",
    "epoch",
    "weekday",
];

fn push_unique(out: &mut Vec<Input>, i: Input) {
    if !out
        .iter()
        .any(|o| o.upstream == i.upstream && o.column == i.column && o.kind == i.kind)
    {
        out.push(i);
    }
}

fn as_indirect(srcs: Vec<Input>, span: Option<SqlSpan>) -> Vec<Input> {
    srcs.into_iter()
        .map(|mut s| {
            s.kind = FlowKind::Indirect;
            if span.is_some() {
                s.span = span;
                s.level = 3;
            }
            s
        })
        .collect()
}

/// Column references and subqueries of one expression.
struct Refs<'a> {
    idents: Vec<(Vec<String>, Vec<String>, bool)>,
    /// Subqueries at depth 0, as pointers into the visited expression (the visitor's
    /// callbacks do not carry its lifetime); copying them cost more than all the rest.
    subqueries: Vec<(*const Query, Vec<String>)>,
    functions: Vec<String>,
    window: HashSet<*const Expr>,
    window_depth: usize,
    query_depth: usize,
    _p: std::marker::PhantomData<&'a Expr>,
}

impl Visitor for Refs<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if self.query_depth == 0 {
            self.subqueries.push((q as *const Query, self.functions.clone()));
        }
        self.query_depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _q: &Query) -> ControlFlow<()> {
        self.query_depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.query_depth > 0 {
            return ControlFlow::Continue(());
        }
        if self.window.contains(&(expr as *const Expr)) {
            self.window_depth += 1;
        }
        match expr {
            Expr::Function(f) => {
                let name = match f.name.0.last() {
                    Some(ObjectNamePart::Identifier(id)) => lower(id),
                    Some(ObjectNamePart::Function(p)) => lower(&p.name),
                    None => String::new(),
                };
                self.functions.push(name);
                if let Some(WindowType::WindowSpec(spec)) = &f.over {
                    for e in &spec.partition_by {
                        self.window.insert(e as *const Expr);
                    }
                    for o in &spec.order_by {
                        self.window.insert(&o.expr as *const Expr);
                    }
                }
            }
            Expr::Identifier(id) => {
                self.idents.push((
                    vec![lower(id)],
                    self.functions.clone(),
                    self.window_depth > 0,
                ));
            }
            Expr::CompoundIdentifier(ids) => {
                self.idents.push((
                    ids.iter().map(lower).collect(),
                    self.functions.clone(),
                    self.window_depth > 0,
                ));
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.query_depth > 0 {
            return ControlFlow::Continue(());
        }
        if let Expr::Function(_) = expr {
            self.functions.pop();
        }
        if self.window.contains(&(expr as *const Expr)) {
            self.window_depth -= 1;
        }
        ControlFlow::Continue(())
    }
}

fn collect_refs(expr: &Expr) -> Refs<'_> {
    let mut r = Refs {
        idents: Vec::new(),
        subqueries: Vec::new(),
        functions: Vec::new(),
        window: HashSet::new(),
        window_depth: 0,
        query_depth: 0,
        _p: std::marker::PhantomData,
    };
    let _ = expr.visit(&mut r);
    r
}

fn alias_rename(rel: &mut Rel, alias: &Option<TableAlias>) {
    if let Some(a) = alias {
        for (i, c) in a.columns.iter().enumerate() {
            if let Some(col) = rel.cols.get_mut(i) {
                col.name = lower(&c.name);
            }
        }
    }
}

impl Cx<'_> {
    fn problem(&mut self, p: String) {
        if !self.problems.contains(&p) {
            self.problems.push(p);
        }
    }

    fn query(&mut self, q: &Query, ctes: &Ctes, outer: Option<&Scope>) -> Rel {
        let mut env = ctes.clone();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                let name = lower(&cte.alias.name);
                let alias = Some(cte.alias.clone());
                // A recursive CTE (Snowflake needs no RECURSIVE) reads itself in the
                // recursive branch of its union: that branch sees the anchor's columns.
                let anchored = match &*cte.query.body {
                    SetExpr::SetOperation { left, .. } => {
                        let mut anchor = self.set_expr(left, &env, outer);
                        alias_rename(&mut anchor, &alias);
                        env.list.push((name.clone(), Rc::new(anchor)));
                        true
                    }
                    _ => false,
                };
                let mut rel = self.query(&cte.query, &env, outer);
                alias_rename(&mut rel, &alias);
                if anchored {
                    env.list.pop();
                }
                env.list.push((name, Rc::new(rel)));
            }
        }
        self.set_expr(&q.body, &env, outer)
    }

    fn set_expr(&mut self, body: &SetExpr, env: &Ctes, outer: Option<&Scope>) -> Rel {
        match body {
            SetExpr::Select(s) => self.select(s, env, outer),
            SetExpr::Query(q) => self.query(q, env, outer),
            SetExpr::SetOperation { left, right, .. } => {
                let mut l = self.set_expr(left, env, outer);
                let r = self.set_expr(right, env, outer);
                if l.open.is_none() && r.open.is_none() && l.cols.len() != r.cols.len() {
                    self.problem(format!(
                        "the sides of a set operation have {} and {} columns",
                        l.cols.len(),
                        r.cols.len()
                    ));
                }
                for (lc, rc) in l.cols.iter_mut().zip(r.cols) {
                    for s in rc.srcs {
                        push_unique(&mut lc.srcs, s);
                    }
                }
                if l.open.is_some() || r.open.is_some() {
                    if l.open.is_some() && r.open.is_some() {
                        self.problem(
                            "both sides of a set operation use `*` over open relations".into(),
                        );
                    }
                    l.open = l.open.or(r.open);
                }
                l
            }
            SetExpr::Values(v) => {
                let n = v.rows.first().map_or(0, |r| r.len());
                Rel {
                    cols: (1..=n)
                        .map(|i| Col {
                            name: format!("column{i}"),
                            span: None,
                            srcs: Vec::new(),
                        })
                        .collect(),
                    open: None,
                }
            }
            other => {
                let kind = other.to_string();
                let kind: String = kind.chars().take(20).collect();
                self.problem(format!("unsupported query body `{kind}`"));
                Rel {
                    cols: Vec::new(),
                    open: Some(Open::Unknown),
                }
            }
        }
    }

    fn base(&mut self, name: &ObjectName) -> Option<(String, Rel)> {
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(i) => i.value.clone(),
                ObjectNamePart::Function(f) => f.name.value.clone(),
            })
            .collect();
        let up = self.catalog.relation(&parts)?;
        if !self.upstreams.contains(&up.id) {
            self.upstreams.push(up.id);
        }
        let cols = up
            .columns
            .iter()
            .map(|c| Col {
                name: c.clone(),
                span: None,
                srcs: vec![Input {
                    upstream: up.id,
                    column: c.clone(),
                    kind: FlowKind::Direct,
                    functions: Vec::new(),
                    span: None,
                    level: 0,
                }],
            })
            .collect();
        let open = if up.open {
            Some(Open::Base {
                upstream: up.id,
                span: None,
                extra: Vec::new(),
            })
        } else {
            None
        };
        Some((up.default_alias, Rel { cols, open }))
    }

    fn factor(
        &mut self,
        f: &TableFactor,
        env: &Ctes,
        scope: &Scope,
        outer: Option<&Scope>,
    ) -> Vec<(String, Rc<Rel>)> {
        let named = |alias: &Option<TableAlias>, default: String| {
            alias.as_ref().map_or(default, |a| lower(&a.name))
        };
        match f {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let parts = object_parts(name);
                let full = parts.join(".");
                let last = parts.last().cloned().unwrap_or_default();
                if let Some(args) = args {
                    let mut srcs = Vec::new();
                    for a in &args.args {
                        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                        | FunctionArg::Named {
                            arg: FunctionArgExpr::Expr(e),
                            ..
                        } = a
                        {
                            srcs.extend(self.expr(e, scope, None));
                        }
                    }
                    let rel = Rel {
                        cols: Vec::new(),
                        open: Some(Open::Any(srcs)),
                    };
                    return vec![(named(alias, last), Rc::new(rel))];
                }
                if parts.len() == 1 {
                    if let Some(rel) = env.get(&last) {
                        let mut rel = (*rel).clone();
                        alias_rename(&mut rel, alias);
                        return vec![(named(alias, last), Rc::new(rel))];
                    }
                }
                match self.base(name) {
                    Some((default, mut rel)) => {
                        alias_rename(&mut rel, alias);
                        vec![(named(alias, default), Rc::new(rel))]
                    }
                    None => {
                        self.problem(format!(
                            "reads `{full}`, which is neither a ref(), a source() nor a CTE"
                        ));
                        let rel = Rel {
                            cols: Vec::new(),
                            open: Some(Open::Any(Vec::new())),
                        };
                        vec![(named(alias, last), Rc::new(rel))]
                    }
                }
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                let mut rel = if *lateral {
                    self.query(subquery, env, Some(scope))
                } else {
                    self.query(subquery, env, outer)
                };
                alias_rename(&mut rel, alias);
                vec![(named(alias, String::new()), Rc::new(rel))]
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let mut inner = Scope {
                    rels: Vec::new(),
                    ctes: env.clone(),
                    aliases: Vec::new(),
                    parent: outer,
                };
                let mut ind = Vec::new();
                self.join_tree(table_with_joins, env, &mut inner, outer, &mut ind);
                if !ind.is_empty() {
                    self.problem("join conditions inside a parenthesised join".into());
                }
                match alias {
                    Some(a) => {
                        let mut merged = Rel::default();
                        for (_, r) in &inner.rels {
                            merged.cols.extend(r.cols.iter().cloned());
                        }
                        vec![(lower(&a.name), Rc::new(merged))]
                    }
                    None => inner.rels,
                }
            }
            TableFactor::UNNEST {
                alias, array_exprs, ..
            } => {
                let mut srcs = Vec::new();
                for e in array_exprs {
                    srcs.extend(self.expr(e, scope, None));
                }
                vec![(
                    named(alias, "unnest".into()),
                    Rc::new(Rel {
                        cols: Vec::new(),
                        open: Some(Open::Any(srcs)),
                    }),
                )]
            }
            TableFactor::TableFunction { expr, alias } => {
                let srcs = self.expr(expr, scope, None);
                vec![(
                    named(alias, String::new()),
                    Rc::new(Rel {
                        cols: Vec::new(),
                        open: Some(Open::Any(srcs)),
                    }),
                )]
            }
            TableFactor::Function {
                name, args, alias, ..
            } => {
                let mut srcs = Vec::new();
                for a in args {
                    if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                    | FunctionArg::Named {
                        arg: FunctionArgExpr::Expr(e),
                        ..
                    } = a
                    {
                        srcs.extend(self.expr(e, scope, None));
                    }
                }
                let last = object_parts(name).pop().unwrap_or_default();
                vec![(
                    named(alias, last),
                    Rc::new(Rel {
                        cols: Vec::new(),
                        open: Some(Open::Any(srcs)),
                    }),
                )]
            }
            other => {
                let text: String = other.to_string().chars().take(30).collect();
                self.problem(format!("unsupported FROM item `{text}`"));
                vec![(
                    String::new(),
                    Rc::new(Rel {
                        cols: Vec::new(),
                        open: Some(Open::Unknown),
                    }),
                )]
            }
        }
    }

    fn join_tree(
        &mut self,
        twj: &TableWithJoins,
        env: &Ctes,
        scope: &mut Scope,
        outer: Option<&Scope>,
        ind: &mut Vec<Input>,
    ) {
        let rels = self.factor(&twj.relation, env, scope, outer);
        scope.rels.extend(rels);
        for join in &twj.joins {
            let rels = self.factor(&join.relation, env, scope, outer);
            let new_names: Vec<String> = rels.iter().map(|(n, _)| n.clone()).collect();
            scope.rels.extend(rels);
            let constraint = match &join.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::Left(c)
                | JoinOperator::LeftOuter(c)
                | JoinOperator::Right(c)
                | JoinOperator::RightOuter(c)
                | JoinOperator::FullOuter(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::Semi(c)
                | JoinOperator::LeftSemi(c)
                | JoinOperator::RightSemi(c)
                | JoinOperator::Anti(c)
                | JoinOperator::LeftAnti(c)
                | JoinOperator::RightAnti(c)
                | JoinOperator::StraightJoin(c) => Some(c),
                _ => None,
            };
            match constraint {
                Some(JoinConstraint::On(e)) => {
                    let span = SqlSpan::of(e.span());
                    let srcs = self.expr(e, scope, None);
                    ind.extend(as_indirect(srcs, span));
                }
                Some(JoinConstraint::Using(cols)) | Some(JoinConstraint::UsingAlias(cols, _)) => {
                    for c in cols {
                        let parts = object_parts(c);
                        let span = SqlSpan::of(c.span());
                        // Both sides' columns are join keys.
                        for (_, rel) in &scope.rels {
                            if let Some(col) = rel.col(parts.last().map_or("", |s| s.as_str())) {
                                ind.extend(as_indirect(col.srcs.clone(), span));
                            }
                        }
                    }
                }
                Some(JoinConstraint::Natural) => {
                    self.problem("NATURAL join".into());
                }
                Some(JoinConstraint::None) => {}
                None => {
                    let _ = new_names;
                    self.problem("unsupported join operator".into());
                }
            }
        }
    }

    /// Inputs of an expression, resolved in `scope`.
    fn expr(&mut self, e: &Expr, scope: &Scope, item_span: Option<SqlSpan>) -> Vec<Input> {
        let refs = collect_refs(e);
        let mut out = Vec::new();
        for (parts, functions, window) in refs.idents {
            let Some(srcs) = self.resolve(&parts, scope) else {
                continue;
            };
            for mut s in srcs {
                let mut f = functions.clone();
                f.extend(s.functions);
                s.functions = f;
                if window {
                    s.kind = FlowKind::Indirect;
                }
                if s.level < 3 && item_span.is_some() {
                    s.span = item_span;
                    s.level = 3;
                }
                push_unique(&mut out, s);
            }
        }
        for (q, functions) in refs.subqueries {
            // SAFETY: `q` points into `e`, which is borrowed for the whole call and not
            // changed.
            let q: &Query = unsafe { &*q };
            let env = scope.ctes.clone();
            let rel = self.query(q, &env, Some(scope));
            for c in rel.cols {
                for mut s in c.srcs {
                    let mut f = functions.clone();
                    f.extend(s.functions);
                    s.functions = f;
                    if s.level < 3 && item_span.is_some() {
                        s.span = item_span;
                        s.level = 3;
                    }
                    push_unique(&mut out, s);
                }
            }
        }
        out
    }

    fn lookup_in(&mut self, rel: &Rel, col: &str) -> Option<Vec<Input>> {
        if let Some(c) = rel.col(col) {
            return Some(c.srcs.clone());
        }
        match &rel.open {
            Some(Open::Base {
                upstream,
                span,
                extra,
            }) => {
                let mut v = vec![Input {
                    upstream: *upstream,
                    column: col.to_string(),
                    kind: FlowKind::Direct,
                    functions: Vec::new(),
                    span: *span,
                    level: if span.is_some() { 1 } else { 0 },
                }];
                v.extend(extra.iter().cloned());
                Some(v)
            }
            Some(Open::Any(srcs)) => Some(srcs.clone()),
            Some(Open::Unknown) | None => None,
        }
    }

    fn resolve(&mut self, parts: &[String], scope: &Scope) -> Option<Vec<Input>> {
        let mut sc = Some(scope);
        while let Some(s) = sc {
            if let Some(found) = self.resolve_here(parts, s) {
                return Some(found);
            }
            sc = s.parent;
        }
        if parts.len() == 1 && DATE_PARTS.contains(&parts[0].as_str()) {
            return None;
        }
        self.problem(format!("cannot resolve column `{}`", parts.join(".")));
        None
    }

    fn resolve_here(&mut self, parts: &[String], scope: &Scope) -> Option<Vec<Input>> {
        let col = parts.last()?;
        if parts.len() >= 2 {
            let qual = &parts[parts.len() - 2];
            let rel = scope
                .rels
                .iter()
                .rev()
                .find(|(n, _)| n == qual)
                .map(|(_, r)| r.clone());
            if let Some(rel) = rel {
                return self.lookup_in(&rel, col);
            }
            // `column.field` (struct access): resolve the first part as a column.
            return self.resolve_here(&parts[..1], scope);
        }
        let mut found: Vec<Input> = Vec::new();
        let mut any = false;
        for (_, rel) in &scope.rels {
            if let Some(c) = rel.col(col) {
                any = true;
                for s in &c.srcs {
                    push_unique(&mut found, s.clone());
                }
            }
        }
        if any {
            return Some(found);
        }
        if let Some(c) = scope.aliases.iter().rev().find(|c| &c.name == col) {
            return Some(c.srcs.clone());
        }
        let open: Vec<Rc<Rel>> = scope
            .rels
            .iter()
            .filter(|(_, r)| matches!(r.open, Some(Open::Base { .. } | Open::Any(_))))
            .map(|(_, r)| r.clone())
            .collect();
        if open.len() == 1 {
            return self.lookup_in(&open[0], col);
        }
        None
    }

    fn select(&mut self, s: &Select, env: &Ctes, outer: Option<&Scope>) -> Rel {
        let mut scope = Scope {
            rels: Vec::new(),
            ctes: env.clone(),
            aliases: Vec::new(),
            parent: outer,
        };
        let mut ind: Vec<Input> = Vec::new();
        for twj in &s.from {
            self.join_tree(twj, env, &mut scope, outer, &mut ind);
        }
        if !s.lateral_views.is_empty() {
            self.problem("LATERAL VIEW".into());
        }
        let clause = |cx: &mut Self, e: &Expr, scope: &Scope, ind: &mut Vec<Input>| {
            let span = SqlSpan::of(e.span());
            let srcs = cx.expr(e, scope, span);
            ind.extend(as_indirect(srcs, span));
        };
        // Projection first: Snowflake, BigQuery, Databricks, Redshift and DuckDB let
        // WHERE, GROUP BY, HAVING and QUALIFY name a select-list alias.
        let mut cols: Vec<Col> = Vec::new();
        let mut open: Option<Open> = None;
        for item in &s.projection {
            let item_span = SqlSpan::of(item.span());
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let name = match e {
                        Expr::Identifier(i) => lower(i),
                        Expr::CompoundIdentifier(ids) => ids.last().map(lower).unwrap_or_default(),
                        Expr::Function(f) => object_parts(&f.name).pop().unwrap_or_default(),
                        _ => format!("_col{}", cols.len() + 1),
                    };
                    self.named_item(e, name, item_span, &mut scope, &mut cols);
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    self.named_item(expr, lower(alias), item_span, &mut scope, &mut cols);
                }
                SelectItem::ExprWithAliases { expr, aliases } => {
                    let srcs = self.expr(expr, &scope, item_span);
                    for a in aliases {
                        cols.push(Col {
                            name: lower(a),
                            span: item_span,
                            srcs: srcs.clone(),
                        });
                    }
                }
                SelectItem::Wildcard(opts) => {
                    let rels: Vec<Rc<Rel>> = scope.rels.iter().map(|(_, r)| r.clone()).collect();
                    self.star(&rels, opts, item_span, 1, &mut cols, &mut open);
                }
                SelectItem::QualifiedWildcard(kind, opts) => {
                    let rel = match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(n) => {
                            let q = object_parts(n).pop().unwrap_or_default();
                            scope
                                .rels
                                .iter()
                                .rev()
                                .find(|(a, _)| *a == q)
                                .map(|(_, r)| r.clone())
                        }
                        SelectItemQualifiedWildcardKind::Expr(_) => None,
                    };
                    match rel {
                        Some(r) => self.star(&[r], opts, item_span, 2, &mut cols, &mut open),
                        None => self.problem(format!("cannot resolve `{item}`")),
                    }
                }
            }
        }

        if let Some(w) = &s.selection {
            clause(self, w, &scope, &mut ind);
        }
        if let Some(w) = &s.prewhere {
            clause(self, w, &scope, &mut ind);
        }
        match &s.group_by {
            GroupByExpr::Expressions(exprs, _) => {
                for e in exprs {
                    if let Expr::Value(v) = e {
                        if let Value::Number(n, _) = &v.value {
                            let span = SqlSpan::of(e.span());
                            if let Some(c) = n
                                .parse::<usize>()
                                .ok()
                                .and_then(|i| cols.get(i.wrapping_sub(1)))
                            {
                                ind.extend(as_indirect(c.srcs.clone(), span));
                            }
                            continue;
                        }
                    }
                    clause(self, e, &scope, &mut ind);
                }
            }
            GroupByExpr::All(_) => {}
        }
        if let Some(h) = &s.having {
            clause(self, h, &scope, &mut ind);
        }
        if let Some(q) = &s.qualify {
            clause(self, q, &scope, &mut ind);
        }
        if !ind.is_empty() {
            for c in &mut cols {
                for i in &ind {
                    push_unique(&mut c.srcs, i.clone());
                }
            }
            if let Some(Open::Base { extra, .. }) = &mut open {
                for i in &ind {
                    push_unique(extra, i.clone());
                }
            }
        }
        Rel { cols, open }
    }

    /// One named select item: an output column that later items may refer to by name.
    fn named_item(
        &mut self,
        e: &Expr,
        name: String,
        span: Option<SqlSpan>,
        scope: &mut Scope,
        cols: &mut Vec<Col>,
    ) {
        let srcs = self.expr(e, scope, span);
        let c = Col { name, span, srcs };
        scope.aliases.push(c.clone());
        cols.push(c);
    }

    fn star(
        &mut self,
        rels: &[Rc<Rel>],
        opts: &WildcardAdditionalOptions,
        span: Option<SqlSpan>,
        level: u8,
        cols: &mut Vec<Col>,
        open: &mut Option<Open>,
    ) {
        let mut excluded: Vec<String> = Vec::new();
        if let Some(ex) = &opts.opt_except {
            excluded.push(lower(&ex.first_element));
            excluded.extend(ex.additional_elements.iter().map(lower));
        }
        if let Some(ex) = &opts.opt_exclude {
            let text = ex.to_string().to_lowercase();
            let inner = text
                .trim_start_matches("exclude")
                .trim()
                .trim_matches(|c| c == '(' || c == ')');
            excluded.extend(inner.split(',').map(|s| s.trim().to_string()));
        }
        for rel in rels {
            for c in &rel.cols {
                if excluded.contains(&c.name) || cols.iter().any(|o| o.name == c.name) {
                    continue;
                }
                let mut c = c.clone();
                for s in &mut c.srcs {
                    if s.level < level && span.is_some() {
                        s.span = span;
                        s.level = level;
                    }
                }
                c.span = c.span.or(span);
                cols.push(c);
            }
            if let Some(o) = &rel.open {
                if open.is_some() {
                    self.problem("`*` over more than one relation with unknown columns".into());
                    continue;
                }
                let mut o = o.clone();
                if let Open::Base { span: s, .. } = &mut o {
                    if level == 2 || s.is_none() {
                        *s = span.or(*s);
                    }
                }
                *open = Some(o);
            }
        }
    }
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
