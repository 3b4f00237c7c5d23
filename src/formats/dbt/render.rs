//! Rendering a model's Jinja with minijinja, the way `dbt compile` would, without a
//! database and without running anything from the project.
//!
//! The project's and its installed packages' macros are loaded, one template per
//! definition, and called the way dbt calls them: a package's macro sees its own
//! package's macros first, then the root project's; `package.macro` names one package;
//! `adapter.dispatch` follows the project's `dispatch:` search orders. What dbt provides
//! at compile time is given statically ([`super::builtins`], [`super::context`]). Each
//! render has a bounded budget of steps (fuel) and of nested macro calls, so a macro
//! that loops or recurses forever ends the render with a reason, in bounded time.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use minijinja::value::{merge_maps, Kwargs, Object, ObjectRepr, Value};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};

use super::builtins::{
    arg, b_ref, b_source, b_var, builtin, json_value, lenient_call, short_error, split_args,
    target, Lenient, Relation,
};
use super::context;
use super::macros::{tags, MacroDef, MacroTable};

/// Steps (minijinja fuel) one model's render may take, macros included.
pub(crate) const FUEL: u64 = 2_000_000;
/// Macro calls nested in one another.
pub(crate) const MAX_DEPTH: usize = 60;
/// The temp a `return()` leaves its value in.
const RETURN: &str = "__return";

/// Names the render context gives every template; never lenient placeholders.
const CONTEXT_KEYS: &[&str] = &["this", "model"];

/// Our builtins that a project macro of the same name does not replace.
const PROTECTED: &[&str] = &[
    "ref",
    "source",
    "config",
    "var",
    "env_var",
    "is_incremental",
    "return",
    "execute",
    "target",
    "adapter",
    "this",
];

/// What one project's renders share.
pub(crate) struct Setup {
    pub project: String,
    pub vars: serde_json::Value,
    pub macros: Vec<MacroDef>,
    pub dispatch: Vec<(String, Vec<String>)>,
    /// The warehouse (`snowflake`, `postgres`…), for `target.type` and dispatch.
    pub adapter: Option<String>,
    /// `target` from the profile (`name`, `schema`, `database`, …).
    pub target: BTreeMap<String, String>,
    /// Known columns by relation key (`ref:x`, `source:a.b`), for
    /// `adapter.get_columns_in_relation`.
    pub columns: HashMap<String, Vec<String>>,
    /// The nodes' relation names' parts and keys, for `adapter.get_relation`.
    pub relations: Vec<(Vec<String>, String)>,
    /// Versioned models, for `ref('m')` and `ref('m', v=…)`.
    pub versions: super::schema::Versions,
}

pub(super) struct Shared {
    pub(super) table: MacroTable,
    /// The adapter, its parents, for `<adapter>__macro` names.
    pub(super) adapters: Vec<String>,
    pub(super) columns: HashMap<String, Vec<String>>,
    relations: Vec<(Vec<String>, String)>,
    pub(super) versions: super::schema::Versions,
    /// Per definition: what its unknown names resolve to, computed on first call.
    locals: Vec<OnceLock<Value>>,
    globals: HashSet<String>,
}

impl Shared {
    /// The key of the node whose relation is `database.schema.identifier` (parts may
    /// be empty): found by its identifier, then its schema, then its database, when one
    /// node is left.
    fn relation_key(&self, database: &str, schema: &str, identifier: &str) -> Option<String> {
        type Entry = (Vec<String>, String);
        // The key every entry left has, if they agree.
        let agreed = |found: &[&Entry]| -> Option<String> {
            let first = found.first()?;
            found
                .iter()
                .all(|(_, k)| *k == first.1)
                .then(|| first.1.clone())
        };
        let mut found: Vec<&Entry> = self
            .relations
            .iter()
            .filter(|(parts, _)| {
                parts
                    .last()
                    .is_some_and(|p| p.eq_ignore_ascii_case(identifier))
            })
            .collect();
        for (depth, given) in [(2, schema), (3, database)] {
            if found.is_empty() || agreed(&found).is_some() || given.is_empty() {
                break;
            }
            found.retain(|(parts, _)| {
                parts.len() >= depth && parts[parts.len() - depth].eq_ignore_ascii_case(given)
            });
        }
        agreed(&found)
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("shared")
    }
}

