//! The CI gate end to end: baseline, configuration, suppressions, selection, formats.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

mod support;
use support::Run;

fn example() -> (tempfile::TempDir, PathBuf) {
    support::example_repo("tailored-audiences")
}

fn run(cwd: &Path, args: &[&str]) -> Run {
    support::run_in(cwd, args)
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, f(text)).unwrap();
}

const NEW_STEP: &str = "  - name: sms_blast
    from: accounts.security_contacts
    to: sms_campaigns
    fields:
      phone: accounts.security_contacts.phone_number
";

const SMS_SINK: &str = "---
kind: sink
name: sms_campaigns
uses: [marketing.communications.sms]
";

#[test]
fn baseline_round_trip() {
    let (_d, root) = example();
    let r = run(&root, &["baseline", "purposelint-baseline.yaml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(root.join("purposelint-baseline.yaml")).unwrap();
    assert_eq!(text.matches("- fingerprint:").count(), 3, "{text}");
    assert!(
        !text.lines().any(|l| l.trim_start().starts_with("line")),
        "no line numbers in the baseline"
    );

    // Written twice, byte for byte the same.
    run(&root, &["baseline", "again.yaml"]);
    assert_eq!(
        text,
        std::fs::read_to_string(root.join("again.yaml")).unwrap()
    );

    // The baseline makes the example pass.
    let r = run(&root, &["check", "--baseline", "purposelint-baseline.yaml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // In SARIF the baselined findings are dismissed, not dropped.
    let r = run(
        &root,
        &[
            "check",
            "--baseline",
            "purposelint-baseline.yaml",
            "--format",
            "sarif",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert!(results
        .iter()
        .all(|r| r["suppressions"][0]["kind"] == "external"));

    // Lines inserted at the top of every file keep it matching.
    for f in [
        "sinks.yaml",
        "pipelines/matching.yaml",
        "schemas/accounts.yaml",
        "schemas/ads.yaml",
    ] {
        edit(&root.join(f), |t| format!("# moved\n\n# down\n{t}"));
    }
    let r = run(&root, &["check", "--baseline", "purposelint-baseline.yaml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // One new violating step: exit 1, and only its finding.
    edit(&root.join("pipelines/matching.yaml"), |t| t + NEW_STEP);
    edit(&root.join("sinks.yaml"), |t| t + SMS_SINK);
    let r = run(
        &root,
        &[
            "check",
            "--baseline",
            "purposelint-baseline.yaml",
            "--format",
            "compact",
        ],
    );
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stdout);
    assert!(lines[0].contains("security-to-marketing") && lines[0].contains("sms_campaigns"));

    // Removing a violation reports a stale entry.
    edit(&root.join("pipelines/matching.yaml"), |t| {
        t.replace(
            " OR sha256(lower(accounts.security_contacts.email)) = ads.advertiser_uploads.hashed_email",
            "",
        )
    });
    let r = run(&root, &["check", "--baseline", "purposelint-baseline.yaml"]);
    assert!(r.stderr.contains("stale baseline entry"), "{}", r.stderr);
    assert!(
        r.stderr.contains("accounts.security_contacts.email"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.matches("stale baseline entry").count(), 1);
}

#[test]
fn invalid_baseline_exits_2_at_the_line() {
    let (_d, root) = example();
    std::fs::write(
        root.join("b.yaml"),
        "version: 1\nfindings:\n  - fingerprnt: x\n",
    )
    .unwrap();
    let r = run(&root, &["check", "--baseline", "b.yaml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("b.yaml:3:"), "{}", r.stderr);
}

#[test]
fn github_annotations() {
    let (_d, root) = example();
    let r = run(&root, &["check", "--format", "github"]);
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0]
            .starts_with("::error file=pipelines/matching.yaml,line=9,endLine=9,col=11,endColumn="),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(",title=purposelint security-to-advertising::"));
    assert!(
        lines[0].contains("%0A"),
        "the path follows on escaped new lines"
    );
}

#[test]
fn config_is_found_upwards_and_severity_can_turn_rules_off() {
    let (_d, root) = example();
    std::fs::write(
        root.join("purposelint.yaml"),
        "severity:\n  security-to-advertising: off\n",
    )
    .unwrap();
    let r = run(&root.join("pipelines"), &["check", ".."]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = run(&root.join("pipelines"), &["check", "--no-config", ".."]);
    assert_eq!(r.code, 1);
    std::fs::write(
        root.join("other.yaml"),
        "severity:\n  security-to-advertising: warning\n",
    )
    .unwrap();
    let r = run(
        &root,
        &["check", "--config", "other.yaml", "--format", "compact"],
    );
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout.matches("warning[security-to-advertising]").count(),
        3
    );
}

#[test]
fn invalid_config_exits_2_naming_file_and_line() {
    let (_d, root) = example();
    std::fs::write(
        root.join(".purposelint.yaml"),
        "include: []\nexlcude: [x]\n",
    )
    .unwrap();
    let r = run(&root, &["check"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(".purposelint.yaml:2:1"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `exclude`"), "{}", r.stderr);
    std::fs::write(
        root.join(".purposelint.yaml"),
        "severity:\n  security-to-ads: off\n",
    )
    .unwrap();
    let r = run(&root, &["check"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unknown rule `security-to-ads`"),
        "{}",
        r.stderr
    );
    // Diagnostics about the configuration carry its own check id; taxonomy keys written
    // in it are unknown-purpose.
    assert!(r.stderr.contains("invalid-config"), "{}", r.stderr);
    assert!(!r.stderr.contains("invalid-manifest"), "{}", r.stderr);
    std::fs::write(
        root.join(".purposelint.yaml"),
        "aliases:\n  2fa: essential.service.authentification\nexternal_datasets:\n  - name: legacy.*\n    purposes: [essential.servce.security]\n",
    )
    .unwrap();
    let r = run(&root, &["check", "--color", "never"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.matches("unknown-purpose").count(),
        2,
        "{}",
        r.stderr
    );
    // (miette wraps the long message; the suggestions are in it.)
    assert!(
        r.stderr.contains("`essential.service.authentication`?"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("did you mean `essential.service.security`?"),
        "{}",
        r.stderr
    );
}

#[test]
fn config_exclude_and_include() {
    let (_d, root) = example();
    std::fs::write(root.join("purposelint.yaml"), "exclude: ['pipelines/**']\n").unwrap();
    assert_eq!(run(&root, &["check"]).code, 0);
    std::fs::write(
        root.join("purposelint.yaml"),
        "include: ['schemas/*.yaml']\n",
    )
    .unwrap();
    let r = run(&root, &["check", "--format", "json"]);
    assert!(r.stdout.contains("\"files\": 2"), "{}", r.stdout);
}

#[test]
fn config_aliases_and_taxonomy_extensions() {
    let (_d, root) = example();
    edit(&root.join("schemas/accounts.yaml"), |t| {
        t.replace(
            "purposes: [essential.service.security]\n",
            "purposes: [pii-security]\n",
        )
        .replace(
            "purposes: [essential.service.authentication]",
            "purposes: [essential.service.security.account_recovery]",
        )
    });
    // Without the configuration both are unknown; the label makes no field a source.
    let r = run(&root, &["check", "--format", "compact"]);
    assert_eq!(
        r.stdout.matches("unknown-purpose").count(),
        3,
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.matches("security-to-advertising").count(),
        1,
        "{}",
        r.stdout
    );
    std::fs::write(
        root.join("purposelint.yaml"),
        "aliases:\n  pii-security: essential.service.security\ntaxonomy:\n  data_uses:\n    - key: essential.service.security.account_recovery\n      name: Account recovery\n",
    )
    .unwrap();
    let r = run(&root, &["check", "--format", "compact"]);
    assert!(!r.stdout.contains("unknown-purpose"), "{}", r.stdout);
    assert_eq!(
        r.stdout.matches("security-to-advertising").count(),
        3,
        "{}",
        r.stdout
    );
}

#[test]
fn config_external_datasets() {
    let (_d, root) = example();
    edit(&root.join("pipelines/matching.yaml"), |t| {
        t + "  - name: legacy_export
    from: legacy.logins
    to: x_tailored_audiences
    fields:
      ip: legacy.logins.ip_address
"
    });
    let r = run(&root, &["check", "--format", "compact"]);
    assert!(
        r.stdout.contains("unknown dataset `legacy.logins`"),
        "{}",
        r.stdout
    );
    std::fs::write(
        root.join("purposelint.yaml"),
        "external_datasets:\n  - name: 'legacy.*'\n    purposes: [essential.fraud_detection]\n",
    )
    .unwrap();
    let r = run(&root, &["check", "--format", "compact"]);
    assert!(!r.stdout.contains("unknown"), "{}", r.stdout);
    assert!(
        r.stdout.contains("legacy.logins.ip_address"),
        "{}",
        r.stdout
    );
}

#[test]
fn config_rule_dirs_and_max_file_size() {
    let (_d, root) = example();
    std::fs::create_dir_all(root.join("policy")).unwrap();
    let rule = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/security-to-advertising.yaml"),
    )
    .unwrap()
    .replace("id: security-to-advertising", "id: org-no-ads")
    .replace("severity: error", "severity: info");
    std::fs::write(root.join("policy/org.yaml"), rule).unwrap();
    std::fs::write(
        root.join("purposelint.yaml"),
        "rule_dirs: [policy]\nmax_file_size: 100B\n",
    )
    .unwrap();
    // `policy/org.yaml` is a rule file, not a manifest; it is linted and skipped silently.
    let r = run(
        &root,
        &[
            "check",
            "--format",
            "compact",
            "schemas",
            "pipelines",
            "sinks.yaml",
        ],
    );
    assert!(
        r.stdout.contains("skipped-file"),
        "files over 100 bytes are skipped: {}",
        r.stdout
    );
    std::fs::write(root.join("purposelint.yaml"), "rule_dirs: [policy]\n").unwrap();
    let r = run(
        &root,
        &[
            "check",
            "--format",
            "compact",
            "schemas",
            "pipelines",
            "sinks.yaml",
        ],
    );
    assert_eq!(
        r.stdout.matches("info[org-no-ads]").count(),
        3,
        "{}",
        r.stdout
    );
}

#[test]
fn schema_config_is_json() {
    let r = run(Path::new(env!("CARGO_MANIFEST_DIR")), &["schema", "config"]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["additionalProperties"], false);
    // A configuration using every key validates against it.
    let validator = jsonschema::validator_for(&v).unwrap();
    let sample = serde_json::json!({
        "include": ["**/*.yaml"], "exclude": ["charts/**"],
        "severity": {"unknown-purpose": "off"}, "rule_dirs": ["policy"],
        "taxonomy": {"data_uses": [{"key": "essential.service.security.recovery", "name": "R"}]},
        "aliases": {"2fa": "essential.service.authentication"},
        "external_datasets": ["legacy.*", {"name": "raw.*", "purposes": ["essential.fraud_detection"]}],
        "max_file_size": "10MiB"
    });
    assert!(validator.is_valid(&sample));
    assert!(!validator.is_valid(&serde_json::json!({"exlcude": []})));
}

#[test]
fn inline_ignore_and_unused_suppression() {
    let (_d, root) = example();
    edit(&root.join("pipelines/matching.yaml"), |t| {
        t.replace(
            "  - name: match_uploads\n",
            "  - name: match_uploads  # purposelint: ignore[security-to-advertising] DPIA-2024-17\n",
        )
    });
    let r = run(&root, &["check", "--format", "compact"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.stdout, "");
    let r = run(
        &root,
        &["check", "--format", "compact", "--show-suppressed"],
    );
    assert_eq!(
        r.stdout
            .matches("suppressed error[security-to-advertising]")
            .count(),
        3
    );
    assert!(r.stdout.contains("DPIA-2024-17"));

    // The comment on a line no finding touches suppresses nothing.
    edit(&root.join("sinks.yaml"), |t| {
        t.replace(
            "vendor: X Corp.",
            "vendor: X Corp.  # purposelint: ignore[security-to-advertising] n/a",
        )
    });
    let r = run(&root, &["check", "--format", "compact"]);
    assert!(
        r.stdout.contains("warning[unused-suppression]"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.starts_with("sinks.yaml:5:"), "{}", r.stdout);

    // A missing reason is an error.
    edit(&root.join("sinks.yaml"), |t| t.replace("] n/a", "]"));
    let r = run(&root, &["check", "--format", "compact"]);
    assert!(r.stdout.contains("needs a reason"), "{}", r.stdout);
}

#[test]
fn unused_allow_is_reported() {
    let (_d, root) = example();
    edit(&root.join("pipelines/matching.yaml"), |t| {
        t + "    allow:\n      - rule: security-to-marketing\n        reason: nothing to see\n"
    });
    let r = run(&root, &["check", "--format", "compact"]);
    assert!(
        r.stdout.contains("warning[unused-suppression]"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("tailored_audience_matching/publish"),
        "{}",
        r.stdout
    );
}

#[test]
fn select_ignore_statistics_quiet() {
    let (_d, root) = example();
    let r = run(&root, &["check", "--select", "security-to-marketing"]);
    assert_eq!(r.code, 0);
    let r = run(&root, &["check", "--ignore", "security-to-advertising"]);
    assert_eq!(r.code, 0);
    let r = run(&root, &["check", "--select", "security-to-advertisin"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("did you mean"), "{}", r.stderr);
    let r = run(&root, &["check", "--statistics"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .starts_with("    3  security-to-advertising  error"),
        "{}",
        r.stdout
    );
    let r = run(&root, &["check", "--quiet", "--color", "never"]);
    assert!(!r.stdout.contains("Found"), "{}", r.stdout);
    assert!(r.stdout.contains("security-to-advertising"));
}

#[test]
fn inline_ignore_on_a_field_or_sink_line() {
    let (_d, root) = example();
    edit(&root.join("schemas/accounts.yaml"), |t| {
        t.replace(
            "  - name: email\n",
            "  - name: email  # purposelint: ignore[security-to-advertising] recovery-only, see DPIA-3\n",
        )
    });
    let r = run(&root, &["check", "--format", "compact"]);
    assert_eq!(
        r.stdout.matches("error[security-to-advertising]").count(),
        2,
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("security_contacts.email"),
        "{}",
        r.stdout
    );
    edit(&root.join("sinks.yaml"), |t| {
        t.replace(
            "name: x_tailored_audiences\n",
            "name: x_tailored_audiences # purposelint: ignore[security-to-advertising] legacy, JIRA-1\n",
        )
    });
    let r = run(&root, &["check", "--format", "compact"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn output_file_gets_the_report() {
    let (_d, root) = example();
    let r = run(
        &root,
        &["check", "--format", "json", "-o", "out/report.json"],
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    let report = std::fs::read_to_string(root.join("out/report.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(v["summary"]["errors"], 3);
    let r = run(&root, &["check", "--output-file", "sinks.yaml/x"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot write sinks.yaml/x"),
        "{}",
        r.stderr
    );
}

#[test]
fn show_files_says_what_was_read_and_why_the_rest_was_not() {
    let (_d, root) = example();
    std::fs::write(root.join(".gitignore"), "private.yaml\n").unwrap();
    std::fs::write(root.join("private.yaml"), SMS_SINK).unwrap();
    std::fs::write(root.join("purposelint.yaml"), "exclude: [vendor]\n").unwrap();
    std::fs::create_dir_all(root.join("vendor")).unwrap();
    std::fs::write(root.join("vendor/x.yaml"), SMS_SINK).unwrap();
    std::fs::write(root.join("k8s.yaml"), "apiVersion: v1\nkind: ConfigMap\n").unwrap();
    let r = run(&root, &["check", "--show-files"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for line in [
        "read (native)  sinks.yaml\n",
        "skipped  private.yaml: gitignored\n",
        "skipped  vendor/x.yaml: excluded by purposelint.yaml\n",
        "skipped  k8s.yaml: not a manifest\n",
        "skipped  README.md: no format reads this kind of file\n",
        "4 files read, ",
    ] {
        assert!(r.stdout.contains(line), "{line:?} in\n{}", r.stdout);
    }
}

#[test]
fn show_settings_names_the_configuration_and_resolved_values() {
    let (_d, root) = example();
    std::fs::write(
        root.join("purposelint.yaml"),
        "severity:\n  security-to-marketing: off\n  no-input: error\naliases:\n  2fa: essential.service.authentication\n",
    )
    .unwrap();
    let r = run(&root, &["check", "--show-settings"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for line in [
        "config_file: \"purposelint.yaml\"\n",
        "  security-to-marketing: {severity: off, origin: \"built-in\"}\n",
        "  no-input: error\n",
        "  \"2fa\": \"essential.service.authentication\"\n",
    ] {
        assert!(r.stdout.contains(line), "{line:?} in\n{}", r.stdout);
    }
    let r = run(&root, &["check", "--show-settings", "--no-config"]);
    assert!(
        r.stdout.starts_with("config_file: null  # --no-config\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn statistics_beside_a_machine_format_go_to_stderr() {
    let (_d, root) = example();
    let r = run(&root, &["check", "--format", "json", "--statistics"]);
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["errors"], 3);
    assert!(
        r.stderr.contains("    3  security-to-advertising  error"),
        "{}",
        r.stderr
    );
}

#[test]
fn colour_follows_force_color_and_no_color() {
    let (_d, root) = example();
    let compact = |env: &[(&str, &str)]| {
        let mut cmd = Command::cargo_bin("purposelint").unwrap();
        cmd.current_dir(&root)
            .args(["check", "--format", "compact"]);
        cmd.env_remove("NO_COLOR")
            .env_remove("FORCE_COLOR")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    let plain = compact(&[]);
    assert!(!plain.contains('\x1b'));
    assert_eq!(plain.lines().count(), 3);
    let forced = compact(&[("FORCE_COLOR", "1")]);
    assert!(forced.contains("\x1b[1;31merror\x1b[0m"), "{forced}");
    assert_eq!(forced.lines().count(), 3);
    assert!(compact(&[("CLICOLOR_FORCE", "1")]).contains('\x1b'));
    assert!(!compact(&[("CLICOLOR_FORCE", "0")]).contains('\x1b'));
    assert!(!compact(&[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]).contains('\x1b'));
}

#[test]
fn completions_and_manual_page() {
    let (_d, root) = example();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let r = run(&root, &["completions", shell]);
        assert_eq!(r.code, 0, "{shell}");
        assert!(r.stdout.contains("purposelint"), "{shell}");
    }
    let r = run(&root, &["man"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(".TH purposelint 1"), "{}", r.stdout);
}
