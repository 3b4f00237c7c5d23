//! Inline suppressions `# purposelint: ignore[rule-id] reason` and the
//! `unused-suppression` check for them and for manifest `allow` entries.
//!
//! A comment applies to findings that touch its line: the source field's declaration,
//! the sink's declaration, a step on the path (its name or the expression of a hop), or
//! the primary location of a built-in check.

use std::collections::{HashMap, HashSet};

use crate::diagnostic::Diag;
use crate::finding::{Dismissed, Finding, Suppression, SuppressionKind};
use crate::model::Model;
use crate::rules::engine::Suppressed;
use crate::source::{FileId, Loc, SourceFile};

const MARKER: &str = "purposelint:";

/// One `# purposelint: ignore[…] reason` comment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ignore {
    pub rules: Vec<String>,
    pub reason: String,
    /// The comment, from `#` to the end of the line.
    pub loc: Loc,
}

impl Ignore {
    fn line(&self) -> (FileId, u32) {
        (self.loc.file, self.loc.span.start_pos.line)
    }
}

/// Finds the start of a YAML comment on a line: a `#` at the start or after a blank,
/// outside quotes. Good enough for the one-line scalars manifests use.
fn comment_start(line: &str) -> Option<usize> {
    let (mut single, mut double) = (false, false);
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single && prev != '\\' => double = !double,
            '#' if !single && !double && prev.is_whitespace() => return Some(i),
            _ => {}
        }
        prev = c;
    }
    None
}

/// Whether a file may hold ignore comments.
pub(crate) fn mentions_marker(file: &SourceFile) -> bool {
    *file.marked.get_or_init(|| file.text.contains(MARKER))
}

/// Finds the start of a SQL line comment: `--` outside string literals and quoted names.
fn sql_comment_start(line: &str) -> Option<usize> {
    let (mut single, mut double) = (false, false);
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'-' if !single && !double && bytes.get(i + 1) == Some(&b'-') => return Some(i),
            _ => {}
        }
    }
    None
}

/// Finds the start of an HCL line comment, `#` or `//`, outside strings, and the
/// marker's length.
fn hcl_comment_start(line: &str) -> Option<(usize, usize)> {
    let bytes = line.as_bytes();
    let (mut string, mut escaped) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if string => escaped = true,
            b'"' => string = !string,
            b'#' if !string => return Some((i, 1)),
            b'/' if !string && bytes.get(i + 1) == Some(&b'/') => return Some((i, 2)),
            _ => {}
        }
    }
    None
}

/// The language of a file's comments.
#[derive(Clone, Copy)]
enum Syntax {
    Yaml,
    Sql,
    Hcl,
}

/// The comment on a line and the text after its marker: `# …` in YAML, `-- …` in SQL,
/// `# …` or `// …` in HCL.
fn comment(line: &str, syntax: Syntax) -> Option<(usize, &str)> {
    match syntax {
        Syntax::Sql => sql_comment_start(line).map(|i| (i, &line[i + 2..])),
        Syntax::Yaml => comment_start(line).map(|i| (i, &line[i + 1..])),
        Syntax::Hcl => hcl_comment_start(line).map(|(i, n)| (i, &line[i + n..])),
    }
}

