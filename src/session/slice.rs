//! What an edit of one file can affect, worked out from the names every file declares
//! and refers to (nothing is resolved here): the files to link again, the files whose
//! diagnostics that run gives exactly, and the findings it gives exactly.
//!
//! Names form a graph: each step is an edge from each name it reads to the name it
//! writes. A finding can change only if one of its paths can pass through what the edit
//! changed: a step of the edited file (before or after the edit), a dataset or sink it
//! declares, or a dataset its steps declare by writing it (whose fields are the union of
//! what its writers write). So its source's dataset is upstream of that (`up`) and its
//! sink downstream (`down`); every path between the two lies in `desc(up) ∩ anc(down)`,
//! and linking the steps there, with what their names need to resolve, gives those
//! findings exactly.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::formats::Names;

pub(super) struct Slice {
    /// Files to link.
    pub(super) linked: Vec<bool>,
    /// Files whose diagnostics (other than flow findings) the slice's run gives exactly;
    /// no other file's can change.
    pub(super) exact: Vec<bool>,
    /// Flow findings from a field of a dataset in `up` to a sink (or dataset) in `down`
    /// are given exactly; no other finding can change.
    pub(super) up: HashSet<String>,
    pub(super) down: HashSet<String>,
}

/// Who declares, writes and mentions each name, and the graph of steps, kept between
/// the runs of an editor session and updated file by file.
#[derive(Default)]
pub(super) struct Index {
    declarers: HashMap<String, Vec<u32>>,
    unique: HashMap<String, Vec<u32>>,
    writers: HashMap<String, Vec<u32>>,
    /// Files whose steps read (`from`) each name.
    readers: HashMap<String, Vec<u32>>,
    mentioners: HashMap<String, Vec<u32>>,
    succ: HashMap<String, Vec<String>>,
    pred: HashMap<String, Vec<String>>,
    /// Per name: declarations as a dataset, declarations as a sink, writes.
    kinds: HashMap<String, [u32; 3]>,
    /// The datasets a whole run has, made again only after a name came or went.
    datasets: Option<Arc<Vec<String>>>,
    /// The names declared as a dataset or sink, likewise.
    declared: Option<Arc<Vec<String>>>,
}

fn add_to(map: &mut HashMap<String, Vec<u32>>, key: &str, file: u32) {
    map.entry(key.to_string()).or_default().push(file);
}

fn remove_from(map: &mut HashMap<String, Vec<u32>>, key: &str, file: u32) {
    if let Some(list) = map.get_mut(key) {
        if let Some(i) = list.iter().position(|&f| f == file) {
            list.remove(i);
        }
        if list.is_empty() {
            map.remove(key);
        }
    }
}

fn edge(map: &mut HashMap<String, Vec<String>>, a: &str, b: &str, add: bool) {
    if add {
        map.entry(a.to_string()).or_default().push(b.to_string());
    } else if let Some(list) = map.get_mut(a) {
        if let Some(i) = list.iter().position(|x| x == b) {
            list.swap_remove(i);
        }
        if list.is_empty() {
            map.remove(a);
        }
    }
}

fn files<'m>(map: &'m HashMap<String, Vec<u32>>, name: &str) -> &'m [u32] {
    map.get(name).map_or(&[], Vec::as_slice)
}

impl Index {
    pub(super) fn new(names: &[&Names]) -> Self {
        let mut index = Index::default();
        for (i, n) in names.iter().enumerate() {
            index.apply(i as u32, n, true);
        }
        index
    }

    /// File `file`'s names changed from `before` to `after`.
    pub(super) fn replace(&mut self, file: u32, before: &Names, after: &Names) {
        let (datasets, declared) = (self.datasets.take(), self.declared.take());
        let touched: Vec<String> = [before, after]
            .iter()
            .flat_map(|n| n.declares.iter().chain(n.steps.iter().map(|(_, to)| to)))
            .cloned()
            .collect();
        let kinds_of = |ix: &Index| -> Vec<[bool; 2]> {
            let kind = |name: &String| {
                ix.kinds
                    .get(name)
                    .map(|k| [k[1] == 0, k[0] > 0 || k[1] > 0])
            };
            touched
                .iter()
                .map(|n| kind(n).unwrap_or([false; 2]))
                .collect()
        };
        let was = kinds_of(self);
        self.apply(file, before, false);
        self.apply(file, after, true);
        // The lists change only if a name joined or left one: most edits keep them.
        let now = kinds_of(self);
        let moved = |k: usize| was.iter().zip(&now).any(|(a, b)| a[k] != b[k]);
        if !moved(0) {
            self.datasets = datasets;
        }
        if !moved(1) {
            self.declared = declared;
        }
    }

