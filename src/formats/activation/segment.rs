//! Segment Terraform provider resources and Git Sync exports (spec §5).

use super::hcl::{Kind, Range, Resource, Value};
use super::piece::{Connection, Destination, Lit, Platform, Source, Unknown, Use, What};
use super::rudderstack::sql_origin;
use super::terraform::{Cx, Record};
use super::text::{self, Embedded};
use crate::model::FlowKind;

/// Resources that change events on their way and are not followed.
const UNFOLLOWED: &[&str] = &[
    "segment_destination_filter",
    "segment_transformation",
    "segment_function",
    "segment_insert_function_instance",
];

/// Mapping-kit directives whose members are visited as values.
const DIRECTIVES: &[&str] = &[
    "@merge",
    "@flatten",
    "@transform",
    "@json",
    "@case",
    "@replace",
    "@split",
    "@literal",
    "@excludeWhenNull",
];

pub(crate) fn reads(rtype: &str) -> bool {
    matches!(
        rtype,
        "segment_source"
            | "segment_reverse_etl_model"
            | "segment_destination"
            | "segment_destination_subscription"
    ) || UNFOLLOWED.contains(&rtype)
}

pub(crate) fn read(cx: &mut Cx, r: &Resource) {
    let body = Record::Body(&r.body);
    match &*r.rtype {
        "segment_source" => cx.piece(r, What::EventSource),
        "segment_reverse_etl_model" => {
            let Some(q) = cx.required(r, body, "query") else {
                return;
            };
            let origin = sql_origin(cx, q, "`query`");
            let mut keys = Vec::new();
            if let Some(Ok(l)) = body
                .get("query_identifier_column")
                .and_then(|v| cx.scope.lit(v, "`query_identifier_column`"))
            {
                keys.push(Use {
                    column: l.value,
                    kind: FlowKind::Indirect,
                    span: l.span,
                    destination_field: None,
                });
            }
            let s = Source {
                origin,
                keys,
                dialect: None,
                warehouse: None,
                table: false,
            };
            cx.piece(r, What::Source(s));
        }
        "segment_destination" => {
            let Some(metadata) = cx.required(r, body, "metadata") else {
                return;
            };
            let kind = match metadata.member("id") {
                Some(id) => match cx.scope.lit(id, "`metadata.id`") {
                    Some(k) => k,
                    None => return,
                },
                None => {
                    cx.error(metadata.span, "`metadata` is missing `id`");
                    return;
                }
            };
            let source = body
                .get("source_id")
                .and_then(|v| cx.scope.reference(v, "`source_id`"));
            let d = Destination {
                platform: Platform::Segment,
                kind,
                source,
            };
            cx.piece(r, What::Destination(d));
        }
        "segment_destination_subscription" => subscription(cx, r),
        other => cx.note(
            r.type_span,
            format!(
                "`{}` ({other}) changes events on their way to destinations and is not followed",
                cx.address(r)
            ),
        ),
    }
}

fn subscription(cx: &mut Cx, r: &Resource) {
    let body = Record::Body(&r.body);
    let Some(d) = cx.required(r, body, "destination_id") else {
        return;
    };
    let Some(destination) = cx.scope.reference(d, "`destination_id`") else {
        return;
    };
    let source = body
        .get("model_id")
        .filter(|v| !v.is_null())
        .and_then(|v| cx.scope.reference(v, "`model_id`"));
    let mut c = Connection::new(source, destination);
    c.rows = c.source.is_some();
    if let Some(s) = body.get("settings") {
        settings(cx, &mut c, s);
    }
    if let Some(t) = body.get("trigger") {
        trigger(cx, &mut c, t);
    }
    cx.piece(r, What::Connection(c));
}

