//! Names resolve across formats (spec v1.1 §3.1), and rules that files define (Fides
//! policies) are known to every part of a run: listings, SARIF, --ignore, severity.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::*;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn purposelint(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_purposelint"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `from -> to (file:line:col)` of each hop.
fn hops(o: &purposelint::check::Outcome, source: &str) -> Vec<String> {
    let f = o
        .findings
        .iter()
        .find(|f| f.flow.as_ref().is_some_and(|fl| fl.source.name == source))
        .unwrap_or_else(|| panic!("no finding from {source}"));
    let flow = f.flow.as_ref().unwrap();
    flow.path
        .iter()
        .map(|h| {
            let file = &o.model.sources.get(h.location.file).path;
            let name = file.file_name().unwrap().to_string_lossy();
            let p = h.location.span.start_pos;
            format!("{} -> {} ({name}:{}:{})", h.from, h.to, p.line, p.column)
        })
        .collect()
}

#[test]
fn native_steps_read_dbt_models_and_fides_collections_and_write_dbt_sources() {
    let o = lint(&[&fixture("cross-format")]);
    let rules: Vec<&str> = o.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        ["security-to-advertising", "security-to-advertising"],
        "{:#?}",
        o.findings
    );
    // native dataset → (native step) dbt source → (dbt SQL) dbt model → (native step) sink
    assert_eq!(
        hops(&o, "signup.security_phones.phone"),
        [
            "signup.security_phones.phone -> app.contacts.phone (ingest.yaml:15:9)",
            "app.contacts.phone -> customers.phone (customers.sql:3:5)",
            "customers.phone -> ads_upload (export.yaml:12:14)",
        ]
    );
    // Fides collection → (native step) sink
    assert_eq!(
        hops(&o, "auth.otp_devices.phone"),
        ["auth.otp_devices.phone -> ads_upload (export.yaml:17:14)"]
    );
}

#[test]
fn a_write_into_a_declared_dbt_source_is_no_second_definition() {
    // The same run with the dbt project left out: the source is then undeclared, and the
    // step declares it (no finding reaches the sink through the model any more).
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("cross-format"), dir.path());
    let o = lint(&[dir.path()]);
    assert!(!o
        .findings
        .iter()
        .any(|f| f.rule == "duplicate-definition" || f.rule == "unknown-reference"));
    std::fs::remove_dir_all(dir.path().join("warehouse")).unwrap();
    let o = lint(&[dir.path()]);
    let unknown: Vec<&str> = o
        .findings
        .iter()
        .filter(|f| f.rule == "unknown-reference")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(unknown[0], "unknown dataset `customers`");
}

#[test]
fn fides_policy_rules_are_listed_in_sarif_and_can_be_ignored_or_reconfigured() {
    let dir = fixture("fides/security-egress");
    let id = "fides-policy/no_contact_advertising/reject-contact-data-for-advertising";
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = dir.to_str().unwrap();

    let (code, listing, _) = purposelint(&["rules", d], root);
    assert_eq!(code, 0);
    assert!(listing.contains(id), "{listing}");
    let (code, page, _) = purposelint(&["rule", id, d], root);
    assert_eq!(code, 0, "{page}");
    assert!(page.contains("Derived from rule `Reject contact data for advertising`"));

    let (code, sarif, _) = purposelint(&["check", d, "--format", "sarif"], root);
    assert_eq!(code, 1);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let rules = &sarif["runs"][0]["tool"]["driver"]["rules"];
    let rule = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .expect("the policy rule is in tool.driver.rules");
    assert!(rule["help"]["text"]
        .as_str()
        .unwrap()
        .contains("no_contact_advertising"));

    let json = |args: &[&str], cwd: &Path| -> (i32, Value) {
        let (code, out, err) = purposelint(args, cwd);
        assert!(code != 2, "{err}");
        (code, serde_json::from_str(&out).unwrap())
    };
    let with_rule = |v: &Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == id)
            .map(|f| f["severity"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, all) = json(&["check", d, "--format", "json"], root);
    assert!(!with_rule(&all).is_empty());
    assert!(with_rule(&all).iter().all(|s| s == "error"));
    let (_, ignored) = json(&["check", d, "--format", "json", "--ignore", id], root);
    assert!(with_rule(&ignored).is_empty());

    let work = tempfile::tempdir().unwrap();
    copy_tree(&dir, work.path());
    std::fs::write(
        work.path().join("purposelint.yaml"),
        format!("severity:\n  {id}: warning\n"),
    )
    .unwrap();
    let (_, configured) = json(&["check", ".", "--format", "json"], work.path());
    assert!(!with_rule(&configured).is_empty());
    assert!(with_rule(&configured).iter().all(|s| s == "warning"));

    // An unknown id is still an error of the run, with a suggestion.
    let typo = "fides-policy/no_contact_advertising/reject-contact-data-for-advertisin";
    let (code, _, err) = purposelint(&["check", d, "--ignore", typo], root);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("did you mean `{id}`")), "{err}");
}
