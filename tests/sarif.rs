//! SARIF output: valid against the official 2.1.0 schema, with the whole path as a code flow.

use assert_cmd::Command;
use serde_json::Value;

fn run(args: &[&str]) -> (Value, i32) {
    let out = Command::cargo_bin("purposelint")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (value, out.status.code().unwrap())
}

fn sarif(path: &str) -> Value {
    let (v, code) = run(&["check", "--no-config", "--format", "sarif", path]);
    assert_eq!(code, 1);
    v
}

fn validate(doc: &Value) {
    let schema: Value =
        serde_json::from_str(include_str!("fixtures/sarif/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn tailored_audiences_validates_against_the_official_schema() {
    validate(&sarif("examples/tailored-audiences"));
}

#[test]
fn suppressed_findings_validate_too() {
    let (v, code) = run(&[
        "check",
        "--no-config",
        "--format",
        "sarif",
        "tests/fixtures/allowed",
    ]);
    assert_eq!(code, 0);
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        assert_eq!(r["suppressions"][0]["kind"], "inSource");
    }
    validate(&v);
}

/// `(uri, line, column)` of a SARIF location.
fn at(loc: &Value) -> (String, u64, u64) {
    let p = &loc["physicalLocation"];
    assert_eq!(p["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    (
        p["artifactLocation"]["uri"].as_str().unwrap().to_string(),
        p["region"]["startLine"].as_u64().unwrap(),
        p["region"]["startColumn"].as_u64().unwrap(),
    )
}

fn json_at(loc: &Value) -> (String, u64, u64) {
    (
        loc["file"].as_str().unwrap().to_string(),
        loc["line"].as_u64().unwrap(),
        loc["column"].as_u64().unwrap(),
    )
}

#[test]
fn code_flow_runs_from_source_through_every_hop_to_the_sink() {
    let s = sarif("examples/tailored-audiences");
    let (j, _) = run(&[
        "check",
        "--no-config",
        "--format",
        "json",
        "examples/tailored-audiences",
    ]);
    let run = &s["runs"][0];
    assert_eq!(run["columnKind"], "utf16CodeUnits");
    let results = run["results"].as_array().unwrap();
    let findings = j["findings"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    assert_eq!(results.len(), 3);
    for (r, f) in results.iter().zip(findings) {
        assert_eq!(r["ruleId"], f["rule"]);
        assert_eq!(at(&r["locations"][0]), json_at(&f["location"]));
        assert_eq!(r["partialFingerprints"]["purposelint/v1"], f["fingerprint"]);
        assert!(r.get("primaryLocationLineHash").is_none());
        let steps = r["codeFlows"][0]["threadFlows"][0]["locations"]
            .as_array()
            .unwrap();
        let mut expected = vec![json_at(&f["source"]["location"])];
        expected.extend(
            f["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| json_at(&h["location"])),
        );
        expected.push(json_at(&f["sink"]["location"]));
        let got: Vec<_> = steps.iter().map(|t| at(&t["location"])).collect();
        assert_eq!(got, expected);
        for t in steps {
            assert!(!t["location"]["message"]["text"]
                .as_str()
                .unwrap()
                .is_empty());
        }
        let related = r["relatedLocations"].as_array().unwrap();
        assert_eq!(at(&related[0]), json_at(&f["source"]["location"]));
        assert_eq!(at(&related[1]), json_at(&f["sink"]["location"]));
        let msg = r["message"]["text"].as_str().unwrap();
        assert!(msg.contains("](1)") && msg.contains("](2)"), "{msg}");
    }
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"security-to-advertising") && ids.contains(&"invalid-manifest"));
    for r in rules {
        assert_eq!(
            r["properties"]["tags"],
            serde_json::json!(["privacy", "security"])
        );
        assert!(r["help"]["markdown"].as_str().unwrap().len() > 20);
    }
}

/// The results whole; of the rules only what is not copied from their documentation,
/// so that editing a rule's description does not churn this snapshot.
#[test]
fn snapshot() {
    let mut v = sarif("examples/tailored-audiences");
    for r in v["runs"][0]["tool"]["driver"]["rules"]
        .as_array_mut()
        .unwrap()
    {
        let o = r.as_object_mut().unwrap();
        o.remove("help");
        o.remove("fullDescription");
    }
    insta::assert_json_snapshot!(v);
}

#[test]
fn columns_are_utf16_code_units() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.yaml"),
        "kind: dataset\nname: sec\npurposes: [essential.service.security]\nfields:\n  - {description: \"📱 2FA\", name: phone}\n---\nkind: pipeline\nname: p\nsteps:\n  - {name: s, from: sec, to: ads, fields: {x: \"sec.phone\"}}\n---\nkind: sink\nname: ads\nuses: [marketing.advertising]\n",
    )
    .unwrap();
    let out = Command::cargo_bin("purposelint")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "--no-config", "--format", "sarif", "m.yaml"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    validate(&v);
    let source = &v["runs"][0]["results"][0]["relatedLocations"][0]["physicalLocation"]["region"];
    // `phone` is the 34th character of line 5 but starts at UTF-16 unit 35 (📱 is two).
    assert_eq!(source["startLine"], 5);
    assert_eq!(source["startColumn"], 35);
    assert_eq!(source["endColumn"], 40);
}

#[test]
fn reverse_etl_audience_validates_and_flows_hop_by_hop_across_formats() {
    let doc = sarif("examples/reverse-etl-audience");
    validate(&doc);
    let result = &doc["runs"][0]["results"][0];
    let locations = result["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .unwrap();
    let files: Vec<String> = locations.iter().map(|l| at(&l["location"]).0).collect();
    // The 2FA column, the dbt SQL, the reverse-ETL table, the identifier, the destination.
    assert!(files.first().unwrap().ends_with("sources.yml"), "{files:?}");
    assert!(
        files.iter().any(|f| f.ends_with("audience_members.sql")),
        "{files:?}"
    );
    assert!(
        files.last().unwrap().ends_with("rudderstack.tf"),
        "{files:?}"
    );

    let (json, code) = run(&[
        "check",
        "--no-config",
        "--format",
        "json",
        "examples/reverse-etl-audience",
    ]);
    assert_eq!(code, 1);
    let path = json["findings"][0]["path"].as_array().unwrap();
    let hops: Vec<(String, u64, u64)> = path.iter().map(|h| json_at(&h["location"])).collect();
    assert_eq!(
        hops,
        [
            (
                "examples/reverse-etl-audience/warehouse/models/audience_members.sql".into(),
                5,
                5
            ),
            (
                "examples/reverse-etl-audience/activation/rudderstack.tf".into(),
                10,
                19
            ),
            (
                "examples/reverse-etl-audience/activation/rudderstack.tf".into(),
                39,
                12
            ),
        ]
    );
    assert_eq!(path[2]["destination_field"], "user_data.phone");
    let (_, code) = run(&[
        "check",
        "--no-config",
        "--format",
        "json",
        "examples/reverse-etl-consented",
    ]);
    assert_eq!(code, 0);
}