/// `settings`: `jsonencode({…})` or a string holding escaped JSON.
fn settings(cx: &mut Cx, c: &mut Connection, v: &Value) {
    let resolved = match cx.scope.resolve(v) {
        Ok(r) => r,
        Err(why) => {
            c.unknown.push(Unknown {
                what: "`settings`".into(),
                why,
                span: v.span,
            });
            return;
        }
    };
    match &resolved.kind {
        Kind::Call(f, args) if f == "jsonencode" => {
            if let Some(a) = args.first() {
                visit(cx, c, a, "", None);
            }
        }
        Kind::Str(s) => {
            // Written here, or (a local, a variable's default) located at the reference.
            let e = if resolved.span == v.span {
                let Some(e) = Embedded::hcl_string(&cx.src.text, v.span) else {
                    return;
                };
                e
            } else {
                Embedded::elsewhere(s, v.span)
            };
            json_settings(cx, c, &e);
        }
        // A heredoc of JSON (`<<-JSON … JSON`), located line by line.
        Kind::Heredoc { text, lines } => json_settings(cx, c, &Embedded::from_lines(text, lines)),
        Kind::Object(_) => visit(cx, c, resolved, "", None),
        Kind::Null => {}
        _ => c.unknown.push(Unknown {
            what: "`settings`".into(),
            why: "it is not `jsonencode({…})` or a JSON string".into(),
            span: v.span,
        }),
    }
}

/// Settings written as a JSON text.
fn json_settings(cx: &mut Cx, c: &mut Connection, e: &Embedded) {
    if e.text.trim().is_empty() {
        return;
    }
    match text::json(e) {
        Ok(json) => visit(cx, c, &json, "", None),
        Err((message, at)) => cx.error(
            e.problem_at(at),
            format!("`settings` is not valid JSON: {message}"),
        ),
    }
}

/// Visits a settings value; `forced` makes every use it finds indirect (`@if` tests).
fn visit(cx: &mut Cx, c: &mut Connection, v: &Value, path: &str, forced: Option<FlowKind>) {
    match &v.kind {
        Kind::Object(members) => {
            let get = |k: &str| {
                members
                    .iter()
                    .find(|(key, _)| key.name == k)
                    .map(|(_, v)| v)
            };
            if let Some(p) = get("@path") {
                if let Some(s) = p.as_str() {
                    event_path(c, s, p.span, path, forced.unwrap_or(FlowKind::Direct));
                }
                return;
            }
            // `@template` (`{{properties.x}}`) and `@liquid` (`{{ properties.x | strip }}`,
            // `{% if traits.x %}`): direct from every event reference in them.
            let template = (get("@template").map(|t| (t, false)))
                .or_else(|| get("@liquid").map(|t| (t, true)));
            if let Some((t, liquid)) = template {
                if let Some(s) = t.as_str() {
                    let fields = match liquid {
                        true => liquid_fields(s),
                        false => template_fields(s, c.rows),
                    };
                    for field in fields {
                        c.uses.push(Use {
                            column: field,
                            kind: forced.unwrap_or(FlowKind::Direct),
                            span: t.span,
                            destination_field: nonempty(path),
                        });
                    }
                }
                return;
            }
            if let Some(i) = get("@if") {
                if let Kind::Object(branches) = &i.kind {
                    for (k, b) in branches {
                        match &*k.name {
                            "then" | "else" => visit(cx, c, b, path, forced),
                            "exists" | "blank" => visit(cx, c, b, path, Some(FlowKind::Indirect)),
                            _ => visit(cx, c, b, path, forced),
                        }
                    }
                }
                return;
            }
            if let Some(a) = get("@arrayPath") {
                if let Kind::Array(items) = &a.kind {
                    if let Some(first) = items.first() {
                        match &first.kind {
                            Kind::Str(s) => event_path(
                                c,
                                s,
                                first.span,
                                path,
                                forced.unwrap_or(FlowKind::Direct),
                            ),
                            _ => visit(cx, c, first, path, forced),
                        }
                    }
                }
                return;
            }
            for (k, m) in members {
                let name = &*k.name;
                if name.starts_with("__segment_internal") {
                    continue;
                }
                if name.starts_with('@') {
                    // An unknown directive may read anything: unknown (spec §7.3), and its
                    // members are still visited for the paths they name.
                    if !DIRECTIVES.contains(&name) {
                        let what = match path.is_empty() {
                            true => "`settings`".to_string(),
                            false => format!("`settings.{path}`"),
                        };
                        c.unknown.push(Unknown {
                            what,
                            why: format!("the directive `{name}` is not understood"),
                            span: k.span,
                        });
                    }
                    // A directive's object holds its arguments, not destination fields.
                    match &m.kind {
                        Kind::Object(args) => {
                            for (_, a) in args {
                                visit(cx, c, a, path, forced);
                            }
                        }
                        _ => visit(cx, c, m, path, forced),
                    }
                    continue;
                }
                let sub = if path.is_empty() {
                    name.to_string()
                } else {
                    format!("{path}.{name}")
                };
                visit(cx, c, m, &sub, forced);
            }
        }
        Kind::Array(items) => {
            for i in items {
                visit(cx, c, i, path, forced);
            }
        }
        Kind::Call(f, args) if f == "jsonencode" => {
            if let Some(a) = args.first() {
                visit(cx, c, a, path, forced);
            }
        }
        // A local or a variable's default is read as written there; a value that cannot
        // be read may hold any mapping: unknown (spec §7.3).
        Kind::Traversal(_) | Kind::Call(..) | Kind::Other(_) => {
            let why = match cx.scope.resolve(v) {
                Ok(r) if !std::ptr::eq(r, v) => return visit(cx, c, r, path, forced),
                Ok(r) => super::terraform::why_not_literal(&r.kind),
                Err(why) => why,
            };
            let what = if path.is_empty() {
                "`settings`".to_string()
            } else {
                format!("`settings.{path}`")
            };
            c.unknown.push(Unknown {
                what,
                why,
                span: v.span,
            });
        }
        // Scalars (strings with interpolation too) are constants.
        _ => {}
    }
}

