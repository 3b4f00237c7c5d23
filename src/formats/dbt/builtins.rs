//! What dbt provides to Jinja that purposelint gives statically: `ref()` and `source()`
//! (rendered to quoted identifiers the lineage recognises, `"ref:orders"`,
//! `"source:shop.customer"`), `var()`, and the meanings of macros that are not loaded.
//!
//! Macros we do not have render leniently to something SQL can parse: their first
//! argument, or NULL. A few macros of dbt-core and of the most used packages (dbt_utils,
//! dbt_date, fivetran_utils, audit_helper, codegen) that shape the column list are given
//! their meaning, for projects whose packages are not installed.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, State};

use super::render::{column_value, record_query, relation_columns};

/// `target`: the profile's target (`settings`, e.g. `type: snowflake`) over a
/// development target on a generic warehouse.
pub(super) fn target(settings: &BTreeMap<String, String>) -> Value {
    let mut m = BTreeMap::new();
    for (k, v) in [
        ("name", "dev"),
        ("target_name", "dev"),
        ("schema", "analytics"),
        ("database", "analytics"),
        ("type", "postgres"),
        ("profile_name", "default"),
    ] {
        m.insert(k.to_string(), Value::from(v));
    }
    for (k, v) in settings {
        m.insert(k.clone(), Value::from(v.clone()));
    }
    if let Some(name) = settings.get("name") {
        m.insert("target_name".into(), Value::from(name.clone()));
    }
    m.insert("threads".into(), Value::from(1));
    Value::from(m)
}

/// A relation returned by `ref()`, `source()`, `this` or `api.Relation.create()`.
#[derive(Debug)]
pub(super) struct Relation {
    /// What the lineage sees, e.g. `ref:orders`; `None` for a relation named by its
    /// parts, which renders as `database.schema.identifier`.
    pub(super) key: Option<String>,
    pub(super) database: String,
    pub(super) schema: String,
    pub(super) identifier: String,
}

impl Object for Relation {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "identifier" | "name" | "table" => Some(Value::from(self.identifier.clone())),
            "schema" => Some(Value::from(self.schema.clone())),
            "database" => Some(Value::from(self.database.clone())),
            "is_table" | "is_view" | "is_cte" => Some(Value::from(false)),
            "type" => Some(Value::from("table")),
            "metadata" => Some(Value::from(BTreeMap::from([(
                "type".to_string(),
                Value::from("Relation"),
            )]))),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "render" | "include" | "quote" | "incorporate" | "replace_path" => {
                Ok(Value::from(self.to_sql()))
            }
            _ => Err(Error::from(minijinja::ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_sql())
    }

    // A relation is there (`{% if relation %}`), though it lists no attributes.
    fn is_true(self: &Arc<Self>) -> bool {
        true
    }
}

impl Relation {
    fn to_sql(&self) -> String {
        match &self.key {
            Some(key) => format!("\"{}\"", key.replace('"', "")),
            None => [&self.database, &self.schema, &self.identifier]
                .into_iter()
                .filter(|p| !p.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join("."),
        }
    }

    /// The key of `get_columns_in_relation` lookups: `ref:x`, `source:a.b` or the name.
    pub(super) fn lookup_key(&self) -> String {
        match &self.key {
            Some(k) => k.to_lowercase(),
            None => self.to_sql().to_lowercase(),
        }
    }
}

/// Anything the project or its packages define that we do not: a macro, a namespace of
/// macros (`dbt_utils`, `adapter`), or a value. Callable, with any attribute.
#[derive(Debug)]
pub(super) struct Lenient {
    pub(super) name: String,
}

impl Object for Lenient {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        Some(Value::from_object(Lenient {
            name: format!("{}.{key}", self.name),
        }))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Empty
    }

