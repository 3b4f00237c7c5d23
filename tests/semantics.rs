//! Flow semantics of spec §3.1–3.2, through the library.

mod common;
use common::*;

use purposelint::model::FlowKind;

fn pipeline(steps: &str) -> String {
    format!("kind: pipeline\nname: p\nsteps:\n{steps}")
}

/// One step from the security contacts to the ad sink with one field, `n: {value}`.
fn one_field_to_ad_sink(value: &str) -> purposelint::check::Outcome {
    let p = pipeline(&format!(
        "  - name: s
    from: accounts.security_contacts
    to: x_audiences
    fields:
      n: {value}
"
    ));
    lint(&[("a.yaml", SECURITY), ("s.yaml", AD_SINK), ("p.yaml", &p)])
}

#[test]
fn direct_flow_into_a_sink() {
    let p = pipeline(
        "  - name: s
    from: accounts.security_contacts
    to: x_audiences
    fields:
      phone: lower(phone_number)
",
    );
    let o = lint(&[("a.yaml", SECURITY), ("s.yaml", AD_SINK), ("p.yaml", &p)]);
    assert_eq!(
        flows(&o),
        vec![t(
            "security-to-advertising",
            "accounts.security_contacts.phone_number",
            "x_audiences"
        )]
    );
    let hop = &o.findings[0].flow.as_ref().unwrap().path[0];
    assert_eq!(hop.flow, FlowKind::Direct);
    assert_eq!(hop.functions, vec!["lower"]);
    assert_eq!(hop.step, "p/s");
}

#[test]
fn join_where_and_group_by_keys_are_indirect_flows() {
    for clause in [
        "join: sha256(accounts.security_contacts.phone_number) = ads.uploads.hashed_phone",
        "where: accounts.security_contacts.phone_number IS NOT NULL",
        "group_by: [accounts.security_contacts.phone_number]",
    ] {
        let p = pipeline(&format!(
            "  - name: s
    from: [ads.uploads, accounts.security_contacts]
    to: x_audiences
    {clause}
    fields:
      audience_id: ads.uploads.audience_id
"
        ));
        let o = lint(&[
            ("a.yaml", SECURITY),
            ("u.yaml", UPLOADS),
            ("s.yaml", AD_SINK),
            ("p.yaml", &p),
        ]);
        assert_eq!(
            flows(&o),
            vec![t(
                "security-to-advertising",
                "accounts.security_contacts.phone_number",
                "x_audiences"
            )],
            "{clause}"
        );
        let hop = &o.findings[0].flow.as_ref().unwrap().path[0];
        assert_eq!(hop.flow, FlowKind::Indirect, "{clause}");
        assert!(diags(&o).is_empty(), "{:?}", diag_lines(&o));
    }
}

#[test]
fn passthrough_carries_every_field_into_a_sink() {
    let p = pipeline(
        "  - name: s
    from: accounts.security_contacts
    to: x_audiences
",
    );
    let o = lint(&[("a.yaml", SECURITY), ("s.yaml", AD_SINK), ("p.yaml", &p)]);
    let f = &o.findings[0];
    assert_eq!(f.flow.as_ref().unwrap().path[0].flow, FlowKind::Passthrough);
    // The hop is located at the `to` value.
    assert_eq!(f.location.span.start_pos.line, 6);
    assert_eq!(f.location.span.start_pos.column, 9);
}

#[test]
fn count_is_a_sanitizer_but_hashes_are_not() {
    let run = |expr: &str| flows(&one_field_to_ad_sink(expr)).len();
    assert_eq!(run("count(phone_number)"), 0);
    assert_eq!(run("COUNT(DISTINCT phone_number)"), 0);
    assert_eq!(run("approx_count_distinct(phone_number)"), 0);
    assert_eq!(run("sha256(phone_number)"), 1);
    assert_eq!(run("md5(lower(phone_number))"), 1);
    // A count next to the raw value does not clean it.
    assert_eq!(run("count(phone_number) + length(phone_number)"), 1);
}

