//! The rest of what dbt's Jinja context holds at compile time, given statically and
//! without side effects: `config`, `model`, `log`, `exceptions` (never raised),
//! `run_query`/`statement` (no result), `modules.datetime`/`modules.re`, `api.Relation`,
//! and the Python methods of strings, lists and dicts that dbt's templates call.

use std::sync::{Arc, Mutex};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

use super::builtins::{arg, builtin, split_args, Lenient, Relation};
use super::render::{record_config, record_meta};

/// `config`: `config(...)` renders nothing; `config.get(key, default)` is the default.
#[derive(Debug)]
pub(super) struct Config;

impl Object for Config {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        // The relation the model builds, for SQL that names it without `ref()`.
        let (_, kw) = split_args(args);
        for (key, value) in kw {
            if key == "meta" {
                record_meta(&value);
            }
            if let Some(s) = value.as_str().map(str::trim).filter(|s| !s.is_empty()) {
                record_config(&key, s);
            }
        }
        Ok(Value::from(""))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (pos, kw) = split_args(args);
        Ok(match method {
            "get" | "require" => arg(&pos, &kw, 1, "default").unwrap_or(Value::from(())),
            _ => Value::from(""),
        })
    }
}

/// A column as `adapter.get_columns_in_relation` returns it.
#[derive(Debug)]
pub(super) struct Column {
    pub(super) name: String,
}

