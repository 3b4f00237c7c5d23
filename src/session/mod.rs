//! One run, for the command line and the language server alike: the configuration,
//! discovery and its filters, reading files (editor buffers before the disk), the
//! per-file cache, the rule registry, linking every format and running the rules.
//!
//! - [`settings`]: from command-line options or a workspace to the options of a run;
//! - [`read`]: one file, read once by every format that claims it;
//! - [`link`]: declare, link, rules, suppressions.

mod link;
mod listing;
mod read;
mod settings;
mod slice;
mod unread;
mod view;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

pub(crate) use link::LinkCx;
pub use listing::{FileLine, FileStatus};
pub use settings::{load_config, ConfigChoice, Failure, Settings};
pub use view::View;

use crate::check::{Options, Outcome};
use crate::discover::{self, Discovered};
use crate::formats::{Formats, Layout, Names, FORMATS};
use crate::rules::Registry;
use crate::source::FileId;
use crate::timings::Phases;
use read::FileRead;

/// A file of a run and where its text comes from.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub display: String,
    /// The text when the caller holds it (an editor buffer, a test); `None` reads the disk.
    pub text: Option<Arc<str>>,
    /// Raw contents, which need not be UTF-8 (the fuzz target), when `text` is `None`.
    pub bytes: Option<Arc<[u8]>>,
}

impl Input {
    /// A file to read from disk, shown by its path relative to the working directory
    /// `cwd` (asked once for all of a run's files: it is a system call).
    fn from_disk(cwd: Option<&Path>, path: PathBuf) -> Self {
        Input {
            display: discover::display_path_in(cwd, &path),
            path,
            text: None,
            bytes: None,
        }
    }
}

/// A file read in an earlier run, valid while its text and place in the run are unchanged.
struct Cached {
    text: Arc<str>,
    display: String,
    id: FileId,
    read: FileRead,
}

/// The state of one workspace between runs.
pub struct Session {
    opts: Options,
    /// The configuration file the options came from, if any.
    config_file: Option<PathBuf>,
    /// Editor buffers, read instead of the disk.
    overlays: HashMap<PathBuf, Arc<str>>,
    /// Texts read from disk by an editor session, until the file changes.
    disk: HashMap<PathBuf, Arc<str>>,
    cache: HashMap<PathBuf, Cached>,
    /// Keep what was read for the next run (editors); the command line reads once.
    keep: bool,
    /// What discovery found, until it is run again.
    found: Option<Found>,
    /// Files whose text may have changed since the last editor run (buffers set or
    /// closed, files changed on disk): the next run reads only these again.
    dirty: HashSet<PathBuf>,
    /// The last editor run, for the next: see [`Session::check_view`].
    last: Option<Last>,
    formats: Formats,
}

/// What discovery found, the inputs claimed among it and the layout of the files.
struct Found {
    discovered: Discovered,
    claimed: Vec<Input>,
    layout: Arc<Layout>,
}

/// The inputs of a run, discovery's warnings and the layout of what it found.
type RunFiles = (Vec<Input>, Vec<String>, Arc<Layout>);

/// What an editor run leaves for the next one.
struct Last {
    /// The run's files, by [`FileId`], with their texts; sorted by path.
    inputs: Vec<Input>,
    reads: Vec<FileRead>,
    names: Vec<Option<Arc<Names>>>,
    /// The names' index, when every file says its names.
    index: Option<slice::Index>,
    view: Arc<View>,
    /// The configuration's names the files do not declare (what `check` exits 2 with).
    unknown_names: Option<Failure>,
}

impl Session {
    /// A session over `opts` as they are (tests, benches, the fuzz target).
    pub fn new(opts: Options) -> Self {
        Session {
            opts,
            config_file: None,
            overlays: HashMap::new(),
            disk: HashMap::new(),
            cache: HashMap::new(),
            keep: false,
            found: None,
            dirty: HashSet::new(),
            last: None,
            formats: FORMATS,
        }
    }

    /// A session configured as `purposelint check` would be from `settings`.
    pub fn configure(settings: &Settings) -> Result<Self, Failure> {
        let (opts, config_file) = settings::options(settings)?;
        let mut s = Session::new(opts);
        s.config_file = config_file;
        Ok(s)
    }

    /// A session whose runs read these formats instead of the registered ones (tests of
    /// the `Format` seam).
    #[cfg(test)]
    pub(crate) fn with_formats(mut self, formats: Formats) -> Self {
        self.formats = formats;
        self
    }

