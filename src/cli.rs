//! The command line (spec §5).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::check::{self, Options};
use crate::finding::{Check, Severity};
use crate::report;
use crate::rules::{self, Rule};

#[derive(Parser, Debug)]
#[command(
    name = "purposelint",
    version,
    about = "Finds fields collected for account security that flow into advertising, marketing or third-party sinks."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lint files and directories (default: the current directory).
    Check(CheckArgs),
    /// List every rule and built-in check.
    Rules {
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        /// Directory of extra rules (repeatable).
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Print the full description of one rule or check.
    Rule {
        id: String,
        /// Directory of extra rules (repeatable).
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Run the language server over stdio (for editors).
    Lsp {
        /// Quiet time after the last edit before re-linting, in milliseconds.
        #[arg(long, value_name = "MS", default_value_t = 150)]
        debounce_ms: u64,
        /// Directory of extra rules (repeatable).
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Files or directories to lint.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Directory of extra rules; a rule with a built-in id replaces it (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Exit with 1 when a finding has at least this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Worker threads for parsing and rules (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Compact,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    fn enabled(self, terminal: bool) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 the run failed.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Check(args) => run_check(args),
        Command::Rules { format, rules } => with_rules(&rules, |r| list_rules(r, format)),
        Command::Rule { id, rules } => with_rules(&rules, |r| show_rule(r, &id)),
        Command::Lsp { debounce_ms, rules } => with_rules(&rules, |r| {
            crate::lsp::run_stdio(crate::lsp::Config {
                debounce: std::time::Duration::from_millis(debounce_ms),
                rules: r.to_vec(),
            })
        }),
    };
    ExitCode::from(code)
}

fn load_rules(dirs: &[PathBuf]) -> Result<Vec<Rule>, u8> {
    rules::load(dirs).map_err(|e| {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "error: {}", e.message);
        let color = Color::Auto.enabled(std::io::stderr().is_terminal());
        let _ = report::human::render_findings(&mut err, &e.sources, &e.diags, color);
        2
    })
}

fn with_rules(dirs: &[PathBuf], f: impl FnOnce(&[Rule]) -> u8) -> u8 {
    match load_rules(dirs) {
        Ok(rules) => f(&rules),
        Err(code) => code,
    }
}

fn run_check(args: CheckArgs) -> u8 {
    let rules = match load_rules(&args.rules) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut opts = Options::new(args.paths);
    opts.rules = rules;
    let run = || check::run(&opts);
    let result = match args.threads {
        Some(n) => match rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
        {
            Ok(pool) => pool.install(run),
            Err(e) => {
                eprintln!("error: cannot start {n} threads: {e}");
                return 2;
            }
        },
        None => run(),
    };
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: cannot read {}: {}", e.path.display(), e.message);
            return 2;
        }
    };
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    let stdout = std::io::stdout();
    let color = args.color.enabled(stdout.is_terminal());
    let mut out = stdout.lock();
    let sources = &outcome.model.sources;
    let written = match args.format {
        Format::Human => report::human::render(
            &mut out,
            sources,
            &outcome.summary,
            &outcome.findings,
            color,
        ),
        Format::Compact => report::compact::render(&mut out, sources, &outcome.findings),
        Format::Json => {
            report::json::render(&mut out, sources, &outcome.summary, &outcome.findings)
        }
    };
    if let Err(e) = written.and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write output: {e}");
            return 2;
        }
    }
    let failed = args
        .fail_on
        .threshold()
        .is_some_and(|t| outcome.findings.iter().any(|f| f.severity >= t));
    u8::from(failed)
}

#[derive(Serialize)]
struct RuleEntry<'a> {
    id: &'a str,
    kind: &'static str,
    severity: Severity,
    summary: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sink: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flows: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sanitizers: Option<&'a [String]>,
    origin: &'a str,
}

fn list_rules(rules: &[Rule], format: ListFormat) -> u8 {
    let mut entries: Vec<RuleEntry> = rules
        .iter()
        .map(|r| RuleEntry {
            id: &r.id,
            kind: "flow",
            severity: r.severity,
            summary: &r.summary,
            source: Some(serde_json::json!({
                "purposes": r.source_purposes,
                "categories": r.source_categories,
            })),
            sink: Some(serde_json::json!({ "uses": r.sink_uses })),
            flows: Some(r.flows.iter().map(|k| k.as_str()).collect()),
            sanitizers: Some(&r.sanitizers),
            origin: &r.origin,
        })
        .collect();
    entries.extend(Check::ALL.iter().map(|c| RuleEntry {
        id: c.id(),
        kind: "check",
        severity: c.severity(),
        summary: c.summary(),
        source: None,
        sink: None,
        flows: None,
        sanitizers: None,
        origin: "built-in",
    }));
    let mut out = std::io::stdout().lock();
    let written = match format {
        ListFormat::Json => serde_json::to_writer_pretty(&mut out, &entries)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out)),
        ListFormat::Human => (|| {
            let width = entries.iter().map(|e| e.id.len()).max().unwrap_or(0);
            for e in &entries {
                writeln!(
                    out,
                    "{:width$}  {:7}  {:5}  {}",
                    e.id,
                    e.severity.as_str(),
                    e.kind,
                    e.summary
                )?;
            }
            writeln!(
                out,
                "\nRun `purposelint rule ID` for the full description of one."
            )
        })(),
    };
    u8::from(written.is_err()) * 2
}

fn show_rule(rules: &[Rule], id: &str) -> u8 {
    let text = if let Some(r) = rules.iter().find(|r| r.id == id) {
        format!(
            "# {}\n\n{} (severity: {}, {})\n\n{}",
            r.id,
            r.summary,
            r.severity.as_str(),
            r.origin,
            r.description.trim_end()
        )
    } else if let Some(c) = Check::ALL.iter().find(|c| c.id() == id) {
        c.description().trim_end().to_string()
    } else {
        let ids = rules
            .iter()
            .map(|r| r.id.as_str())
            .chain(Check::ALL.iter().map(|c| c.id()));
        let hint = crate::suggest::did_you_mean(id, ids)
            .map(|s| format!("; {s}"))
            .unwrap_or_default();
        eprintln!("error: no rule or check `{id}`{hint} (see `purposelint rules`)");
        return 2;
    };
    println!("{text}");
    0
}