impl Object for Column {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "name" | "column" | "quoted" => Value::from(self.name.clone()),
            "data_type" | "dtype" => Value::from("varchar"),
            "char_size" | "numeric_precision" | "numeric_scale" => Value::from(()),
            _ => return None,
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        Ok(match method {
            "is_string" => Value::from(true),
            m if m.starts_with("is_") => Value::from(false),
            _ => Value::from(self.name.clone()),
        })
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// `model`: the node being rendered.
pub(super) fn model(project: &str, name: &str) -> Value {
    let mut m = std::collections::BTreeMap::new();
    for (k, v) in [
        ("name", name.to_string()),
        ("alias", name.to_string()),
        ("unique_id", format!("model.{project}.{name}")),
        ("package_name", project.to_string()),
        ("resource_type", "model".to_string()),
    ] {
        m.insert(k.to_string(), Value::from(v));
    }
    m.insert(
        "config".to_string(),
        Value::from(std::collections::BTreeMap::<String, Value>::new()),
    );
    Value::from(m)
}

/// A list templates may change (`append`, `extend`, …), as Python's.
#[derive(Debug, Default)]
pub(super) struct MutList(Mutex<Vec<Value>>);

impl MutList {
    fn items(&self) -> Vec<Value> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Object for MutList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.0.lock().ok()?;
        let i = i64::try_from(key.clone()).ok()?;
        let i = if i < 0 { items.len() as i64 + i } else { i };
        items.get(usize::try_from(i).ok()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Iter(Box::new(self.items().into_iter()))
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        self.0.lock().ok().map(|v| v.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let mut items = self
            .0
            .lock()
            .map_err(|_| Error::from(ErrorKind::InvalidOperation))?;
        // Bounded like everything else a template builds.
        if items.len() > 1_000_000 {
            return Err(Error::from(ErrorKind::OutOfFuel));
        }
        Ok(match method {
            "append" => {
                items.push(args.first().cloned().unwrap_or_default());
                Value::from(())
            }
            "extend" => {
                if let Some(Ok(it)) = args.first().map(|a| a.try_iter()) {
                    items.extend(it.take(1_000_000));
                }
                Value::from(())
            }
            "insert" => {
                let at = args
                    .first()
                    .and_then(|a| usize::try_from(a.clone()).ok())
                    .unwrap_or(0)
                    .min(items.len());
                items.insert(at, args.get(1).cloned().unwrap_or_default());
                Value::from(())
            }
            "pop" => {
                let at = args.first().and_then(|a| usize::try_from(a.clone()).ok());
                match at {
                    Some(i) if i < items.len() => items.remove(i),
                    Some(_) => Value::from(()),
                    None => items.pop().unwrap_or_default(),
                }
            }
            "remove" => {
                if let Some(p) = args.first().and_then(|a| items.iter().position(|i| i == a)) {
                    items.remove(p);
                }
                Value::from(())
            }
            "index" => Value::from(
                args.first()
                    .and_then(|a| items.iter().position(|i| i == a))
                    .map_or(-1, |p| p as i64),
            ),
            "count" => Value::from(
                args.first()
                    .map_or(0, |a| items.iter().filter(|i| *i == a).count()),
            ),
            "copy" => Value::from(items.clone()),
            "reverse" => {
                items.reverse();
                Value::from(())
            }
            "sort" => {
                items.sort();
                Value::from(())
            }
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        })
    }
}

/// A dict templates may change (`update`, `pop`, …), as Python's.
#[derive(Debug, Default)]
pub(super) struct MutMap(Mutex<Vec<(Value, Value)>>);

impl MutMap {
    fn entries(&self) -> Vec<(Value, Value)> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    fn set(items: &mut Vec<(Value, Value)>, k: Value, v: Value) {
        match items.iter_mut().find(|(key, _)| *key == k) {
            Some(e) => e.1 = v,
            None => items.push((k, v)),
        }
    }
}

impl Object for MutMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.0.lock().ok()?;
        items.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys: Vec<Value> = self.entries().into_iter().map(|(k, _)| k).collect();
        Enumerator::Iter(Box::new(keys.into_iter()))
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        self.0.lock().ok().map(|v| v.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let mut items = self
            .0
            .lock()
            .map_err(|_| Error::from(ErrorKind::InvalidOperation))?;
        if items.len() > 1_000_000 {
            return Err(Error::from(ErrorKind::OutOfFuel));
        }
        Ok(match method {
            "update" => {
                for a in args {
                    if let Ok(keys) = a.try_iter() {
                        for k in keys {
                            let v = a.get_item(&k).unwrap_or_default();
                            let k = if a.is_kwargs() { k } else { k.clone() };
                            MutMap::set(&mut items, k, v);
                        }
                    }
                }
                Value::from(())
            }
            "pop" => {
                let key = args.first().cloned().unwrap_or_default();
                match items.iter().position(|(k, _)| *k == key) {
                    Some(p) => items.remove(p).1,
                    None => args.get(1).cloned().unwrap_or_default(),
                }
            }
            "setdefault" => {
                let key = args.first().cloned().unwrap_or_default();
                match items.iter().find(|(k, _)| *k == key) {
                    Some((_, v)) => v.clone(),
                    None => {
                        let v = args.get(1).cloned().unwrap_or(Value::from(()));
                        items.push((key, v.clone()));
                        v
                    }
                }
            }
            "get" => {
                let key = args.first().cloned().unwrap_or_default();
                items
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| args.get(1).cloned().unwrap_or(Value::from(())))
            }
            "items" => Value::from(
                items
                    .iter()
                    .map(|(k, v)| Value::from(vec![k.clone(), v.clone()]))
                    .collect::<Vec<_>>(),
            ),
            "keys" => Value::from(items.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()),
            "values" => Value::from(items.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>()),
            "copy" => Value::from_object(MutMap(Mutex::new(items.clone()))),
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        })
    }
}

/// `__mut(x)`: a list or dict literal that the template may change.
fn b_mut(_state: &State, args: &[Value]) -> Value {
    b_mut_args(args)
}

/// `exceptions`: what would stop dbt does not stop the render, which goes on to read
/// what the model would be.
#[derive(Debug)]
struct Exceptions;

impl Object for Exceptions {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        _method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        Ok(Value::from(""))
    }
}

/// A fixed instant (the Unix epoch): `run_started_at`, `modules.datetime.datetime.now()`.
#[derive(Debug)]
struct Instant;

impl Object for Instant {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        Ok(match method {
            "strftime" => {
                let fmt = args.first().map(|a| a.to_string()).unwrap_or_default();
                let mut out = String::new();
                let mut chars = fmt.chars();
                while let Some(c) = chars.next() {
                    if c != '%' {
                        out.push(c);
                        continue;
                    }
                    out.push_str(match chars.next() {
                        Some('Y') => "1970",
                        Some('y') => "70",
                        Some('m' | 'd') => "01",
                        Some('H' | 'M' | 'S') => "00",
                        Some('j') => "001",
                        Some('z') => "+0000",
                        Some('%') => "%",
                        _ => "",
                    });
                }
                Value::from(out)
            }
            "isoformat" => Value::from("1970-01-01T00:00:00"),
            "date" | "replace" | "astimezone" => Value::from_object(Instant),
            _ => Value::from_object(Instant),
        })
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "year" => Value::from(1970),
            "month" | "day" => Value::from(1),
            "hour" | "minute" | "second" => Value::from(0),
            _ => return None,
        })
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("1970-01-01 00:00:00")
    }
}

