//! A deterministic synthetic dbt project: sources with security-annotated contact columns,
//! staging models, then layers of models that join, aggregate, window and union each
//! other through CTEs, and exposures (some of them advertising sinks). Same arguments →
//! same bytes.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use super::Rng;

/// What was written, for reports.
#[derive(Debug, Default, Clone)]
pub struct DbtStats {
    pub files: usize,
    pub bytes: usize,
    pub sources: usize,
    pub models: usize,
    pub exposures: usize,
}

/// Source tables: name and columns. Every table has `account_id` (or `id` for accounts).
const SOURCES: [(&str, &[&str]); 5] = [
    (
        "accounts",
        &[
            "id",
            "email",
            "phone_number",
            "recovery_email",
            "country",
            "created_at",
        ],
    ),
    (
        "orders",
        &["id", "account_id", "amount", "status", "ordered_at"],
    ),
    (
        "events",
        &["id", "account_id", "event_type", "campaign", "occurred_at"],
    ),
    (
        "sessions",
        &["id", "account_id", "login_ip", "device", "started_at"],
    ),
    (
        "subscriptions",
        &["id", "account_id", "plan", "tier", "renewed_at"],
    ),
];

/// Columns collected to secure the account; annotated with a security purpose.
const SECURITY_COLUMNS: [&str; 3] = ["phone_number", "recovery_email", "login_ip"];

/// The project's macros, which transforms call: a dispatched one, one with a default
/// argument and one that loops, as real projects' macros do.
const MACROS: &str = "{% macro hash_contact(col) %}{{ return(adapter.dispatch('hash_contact', 'generated')(col)) }}{% endmacro %}

{% macro default__hash_contact(col) %}sha2(lower({{ col }}), 256){% endmacro %}

{% macro null_safe(col, fallback='null') %}coalesce({{ col }}, {{ fallback }}){% endmacro %}

{% macro not_null_filter(alias, cols) %}{% for c in cols %}{{ alias }}.{{ c }} is not null{% if not loop.last %} and {% endif %}{% endfor %}{% endmacro %}
";

/// Joins keep models readable: at most this many output columns.
const MAX_COLUMNS: usize = 14;

struct Model {
    name: String,
    /// Output columns; the first is always `account_id`.
    columns: Vec<String>,
}

/// Writes a project of `models` models (staging included) under `out`.
pub fn generate(models: usize, seed: u64, out: &Path) -> io::Result<DbtStats> {
    let mut rng = Rng::new(seed);
    let mut stats = DbtStats::default();
    let mut written = super::Writer::new(out);
    let mut write = |rel: &str, text: &str| written.write(rel, text);
    write(
        "dbt_project.yml",
        "name: generated\nversion: '1.0.0'\nprofile: generated\nmodel-paths: [models]\nvars:\n  start_date: '2020-01-01'\n",
    )?;
    write("models/staging/src_app.yml", &sources_yaml())?;
    write("macros/generated.sql", MACROS)?;

    let mut built: Vec<Model> = Vec::new();
    for (table, columns) in SOURCES {
        let name = format!("stg_app__{table}");
        let (sql, cols) = staging(table, columns);
        write(&format!("models/staging/{name}.sql"), &sql)?;
        built.push(Model {
            name,
            columns: cols,
        });
    }
    while built.len() < models {
        let i = built.len();
        let name = format!("m{i:04}");
        let (sql, columns) = match rng.range(0, 10) {
            0..=3 => join(&mut rng, &built),
            4..=5 => transform(&mut rng, &built),
            6 => aggregate(&mut rng, &built),
            7..=8 => window(&mut rng, &built),
            _ => union(&mut rng, &built),
        };
        let dir = ["marts", "intermediate", "audiences"][i % 3];
        write(&format!("models/{dir}/{name}.sql"), &sql)?;
        if i.is_multiple_of(4) {
            write(
                &format!("models/{dir}/{name}.yml"),
                &model_yaml(&name, &columns),
            )?;
        }
        built.push(Model { name, columns });
    }
    let exposures = exposures_yaml(&mut rng, &built);
    write("models/exposures.yml", &exposures.0)?;
    stats.sources = SOURCES.len();
    stats.models = built.len();
    stats.exposures = exposures.1;
    (stats.files, stats.bytes) = (written.files, written.bytes);
    Ok(stats)
}