/// The render running on this thread. A macro runs with only the names it captured, so
/// what every template needs is kept here rather than in the context.
pub(super) struct Current {
    pub(super) shared: Arc<Shared>,
    /// The model's context (`this`, `model`, …), for the templates of the macros it calls.
    model: Value,
    pub(super) incremental: bool,
    pub(super) vars: Value,
    pub(super) project: String,
    /// The package of each macro being called, innermost last.
    packages: Vec<String>,
    /// Columns found by lineage, by relation key, for relations no file declares them of.
    columns: HashMap<String, Vec<String>>,
    /// `ref:<model>`: the relation of `this`, whose columns are the model's own.
    this_key: String,
}

pub(super) fn current<R>(f: impl FnOnce(&Current) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow().as_ref().map(f))
}

impl Current {
    /// `{{ this }}` of the model being rendered.
    pub(super) fn this_sql(&self) -> String {
        self.model
            .get_attr("this")
            .map(|t| t.to_string())
            .unwrap_or_default()
    }
}

fn shared(_state: &State) -> Option<Arc<Shared>> {
    current(|c| c.shared.clone())
}

/// The package whose macro is running (the root project's for the model itself).
fn calling_package() -> Option<String> {
    current(|c| {
        c.packages
            .last()
            .cloned()
            .unwrap_or_else(|| c.project.clone())
    })
}

/// Settings shared by every model of one project.
pub(crate) struct Renderer {
    env: Environment<'static>,
    shared: Arc<Shared>,
    vars: Value,
    project: String,
    /// Macros that query the warehouse, themselves or through others.
    querying: HashSet<String>,
}

/// What a render gives: the SQL, or why there is none.
pub(crate) type Rendered = Result<String, String>;

fn adapter_parents(adapter: &str) -> Vec<String> {
    let parents: &[&str] = match adapter {
        "redshift" | "materialize" | "alloydb" => &["postgres"],
        "databricks" => &["spark"],
        _ => &[],
    };
    std::iter::once(adapter)
        .chain(parents.iter().copied())
        .map(str::to_string)
        .collect()
}

/// `{% set x = [] %}` and `{% set x = {} %}` build lists and mappings that dbt's Jinja
/// lets templates change (`x.append(…)`, `x.update(…)`): they are made changeable here.
pub(super) fn mutable_sets(text: &str) -> std::borrow::Cow<'_, str> {
    let mut edits: Vec<(usize, usize)> = Vec::new();
    for (start, end, inner) in tags(text) {
        if !inner.starts_with("set ") {
            continue;
        }
        let tag = &text[start..end];
        let Some(eq) = tag.find('=') else { continue };
        if tag[eq + 1..].starts_with('=') {
            continue;
        }
        let close = tag.len() - 2;
        let close = if tag[..close].ends_with(['-', '+']) {
            close - 1
        } else {
            close
        };
        let expr = &tag[eq + 1..close];
        if expr.trim_start().starts_with(['[', '{']) {
            edits.push((start + eq + 1, start + close));
        }
    }
    if edits.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + edits.len() * 8);
    let mut at = 0;
    for (s, e) in edits {
        out.push_str(&text[at..s]);
        out.push_str(" __mut(");
        out.push_str(&text[s..e]);
        out.push_str(") ");
        at = e;
    }
    out.push_str(&text[at..]);
    std::borrow::Cow::Owned(out)
}

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    static MISSED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static QUERIED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static REFERENCED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// A query of the warehouse ran in this render, of whatever relations.
    static QUERY_RAN: Cell<bool> = const { Cell::new(false) };
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
    static CONFIGURED: RefCell<ModelConfig> = const {
        RefCell::new(ModelConfig {
            database: None,
            schema: None,
            alias: None,
            meta: None,
        })
    };
}

