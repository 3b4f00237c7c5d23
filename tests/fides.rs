//! Fides (fideslang) manifests: the acceptance fixture, validation, and the real corpus.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use purposelint::check::{self, Options, Outcome};
use purposelint::finding::Finding;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_with(paths: &[PathBuf], infer: bool) -> Outcome {
    let mut opts = Options::new(paths.to_vec());
    opts.fides.infer_purposes_from_systems = infer;
    check::run(&opts).expect("run")
}

fn run(path: &Path) -> Outcome {
    run_with(&[path.to_path_buf()], false)
}

/// File name relative to `base`, so snapshots do not depend on where the corpus is.
fn file_of(out: &Outcome, f: &Finding, base: &Path) -> String {
    let path = &out.model.sources.get(f.location.file).path;
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.to_string_lossy().into_owned()
}

fn at(out: &Outcome, loc: purposelint::source::Loc, base: &Path) -> String {
    let path = &out.model.sources.get(loc.file).path;
    let rel = path.strip_prefix(base).unwrap_or(path);
    format!(
        "{}:{}:{}",
        rel.to_string_lossy(),
        loc.span.start_pos.line,
        loc.span.start_pos.column
    )
}

/// A stable, readable rendering of every finding with its path.
fn render(out: &Outcome, base: &Path) -> String {
    let mut s = String::new();
    writeln!(
        s,
        "files {} manifests {} fields {} flows {}",
        out.summary.files, out.summary.manifests, out.summary.fields, out.summary.flows
    )
    .unwrap();
    for f in &out.findings {
        writeln!(
            s,
            "{} {} {}:{}:{} {}",
            f.severity.as_str(),
            f.rule,
            file_of(out, f, base),
            f.location.span.start_pos.line,
            f.location.span.start_pos.column,
            f.message
        )
        .unwrap();
        if let Some(flow) = &f.flow {
            writeln!(s, "    source {}", at(out, flow.source.location, base)).unwrap();
            for h in &flow.path {
                writeln!(
                    s,
                    "    {} -> {} [{} {}] {}",
                    h.from,
                    h.to,
                    h.step,
                    h.flow.as_str(),
                    at(out, h.location, base)
                )
                .unwrap();
            }
            writeln!(s, "    sink {}", at(out, flow.sink.location, base)).unwrap();
        }
    }
    s
}

const ERRORS: [&str; 3] = [
    "invalid-manifest",
    "unknown-reference",
    "duplicate-definition",
];

#[test]
fn security_field_reaches_advertising_two_egress_hops_away() {
    let dir = root().join("tests/fixtures/fides/security-egress");
    let out = run(&dir);
    let text = render(&out, &dir);
    assert!(
        !out.findings
            .iter()
            .any(|f| ERRORS.contains(&f.rule.as_str())),
        "{text}"
    );
    let f = out
        .findings
        .iter()
        .find(|f| {
            f.rule == "security-to-advertising"
                && f.flow.as_ref().unwrap().source.name == "accounts.security_contacts.phone_number"
        })
        .unwrap_or_else(|| panic!("no finding:\n{text}"));
    let flow = f.flow.as_ref().unwrap();
    assert_eq!(flow.sink.name, "ad_audiences");
    assert_eq!(flow.source.keys, ["essential.service.authentication"]);
    let hops: Vec<(String, String, u32)> = flow
        .path
        .iter()
        .map(|h| {
            let file = out.model.sources.get(h.location.file);
            (
                format!("{} -> {}", h.from, h.to),
                file.path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                h.location.span.start_pos.line,
            )
        })
        .collect();
    assert_eq!(
        hops,
        [
            (
                "accounts.security_contacts.phone_number -> auth_service.user.contact.phone_number"
                    .to_string(),
                "systems.yml".to_string(),
                15
            ),
            (
                "auth_service.user.contact.phone_number -> crm_sync.user.contact.phone_number"
                    .to_string(),
                "systems.yml".to_string(),
                6
            ),
            (
                "crm_sync.user.contact.phone_number -> ad_audiences.user.contact.phone_number"
                    .to_string(),
                "systems.yml".to_string(),
                21
            ),
        ]
    );
    // The source is the nested declaration's name; the sink is the system's fides_key.
    assert_eq!(flow.source.location.span.start_pos.line, 17);
    assert_eq!(flow.sink.location.span.start_pos.line, 29);
    insta::assert_snapshot!("fixture_security_egress", text);
}

#[test]
fn inference_is_opt_in() {
    let dir = root().join("tests/fixtures/fides/inference");
    let off = run_with(std::slice::from_ref(&dir), false);
    assert!(
        !off.findings
            .iter()
            .any(|f| f.rule == "security-to-advertising"),
        "{}",
        render(&off, &dir)
    );
    let on = run_with(std::slice::from_ref(&dir), true);
    let text = render(&on, &dir);
    assert!(
        on.findings
            .iter()
            .any(|f| f.rule == "security-to-advertising"
                && f.flow.as_ref().unwrap().source.name == "otp.codes.phone"),
        "{text}"
    );
    // `shared` is also read for analytics: nothing is inferred for it.
    assert!(
        !on.findings.iter().any(|f| f
            .flow
            .as_ref()
            .is_some_and(|p| p.source.name.starts_with("shared."))),
        "{text}"
    );
}

