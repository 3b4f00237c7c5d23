//! Census Terraform provider resources (spec §4), in both of the provider's syntaxes:
//! blocks (`source_attributes { object { … } }`, repeated `field_mapping { … }`) and
//! attributes (`source_attributes = jsonencode({…})`, `field_mapping = [{…}, …]`).

use super::hcl::Resource;
use super::piece::{Connection, Destination, Origin, Platform, Ref, Source, Unknown, Use, What};
use super::rudderstack::sql_origin;
use super::terraform::{Cx, Record, Scope};
use crate::model::FlowKind;

pub(crate) fn reads(rtype: &str) -> bool {
    matches!(
        rtype,
        "census_source" | "census_dataset" | "census_destination" | "census_sync"
    )
}

pub(crate) fn read(cx: &mut Cx, r: &Resource) {
    let body = Record::Body(&r.body);
    match &*r.rtype {
        "census_source" => {
            // Census spells types in snake case (`big_query`); dialect names have no `_`.
            let dialect = body
                .get("type")
                .and_then(|v| cx.scope.lit(v, "`type`"))
                .and_then(Result::ok)
                .map(|l| l.value.replace('_', ""));
            cx.piece(r, What::Warehouse { dialect });
        }
        "census_dataset" => {
            let Some(q) = cx.required(r, body, "query") else {
                return;
            };
            let origin = sql_origin(cx, q, "`query`");
            let warehouse = body
                .get("source_id")
                .and_then(|v| cx.scope.reference(v, "`source_id`"));
            let s = Source {
                origin,
                keys: Vec::new(),
                dialect: None,
                warehouse,
                table: false,
            };
            cx.piece(r, What::Source(s));
        }
        "census_destination" => {
            let Some(t) = cx.required(r, body, "type") else {
                return;
            };
            let kind = match cx.scope.lit(t, "`type`") {
                Some(k) => k,
                None => return,
            };
            let d = Destination {
                platform: Platform::Census,
                kind,
                source: None,
            };
            cx.piece(r, What::Destination(d));
        }
        _ => sync(cx, r),
    }
}

fn sync(cx: &mut Cx, r: &Resource) {
    let scope: &Scope = cx.scope;
    let body = Record::Body(&r.body);
    let Some(src) = body.records(scope, "source_attributes").into_iter().next() else {
        cx.error(
            r.name_span,
            format!("`{}` is missing `source_attributes`", cx.address(r)),
        );
        return;
    };
    let Some(dst) = body
        .records(scope, "destination_attributes")
        .into_iter()
        .next()
    else {
        cx.error(
            r.name_span,
            format!("`{}` is missing `destination_attributes`", cx.address(r)),
        );
        return;
    };
    let Some(conn) = cx.required(r, dst, "connection_id") else {
        return;
    };
    let Some(destination) = scope.reference(conn, "`connection_id`") else {
        return;
    };
    let warehouse = src
        .get("connection_id")
        .and_then(|v| scope.reference(v, "`connection_id`"));
    let source = match src.records(scope, "object").into_iter().next() {
        Some(object) => source_of(cx, r, object, warehouse.clone()),
        None => {
            cx.error(
                r.name_span,
                format!("`{}` is missing `source_attributes.object`", cx.address(r)),
            );
            return;
        }
    };
    let inline = format!("{}.source", cx.address(r));
    let own_piece = matches!(&source, Some(Ref::Address { address, .. }) if *address == inline);
    let mut c = Connection::new(source, destination);
    c.rows = true;
    if !own_piece {
        c.warehouse = warehouse;
    }
    // What the sync writes, when literal; it changes no flow (spec §4: messages only).
    c.object = dst
        .get("object")
        .and_then(|v| scope.lit(v, "`object`"))
        .and_then(Result::ok)
        .map(|l| l.value);
    // A `dynamic` mapping is written once, in its content: each is located at the label.
    let unknown = body.records_checked(scope, "field_mapping", |scope, m, label| {
        let before = c.uses.len();
        mapping(scope, &mut c, m);
        c.relocate(before, label);
    });
    c.unknown.extend(unknown);
    if let Some(v) = body.get("field_behavior") {
        if scope
            .lit(v, "`field_behavior`")
            .and_then(Result::ok)
            .map(|l| l.value)
            == Some("sync_all_properties".into())
        {
            c.passthrough = Some(v.span);
        }
    }
    if let Some(v) = body.get("high_water_mark_attribute") {
        let mark = scope.lit(v, "`high_water_mark_attribute`");
        c.read_use(mark, FlowKind::Indirect, None);
    }
    cx.piece(r, What::Connection(c));
}

