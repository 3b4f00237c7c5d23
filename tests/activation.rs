//! Activation configs (contract `activation.md`): one test per acceptance line, on small
//! fixtures, and the real provider examples of `../shared/corpus/cdp/`.

mod common;

use common::{diag_lines, flows, lint, lint_with};
use purposelint::check::Outcome;
use purposelint::finding::Severity;

const USERS: &str = "kind: dataset
name: public.users
fields:
  - name: id
  - name: email
    purposes: [essential.service.security]
  - name: phone
    purposes: [essential.service.authentication]
  - name: plan
";

const RS_SOURCE: &str = r#"resource "rudderstack_retl_source_table" "users" {
  name = "users"
  config {
    primary_key = "id"
    schema      = "public"
    table       = "users"
  }
}
resource "rudderstack_destination_facebook_conversions" "meta" {
  name = "meta"
}
"#;

fn rs_connection(body: &str) -> String {
    format!(
        r#"resource "rudderstack_retl_connection" "to_meta" {{
  source_id      = rudderstack_retl_source_table.users.id
  destination_id = rudderstack_destination_facebook_conversions.meta.id
{body}
}}
"#
    )
}

/// A table source named by `var.table` and a connection sending `local.key`, open at the
/// end of the connection's body.
const KEYED_CONNECTION: &str = r#"resource "rudderstack_retl_source_table" "users" {
  config {
    schema = "public"
    table  = var.table
  }
}
resource "rudderstack_destination_facebook_conversions" "meta" {
  name = "meta"
}
resource "rudderstack_retl_connection" "c" {
  source_id      = rudderstack_retl_source_table.users.id
  destination_id = rudderstack_destination_facebook_conversions.meta.id
  identifiers {
    from = local.key
  }
"#;

/// `conn.tf` beside the 2FA users dataset and [`RS_SOURCE`].
fn lint_rs(conn: &str) -> Outcome {
    lint(&[
        ("users.yaml", USERS),
        ("rs.tf", RS_SOURCE),
        ("conn.tf", conn),
    ])
}

/// Asserts that a diagnostic starts with `start` (`rule line:col`) and contains `part`.
fn assert_diag(o: &Outcome, start: &str, part: &str) {
    let lines = diag_lines(o);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(start) && l.contains(part)),
        "no `{start}` with `{part}` in {lines:?}"
    );
}

fn leaks(o: &Outcome) -> Vec<(String, String)> {
    flows(o).into_iter().map(|(r, s, _)| (r, s)).collect()
}

fn finding_for<'o>(o: &'o Outcome, source: &str) -> &'o purposelint::finding::Finding {
    o.findings
        .iter()
        .find(|f| f.flow.as_ref().is_some_and(|p| p.source.name == source))
        .unwrap_or_else(|| panic!("no finding for {source}: {:?}", diag_lines(o)))
}

/// The `destination_field` of the last hop of `o`'s finding for `source`.
fn sent_as<'o>(o: &'o Outcome, source: &str) -> Option<&'o str> {
    let f = finding_for(o, source);
    f.flow
        .as_ref()
        .unwrap()
        .path
        .last()
        .unwrap()
        .destination_field
        .as_deref()
}

/// Where each hop of `f`'s path starts: (line, column).
fn hop_starts(f: &purposelint::finding::Finding) -> Vec<(u32, u32)> {
    let path = &f.flow.as_ref().unwrap().path;
    let start = |h: &purposelint::finding::Hop| h.location.span.start_pos;
    path.iter()
        .map(|h| (start(h).line, start(h).column))
        .collect()
}

fn span(f: &purposelint::finding::Finding) -> (u32, u32, u32) {
    let s = f.location.span;
    (s.start_pos.line, s.start_pos.column, s.end_pos.column)
}

#[test]
fn rudderstack_mapping_of_a_2fa_phone_is_located_at_the_from_value() {
    let conn =
        rs_connection("  mappings {\n    from = \"phone\"\n    to   = \"user_data.phone\"\n  }");
    let o = lint_rs(&conn);
    let f = finding_for(&o, "public.users.phone");
    assert_eq!(f.rule, "security-to-advertising");
    // The primary location skips the link hop: it is the 7 characters `"phone"`.
    assert_eq!(span(f), (5, 12, 19));
    let path = &f.flow.as_ref().unwrap().path;
    assert_eq!(path.len(), 2);
    assert_eq!(path[0].flow.as_str(), "passthrough");
    assert_eq!(
        path[1].destination_field.as_deref(),
        Some("user_data.phone")
    );
    assert_eq!(path[1].flow.as_str(), "direct");
}

#[test]
fn a_terraform_comment_of_either_syntax_suppresses_the_mapping() {
    for marker in ["#", "//"] {
        let conn = rs_connection(&format!(
            "  mappings {{\n    from = \"phone\" {marker} purposelint: ignore[security-to-advertising] DPIA-8\n    to   = \"user_data.phone\"\n  }}"
        ));
        let o = lint_rs(&conn);
        assert!(leaks(&o).is_empty(), "{marker}: {:?}", diag_lines(&o));
        assert_eq!(o.dismissed.len(), 1, "{marker}");
    }
}

#[test]
fn an_identifier_alone_is_a_direct_flow() {
    let conn = rs_connection("  identifiers {\n    from = \"phone\"\n    to   = \"phone\"\n  }");
    let o = lint_rs(&conn);
    let f = finding_for(&o, "public.users.phone");
    assert_eq!(f.flow.as_ref().unwrap().path[1].flow.as_str(), "direct");
    assert_eq!(span(f), (5, 12, 19));
}

#[test]
fn a_primary_key_only_use_is_an_indirect_finding_at_the_key() {
    let source = RS_SOURCE.replace("primary_key = \"id\"", "primary_key = \"phone\"");
    let conn = rs_connection("  mappings {\n    from = \"plan\"\n    to   = \"plan\"\n  }");
    let o = lint(&[
        ("users.yaml", USERS),
        ("rs.tf", &source),
        ("conn.tf", &conn),
    ]);
    let f = finding_for(&o, "public.users.phone");
    let p = f.flow.as_ref().unwrap();
    assert_eq!(p.path.last().unwrap().flow.as_str(), "indirect");
    assert_eq!(
        o.model
            .sources
            .get(f.location.file)
            .display
            .rsplit('/')
            .next(),
        Some("rs.tf")
    );
    assert_eq!(span(f), (4, 19, 26));
}

#[test]
fn census_primary_identifier_email_to_a_marketing_tool() {
    let tf = r#"resource "census_destination" "crm" {
  name = "CRM"
  type = "hubspot"
}
resource "census_sync" "contacts" {
  source_attributes {
    connection_id = 1
    object {
      type         = "table"
      table_schema = "public"
      table_name   = "users"
    }
  }
  destination_attributes {
    connection_id = census_destination.crm.id
    object        = "contacts"
  }
  field_mapping {
    from                  = "email"
    to                    = "email"
    is_primary_identifier = true
  }
  field_mapping {
    type     = "constant"
    constant = "x"
    to       = "source"
  }
}
"#;
    let o = lint(&[("users.yaml", USERS), ("census.tf", tf)]);
    assert_eq!(
        leaks(&o),
        [(
            "security-to-marketing".to_string(),
            "public.users.email".to_string()
        )]
    );
    let f = finding_for(&o, "public.users.email");
    assert_eq!(span(f), (19, 29, 36));
    // The sync's destination object is named in the message only (spec §4).
    assert!(
        f.message
            .contains("reaches the `contacts` object of census_destination.crm ("),
        "{}",
        f.message
    );
    assert_eq!(f.flow.as_ref().unwrap().sink.name, "census_destination.crm");
}

#[test]
fn census_list_syntax_and_liquid_templates_read_like_blocks() {
    let tf = r#"resource "census_destination" "crm" {
  type = "salesforce"
}
resource "census_sync" "s" {
  source_attributes = jsonencode({
    connection_id = 1
    object = { type = "table", table_schema = "public", table_name = "users" }
  })
  destination_attributes = { connection_id = census_destination.crm.id }
  field_mapping = [
    { type = "liquid_template", liquid_template = "{{ record['phone'] }}", to = "Phone" },
    { from = "plan", to = "Plan" },
  ]
}
"#;
    let sales = "id: security-to-sales
severity: error
summary: Security data reaches sales tools
description: test
source:
  purposes: [essential.service.authentication]
sink:
  uses: [sales]
flows: [direct, indirect]
";
    let dir = tempfile::tempdir().unwrap();
    common::write(dir.path(), &[("rules/s.yaml", sales)]);
    let rules = purposelint::rules::load(&[dir.path().join("rules")], &Default::default()).unwrap();
    let o = lint_with(&[("users.yaml", USERS), ("census.tf", tf)], |opts| {
        opts.rules = rules
    });
    let f = finding_for(&o, "public.users.phone");
    assert_eq!(f.rule, "security-to-sales");
    assert_eq!(span(f).0, 11);
}

const MODEL: &str = r#"resource "segment_reverse_etl_model" "phones" {
  source_id               = "wh1"
  query                   = "SELECT id, phone FROM public.users"
  query_identifier_column = "id"
}
resource "segment_destination" "fca" {
  source_id = "src1"
  metadata = {
    id = "645d5fc12eb891cf0a93fe4b"
  }
}
"#;

#[test]
fn segment_jsonencode_path_from_a_reverse_etl_model() {
    let sub = r#"resource "segment_destination_subscription" "sync" {
  destination_id = segment_destination.fca.id
  model_id       = segment_reverse_etl_model.phones.id
  action_id      = "a1"
  trigger        = "type = \"identify\""
  settings = jsonencode({
    "phone" : { "@path" : "$.properties.PHONE" },
    "enable_batching" : true
  })
}
"#;
    let o = lint(&[("users.yaml", USERS), ("model.tf", MODEL), ("sub.tf", sub)]);
    let f = finding_for(&o, "public.users.phone");
    assert_eq!(f.rule, "security-to-advertising");
    let hop = f.flow.as_ref().unwrap().path.last().unwrap();
    assert_eq!(hop.destination_field.as_deref(), Some("phone"));
    let s = hop.location.span;
    assert_eq!(
        (s.start_pos.line, s.start_pos.column, s.end_pos.column),
        (7, 27, 47)
    );
}

#[test]
fn segment_escaped_json_settings_give_the_same_finding_inside_the_string() {
    let sub = r#"resource "segment_destination_subscription" "sync" {
  destination_id = segment_destination.fca.id
  model_id       = segment_reverse_etl_model.phones.id
  settings       = "{\"phone\":{\"@path\":\"$.properties.PHONE\"}}"
}
"#;
    let o = lint(&[("users.yaml", USERS), ("model.tf", MODEL), ("sub.tf", sub)]);
    let f = finding_for(&o, "public.users.phone");
    let hop = f.flow.as_ref().unwrap().path.last().unwrap();
    let src = o.model.sources.get(hop.location.file);
    let s = hop.location.span;
    assert_eq!(
        &src.text[s.start as usize..s.end as usize],
        r#"\"$.properties.PHONE\""#
    );
}

