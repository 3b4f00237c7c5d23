//! The diagnostics of the built-in checks. Each is built here, from its arguments, so
//! that its check, message, suggestion and help read the same in every format and every
//! output: a suggestion is part of the message (`…; did you mean `x`?`, spec §4).

use crate::finding::{Check, Finding};
use crate::source::Loc;
use crate::taxonomy::Tree;

/// A diagnostic of a built-in check, before it has a place.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Diag {
    // invalid-manifest
    /// A manifest that breaks its format's rules; the message says which.
    Invalid(String),
    /// Like `Invalid`, with a hint on how to fix it.
    InvalidWithHelp(String, String),
    /// A key its mapping does not accept.
    UnknownKey {
        key: String,
        /// The mapping, e.g. "a dataset".
        what: String,
        suggestion: Option<String>,
        /// Every key the mapping accepts, shown when nothing is close.
        known: Vec<String>,
    },
    InvalidYaml(String),
    NotUtf8,
    BadExpression {
        text: String,
        error: String,
    },
    /// A malformed `# purposelint: ignore[…]` comment.
    BadIgnore(String),
    /// A reason of an `allow` entry or ignore comment that only holds the place of one.
    PlaceholderReason {
        reason: String,
        /// A reason written as it should be.
        example: String,
    },
    /// A `kind` of a document meant as a manifest that is not one of ours.
    UnknownKind {
        kind: String,
        suggestion: Option<String>,
    },
    /// `apiVersion: purposelint/v1` without a `kind`.
    MissingKind,
    /// An `apiVersion` of ours other than `purposelint/v1`.
    UnknownApiVersion {
        version: String,
    },

    // unknown-reference
    UnknownDataset {
        name: String,
        suggestion: Option<String>,
    },
    /// `dataset.field` whose dataset is unknown.
    UnknownDatasetOf {
        dataset: String,
        reference: String,
        suggestion: Option<String>,
    },
    /// A reference to something of another format or kind, e.g. "Fides dataset".
    UnknownNamed {
        what: String,
        name: String,
        suggestion: Option<String>,
    },
    NoField {
        /// e.g. "dataset `ads.members`", "Fides dataset `shop`"
        owner: String,
        field: String,
        suggestion: Option<String>,
    },
    /// Like `NoField`, worded from the field: "no field `x` in Fides dataset `y`".
    NoFieldIn {
        field: String,
        owner: String,
        suggestion: Option<String>,
    },
    NoFieldInFrom {
        field: String,
        suggestion: Option<String>,
    },
    AmbiguousField {
        field: String,
        owners: Vec<String>,
    },
    NotInFrom {
        dataset: String,
    },
    SinkInFrom {
        name: String,
    },
    UnknownRule {
        /// Where the id is written: "`allow`", "the ignore comment".
        place: String,
        rule: String,
        suggestion: Option<String>,
    },
    UnknownDependency {
        exposure: String,
        dependency: String,
    },

    // duplicate-definition
    Duplicate {
        /// "dataset", "sink", …; `None` for a name of any kind.
        what: Option<String>,
        name: String,
        /// `file:line` of the first definition.
        first: String,
    },

    // unknown-purpose
    UnknownTaxonomyKey {
        tree: Tree,
        key: String,
        suggestion: Option<String>,
    },
    /// A configured alias that stands for a key of neither taxonomy.
    UnknownAliasTarget {
        label: String,
        key: String,
        suggestion: Option<String>,
    },
    /// A configured taxonomy key whose parent is not a key.
    UnknownParent {
        tree: Tree,
        parent: String,
        key: String,
        suggestion: Option<String>,
    },
    /// A Fides `data_purposes` value that is neither a `purpose` nor a data use.
    NotAPurpose {
        value: String,
        suggestion: Option<String>,
    },

    // undeclared-destination
    /// A step's `to` that nothing declares and no step reads.
    UndeclaredTo {
        name: String,
        suggestion: Option<String>,
    },

    // skipped-file
    Skipped(String),

    // no-input
    NoInput {
        /// The paths given, as users wrote them.
        paths: Vec<String>,
    },

    /// A reference of `check` to `name`, which `file` declares but the run does not read.
    InUnreadFile {
        check: Check,
        name: String,
        file: String,
        why: Unread,
    },
    /// A reference of `check` to `name`, which `file` declares but could not be parsed.
    InUnparsedFile {
        check: Check,
        name: String,
        file: String,
        /// The file parsed, but the document that declares the name is invalid.
        parsed: bool,
    },

    // incomplete-lineage
    IncompleteLineage {
        model: String,
        reason: String,
    },

    // stale-manifest
    StaleManifest {
        model: String,
        others: usize,
    },
    // activation configs (docs/activation.md)
    /// A `.tf` file of ours that is not valid HCL.
    InvalidHcl(String),
    /// A `relations:` pin whose target names no dataset.
    BadRelationPin {
        relation: String,
        target: String,
        suggestion: Option<String>,
    },
    /// A `destinations:` key that names neither a platform nor a destination.
    UnknownDestinationKey {
        key: String,
        suggestion: Option<String>,
    },
    /// A Terraform address or rudder-cli URN that nothing declares.
    UnknownAddress {
        address: String,
        /// "this module", "this project".
        place: String,
        suggestion: Option<String>,
    },
    /// A reference to something of the wrong kind: "`x` is not a destination".
    NotA {
        name: String,
        what: String,
    },
    /// A column that a linked dataset or source lacks.
    NoColumn {
        column: String,
        dataset: String,
        /// The datasets `dataset` is linked to, when it is a source that reads others.
        reads: Vec<String>,
        suggestion: Option<String>,
    },
    AmbiguousRelation {
        relation: String,
        candidates: Vec<String>,
    },
    /// A literal destination id that no file of the run declares.
    UndeclaredDestination {
        id: String,
        sink: String,
    },
    /// A destination that is not given literally.
    UnknownDestination {
        connection: String,
        what: String,
        why: String,
    },
    UnclassifiedDestination {
        sink: String,
        /// `<platform>:<type>`, or why the type cannot be read.
        key: Result<String, String>,
        /// Security fields that reach it (the first few) and how many more.
        reaching: Vec<String>,
        more: usize,
    },
    /// Something read but not followed, or a value that cannot be read literally.
    NotFollowed(String),

    // unused-suppression
    UnusedAllow {
        rule: String,
        step: String,
    },
    UnusedIgnore {
        rules: Vec<String>,
    },
}