    fn is_true(self: &Arc<Self>) -> bool {
        false
    }

    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        Ok(lenient_call(state, &self.name, args))
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        Ok(lenient_call(
            state,
            &format!("{}.{method}", self.name),
            args,
        ))
    }

    fn render(self: &Arc<Self>, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

/// Positional arguments and keyword arguments (in written order).
pub(super) fn split_args(args: &[Value]) -> (Vec<Value>, Vec<(String, Value)>) {
    let mut pos = Vec::new();
    let mut kw = Vec::new();
    for a in args {
        if a.is_kwargs() {
            if let Ok(keys) = a.try_iter() {
                for k in keys {
                    if let (Some(name), Ok(v)) = (k.as_str(), a.get_item(&k)) {
                        kw.push((name.to_string(), v));
                    }
                }
            }
        } else {
            pos.push(a.clone());
        }
    }
    (pos, kw)
}

pub(super) fn arg(pos: &[Value], kw: &[(String, Value)], i: usize, name: &str) -> Option<Value> {
    kw.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .or_else(|| pos.get(i).cloned())
        .filter(|v| !v.is_undefined() && !v.is_none())
}

pub(super) fn sql_of(v: &Value) -> String {
    if let Some(s) = v.as_str() {
        return s.to_string();
    }
    if let Ok(items) = v.try_iter() {
        if !matches!(v.kind(), minijinja::value::ValueKind::Map) && v.as_object().is_none() {
            return items.map(|i| sql_of(&i)).collect::<Vec<_>>().join(", ");
        }
    }
    v.to_string()
}

pub(super) fn list_sql(v: &Value) -> String {
    match v.try_iter() {
        Ok(items) if v.as_str().is_none() => items
            .map(|i| sql_of(&i))
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        _ => sql_of(v),
    }
}

/// dbt_utils' `union_relations`: the relations' columns by name (`null` where one has
/// none), after a column naming each row's relation; `select *` of each when the
/// columns of one are not known.
fn union_relations(
    relations: &[Value],
    include: &[String],
    exclude: &[String],
    source_column: &str,
) -> String {
    let keep = |c: &String| (include.is_empty() || include.contains(c)) && !exclude.contains(c);
    let sides: Vec<(String, Vec<String>)> = relations
        .iter()
        .map(|r| {
            let cols = match r.downcast_object_ref::<Relation>() {
                Some(rel) => relation_columns(&rel.lookup_key()),
                None => Vec::new(),
            };
            (
                sql_of(r),
                cols.into_iter()
                    .map(|c| c.to_lowercase())
                    .filter(keep)
                    .collect(),
            )
        })
        .filter(|(sql, _)| !sql.trim().is_empty())
        .collect();
    if sides.is_empty() {
        return "select null as _unknown".into();
    }
    let mut all: Vec<String> = Vec::new();
    for (_, cols) in &sides {
        for c in cols {
            if !all.contains(c) {
                all.push(c.clone());
            }
        }
    }
    let known = sides.iter().all(|(_, cols)| !cols.is_empty());
    sides
        .iter()
        .map(|(rel, cols)| {
            let tag = format!(
                "cast('{}' as varchar) as {source_column}",
                rel.replace(['\'', '"'], "")
            );
            let list = match known {
                true => all
                    .iter()
                    .map(|c| match cols.contains(c) {
                        true => c.clone(),
                        false => format!("null as {c}"),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                false => "*".into(),
            };
            format!("select {tag}, {list} from {rel}")
        })
        .collect::<Vec<_>>()
        .join(" union all ")
}

/// The meaning we give to a macro we do not have.
pub(super) fn lenient_call(state: &State, name: &str, args: &[Value]) -> Value {
    let short = name.rsplit('.').next().unwrap_or(name);
    let (pos, kw) = split_args(args);
    let a = |i: usize, n: &str| arg(&pos, &kw, i, n);
    let s = match short {
        "star" => match a(2, "relation_alias") {
            Some(alias) if !sql_of(&alias).is_empty() => format!("{}.*", sql_of(&alias)),
            _ => "*".into(),
        },
        "fill_staging_columns" => "*".into(),
        "string_agg" | "listagg" => format!(
            "string_agg({}, {})",
            a(0, "measure").map(|v| sql_of(&v)).unwrap_or("null".into()),
            a(1, "delimiter_text")
                .map(|v| sql_of(&v))
                .unwrap_or("','".into())
        ),
        s if s.ends_with("partition_by_cols") => {
            format!("{} ", pos.iter().map(sql_of).collect::<Vec<_>>().join(", "))
        }
        "date_spine" => format!(
            "select cast(null as date) as date_{}",
            a(0, "datepart").map(|v| sql_of(&v)).unwrap_or("day".into())
        ),
        // shopify's metafield pivot: the object's columns plus pivoted metafields.
        "get_metafields" => match a(0, "source_object") {
            Some(o) => format!("select * from \"ref:{}\"", sql_of(&o)),
            None => "select null as _unknown".into(),
        },
        "group_by" => {
            let n = a(0, "n")
                .and_then(|v| i64::try_from(v).ok())
                .unwrap_or(1)
                .clamp(1, 500);
            let cols: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
            format!("group by {}", cols.join(", "))
        }
        "source_relation" | "apply_source_relation" => {
            ", cast('' as varchar) as source_relation".into()
        }
        "fill_pass_through_columns"
        | "persist_pass_through_columns"
        | "add_pass_through_columns"
        | "remove_prefix_from_columns" => String::new(),
        "union_connections" => match (a(1, "single_source_name"), a(2, "single_table_name")) {
            (Some(src), Some(table)) => {
                format!(
                    "select * from \"source:{}.{}\"",
                    sql_of(&src),
                    sql_of(&table)
                )
            }
            _ => "select null as _unknown".into(),
        },
        "union_relations" => {
            let relations: Vec<Value> = a(0, "relations")
                .and_then(|r| r.try_iter().ok().map(|i| i.collect()))
                .unwrap_or_default();
            let names = |n: Option<Value>| -> Vec<String> {
                n.and_then(|v| v.try_iter().ok())
                    .map(|i| i.map(|v| v.to_string().to_lowercase()).collect())
                    .unwrap_or_default()
            };
            let source_column = a(5, "source_column_name")
                .map(|v| v.to_string())
                .unwrap_or_else(|| "_dbt_source_relation".into());
            union_relations(
                &relations,
                &names(a(2, "include")),
                &names(a(3, "exclude")),
                &source_column,
            )
        }
        "union_data" | "shopify_union_data" => {
            // fivetran_utils ≥ 0.4 reads `source(default_schema, table_identifier)`; the
            // variable, in combined packages, may name the model downstream of this one.
            let relation = (|| {
                let schema = a(99, "default_schema")?;
                let table = a(99, "table_identifier")?;
                Some(format!("\"source:{}.{}\"", sql_of(&schema), sql_of(&table)))
            })()
            .or_else(|| {
                a(99, "default_variable")
                    .and_then(|v| v.as_str().map(str::to_string))
                    .and_then(|var| lookup_var(state, &var))
                    .map(|v| sql_of(&v))
            })
            .or_else(|| a(0, "relations").map(|r| list_sql(&r)));
            match relation {
                Some(rel) if !rel.trim().is_empty() => format!("select * from {rel}"),
                _ => "select null as _unknown".into(),
            }
        }
        // fivetran's `*_lookback(from_date=…)`: the latest value already loaded.
        s if s.ends_with("lookback") => {
            let this = super::render::current(|c| c.this_sql()).unwrap_or_default();
            format!(
                "coalesce((select {} from {this}), null)",
                a(0, "from_date")
                    .map(|v| sql_of(&v))
                    .unwrap_or("null".into())
            )
        }
        "current_timestamp"
        | "current_timestamp_backcompat"
        | "current_timestamp_in_utc_backcompat" => "current_timestamp".into(),
        "date_trunc" => format!(
            "date_trunc('{}', {})",
            a(0, "datepart").map(|v| sql_of(&v)).unwrap_or_default(),
            a(1, "date").map(|v| sql_of(&v)).unwrap_or("null".into())
        ),
        "dateadd" => format!(
            "dateadd('{}', {}, {})",
            a(0, "datepart").map(|v| sql_of(&v)).unwrap_or_default(),
            a(1, "interval").map(|v| sql_of(&v)).unwrap_or("0".into()),
            a(2, "from_date_or_timestamp")
                .map(|v| sql_of(&v))
                .unwrap_or("null".into())
        ),
        "datediff" => format!(
            "datediff('{}', {}, {})",
            a(2, "datepart").map(|v| sql_of(&v)).unwrap_or_default(),
            a(0, "first_date")
                .map(|v| sql_of(&v))
                .unwrap_or("null".into()),
            a(1, "second_date")
                .map(|v| sql_of(&v))
                .unwrap_or("null".into())
        ),
        "safe_cast" => format!(
            "cast({} as {})",
            a(0, "field").map(|v| sql_of(&v)).unwrap_or("null".into()),
            a(1, "type").map(|v| sql_of(&v)).unwrap_or("varchar".into())
        ),
        "concat" => format!(
            "concat({})",
            a(0, "fields").map(|v| list_sql(&v)).unwrap_or("''".into())
        ),
        "generate_surrogate_key" | "surrogate_key" => {
            let fields = if pos.len() > 1 {
                pos.iter().map(sql_of).collect::<Vec<_>>().join(", ")
            } else {
                a(0, "field_list").map(|v| list_sql(&v)).unwrap_or_default()
            };
            if fields.is_empty() {
                "md5('')".into()
            } else {
                format!("md5(concat({fields}))")
            }
        }
        "hash" => format!(
            "md5({})",
            a(0, "field").map(|v| sql_of(&v)).unwrap_or("null".into())
        ),
        "split_part" => format!(
            "split_part({}, {}, {})",
            a(0, "string_text")
                .map(|v| sql_of(&v))
                .unwrap_or("null".into()),
            a(1, "delimiter_text")
                .map(|v| sql_of(&v))
                .unwrap_or("''".into()),
            a(2, "part_number")
                .map(|v| sql_of(&v))
                .unwrap_or("1".into())
        ),
        s if s.starts_with("type_") => match &s[5..] {
            "string" => "varchar".into(),
            "int" | "integer" => "integer".into(),
            t if t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => t.into(),
            _ => "varchar".into(),
        },
        "is_incremental" | "is_databricks_sql_warehouse" => return Value::from(false),
        // A package we do not have (`dbt_utils`), listing the relation's columns.
        "get_columns_in_relation" | "get_filtered_columns_in_relation" => {
            let key = a(0, "relation")
                .or_else(|| a(0, "from"))
                .and_then(|r| r.downcast_object_ref::<Relation>().map(|r| r.lookup_key()));
            let except: Vec<String> = a(1, "except")
                .and_then(|e| e.try_iter().ok())
                .map(|e| e.map(|v| v.to_string().to_lowercase()).collect())
                .unwrap_or_default();
            let cols = key.map(|k| relation_columns(&k)).unwrap_or_default();
            let kept = cols.iter().filter(|c| !except.contains(&c.to_lowercase()));
            return Value::from(match short {
                // dbt_utils lists names; the adapter, columns.
                "get_filtered_columns_in_relation" => {
                    kept.map(|c| Value::from(c.as_str())).collect()
                }
                _ => kept.map(|c| column_value(c)).collect::<Vec<_>>(),
            });
        }
        "run_query" | "get_column_values" | "get_query_results_as_dict" => {
            // The table of `get_column_values`, or the relations a query's text reads.
            let keys = match a(0, "table")
                .or_else(|| a(0, "sql"))
                .or_else(|| a(0, "query"))
            {
                Some(v) => match v.downcast_object_ref::<Relation>() {
                    Some(r) => vec![r.lookup_key()],
                    None => super::deps_of(&v.to_string()),
                },
                None => Vec::new(),
            };
            record_query(keys);
            return Value::from(Vec::<Value>::new());
        }
        "get_relation" => return Value::from(Vec::<Value>::new()),
        "log" | "debug" | "raise_compiler_error" | "warn" | "set_sql_header" => String::new(),
        _ => match pos.first().or(kw.first().map(|(_, v)| v)) {
            Some(v) if v.as_str().is_some() || v.is_number() => sql_of(v),
            Some(v) if v.try_iter().is_ok() && v.as_object().is_none() => {
                let l = list_sql(v);
                if l.is_empty() {
                    "null".into()
                } else {
                    l
                }
            }
            Some(v) if v.as_object().is_some() => sql_of(v),
            _ => "null".into(),
        },
    };
    Value::from_safe_string(s)
}

/// A function of ours, taking positional and keyword arguments as they come.
pub(super) struct Builtin(fn(&State, &[Value]) -> Value);

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("builtin")
    }
}

impl Object for Builtin {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        Ok((self.0)(state, args))
    }
}

