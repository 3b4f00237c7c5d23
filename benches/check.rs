//! `cargo bench`: the full check against the YAML parse floor on generated corpora.
//!
//! For each format (native manifests, Fides, dbt property files), corpus size and
//! thread count it measures, on the same files:
//! - floor: list the files (same walker), read each and run saphyr-parser's event parser;
//! - check: `purposelint::check::run` and the JSON report written to `io::sink()`.
//!
//! Each measurement runs in a child process (this binary re-executed), so peak RSS
//! (VmHWM) belongs to that measurement alone. Floor and check alternate, one timed run
//! per child after a warm-up (the median of up to ten for corpora under 10k files), and
//! the ratio is the median of the paired ratios: on a shared machine whose speed drifts
//! over minutes, pairs taken seconds apart compare like with like. Each round runs every
//! corpus size in turn, so scaling (10x the files) is a median of paired ratios as
//! well. Environment:
//! `PURPOSELINT_BENCH_SIZES` (native manifest files, default `1000,10000`),
//! `PURPOSELINT_BENCH_FIDES_SYSTEMS` (default `1000,10000`),
//! `PURPOSELINT_BENCH_DBT_YAML_FILES` (dbt property files, default `1000,10000`),
//! `PURPOSELINT_BENCH_FORMATS` (default `native,fides,dbt`), `PURPOSELINT_BENCH_RUNS` (default 5),
//! `PURPOSELINT_BENCH_RSS_FILES` (default 16000; the ~1M-field memory probe, 0 to skip),
//! `PURPOSELINT_BENCH_DBT_MODELS` (default `1000,10000`: generated macro-heavy dbt projects,
//! 0 to skip), `PURPOSELINT_BENCH_GITLAB` (GitLab's dbt project, with and without dbt_utils;
//! default `../shared/large-corpus/dbt/gitlab-analytics`, 0 to skip),
//! `PURPOSELINT_BENCH_SYNCS` (default 1000; a generated activation repository, 0 to skip:
//! its floor parses the `.tf` files with hcl-edit and the YAML with saphyr-parser; a second
//! floor also parses the SQL the `.tf` files embed, with sqlparser).

#[path = "../examples/corpus/mod.rs"]
mod corpus;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rayon::prelude::*;

// The allocator of the shipped binary (src/main.rs), for the floor and the check alike.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_string();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// The floor; with `sql`, also the SQL that the activation files embed (attributes
/// `sql` and `query`), parsed with sqlparser in Snowflake's dialect, which the generated
/// repository's sources name and activation.md §7.2 requires a check to parse.
fn floor(root: &Path, sql: bool) -> usize {
    let found = purposelint::discover::discover(&[root.to_path_buf()]).unwrap();
    found
        .files
        .par_iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            if p.extension().is_some_and(|e| e == "tf") {
                let body = hcl_edit::parser::parse_body(&text).unwrap();
                return body.len() + if sql { embedded_sql(&body) } else { 0 };
            }
            let mut events = 0;
            for ev in saphyr_parser::Parser::new_from_str(&text) {
                ev.unwrap();
                events += 1;
            }
            events
        })
        .sum()
}

/// Parses the SQL of every `sql` and `query` attribute of `body` and its blocks; returns
/// the number of statements.
fn embedded_sql(body: &hcl_edit::structure::Body) -> usize {
    use hcl_edit::expr::Expression;
    use hcl_edit::structure::Structure;
    let mut statements = 0;
    for s in body.iter() {
        match s {
            Structure::Block(b) => statements += embedded_sql(&b.body),
            Structure::Attribute(a) if matches!(a.key.as_str(), "sql" | "query") => {
                let text = match &a.value {
                    Expression::String(s) => s.value().to_string(),
                    Expression::HeredocTemplate(h) => h.template.to_string(),
                    _ => continue,
                };
                let dialect = sqlparser::dialect::SnowflakeDialect {};
                if let Ok(st) = sqlparser::parser::Parser::parse_sql(&dialect, &text) {
                    statements += st.len();
                }
            }
            Structure::Attribute(_) => {}
        }
    }
    statements
}