    /// Keeps what each run read, so that the next run re-reads only what changed.
    pub fn keep_between_runs(mut self) -> Self {
        self.keep = true;
        self
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    /// Replaces the options (a reloaded configuration). What was read depends on them
    /// (the taxonomy, the size limit), so everything is read again next time.
    pub fn set_options(&mut self, opts: Options, config_file: Option<PathBuf>) {
        self.cache.clear();
        self.found = None;
        self.last = None;
        self.opts = opts;
        self.config_file = config_file;
    }

    /// Reads `text` instead of the file at `path` (an editor's unsaved buffer).
    pub fn set_overlay(&mut self, path: PathBuf, text: Arc<str>) {
        self.dirty.insert(path.clone());
        self.overlays.insert(path, text);
    }

    pub fn remove_overlay(&mut self, path: &Path) {
        self.overlays.remove(path);
        self.disk.remove(path);
        self.dirty.insert(path.to_path_buf());
    }

    /// The file changed on disk: read it again next time (and walk the paths again if it
    /// says what the walk ignores).
    pub fn forget_disk(&mut self, path: &Path) {
        self.disk.remove(path);
        self.dirty.insert(path.to_path_buf());
        if is_ignore_file(path) {
            self.found = None;
        }
    }

    /// Walk the paths again next time (files were added or removed).
    pub fn rediscover(&mut self) {
        self.found = None;
    }

    /// A file or folder was created or deleted at `path` (an editor's file watcher): read
    /// it again, and walk the paths again if that can change the files of a run.
    pub fn created_or_deleted(&mut self, path: &Path) {
        self.forget_disk(path);
        let Some(found) = &self.found else { return };
        let files = &found.discovered.files;
        // The first found file at or under `path`: a file of the walk, or a folder of some.
        let at = files.partition_point(|f| f.as_path() < path);
        let known = files.get(at).is_some_and(|f| f.starts_with(path));
        let claimed = || self.formats.iter().any(|f| f.claims(path, &found.layout));
        if known || path.is_dir() || claimed() {
            self.found = None;
        }
    }

    /// Discovers, reads and checks the files under the options' paths.
    pub fn check(&mut self) -> Result<Outcome, Failure> {
        let mut phases = Phases::start();
        let (inputs, warnings, layout) = self.inputs()?;
        phases.mark("discover");
        let mut outcome = self.check_inputs(inputs, warnings, &layout)?;
        // An editor's workspace may hold nothing yet; a command line must not pass empty.
        if !self.keep {
            let mut phases = Phases::start();
            link::warn_if_nothing_to_lint(&self.opts, &mut outcome);
            if let Some(found) = &self.found {
                let config = self.config_file.as_deref();
                let found = &found.discovered;
                unread::point_at_unread_files(&self.opts, found, config, &mut outcome);
            }
            phases.mark("unread files");
        }
        Ok(outcome)
    }

    /// Like [`Session::check`], for an editor: after the first run, an edit of one file
    /// links again only what it can affect, and the view keeps the rest. Results are
    /// those of a whole run (a test holds the two to the same output).
    pub fn check_view(&mut self) -> Result<Arc<View>, Failure> {
        let mut phases = Phases::start();
        let mut last = self.last.take();
        let reread = last.as_mut().and_then(|l| self.reread(l));
        let (inputs, reads, fresh, warnings) = match (reread, last.as_mut()) {
            (Some(fresh), Some(l)) => {
                let found = self.found.as_ref().map(|f| &f.discovered.warnings);
                let warnings = found.cloned().unwrap_or_default();
                let inputs = std::mem::take(&mut l.inputs);
                (inputs, std::mem::take(&mut l.reads), fresh, warnings)
            }
            _ => {
                self.dirty.clear();
                let (inputs, warnings, layout) = self.inputs()?;
                let inputs = self.with_texts(inputs);
                let (reads, fresh) = self.read_all(&inputs, &layout);
                let same = |l: &Last| {
                    l.inputs.len() == inputs.len()
                        && l.inputs.iter().zip(&inputs).all(|(a, b)| a.path == b.path)
                };
                last = last.filter(same);
                (inputs, reads, fresh, warnings)
            }
        };
        phases.mark("parse");
        let registry = registry(&self.opts, &reads, self.formats);
        registry.check_ids(&self.opts)?;
        let names: Vec<Option<Arc<Names>>> = match &last {
            Some(l) => reads
                .iter()
                .zip(&fresh)
                .zip(&l.names)
                .map(|((r, &fresh), old)| {
                    if fresh {
                        names_of(r, self.formats)
                    } else {
                        old.clone()
                    }
                })
                .collect(),
            None => reads.iter().map(|r| names_of(r, self.formats)).collect(),
        };
        let changed: Vec<usize> = (0..reads.len()).filter(|&i| fresh[i]).collect();
        let access = FileAccess {
            overlays: &self.overlays,
            limit: self.opts.max_file_size,
        };
        let run = link::Run {
            opts: &self.opts,
            registry: &registry,
            files: &access,
            formats: self.formats,
        };
        let all: Option<Vec<&Names>> = names.iter().map(|n| n.as_deref()).collect();
        let mut index: Option<slice::Index> = None;
        let mut partial: Option<Arc<View>> = None;
        let mut unknown_names = None;
        if let (Some(l), Some(all)) = (last.as_mut(), &all) {
            match changed.as_slice() {
                [] => {
                    index = l.index.take();
                    partial = Some(l.view.clone());
                    unknown_names = l.unknown_names.take();
                }
                &[e] => {
                    let before = l.names[e].clone();
                    let mut ix = match l.index.take() {
                        Some(mut ix) => {
                            if let Some(b) = &before {
                                ix.replace(e as u32, b, all[e]);
                            }
                            ix
                        }
                        None => slice::Index::new(all),
                    };
                    // References into a file no parser accepts name it by its text
                    // (root causes): an edit of one links the whole workspace.
                    let broken = all[e].broken || before.as_ref().is_some_and(|b| b.broken);
                    if incremental(&self.opts, &names, &before) && ix.unambiguous() && !broken {
                        let before = before.as_deref().unwrap_or(all[e]);
                        let slice = ix.slice(all, e as u32, before);
                        let count = |v: &[bool]| v.iter().filter(|&&b| b).count();
                        phases.mark(&format!(
                            "slice: {} files linked, {} exact",
                            count(&slice.linked),
                            count(&slice.exact)
                        ));
                        let part = link::Part {
                            linked: &slice.linked,
                            datasets: ix.datasets(),
                            declared: ix.declared(),
                        };
                        // Files outside the slice are only known, not linked.
                        let part_reads = reads
                            .iter()
                            .zip(&slice.linked)
                            .map(|(r, &linked)| match linked {
                                true => r.clone(),
                                false => r.known_only(),
                            })
                            .collect();
                        let outcome =
                            link::link(&run, part_reads, warnings.clone(), &mut phases, Some(part));
                        partial = Some(Arc::new(l.view.updated(outcome, &slice)));
                    }
                    index = Some(ix);
                }
                _ => {}
            }
        }
        let view = match partial {
            Some(v) => v,
            None => {
                let outcome = link::link(&run, reads.clone(), warnings, &mut phases, None);
                unknown_names =
                    crate::formats::activation::check_names(&self.opts, &outcome.model).err();
                // Ready for the next edit, while the user reads this run's results.
                if index.is_none() {
                    index = all.as_ref().map(|all| slice::Index::new(all));
                }
                Arc::new(View::of(outcome))
            }
        };
        self.last = Some(Last {
            inputs,
            reads,
            names,
            index,
            view: view.clone(),
            unknown_names: unknown_names.clone(),
        });
        match unknown_names {
            Some(failure) => Err(failure),
            None => Ok(view),
        }
    }

    /// Checks exactly these files (tests, the fuzz target, editors' own file lists).
    pub fn check_files(&mut self, inputs: Vec<Input>) -> Result<Outcome, Failure> {
        let paths: Vec<PathBuf> = inputs.iter().map(|i| i.path.clone()).collect();
        let layout = Layout::new(paths.clone(), paths);
        self.check_inputs(inputs, Vec::new(), &layout)
    }

    /// Brings the last editor run's files up to date when only the texts of some may have
    /// changed: reads again those whose text did, and says which were read. `None` when
    /// the run's files may be others (the folders are to be walked again, a buffer of a
    /// file the run does not have, a file that can no longer be read): a run over what
    /// discovery finds then decides.
    fn reread(&mut self, last: &mut Last) -> Option<Vec<bool>> {
        let layout = self.found.as_ref()?.layout.clone();
        if !self.keep {
            return None;
        }
        let mut changes = Vec::new();
        for path in std::mem::take(&mut self.dirty) {
            match last.inputs.binary_search_by(|i| i.path.cmp(&path)) {
                Ok(i) => changes.push((i, self.text_of(&path)?)),
                // A file the formats claim, new or gone since the walk, may join the run.
                Err(_) if self.formats.iter().any(|f| f.claims(&path, &layout)) => return None,
                // Not a file of the run, and never one (a README opened in the editor).
                Err(_) => {}
            }
        }
        let mut fresh = vec![false; last.inputs.len()];
        for (i, text) in changes {
            let input = &mut last.inputs[i];
            let same = input
                .text
                .as_ref()
                .is_some_and(|t| Arc::ptr_eq(t, &text) || **t == *text);
            if same {
                continue;
            }
            input.text = Some(text.clone());
            let read = read::read_file(i as FileId, input, &self.opts, &layout, self.formats);
            let cached = Cached {
                text,
                display: input.display.clone(),
                id: i as FileId,
                read: read.clone(),
            };
            self.cache.insert(input.path.clone(), cached);
            last.reads[i] = read;
            fresh[i] = true;
        }
        Some(fresh)
    }

    /// The files of a run, claimed by some format and accepted by the filters.
    fn inputs(&mut self) -> Result<RunFiles, Failure> {
        // A command line's session hands its inputs to the run (below): it walks again.
        let found = self.found.take().filter(|_| self.keep);
        let cwd = std::env::current_dir().ok();
        let mut found = match found {
            Some(found) => found,
            None => {
                let found = discover::discover(&self.opts.paths).map_err(|e| {
                    Failure::plain(format!("cannot read {}: {}", e.path.display(), e.message))
                })?;
                let layout = Layout::new(found.files.clone(), found.explicit.clone());
                let claimed = found
                    .files
                    .iter()
                    .filter(|path| {
                        self.formats.iter().any(|f| f.claims(path, &layout))
                            && self.opts.filter.as_ref().is_none_or(|f| f.accepts(path))
                    })
                    .map(|path| Input::from_disk(cwd.as_deref(), path.clone()))
                    .collect();
                // The last editor run's files are not those found now.
                self.last = None;
                Found {
                    discovered: found,
                    claimed,
                    layout: Arc::new(layout),
                }
            }
        };
        let layout = found.layout.clone();
        // A command line runs once: its inputs need no copy for the next run.
        let mut inputs = match self.keep {
            true => found.claimed.clone(),
            false => std::mem::take(&mut found.claimed),
        };
        // Editor buffers of claimed files not yet on disk are linted too.
        for path in self.overlays.keys() {
            let known = found.discovered.files.binary_search(path).is_ok();
            if !known && self.formats.iter().any(|f| f.claims(path, &layout)) {
                inputs.push(Input::from_disk(cwd.as_deref(), path.clone()));
            }
        }
        inputs.sort_by(|a, b| a.path.cmp(&b.path));
        let warnings = found.discovered.warnings.clone();
        self.found = Some(found);
        Ok((inputs, warnings, layout))
    }

    /// The inputs with their texts: editor buffers, and in an editor session what was
    /// read from disk before; files deleted since the folders were walked are dropped.
    fn with_texts(&mut self, mut inputs: Vec<Input>) -> Vec<Input> {
        if self.keep {
            for input in &mut inputs {
                if input.text.is_none() {
                    input.text = self.text_of(&input.path);
                }
            }
            inputs.retain(|i| i.text.is_some() || i.bytes.is_some() || i.path.exists());
        } else {
            for input in &mut inputs {
                if let Some(t) = self.overlays.get(&input.path) {
                    input.text = Some(t.clone());
                }
            }
        }
        inputs
    }

    fn check_inputs(
        &mut self,
        inputs: Vec<Input>,
        warnings: Vec<String>,
        layout: &Layout,
    ) -> Result<Outcome, Failure> {
        let mut phases = Phases::start();
        let inputs = self.with_texts(inputs);
        let (reads, _) = self.read_all(&inputs, layout);
        phases.mark("parse");
        let registry = registry(&self.opts, &reads, self.formats);
        registry.check_ids(&self.opts)?;
        let access = FileAccess {
            overlays: &self.overlays,
            limit: self.opts.max_file_size,
        };
        let run = link::Run {
            opts: &self.opts,
            registry: &registry,
            files: &access,
            formats: self.formats,
        };
        let outcome = link::link(&run, reads, warnings, &mut phases, None);
        crate::formats::activation::check_names(&self.opts, &outcome.model)?;
        Ok(outcome)
    }

    /// The text of a file for an editor session: its buffer, else the disk (kept).
    fn text_of(&mut self, path: &Path) -> Option<Arc<str>> {
        if let Some(t) = self.overlays.get(path) {
            return Some(t.clone());
        }
        if let Some(t) = self.disk.get(path) {
            return Some(t.clone());
        }
        let limit = read::limit(self.opts.max_file_size);
        let bytes = read::read_limited(path, limit).ok()?;
        let text: Arc<str> = Arc::from(String::from_utf8(bytes).ok()?);
        self.disk.insert(path.to_path_buf(), text.clone());
        Some(text)
    }

    /// Reads every input, from the cache when its text did not change; also says which
    /// were read afresh.
    fn read_all(&mut self, inputs: &[Input], layout: &Layout) -> (Vec<FileRead>, Vec<bool>) {
        let opts = &self.opts;
        let cache = &self.cache;
        let formats = self.formats;
        let reads: Vec<(FileRead, bool)> = inputs
            .par_iter()
            .enumerate()
            .map(|(id, input)| {
                let id = id as FileId;
                let hit = input.text.as_ref().and_then(|text| {
                    let c = cache.get(&input.path)?;
                    let same = c.id == id
                        && c.display == input.display
                        && (Arc::ptr_eq(&c.text, text) || *c.text == **text);
                    same.then(|| c.read.clone())
                });
                match hit {
                    Some(r) => (r, false),
                    None => (read::read_file(id, input, opts, layout, formats), true),
                }
            })
            .collect();
        if self.keep {
            for (id, (input, (r, fresh))) in inputs.iter().zip(&reads).enumerate() {
                let Some(text) = &input.text else { continue };
                if *fresh {
                    let cached = Cached {
                        text: text.clone(),
                        display: input.display.clone(),
                        id: id as FileId,
                        read: r.clone(),
                    };
                    self.cache.insert(input.path.clone(), cached);
                }
            }
            if self.cache.len() > inputs.len() {
                let now: std::collections::HashSet<&Path> =
                    inputs.iter().map(|i| i.path.as_path()).collect();
                self.cache.retain(|p, _| now.contains(p.as_path()));
            }
        }
        reads.into_iter().unzip()
    }
}

/// A file that says what discovery skips (see [`discover::discover`]).
fn is_ignore_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str());
    matches!(name, Some(".gitignore" | ".ignore")) || path.ends_with(".git/info/exclude")
}