#[test]
fn an_unknown_segment_id_is_unclassified_and_an_error_once_security_data_reaches_it() {
    let unreached = MODEL.replace("645d5fc12eb891cf0a93fe4b", "dm123");
    let o = lint(&[("model.tf", unreached.as_str())]);
    let d: Vec<_> = o
        .findings
        .iter()
        .filter(|f| f.rule == "unclassified-destination")
        .collect();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    assert!(d[0].message.contains("segment:dm123"), "{}", d[0].message);
    assert_eq!(d[0].location.span.start_pos.line, 9);

    let sub = r#"resource "segment_destination_subscription" "sync" {
  destination_id = segment_destination.fca.id
  model_id       = segment_reverse_etl_model.phones.id
  settings       = jsonencode({ "p" : { "@path" : "$.properties.phone" } })
}
"#;
    let o = lint(&[
        ("users.yaml", USERS),
        ("model.tf", &unreached),
        ("sub.tf", sub),
    ]);
    let d = o
        .findings
        .iter()
        .find(|f| f.rule == "unclassified-destination")
        .unwrap();
    assert_eq!(d.severity, Severity::Error);
    assert!(d.message.contains("public.users.phone"), "{}", d.message);
}

const EVENTS: &str = "kind: dataset
name: event-stream-source.app
fields:
  - name: phone
    purposes: [essential.service.authentication]
  - name: page
";

#[test]
fn rudder_cli_blacklist_with_hash_does_not_sanitize() {
    let dest = "version: rudder/v1
kind: destination
metadata:
  name: fb
spec:
  id: fb
  type: facebook_conversions
  config:
    blacklist_pii_properties:
      - property: phone
        hash: true
";
    let src = "version: rudder/v1
kind: event-stream-source
metadata:
  name: app
spec:
  id: app
  type: android
";
    let conns = "version: rudder/v1
kind: event-stream-connections
metadata:
  name: c
spec:
  connections:
    - id: app-to-fb
      source: \"#event-stream-source:app\"
      destination: \"#destination:fb\"
      enabled: false
";
    let o = lint(&[
        ("schema.yaml", EVENTS),
        ("dest.yaml", dest),
        ("src.yaml", src),
        ("conns.yaml", conns),
    ]);
    let f = finding_for(&o, "event-stream-source.app.phone");
    assert_eq!(f.flow.as_ref().unwrap().sink.name, "destination.fb");
    assert_eq!(span(f), (9, 20, 37));
    assert!(
        diag_lines(&o).iter().all(|d| !d.starts_with("duplicate")),
        "{:?}",
        diag_lines(&o)
    );
}

#[test]
fn a_webhook_destination_and_a_consented_twin_are_clean() {
    let webhook = RS_SOURCE.replace(
        "rudderstack_destination_facebook_conversions",
        "rudderstack_destination_webhook",
    );
    let conn = rs_connection("  mappings {\n    from = \"phone\"\n    to = \"p\"\n  }").replace(
        "rudderstack_destination_facebook_conversions",
        "rudderstack_destination_webhook",
    );
    let o = lint(&[
        ("users.yaml", USERS),
        ("rs.tf", &webhook),
        ("conn.tf", &conn),
    ]);
    assert_eq!(leaks(&o), []);
    assert_eq!(
        o.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count(),
        0
    );

    let consented = USERS.replace(
        "[essential.service.authentication]",
        "[marketing.advertising.third_party.targeted]",
    );
    let conn = rs_connection("  mappings {\n    from = \"phone\"\n    to = \"p\"\n  }");
    let o = lint(&[
        ("users.yaml", &consented),
        ("rs.tf", RS_SOURCE),
        ("conn.tf", &conn),
    ]);
    assert_eq!(leaks(&o), []);
}

#[test]
fn a_broken_hcl_file_beside_a_valid_leak() {
    let conn = rs_connection("  identifiers {\n    from = \"phone\"\n  }");
    let broken = "resource \"rudderstack_retl_connection\" \"x\" {\n  source_id = \n}\n";
    let foreign = "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \n}\n";
    let o = lint(&[
        ("users.yaml", USERS),
        ("rs.tf", RS_SOURCE),
        ("conn.tf", &conn),
        ("broken.tf", broken),
        ("foreign.tf", foreign),
    ]);
    let d: Vec<_> = o
        .findings
        .iter()
        .filter(|f| f.rule == "invalid-manifest")
        .collect();
    assert_eq!(d.len(), 1, "{:?}", diag_lines(&o));
    assert_eq!(
        o.model
            .sources
            .get(d[0].location.file)
            .display
            .rsplit('/')
            .next(),
        Some("broken.tf")
    );
    assert_eq!(d[0].location.span.start_pos.line, 2);
    assert_eq!(leaks(&o).len(), 1);
}

#[test]
fn an_ambiguous_relation_links_to_every_candidate() {
    let a = "kind: dataset\nname: auth.contacts\nfields:\n  - name: phone\n    purposes: [essential.service.authentication]\n";
    let b = "kind: dataset\nname: crm.contacts\nfields:\n  - name: phone\n";
    let source = RS_SOURCE
        .replace("schema      = \"public\"\n", "")
        .replace("\"users\"\n  }", "\"contacts\"\n  }");
    let conn = rs_connection("  identifiers {\n    from = \"phone\"\n  }");
    let o = lint(&[
        ("a.yaml", a),
        ("b.yaml", b),
        ("rs.tf", &source),
        ("conn.tf", &conn),
    ]);
    let amb: Vec<_> = o
        .findings
        .iter()
        .filter(|f| f.rule == "ambiguous-relation")
        .collect();
    assert_eq!(amb.len(), 1);
    assert!(
        amb[0].message.contains("`auth.contacts`") && amb[0].message.contains("`crm.contacts`")
    );
    assert!(
        amb[0]
            .message
            .contains(r#"`relations: {"contacts": <dataset>}`"#),
        "{}",
        amb[0].message
    );
    assert_eq!(
        leaks(&o),
        [(
            "security-to-advertising".into(),
            "auth.contacts.phone".into()
        )]
    );

    // `relations:` pins it to one dataset.
    let pinned = |source: &str, pin: &str| {
        let files = [
            ("a.yaml", a),
            ("b.yaml", b),
            ("rs.tf", source),
            ("conn.tf", &conn),
        ];
        lint_with(&files, |opts| {
            opts.activation.relations = vec![(pin.into(), "crm.contacts".into())];
        })
    };
    let o = pinned(&source, "contacts");
    assert!(o.findings.iter().all(|f| f.rule != "ambiguous-relation"));
    assert_eq!(leaks(&o), []);

    // A pin of `contacts` is one more name of its target, not a rule for every relation
    // ending so: `auth.contacts` is the dataset of that name, and its leak stays.
    let qualified = source.replace(
        "table       = \"contacts\"",
        "schema = \"auth\"\n    table = \"contacts\"",
    );
    let o = pinned(&qualified, "contacts");
    assert_eq!(
        leaks(&o),
        [(
            "security-to-advertising".into(),
            "auth.contacts.phone".into()
        )]
    );
    // A pin as qualified as the relation, or more, wins.
    let o = pinned(&qualified, "warehouse.auth.contacts");
    assert_eq!(leaks(&o), []);
}

#[test]
fn a_column_the_linked_dataset_lacks_is_an_unknown_reference() {
    let conn = rs_connection("  mappings {\n    from = \"phnoe\"\n  }");
    let o = lint_rs(&conn);
    assert_diag(&o, "unknown-reference 5:12", "did you mean `phone`");
    assert_diag(&o, "unknown-reference 5:12", "(it reads `public.users`)");
}

#[test]
fn a_literal_destination_id_managed_elsewhere_is_undeclared() {
    let sub = r#"resource "segment_destination_subscription" "sync" {
  destination_id = "64d1b96c7887ccda3542fe5b"
  settings       = "{}"
}
"#;
    let o = lint(&[("sub.tf", sub)]);
    assert_diag(
        &o,
        "undeclared-destination 2:20",
        "segment:64d1b96c7887ccda3542fe5b",
    );
}

#[test]
fn a_reference_written_as_a_lone_interpolation_resolves_like_the_reference() {
    // Older provider docs write `"${x.y.id}"`; Terraform reads it as `x.y.id`.
    let conn = r#"resource "rudderstack_retl_connection" "to_meta" {
  source_id      = "${rudderstack_retl_source_table.users.id}"
  destination_id = "${rudderstack_destination_facebook_conversions.meta.id}"
  mappings {
    from = "phone"
  }
}
"#;
    let o = lint_rs(conn);
    assert!(
        leaks(&o).contains(&(
            "security-to-advertising".into(),
            "public.users.phone".into()
        )),
        "{:?}",
        diag_lines(&o)
    );
    let lines = diag_lines(&o);
    assert!(
        !lines.iter().any(|l| l.starts_with("incomplete-lineage")),
        "{lines:?}"
    );
    // A template with more than the interpolation is still not read literally.
    let conn = conn.replace(
        "\"${rudderstack_retl_source_table.users.id}\"",
        "\"id-${rudderstack_retl_source_table.users.id}\"",
    );
    let o = lint_rs(&conn);
    assert_diag(&o, "incomplete-lineage 2:20", "interpolation");
}

#[test]
fn every_missing_end_of_a_connection_is_reported() {
    // A missing destination must not hide a missing source (or dataset, or warehouse).
    let tf = r#"resource "census_dataset" "d" {
  source_id = census_source.gone.id
  query     = "select id, email from public.users"
}
resource "census_sync" "s" {
  source_attributes {
    connection_id = census_source.gone.id
    object {
      type = "dataset"
      id   = census_dataset.missing.id
    }
  }
  destination_attributes {
    connection_id = census_destination.missing.id
    object        = "Contact"
  }
  field_mapping {
    from = "email"
    to   = "Email"
  }
}
"#;
    let o = lint(&[("users.yaml", USERS), ("census.tf", tf)]);
    let mut lines: Vec<String> = diag_lines(&o)
        .into_iter()
        .filter(|l| l.starts_with("unknown-reference"))
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "unknown-reference 10:14 `census_dataset.missing` is not declared in this module; did you mean `census_dataset.d`?",
            "unknown-reference 14:21 `census_destination.missing` is not declared in this module",
            "unknown-reference 2:15 `census_source.gone` is not declared in this module",
            "unknown-reference 7:21 `census_source.gone` is not declared in this module",
        ],
        "{:?}",
        diag_lines(&o)
    );
}

