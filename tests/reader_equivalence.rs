//! The tape reader against the readers it replaces (the span-carrying tree, its decoder
//! and the native stream reader): byte-identical check output in every format, on every
//! bundled example, fixture and corpus project, on generated repositories of each format,
//! with configuration, rule and baseline files, and on property-generated manifests.

#[path = "../examples/corpus/mod.rs"]
#[allow(dead_code)]
mod corpus;

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use purposelint::check::{self, Options};
use purposelint::report;

const FORMATS: [&str; 6] = ["human", "compact", "json", "sarif", "github", "gitlab"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What the binary prints and returns, with the old readers or the tape.
fn run(args: &[&str], legacy: bool) -> (String, String, Option<i32>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_purposelint"));
    cmd.current_dir(root()).args(args);
    if legacy {
        cmd.env("PURPOSELINT_LEGACY_READER", "1");
    } else {
        cmd.env_remove("PURPOSELINT_LEGACY_READER");
    }
    let out = cmd.output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn same(args: &[&str]) {
    let old = run(args, true);
    let new = run(args, false);
    assert_eq!(
        old,
        new,
        "the readers differ on `purposelint {}`",
        args.join(" ")
    );
}

fn check_all_formats(input: &str, extra: &[&str]) {
    for format in FORMATS {
        let mut args = vec!["check", input, "--format", format, "--color", "never"];
        args.extend_from_slice(extra);
        same(&args);
    }
}

/// The inputs of `scripts/output-snapshot.sh`: each example, fixture and corpus project,
/// and every folder of them (so each YAML file is read in a run of its own folder).
fn inputs() -> Vec<String> {
    let mut dirs = vec![root().join("examples")];
    let mut add = |base: &Path, levels: usize| {
        let mut level = vec![base.to_path_buf()];
        for _ in 0..levels {
            let mut next = Vec::new();
            for d in &level {
                let Ok(entries) = std::fs::read_dir(d) else {
                    continue;
                };
                let mut sub: Vec<PathBuf> = entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect();
                sub.sort();
                next.extend(sub);
            }
            dirs.extend(next.iter().cloned());
            level = next;
        }
    };
    add(&root().join("examples"), 1);
    add(&root().join("tests/fixtures"), 2);
    let corpus = root().join("../shared/corpus");
    let present = corpus.is_dir();
    if present {
        add(&corpus, 2);
    } else {
        eprintln!("../shared/corpus is absent: the corpus part is skipped");
    }
    if present {
        dirs.push(corpus);
    }
    dirs.into_iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn examples_fixtures_and_corpus_read_alike() {
    let inputs = inputs();
    assert!(inputs.len() > 10, "{inputs:?}");
    for input in inputs {
        check_all_formats(&input, &["--no-config"]);
    }
}

#[test]
fn every_yaml_file_alone_reads_alike() {
    let mut files = Vec::new();
    let mut dirs = vec![root().join("examples"), root().join("tests/fixtures")];
    let corpus = root().join("../shared/corpus");
    if corpus.is_dir() {
        dirs.push(corpus);
    }
    for dir in dirs {
        for entry in ignore::WalkBuilder::new(dir).build().flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(p.to_string_lossy().into_owned());
            }
        }
    }
    assert!(files.len() > 50, "{}", files.len());
    for f in files {
        same(&["check", &f, "--no-config", "--format", "json"]);
    }
}

#[test]
fn generated_repositories_read_alike() {
    let dir = tempfile::tempdir().unwrap();
    let native = dir.path().join("native");
    let cfg = corpus::Config {
        files: 300,
        seed: 7,
        violating: 0.2,
    };
    corpus::generate(&cfg, &native).unwrap();
    let fides = dir.path().join("fides");
    corpus::fides::generate(150, 7, &fides).unwrap();
    let dbt = dir.path().join("dbt");
    corpus::dbt::properties(40, 7, &dbt).unwrap();
    let models = dir.path().join("models");
    corpus::dbt::generate(60, 7, &models).unwrap();
    for d in [&native, &fides, &dbt, &models] {
        check_all_formats(&d.to_string_lossy(), &["--no-config"]);
    }
}

const CONFIGS: [&str; 9] = [
    "",
    "~\n",
    "include: ['**/*.yaml']\nexclude: [pipelines/**]\nseverity:\n  security-to-advertising: warning\n  unknown-purpose: off\n",
    "taxonomy:\n  data_uses:\n    - key: marketing.advertising.custom\n      parent_key: marketing.advertising\n      name: Custom\n  data_categories:\n    - {key: user.contact.pager, name: Pager}\naliases:\n  ads: marketing.advertising\n",
    "external_datasets:\n  - raw.*\n  - name: vendor.feed\n    purposes: [essential.service.security, not.a.use]\nmax_file_size: 512KiB\nfides:\n  infer_purposes_from_systems: true\n",
    "severity: [a]\nrule_dirs: x\nfides: {infer_purposes_from_systems: maybe}\n",
    "include: ['[']\nsevrity: {}\naliases: {x: not.a.key, x: marketing}\n",
    "a: b\n---\nc: d\n",
    "taxonomy:\n  data_uses:\n    - key: a..b\n    - key: x.y\n      parent_key: z\nmax_file_size: lots\nexternal_datasets: [{name: '['}]\n",
];

#[test]
fn configurations_rules_and_baselines_read_alike() {
    let dir = tempfile::tempdir().unwrap();
    let example = root().join("examples/tailored-audiences");
    let example = example.to_string_lossy().into_owned();
    for (i, text) in CONFIGS.iter().enumerate() {
        let path = dir.path().join(format!("config{i}.yaml"));
        std::fs::write(&path, text).unwrap();
        let path = path.to_string_lossy().into_owned();
        for format in ["human", "json"] {
            same(&["check", &example, "--config", &path, "--format", format]);
        }
    }
    // Rules: the built-in ones again, and broken ones.
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    for entry in std::fs::read_dir(root().join("rules")).unwrap().flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), rules.join(entry.file_name())).unwrap();
        }
    }
    let rules_arg = rules.to_string_lossy().into_owned();
    same(&["check", &example, "--no-config", "--rules", &rules_arg]);
    same(&["rules", "--rules", &rules_arg, "--format", "json"]);
    for (i, text) in [
        "id: Bad_Id\nseverity: fatal\nsummary: ''\nsource: {purposes: []}\nsink: {uses: []}\nflows: [sideways]\n",
        "id: custom-rule\nseverity: error\nsummary: s\ndescription: d\nsource:\n  purposes: [essential.service.security]\n  categories: [user.contact]\nsink:\n  uses: [analytics]\nflows: [direct, passthrough]\nsanitizers: [SHA256]\n",
        "[not, a, mapping]\n",
        "id: x\nid: y\n",
    ]
    .iter()
    .enumerate()
    {
        let d = dir.path().join(format!("rules{i}"));
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("rule.yaml"), text).unwrap();
        let d = d.to_string_lossy().into_owned();
        same(&["check", &example, "--no-config", "--rules", &d]);
    }
    // Baselines: one written by the tape, and broken ones.
    let baseline = dir.path().join("baseline.yaml");
    let b = baseline.to_string_lossy().into_owned();
    let written = run(&["baseline", &b, &example, "--no-config"], false);
    assert!(baseline.exists(), "{written:?}");
    same(&["check", &example, "--no-config", "--baseline", &b]);
    for (i, text) in [
        "version: 2\nfindings: {}\n",
        "version: 1\nfindings:\n  - rule: r\n    fingerprint: ''\n  - [x]\n",
        "",
        "version: 1\nfindings: [\n",
    ]
    .iter()
    .enumerate()
    {
        let path = dir.path().join(format!("baseline{i}.yaml"));
        std::fs::write(&path, text).unwrap();
        let path = path.to_string_lossy().into_owned();
        same(&["check", &example, "--no-config", "--baseline", &path]);
    }
}

