//! Input formats, each behind the one [`Format`] trait. A format claims files, reads each
//! claimed file on its own (in parallel) into pieces of its own type, declares its
//! datasets, fields and sinks, and links its references and flows once every format has
//! declared, so that one namespace spans all of them (spec §3.1).
//!
//! A new format is a folder of its own and one line in [`FORMATS`].

pub(crate) mod activation;
pub(crate) mod dbt;
pub(crate) mod fides;
pub(crate) mod native;

use std::any::Any;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::decode::Decoder;
use crate::finding::Finding;
use crate::rules::Rule;
use crate::session::LinkCx;
use crate::source::{FileId, SourceFile};
use crate::taxonomy::Taxonomy;
use crate::yaml;

/// Every format of a run, in link order: a format may read the fields that the formats
/// before it derived while linking (native steps read dbt models' columns).
pub(crate) static FORMATS: Formats = &[
    &fides::Fides,
    &dbt::Dbt,
    &native::Native,
    &activation::Activation,
];

/// The formats of a run, in link order.
pub(crate) type Formats = &'static [&'static dyn AnyFormat];

/// One input family.
pub(crate) trait Format: Send + Sync + 'static {
    /// What one file gives this format. Kept between editor runs for unchanged files.
    type File: Clone + Send + Sync + 'static;
    /// What [`Format::declare`] hands to [`Format::link`].
    type Declared: 'static;

    /// A short name for listings (`--show-files`).
    fn name(&self) -> &'static str;

    /// Whether this format reads `path`, one of the files discovery found.
    fn claims(&self, path: &Path, layout: &Layout) -> bool;

    /// Reads one claimed file; `None` when it holds nothing of this format. Runs in
    /// parallel with the other files; reports problems through `input.decoder()`.
    fn read(&self, input: &mut ReadInput<'_>) -> Option<Self::File>;

    /// For a claimed file that is not valid YAML (or not UTF-8): whether its text shows it
    /// was meant for this format, so that the error is reported instead of skipped.
    fn declares(&self, _text: &str) -> bool {
        false
    }

    /// Rules that the file defines (Fides policies), known before anything is linked.
    fn rules(&self, _file: &Self::File, _source: &SourceFile) -> Vec<Rule> {
        Vec::new()
    }

    /// The names the file declares and refers to, so that an editor session can re-link
    /// only what an edit can affect. `None` (the default): the format does not say, and
    /// a run that holds such a file is always linked whole.
    fn names(&self, _file: &Self::File) -> Option<Names> {
        None
    }

    /// Adds the datasets (with their declared fields) and sinks of these files, in file
    /// order. Every format declares before any format links.
    fn declare(&self, files: Vec<(FileId, Self::File)>, cx: &mut LinkCx<'_>) -> Self::Declared;

    /// Resolves references and adds flows.
    fn link(&self, declared: Self::Declared, cx: &mut LinkCx<'_>);
}

/// The names one file declares and refers to (see [`Format::names`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Names {
    /// Datasets and sinks declared.
    pub(crate) declares: Vec<String>,
    /// Those of `declares` that are sinks.
    pub(crate) sinks: Vec<String>,
    /// Other names whose definitions must be unique across files (pipelines).
    pub(crate) unique: Vec<String>,
    /// Each step: the names it reads and the name it writes.
    pub(crate) steps: Vec<(Vec<String>, String)>,
    /// Names mentioned otherwise (dataset prefixes of column references).
    pub(crate) mentions: Vec<String>,
    /// Holds reviewed exceptions (`allow` entries), whose use depends on every path.
    pub(crate) exceptions: bool,
    /// Meant for a format but not parsed: its names are only in its text.
    pub(crate) broken: bool,
}

/// What one format read from one file, shared between runs of an editor session.
pub(crate) type Piece = Arc<dyn Any + Send + Sync>;

/// [`Format`] without its types, so that formats can sit in one list.
pub(crate) trait AnyFormat: Send + Sync {
    fn name(&self) -> &'static str;
    fn claims(&self, path: &Path, layout: &Layout) -> bool;
    fn read(&self, input: &mut ReadInput<'_>) -> Option<Piece>;
    fn declares(&self, text: &str) -> bool;
    fn rules(&self, piece: &Piece, source: &SourceFile) -> Vec<Rule>;
    fn names(&self, piece: &Piece) -> Option<Names>;
    fn declare(&self, files: Vec<(FileId, Piece)>, cx: &mut LinkCx<'_>) -> Box<dyn Any>;
    fn link(&self, declared: Box<dyn Any>, cx: &mut LinkCx<'_>);
}

fn downcast<T: Clone + Send + Sync + 'static>(piece: Piece) -> T {
    match piece.downcast::<T>() {
        // Only this format made pieces of this type; a cached piece is cloned, a fresh
        // one (every piece of a command-line run) is moved.
        Ok(arc) => Arc::try_unwrap(arc).unwrap_or_else(|shared| (*shared).clone()),
        Err(_) => unreachable!("a piece read by another format"),
    }
}

impl<F: Format> AnyFormat for F {
    fn name(&self) -> &'static str {
        Format::name(self)
    }

    fn claims(&self, path: &Path, layout: &Layout) -> bool {
        Format::claims(self, path, layout)
    }

    fn read(&self, input: &mut ReadInput<'_>) -> Option<Piece> {
        Format::read(self, input).map(|f| Arc::new(f) as Piece)
    }

    fn declares(&self, text: &str) -> bool {
        Format::declares(self, text)
    }

    fn rules(&self, piece: &Piece, source: &SourceFile) -> Vec<Rule> {
        match piece.downcast_ref::<F::File>() {
            Some(file) => Format::rules(self, file, source),
            None => Vec::new(),
        }
    }

    fn names(&self, piece: &Piece) -> Option<Names> {
        Format::names(self, piece.downcast_ref::<F::File>()?)
    }

    fn declare(&self, files: Vec<(FileId, Piece)>, cx: &mut LinkCx<'_>) -> Box<dyn Any> {
        let files = files
            .into_iter()
            .map(|(id, piece)| (id, downcast::<F::File>(piece)))
            .collect();
        Box::new(Format::declare(self, files, cx))
    }

    fn link(&self, declared: Box<dyn Any>, cx: &mut LinkCx<'_>) {
        if let Ok(declared) = declared.downcast::<F::Declared>() {
            Format::link(self, *declared, cx);
        }
    }
}

/// The files a run found, for formats whose claim depends on other files (dbt reads SQL
/// only inside a project).
pub(crate) struct Layout {
    files: Vec<PathBuf>,
    /// Named on the command line: read whatever their extension. Sorted.
    explicit: Vec<PathBuf>,
    /// The files of each name asked for.
    by_name: Mutex<HashMap<String, Arc<[PathBuf]>>>,
}

impl Layout {
    pub(crate) fn new(files: Vec<PathBuf>, mut explicit: Vec<PathBuf>) -> Self {
        explicit.sort();
        Layout {
            files,
            explicit,
            by_name: Mutex::default(),
        }
    }

    /// The found files whose name is `name`, in the order found.
    pub(crate) fn named(&self, name: &str) -> Arc<[PathBuf]> {
        // Asked once per file for one or two names: each name's files are found by one
        // scan, on first use.
        let mut by_name = self.by_name.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(files) = by_name.get(name) {
            return Arc::clone(files);
        }
        let files: Arc<[PathBuf]> = (self.files.iter())
            .filter(|p| p.file_name().is_some_and(|n| n == name))
            .cloned()
            .collect();
        by_name.insert(name.to_string(), Arc::clone(&files));
        files
    }

    pub(crate) fn is_explicit(&self, path: &Path) -> bool {
        self.explicit
            .binary_search_by(|p| p.as_path().cmp(path))
            .is_ok()
    }
}

/// `*.yaml` and `*.yml`.
pub(crate) fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// A file's YAML documents, parsed on first use.
pub(crate) type YamlCell = OnceLock<Result<yaml::Yaml, yaml::YamlError>>;

/// One file being read, with its YAML documents parsed once for every format that asks.
pub(crate) struct ReadInput<'a> {
    pub(crate) file: FileId,
    pub(crate) source: &'a SourceFile,
    pub(crate) taxonomy: &'a Taxonomy,
    yaml: &'a YamlCell,
    diags: &'a mut Vec<Finding>,
    /// Manifest documents (or resources) read, for the summary.
    pub(crate) manifests: usize,
}

impl<'a> ReadInput<'a> {
    pub(crate) fn new(
        file: FileId,
        source: &'a SourceFile,
        taxonomy: &'a Taxonomy,
        yaml: &'a YamlCell,
        diags: &'a mut Vec<Finding>,
    ) -> Self {
        ReadInput {
            file,
            source,
            taxonomy,
            yaml,
            diags,
            manifests: 0,
        }
    }

    /// The file's YAML documents; an error is reported once by the session, for the
    /// formats whose [`Format::declares`] recognises the text.
    pub(crate) fn yaml(&self) -> Result<&'a yaml::Yaml, &'a yaml::YamlError> {
        self.yaml.get_or_init(|| yaml::parse(self.source)).as_ref()
    }

    pub(crate) fn decoder(&mut self) -> Decoder<'_> {
        Decoder {
            file: self.file,
            diags: self.diags,
        }
    }
}