fn sources_yaml() -> String {
    let mut y = String::from(
        "version: 2\n\nsources:\n  - name: app\n    schema: raw_app\n    meta:\n      purposes: [essential.service.operations]\n    tables:\n",
    );
    for (table, columns) in SOURCES {
        let _ = writeln!(y, "      - name: {table}\n        columns:");
        for c in columns.iter() {
            let _ = writeln!(y, "          - name: {c}");
            if SECURITY_COLUMNS.contains(c) {
                let _ = writeln!(
                    y,
                    "            config:\n              meta:\n                purposes: [essential.service.authentication]"
                );
            }
            if *c == "id" {
                let _ = writeln!(y, "            data_tests: [unique, not_null]");
            }
        }
    }
    y
}

fn staging(table: &str, columns: &[&str]) -> (String, Vec<String>) {
    let mut sql = format!(
        "with source as (\n    select * from {{{{ source('app', '{table}') }}}}\n),\n\nrenamed as (\n    select\n"
    );
    let mut out = Vec::new();
    for (k, c) in columns.iter().enumerate() {
        let sep = if k + 1 == columns.len() { "" } else { "," };
        let (expr, name) = match (*c, table) {
            ("id", "accounts") => ("id".to_string(), "account_id".to_string()),
            ("id", _) => (
                "id".to_string(),
                format!("{}_id", &table[..table.len() - 1]),
            ),
            (c, _) if c.contains("email") => (format!("lower(trim({c}))"), c.to_string()),
            (c, _) if c.ends_with("_at") => (format!("cast({c} as timestamp)"), c.to_string()),
            (c, _) => (c.to_string(), c.to_string()),
        };
        let _ = writeln!(sql, "        {expr} as {name}{sep}");
        out.push(name);
    }
    if table == "accounts" {
        sql.push_str("    from source\n    where id is not null\n)\n\nselect * from renamed\n");
    } else {
        sql.push_str("    from source\n)\n\nselect * from renamed\n");
    }
    // The accounts' key comes first, as every other model expects.
    out.sort_by_key(|c| c != "account_id");
    (sql, out)
}

/// An upstream model, biased towards recent ones so chains get deep.
fn upstream<'a>(rng: &mut Rng, built: &'a [Model]) -> &'a Model {
    let n = built.len();
    if rng.chance(0.7) {
        &built[rng.range(n.saturating_sub(20), n)]
    } else {
        &built[rng.range(0, n)]
    }
}

/// A column other than the key, when there is one.
fn non_key(rng: &mut Rng, m: &Model) -> String {
    match m.columns.len() {
        1 => m.columns[0].clone(),
        n => m.columns[rng.range(1, n)].clone(),
    }
}

fn header(rng: &mut Rng) -> &'static str {
    match rng.range(0, 3) {
        0 => "{{ config(materialized='table') }}\n\n",
        1 => "{{\n    config(\n        materialized='incremental',\n        unique_key='account_id'\n    )\n}}\n\n",
        _ => "",
    }
}

fn incremental_filter(rng: &mut Rng, alias: &str) -> String {
    if rng.chance(0.3) {
        format!(
            "\n{{% if is_incremental() %}}\n  and {alias}.account_id > (select max(account_id) from {{{{ this }}}})\n{{% endif %}}"
        )
    } else {
        String::new()
    }
}

