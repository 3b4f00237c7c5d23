//! Every built-in check at its exact line and column, and inputs to tolerate.

mod common;
use common::*;

#[test]
fn unknown_missing_wrong_type_and_duplicate_keys() {
    let ds = "\
kind: dataset
name: accounts
purpose: [essential.service.security]
fields:
  - name: phone
    categories: user.contact.phone_number
  - nme: email
";
    let sink = "kind: sink\nname: s\nuses: [marketing]\nuses: [analytics]\n";
    let o = lint(&[("a.yaml", ds), ("b.yaml", sink)]);
    assert_eq!(
        diag_lines(&o),
        vec![
            "invalid-manifest 3:1 unknown key `purpose` in a dataset; did you mean `purposes`?",
            "invalid-manifest 6:17 `categories` must be a list of strings, found a scalar",
            "invalid-manifest 7:5 a field is missing the required key `name`",
            "invalid-manifest 7:5 unknown key `nme` in a field; did you mean `name`?",
            "invalid-manifest 4:1 duplicate key `uses` in a sink (first at line 3)",
        ]
    );
    // The suggestion is in the message, so every output format shows it (spec §4).
    assert_eq!(diags(&o)[0].help, None);
    assert_eq!(diags(&o)[3].help, None);
}

#[test]
fn missing_required_keys_of_each_kind() {
    let ours = "apiVersion: purposelint/v1\n";
    let o = lint(&[
        ("a.yaml", &format!("{ours}kind: dataset\nname: d\n")),
        ("b.yaml", &format!("{ours}kind: sink\nname: s\n")),
        (
            "c.yaml",
            "kind: pipeline\nname: p\nsteps:\n  - name: x\n    from: d\n",
        ),
    ]);
    assert_eq!(
        diag_lines(&o),
        vec![
            "invalid-manifest 1:1 a dataset is missing the required key `fields`",
            "invalid-manifest 1:1 a sink is missing the required key `uses`",
            "invalid-manifest 4:5 a step is missing the required key `to`",
        ]
    );
    // Without `apiVersion`, a document is ours only by its shape (spec §3).
    let o = lint(&[
        ("a.yaml", "kind: dataset\nname: d\n"),
        ("b.yaml", "kind: sink\nname: s\n"),
    ]);
    let lines = diag_lines(&o);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("no-input 1:1 nothing to lint in"),
        "{lines:?}"
    );
    assert_eq!(o.summary.manifests, 0);
}

#[test]
fn yaml_syntax_errors_are_reported_only_for_declared_manifests() {
    let broken = "kind: dataset\nname: d\nfields: [\n  - name: x\n";
    let helm = "apiVersion: v1\nkind: ConfigMap\n{{- if .Values.enabled }}\ndata:\n  a: {{ .Values.a }}\n{{- end }}\n";
    let k8s = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";
    let o = lint(&[
        ("a.yaml", broken),
        ("templates/cm.yaml", helm),
        ("k8s.yaml", k8s),
    ]);
    let lines = diag_lines(&o);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("invalid-manifest 4:"), "{lines:?}");
    assert!(lines[0].contains("invalid YAML"), "{lines:?}");
    assert_eq!(o.summary.files, 3);
    assert_eq!(o.summary.manifests, 0);
}

#[test]
fn one_bad_file_does_not_stop_the_others() {
    let p = "kind: pipeline\nname: p\nsteps:\n  - name: s\n    from: accounts.security_contacts\n    to: x_audiences\n";
    let o = lint(&[
        ("a.yaml", "kind: sink\nname: [oops\n"),
        ("b.yaml", SECURITY),
        ("c.yaml", AD_SINK),
        ("d.yaml", p),
    ]);
    assert_eq!(flows(&o).len(), 1);
    assert_eq!(diags(&o).len(), 1);
}

