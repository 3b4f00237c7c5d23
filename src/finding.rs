//! The one result type every stage produces and every renderer reads.

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diag;
use crate::model::FlowKind;
use crate::source::{FileId, Loc, Span};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The built-in checks with fixed ids (spec §4). Each is one row of [`CHECKS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    InvalidManifest,
    UnknownReference,
    DuplicateDefinition,
    UnknownPurpose,
    /// A file that was found but not read (too large, unreadable).
    SkippedFile,
    /// An `allow` entry or ignore comment that suppresses nothing.
    UnusedSuppression,
    /// A dbt model whose column lineage fell back to every-column-to-every-column.
    IncompleteLineage,
    /// `target/manifest.json` was compiled from other contents than the files on disk.
    StaleManifest,
    /// An activation destination whose type is in no catalogue.
    UnclassifiedDestination,
    /// A warehouse relation that several datasets could be.
    AmbiguousRelation,
    /// Flows end somewhere whose uses are unknown.
    UndeclaredDestination,
    /// The paths of a run hold nothing to lint.
    NoInput,
    /// The configuration file is invalid.
    InvalidConfig,
    /// A rule file (`--rules`, `rule_dirs`) is invalid.
    InvalidRule,
    /// A baseline file is invalid.
    InvalidBaseline,
}

/// What users see of a built-in check: its id, default severity, one-line summary and
/// the Markdown page that `purposelint rule ID` prints.
#[derive(Debug)]
pub struct CheckInfo {
    pub check: Check,
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub description: &'static str,
}

macro_rules! check_row {
    ($check:ident, $id:literal, $severity:ident, $summary:literal) => {
        CheckInfo {
            check: Check::$check,
            id: $id,
            severity: Severity::$severity,
            summary: $summary,
            description: include_str!(concat!("../rules/checks/", $id, ".md")),
        }
    };
}

/// Every built-in check, in the order of [`Check`].
pub static CHECKS: [CheckInfo; 15] = [
    check_row!(
        InvalidManifest,
        "invalid-manifest",
        Error,
        "A manifest is not valid YAML or does not follow the manifest format"
    ),
    check_row!(
        UnknownReference,
        "unknown-reference",
        Error,
        "A reference names a dataset or field that does not exist"
    ),
    check_row!(
        DuplicateDefinition,
        "duplicate-definition",
        Error,
        "A name is defined twice"
    ),
    check_row!(
        UnknownPurpose,
        "unknown-purpose",
        Error,
        "A purpose, use or category is not in the taxonomy"
    ),
    check_row!(
        SkippedFile,
        "skipped-file",
        Warning,
        "A file was found but could not be read"
    ),
    check_row!(
        UnusedSuppression,
        "unused-suppression",
        Warning,
        "An allow entry or ignore comment suppresses nothing"
    ),
    check_row!(
        IncompleteLineage,
        "incomplete-lineage",
        Info,
        "Column lineage of a model could not be derived; every column is assumed to flow"
    ),
    check_row!(
        StaleManifest,
        "stale-manifest",
        Info,
        "target/manifest.json is older than a model's SQL; the SQL on disk is used"
    ),
    check_row!(
        UnclassifiedDestination,
        "unclassified-destination",
        Warning,
        "A destination's type is in no catalogue, so what it is used for is unknown"
    ),
    check_row!(
        AmbiguousRelation,
        "ambiguous-relation",
        Warning,
        "A warehouse relation could be several datasets"
    ),
    check_row!(
        UndeclaredDestination,
        "undeclared-destination",
        Error,
        "Flows end in a destination that is not declared, whose uses are unknown"
    ),
    check_row!(
        NoInput,
        "no-input",
        Warning,
        "The paths given hold nothing to lint"
    ),
    check_row!(
        InvalidConfig,
        "invalid-config",
        Error,
        "The configuration file is not valid YAML or does not follow its format"
    ),
    check_row!(
        InvalidRule,
        "invalid-rule",
        Error,
        "A rule file is not valid YAML or does not follow the rule format"
    ),
    check_row!(
        InvalidBaseline,
        "invalid-baseline",
        Error,
        "A baseline file is not valid YAML or does not follow its format"
    ),
];

impl Check {
    pub const ALL: [Check; 15] = [
        Check::InvalidManifest,
        Check::UnknownReference,
        Check::DuplicateDefinition,
        Check::UnknownPurpose,
        Check::SkippedFile,
        Check::UnusedSuppression,
        Check::IncompleteLineage,
        Check::StaleManifest,
        Check::UnclassifiedDestination,
        Check::AmbiguousRelation,
        Check::UndeclaredDestination,
        Check::NoInput,
        Check::InvalidConfig,
        Check::InvalidRule,
        Check::InvalidBaseline,
    ];

    pub fn info(self) -> &'static CheckInfo {
        let row = &CHECKS[self as usize];
        debug_assert_eq!(row.check, self);
        row
    }

    pub fn id(self) -> &'static str {
        self.info().id
    }

    pub fn severity(self) -> Severity {
        self.info().severity
    }

    pub fn summary(self) -> &'static str {
        self.info().summary
    }

    pub fn description(self) -> &'static str {
        self.info().description
    }
}

/// A field or sink at one end of a flow finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub name: String,
    /// Purposes of a source, or uses of a sink, that made the rule match.
    pub keys: Vec<String>,
    pub location: Loc,
}

/// One flow on a finding's path.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    pub from: String,
    pub to: String,
    pub step: String,
    pub flow: FlowKind,
    pub functions: Vec<String>,
    pub location: Loc,
    /// Where the field lands in an activation destination (a mapping's `to`).
    pub destination_field: Option<String>,
}

/// The part of a finding that only flow rules have.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowPath {
    pub source: Endpoint,
    pub sink: Endpoint,
    pub path: Vec<Hop>,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub location: Loc,
    /// The exact reference inside `location` to underline, when known.
    pub focus: Option<Loc>,
    /// Short text under the primary snippet (human output).
    pub label: Option<String>,
    /// How to fix it, or a did-you-mean (human output).
    pub help: Option<String>,
    pub flow: Option<FlowPath>,
    /// The dataset or sink name a diagnostic of a built-in check is about (an unknown
    /// reference), so that one caused by a file that could not be parsed can say so.
    pub subject: Option<String>,
}

impl Finding {
    pub fn check(check: Check, location: Loc, message: impl Into<String>) -> Self {
        Finding {
            rule: check.id().to_string(),
            severity: check.severity(),
            message: message.into(),
            location,
            focus: None,
            label: None,
            help: None,
            flow: None,
            subject: None,
        }
    }
}

/// Diagnostics about one of our own files (the configuration, a rule file, a baseline)
/// carry that file's check instead of `invalid-manifest` or `unknown-reference`, so that
/// the id says which file is wrong. Taxonomy keys stay `unknown-purpose`.
pub(crate) fn about_own_file(diags: &mut [Finding], own: Check) {
    for d in diags {
        let generic = [Check::InvalidManifest, Check::UnknownReference];
        if generic.iter().any(|c| d.rule == c.id()) {
            d.rule = own.id().to_string();
            d.severity = own.severity();
        }
    }
}

/// Why a finding is not reported: a reviewed exception in the manifests, or the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    pub kind: SuppressionKind,
    pub justification: String,
    /// The `allow` entry or `ignore` comment; `None` for the baseline.
    pub location: Option<Loc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressionKind {
    /// An `allow` entry of a step.
    Allow,
    /// An inline `# purposelint: ignore[…]` (or SQL `--`) comment.
    Inline,
    /// The baseline file.
    Baseline,
}

