//! The command line (spec §5).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::baseline::Baseline;
use crate::check;
use crate::finding::{Check, Severity};
use crate::report;
use crate::rules::{Entry, Registry, Rule};
use crate::session::{ConfigChoice, Failure, Session, Settings};

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
    /// List every rule and built-in check, with the rules that files under PATH define
    /// (Fides policies).
    Rules {
        /// Files or directories whose rules to list too.
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        /// Directory of extra rules (repeatable).
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Print the full description of one rule or check.
    Rule {
        id: String,
        /// Files or directories that define the rule (Fides policies).
        paths: Vec<PathBuf>,
        /// Directory of extra rules (repeatable).
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Record the current flow findings in FILE, so that `check --baseline FILE` reports
    /// only new ones.
    Baseline {
        /// The baseline file to write (YAML).
        file: PathBuf,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Show every sink a field or dataset reaches, hop by hop, or (for a sink, or with
    /// --reverse) every source field that reaches it.
    Trace(TraceArgs),
    /// Print the data-flow graph (datasets and sinks, or fields) as Graphviz DOT or
    /// Mermaid, with the flows on reported paths highlighted.
    Graph(GraphArgs),
    /// Report what a clean run covers: fields with and without purposes, unlabelled
    /// contact and identifier fields, sinks without uses, lineage fallbacks, label reach.
    Coverage(CoverageArgs),
    /// List the destination catalogue of the activation configs (docs/activation.md).
    Destinations {
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Print a JSON Schema.
    Schema {
        #[arg(value_enum)]
        which: SchemaKind,
    },
    /// Print a shell completion script (e.g. `purposelint completions bash > ~/.local/share/bash-completion/completions/purposelint`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `purposelint man > purposelint.1`.
    Man,
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

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaKind {
    /// The configuration file `purposelint.yaml`.
    Config,
}

/// What selects the files and rules of a run (shared by `check` and `baseline`).
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Files or directories to lint.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Directory of extra rules; a rule with a built-in id replaces it (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Configuration file (default: purposelint.yaml or .purposelint.yaml, searched from
    /// the folder holding every path up to the repository root).
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long)]
    pub no_config: bool,
    /// Run only these rules and checks (comma-separated or repeated).
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Never run these rules and checks (comma-separated or repeated).
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Worker threads for parsing and rules (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Larger files are reported as skipped instead of read, e.g. 10MiB, 512KiB, 4096
    /// (default: `max_file_size` of the configuration, else 10MiB).
    #[arg(long, value_name = "SIZE", value_parser = crate::config::parse_size)]
    pub max_file_size: Option<u64>,
}

#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// A field (`dataset.field`), a dataset or a sink.
    pub name: String,
    #[command(flatten)]
    pub run: RunArgs,
    /// Every source field that reaches NAME, instead of where NAME goes (the default
    /// for a sink).
    #[arg(long)]
    pub reverse: bool,
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// One node per field (grouped by dataset) instead of one per dataset.
    #[arg(long)]
    pub fields: bool,
    /// Keep only what reaches, or is reached from, this field, dataset or sink.
    #[arg(long, value_name = "NAME")]
    pub focus: Option<String>,
    /// Write to FILE instead of the standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output_file: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct CoverageArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
    /// Exit with 1 when fewer than PERCENT of the declared fields have a purpose.
    #[arg(long, value_name = "PERCENT")]
    pub fail_under: Option<f64>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    /// Graphviz (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Exit with 1 when a finding has at least this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Report only findings that are not recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Also list suppressed findings with their reasons (human and compact formats).
    #[arg(long)]
    pub show_suppressed: bool,
    /// Print the number of findings per rule instead of the findings.
    #[arg(long)]
    pub statistics: bool,
    /// Print the findings and nothing else: no summary, no warnings.
    #[arg(long, short)]
    pub quiet: bool,
    /// Write the report to FILE instead of the standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// List each file found, the formats that read it or why it is not linted; no check.
    #[arg(long, conflicts_with = "show_settings")]
    pub show_files: bool,
    /// Print the configuration file used and the resolved settings; no check.
    #[arg(long)]
    pub show_settings: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Compact,
    Json,
    /// SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// GitLab code-quality report (JSON).
    Gitlab,
    /// One self-contained HTML page (use with -o FILE): summary, findings with their
    /// code, a picture of the violating paths; it loads nothing from the network.
    Html,
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
    /// `auto`: `NO_COLOR` (non-empty) turns colour off, else `FORCE_COLOR` or
    /// `CLICOLOR_FORCE` (non-empty, not `0`) turn it on, else a terminal does.
    fn enabled(self, terminal: bool) -> bool {
        let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let forced = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto if set("NO_COLOR") => false,
            Color::Auto => forced("FORCE_COLOR") || forced("CLICOLOR_FORCE") || terminal,
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
        Command::Rules {
            paths,
            format,
            rules,
        } => with_registry(paths, rules, |r| list_rules(r, format)),
        Command::Rule { id, paths, rules } => with_registry(paths, rules, |r| show_rule(r, &id)),
        Command::Baseline { file, run } => write_baseline(&file, run),
        Command::Trace(args) => crate::explain::trace::command(&args),
        Command::Graph(args) => crate::explain::graph::command(&args),
        Command::Coverage(args) => crate::coverage::command(&args),
        Command::Destinations { format } => list_destinations(format),
        Command::Schema { which } => match which {
            SchemaKind::Config => print_bytes(crate::config::SCHEMA.as_bytes()),
        },
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "purposelint", &mut script);
            print_bytes(&script)
        }
        Command::Man => {
            let man = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command());
            let mut page = Vec::new();
            match man.render(&mut page) {
                Ok(()) => print_bytes(&page),
                Err(e) => {
                    eprintln!("error: cannot write the manual page: {e}");
                    2
                }
            }
        }
        Command::Lsp { debounce_ms, rules } => crate::lsp::run_stdio(crate::lsp::Config {
            debounce: std::time::Duration::from_millis(debounce_ms),
            rule_dirs: rules,
        }),
    };
    ExitCode::from(code)
}

/// Writes to the standard output; a closed pipe (`| head`) is not an error.
fn print_bytes(bytes: &[u8]) -> u8 {
    match std::io::stdout().lock().write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write output: {e}");
            2
        }
        _ => 0,
    }
}

