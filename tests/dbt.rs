//! dbt projects: the real corpus projects, an annotation overlay on a copy of one, and a
//! generated project for performance.

mod common;
#[path = "../examples/corpus/mod.rs"]
#[allow(dead_code)]
mod corpus;

use std::path::{Path, PathBuf};

use purposelint::check::{self, Options, Outcome};
use purposelint::finding::Severity;
use purposelint::model::LineageStatus;

fn run(path: &Path) -> Outcome {
    check::run(&Options::new(vec![path.to_path_buf()])).unwrap()
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/dbt")
}

/// Models (SQL files) of a run and how many of them fell back to conservative lineage.
fn coverage(o: &Outcome) -> (usize, usize) {
    let models = o
        .model
        .sources
        .files
        .iter()
        .filter(|f| f.path.extension().and_then(|e| e.to_str()) == Some("sql"))
        .count();
    (models, incomplete(o).len())
}

/// The lineage status of dbt model `name`.
fn status_of(o: &Outcome, name: &str) -> LineageStatus {
    let l = o.model.sql_lineage.iter().find(|l| l.name == name);
    l.unwrap_or_else(|| panic!("no model {name}")).status
}

/// The run's `incomplete-lineage` diagnostics.
fn incomplete(o: &Outcome) -> Vec<&purposelint::finding::Finding> {
    o.findings
        .iter()
        .filter(|f| f.rule == "incomplete-lineage")
        .collect()
}

#[test]
fn corpus_projects_parse_without_findings_and_with_column_lineage() {
    let root = corpus();
    if !root.exists() {
        eprintln!("corpus not found at {}; skipped", root.display());
        return;
    }
    let mut total = 0;
    let mut total_incomplete = 0;
    for project in [
        "jaffle-shop-classic",
        "dbt-metabase-sandbox",
        "dbt_klaviyo",
        "dbt_shopify",
    ] {
        let o = run(&root.join(project));
        let errors: Vec<_> = o
            .findings
            .iter()
            .filter(|f| f.severity > Severity::Info)
            .map(|f| format!("{} {}", f.rule, f.message))
            .collect();
        assert!(errors.is_empty(), "{project}: {errors:#?}");
        let (models, partial) = coverage(&o);
        assert!(models > 0, "{project}: no models found");
        for f in incomplete(&o) {
            eprintln!("  {project}: {}", f.message);
        }
        eprintln!(
            "{project}: {} of {models} models with full column lineage",
            models - partial
        );
        total += models;
        total_incomplete += partial;
    }
    let share = (total - total_incomplete) as f64 / total as f64;
    eprintln!(
        "corpus: {} of {total} models ({:.1}%) with full column lineage",
        total - total_incomplete,
        share * 100.0
    );
    assert!(share >= 0.95, "only {:.1}% of models", share * 100.0);
}

#[test]
fn security_phone_reaches_advertising_exposure_through_the_real_sql() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dbt/klaviyo");
    let o = run(&root);
    let flows = common::flows(&o);
    assert!(
        flows.contains(&common::t(
            "security-to-advertising",
            "klaviyo.person.phone_number",
            "facebook_custom_audiences"
        )),
        "{flows:#?}"
    );
    let f = o
        .findings
        .iter()
        .find(|f| {
            f.rule == "security-to-advertising"
                && f.flow.as_ref().unwrap().source.name == "klaviyo.person.phone_number"
        })
        .unwrap();
    let p = f.flow.as_ref().unwrap();
    let hops: Vec<(&str, &str)> = p
        .path
        .iter()
        .map(|h| (h.to.as_str(), h.step.as_str()))
        .collect();
    assert_eq!(
        hops,
        vec![
            (
                "stg_klaviyo__person_tmp.phone_number",
                "klaviyo/stg_klaviyo__person_tmp"
            ),
            (
                "stg_klaviyo__person.phone_number",
                "klaviyo/stg_klaviyo__person"
            ),
            ("klaviyo__persons.phone_number", "klaviyo/klaviyo__persons"),
            (
                "facebook_custom_audiences",
                "klaviyo/facebook_custom_audiences"
            ),
        ]
    );
    // Every hop through a model is located in that model's SQL, at a line that carries
    // the column (or the `*` that passes it through).
    for h in &p.path[..3] {
        let file = o.model.sources.get(h.location.file);
        let model = h.step.rsplit('/').next().unwrap();
        assert!(
            file.display.ends_with(&format!("{model}.sql")),
            "{} at {}",
            h.to,
            file.display
        );
        let line = file.line_text(h.location.span.start_pos.line);
        assert!(
            line.contains("phone_number") || line.contains('*') || line.contains("union"),
            "{} at {}:{}: {line}",
            h.to,
            file.display,
            h.location.span.start_pos.line
        );
    }
    let stg = &p.path[1];
    assert_eq!(stg.location.span.start_pos.line, 36);
    assert_eq!(
        o.model.sources.get(stg.location.file).line_text(36).trim(),
        "phone_number,"
    );
    let persons = &p.path[2];
    assert_eq!(
        o.model
            .sources
            .get(persons.location.file)
            .line_text(persons.location.span.start_pos.line)
            .trim(),
        "person.*,"
    );
    let sink = &p.path[3];
    assert!(o
        .model
        .sources
        .get(sink.location.file)
        .display
        .ends_with("exposures.yml"));
    assert!(o
        .findings
        .iter()
        .all(|f| f.severity != Severity::Error || f.rule.starts_with("security-")));
}

/// The benchmark's generated project (`cargo bench` times it): every model must get full
/// column lineage, and the security columns must reach the advertising exposures.
#[test]
fn generated_thousand_model_project_has_full_lineage() {
    let dir = tempfile::tempdir().unwrap();
    let stats = corpus::dbt::generate(1000, 1, dir.path()).unwrap();
    assert_eq!(stats.models, 1000);
    let o = run(dir.path());
    // Its macros (dispatched, looping, with defaults) render: every model is full.
    let l = o.summary.lineage.as_ref().unwrap();
    assert_eq!((l.models, l.full), (1000, 1000), "{l:?}");
    assert!(o
        .model
        .flows
        .iter()
        .any(|f| f.functions == ["sha2", "lower"]));
    let reached: Vec<_> = o
        .findings
        .iter()
        .filter(|f| f.rule == "security-to-advertising")
        .collect();
    assert!(!reached.is_empty());
    assert!(o
        .findings
        .iter()
        .all(|f| f.severity != Severity::Error || f.rule.starts_with("security-")));
}

