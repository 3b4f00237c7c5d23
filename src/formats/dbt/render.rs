//! Rendering a model's Jinja with minijinja, the way `dbt compile` would, without a
//! database and without running anything from the project.
//!
//! `ref()` and `source()` render to quoted identifiers (`"ref:orders"`,
//! `"source:shop.customer"`) that the lineage recognises. Macros we do not know render
//! leniently to something SQL can parse: their first argument, or NULL. A few macros of
//! dbt-core, dbt_utils and fivetran_utils that shape the column list are given a meaning.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};

/// Settings shared by every model of one project.
pub struct Renderer {
    env: Environment<'static>,
    vars: Value,
    project: String,
}

/// `target`: a development target on a generic warehouse.
fn target() -> Value {
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
    m.insert("threads".into(), Value::from(1));
    Value::from(m)
}

/// A relation returned by `ref()`, `source()` or `this`.
#[derive(Debug)]
struct Relation {
    /// What the lineage sees, e.g. `ref:orders`.
    key: String,
    identifier: String,
    schema: String,
}

impl Object for Relation {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "identifier" | "name" | "table" => Some(Value::from(self.identifier.clone())),
            "schema" => Some(Value::from(self.schema.clone())),
            "database" => Some(Value::from("analytics")),
            "is_table" | "is_view" | "is_cte" => Some(Value::from(false)),
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
            "render" | "include" | "quote" | "incorporate" => Ok(Value::from(self.to_sql())),
            _ => Ok(Value::from(self.to_sql())),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_sql())
    }
}

impl Relation {
    fn to_sql(&self) -> String {
        format!("\"{}\"", self.key.replace('"', ""))
    }
}

