//! Names of one query's analysis, interned: column names and lists of enclosing functions
//! become small integers, so that the inputs of a column copy and compare without touching
//! the heap.

use std::rc::Rc;

use rustc_hash::FxHashMap;

/// An interned name.
pub(crate) type Sym = u32;
/// An interned list of function names, outermost first; [`NO_FUNCTIONS`] is the empty list.
pub(crate) type Fns = u32;
pub(crate) const NO_FUNCTIONS: Fns = 0;

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
        // Room for the columns of a query's first relations without rehashing.
        Names {
            strs: Vec::with_capacity(32),
            index: FxHashMap::with_capacity_and_hasher(32, Default::default()),
            lists: vec![Vec::new()],
            list_index,
            joined: FxHashMap::default(),
        }
    }
}

impl Names {
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
