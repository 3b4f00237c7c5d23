//! rudder-cli project files (`version: rudder/v1`, spec §6), read with the project's YAML
//! reader.

use std::path::Path;
use std::sync::Arc;

use super::hcl::Range;
use super::piece::{
    Connection, Destination, Lit, Note, Origin, Piece, Platform, Ref, Source, Sql, Use, What,
};
use super::text::Embedded;
use crate::decode::Decoder;
use crate::model::FlowKind;
use crate::source::{SourceFile, Span};
use crate::yaml::Node;

const VERSIONS: &[&str] = &["rudder/v1", "rudder/0.1", "rudder/v0.1"];
const KINDS: &[&str] = &[
    "destination",
    "event-stream-source",
    "event-stream-connections",
    "retl-source-sql-model",
];

fn range(s: Span) -> Range {
    (s.start, s.end)
}

/// Whether a YAML document is a rudder-cli document of a kind we read (or report).
pub(crate) fn is_ours(doc: Node) -> bool {
    let version = doc.get("version").and_then(|n| n.as_str());
    let kind = doc.get("kind").and_then(|n| n.as_str());
    version.is_some_and(|v| VERSIONS.contains(&v))
        && kind.is_some_and(|k| KINDS.contains(&k) || k == "retl-connections")
}

/// Whether a YAML file may hold a rudder-cli document: it names one of [`VERSIONS`]
/// somewhere. The parsed documents decide ([`is_ours`]), so a version written in any
/// YAML style (quoted, flow, with a comment) is read.
pub(crate) fn mentions(text: &str) -> bool {
    memchr::memmem::find_iter(text.as_bytes(), "rudder/")
        .any(|at| VERSIONS.iter().any(|v| text[at..].starts_with(v)))
}

/// Whether the text of a file that is not valid YAML declares a rudder-cli document.
/// A line that is `version:` and one of [`VERSIONS`], blanks aside. Run on every YAML
/// file of a run, so it finds the key first instead of trimming every line.
pub(crate) fn declares(text: &str) -> bool {
    const KEY: &str = "version:";
    memchr::memmem::find_iter(text.as_bytes(), KEY).any(|at| {
        let line = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let value = &text[at + KEY.len()..end];
        // A comment may follow the value (` # pinned`).
        let value = value.split(" #").next().unwrap_or(value);
        let value = value.trim().trim_matches(['"', '\'']);
        text[line..at].chars().all(char::is_whitespace) && VERSIONS.contains(&value)
    })
}

/// Reads one rudder-cli document into pieces.
pub(crate) fn read(
    dec: &mut Decoder,
    src: &SourceFile,
    doc: Node,
    pieces: &mut Vec<Piece>,
    notes: &mut Vec<Note>,
) {
    let Some(kind) = doc.get("kind").and_then(|n| n.as_str()) else {
        return;
    };
    let dir: Arc<Path> = Arc::from(src.path.parent().unwrap_or(Path::new("")));
    let file = dec.file;
    if kind == "retl-connections" {
        let at = doc.get("kind").map_or(doc.span(), |k| k.span());
        notes.push(Note {
            file,
            span: range(at),
            message: "`kind: retl-connections` (rudder-cli 0.27+) is not read in this version; its syncs are not followed".into(),
        });
        return;
    }
    let Some(spec) = doc.get("spec") else {
        dec.error(
            doc.span(),
            format!("a rudder-cli `{kind}` is missing `spec`"),
        );
        return;
    };
    if spec.entries().is_none() {
        dec.error(spec.span(), "`spec` must be a mapping");
        return;
    }
    let piece = |name: String, name_span: Span, what: What| Piece {
        file,
        name,
        dir: dir.clone(),
        name_span: range(name_span),
        ids: Vec::new(),
        what,
    };
    if kind == "event-stream-connections" {
        let Some(list) = spec.get("connections") else {
            dec.error(spec.span(), "`spec` is missing `connections`");
            return;
        };
        let items = dec.list(list, "`connections`", |dec, item| {
            let id = item
                .get("id")
                .or_else(|| {
                    dec.error(item.span(), "a connection is missing `id`");
                    None
                })
                .and_then(|n| dec.name(n, "`id`"))?;
            let dst = item
                .get("destination")
                .or_else(|| {
                    dec.error(item.span(), "a connection is missing `destination`");
                    None
                })
                .and_then(|n| dec.name(n, "`destination`"))?;
            let source = item
                .get("source")
                .and_then(|n| dec.name(n, "`source`"))
                .map(|s| urn(&s.value, range(s.span)));
            let destination = urn(&dst.value, range(dst.span));
            Some((id, source, destination))
        });
        for (id, source, destination) in items {
            let mut c = Connection::new(source, destination);
            c.passthrough = Some(c.destination.span());
            pieces.push(piece(
                format!("event-stream-connections.{}", id.value),
                id.span,
                What::Connection(c),
            ));
        }
        return;
    }
    let Some(id) = spec
        .get("id")
        .or_else(|| {
            dec.error(
                spec.span(),
                format!("a rudder-cli `{kind}` is missing `spec.id`"),
            );
            None
        })
        .and_then(|n| dec.name(n, "`spec.id`"))
    else {
        return;
    };
    let name = format!("{kind}.{}", id.value);
    let what = match kind {
        "destination" => {
            let Some(t) = spec
                .get("type")
                .or_else(|| {
                    dec.error(
                        spec.span(),
                        "a rudder-cli destination is missing `spec.type`",
                    );
                    None
                })
                .and_then(|n| dec.name(n, "`spec.type`"))
            else {
                return;
            };
            What::Destination(Destination {
                platform: Platform::RudderStack,
                kind: Ok(Lit {
                    value: t.value,
                    span: range(t.span),
                }),
                source: None,
            })
        }
        "event-stream-source" => What::EventSource,
        _ => {
            let Some(origin) = sql_of(dec, src, spec) else {
                return;
            };
            let keys = spec
                .get("primary_key")
                .and_then(|n| dec.name(n, "`primary_key`"))
                .map(|k| Use {
                    column: k.value,
                    kind: FlowKind::Indirect,
                    span: range(k.span),
                    destination_field: None,
                })
                .into_iter()
                .collect();
            let dialect = spec
                .get("source_definition")
                .and_then(|n| n.as_str())
                .map(str::to_string);
            What::Source(Source {
                origin,
                keys,
                dialect,
                warehouse: None,
                table: false,
            })
        }
    };
    pieces.push(piece(name, id.span, what));
}

