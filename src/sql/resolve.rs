//! Name resolution of one parsed query: relations (CTEs, catalog relations, subqueries,
//! table functions) and the columns each output column reads, with SQL's scoping.

use std::rc::Rc;

use sqlparser::ast::{
    Expr, ExprWithAlias, FunctionArg, FunctionArgExpr, GroupByExpr, Ident, JoinConstraint,
    JoinOperator, ObjectName, ObjectNamePart, PivotValueSource, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Spanned, TableAlias, TableFactor, TableWithJoins,
    Value, WildcardAdditionalOptions,
};

use super::lineage::{Catalog, SqlSpan};
use super::names::{Fns, Names, Sym, NO_FUNCTIONS, NO_NAME};
use super::refs;
use crate::model::FlowKind;

/// One upstream column flowing into a column: [`super::Input`] with interned names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Src {
    pub upstream: u32,
    pub column: Sym,
    pub kind: FlowKind,
    pub functions: Fns,
    pub span: Option<SqlSpan>,
    /// How telling `span` is: 0 none, 1 `*`, 2 `t.*`, 3 an expression naming the column.
    pub level: u8,
    /// Guessed: an unresolved name fell back to every column in its scope.
    pub guess: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Col {
    pub name: Sym,
    pub span: Option<SqlSpan>,
    pub srcs: Vec<Src>,
}

#[derive(Debug, Clone)]
pub(crate) enum Open {
    /// Any other column `c` is `upstream.c`.
    Base {
        upstream: u32,
        span: Option<SqlSpan>,
        extra: Vec<Src>,
    },
    /// Any other column comes from these inputs (table functions, UNNEST).
    Any(Vec<Src>),
    /// Columns are unknown; a reference to one is a problem.
    Unknown,
}

/// The columns of a catalogue relation as the catalogue lists them (lower-case), each
/// read as itself. They become [`Col`]s only when a query expands or renames them: most
/// queries name a few columns of a relation, and interning all of them cost more than
/// resolving the query.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    upstream: u32,
    columns: Rc<[String]>,
}

impl Listed {
    fn src(&self, column: Sym) -> Src {
        Src {
            upstream: self.upstream,
            column,
            kind: FlowKind::Direct,
            functions: NO_FUNCTIONS,
            span: None,
            level: 0,
            guess: false,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Rel {
    pub cols: Vec<Col>,
    /// A catalogue relation's columns, not yet in `cols` (which is then empty).
    listed: Option<Listed>,
    pub open: Option<Open>,
}

/// The inputs of a relation's column.
enum Found<'r> {
    Col(&'r [Src]),
    Listed(Src),
}

impl Found<'_> {
    fn srcs(&self) -> &[Src] {
        match self {
            Found::Col(srcs) => srcs,
            Found::Listed(s) => std::slice::from_ref(s),
        }
    }
}

impl Rel {
    fn col(&self, name: Sym, names: &Names) -> Option<Found<'_>> {
        if let Some(l) = &self.listed {
            let text = names.str(name);
            return l
                .columns
                .iter()
                .any(|c| {
                    c.len() == text.len()
                        && c.as_bytes().first() == text.as_bytes().first()
                        && c == text
                })
                .then(|| Found::Listed(l.src(name)));
        }
        self.cols
            .iter()
            .find(|c| c.name == name)
            .map(|c| Found::Col(&c.srcs))
    }
}

#[derive(Default, Clone)]
pub(crate) struct Ctes {
    list: Vec<(Sym, Rc<Rel>)>,
}

impl Ctes {
    fn get(&self, name: Sym) -> Option<Rc<Rel>> {
        self.list
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| r.clone())
    }
}

pub(crate) struct Scope<'p> {
    rels: Vec<(Sym, Rc<Rel>)>,
    /// CTEs visible here: a CTE is visible in every subquery nested below it.
    ctes: Ctes,
    /// Output columns of the current SELECT so far.
    cols: Vec<Col>,
    /// Which of `cols` are named select items, which later parts of the SELECT may name
    /// (lateral alias references).
    aliases: Vec<usize>,
    parent: Option<&'p Scope<'p>>,
}

pub(crate) struct Cx<'c> {
    pub catalog: &'c mut dyn Catalog,
    pub names: Names,
    /// Problems that make the whole query's lineage unknown.
    pub problems: Vec<String>,
    /// Column references that could not be resolved and fell back to their scope.
    pub unresolved: Vec<(String, Option<SqlSpan>)>,
}

/// Names of the date parts (`day` in `datediff(day, a, b)`), which are not columns. Compared
/// as text, only for a name that resolved to nothing: interning them would cost every query.
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