/// The names a file gives, if every format that read something from it says them.
fn names_of(read: &FileRead, formats: Formats) -> Option<Arc<Names>> {
    let mut all = Names::default();
    for (format, piece) in &read.pieces {
        let n = formats[*format].names(piece)?;
        all.declares.extend(n.declares);
        all.sinks.extend(n.sinks);
        all.unique.extend(n.unique);
        all.steps.extend(n.steps);
        all.mentions.extend(n.mentions);
        all.exceptions |= n.exceptions;
    }
    all.exceptions |= read.ignores;
    // An invalid manifest may declare names its reader dropped: root causes need a whole run.
    all.broken = read.broken || read.invalid;
    Some(Arc::new(all))
}

/// Whether an edit can be linked in part: every file says its names, none holds
/// reviewed exceptions or ignore comments (whose use depends on every path), no dataset
/// is made from the configuration's `external_datasets`, and the configuration names no
/// relation or destination that every file's declarations must be checked against.
fn incremental(opts: &Options, names: &[Option<Arc<Names>>], before: &Option<Arc<Names>>) -> bool {
    let plain = |n: &Option<Arc<Names>>| n.as_ref().is_some_and(|n| !n.exceptions);
    opts.external_datasets.is_empty()
        && opts.activation.named.is_empty()
        && plain(before)
        && names.iter().all(plain)
}

/// The configured rules and those the files define.
fn registry(opts: &Options, reads: &[FileRead], formats: Formats) -> Registry {
    let defined = reads.iter().flat_map(|r| {
        r.pieces
            .iter()
            .flat_map(|(format, piece)| formats[*format].rules(piece, &r.source))
    });
    Registry::new(opts.rules.clone(), defined.collect())
}

/// Reading files while linking, through the session: editor buffers first, then the disk.
pub(crate) struct FileAccess<'a> {
    overlays: &'a HashMap<PathBuf, Arc<str>>,
    limit: u64,
}

impl FileAccess<'_> {
    /// The text of `path`, or `None` when it cannot be read.
    pub(crate) fn read(&self, path: &Path) -> Option<Arc<str>> {
        if let Some(t) = self.overlays.get(path) {
            return Some(t.clone());
        }
        let bytes = read::read_limited(path, read::limit(self.limit)).ok()?;
        String::from_utf8(bytes).ok().map(Arc::from)
    }
}
