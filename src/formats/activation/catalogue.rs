//! The destination catalogue (`rules/destinations.yaml`, spec §8): what each destination
//! type of the activation tools is used for, with the vendor source it was read in.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::piece::Platform;
use crate::decode::Decoder;
use crate::finding::Finding;
use crate::source::SourceFile;

pub(crate) const TEXT: &str = include_str!("../../../rules/destinations.yaml");

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub platform: &'static str,
    pub kind: String,
    pub aliases: Vec<String>,
    pub name: String,
    pub uses: Vec<String>,
    /// A Segment destination without mappings: it receives every event field.
    pub classic: bool,
    pub verified: bool,
    pub source: String,
}

/// The embedded catalogue, read once.
pub(crate) fn builtin() -> &'static [Entry] {
    static CATALOGUE: OnceLock<Vec<Entry>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let (entries, diags) = parse(TEXT);
        debug_assert!(diags.is_empty(), "{diags:?}");
        entries
    })
}

/// Reads a catalogue file; problems are `invalid-manifest` diagnostics of file 0.
pub(crate) fn parse(text: &str) -> (Vec<Entry>, Vec<Finding>) {
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
        Some(Entry {
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

/// How an entry is looked up: Segment ids exactly, other types (and aliases) in lower case.
fn key(platform: Platform, kind: &str) -> (&'static str, String) {
    let kind = match platform {
        Platform::Segment => kind.to_string(),
        _ => kind.to_ascii_lowercase(),
    };
    (platform.as_str(), kind)
}

/// Loads the built-in catalogue and its index, once, from whichever reading thread asks
/// first; the others go on without waiting (they need it only when linking).
pub(crate) fn load() {
    static STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !STARTED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        lookup(Platform::Segment, "");
    }
}

/// The built-in entry for a destination type: exact for Segment ids, case-insensitive
/// (type or alias) otherwise.
pub(crate) fn lookup(platform: Platform, kind: &str) -> Option<&'static Entry> {
    static INDEX: OnceLock<HashMap<(&'static str, String), usize>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut map = HashMap::new();
        for (i, e) in builtin().iter().enumerate() {
            let Some(p) = Platform::parse(e.platform) else {
                continue;
            };
            for k in std::iter::once(&e.kind).chain(&e.aliases) {
                map.entry(key(p, k)).or_insert(i);
            }
        }
        map
    });
    index.get(&key(platform, kind)).map(|&i| &builtin()[i])
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy::{Taxonomy, Tree};

    #[test]
    fn the_catalogue_reads_cleanly_and_every_use_is_in_the_taxonomy() {
        let (entries, diags) = parse(TEXT);
        assert!(diags.is_empty(), "{diags:?}");
        assert!(entries.len() > 100);
        let tax = Taxonomy::default();
        for e in &entries {
            for u in &e.uses {
                assert!(
                    tax.contains(Tree::DataUse, u),
                    "{} {}: {u}",
                    e.platform,
                    e.kind
                );
            }
        }
    }

    #[test]
    fn every_entry_is_verified_has_a_source_and_is_unique() {
        let entries = builtin();
        let mut seen = std::collections::HashSet::new();
        for e in entries {
            assert!(e.verified, "{} {} is not verified", e.platform, e.kind);
            let (repo, rest) = e.source.split_once('@').expect("repo@commit:path");
            assert!(repo.contains('/'), "{}", e.source);
            let (commit, path) = rest.split_once(':').expect("commit:path");
            assert_eq!(commit.len(), 40, "{}", e.source);
            assert!(!path.is_empty(), "{}", e.source);
            for k in std::iter::once(&e.kind).chain(&e.aliases) {
                let key = if e.platform == "segment" {
                    k.clone()
                } else {
                    k.to_ascii_lowercase()
                };
                assert!(
                    seen.insert((e.platform, key)),
                    "duplicate {} {k}",
                    e.platform
                );
            }
        }
    }

    #[test]
    fn the_contract_minimum_is_covered_and_matched_as_specified() {
        assert!(!builtin().is_empty());
        for id in [
            "645d5fc12eb891cf0a93fe4b",
            "61806e472cd47ea1104885fc",
            "54521fdc25e721e32a72eeff",
            "60ae8b97dcb6cc52d5d0d5ab",
            "63d2e550fb90f1632ed8820a",
            "62f435d1d311567bd5bf0e8d",
            "6261a8b6cb4caa70e19116e8",
            "63e42e512566ad7c7ca6ba9b",
            "66f2b0f961bb2128729079bb",
            "6440068936c4fb9f699b0645",
            "6238cec53a46dd187d094eb7",
            "66543798b2fb3cb3e9ff992c",
            "68bff47aa7bba4dd200b450a",
            "60f9d0d048950c356be2e4da",
            "645babd9362d97b777391325",
            "650bdf1a62fb34ef0a8058e1",
            "5f7dd78fe27ce7ff2b8bfa37",
            "632b1116e0cb83902f3fd717",
            "62e30bad99f1bfb98ee8ce08",
        ] {
            assert!(lookup(Platform::Segment, id).is_some(), "{id}");
        }
        assert!(lookup(Platform::Segment, "645D5FC12EB891CF0A93FE4B").is_none());
        let twitter = lookup(Platform::Segment, "54521fdc25e721e32a72eeff").unwrap();
        assert!(twitter.classic);
        for t in [
            "facebook_conversions",
            "FACEBOOK_CONVERSIONS",
            "google_ads",
            "redshift",
            "RS",
            "tiktok_ads",
            "hs",
            "webhook",
            "customerio_audience",
            "bingads_offline_conversions",
            "linkedin_insight_tag",
        ] {
            assert!(lookup(Platform::RudderStack, t).is_some(), "{t}");
        }
        assert_eq!(
            lookup(Platform::RudderStack, "webhook").unwrap().uses,
            Vec::<String>::new()
        );
        assert!(lookup(Platform::Census, "Salesforce").is_some());
        // Census ad-platform types are not verified and not shipped.
        assert!(lookup(Platform::Census, "facebook").is_none());
    }
}