#[test]
fn unknown_references_with_suggestions() {
    let p = "\
kind: pipeline
name: p
steps:
  - name: a
    from: [accounts.security_contact, ads.uploads]
    to: out
    fields:
      x: ads.upload.audience_id
  - name: b
    from: [accounts.security_contacts, ads.uploads]
    to: x_audiences
    join: accounts.security_contacts.phone_numbr = hashed_phone
    where: user_id = 1 AND zzz = 2
  - name: c
    from: [accounts.security_contacts]
    to: x_audiences
    fields:
      p: ads.uploads.hashed_phone
  - name: d
    from: x_audiences
    to: declared
    fields:
      nope: 1
";
    let declared = "kind: dataset\nname: declared\nfields:\n  - name: yes\n";
    let o = lint(&[
        ("a.yaml", SECURITY),
        ("b.yaml", UPLOADS),
        ("c.yaml", AD_SINK),
        ("d.yaml", declared),
        ("p.yaml", p),
    ]);
    let got: Vec<(String, Option<String>)> = diags(&o)
        .iter()
        .map(|f| {
            (
                format!(
                    "{} {}:{} {}",
                    f.rule,
                    f.location.span.start_pos.line,
                    f.location.span.start_pos.column,
                    f.message
                ),
                f.help.clone(),
            )
        })
        .collect();
    let nowhere = "declare it as a sink with its `uses` (or as a dataset), or include the file that declares it in the run";
    let expected: Vec<(&str, Option<&str>)> = vec![
        (
            "unknown-reference 5:12 unknown dataset `accounts.security_contact`; did you mean `accounts.security_contacts`?",
            None,
        ),
        (
            "undeclared-destination 6:9 `out` is not a declared dataset or sink, and no step reads it: where these flows end is unknown",
            Some(nowhere),
        ),
        (
            "unknown-reference 8:10 unknown dataset `ads.upload` in `ads.upload.audience_id`; did you mean `ads.uploads`?",
            None,
        ),
        (
            "unknown-reference 12:11 dataset `accounts.security_contacts` has no field `phone_numbr`; did you mean `phone_number`?",
            None,
        ),
        ("unknown-reference 13:28 no dataset in `from` has a field `zzz`", None),
        (
            "unknown-reference 18:10 `ads.uploads` is not in this step's `from`",
            Some("add `ads.uploads` to `from`, or reference a dataset it lists"),
        ),
        ("unknown-reference 20:11 `x_audiences` is a sink; `from` names datasets only", None),
        ("unknown-reference 23:7 dataset `declared` has no field `nope`", None),
    ];
    let expected: Vec<(String, Option<String>)> = expected
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.map(str::to_string)))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn ambiguous_bare_field() {
    let other = "kind: dataset\nname: other\nfields:\n  - name: user_id\n";
    let p = "kind: pipeline\nname: p\nsteps:\n  - name: s\n    from: [accounts.security_contacts, other]\n    to: out\n    fields:\n      u: user_id\n";
    let o = lint(&[("a.yaml", SECURITY), ("b.yaml", other), ("p.yaml", p)]);
    assert_eq!(
        diag_lines(&o),
        vec![
            "undeclared-destination 6:9 `out` is not a declared dataset or sink, and no step reads it: where these flows end is unknown",
            "unknown-reference 8:10 `user_id` is ambiguous: it is a field of `accounts.security_contacts` and `other`",
        ]
    );
}

#[test]
fn duplicate_definitions() {
    let twice = "kind: dataset\nname: d\nfields:\n  - name: a\n  - name: a\n";
    let clash = "kind: sink\nname: d\nuses: [analytics]\n";
    let pipes = "kind: pipeline\nname: p\nsteps:\n  - name: s\n    from: d\n    to: o\n  - name: s\n    from: d\n    to: o\n---\nkind: pipeline\nname: p\nsteps:\n  - name: t\n    from: d\n    to: o\n";
    let o = lint(&[("a.yaml", twice), ("b.yaml", clash), ("c.yaml", pipes)]);
    let lines = diag_lines(&o);
    let dir_free: Vec<String> = lines
        .iter()
        .map(|l| l.split(" at ").next().unwrap().to_string())
        .collect();
    assert_eq!(
        dir_free,
        vec![
            "duplicate-definition 5:11 field `a` is already defined",
            "duplicate-definition 2:7 sink `d` is already defined",
            "undeclared-destination 6:9 `o` is not a declared dataset or sink, and no step reads it: where these flows end is unknown",
            "duplicate-definition 7:11 step `s` is already defined",
            "duplicate-definition 12:7 pipeline `p` is already defined",
        ]
    );
    assert!(lines[1].ends_with("a.yaml:2"), "{}", lines[1]);
}