#[test]
fn window_keys_are_indirect_inputs_the_window_function_does_not_sanitize() {
    let run = |expr: &str| {
        let o = one_field_to_ad_sink(&format!("\"{expr}\""));
        let kinds: Vec<FlowKind> = o
            .model
            .flows
            .iter()
            .filter(|f| o.model.fields[f.from as usize].name.as_ref() == "phone_number")
            .map(|f| f.kind)
            .collect();
        (flows(&o).len(), kinds)
    };
    // The key is no argument of `count`: a finding, through an indirect flow.
    assert_eq!(
        run("count(*) over (partition by phone_number)"),
        (1, vec![FlowKind::Indirect])
    );
    assert_eq!(
        run("count(user_id) over (order by phone_number)"),
        (1, vec![FlowKind::Indirect])
    );
    // Its argument still is sanitized.
    assert_eq!(run("count(phone_number) over (partition by user_id)").0, 0);
}

#[test]
fn special_syntax_functions_are_recorded() {
    let p = pipeline(
        "  - name: s
    from: accounts.security_contacts
    to: x_audiences
    fields:
      a: \"trim(substring(phone_number from 2))\"
      b: \"cast(phone_number as varchar)\"
      c: \"lower(phone_number::text)\"
",
    );
    let o = lint(&[("a.yaml", SECURITY), ("s.yaml", AD_SINK), ("p.yaml", &p)]);
    let mut fns: Vec<Vec<String>> = o.model.flows.iter().map(|f| f.functions.clone()).collect();
    fns.sort();
    assert_eq!(
        fns,
        [
            vec!["cast"],
            vec!["lower", "cast"],
            vec!["trim", "substring"]
        ]
    );
}

#[test]
fn dataset_purposes_apply_to_every_field() {
    let ds = "\
kind: dataset
name: recovery
purposes: [essential.service.security]
fields:
  - name: backup_email
";
    let p = pipeline(
        "  - name: s
    from: recovery
    to: x_audiences
",
    );
    let o = lint(&[("a.yaml", ds), ("s.yaml", AD_SINK), ("p.yaml", &p)]);
    assert_eq!(
        flows(&o),
        vec![t(
            "security-to-advertising",
            "recovery.backup_email",
            "x_audiences"
        )]
    );
    assert_eq!(
        o.findings[0].flow.as_ref().unwrap().source.keys,
        vec!["essential.service.security"]
    );
}

#[test]
fn dataset_with_uses_is_a_sink_and_its_own_fields_give_empty_paths() {
    let audience = "\
kind: dataset
name: marketing.audience
uses: [marketing.communications.email]
fields:
  - name: email
  - name: mfa_phone
    purposes: [essential.service.authentication]
";
    let p = pipeline(
        "  - name: s
    from: accounts.security_contacts
    to: marketing.audience
    fields:
      email: email
",
    );
    let sec = SECURITY.replace(
        "  - name: email\n    categories: [user.contact.email]\n",
        "  - name: email\n    categories: [user.contact.email]\n    purposes: [essential.service.security]\n",
    );
    let o = lint(&[("a.yaml", &sec), ("m.yaml", audience), ("p.yaml", &p)]);
    assert_eq!(
        flows(&o),
        vec![
            t(
                "security-to-marketing",
                "accounts.security_contacts.email",
                "marketing.audience"
            ),
            t(
                "security-to-marketing",
                "marketing.audience.mfa_phone",
                "marketing.audience"
            ),
        ]
    );
    let empty = o
        .findings
        .iter()
        .find(|f| f.flow.as_ref().unwrap().source.name.ends_with("mfa_phone"))
        .unwrap();
    assert!(empty.flow.as_ref().unwrap().path.is_empty());
    // Primary location of an empty path: the source field's name.
    assert_eq!(empty.location.span.start_pos.line, 6);
}

