//! The stream must read every file it reads exactly as the tree path does.

use proptest::prelude::*;

use super::*;
use crate::finding::Finding;
use crate::formats::native::read_documents;

/// Documents read and sorted diagnostics, as debug text.
type Reading = (String, Vec<String>);

/// Both paths over `text`: the stream's reading (if it did not give up) and the
/// tree's.
fn both(text: &str) -> (Option<Reading>, Reading) {
    let file = SourceFile::new("t.yaml".into(), "t.yaml".into(), text);
    let tax = Taxonomy::default();
    let shown = |docs: &[Doc], n: usize, diags: &[Finding]| {
        let mut d: Vec<String> = diags.iter().map(|f| format!("{f:?}")).collect();
        d.sort();
        (format!("{n} {docs:?}"), d)
    };
    let mut diags = Vec::new();
    let mut dec = Decoder {
        file: 0,
        diags: &mut diags,
    };
    let streamed = read_file(&mut dec, &file, &tax);
    let streamed = match streamed {
        Some(docs) => Some(shown(&docs, docs.len(), &diags)),
        None => {
            assert!(diags.is_empty(), "giving up must leave no diagnostics");
            None
        }
    };
    let mut diags = Vec::new();
    let mut dec = Decoder {
        file: 0,
        diags: &mut diags,
    };
    let tree = match yaml::parse(&file) {
        Ok(nodes) => {
            let (docs, n) = read_documents(&mut dec, &nodes, &tax);
            shown(&docs, n, &diags)
        }
        Err(e) => (format!("invalid: {}", e.message), Vec::new()),
    };
    (streamed, tree)
}

fn same(text: &str) -> bool {
    let (streamed, tree) = both(text);
    match streamed {
        Some(s) => {
            assert_eq!(s, tree, "the paths differ on:\n{text}");
            true
        }
        None => false,
    }
}

const FULL: &str = "\
kind: dataset
name: accounts.users
description: \"Users\"
purposes: [essential.service.security, not.a.purpose]
categories:
  - user.contact.email
uses: [analytics]
fields:
  - name: email
    description: e-mail
    categories: [user.contact.email]
    purposes: [essential.service.authentication]
  - {name: phone, purposes: [essential.service.security]}
  - name: email
  - name: ü_näme
---
kind: sink
name: 'ads'
uses: [marketing.advertising.third_party.targeted]
vendor: Acme
description:
---
kind: pipeline
name: p
description: ~
steps:
  - name: s1
    from: [accounts.users, other.t]
    to: stage.s1
    join: accounts.users.email = other.t.email
    where: accounts.users.phone IS NOT NULL
    group_by: accounts.users.email
    fields:
      e: sha256(lower(accounts.users.email))
      n: count(*)
    allow:
      - rule: security-to-advertising
        reason: DPIA-1
  - name: s2
    from: stage.s1
    to: ads
    fields:
";

#[test]
fn well_formed_manifests_are_read_as_the_tree_reads_them() {
    assert!(same(FULL));
    assert!(same("kind: sink\r\nname: a\r\nuses:\r\n  - analytics\r\n"));
    assert!(same("\u{feff}kind: sink\nname: a\nuses: [analytics]\n"));
    let versioned = FULL.replace("kind: ", "apiVersion: purposelint/v1\nkind: ");
    assert!(same(&versioned));
    assert!(same(
        "kind: sink\napiVersion: purposelint/v1\nname: a\nuses: [x]\n"
    ));
}

