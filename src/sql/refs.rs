//! The column references and subqueries of one SQL expression, with the functions that
//! enclose each reference.

use std::ops::ControlFlow;

use rustc_hash::FxHashSet;

use sqlparser::ast::{
    CastKind, Expr, Function, ObjectNamePart, Query, Spanned, Visit, Visitor, WindowType,
};

use super::lineage::SqlSpan;
use super::names::{Fns, Names, Sym, NO_FUNCTIONS};

/// A column reference: its dotted parts (lower-case), the functions around it, and whether
/// it is a window's `PARTITION BY`/`ORDER BY` key.
pub(crate) struct Ident {
    pub parts: Vec<Sym>,
    pub span: Option<SqlSpan>,
    pub functions: Fns,
    pub window_key: bool,
}

pub(crate) struct Refs<'a> {
    pub idents: Vec<Ident>,
    /// Subqueries at depth 0, with the functions around them.
    pub subqueries: Vec<(&'a Query, Fns)>,
}

struct Collect<'n> {
    names: &'n mut Names,
    idents: Vec<Ident>,
    /// Pointers into the visited expression: the visitor's callbacks do not carry its
    /// lifetime (and copying the subqueries cost more than all the rest).
    subqueries: Vec<(*const Query, Fns)>,
    /// The enclosing functions' names, outermost first, and their interned lists.
    stack: Vec<Sym>,
    lists: Vec<Fns>,
    window: FxHashSet<*const Expr>,
    /// The length of `stack` where each window key being visited starts: a key is not
    /// an argument of the functions around it, so they do not sanitize it.
    window_bases: Vec<usize>,
    query_depth: usize,
}

/// The name of an expression with a syntax of its own that is a function call in effect
/// (`TRIM(x)`, `SUBSTRING(x FROM 1)`, `CAST(x AS t)`, `x::t`, `EXTRACT(day FROM x)`…),
/// so that sanitizers and explanations see it.
pub(crate) fn special_function(e: &Expr) -> Option<&'static str> {
    Some(match e {
        Expr::Cast { kind, .. } => match kind {
            CastKind::Cast | CastKind::DoubleColon => "cast",
            CastKind::TryCast => "try_cast",
            CastKind::SafeCast => "safe_cast",
        },
        Expr::Convert { is_try, .. } => {
            if *is_try {
                "try_convert"
            } else {
                "convert"
            }
        }
        Expr::Trim { .. } => "trim",
        Expr::Substring { .. } => "substring",
        Expr::Position { .. } => "position",
        Expr::Extract { .. } => "extract",
        Expr::Overlay { .. } => "overlay",
        Expr::Ceil { .. } => "ceil",
        Expr::Floor { .. } => "floor",
        Expr::AtTimeZone { .. } => "at_time_zone",
        Expr::Collate { .. } => "collate",
        Expr::Interval(_) => "interval",
        _ => return None,
    })
}

/// The `PARTITION BY` and `ORDER BY` expressions of a function's window.
pub(crate) fn window_keys(f: &Function) -> Vec<&Expr> {
    match &f.over {
        Some(WindowType::WindowSpec(spec)) => spec
            .partition_by
            .iter()
            .chain(spec.order_by.iter().map(|o| &o.expr))
            .collect(),
        _ => Vec::new(),
    }
}

impl Collect<'_> {
    fn functions(&mut self) -> Fns {
        match self.window_bases.last() {
            Some(&base) => {
                let inner = self.stack[base..].to_vec();
                self.names.list(&inner)
            }
            None => self.lists.last().copied().unwrap_or(NO_FUNCTIONS),
        }
    }

    fn push_function(&mut self, name: Sym) {
        self.stack.push(name);
        let list = self.names.list(&self.stack);
        self.lists.push(list);
    }
}

impl Visitor for Collect<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if self.query_depth == 0 {
            let functions = self.functions();
            self.subqueries.push((q as *const Query, functions));
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
            self.window_bases.push(self.stack.len());
        }
        match expr {
            Expr::Function(f) => {
                let name = match f.name.0.last() {
                    Some(ObjectNamePart::Identifier(id)) => self.names.lower(&id.value),
                    Some(ObjectNamePart::Function(p)) => self.names.lower(&p.name.value),
                    None => self.names.sym(""),
                };
                self.push_function(name);
                for e in window_keys(f) {
                    self.window.insert(e as *const Expr);
                }
            }
            e if special_function(e).is_some() => {
                let name = self.names.sym(special_function(e).unwrap_or_default());
                self.push_function(name);
            }
            Expr::Identifier(id) => {
                let parts = vec![self.names.lower(&id.value)];
                self.ident(parts, SqlSpan::of(id.span));
            }
            Expr::CompoundIdentifier(ids) => {
                let parts = ids.iter().map(|i| self.names.lower(&i.value)).collect();
                self.ident(parts, SqlSpan::of(expr.span()));
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.query_depth > 0 {
            return ControlFlow::Continue(());
        }
        if matches!(expr, Expr::Function(_)) || special_function(expr).is_some() {
            self.stack.pop();
            self.lists.pop();
        }
        if self.window.contains(&(expr as *const Expr)) {
            self.window_bases.pop();
        }
        ControlFlow::Continue(())
    }
}

impl Collect<'_> {
    fn ident(&mut self, parts: Vec<Sym>, span: Option<SqlSpan>) {
        let functions = self.functions();
        self.idents.push(Ident {
            parts,
            span,
            functions,
            window_key: !self.window_bases.is_empty(),
        });
    }
}

pub(crate) fn collect<'a>(expr: &'a Expr, names: &mut Names) -> Refs<'a> {
    let mut c = Collect {
        names,
        idents: Vec::new(),
        subqueries: Vec::new(),
        stack: Vec::new(),
        lists: Vec::new(),
        window: FxHashSet::default(),
        window_bases: Vec::new(),
        query_depth: 0,
    };
    let _ = expr.visit(&mut c);
    let subqueries = c
        .subqueries
        .into_iter()
        // SAFETY: each pointer was taken from a node of `expr`, which is borrowed for
        // `'a` and not changed.
        .map(|(q, f)| (unsafe { &*q }, f))
        .collect();
    Refs {
        idents: c.idents,
        subqueries,
    }
}