#[test]
fn a_literal_model_or_dataset_id_that_resolves_to_nothing_is_unknown() {
    // Spec §10: not an error, but never silent (§7.3).
    let tf = r#"resource "census_destination" "crm" {
  name = "crm"
  type = "hubspot"
}
resource "census_sync" "s" {
  source_attributes {
    object {
      type = "dataset"
      id   = "12345"
    }
  }
  destination_attributes {
    connection_id = census_destination.crm.id
    object        = "Contact"
  }
  field_mapping {
    from = "email"
    to   = "Email"
  }
}
"#;
    let o = lint(&[("census.tf", tf)]);
    let lines = diag_lines(&o);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("incomplete-lineage 9:14")
                && l.contains("`12345`")
                && l.contains("`kind: dataset` named `census:12345`")),
        "{lines:?}"
    );
    assert!(
        o.findings.iter().all(|f| f.severity != Severity::Error),
        "{lines:?}"
    );
    // Declared natively under that name, its columns are known: no note, and the leak.
    let declared = "kind: dataset
name: census:12345
fields:
  - name: email
    purposes: [essential.service.security]
";
    let o = lint(&[("census.tf", tf), ("model.yaml", declared)]);
    let lines = diag_lines(&o);
    assert!(!lines.iter().any(|l| l.contains("`12345`")), "{lines:?}");
    assert!(
        leaks(&o).iter().any(|(_, s)| s == "census:12345.email"),
        "{lines:?}"
    );
}

#[test]
fn a_quoted_relation_is_located_with_its_quotes() {
    let tf = r#"resource "segment_reverse_etl_model" "m" {
  source_id               = "wh"
  query                   = <<-SQL
    SELECT id FROM "public"."users" u JOIN `proj.ds.t` ON 1=1 JOIN "x" ON 1=1
  SQL
  query_identifier_column = "id"
}
resource "segment_reverse_etl_model" "e" {
  source_id               = "wh"
  query                   = "SELECT id FROM \"public\".\"orders\""
  query_identifier_column = "id"
}
"#;
    let o = lint(&[("m.tf", tf)]);
    let mut located: Vec<(String, u32, u32, u32)> = common::diags(&o)
        .iter()
        .filter(|f| f.message.starts_with("no dataset declares relation"))
        .map(|f| {
            let name = f.message.split('`').nth(1).unwrap_or("").to_string();
            let s = f.location.span;
            (name, s.start_pos.line, s.start_pos.column, s.end_pos.column)
        })
        .collect();
    located.sort();
    assert_eq!(
        located,
        [
            ("proj.ds.t".to_string(), 4, 44, 55),
            ("public.orders".to_string(), 10, 45, 66),
            ("public.users".to_string(), 4, 20, 36),
            ("x".to_string(), 4, 68, 71),
        ]
    );
}

/// The last hop of `o`'s finding for `source`: (line, column, end column).
fn last_hop(o: &Outcome, source: &str) -> (u32, u32, u32) {
    let f = finding_for(o, source);
    let s = f.flow.as_ref().unwrap().path.last().unwrap().location.span;
    (s.start_pos.line, s.start_pos.column, s.end_pos.column)
}

#[test]
fn rudderstack_dynamic_mappings_expand_or_keep_lineage() {
    // A literal map: each element is a mapping, located at the block's label.
    let conn = r#"locals {
  ids = { "phone" = "user_data.phone" }
}
resource "rudderstack_retl_connection" "to_meta" {
  source_id      = rudderstack_retl_source_table.users.id
  destination_id = rudderstack_destination_facebook_conversions.meta.id
  dynamic "identifiers" {
    for_each = local.ids
    content {
      from = identifiers.key
      to   = identifiers.value
    }
  }
}
"#;
    let o = lint_rs(conn);
    assert_eq!(last_hop(&o, "public.users.phone"), (7, 11, 24));
    assert_eq!(sent_as(&o, "public.users.phone"), Some("user_data.phone"));
    // `for_each` from outside the module: unknown, so every field flows, with an info.
    let conn = conn.replace("local.ids", "var.fields") + "variable \"fields\" {}\n";
    let o = lint_rs(&conn);
    assert_eq!(last_hop(&o, "public.users.phone"), (7, 11, 24));
    let lines = diag_lines(&o);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("incomplete-lineage 7:11")
                && l.contains("`dynamic \"identifiers\"`")
                && l.contains("`var.fields` has no default")),
        "{lines:?}"
    );
}

#[test]
fn mappings_and_settings_that_cannot_be_read_keep_lineage() {
    // Census `field_mapping` from a variable without default.
    let census = r#"variable "fm" {}
resource "census_destination" "crm" {
  name = "crm"
  type = "hubspot"
}
resource "census_sync" "s" {
  source_attributes {
    object {
      type       = "table"
      table_schema = "public"
      table_name = "users"
    }
  }
  destination_attributes {
    connection_id = census_destination.crm.id
    object        = "Contact"
  }
  field_mapping = var.fm
}
"#;
    let o = lint(&[("users.yaml", USERS), ("census.tf", census)]);
    assert_eq!(last_hop(&o, "public.users.email"), (18, 19, 25));
    assert_diag(&o, "incomplete-lineage 18:19", "`field_mapping`");
    // Segment settings: a local is read as written; a function of it is unknown.
    let sub = r#"locals {
  s = { "phone" = { "@path" = "$.properties.PHONE" } }
}
resource "segment_destination_subscription" "sync" {
  destination_id = segment_destination.fca.id
  model_id       = segment_reverse_etl_model.phones.id
  action_id      = "a1"
  settings       = jsonencode(local.s)
}
"#;
    let o = lint(&[("users.yaml", USERS), ("model.tf", MODEL), ("sub.tf", sub)]);
    assert_eq!(last_hop(&o, "public.users.phone"), (2, 31, 51));
    let merged = sub.replace("jsonencode(local.s)", "jsonencode(merge(local.s, {}))");
    let o = lint(&[
        ("users.yaml", USERS),
        ("model.tf", MODEL),
        ("sub.tf", &merged),
    ]);
    assert_eq!(last_hop(&o, "public.users.phone"), (8, 31, 49));
    assert_diag(&o, "incomplete-lineage 8:31", "calls `merge()`");
    // Escaped JSON held by a local: read, located at the reference.
    let escaped = r#"locals {
  sj = "{\"phone\": {\"@path\": \"$.properties.PHONE\"}}"
}
resource "segment_destination_subscription" "sync" {
  destination_id = segment_destination.fca.id
  model_id       = segment_reverse_etl_model.phones.id
  action_id      = "a1"
  settings       = local.sj
}
"#;
    let o = lint(&[
        ("users.yaml", USERS),
        ("model.tf", MODEL),
        ("sub.tf", escaped),
    ]);
    assert_eq!(last_hop(&o, "public.users.phone"), (8, 20, 28));
}

#[test]
fn rudder_cli_documents_are_found_in_any_yaml_style() {
    let conns = |version_line: &str| {
        format!(
            "{version_line}
kind: event-stream-connections
metadata:
  name: c
spec:
  connections:
    - id: app-to-fb
      source: \"#event-stream-source:app\"
      destination: \"#destination:fb\"
"
        )
    };
    let dest = "{version: rudder/v1, kind: destination, metadata: {name: fb}, spec: {id: fb, type: facebook_conversions}}\n";
    let src = "version: \"rudder/v1\" # pinned\nkind: event-stream-source\nmetadata:\n  name: app\nspec:\n  id: app\n  type: android\n";
    for line in [
        "version: rudder/v1   # pinned",
        "\"version\": rudder/v1",
        "version: !!str rudder/v1",
    ] {
        let o = lint(&[
            ("schema.yaml", EVENTS),
            ("dest.yaml", dest),
            ("src.yaml", src),
            ("conns.yaml", &conns(line)),
        ]);
        assert!(
            leaks(&o)
                .iter()
                .any(|(_, s)| s == "event-stream-source.app.phone"),
            "{line}: {:?}",
            diag_lines(&o)
        );
    }
}

#[test]
fn an_iterator_value_names_what_it_holds_not_a_missing_resource() {
    let conn = r#"locals {
  dests = { meta = rudderstack_destination_facebook_conversions.meta.id }
}
resource "rudderstack_retl_connection" "c" {
  for_each       = local.dests
  source_id      = rudderstack_retl_source_table.users.id
  destination_id = each.value
  mappings {
    from = "phone"
  }
}
"#;
    let o = lint_rs(conn);
    let lines = diag_lines(&o);
    assert!(
        !lines.iter().any(|l| l.starts_with("unknown-reference")),
        "{lines:?}"
    );
    // `each.value` holds the destination's reference: the leak, at the mapping.
    assert_eq!(last_hop(&o, "public.users.phone"), (9, 12, 19));
    assert!(!lines
        .iter()
        .any(|l| l.starts_with("undeclared-destination")));
}

#[test]
fn a_connection_from_a_resource_type_we_do_not_read_is_noted_not_missing() {
    let tf = r#"resource "rudderstack_retl_source_s3_table" "s3" {
  name = "s3"
  config {
    bucket = "b"
  }
}
resource "rudderstack_destination_facebook_conversions" "meta" {
  name = "meta"
}
resource "rudderstack_retl_connection" "c" {
  source_id      = rudderstack_retl_source_s3_table.s3.id
  destination_id = rudderstack_destination_facebook_conversions.meta.id
  mappings {
    from = "phone"
  }
}
"#;
    let o = lint(&[("main.tf", tf)]);
    let lines = diag_lines(&o);
    assert!(
        !lines.iter().any(|l| l.starts_with("unknown-reference")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("incomplete-lineage 11:20")
                && l.contains(
                    "`rudderstack_retl_source_s3_table`, which purposelint does not read"
                )),
        "{lines:?}"
    );
    // It is not one of ours, so it does not count as a manifest.
    assert_eq!(o.summary.manifests, 2);
}

#[test]
fn sql_interpolating_literal_variables_is_read_as_terraform_renders_it() {
    let tf = r#"variable "schema" {
  default = "public"
}
variable "table" {
  default = "users"
}
resource "rudderstack_retl_source_model" "m" {
  config {
    primary_key = "id"
    sql         = "SELECT id, phone FROM ${var.schema}.${var.table}"
  }
}
"#
    .to_string()
        + &model_to_meta("  identifiers {\n    from = \"phone\"\n  }");
    let o = lint(&[("users.yaml", USERS), ("main.tf", &tf)]);
    // The SQL hop at the column as written, then the identifier.
    let f = finding_for(&o, "public.users.phone");
    let hops = hop_starts(f);
    assert_eq!(hops, [(10, 31), (20, 12)]);
    assert_eq!(span(f), (10, 31, 36));
    // A value from outside the module keeps the query unknown.
    let outside = tf.replace("  default = \"users\"\n", "");
    let o = lint(&[("users.yaml", USERS), ("main.tf", &outside)]);
    assert_diag(&o, "incomplete-lineage 9:19", "`var.table` has no default");
}

