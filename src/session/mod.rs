//! One run, for the command line and the language server alike: the configuration,
//! discovery and its filters, reading files (editor buffers before the disk), the
//! per-file cache, the rule registry, linking every format and running the rules.
//!
//! - [`settings`]: from command-line options or a workspace to the options of a run;
//! - [`read`]: one file, read once by every format that claims it;
//! - [`link`]: declare, link, rules, suppressions.

mod link;
mod read;
mod settings;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

pub(crate) use link::LinkCx;
pub use settings::{ConfigChoice, Failure, Settings};

use crate::check::{Options, Outcome};
use crate::discover::{self, Discovered};
use crate::formats::{Layout, FORMATS};
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
    found: Option<Discovered>,
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
        }
    }

    /// A session configured as `purposelint check` would be from `settings`.
    pub fn configure(settings: &Settings) -> Result<Self, Failure> {
        let (opts, config_file) = settings::options(settings)?;
        let mut s = Session::new(opts);
        s.config_file = config_file;
        Ok(s)
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
        self.opts = opts;
        self.config_file = config_file;
    }

    /// Reads `text` instead of the file at `path` (an editor's unsaved buffer).
    pub fn set_overlay(&mut self, path: PathBuf, text: Arc<str>) {
        self.overlays.insert(path, text);
    }

    pub fn remove_overlay(&mut self, path: &Path) {
        self.overlays.remove(path);
        self.disk.remove(path);
    }

    /// The file changed on disk: read it again next time.
    pub fn forget_disk(&mut self, path: &Path) {
        self.disk.remove(path);
    }

    /// Walk the paths again next time (files were added or removed).
    pub fn rediscover(&mut self) {
        self.found = None;
    }

    /// Discovers, reads and checks the files under the options' paths.
    pub fn check(&mut self) -> Result<Outcome, Failure> {
        let found = match self.found.take() {
            Some(found) => found,
            None => discover::discover(&self.opts.paths).map_err(|e| {
                Failure::plain(format!("cannot read {}: {}", e.path.display(), e.message))
            })?,
        };
        let layout = Layout::new(found.files.clone(), found.explicit.clone());
        let mut inputs = Vec::new();
        for path in &found.files {
            let claimed = FORMATS.iter().any(|f| f.claims(path, &layout));
            let included = self.opts.filter.as_ref().is_none_or(|f| f.accepts(path));
            if claimed && included {
                inputs.push(Input {
                    display: discover::display_path(path),
                    path: path.clone(),
                    text: None,
                    bytes: None,
                });
            }
        }
        // Editor buffers of claimed files not yet on disk are linted too.
        for path in self.overlays.keys() {
            let known = found.files.binary_search(path).is_ok();
            if !known && FORMATS.iter().any(|f| f.claims(path, &layout)) {
                inputs.push(Input {
                    display: discover::display_path(path),
                    path: path.clone(),
                    text: None,
                    bytes: None,
                });
            }
        }
        inputs.sort_by(|a, b| a.path.cmp(&b.path));
        let warnings = found.warnings.clone();
        self.found = Some(found);
        self.check_inputs(inputs, warnings, &layout)
    }

    /// Checks exactly these files (tests, the fuzz target, editors' own file lists).
    pub fn check_files(&mut self, inputs: Vec<Input>) -> Result<Outcome, Failure> {
        let paths: Vec<PathBuf> = inputs.iter().map(|i| i.path.clone()).collect();
        let layout = Layout::new(paths.clone(), paths);
        self.check_inputs(inputs, Vec::new(), &layout)
    }

    fn check_inputs(
        &mut self,
        mut inputs: Vec<Input>,
        warnings: Vec<String>,
        layout: &Layout,
    ) -> Result<Outcome, Failure> {
        let mut phases = Phases::start();
        if self.keep {
            for input in &mut inputs {
                if input.text.is_none() {
                    input.text = self.text_of(&input.path);
                }
            }
            // Deleted since the folders were walked.
            inputs.retain(|i| i.text.is_some() || i.bytes.is_some() || i.path.exists());
        } else {
            for input in &mut inputs {
                if let Some(t) = self.overlays.get(&input.path) {
                    input.text = Some(t.clone());
                }
            }
        }
        let reads = self.read_all(&inputs, layout);
        phases.mark("parse");
        let registry = registry(&self.opts, &reads);
        registry.check_ids(&self.opts)?;
        let access = FileAccess {
            overlays: &self.overlays,
            limit: self.opts.max_file_size,
        };
        Ok(link::link(
            &self.opts,
            &registry,
            reads,
            warnings,
            &access,
            &mut phases,
        ))
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

    fn read_all(&mut self, inputs: &[Input], layout: &Layout) -> Vec<FileRead> {
        let opts = &self.opts;
        let cache = &self.cache;
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
                    None => (read::read_file(id, input, opts, layout), true),
                }
            })
            .collect();
        if self.keep {
            let mut keep = HashMap::with_capacity(inputs.len());
            for (id, (input, (r, fresh))) in inputs.iter().zip(&reads).enumerate() {
                let Some(text) = &input.text else { continue };
                let cached = match (fresh, self.cache.remove(&input.path)) {
                    (false, Some(old)) => old,
                    _ => Cached {
                        text: text.clone(),
                        display: input.display.clone(),
                        id: id as FileId,
                        read: r.clone(),
                    },
                };
                keep.insert(input.path.clone(), cached);
            }
            self.cache = keep;
        }
        reads.into_iter().map(|(r, _)| r).collect()
    }
}

/// The configured rules and those the files define.
fn registry(opts: &Options, reads: &[FileRead]) -> Registry {
    let defined = reads.iter().flat_map(|r| {
        r.pieces
            .iter()
            .flat_map(|(format, piece)| FORMATS[*format].rules(piece, &r.source))
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
