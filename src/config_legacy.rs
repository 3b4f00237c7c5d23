//! The configuration reader before the tape, kept until the equivalence test has passed.

use super::*;
use crate::legacy::decode::{parse_alone, Decoder};
use crate::legacy::yaml::{Node, Value};

pub(crate) fn parse(file: &SourceFile, root: PathBuf, diags: &mut Vec<Finding>) -> Option<Config> {
    let docs = parse_alone(file, diags)?;
    let mut dec = Decoder { file: 0, diags };
    let mut config = Config {
        file: file.clone(),
        filter: PathFilter {
            root: root.clone(),
            include: None,
            exclude: None,
        },
        severity: Vec::new(),
        rule_dirs: Vec::new(),
        data_uses: Vec::new(),
        data_categories: Vec::new(),
        aliases: BTreeMap::new(),
        external_datasets: Vec::new(),
        max_file_size: None,
        fides_infer_purposes: false,
    };
    let Some(doc) = docs.first() else {
        return Some(config); // an empty file configures nothing
    };
    if docs.len() > 1 {
        dec.error(
            docs[1].span,
            "the configuration must be a single YAML document",
        );
    }
    if matches!(doc.value, Value::Null) {
        return Some(config);
    }
    let m = dec.map(doc, "the configuration", &KEYS)?;
    config.filter.include = m
        .get("include")
        .and_then(|n| globs(&mut dec, n, "`include`"));
    config.filter.exclude = m
        .get("exclude")
        .and_then(|n| globs(&mut dec, n, "`exclude`"));
    if let Some(n) = m.get("severity") {
        config.severity = severities(&mut dec, n);
    }
    if let Some(n) = m.get("rule_dirs") {
        config.rule_dirs = dec
            .string_list(n, "`rule_dirs`")
            .into_iter()
            .map(|s| root.join(s.value))
            .collect();
    }
    if let Some(n) = m.get("taxonomy") {
        if let Some(t) = dec.map(n, "`taxonomy`", &["data_uses", "data_categories"]) {
            if let Some(n) = t.get("data_uses") {
                config.data_uses = entries(&mut dec, n, "`taxonomy.data_uses`");
            }
            if let Some(n) = t.get("data_categories") {
                config.data_categories = entries(&mut dec, n, "`taxonomy.data_categories`");
            }
        }
    }
    let mut taxonomy = Taxonomy::default();
    extend(&mut dec, &mut taxonomy, Tree::DataUse, &config.data_uses);
    extend(
        &mut dec,
        &mut taxonomy,
        Tree::DataCategory,
        &config.data_categories,
    );
    if let Some(n) = m.get("aliases") {
        config.aliases = aliases(&mut dec, n, &taxonomy);
        for (label, key) in &config.aliases {
            taxonomy.alias(label, key);
        }
    }
    if let Some(n) = m.get("external_datasets") {
        config.external_datasets = dec.list(n, "`external_datasets`", |dec, item| {
            external(dec, item, &taxonomy)
        });
    }
    if let Some(n) = m.get("max_file_size") {
        config.max_file_size = size(&mut dec, n);
    }
    if let Some(n) = m.get("fides") {
        if let Some(f) = dec.map(n, "`fides`", &["infer_purposes_from_systems"]) {
            if let Some(v) = f.get("infer_purposes_from_systems") {
                config.fides_infer_purposes =
                    boolean(&mut dec, v, "`fides.infer_purposes_from_systems`");
            }
        }
    }
    Some(config)
}

pub(crate) fn boolean(dec: &mut Decoder, node: &Node, what: &str) -> bool {
    match node.as_str() {
        Some("true") => true,
        Some("false") => false,
        _ => {
            dec.error(node.span, format!("{what} must be true or false"));
            false
        }
    }
}

pub(crate) fn globs(dec: &mut Decoder, node: &Node, what: &str) -> Option<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for g in dec.string_list(node, what) {
        match Glob::new(&g.value) {
            Ok(glob) => {
                b.add(glob);
            }
            Err(e) => dec.error(g.span, format!("invalid glob `{}`: {}", g.value, e.kind())),
        }
    }
    b.build().ok()
}

pub(crate) fn severities(dec: &mut Decoder, node: &Node) -> Vec<(Spanned<String>, Level)> {
    let Value::Map(entries) = &node.value else {
        dec.error(
            node.span,
            format!(
                "`severity` must be a mapping of rule ids to error, warning, info or off, found {}",
                node.kind_name()
            ),
        );
        return Vec::new();
    };
    let mut out: Vec<(Spanned<String>, Level)> = Vec::new();
    for (k, v) in entries {
        let (Some(id), Some(level)) = (dec.string(k, "a rule id"), dec.string(v, "a severity"))
        else {
            continue;
        };
        if out.iter().any(|(o, _)| o.value == id.value) {
            dec.error(k.span, format!("`{}` is configured twice", id.value));
            continue;
        }
        let level = match level.value.as_str() {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            "off" => None,
            other => {
                dec.error(
                    v.span,
                    format!(
                        "the severity of `{}` must be error, warning, info or off, not `{other}`",
                        id.value
                    ),
                );
                continue;
            }
        };
        out.push((id, level));
    }
    out
}