/// Why a file found on disk is not read by a run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Unread {
    Gitignored,
    /// Excluded by this configuration file.
    Excluded(String),
}

/// `; did you mean `x`?` when there is a suggestion.
fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// `` `a`, `b`, `c` ``
fn comma_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

fn code_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(" and ")
}

impl Diag {
    pub(crate) fn check(&self) -> Check {
        use Diag::*;
        match self {
            Invalid(_)
            | InvalidWithHelp(..)
            | UnknownKey { .. }
            | InvalidYaml(_)
            | NotUtf8
            | BadExpression { .. }
            | BadIgnore(_)
            | InvalidHcl(_)
            | BadRelationPin { .. }
            | UnknownDestinationKey { .. }
            | PlaceholderReason { .. }
            | UnknownKind { .. }
            | MissingKind
            | UnknownApiVersion { .. } => Check::InvalidManifest,
            UnknownDataset { .. }
            | UnknownDatasetOf { .. }
            | UnknownNamed { .. }
            | NoField { .. }
            | NoFieldIn { .. }
            | NoFieldInFrom { .. }
            | AmbiguousField { .. }
            | NotInFrom { .. }
            | SinkInFrom { .. }
            | UnknownRule { .. }
            | UnknownDependency { .. }
            | UnknownAddress { .. }
            | NotA { .. }
            | NoColumn { .. } => Check::UnknownReference,
            AmbiguousRelation { .. } => Check::AmbiguousRelation,
            UndeclaredDestination { .. } | UnknownDestination { .. } => {
                Check::UndeclaredDestination
            }
            UnclassifiedDestination { .. } => Check::UnclassifiedDestination,
            NotFollowed(_) => Check::IncompleteLineage,
            Duplicate { .. } => Check::DuplicateDefinition,
            UnknownTaxonomyKey { .. }
            | NotAPurpose { .. }
            | UnknownAliasTarget { .. }
            | UnknownParent { .. } => Check::UnknownPurpose,
            UndeclaredTo { .. } => Check::UndeclaredDestination,
            Skipped(_) => Check::SkippedFile,
            NoInput { .. } => Check::NoInput,
            InUnparsedFile { check, .. } | InUnreadFile { check, .. } => *check,
            IncompleteLineage { .. } => Check::IncompleteLineage,
            StaleManifest { .. } => Check::StaleManifest,
            UnusedAllow { .. } | UnusedIgnore { .. } => Check::UnusedSuppression,
        }
    }