/// The check as `purposelint check --format json` runs it. The outcome is returned so
/// that it is freed outside the timing, as the CLI leaves it to the process exit.
fn check(root: &Path) -> purposelint::check::Outcome {
    let opts = purposelint::check::Options::new(vec![root.to_path_buf()]);
    let o = purposelint::check::run(&opts).unwrap();
    let sources = &o.model.sources;
    purposelint::report::json::render(
        &mut std::io::sink(),
        sources,
        &o.summary,
        &o.findings,
        &o.dismissed,
    )
    .unwrap();
    assert!(o.summary.files > 0);
    o
}

/// Child mode: `--child floor|floor-sql|check DIR THREADS RUNS`; prints `median_ms peak_kib units`.
fn child(args: &[String]) {
    let (what, dir, threads, runs) = (
        args[0].as_str(),
        PathBuf::from(&args[1]),
        args[2].parse().unwrap(),
        args[3].parse::<usize>().unwrap(),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    // Each run yields its unit count and what it leaves to free after the timing.
    let once = || match what {
        "floor" => (floor(&dir, false), None),
        "floor-sql" => (floor(&dir, true), None),
        _ => {
            let o = check(&dir);
            (o.summary.fields, Some(o))
        }
    };
    let (mut units, _) = pool.install(once); // warm-up: page cache, allocator
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let (n, outcome) = pool.install(once);
            let ms = t.elapsed().as_secs_f64() * 1e3;
            drop(outcome);
            units = n;
            ms
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("{} {} {}", times[times.len() / 2], peak_rss_kib(), units);
}

#[derive(Clone)]
struct Measure {
    median_ms: f64,
    peak_kib: u64,
    units: usize,
}

fn measure(what: &str, dir: &Path, threads: usize, runs: usize) -> Measure {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--child", what])
        .arg(dir)
        .args([threads.to_string(), runs.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Vec<&str> = text.split_whitespace().collect();
    Measure {
        median_ms: v[0].parse().unwrap(),
        peak_kib: v[1].parse().unwrap(),
        units: v[2].parse().unwrap(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Timed runs per child: the median of several for small corpora, whose single runs
/// (a tenth of a second) are the ones a burst on the machine skews most.
fn timed_runs(files: usize) -> usize {
    (10_000 / files.max(1)).clamp(1, 10)
}

/// Medians of a (floor, check) series and the median of its paired ratios.
fn summarize(rounds: &[&(Measure, Measure)]) -> (Measure, Measure, f64) {
    let ratio = median(
        rounds
            .iter()
            .map(|(f, c)| c.median_ms / f.median_ms)
            .collect(),
    );
    let summary = |pick: fn(&(Measure, Measure)) -> &Measure| Measure {
        median_ms: median(rounds.iter().map(|r| pick(r).median_ms).collect()),
        peak_kib: rounds.iter().map(|r| pick(r).peak_kib).max().unwrap_or(0),
        units: pick(rounds[0]).units,
    };
    (summary(|r| &r.0), summary(|r| &r.1), ratio)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with("model name"))?;
            Some(l.split_once(':')?.1.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// One generated corpus: its format, its size (files, or Fides systems) and where it is.
struct Corpus {
    format: &'static str,
    size: usize,
    unit: &'static str,
    dir: tempfile::TempDir,
}

fn sizes(name: &str, default: &str) -> Vec<usize> {
    env_or(name, default)
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .filter(|&n| n > 0)
        .collect()
}

/// The corpora of every format, generated once: native manifests at
/// `PURPOSELINT_BENCH_SIZES` files, Fides repositories at `PURPOSELINT_BENCH_FIDES_SYSTEMS`
/// systems and dbt property-file projects at `PURPOSELINT_BENCH_DBT_YAML_FILES` files.
fn corpora() -> Vec<Corpus> {
    let mut out = Vec::new();
    let formats = env_or("PURPOSELINT_BENCH_FORMATS", "native,fides,dbt");
    let wanted = |f: &str| formats.split(',').any(|w| w.trim() == f);
    let mut add = |format, unit, size, write: &dyn Fn(&Path)| {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path());
        out.push(Corpus {
            format,
            size,
            unit,
            dir,
        });
    };
    if wanted("native") {
        for files in sizes("PURPOSELINT_BENCH_SIZES", "1000,10000") {
            let cfg = corpus::Config {
                files,
                seed: 1,
                violating: 0.1,
            };
            add("native", "files", files, &|p| {
                corpus::generate(&cfg, p).unwrap();
            });
        }
    }
    if wanted("fides") {
        for systems in sizes("PURPOSELINT_BENCH_FIDES_SYSTEMS", "1000,10000") {
            add("fides", "systems", systems, &|p| {
                corpus::fides::generate(systems, 1, p).unwrap();
            });
        }
    }
    if wanted("dbt") {
        for files in sizes("PURPOSELINT_BENCH_DBT_YAML_FILES", "1000,10000") {
            add("dbt-yaml", "files", files, &|p| {
                corpus::dbt::properties(files, 1, p).unwrap();
            });
        }
    }
    out
}

/// Copies the folder `from` to `to`, recursively.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), &target)?;
        }
    }
    Ok(())
}

/// GitLab's data team dbt project (`PURPOSELINT_BENCH_GITLAB`, default the large corpus;
/// `0` to skip), as it is and with `dbt_packages/dbt_utils` (0.8.5) installed.
fn gitlab(runs: usize) {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/large-corpus/dbt");
    let default = shared.join("gitlab-analytics");
    let root = PathBuf::from(env_or(
        "PURPOSELINT_BENCH_GITLAB",
        &default.to_string_lossy(),
    ));
    if root.as_os_str() == "0" || !root.join("dbt_project.yml").exists() {
        return;
    }
    let with_utils = tempfile::tempdir().unwrap();
    let copy = with_utils.path().join("gitlab-analytics");
    let utils = shared.join("packages/dbt_utils-0.8.5");
    let installed = copy_dir(&root, &copy)
        .and_then(|_| copy_dir(&utils, &copy.join("dbt_packages/dbt_utils")))
        .is_ok();
    let mut variants = vec![("without dbt_utils", root.clone())];
    if installed {
        variants.push(("with dbt_utils 0.8.5", copy));
    }
    for (what, dir) in &variants {
        for threads in [1, 2] {
            let c = measure("check", dir, threads, runs);
            println!(
                "gitlab-analytics ({what}): render + SQL lineage + check, {threads} thr: {:.1} ms, peak RSS {:.1} MiB, {} fields",
                c.median_ms,
                c.peak_kib as f64 / 1024.0,
                c.units
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child(&args[1..]);
    }
    let runs: usize = env_or("PURPOSELINT_BENCH_RUNS", "5").parse().unwrap_or(5);
    let rss_files: usize = env_or("PURPOSELINT_BENCH_RSS_FILES", "16000")
        .parse()
        .unwrap_or(0);
    println!(
        "purposelint bench: {} ({} cores), median of {runs} alternating floor/check runs",
        cpu_model(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:>8} {:>14} {:>3} {:>10} {:>10} {:>6} {:>9} {:>9} {:>9} {:>8}",
        "format",
        "size",
        "thr",
        "floor ms",
        "check ms",
        "ratio",
        "us/unit",
        "floor MiB",
        "check MiB",
        "fields"
    );
    let corpora = corpora();
    for threads in [1, 2] {
        // Each round measures every corpus in turn, floor then check, so that the sizes
        // of a round meet the same machine state: scaling is then a median of paired
        // ratios too, not a ratio of medians taken minutes apart.
        let rounds: Vec<Vec<(Measure, Measure)>> = (0..runs)
            .map(|_| {
                corpora
                    .iter()
                    .map(|c| {
                        let inner = timed_runs(c.size);
                        let f = measure("floor", c.dir.path(), threads, inner);
                        (f, measure("check", c.dir.path(), threads, inner))
                    })
                    .collect()
            })
            .collect();
        let mut check_medians = Vec::new();
        for (i, c) in corpora.iter().enumerate() {
            let series: Vec<&(Measure, Measure)> = rounds.iter().map(|r| &r[i]).collect();
            let (f, m, ratio) = summarize(&series);
            println!(
                "{:>8} {:>14} {threads:>3} {:>10.1} {:>10.1} {:>6.2} {:>9.1} {:>9.1} {:>9.1} {:>8}",
                c.format,
                format!("{} {}", c.size, c.unit),
                f.median_ms,
                m.median_ms,
                ratio,
                m.median_ms * 1e3 / c.size as f64,
                f.peak_kib as f64 / 1024.0,
                m.peak_kib as f64 / 1024.0,
                m.units
            );
            check_medians.push(m.median_ms);
        }
        for i in 1..corpora.len() {
            let (a, b) = (&corpora[i - 1], &corpora[i]);
            if a.format != b.format {
                continue;
            }
            let paired = median(
                rounds
                    .iter()
                    .map(|r| r[i].1.median_ms / r[i - 1].1.median_ms)
                    .collect(),
            );
            println!(
                "scaling {} {} -> {} {} ({:.1}x), {threads} thr: check time x{paired:.2} \
                 (median of {runs} paired rounds; x{:.2} from the medians)",
                a.format,
                a.size,
                b.size,
                b.unit,
                b.size as f64 / a.size as f64,
                check_medians[i] / check_medians[i - 1],
            );
        }
    }
    let dbt_sizes = sizes("PURPOSELINT_BENCH_DBT_MODELS", "1000,10000");
    let mut dbt_medians: Vec<Vec<f64>> = Vec::new();
    for &models in &dbt_sizes {
        let dir = tempfile::tempdir().unwrap();
        let s = corpus::dbt::generate(models, 1, dir.path()).unwrap();
        let mut medians = Vec::new();
        for threads in [1, 2] {
            let c = measure("check", dir.path(), threads, runs);
            println!(
                "dbt project: {} models, {} files, macro-heavy: render + SQL lineage + check, {threads} thr: {:.1} ms ({:.0} us/model), peak RSS {:.1} MiB, {} columns",
                s.models,
                s.files,
                c.median_ms,
                c.median_ms * 1e3 / s.models as f64,
                c.peak_kib as f64 / 1024.0,
                c.units
            );
            medians.push(c.median_ms);
        }
        dbt_medians.push(medians);
    }
    for i in 1..dbt_sizes.len() {
        for (t, threads) in [1, 2].iter().enumerate() {
            println!(
                "scaling dbt project {} -> {} models ({:.1}x), {threads} thr: check time x{:.2}",
                dbt_sizes[i - 1],
                dbt_sizes[i],
                dbt_sizes[i] as f64 / dbt_sizes[i - 1] as f64,
                dbt_medians[i][t] / dbt_medians[i - 1][t]
            );
        }
    }
    gitlab(runs);
    let syncs: usize = env_or("PURPOSELINT_BENCH_SYNCS", "1000")
        .parse()
        .unwrap_or(0);
    if syncs > 0 {
        let dir = tempfile::tempdir().unwrap();
        let s = corpus::activation::generate(syncs, 1, dir.path()).unwrap();
        for threads in [1, 2] {
            // Each round: the floor, the floor with the embedded SQL parsed, the check.
            let rounds: Vec<(Measure, Measure, Measure)> = (0..runs)
                .map(|_| {
                    let f = measure("floor", dir.path(), threads, 3);
                    let fs = measure("floor-sql", dir.path(), threads, 3);
                    (f, fs, measure("check", dir.path(), threads, 3))
                })
                .collect();
            let plain: Vec<(Measure, Measure)> = rounds
                .iter()
                .map(|(f, _, c)| (f.clone(), c.clone()))
                .collect();
            let with_sql: Vec<(Measure, Measure)> = rounds
                .iter()
                .map(|(_, fs, c)| (fs.clone(), c.clone()))
                .collect();
            let (f, c, ratio) = summarize(&plain.iter().collect::<Vec<_>>());
            let (fs, _, ratio_sql) = summarize(&with_sql.iter().collect::<Vec<_>>());
            println!(
                "activation repository: {} syncs, {} files ({} .tf, {} KiB), {threads} thr: floor {:.1} ms, check {:.1} ms, ratio {ratio:.2}; floor with embedded SQL {:.1} ms, ratio {ratio_sql:.2}; peak RSS {:.1} MiB, {} fields",
                s.syncs,
                s.files,
                s.tf_files,
                s.bytes / 1024,
                f.median_ms,
                c.median_ms,
                fs.median_ms,
                c.peak_kib as f64 / 1024.0,
                c.units
            );
        }
    }
    if rss_files > 0 {
        let dir = tempfile::tempdir().unwrap();
        let cfg = corpus::Config {
            files: rss_files,
            seed: 1,
            violating: 0.1,
        };
        corpus::generate(&cfg, dir.path()).unwrap();
        let c = measure("check", dir.path(), 2, 1);
        println!(
            "memory probe: {rss_files} files, {} fields in the model: check {:.1} ms, peak RSS {:.1} MiB",
            c.units,
            c.median_ms,
            c.peak_kib as f64 / 1024.0
        );
    }
}