pub(super) fn builtin(f: fn(&State, &[Value]) -> Value) -> Value {
    Value::from_object(Builtin(f))
}

/// The relation of a `ref()` or `source()`, which the render records as the model's
/// dependency (as dbt does), whether or not its SQL names it.
pub(super) fn relation(key: String, identifier: String, schema: String) -> Value {
    super::render::record_reference(key.to_lowercase());
    Value::from_object(Relation {
        key: Some(key),
        database: "analytics".into(),
        schema,
        identifier,
    })
}

pub(super) fn b_ref(_state: &State, args: &[Value]) -> Value {
    let (pos, kw) = split_args(args);
    let name = pos
        .last()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    // A versioned model's version node: pinned by `v=`/`version=`, else the latest.
    let version = kw
        .iter()
        .find(|(k, _)| k == "v" || k == "version")
        .map(|(_, v)| v.as_str().map_or_else(|| v.to_string(), str::to_string));
    let name = super::render::current(|c| c.shared.versions.resolve(&name, version.as_deref()))
        .unwrap_or(name);
    relation(format!("ref:{name}"), name, "analytics".into())
}

pub(super) fn b_source(_state: &State, args: &[Value]) -> Value {
    let (pos, kw) = split_args(args);
    let s = arg(&pos, &kw, 0, "source_name")
        .map(|v| sql_of(&v))
        .unwrap_or_default();
    let t = arg(&pos, &kw, 1, "table_name")
        .map(|v| sql_of(&v))
        .unwrap_or_default();
    relation(format!("source:{s}.{t}"), t, s)
}