#[test]
fn invalid_fides_manifests_point_at_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yml");
    std::fs::write(
        &file,
        "dataset:\n  - fides_key: d\n    collections:\n      - name: c\n        fields:\n          - name: a\n            data_categoris: [user]\n          - name: b\n            data_categories: user\n\
         system:\n  - fides_key: s\n    privacy_declarations:\n      - data_use: marketing\n        data_categories: []\n        dataset_references: [nope]\n    egress:\n      - fides_key: x\n        type: queue\n\
         policy:\n  - fides_key: p\n    rules:\n      - name: r\n        data_categories: {matches: SOME, values: [user]}\n        data_uses: {matches: ANY, values: [marketing]}\n        data_subjects: {matches: ANY, values: [customer]}\n",
    )
    .unwrap();
    let out = run(dir.path());
    let got: Vec<(String, u32, String)> = out
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.clone(),
                f.location.span.start_pos.line,
                f.message.clone(),
            )
        })
        .collect();
    let has = |rule: &str, line: u32, text: &str| {
        assert!(
            got.iter()
                .any(|(r, l, m)| r == rule && *l == line && m.contains(text)),
            "{rule} at {line} containing {text:?} in {got:#?}"
        );
    };
    has(
        "invalid-manifest",
        7,
        "unknown key `data_categoris` in a Fides dataset field; did you mean `data_categories`?",
    );
    has("invalid-manifest", 9, "`data_categories` must be a list");
    has(
        "invalid-manifest",
        18,
        "`type` must be one of dataset, system, user",
    );
    has("unknown-reference", 15, "no Fides dataset `nope`");
    has(
        "invalid-manifest",
        23,
        "`matches` must be ANY, ALL, NONE or OTHER",
    );
}

#[test]
fn declared_categories_are_checked_like_fides_evaluate() {
    // The Fides demo with `user.contact` uncommented in the marketing declaration: Fides'
    // per-declaration evaluation fails it, and so does the policy rule here.
    let dir = tempfile::tempdir().unwrap();
    let demo = root().join("../shared/corpus/fides/fides/demo_resources");
    for f in ["demo_policy.yml", "demo_dataset.yml", "demo_system.yml"] {
        let text = std::fs::read_to_string(demo.join(f)).unwrap();
        let text = text.replace("#- user.contact # uncomment", "- user.contact # uncomment");
        std::fs::write(dir.path().join(f), text).unwrap();
    }
    let out = run(dir.path());
    let text = render(&out, dir.path());
    let f = out
        .findings
        .iter()
        .find(|f| f.rule == "fides-policy/demo_privacy_policy/reject-direct-marketing")
        .unwrap_or_else(|| panic!("{text}"));
    let flow = f.flow.as_ref().unwrap();
    assert!(flow.path.is_empty(), "{text}");
    assert_eq!(
        flow.source.name,
        "demo_marketing_system/privacy_declarations[0].user.contact"
    );
    assert_eq!(f.location.span.start_pos.line, 32, "{text}");
    assert_eq!(out.findings.len(), 1, "{text}");
}

#[test]
fn references_purposes_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yml"),
        "dataset:\n  - fides_key: users\n    data_purposes: [essential.service.security]\n    collections:\n      - name: logins\n        fields:\n          - name: phone\n            data_categories: [user.contact.phone_number]\n            data_purposes: [not_a_purpose]\n  - fides_key: ads\n    collections:\n      - name: audience\n        fields:\n          - name: phone\n            fides_meta:\n              references:\n                - dataset: users\n                  field: logins.phone\n                  direction: from\n          - name: other\n            fides_meta:\n              references:\n                - dataset: users\n                  field: logins.phnoe\n\
         system:\n  - fides_key: ads_sys\n    system_type: Service\n    privacy_declarations:\n      - data_use: marketing.advertising\n        data_categories: []\n        dataset_references: [ads]\n  - fides_key: ads_sys\n    system_type: Service\n    privacy_declarations: []\n",
    )
    .unwrap();
    let out = run(dir.path());
    let text = render(&out, dir.path());
    for want in [
        "error unknown-purpose a.yml:9:29 `not_a_purpose` is neither a Fides `purpose` nor a known data use",
        "error unknown-reference a.yml:24:26 no field `logins.phnoe` in Fides dataset `users`",
        "error duplicate-definition a.yml:32:16 system `ads_sys` is already defined at",
        "users.logins.phone -> ads.audience.phone [ads.audience.phone/fides_meta.references direct] a.yml:18:26",
        "error security-to-advertising",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

/// The Fides projects of the corpus, each linted as one run (they share fides_keys).
fn corpus_projects() -> Vec<(&'static str, PathBuf)> {
    let c = root().join("../shared/corpus/fides");
    vec![
        ("fides_demo_resources", c.join("fides/demo_resources")),
        ("fides_dot_fides", c.join("fides/.fides")),
        (
            "fides_sample_project",
            c.join("fides/src/fides/data/sample_project/sample_resources"),
        ),
        ("fides_pbac", c.join("fides/pbac")),
        ("fideslang_demo", c.join("fideslang-demo/demo_resources")),
    ]
}

#[test]
fn corpus_reads_without_errors_and_findings_are_stable() {
    let mut total_files = 0;
    for (name, dir) in corpus_projects() {
        assert!(dir.is_dir(), "corpus missing: {}", dir.display());
        let out = run(&dir);
        let text = render(&out, &dir);
        let errors: Vec<&Finding> = out
            .findings
            .iter()
            .filter(|f| ERRORS.contains(&f.rule.as_str()))
            .collect();
        assert!(errors.is_empty(), "{name}:\n{text}");
        assert!(out.summary.manifests > 0, "{name}: nothing read");
        total_files += out.summary.files;
        insta::assert_snapshot!(format!("corpus_{name}"), text);
    }
    assert!(total_files >= 20, "{total_files}");
}

#[test]
fn whole_corpus_in_one_run_has_no_invalid_manifest() {
    let out = run(&root().join("../shared/corpus/fides"));
    let bad: Vec<&Finding> = out
        .findings
        .iter()
        .filter(|f| f.rule == "invalid-manifest")
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}