/// Anything the project or its packages define that we do not: a macro, a namespace of
/// macros (`dbt_utils`, `adapter`), or a value. Callable, with any attribute.
#[derive(Debug)]
struct Lenient {
    name: String,
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
fn split_args(args: &[Value]) -> (Vec<Value>, Vec<(String, Value)>) {
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

fn arg(pos: &[Value], kw: &[(String, Value)], i: usize, name: &str) -> Option<Value> {
    kw.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .or_else(|| pos.get(i).cloned())
        .filter(|v| !v.is_undefined() && !v.is_none())
}

fn sql_of(v: &Value) -> String {
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

fn list_sql(v: &Value) -> String {
    match v.try_iter() {
        Ok(items) if v.as_str().is_none() => items
            .map(|i| sql_of(&i))
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        _ => sql_of(v),
    }
}

/// The meaning we give to a macro we do not have.
fn lenient_call(state: &State, name: &str, args: &[Value]) -> Value {
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
        "union_data" | "shopify_union_data" | "union_relations" => {
            let relation = a(99, "default_variable")
                .and_then(|v| v.as_str().map(str::to_string))
                .and_then(|var| lookup_var(state, &var))
                .map(|v| sql_of(&v))
                .or_else(|| {
                    let schema = a(99, "default_schema")?;
                    let table = a(99, "table_identifier")?;
                    Some(format!("\"source:{}.{}\"", sql_of(&schema), sql_of(&table)))
                })
                .or_else(|| a(0, "relations").map(|r| list_sql(&r)));
            match relation {
                Some(rel) if !rel.trim().is_empty() => format!("select * from {rel}"),
                _ => "select null as _unknown".into(),
            }
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
        "get_columns_in_relation"
        | "get_relation"
        | "run_query"
        | "get_column_values"
        | "get_query_results_as_dict"
        | "get_filtered_columns_in_relation" => return Value::from(Vec::<Value>::new()),
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
struct Builtin(fn(&State, &[Value]) -> Value);

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

fn builtin(f: fn(&State, &[Value]) -> Value) -> Value {
    Value::from_object(Builtin(f))
}

fn relation(key: String, identifier: String, schema: String) -> Value {
    Value::from_object(Relation {
        key,
        identifier,
        schema,
    })
}

fn b_ref(_state: &State, args: &[Value]) -> Value {
    let (pos, _) = split_args(args);
    let name = pos
        .last()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    relation(format!("ref:{name}"), name, "analytics".into())
}

fn b_source(_state: &State, args: &[Value]) -> Value {
    let (pos, kw) = split_args(args);
    let s = arg(&pos, &kw, 0, "source_name")
        .map(|v| sql_of(&v))
        .unwrap_or_default();
    let t = arg(&pos, &kw, 1, "table_name")
        .map(|v| sql_of(&v))
        .unwrap_or_default();
    relation(format!("source:{s}.{t}"), t, s)
}

fn b_var(state: &State, args: &[Value]) -> Value {
    let (pos, kw) = split_args(args);
    let name = arg(&pos, &kw, 0, "name")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    lookup_var(state, &name)
        .or_else(|| arg(&pos, &kw, 1, "default"))
        .unwrap_or(Value::UNDEFINED)
}

/// The value of a project variable, rendered when it is itself a template.
fn lookup_var(state: &State, name: &str) -> Option<Value> {
    let vars = state.lookup("__vars")?;
    let project = state.lookup("__project")?;
    let scoped = project
        .as_str()
        .and_then(|p| vars.get_attr(p).ok())
        .and_then(|m| m.get_attr(name).ok())
        .filter(|v| !v.is_undefined());
    let v = scoped.or_else(|| vars.get_attr(name).ok().filter(|v| !v.is_undefined()))?;
    if let Some(s) = v.as_str() {
        if s.contains("{{") || s.contains("{%") {
            let ctx = minijinja::context! { __vars => vars, __project => project };
            return state
                .env()
                .render_str(s, ctx)
                .ok()
                .map(Value::from_safe_string);
        }
    }
    Some(v)
}

impl Renderer {
    /// `vars` is the `vars:` mapping of dbt_project.yml as JSON.
    pub fn new(project: &str, vars: serde_json::Value) -> Renderer {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_recursion_limit(100);
        env.set_fuel(Some(2_000_000));
        env.add_global("ref", builtin(b_ref));
        env.add_global("source", builtin(b_source));
        env.add_global("config", builtin(|_, _| Value::from("")));
        env.add_global("is_incremental", builtin(|_, _| Value::from(false)));
        env.add_global("should_full_refresh", builtin(|_, _| Value::from(false)));
        env.add_global("var", builtin(b_var));
        env.add_global(
            "env_var",
            builtin(|_, args| {
                let (pos, kw) = split_args(args);
                arg(&pos, &kw, 1, "default").unwrap_or(Value::from(""))
            }),
        );
        env.add_global("doc", builtin(|_, _| Value::from("")));
        env.add_global("target", target());
        env.add_global("execute", false);
        env.add_global("flags", Value::from(BTreeMap::<String, Value>::new()));
        env.set_unknown_method_callback(|_state, value, method, _args| match method {
            "items" | "keys" | "values" => Ok(Value::from(Vec::<Value>::new())),
            "get" => Ok(Value::UNDEFINED),
            "lower" | "upper" | "strip" => Ok(Value::from(value.to_string())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        });
        Renderer {
            env,
            vars: json_value(&vars),
            project: project.to_string(),
        }
    }

    /// Renders one model. `name` is the model's own name (for `this`).
    pub fn render(&self, name: &str, text: &str) -> Result<String, String> {
        let tmpl = self
            .env
            .template_from_str(text)
            .map_err(|e| format!("the Jinja does not parse: {}", short_error(&e)))?;
        let mut ctx: BTreeMap<String, Value> = BTreeMap::new();
        for var in tmpl.undeclared_variables(false) {
            if self.env.globals().any(|(g, _)| g == var) {
                continue;
            }
            ctx.insert(
                var.clone(),
                Value::from_object(Lenient { name: var.clone() }),
            );
        }
        ctx.insert("__vars".into(), self.vars.clone());
        ctx.insert("__project".into(), Value::from(self.project.clone()));
        ctx.insert(
            "this".into(),
            Value::from_object(Relation {
                key: format!("ref:{name}"),
                identifier: name.to_string(),
                schema: "analytics".into(),
            }),
        );
        ctx.insert(
            "model".into(),
            Value::from(BTreeMap::from([(
                "name".to_string(),
                Value::from(name.to_string()),
            )])),
        );
        tmpl.render(Value::from(ctx))
            .map_err(|e| format!("the Jinja does not render: {}", short_error(&e)))
    }
}

fn json_value(v: &serde_json::Value) -> Value {
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

fn short_error(e: &Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_sources_vars_and_unknown_macros() {
        let vars =
            serde_json::json!({"p": {"src": "{{ source('raw', 'people') }}", "flag": false}});
        let r = Renderer::new("p", vars);
        let out = r
            .render(
                "m",
                "{{ config(materialized='table') }}select {{ dbt_utils.star(from=ref('a')) }}, \
                 {{ unknown_macro('x') }}, {{ fivetran_utils.thing(column='y') }}, \
                 cast(z as {{ dbt.type_timestamp() }}) from {{ ref('a') }} join {{ var('src') }}\
                 {% if var('flag', true) %} bad{% endif %}{% if is_incremental() %} worse{% endif %}",
            )
            .unwrap();
        assert_eq!(
            out,
            "select *, x, y, cast(z as timestamp) from \"ref:a\" join \"source:raw.people\""
        );
    }

    #[test]
    fn broken_jinja_is_an_error_not_a_panic() {
        let r = Renderer::new("p", serde_json::Value::Null);
        assert!(r.render("m", "{% if %}").is_err());
        // Lenient attribute chains render; huge loops stop on fuel, not on memory.
        let _ = r.render(
            "m",
            "{{ x.y.z() }}{% for i in range(100000000) %}{% endfor %}",
        );
    }
}