/// `modules.datetime`: its classes answer with the fixed instant.
#[derive(Debug)]
struct DateTimeModule;

impl Object for DateTimeModule {
    fn get_value(self: &Arc<Self>, _key: &Value) -> Option<Value> {
        Some(Value::from_object(DateTimeModule))
    }

    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, _args: &[Value]) -> Result<Value, Error> {
        Ok(Value::from_object(Instant))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        _method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        Ok(Value::from_object(Instant))
    }
}

/// `modules.re`, on Rust's regex engine (no look-around or back-references).
#[derive(Debug)]
struct ReModule;

fn regex_of(v: Option<&Value>) -> Result<regex::Regex, Error> {
    let pattern = v.map(|p| p.to_string()).unwrap_or_default();
    regex::RegexBuilder::new(&pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

impl Object for ReModule {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (pos, kw) = split_args(args);
        let text = |i: usize| pos.get(i).map(|v| v.to_string()).unwrap_or_default();
        let _ = kw;
        Ok(match method {
            "compile" | "escape" => pos.first().cloned().unwrap_or_default(),
            "search" | "match" | "fullmatch" => {
                let re = regex_of(pos.first())?;
                let s = text(1);
                let found = re.captures(&s).filter(|c| {
                    let m = c.get(0).map_or((0, 0), |m| (m.start(), m.end()));
                    match method {
                        "match" => m.0 == 0,
                        "fullmatch" => m.0 == 0 && m.1 == s.len(),
                        _ => true,
                    }
                });
                match found {
                    Some(c) => Value::from(
                        c.iter()
                            .map(|g| g.map_or(Value::from(()), |g| Value::from(g.as_str())))
                            .collect::<Vec<_>>(),
                    ),
                    None => Value::from(()),
                }
            }
            "findall" => {
                let re = regex_of(pos.first())?;
                let s = text(1);
                Value::from(
                    re.find_iter(&s)
                        .map(|m| Value::from(m.as_str()))
                        .collect::<Vec<_>>(),
                )
            }
            "sub" => {
                let re = regex_of(pos.first())?;
                let rep = text(1).replace('\\', "$");
                Value::from(re.replace_all(&text(2), rep.as_str()).into_owned())
            }
            "split" => {
                let re = regex_of(pos.first())?;
                Value::from(re.split(&text(1)).map(Value::from).collect::<Vec<Value>>())
            }
            _ => Value::from(()),
        })
    }
}

/// `api.Relation.create(database=…, schema=…, identifier=…)`.
#[derive(Debug)]
struct RelationApi;

impl Object for RelationApi {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        _method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (pos, kw) = split_args(args);
        let part = |i: usize, n: &str| {
            arg(&pos, &kw, i, n)
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        Ok(Value::from_object(Relation {
            key: None,
            database: part(0, "database"),
            schema: part(1, "schema"),
            identifier: part(2, "identifier"),
        }))
    }
}

fn namespace(entries: Vec<(&str, Value)>) -> Value {
    Value::from(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<std::collections::BTreeMap<_, _>>(),
    )
}

/// `{% call statement('x', fetch_result=True) %}select …{% endcall %}`: a query whose
/// result `load_result('x')` gives, at run time only.
#[derive(Debug)]
struct Statement;

impl Object for Statement {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (pos, kw) = split_args(args);
        let fetch = arg(&pos, &kw, 1, "fetch_result").is_some_and(|v| v.is_true());
        let body = kw.into_iter().find(|(k, _)| k == "caller").map(|(_, c)| c);
        if let Some(body) = body.filter(|_| fetch) {
            let sql = body.call(state, &[])?.to_string();
            super::render::record_query(super::deps_of(&sql));
        }
        Ok(Value::from(""))
    }
}