/// The columns of Snowflake's `FLATTEN`.
const FLATTEN_COLUMNS: &[&str] = &["seq", "key", "path", "index", "value", "this"];

/// Whether two inputs are one (a guess or a location does not tell them apart).
fn same_input(a: &Src, b: &Src) -> bool {
    a.upstream == b.upstream && a.column == b.column && a.kind == b.kind
}

pub(crate) fn push_unique(out: &mut Vec<Src>, i: Src) {
    match out.iter_mut().find(|o| same_input(o, &i)) {
        // A guess stays visible: the column it reaches fell back.
        Some(o) => o.guess |= i.guess,
        None => out.push(i),
    }
}

/// `v` as [`push_unique`] of each into an empty vector leaves it.
fn dedup_unique(v: &mut Vec<Src>) {
    let mut n = 0;
    for i in 0..v.len() {
        let s = v[i];
        match v[..n].iter_mut().find(|o| same_input(o, &s)) {
            Some(o) => o.guess |= s.guess,
            None => {
                v[n] = s;
                n += 1;
            }
        }
    }
    v.truncate(n);
}

fn as_indirect(srcs: Vec<Src>, span: Option<SqlSpan>) -> Vec<Src> {
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

fn part_name(p: &ObjectNamePart) -> &str {
    match p {
        ObjectNamePart::Identifier(i) => &i.value,
        ObjectNamePart::Function(f) => &f.name.value,
    }
}

impl<'c> Cx<'c> {
    pub(crate) fn new(catalog: &'c mut dyn Catalog) -> Self {
        Cx {
            catalog,
            names: Names::take(),
            problems: Vec::new(),
            unresolved: Vec::new(),
        }
    }

    fn problem(&mut self, p: String) {
        if !self.problems.contains(&p) {
            self.problems.push(p);
        }
    }

    fn lower(&mut self, i: &Ident) -> Sym {
        self.names.lower(&i.value)
    }

    fn object_parts(&mut self, name: &ObjectName) -> Vec<Sym> {
        name.0
            .iter()
            .map(|p| self.names.lower(part_name(p)))
            .collect()
    }

    fn alias_rename(&mut self, rel: &mut Rel, alias: &Option<TableAlias>) {
        if let Some(a) = alias {
            if !a.columns.is_empty() {
                if let Some(l) = rel.listed.take() {
                    rel.cols = self.listed_cols(&l);
                }
            }
            for (i, c) in a.columns.iter().enumerate() {
                let name = self.lower(&c.name);
                if let Some(col) = rel.cols.get_mut(i) {
                    col.name = name;
                }
            }
        }
    }

    /// The columns of a catalogue relation, interned.
    fn listed_cols(&mut self, l: &Listed) -> Vec<Col> {
        l.columns
            .iter()
            .map(|c| {
                let column = self.names.sym(c);
                Col {
                    name: column,
                    span: None,
                    srcs: vec![l.src(column)],
                }
            })
            .collect()
    }

    /// Every column of `rel`: its own, or its catalogue columns interned.
    fn cols_of<'r>(&mut self, rel: &'r Rel) -> std::borrow::Cow<'r, [Col]> {
        match &rel.listed {
            Some(l) => self.listed_cols(l).into(),
            None => (&rel.cols[..]).into(),
        }
    }

    /// `rel` under `alias`: shared as it is unless the alias renames its columns.
    fn aliased(&mut self, rel: Rc<Rel>, alias: &Option<TableAlias>) -> Rc<Rel> {
        match alias {
            Some(a) if !a.columns.is_empty() => {
                let mut rel = (*rel).clone();
                self.alias_rename(&mut rel, alias);
                Rc::new(rel)
            }
            _ => rel,
        }
    }

    pub(crate) fn query(&mut self, q: &Query, ctes: &Ctes, outer: Option<&Scope>) -> Rel {
        let mut env = ctes.clone();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                let name = self.lower(&cte.alias.name);
                let alias = Some(cte.alias.clone());
                // A recursive CTE (Snowflake needs no RECURSIVE) reads itself in the
                // recursive branch of its union: that branch sees the anchor's columns.
                let anchored = match &*cte.query.body {
                    SetExpr::SetOperation { left, .. } => {
                        let mut anchor = self.set_expr(left, &env, outer);
                        self.alias_rename(&mut anchor, &alias);
                        env.list.push((name, Rc::new(anchor)));
                        true
                    }
                    _ => false,
                };
                let mut rel = self.query(&cte.query, &env, outer);
                self.alias_rename(&mut rel, &alias);
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
                    listed: None,
                    cols: (1..=n)
                        .map(|i| Col {
                            name: self.names.sym(&format!("column{i}")),
                            span: None,
                            srcs: Vec::new(),
                        })
                        .collect(),
                    open: None,
                }
            }
            // T-SQL's `WITH c AS (…) INSERT INTO t SELECT …`: the CTEs are the insert's.
            SetExpr::Insert(sqlparser::ast::Statement::Insert(i)) if i.source.is_some() => {
                match &i.source {
                    Some(q) => self.query(q, env, outer),
                    None => Rel::default(),
                }
            }
            other => {
                let kind = other.to_string();
                let kind: String = kind.chars().take(20).collect();
                self.problem(format!("unsupported query body `{kind}`"));
                Rel {
                    listed: None,
                    cols: Vec::new(),
                    open: Some(Open::Unknown),
                }
            }
        }
    }

    fn base(&mut self, name: &ObjectName) -> Option<(Sym, Rel)> {
        let parts: Vec<String> = name.0.iter().map(|p| part_name(p).to_string()).collect();
        let up = self.catalog.relation(&parts, SqlSpan::of(name.span()))?;
        let listed = Some(Listed {
            upstream: up.id,
            columns: up.columns,
        });
        let open = if up.open {
            Some(Open::Base {
                upstream: up.id,
                span: None,
                extra: Vec::new(),
            })
        } else {
            None
        };
        let rel = Rel {
            cols: Vec::new(),
            listed,
            open,
        };
        Some((self.names.sym(&up.default_alias), rel))
    }

    /// Inputs of the arguments of a table function.
    fn arg_srcs(&mut self, args: &[FunctionArg], scope: &Scope) -> Vec<Src> {
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
        srcs
    }

    /// The relation a table function gives: Snowflake's `FLATTEN` has fixed columns, each
    /// made from its arguments; of other functions any column is made from them.
    fn table_function(&mut self, name: Sym, srcs: Vec<Src>, alias: &Option<TableAlias>) -> Rc<Rel> {
        if self.names.str(name) != "flatten" {
            return Rc::new(Rel {
                listed: None,
                cols: Vec::new(),
                open: Some(Open::Any(srcs)),
            });
        }
        let mut rel = Rel {
            listed: None,
            cols: FLATTEN_COLUMNS
                .iter()
                .map(|c| Col {
                    name: self.names.sym(c),
                    span: None,
                    srcs: srcs.clone(),
                })
                .collect(),
            open: None,
        };
        self.alias_rename(&mut rel, alias);
        Rc::new(rel)
    }

    fn factor(
        &mut self,
        f: &TableFactor,
        env: &Ctes,
        scope: &Scope,
        outer: Option<&Scope>,
    ) -> Vec<(Sym, Rc<Rel>)> {
        let named = |cx: &mut Self, alias: &Option<TableAlias>, default: Sym| {
            alias.as_ref().map_or(default, |a| cx.lower(&a.name))
        };
        let any = |srcs: Vec<Src>| {
            Rc::new(Rel {
                listed: None,
                cols: Vec::new(),
                open: Some(Open::Any(srcs)),
            })
        };
        match f {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let parts = self.object_parts(name);
                let last = parts.last().copied().unwrap_or_else(|| self.names.sym(""));
                if let Some(args) = args {
                    let srcs = self.arg_srcs(&args.args, scope);
                    let rel = self.table_function(last, srcs, alias);
                    return vec![(named(self, alias, last), rel)];
                }
                if parts.len() == 1 {
                    if let Some(rel) = env.get(last) {
                        let rel = self.aliased(rel, alias);
                        return vec![(named(self, alias, last), rel)];
                    }
                }
                match self.base(name) {
                    Some((default, mut rel)) => {
                        self.alias_rename(&mut rel, alias);
                        vec![(named(self, alias, default), Rc::new(rel))]
                    }
                    None => {
                        let full: Vec<&str> = parts.iter().map(|&p| self.names.str(p)).collect();
                        let full = full.join(".");
                        self.problem(format!(
                            "reads `{full}`, which is neither a ref(), a source() nor a CTE"
                        ));
                        vec![(named(self, alias, last), any(Vec::new()))]
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
                self.alias_rename(&mut rel, alias);
                let empty = self.names.sym("");
                vec![(named(self, alias, empty), Rc::new(rel))]
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let mut inner = Scope {
                    rels: Vec::new(),
                    ctes: env.clone(),
                    cols: Vec::new(),
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
                            merged.cols.extend(self.cols_of(r).iter().cloned());
                        }
                        vec![(self.lower(&a.name), Rc::new(merged))]
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
                let unnest = self.names.sym("unnest");
                vec![(named(self, alias, unnest), any(srcs))]
            }
            TableFactor::TableFunction { expr, alias } => {
                let srcs = self.expr(expr, scope, None);
                let name = match expr {
                    Expr::Function(f) => self.object_parts(&f.name).pop(),
                    _ => None,
                };
                let empty = self.names.sym("");
                let rel = self.table_function(name.unwrap_or(empty), srcs, alias);
                vec![(named(self, alias, empty), rel)]
            }
            TableFactor::Function {
                name, args, alias, ..
            } => {
                let srcs = self.arg_srcs(args, scope);
                let last = match self.object_parts(name).pop() {
                    Some(l) => l,
                    None => self.names.sym(""),
                };
                let rel = self.table_function(last, srcs, alias);
                vec![(named(self, alias, last), rel)]
            }
            TableFactor::Pivot {
                table,
                aggregate_functions,
                value_column,
                value_source,
                alias,
                ..
            } => {
                let rel = self.pivot(
                    table,
                    aggregate_functions,
                    value_column,
                    value_source,
                    env,
                    outer,
                );
                vec![(named(self, alias, NO_NAME), self.renamed(rel, alias))]
            }
            TableFactor::Unpivot {
                table,
                value,
                name,
                columns,
                alias,
                ..
            } => {
                let rel = self.unpivot(table, value, name, columns, env, outer);
                vec![(named(self, alias, NO_NAME), self.renamed(rel, alias))]
            }
            TableFactor::SemanticView {
                name,
                dimensions,
                metrics,
                facts,
                where_clause,
                alias,
            } => {
                let rel = self.semantic_view(name, [dimensions, metrics, facts], where_clause, env);
                let last = self.object_parts(name).pop().unwrap_or(NO_NAME);
                vec![(named(self, alias, last), self.renamed(rel, alias))]
            }
            other => {
                let text: String = other.to_string().chars().take(30).collect();
                self.problem(format!("unsupported FROM item `{text}`"));
                vec![(
                    self.names.sym(""),
                    Rc::new(Rel {
                        listed: None,
                        cols: Vec::new(),
                        open: Some(Open::Unknown),
                    }),
                )]
            }
        }
    }

    /// Snowflake's `SEMANTIC_VIEW(v DIMENSIONS … METRICS … FACTS … WHERE …)`: one column
    /// per listed item, named by its last part, read from the view; the filter is an
    /// indirect input of each.
    fn semantic_view(
        &mut self,
        name: &ObjectName,
        lists: [&Vec<Expr>; 3],
        filter: &Option<Expr>,
        env: &Ctes,
    ) -> Rel {
        let (alias, view) = match self.base(name) {
            Some((a, r)) => (a, r),
            None => {
                let full = name.to_string();
                self.problem(format!(
                    "reads `{full}`, which is neither a ref(), a source() nor a CTE"
                ));
                return Rel {
                    listed: None,
                    cols: Vec::new(),
                    open: Some(Open::Unknown),
                };
            }
        };
        let scope = Scope {
            rels: vec![(alias, Rc::new(view))],
            ctes: env.clone(),
            cols: Vec::new(),
            aliases: Vec::new(),
            parent: None,
        };
        let ind = match filter {
            Some(f) => {
                let span = SqlSpan::of(f.span());
                let srcs = self.expr(f, &scope, span);
                as_indirect(srcs, span)
            }
            None => Vec::new(),
        };
        let mut cols = Vec::new();
        for e in lists.into_iter().flatten() {
            let span = SqlSpan::of(e.span());
            let name = match e {
                Expr::Identifier(i) => self.lower(i),
                Expr::CompoundIdentifier(ids) => match ids.last() {
                    Some(i) => self.lower(i),
                    None => NO_NAME,
                },
                other => self.names.lower(&other.to_string()),
            };
            let mut srcs = self.expr(e, &scope, span);
            for i in &ind {
                push_unique(&mut srcs, *i);
            }
            cols.push(Col { name, span, srcs });
        }
        Rel {
            cols,
            listed: None,
            open: None,
        }
    }

    fn renamed(&mut self, mut rel: Rel, alias: &Option<TableAlias>) -> Rc<Rel> {
        self.alias_rename(&mut rel, alias);
        Rc::new(rel)
    }

    /// The relations of a table factor merged into one (the input of PIVOT/UNPIVOT).
    fn input_of(
        &mut self,
        table: &TableFactor,
        env: &Ctes,
        outer: Option<&Scope>,
    ) -> (Rel, Scope<'static>) {
        let empty = Scope {
            rels: Vec::new(),
            ctes: env.clone(),
            cols: Vec::new(),
            aliases: Vec::new(),
            parent: None,
        };
        let rels = self.factor(table, env, &empty, outer);
        let mut merged = Rel::default();
        for (_, r) in &rels {
            merged.cols.extend(self.cols_of(r).iter().cloned());
            if merged.open.is_none() {
                merged.open = r.open.clone();
            }
        }
        let scope = Scope {
            rels,
            ctes: env.clone(),
            cols: Vec::new(),
            aliases: Vec::new(),
            parent: None,
        };
        (merged, scope)
    }

    /// Last parts of the columns `exprs` name.
    fn named_columns<'e>(&mut self, exprs: impl Iterator<Item = &'e Expr>) -> Vec<Sym> {
        let mut out = Vec::new();
        for e in exprs {
            for id in refs::collect(e, &mut self.names).idents {
                out.extend(id.parts.last().copied());
            }
        }
        out
    }

    /// `t PIVOT (agg(v) FOR k IN (a, b))`: the columns of `t` that neither the aggregate
    /// nor the key names pass through (they group the rows); one column per listed value,
    /// made from the aggregate's inputs, the key and the grouping columns.
    fn pivot(
        &mut self,
        table: &TableFactor,
        aggregates: &[ExprWithAlias],
        keys: &[Expr],
        values: &PivotValueSource,
        env: &Ctes,
        outer: Option<&Scope>,
    ) -> Rel {
        let (input, scope) = self.input_of(table, env, outer);
        let mut made: Vec<Src> = Vec::new();
        for a in aggregates {
            for s in self.expr(&a.expr, &scope, None) {
                push_unique(&mut made, s);
            }
        }
        let mut key_srcs = Vec::new();
        for k in keys {
            key_srcs.extend(self.expr(k, &scope, None));
        }
        let used = self.named_columns(aggregates.iter().map(|a| &a.expr).chain(keys));
        let mut cols: Vec<Col> = Vec::new();
        let mut group: Vec<Src> = key_srcs;
        for c in &input.cols {
            if !used.contains(&c.name) {
                group.extend(c.srcs.iter().copied());
                cols.push(c.clone());
            }
        }
        let group = as_indirect(group, None);
        for s in group {
            push_unique(&mut made, s);
        }
        match values {
            PivotValueSource::List(list) => {
                for v in list {
                    let name = match &v.alias {
                        Some(a) => self.lower(a),
                        None => {
                            let text = v.expr.to_string();
                            self.names
                                .lower(text.trim_matches(|c| c == '\'' || c == '"'))
                        }
                    };
                    cols.push(Col {
                        name,
                        span: SqlSpan::of(v.expr.span()),
                        srcs: made.clone(),
                    });
                }
                Rel {
                    listed: None,
                    cols,
                    open: input.open.map(|_| Open::Any(made)),
                }
            }
            // The values are the data's: any further column is one of them.
            PivotValueSource::Any(_) | PivotValueSource::Subquery(_) => Rel {
                listed: None,
                cols,
                open: Some(Open::Any(made)),
            },
        }
    }

    /// `t UNPIVOT (v FOR k IN (a, b))`: the columns of `t` but the listed ones, `k` (the
    /// names of the listed columns) and `v` (their values).
    fn unpivot(
        &mut self,
        table: &TableFactor,
        value: &Expr,
        name: &Ident,
        columns: &[ExprWithAlias],
        env: &Ctes,
        outer: Option<&Scope>,
    ) -> Rel {
        let (input, scope) = self.input_of(table, env, outer);
        let mut values: Vec<Src> = Vec::new();
        for c in columns {
            for s in self.expr(&c.expr, &scope, None) {
                push_unique(&mut values, s);
            }
        }
        let listed = self.named_columns(columns.iter().map(|c| &c.expr));
        let mut cols: Vec<Col> = input
            .cols
            .iter()
            .filter(|c| !listed.contains(&c.name))
            .cloned()
            .collect();
        cols.push(Col {
            name: self.lower(name),
            span: SqlSpan::of(name.span),
            srcs: Vec::new(),
        });
        let value_name = match value {
            Expr::Identifier(i) => self.lower(i),
            other => self.names.lower(&other.to_string()),
        };
        cols.push(Col {
            name: value_name,
            span: SqlSpan::of(value.span()),
            srcs: values,
        });
        Rel {
            listed: None,
            cols,
            open: input.open,
        }
    }

    fn join_tree(
        &mut self,
        twj: &TableWithJoins,
        env: &Ctes,
        scope: &mut Scope,
        outer: Option<&Scope>,
        ind: &mut Vec<Src>,
    ) {
        let rels = self.factor(&twj.relation, env, scope, outer);
        scope.rels.extend(rels);
        for join in &twj.joins {
            let rels = self.factor(&join.relation, env, scope, outer);
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
                        let last = self.object_parts(c).pop();
                        let span = SqlSpan::of(c.span());
                        // Both sides' columns are join keys.
                        for (_, rel) in &scope.rels {
                            let col = match last {
                                Some(l) => rel.col(l, &self.names),
                                None => None,
                            };
                            if let Some(col) = col {
                                ind.extend(as_indirect(col.srcs().to_vec(), span));
                            }
                        }
                    }
                }
                Some(JoinConstraint::Natural) => {
                    self.problem("NATURAL join".into());
                }
                Some(JoinConstraint::None) => {}
                None => {
                    self.problem("unsupported join operator".into());
                }
            }
        }
    }

    /// Inputs of an expression, resolved in `scope`.
    fn expr(&mut self, e: &Expr, scope: &Scope, item_span: Option<SqlSpan>) -> Vec<Src> {
        // A column, the commonest expression: what `refs::collect` finds in it, without
        // walking it.
        match e {
            Expr::Identifier(id) => {
                let parts = [self.lower(id)];
                return self.column(&parts, SqlSpan::of(id.span), scope, item_span);
            }
            Expr::CompoundIdentifier(ids) => {
                let parts: Vec<Sym> = ids.iter().map(|i| self.lower(i)).collect();
                return self.column(&parts, SqlSpan::of(e.span()), scope, item_span);
            }
            _ => {}
        }
        let refs = refs::collect(e, &mut self.names);
        let mut out = Vec::new();
        for id in refs.idents {
            let (f, key) = (id.functions, id.window_key);
            self.ident(&mut out, &id.parts, id.span, f, key, scope, item_span);
        }
        for (q, functions) in refs.subqueries {
            let env = scope.ctes.clone();
            let rel = self.query(q, &env, Some(scope));
            for c in rel.cols {
                for mut s in c.srcs {
                    s.functions = self.names.join(functions, s.functions);
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

    /// Inputs of the column reference `parts` at `span`, alone in an expression.
    fn column(
        &mut self,
        parts: &[Sym],
        span: Option<SqlSpan>,
        scope: &Scope,
        item_span: Option<SqlSpan>,
    ) -> Vec<Src> {
        let mut out = Vec::new();
        self.ident(&mut out, parts, span, NO_FUNCTIONS, false, scope, item_span);
        out
    }

    /// Adds the inputs of the column reference `parts` at `span` to `out`, inside
    /// `functions` (a window key when `window_key`).
    #[allow(clippy::too_many_arguments)]
    fn ident(
        &mut self,
        out: &mut Vec<Src>,
        parts: &[Sym],
        span: Option<SqlSpan>,
        functions: Fns,
        window_key: bool,
        scope: &Scope,
        item_span: Option<SqlSpan>,
    ) {
        let Some(mut srcs) = self.resolve(parts, span, scope) else {
            return;
        };
        for s in &mut srcs {
            s.functions = self.names.join(functions, s.functions);
            if window_key {
                s.kind = FlowKind::Indirect;
                // A window key flows in at the key, as a join's at its condition.
                if span.is_some() {
                    s.span = span;
                    s.level = 3;
                }
            }
            if s.level < 3 && item_span.is_some() {
                s.span = item_span;
                s.level = 3;
            }
        }
        if out.is_empty() {
            // What pushing each into an empty `out` gives, without a second vector.
            dedup_unique(&mut srcs);
            *out = srcs;
        } else {
            for s in srcs {
                push_unique(out, s);
            }
        }
    }

    fn lookup_in(&mut self, rel: &Rel, col: Sym) -> Option<Vec<Src>> {
        if let Some(c) = rel.col(col, &self.names) {
            return Some(c.srcs().to_vec());
        }
        match &rel.open {
            Some(Open::Base {
                upstream,
                span,
                extra,
            }) => {
                let mut v = vec![Src {
                    upstream: *upstream,
                    column: col,
                    kind: FlowKind::Direct,
                    functions: NO_FUNCTIONS,
                    span: *span,
                    level: if span.is_some() { 1 } else { 0 },
                    guess: false,
                }];
                v.extend(extra.iter().copied());
                Some(v)
            }
            Some(Open::Any(srcs)) => Some(srcs.clone()),
            Some(Open::Unknown) | None => None,
        }
    }

    fn resolve(&mut self, parts: &[Sym], span: Option<SqlSpan>, scope: &Scope) -> Option<Vec<Src>> {
        let mut sc = Some(scope);
        while let Some(s) = sc {
            if let Some(found) = self.resolve_here(parts, s) {
                return Some(found);
            }
            sc = s.parent;
        }
        if parts.len() == 1 && DATE_PARTS.contains(&self.names.str(parts[0])) {
            return None;
        }
        let text: Vec<&str> = parts.iter().map(|&p| self.names.str(p)).collect();
        let text = text.join(".");
        match self.guess(parts, scope) {
            Some(guess) => {
                if !self
                    .unresolved
                    .iter()
                    .any(|(t, s)| *t == text && *s == span)
                {
                    self.unresolved.push((text, span));
                }
                Some(guess)
            }
            None => {
                self.problem(format!("cannot resolve column `{text}`"));
                None
            }
        }
    }

    /// What an unresolved reference may read: every column of the relation its qualifier
    /// names, else of every relation in its scope (an open relation's column of that
    /// name). `None` when a relation there has unknown columns, or there is none.
    fn guess(&mut self, parts: &[Sym], scope: &Scope) -> Option<Vec<Src>> {
        let col = *parts.last()?;
        let mut rels: Vec<Rc<Rel>> = Vec::new();
        if parts.len() >= 2 {
            let qual = parts[parts.len() - 2];
            let mut sc = Some(scope);
            while let Some(s) = sc {
                if let Some((_, r)) = s.rels.iter().rev().find(|(n, _)| *n == qual) {
                    rels.push(r.clone());
                    break;
                }
                sc = s.parent;
            }
        }
        if rels.is_empty() {
            let mut sc = Some(scope);
            while let Some(s) = sc {
                rels.extend(s.rels.iter().map(|(_, r)| r.clone()));
                sc = s.parent;
            }
        }
        let mut out = Vec::new();
        for rel in &rels {
            for c in self.cols_of(rel).iter() {
                for s in &c.srcs {
                    push_unique(&mut out, Src { guess: true, ..*s });
                }
            }
            match &rel.open {
                Some(Open::Base {
                    upstream, extra, ..
                }) => {
                    let s = Src {
                        upstream: *upstream,
                        column: col,
                        kind: FlowKind::Direct,
                        functions: NO_FUNCTIONS,
                        span: None,
                        level: 0,
                        guess: true,
                    };
                    push_unique(&mut out, s);
                    for s in extra {
                        push_unique(&mut out, Src { guess: true, ..*s });
                    }
                }
                Some(Open::Any(srcs)) => {
                    for s in srcs {
                        push_unique(&mut out, Src { guess: true, ..*s });
                    }
                }
                Some(Open::Unknown) => return None,
                None => {}
            }
        }
        (!out.is_empty()).then_some(out)
    }

    fn resolve_here(&mut self, parts: &[Sym], scope: &Scope) -> Option<Vec<Src>> {
        let col = *parts.last()?;
        if parts.len() >= 2 {
            // `t.c`, `db.schema.t.c`, `t.c.field` (a struct's field): the column follows
            // the rightmost part that names a relation here.
            for i in (0..parts.len() - 1).rev() {
                let rel = scope
                    .rels
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == parts[i])
                    .map(|(_, r)| r.clone());
                if let Some(rel) = rel {
                    return self.lookup_in(&rel, parts[i + 1]);
                }
            }
            // `column.field` (struct access): resolve the first part as a column.
            return self.resolve_here(&parts[..1], scope);
        }
        let mut found: Vec<Src> = Vec::new();
        let mut any = false;
        for (_, rel) in &scope.rels {
            if let Some(c) = rel.col(col, &self.names) {
                any = true;
                for s in c.srcs() {
                    push_unique(&mut found, *s);
                }
            }
        }
        if any {
            return Some(found);
        }
        let mut aliases = scope.aliases.iter().rev().map(|&i| &scope.cols[i]);
        if let Some(c) = aliases.find(|c| c.name == col) {
            return Some(c.srcs.clone());
        }
        let mut open = scope
            .rels
            .iter()
            .filter(|(_, r)| matches!(r.open, Some(Open::Base { .. } | Open::Any(_))));
        match (open.next(), open.next()) {
            (Some((_, r)), None) => {
                let r = r.clone();
                self.lookup_in(&r, col)
            }
            _ => None,
        }
    }

    fn select(&mut self, s: &Select, env: &Ctes, outer: Option<&Scope>) -> Rel {
        let mut scope = Scope {
            rels: Vec::new(),
            ctes: env.clone(),
            cols: Vec::new(),
            aliases: Vec::new(),
            parent: outer,
        };
        let mut ind: Vec<Src> = Vec::new();
        for twj in &s.from {
            self.join_tree(twj, env, &mut scope, outer, &mut ind);
        }
        if !s.lateral_views.is_empty() {
            self.problem("LATERAL VIEW".into());
        }
        let clause = |cx: &mut Self, e: &Expr, scope: &Scope, ind: &mut Vec<Src>| {
            let span = SqlSpan::of(e.span());
            let srcs = cx.expr(e, scope, span);
            ind.extend(as_indirect(srcs, span));
        };
        // Projection first: Snowflake, BigQuery, Databricks, Redshift and DuckDB let
        // WHERE, GROUP BY, HAVING and QUALIFY name a select-list alias.
        scope.cols.reserve(s.projection.len());
        let mut open: Option<Open> = None;
        for item in &s.projection {
            let item_span = SqlSpan::of(item.span());
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let name = match e {
                        Expr::Identifier(i) => self.lower(i),
                        Expr::CompoundIdentifier(ids) => match ids.last() {
                            Some(i) => self.lower(i),
                            None => self.names.sym(""),
                        },
                        Expr::Function(f) => match self.object_parts(&f.name).pop() {
                            Some(n) => n,
                            None => self.names.sym(""),
                        },
                        _ => self.names.sym(&format!("_col{}", scope.cols.len() + 1)),
                    };
                    let srcs = match e {
                        // Its name is the column it reads, lower-cased already.
                        Expr::Identifier(i) => {
                            self.column(&[name], SqlSpan::of(i.span), &scope, item_span)
                        }
                        _ => self.expr(e, &scope, item_span),
                    };
                    Self::named_item(srcs, name, item_span, &mut scope);
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let name = self.lower(alias);
                    let srcs = self.expr(expr, &scope, item_span);
                    Self::named_item(srcs, name, item_span, &mut scope);
                }
                SelectItem::ExprWithAliases { expr, aliases } => {
                    let srcs = self.expr(expr, &scope, item_span);
                    for a in aliases {
                        scope.cols.push(Col {
                            name: self.lower(a),
                            span: item_span,
                            srcs: srcs.clone(),
                        });
                    }
                }
                SelectItem::Wildcard(opts) => {
                    let rels: Vec<Rc<Rel>> = scope.rels.iter().map(|(_, r)| r.clone()).collect();
                    self.star(&rels, opts, item_span, 1, &mut scope.cols, &mut open);
                }
                SelectItem::QualifiedWildcard(kind, opts) => {
                    let rel = match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(n) => {
                            let q = self.object_parts(n).pop();
                            scope
                                .rels
                                .iter()
                                .rev()
                                .find(|(a, _)| Some(*a) == q)
                                .map(|(_, r)| r.clone())
                        }
                        SelectItemQualifiedWildcardKind::Expr(_) => None,
                    };
                    match rel {
                        Some(r) => self.star(&[r], opts, item_span, 2, &mut scope.cols, &mut open),
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
                                .and_then(|i| scope.cols.get(i.wrapping_sub(1)))
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
            for c in &mut scope.cols {
                for i in &ind {
                    push_unique(&mut c.srcs, *i);
                }
            }
            if let Some(Open::Base { extra, .. }) = &mut open {
                for i in &ind {
                    push_unique(extra, *i);
                }
            }
        }
        Rel {
            cols: std::mem::take(&mut scope.cols),
            listed: None,
            open,
        }
    }

    /// One named select item: an output column that later items may refer to by name.
    fn named_item(srcs: Vec<Src>, name: Sym, span: Option<SqlSpan>, scope: &mut Scope) {
        scope.aliases.push(scope.cols.len());
        scope.cols.push(Col { name, span, srcs });
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
        let mut excluded: Vec<Sym> = Vec::new();
        if let Some(ex) = &opts.opt_except {
            excluded.push(self.lower(&ex.first_element));
            for e in &ex.additional_elements {
                excluded.push(self.lower(e));
            }
        }
        if let Some(ex) = &opts.opt_exclude {
            let text = ex.to_string().to_lowercase();
            let inner = text
                .trim_start_matches("exclude")
                .trim()
                .trim_matches(|c| c == '(' || c == ')');
            for s in inner.split(',') {
                excluded.push(self.names.sym(s.trim()));
            }
        }
        for rel in rels {
            for c in self.cols_of(rel).iter() {
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