#[test]
fn anything_unusual_goes_to_the_tree() {
    for text in [
        "name: a\nkind: sink\nuses: [analytics]\n",
        "kind: sink\nname: a\nuses: [analytics]\nvendr: x\n",
        "kind: sink\nname: a\nname: b\nuses: [analytics]\n",
        "kind: sink\nname: a\nuses: []\n",
        "kind: sink\nname: a\nuses: analytics\n",
        "kind: sink\nname: ' '\nuses: [analytics]\n",
        "kind: sink\nname: &n a\nuses: [analytics]\n",
        "kind: sink\nname: !!str a\nuses: [analytics]\n",
        "kind: dataset\nname: a\nfields: []\n",
        "kind: dataset\nname: a\nfields:\n  - name: a.b\n",
        "kind: pipeline\nname: p\nsteps:\n  - name: s\n    from: a\n    to: b\n    allow: [{rule: r}]\n",
        "kind: pipeline\nname: p\nsteps:\n  - name: s\n    from: a\n    to: b\n    fields: {x: a.x, x: a.y}\n",
        "kind: sink\nname: a\nuses: [analytics]\n---\nfides_key: x\n",
        "kind: Deployment\n",
        "apiVersion: purposelint/v2\nkind: sink\nname: a\nuses: [analytics]\n",
        "apiVersion: purposelint/v1\nkind: sinks\nname: a\nuses: [analytics]\n",
        "kind: pipeline\ntype: docker\nsteps:\n  - name: a\n    image: x\n",
        "kind: sink\nname: a\nuses: [analytics\n",
        "",
    ] {
        assert!(!same(text), "{text}");
    }
}

#[test]
fn bundled_examples_and_fixtures_read_alike() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut streamed = 0;
    for dir in ["examples", "tests/fixtures"] {
        for entry in ignore::WalkBuilder::new(root.join(dir)).build().flatten() {
            let path = entry.path();
            let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            if yaml && same(&text) {
                streamed += 1;
            }
        }
    }
    assert!(streamed > 10, "only {streamed} files were streamed");
}

/// Picks driven by proptest's bytes, so that failures shrink.
struct Picks(Vec<u8>, usize);

impl Picks {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        let b = self.0.get(self.1).copied().unwrap_or(0);
        self.1 += 1;
        from[b as usize % from.len()]
    }

    /// A number below `n`.
    fn below(&mut self, n: usize) -> usize {
        let b = self.0.get(self.1).copied().unwrap_or(0);
        self.1 += 1;
        b as usize % n
    }

    /// True `of` times in ten.
    fn chance(&mut self, of: usize) -> bool {
        self.below(10) < of
    }
}