    fn apply(&mut self, file: u32, n: &Names, add: bool) {
        let list = |map: &mut HashMap<String, Vec<u32>>, key: &str| match add {
            true => add_to(map, key, file),
            false => remove_from(map, key, file),
        };
        let step = if add { 1 } else { u32::MAX };
        let count = |kinds: &mut HashMap<String, [u32; 3]>, key: &str, kind: usize| {
            let entry = kinds.entry(key.to_string()).or_default();
            entry[kind] = entry[kind].wrapping_add(step);
            if *entry == [0; 3] {
                kinds.remove(key);
            }
        };
        for d in &n.declares {
            list(&mut self.declarers, d);
            let kind = if n.sinks.contains(d) { 1 } else { 0 };
            count(&mut self.kinds, d, kind);
        }
        for u in &n.unique {
            list(&mut self.unique, u);
        }
        for m in &n.mentions {
            list(&mut self.mentioners, m);
        }
        for (from, to) in &n.steps {
            list(&mut self.writers, to);
            count(&mut self.kinds, to, 2);
            for f in from {
                list(&mut self.readers, f);
            }
        }
        self.edges(n, add);
        if !n.declares.is_empty() || !n.steps.is_empty() {
            self.datasets = None;
            self.declared = None;
        }
    }

    fn edges(&mut self, n: &Names, add: bool) {
        for (from, to) in &n.steps {
            for f in from {
                edge(&mut self.succ, f, to, add);
                edge(&mut self.pred, to, f, add);
            }
        }
    }

    /// Whether a whole run would declare the same datasets this index lists: not when a
    /// name is declared both as a dataset and as a sink, nor when a pipeline's name
    /// repeats (file order then decides what is linked).
    pub(super) fn unambiguous(&self) -> bool {
        self.kinds.values().all(|k| k[0] == 0 || k[1] == 0)
            && self.unique.values().all(|files| files.len() == 1)
    }

    /// The names declared as a dataset or a sink, by any format. Sorted.
    pub(super) fn declared(&mut self) -> Arc<Vec<String>> {
        if self.declared.is_none() {
            self.declared = Some(self.names_where(|k| k[0] > 0 || k[1] > 0));
        }
        self.declared.clone().unwrap_or_default()
    }

    /// The datasets a whole run has: those declared, and those that steps write without
    /// a declaration. Sorted.
    pub(super) fn datasets(&mut self) -> Arc<Vec<String>> {
        if self.datasets.is_none() {
            self.datasets = Some(self.names_where(|k| k[1] == 0));
        }
        self.datasets.clone().unwrap_or_default()
    }

    /// The names whose counts (dataset and sink declarations, writes) satisfy `keep`.
    fn names_where(&self, keep: impl Fn(&[u32; 3]) -> bool) -> Arc<Vec<String>> {
        let mut out: Vec<String> = self
            .kinds
            .iter()
            .filter(|(_, k)| keep(k))
            .map(|(name, _)| name.clone())
            .collect();
        out.sort();
        Arc::new(out)
    }

    /// Every name reachable from `start` over steps (forward) or against them, `start`
    /// included.
    fn reach<'s>(&'s self, start: &HashSet<&'s str>, forward: bool) -> HashSet<&'s str> {
        let edges = if forward { &self.succ } else { &self.pred };
        let mut seen = start.clone();
        let mut queue: Vec<&str> = start.iter().copied().collect();
        while let Some(n) = queue.pop() {
            for m in edges.get(n).map_or(&[][..], Vec::as_slice) {
                if seen.insert(m) {
                    queue.push(m);
                }
            }
        }
        seen
    }

    /// The slice for an edit of file `edited`, whose names were `before` and are now
    /// `names[edited]`; the index already holds the new names.
    pub(super) fn slice(&mut self, names: &[&Names], edited: u32, before: &Names) -> Slice {
        // The edges the file had before count too: a path may have gone through them.
        self.edges(before, true);
        let slice = self.slice_with_old_edges(names, edited, before);
        self.edges(before, false);
        slice
    }

