//! Activation configs (docs/activation.md, contract `activation.md`): the reverse-ETL and
//! CDP tools that copy warehouse columns and app events into ad and marketing
//! platforms, read from Terraform (RudderStack, Census, Segment providers and Segment Git
//! Sync exports) and rudder-cli YAML.
//!
//! - [`hcl`]: Terraform files as a small tree with byte spans (hcl-edit);
//! - [`text`]: SQL and JSON embedded in values, located in the file;
//! - [`terraform`]: modules, `var`/`local` literals, references, imports;
//! - [`rudderstack`], [`census`], [`segment`], [`ruddercli`]: one reader per provider;
//! - [`piece`]: what the readers produce; [`link`]: pieces into the model;
//! - [`catalogue`]: the destination catalogue.

pub(crate) mod catalogue;
mod census;
mod configured;
pub(crate) mod hcl;
mod link;
pub(crate) mod piece;
pub(crate) mod ruddercli;
mod rudderstack;
mod segment;
mod terraform;
pub(crate) mod text;

use std::path::Path;

use crate::decode::Decoder;
use crate::finding::Finding;
use crate::source::{FileId, Loc, SourceFile};
use crate::yaml::Yaml;

pub(crate) use configured::check_names;
pub(crate) use link::{unclassified_findings, Options};

use super::{Format, Layout, ReadInput};
use crate::session::LinkCx;

/// The activation configs format.
pub(crate) struct Activation;

impl Format for Activation {
    type File = File;
    type Declared = link::Declared;

    fn name(&self) -> &'static str {
        "activation"
    }

    fn claims(&self, path: &Path, layout: &Layout) -> bool {
        is_terraform(path) || super::yaml_claim(path, layout)
    }

    fn read(&self, input: &mut ReadInput<'_>) -> Option<File> {
        let (id, source) = (input.file, input.source);
        let (file, n) = if is_terraform(&source.path) {
            let dec = input.decoder();
            read_terraform(id, source, dec.diags)
        } else {
            // Cheap test first: most YAML files are not rudder-cli documents.
            if !ruddercli::mentions(&source.text) {
                return None;
            }
            let docs = input.yaml().ok()?;
            read_yaml(&mut input.decoder(), source, docs)
        };
        input.manifests += n;
        (!file.is_empty()).then_some(file)
    }

    fn declares(&self, text: &str) -> bool {
        hcl::declares_ours(text) || ruddercli::declares(text)
    }

    fn declare(&self, files: Vec<(FileId, File)>, cx: &mut LinkCx<'_>) -> link::Declared {
        link::declare(files, cx)
    }

    fn link(&self, declared: link::Declared, cx: &mut LinkCx<'_>) {
        link::link(declared, cx);
    }
}

/// What one file gives.
#[derive(Debug, Clone, Default)]
pub(crate) struct File {
    /// A Terraform file's tree: its `variable`, `locals` and `import` blocks for the
    /// module, and its resources when what they gave read alone may change (see
    /// [`terraform::read_modules`]).
    tf: Option<hcl::TfFile<'static>>,
    /// A Terraform file's resources read with the file's own values.
    alone: terraform::Read,
    /// rudder-cli documents.
    pieces: Vec<piece::Piece>,
    notes: Vec<piece::Note>,
}

impl File {
    pub(crate) fn is_empty(&self) -> bool {
        self.tf.is_none() && self.pieces.is_empty() && self.notes.is_empty()
    }
}

/// Terraform files are read (`*.tf`; never `.tf.json`, `.tfvars` or state).
pub(crate) fn is_terraform(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()) == Some("tf")
}

/// Reads a `.tf` file. Returns the file and how many of our resources it declares; a
/// syntax error is reported only when the text declares one of our resource types.
pub(crate) fn read_terraform(
    id: FileId,
    src: &SourceFile,
    diags: &mut Vec<Finding>,
) -> (File, usize) {
    match hcl::parse(&src.text) {
        Ok(body) => {
            let tf = hcl::read_file(&src.text, &body);
            let ours = tf.resources.len();
            let alone = terraform::read_alone(id, src, &tf);
            let keep = ours > 0
                || !tf.variables.is_empty()
                || !tf.locals.is_empty()
                || !tf.imports.is_empty()
                || !tf.unread.is_empty();
            // The resources are read again at link time only when a value they looked up
            // may be declared by another file of the module.
            let tf = keep.then(|| tf.into_owned(!alone.lookups.is_empty()));
            // The catalogue is needed at link time; loading it here overlaps other reads.
            catalogue::load();
            let file = File {
                tf,
                alone,
                ..File::default()
            };
            (file, ours)
        }
        Err(e) => {
            if hcl::declares_ours(&src.text) {
                let end = src.text[e.offset as usize..]
                    .chars()
                    .next()
                    .map_or(e.offset, |c| e.offset + c.len_utf8() as u32);
                let loc = Loc {
                    file: id,
                    span: src.span_of_bytes(e.offset, end),
                };
                diags.push(crate::diagnostic::Diag::InvalidHcl(e.message).at(loc));
            }
            (File::default(), 0)
        }
    }
}

/// Reads the rudder-cli documents among a YAML file's documents; returns how many.
pub(crate) fn read_yaml(dec: &mut Decoder, src: &SourceFile, docs: &Yaml) -> (File, usize) {
    let mut file = File::default();
    let mut n = 0;
    for doc in docs.documents().filter(|&d| ruddercli::is_ours(d)) {
        ruddercli::read(dec, src, doc, &mut file.pieces, &mut file.notes);
        n += 1;
    }
    (file, n)
}