#[test]
fn passthrough_chains_of_implicit_datasets_in_reverse_file_order() {
    // Files sort a < b < c, but the chain runs c → b → a.
    let last = pipeline(
        "  - name: publish
    from: stage2
    to: x_audiences
",
    );
    let middle =
        "kind: pipeline\nname: q\nsteps:\n  - name: hop2\n    from: stage1\n    to: stage2\n";
    let first = "kind: pipeline\nname: r\nsteps:\n  - name: hop1\n    from: accounts.security_contacts\n    to: stage1\n";
    let o = lint(&[
        ("a.yaml", &last),
        ("b.yaml", middle),
        ("c.yaml", first),
        ("d.yaml", SECURITY),
        ("e.yaml", AD_SINK),
    ]);
    assert!(diags(&o).is_empty(), "{:?}", diag_lines(&o));
    let f = &o.findings[0];
    let hops: Vec<_> = f
        .flow
        .as_ref()
        .unwrap()
        .path
        .iter()
        .map(|h| h.to.as_str())
        .collect();
    assert_eq!(
        hops,
        vec!["stage1.phone_number", "stage2.phone_number", "x_audiences"]
    );
}

#[test]
fn cycles_terminate_and_still_find_the_sink() {
    let p = pipeline(
        "  - name: a
    from: [accounts.security_contacts, loop_b]
    to: loop_a
  - name: b
    from: loop_a
    to: loop_b
  - name: out
    from: loop_b
    to: x_audiences
",
    );
    let o = lint(&[("a.yaml", SECURITY), ("s.yaml", AD_SINK), ("p.yaml", &p)]);
    assert_eq!(flows(&o).len(), 1);
    assert_eq!(o.findings[0].flow.as_ref().unwrap().path.len(), 3);
}

#[test]
fn one_finding_per_source_and_sink_with_the_smallest_shortest_path() {
    // Two equally short routes: via `b_copy` and via `a_copy`; names decide.
    let p = pipeline(
        "  - name: s
    from: accounts.security_contacts
    to: mid
    fields:
      b_copy: phone_number
      a_copy: phone_number
  - name: t
    from: mid
    to: x_audiences
",
    );
    let o = lint(&[("a.yaml", SECURITY), ("s.yaml", AD_SINK), ("p.yaml", &p)]);
    assert_eq!(flows(&o).len(), 1);
    let path = &o.findings[0].flow.as_ref().unwrap().path;
    assert_eq!(path[0].to, "mid.a_copy");
}

#[test]
fn allow_with_reason_suppresses_only_paths_through_its_step() {
    let allowed = pipeline(
        "  - name: s
    from: accounts.security_contacts
    to: x_audiences
    allow:
      - rule: security-to-advertising
        reason: DPIA-2024-17 approved
",
    );
    let o = lint(&[
        ("a.yaml", SECURITY),
        ("s.yaml", AD_SINK),
        ("p.yaml", &allowed),
    ]);
    assert!(flows(&o).is_empty());
    assert_eq!(o.suppressed.len(), 1);

    // A second route that avoids the allowed step is still reported.
    let mixed = format!(
        "{allowed}  - name: other
    from: accounts.security_contacts
    to: x_audiences
    fields:
      p: phone_number
"
    );
    let o = lint(&[
        ("a.yaml", SECURITY),
        ("s.yaml", AD_SINK),
        ("p.yaml", &mixed),
    ]);
    assert_eq!(flows(&o).len(), 1);
    let finding = o.findings.iter().find(|f| f.flow.is_some()).unwrap();
    assert_eq!(finding.flow.as_ref().unwrap().path[0].step, "p/other");
    // The allow no longer suppresses anything, and says so.
    assert_eq!(
        diag_lines(&o),
        vec!["unused-suppression 8:9 this `allow` for `security-to-advertising` suppresses nothing: no finding of the rule passes through step p/s"]
    );
}