pub(crate) fn entries(dec: &mut Decoder, node: &Node, what: &str) -> Vec<TaxonomyEntry> {
    dec.list(node, what, |dec, item| {
        let m = dec.map(item, "a taxonomy entry", &["key", "parent_key", "name"])?;
        let key = m.required(dec, "key").and_then(|n| dec.name(n, "`key`"))?;
        if key.value.split('.').any(str::is_empty) {
            dec.error(key.span, format!("`{}` is not a dot-separated key", key.value));
            return None;
        }
        if let Some(p) = m.get("parent_key").and_then(|n| dec.name(n, "`parent_key`")) {
            let derived = key.value.rsplit_once('.').map(|(p, _)| p);
            if derived != Some(p.value.as_str()) {
                dec.error(
                    p.span,
                    format!(
                        "`parent_key` must be the key without its last part: `{}` is not the parent of `{}`",
                        p.value, key.value
                    ),
                );
                return None;
            }
        }
        let name = m
            .get("name")
            .and_then(|n| dec.string(n, "`name`"))
            .map(|s| s.value)
            .unwrap_or_default();
        Some(TaxonomyEntry { key, name })
    })
}

/// Adds entries whose parent is known; a top-level key needs no parent.
pub(crate) fn extend(
    dec: &mut Decoder,
    taxonomy: &mut Taxonomy,
    tree: Tree,
    entries: &[TaxonomyEntry],
) {
    let mut pending: Vec<&TaxonomyEntry> = entries.iter().collect();
    // Parents may be listed after their children: add in rounds until nothing changes.
    loop {
        let before = pending.len();
        pending.retain(|e| {
            let parent = e.key.value.rsplit_once('.').map(|(p, _)| p);
            if parent.is_none_or(|p| taxonomy.contains(tree, p)) {
                taxonomy.add(tree, &e.key.value, &e.name);
                false
            } else {
                true
            }
        });
        if pending.len() == before {
            break;
        }
    }
    for e in pending {
        let parent = e.key.value.rsplit_once('.').map_or("", |(p, _)| p);
        dec.error(
            e.key.span,
            format!(
                "the parent `{parent}` of `{}` is not a known {}",
                e.key.value,
                tree.noun()
            ),
        );
    }
}

pub(crate) fn aliases(
    dec: &mut Decoder,
    node: &Node,
    taxonomy: &Taxonomy,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Value::Map(entries) = &node.value else {
        dec.error(
            node.span,
            format!(
                "`aliases` must be a mapping of labels to taxonomy keys, found {}",
                node.kind_name()
            ),
        );
        return out;
    };
    for (k, v) in entries {
        let (Some(label), Some(key)) = (dec.name(k, "an alias"), dec.name(v, "a taxonomy key"))
        else {
            continue;
        };
        if !taxonomy.contains(Tree::DataUse, &key.value)
            && !taxonomy.contains(Tree::DataCategory, &key.value)
        {
            let hint = taxonomy
                .suggest(Tree::DataUse, &key.value)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            dec.error(
                key.span,
                format!(
                    "alias `{}` maps to `{}`, which is not a known data use or category{hint}",
                    label.value, key.value
                ),
            );
            continue;
        }
        if out.insert(label.value.clone(), key.value).is_some() {
            dec.error(
                label.span,
                format!("alias `{}` is defined twice", label.value),
            );
        }
    }
    out
}

pub(crate) fn external(
    dec: &mut Decoder,
    item: &Node,
    taxonomy: &Taxonomy,
) -> Option<ExternalDataset> {
    let (pattern, purposes) = match &item.value {
        Value::Scalar { .. } => (dec.name(item, "an external dataset")?, Vec::new()),
        _ => {
            let m = dec.map(item, "an external dataset", &["name", "purposes"])?;
            let name = m
                .required(dec, "name")
                .and_then(|n| dec.name(n, "`name`"))?;
            let purposes = m
                .get("purposes")
                .map(|n| dec.string_list(n, "`purposes`"))
                .unwrap_or_default();
            let mut keys = Vec::new();
            for p in purposes {
                let key = taxonomy.canonical(&p.value);
                if !taxonomy.contains(Tree::DataUse, key) {
                    dec.error(p.span, format!("`{}` is not a known data use", p.value));
                }
                keys.push(key.to_string());
            }
            (name, keys)
        }
    };
    // Dataset names contain dots, so `*` must not stop at them: no literal separator.
    let glob = match globset::GlobBuilder::new(&pattern.value)
        .literal_separator(false)
        .build()
    {
        Ok(g) => g,
        Err(e) => {
            dec.error(
                pattern.span,
                format!("invalid glob `{}`: {}", pattern.value, e.kind()),
            );
            return None;
        }
    };
    Some(ExternalDataset {
        pattern: pattern.value,
        matcher: glob.compile_matcher(),
        purposes,
    })
}

/// Bytes, or a number with a unit: `512KiB`, `10MiB`, `1GB`.
pub(crate) fn size(dec: &mut Decoder, node: &Node) -> Option<u64> {
    let s = dec.string(node, "`max_file_size`")?;
    match parse_size(&s.value) {
        Ok(n) => Some(n),
        Err(e) => {
            dec.error(s.span, format!("`max_file_size`: {e}"));
            None
        }
    }
}