#[test]
fn a_heredoc_interpolating_literal_variables_is_read_as_terraform_renders_it() {
    // `<<-` cuts the indentation; each line's text and each `${…}` keep their place.
    let tf = r#"variable "schema" {
  default = "public"
}
resource "rudderstack_retl_source_model" "m" {
  config {
    primary_key = "id"
    sql         = <<-SQL
      SELECT id,
        phone
      FROM ${var.schema}.users
    SQL
  }
}
"#
    .to_string()
        + &model_to_meta("  identifiers {\n    from = \"phone\"\n  }");
    let o = lint(&[("users.yaml", USERS), ("main.tf", &tf)]);
    let f = finding_for(&o, "public.users.phone");
    let hops = hop_starts(f);
    assert_eq!(hops, [(9, 9), (21, 12)], "{:?}", diag_lines(&o));
    assert!(diag_lines(&o).is_empty(), "{:?}", diag_lines(&o));
    // A directive, or a value from outside the module: unknown, every field flows.
    let outside = tf.replace("  default = \"public\"\n", "");
    let o = lint(&[("users.yaml", USERS), ("main.tf", &outside)]);
    assert_diag(&o, "incomplete-lineage 6:19", "`var.schema` has no default");
    let directive = tf.replace("FROM ${var.schema}", "FROM %{ if true }public%{ endif }");
    let o = lint(&[("users.yaml", USERS), ("main.tf", &directive)]);
    assert_diag(&o, "incomplete-lineage 7:19", "template");
}

#[test]
fn terraform_variables_and_locals_resolve_and_unknown_values_keep_lineage() {
    let tf = format!(
        r#"variable "table" {{
  default = "users"
}}
locals {{
  key = "phone"
}}
variable "mapping" {{
  type = string
}}
{KEYED_CONNECTION}  mappings {{
    from = var.mapping
  }}
}}
"#
    );
    let o = lint(&[("users.yaml", USERS), ("main.tf", &tf)]);
    // The identifier resolves through `local.key`; the unknown mapping sends every field.
    let l = leaks(&o);
    assert!(
        l.contains(&(
            "security-to-advertising".into(),
            "public.users.phone".into()
        )),
        "{l:?}"
    );
    assert!(
        l.contains(&(
            "security-to-advertising".into(),
            "public.users.email".into()
        )),
        "{l:?}"
    );
    assert!(
        diag_lines(&o)
            .iter()
            .any(|d| d.starts_with("incomplete-lineage 26:12")),
        "{:?}",
        diag_lines(&o)
    );
}

#[test]
fn values_declared_by_another_file_of_the_module_resolve_and_other_modules_do_not() {
    // The usual layout: values in variables.tf and locals.tf, resources in main.tf.
    let vars = "variable \"table\" {\n  default = \"users\"\n}\n";
    let locals =
        "locals {\n  key = var.column\n}\nvariable \"column\" {\n  default = \"phone\"\n}\n";
    let main = format!("{KEYED_CONNECTION}}}\n");
    let o = lint(&[
        ("users.yaml", USERS),
        ("tf/variables.tf", vars),
        ("tf/locals.tf", locals),
        ("tf/main.tf", &main),
        // The same resources in another directory: the first module's values are not its own.
        ("other/main.tf", &main),
    ]);
    let l = leaks(&o);
    assert!(
        l.contains(&(
            "security-to-advertising".into(),
            "public.users.phone".into()
        )),
        "{l:?} {:?}",
        diag_lines(&o)
    );
    let d = diag_lines(&o);
    let in_file = |f: &purposelint::finding::Finding, path: &str| {
        o.model.sources.get(f.location.file).path.ends_with(path)
    };
    assert!(
        !o.findings
            .iter()
            .any(|f| in_file(f, "tf/main.tf") && f.message.contains("not declared")),
        "{d:?}"
    );
    for name in ["`var.table` is not declared", "`local.key` is not declared"] {
        assert!(
            o.findings
                .iter()
                .any(|f| in_file(f, "other/main.tf") && f.message.contains(name)),
            "{name}: {d:?}"
        );
    }
}

#[test]
fn sql_sources_give_columns_with_direct_and_indirect_flows() {
    let model = r#"resource "rudderstack_retl_source_model" "m" {
  config {
    primary_key = "id"
    sql         = <<-SQL
      select id, plan
      from public.users
      where phone is not null
    SQL
  }
}
"#
    .to_string()
        + &model_to_meta("  mappings {\n    from = \"plan\"\n  }");
    let o = lint(&[("users.yaml", USERS), ("m.tf", &model)]);
    let f = finding_for(&o, "public.users.phone");
    let first = &f.flow.as_ref().unwrap().path[0];
    assert_eq!(first.flow.as_str(), "indirect");
    // The WHERE condition, at its line and column in the .tf file.
    assert_eq!(first.location.span.start_pos.line, 7);
    assert_eq!(first.location.span.start_pos.column, 13);
}

/// A model reading `"phone"`: a quoted column in most dialects, a string in BigQuery's.
fn quoted_phone_model(definition: &str) -> String {
    format!(
        r#"resource "rudderstack_retl_source_model" "m" {{
{definition}
  config {{
    primary_key = "id"
    sql         = "select id, \"phone\" as contact from public.users"
  }}
}}
{}"#,
        model_to_meta("  mappings {\n    from = \"contact\"\n  }")
    )
}

/// A Facebook Conversions destination and a connection from the model
/// `rudderstack_retl_source_model.m` that sends it what `send` says (a block of the body).
fn model_to_meta(send: &str) -> String {
    format!(
        r#"resource "rudderstack_destination_facebook_conversions" "meta" {{
  name = "meta"
}}
resource "rudderstack_retl_connection" "c" {{
  source_id      = rudderstack_retl_source_model.m.id
  destination_id = rudderstack_destination_facebook_conversions.meta.id
{send}
}}
"#
    )
}

#[test]
fn sql_is_parsed_in_the_dialect_of_its_warehouse() {
    let sends_phone = |files: &[(&str, &str)]| {
        let o = lint(files);
        leaks(&o).iter().any(|(_, s)| s == "public.users.phone")
    };
    // The source's own warehouse.
    let snowflake = quoted_phone_model("  source_definition_name = \"snowflake\"");
    let bigquery = quoted_phone_model("  source_definition_name = \"bigquery\"");
    assert!(sends_phone(&[("users.yaml", USERS), ("m.tf", &snowflake)]));
    assert!(!sends_phone(&[("users.yaml", USERS), ("m.tf", &bigquery)]));
    // None named: the chain, whose first dialect reads a quoted column; with a dbt
    // project, its adapter first, as dbt chooses.
    let unnamed = quoted_phone_model("");
    assert!(sends_phone(&[("users.yaml", USERS), ("m.tf", &unnamed)]));
    let manifest = r#"{"metadata": {"adapter_type": "bigquery"}, "nodes": {}, "sources": {}}"#;
    let dbt = [
        ("users.yaml", USERS),
        ("act/m.tf", unnamed.as_str()),
        ("dbt/dbt_project.yml", "name: p\n"),
        ("dbt/models/x.sql", "select 1 as one\n"),
        ("dbt/target/manifest.json", manifest),
    ];
    assert!(!sends_phone(&dbt));
    // A Census dataset takes its warehouse connection's type (Census spells `big_query`).
    let census = |warehouse: &str| {
        format!(
            r#"resource "census_source" "wh" {{
  name = "wh"
  type = "{warehouse}"
}}
resource "census_dataset" "d" {{
  name          = "d"
  source_id     = census_source.wh.id
  query         = "select id, \"phone\" as contact from public.users"
}}
resource "census_destination" "crm" {{
  name = "CRM"
  type = "hubspot"
}}
resource "census_sync" "s" {{
  source_attributes {{
    connection_id = census_source.wh.id
    object {{
      type = "dataset"
      id   = census_dataset.d.id
    }}
  }}
  destination_attributes {{
    connection_id = census_destination.crm.id
    object        = "contacts"
  }}
  field_mapping {{
    from = "contact"
    to   = "email"
  }}
}}
"#
        )
    };
    assert!(sends_phone(&[
        ("users.yaml", USERS),
        ("c.tf", &census("postgres"))
    ]));
    assert!(!sends_phone(&[
        ("users.yaml", USERS),
        ("c.tf", &census("big_query"))
    ]));
}

#[test]
fn resources_count_as_manifests_and_foreign_terraform_is_skipped() {
    let foreign = "provider \"aws\" {}\nresource \"aws_s3_bucket\" \"b\" {}\n";
    let o = lint(&[
        ("users.yaml", USERS),
        ("rs.tf", RS_SOURCE),
        ("aws.tf", foreign),
    ]);
    assert_eq!(o.summary.manifests, 3);
    assert!(o.findings.is_empty(), "{:?}", diag_lines(&o));
}

#[test]
fn the_real_provider_examples_read_without_manifest_errors() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/cdp");
    if !root.exists() {
        eprintln!("skipped: {} is absent", root.display());
        return;
    }
    let opts = purposelint::check::Options::new(vec![root]);
    let o = purposelint::check::run(&opts).unwrap();
    let invalid: Vec<_> = o
        .findings
        .iter()
        .filter(|f| f.rule == "invalid-manifest")
        .collect();
    assert!(invalid.is_empty(), "{invalid:?}");
    // 63 resources of ours in the Terraform examples, 15 rudder-cli documents.
    assert!(o.summary.manifests >= 60, "{}", o.summary.manifests);
    // The Census example (§4): a liquid template reads `_fivetran_synced`, email is sent.
    let to_crm: Vec<String> = o
        .model
        .flows
        .iter()
        .filter(|f| matches!(f.to, purposelint::model::Target::Sink(s) if o.model.sinks[s as usize].name == "census_destination.marketing_prod_crm"))
        .map(|f| o.model.field_name(f.from))
        .collect();
    for col in [
        "email",
        "first_name",
        "last_name",
        "user_id",
        "_fivetran_synced",
    ] {
        assert!(
            to_crm
                .iter()
                .any(|n| n == &format!("census_dataset.all_users.{col}")),
            "{col}: {to_crm:?}"
        );
    }
    // The RudderStack example (§3): email to the webhook at line 22, columns 12–19.
    let webhook = o
        .model
        .flows
        .iter()
        .find(|f| {
            o.model.field_name(f.from) == "rudderstack_retl_source_table.users.email"
                && o.model.target_name(f.to) == "rudderstack_destination_webhook.example"
                && f.loc.span.start_pos.line == 22
        })
        .expect("the identifier flow of retl_connection.tf");
    assert_eq!(
        (
            webhook.loc.span.start_pos.column,
            webhook.loc.span.end_pos.column
        ),
        (12, 19)
    );
}

#[test]
fn census_dynamic_mappings_expand_when_for_each_is_literal() {
    let tf = r#"variable "mappings" {
  default = [
    { from = "phone", to = "Phone" },
    { from = "plan", to = "Plan" },
  ]
}
resource "census_destination" "crm" {
  type = "hubspot"
}
resource "census_sync" "s" {
  source_attributes {
    connection_id = 1
    object {
      type         = "table"
      table_schema = "public"
      table_name   = "users"
    }
  }
  destination_attributes {
    connection_id = census_destination.crm.id
  }
  dynamic "field_mapping" {
    for_each = var.mappings
    content {
      from = field_mapping.value.from
      to   = field_mapping.value.to
    }
  }
}
"#;
    let o = lint(&[("users.yaml", USERS), ("c.tf", tf)]);
    let f = finding_for(&o, "public.users.phone");
    assert_eq!(f.rule, "security-to-marketing");
    // Written once, in the content: located at the `dynamic` label.
    assert_eq!(span(f), (22, 11, 26));
    assert!(leaks(&o).iter().all(|(_, s)| s != "public.users.email"));
}