/// The claim of the YAML formats: YAML files, and files named on the command line that
/// no other format reads by extension.
pub(crate) fn yaml_claim(path: &Path, layout: &Layout) -> bool {
    is_yaml(path)
        || (layout.is_explicit(path)
            && !dbt::is_dbt_resource(path)
            && !activation::is_terraform(path))
}

/// Whether a line of `text` starts (at column 0) with one of `keys` as a mapping key, or a
/// document is a flow mapping: a cheap test before parsing a file for a format whose
/// documents are mappings with one of these keys at the top.
pub(crate) fn top_level_key_in(text: &str, keys: &[&str]) -> bool {
    // Run on every YAML file by every such format: the first byte of a line rules out
    // most lines (indented ones, other keys) before any key is compared.
    let bytes = text.as_bytes();
    let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
    starts
        .map(|at| &bytes[at..])
        .any(|line| match line.first() {
            Some(b'{') => true,
            Some(&b) if b == b'"' || b == b'\'' || keys.iter().any(|k| k.as_bytes()[0] == b) => {
                key_starts(line, keys)
            }
            _ => false,
        })
}

/// Whether `line` (and what follows it) starts with one of `keys`, perhaps quoted, and
/// its `:`.
fn key_starts(line: &[u8], keys: &[&str]) -> bool {
    let line = strip_quote(line);
    keys.iter().any(|k| {
        line.strip_prefix(k.as_bytes()).is_some_and(|rest| {
            let rest = strip_quote(rest);
            let blank = rest
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            rest.get(blank) == Some(&b':')
        })
    })
}

