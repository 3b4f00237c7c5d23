//! Issue 16's acceptance, as a new user meets it: foreign YAML next to manifests is
//! silent; each way a leak used to vanish with a green check now fails with a diagnostic
//! that names the fix; suggestions reach every output format; suppressions are listed.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod support;
use support::{copy_tree, Run};

fn repo(example: &str) -> (tempfile::TempDir, PathBuf) {
    support::example_repo(example)
}

fn run(cwd: &Path, args: &[&str]) -> Run {
    support::run_in(cwd, args)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The compact lines of a check of `root`, and its exit code.
fn compact(root: &Path) -> (i32, String) {
    let r = run(root, &["check", "--format", "compact"]);
    (r.code, r.stdout)
}

#[test]
fn foreign_yaml_next_to_the_clean_example_is_silent() {
    let (_d, root) = repo("consented-marketing");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/foreign-yaml"),
        &root.join("ci"),
    );
    let r = run(&root, &["check", "--format", "compact"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    let r = run(&root, &["check", "--show-files"]);
    for line in [
        "skipped  ci/.drone.yml: not a manifest",
        "skipped  ci/.tekton/pipeline.yaml: not a manifest",
        "skipped  ci/.github/advanced-issue-labeler.yml: not a manifest",
    ] {
        assert!(r.stdout.contains(line), "{line} in\n{}", r.stdout);
    }
}

#[test]
fn a_typo_in_a_sink_name_fails_with_the_name_to_use() {
    let (_d, root) = repo("tailored-audiences");
    let pipeline = root.join("pipelines/matching.yaml");
    edit(
        &pipeline,
        "to: x_tailored_audiences",
        "to: x_tailored_audience",
    );
    let (code, out) = compact(&root);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "pipelines/matching.yaml:16:9: error[undeclared-destination] `x_tailored_audience` is not a declared dataset or sink, and no step reads it: where these flows end is unknown; did you mean `x_tailored_audiences`?\n"
    );
}

#[test]
fn a_sink_file_left_out_of_the_run_is_named() {
    let (_d, root) = repo("tailored-audiences");
    std::fs::write(root.join(".gitignore"), "sinks.yaml\n").unwrap();
    let (code, out) = compact(&root);
    assert_eq!(code, 1);
    assert!(
        out.contains("error[undeclared-destination] `x_tailored_audiences` is declared in sinks.yaml, which this run does not read: it is gitignored"),
        "{out}"
    );
    std::fs::remove_file(root.join(".gitignore")).unwrap();
    std::fs::write(root.join("purposelint.yaml"), "exclude: [sinks.yaml]\n").unwrap();
    let r = run(&root, &["check", "--color", "never"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("purposelint.yaml excludes it"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "help: change `include` or `exclude` in purposelint.yaml so that sinks.yaml is read"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn a_wrong_kind_is_reported_with_the_kind_to_use() {
    let (_d, root) = repo("tailored-audiences");
    edit(&root.join("sinks.yaml"), "kind: sink", "kind: sinks");
    let (code, out) = compact(&root);
    assert_eq!(code, 1);
    assert!(
        out.contains("sinks.yaml:2:7: error[invalid-manifest] unknown manifest kind `sinks`; did you mean `sink`?"),
        "{out}"
    );
    // The steps writing into those sinks point at the root cause, not at a typo.
    assert!(
        out.contains("error[undeclared-destination] `x_tailored_audiences` is declared in sinks.yaml, which has invalid-manifest errors; fix that file first"),
        "{out}"
    );
}

#[test]
fn a_typo_in_a_purpose_fails_the_build() {
    let (_d, root) = repo("tailored-audiences");
    let schema = root.join("schemas/accounts.yaml");
    let text = std::fs::read_to_string(&schema).unwrap();
    std::fs::write(
        &schema,
        text.replace("essential.service.security", "essential.service.securty"),
    )
    .unwrap();
    let (code, out) = compact(&root);
    assert_eq!(code, 1);
    assert!(
        out.contains("error[unknown-purpose] `essential.service.securty` is not a known data use; did you mean `essential.service.security`?"),
        "{out}"
    );
}

#[test]
fn a_rule_file_with_misspelt_keys_never_passes_silently() {
    let (_d, root) = repo("tailored-audiences");
    let rules = root.join("policy");
    std::fs::create_dir_all(&rules).unwrap();
    let rule = "id: fraud-signals-to-analytics\nseverity: warning\nsummary: Fraud signals reach analytics\ndescription: x\nsource:\n  purposes: [essential.fraud_detecton]\nsink:\n  uses: [analytcs]\n";
    std::fs::write(rules.join("fraud.yaml"), rule).unwrap();
    let r = run(&root, &["check", "--rules", "policy", "--color", "never"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("invalid rule file policy/fraud.yaml"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("[policy/fraud.yaml:6:14]"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("`essential.fraud_detecton` is not a known data use; did you mean `essential.fraud_detection`?"),
        "{}",
        r.stderr
    );
    assert!(r
        .stderr
        .contains("`analytcs` is not a known data use; did you mean `analytics`?"));
    // A misspelt key of the rule format: its own check id, at its line.
    let rule = rule
        .replace("sink:", "sinc:")
        .replace("analytcs", "analytics");
    std::fs::write(rules.join("fraud.yaml"), rule).unwrap();
    let r = run(&root, &["check", "--rules", "policy", "--color", "never"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("invalid-rule"), "{}", r.stderr);
    assert!(r
        .stderr
        .contains("unknown key `sinc` in a rule; did you mean `sink`?"));
}

#[test]
fn a_placeholder_reason_is_rejected() {
    let (_d, root) = repo("tailored-audiences");
    edit(
        &root.join("pipelines/matching.yaml"),
        "    to: x_tailored_audiences\n",
        "    to: x_tailored_audiences\n    allow:\n      - rule: security-to-advertising\n        reason: \"TODO: why this flow is acceptable\"\n",
    );
    let (code, out) = compact(&root);
    assert_eq!(code, 1);
    assert!(
        out.contains("pipelines/matching.yaml:19:17: error[invalid-manifest] `TODO: why this flow is acceptable` is a placeholder, not a reason: record why this flow was approved"),
        "{out}"
    );
    assert_eq!(
        out.matches("error[security-to-advertising]").count(),
        3,
        "{out}"
    );
}

#[test]
fn every_format_shows_did_you_mean_for_an_unknown_dataset_and_field() {
    let (_d, root) = repo("tailored-audiences");
    let pipeline = root.join("pipelines/matching.yaml");
    edit(
        &pipeline,
        "from: [ads.advertiser_uploads, accounts.security_contacts]",
        "from: [ads.advertiser_upload, accounts.security_contacts]",
    );
    edit(
        &pipeline,
        "user_id: accounts.security_contacts.user_id",
        "user_id: accounts.security_contacts.user_ud",
    );
    let dataset = "did you mean `ads.advertiser_uploads`?";
    let field = "did you mean `user_id`?";
    for format in ["human", "compact", "json", "sarif", "github", "gitlab"] {
        let r = run(&root, &["check", "--format", format, "--color", "never"]);
        assert_eq!(r.code, 1, "{format}");
        for wanted in [dataset, field] {
            assert!(
                r.stdout.contains(wanted),
                "{format}: {wanted} in\n{}",
                r.stdout
            );
        }
    }
}

#[test]
fn json_lists_suppressed_findings_and_counts_them() {
    let (_d, root) = repo("tailored-audiences");
    edit(
        &root.join("pipelines/matching.yaml"),
        "    to: x_tailored_audiences\n",
        "    to: x_tailored_audiences\n    allow:\n      - rule: security-to-advertising\n        reason: DPIA-2024-17 approved; hashed upload only.\n",
    );
    let r = run(&root, &["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["suppressed"], 3);
    let s = &v["suppressed"][0];
    assert_eq!(s["rule"], "security-to-advertising");
    assert_eq!(s["how"], "allow");
    assert_eq!(s["reason"], "DPIA-2024-17 approved; hashed upload only.");
    assert_eq!(s["sink"], "x_tailored_audiences");
    assert_eq!(s["at"]["line"], 18);
    let r = run(&root, &["check", "--color", "never"]);
    assert!(
        r.stdout
            .ends_with("3 suppressed: 3 by allow (--show-suppressed lists them).\n"),
        "{}",
        r.stdout
    );
    // The baseline counts as such.
    let (_d, root) = repo("tailored-audiences");
    assert_eq!(run(&root, &["baseline", "b.yaml"]).code, 0);
    let r = run(
        &root,
        &["check", "--baseline", "b.yaml", "--format", "json"],
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["suppressed"][0]["how"], "baseline");
    assert_eq!(v["summary"]["suppressed"], 3);
}

#[test]
fn nothing_to_lint_warns_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("empty/.git")).unwrap();
    let r = run(dir.path(), &["check", "empty", "--format", "compact"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout,
        "empty:1:1: warning[no-input] nothing to lint in `empty`: no purposelint manifest, dbt project or Fides resource was found\n"
    );
    let r = run(dir.path(), &["check", "empty", "--fail-on", "warning"]);
    assert_eq!(r.code, 1);
}

#[test]
fn a_file_given_twice_is_read_once() {
    let (_d, root) = repo("tailored-audiences");
    let r = run(
        &root,
        &[
            "check",
            ".",
            "sinks.yaml",
            "./sinks.yaml",
            "--format",
            "compact",
        ],
    );
    assert!(!r.stdout.contains("duplicate-definition"), "{}", r.stdout);
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);
}

#[test]
fn a_broken_file_is_named_by_the_references_it_breaks() {
    let (_d, root) = repo("tailored-audiences");
    let schema = root.join("schemas/ads.yaml");
    let text = std::fs::read_to_string(&schema).unwrap();
    std::fs::write(&schema, format!("{text}oops: [\n")).unwrap();
    let (code, out) = compact(&root);
    assert_eq!(code, 1);
    let caused: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("error[unknown-reference]"))
        .collect();
    assert_eq!(caused.len(), 5, "{out}");
    for l in caused {
        assert!(
            l.ends_with("`ads.advertiser_uploads` is declared in schemas/ads.yaml, which could not be parsed; fix that file first"),
            "{l}"
        );
    }
    assert!(out.contains("schemas/ads.yaml:"), "{out}");
}

#[test]
fn a_source_in_its_own_sink_says_there_is_no_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::write(
        dir.path().join("d.yaml"),
        "apiVersion: purposelint/v1\nkind: dataset\nname: ads.phones\npurposes: [essential.service.security]\nuses: [marketing.advertising]\nfields:\n  - name: phone\n",
    )
    .unwrap();
    let r = run(dir.path(), &["check", "--color", "never"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("  path: none: the field's own dataset has these uses\n"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("(0 hops)"));
    assert!(
        r.stdout.contains("(1 file, 1 manifest, 1 field, 0 flows)"),
        "{}",
        r.stdout
    );
}