fn print_failure(f: &Failure) -> u8 {
    print_diags(&f.message, &f.sources, &f.diags);
    2
}

fn print_diags(message: &str, sources: &crate::source::Sources, diags: &[crate::finding::Finding]) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {message}");
    let color = Color::Auto.enabled(std::io::stderr().is_terminal());
    let _ = report::human::render_findings(&mut err, sources, diags, color);
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_default()
}

impl RunArgs {
    fn settings(&self) -> Settings {
        let config = match (&self.config, self.no_config) {
            (_, true) => ConfigChoice::Ignore,
            (Some(file), false) => ConfigChoice::File(file.clone()),
            (None, false) => ConfigChoice::Search(crate::config::search_start(&self.paths, &cwd())),
        };
        Settings {
            paths: self.paths.clone(),
            config,
            rule_dirs: self.rules.clone(),
            select: self.select.clone(),
            ignore: self.ignore.clone(),
            max_file_size: self.max_file_size,
        }
    }
}

/// Configures a session as `run` says and checks its paths on `threads` threads.
fn execute(run: &RunArgs) -> Result<(Session, check::Outcome), u8> {
    let session = Session::configure(&run.settings()).map_err(|f| print_failure(&f))?;
    check_on(session, run.threads)
}

/// Checks a session's paths on `threads` threads.
fn check_on(mut session: Session, threads: Option<usize>) -> Result<(Session, check::Outcome), u8> {
    let result = match threads {
        Some(n) => match rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
        {
            Ok(pool) => pool.install(|| session.check()),
            Err(e) => {
                eprintln!("error: cannot start {n} threads: {e}");
                return Err(2);
            }
        },
        None => session.check(),
    };
    let outcome = result.map_err(|f| print_failure(&f))?;
    Ok((session, outcome))
}