pub(super) fn add_globals(env: &mut Environment<'static>) {
    env.add_global("__mut", builtin(b_mut));
    env.add_global("log", builtin(|_, _| Value::from("")));
    env.add_global("print", builtin(|_, _| Value::from("")));
    env.add_global(
        "run_query",
        builtin(|_, args| {
            let sql = args.first().map(|v| v.to_string()).unwrap_or_default();
            super::render::record_query(super::deps_of(&sql));
            Value::from(())
        }),
    );
    env.add_global("load_result", builtin(|_, _| Value::from(())));
    env.add_global("statement", Value::from_object(Statement));
    env.add_global("set_sql_header", builtin(|_, _| Value::from("")));
    env.add_global("exceptions", Value::from_object(Exceptions));
    env.add_global("run_started_at", Value::from_object(Instant));
    env.add_global(
        "invocation_id",
        Value::from("00000000-0000-0000-0000-000000000000"),
    );
    env.add_global(
        "modules",
        namespace(vec![
            ("datetime", Value::from_object(DateTimeModule)),
            ("re", Value::from_object(ReModule)),
            (
                "pytz",
                Value::from_object(Lenient {
                    name: "modules.pytz".into(),
                }),
            ),
        ]),
    );
    env.add_global(
        "api",
        namespace(vec![
            ("Relation", Value::from_object(RelationApi)),
            (
                "Column",
                Value::from_object(Lenient {
                    name: "api.Column".into(),
                }),
            ),
        ]),
    );
    env.add_global(
        "flags",
        namespace(vec![
            ("FULL_REFRESH", Value::from(false)),
            ("WHICH", Value::from("compile")),
        ]),
    );
    env.add_global(
        "graph",
        namespace(vec![
            ("nodes", namespace(Vec::new())),
            ("sources", namespace(Vec::new())),
        ]),
    );
    env.add_global(
        "zip",
        builtin(|_, args| {
            let lists: Vec<Vec<Value>> = args
                .iter()
                .map(|a| a.try_iter().map(|i| i.collect()).unwrap_or_default())
                .collect();
            let n = lists.iter().map(Vec::len).min().unwrap_or(0);
            Value::from(
                (0..n)
                    .map(|i| Value::from(lists.iter().map(|l| l[i].clone()).collect::<Vec<_>>()))
                    .collect::<Vec<_>>(),
            )
        }),
    );
    env.add_global(
        "set",
        builtin(|_, args| {
            let mut out: Vec<Value> = Vec::new();
            if let Some(Ok(it)) = args.first().map(|a| a.try_iter()) {
                for v in it {
                    if !out.contains(&v) {
                        out.push(v);
                    }
                }
            }
            Value::from_object(MutList(Mutex::new(out)))
        }),
    );
}

fn split_str(s: &str, sep: Option<&str>, max: Option<usize>) -> Vec<Value> {
    let max = max.unwrap_or(usize::MAX);
    match sep {
        Some(sep) if !sep.is_empty() => s
            .splitn(max.saturating_add(1), sep)
            .map(Value::from)
            .collect(),
        _ => s.split_whitespace().map(Value::from).collect(),
    }
}