#[test]
fn unknown_purposes_uses_and_categories() {
    let ds = "\
kind: dataset
name: d
fields:
  - name: phone
    categories: [user.contact.phone_numbr]
    purposes: [essential.service.authentification]
";
    let o = lint(&[("a.yaml", ds)]);
    assert_eq!(
        diag_lines(&o),
        vec![
            "unknown-purpose 5:18 `user.contact.phone_numbr` is not a known data category; did you mean `user.contact.phone_number`?",
            "unknown-purpose 6:16 `essential.service.authentification` is not a known data use; did you mean `essential.service.authentication`?",
        ]
    );
    // An error since v1.1: a typo must not remove a source and pass the build.
    assert!(diags(&o)
        .iter()
        .all(|d| d.severity == purposelint::finding::Severity::Error));
}

#[test]
fn bad_expressions_and_dotted_field_names() {
    let ds = "kind: dataset\nname: d\nfields:\n  - name: a.b\n  - name: c\n";
    let p = "kind: pipeline\nname: p\nsteps:\n  - name: s\n    from: d\n    to: o\n    fields:\n      x: c +\n";
    let o = lint(&[("a.yaml", ds), ("p.yaml", p)]);
    let lines = diag_lines(&o);
    assert_eq!(
        lines[0],
        "invalid-manifest 4:11 field name `a.b` must not contain dots"
    );
    assert!(
        lines[1].starts_with("undeclared-destination 6:9 `o`"),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("invalid-manifest 8:10 cannot parse the expression `c +`"),
        "{lines:?}"
    );
}

#[test]
fn columns_count_characters_after_multibyte_text() {
    let ds = "kind: dataset\nname: d\ndescription: \"Zähler für Ñandú ✓\"\nfields: [{name: ü, purposes: [essentiel]}]\n";
    let o = lint(&[("a.yaml", ds)]);
    assert_eq!(
        diag_lines(&o),
        vec!["unknown-purpose 4:31 `essentiel` is not a known data use; did you mean `essential`?"]
    );
    let span = diags(&o)[0].location.span;
    assert_eq!(span.end_pos.column, 40);
}

#[test]
fn crlf_line_endings_and_bom() {
    let ds =
        "\u{feff}kind: dataset\r\nname: d\r\nfields:\r\n  - name: x\r\n    purposes: [nope]\r\n";
    let o = lint(&[("a.yaml", ds)]);
    assert_eq!(
        diag_lines(&o),
        vec!["unknown-purpose 5:16 `nope` is not a known data use"]
    );
    assert_eq!(diags(&o)[0].location.span.end_pos.column, 20);
}

#[test]
fn invalid_utf8_is_reported_only_for_declared_manifests() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        b"kind: sink\nname: caf\xe9\nuses: [x]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("b.yaml"), b"other: caf\xe9\n").unwrap();
    std::fs::write(dir.path().join("c.yaml"), b"\x00\x01\x02binary").unwrap();
    let opts = purposelint::check::Options::new(vec![dir.path().to_path_buf()]);
    let o = purposelint::check::run(&opts).unwrap();
    assert_eq!(
        diag_lines(&o),
        vec!["invalid-manifest 2:10 the file is not valid UTF-8"]
    );
}

#[test]
fn non_manifest_documents_in_a_manifest_file_are_skipped() {
    let mixed = format!("apiVersion: v1\nkind: Service\n---\n{AD_SINK}---\n- just\n- a list\n");
    let o = lint(&[("a.yaml", &mixed)]);
    assert!(o.findings.is_empty());
    assert_eq!(o.summary.manifests, 1);
}

#[test]
fn reference_errors_point_into_quoted_scalars_and_at_block_scalars() {
    let p = "\
kind: pipeline
name: p
steps:
  - name: s
    from: accounts.security_contacts
    to: out
    fields:
      a: \"lower(emial)\"
      b: |
        upper(phne)
      c: >
        lower(user_id) ||
        upper(emal)
";
    let o = lint(&[("a.yaml", SECURITY), ("p.yaml", p)]);
    assert_eq!(
        diag_lines(&o),
        vec![
            "undeclared-destination 6:9 `out` is not a declared dataset or sink, and no step reads it: where these flows end is unknown",
            "unknown-reference 8:17 no dataset in `from` has a field `emial`; did you mean `email`?",
            // Block scalars do not match their source text byte for byte, so the whole
            // value is reported.
            "unknown-reference 10:9 no dataset in `from` has a field `phne`",
            "unknown-reference 12:9 no dataset in `from` has a field `emal`; did you mean `email`?",
        ]
    );
    assert_eq!(diags(&o)[1].location.span.end_pos.column, 22);
}
