//! The baseline reader before the tape, kept until the equivalence test has passed.

use super::*;
use crate::legacy::decode::{parse_alone, Decoder};

pub(crate) fn parse(file: &SourceFile, diags: &mut Vec<Finding>) -> Option<Baseline> {
    let docs = parse_alone(file, diags)?;
    let mut dec = Decoder { file: 0, diags };
    let Some(doc) = docs.first() else {
        dec.error(Default::default(), "the baseline is empty");
        return None;
    };
    let m = dec.map(doc, "the baseline", &["version", "findings"])?;
    if let Some(v) = m.required(&mut dec, "version") {
        if v.as_str() != Some("1") {
            dec.error(
                v.span,
                "this baseline version is not supported; expected `version: 1`",
            );
        }
    }
    let mut entries = Vec::new();
    if let Some(list) = m.get("findings") {
        entries = dec.list(list, "`findings`", |dec, item| {
            let e = dec.map(
                item,
                "a baseline entry",
                &["fingerprint", "rule", "source", "sink"],
            )?;
            let mut get = |k: &str| {
                e.required(dec, k)
                    .and_then(|n| dec.name(n, k))
                    .map(|s| s.value)
            };
            Some(Entry {
                fingerprint: get("fingerprint")?,
                rule: get("rule")?,
                source: get("source")?,
                sink: get("sink")?,
            })
        });
    }
    entries.sort();
    entries.dedup();
    Some(Baseline { entries })
}