/// Python's methods of strings, lists and dicts, as dbt's templates use them.
pub(super) fn unknown_method(
    _state: &mut State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let s = |i: usize| args.get(i).map(|a| a.to_string());
    if let Some(text) = value.as_str() {
        return Ok(match method {
            "lower" => Value::from(text.to_lowercase()),
            "upper" => Value::from(text.to_uppercase()),
            "strip" | "trim" => Value::from(match s(0) {
                Some(c) => text.trim_matches(|x| c.contains(x)).to_string(),
                None => text.trim().to_string(),
            }),
            "lstrip" => Value::from(text.trim_start().to_string()),
            "rstrip" => Value::from(text.trim_end().to_string()),
            "title" | "capitalize" => {
                let mut c = text.chars();
                Value::from(match c.next() {
                    Some(f) => f
                        .to_uppercase()
                        .chain(c.flat_map(char::to_lowercase))
                        .collect(),
                    None => String::new(),
                })
            }
            "split" => Value::from(split_str(
                text,
                s(0).as_deref(),
                args.get(1).and_then(|a| usize::try_from(a.clone()).ok()),
            )),
            "replace" => {
                Value::from(text.replace(&s(0).unwrap_or_default(), &s(1).unwrap_or_default()))
            }
            "startswith" => Value::from(text.starts_with(&s(0).unwrap_or_default())),
            "endswith" => Value::from(text.ends_with(&s(0).unwrap_or_default())),
            "find" => Value::from(
                text.find(&s(0).unwrap_or_default())
                    .map_or(-1, |i| i as i64),
            ),
            "count" => Value::from(text.matches(&s(0).unwrap_or_default()).count()),
            "join" => Value::from(
                args.first()
                    .and_then(|a| a.try_iter().ok())
                    .map(|it| it.map(|v| v.to_string()).collect::<Vec<_>>().join(text))
                    .unwrap_or_default(),
            ),
            "isdigit" | "isnumeric" => {
                Value::from(!text.is_empty() && text.chars().all(|c| c.is_ascii_digit()))
            }
            "isupper" => Value::from(
                text.chars().any(char::is_alphabetic) && !text.chars().any(char::is_lowercase),
            ),
            "islower" => Value::from(
                text.chars().any(char::is_alphabetic) && !text.chars().any(char::is_uppercase),
            ),
            "format" => {
                let (pos, kw) = split_args(args);
                let mut out = text.to_string();
                for (i, p) in pos.iter().enumerate() {
                    out = out.replace(&format!("{{{i}}}"), &p.to_string());
                    out = out.replacen("{}", &p.to_string(), 1);
                }
                for (k, v) in kw {
                    out = out.replace(&format!("{{{k}}}"), &v.to_string());
                }
                Value::from(out)
            }
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        });
    }
    match (value.kind(), method) {
        (ValueKind::Map, "items") => Ok(Value::from(
            value
                .try_iter()?
                .map(|k| {
                    let v = value.get_item(&k).unwrap_or_default();
                    Value::from(vec![k, v])
                })
                .collect::<Vec<_>>(),
        )),
        (ValueKind::Map, "keys") => Ok(Value::from(value.try_iter()?.collect::<Vec<_>>())),
        (ValueKind::Map, "values") => Ok(Value::from(
            value
                .try_iter()?
                .map(|k| value.get_item(&k).unwrap_or_default())
                .collect::<Vec<_>>(),
        )),
        (ValueKind::Map, "get") => {
            let v = args
                .first()
                .and_then(|k| value.get_item(k).ok())
                .filter(|v| !v.is_undefined());
            Ok(v.unwrap_or_else(|| args.get(1).cloned().unwrap_or(Value::from(()))))
        }
        (ValueKind::Map, "copy") | (ValueKind::Seq, "copy") => Ok(b_mut_value(value)),
        (ValueKind::Seq, "index") => {
            let mut it = value.try_iter()?;
            let a = args.first().cloned().unwrap_or_default();
            Ok(Value::from(
                it.position(|v| v == a).map_or(-1, |p| p as i64),
            ))
        }
        (ValueKind::Seq, "count") => {
            let a = args.first().cloned().unwrap_or_default();
            Ok(Value::from(value.try_iter()?.filter(|v| *v == a).count()))
        }
        // A list built by a filter or a literal we did not make changeable: the change
        // is lost, not the render.
        (ValueKind::Seq, "append" | "extend" | "insert" | "remove" | "sort" | "reverse")
        | (ValueKind::Map, "update") => Ok(Value::from(())),
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

fn b_mut_value(v: &Value) -> Value {
    b_mut_args(std::slice::from_ref(v))
}

fn b_mut_args(args: &[Value]) -> Value {
    let v = args.first().cloned().unwrap_or_default();
    match v.kind() {
        ValueKind::Seq | ValueKind::Map => {
            // Same as `__mut`, without a state.
            let entries: Vec<Value> = v.try_iter().map(|i| i.collect()).unwrap_or_default();
            if v.kind() == ValueKind::Seq {
                Value::from_object(MutList(Mutex::new(entries)))
            } else {
                Value::from_object(MutMap(Mutex::new(
                    entries
                        .into_iter()
                        .map(|k| {
                            let val = v.get_item(&k).unwrap_or_default();
                            (k, val)
                        })
                        .collect(),
                )))
            }
        }
        _ => v,
    }
}
