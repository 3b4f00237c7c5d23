use super::*;

fn setup(macros: Vec<MacroDef>) -> Renderer {
    Renderer::new(Setup {
        project: "p".into(),
        vars: serde_json::json!({"p": {"src": "{{ source('raw', 'people') }}", "flag": false}}),
        macros,
        dispatch: Vec::new(),
        adapter: Some("snowflake".into()),
        target: BTreeMap::new(),
        columns: HashMap::new(),
        relations: Vec::new(),
        versions: Default::default(),
    })
}

fn render(r: &Renderer, text: &str) -> Rendered {
    r.render("m", text, false).sql
}

#[test]
fn refs_sources_vars_and_unknown_macros() {
    let r = setup(Vec::new());
    let out = render(
        &r,
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
    assert_eq!(
        r.render(
            "m",
            "{% if is_incremental() %}inc{% else %}full{% endif %}",
            true
        )
        .sql
        .unwrap(),
        "inc"
    );
}

#[test]
fn broken_jinja_is_an_error_not_a_panic() {
    let r = setup(Vec::new());
    assert!(render(&r, "{% if %}").is_err());
    // Lenient attribute chains render; huge loops stop on fuel, not on memory.
    let _ = render(
        &r,
        "{{ x.y.z() }}{% for i in range(100000000) %}{% endfor %}",
    );
}

fn defs(package: &str, text: &str) -> Vec<MacroDef> {
    super::super::macros::split(package, text)
}

#[test]
fn project_and_package_macros_with_return_dispatch_and_lists() {
    let mut m = defs(
        "p",
        "{% macro cols(rel) %}{% set out = [] %}{% do out.append('a') %}\
         {% do out.extend(['b', 'c']) %}{{ return(out) }}{% endmacro %}\
         {% macro listed(rel) %}{{ cols(rel) | join(', ') }}{% endmacro %}\
         {% macro wrap() %}[{{ caller() }}]{% endmacro %}",
    );
    m.extend(defs(
        "dbt_utils",
        "{% macro star(from) %}{{ return(adapter.dispatch('star', 'dbt_utils')(from)) }}{% endmacro %}\
         {% macro default__star(from) %}default{% endmacro %}\
         {% macro snowflake__star(from) %}{{ helper() }}.*{% endmacro %}\
         {% macro helper() %}t{% endmacro %}",
    ));
    let r = setup(m);
    assert_eq!(
        render(
            &r,
            "select {{ listed(ref('x')) }}, {{ dbt_utils.star(ref('x')) }}"
        )
        .unwrap(),
        "select a, b, c, t.*"
    );
    assert_eq!(
        render(&r, "{% call wrap() %}body{% endcall %}").unwrap(),
        "[body]"
    );
    // A package's macro is not global to the project.
    assert_eq!(render(&r, "{{ helper() }}").unwrap(), "null");
}

#[test]
fn runaway_macros_stop_with_a_reason() {
    let r = setup(defs(
        "p",
        "{% macro forever(n) %}{{ forever(n + 1) }}{% endmacro %}\
         {% macro spin() %}{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}{% endmacro %}\
         {% macro fan() %}{% for i in range(1000) %}{{ fan() }}{% endfor %}{% endmacro %}",
    ));
    let e = render(&r, "{{ forever(0) }}").unwrap_err();
    assert!(e.contains("nest deeper") || e.contains("recursion"), "{e}");
    for text in ["{{ spin() }}", "{{ fan() }}"] {
        let t = std::time::Instant::now();
        let e = render(&r, text).unwrap_err();
        assert!(e.contains("budget") || e.contains("recursion"), "{e}");
        assert!(t.elapsed().as_secs() < 30);
    }
}

#[test]
fn exceptions_do_not_stop_the_render_and_python_methods_work() {
    let r = setup(Vec::new());
    let out = render(
        &r,
        "{{ exceptions.raise_compiler_error('no') }}{{ 'A,b'.split(',') | join('-') }} \
         {{ 'x'.upper() }} {{ {'k': 1}.get('k') }} {{ {'k': 1}.get('z', 2) }} \
         {{ modules.re.sub('a+', 'b', 'caat') }} {{ run_started_at.strftime('%Y') }}",
    );
    assert_eq!(out.unwrap(), "A-b X 1 2 cbt 1970");
}

#[test]
fn columns_nobody_knows_are_recorded_and_given_on_the_next_render() {
    let r = setup(Vec::new());
    let text = "{% for c in adapter.get_columns_in_relation(ref('up')) %}{{ c.name }},{% endfor %}\
                {% for c in adapter.get_columns_in_relation(this) %}{{ c.name }}{% endfor %}";
    let first = r.render("m", text, false);
    assert_eq!(first.sql.unwrap(), "");
    assert_eq!(first.missed, ["ref:up"]);
    let known = HashMap::from([("ref:up".to_string(), vec!["a".to_string(), "b".to_string()])]);
    let again = r.render_with("m", text, false, known);
    assert_eq!(again.sql.unwrap(), "a,b,");
    assert!(again.missed.is_empty());
}

#[test]
fn mutable_sets_only_wrap_literals() {
    assert_eq!(
        mutable_sets("{% set x = [] %}{%- set y = {'a': 1} -%}{% set z = 1 %}"),
        "{% set x = __mut( [] ) %}{%- set y = __mut( {'a': 1} ) -%}{% set z = 1 %}"
    );
}
