//! Scores purposelint's SQL column lineage against DataHub's SQL-parser test suite
//! (`../shared/lineage-conformance/datahub-sqlglot/cases.jsonl`, Apache-2.0): for each
//! case of the `select` family, the direct upstream columns of each output column are
//! compared with DataHub's expected column lineage.
//!
//! `cargo run --release --example lineage-conformance -- PATH/cases.jsonl [--verbose]`
//! prints [`report`]'s table (docs/dbt.md records it).
//!
//! Prints, per dialect and in total: cases, cases parsed, column edges agreed, missed and
//! extra (precision, recall), and the expected join columns found among our indirect
//! inputs. `--verbose` lists every disagreement, case by case.

use std::collections::{BTreeMap, BTreeSet};

use std::fmt::Write;

use serde_json::Value;

use crate::model::FlowKind;
use crate::sql::{lineage, Catalog, Dialect, Upstream};

/// Whether a table the case's schemas declare may have other columns too. DataHub traces
/// a name the schema lacks to the table anyway (schemas in its tests are often partial).
const OPEN_SCHEMAS: bool = true;

/// Tables of one case: those its schemas declare, then those the SQL names.
struct Tables {
    /// Lower-case dotted name (urn without platform) and known columns.
    list: Vec<(String, Vec<String>, bool)>,
}

impl Tables {
    fn find(&self, name: &str) -> Option<usize> {
        // The longest unique suffix, as the linter matches relations.
        let parts: Vec<&str> = name.split('.').collect();
        let mut best = (0, None);
        for (i, (t, _, _)) in self.list.iter().enumerate() {
            let tp: Vec<&str> = t.split('.').collect();
            let n = tp.len().min(parts.len());
            if tp[tp.len() - n..] == parts[parts.len() - n..] && n > best.0 {
                best = (n, Some(i));
            }
        }
        best.1
    }
}

impl Catalog for Tables {
    fn relation(&mut self, name: &[String], _: Option<crate::sql::SqlSpan>) -> Option<Upstream> {
        let full = table_name(&name.join("."));
        let i = match self.find(&full) {
            Some(i) => i,
            None => {
                // Not in the schemas: any column may exist.
                self.list.push((full.clone(), Vec::new(), true));
                self.list.len() - 1
            }
        };
        let (_, cols, open) = &self.list[i];
        Some(Upstream {
            id: i as u32,
            columns: cols.as_slice().into(),
            open: *open,
            default_alias: full.rsplit('.').next().unwrap_or(&full).to_string(),
        })
    }
}

/// `platform:db.schema.table` → `db.schema.table`, lower-case, in DataHub's naming:
/// BigQuery's partition decorators (`t$__UNPARTITIONED__`) dropped and date-sharded
/// tables (`t_20230101`, `t_*`) named `t_yyyymmdd`.
fn table_name(urn: &str) -> String {
    let name = urn.split_once(':').map_or(urn, |(_, n)| n);
    let name = name.split('@').next().unwrap_or(name);
    let name = name.split('$').next().unwrap_or(name).to_lowercase();
    let bytes = name.as_bytes();
    let n = bytes.len();
    if let Some(stem) = name.strip_suffix("_*").or_else(|| name.strip_suffix('*')) {
        return format!("{}_yyyymmdd", stem.trim_end_matches('_'));
    }
    if n > 9 && bytes[n - 9] == b'_' && bytes[n - 8..].iter().all(u8::is_ascii_digit) {
        return format!("{}_yyyymmdd", &name[..n - 9]);
    }
    name
}

/// A column name as compared: lower-case, unquoted.
fn column_name(c: &str) -> String {
    c.trim_matches(|ch| ch == '"' || ch == '`' || ch == '[' || ch == ']')
        .to_lowercase()
}

/// Two table names are the same table when one is a dotted suffix of the other.
fn same_table(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long == short || long.ends_with(&format!(".{short}"))
}

#[derive(Default)]
struct Score {
    cases: usize,
    parsed: usize,
    agreed: usize,
    missed: usize,
    extra: usize,
    /// Extra edges of columns that fell back to every column in their scope.
    extra_guessed: usize,
    joins_expected: usize,
    joins_found: usize,
}