/// Every format of one in-process run, as bytes.
fn outputs(files: &[(String, Vec<u8>)], legacy: bool) -> Vec<Vec<u8>> {
    purposelint::legacy::set(legacy);
    let opts = Options::new(Vec::new());
    let o = check::run_bytes(&opts, files.to_vec());
    purposelint::legacy::set(false);
    let s = &o.model.sources;
    let mut out = vec![Vec::new(); 6];
    report::human::render_findings(&mut out[0], s, &o.findings, false).unwrap();
    report::human::render_summary(&mut out[0], &o.summary, &o.findings, false).unwrap();
    report::compact::render(&mut out[1], s, &o.findings).unwrap();
    report::json::render(&mut out[2], s, &o.summary, &o.findings).unwrap();
    let rules = report::sarif::descriptors(&opts.rules, |_, sev| sev);
    report::sarif::render(&mut out[3], s, &rules, &o.findings, &o.dismissed).unwrap();
    report::github::render(&mut out[4], s, &o.findings).unwrap();
    report::gitlab::render(&mut out[5], s, &o.findings).unwrap();
    out
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
/// nulls, known and unknown taxonomy keys, duplicate field names, anchors and aliases,
/// and now and then a mistake (an unknown key, an empty list, a missing reason).
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
    for d in 0..1 + p.below(3) {
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
                if p.chance(2) {
                    blocks.push(format!("uses: &u{d} [{}]\n", p.pick(&purposes)));
                } else if d > 0 && p.chance(2) {
                    blocks.push("uses: *u0\n".into());
                } else {
                    blocks.push(list(p, "uses", &purposes, ""));
                }
                if p.chance(3) {
                    blocks.push("vendor: V\n".into());
                }
            }
            _ => {
                let mut steps = String::from("steps:\n");
                for i in 0..1 + p.below(3) {
                    steps.push_str(&format!("  - name: s{i}\n"));
                    let mut keys: Vec<String> = vec![
                        format!("from: {}\n", p.pick(&["a.b", "[a.b, x]", "[x]", "'ü.ñ'"])),
                        format!("to: {}\n", p.pick(&["x", "stage.y", "a.b"])),
                    ];
                    if p.chance(3) {
                        keys.push("join: sha256(a.b.f) = x.f\n".into());
                    }
                    if p.chance(3) {
                        keys.push(format!(
                            "where: {}\n",
                            p.pick(&["a.b.g IS NULL", "f = 1 AND (", "\"a.b.f = 'x'\""])
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
                                "fields: {o.p: a.b.f, '': x}\n",
                            ])
                            .into(),
                        );
                    }
                    if p.chance(2) {
                        keys.push(
                            p.pick(&[
                                "allow:\n      - rule: security-to-advertising\n        reason: ok\n",
                                "allow: [{rule: security-to-marketing}]\n",
                                "allow: [{rule: nope, reason: r}]\n",
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
                p.pick(&[
                    "colour: red\n",
                    "name: again\n",
                    "fields: []\n",
                    "steps: {}\n",
                    "uses: 3\n",
                ])
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
        docs.push(blocks.concat());
    }
    docs.join("---\n")
}

/// Fides resources with the same kinds of variation.
fn fides(p: &mut Picks) -> String {
    let mut y = String::new();
    if p.chance(8) {
        y.push_str(
            "dataset:\n  - fides_key: ds\n    collections:\n      - name: c\n        fields:\n",
        );
        for _ in 0..1 + p.below(3) {
            let name = p.pick(&["email", "phone", "email", "ü"]);
            let cat = p.pick(&["user.contact.email", "user.contact.phone_number", "nope"]);
            y.push_str(&format!(
                "          - name: {name}\n            data_categories: [{cat}]\n"
            ));
            if p.chance(3) {
                y.push_str(p.pick(&[
                    "            data_purposes: [essential.service.security]\n",
                    "            fides_meta: {references: [{dataset: ds, field: c.email, direction: from}]}\n",
                    "            fields:\n              - name: inner\n",
                    "            fides_meta: []\n",
                    "            colour: red\n",
                ]));
            }
        }
    }
    y.push_str("system:\n");
    for i in 0..1 + p.below(3) {
        let data_use = p.pick(&[
            "marketing.advertising.third_party.targeted",
            "analytics.reporting",
            "essential.service.security",
            "nope",
        ]);
        y.push_str(&format!(
            "  - fides_key: sys{i}\n    privacy_declarations:\n      - data_use: {data_use}\n        data_categories: [user.contact]\n        data_subjects: [customer]\n"
        ));
        if p.chance(5) {
            y.push_str("        dataset_references: [ds]\n");
        }
        if p.chance(3) {
            y.push_str(p.pick(&[
                "    egress: [{fides_key: sys0, type: system}]\n",
                "    ingress:\n      - fides_key: ds\n        type: dataset\n",
                "    egress: [{fides_key: user, type: system}]\n",
                "    name: [x]\n",
            ]));
        }
    }
    if p.chance(3) {
        y.push_str("policy:\n  - fides_key: pol\n    rules:\n      - name: r\n        data_categories: {matches: ANY, values: [user.contact]}\n        data_uses: {matches: ANY, values: [marketing]}\n        data_subjects: {matches: SOME, values: [customer]}\n");
    }
    y
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Generated native and Fides manifests: the same output in every format.
    #[test]
    fn generated_manifests_read_alike(bytes in prop::collection::vec(any::<u8>(), 400)) {
        let mut p = Picks(bytes, 0);
        let mut files = Vec::new();
        for i in 0..1 + p.below(3) {
            files.push((format!("m{i}.yaml"), manifest(&mut p).into_bytes()));
        }
        if p.chance(4) {
            files.push(("fides.yml".to_string(), fides(&mut p).into_bytes()));
        }
        let old = outputs(&files, true);
        let new = outputs(&files, false);
        for (format, (o, n)) in FORMATS.iter().zip(old.iter().zip(&new)) {
            prop_assert_eq!(
                String::from_utf8_lossy(o),
                String::from_utf8_lossy(n),
                "{} differs on {:?}",
                format,
                files.iter().map(|(n, b)| (n, String::from_utf8_lossy(b))).collect::<Vec<_>>()
            );
        }
    }
}
