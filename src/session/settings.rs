//! From what a user chose (command-line options, or an editor's workspace folder) to the
//! options of a run: the configuration file, rule folders, selections and limits.

use std::path::PathBuf;

use crate::check::Options;
use crate::config::{self, Config};
use crate::finding::Finding;
use crate::rules;
use crate::source::Sources;

/// Which configuration file a run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigChoice {
    /// The nearest `purposelint.yaml` from this folder up to the repository root.
    Search(PathBuf),
    /// This file.
    File(PathBuf),
    /// None (`--no-config`).
    Ignore,
}

/// What selects the files, configuration and rules of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub paths: Vec<PathBuf>,
    pub config: ConfigChoice,
    /// `--rules` folders, after those of the configuration.
    pub rule_dirs: Vec<PathBuf>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub max_file_size: Option<u64>,
}

impl Settings {
    /// `purposelint check PATHS` from `cwd` with no other option.
    pub fn new(paths: Vec<PathBuf>, cwd: PathBuf) -> Self {
        Settings {
            paths,
            config: ConfigChoice::Search(cwd),
            rule_dirs: Vec::new(),
            select: Vec::new(),
            ignore: Vec::new(),
            max_file_size: None,
        }
    }
}

/// A run that cannot start or finish: bad configuration, rule files or arguments, a path
/// that cannot be read. The command line prints it and exits with 2.
#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    /// The files `diags` point into.
    pub sources: Sources,
    pub diags: Vec<Finding>,
}

impl Failure {
    pub fn plain(message: String) -> Self {
        Failure {
            message,
            sources: Sources::default(),
            diags: Vec::new(),
        }
    }
}

impl From<config::ConfigError> for Failure {
    fn from(e: config::ConfigError) -> Self {
        Failure {
            message: e.message,
            sources: e.sources,
            diags: e.diags,
        }
    }
}

impl From<rules::RuleError> for Failure {
    fn from(e: rules::RuleError) -> Self {
        Failure {
            message: e.message,
            sources: e.sources,
            diags: e.diags,
        }
    }
}

/// The configuration file `choice` names or finds, loaded.
pub fn load_config(choice: &ConfigChoice) -> Result<Option<Config>, Failure> {
    let path = match choice {
        ConfigChoice::Ignore => return Ok(None),
        ConfigChoice::File(p) => p.clone(),
        ConfigChoice::Search(from) => match config::find(from) {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    Ok(Some(config::load(&path)?))
}

/// The options of a run and the configuration file they came from.
pub(super) fn options(s: &Settings) -> Result<(Options, Option<PathBuf>), Failure> {
    let config = load_config(&s.config)?;
    let mut dirs = config
        .as_ref()
        .map(|c| c.rule_dirs.clone())
        .unwrap_or_default();
    dirs.extend(s.rule_dirs.iter().cloned());
    let mut opts = Options::new(s.paths.clone());
    if let Some(c) = &config {
        opts.taxonomy = c.taxonomy();
    }
    opts.rules = rules::load(&dirs, &opts.taxonomy)?;
    if let Some(c) = &config {
        opts.filter = Some(c.filter.clone());
        opts.severity = c
            .severity
            .iter()
            .map(|(id, level)| (id.value.clone(), *level))
            .collect();
        opts.configured_ids = c.severity.iter().map(|(id, _)| id.clone()).collect();
        opts.external_datasets = c.external_datasets.clone();
        if let Some(n) = c.max_file_size {
            opts.max_file_size = n;
        }
        opts.fides.infer_purposes_from_systems = c.fides_infer_purposes;
        opts.dbt.dialect = c.dbt_dialect;
        opts.dbt.profiles_dir = c.dbt_profiles_dir.clone();
        opts.activation.destinations = c.destinations.clone();
        opts.activation.relations = c.relations.clone();
        opts.activation.named = c.named.clone();
    }
    opts.select = s.select.clone();
    opts.ignore = s.ignore.clone();
    if let Some(n) = s.max_file_size {
        opts.max_file_size = n;
    }
    let file = config.map(|c| c.file);
    opts.config_file = file.clone();
    Ok((opts, file.map(|f| f.path)))
}
