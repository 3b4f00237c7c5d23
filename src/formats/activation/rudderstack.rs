//! RudderStack Terraform provider resources (spec §3).

use super::hcl::{Kind, Resource};
use super::piece::{Connection, Destination, Lit, Origin, Platform, Source, Sql, Use, What};
use super::terraform::{Cx, Record};
use super::text::Embedded;
use crate::model::FlowKind;

const CONNECTIONS: &[&str] = &[
    "rudderstack_retl_connection",
    "rudderstack_retl_connection_customerio",
    "rudderstack_retl_connection_customerio_audience",
];

pub(crate) fn reads(rtype: &str) -> bool {
    rtype == "rudderstack_retl_source_table"
        || rtype == "rudderstack_retl_source_model"
        || rtype == "rudderstack_connection"
        || CONNECTIONS.contains(&rtype)
        || rtype.starts_with("rudderstack_destination")
        || rtype.starts_with("rudderstack_source")
}

pub(crate) fn read(cx: &mut Cx, r: &Resource) {
    let rtype = &*r.rtype;
    if let Some(suffix) = rtype.strip_prefix("rudderstack_destination_") {
        let kind = Ok(Lit {
            value: suffix.to_string(),
            span: r.type_span,
        });
        let d = Destination {
            platform: Platform::RudderStack,
            kind,
            source: None,
        };
        cx.piece(r, What::Destination(d));
    } else if rtype == "rudderstack_destination" {
        // The provider's first releases (0.0.x): one generic resource, the API type in
        // `type` (`"SLACK"`, `"FB_CUSTOM_AUDIENCE"`).
        let Some(t) = cx.required(r, Record::Body(&r.body), "type") else {
            return;
        };
        let Some(kind) = cx.scope.lit(t, "`type`") else {
            return;
        };
        let d = Destination {
            platform: Platform::RudderStack,
            kind,
            source: None,
        };
        cx.piece(r, What::Destination(d));
    } else if rtype.starts_with("rudderstack_source") {
        cx.piece(r, What::EventSource);
    } else if rtype == "rudderstack_connection" {
        let Some(mut c) = ends(cx, r) else { return };
        c.passthrough = Some(c.destination.span());
        cx.piece(r, What::Connection(c));
    } else if CONNECTIONS.contains(&rtype) {
        connection(cx, r);
    } else {
        source(cx, r);
    }
}

fn source(cx: &mut Cx, r: &Resource) {
    let body = Record::Body(&r.body);
    let Some(config) = r
        .body
        .block("config")
        .map(|b| Record::Body(&b.body))
        .or_else(|| {
            let v = body.get("config")?;
            super::terraform::records_of(cx.scope, v).into_iter().next()
        })
    else {
        cx.error(
            r.name_span,
            format!("`{}` is missing the `config` block", cx.address(r)),
        );
        return;
    };
    let dialect = body
        .get("source_definition_name")
        .and_then(|v| cx.scope.lit(v, "`source_definition_name`"))
        .and_then(Result::ok)
        .map(|l| l.value);
    let mut keys = Vec::new();
    if let Some(pk) = config.get("primary_key") {
        match cx.scope.lit(pk, "`primary_key`") {
            Some(Ok(l)) => keys.push(Use {
                column: l.value,
                kind: FlowKind::Indirect,
                span: l.span,
                destination_field: None,
            }),
            Some(Err(u)) => cx.note(u.span, format!("{} cannot be read: {}", u.what, u.why)),
            None => {}
        }
    }
    let (origin, table) = if r.rtype == "rudderstack_retl_source_table" {
        let Some(t) = cx.required(r, config, "table") else {
            return;
        };
        let schema = match config
            .get("schema")
            .and_then(|v| cx.scope.lit(v, "`schema`"))
        {
            Some(Ok(s)) => Some(s),
            Some(Err(u)) => {
                cx.note(u.span, super::piece::unqualified(&u));
                None
            }
            None => None,
        };
        let origin = match cx.scope.lit(t, "`table`") {
            Some(Ok(table)) => {
                let mut parts: Vec<String> = schema.map(|s| s.value).into_iter().collect();
                parts.push(table.value);
                Origin::Table {
                    parts,
                    span: table.span,
                }
            }
            Some(Err(u)) => Origin::Unknown(u),
            None => return,
        };
        (origin, true)
    } else {
        let Some(q) = cx.required(r, config, "sql") else {
            return;
        };
        (sql_origin(cx, q, "`sql`"), false)
    };
    let s = Source {
        origin,
        keys,
        dialect,
        warehouse: None,
        table,
    };
    cx.piece(r, What::Source(s));
}

