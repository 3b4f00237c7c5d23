//! purposelint's own manifests (spec §3): `kind: dataset`, `kind: sink`, `kind: pipeline`.

mod detect;
mod parse;
mod resolve;

use std::path::Path;

pub(crate) use detect::declares_manifest;
pub(crate) use parse::{is_manifest, read_documents, Doc};

use super::{Format, Layout, Names, ReadInput};
use crate::session::LinkCx;
use crate::source::FileId;

/// The native format.
pub(crate) struct Native;

impl Format for Native {
    type File = Vec<Doc>;
    type Declared = resolve::Declared;

    fn name(&self) -> &'static str {
        "native"
    }

    fn claims(&self, path: &Path, layout: &Layout) -> bool {
        super::yaml_claim(path, layout)
    }

    fn read(&self, input: &mut ReadInput<'_>) -> Option<Vec<Doc>> {
        let (yaml, taxonomy) = (input.yaml().ok()?, input.taxonomy);
        let (docs, manifests) = read_documents(&mut input.decoder(), yaml, taxonomy);
        input.manifests += manifests;
        (!docs.is_empty()).then_some(docs)
    }

    fn declares(&self, text: &str) -> bool {
        declares_manifest(text)
    }

    fn names(&self, docs: &Vec<Doc>) -> Option<Names> {
        let mut n = Names::default();
        for doc in docs {
            match doc {
                Doc::Dataset(d) => n.declares.push(d.name.value.clone()),
                Doc::Sink(s) => {
                    n.declares.push(s.name.value.clone());
                    n.sinks.push(s.name.value.clone());
                }
                Doc::Pipeline(p) => {
                    n.unique.push(format!("pipeline {}", p.name.value));
                    // As linking does: a step whose name repeats is not linked.
                    let mut seen: Vec<&str> = Vec::new();
                    for s in &p.steps {
                        if seen.contains(&s.name.value.as_str()) {
                            continue;
                        }
                        seen.push(&s.name.value);
                        let from = s.from.iter().map(|f| f.value.clone()).collect();
                        n.steps.push((from, s.to.value.clone()));
                        n.exceptions |= !s.allow.is_empty();
                        let values = s.fields.iter().flatten().map(|(_, v)| v);
                        let exprs = values.chain(&s.join).chain(&s.where_).chain(&s.group_by);
                        for r in exprs.flat_map(|e| e.refs.iter().flatten()) {
                            let dots = r.name.match_indices('.').map(|(i, _)| i);
                            n.mentions.extend(dots.map(|i| r.name[..i].to_string()));
                        }
                    }
                }
            }
        }
        n.mentions.sort();
        n.mentions.dedup();
        Some(n)
    }

    fn declare(&self, files: Vec<(FileId, Vec<Doc>)>, cx: &mut LinkCx<'_>) -> resolve::Declared {
        let docs = files
            .into_iter()
            .flat_map(|(file, docs)| docs.into_iter().map(move |d| (file, d)))
            .collect();
        resolve::declare(docs, cx)
    }

    fn link(&self, declared: resolve::Declared, cx: &mut LinkCx<'_>) {
        resolve::link(declared, cx);
    }
}