pub(super) fn b_var(state: &State, args: &[Value]) -> Value {
    let (pos, kw) = split_args(args);
    let name = arg(&pos, &kw, 0, "name")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    lookup_var(state, &name)
        .or_else(|| arg(&pos, &kw, 1, "default"))
        .unwrap_or(Value::UNDEFINED)
}

/// The value of a project variable, rendered when it is itself a template.
pub(super) fn lookup_var(state: &State, name: &str) -> Option<Value> {
    let (vars, project) =
        super::render::current(|c| (c.vars.clone(), Value::from(c.project.clone())))?;
    let scoped = project
        .as_str()
        .and_then(|p| vars.get_attr(p).ok())
        .and_then(|m| m.get_attr(name).ok())
        .filter(|v| !v.is_undefined());
    let v = scoped.or_else(|| vars.get_attr(name).ok().filter(|v| !v.is_undefined()))?;
    if let Some(s) = v.as_str() {
        if s.contains("{{") || s.contains("{%") {
            return state
                .env()
                .render_str(s, ())
                .ok()
                .map(Value::from_safe_string);
        }
    }
    Some(v)
}

pub(super) fn json_value(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::from(()),
        J::Bool(b) => Value::from(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::from(i),
            None => Value::from(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => Value::from(s.clone()),
        J::Array(a) => Value::from(a.iter().map(json_value).collect::<Vec<_>>()),
        J::Object(o) => Value::from(
            o.iter()
                .map(|(k, v)| (k.clone(), json_value(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

pub(super) fn short_error(e: &Error) -> String {
    let mut s = e.kind().to_string();
    if let Some(d) = e.detail() {
        s.push_str(": ");
        s.push_str(d);
    }
    if let Some(l) = e.line() {
        s.push_str(&format!(" (line {l})"));
    }
    s
}