    pub(crate) fn message(&self) -> String {
        use Diag::*;
        match self {
            Invalid(m) | InvalidWithHelp(m, _) | BadIgnore(m) | Skipped(m) => m.clone(),
            UnknownKey {
                key,
                what,
                suggestion,
                ..
            } => format!("unknown key `{key}` in {what}{}", did_you_mean(suggestion)),
            InvalidYaml(m) => format!("invalid YAML: {m}"),
            NotUtf8 => "the file is not valid UTF-8".into(),
            BadExpression { text, error } => {
                format!("cannot parse the expression `{text}`: {error}")
            }
            UnknownKind { kind, suggestion } => format!(
                "unknown manifest kind `{kind}`{}",
                did_you_mean(suggestion)
            ),
            MissingKind => "a `purposelint/v1` manifest needs a `kind`".into(),
            PlaceholderReason { reason, .. } => format!(
                "`{reason}` is a placeholder, not a reason: record why this flow was approved"
            ),
            UnknownApiVersion { version } => format!(
                "`{version}` is not a supported apiVersion; did you mean `purposelint/v1`?"
            ),
            UnknownDataset { name, suggestion } => {
                format!("unknown dataset `{name}`{}", did_you_mean(suggestion))
            }
            UnknownDatasetOf {
                dataset,
                reference,
                suggestion,
            } => format!(
                "unknown dataset `{dataset}` in `{reference}`{}",
                did_you_mean(suggestion)
            ),
            UnknownNamed {
                what,
                name,
                suggestion,
            } => format!("no {what} `{name}`{}", did_you_mean(suggestion)),
            NoField {
                owner,
                field,
                suggestion,
            } => format!("{owner} has no field `{field}`{}", did_you_mean(suggestion)),
            NoFieldIn {
                field,
                owner,
                suggestion,
            } => format!("no field `{field}` in {owner}{}", did_you_mean(suggestion)),
            NoFieldInFrom { field, suggestion } => format!(
                "no dataset in `from` has a field `{field}`{}",
                did_you_mean(suggestion)
            ),
            AmbiguousField { field, owners } => format!(
                "`{field}` is ambiguous: it is a field of {}",
                code_list(owners)
            ),
            NotInFrom { dataset } => format!("`{dataset}` is not in this step's `from`"),
            SinkInFrom { name } => format!("`{name}` is a sink; `from` names datasets only"),
            UnknownRule {
                place,
                rule,
                suggestion,
            } => format!(
                "{place} names an unknown rule `{rule}`{}",
                did_you_mean(suggestion)
            ),
            UnknownDependency {
                exposure,
                dependency,
            } => format!(
                "exposure `{exposure}` depends on `{dependency}`, which is not a model, seed, snapshot or source of the project"
            ),
            Duplicate { what, name, first } => match what {
                Some(what) => format!("{what} `{name}` is already defined at {first}"),
                None => format!("`{name}` is already defined at {first}"),
            },
            UnknownTaxonomyKey {
                tree,
                key,
                suggestion,
            } => format!(
                "`{key}` is not a known {}{}",
                tree.noun(),
                did_you_mean(suggestion)
            ),
            UnknownAliasTarget {
                label,
                key,
                suggestion,
            } => format!(
                "alias `{label}` maps to `{key}`, which is not a known data use or category{}",
                did_you_mean(suggestion)
            ),
            UnknownParent {
                tree,
                parent,
                key,
                suggestion,
            } => format!(
                "the parent `{parent}` of `{key}` is not a known {}{}",
                tree.noun(),
                did_you_mean(suggestion)
            ),
            NotAPurpose { value, suggestion } => format!(
                "`{value}` is neither a Fides `purpose` nor a known data use{}",
                did_you_mean(suggestion)
            ),
            UndeclaredTo { name, suggestion } => format!(
                "`{name}` is not a declared dataset or sink, and no step reads it: where these flows end is unknown{}",
                did_you_mean(suggestion)
            ),
            NoInput { paths } => format!(
                "nothing to lint in {}: no purposelint manifest, dbt project or Fides resource was found",
                code_list(paths)
            ),
            InUnreadFile {
                name, file, why, ..
            } => format!(
                "`{name}` is declared in {file}, which this run does not read: {}",
                match why {
                    Unread::Gitignored => "it is gitignored".to_string(),
                    Unread::Excluded(config) => format!("{config} excludes it"),
                }
            ),
            InUnparsedFile {
                name, file, parsed, ..
            } => match parsed {
                false => format!(
                    "`{name}` is declared in {file}, which could not be parsed; fix that file first"
                ),
                true => format!(
                    "`{name}` is declared in {file}, which has invalid-manifest errors; fix that file first"
                ),
            },
            IncompleteLineage { model, reason } => {
                format!("column lineage of dbt model `{model}` is incomplete: {reason}")
            }
            StaleManifest { model, others } => {
                let others = match others {
                    0 => String::new(),
                    1 => " and 1 other model".into(),
                    n => format!(" and {n} other models"),
                };
                format!(
                    "target/manifest.json was compiled from other contents of `{model}`{others} \
                     (the checksums differ); their SQL is rendered from the files instead"
                )
            }
            InvalidHcl(m) => format!("invalid HCL: {m}"),
            BadRelationPin {
                relation,
                target,
                suggestion,
            } => format!(
                "`relations:` in the configuration pins `{relation}` to `{target}`, which names no dataset{}",
                did_you_mean(suggestion)
            ),
            UnknownDestinationKey { key, suggestion } => format!(
                "`destinations:` key `{key}` names no destination (a key is `<platform>:<type>` or the name of a destination){}",
                did_you_mean(suggestion)
            ),
            UnknownAddress {
                address,
                place,
                suggestion,
            } => format!(
                "`{address}` is not declared in {place}{}",
                did_you_mean(suggestion)
            ),
            NotA { name, what } => format!("`{name}` is not {what}"),
            NoColumn {
                column,
                dataset,
                reads,
                suggestion,
            } => {
                let reads = match reads.is_empty() {
                    true => String::new(),
                    false => format!(" (it reads {})", comma_list(reads)),
                };
                format!(
                    "`{column}` is not a column of `{dataset}`{reads}{}",
                    did_you_mean(suggestion)
                )
            }
            AmbiguousRelation {
                relation,
                candidates,
            } => format!(
                "relation `{relation}` could be any of {}; it is linked to all of them (pin one in purposelint.yaml with `relations: {{\"{relation}\": <dataset>}}`)",
                comma_list(candidates)
            ),
            UndeclaredDestination { id, sink } => format!(
                "the destination `{id}` is not declared in any file of this run, so what it is used for is unknown; declare it with a native `kind: sink` named `{sink}`"
            ),
            UnknownDestination {
                connection,
                what,
                why,
            } => format!(
                "the destination of `{connection}` is unknown ({what} cannot be read literally: {why}), so what it is used for is unknown"
            ),
            UnclassifiedDestination {
                sink,
                key,
                reaching,
                more,
            } => {
                let reach = if reaching.is_empty() {
                    String::new()
                } else {
                    let more = if *more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    };
                    format!("; security fields reach it: {}{more}", comma_list(reaching))
                };
                match key {
                    Ok(key) => format!(
                        "destination `{sink}` has type `{key}`, which no catalogue classifies, so what it does with the data is unknown{reach}; classify it in purposelint.yaml with `destinations: {{\"{key}\": [<uses>]}}`"
                    ),
                    Err(why) => format!(
                        "the type of destination `{sink}` cannot be read literally ({why}), so what it does with the data is unknown{reach}; classify it by name in purposelint.yaml with `destinations: {{\"{sink}\": [<uses>]}}`"
                    ),
                }
            }
            NotFollowed(m) => m.clone(),
            UnusedAllow { rule, step } => format!(
                "this `allow` for `{rule}` suppresses nothing: no finding of the rule passes through step {step}"
            ),
            UnusedIgnore { rules } => format!(
                "this ignore comment for `{}` suppresses nothing on this line",
                rules.join(", ")
            ),
        }
    }

    /// How to fix it, beyond the suggestion the message already carries.
    pub(crate) fn help(&self) -> Option<String> {
        use Diag::*;
        match self {
            InvalidWithHelp(_, help) => Some(help.clone()),
            UnknownKey {
                suggestion: None,
                what,
                known,
                ..
            } => Some(format!("{what} accepts: {}", known.join(", "))),
            UnknownKind {
                suggestion: None, ..
            }
            | MissingKind => Some("the kinds are `dataset`, `sink` and `pipeline`".into()),
            PlaceholderReason { example, .. } => Some(format!("e.g. `{example}`")),
            InUnreadFile { file, why, .. } => Some(match why {
                Unread::Gitignored => format!(
                    "name {file} on the command line (a named file is read even when ignored), or stop ignoring it"
                ),
                Unread::Excluded(config) => {
                    format!("change `include` or `exclude` in {config} so that {file} is read")
                }
            }),
            NoInput { .. } => Some(
                "`purposelint check --show-files` lists each file found, which format read it, and why the others were skipped".into(),
            ),
            AmbiguousField { field, owners } => owners
                .first()
                .map(|o| format!("qualify it, e.g. `{o}.{field}`")),
            NotInFrom { dataset } => Some(format!(
                "add `{dataset}` to `from`, or reference a dataset it lists"
            )),
            UndeclaredTo {
                suggestion: None, ..
            } => Some(
                "declare it as a sink with its `uses` (or as a dataset), or include the file that declares it in the run".into(),
            ),
            IncompleteLineage { .. } => Some(
                "every upstream column is assumed to flow into every column of this model".into(),
            ),
            UnusedAllow { .. } => {
                Some("remove the entry, so that a future flow is not approved in advance".into())
            }
            UnusedIgnore { .. } => Some("remove the comment".into()),
            AmbiguousRelation {
                relation,
                candidates,
            } => candidates.first().map(|c| {
                format!("pin it in purposelint.yaml: `relations: {{\"{relation}\": {c}}}`")
            }),
            _ => None,
        }
    }

    /// The dataset or sink name the diagnostic is about, when it is an unknown one.
    fn subject(&self) -> Option<&str> {
        use Diag::*;
        match self {
            UnknownDataset { name, .. } | UnknownNamed { name, .. } | UndeclaredTo { name, .. } => {
                Some(name)
            }
            UnknownDatasetOf { dataset, .. } => Some(dataset),
            _ => None,
        }
    }

    /// The diagnostic at `loc`, with its check's default severity.
    pub(crate) fn at(self, loc: Loc) -> Finding {
        let mut f = Finding::check(self.check(), loc, self.message());
        f.help = self.help();
        f.subject = self.subject().map(str::to_string);
        f
    }
}
