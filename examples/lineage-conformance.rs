//! Scores purposelint's SQL column lineage against DataHub's SQL-parser test suite
//! (`../shared/lineage-conformance/datahub-sqlglot/cases.jsonl`, Apache-2.0).
//!
//! ```text
//! cargo run --release --example lineage-conformance -- PATH/cases.jsonl [--verbose]
//! ```
//!
//! Prints, per dialect and in total: cases, cases parsed, column edges agreed, missed and
//! extra (precision, recall), and the expected join columns found among our indirect
//! inputs. `--verbose` lists every disagreement, case by case.

fn main() {
    let mut path = None;
    let mut verbose = false;
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--verbose" | "-v" => verbose = true,
            _ => path = Some(a),
        }
    }
    let path =
        path.unwrap_or_else(|| "../shared/lineage-conformance/datahub-sqlglot/cases.jsonl".into());
    match std::fs::read_to_string(&path) {
        Ok(text) => print!("{}", purposelint::conformance::report(&text, verbose)),
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    }
}