/// One render of a model.
pub(crate) struct Rendering {
    pub(crate) sql: Rendered,
    /// What the model's own `config()` said about its relation.
    pub(crate) config: ModelConfig,
    /// Relations whose columns a macro asked for and no one knew (their keys).
    pub(crate) missed: Vec<String>,
    /// Relations whose data a macro queried (`get_column_values`, `run_query`).
    pub(crate) queried: Vec<String>,
    /// The relations of every `ref()`/`source()` it called (keys), in the SQL or not.
    pub(crate) referenced: Vec<String>,
    /// A query of the warehouse ran, of whatever relations (`queried` leaves out the
    /// model's own).
    pub(crate) ran_query: bool,
}

/// What a model's own `{{ config(…) }}` says about the relation it builds, when the
/// values are strings, and its `meta`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ModelConfig {
    pub(crate) database: Option<String>,
    pub(crate) schema: Option<String>,
    pub(crate) alias: Option<String>,
    /// `config(meta={…})`: what it writes of `purposes`, `categories` and `uses`, in that
    /// order, each a string or a list of strings as rendered.
    pub(crate) meta: Option<[Option<Vec<String>>; 3]>,
}

/// The keys of `meta` purposelint reads, in [`ModelConfig::meta`]'s order.
pub(crate) const META_KEYS: [&str; 3] = ["purposes", "categories", "uses"];

impl ModelConfig {
    /// These settings, and `base`'s where these have none.
    pub(crate) fn or(self, base: ModelConfig) -> ModelConfig {
        ModelConfig {
            database: self.database.or(base.database),
            schema: self.schema.or(base.schema),
            alias: self.alias.or(base.alias),
            meta: self.meta.or(base.meta),
        }
    }
}