/// `source_attributes.object`: an inline table (its own source piece), a dataset, or
/// something known only to Census.
fn source_of(cx: &mut Cx, r: &Resource, object: Record, warehouse: Option<Ref>) -> Option<Ref> {
    let scope: &Scope = cx.scope;
    let kind = object
        .get("type")
        .and_then(|v| scope.lit(v, "`object.type`"))
        .and_then(Result::ok);
    let span = kind.as_ref().map_or(r.name_span, |k| k.span);
    match kind.as_ref().map(|k| k.value.as_str()) {
        Some("table") => {
            let name = format!("{}.source", cx.address(r));
            let Some(t) = object.get("table_name") else {
                cx.error(
                    r.name_span,
                    format!("`{}` is missing `object.table_name`", cx.address(r)),
                );
                return None;
            };
            let origin = match scope.lit(t, "`table_name`") {
                Some(Ok(table)) => {
                    let mut parts = Vec::new();
                    for key in ["table_catalog", "table_schema"] {
                        match object
                            .get(key)
                            .and_then(|v| scope.lit(v, &format!("`{key}`")))
                        {
                            Some(Ok(p)) => parts.push(p.value),
                            Some(Err(u)) => cx.note(u.span, super::piece::unqualified(&u)),
                            None => {}
                        }
                    }
                    parts.push(table.value);
                    Origin::Table {
                        parts,
                        span: table.span,
                    }
                }
                Some(Err(u)) => Origin::Unknown(u),
                None => return None,
            };
            let s = Source {
                origin,
                keys: Vec::new(),
                dialect: None,
                warehouse,
                table: true,
            };
            cx.piece_named(name.clone(), r.name_span, What::Source(s));
            Some(Ref::Address {
                address: name,
                span: t.span,
            })
        }
        Some("dataset") => object
            .get("id")
            .and_then(|v| scope.reference(v, "`object.id`")),
        Some(other) => Some(Ref::Unknown(Unknown {
            what: format!("a `{other}` source"),
            why: "its columns are defined in Census, not in this repository".into(),
            span,
        })),
        None => Some(Ref::Unknown(Unknown {
            what: "`source_attributes.object`".into(),
            why: "its `type` is not literal".into(),
            span,
        })),
    }
}

fn mapping(scope: &Scope, c: &mut Connection, m: Record) {
    let to = m
        .get("to")
        .and_then(|v| scope.lit(v, "`to`"))
        .and_then(Result::ok)
        .map(|l| l.value);
    let kind = m
        .get("type")
        .and_then(|v| scope.lit(v, "`type`"))
        .and_then(Result::ok)
        .map(|l| l.value);
    match kind.as_deref() {
        None | Some("direct" | "hash") => {
            let Some(from) = m.get("from") else { return };
            c.read_use(scope.lit(from, "`from`"), FlowKind::Direct, to);
        }
        Some("liquid_template") => {
            let Some(t) = m.get("liquid_template") else {
                return;
            };
            match scope.lit(t, "`liquid_template`") {
                Some(Ok(l)) => {
                    for col in liquid_columns(&l.value) {
                        c.uses.push(Use {
                            column: col,
                            kind: FlowKind::Direct,
                            span: l.span,
                            destination_field: to.clone(),
                        });
                    }
                }
                Some(Err(u)) => c.unknown.push(u),
                None => {}
            }
        }
        // constant, sync_metadata, segment_membership: nothing of the source is sent.
        Some(_) => {}
    }
}

/// Columns a Liquid template reads: `record['col']`, `record["col"]`, `record.col`.
pub(crate) fn liquid_columns(t: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find("record") {
        let after = &rest[i + 6..];
        let col = if let Some(q) = after
            .strip_prefix("['")
            .or_else(|| after.strip_prefix("[\""))
        {
            q.find(['\'', '"']).map(|e| &q[..e])
        } else if let Some(d) = after.strip_prefix('.') {
            let end = d
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(d.len());
            Some(&d[..end])
        } else {
            None
        };
        if let Some(col) = col.filter(|c| !c.is_empty()) {
            if !out.iter().any(|o| o == col) {
                out.push(col.to_string());
            }
        }
        rest = after;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liquid_templates_name_their_columns() {
        assert_eq!(
            liquid_columns(
                "{{ record['_fivetran_synced'] | upcase }} {{record[\"a\"]}} {{ record.b_c }}"
            ),
            ["_fivetran_synced", "a", "b_c"]
        );
    }
}