/// SQL written as a string or a heredoc; anything else is unknown.
pub(crate) fn sql_origin(cx: &mut Cx, v: &super::hcl::Value, what: &str) -> Origin {
    let resolved = cx.scope.resolve(v);
    match resolved.map(|r| (&r.kind, r.span)) {
        Ok((Kind::Str(_), span)) if span == v.span => {
            match Embedded::hcl_string(&cx.src.text, span) {
                Some(text) => Origin::Sql(Sql::inline(text)),
                None => unknown_origin(v, what, "it is not a plain string"),
            }
        }
        Ok((Kind::Heredoc { text, lines }, _)) => {
            Origin::Sql(Sql::inline(Embedded::from_lines(text, lines)))
        }
        // A literal that lives elsewhere (a variable's default): read, located at the
        // reference.
        Ok((Kind::Str(s), _)) => Origin::Sql(Sql::inline(Embedded::elsewhere(s, v.span))),
        // `"select … from ${var.schema}.users"` with literal values: the SQL Terraform
        // renders, its values located at their `${…}`.
        Ok((Kind::Interpolated(parts), _)) => match cx.scope.splice(parts) {
            Ok(pieces) => Origin::Sql(Sql::inline(Embedded::spliced(&pieces))),
            Err(why) => unknown_origin(v, what, &why),
        },
        // `file("${path.module}/users.sql")`, `file("users.sql")`: the SQL of that file of
        // the module, read at link time.
        Ok((Kind::Call(f, args), _)) if f == "file" && args.len() == 1 => {
            match module_path(&args[0]) {
                Some(rel) => Origin::Sql(Sql {
                    file: Some((rel, v.span)),
                    ..Sql::inline(Embedded::verbatim("", 0))
                }),
                None => unknown_origin(
                    v,
                    what,
                    "its `file()` path is not a literal path in the module",
                ),
            }
        }
        Ok((k @ (Kind::Template | Kind::Traversal(_) | Kind::Call(..) | Kind::Other(_)), _)) => {
            unknown_origin(v, what, &super::terraform::why_not_literal(k))
        }
        Ok(_) => unknown_origin(v, what, "it is not a literal string"),
        Err(why) => unknown_origin(v, what, &why),
    }
}

/// A `file()` argument as a path relative to the module: a literal, or `${path.module}`
/// (or `${path.root}`, taken as the module) followed by literal text.
fn module_path(arg: &super::hcl::Value) -> Option<String> {
    use super::hcl::Part;
    let rel = match &arg.kind {
        Kind::Str(s) => s.to_string(),
        Kind::Interpolated(parts) => match parts.as_slice() {
            [Part::Value(v, _), Part::Text(t, _)] => match &v.kind {
                Kind::Traversal(p)
                    if p.len() == 2 && p[0] == "path" && matches!(&*p[1], "module" | "root") =>
                {
                    t.strip_prefix('/')?.to_string()
                }
                _ => return None,
            },
            _ => return None,
        },
        _ => return None,
    };
    let literal = !rel.is_empty() && !rel.starts_with('/') && !rel.contains("${");
    literal.then_some(rel)
}

fn unknown_origin(v: &super::hcl::Value, what: &str, why: &str) -> Origin {
    Origin::Unknown(super::piece::Unknown {
        what: what.to_string(),
        why: why.to_string(),
        span: v.span,
    })
}

/// A connection's `source_id` and `destination_id`, both required.
fn ends(cx: &mut Cx, r: &Resource) -> Option<Connection> {
    let body = Record::Body(&r.body);
    let (Some(s), Some(d)) = (
        cx.required(r, body, "source_id"),
        cx.required(r, body, "destination_id"),
    ) else {
        return None;
    };
    let source = cx.scope.reference(s, "`source_id`");
    let destination = cx.scope.reference(d, "`destination_id`")?;
    Some(Connection::new(source, destination))
}

fn connection(cx: &mut Cx, r: &Resource) {
    let body = Record::Body(&r.body);
    let Some(mut c) = ends(cx, r) else { return };
    c.rows = true;
    // A `dynamic` block is written once, in its content: each use is located at the label.
    let mut unknown = Vec::new();
    for key in ["identifiers", "mappings"] {
        unknown.extend(body.records_checked(cx.scope, key, |scope, m, label| {
            let Some(from) = m.get("from") else { return };
            let to = m
                .get("to")
                .and_then(|v| scope.lit(v, "`to`"))
                .and_then(Result::ok)
                .map(|l| l.value);
            let before = c.uses.len();
            c.read_use(scope.lit(from, "`from`"), FlowKind::Direct, to);
            c.relocate(before, label);
        }));
    }
    unknown.extend(body.records_checked(cx.scope, "event", |scope, e, label| {
        if let Some(n) = e.get("name_column") {
            let name = scope.lit(n, "`name_column`");
            let before = c.uses.len();
            c.read_use(name, FlowKind::Direct, Some("event".into()));
            c.relocate(before, label);
        }
    }));
    c.unknown.extend(unknown);
    if let Some(cursor) = body.get("cursor_column") {
        let cursor = cx.scope.lit(cursor, "`cursor_column`");
        c.read_use(cursor, FlowKind::Indirect, None);
    }
    cx.piece(r, What::Connection(c));
}
