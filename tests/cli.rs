//! The binary end to end: formats, exit codes, rule commands.

use assert_cmd::Command;
use serde_json::Value;

fn purposelint() -> Command {
    let mut cmd = Command::cargo_bin("purposelint").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = purposelint().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const EXAMPLE: &str = "examples/tailored-audiences";

#[test]
fn tailored_audiences_human_output() {
    let (code, out, _) = run(&["check", EXAMPLE, "--color", "never"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn tailored_audiences_compact_output() {
    let (code, out, _) = run(&["check", EXAMPLE, "--format", "compact"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn tailored_audiences_json_output() {
    let (code, out, _) = run(&["check", EXAMPLE, "--format", "json"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn consented_marketing_is_clean() {
    let (code, out, _) = run(&["check", "examples/consented-marketing"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No findings"));
}

/// Spec §6, field by field.
#[test]
fn json_matches_the_spec_shape() {
    let (_, out, _) = run(&["check", EXAMPLE, "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["tool"]["name"], "purposelint");
    assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
    let summary = v["summary"].as_object().unwrap();
    let keys: Vec<&str> = summary.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        vec![
            "files",
            "manifests",
            "fields",
            "flows",
            "errors",
            "warnings",
            "infos",
            "suppressed"
        ]
    );
    assert_eq!(summary["files"], 5);
    assert_eq!(summary["manifests"], 4);
    assert_eq!(summary["errors"], 3);

    let location_keys = ["file", "line", "column", "end_line", "end_column"];
    let check_location = |l: &Value| {
        let o = l.as_object().unwrap();
        assert_eq!(
            o.keys().map(String::as_str).collect::<Vec<_>>(),
            location_keys
        );
        assert!(l["line"].as_u64().unwrap() >= 1 && l["column"].as_u64().unwrap() >= 1);
        assert!(!l["file"].as_str().unwrap().starts_with('/'));
    };
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    let phone = findings
        .iter()
        .find(|f| f["source"]["field"] == "accounts.security_contacts.phone_number")
        .unwrap();
    let keys: Vec<&str> = phone
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        vec![
            "rule",
            "severity",
            "message",
            "location",
            "source",
            "sink",
            "path",
            "fingerprint"
        ]
    );
    assert_eq!(phone["rule"], "security-to-advertising");
    assert_eq!(phone["severity"], "error");
    assert_eq!(
        phone["message"],
        "accounts.security_contacts.phone_number, collected for essential.service.authentication, \
         essential.service.security, reaches x_tailored_audiences (marketing.advertising.third_party.targeted)"
    );
    check_location(&phone["location"]);
    assert_eq!(
        phone["location"]["file"],
        "examples/tailored-audiences/pipelines/matching.yaml"
    );
    assert_eq!(phone["location"]["line"], 9);
    assert_eq!(phone["location"]["column"], 11);
    assert_eq!(
        phone["source"]["purposes"],
        serde_json::json!([
            "essential.service.authentication",
            "essential.service.security"
        ])
    );
    check_location(&phone["source"]["location"]);
    assert_eq!(
        phone["source"]["location"]["file"],
        "examples/tailored-audiences/schemas/accounts.yaml"
    );
    assert_eq!(phone["source"]["location"]["line"], 9);
    assert_eq!(phone["source"]["location"]["column"], 11);
    assert_eq!(phone["source"]["location"]["end_column"], 23);
    assert_eq!(phone["sink"]["name"], "x_tailored_audiences");
    assert_eq!(
        phone["sink"]["uses"],
        serde_json::json!(["marketing.advertising.third_party.targeted"])
    );
    check_location(&phone["sink"]["location"]);
    assert_eq!(phone["sink"]["location"]["line"], 3);
    assert_eq!(phone["sink"]["location"]["column"], 7);
    assert_eq!(phone["sink"]["location"]["end_column"], 27);

    let path = phone["path"].as_array().unwrap();
    assert_eq!(path.len(), 2);
    for hop in path {
        let keys: Vec<&str> = hop
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            vec!["from", "to", "step", "flow", "functions", "location"]
        );
        check_location(&hop["location"]);
    }
    assert_eq!(path[0]["from"], "accounts.security_contacts.phone_number");
    assert_eq!(path[0]["to"], "ads.audience_members.audience_id");
    assert_eq!(path[0]["step"], "tailored_audience_matching/match_uploads");
    assert_eq!(path[0]["flow"], "indirect");
    assert_eq!(path[0]["functions"], serde_json::json!(["sha256"]));
    assert_eq!(path[0]["location"], phone["location"]);
    assert_eq!(path[1]["from"], "ads.audience_members.audience_id");
    assert_eq!(path[1]["to"], "x_tailored_audiences");
    assert_eq!(path[1]["flow"], "passthrough");
    assert_eq!(path[1]["functions"], serde_json::json!([]));
    assert_eq!(path[1]["location"]["line"], 16);
    assert_eq!(path[1]["location"]["column"], 9);
    assert_eq!(path[1]["location"]["end_column"], 29);
    assert_eq!(phone["fingerprint"].as_str().unwrap().len(), 16);

    // Sorted by file, line, column, rule.
    let order: Vec<(String, u64, u64, String)> = findings
        .iter()
        .map(|f| {
            (
                f["location"]["file"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
                f["location"]["column"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

#[test]
fn diagnostics_omit_source_sink_and_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "apiVersion: purposelint/v1\nkind: sink\nname: s\nusez: [x]\n",
    )
    .unwrap();
    let out = purposelint()
        .args(["check", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["findings"][1];
    assert_eq!(
        f["message"],
        "unknown key `usez` in a sink; did you mean `uses`?"
    );
    let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, vec!["rule", "severity", "message", "location"]);
    assert_eq!(f["location"]["line"], 4);
}

#[test]
fn fail_on_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let ds = "kind: dataset\nname: d\nfields:\n  - name: x\n    purposes: [made.up]\n";
    std::fs::write(dir.path().join("a.yaml"), ds).unwrap();
    // unknown-purpose is an error by default; lowered to a warning here.
    std::fs::write(
        dir.path().join("purposelint.yaml"),
        "severity:\n  unknown-purpose: warning\n",
    )
    .unwrap();
    let code = |fail_on: &str| {
        purposelint()
            .args(["check", "--fail-on", fail_on, "--config"])
            .arg(dir.path().join("purposelint.yaml"))
            .arg(dir.path())
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code("error"), Some(0));
    assert_eq!(code("warning"), Some(1));
    assert_eq!(code("info"), Some(1));
    let (c, _, _) = run(&["check", EXAMPLE, "--fail-on", "never"]);
    assert_eq!(c, 0);
}

#[test]
fn unreadable_paths_and_bad_arguments_exit_2() {
    let (code, _, err) = run(&["check", "does/not/exist"]);
    assert_eq!(code, 2);
    assert!(err.contains("does/not/exist"), "{err}");
    let (code, _, _) = run(&["check", "--format", "xml"]);
    assert_eq!(code, 2);
}

#[test]
fn rules_listing_and_descriptions() {
    let (code, out, _) = run(&["rules"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
    let (_, out, _) = run(&["rules", "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in [
        "security-to-advertising",
        "security-to-marketing",
        "security-to-third-party",
        "invalid-manifest",
        "unknown-reference",
        "duplicate-definition",
        "unknown-purpose",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    let (code, out, _) = run(&["rule", "security-to-advertising"]);
    assert_eq!(code, 0);
    for needle in [
        "Twitter", "Facebook", "allow", "count", "SHA-256", "consent",
    ] {
        assert!(out.contains(needle), "description lacks {needle}");
    }
    let (code, out, _) = run(&["rule", "unknown-purpose"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("# unknown-purpose"));
    let (code, _, err) = run(&["rule", "security-to-advertisin"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("did you mean `security-to-advertising`?"),
        "{err}"
    );
}

#[test]
fn user_rules_add_and_override() {
    let dir = tempfile::tempdir().unwrap();
    let relaxed = "\
id: security-to-advertising
severity: warning
summary: Only direct copies count here
description: Team override.
source:
  purposes: [essential.service.authentication]
sink:
  uses: [marketing.advertising]
flows: [direct]
sanitizers: []
";
    let extra = "\
id: fraud-to-analytics
severity: info
summary: Fraud signals reach analytics
description: Custom.
source:
  purposes: [essential.service.security]
sink:
  uses: [analytics]
";
    std::fs::write(dir.path().join("override.yaml"), relaxed).unwrap();
    std::fs::write(dir.path().join("extra.yml"), extra).unwrap();
    let out = purposelint()
        .args(["check", EXAMPLE, "--format", "compact", "--rules"])
        .arg(dir.path())
        .output()
        .unwrap();
    // The join is indirect and user_id's dataset purpose is not in the override: no findings.
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = purposelint()
        .args(["rules", "--rules"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("fraud-to-analytics"));
    assert!(text.lines().any(|l| {
        let mut words = l.split_whitespace();
        words.next() == Some("security-to-advertising") && words.next() == Some("warning")
    }));
}

#[test]
fn invalid_rule_file_exits_2_pointing_at_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "id: Bad_Id\nseverity: fatal\nsummary: x\ndescription: y\nsource:\n  purposes: [a]\nsink:\n  uses: [b]\nflowz: []\n";
    std::fs::write(dir.path().join("bad.yaml"), bad).unwrap();
    let out = purposelint()
        .args(["check", EXAMPLE, "--color", "never", "--rules"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("invalid rule file"), "{err}");
    assert!(err.contains("bad.yaml:1:5"), "{err}");
    assert!(err.contains("bad.yaml:2:11"), "{err}");
    assert!(err.contains("unknown key `flowz`"), "{err}");
}

#[test]
fn corpus_runs_without_panic_or_spurious_errors() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !corpus.exists() {
        eprintln!("skipped: {} is not here", corpus.display());
        return;
    }
    let lint = |dir: &std::path::Path| -> (Option<i32>, Value) {
        let out = purposelint()
            .args(["check", "--format", "json"])
            .arg(dir)
            .output()
            .unwrap();
        let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code(), json)
    };
    // All at once: the projects reuse each other's names, so duplicates are expected,
    // but nothing may crash and no file may be misread as a broken manifest.
    let (code, v) = lint(&corpus);
    assert!(matches!(code, Some(0 | 1)), "{code:?}");
    assert!(v["summary"]["files"].as_u64().unwrap() >= 50);
    let misread: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "invalid-manifest")
        .collect();
    assert!(misread.is_empty(), "{misread:#?}");
    // Project by project: no errors at all.
    for project in [
        "datacontract",
        "dbt/jaffle-shop-classic",
        "dbt/dbt_shopify",
        "dbt/dbt_klaviyo",
        "dbt/dbt-metabase-sandbox",
        "dbt/manifests",
        "fides/fides/.fides",
        "fides/fides/demo_resources",
        "fides/fides/pbac",
        "fides/fides/src/fides/data/sample_project",
        "fideslang",
        "sarif",
    ] {
        let (code, v) = lint(&corpus.join(project));
        assert_eq!(code, Some(0), "{project}: {:#}", v["findings"]);
        assert_eq!(v["summary"]["errors"], 0, "{project}");
    }
    // The old fideslang demo writes keys of an outdated taxonomy (`improve.system`,
    // `advertising`): errors since v1.1, and nothing else.
    let (code, v) = lint(&corpus.join("fides/fideslang-demo"));
    assert_eq!(code, Some(1));
    let rules: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["rule"])
        .collect();
    assert_eq!(rules, vec!["unknown-purpose"; 6], "{:#}", v["findings"]);
}

#[test]
fn same_bytes_with_one_or_two_threads() {
    let one = run(&["check", EXAMPLE, "--format", "json", "--threads", "1"]).1;
    let two = run(&["check", EXAMPLE, "--format", "json", "--threads", "2"]).1;
    assert_eq!(one, two);
}

#[test]
fn fixture_snapshots_for_every_rule_and_check() {
    for fixture in ["tests/fixtures/all-rules", "tests/fixtures/diagnostics"] {
        let name = fixture.rsplit('/').next().unwrap();
        for format in ["human", "compact", "json"] {
            let (code, out, _) = run(&["check", fixture, "--format", format, "--color", "never"]);
            assert_eq!(code, 1, "{fixture} {format}");
            insta::assert_snapshot!(format!("{name}_{format}"), out);
        }
    }
}

#[test]
fn configured_relation_targets_and_destination_names_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("tf")).unwrap();
    std::fs::write(
        root.join("crm.yaml"),
        "kind: dataset\nname: crm.contacts\nfields:\n  - name: email\n",
    )
    .unwrap();
    std::fs::write(
        root.join("tf/main.tf"),
        "resource \"rudderstack_destination_webhook\" \"crm_hook\" {\n  name = \"hook\"\n}\n",
    )
    .unwrap();
    let config = "destinations:\n  \"rudderstack_destination_webhook.crm_hok\": [sales]\n  \
                  \"rudderstack_destination_webhook.crm_hook\": [sales]\n\
                  relations:\n  \"analytics.public.contacts\": crm.contact\n";
    std::fs::write(root.join("purposelint.yaml"), config).unwrap();
    let out = purposelint()
        .args(["check", "--color", "never", "--format", "compact"])
        .current_dir(root)
        .arg(".")
        .output()
        .unwrap();
    // Messages wrap at the terminal's width.
    let err = String::from_utf8(out.stderr)
        .unwrap()
        .replace("\n  │ ", " ");
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("invalid configuration"), "{err}");
    // Each at its own line of the configuration, with the closest name.
    for expected in [
        "purposelint.yaml:2:3",
        "`destinations:` key `rudderstack_destination_webhook.crm_hok` names no destination",
        "did you mean `rudderstack_destination_webhook.crm_hook`?",
        "purposelint.yaml:5:32",
        "pins `analytics.public.contacts` to `crm.contact`, which names no dataset; did you mean `crm.contacts`?",
    ] {
        assert!(err.contains(expected), "{expected}\n{err}");
    }
    assert!(!err.contains("purposelint.yaml:3:"), "{err}");
    // A run of one folder inside the project cannot tell, and is not stopped.
    let out = purposelint()
        .args(["check", "--format", "compact", "tf"])
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

/// The tests' dev-dependencies enable serde_json's `preserve_order`, which a user's build
/// does not: the catalogue's keys must come out in one order whatever the build.
#[test]
fn destinations_json_has_one_key_order_in_every_build() {
    let (code, out, _) = run(&["destinations", "--format", "json"]);
    assert_eq!(code, 0);
    let first = out.split("\n  },").next().unwrap();
    let keys: Vec<&str> = first
        .lines()
        .filter_map(|l| l.strip_prefix("    \"")?.split('"').next())
        .collect();
    assert_eq!(
        keys,
        ["aliases", "classic", "name", "platform", "source", "type", "uses", "verified"]
    );
    let list: Value = serde_json::from_str(&out).unwrap();
    assert!(list.as_array().is_some_and(|l| l.len() > 50));
}

/// The human header counts columns in characters, as every other format does (v1 §6).
#[test]
fn human_columns_count_characters_after_non_ascii_text() {
    let dir = tempfile::tempdir().unwrap();
    let tf = "resource \"rudderstack_retl_source_model\" \"m\" {\n  config {\n    primary_key = \"id\"\n    sql = \"SELECT 'é' AS é, t.id, t.phone FROM auth.two_factor t\"\n  }\n}\nresource \"rudderstack_destination_facebook_conversions\" \"fb\" {\n  name = \"fb\"\n}\nresource \"rudderstack_retl_connection\" \"c\" {\n  source_id      = rudderstack_retl_source_model.m.id\n  destination_id = rudderstack_destination_facebook_conversions.fb.id\n  identifiers {\n    from = \"phone\"\n  }\n}\n";
    let ds = "kind: dataset\nname: auth.two_factor\nfields:\n  - name: id\n  - name: phone\n    purposes: [essential.service.authentication]\n";
    std::fs::write(dir.path().join("main.tf"), tf).unwrap();
    std::fs::write(dir.path().join("ds.yaml"), ds).unwrap();
    let root = dir.path().to_str().unwrap();
    let (_, compact, _) = run(&["check", root, "--format", "compact"]);
    let (_, human, _) = run(&["check", root, "--color", "never"]);
    let at = |s: &str| -> Vec<String> {
        s.lines()
            .filter_map(|l| {
                let i = l.find("main.tf:")?;
                let rest = &l[i + "main.tf:".len()..];
                let end = rest.find(|c: char| !(c.is_ascii_digit() || c == ':'))?;
                Some(rest[..end].trim_end_matches(':').to_string())
            })
            .collect()
    };
    let header: String = human
        .lines()
        .filter(|l| l.contains("╭─["))
        .collect::<Vec<_>>()
        .join("\n");
    let (c, h) = (at(&compact), at(&header));
    assert!(c.first().is_some_and(|p| p.starts_with("4:")), "{compact}");
    assert_eq!(c, h, "{human}");
}

/// The configuration is searched from the checked folder, not only the working
/// directory: `check ../repo` uses that repository's file.
#[test]
fn configuration_is_found_from_the_checked_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = root.join("repo");
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE);
    for sub in ["pipelines", "schemas"] {
        std::fs::create_dir_all(repo.join("data").join(sub)).unwrap();
        for f in std::fs::read_dir(example.join(sub)).unwrap() {
            let f = f.unwrap().path();
            let to = repo.join("data").join(sub).join(f.file_name().unwrap());
            std::fs::copy(&f, to).unwrap();
        }
    }
    std::fs::copy(example.join("sinks.yaml"), repo.join("data/sinks.yaml")).unwrap();
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("elsewhere")).unwrap();
    let code = |cwd: &std::path::Path, path: &str| {
        let out = purposelint()
            .args(["check", "--format", "compact", path])
            .current_dir(cwd)
            .output()
            .unwrap();
        out.status.code()
    };
    // Without a configuration the leak fails the check from anywhere.
    assert_eq!(code(root, "repo"), Some(1));
    std::fs::write(
        repo.join("purposelint.yaml"),
        "severity:\n  security-to-advertising: warning\n",
    )
    .unwrap();
    assert_eq!(code(root, "repo"), Some(0));
    assert_eq!(code(&root.join("elsewhere"), "../repo/data"), Some(0));
    assert_eq!(code(&repo, "data"), Some(0));
    assert_eq!(code(&repo.join("data"), "."), Some(0));
}

/// A name two modules declare is prefixed with its directory relative to the
/// configuration's folder, so that the configuration names it from any working directory.
#[test]
fn a_repeated_name_is_prefixed_relative_to_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let users = "kind: dataset\nname: public.users\nfields:\n  - name: id\n  - name: phone\n    \
                 purposes: [essential.service.authentication]\n";
    let tf = |label: &str| {
        format!(
            "resource \"census_destination\" \"ads\" {{\n  name = \"ads\"\n  type = \"braze\"\n}}\n\
             resource \"census_sync\" \"s\" {{\n  label = \"{label}\"\n  source_attributes {{\n    \
             connection_id = 1\n    object {{\n      type = \"table\"\n      table_schema = \"public\"\n      \
             table_name = \"users\"\n    }}\n  }}\n  destination_attributes {{\n    \
             connection_id = census_destination.ads.id\n    object = \"Contact\"\n  }}\n  \
             field_mapping {{\n    from = \"phone\"\n    to = \"phone\"\n  }}\n}}\n"
        )
    };
    for env in ["prod", "dev"] {
        std::fs::create_dir_all(root.join("envs").join(env)).unwrap();
        std::fs::write(root.join("envs").join(env).join("main.tf"), tf(env)).unwrap();
    }
    std::fs::write(root.join("envs/users.yaml"), users).unwrap();
    std::fs::write(
        root.join("purposelint.yaml"),
        "destinations:\n  \"envs/prod/census_destination.ads\": [marketing.advertising.third_party.targeted]\n",
    )
    .unwrap();
    let sinks = |cwd: &std::path::Path| {
        let out = purposelint()
            .args(["check", "--format", "json", "."])
            .current_dir(cwd)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut sinks: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "security-to-advertising")
            .map(|f| f["sink"]["name"].as_str().unwrap().to_string())
            .collect();
        sinks.sort();
        sinks
    };
    // From the configuration's folder and from below it, the same name, and the pin.
    assert_eq!(sinks(root), ["envs/prod/census_destination.ads"]);
    assert_eq!(
        sinks(&root.join("envs")),
        ["envs/prod/census_destination.ads"]
    );
}

#[test]
fn a_closed_standard_output_is_no_crash_for_any_command() {
    // `purposelint rule X | head -1` once `head` has gone: writes fail with a broken
    // pipe, which is not an error of ours.
    let bin = assert_cmd::cargo::cargo_bin("purposelint");
    for args in [
        &["rule", "security-to-advertising"][..],
        &["rules"],
        &["destinations"],
        &["schema", "config"],
        &["check", EXAMPLE],
        &["check", "--format", "json", EXAMPLE],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = std::process::Command::new(&bin)
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0..=2)),
            "{args:?}: {:?} {stderr}",
            out.status
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