#[test]
fn a_classic_segment_destination_receives_every_field_of_its_source() {
    let schema = "kind: dataset
name: segment_source.web
fields:
  - name: phone
    purposes: [essential.service.authentication]
";
    let tf = r#"resource "segment_source" "web" {
  slug = "web"
}
resource "segment_destination" "twitter" {
  source_id = segment_source.web.id
  metadata = {
    id = "54521fdc25e721e32a72eeff"
  }
}
"#;
    let o = lint(&[("schema.yaml", schema), ("seg.tf", tf)]);
    let f = finding_for(&o, "segment_source.web.phone");
    let hop = &f.flow.as_ref().unwrap().path[0];
    assert_eq!(hop.flow.as_str(), "passthrough");
    assert_eq!(span(f), (5, 15, 36));

    // A type no catalogue knows (a destination function's instance), with no
    // subscription: it may be classic, so the phone reaches it and the gate fails.
    let function = tf.replace("54521fdc25e721e32a72eeff", "66c7c399725ef7dcb9ee9f9f");
    let o = lint(&[("schema.yaml", schema), ("seg.tf", &function)]);
    let d = (o.findings.iter())
        .find(|f| f.rule == "unclassified-destination")
        .unwrap();
    assert_eq!(d.severity, Severity::Error);
    assert!(
        d.message.contains("segment_source.web.phone"),
        "{}",
        d.message
    );
    assert_diag(
        &o,
        "incomplete-lineage 4:32",
        "taken as a classic destination",
    );
    // A subscription says it is action-based: only what the subscription maps.
    let subscribed = function
        + r#"resource "segment_destination_subscription" "s" {
  destination_id = segment_destination.twitter.id
  settings       = jsonencode({ "page" : { "@path" : "$.properties.page" } })
}
"#;
    let o = lint(&[("schema.yaml", schema), ("seg.tf", &subscribed)]);
    let d = (o.findings.iter())
        .find(|f| f.rule == "unclassified-destination")
        .unwrap();
    assert_eq!(d.severity, Severity::Warning, "{}", d.message);
}

#[test]
fn segment_directives_if_template_array_path_and_unknown() {
    let schema = "kind: dataset
name: segment_source.web
fields:
  - name: phone
    purposes: [essential.service.authentication]
  - name: email
    purposes: [essential.service.security]
  - name: recovery
    purposes: [essential.service.security]
  - name: city
";
    let tf = r#"resource "segment_source" "web" {
  slug = "web"
}
resource "segment_destination" "fca" {
  source_id = segment_source.web.id
  metadata = {
    id = "645d5fc12eb891cf0a93fe4b"
  }
}
resource "segment_destination_subscription" "s" {
  destination_id = segment_destination.fca.id
  trigger        = "type = \"identify\" and traits.recovery != null"
  settings = jsonencode({
    "city" : {
      "@if" : {
        "exists" : { "@path" : "$.traits.phone" },
        "then" : { "@path" : "$.traits.city" },
        "else" : "none"
      }
    },
    "name" : { "@template" : "{{traits.email}}" },
    "__segment_internal_sync_mode" : "upsert"
  })
}
"#;
    let o = lint(&[("schema.yaml", schema), ("seg.tf", tf)]);
    let kinds = |field: &str| -> String {
        let f = finding_for(&o, field);
        f.flow
            .as_ref()
            .unwrap()
            .path
            .last()
            .unwrap()
            .flow
            .as_str()
            .to_string()
    };
    assert_eq!(kinds("segment_source.web.phone"), "indirect");
    assert_eq!(kinds("segment_source.web.email"), "direct");
    assert_eq!(kinds("segment_source.web.recovery"), "indirect");
    let recovery = finding_for(&o, "segment_source.web.recovery");
    let hop = recovery.flow.as_ref().unwrap().path.last().unwrap();
    let src = o.model.sources.get(hop.location.file);
    let s = hop.location.span;
    assert_eq!(
        &src.text[s.start as usize..s.end as usize],
        "traits.recovery"
    );
    // Unknown directives: `segment_liquid_is_read_as_a_template_and_an_unknown_directive_keeps_lineage`.
    assert!(diag_lines(&o).is_empty(), "{:?}", diag_lines(&o));
}

#[test]
fn git_sync_literal_ids_resolve_through_import_blocks() {
    let dest = r#"import {
  to = segment_destination.id-d1
  id = "d1"
}
resource "segment_destination" "id-d1" {
  source_id = "src1"
  metadata = {
    id = "645d5fc12eb891cf0a93fe4b"
  }
}
"#;
    let sub = r#"import {
  to = segment_destination_subscription.id-d1_s1
  id = "d1:s1"
}
resource "segment_destination_subscription" "id-d1_s1" {
  destination_id = "d1"
  model_id       = null
  settings       = "{\"phone\":{\"@path\":\"$.properties.phone\"}}"
}
"#;
    let schema = "kind: dataset
name: segment:src1
fields:
  - name: phone
    purposes: [essential.service.authentication]
";
    let o = lint(&[
        ("destinations/d1.tf", dest),
        ("destination_subscriptions/d1_s1.tf", sub),
        ("schema.yaml", schema),
    ]);
    let f = finding_for(&o, "segment:src1.phone");
    assert_eq!(
        f.flow.as_ref().unwrap().sink.name,
        "segment_destination.id-d1"
    );
}

#[test]
fn one_address_in_two_modules_is_prefixed_and_twice_in_one_is_a_duplicate() {
    let d = "resource \"rudderstack_destination_webhook\" \"w\" {\n  name = \"w\"\n}\n";
    let o = lint(&[("prod/a.tf", d), ("dev/a.tf", d), ("dev/b.tf", d)]);
    let names: Vec<&str> = o.model.sinks.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names
            .iter()
            .any(|n| n.ends_with("prod/rudderstack_destination_webhook.w")),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.ends_with("dev/rudderstack_destination_webhook.w")),
        "{names:?}"
    );
    let dups: Vec<_> = o
        .findings
        .iter()
        .filter(|f| f.rule == "duplicate-definition")
        .collect();
    assert_eq!(dups.len(), 1, "{:?}", diag_lines(&o));
}

#[test]
fn destinations_in_the_configuration_classify_by_type_and_by_name() {
    let tf = MODEL.replace("645d5fc12eb891cf0a93fe4b", "dm123");
    let o = lint_with(&[("model.tf", tf.as_str())], |opts| {
        opts.activation.destinations = vec![("segment:dm123".into(), vec!["sales".into()])];
    });
    assert!(o
        .findings
        .iter()
        .all(|f| f.rule != "unclassified-destination"));
    assert_eq!(o.model.sinks[0].uses, ["sales"]);
    let o = lint_with(&[("model.tf", MODEL)], |opts| {
        opts.activation.destinations = vec![
            (
                "segment:645d5fc12eb891cf0a93fe4b".into(),
                vec!["sales".into()],
            ),
            ("segment_destination.fca".into(), vec![]),
        ];
    });
    // The name wins over the type, the configuration over the catalogue.
    assert_eq!(o.model.sinks[0].uses, Vec::<String>::new());
}

#[test]
fn json_nested_too_deep_in_a_settings_string_is_invalid() {
    let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
    let sub = format!(
        "resource \"segment_destination_subscription\" \"s\" {{\n  destination_id = \"x\"\n  settings = \"{deep}\"\n}}\n"
    );
    let o = lint(&[("s.tf", &sub)]);
    assert!(
        diag_lines(&o)
            .iter()
            .any(|d| d.starts_with("invalid-manifest 3:") && d.contains("256")),
        "{:?}",
        diag_lines(&o)
    );
}

#[test]
fn rudder_cli_sql_files_retl_connections_and_duplicate_ids() {
    let model = "version: rudder/v1
kind: retl-source-sql-model
metadata:
  name: m
spec:
  id: m
  display_name: M
  account_id: a
  primary_key: id
  source_definition: postgres
  file: ./query.sql
";
    let query = "select id,\n       phone\nfrom public.users\n";
    let later = "version: rudder/v1
kind: retl-connections
metadata:
  name: c
spec: {}
";
    let dest = "version: rudder/v1\nkind: destination\nmetadata:\n  name: d\nspec:\n  id: d\n  type: webhook\n";
    let o = lint(&[
        ("users.yaml", USERS),
        ("project/model.yaml", model),
        ("project/query.sql", query),
        ("project/later.yaml", later),
        ("project/d1.yaml", dest),
        ("project/d2.yaml", dest),
    ]);
    let phone = o
        .model
        .flows
        .iter()
        .find(|f| o.model.field_name(f.from) == "public.users.phone")
        .expect("a flow from the SQL file");
    assert_eq!(
        o.model
            .sources
            .get(phone.loc.file)
            .display
            .rsplit('/')
            .next(),
        Some("query.sql")
    );
    assert_eq!(
        (
            phone.loc.span.start_pos.line,
            phone.loc.span.start_pos.column
        ),
        (2, 8)
    );
    let lines = diag_lines(&o);
    assert!(
        lines
            .iter()
            .any(|d| d.starts_with("incomplete-lineage 2:7") && d.contains("retl-connections")),
        "{lines:?}"
    );
    assert_eq!(
        o.findings
            .iter()
            .filter(|f| f.rule == "duplicate-definition")
            .count(),
        1,
        "{lines:?}"
    );
}

#[test]
fn the_rudder_cli_documentation_examples_read_cleanly() {
    // The CLI's rule documentation holds complete specs as YAML block scalars: YAML
    // inside YAML. Every valid example must read without `invalid-manifest`.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/cdp/rudder-iac/cli/internal/providers");
    if !root.exists() {
        eprintln!("skipped: {} is absent", root.display());
        return;
    }
    let mut specs = Vec::new();
    for doc in [
        "retl/docs/sqlmodel-spec-syntax-valid.docs.yaml",
        "retl/docs/sqlmodel-semantic-valid.docs.yaml",
        "event-stream/docs/connection-spec-syntax-valid.docs.yaml",
        "destination/docs/destination-spec-syntax-valid.docs.yaml",
    ] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        let mut in_valid = false;
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let t = line.trim_start();
            if t.starts_with("valid:") {
                in_valid = true;
            } else if t.starts_with("invalid:") {
                in_valid = false;
            } else if in_valid && t.starts_with("spec.yaml: |") {
                let indent = line.len() - t.len() + 2;
                let mut spec = String::new();
                while let Some(l) = lines.peek() {
                    if !l.trim().is_empty() && l.len() - l.trim_start().len() < indent {
                        break;
                    }
                    spec.push_str(l.get(indent..).unwrap_or(""));
                    spec.push('\n');
                    lines.next();
                }
                specs.push(spec);
            }
        }
    }
    assert!(specs.len() >= 5, "{}", specs.len());
    for spec in &specs {
        let o = lint(&[("spec.yaml", spec)]);
        assert!(o.summary.manifests >= 1, "{spec}");
        assert!(
            o.findings.iter().all(|f| f.rule != "invalid-manifest"),
            "{spec}\n{:?}",
            diag_lines(&o)
        );
    }
}