/// A reason that only holds the place of one (spec §3.2): after trimming, it starts
/// with `TODO`, `FIXME`, `TBD` or `XXX`, in any case.
pub(crate) fn is_placeholder(reason: &str) -> bool {
    let head = reason.trim_start().as_bytes();
    ["TODO", "FIXME", "TBD", "XXX"]
        .iter()
        .any(|p| head.len() >= p.len() && head[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
}

/// Reads the ignore comments of one file; malformed ones become diagnostics.
pub(crate) fn scan(id: FileId, file: &SourceFile, known: &[&str]) -> (Vec<Ignore>, Vec<Finding>) {
    let mut ignores = Vec::new();
    let mut diags = Vec::new();
    if !mentions_marker(file) {
        return (ignores, diags);
    }
    let syntax = match file.path.extension().and_then(|e| e.to_str()) {
        Some("sql") => Syntax::Sql,
        Some("tf" | "hcl") => Syntax::Hcl,
        _ => Syntax::Yaml,
    };
    for (n, raw) in file.text.split('\n').enumerate() {
        let line_no = n as u32 + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let Some((hash, body)) = comment(line, syntax) else {
            continue;
        };
        let body = body.trim_start();
        let Some(rest) = body.strip_prefix(MARKER) else {
            continue;
        };
        let col = line[..hash].chars().count() as u32;
        let end = line.chars().count() as u32;
        let loc = Loc {
            file: id,
            span: file.span((line_no, col), (line_no, end)),
        };
        let bad = |msg: &str| Diag::BadIgnore(msg.to_string()).at(loc);
        let Some(rest) = rest.trim_start().strip_prefix("ignore[") else {
            diags.push(bad(
                "a purposelint comment must read `# purposelint: ignore[rule-id] reason`",
            ));
            continue;
        };
        let Some((ids, reason)) = rest.split_once(']') else {
            diags.push(bad("`ignore[` is not closed with `]`"));
            continue;
        };
        let rules: Vec<String> = ids
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let reason = reason.trim();
        if rules.is_empty() {
            diags.push(bad("`ignore[]` must name at least one rule"));
            continue;
        }
        if reason.is_empty() {
            let diag = Diag::InvalidWithHelp(
                "an ignore comment needs a reason: record why this flow was approved".into(),
                format!(
                    "e.g. `# purposelint: ignore[{}] DPIA-2024-17 approved`",
                    rules[0]
                ),
            );
            diags.push(diag.at(loc));
            continue;
        }
        if is_placeholder(reason) {
            let at = reason.as_ptr() as usize - line.as_ptr() as usize;
            let col = line[..at].chars().count() as u32;
            let span = file.span((line_no, col), (line_no, end));
            let diag = Diag::PlaceholderReason {
                reason: reason.to_string(),
                example: format!("# purposelint: ignore[{}] DPIA-2024-17 approved", rules[0]),
            };
            diags.push(diag.at(Loc { file: id, span }));
            continue;
        }
        for r in &rules {
            if !known.contains(&r.as_str()) {
                let diag = Diag::UnknownRule {
                    place: "the ignore comment".into(),
                    rule: r.clone(),
                    suggestion: crate::suggest::closest(r, known.iter().copied()).map(Into::into),
                };
                diags.push(diag.at(loc));
            }
        }
        ignores.push(Ignore {
            rules,
            reason: reason.to_string(),
            loc,
        });
    }
    (ignores, diags)
}

/// The (file, line) pairs a finding touches; `steps` maps step names to their locations.
fn lines_of(steps: &HashMap<&str, Loc>, f: &Finding) -> Vec<(FileId, u32)> {
    let at = |l: Loc| (l.file, l.span.start_pos.line);
    let mut out = vec![at(f.location)];
    if let Some(flow) = &f.flow {
        out.push(at(flow.source.location));
        out.push(at(flow.sink.location));
        for h in &flow.path {
            out.push(at(h.location));
            if let Some(&loc) = steps.get(h.step.as_str()) {
                out.push(at(loc));
            }
        }
    }
    out
}

/// Moves findings matched by an ignore comment into `dismissed` (adding the comment to
/// already dismissed ones) and returns the comments that matched nothing.
pub(crate) fn apply(
    model: &Model,
    ignores: &[Ignore],
    findings: &mut Vec<Finding>,
    dismissed: &mut Vec<Dismissed>,
) -> Vec<usize> {
    if ignores.is_empty() {
        return Vec::new();
    }
    let steps: HashMap<&str, Loc> = model
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.loc))
        .collect();
    let mut used: HashSet<usize> = HashSet::new();
    let mut matching = |f: &Finding| -> Vec<Suppression> {
        let lines = lines_of(&steps, f);
        ignores
            .iter()
            .enumerate()
            .filter(|(_, ig)| ig.rules.contains(&f.rule) && lines.contains(&ig.line()))
            .map(|(i, ig)| {
                used.insert(i);
                Suppression {
                    kind: SuppressionKind::Inline,
                    justification: ig.reason.clone(),
                    location: Some(ig.loc),
                }
            })
            .collect()
    };
    for d in dismissed.iter_mut() {
        let extra = matching(&d.finding);
        d.suppressions.extend(extra);
    }
    let mut kept = Vec::with_capacity(findings.len());
    for f in findings.drain(..) {
        let by = matching(&f);
        if by.is_empty() {
            kept.push(f);
        } else {
            dismissed.push(Dismissed {
                finding: f,
                suppressions: by,
            });
        }
    }
    *findings = kept;
    (0..ignores.len()).filter(|i| !used.contains(i)).collect()
}