fn nonempty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// A `@path` (`$.properties.x`, `$.traits.x`, `$.context.traits.x`, `$.context.app`):
/// a use of its first field; `$.`, `$.properties`, `$.traits` alone pass every field.
fn event_path(c: &mut Connection, p: &str, span: Range, dest: &str, kind: FlowKind) {
    let model = c.rows;
    if model && p.trim().strip_prefix("$.") == Some(SEGMENT_ID) {
        // A model's record's unique id: its `query_identifier_column`, resolved at link.
        c.uses.push(Use {
            column: SEGMENT_ID.to_string(),
            kind,
            span,
            destination_field: nonempty(dest),
        });
        return;
    }
    if model && !names_column(p) {
        return;
    }
    match path_field(p) {
        Some(field) => c.uses.push(Use {
            column: field,
            kind,
            span,
            destination_field: nonempty(dest),
        }),
        None => {
            if kind == FlowKind::Indirect {
                return;
            }
            c.passthrough.get_or_insert(span);
        }
    }
}

/// What a reverse-ETL model's records carry as their unique id (`$.__segment_id`): the
/// value of the model's `query_identifier_column`.
pub(crate) const SEGMENT_ID: &str = "__segment_id";

/// Whether a path of a reverse-ETL model's event names one of its columns, which Segment
/// puts in `properties` or `traits`: `$.event`, `$.messageId`, `$.__segment_id` or
/// `$.context.app` are fields Segment itself sets, not columns.
fn names_column(p: &str) -> bool {
    let p = p.trim();
    let rest = p
        .strip_prefix("$.")
        .or_else(|| p.strip_prefix('$'))
        .unwrap_or(p);
    rest.is_empty()
        || ["properties", "traits", "context.traits"]
            .iter()
            .any(|pre| {
                rest.strip_prefix(pre)
                    .is_some_and(|r| r.is_empty() || r.starts_with(['.', '[']))
            })
}