impl Score {
    fn add(&mut self, o: &Score) {
        self.cases += o.cases;
        self.parsed += o.parsed;
        self.agreed += o.agreed;
        self.missed += o.missed;
        self.extra += o.extra;
        self.extra_guessed += o.extra_guessed;
        self.joins_expected += o.joins_expected;
        self.joins_found += o.joins_found;
    }

    fn row(&self, name: &str) -> String {
        let ratio = |a: usize, b: usize| {
            if b == 0 {
                "-".to_string()
            } else {
                format!("{:.3}", a as f64 / b as f64)
            }
        };
        format!(
            "{name:12} {:5} {:6} {:7} {:6} {:5} {:7} {:>9} {:>6} {:>5}/{}",
            self.cases,
            self.parsed,
            self.agreed,
            self.missed,
            self.extra,
            self.extra_guessed,
            ratio(self.agreed, self.agreed + self.extra),
            ratio(self.agreed, self.agreed + self.missed),
            self.joins_found,
            self.joins_expected
        )
    }
}

/// (downstream column, upstream table, upstream column)
type Edge = (String, String, String);

fn run_case(case: &Value, log: Option<&mut String>) -> Score {
    let mut score = Score {
        cases: 1,
        ..Score::default()
    };
    let id = case["id"].as_str().unwrap_or("?");
    let sql = case["sql"].as_str().unwrap_or("");
    let dialect_name = case["dialect"].as_str().unwrap_or("");
    let mut tables = Tables { list: Vec::new() };
    if let Some(schemas) = case["schemas"].as_object() {
        for (urn, cols) in schemas {
            let cols = cols
                .as_object()
                .map(|c| c.keys().map(|k| column_name(k)).collect())
                .unwrap_or_default();
            tables.list.push((table_name(urn), cols, OPEN_SCHEMAS));
        }
    }
    let mut dialects: Vec<Dialect> = Dialect::from_name(dialect_name).into_iter().collect();
    for d in Dialect::CHAIN {
        if !dialects.contains(d) {
            dialects.push(*d);
        }
    }
    let lin = lineage(sql, &dialects, &mut tables);
    if lin.dialect.is_some() && lin.problems.is_empty() {
        score.parsed = 1;
    }

    let expected = &case["expected"];
    let mut want: BTreeSet<Edge> = BTreeSet::new();
    let mut want_columns: Vec<String> = Vec::new();
    for cl in expected["column_lineage"].as_array().into_iter().flatten() {
        let down = column_name(cl["downstream"]["column"].as_str().unwrap_or(""));
        want_columns.push(down.clone());
        for up in cl["upstreams"].as_array().into_iter().flatten() {
            let t = table_name(up["table"].as_str().unwrap_or(""));
            let c = column_name(up["column"].as_str().unwrap_or(""));
            want.insert((down.clone(), t, c));
        }
    }
    // Our output columns paired with DataHub's: by name, else by position.
    let ours: Vec<String> = lin.columns.iter().map(|c| c.name.clone()).collect();
    let mut pair: BTreeMap<usize, String> = BTreeMap::new();
    for (i, o) in ours.iter().enumerate() {
        if want_columns.contains(o) {
            pair.insert(i, o.clone());
        }
    }
    for (i, w) in want_columns.iter().enumerate() {
        if i < ours.len() && !pair.contains_key(&i) && !pair.values().any(|v| v == w) {
            pair.insert(i, w.clone());
        }
    }
    let mut got: BTreeSet<Edge> = BTreeSet::new();
    // Edges of columns that fell back (a name that could not be resolved).
    let mut guessed: BTreeSet<Edge> = BTreeSet::new();
    let mut indirect: BTreeSet<(String, String)> = BTreeSet::new();
    for (i, c) in lin.columns.iter().enumerate() {
        let down = pair.get(&i).cloned().unwrap_or_else(|| c.name.clone());
        for inp in &c.inputs {
            let t = tables.list[inp.upstream as usize].0.clone();
            let col = column_name(&inp.column);
            match inp.kind {
                FlowKind::Direct => {
                    if c.fallback {
                        guessed.insert((down.clone(), t.clone(), col.clone()));
                    }
                    got.insert((down.clone(), t, col));
                }
                _ => {
                    indirect.insert((t, col));
                }
            }
        }
    }
    // Compare, with table names matched by suffix.
    // A struct's field (`asset.id`) is a field of the top-level column in our model.
    let top = |c: &str| c.split('.').next().unwrap_or(c).to_string();
    let matches =
        |a: &Edge, b: &Edge| a.0 == b.0 && top(&a.2) == top(&b.2) && same_table(&a.1, &b.1);
    let agreed: Vec<&Edge> = want
        .iter()
        .filter(|w| got.iter().any(|g| matches(w, g)))
        .collect();
    let missed: Vec<&Edge> = want
        .iter()
        .filter(|w| !got.iter().any(|g| matches(w, g)))
        .collect();
    let extra: Vec<&Edge> = got
        .iter()
        .filter(|g| !want.iter().any(|w| matches(w, g)))
        .collect();
    score.agreed = agreed.len();
    score.missed = missed.len();
    score.extra = extra.len();
    score.extra_guessed = extra.iter().filter(|e| guessed.contains(**e)).count();

    let mut join_cols: BTreeSet<(String, String)> = BTreeSet::new();
    for j in expected["joins"].as_array().into_iter().flatten() {
        for c in j["columns_involved"].as_array().into_iter().flatten() {
            let t = table_name(c["table"].as_str().unwrap_or(""));
            join_cols.insert((t, column_name(c["column"].as_str().unwrap_or(""))));
        }
    }
    score.joins_expected = join_cols.len();
    score.joins_found = join_cols
        .iter()
        .filter(|(t, c)| indirect.iter().any(|(it, ic)| ic == c && same_table(t, it)))
        .count();

    let disagrees = !missed.is_empty() || !extra.is_empty() || score.parsed == 0;
    if let Some(out) = log.filter(|_| disagrees) {
        let _ = writeln!(out, "## {id} ({dialect_name})");
        for p in &lin.problems {
            let _ = writeln!(out, "  problem: {p}");
        }
        for (what, list) in [("missed", &missed), ("extra", &extra)] {
            for e in list.iter() {
                let (d, t, c) = e;
                let why = if guessed.contains(*e) {
                    " (fallback)"
                } else {
                    ""
                };
                let _ = writeln!(out, "  {what}: {d} <- {t}.{c}{why}");
            }
        }
    }
    score
}