impl SuppressionKind {
    /// `allow`, `inline` or `baseline`, as JSON output names them.
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionKind::Allow => "allow",
            SuppressionKind::Inline => "inline",
            SuppressionKind::Baseline => "baseline",
        }
    }

    /// Written in the source files, rather than kept outside them (SARIF's `inSource`).
    pub fn in_source(self) -> bool {
        self != SuppressionKind::Baseline
    }
}

/// A finding that was suppressed, with everything that suppressed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dismissed {
    pub finding: Finding,
    pub suppressions: Vec<Suppression>,
}

/// Stable across line moves: depends only on the rule, the source field and the sink.
pub fn fingerprint(rule: &str, source: &str, sink: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [rule, source, sink] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    // Hex digits written directly: a `format!` per byte was most of the cost.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(16);
    for b in &h.finalize()[..8] {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

/// A link context that collects diagnostics; each adapter's contexts implement it.
pub(crate) trait Diagnostics {
    fn diagnostics(&mut self) -> &mut Vec<Finding>;

    fn report(&mut self, diag: Diag, file: FileId, span: Span) {
        self.diagnostics().push(diag.at(Loc { file, span }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_the_first_eight_bytes_of_the_sha256_in_hex() {
        // Python: hashlib.sha256(b"rule\0a.b\0sink\0").hexdigest()[:16]
        assert_eq!(fingerprint("rule", "a.b", "sink"), "7635b308d2ce31d6");
    }

    #[test]
    fn every_check_has_its_row() {
        for (i, c) in Check::ALL.iter().enumerate() {
            assert_eq!(CHECKS[i].check, *c);
            assert_eq!(*c as usize, i);
            assert!(CHECKS[i].description.starts_with(&format!("# {}", c.id())));
        }
    }
}