fn join(rng: &mut Rng, built: &[Model]) -> (String, Vec<String>) {
    let left = upstream(rng, built);
    let right = upstream(rng, built);
    let mut sql = header(rng).to_string();
    let _ = write!(
        sql,
        "with l as (\n    select * from {{{{ ref('{}') }}}}\n),\n\nr as (\n    select * from {{{{ ref('{}') }}}}\n)\n\nselect\n",
        left.name, right.name
    );
    let take = rng.range(1, 4).min(right.columns.len() - 1);
    let picked: Vec<&String> = right.columns.iter().skip(1).take(take).collect();
    let mut columns: Vec<String>;
    let mut items: Vec<String>;
    if left.columns.len() + picked.len() <= MAX_COLUMNS {
        // Small enough: `l.*`, which lineage expands from the upstream columns.
        columns = left.columns.clone();
        items = vec!["l.*".into()];
    } else {
        columns = left.columns[..MAX_COLUMNS - picked.len()].to_vec();
        items = columns.iter().map(|c| format!("l.{c}")).collect();
    }
    for c in picked {
        let name = if columns.contains(c) {
            format!("r_{c}")
        } else {
            c.clone()
        };
        if !columns.contains(&name) {
            items.push(format!("r.{c} as {name}"));
            columns.push(name);
        }
    }
    let kind = *rng.pick(&["left join", "inner join", "join"]);
    let _ = write!(
        sql,
        "    {}\nfrom l\n{kind} r\n    on l.account_id = r.account_id\nwhere l.account_id is not null{}\n",
        items.join(",\n    "),
        incremental_filter(rng, "l")
    );
    (sql, columns)
}

fn transform(rng: &mut Rng, built: &[Model]) -> (String, Vec<String>) {
    let up = upstream(rng, built);
    let mut sql = header(rng).to_string();
    sql.push_str("select\n");
    let mut columns = Vec::new();
    for (k, c) in up.columns.iter().enumerate() {
        let sep = if k == 0 { "" } else { ",\n" };
        let expr = if c.contains("email") || c.contains("phone") {
            format!("{{{{ hash_contact('{c}') }}}} as {c}")
        } else if k > 0 && rng.chance(0.3) {
            format!("{{{{ null_safe('{c}') }}}} as {c}")
        } else {
            c.clone()
        };
        let _ = write!(sql, "{sep}    {expr}");
        columns.push(c.clone());
    }
    let _ = write!(
        sql,
        "\nfrom {{{{ ref('{}') }}}} as src\nwhere {{{{ not_null_filter('src', ['account_id']) }}}}\n  and '{{{{ var(\"start_date\") }}}}' <= current_date{}\n",
        up.name,
        incremental_filter(rng, "src")
    );
    (sql, columns)
}

fn aggregate(rng: &mut Rng, built: &[Model]) -> (String, Vec<String>) {
    let up = upstream(rng, built);
    let metric = non_key(rng, up);
    let sql = format!(
        "select\n    account_id,\n    count(*) as row_count,\n    max({metric}) as last_{metric}\nfrom {{{{ ref('{}') }}}}\ngroup by account_id\nhaving count(*) > 0\n",
        up.name
    );
    (
        sql,
        vec![
            "account_id".into(),
            "row_count".into(),
            format!("last_{metric}"),
        ],
    )
}

fn window(rng: &mut Rng, built: &[Model]) -> (String, Vec<String>) {
    let up = upstream(rng, built);
    let order = non_key(rng, up);
    let sql = format!(
        "with ranked as (\n    select\n        *,\n        row_number() over (partition by account_id order by {order} desc) as rank_in_account\n    from {{{{ ref('{}') }}}}\n)\n\nselect * from ranked\nqualify rank_in_account <= 3\n",
        up.name
    );
    let mut columns = up.columns.clone();
    if !columns.iter().any(|c| c == "rank_in_account") {
        columns.push("rank_in_account".into());
    }
    (sql, columns)
}

fn union(rng: &mut Rng, built: &[Model]) -> (String, Vec<String>) {
    let a = upstream(rng, built);
    let b = upstream(rng, built);
    let shared: Vec<&String> = a.columns.iter().filter(|c| b.columns.contains(c)).collect();
    let list = shared
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "select {list} from {{{{ ref('{}') }}}}\nunion all\nselect {list} from {{{{ ref('{}') }}}}\n",
        a.name, b.name
    );
    (sql, shared.into_iter().cloned().collect())
}