/// Scores every `select` case of `cases` (the lines of `cases.jsonl`) and returns the
/// table, per dialect and in total; with `verbose`, each disagreement first.
pub fn report(cases: &str, verbose: bool) -> String {
    let mut out = String::new();
    let mut by_dialect: BTreeMap<String, Score> = BTreeMap::new();
    for line in cases.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                let _ = writeln!(out, "bad case: {e}");
                continue;
            }
        };
        if case["family"] != "select" {
            continue;
        }
        let d = case["dialect"].as_str().unwrap_or("?").to_string();
        let s = run_case(&case, verbose.then_some(&mut out));
        by_dialect.entry(d).or_default().add(&s);
    }
    let _ = writeln!(
        out,
        "{:12} {:>5} {:>6} {:>7} {:>6} {:>5} {:>7} {:>9} {:>6} {:>7}",
        "dialect",
        "cases",
        "parsed",
        "agreed",
        "missed",
        "extra",
        "guessed",
        "precision",
        "recall",
        "joins"
    );
    let mut total = Score::default();
    for (d, s) in &by_dialect {
        let _ = writeln!(out, "{}", s.row(d));
        total.add(s);
    }
    let _ = writeln!(out, "{}", total.row("total"));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_case_is_scored() {
        let case = r#"{"id": "t", "dialect": "snowflake", "family": "select", "sql": "select a, b + 1 as c from db.s.t", "schemas": {"snowflake:db.s.t": {"a": "int", "b": "int"}}, "expected": {"column_lineage": [{"downstream": {"table": null, "column": "a"}, "upstreams": [{"table": "snowflake:db.s.t", "column": "a"}]}, {"downstream": {"table": null, "column": "c"}, "upstreams": [{"table": "snowflake:db.s.t", "column": "x"}]}], "joins": []}}"#;
        let table = super::report(case, true);
        assert!(table.contains("missed: c <- db.s.t.x"), "{table}");
        let total = table.lines().last().unwrap();
        let cols: Vec<&str> = total.split_whitespace().collect();
        // cases, parsed, agreed, missed, extra
        assert_eq!(&cols[1..6], ["1", "1", "1", "1", "1"], "{table}");
    }
}
