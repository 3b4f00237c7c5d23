//! The one result type every stage produces and every renderer reads.

use serde::{Deserialize, Serialize};

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

/// The built-in checks with fixed ids (spec §4).
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
}

impl Check {
    pub const ALL: [Check; 7] = [
        Check::InvalidManifest,
        Check::UnknownReference,
        Check::DuplicateDefinition,
        Check::UnknownPurpose,
        Check::SkippedFile,
        Check::UnusedSuppression,
        Check::IncompleteLineage,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Check::InvalidManifest => "invalid-manifest",
            Check::UnknownReference => "unknown-reference",
            Check::DuplicateDefinition => "duplicate-definition",
            Check::UnknownPurpose => "unknown-purpose",
            Check::SkippedFile => "skipped-file",
            Check::UnusedSuppression => "unused-suppression",
            Check::IncompleteLineage => "incomplete-lineage",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Check::UnknownPurpose | Check::SkippedFile | Check::UnusedSuppression => {
                Severity::Warning
            }
            Check::IncompleteLineage => Severity::Info,
            _ => Severity::Error,
        }
    }

    pub fn summary(self) -> &'static str {
        match self {
            Check::InvalidManifest => {
                "A manifest is not valid YAML or does not follow the manifest format"
            }
            Check::UnknownReference => "A reference names a dataset or field that does not exist",
            Check::DuplicateDefinition => "A name is defined twice",
            Check::UnknownPurpose => "A purpose, use or category is not in the taxonomy",
            Check::SkippedFile => "A file was found but could not be read",
            Check::UnusedSuppression => "An allow entry or ignore comment suppresses nothing",
            Check::IncompleteLineage => {
                "Column lineage of a model could not be derived; every column is assumed to flow"
            }
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Check::InvalidManifest => include_str!("../rules/checks/invalid-manifest.md"),
            Check::UnknownReference => include_str!("../rules/checks/unknown-reference.md"),
            Check::DuplicateDefinition => include_str!("../rules/checks/duplicate-definition.md"),
            Check::UnknownPurpose => include_str!("../rules/checks/unknown-purpose.md"),
            Check::SkippedFile => include_str!("../rules/checks/skipped-file.md"),
            Check::UnusedSuppression => include_str!("../rules/checks/unused-suppression.md"),
            Check::IncompleteLineage => include_str!("../rules/checks/incomplete-lineage.md"),
        }
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
        }
    }

    pub fn with_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
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
    /// An `allow` entry or an inline `# purposelint: ignore[…]` comment.
    InSource,
    /// The baseline file.
    External,
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
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A link context that collects diagnostics; each adapter's contexts implement it.
pub trait Diagnostics {
    fn diagnostics(&mut self) -> &mut Vec<Finding>;

    fn report(
        &mut self,
        check: Check,
        file: FileId,
        span: Span,
        msg: String,
        help: Option<String>,
    ) {
        let finding = Finding::check(check, Loc { file, span }, msg).with_help(help);
        self.diagnostics().push(finding);
    }
}