/// The seam a new format plugs into: the whole of a format that claims `*.example`
/// files, each line of which (`sink NAME USE`) declares a sink. Registering it is one
/// line in the list of formats, as in [`FORMATS`].
#[cfg(test)]
mod example_format {
    use std::path::Path;

    use super::{Format, Layout, ReadInput};
    use crate::model::Named;
    use crate::session::LinkCx;
    use crate::source::{FileId, Loc};

    struct Example;

    impl Format for Example {
        /// `(name, use, byte offset of the name)` per line.
        type File = Vec<(String, String, u32)>;
        type Declared = ();

        fn name(&self) -> &'static str {
            "example"
        }

        fn claims(&self, path: &Path, _: &Layout) -> bool {
            path.extension().is_some_and(|e| e == "example")
        }

        fn read(&self, input: &mut ReadInput<'_>) -> Option<Self::File> {
            let mut at = 0;
            let mut sinks = Vec::new();
            for line in input.source.text.split_inclusive('\n') {
                let words: Vec<&str> = line.split_whitespace().collect();
                if let ["sink", name, uses] = words[..] {
                    let offset = at + line.find(name).unwrap_or(0) as u32;
                    sinks.push((name.to_string(), uses.to_string(), offset));
                }
                at += line.len() as u32;
            }
            input.manifests += sinks.len();
            Some(sinks)
        }