#[test]
fn an_ambiguous_relation_in_sql_is_located_at_the_from_relation() {
    let a = "kind: dataset\nname: auth.contacts\nfields:\n  - name: phone\n";
    let b = "kind: dataset\nname: crm.contacts\nfields:\n  - name: phone\n";
    let tf = r#"resource "segment_reverse_etl_model" "m" {
  query = <<-SQL
    select phone
    from Contacts
  SQL
}
"#;
    let o = lint(&[("a.yaml", a), ("b.yaml", b), ("m.tf", tf)]);
    let lines = diag_lines(&o);
    assert!(
        lines
            .iter()
            .any(|d| d.starts_with("ambiguous-relation 4:10")),
        "{lines:?}"
    );
}

/// Linking parses SQL a batch of sources at a time: every source of a repository with
/// more than one batch, in files of their own, still gets its columns and flows.
#[test]
fn sql_sources_beyond_one_parse_batch_are_all_linked() {
    let n = 300;
    let files: Vec<(String, String)> = (0..n)
        .map(|i| {
            let tf = format!(
                "resource \"segment_reverse_etl_model\" \"m{i}\" {{\n  source_id = \"wh1\"\n  \
                 query = \"SELECT id, phone AS p{i} FROM public.users\"\n  \
                 query_identifier_column = \"id\"\n}}\n"
            );
            (format!("models/m{i}.tf"), tf)
        })
        .collect();
    let mut inputs: Vec<(&str, &str)> = vec![("users.yaml", USERS)];
    inputs.extend(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let o = lint(&inputs);
    for i in 0..n {
        let to = format!("segment_reverse_etl_model.m{i}.p{i}");
        let linked = o.model.flows.iter().any(|f| {
            o.model.field_name(f.from) == "public.users.phone"
                && matches!(f.to, purposelint::model::Target::Field(t) if o.model.field_name(t) == to)
        });
        assert!(linked, "no flow into {to}");
    }
}

#[test]
fn resource_for_each_makes_one_resource_per_element() {
    // Destinations and connections over one map: `each.key` picks the instance.
    let conn = r#"locals {
  ads = { meta = "m1", tiktok = "t1" }
}
resource "rudderstack_destination_facebook_conversions" "ad" {
  for_each = local.ads
  name     = each.value
}
resource "rudderstack_retl_connection" "to_ad" {
  for_each       = local.ads
  source_id      = rudderstack_retl_source_table.users.id
  destination_id = rudderstack_destination_facebook_conversions.ad[each.key].id
  identifiers {
    from = "phone"
    to   = "user_data.phone"
  }
}
"#;
    let o = lint_rs(conn);
    let sinks: Vec<String> = flows(&o)
        .into_iter()
        .filter(|(_, source, _)| source == "public.users.phone")
        .map(|(.., sink)| sink)
        .collect();
    assert!(
        sinks.contains(&r#"rudderstack_destination_facebook_conversions.ad["meta"]"#.to_string())
            && sinks.contains(
                &r#"rudderstack_destination_facebook_conversions.ad["tiktok"]"#.to_string()
            ),
        "{sinks:?} {:?}",
        diag_lines(&o)
    );
    assert!(!diag_lines(&o)
        .iter()
        .any(|l| l.starts_with("undeclared-destination")));

    // `each.value` holding the reference, over `toset(…)` and a map.
    let conn = r#"resource "rudderstack_retl_connection" "c" {
  for_each       = { x = rudderstack_destination_facebook_conversions.meta.id }
  source_id      = rudderstack_retl_source_table.users.id
  destination_id = each.value
  dynamic "identifiers" {
    for_each = toset(["phone"])
    content {
      from = identifiers.value
      to   = each.key
    }
  }
}
"#;
    let o = lint_rs(conn);
    assert_eq!(last_hop(&o, "public.users.phone"), (5, 11, 24));
    assert_eq!(sent_as(&o, "public.users.phone"), Some("x"));
    assert!(!diag_lines(&o)
        .iter()
        .any(|l| l.starts_with("undeclared-destination")));

    // A literal index into a literal `for_each`; `toset` keys are the strings themselves.
    let conn = r#"resource "rudderstack_destination_facebook_conversions" "ad" {
  for_each = toset(["a", "b"])
  name     = each.key
}
resource "rudderstack_retl_connection" "c" {
  source_id      = rudderstack_retl_source_table.users.id
  destination_id = rudderstack_destination_facebook_conversions.ad["b"].id
  identifiers {
    from = "phone"
  }
}
"#;
    let o = lint_rs(conn);
    let sinks: Vec<String> = flows(&o).into_iter().map(|(.., sink)| sink).collect();
    assert!(
        sinks == [r#"rudderstack_destination_facebook_conversions.ad["b"]"#],
        "{sinks:?}"
    );

    // Which instance is not known: an error at the reference, never a silent pass.
    let unknown_key = conn.replace(r#"ad["b"].id"#, "ad[var.which].id") + "variable \"which\" {}\n";
    let o = lint_rs(&unknown_key);
    assert_diag(
        &o,
        "undeclared-destination 7:20",
        "is known only when applied",
    );
    let no_index = conn.replace(r#"ad["b"].id"#, "ad.id");
    let o = lint_rs(&no_index);
    assert_diag(
        &o,
        "undeclared-destination 7:20",
        "it names 2 instances of a `for_each`",
    );

    // A `for_each` that cannot be read: read once, `each.value` unknown where it is used.
    let conn = r#"variable "dests" {}
resource "rudderstack_retl_connection" "c" {
  for_each       = var.dests
  source_id      = rudderstack_retl_source_table.users.id
  destination_id = rudderstack_destination_facebook_conversions.meta.id
  identifiers {
    from = each.value
  }
}
"#;
    let o = lint_rs(conn);
    assert_eq!(last_hop(&o, "public.users.phone"), (7, 12, 22));
    assert_diag(
        &o,
        "incomplete-lineage 7:12",
        "`each.value` is known only when applied",
    );
}

#[test]
fn a_dataset_a_step_writes_and_a_sync_reads_is_not_an_undeclared_destination() {
    let pipeline = "kind: dataset
name: auth.phones
fields:
  - name: user_id
  - name: phone
    purposes: [essential.service.authentication]
---
kind: pipeline
name: build
steps:
  - name: build
    from: auth.phones
    to: analytics.sms_audience
    fields:
      id: auth.phones.user_id
      phone: auth.phones.phone
";
    let source = RS_SOURCE
        .replace("\"public\"", "\"analytics\"")
        .replace("\"users\"\n  }", "\"sms_audience\"\n  }");
    let conn = rs_connection("  identifiers {\n    from = \"phone\"\n  }");
    let files = [("p.yaml", pipeline), ("rs.tf", &source), ("conn.tf", &conn)];
    let o = lint(&files);
    assert_eq!(
        leaks(&o),
        [("security-to-advertising".into(), "auth.phones.phone".into())]
    );
    assert!(diag_lines(&o).is_empty(), "{:?}", diag_lines(&o));
    // Read by nothing, it still is one.
    let o = lint(&files[..1]);
    assert_diag(&o, "undeclared-destination 13:9", "no step reads it");
}

#[test]
fn segment_event_fields_of_a_reverse_etl_model_are_not_its_columns() {
    // Git Sync exports map Segment's own event fields beside the model's columns.
    let sub = r#"resource "segment_destination_subscription" "sync" {
  destination_id = segment_destination.fca.id
  model_id       = segment_reverse_etl_model.phones.id
  action_id      = "a1"
  settings = jsonencode({
    "event_id" : { "@path" : "$.__segment_id" },
    "event_name" : { "@path" : "$.event" },
    "message" : { "@path" : "$.messageId" },
    "app" : { "@path" : "$.context.app" },
    "label" : { "@template" : "{{event}} {{properties.phone}}" },
    "phone" : { "@path" : "$.traits.phone" }
  })
}
"#;
    let o = lint(&[("users.yaml", USERS), ("model.tf", MODEL), ("sub.tf", sub)]);
    assert!(diag_lines(&o).is_empty(), "{:?}", diag_lines(&o));
    assert_eq!(
        leaks(&o),
        [(
            "security-to-advertising".into(),
            "public.users.phone".into()
        )]
    );
}

#[test]
fn a_native_step_reads_an_activation_source_once_it_is_linked() {
    let pipeline = |fields: &str| {
        format!(
            "kind: sink
name: partner_share
uses: [third_party_sharing]
---
kind: pipeline
name: mirror
steps:
  - name: share
    from: rudderstack_retl_source_table.users
    to: partner_share
{fields}"
        )
    };
    // Passed through: every column the source links to.
    let passthrough = pipeline("");
    let o = lint(&[
        ("users.yaml", USERS),
        ("rs.tf", RS_SOURCE),
        ("p.yaml", &passthrough),
    ]);
    let to_partner: Vec<_> = flows(&o)
        .into_iter()
        .filter(|(.., sink)| sink == "partner_share")
        .map(|(_, source, _)| source)
        .collect();
    assert_eq!(
        to_partner,
        ["public.users.email", "public.users.phone"],
        "{:?}",
        diag_lines(&o)
    );
    // A column it names, as linked; one the source does not have is an unknown reference.
    let named = pipeline(
        "    fields:\n      p: rudderstack_retl_source_table.users.phone\n      q: rudderstack_retl_source_table.users.phnoe\n",
    );
    let o = lint(&[
        ("users.yaml", USERS),
        ("rs.tf", RS_SOURCE),
        ("p.yaml", &named),
    ]);
    assert!(
        flows(&o)
            .iter()
            .any(|(_, source, sink)| source == "public.users.phone" && sink == "partner_share"),
        "{:?}",
        flows(&o)
    );
    assert_diag(&o, "unknown-reference 13:10", "did you mean `phone`");
}

#[test]
fn a_dbt_source_whose_schema_is_jinja_links_by_the_rendered_relation() {
    // As Fivetran's packages write their sources: the schema and identifier from vars.
    let sources = r#"version: 2
sources:
  - name: auth
    schema: "{{ var('auth_schema', 'auth_prod') }}"
    tables:
      - name: two_factor_phones
        identifier: "{{ var('tfa_identifier', 'tfa_phones') }}"
        columns:
          - name: id
          - name: phone
            meta:
              purposes: [essential.service.authentication]
"#;
    let table = |schema: &str| {
        RS_SOURCE
            .replace("\"public\"", &format!("\"{schema}\""))
            .replace("\"users\"\n  }", "\"tfa_phones\"\n  }")
    };
    let conn = rs_connection("  identifiers {\n    from = \"phone\"\n  }");
    let sends = |project: &str, schema: &str| {
        let rs = table(schema);
        let o = lint(&[
            ("dbt/dbt_project.yml", project),
            ("dbt/models/sources.yml", sources),
            ("rs.tf", &rs),
            ("conn.tf", &conn),
        ]);
        leaks(&o).contains(&(
            "security-to-advertising".into(),
            "auth.two_factor_phones.phone".into(),
        ))
    };
    // The vars' defaults, or the project's values.
    assert!(sends("name: p\n", "auth_prod"));
    assert!(!sends("name: p\n", "auth"));
    assert!(sends(
        "name: p\nvars:\n  auth_schema: login_svc\n",
        "login_svc"
    ));
}

#[test]
fn a_dbt_model_links_by_the_relation_name_its_manifest_gives() {
    // An alias computed in Jinja that the model's own text does not say literally.
    let model = "{{ config(alias=var('prefix', 'x') ~ '_v3') }}\nselect id, phone from {{ source('auth', 'phones') }}\n";
    let sources = "version: 2\nsources:\n  - name: auth\n    tables:\n      - name: phones\n        columns:\n          - name: id\n          - name: phone\n            meta:\n              purposes: [essential.service.authentication]\n";
    let manifest = r#"{"metadata": {"adapter_type": "snowflake"}, "nodes": {"model.p.audience": {"name": "audience", "relation_name": "PROD.ADS.audience_members_v3"}}, "sources": {}}"#;
    let table = RS_SOURCE
        .replace("\"public\"", "\"ADS\"")
        .replace("\"users\"\n  }", "\"AUDIENCE_MEMBERS_V3\"\n  }");
    let conn = rs_connection("  identifiers {\n    from = \"phone\"\n  }");
    let mut files = vec![
        ("dbt/dbt_project.yml", "name: p\n"),
        ("dbt/models/audience.sql", model),
        ("dbt/models/sources.yml", sources),
        ("rs.tf", &table),
        ("conn.tf", &conn),
    ];
    let sends = |files: &[(&str, &str)]| {
        let o = lint(files);
        leaks(&o).contains(&("security-to-advertising".into(), "auth.phones.phone".into()))
    };
    assert!(!sends(&files));
    files.push(("dbt/target/manifest.json", manifest));
    assert!(sends(&files));
}

#[test]
fn a_destination_type_that_cannot_be_read_is_classified_by_name() {
    let tf = r#"variable "kind" {}
resource "census_destination" "d" {
  name = "d"
  type = var.kind
}
"#;
    let o = lint(&[("d.tf", tf)]);
    assert_diag(
        &o,
        "unclassified-destination 4:10",
        "the type of destination `census_destination.d` cannot be read literally (`var.kind` has no default",
    );
    assert_diag(
        &o,
        "unclassified-destination 4:10",
        r#"`destinations: {"census_destination.d": [<uses>]}`"#,
    );
    assert!(!diag_lines(&o).iter().any(|l| l.contains("<unknown")));
}

#[test]
fn an_external_relation_says_the_purposes_external_datasets_give_it() {
    let dir = tempfile::tempdir().unwrap();
    let source = RS_SOURCE.replace("\"public\"", "\"legacy\"");
    let conn = rs_connection("  identifiers {\n    from = \"phone\"\n  }");
    let config = "external_datasets:\n  - name: 'legacy.*'\n    purposes: [essential.service.authentication]\n";
    common::write(
        dir.path(),
        &[
            ("rs.tf", &source),
            ("conn.tf", &conn),
            ("purposelint.yaml", config),
        ],
    );
    let settings = purposelint::session::Settings::new(
        vec![dir.path().to_path_buf()],
        dir.path().to_path_buf(),
    );
    let mut session = purposelint::session::Session::configure(&settings).unwrap();
    let o = session.check().unwrap();
    assert_diag(
        &o,
        "incomplete-lineage 6:19",
        "with the purposes `external_datasets` gives it (essential.service.authentication)",
    );
    // Every column carries the dataset's purposes: the key (indirect) and the phone.
    let sources: Vec<String> = leaks(&o).into_iter().map(|(_, s)| s).collect();
    assert_eq!(sources, ["legacy.users.id", "legacy.users.phone"]);
}

#[test]
fn sql_that_does_not_parse_still_links_the_relations_it_names() {
    let tf = r#"resource "rudderstack_retl_source_model" "m" {
  config {
    primary_key = "id"
    sql         = "with recent as (select 1) select id, phone, from public.users u join recent r on true where ("
  }
}
"#
    .to_string()
        + &model_to_meta("  identifiers {\n    from = \"phone\"\n  }");
    let o = lint(&[("users.yaml", USERS), ("main.tf", &tf)]);
    assert_diag(
        &o,
        "incomplete-lineage 4:20",
        "cannot be followed (the SQL does not parse",
    );
    assert_diag(&o, "incomplete-lineage 4:20", "it reads `public.users`");
    assert!(
        !diag_lines(&o).iter().any(|l| l.contains("`recent`")),
        "{:?}",
        diag_lines(&o)
    );
    assert_eq!(
        leaks(&o),
        [(
            "security-to-advertising".into(),
            "public.users.phone".into()
        )]
    );
}

