//! Reading one file: its bytes (an editor buffer or the disk, within the size limit), its
//! text, then each format that claims it, with the YAML documents parsed at most once.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use super::Input;
use crate::check::Options;
use crate::diagnostic::Diag;
use crate::finding::{Check, Finding};
use crate::formats::{Formats, Layout, Piece, ReadInput, YamlCell};
use crate::source::{FileId, Loc, Pos, SourceFile, Span};

/// What the formats read from one file.
#[derive(Clone)]
pub(crate) struct FileRead {
    pub(crate) source: Arc<SourceFile>,
    /// (index in the run's formats, what that format read)
    pub(crate) pieces: Vec<(usize, Piece)>,
    pub(crate) diags: Vec<Finding>,
    pub(crate) manifests: usize,
    /// Holds `purposelint:` comments (inline suppressions).
    pub(crate) ignores: bool,
    /// Meant for a format but not valid YAML (or not UTF-8): what it declares is unknown.
    pub(crate) broken: bool,
    /// Parsed, but holds an invalid manifest: some of what it declares may be unread.
    pub(crate) invalid: bool,
}

impl FileRead {
    /// The file of a run that knows it but does not link it.
    pub(super) fn known_only(&self) -> Self {
        FileRead {
            invalid: self.invalid,
            ..FileRead::unparsed_shared(self.source.clone(), Vec::new(), self.broken)
        }
    }

    fn unparsed_shared(source: Arc<SourceFile>, diags: Vec<Finding>, broken: bool) -> Self {
        FileRead {
            source,
            pieces: Vec::new(),
            diags,
            manifests: 0,
            ignores: false,
            broken,
            invalid: false,
        }
    }

    fn unparsed(source: SourceFile, diags: Vec<Finding>, broken: bool) -> Self {
        FileRead::unparsed_shared(Arc::new(source), diags, broken)
    }
}

/// Spans are u32 byte offsets, so no file may exceed 4 GiB whatever the option says.
pub(super) fn limit(max_file_size: u64) -> u64 {
    max_file_size.min(u64::from(u32::MAX))
}

pub(super) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    // Sized from the metadata, as `std::fs::read` does: without it `read_to_end` starts
    // with small probing reads and grows the buffer, eight read calls per file.
    let size = file.metadata().map_or(0, |m| m.len()).min(limit);
    let mut bytes = Vec::with_capacity(size as usize + 1);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

fn too_large(limit: u64) -> String {
    format!(
        "file is larger than the {} limit (--max-file-size); it was not read",
        human_size(limit)
    )
}

fn human_size(n: u64) -> String {
    match n {
        n if n >= 1 << 20 && n.is_multiple_of(1 << 20) => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n.is_multiple_of(1 << 10) => format!("{} KiB", n >> 10),
        n => format!("{n}-byte"),
    }
}

fn line_one(file: FileId) -> Loc {
    let start = Pos { line: 1, column: 1 };
    Loc {
        file,
        span: Span {
            start_pos: start,
            end_pos: start,
            ..Span::default()
        },
    }
}

/// Reads one file with every format that claims it.
pub(super) fn read_file(
    id: FileId,
    input: &Input,
    opts: &Options,
    layout: &Layout,
    formats: Formats,
) -> FileRead {
    let path = input.path.clone();
    let display = input.display.clone();
    let limit = limit(opts.max_file_size);
    let given = match (&input.text, &input.bytes) {
        (Some(t), _) => Some(t.as_bytes()),
        (None, Some(b)) => Some(&b[..]),
        (None, None) => None,
    };
    let bytes = match given {
        Some(b) if b.len() as u64 > limit => Err(too_large(limit)),
        Some(b) => Ok(b.to_vec()),
        None => read_limited(&path, limit),
    };
    let claiming: Vec<usize> = (0..formats.len())
        .filter(|&i| formats[i].claims(&path, layout))
        .collect();
    let declared_by_any = |text: &str| claiming.iter().any(|&i| formats[i].declares(text));
    let mut diags = Vec::new();
    let text = match bytes {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let source = SourceFile::new(path, display, &lossy);
                if !e.as_bytes().contains(&0) && declared_by_any(&source.text) {
                    // `source` dropped any byte-order mark; offsets shift with it.
                    let bom = if lossy.starts_with('\u{feff}') { 3 } else { 0 };
                    let at = (e.utf8_error().valid_up_to() - bom) as u32;
                    let span = source.span_of_bytes(at, at);
                    let loc = Loc { file: id, span };
                    diags.push(Diag::NotUtf8.at(loc));
                }
                let broken = !diags.is_empty();
                return FileRead::unparsed(source, diags, broken);
            }
        },
        Err(message) => {
            diags.push(Diag::Skipped(message).at(line_one(id)));
            return FileRead::unparsed(SourceFile::new(path, display, ""), diags, false);
        }
    };
    let source = SourceFile::new(path, display, &text);
    drop(text);
    let yaml = YamlCell::new();
    let mut pieces = Vec::new();
    let mut manifests = 0;
    for &i in &claiming {
        let mut read = ReadInput::new(id, &source, &opts.taxonomy, &yaml, &mut diags);
        if let Some(piece) = formats[i].read(&mut read) {
            pieces.push((i, piece));
        }
        manifests += read.manifests;
    }
    let mut broken = false;
    if let Some(Err(e)) = yaml.get() {
        if declared_by_any(&source.text) {
            broken = true;
            let loc = Loc {
                file: id,
                span: e.span,
            };
            diags.push(Diag::InvalidYaml(e.message.clone()).at(loc));
        }
    }
    let invalid = diags.iter().any(|d| d.rule == Check::InvalidManifest.id());
    FileRead {
        ignores: crate::suppress::mentions_marker(&source),
        source: Arc::new(source),
        pieces,
        diags,
        manifests,
        broken,
        invalid,
    }
}
