//! The column references and subqueries of one SQL expression, with the functions that
//! enclose each reference.

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{Expr, ObjectNamePart, Query, Visit, Visitor, WindowType};

use super::names::{Fns, Names, Sym, NO_FUNCTIONS};

/// A column reference: its dotted parts (lower-case), the functions around it, and whether
/// it is a window's `PARTITION BY`/`ORDER BY` key.
pub(crate) struct Ident {
    pub parts: Vec<Sym>,
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
    window: HashSet<*const Expr>,
    window_depth: usize,
    query_depth: usize,
}

impl Collect<'_> {
    fn functions(&self) -> Fns {
        self.lists.last().copied().unwrap_or(NO_FUNCTIONS)
    }
}

impl Visitor for Collect<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if self.query_depth == 0 {
            self.subqueries.push((q as *const Query, self.functions()));
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
                    Some(ObjectNamePart::Identifier(id)) => self.names.lower(&id.value),
                    Some(ObjectNamePart::Function(p)) => self.names.lower(&p.name.value),
                    None => self.names.sym(""),
                };
                self.stack.push(name);
                let list = self.names.list(&self.stack);
                self.lists.push(list);
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
                let parts = vec![self.names.lower(&id.value)];
                self.ident(parts);
            }
            Expr::CompoundIdentifier(ids) => {
                let parts = ids.iter().map(|i| self.names.lower(&i.value)).collect();
                self.ident(parts);
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
            self.stack.pop();
            self.lists.pop();
        }
        if self.window.contains(&(expr as *const Expr)) {
            self.window_depth -= 1;
        }
        ControlFlow::Continue(())
    }
}

impl Collect<'_> {
    fn ident(&mut self, parts: Vec<Sym>) {
        self.idents.push(Ident {
            parts,
            functions: self.functions(),
            window_key: self.window_depth > 0,
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
        window: HashSet::new(),
        window_depth: 0,
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