/// `unused-suppression` warnings for allow entries of enabled rules that suppressed
/// nothing and for ignore comments that matched nothing.
pub(crate) fn unused(
    model: &Model,
    suppressed: &[Suppressed],
    enabled: impl Fn(&str) -> bool,
    ignores: &[Ignore],
    unused_ignores: &[usize],
) -> Vec<Finding> {
    let used: HashSet<(u32, usize)> = suppressed
        .iter()
        .flat_map(|s| s.allows.iter().copied())
        .collect();
    let mut out = Vec::new();
    for (sid, step) in model.steps.iter().enumerate() {
        for (i, a) in step.allows.iter().enumerate() {
            if enabled(&a.rule) && !used.contains(&(sid as u32, i)) {
                let diag = Diag::UnusedAllow {
                    rule: a.rule.clone(),
                    step: step.name.clone(),
                };
                out.push(diag.at(a.loc));
            }
        }
    }
    for &i in unused_ignores {
        let ig = &ignores[i];
        if ig.rules.iter().any(|r| enabled(r)) {
            let diag = Diag::UnusedIgnore {
                rules: ig.rules.clone(),
            };
            out.push(diag.at(ig.loc));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_text(text: &str) -> (Vec<Ignore>, Vec<Finding>) {
        let f = SourceFile::new("a.yaml".into(), "a.yaml".into(), text);
        scan(0, &f, &["security-to-advertising", "unknown-purpose"])
    }

    #[test]
    fn reads_ignore_comments() {
        let (ig, d) = scan_text(
            "- name: x  # purposelint: ignore[security-to-advertising, unknown-purpose] DPIA-7 ok\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            ig[0].rules,
            vec!["security-to-advertising", "unknown-purpose"]
        );
        assert_eq!(ig[0].reason, "DPIA-7 ok");
        assert_eq!(
            ig[0].loc.span.start_pos,
            crate::source::Pos {
                line: 1,
                column: 12
            }
        );
    }

    #[test]
    fn reason_is_mandatory_and_ids_are_checked() {
        let (ig, d) = scan_text("\nname: x # purposelint: ignore[security-to-advertising]\n");
        assert!(ig.is_empty());
        assert!(d[0].message.contains("needs a reason"));
        assert_eq!(d[0].location.span.start_pos.line, 2);
        let (_, d) = scan_text("name: x # purposelint: ignore[security-to-ads] why\n");
        assert_eq!(d[0].rule, "unknown-reference");
    }

    #[test]
    fn placeholder_reasons_are_rejected_at_the_reason() {
        for reason in ["TODO: why", "fixme", "  TBD", "xxx later"] {
            assert!(is_placeholder(reason), "{reason}");
        }
        for reason in ["DPIA-7", "Tbc", "to do: nothing", ""] {
            assert!(!is_placeholder(reason), "{reason}");
        }
        let (ig, d) =
            scan_text("name: x # purposelint: ignore[security-to-advertising] TODO: why\n");
        assert!(ig.is_empty());
        assert_eq!(d[0].rule, "invalid-manifest");
        assert!(d[0].message.contains("placeholder"), "{}", d[0].message);
        assert_eq!(d[0].location.span.start_pos.column, 56);
    }

    #[test]
    fn sql_comments_in_sql_files() {
        let f = SourceFile::new(
            "m.sql".into(),
            "m.sql".into(),
            "select phone -- purposelint: ignore[security-to-advertising] DPIA-9\n, '--x' as y\n# purposelint: ignore[security-to-advertising] no\n",
        );
        let (ig, d) = scan(0, &f, &["security-to-advertising"]);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(ig.len(), 1);
        assert_eq!(ig[0].reason, "DPIA-9");
        assert_eq!(ig[0].loc.span.start_pos.column, 14);
    }

    #[test]
    fn hash_and_slash_comments_in_terraform_files() {
        let text = "  from = \"a//b#c\" // purposelint: ignore[security-to-advertising] DPIA-4\n\
                    to = \"x\" # purposelint: ignore[security-to-advertising] DPIA-5\n\
                    url = \"https://x\" /* purposelint: ignore[security-to-advertising] no */\n";
        let f = SourceFile::new("c.tf".into(), "c.tf".into(), text);
        let (ig, d) = scan(0, &f, &["security-to-advertising"]);
        assert!(d.is_empty(), "{d:?}");
        let found: Vec<_> = ig
            .iter()
            .map(|i| (i.reason.as_str(), i.loc.span.start_pos.column))
            .collect();
        assert_eq!(found, [("DPIA-4", 19), ("DPIA-5", 10)]);
    }

    #[test]
    fn hashes_inside_quotes_are_not_comments() {
        let (ig, d) = scan_text("name: 'a # purposelint: ignore[x] y'\n");
        assert!(ig.is_empty() && d.is_empty());
    }
}