fn model_yaml(name: &str, columns: &[String]) -> String {
    let mut y = format!(
        "version: 2\n\nmodels:\n  - name: {name}\n    description: Generated model {name}.\n    columns:\n"
    );
    for c in columns {
        let _ = writeln!(y, "      - name: {c}\n        description: The {c} column.");
        if c == "account_id" {
            let _ = writeln!(y, "        data_tests: [not_null]");
        }
    }
    y
}

/// Exposures over the last models: every fifth one an advertising audience sync.
fn exposures_yaml(rng: &mut Rng, built: &[Model]) -> (String, usize) {
    let mut y = String::from("version: 2\n\nexposures:\n");
    let count = (built.len() / 50).max(1);
    for k in 0..count {
        let m = &built[rng.range(built.len() / 2, built.len())];
        let uses = if k % 5 == 0 {
            "marketing.advertising.third_party.targeted"
        } else {
            "analytics.reporting"
        };
        let _ = writeln!(
            y,
            "  - name: exposure_{k:03}\n    type: application\n    owner:\n      name: Growth\n    depends_on:\n      - ref('{}')\n    meta:\n      uses: [{uses}]",
            m.name
        );
    }
    (y, count)
}

/// A dbt project of property files only, for timing how they are read: `files` files of
/// three models each, with described, tested and annotated columns (both `meta`
/// layouts), the sources and exposures of [`generate`], and no SQL. Same arguments →
/// same bytes.
pub fn properties(files: usize, seed: u64, out: &Path) -> io::Result<DbtStats> {
    let mut rng = Rng::new(seed);
    let mut stats = DbtStats::default();
    let mut written = super::Writer::new(out);
    let mut write = |rel: &str, text: &str| written.write(rel, text);
    write(
        "dbt_project.yml",
        "name: generated\nversion: '1.0.0'\nprofile: generated\nmodel-paths: [models]\n",
    )?;
    write("models/staging/src_app.yml", &sources_yaml())?;
    let mut built: Vec<Model> = Vec::new();
    for f in 0..files.saturating_sub(3) {
        let mut y = String::from("version: 2\n\nmodels:\n");
        for k in 0..3 {
            let name = format!("p{f:05}_{k}");
            let mut columns = vec!["account_id".to_string()];
            for _ in 0..rng.range(4, MAX_COLUMNS) {
                let table = rng.pick(&SOURCES).1;
                let c = format!("{}_{}", rng.pick(table), columns.len());
                columns.push(c);
            }
            let _ = writeln!(
                y,
                "  - name: {name}\n    description: \"Generated model {name}: {} columns.\"\n    config:\n      materialized: table\n      tags: [generated, layer_{}]\n    columns:",
                columns.len(),
                f % 4
            );
            for (j, c) in columns.iter().enumerate() {
                let _ = writeln!(y, "      - name: {c}\n        description: The {c} column.");
                match (j, rng.range(0, 6)) {
                    (0, _) => {
                        let _ = writeln!(y, "        data_tests: [not_null, unique]");
                    }
                    (_, 0) => {
                        let _ = writeln!(
                            y,
                            "        meta:\n          purposes: [essential.service.authentication]\n          categories: [user.contact.phone_number]"
                        );
                    }
                    (_, 1) => {
                        let _ = writeln!(
                            y,
                            "        config:\n          meta:\n            categories: [user.contact.email]"
                        );
                    }
                    _ => {}
                }
            }
            built.push(Model { name, columns });
        }
        write(
            &format!("models/{}/props_{f:05}.yml", ["marts", "audiences"][f % 2]),
            &y,
        )?;
    }
    let exposures = exposures_yaml(&mut rng, &built);
    write("models/exposures.yml", &exposures.0)?;
    stats.sources = SOURCES.len();
    stats.models = built.len();
    stats.exposures = exposures.1;
    (stats.files, stats.bytes) = (written.files, written.bytes);
    Ok(stats)
}