/// Called by `config(meta={…})`: later calls write over the keys they name, as dbt merges.
pub(super) fn record_meta(meta: &Value) {
    if meta.kind() != minijinja::value::ValueKind::Map {
        return;
    }
    CONFIGURED.with(|c| {
        let mut c = c.borrow_mut();
        let slots = c.meta.get_or_insert_with(Default::default);
        for (slot, key) in slots.iter_mut().zip(META_KEYS) {
            let Ok(v) = meta.get_item(&Value::from(key)) else {
                continue;
            };
            if v.is_undefined() {
                continue;
            }
            *slot = Some(match v.as_str() {
                Some(s) => vec![s.to_string()],
                None => v
                    .try_iter()
                    .map(|items| {
                        items
                            .filter_map(|i| i.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
    });
}

/// Called by `config(database=…, schema=…, alias=…)` while a model renders.
pub(super) fn record_config(key: &str, value: &str) {
    CONFIGURED.with(|c| {
        let mut c = c.borrow_mut();
        let slot = match key {
            "database" => &mut c.database,
            "schema" => &mut c.schema,
            "alias" => &mut c.alias,
            _ => return,
        };
        *slot = Some(value.to_string());
    });
}

/// One level of macro nesting, left when dropped.
struct Depth;

impl Depth {
    fn enter(name: &str) -> Result<Depth, Error> {
        let d = DEPTH.with(|d| d.get());
        if d >= MAX_DEPTH {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("macro calls nest deeper than {MAX_DEPTH} (at `{name}`)"),
            ));
        }
        DEPTH.with(|c| c.set(d + 1));
        Ok(Depth)
    }
}

impl Drop for Depth {
    fn drop(&mut self) {
        DEPTH.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

/// Records a `ref()`/`source()` of the render (its key), the model's own aside.
pub(super) fn record_reference(key: String) {
    if current(|c| c.this_key == key) != Some(true) {
        REFERENCED.with(|r| super::add_missing(&mut r.borrow_mut(), [key]));
    }
}

/// Records that the render asked the warehouse for data of relations `keys` (whose values
/// it does not have at compile time): `get_column_values`, `run_query`.
pub(super) fn record_query(mut keys: Vec<String>) {
    QUERY_RAN.with(|r| r.set(true));
    // Its own data (`select max(ts) from {{ this }}`) is no other relation's.
    if let Some(this) = current(|c| c.this_key.clone()) {
        keys.retain(|k| *k != this);
    }
    QUERIED.with(|q| super::add_missing(&mut q.borrow_mut(), keys));
}

/// The columns of relation `key` (`ref:x`, `source:a.b`) as `get_columns_in_relation`
/// lists them: declared, or found by lineage. A relation whose columns are not known is
/// recorded, for the model to be rendered again once they are, or reported.
pub(super) fn relation_columns(key: &str) -> Vec<String> {
    current(|c| {
        let known = [c.shared.columns.get(key), c.columns.get(key)]
            .into_iter()
            .flatten()
            .find(|cols| !cols.is_empty());
        match known {
            Some(cols) => cols.clone(),
            None => {
                if key != c.this_key {
                    MISSED.with(|m| super::add_missing(&mut m.borrow_mut(), [key.to_string()]));
                }
                Vec::new()
            }
        }
    })
    .unwrap_or_default()
}

/// A value that is its own caller: a `{% call %}` body rendered in the caller's state.
#[derive(Debug)]
struct Fixed(Value);

impl Object for Fixed {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, _args: &[Value]) -> Result<Value, Error> {
        Ok(self.0.clone())
    }
}

/// A macro of the project or of a package, by its index in the [`MacroTable`].
#[derive(Debug)]
pub(super) struct MacroFn(pub(super) usize);

impl Object for MacroFn {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let Some(shared) = shared(state) else {
            return Err(Error::new(ErrorKind::InvalidOperation, "no render state"));
        };
        let def = &shared.table.defs[self.0];
        let _depth = Depth::enter(&def.name)?;
        // A `{% call %}` body can only run in the state that holds it: render it now.
        let (pos, kw) = split_args(args);
        let mut args: Vec<Value> = pos;
        if !kw.is_empty() {
            let mut kept = Vec::with_capacity(kw.len());
            for (k, v) in kw {
                if k == "caller" {
                    let body = v.call(state, &[])?;
                    kept.push((k, Value::from_object(Fixed(body))));
                } else {
                    kept.push((k, v));
                }
            }
            args.push(Value::from(Kwargs::from_iter(kept)));
        }
        let tmpl = state.env().get_template(&format!("m{}", self.0))?;
        let model = current(|c| c.model.clone()).unwrap_or_default();
        let ctx = merge_maps([shared.locals(self.0, state.env()), model]);
        let mut captured = tmpl.render_captured(ctx)?;
        let name = def.name.clone();
        let package = def.package.clone();
        CURRENT.with(|c| {
            if let Some(c) = c.borrow_mut().as_mut() {
                c.packages.push(package);
            }
        });
        let (result, returned, used) = captured.with_state_mut(|st| {
            let r = st.call_macro(&name, &args);
            (r, st.get_temp(RETURN), st.fuel_levels().map(|f| f.0))
        });
        CURRENT.with(|c| {
            if let Some(c) = c.borrow_mut().as_mut() {
                c.packages.pop();
            }
        });
        if let Some(used) = used {
            state.consume_fuel(used)?;
        }
        match (returned, result) {
            (Some(v), _) => Ok(v),
            // Output that is only whitespace is nothing: a macro that would have returned
            // a list at run time (`execute` is false here) then iterates as empty.
            (None, Ok(s)) if s.trim().is_empty() => Ok(Value::from("")),
            (None, Ok(s)) => Ok(Value::from_safe_string(s)),
            (None, Err(e)) => Err(e),
        }
    }
}

/// An installed package's namespace: `dbt_utils.star`.
#[derive(Debug)]
struct Package(Arc<Shared>, String);

/// Package macros that return nothing at compile time (`execute` is false) and that we
/// answer from what we know instead: the columns of relations.
const ANSWERED: &[&str] = &[
    "get_filtered_columns_in_relation",
    "get_column_values",
    "union_relations",
];

impl Package {
    fn member(&self, name: &str) -> Value {
        if ANSWERED.contains(&name) {
            return Value::from_object(Lenient {
                name: format!("{}.{name}", self.1),
            });
        }
        match self.0.table.get(&self.1, name) {
            Some(i) => Value::from_object(MacroFn(i)),
            None => Value::from_object(Lenient {
                name: format!("{}.{name}", self.1),
            }),
        }
    }
}

impl Object for Package {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(self.member(key.as_str()?))
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        self.member(method).call(state, args)
    }
}

impl Shared {
    /// What the unknown names of definition `i` are: its package's macros, or lenient
    /// placeholders for names nothing defines.
    fn locals(&self, i: usize, env: &Environment<'_>) -> Value {
        self.locals[i]
            .get_or_init(|| {
                let def = &self.table.defs[i];
                let mut m: BTreeMap<String, Value> = BTreeMap::new();
                let Ok(tmpl) = env.get_template(&format!("m{i}")) else {
                    return Value::from(m);
                };
                for var in tmpl.undeclared_variables(false) {
                    if CONTEXT_KEYS.contains(&var.as_str()) {
                        continue;
                    }
                    if def.package != self.table.root {
                        if let Some(j) = self.table.get(&def.package, &var) {
                            m.insert(var, Value::from_object(MacroFn(j)));
                            continue;
                        }
                    }
                    if self.globals.contains(&var) {
                        continue;
                    }
                    let v = Value::from_object(Lenient { name: var.clone() });
                    m.insert(var, v);
                }
                Value::from(m)
            })
            .clone()
    }
}

/// `adapter`: dispatch, and what the warehouse would answer, from what purposelint knows.
#[derive(Debug)]
struct Adapter;

pub(super) fn column_value(name: &str) -> Value {
    Value::from_object(context::Column {
        name: name.to_string(),
    })
}

impl Object for Adapter {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(Value::from_object(Lenient {
            name: format!("adapter.{}", key.as_str()?),
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (pos, kw) = split_args(args);
        let a = |i: usize, n: &str| arg(&pos, &kw, i, n);
        let Some(shared) = shared(state) else {
            return Ok(lenient_call(state, &format!("adapter.{method}"), args));
        };
        Ok(match method {
            "dispatch" => {
                let name = a(0, "macro_name")
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                let ns = a(1, "macro_namespace").and_then(|v| v.as_str().map(str::to_string));
                let caller = calling_package().unwrap_or_else(|| shared.table.root.clone());
                let adapters: Vec<&str> = shared.adapters.iter().map(String::as_str).collect();
                match shared
                    .table
                    .dispatch(&name, ns.as_deref(), &caller, &adapters)
                {
                    Some(i) => Value::from_object(MacroFn(i)),
                    None => Value::from_object(Lenient {
                        name: format!("{}.{name}", ns.as_deref().unwrap_or("dbt")),
                    }),
                }
            }
            "get_columns_in_relation" | "get_columns_in_table" => {
                let key = a(0, "relation")
                    .and_then(|r| r.downcast_object_ref::<Relation>().map(|r| r.lookup_key()));
                let cols = key.map(|k| relation_columns(&k)).unwrap_or_default();
                Value::from(cols.iter().map(|n| column_value(n)).collect::<Vec<_>>())
            }
            "get_relation" => {
                let part = |i: usize, n: &str| {
                    a(i, n)
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                };
                // The node it names, or else a table that exists in the warehouse (a
                // run would find it): SQL that reads it names it by its parts.
                let (database, schema, identifier) = (
                    part(0, "database"),
                    part(1, "schema"),
                    part(2, "identifier"),
                );
                Value::from_object(Relation {
                    key: shared.relation_key(&database, &schema, &identifier),
                    database,
                    schema,
                    identifier,
                })
            }
            "quote" => Value::from_safe_string(format!(
                "\"{}\"",
                a(0, "identifier")
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            )),
            "type" => Value::from(shared.adapters.first().cloned().unwrap_or_default()),
            "get_missing_columns" | "list_relations_without_caching" => {
                Value::from(Vec::<Value>::new())
            }
            "check_schema_exists" | "already_exists" => Value::from(false),
            _ => lenient_call(state, &format!("adapter.{method}"), args),
        })
    }
}

fn b_return(state: &mut State, args: &[Value]) -> Result<Value, Error> {
    let v = args.first().cloned().unwrap_or(Value::from(()));
    if state.get_temp(RETURN).is_none() {
        state.set_temp(RETURN, v);
    }
    // Stops the macro here, as dbt's `return` does; the macro call takes the value.
    Err(Error::new(
        ErrorKind::InvalidOperation,
        "return() outside a macro",
    ))
}

fn b_is_incremental(_state: &State, _args: &[Value]) -> Value {
    Value::from(current(|c| c.incremental).unwrap_or(false))
}

/// A function of ours that may fail or change the state.
struct Func(fn(&mut State, &[Value]) -> Result<Value, Error>);

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("function")
    }
}

impl Object for Func {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        (self.0)(state, args)
    }
}

impl Renderer {
    pub(crate) fn new(setup: Setup) -> Renderer {
        let adapter = setup.adapter.clone().unwrap_or_else(|| "postgres".into());
        let mut target_settings = setup.target.clone();
        target_settings
            .entry("type".into())
            .or_insert_with(|| adapter.clone());
        let querying = super::macros::querying(&setup.macros, super::QUERY_CALLS);
        let table = MacroTable::new(&setup.project, setup.macros, setup.dispatch);
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_recursion_limit(100);
        env.set_fuel(Some(FUEL));
        env.add_global("ref", builtin(b_ref));
        env.add_global("source", builtin(b_source));
        env.add_global("config", Value::from_object(context::Config));
        env.add_global("is_incremental", builtin(b_is_incremental));
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
        env.add_global("target", target(&target_settings));
        env.add_global("execute", false);
        env.add_global("return", Value::from_object(Func(b_return)));
        env.add_global("adapter", Value::from_object(Adapter));
        context::add_globals(&mut env);
        env.set_unknown_method_callback(context::unknown_method);
        // Root project macros are global; a package's are reached through its namespace.
        for (i, d) in table.defs.iter().enumerate() {
            if d.package == table.root && !PROTECTED.contains(&d.name.as_str()) {
                env.add_global(d.name.clone(), Value::from_object(MacroFn(i)));
            }
        }
        let n = table.defs.len();
        let texts: Vec<String> = table
            .defs
            .iter()
            .map(|d| mutable_sets(&d.text).into_owned())
            .collect();
        env.set_loader(move |name| {
            Ok(name
                .strip_prefix('m')
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| texts.get(i).cloned()))
        });
        // Packages are namespaces, and so is the root project (`my_project.macro`).
        let mut packages: Vec<String> = table.packages().to_vec();
        if env.globals().all(|(g, _)| g != table.root) {
            packages.push(table.root.clone());
        }
        let globals: HashSet<String> = env
            .globals()
            .map(|(g, _)| g.to_string())
            .chain(packages.iter().cloned())
            .collect();
        let shared = Arc::new(Shared {
            table,
            adapters: adapter_parents(&adapter),
            columns: setup.columns,
            relations: setup.relations,
            versions: setup.versions,
            locals: (0..n).map(|_| OnceLock::new()).collect(),
            globals,
        });
        for p in packages {
            let ns = Value::from_object(Package(shared.clone(), p.clone()));
            env.add_global(p, ns);
        }
        Renderer {
            env,
            shared,
            vars: json_value(&setup.vars),
            project: setup.project,
            querying,
        }
    }

    /// The first macro `text` calls that queries the warehouse's data (through others,
    /// maybe): what it gives, only a run has.
    pub(crate) fn querying_call<'t>(&self, text: &'t str) -> Option<&'t str> {
        super::macros::called_names(text).find(|n| self.querying.contains(*n))
    }

    /// Renders `text` as a run would (`execute` true) for the queries it makes, which a
    /// compile-time render skips.
    pub(crate) fn run_queries(&self, name: &str, text: &str) -> Rendering {
        self.render_as(name, text, false, HashMap::new(), true)
    }

    /// Renders one model. `name` is the model's own name (for `this`); `incremental` is
    /// what `is_incremental()` answers.
    pub(crate) fn render(&self, name: &str, text: &str, incremental: bool) -> Rendering {
        self.render_with(name, text, incremental, HashMap::new())
    }

    /// [`Renderer::render`], with the columns lineage found of relations that no file
    /// declares columns of (for `get_columns_in_relation`).
    pub(crate) fn render_with(
        &self,
        name: &str,
        text: &str,
        incremental: bool,
        columns: HashMap<String, Vec<String>>,
    ) -> Rendering {
        self.render_as(name, text, incremental, columns, false)
    }

    fn render_as(
        &self,
        name: &str,
        text: &str,
        incremental: bool,
        columns: HashMap<String, Vec<String>>,
        execute: bool,
    ) -> Rendering {
        MISSED.with(|m| m.borrow_mut().clear());
        QUERIED.with(|q| q.borrow_mut().clear());
        REFERENCED.with(|r| r.borrow_mut().clear());
        QUERY_RAN.with(|r| r.set(false));
        CONFIGURED.with(|c| *c.borrow_mut() = ModelConfig::default());
        DEPTH.with(|d| d.set(0));
        let mut ctx: BTreeMap<String, Value> = BTreeMap::new();
        ctx.insert(
            "this".into(),
            Value::from_object(Relation {
                key: Some(format!("ref:{name}")),
                database: "analytics".into(),
                schema: "analytics".into(),
                identifier: name.to_string(),
            }),
        );
        ctx.insert("model".into(), context::model(&self.project, name));
        if execute {
            ctx.insert("execute".into(), Value::from(true));
        }
        let model = Value::from(ctx);
        CURRENT.with(|c| {
            *c.borrow_mut() = Some(Current {
                shared: self.shared.clone(),
                model: model.clone(),
                incremental,
                vars: self.vars.clone(),
                project: self.project.clone(),
                packages: Vec::new(),
                columns,
                this_key: format!("ref:{}", name.to_lowercase()),
            })
        });
        let sql = self.render_sql(text, model);
        CURRENT.with(|c| c.borrow_mut().take());
        Rendering {
            sql,
            config: CONFIGURED.with(|c| std::mem::take(&mut *c.borrow_mut())),
            missed: MISSED.with(|m| std::mem::take(&mut *m.borrow_mut())),
            queried: QUERIED.with(|q| std::mem::take(&mut *q.borrow_mut())),
            referenced: REFERENCED.with(|r| std::mem::take(&mut *r.borrow_mut())),
            ran_query: QUERY_RAN.with(|r| r.replace(false)),
        }
    }

    fn render_sql(&self, text: &str, model: Value) -> Rendered {
        let text = mutable_sets(text);
        let tmpl = self
            .env
            .template_from_str(&text)
            .map_err(|e| format!("the Jinja does not parse: {}", short_error(&e)))?;
        let mut lenient: BTreeMap<String, Value> = BTreeMap::new();
        for var in tmpl.undeclared_variables(false) {
            if self.shared.globals.contains(&var) || CONTEXT_KEYS.contains(&var.as_str()) {
                continue;
            }
            let v = Value::from_object(Lenient { name: var.clone() });
            lenient.insert(var, v);
        }
        let all = merge_maps([Value::from(lenient), model]);
        tmpl.render(all).map_err(|e| {
            if e.kind() == ErrorKind::OutOfFuel {
                format!(
                    "the Jinja does not render: it took more than its budget of {FUEL} steps \
                     (a loop or a recursion that does not end?)"
                )
            } else {
                format!("the Jinja does not render: {}", short_error(&e))
            }
        })
    }
}

#[cfg(test)]
mod tests;