/// The rules of a run over `paths` (the configuration's and `--rules` folders' rules, and
/// those the files define, such as Fides policies), handed to `f`.
fn with_registry(paths: Vec<PathBuf>, dirs: Vec<PathBuf>, f: impl FnOnce(&Registry) -> u8) -> u8 {
    let mut settings = Settings::new(paths.clone(), crate::config::search_start(&paths, &cwd()));
    settings.rule_dirs = dirs;
    let mut session = match Session::configure(&settings) {
        Ok(s) => s,
        Err(failure) => return print_failure(&failure),
    };
    let rules = if paths.is_empty() {
        session.options().rules.clone()
    } else {
        match session.check() {
            Ok(outcome) => outcome.rules,
            Err(failure) => return print_failure(&failure),
        }
    };
    f(&Registry::new(rules, Vec::new()))
}

/// The run behind `trace`, `graph` and `coverage`: warnings go to stderr, failures are
/// printed and become exit code 2. Returns the outcome and the rules that ran, with their
/// configured severities.
pub(crate) fn run_for_explain(run: &RunArgs) -> Result<(check::Outcome, Vec<Rule>), u8> {
    run_for_explain_with(run, |_| {})
}

/// Like [`run_for_explain`], with the session's options adjusted by `adjust` first.
pub(crate) fn run_for_explain_with(
    run: &RunArgs,
    adjust: impl FnOnce(&mut check::Options),
) -> Result<(check::Outcome, Vec<Rule>), u8> {
    let mut session = Session::configure(&run.settings()).map_err(|f| print_failure(&f))?;
    let mut opts = session.options().clone();
    adjust(&mut opts);
    let config_file = session.config_file().map(PathBuf::from);
    session.set_options(opts, config_file);
    let (session, outcome) = check_on(session, run.threads)?;
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    let opts = session.options();
    let rules = outcome
        .rules
        .iter()
        .filter(|r| opts.enabled(&r.id))
        .map(|r| Rule {
            severity: opts.severity_of(&r.id, r.severity),
            ..r.clone()
        })
        .collect();
    Ok((outcome, rules))
}

/// Writes a report to the standard output, buffered; returns the exit code (2 when the
/// output cannot be written, but not for a closed pipe).
pub(crate) fn write_stdout(f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> u8 {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match f(&mut out).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write output: {e}");
            2
        }
        _ => 0,
    }
}

/// Writes a report to `path`, or to the standard output when there is none.
pub(crate) fn write_output(
    path: Option<&std::path::Path>,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> u8 {
    let Some(path) = path else {
        return write_stdout(f);
    };
    let written = std::fs::File::create(path).and_then(|file| {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        f(&mut out)?;
        out.flush()
    });
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", path.display());
            2
        }
    }
}

fn write_baseline(file: &std::path::Path, run: RunArgs) -> u8 {
    let (_, outcome) = match execute(&run) {
        Ok(o) => o,
        Err(code) => return code,
    };
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    let b = Baseline::from_findings(&outcome.findings);
    if let Err(e) = b.write(file) {
        eprintln!("error: cannot write {}: {e}", file.display());
        return 2;
    }
    let skipped = outcome.findings.iter().filter(|f| f.flow.is_none()).count();
    eprintln!(
        "Recorded {} finding{} in {}.",
        b.entries.len(),
        if b.entries.len() == 1 { "" } else { "s" },
        file.display()
    );
    if skipped > 0 {
        eprintln!(
            "note: {skipped} diagnostic{} of built-in checks (broken or unknown references) cannot be baselined; fix them",
            if skipped == 1 { "" } else { "s" }
        );
    }
    0
}

/// `--show-settings` and `--show-files`: what a check would use, printed instead.
fn show(args: &CheckArgs) -> u8 {
    let settings = args.run.settings();
    let mut session = match Session::configure(&settings) {
        Ok(s) => s,
        Err(f) => return print_failure(&f),
    };
    let mut out = std::io::stdout().lock();
    let written = if args.show_settings {
        let config = match crate::session::load_config(&settings.config) {
            Ok(c) => c,
            Err(f) => return print_failure(&f),
        };
        let from = cwd().display().to_string();
        let config = match (&config, &settings.config) {
            (Some(c), _) => Ok(c),
            (None, ConfigChoice::Ignore) => Err(report::listing::NoConfig::Ignored),
            (None, _) => Err(report::listing::NoConfig::NotFound(&from)),
        };
        report::listing::render_settings(&mut out, session.options(), config)
    } else {
        match session.show_files() {
            Ok(lines) => report::listing::render_files(&mut out, &lines),
            Err(f) => return print_failure(&f),
        }
    };
    u8::from(written.is_err()) * 2
}