#[test]
fn a_relation_in_sql_is_located_where_it_is_read_not_in_a_comment_or_a_qualifier() {
    let a = "kind: dataset\nname: auth.contacts\nfields:\n  - name: phone\n    purposes: [essential.service.authentication]\n";
    let b = "kind: dataset\nname: crm.contacts\nfields:\n  - name: phone\n";
    let tf = r#"resource "rudderstack_retl_source_model" "m" {
  config {
    primary_key = "phone"
    sql         = <<-SQL
      -- every contacts row, 'contacts' included
      select contacts.phone
      from contacts
    SQL
  }
}
"#
    .to_string()
        + &model_to_meta("  identifiers {\n    from = \"phone\"\n  }");
    let o = lint(&[("a.yaml", a), ("b.yaml", b), ("main.tf", &tf)]);
    assert_diag(&o, "ambiguous-relation 7:12", "`auth.contacts`");
}

#[test]
fn a_schema_that_cannot_be_read_is_noted_and_the_table_matched_by_its_name() {
    let source = RS_SOURCE.replace("\"public\"", "var.schema") + "variable \"schema\" {}\n";
    let conn = rs_connection("  identifiers {\n    from = \"phone\"\n  }");
    let o = lint(&[
        ("users.yaml", USERS),
        ("rs.tf", &source),
        ("conn.tf", &conn),
    ]);
    assert_diag(
        &o,
        "incomplete-lineage 5:19",
        "`schema` cannot be read literally: `var.schema` has no default",
    );
    assert_eq!(
        leaks(&o),
        [(
            "security-to-advertising".into(),
            "public.users.phone".into()
        )]
    );
}

#[test]
fn the_old_generic_rudderstack_resources_are_read_by_their_type() {
    // Provider 0.0.x: `rudderstack_source` and `rudderstack_destination`, the API type in
    // `type`, and references written `"${…}"`.
    let tf = r#"resource "rudderstack_source" "src1" {
  name = "app"
  type = "Android"
}
resource "rudderstack_destination" "dst1" {
  name = "audience"
  type = "FB_CUSTOM_AUDIENCE"
}
resource "rudderstack_connection" "cnxn1" {
  source_id      = "${rudderstack_source.src1.id}"
  destination_id = "${rudderstack_destination.dst1.id}"
}
"#;
    let events = "kind: dataset\nname: rudderstack_source.src1\nfields:\n  - name: phone\n    purposes: [essential.service.authentication]\n";
    let o = lint(&[("events.yaml", events), ("main.tf", tf)]);
    assert!(diag_lines(&o).is_empty(), "{:?}", diag_lines(&o));
    assert_eq!(
        flows(&o),
        [(
            "security-to-advertising".into(),
            "rudderstack_source.src1.phone".into(),
            "rudderstack_destination.dst1".into()
        )]
    );
    // A type no catalogue knows is unclassified, as for any destination.
    let slack = tf.replace("FB_CUSTOM_AUDIENCE", "SLACK");
    let o = lint(&[("events.yaml", events), ("main.tf", &slack)]);
    assert_diag(&o, "unclassified-destination 7:10", "`rudderstack:SLACK`");
}

#[test]
fn a_column_of_a_dbt_model_that_passes_an_open_source_through_is_found_on_demand() {
    // The source lists no columns, only a table-level purpose; the model is `select *`.
    let sources = "version: 2\nsources:\n  - name: auth\n    tables:\n      - name: recovery_contacts\n        config:\n          meta:\n            purposes: [essential.service.security]\n";
    let model = "select * from {{ source('auth', 'recovery_contacts') }}\n";
    let table = RS_SOURCE
        .replace("\"public\"", "\"analytics\"")
        .replace("\"users\"\n  }", "\"stg_recovery\"\n  }")
        .replace("primary_key = \"id\"", "primary_key = \"user_id\"");
    let conn = rs_connection("  identifiers {\n    from = \"backup_email\"\n  }");
    let o = lint(&[
        ("dbt/dbt_project.yml", "name: p\n"),
        ("dbt/models/sources.yml", sources),
        ("dbt/models/stg_recovery.sql", model),
        ("rs.tf", &table),
        ("conn.tf", &conn),
    ]);
    assert!(diag_lines(&o).is_empty(), "{:?}", diag_lines(&o));
    let sources: Vec<String> = leaks(&o).into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        sources,
        [
            "auth.recovery_contacts.backup_email",
            "auth.recovery_contacts.user_id"
        ]
    );
}

const ENV_SEGMENT: &str = r#"resource "segment_source" "web" {
  name = "web"
  slug = "web"
  metadata = {
    id = "IqDTy1TpoU"
  }
}
resource "segment_destination" "pixel" {
  name      = "pixel"
  source_id = segment_source.web.id
  metadata = {
    id = "5661eb58e954a874ca44cc07"
  }
}
"#;

fn env_schema(name: &str) -> String {
    format!(
        "kind: dataset\nname: {name}\nfields:\n  - name: two_factor_phone\n    purposes: [essential.service.authentication]\n"
    )
}

#[test]
fn an_event_source_repeated_per_environment_keeps_its_schema() {
    // One schema named by the address serves every environment's copy of the source.
    let o = lint(&[
        ("web-events.yaml", &env_schema("segment_source.web")),
        ("envs/dev/main.tf", ENV_SEGMENT),
        ("envs/prod/main.tf", ENV_SEGMENT),
    ]);
    let sinks: Vec<String> = flows(&o).into_iter().map(|(_, _, s)| s).collect();
    assert_eq!(
        sinks,
        [
            "envs/dev/segment_destination.pixel",
            "envs/prod/segment_destination.pixel"
        ],
        "{:?}",
        diag_lines(&o)
    );
    // A schema named with its directory also serves a run of that directory alone.
    let dir = tempfile::tempdir().unwrap();
    common::write(
        dir.path(),
        &[
            ("purposelint.yaml", "{}\n"),
            (
                "envs/prod/schema.yaml",
                &env_schema("envs/prod/segment_source.web"),
            ),
            ("envs/prod/main.tf", ENV_SEGMENT),
            (
                "envs/dev/schema.yaml",
                &env_schema("envs/dev/segment_source.web"),
            ),
            ("envs/dev/main.tf", ENV_SEGMENT),
        ],
    );
    for paths in [
        vec![dir.path().to_path_buf()],
        vec![dir.path().join("envs/prod")],
    ] {
        let whole = paths[0] == dir.path();
        let settings = purposelint::session::Settings::new(paths, dir.path().to_path_buf());
        let mut session = purposelint::session::Session::configure(&settings).unwrap();
        let o = session.check().unwrap();
        assert_eq!(
            flows(&o).len(),
            if whole { 2 } else { 1 },
            "{:?}",
            diag_lines(&o)
        );
    }
}