    fn slice_with_old_edges(&self, names: &[&Names], edited: u32, before: &Names) -> Slice {
        let after = names[edited as usize];
        // Where the edit's changes sit: paths from `starts` upstream to `ends` downstream.
        let mut starts: HashSet<&str> = HashSet::new();
        let mut ends: HashSet<&str> = HashSet::new();
        for n in [before, after] {
            for d in &n.declares {
                starts.insert(d);
                ends.insert(d);
            }
            for (from, to) in &n.steps {
                ends.insert(to);
                if self.declarers.contains_key(to.as_str()) {
                    starts.extend(from.iter().map(String::as_str));
                } else {
                    // Declared by its writers: every path into it may change.
                    starts.insert(to);
                }
            }
        }
        let up = self.reach(&starts, false);
        let down = self.reach(&ends, true);
        let between: HashSet<&str> = {
            let desc = self.reach(&up, true);
            let anc = self.reach(&down, false);
            desc.intersection(&anc).copied().collect()
        };

        let count = names.len();
        let mut exact = vec![false; count];
        exact[edited as usize] = true;
        let mark = |exact: &mut Vec<bool>, list: &[u32]| {
            for &f in list {
                exact[f as usize] = true;
            }
        };
        // Names the edit may define or stop defining: other declarations of them (one is
        // a duplicate) and column references through them resolve differently.
        let defined = [before, after]
            .into_iter()
            .flat_map(|n| n.declares.iter().chain(n.steps.iter().map(|(_, to)| to)));
        for n in defined {
            mark(&mut exact, files(&self.declarers, n));
            mark(&mut exact, files(&self.mentioners, n));
        }
        for u in before.unique.iter().chain(&after.unique) {
            mark(&mut exact, files(&self.unique, u));
        }
        // A step that starts or stops reading a name that only steps declare changes
        // whether its writers' flows end nowhere known (undeclared-destination).
        let read = [before, after]
            .into_iter()
            .flat_map(|n| n.steps.iter().flat_map(|(from, _)| from));
        for name in read.filter(|n| !self.declarers.contains_key(n.as_str())) {
            mark(&mut exact, files(&self.writers, name));
        }
        // Files with a step inside `between`: among the writers of its names only.
        for name in &between {
            for &f in files(&self.writers, name) {
                let inside = names[f as usize].steps.iter().any(|(from, to)| {
                    between.contains(to.as_str())
                        && from.iter().any(|f| between.contains(f.as_str()))
                });
                exact[f as usize] |= inside;
            }
        }
        // A name declared or removed changes what unresolved references suggest.
        let defines = |n: &'_ Names| -> HashSet<String> {
            let tos = n.steps.iter().map(|(_, to)| to);
            n.declares.iter().chain(tos).cloned().collect()
        };
        if defines(before) != defines(after) {
            let defined = |n: &str| self.kinds.contains_key(n);
            for (i, n) in names.iter().enumerate() {
                let reads = n.steps.iter().flat_map(|(from, _)| from);
                if reads.chain(&n.mentions).any(|r| !defined(r)) {
                    exact[i] = true;
                }
            }
        }

        // Everything the exact files need to resolve as in a whole run.
        let mut linked = exact.clone();
        let mut queue: Vec<u32> = (0..count as u32).filter(|&f| linked[f as usize]).collect();
        let add = |linked: &mut Vec<bool>, queue: &mut Vec<u32>, list: &[u32]| {
            for &f in list {
                if !linked[f as usize] {
                    linked[f as usize] = true;
                    queue.push(f);
                }
            }
        };
        // An exact file's step whose `to` only steps declare needs that name's readers,
        // to tell whether anything reads what it writes.
        for f in (0..count).filter(|&f| exact[f]) {
            for (_, to) in &names[f].steps {
                if !self.declarers.contains_key(to.as_str()) {
                    add(&mut linked, &mut queue, files(&self.readers, to));
                }
            }
        }
        while let Some(f) = queue.pop() {
            let n = names[f as usize];
            for d in &n.declares {
                add(&mut linked, &mut queue, files(&self.declarers, d));
            }
            for u in &n.unique {
                add(&mut linked, &mut queue, files(&self.unique, u));
            }
            let used = n
                .steps
                .iter()
                .flat_map(|(from, to)| from.iter().chain(std::iter::once(to)))
                .chain(&n.mentions);
            for name in used {
                let declarers = files(&self.declarers, name);
                if declarers.is_empty() {
                    // Declared by the steps that write it: their fields are its fields.
                    add(&mut linked, &mut queue, files(&self.writers, name));
                } else {
                    add(&mut linked, &mut queue, declarers);
                }
            }
        }
        let owned = |set: HashSet<&str>| set.into_iter().map(str::to_string).collect();
        Slice {
            linked,
            exact,
            up: owned(up),
            down: owned(down),
        }
    }
}
