//! The destination catalogue (`rules/destinations.yaml`, spec §8): what each destination
//! type of the activation tools is used for, with the vendor source it was read in.
//!
//! The YAML is the catalogue; `table.rs` is it compiled to a Rust table, so that a run
//! does not parse 38 KiB of YAML first. A test checks that the two agree, and
//! `PURPOSELINT_UPDATE_CATALOGUE=1 cargo test --lib catalogue` rewrites the table.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::piece::Platform;

#[cfg(test)]
mod read;
#[rustfmt::skip]
mod table;

#[cfg(test)]
const TEXT: &str = include_str!("../../../../rules/destinations.yaml");

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub platform: &'static str,
    pub kind: &'static str,
    pub aliases: &'static [&'static str],
    pub name: &'static str,
    pub uses: &'static [&'static str],
    /// A Segment destination without mappings: it receives every event field.
    pub classic: bool,
    pub verified: bool,
    pub source: &'static str,
}

/// The embedded catalogue.
pub(crate) fn builtin() -> &'static [Entry] {
    table::ENTRIES
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
            for k in std::iter::once(&e.kind).chain(e.aliases) {
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
    fn the_compiled_table_is_the_yaml() {
        let (entries, diags) = read::parse(TEXT);
        assert!(diags.is_empty(), "{diags:?}");
        let want = read::render(&entries);
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/formats/activation/catalogue/table.rs"
        );
        let have = std::fs::read_to_string(path).unwrap_or_default();
        if want != have {
            if std::env::var("PURPOSELINT_UPDATE_CATALOGUE").as_deref() == Ok("1") {
                std::fs::write(path, &want).unwrap();
            } else {
                panic!("{path} is not rules/destinations.yaml (PURPOSELINT_UPDATE_CATALOGUE=1 cargo test --lib catalogue rewrites it)");
            }
        }
        let table: Vec<_> = builtin()
            .iter()
            .map(|e| {
                (
                    e.platform,
                    e.kind,
                    e.aliases.to_vec(),
                    e.name,
                    e.uses.to_vec(),
                    e.classic,
                    e.verified,
                    e.source,
                )
            })
            .collect();
        fn strs(l: &[String]) -> Vec<&str> {
            l.iter().map(String::as_str).collect()
        }
        let read: Vec<_> = entries
            .iter()
            .map(|e| {
                (
                    e.platform,
                    e.kind.as_str(),
                    strs(&e.aliases),
                    e.name.as_str(),
                    strs(&e.uses),
                    e.classic,
                    e.verified,
                    e.source.as_str(),
                )
            })
            .collect();
        assert_eq!(table, read);
    }

    #[test]
    fn the_catalogue_reads_cleanly_and_every_use_is_in_the_taxonomy() {
        let (entries, diags) = read::parse(TEXT);
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
            for k in std::iter::once(&e.kind).chain(e.aliases) {
                let key = if e.platform == "segment" {
                    k.to_string()
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
        assert!(lookup(Platform::RudderStack, "webhook")
            .unwrap()
            .uses
            .is_empty());
        assert!(lookup(Platform::Census, "Salesforce").is_some());
        // Census ad-platform types are not verified and not shipped.
        assert!(lookup(Platform::Census, "facebook").is_none());
    }
}