        fn declare(&self, files: Vec<(FileId, Self::File)>, cx: &mut LinkCx<'_>) {
            for (file, sinks) in files {
                for (name, uses, offset) in sinks {
                    let source = cx.model.sources.get(file);
                    let span = source.span_of_bytes(offset, offset + name.len() as u32);
                    let _ = cx.model.add_sink(name, vec![uses], Loc { file, span });
                }
            }
        }

        fn link(&self, _: (), _: &mut LinkCx<'_>) {}
    }

    static WITH_EXAMPLE: super::Formats = &[
        &super::fides::Fides,
        &super::dbt::Dbt,
        &super::native::Native,
        &Example, // the one registration line
    ];

    #[test]
    fn a_new_format_needs_its_module_and_one_registration_line() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            "ads.example",
            "sink ad_audiences marketing.advertising.third_party.targeted\n",
        );
        write(
            "contacts.yaml",
            "kind: dataset\nname: contacts\npurposes: [essential.service.security]\nfields:\n  - name: phone\n",
        );
        write(
            "export.yaml",
            "kind: pipeline\nname: export\nsteps:\n  - name: upload\n    from: contacts\n    to: ad_audiences\n",
        );
        let opts = crate::check::Options::new(vec![dir.path().to_path_buf()]);
        let outcome = crate::session::Session::new(opts)
            .with_formats(WITH_EXAMPLE)
            .check()
            .unwrap();
        assert!(matches!(
            outcome.model.lookup("ad_audiences"),
            Some(Named::Sink(_))
        ));
        let rules: Vec<&str> = outcome.findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, ["security-to-advertising"]);
        let sink = &outcome.findings[0].flow.as_ref().unwrap().sink;
        let file = &outcome.model.sources.get(sink.location.file).path;
        assert!(file.ends_with("ads.example"));
        assert_eq!(sink.location.span.start_pos.column, 6);
        // Without its registration line, the file is not read, and the step's `to` names
        // nothing any format declares.
        let opts = crate::check::Options::new(vec![dir.path().to_path_buf()]);
        let outcome = crate::session::Session::new(opts).check().unwrap();
        assert!(matches!(
            outcome.model.lookup("ad_audiences"),
            Some(Named::Dataset(_))
        ));
    }
}

fn strip_quote(s: &[u8]) -> &[u8] {
    match s.first() {
        Some(b'"' | b'\'') => &s[1..],
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test as first written, line by line on `str`.
    fn by_lines(text: &str, keys: &[&str]) -> bool {
        text.lines().any(|line| {
            if line.starts_with('{') {
                return true;
            }
            let line = line
                .strip_prefix('"')
                .or_else(|| line.strip_prefix('\''))
                .unwrap_or(line);
            keys.iter().any(|k| {
                line.strip_prefix(k).is_some_and(|rest| {
                    let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
                    rest.trim_start_matches([' ', '\t']).starts_with(':')
                })
            })
        })
    }

    #[test]
    fn top_level_keys_as_the_line_by_line_test_finds_them() {
        let keys = ["system", "dataset", "policy"];
        let parts = [
            "system:",
            "system :",
            "system\t: x",
            "\"system\": ",
            "'dataset':",
            "systems:",
            "  system:",
            "kind: sink",
            "{a: 1}",
            "policy",
            "policy\r",
            "policy:\r",
            "ü: 1",
            "",
            "\"",
            "'",
            "d",
            "dataset\"",
            "# system:",
            "-system:",
        ];
        for a in parts {
            for b in parts {
                for sep in ["\n", "\r\n"] {
                    let text = format!("{a}{sep}{b}");
                    assert_eq!(
                        top_level_key_in(&text, &keys),
                        by_lines(&text, &keys),
                        "{text:?}"
                    );
                }
                let text = format!("{a}{b}");
                assert_eq!(
                    top_level_key_in(&text, &keys),
                    by_lines(&text, &keys),
                    "{text:?}"
                );
            }
        }
    }
}