#[test]
fn segment_liquid_is_read_as_a_template_and_an_unknown_directive_keeps_lineage() {
    let sub = |settings: &str| {
        format!(
            "resource \"segment_destination_subscription\" \"sync\" {{\n  destination_id = segment_destination.fca.id\n  model_id       = segment_reverse_etl_model.phones.id\n  settings = jsonencode({{\n    {settings}\n  }})\n}}\n"
        )
    };
    let liquid = sub(r#"phone = { "@liquid" = "{{ properties.phone | strip }}" }"#);
    let o = lint(&[
        ("users.yaml", USERS),
        ("model.tf", MODEL),
        ("sub.tf", &liquid),
    ]);
    assert_eq!(
        leaks(&o),
        [(
            "security-to-advertising".to_string(),
            "public.users.phone".to_string()
        )],
        "{:?}",
        diag_lines(&o)
    );
    assert_eq!(sent_as(&o, "public.users.phone"), Some("phone"));
    assert!(diag_lines(&o).is_empty(), "{:?}", diag_lines(&o));
    // An unknown directive may read any column (§7.3); the path inside it is followed.
    let unknown = sub(r#"phone = { "@future" = { value = { "@path" = "$.properties.phone" } } }"#);
    let o = lint(&[
        ("users.yaml", USERS),
        ("model.tf", MODEL),
        ("sub.tf", &unknown),
    ]);
    assert_eq!(sent_as(&o, "public.users.phone"), Some("phone"));
    assert_diag(
        &o,
        "incomplete-lineage 5:15",
        "the directive `@future` is not understood",
    );
    // One that names no path still lets every column of the model flow.
    let opaque = sub(r#"phone = { "@future" = "opaque" }"#);
    let o = lint(&[
        ("users.yaml", USERS),
        ("model.tf", MODEL),
        ("sub.tf", &opaque),
    ]);
    let sources: Vec<String> = leaks(&o).into_iter().map(|(_, s)| s).collect();
    assert_eq!(sources, ["public.users.phone"], "{:?}", diag_lines(&o));
}

#[test]
fn census_literal_ids_resolve_through_workspace_qualified_import_ids() {
    // The Census provider imports by `<workspace_id>:<id>`; a sync names the id alone.
    let tf = r#"import {
  to = census_dataset.users
  id = "1234:890"
}
import {
  to = census_destination.hubspot
  id = "1234:567"
}
resource "census_dataset" "users" {
  source_id = 11
  query     = "SELECT id, phone FROM public.users"
}
resource "census_destination" "hubspot" {
  type = "hubspot"
}
resource "census_sync" "s" {
  source_attributes = jsonencode({
    connection_id = 11
    object        = { type = "dataset", id = 890 }
  })
  destination_attributes = jsonencode({
    connection_id = 567
    object        = "contact"
  })
  field_mapping = [
    { from = "phone", to = "phone" },
  ]
}
"#;
    let o = lint(&[("users.yaml", USERS), ("census.tf", tf)]);
    assert_eq!(
        leaks(&o),
        [(
            "security-to-marketing".to_string(),
            "public.users.phone".to_string()
        )],
        "{:?}",
        diag_lines(&o)
    );
    assert!(diag_lines(&o).is_empty(), "{:?}", diag_lines(&o));
}

#[test]
fn segment_settings_in_a_json_heredoc_are_read_and_located_inside_it() {
    let sub = |path: &str| {
        format!(
            "resource \"segment_destination_subscription\" \"sync\" {{\n  destination_id = segment_destination.fca.id\n  model_id       = segment_reverse_etl_model.phones.id\n  settings       = <<-JSON\n    {{\n      \"user_data\": {{ \"ph\": {{ \"@path\": \"$.properties.{path}\" }} }}\n    }}\n  JSON\n}}\n"
        )
    };
    let o = lint(&[
        ("users.yaml", USERS),
        ("model.tf", MODEL),
        ("sub.tf", &sub("phone")),
    ]);
    let f = finding_for(&o, "public.users.phone");
    let hop = f.flow.as_ref().unwrap().path.last().unwrap();
    assert_eq!(hop.destination_field.as_deref(), Some("user_data.ph"));
    let s = hop.location.span;
    assert_eq!((s.start_pos.line, s.start_pos.column), (6, 39));
    assert!(diag_lines(&o).is_empty(), "{:?}", diag_lines(&o));
    // Mapping only the key: clean, not every column assumed to flow.
    let o = lint(&[
        ("users.yaml", USERS),
        ("model.tf", MODEL),
        ("sub.tf", &sub("id")),
    ]);
    assert!(o.findings.is_empty(), "{:?}", diag_lines(&o));
}

#[test]
fn a_query_read_with_file_from_the_module_is_linked() {
    let model = MODEL.replace(
        r#""SELECT id, phone FROM public.users""#,
        r#"file("${path.module}/sql/phones.sql")"#,
    );
    let sub = r#"resource "segment_destination_subscription" "sync" {
  destination_id = segment_destination.fca.id
  model_id       = segment_reverse_etl_model.phones.id
  settings       = jsonencode({ phone = { "@path" = "$.properties.phone" } })
}
"#;
    let o = lint(&[
        ("users.yaml", USERS),
        ("m/model.tf", &model),
        ("m/sub.tf", sub),
        ("m/sql/phones.sql", "SELECT id, phone FROM public.users\n"),
    ]);
    let f = finding_for(&o, "public.users.phone");
    let first = &f.flow.as_ref().unwrap().path[0];
    assert!(o
        .model
        .sources
        .get(first.location.file)
        .path
        .ends_with("m/sql/phones.sql"));
    assert!(diag_lines(&o).is_empty(), "{:?}", diag_lines(&o));
}

#[test]
fn a_segment_passthrough_from_a_source_without_schema_says_it_carries_only_what_mappings_read() {
    // Segment's Git Sync export of a Klaviyo "Track Event" subscription: `$.properties`
    // passes the event on, but no `kind: dataset` says what the event holds.
    let tf = r#"resource "segment_source" "web" {
  metadata = { id = "iUM16Md8P2" }
}
resource "segment_destination" "klaviyo" {
  metadata  = { id = "650bdf1a62fb34ef0a8058e1" }
  source_id = segment_source.web.id
}
resource "segment_destination_subscription" "track" {
  destination_id = segment_destination.klaviyo.id
  action_id      = "f5syVWBeSA4KrrH3Yv5Q2N"
  settings       = "{\"metric_name\":{\"@path\":\"$.event\"},\"properties\":{\"@path\":\"$.properties\"}}"
  trigger        = "type = \"track\""
}
"#;
    let o = lint(&[("seg.tf", tf)]);
    assert_diag(
        &o,
        "incomplete-lineage 11:88",
        "`segment_source.web` has no event schema, so passing it through carries only the fields mappings read",
    );
    // With its schema, the passthrough carries the schema's fields and says nothing.
    let schema = "kind: dataset\nname: segment_source.web\nfields:\n  - name: email\n    purposes: [essential.service.security]\n";
    let o = lint(&[("seg.tf", tf), ("web.yaml", schema)]);
    assert!(
        diag_lines(&o)
            .iter()
            .all(|l| !l.starts_with("incomplete-lineage")),
        "{:?}",
        diag_lines(&o)
    );
    assert!(
        flows(&o)
            .iter()
            .any(|(_, from, _)| from == "segment_source.web.email"),
        "{:?}",
        flows(&o)
    );
}

#[test]
fn segment_id_of_a_model_record_sends_its_identifier_column_directly() {
    // In Segment's Reverse ETL `$.__segment_id` is the value of the model's
    // `query_identifier_column`: here the phone, uploaded as the match key.
    let model = MODEL.replace(
        r#"query_identifier_column = "id""#,
        r#"query_identifier_column = "phone""#,
    );
    let sub = r#"resource "segment_destination_subscription" "sync" {
  destination_id = segment_destination.fca.id
  model_id       = segment_reverse_etl_model.phones.id
  settings = jsonencode({
    "phone" : { "@path" : "$.__segment_id" }
  })
}
"#;
    let o = lint(&[("users.yaml", USERS), ("model.tf", &model), ("sub.tf", sub)]);
    let f = finding_for(&o, "public.users.phone");
    let hop = f.flow.as_ref().unwrap().path.last().unwrap();
    assert_eq!(hop.flow, purposelint::model::FlowKind::Direct);
    assert_eq!(hop.destination_field.as_deref(), Some("phone"));
    let s = hop.location.span;
    assert_eq!(
        (s.start_pos.line, s.start_pos.column, s.end_pos.column),
        (5, 27, 43)
    );
    // An identifier column that is not written literally: every column may be the id.
    let model = MODEL.replace(
        r#"query_identifier_column = "id""#,
        "query_identifier_column = var.id",
    );
    let o = lint(&[("users.yaml", USERS), ("model.tf", &model), ("sub.tf", sub)]);
    assert_diag(
        &o,
        "incomplete-lineage 5:27",
        "`$.__segment_id` sends the identifier column",
    );
    assert!(
        leaks(&o)
            .iter()
            .any(|(_, from)| from == "public.users.phone"),
        "{:?}",
        leaks(&o)
    );
}

#[test]
fn an_external_dataset_of_one_relation_is_no_candidate_for_another() {
    // A Census query of `public.users` and a rudder-cli model of `users`, neither
    // declared: two unlinked relations, each said, rather than one linked to the other.
    let census = r#"resource "census_dataset" "users" {
  source_id = 1
  name      = "users"
  query     = "select id, email from public.users"
}
"#;
    let rudder = "version: rudder/v0.1\nkind: retl-source-sql-model\nmetadata:\n  name: m\nspec:\n  id: users-model\n  display_name: Users\n  account_id: acc\n  primary_key: id\n  sql: select id, phone from users\n";
    let o = lint(&[("census.tf", census), ("model.yaml", rudder)]);
    let lines = diag_lines(&o);
    let unlinked = lines
        .iter()
        .filter(|l| l.contains("no dataset declares relation"));
    assert_eq!(unlinked.count(), 2, "{lines:?}");
    let ids = o
        .model
        .dataset_id("users")
        .expect("its own external dataset");
    assert!(o.model.field_in(ids, "email").is_none());
}