fn run_check(args: CheckArgs) -> u8 {
    if args.show_settings || args.show_files {
        return show(&args);
    }
    let baseline = match &args.baseline {
        Some(path) => match Baseline::load(path) {
            Ok(b) => Some(b),
            Err(e) => {
                print_diags(&e.message, &e.sources, &e.diags);
                return 2;
            }
        },
        None => None,
    };
    let (session, mut outcome) = match execute(&args.run) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let opts = session.options();
    let stale = match &baseline {
        Some(b) => {
            let stale = b.apply(&mut outcome.findings, &mut outcome.dismissed);
            check::sort_dismissed(&outcome.model, &mut outcome.dismissed);
            stale
        }
        None => Vec::new(),
    };
    if !args.quiet {
        for w in &outcome.warnings {
            eprintln!("warning: {w}");
        }
        if let Some(path) = &args.baseline {
            for e in &stale {
                eprintln!(
                    "stale baseline entry in {}: {} {} → {} no longer occurs; remove it or run `purposelint baseline`",
                    path.display(),
                    e.rule,
                    e.source,
                    e.sink
                );
            }
        }
    }
    let (sink, terminal) = match report_sink(args.output_file.as_deref()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let color = args.color.enabled(terminal);
    // Buffered: the standard output is line-buffered, and pretty JSON or SARIF would
    // otherwise cost one write call per line (56,000 for 550 findings).
    let mut out = std::io::BufWriter::with_capacity(1 << 16, sink);
    let sources = &outcome.model.sources;
    let dismissed: &[crate::finding::Dismissed] = if args.show_suppressed {
        &outcome.dismissed
    } else {
        &[]
    };
    let mut report_phase = crate::timings::Phases::start();
    let for_people = matches!(args.format, Format::Human | Format::Compact);
    if args.statistics && !for_people {
        // The report stays machine-readable; the counts are for the person watching.
        let mut err = std::io::stderr().lock();
        let lineage = outcome.summary.lineage.as_ref();
        let _ = report::statistics::render(&mut err, opts, &outcome.findings, lineage);
    }
    let written = if args.statistics && for_people {
        let lineage = outcome.summary.lineage.as_ref();
        report::statistics::render(&mut out, opts, &outcome.findings, lineage)
    } else {
        match args.format {
            Format::Human => {
                report::human::render_findings(&mut out, sources, &outcome.findings, color)
                    .and_then(|_| report::human::render_dismissed(&mut out, sources, dismissed))
                    .and_then(|_| match args.quiet {
                        true => Ok(()),
                        false => report::human::render_summary(
                            &mut out,
                            &outcome.summary,
                            &outcome.findings,
                            &outcome.dismissed,
                            color,
                        ),
                    })
            }
            Format::Compact => report::compact::render(&mut out, sources, &outcome.findings, color)
                .and_then(|_| report::compact::render_dismissed(&mut out, sources, dismissed)),
            Format::Json => report::json::render(
                &mut out,
                sources,
                &outcome.summary,
                &outcome.findings,
                &outcome.dismissed,
            ),
            Format::Sarif => report::sarif::render(
                &mut out,
                sources,
                &report::sarif::descriptors(&outcome.rules, |id, s| opts.severity_of(id, s)),
                &outcome.findings,
                &outcome.dismissed,
            ),
            Format::Github => report::github::render(&mut out, sources, &outcome.findings),
            Format::Gitlab => report::gitlab::render(&mut out, sources, &outcome.findings),
            Format::Html => {
                let graph = crate::graph::FlowGraph::build(&outcome.model);
                // Only the rules that ran cut flows with their sanitizers.
                let rules: Vec<Rule> = (outcome.rules.iter())
                    .filter(|r| session.options().enabled(&r.id))
                    .cloned()
                    .collect();
                let input = report::html::Input {
                    model: &outcome.model,
                    graph: &graph,
                    rules: &rules,
                    summary: &outcome.summary,
                    findings: &outcome.findings,
                };
                report::html::render(&mut out, &input)
            }
        }
    };
    if let Err(e) = written.and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write output: {e}");
            return 2;
        }
    }
    report_phase.mark("report");
    let failed = args
        .fail_on
        .threshold()
        .is_some_and(|t| outcome.findings.iter().any(|f| f.severity >= t));
    // The process exits next: freeing a large model piece by piece would only cost time.
    std::mem::forget(outcome);
    u8::from(failed)
}