/// Mostly well-formed manifests: keys in random order, block and flow styles,
/// nulls, known and unknown taxonomy keys, duplicate field names, and now and then
/// a mistake (an unknown key, an empty list, a missing reason) for the tree.
fn manifest(p: &mut Picks) -> String {
    let list = |p: &mut Picks, key: &str, items: &[&str], indent: &str| {
        let a = p.pick(items);
        match p.pick(&["flow", "block", "two", "null"]) {
            "flow" => format!("{indent}{key}: [{a}]\n"),
            "block" => format!("{indent}{key}:\n{indent}  - {a}\n"),
            "two" => format!("{indent}{key}: [{a}, {}]\n", p.pick(items)),
            _ => format!("{indent}{key}:\n"),
        }
    };
    let purposes = [
        "essential.service.security",
        "marketing.advertising",
        "analytics",
        "not.a.purpose",
        "\"essential.fraud_detection\"",
    ];
    let categories = ["user.contact.email", "user.contact", "no.such.category"];
    let mut docs = Vec::new();
    for _ in 0..1 + p.below(3) {
        let mut blocks: Vec<String> = Vec::new();
        let kind = p.pick(&["dataset", "sink", "pipeline"]);
        blocks.push(format!("name: {}\n", p.pick(&["a.b", "'q.r'", "x", "ü.ñ"])));
        if p.chance(3) {
            blocks.push(format!("description: {}\n", p.pick(&["d", "", "\"x\""])));
        }
        match kind {
            "dataset" => {
                for key in ["purposes", "uses"] {
                    if p.chance(5) {
                        blocks.push(list(p, key, &purposes, ""));
                    }
                }
                if p.chance(4) {
                    blocks.push(list(p, "categories", &categories, ""));
                }
                let mut fields = String::from("fields:\n");
                for _ in 0..1 + p.below(4) {
                    let name = p.pick(&["f", "g", "h", "f", "ü"]);
                    if p.chance(3) {
                        let pp = p.pick(&purposes);
                        fields.push_str(&format!("  - {{name: {name}, purposes: [{pp}]}}\n"));
                        continue;
                    }
                    fields.push_str(&format!("  - name: {name}\n"));
                    if p.chance(5) {
                        fields.push_str(&list(p, "purposes", &purposes, "    "));
                    }
                    if p.chance(3) {
                        fields.push_str(&list(p, "categories", &categories, "    "));
                    }
                }
                blocks.push(fields);
            }
            "sink" => {
                blocks.push(list(p, "uses", &purposes, ""));
                if p.chance(3) {
                    blocks.push("vendor: V\n".into());
                }
            }
            _ => {
                let mut steps = String::from("steps:\n");
                for i in 0..1 + p.below(3) {
                    steps.push_str(&format!("  - name: s{i}\n"));
                    let mut keys: Vec<String> = vec![
                        format!("from: {}\n", p.pick(&["a.b", "[a.b, x]", "[x]"])),
                        format!("to: {}\n", p.pick(&["x", "stage.y", "a.b"])),
                    ];
                    if p.chance(3) {
                        keys.push("join: sha256(a.b.f) = x.f\n".into());
                    }
                    if p.chance(3) {
                        keys.push(format!(
                            "where: {}\n",
                            p.pick(&["a.b.g IS NULL", "f = 1 AND ("])
                        ));
                    }
                    if p.chance(3) {
                        keys.push(format!("group_by: {}\n", p.pick(&["f", "[a.b.f, x.g]"])));
                    }
                    if p.chance(6) {
                        keys.push(
                            p.pick(&[
                                "fields: {o: a.b.f, p: lower(x.g)}\n",
                                "fields:\n      o: a.b.f\n      n: count(*)\n",
                                "fields:\n",
                                "fields: {o: a.b.f, o: x.f}\n",
                            ])
                            .into(),
                        );
                    }
                    if p.chance(2) {
                        keys.push(
                            p.pick(&[
                                "allow:\n      - rule: security-to-advertising\n        reason: ok\n",
                                "allow: [{rule: security-to-marketing}]\n",
                            ])
                            .into(),
                        );
                    }
                    for k in keys {
                        steps.push_str("    ");
                        steps.push_str(&k);
                    }
                }
                blocks.push(steps);
            }
        }
        if p.chance(1) {
            blocks.push(
                p.pick(&["colour: red\n", "name: again\n", "fields: []\n"])
                    .into(),
            );
        }
        // Keys in any order after `kind` (and sometimes before it).
        for i in (1..blocks.len()).rev() {
            let j = p.below(i + 1);
            blocks.swap(i, j);
        }
        let kind = format!("kind: {kind}\n");
        if p.chance(1) {
            blocks.push(kind);
        } else {
            blocks.insert(0, kind);
        }
        if p.chance(3) {
            let version = p.pick(&["purposelint/v1", "purposelint/v1", "v2"]);
            blocks.insert(p.below(2), format!("apiVersion: {version}\n"));
        }
        docs.push(blocks.concat());
    }
    docs.join("---\n")
}

/// The generator is worth its salt: the stream reads a good share of its files.
#[test]
fn most_generated_manifests_are_streamed() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut streamed = 0;
    for _ in 0..500 {
        let bytes = (0..200)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        streamed += usize::from(same(&manifest(&mut Picks(bytes, 0))));
    }
    assert!(streamed > 150, "only {streamed} of 500 streamed");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Wherever the stream reads a file, it reads what the tree reads.
    #[test]
    fn generated_manifests_read_alike(bytes in prop::collection::vec(any::<u8>(), 200)) {
        same(&manifest(&mut Picks(bytes, 0)));
    }
}
