//! Names of one query's analysis, interned: column names and lists of enclosing functions
//! become small integers, so that the inputs of a column copy and compare without touching
//! the heap.

use std::cell::Cell;
use std::rc::Rc;

use rustc_hash::FxHashMap;

/// An interned name.
pub(crate) type Sym = u32;
/// An interned list of function names, outermost first; [`NO_FUNCTIONS`] is the empty list.
pub(crate) type Fns = u32;
pub(crate) const NO_FUNCTIONS: Fns = 0;
/// The empty name (of a relation without alias), interned first.
pub(crate) const NO_NAME: Sym = 0;

thread_local! {
    /// The names this thread's queries interned so far: most column and function names
    /// recur from query to query, and interning each anew for every query cost more than
    /// all the lookups. Only the equality of symbols reaches a result, never their values,
    /// so what earlier queries interned changes nothing.
    static KEPT: Cell<Option<Names>> = const { Cell::new(None) };
}

/// Past this many names and lists the kept table starts afresh, so that a long-lived
/// process (the language server) does not grow it without end.
const KEEP_AT_MOST: usize = 1 << 16;

pub(crate) struct Names {
    /// Shared with `index`, so that a new name costs one allocation.
    strs: Vec<Rc<str>>,
    index: FxHashMap<Rc<str>, Sym>,
    lists: Vec<Vec<Sym>>,
    list_index: FxHashMap<Vec<Sym>, Fns>,
    /// Memo of [`Names::join`].
    joined: FxHashMap<(Fns, Fns), Fns>,
}

impl Default for Names {
    fn default() -> Self {
        let mut list_index = FxHashMap::default();
        list_index.insert(Vec::new(), NO_FUNCTIONS);
        // Room for the names of a few queries without rehashing.
        let mut names = Names {
            strs: Vec::with_capacity(64),
            index: FxHashMap::with_capacity_and_hasher(64, Default::default()),
            lists: vec![Vec::new()],
            list_index,
            joined: FxHashMap::default(),
        };
        names.sym("");
        names
    }
}

impl Names {
    /// This thread's kept names, or a new table.
    pub(crate) fn take() -> Names {
        match KEPT.take() {
            Some(n) if n.strs.len() + n.lists.len() <= KEEP_AT_MOST => n,
            _ => Names::default(),
        }
    }

    /// Keeps `self` for this thread's next query.
    pub(crate) fn keep(self) {
        KEPT.set(Some(self));
    }

    pub(crate) fn sym(&mut self, s: &str) -> Sym {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.strs.len() as Sym;
        let s: Rc<str> = s.into();
        self.strs.push(s.clone());
        self.index.insert(s, i);
        i
    }

    /// The name lower-cased, as unquoted identifiers compare.
    pub(crate) fn lower(&mut self, s: &str) -> Sym {
        if s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
            self.sym(&s.to_lowercase())
        } else {
            self.sym(s)
        }
    }

    pub(crate) fn str(&self, s: Sym) -> &str {
        &self.strs[s as usize]
    }

    pub(crate) fn list(&mut self, names: &[Sym]) -> Fns {
        if let Some(&i) = self.list_index.get(names) {
            return i;
        }
        let i = self.lists.len() as Fns;
        self.lists.push(names.to_vec());
        self.list_index.insert(names.to_vec(), i);
        i
    }

    /// `outer` followed by `inner`.
    pub(crate) fn join(&mut self, outer: Fns, inner: Fns) -> Fns {
        if inner == NO_FUNCTIONS {
            return outer;
        }
        if outer == NO_FUNCTIONS {
            return inner;
        }
        if let Some(&j) = self.joined.get(&(outer, inner)) {
            return j;
        }
        let mut all = self.lists[outer as usize].clone();
        all.extend_from_slice(&self.lists[inner as usize]);
        let j = self.list(&all);
        self.joined.insert((outer, inner), j);
        j
    }

    pub(crate) fn functions(&self, f: Fns) -> Vec<String> {
        self.lists[f as usize]
            .iter()
            .map(|&s| self.str(s).to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_names_start_with_the_empty_name_and_start_afresh_when_large() {
        let mut n = Names::take();
        assert_eq!(n.str(NO_NAME), "");
        let a = n.sym("kept_name_test");
        n.keep();
        let mut n = Names::take();
        assert_eq!(n.sym("kept_name_test"), a);
        for i in 0..KEEP_AT_MOST {
            n.sym(&i.to_string());
        }
        n.keep();
        let n = Names::take();
        assert_eq!(n.strs.len(), 1);
        assert_eq!(n.str(NO_NAME), "");
    }

    #[test]
    fn names_and_lists_intern() {
        let mut n = Names::default();
        let a = n.lower("Email");
        assert_eq!(a, n.sym("email"));
        assert_eq!(n.str(a), "email");
        let (sha, lower) = (n.sym("sha256"), n.sym("lower"));
        let outer = n.list(&[sha]);
        let inner = n.list(&[lower]);
        let both = n.join(outer, inner);
        assert_eq!(n.functions(both), ["sha256", "lower"]);
        assert_eq!(n.join(outer, NO_FUNCTIONS), outer);
        assert_eq!(n.join(NO_FUNCTIONS, inner), inner);
        assert_eq!(n.list(&[sha, lower]), both);
    }
}
