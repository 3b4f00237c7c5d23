//! The baseline: flow findings recorded by fingerprint (rule + source field + sink, never
//! lines), so that a legacy repository gates only new flows and fixes old ones over time.

use std::io::Write;
use std::path::Path;

use crate::decode::{parse_alone, Decoder};
use crate::finding::{Dismissed, Finding, Suppression, SuppressionKind};
use crate::source::{SourceFile, Sources};

/// One recorded finding. The names make the file reviewable; matching uses the fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry {
    pub rule: String,
    pub source: String,
    pub sink: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Baseline {
    /// Sorted by rule, source, sink; no repeats.
    pub entries: Vec<Entry>,
}

/// A baseline file that cannot be read; the run exits with code 2.
#[derive(Debug)]
pub(crate) struct BaselineError {
    pub sources: Sources,
    pub diags: Vec<Finding>,
    pub message: String,
}

impl Baseline {
    /// The flow findings among `findings`; built-in checks have no stable identity.
    pub(crate) fn from_findings(findings: &[Finding]) -> Self {
        let mut entries: Vec<Entry> = findings
            .iter()
            .filter_map(|f| {
                let flow = f.flow.as_ref()?;
                Some(Entry {
                    rule: f.rule.clone(),
                    source: flow.source.name.clone(),
                    sink: flow.sink.name.clone(),
                    fingerprint: flow.fingerprint.clone(),
                })
            })
            .collect();
        entries.sort();
        entries.dedup();
        Baseline { entries }
    }

    /// Sorted, deterministic YAML; strings are JSON-quoted, which YAML reads back as is.
    pub(crate) fn to_yaml(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut out = String::from(
            "# purposelint baseline: known findings that `check --baseline` does not report.\n\
             # Written by `purposelint baseline`; entries match by fingerprint (rule, source\n\
             # field and sink), never by line. Remove entries as the flows are fixed.\n\
             version: 1\n",
        );
        if self.entries.is_empty() {
            out.push_str("findings: []\n");
            return out;
        }
        out.push_str("findings:\n");
        for e in &self.entries {
            out.push_str(&format!(
                "  - fingerprint: {}\n    rule: {}\n    source: {}\n    sink: {}\n",
                q(&e.fingerprint),
                q(&e.rule),
                q(&e.source),
                q(&e.sink)
            ));
        }
        out
    }

    /// Writes to a temporary file next to `path` and renames it, so that readers never
    /// see half a baseline.
    pub(crate) fn write(&self, path: &Path) -> std::io::Result<()> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut tmp = tempfile_in(dir, path)?;
        let result = (|| {
            tmp.1.write_all(self.to_yaml().as_bytes())?;
            tmp.1.sync_all()?;
            std::fs::rename(&tmp.0, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp.0);
        }
        result
    }

    pub(crate) fn load(path: &Path) -> Result<Self, BaselineError> {
        let plain = |message: String| BaselineError {
            sources: Sources::default(),
            diags: Vec::new(),
            message,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| plain(format!("cannot read baseline {}: {e}", path.display())))?;
        let display = crate::discover::display_path(path);
        let file = SourceFile::new(path.to_path_buf(), display.clone(), &text);
        let mut diags = Vec::new();
        let parsed = parse(&file, &mut diags);
        crate::finding::about_own_file(&mut diags, crate::finding::Check::InvalidBaseline);
        match parsed {
            Some(b) if diags.is_empty() => Ok(b),
            _ => Err(BaselineError {
                message: format!("invalid baseline {display}"),
                sources: Sources::one(file),
                diags,
            }),
        }
    }

    /// Moves findings recorded in the baseline into `dismissed`; returns the entries that
    /// no longer occur (stale).
    pub(crate) fn apply(
        &self,
        findings: &mut Vec<Finding>,
        dismissed: &mut Vec<Dismissed>,
    ) -> Vec<Entry> {
        let index: std::collections::HashMap<&str, usize> = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.fingerprint.as_str(), i))
            .collect();
        let mut seen = vec![false; self.entries.len()];
        let mut kept = Vec::with_capacity(findings.len());
        for f in findings.drain(..) {
            let hit = f
                .flow
                .as_ref()
                .and_then(|flow| index.get(flow.fingerprint.as_str()).copied());
            match hit {
                Some(i) => {
                    seen[i] = true;
                    dismissed.push(Dismissed {
                        finding: f,
                        suppressions: vec![Suppression {
                            kind: SuppressionKind::Baseline,
                            justification: "recorded in the baseline".into(),
                            location: None,
                        }],
                    });
                }
                None => kept.push(f),
            }
        }
        *findings = kept;
        self.entries
            .iter()
            .zip(seen)
            .filter(|(_, s)| !s)
            .map(|(e, _)| e.clone())
            .collect()
    }
}

/// Creates `.NAME.tmp-PID-N` next to the target with `create_new`, so no file is clobbered.
fn tempfile_in(dir: &Path, target: &Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "baseline".into());
    for n in 0..100u32 {
        let p = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
        {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("cannot create a temporary file"))
}

fn parse(file: &SourceFile, diags: &mut Vec<Finding>) -> Option<Baseline> {
    let docs = parse_alone(file, diags)?;
    let mut dec = Decoder { file: 0, diags };
    let Some(doc) = docs.first() else {
        dec.error(Default::default(), "the baseline is empty");
        return None;
    };
    let m = dec.map(doc, "the baseline", &["version", "findings"])?;
    if let Some(v) = m.required(&mut dec, "version") {
        if v.as_str() != Some("1") {
            dec.error(
                v.span(),
                "this baseline version is not supported; expected `version: 1`",
            );
        }
    }
    let mut entries = Vec::new();
    if let Some(list) = m.get("findings") {
        entries = dec.list(list, "`findings`", |dec, item| {
            let e = dec.map(
                item,
                "a baseline entry",
                &["fingerprint", "rule", "source", "sink"],
            )?;
            let mut get = |k: &str| {
                e.required(dec, k)
                    .and_then(|n| dec.name(n, k))
                    .map(|s| s.value)
            };
            Some(Entry {
                fingerprint: get("fingerprint")?,
                rule: get("rule")?,
                source: get("source")?,
                sink: get("sink")?,
            })
        });
    }
    entries.sort();
    entries.dedup();
    Some(Baseline { entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rule: &str, fp: &str) -> Entry {
        Entry {
            rule: rule.into(),
            source: "a.b \"c\"".into(),
            sink: "k".into(),
            fingerprint: fp.into(),
        }
    }

    #[test]
    fn yaml_round_trip_and_atomic_write() {
        let b = Baseline {
            entries: vec![entry("r1", "00ff"), entry("r2", "11ee")],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.yaml");
        b.write(&path).unwrap();
        assert_eq!(Baseline::load(&path).unwrap(), b);
        // Nothing but the baseline is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn invalid_baseline_points_at_the_line() {
        let f = SourceFile::new(
            "b".into(),
            "b".into(),
            "version: 1\nfindings:\n  - fingerprint: x\n    rul: y\n",
        );
        let mut diags = Vec::new();
        parse(&f, &mut diags);
        assert_eq!(diags[0].location.span.start_pos.line, 4);
    }
}
