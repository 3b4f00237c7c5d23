//! Reading `rules/destinations.yaml` (tests only: a run uses the table compiled from
//! it), and writing that table.

use std::fmt::Write as _;

use super::super::piece::Platform;
use crate::decode::Decoder;
use crate::finding::Finding;
use crate::source::SourceFile;

/// An entry as the YAML has it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Read {
    pub platform: &'static str,
    pub kind: String,
    pub aliases: Vec<String>,
    pub name: String,
    pub uses: Vec<String>,
    pub classic: bool,
    pub verified: bool,
    pub source: String,
}

/// Reads a catalogue file; problems are `invalid-manifest` diagnostics of file 0.
pub(super) fn parse(text: &str) -> (Vec<Read>, Vec<Finding>) {
    let file = SourceFile::new(
        "rules/destinations.yaml".into(),
        "rules/destinations.yaml".into(),
        text,
    );
    let mut diags = Vec::new();
    let mut out = Vec::new();
    let Some(docs) = crate::decode::parse_alone(&file, &mut diags) else {
        return (out, diags);
    };
    let mut dec = Decoder {
        file: 0,
        diags: &mut diags,
    };
    let Some(doc) = docs.first() else {
        return (out, diags);
    };
    let Some(top) = dec.map(doc, "the catalogue", &["version", "entries"]) else {
        return (out, diags);
    };
    let Some(list) = top.required(&mut dec, "entries") else {
        return (out, diags);
    };
    const KEYS: &[&str] = &[
        "platform", "type", "aliases", "name", "uses", "classic", "verified", "source",
    ];
    out = dec.list(list, "`entries`", |dec, item| {
        let m = dec.map(item, "a catalogue entry", KEYS)?;
        let platform = m
            .required(dec, "platform")
            .and_then(|n| dec.name(n, "`platform`"))?;
        let Some(p) = Platform::parse(&platform.value) else {
            dec.error(
                platform.span,
                format!("unknown platform `{}`", platform.value),
            );
            return None;
        };
        let kind = m
            .required(dec, "type")
            .and_then(|n| dec.name(n, "`type`"))?;
        let name = m
            .required(dec, "name")
            .and_then(|n| dec.name(n, "`name`"))?;
        let uses = m
            .required(dec, "uses")
            .map(|n| dec.string_list(n, "`uses`"))?
            .into_iter()
            .map(|u| u.value)
            .collect();
        let aliases = m
            .get("aliases")
            .map(|n| dec.string_list(n, "`aliases`"))
            .unwrap_or_default()
            .into_iter()
            .map(|a| a.value)
            .collect();
        let flag = |dec: &mut Decoder, key: &str| {
            m.get(key)
                .and_then(|n| dec.str(n, key))
                .is_some_and(|s| s == "true")
        };
        let classic = flag(dec, "classic");
        let verified = flag(dec, "verified");
        let source = m
            .required(dec, "source")
            .and_then(|n| dec.name(n, "`source`"))?;
        Some(Read {
            platform: p.as_str(),
            kind: kind.value,
            aliases,
            name: name.value,
            uses,
            classic,
            verified,
            source: source.value,
        })
    });
    (out, diags)
}

/// `table.rs` for `entries`: string literals as Rust's `Debug` writes them.
pub(super) fn render(entries: &[Read]) -> String {
    let list = |l: &[String]| {
        let items: Vec<String> = l.iter().map(|s| format!("{s:?}")).collect();
        format!("&[{}]", items.join(", "))
    };
    let mut out = String::from(
        "//! Generated from `rules/destinations.yaml` by\n\
         //! `PURPOSELINT_UPDATE_CATALOGUE=1 cargo test --lib catalogue`: do not edit.\n\n\
         use super::Entry;\n\n\
         pub(super) const ENTRIES: &[Entry] = &[\n",
    );
    for e in entries {
        let _ = writeln!(
            out,
            "    Entry {{ platform: {:?}, kind: {:?}, aliases: {}, name: {:?}, uses: {}, classic: {}, verified: {}, source: {:?} }},",
            e.platform,
            e.kind,
            list(&e.aliases),
            e.name,
            list(&e.uses),
            e.classic,
            e.verified,
            e.source
        );
    }
    out.push_str("];\n");
    out
}
