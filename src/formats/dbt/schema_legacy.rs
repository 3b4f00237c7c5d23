//! The property-file reader before the tape, kept until the equivalence test has passed.

use super::*;
use crate::legacy::decode::Decoder;
use crate::legacy::yaml::{Node, Value};

/// `meta` and `config.meta` of a node or column.
pub(crate) fn annot(dec: &mut Decoder, node: &Node, tax: &Taxonomy) -> Annot {
    let mut out = Annot::default();
    let metas = [
        node.get("meta"),
        node.get("config").and_then(|c| c.get("meta")),
    ];
    for meta in metas.into_iter().flatten() {
        if meta.as_map().is_none() {
            continue;
        }
        out.purposes.extend(dec.taxonomy_keys(
            meta.get("purposes"),
            "`meta.purposes`",
            Decoder::string_or_list,
            Tree::DataUse,
            tax,
        ));
        out.categories.extend(dec.taxonomy_keys(
            meta.get("categories"),
            "`meta.categories`",
            Decoder::string_or_list,
            Tree::DataCategory,
            tax,
        ));
        out.uses.extend(dec.taxonomy_keys(
            meta.get("uses"),
            "`meta.uses`",
            Decoder::string_or_list,
            Tree::DataUse,
            tax,
        ));
    }
    out
}

pub(crate) fn name_of(node: &Node) -> Option<Str> {
    let n = node.get("name")?;
    let s = n.as_str()?;
    if s.trim().is_empty() {
        return None;
    }
    Some(Spanned {
        value: s.to_string(),
        span: n.span,
    })
}

pub(crate) fn items(node: Option<&Node>) -> &[Node] {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items,
        _ => &[],
    }
}

pub(crate) fn columns(dec: &mut Decoder, node: &Node, tax: &Taxonomy) -> Vec<ColumnDecl> {
    items(node.get("columns"))
        .iter()
        .filter_map(|c| {
            let name = name_of(c)?;
            Some(ColumnDecl {
                name,
                annot: annot(dec, c, tax),
            })
        })
        .collect()
}

/// Reads one property file. Files that are not dbt property files yield nothing.
pub fn read(dec: &mut Decoder, docs: &[Node], tax: &Taxonomy) -> SchemaFile {
    let mut out = SchemaFile::default();
    for doc in docs {
        if doc.as_map().is_none() {
            continue;
        }
        for (key, kind) in [
            ("models", Kind::Model),
            ("seeds", Kind::Seed),
            ("snapshots", Kind::Snapshot),
            ("analyses", Kind::Analysis),
        ] {
            for n in items(doc.get(key)) {
                let Some(name) = name_of(n) else { continue };
                let annot = annot(dec, n, tax);
                let columns = columns(dec, n, tax);
                out.nodes.push(NodeDecl {
                    kind,
                    name: name.value,
                    name_span: name.span,
                    annot,
                    columns,
                    file: dec.file,
                });
            }
        }
        for src in items(doc.get("sources")) {
            let Some(src_name) = name_of(src) else {
                continue;
            };
            let src_annot = annot(dec, src, tax);
            for t in items(src.get("tables")) {
                let Some(table) = name_of(t) else { continue };
                let mut a = annot(dec, t, tax);
                a.extend(&src_annot);
                let columns = columns(dec, t, tax);
                out.nodes.push(NodeDecl {
                    kind: Kind::Source,
                    name: format!("{}.{}", src_name.value, table.value),
                    name_span: table.span,
                    annot: a,
                    columns,
                    file: dec.file,
                });
            }
        }
        for e in items(doc.get("exposures")) {
            let Some(name) = name_of(e) else { continue };
            let a = annot(dec, e, tax);
            let depends_on = match e.get("depends_on") {
                Some(d) => dec.string_or_list(d, "`depends_on`"),
                None => Vec::new(),
            };
            out.exposures.push(ExposureDecl {
                name,
                uses: a.uses,
                depends_on,
                file: dec.file,
            });
        }
    }
    out
}
