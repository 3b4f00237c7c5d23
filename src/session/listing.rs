//! `check --show-files`: every file a run finds, which formats read it, and why each other
//! file is not linted (no format reads its kind, excluded by the configuration,
//! gitignored, not a manifest, too large).

use super::read::FileRead;
use super::{Failure, Input, Session};
use crate::discover;
use crate::finding::Check;
use crate::formats::{Layout, FORMATS};

/// One file and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLine {
    pub display: String,
    pub status: FileStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    /// Read by these formats.
    Read(Vec<&'static str>),
    /// Not linted, and why.
    Skipped(String),
}

impl Session {
    /// Discovers and reads the files of the options' paths, without linking them.
    pub fn show_files(&mut self) -> Result<Vec<FileLine>, Failure> {
        let found = discover::discover(&self.opts.paths).map_err(|e| {
            Failure::plain(format!("cannot read {}: {}", e.path.display(), e.message))
        })?;
        let ignored = discover::ignored(&self.opts.paths, &found.files);
        let all: Vec<_> = found.files.iter().chain(&ignored).cloned().collect();
        let layout = Layout::new(all, found.explicit.clone());
        let claimed = |p| FORMATS.iter().any(|f| f.claims(p, &layout));
        let config = self
            .config_file
            .as_deref()
            .map(discover::display_path)
            .unwrap_or_default();
        let mut lines = Vec::new();
        let mut inputs = Vec::new();
        for path in &found.files {
            let display = discover::display_path(path);
            let skipped = |why: &str| FileLine {
                display: display.clone(),
                status: FileStatus::Skipped(why.to_string()),
            };
            if !claimed(path) {
                lines.push(skipped("no format reads this kind of file"));
            } else if !self.opts.filter.as_ref().is_none_or(|f| f.accepts(path)) {
                lines.push(skipped(&format!("excluded by {config}")));
            } else {
                inputs.push(Input {
                    display,
                    path: path.clone(),
                    text: None,
                    bytes: None,
                });
            }
        }
        let (reads, _) = self.read_all(&inputs, &layout);
        for (input, read) in inputs.into_iter().zip(&reads) {
            lines.push(FileLine {
                display: input.display,
                status: status(read),
            });
        }
        for path in ignored.iter().filter(|p| claimed(p)) {
            lines.push(FileLine {
                display: discover::display_path(path),
                status: FileStatus::Skipped("gitignored".into()),
            });
        }
        lines.sort_by(|a, b| a.display.cmp(&b.display));
        Ok(lines)
    }
}

fn status(read: &FileRead) -> FileStatus {
    let mut formats: Vec<&'static str> = read
        .pieces
        .iter()
        .map(|(i, _)| FORMATS[*i].name())
        .collect();
    formats.dedup();
    if !formats.is_empty() {
        return FileStatus::Read(formats);
    }
    let skipped = read
        .diags
        .iter()
        .find(|d| d.rule == Check::SkippedFile.id());
    let why = match skipped {
        Some(d) => d.message.clone(),
        None if read.broken => "meant as a manifest, but not valid YAML or UTF-8".into(),
        None if read.manifests > 0 => "a manifest that cannot be read (see its diagnostics)".into(),
        None => "not a manifest".into(),
    };
    FileStatus::Skipped(why)
}