#[test]
fn allow_without_reason_is_invalid() {
    let p = pipeline(
        "  - name: s
    from: accounts.security_contacts
    to: x_audiences
    allow:
      - rule: security-to-advertising
",
    );
    let o = lint(&[("a.yaml", SECURITY), ("s.yaml", AD_SINK), ("p.yaml", &p)]);
    assert_eq!(
        diag_lines(&o),
        vec!["invalid-manifest 8:9 an allow entry needs a `reason`: record why this flow was approved"]
    );
    // Without a valid allow the finding stands.
    assert_eq!(flows(&o).len(), 1);
}

#[test]
fn sibling_keys_never_match() {
    let sink = "kind: sink\nname: odd\nuses: [marketing.advertisingx]\n";
    let p = pipeline("  - name: s\n    from: accounts.security_contacts\n    to: odd\n");
    let o = lint(&[("a.yaml", SECURITY), ("s.yaml", sink), ("p.yaml", &p)]);
    assert!(flows(&o).is_empty());
    assert_eq!(
        diag_lines(&o),
        vec!["unknown-purpose 3:8 `marketing.advertisingx` is not a known data use; did you mean `marketing.advertising`?"]
    );
}

#[test]
fn every_builtin_rule_fires_on_its_sink_use() {
    let sinks = "\
kind: sink
name: ads
uses: [marketing.advertising.first_party.targeted]
---
kind: sink
name: sms_blast
uses: [marketing.communications.sms]
---
kind: sink
name: broker
uses: [third_party_sharing]
";
    let p = pipeline(
        "  - name: a
    from: accounts.security_contacts
    to: ads
  - name: b
    from: accounts.security_contacts
    to: sms_blast
  - name: c
    from: accounts.security_contacts
    to: broker
",
    );
    let o = lint(&[("a.yaml", SECURITY), ("s.yaml", sinks), ("p.yaml", &p)]);
    let f = "accounts.security_contacts.phone_number";
    assert_eq!(
        flows(&o),
        vec![
            t("security-to-advertising", f, "ads"),
            t("security-to-marketing", f, "sms_blast"),
            t("security-to-third-party", f, "broker"),
        ]
    );
}

#[test]
fn fraud_detection_purpose_is_a_source_but_consented_marketing_is_not() {
    let ds = "\
kind: dataset
name: d
fields:
  - name: device_fingerprint
    purposes: [essential.fraud_detection]
  - name: consented_email
    purposes: [marketing.advertising.third_party.targeted]
";
    let p = pipeline("  - name: s\n    from: d\n    to: x_audiences\n");
    let o = lint(&[("a.yaml", ds), ("s.yaml", AD_SINK), ("p.yaml", &p)]);
    assert_eq!(
        flows(&o),
        vec![t(
            "security-to-advertising",
            "d.device_fingerprint",
            "x_audiences"
        )]
    );
}

#[test]
fn passthrough_into_a_declared_dataset_carries_only_its_fields() {
    let target = "kind: dataset\nname: slim\nfields:\n  - name: user_id\n";
    let p = pipeline(
        "  - name: s
    from: accounts.security_contacts
    to: slim
  - name: t
    from: slim
    to: x_audiences
",
    );
    let o = lint(&[
        ("a.yaml", SECURITY),
        ("b.yaml", target),
        ("s.yaml", AD_SINK),
        ("p.yaml", &p),
    ]);
    assert!(flows(&o).is_empty());
    assert!(diags(&o).is_empty(), "{:?}", diag_lines(&o));
}

#[test]
fn output_is_identical_across_runs() {
    let p = pipeline(
        "  - name: s
    from: accounts.security_contacts
    to: x_audiences
",
    );
    let files = [
        ("a.yaml", SECURITY),
        ("s.yaml", AD_SINK),
        ("p.yaml", p.as_str()),
    ];
    let a = lint(&files);
    let b = lint(&files);
    assert_eq!(flows(&a), flows(&b));
    let fp = |o: &purposelint::check::Outcome| {
        o.findings
            .iter()
            .map(|f| f.flow.as_ref().unwrap().fingerprint.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(fp(&a), fp(&b));
}