pub(crate) fn path_field(p: &str) -> Option<String> {
    let rest = p
        .trim()
        .strip_prefix("$.")
        .or_else(|| p.trim().strip_prefix('$'))?;
    let rest = ["context.traits.", "properties.", "traits.", "context."]
        .iter()
        .find_map(|pre| rest.strip_prefix(pre))
        .unwrap_or(rest);
    let first = rest.split(['.', '[']).next().unwrap_or("");
    if first.is_empty() || matches!(first, "properties" | "traits") {
        return None;
    }
    Some(first.to_string())
}

/// Fields of `{{properties.x}}`, `{{traits.x}}`, `{{context.traits.x}}` in a template;
/// for a reverse-ETL `model`, only those (see [`names_column`]).
pub(crate) fn template_fields(t: &str, model: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        let path = format!("$.{inner}");
        if let Some(f) = path_field(&path).filter(|_| !model || names_column(&path)) {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        rest = &after[end..];
    }
    out
}

/// The event fields a Liquid template names (`properties.x`, `traits.x`,
/// `context.traits.x`), each once.
fn liquid_fields(t: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, (field, _)) in fql_fields(t) {
        if !out.contains(&field) {
            out.push(field);
        }
    }
    out
}

/// FQL `trigger`: `properties.x`, `traits.x`, `context.traits.x` are indirect.
fn trigger(cx: &mut Cx, c: &mut Connection, v: &Value) {
    let Some(Ok(Lit { value, span })) = cx.scope.lit(v, "`trigger`") else {
        return;
    };
    let text = Embedded::hcl_string(&cx.src.text, span);
    for (at, field) in fql_fields(&value) {
        let s = match &text {
            Some(e) if e.text == value => e.range(at, at + field.1),
            _ => span,
        };
        c.uses.push(Use {
            column: field.0,
            kind: FlowKind::Indirect,
            span: s,
            destination_field: None,
        });
    }
}

/// `(offset, (field, length of the whole reference))` of each event reference in FQL.
fn fql_fields(q: &str) -> Vec<(usize, (String, usize))> {
    let mut out = Vec::new();
    let b = q.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let boundary =
            i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'.');
        if boundary {
            for pre in ["context.traits.", "properties.", "traits."] {
                if q[i..].starts_with(pre) {
                    let start = i + pre.len();
                    let end = q[start..]
                        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .map_or(q.len(), |e| start + e);
                    if end > start {
                        out.push((i, (q[start..end].to_string(), end - i)));
                    }
                    i = end;
                    break;
                }
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_first_field() {
        assert_eq!(path_field("$.properties.email").as_deref(), Some("email"));
        assert_eq!(path_field("$.traits.phone").as_deref(), Some("phone"));
        assert_eq!(
            path_field("$.context.traits.email").as_deref(),
            Some("email")
        );
        assert_eq!(
            path_field("$.properties.address.city").as_deref(),
            Some("address")
        );
        assert_eq!(path_field("$.context.app").as_deref(), Some("app"));
        assert_eq!(path_field("$.userId").as_deref(), Some("userId"));
        assert_eq!(path_field("$.properties"), None);
        assert_eq!(path_field("$."), None);
    }

    #[test]
    fn a_models_columns_are_its_events_properties_and_traits() {
        for column in [
            "$.properties.email",
            "$.traits.phone",
            "$.context.traits.x",
            "$.",
        ] {
            assert!(names_column(column), "{column}");
        }
        for set_by_segment in [
            "$.event",
            "$.messageId",
            "$.__segment_id",
            "$.context.app",
            "$.propertiesx",
        ] {
            assert!(!names_column(set_by_segment), "{set_by_segment}");
        }
    }

    #[test]
    fn templates_and_fql_name_fields() {
        assert_eq!(
            template_fields("{{properties.first_name}} {{ traits.last_name }}", false),
            ["first_name", "last_name"]
        );
        assert_eq!(template_fields("{{properties.a}} {{event}}", true), ["a"]);
        let f = fql_fields("type = \"track\" and properties.plan = 'pro' or traits.email != null");
        let names: Vec<_> = f.iter().map(|(_, (n, _))| n.as_str()).collect();
        assert_eq!(names, ["plan", "email"]);
    }
}
