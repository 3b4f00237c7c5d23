//! `trace`, `graph`, `coverage` and `check --format html`, end to end through the binary.

use assert_cmd::Command;
use serde_json::{json, Value};

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

fn json_of(args: &[&str]) -> Value {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

const EXAMPLE: &str = "examples/tailored-audiences";
const CLEAN: &str = "examples/consented-marketing";
const PHONE: &str = "accounts.security_contacts.phone_number";

fn loc(file: &str, line: u64, column: u64, end_line: u64, end_column: u64) -> Value {
    json!({"file": file, "line": line, "column": column, "end_line": end_line, "end_column": end_column})
}

#[test]
fn trace_json_field_by_field() {
    let v = json_of(&["trace", PHONE, EXAMPLE, "--format", "json"]);
    let accounts = "examples/tailored-audiences/schemas/accounts.yaml";
    let matching = "examples/tailored-audiences/pipelines/matching.yaml";
    assert_eq!(
        v,
        json!({
            "version": 1,
            "direction": "forward",
            "subject": {"kind": "field", "name": PHONE, "location": loc(accounts, 9, 11, 9, 23)},
            "fields": [{
                "field": PHONE,
                "purposes": ["essential.service.authentication", "essential.service.security"],
                "categories": ["user.contact.phone_number"],
                "location": loc(accounts, 9, 11, 9, 23),
                "sinks": [{
                    "name": "x_tailored_audiences",
                    "kind": "sink",
                    "uses": ["marketing.advertising.third_party.targeted"],
                    "location": loc("examples/tailored-audiences/sinks.yaml", 3, 7, 3, 27),
                    "cut": false,
                    "findings": ["security-to-advertising"],
                    "suppressed": [],
                    "path": [
                        {
                            "from": PHONE,
                            "to": "ads.audience_members.audience_id",
                            "step": "tailored_audience_matching/match_uploads",
                            "flow": "indirect",
                            "functions": ["sha256"],
                            "location": loc(matching, 9, 11, 9, 185),
                            "cut_by": []
                        },
                        {
                            "from": "ads.audience_members.audience_id",
                            "to": "x_tailored_audiences",
                            "step": "tailored_audience_matching/publish",
                            "flow": "passthrough",
                            "functions": [],
                            "location": loc(matching, 16, 9, 16, 29),
                            "cut_by": []
                        }
                    ]
                }],
                "cuts": []
            }]
        })
    );
}

/// The hops `trace` prints are the hops `check` reports, for every finding.
#[test]
fn trace_paths_are_the_paths_of_check() {
    let check = {
        let (code, out, _) = run(&["check", EXAMPLE, "--format", "json"]);
        assert_eq!(code, 1);
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let findings = check["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    for f in findings {
        let source = f["source"]["field"].as_str().unwrap();
        let v = json_of(&["trace", source, EXAMPLE, "--format", "json"]);
        let sinks = v["fields"][0]["sinks"].as_array().unwrap();
        let sink = sinks
            .iter()
            .find(|s| s["name"] == f["sink"]["name"])
            .unwrap();
        let strip = |hops: &Value| -> Vec<Value> {
            let hops = hops.as_array().unwrap().iter().cloned();
            hops.map(|mut h| {
                h.as_object_mut().unwrap().remove("cut_by");
                h
            })
            .collect()
        };
        assert_eq!(strip(&sink["path"]), strip(&f["path"]), "{source}");
        assert_eq!(sink["findings"], json!([f["rule"]]));
    }
}

#[test]
fn reverse_trace_lists_every_source_field_with_findings_first() {
    for args in [
        vec!["trace", "x_tailored_audiences", EXAMPLE, "--format", "json"],
        vec![
            "trace",
            "--reverse",
            "x_tailored_audiences",
            EXAMPLE,
            "--format",
            "json",
        ],
    ] {
        let v = json_of(&args);
        assert_eq!(v["direction"], "reverse");
        assert_eq!(v["subject"]["kind"], "sink");
        let sources = v["sources"].as_array().unwrap();
        let names: Vec<&str> = sources
            .iter()
            .map(|s| s["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "accounts.security_contacts.email",
                "accounts.security_contacts.phone_number",
                "accounts.security_contacts.user_id",
                "ads.advertiser_uploads.audience_id",
                "ads.advertiser_uploads.hashed_email",
                "ads.advertiser_uploads.hashed_phone",
                "ads.advertiser_uploads.opted_out",
            ]
        );
        for s in &sources[..3] {
            assert_eq!(s["findings"], json!(["security-to-advertising"]));
            assert_eq!(s["to"], "x_tailored_audiences");
            assert_eq!(s["path"].as_array().unwrap().len(), 2);
        }
        for s in &sources[3..] {
            assert_eq!(s["findings"], json!([]));
            assert_eq!(
                s["purposes"],
                json!(["marketing.advertising.third_party.targeted"])
            );
        }
        assert_eq!(
            sources[1]["purposes"][0],
            "essential.service.authentication"
        );
    }
    let (_, human, _) = run(&["trace", "x_tailored_audiences", EXAMPLE]);
    assert!(
        human.contains("reached from 7 source fields (3 with findings)"),
        "{human}"
    );
}

#[test]
fn trace_shows_sanitizer_cuts() {
    let v = json_of(&[
        "trace",
        "accounts.security_contacts.user_id",
        CLEAN,
        "--format",
        "json",
    ]);
    let field = &v["fields"][0];
    let sinks = field["sinks"].as_array().unwrap();
    let by_name = |n: &str| sinks.iter().find(|s| s["name"] == n).unwrap();
    assert_eq!(by_name("otp_sender")["cut"], false);
    let report = by_name("advertiser_insights_report");
    assert_eq!(report["cut"], true);
    assert_eq!(report["findings"], json!([]));
    let rules = json!([
        "security-to-advertising",
        "security-to-marketing",
        "security-to-third-party"
    ]);
    assert_eq!(report["path"][0]["functions"], json!(["count"]));
    assert_eq!(report["path"][0]["cut_by"], rules);
    assert_eq!(report["path"][1]["cut_by"], json!([]));
    assert_eq!(field["cuts"].as_array().unwrap().len(), 1);
    assert_eq!(
        field["cuts"][0]["to"],
        "analytics.two_factor_enrollment.protected_accounts"
    );
    // A rule that is not run cuts nothing.
    let v = json_of(&[
        "trace",
        "accounts.security_contacts.user_id",
        CLEAN,
        "--format",
        "json",
        "--select",
        "security-to-marketing",
    ]);
    let cut = &v["fields"][0]["cuts"][0]["cut_by"];
    assert_eq!(cut, &json!(["security-to-marketing"]));
}

#[test]
fn trace_of_a_dataset_traces_each_field_and_unknown_names_suggest() {
    let v = json_of(&[
        "trace",
        "accounts.security_contacts",
        EXAMPLE,
        "--format",
        "json",
    ]);
    assert_eq!(v["subject"]["kind"], "dataset");
    let fields: Vec<&str> = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields.len(), 3);
    assert!(fields.contains(&PHONE));

    let (code, out, err) = run(&["trace", "accounts.security_contacts.phone_numbr", EXAMPLE]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.contains("did you mean `accounts.security_contacts.phone_number`?"),
        "{err}"
    );
    let (code, _, err) = run(&["trace", "x_tailored_audience", EXAMPLE]);
    assert_eq!(code, 2);
    assert!(
        err.contains("did you mean `x_tailored_audiences`?"),
        "{err}"
    );
}

/// Each finding of a dbt project and of a Fides project is among the sinks its source
/// reaches, with the rule that reports it.
#[test]
fn trace_works_on_dbt_and_fides() {
    for path in [
        "tests/fixtures/dbt/klaviyo",
        "tests/fixtures/fides/security-egress",
    ] {
        let (_, out, _) = run(&["check", path, "--format", "json"]);
        let check: Value = serde_json::from_str(&out).unwrap();
        let flows: Vec<&Value> = check["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f.get("path").is_some())
            .collect();
        assert!(!flows.is_empty(), "{path}");
        for f in flows {
            let source = f["source"]["field"].as_str().unwrap();
            let v = json_of(&["trace", source, path, "--format", "json"]);
            let sink = v["fields"][0]["sinks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == f["sink"]["name"])
                .unwrap_or_else(|| panic!("{path}: {source} → {}", f["sink"]["name"]));
            assert!(
                sink["findings"].as_array().unwrap().contains(&f["rule"]),
                "{path}: {sink}"
            );
        }
    }
}

fn graph(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn graph_is_byte_identical_across_runs_and_threads() {
    for path in [
        EXAMPLE,
        CLEAN,
        "tests/fixtures/fides",
        "tests/fixtures/coverage",
    ] {
        for format in ["dot", "mermaid"] {
            for fields in [false, true] {
                let mut args = vec!["graph", path, "--format", format, "--threads", "1"];
                if fields {
                    args.push("--fields");
                }
                let one = graph(&args);
                args[5] = "2";
                assert_eq!(one, graph(&args), "{path} {format} {fields}");
                assert_eq!(one, graph(&args), "{path} {format} {fields}");
            }
        }
    }
}

#[test]
fn graph_highlights_violating_paths_and_cuts() {
    let dot = graph(&["graph", EXAMPLE]);
    assert!(dot.starts_with("digraph purposelint {"));
    let edge = |from: &str, to: &str| {
        dot.lines()
            .find(|l| l.contains(&format!("\"{from}\" -> \"{to}\"")))
            .unwrap_or_else(|| panic!("{from} -> {to} in\n{dot}"))
            .to_string()
    };
    let hot = edge("d:accounts.security_contacts", "d:ads.audience_members");
    assert!(hot.contains("label=\"direct 1, indirect 2\""), "{hot}");
    assert!(hot.contains("#d62728"), "{hot}");
    let cold = edge("d:ads.advertiser_uploads", "d:ads.audience_members");
    assert!(cold.contains("label=\"direct 1, indirect 3\""), "{cold}");
    assert!(!cold.contains("#d62728"), "{cold}");
    assert!(dot.contains("\"s:x_tailored_audiences\" [label=\"x_tailored_audiences\\n(marketing.advertising.third_party.targeted)\", shape=hexagon"));
    assert!(dot.contains("label=\"Legend\""));

    let clean = graph(&["graph", CLEAN]);
    assert!(!clean.contains("#d62728"), "nothing is reported in {CLEAN}");
    let cut = clean
        .lines()
        .find(|l| {
            l.contains("\"d:accounts.security_contacts\" -> \"d:analytics.two_factor_enrollment\"")
        })
        .unwrap();
    assert!(
        cut.contains("(cut)") && cut.contains("style=dashed"),
        "{cut}"
    );

    let mermaid = graph(&["graph", EXAMPLE, "--format", "mermaid"]);
    assert!(mermaid.starts_with("flowchart LR\n"));
    assert!(mermaid
        .contains("{{\"x_tailored_audiences<br/>(marketing.advertising.third_party.targeted)\"}}"));
    assert!(
        mermaid.contains("linkStyle 0,2,3 stroke:#d62728"),
        "{mermaid}"
    );
}

#[test]
fn graph_focus_keeps_what_reaches_or_is_reached() {
    let dot = graph(&["graph", CLEAN, "--focus", "otp_sender"]);
    assert!(dot.contains("\"d:accounts.security_contacts\" -> \"s:otp_sender\""));
    assert!(!dot.contains("x_tailored_audiences"), "{dot}");
    assert!(!dot.contains("analytics.two_factor_enrollment"), "{dot}");
    let fields = graph(&["graph", CLEAN, "--fields", "--focus", PHONE]);
    assert!(
        fields.contains(&format!("\"f:{PHONE}\" -> \"s:otp_sender\"")),
        "{fields}"
    );
    assert!(!fields.contains("user_id\" ->"), "{fields}");
    let (code, _, err) = run(&["graph", CLEAN, "--focus", "otp_sendr"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `otp_sender`?"), "{err}");
}

/// Every figure of the coverage fixture, counted by hand from its files.
#[test]
fn coverage_figures_match_the_hand_count() {
    let fixture = "tests/fixtures/coverage";
    let v = json_of(&["coverage", fixture, "--format", "json"]);
    // native: identity.mfa_devices (3 fields, none with purposes, 2 with categories),
    // crm.customers (dataset purpose: 2 fields with purposes, 1 with categories),
    // crm.leads (2 fields, 1 with categories); staging.devices and exports.leads are
    // written by steps. dbt: source app.logins (user_id with a purpose, ip with a
    // category), recent_logins (its 2 columns from the SQL, unannotated), broken (its
    // SQL does not parse: one whole-relation field `*` that every upstream column feeds),
    // and the exposure login_dashboard without uses.
    assert_eq!(
        v["formats"],
        json!([
            {
                "format": "dbt",
                "datasets": {"total": 3, "with_purposes": 1, "with_categories": 1},
                "fields": {"total": 5, "with_purposes": 1, "with_categories": 1},
                "sinks": {"total": 1, "with_uses": 0},
                "derived_datasets": 0
            },
            {
                "format": "native",
                "datasets": {"total": 3, "with_purposes": 1, "with_categories": 3},
                "fields": {"total": 7, "with_purposes": 2, "with_categories": 4},
                "sinks": {"total": 1, "with_uses": 1},
                "derived_datasets": 2
            }
        ])
    );
    assert_eq!(v["fields_with_purposes_percent"], 25.0); // 3 of 12
    let unlabelled: Vec<(&str, &Value, &Value)> = v["unlabelled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["field"].as_str().unwrap(),
                &u["security_hint"],
                &u["add"]["text"],
            )
        })
        .collect();
    assert_eq!(
        unlabelled,
        [
            (
                "app.logins.ip",
                &json!("login"),
                &json!("              purposes: [essential.service.authentication]")
            ),
            (
                "identity.mfa_devices.device_id",
                &json!("mfa"),
                &json!("    purposes: [essential.service.authentication]")
            ),
            (
                "identity.mfa_devices.phone_number",
                &json!("mfa"),
                &json!("    purposes: [essential.service.authentication]")
            ),
            (
                "crm.leads.email",
                &Value::Null,
                &json!("    purposes: [<the data use it was collected for>]")
            ),
        ]
    );
    // The dbt column already has a `meta:` block: the key goes inside it.
    assert_eq!(v["unlabelled"][0]["add"]["after_line"], 11);
    assert_eq!(v["unlabelled"][1]["add"]["after_line"], 5);
    let without: Vec<(&str, &str)> = v["without_uses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["kind"].as_str().unwrap(), w["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        without,
        [
            ("destination", "exports.leads"),
            ("destination", "staging.devices"),
            ("sink", "login_dashboard")
        ]
    );
    assert_eq!(v["lineage"].as_array().unwrap().len(), 1);
    assert_eq!(v["lineage"][0]["model"], "broken");
    assert_eq!(v["lineage"][0]["status"], "fallback");
    // Reach: full_name reaches nothing of newsletter (1 node downstream); user_id reaches
    // 1 of recent_logins' 2 columns, broken's whole-relation field and the exposure (3 of
    // 4 nodes), email the newsletter.
    let reach: Vec<(&str, u64, u64)> = v["reach"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["field"].as_str().unwrap(),
                r["reached"].as_u64().unwrap(),
                r["downstream"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reach,
        [
            ("crm.customers.full_name", 0, 1),
            ("app.logins.user_id", 3, 4),
            ("crm.customers.email", 1, 1)
        ]
    );

    let (code, _, err) = run(&["coverage", fixture, "--fail-under", "30"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("coverage 25.0% is under --fail-under 30%"),
        "{err}"
    );
    let (code, _, _) = run(&["coverage", fixture, "--fail-under", "25"]);
    assert_eq!(code, 0);
}

#[test]
fn html_report_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let (code, out, _) = run(&[
        "check",
        EXAMPLE,
        "--format",
        "html",
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!((code, out.as_str()), (1, ""));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(html.contains("content=\"default-src 'none';"));
    assert_eq!(html.matches("<article class=\"finding error\"").count(), 3);
    assert!(html.contains("<svg class=\"flows\""));
    assert!(html.contains("<mark>accounts.security_contacts.phone_number</mark>"));
    for needle in ["<link", "<img", "src=", "@import", "url(http"] {
        assert!(!html.contains(needle), "{needle}");
    }
    // Same bytes on one thread and two.
    let again = dir.path().join("again.html");
    run(&[
        "check",
        EXAMPLE,
        "--format",
        "html",
        "--threads",
        "1",
        "-o",
        again.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(&again).unwrap(), html);
}

#[test]
fn help_lists_the_new_commands() {
    let (_, out, _) = run(&["--help"]);
    for command in ["trace", "graph", "coverage"] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} in\n{out}"
        );
    }
    let (_, out, _) = run(&["check", "--help"]);
    assert!(out.contains("html"), "{out}");
}