#[test]
fn compiled_code_of_target_manifest_is_preferred() {
    let corpus = corpus();
    if !corpus.exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let project = corpus.join("jaffle-shop-classic");
    let mut files = Vec::new();
    for entry in walk(&project) {
        let rel = entry.strip_prefix(&project).unwrap().to_path_buf();
        files.push((rel, std::fs::read_to_string(&entry).unwrap()));
    }
    let written: Vec<(String, String)> = files
        .into_iter()
        .map(|(p, t)| {
            // A model whose Jinja does not render: only the manifest can give its lineage.
            let t = if p.ends_with("customers.sql") && !p.starts_with("models/staging") {
                format!("{{% if %}}\n{t}")
            } else {
                t
            };
            (p.to_string_lossy().into_owned(), t)
        })
        .collect();
    let refs: Vec<(&str, &str)> = written
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    common::write(dir.path(), &refs);
    let manifest =
        std::fs::read_to_string(corpus.join("manifests/manifest_jaffle_duckdb.json")).unwrap();
    std::fs::create_dir_all(dir.path().join("target")).unwrap();
    // The manifest is used only for files it was compiled from: give `customers` the
    // checksum of the file as written, as `dbt compile` would have.
    let mut json: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    for node in json["nodes"].as_object_mut().unwrap().values_mut() {
        let path = node["original_file_path"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if let Some((_, text)) = written.iter().find(|(p, _)| *p == path) {
            use sha2::Digest;
            let hex: String = sha2::Sha256::digest(text.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            node["checksum"] = serde_json::json!({"name": "sha256", "checksum": hex});
        }
    }
    std::fs::write(
        dir.path().join("target/manifest.json"),
        serde_json::to_string(&json).unwrap(),
    )
    .unwrap();
    let o = run(dir.path());
    let (models, incomplete) = coverage(&o);
    assert_eq!((models, incomplete), (5, 0), "{:#?}", o.findings);
    assert!(o.findings.is_empty(), "{:#?}", o.findings);
    let ltv = o.model.dataset_id("customers").unwrap();
    let f = o.model.field_in(ltv, "customer_lifetime_value").unwrap();
    let from: Vec<String> = o
        .model
        .flows
        .iter()
        .filter(|fl| fl.to == purposelint::model::Target::Field(f))
        .map(|fl| o.model.field_name(fl.from))
        .collect();
    assert!(
        from.contains(&"stg_payments.amount".to_string()),
        "{from:?}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn corpus_manifests_give_full_lineage_to_their_projects() {
    let corpus = corpus();
    if !corpus.exists() {
        return;
    }
    for (project, manifest) in [
        ("jaffle-shop-classic", "manifest_jaffle_duckdb.json"),
        ("jaffle-shop-classic", "manifest_jaffle_bigquery.json"),
        ("jaffle-shop-classic", "manifest_empty_columns.json"),
        ("dbt-metabase-sandbox", "dbt-metabase/manifest-v12.json"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let root = corpus.join(project);
        for p in walk(&root) {
            let to = dir.path().join(p.strip_prefix(&root).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&p, &to).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("target")).unwrap();
        std::fs::copy(
            corpus.join("manifests").join(manifest),
            dir.path().join("target/manifest.json"),
        )
        .unwrap();
        let o = run(dir.path());
        let (models, incomplete) = coverage(&o);
        eprintln!(
            "{project} with {manifest}: {} of {models} models with full column lineage",
            models - incomplete
        );
        assert_eq!(incomplete, 0, "{manifest}: {:#?}", o.findings);
        // These manifests were compiled from other versions of the projects' files: the
        // files are rendered instead, and that is said once.
        let rules: Vec<&str> = o.findings.iter().map(|f| f.rule.as_str()).collect();
        assert!(
            rules.iter().all(|r| *r == "stale-manifest") && rules.len() <= 1,
            "{manifest}: {:#?}",
            o.findings
        );
    }
}

#[test]
fn unparsable_model_falls_back_to_conservative_lineage_and_says_so() {
    let o = common::lint(&[
        ("dbt_project.yml", "name: p\n"),
        (
            "models/src.yml",
            "version: 2\nsources:\n  - name: app\n    tables:\n      - name: contacts\n        meta:\n          purposes: [essential.service.security]\n        columns:\n          - name: phone\n          - name: user_id\n",
        ),
        (
            "models/audience.sql",
            "select user_id, phone from {{ ref('broken') }}\n",
        ),
        (
            "models/broken.sql",
            "select phone,, user_id frm {{ source('app', 'contacts') }}\n",
        ),
        (
            "models/exposures.yml",
            "version: 2\nexposures:\n  - name: ads\n    type: application\n    owner: {name: x}\n    depends_on: [ref('audience')]\n    meta:\n      uses: [marketing.advertising]\n",
        ),
    ]);
    let info = incomplete(&o);
    assert_eq!(info.len(), 1, "{:#?}", o.findings);
    assert_eq!(info[0].severity, Severity::Info);
    assert!(info[0].message.contains("`broken`"), "{}", info[0].message);
    assert!(o
        .model
        .sources
        .get(info[0].location.file)
        .display
        .ends_with("broken.sql"));
    let flows = common::flows(&o);
    assert!(
        flows.contains(&common::t(
            "security-to-advertising",
            "app.contacts.phone",
            "ads"
        )),
        "{flows:#?}"
    );
}

/// A project whose only path from a 2FA phone to an advertising exposure runs through
/// `audience` (its SQL given), plus any other files.
fn leak_project(audience_sql: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![
        ("dbt_project.yml", "name: leak\nversion: '1.0'\n"),
        (
            "models/sources.yml",
            "version: 2\nsources:\n  - name: app\n    tables:\n      - name: security_contacts\n        columns:\n          - name: user_id\n          - name: phone_number\n            meta:\n              purposes: [essential.service.authentication]\n              categories: [user.contact.phone_number]\nexposures:\n  - name: ad_audience\n    type: application\n    owner: {name: Growth}\n    depends_on: [ref('audience')]\n    meta:\n      uses: [marketing.advertising.third_party.targeted]\n",
        ),
        ("models/audience.sql", audience_sql),
    ];
    files.extend_from_slice(extra);
    common::write(dir.path(), &files);
    dir
}

fn leaks(o: &Outcome) -> bool {
    common::flows(o)
        .iter()
        .any(|(_, from, to)| from == "app.security_contacts.phone_number" && to == "ad_audience")
}

#[test]
fn a_leak_through_a_model_that_does_not_parse_and_declares_no_columns_is_reported() {
    let dir = leak_project(
        "select phone_number from {{ source('app', 'security_contacts') }} where (\n",
        &[],
    );
    let o = run(dir.path());
    assert!(leaks(&o), "{:#?}", o.findings);
    assert!(!incomplete(&o).is_empty());
}

/// The upstream fields that flow into field `col` of dataset `ds`.
fn inputs_of(o: &Outcome, ds: &str, col: &str) -> Vec<String> {
    let m = &o.model;
    let d = m.dataset_id(ds).unwrap();
    let f = m.field_in(d, col).unwrap();
    let mut v: Vec<String> = m
        .flows
        .iter()
        .filter(|fl| fl.to == purposelint::model::Target::Field(f))
        .map(|fl| {
            let from = &m.fields[fl.from as usize];
            format!("{}.{}", m.dataset(from.dataset).name, from.name)
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn an_unresolved_column_falls_back_alone_and_keeps_the_leak() {
    // `mystery` names no column of the CTE: it alone reads every column in its scope.
    let dir = leak_project(
        "with c as (select user_id, phone_number from {{ source('app', 'security_contacts') }})\n\
         select\n    c.user_id,\n    upper(mystery) as segment\nfrom c\n",
        &[],
    );
    let o = run(dir.path());
    assert!(leaks(&o), "{:#?}", o.findings);
    assert_eq!(
        inputs_of(&o, "audience", "user_id"),
        ["app.security_contacts.user_id"]
    );
    assert_eq!(
        inputs_of(&o, "audience", "segment"),
        [
            "app.security_contacts.phone_number",
            "app.security_contacts.user_id"
        ]
    );
    let info = incomplete(&o);
    assert_eq!(info.len(), 1, "{:#?}", o.findings);
    let msg = &info[0].message;
    assert!(
        msg.contains("column `segment` fell back") && msg.contains("`mystery` (line 4)"),
        "{msg}"
    );
    assert_eq!(info[0].location.span.start_pos.line, 4);
    let l = &o.model.sql_lineage;
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].status, LineageStatus::Partial);
    let s = o.summary.lineage.as_ref().unwrap();
    assert_eq!((s.models, s.full, s.partial, s.fallback), (1, 0, 1, 0));
    assert_eq!(s.reasons.get("cannot resolve column"), Some(&1));
    assert_eq!(s.dialects.get("generic"), Some(&1));

    // The same figures in `--statistics` and the JSON summary.
    let bin = env!("CARGO_BIN_EXE_purposelint");
    let out = std::process::Command::new(bin)
        .args(["check", "--no-config", "--statistics"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("dbt models: 1; column lineage full 0 (0.0%), partial 1, fallback 0")
            && text.contains("parsed by dialect: generic 1"),
        "{text}"
    );
    let out = std::process::Command::new(bin)
        .args(["check", "--no-config", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let l = &json["summary"]["dbt_lineage"];
    assert_eq!(l["partial"], 1, "{json}");
    assert_eq!(l["reasons"]["cannot resolve column"], 1, "{json}");
}

#[test]
fn a_raw_relation_is_a_dataset_that_a_native_manifest_can_give_purposes() {
    // `RAW.Stripe.customers` is neither a ref(), a source() nor a CTE: the native
    // manifest's dataset of that name is what the model reads (case-insensitively).
    // `contacts` reads the model by its relation name (schema config + alias).
    let o = common::lint(&[
        ("dbt_project.yml", "name: p\n"),
        (
            "warehouse/raw.yaml",
            "kind: dataset\nname: raw.stripe.customers\nfields:\n  - name: id\n  - name: phone\n    purposes: [essential.service.authentication]\n    categories: [user.contact.phone_number]\n",
        ),
        (
            "models/props.yml",
            "version: 2\nmodels:\n  - name: stg_customers\n    config:\n      schema: staging\n      alias: customers_v2\nexposures:\n  - name: ads\n    type: application\n    owner: {name: x}\n    depends_on: [ref('audience')]\n    meta:\n      uses: [marketing.advertising.third_party.targeted]\n",
        ),
        (
            "models/stg_customers.sql",
            "select id, phone, unknown_col from RAW.Stripe.customers\n",
        ),
        (
            "models/audience.sql",
            "select c.id, c.phone, e.kind\nfrom analytics.staging.customers_v2 c\njoin raw.events.clicks e on e.customer_id = c.id\n",
        ),
    ]);
    let flows = common::flows(&o);
    assert!(
        flows.contains(&common::t(
            "security-to-advertising",
            "raw.stripe.customers.phone",
            "ads"
        )),
        "{flows:#?}\n{:#?}",
        o.findings
    );
    // `raw.events.clicks` is declared nowhere: an external dataset with the columns read.
    let m = &o.model;
    let clicks = m.dataset_id("raw.events.clicks").expect("external dataset");
    assert!(m.dataset(clicks).implicit);
    let mut cols: Vec<&str> = m.field_names(clicks).collect();
    cols.sort();
    assert_eq!(cols, ["customer_id", "kind"]);
    // The native dataset does not declare `unknown_col`: only that column falls back.
    let info: Vec<&str> = incomplete(&o).iter().map(|f| f.message.as_str()).collect();
    assert_eq!(info.len(), 1, "{info:#?}");
    assert!(info[0].contains("`unknown_col`"), "{}", info[0]);
    assert_eq!(
        inputs_of(&o, "stg_customers", "id"),
        ["raw.stripe.customers.id"]
    );
}

#[test]
fn a_model_is_addressable_by_the_relation_its_own_config_names() {
    // `audience` reads `stg_customers` only by the relation that the model's own
    // `config(schema=…, alias=…)` gives it; the leak goes through.
    let o = common::lint(&[
        ("dbt_project.yml", "name: p\n"),
        (
            "models/props.yml",
            "version: 2\nsources:\n  - name: auth\n    tables:\n      - name: users\n        columns:\n          - name: id\n          - name: phone\n            meta:\n              purposes: [essential.service.authentication]\n              categories: [user.contact.phone_number]\nexposures:\n  - name: ads\n    type: application\n    owner: {name: x}\n    depends_on: [ref('audience')]\n    meta:\n      uses: [marketing.advertising.third_party.targeted]\n",
        ),
        (
            "models/stg_customers.sql",
            "{{ config(materialized='table', schema='staging', alias='customers_v2') }}\nselect id, phone from {{ source('auth', 'users') }}\n",
        ),
        (
            "models/audience.sql",
            "select c.id, c.phone\nfrom analytics.staging.customers_v2 c\n",
        ),
    ]);
    let flows = common::flows(&o);
    assert!(
        flows.contains(&common::t(
            "security-to-advertising",
            "auth.users.phone",
            "ads"
        )),
        "{flows:#?}\n{:#?}",
        o.findings
    );
    assert_eq!(inputs_of(&o, "audience", "phone"), ["stg_customers.phone"]);

    // The schema from dbt_project.yml's folder config, the alias from the model: two
    // models share the alias `customers`, and only the schema tells them apart.
    let o = common::lint(&[
        (
            "dbt_project.yml",
            "name: p\nmodels:\n  p:\n    +materialized: view\n    staging:\n      +schema: staging\n    marts:\n      schema: marts\n",
        ),
        (
            "models/props.yml",
            "version: 2\nsources:\n  - name: auth\n    tables:\n      - name: users\n        columns:\n          - name: id\n          - name: phone\n",
        ),
        (
            "models/staging/stg_customers.sql",
            "{{ config(alias='customers') }}\nselect id, phone from {{ source('auth', 'users') }}\n",
        ),
        (
            "models/marts/dim_customers.sql",
            "{{ config(alias='customers') }}\nselect id, phone as phone from {{ ref('stg_customers') }}\n",
        ),
        ("models/audience.sql", "select c.phone from staging.customers c\n"),
    ]);
    assert_eq!(inputs_of(&o, "audience", "phone"), ["stg_customers.phone"]);
}

#[test]
fn a_seed_column_declared_in_a_property_file_is_located_there() {
    let o = common::lint(&[
        ("dbt_project.yml", "name: p\n"),
        ("seeds/contacts.csv", "id,phone\n1,555\n"),
        (
            "seeds/props.yml",
            "version: 2\nseeds:\n  - name: contacts\n    columns:\n      - name: phone\n        meta:\n          purposes: [essential.service.authentication]\n",
        ),
    ]);
    let m = &o.model;
    let ds = m.dataset_id("contacts").unwrap();
    let at = |c: &str| {
        let f = &m.fields[m.field_in(ds, c).unwrap() as usize];
        let file = &m.sources.get(f.loc.file).display;
        (
            file.rsplit('/').next().unwrap().to_string(),
            f.loc.span.start_pos.line,
        )
    };
    assert_eq!(at("phone"), ("props.yml".to_string(), 5));
    assert_eq!(at("id"), ("contacts.csv".to_string(), 1));
}

#[test]
fn the_configuration_names_the_dialect_or_the_profiles_folder() {
    // Without a known warehouse the generic dialect is tried first; the profile in
    // `ci/` (named by the configuration) says Snowflake; `dbt.dialect` wins over both.
    let dir = leak_project(
        "select user_id, phone_number from {{ source('app', 'security_contacts') }}\n",
        &[(
            "ci/profiles.yml",
            "leak:\n  target: ci\n  outputs:\n    ci:\n      type: snowflake\n      schema: x\n",
        )],
    );
    let bin = env!("CARGO_BIN_EXE_purposelint");
    let stats = |config: &str| {
        std::fs::write(dir.path().join("purposelint.yaml"), config).unwrap();
        let out = std::process::Command::new(bin)
            .args(["check", "--statistics"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let line = text.lines().find(|l| l.starts_with("parsed by dialect"));
        line.unwrap_or_else(|| panic!("{text}")).to_string()
    };
    assert_eq!(
        stats("max_file_size: 1MiB\n"),
        "parsed by dialect: generic 1"
    );
    assert_eq!(
        stats("dbt:\n  profiles_dir: ci\n"),
        "parsed by dialect: snowflake 1"
    );
    assert_eq!(
        stats("dbt:\n  profiles_dir: ci\n  dialect: duckdb\n"),
        "parsed by dialect: duckdb 1"
    );
}

#[test]
fn external_datasets_give_purposes_to_a_raw_relation() {
    let dir = leak_project("select phone from raw.legacy.phones\n", &[]);
    std::fs::write(
        dir.path().join("purposelint.yaml"),
        "external_datasets:\n  - name: 'raw.legacy.*'\n    purposes: [essential.service.authentication]\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_purposelint"))
        .args(["check", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = json["findings"].as_array().unwrap().iter().any(|f| {
        f["rule"] == "security-to-advertising" && f["source"]["field"] == "raw.legacy.phones.phone"
    });
    assert!(found, "{json:#}");
}

#[test]
fn an_exposure_may_share_a_model_name() {
    let dir = leak_project(
        "select phone_number from {{ source('app', 'security_contacts') }}\n",
        &[(
            "models/more.yml",
            "version: 2\nexposures:\n  - name: audience\n    type: application\n    owner: {name: x}\n    depends_on: [ref('audience')]\n    meta:\n      uses: [marketing.advertising]\n",
        )],
    );
    let o = run(dir.path());
    assert!(
        !o.findings.iter().any(|f| f.rule == "duplicate-definition"),
        "{:#?}",
        o.findings
    );
    assert!(common::flows(&o)
        .iter()
        .any(|(_, _, to)| to == "audience (exposure)"));
}

#[test]
fn a_leak_only_in_the_incremental_branch_is_reported() {
    let dir = leak_project(
        "select user_id from {{ source('app', 'security_contacts') }}\n\
         {% if is_incremental() %}where phone_number is not null{% endif %}\n",
        &[],
    );
    let o = run(dir.path());
    assert!(leaks(&o), "{:#?}", o.findings);
}

#[test]
fn a_stale_manifest_loses_to_the_current_sql() {
    // Compiled before the model was edited to read the phone.
    let manifest = r#"{"metadata": {"adapter_type": "postgres"}, "nodes": {"model.leak.audience": {
        "name": "audience", "original_file_path": "models/audience.sql",
        "checksum": {"name": "sha256", "checksum": "0000"},
        "compiled_code": "select user_id from \"ref:nothing\""}}, "sources": {}}"#;
    let dir = leak_project(
        "select user_id, phone_number from {{ source('app', 'security_contacts') }}\n",
        &[("target/manifest.json", manifest)],
    );
    let o = run(dir.path());
    assert!(leaks(&o), "{:#?}", o.findings);
    assert!(o.findings.iter().any(|f| f.rule == "stale-manifest"));
}

#[test]
fn sql_ignore_comment_on_a_hop_line_suppresses_and_reports_when_unused() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dbt/klaviyo");
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for entry in walk(&fixture) {
        let rel = entry
            .strip_prefix(&fixture)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        files.push((rel, std::fs::read_to_string(&entry).unwrap()));
    }
    let model = "models/staging/stg_klaviyo__person.sql";
    let edit = |files: &mut Vec<(String, String)>, from: &str, to: &str| {
        let text = &mut files.iter_mut().find(|(p, _)| p == model).unwrap().1;
        assert!(text.contains(from));
        *text = text.replacen(from, to, 1);
    };
    let lint = |files: &[(String, String)]| {
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        common::write(dir.path(), &refs);
        run(dir.path())
    };
    let phone = |o: &Outcome| {
        o.findings.iter().any(|f| {
            f.flow
                .as_ref()
                .is_some_and(|p| p.source.name == "klaviyo.person.phone_number")
        })
    };
    assert!(phone(&lint(&files)));
    // On the hop's line (`phone_number,` of the model's select list).
    edit(
        &mut files,
        "        phone_number,\n",
        "        phone_number, -- purposelint: ignore[security-to-advertising] DPIA-11: hashed upload approved\n",
    );
    let o = lint(&files);
    assert!(!phone(&o), "{:#?}", o.findings);
    let dismissed = o
        .dismissed
        .iter()
        .find(|d| d.finding.flow.as_ref().unwrap().source.name == "klaviyo.person.phone_number")
        .unwrap();
    assert_eq!(
        dismissed.suppressions[0].justification,
        "DPIA-11: hashed upload approved"
    );
    // On a line no finding touches: unused-suppression; a placeholder reason: rejected.
    edit(
        &mut files,
        "        timezone,\n",
        "        timezone, -- purposelint: ignore[security-to-advertising] DPIA-12\n",
    );
    edit(&mut files, "DPIA-11: hashed upload approved", "TODO");
    let o = lint(&files);
    assert!(phone(&o));
    let lines = common::diag_lines(&o);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("unused-suppression 38:19")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("invalid-manifest 36:71 `TODO` is a placeholder")),
        "{lines:#?}"
    );
}

/// A source with a 2FA phone, an advertising exposure on `exposed`, and `files`.
fn phone_project(exposed: &str, files: &[(&str, &str)]) -> Outcome {
    let src = "version: 2\nsources:\n  - name: auth\n    tables:\n      - name: two_factor_phones\n        columns:\n          - name: user_id\n          - name: phone\n            meta:\n              purposes: [essential.service.authentication]\n              categories: [user.contact.phone_number]\n";
    let exposures = format!(
        "version: 2\nexposures:\n  - name: meta_audience\n    type: application\n    owner: {{name: Growth}}\n    depends_on:\n      - {exposed}\n    meta:\n      uses: [marketing.advertising.third_party.targeted]\n"
    );
    let mut all = vec![
        ("dbt_project.yml", "name: sweep\nprofile: sweep\n"),
        ("models/src.yml", src),
        ("models/exposures.yml", exposures.as_str()),
    ];
    all.extend_from_slice(files);
    common::lint(&all)
}

fn phone_leaks(o: &Outcome, sink: &str) -> bool {
    common::flows(o)
        .iter()
        .any(|(_, from, to)| from == "auth.two_factor_phones.phone" && to == sink)
}

#[test]
fn versioned_models_resolve_refs_to_their_versions() {
    const PROPS: &str = "version: 2\nmodels:\n  - name: final\n    latest_version: 2\n    columns:\n      - name: user_id\n        meta:\n          purposes: [essential.service.security]\n      - name: legacy\n    versions:\n      - v: 1\n      - v: 2\n        columns:\n          - include: all\n            exclude: [legacy]\n          - name: mobile\n";
    let v1 = "select user_id, legacy from {{ source('auth', 'two_factor_phones') }}\n";
    let v2 = "select user_id, phone as mobile from {{ source('auth', 'two_factor_phones') }}\n";
    let files = [
        ("models/final.yml", PROPS),
        ("models/final_v1.sql", v1),
        ("models/final_v2.sql", v2),
    ];
    // Unpinned: the latest version; pinned by the exposure: that version.
    let o = phone_project("ref('final')", &files);
    assert!(phone_leaks(&o, "meta_audience"), "{:#?}", o.findings);
    assert!(o.model.dataset_id("final").is_none());
    let cols = |o: &Outcome, ds: &str| {
        let mut c: Vec<String> = o
            .model
            .field_names(o.model.dataset_id(ds).unwrap())
            .map(str::to_string)
            .collect();
        c.sort();
        c
    };
    // The model's columns (and their meta) per each version's include/exclude.
    assert_eq!(cols(&o, "final_v1"), ["legacy", "user_id"]);
    assert_eq!(cols(&o, "final_v2"), ["mobile", "user_id"]);
    let m = &o.model;
    let uid = m
        .field_in(m.dataset_id("final_v2").unwrap(), "user_id")
        .unwrap();
    assert!(!m.fields[uid as usize].purposes().is_empty());
    let o = phone_project("ref('final', v=2)", &files);
    assert!(phone_leaks(&o, "meta_audience"), "{:#?}", o.findings);
    let o = phone_project("ref('final', v=1)", &files);
    assert!(!phone_leaks(&o, "meta_audience"), "{:#?}", o.findings);

    // A model pins `version=2`; `latest_version: 1` makes v1 the unpinned one.
    let props = PROPS.replace("latest_version: 2", "latest_version: 1");
    let o = phone_project(
        "ref('final')",
        &[
            ("models/core.yml", &props.replace("final", "core")),
            ("models/core_v1.sql", v1),
            ("models/core_v2.sql", v2),
            (
                "models/final.sql",
                "select user_id, mobile from {{ ref('core', version=2) }}\n",
            ),
        ],
    );
    assert!(phone_leaks(&o, "meta_audience"), "{:#?}", o.findings);
    assert_eq!(inputs_of(&o, "final", "mobile"), ["core_v2.mobile"]);

    // `defined_in` names the version's file; without `latest_version`, the highest.
    let o = phone_project(
        "ref('final')",
        &[
            (
                "models/final.yml",
                "version: 2\nmodels:\n  - name: final\n    versions:\n      - v: 1\n        defined_in: final_current\n      - v: 0\n",
            ),
            ("models/final_current.sql", v2),
            ("models/final_v0.sql", v1),
        ],
    );
    assert!(phone_leaks(&o, "meta_audience"), "{:#?}", o.findings);
    assert_eq!(
        inputs_of(&o, "final_v1", "mobile"),
        ["auth.two_factor_phones.phone"]
    );
}

/// A model reading the 2FA phone, under `models/marketing/`, with the given project file,
/// source properties and model SQL.
fn meta_project(project: &str, sources: &str, sql: &str) -> Outcome {
    common::lint(&[
        ("dbt_project.yml", project),
        ("models/src.yml", sources),
        ("models/marketing/audience.sql", sql),
    ])
}

const PHONE_SOURCE: &str = "version: 2\nsources:\n  - name: auth\n    tables:\n      - name: two_factor_phones\n        columns:\n          - name: user_id\n          - name: phone\n";
const AUDIENCE_SQL: &str = "select user_id, phone from {{ source('auth', 'two_factor_phones') }}\n";

fn sink_leaks(o: &Outcome) -> bool {
    common::flows(o)
        .iter()
        .any(|(_, from, to)| from == "auth.two_factor_phones.phone" && to == "audience")
}

#[test]
fn project_file_meta_annotates_sources_and_model_folders() {
    let project = "name: sweep\nmodels:\n  sweep:\n    marketing:\n      +meta:\n        uses: [marketing.advertising.third_party.targeted]\nsources:\n  sweep:\n    auth:\n      +meta:\n        purposes: [essential.service.authentication]\n";
    let o = meta_project(project, PHONE_SOURCE, AUDIENCE_SQL);
    assert!(sink_leaks(&o), "{:#?}", o.findings);

    // Without the `+` it is a folder named `meta`, as dbt reads it.
    let o = meta_project(
        &project.replace("+meta", "meta"),
        PHONE_SOURCE,
        AUDIENCE_SQL,
    );
    assert!(!sink_leaks(&o), "{:#?}", o.findings);

    // A path through the model's own name, and `+meta` at the top of the section.
    let named = "name: sweep\nmodels:\n  sweep:\n    marketing:\n      audience:\n        +meta: {uses: [marketing.advertising]}\nsources:\n  +meta: {purposes: [essential.service.security]}\n";
    let o = meta_project(named, PHONE_SOURCE, AUDIENCE_SQL);
    assert!(sink_leaks(&o), "{:#?}", o.findings);
    let other = named.replace("audience:", "other_model:");
    assert!(!sink_leaks(&meta_project(
        &other,
        PHONE_SOURCE,
        AUDIENCE_SQL
    )));

    // The property file's meta is merged over the project's: its `uses` replaces them.
    let props = "version: 2\nmodels:\n  - name: audience\n    meta:\n      uses: []\n";
    let o = common::lint(&[
        ("dbt_project.yml", project),
        ("models/src.yml", PHONE_SOURCE),
        ("models/marketing/audience.sql", AUDIENCE_SQL),
        ("models/marketing/audience.yml", props),
    ]);
    assert!(!sink_leaks(&o), "{:#?}", o.findings);

    // A misspelt key is reported in dbt_project.yml, at the key.
    let typo = project.replace("third_party.targeted", "third_party.targetted");
    let o = meta_project(&typo, PHONE_SOURCE, AUDIENCE_SQL);
    let lines = common::diag_lines(&o);
    assert!(
        lines.iter().any(|l| l.starts_with("unknown-purpose 6:16")),
        "{lines:#?}"
    );
}

#[test]
fn a_models_config_meta_in_sql_annotates_it() {
    let project = "name: sweep\n";
    let source = PHONE_SOURCE.replace(
        "          - name: phone\n",
        "          - name: phone\n            meta: {purposes: [essential.service.authentication]}\n",
    );
    let sql = format!(
        "{{{{ config(materialized='table', meta={{'uses': ['marketing.advertising.third_party.targeted']}}) }}}}\n{AUDIENCE_SQL}"
    );
    let o = meta_project(project, &source, &sql);
    assert!(sink_leaks(&o), "{:#?}", o.findings);

    // `config()` wins over the property file, and a string is a list of one.
    let props =
        "version: 2\nmodels:\n  - name: audience\n    config:\n      meta:\n        uses: []\n";
    let one = sql.replace(
        "['marketing.advertising.third_party.targeted']",
        "\"marketing.advertising\"",
    );
    let o = common::lint(&[
        ("dbt_project.yml", project),
        ("models/src.yml", &source),
        ("models/marketing/audience.sql", &one),
        ("models/marketing/audience.yml", props),
    ]);
    assert!(sink_leaks(&o), "{:#?}", o.findings);

    // A misspelt key is reported at its place in the SQL file.
    let typo = sql.replace("third_party.targeted", "third_party.targetted");
    let o = meta_project(project, &source, &typo);
    let lines = common::diag_lines(&o);
    assert!(
        lines.iter().any(|l| l.starts_with("unknown-purpose 1:49")),
        "{lines:#?}"
    );
}

#[test]
fn select_star_from_a_model_read_by_its_relation_name_has_its_columns() {
    // `a_audience` sorts before `phones`, which it reads by relation name, not `ref()`.
    let stage = "select user_id, phone from {{ source('auth', 'two_factor_phones') }}\n";
    for read in ["analytics.phones", "phones", "\"ANALYTICS\".\"PHONES\""] {
        let o = phone_project(
            "ref('a_audience')",
            &[
                ("models/phones.sql", stage),
                ("models/a_audience.sql", &format!("select * from {read}\n")),
            ],
        );
        assert!(
            phone_leaks(&o, "meta_audience"),
            "{read}: {:#?}",
            o.findings
        );
        assert_eq!(
            inputs_of(&o, "a_audience", "phone"),
            ["phones.phone"],
            "{read}"
        );
    }
    // Two models reading each other by name (a cycle) are both linked, and the path stays.
    let joined = "select p.user_id, p.phone from {{ source('auth', 'two_factor_phones') }} p\n\
                  left join a_audience a on a.user_id = p.user_id\n";
    let o = phone_project(
        "ref('a_audience')",
        &[
            ("models/phones.sql", joined),
            ("models/a_audience.sql", "select * from phones\n"),
        ],
    );
    assert!(phone_leaks(&o, "meta_audience"), "{:#?}", o.findings);
    assert_eq!(inputs_of(&o, "a_audience", "phone"), ["phones.phone"]);
}

#[test]
fn a_yaml_snapshot_copies_its_relation_and_the_leak_runs_through_it() {
    // dbt ≥ 1.9: a snapshot declared in YAML, with no `{% snapshot %}` block.
    for relation in ["source('app', 'security_contacts')", "ref('stg_contacts')"] {
        let snapshots = format!(
            "snapshots:\n  - name: contacts_snapshot\n    relation: {relation}\n    config:\n      unique_key: user_id\n      strategy: check\n      check_cols: all\n"
        );
        let dir = leak_project(
            "select user_id, phone_number from {{ ref('contacts_snapshot') }}\n",
            &[
                ("snapshots/contacts.yml", snapshots.as_str()),
                (
                    "models/stg_contacts.sql",
                    "select user_id, phone_number from {{ source('app', 'security_contacts') }}\n",
                ),
            ],
        );
        let o = run(dir.path());
        assert!(leaks(&o), "{relation}: {:#?}", o.findings);
        let f = o.findings.iter().find(|f| f.flow.is_some()).unwrap();
        let hop = f
            .flow
            .as_ref()
            .unwrap()
            .path
            .iter()
            .find(|h| h.to == "contacts_snapshot.phone_number")
            .unwrap_or_else(|| panic!("{relation}: {:#?}", f.flow));
        let file = &o.model.sources.get(hop.location.file).path;
        assert!(file.ends_with("snapshots/contacts.yml"), "{file:?}");
        // At the `relation:` value, line 3 column 15.
        let at = &hop.location.span.start_pos;
        assert_eq!((at.line, at.column), (3, 15), "{relation}");
        assert!(incomplete(&o).is_empty(), "{:#?}", o.findings);
        // The source, the exposure, two SQL models and the snapshot, counted once.
        assert_eq!(o.summary.manifests, 5, "{relation}");
    }
}

/// `audience` builds `payload` from the columns `get_columns_in_relation` lists of
/// `relation` (a Jinja expression), in a loop whose output is nothing when it lists none.
fn listing_project(relation: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let audience = format!(
        "{{%- set cols = adapter.get_columns_in_relation({relation}) -%}}\n\
         select\n    user_id,\n    object_construct(\
         {{% for c in cols %}}'{{{{ c.name }}}}', {{{{ c.name }}}}{{% if not loop.last %}}, {{% endif %}}{{% endfor %}}\
         ) as payload\nfrom {{{{ ref('stg_contacts') }}}}\n"
    );
    let mut files = vec![(
        "models/stg_contacts.sql",
        "select user_id, phone_number from {{ source('app', 'security_contacts') }}\n",
    )];
    files.extend_from_slice(extra);
    leak_project(&audience, &files)
}

#[test]
fn columns_a_macro_lists_of_a_model_come_from_its_lineage() {
    // `stg_contacts` declares no columns: its SQL gives them, before `audience` renders.
    let dir = listing_project("ref('stg_contacts')", &[]);
    let o = run(dir.path());
    assert!(leaks(&o), "{:#?}", o.findings);
    assert_eq!(
        inputs_of(&o, "audience", "payload"),
        ["stg_contacts.phone_number", "stg_contacts.user_id"]
    );
    assert!(incomplete(&o).is_empty(), "{:#?}", o.findings);
}

#[test]
fn dbt_utils_filtered_columns_honour_except_with_or_without_the_package() {
    let audience = |except: &str| {
        format!(
            "{{%- set cols = dbt_utils.get_filtered_columns_in_relation(from=ref('stg_contacts'), except=[{except}]) -%}}\n\
             select\n    user_id,\n    object_construct(\
             {{% for c in cols %}}'{{{{ c }}}}', {{{{ c }}}}{{% if not loop.last %}}, {{% endif %}}{{% endfor %}}\
             ) as payload\nfrom {{{{ ref('stg_contacts') }}}}\n"
        )
    };
    let stg = (
        "models/stg_contacts.sql",
        "select user_id, phone_number from {{ source('app', 'security_contacts') }}\n",
    );
    let o = run(leak_project(&audience("'user_id'"), &[stg]).path());
    assert_eq!(
        inputs_of(&o, "audience", "payload"),
        ["stg_contacts.phone_number"]
    );
    assert!(leaks(&o), "{:#?}", o.findings);
    let o = run(leak_project(&audience("'PHONE_NUMBER'"), &[stg]).path());
    assert_eq!(
        inputs_of(&o, "audience", "payload"),
        ["stg_contacts.user_id"]
    );
    assert!(!leaks(&o), "{:#?}", o.findings);
    // Installed, the package's macro returns nothing at compile time (`execute` is
    // false): the columns are still the ones lineage found.
    let installed = [
        stg,
        (
            "dbt_packages/dbt_utils/dbt_project.yml",
            "name: dbt_utils\nversion: '1.0'\n",
        ),
        (
            "dbt_packages/dbt_utils/macros/get_filtered_columns_in_relation.sql",
            "{% macro get_filtered_columns_in_relation(from, except=[]) %}\n{%- if not execute -%}{{ return('') }}{% endif %}\n{% endmacro %}\n",
        ),
    ];
    let o = run(leak_project(&audience("'user_id'"), &installed).path());
    assert_eq!(
        inputs_of(&o, "audience", "payload"),
        ["stg_contacts.phone_number"]
    );
}

#[test]
fn columns_a_macro_lists_of_an_undeclared_relation_are_every_column_and_said() {
    // `auth_events` is a source with purposes and no columns: what the loop makes of it
    // is unknown, so every column of `audience` may hold it.
    let sources = "version: 2\nsources:\n  - name: auth\n    tables:\n      - name: auth_events\n        meta:\n          purposes: [essential.service.authentication]\n";
    let dir = listing_project(
        "source('auth', 'auth_events')",
        &[("models/auth.yml", sources)],
    );
    let o = run(dir.path());
    let flows = common::flows(&o);
    assert!(
        flows
            .iter()
            .any(|(_, from, to)| from == "auth.auth_events.*" && to == "ad_audience"),
        "{flows:#?}"
    );
    let info = incomplete(&o);
    assert_eq!(info.len(), 1, "{:#?}", o.findings);
    assert!(
        info[0]
            .message
            .contains("lists the columns of `auth.auth_events`"),
        "{}",
        info[0].message
    );
    let at = &info[0].location.span.start_pos;
    assert_eq!((at.line, at.column), (1, 24));
    assert_eq!(status_of(&o, "audience"), LineageStatus::Partial);
}

#[test]
fn a_parse_error_is_located_in_the_model_file_after_jinja_moved_its_lines() {
    // The `if` block renders to one line fewer than the file has, and `{{ ref() }}`
    // changes the line of the error: the diagnostic is still at the second comma.
    let dir = leak_project(
        "{% if false %}\nselect 1\n{% endif %}\nselect user_id,, phone_number from {{ source('app', 'security_contacts') }}\n",
        &[],
    );
    let o = run(dir.path());
    assert!(leaks(&o), "{:#?}", o.findings);
    let info = incomplete(&o);
    assert_eq!(info.len(), 1, "{:#?}", o.findings);
    let at = &info[0].location.span.start_pos;
    assert_eq!((at.line, at.column), (4, 16), "{}", info[0].message);
    assert!(
        info[0].message.ends_with("found: ,"),
        "the rendered SQL's position is left out: {}",
        info[0].message
    );
}

#[test]
fn a_window_key_hop_is_at_the_key() {
    let dir = leak_project(
        "select\n    user_id,\n    row_number() over (partition by phone_number order by user_id) as rn\nfrom {{ source('app', 'security_contacts') }}\n",
        &[],
    );
    let o = run(dir.path());
    let f = o.findings.iter().find(|f| f.flow.is_some()).unwrap();
    let hop = &f.flow.as_ref().unwrap().path[0];
    assert_eq!(hop.flow, purposelint::model::FlowKind::Indirect);
    let at = &hop.location.span;
    assert_eq!(
        (at.start_pos.line, at.start_pos.column, at.end_pos.column),
        (3, 37, 49)
    );
}

#[test]
fn columns_made_from_queried_data_may_hold_any_column_of_the_relation_and_it_is_said() {
    // The pivot's columns come from the values of `user_id`, which only the warehouse
    // has: rendered statically they are none, and the phone would vanish with them.
    let pivot = "select\n    user_id\n    {% for v in dbt_utils.get_column_values(ref('stg_contacts'), 'user_id') %}\n    , max(case when user_id = '{{ v }}' then phone_number end) as p_{{ v }}\n    {% endfor %}\nfrom {{ ref('stg_contacts') }}\ngroup by 1\n";
    // The same under `{% if execute %}`, where the query is not even called.
    let guarded = "{% if execute %}\n{% set rows = run_query('select distinct user_id from ' ~ ref('stg_contacts')) %}\n{% endif %}\nselect\n    user_id\n    {% for v in rows or [] %}, max(phone_number) as p_{{ v }}{% endfor %}\nfrom {{ ref('stg_contacts') }}\ngroup by 1\n";
    let stg = (
        "models/stg_contacts.sql",
        "select user_id, phone_number from {{ source('app', 'security_contacts') }}\n",
    );
    for (sql, call, line) in [(pivot, "get_column_values", 3), (guarded, "run_query", 2)] {
        let o = run(leak_project(sql, &[stg]).path());
        assert!(leaks(&o), "{call}: {:#?}", o.findings);
        let info = incomplete(&o);
        assert_eq!(info.len(), 1, "{:#?}", o.findings);
        assert!(
            info[0].message.contains(&format!("(`{call}`)"))
                && info[0].message.contains("any column of `stg_contacts`"),
            "{}",
            info[0].message
        );
        assert_eq!(info[0].location.span.start_pos.line, line, "{call}");
        assert_eq!(status_of(&o, "audience"), LineageStatus::Partial);
    }
}

#[test]
fn a_query_a_macro_makes_only_when_executing_is_seen_and_the_model_s_own_data_is_not() {
    // `get_column_values_ordered` (GitLab's): it returns nothing at compile time and
    // queries through `statement`/`load_result` when run, after `adapter.get_relation`.
    let ordered = "{% macro values_of(table, column) -%}\n{%- if not execute -%}{{ return('') }}{% endif %}\n{%- set rel = adapter.get_relation(database=table.database, schema=table.schema, identifier=table.identifier) -%}\n{%- call statement('v', fetch_result=true) %}select {{ column }} from {{ rel }}{%- endcall -%}\n{%- set r = load_result('v') -%}\n{{ return([]) }}\n{%- endmacro %}\n";
    // GitLab's `dbt_audit`: a query of the model's own relation, for a timestamp.
    let audit = "{% macro audit() -%}\n{% if execute %}{% set r = run_query('select max(ts) from ' ~ this) %}{% endif %}\ncurrent_timestamp as audited_at\n{%- endmacro %}\n";
    let stg = (
        "models/stg_contacts.sql",
        "select user_id, phone_number from {{ source('app', 'security_contacts') }}\n",
    );
    let ids = (
        "models/ids.sql",
        "select user_id from {{ source('app', 'security_contacts') }}\n",
    );
    let pivot = "select\n    user_id,\n    {{ dbt_utils.pivot('user_id', values_of(ref('stg_contacts'), 'user_id')) }}\nfrom {{ ref('ids') }}\n";
    let o = run(leak_project(pivot, &[stg, ids, ("macros/values_of.sql", ordered)]).path());
    assert!(leaks(&o), "{:#?}", o.findings);
    let info = incomplete(&o);
    assert_eq!(info.len(), 1, "{:#?}", o.findings);
    assert!(
        info[0].message.contains("(`values_of`)")
            && info[0].message.ends_with("any column of `stg_contacts`"),
        "only the relation queried: {}",
        info[0].message
    );
    assert_eq!(
        (
            info[0].location.span.start_pos.line,
            info[0].location.span.start_pos.column
        ),
        (3, 35)
    );
    // The model's own data queried is nothing new: no diagnostic, exact lineage.
    let audited = "select user_id, {{ audit() }} from {{ ref('ids') }}\n";
    let o = run(leak_project(audited, &[ids, ("macros/audit.sql", audit)]).path());
    assert!(incomplete(&o).is_empty(), "{:#?}", o.findings);
    assert_eq!(status_of(&o, "audience"), LineageStatus::Full);
}

#[test]
fn get_relation_finds_the_source_or_model_it_names() {
    // fivetran_utils' `union_data` reads the source through `adapter.get_relation`; a
    // relation it cannot find stayed `none`, and the model read nothing.
    for call in [
        "adapter.get_relation(database=source('app', 'security_contacts').database, schema=source('app', 'security_contacts').schema, identifier='security_contacts')",
        "adapter.get_relation(database=target.database, schema='app', identifier='security_contacts')",
    ] {
        let sql = format!(
            "{{%- set rel = {call} -%}}\n{{% if rel %}}select * from {{{{ rel }}}}{{% else %}}select null as nothing{{% endif %}}\n"
        );
        let o = run(leak_project(&sql, &[]).path());
        assert!(leaks(&o), "{call}: {:#?}", o.findings);
        assert_eq!(status_of(&o, "audience"), LineageStatus::Full, "{call}");
    }
}

#[test]
fn union_data_without_the_package_reads_the_source_not_a_variable_naming_a_later_model() {
    // Fivetran's combined packages set the table's variable to the staging model that
    // reads this one: following it made a cycle and lost the source.
    let tmp = "{{ fivetran_utils.union_data(table_identifier='security_contacts', database_variable='app_database', schema_variable='app_schema', default_database=target.database, default_schema='app', default_variable='security_contacts') }}\n";
    let dir = leak_project(
        "select user_id, phone_number from {{ ref('stg_tmp') }}\n",
        &[
            ("models/stg_tmp.sql", tmp),
            (
                "dbt_project.yml",
                "name: leak\nversion: '1.0'\nvars:\n  security_contacts: \"{{ ref('audience') }}\"\n",
            ),
        ],
    );
    let o = run(dir.path());
    assert!(leaks(&o), "{:#?}", o.findings);
    assert_eq!(status_of(&o, "stg_tmp"), LineageStatus::Full);
}

#[test]
fn union_relations_unions_the_relations_columns_by_name_installed_or_not() {
    let other = "      - name: old_contacts\n        columns:\n          - name: user_id\n          - name: email\n";
    let sql = "{{ dbt_utils.union_relations(relations=[source('app', 'security_contacts'), source('app', 'old_contacts')]) }}\n";
    let installed = (
        "dbt_packages/dbt_utils/macros/union.sql",
        "{%- macro union_relations(relations, column_override=none, include=[], exclude=[], source_column_name='_dbt_source_relation', where=none) -%}\n{%- if not execute %}{{ return('') }}{% endif -%}\nselect 1\n{%- endmacro -%}\n",
    );
    let package = (
        "dbt_packages/dbt_utils/dbt_project.yml",
        "name: dbt_utils\nversion: '0.8.5'\n",
    );
    for extra in [&[][..], &[installed, package][..]] {
        let dir = leak_project(sql, extra);
        let sources = std::fs::read_to_string(dir.path().join("models/sources.yml")).unwrap();
        let sources = sources.replacen("exposures:", &format!("{other}exposures:"), 1);
        std::fs::write(dir.path().join("models/sources.yml"), sources).unwrap();
        let o = run(dir.path());
        assert!(leaks(&o), "{:#?}", o.findings);
        assert_eq!(
            status_of(&o, "audience"),
            LineageStatus::Full,
            "{:#?}",
            o.findings
        );
        let mut cols = inputs_of(&o, "audience", "email");
        cols.sort();
        assert_eq!(cols, vec!["app.old_contacts.email"]);
    }
}

#[test]
fn a_fallback_reads_every_relation_the_jinja_resolved_even_when_the_sql_is_empty() {
    // A project's own macro that renders nothing at compile time (`execute` is false).
    let empty = "{% macro union_all(relations) -%}{%- if not execute %}{{ return('') }}{% endif -%}select 1{%- endmacro %}\n";
    let sql = "{{ union_all([source('app', 'security_contacts')]) }}\n";
    let o = run(leak_project(sql, &[("macros/union_all.sql", empty)]).path());
    assert!(leaks(&o), "{:#?}", o.findings);
    assert_eq!(status_of(&o, "audience"), LineageStatus::Fallback);
}

#[test]
fn models_that_ref_one_another_in_a_cycle_are_an_error_at_the_ref() {
    let dir = tempfile::tempdir().unwrap();
    common::write(
        dir.path(),
        &[
            ("dbt_project.yml", "name: cyc\nversion: '1.0'\n"),
            ("models/a.sql", "select id\nfrom {{ ref('b') }}\n"),
            ("models/b.sql", "select id from {{ ref('c') }}\n"),
            ("models/c.sql", "select id from {{ ref('a') }}\n"),
        ],
    );
    let o = run(dir.path());
    let errors: Vec<_> = o
        .findings
        .iter()
        .filter(|f| f.rule == "invalid-manifest")
        .collect();
    assert_eq!(errors.len(), 1, "{:#?}", o.findings);
    assert!(
        errors[0].message.contains("`a`, `b`, `c`"),
        "{}",
        errors[0].message
    );
    let at = &errors[0].location.span.start_pos;
    assert_eq!((at.line, at.column), (2, 14));
}
