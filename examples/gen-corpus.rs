//! Writes a deterministic synthetic repository of manifests for benchmarks and demos.
//!
//! cargo run --release --example gen-corpus -- --files 1000 --seed 1 [--violating 0.1] OUT
//! cargo run --release --example gen-corpus -- --dbt-models 1000 --seed 1 OUT   (a dbt project)
//! cargo run --release --example gen-corpus -- --syncs 1000 --seed 1 OUT   (activation configs)
//! cargo run --release --example gen-corpus -- --dbt-properties 1000 --seed 1 OUT   (property files only)
//! cargo run --release --example gen-corpus -- --fides-systems 1000 --seed 1 OUT   (a Fides repository)

mod corpus;

use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: gen-corpus --files N [--seed S] [--violating FRACTION] OUT");
    eprintln!("       gen-corpus --dbt-models N [--seed S] OUT");
    eprintln!("       gen-corpus --syncs N [--seed S] OUT");
    eprintln!("       gen-corpus --dbt-properties FILES [--seed S] OUT");
    eprintln!("       gen-corpus --fides-systems N [--seed S] OUT");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut cfg = corpus::Config {
        files: 1000,
        seed: 1,
        violating: 0.1,
    };
    let mut out: Option<PathBuf> = None;
    let mut dbt_models: Option<usize> = None;
    let mut syncs: Option<usize> = None;
    let mut dbt_properties: Option<usize> = None;
    let mut fides_systems: Option<usize> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(());
        let ok = match arg.as_str() {
            "--files" => value()
                .and_then(|v| v.parse().map_err(drop))
                .map(|v| cfg.files = v),
            "--seed" => value()
                .and_then(|v| v.parse().map_err(drop))
                .map(|v| cfg.seed = v),
            "--dbt-models" => value()
                .and_then(|v| v.parse().map_err(drop))
                .map(|v| dbt_models = Some(v)),
            "--syncs" => value()
                .and_then(|v| v.parse().map_err(drop))
                .map(|v| syncs = Some(v)),
            "--dbt-properties" => value()
                .and_then(|v| v.parse().map_err(drop))
                .map(|v| dbt_properties = Some(v)),
            "--fides-systems" => value()
                .and_then(|v| v.parse().map_err(drop))
                .map(|v| fides_systems = Some(v)),
            "--violating" => value()
                .and_then(|v| v.parse().map_err(drop))
                .map(|v: f64| cfg.violating = v.clamp(0.0, 1.0)),
            "-h" | "--help" => return usage(),
            _ if !arg.starts_with('-') && out.is_none() => {
                out = Some(arg.into());
                Ok(())
            }
            _ => Err(()),
        };
        if ok.is_err() {
            return usage();
        }
    }
    let Some(out) = out else {
        return usage();
    };
    if let Some(n) = syncs {
        return match corpus::activation::generate(n, cfg.seed, &out) {
            Ok(s) => {
                println!(
                    "activation repository, {} files ({} .tf, {} KiB): {} syncs",
                    s.files,
                    s.tf_files,
                    s.bytes / 1024,
                    s.syncs
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", out.display());
                ExitCode::FAILURE
            }
        };
    }
    if let Some(systems) = fides_systems {
        return match corpus::fides::generate(systems, cfg.seed, &out) {
            Ok(s) => {
                println!(
                    "Fides repository, {} files ({} KiB): {} datasets, {} systems",
                    s.files,
                    s.bytes / 1024,
                    s.datasets,
                    s.systems
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", out.display());
                ExitCode::FAILURE
            }
        };
    }
    let dbt = match (dbt_models, dbt_properties) {
        (Some(models), _) => Some(corpus::dbt::generate(models, cfg.seed, &out)),
        (None, Some(files)) => Some(corpus::dbt::properties(files, cfg.seed, &out)),
        _ => None,
    };
    if let Some(dbt) = dbt {
        return match dbt {
            Ok(s) => {
                println!(
                    "dbt project, {} files ({} KiB): {} source tables, {} models, {} exposures",
                    s.files,
                    s.bytes / 1024,
                    s.sources,
                    s.models,
                    s.exposures
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", out.display());
                ExitCode::FAILURE
            }
        };
    }
    match corpus::generate(&cfg, &out) {
        Ok(s) => {
            println!(
                "{} files ({} KiB): {} datasets with {} fields, {} sinks, {} pipelines with {} steps, {} violating",
                s.files,
                s.bytes / 1024,
                s.datasets,
                s.fields,
                s.sinks,
                s.pipelines,
                s.steps,
                s.violating_pipelines
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}