/// Where the report goes: the standard output, or the `--output-file` (created with its
/// folders); and whether that is a terminal.
fn report_sink(file: Option<&std::path::Path>) -> Result<(Box<dyn Write>, bool), u8> {
    let Some(path) = file else {
        let stdout = std::io::stdout();
        let terminal = stdout.is_terminal();
        return Ok((Box::new(stdout.lock()), terminal));
    };
    let created = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
        _ => Ok(()),
    }
    .and_then(|_| std::fs::File::create(path));
    match created {
        Ok(f) => Ok((Box::new(f), false)),
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", path.display());
            Err(2)
        }
    }
}

#[derive(Serialize)]
struct RuleEntry<'a> {
    id: &'a str,
    kind: &'static str,
    severity: Severity,
    summary: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<RuleSource<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sink: Option<RuleSink<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flows: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sanitizers: Option<&'a [String]>,
    origin: &'a str,
}

/// Structs rather than `serde_json::Value`, whose key order depends on a serde_json
/// feature that only the dev-dependencies enable (keys came out sorted in a plain build).
#[derive(Serialize)]
struct RuleSource<'a> {
    purposes: &'a [String],
    categories: &'a [String],
}

#[derive(Serialize)]
struct RuleSink<'a> {
    uses: &'a [String],
}

fn list_rules(registry: &Registry, format: ListFormat) -> u8 {
    let mut entries: Vec<RuleEntry> = registry
        .rules
        .iter()
        .map(|r| RuleEntry {
            id: &r.id,
            kind: "flow",
            severity: r.severity,
            summary: &r.summary,
            source: Some(RuleSource {
                purposes: &r.source_purposes,
                categories: &r.source_categories,
            }),
            sink: Some(RuleSink { uses: &r.sink_uses }),
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
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
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

/// One catalogue entry of `destinations --format json`. A struct, not a `json!` map, so
/// that the key order is the same in every build: a map's depends on whether some
/// dependency enables serde_json's `preserve_order` (the tests' dev-dependencies do).
#[derive(serde::Serialize)]
struct DestinationEntry {
    aliases: &'static [&'static str],
    classic: bool,
    name: &'static str,
    platform: &'static str,
    source: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    uses: &'static [&'static str],
    verified: bool,
}

fn list_destinations(format: ListFormat) -> u8 {
    use std::io::Write as _;
    let entries = crate::formats::activation::catalogue::builtin();
    let mut out = std::io::stdout().lock();
    match format {
        ListFormat::Json => {
            let list: Vec<DestinationEntry> = entries
                .iter()
                .map(|e| DestinationEntry {
                    aliases: e.aliases,
                    classic: e.classic,
                    name: e.name,
                    platform: e.platform,
                    source: e.source,
                    kind: e.kind,
                    uses: e.uses,
                    verified: e.verified,
                })
                .collect();
            match serde_json::to_string_pretty(&list) {
                Ok(s) => {
                    let _ = writeln!(out, "{s}");
                }
                Err(_) => return 2,
            }
        }
        ListFormat::Human => {
            for e in entries {
                let uses = if e.uses.is_empty() {
                    "(no uses: a transport)".to_string()
                } else {
                    e.uses.join(", ")
                };
                let classic = if e.classic { " (classic)" } else { "" };
                let line = format!("{}:{}  {}{classic}\n    {uses}", e.platform, e.kind, e.name);
                if writeln!(out, "{line}").is_err() {
                    break;
                }
            }
        }
    }
    0
}

fn show_rule(registry: &Registry, id: &str) -> u8 {
    let text = match registry.find(id) {
        Some(Entry::Rule(r)) => format!(
            "# {}\n\n{} (severity: {}, {})\n\n{}",
            r.id,
            r.summary,
            r.severity.as_str(),
            r.origin,
            r.description.trim_end()
        ),
        Some(Entry::Check(c)) => c.description().trim_end().to_string(),
        None => {
            eprintln!("error: {}", registry.unknown(id));
            return 2;
        }
    };
    print_bytes(format!("{text}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use crate::config::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("3PiB").is_err());
        assert!(parse_size("99999999999GiB").is_err());
    }
}