/// `#destination:<id>` → `destination.<id>`; anything else is a literal id.
fn urn(s: &str, span: Range) -> Ref {
    match s.strip_prefix('#').and_then(|u| u.split_once(':')) {
        Some((kind, id)) => Ref::Address {
            address: format!("{kind}.{id}"),
            span,
        },
        None => Ref::Id(Lit {
            value: s.to_string(),
            span,
        }),
    }
}

fn sql_of(dec: &mut Decoder, src: &SourceFile, spec: Node) -> Option<Origin> {
    if let Some(file) = spec.get("file").and_then(|n| dec.name(n, "`file`")) {
        return Some(Origin::Sql(Sql {
            file: Some((file.value, range(file.span))),
            ..Sql::inline(Embedded::verbatim("", 0))
        }));
    }
    let Some(node) = spec.get("sql") else {
        dec.error(
            spec.span(),
            "a `retl-source-sql-model` needs `sql` or `file`",
        );
        return None;
    };
    let sql = dec.name(node, "`sql`")?;
    Some(Origin::Sql(Sql::inline(yaml_text(
        src, &sql.value, sql.span,
    ))))
}

/// A YAML scalar's text with where its lines are: each decoded line is searched, in
/// order, at the end of the file's lines within the scalar's span.
fn yaml_text(src: &SourceFile, text: &str, span: Span) -> Embedded {
    let raw = src
        .text
        .get(span.start as usize..span.end as usize)
        .unwrap_or("");
    if !text.contains('\n') {
        if let Some(i) = raw.find(text) {
            return Embedded::verbatim(text, span.start + i as u32);
        }
        return Embedded::verbatim(text, span.start);
    }
    let mut lines = Vec::new();
    let mut search = 0usize;
    for line in text.split('\n') {
        let found = if line.is_empty() {
            None
        } else {
            raw[search..].find(line).map(|i| search + i)
        };
        match found {
            Some(i) => {
                lines.push(span.start + i as u32);
                search = i + line.len();
            }
            None => lines.push(span.start + search as u32),
        }
    }
    Embedded::from_lines(text, &lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `declares` as a plain reading of every line.
    fn declares_by_lines(text: &str) -> bool {
        text.lines().any(|l| {
            l.trim()
                .strip_prefix("version:")
                .map(|v| v.split(" #").next().unwrap_or(v))
                .map(|v| v.trim().trim_matches(['"', '\'']))
                .is_some_and(|v| VERSIONS.contains(&v))
        })
    }

    proptest::proptest! {
        #[test]
        fn declares_reads_lines(
            parts in proptest::collection::vec(
                "(version:|rudder/v1|rudder/0.1|kind: x|\n|\r\n|\r| |\t|\u{a0}|\"|'|x| # c|#)",
                0..14,
            )
        ) {
            let text = parts.concat();
            proptest::prop_assert_eq!(declares(&text), declares_by_lines(&text));
        }
    }
}
