//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;

use purposelint::check::{self, Options, Outcome};
use purposelint::finding::Finding;

/// Writes `files` into a fresh directory and lints it.
pub fn lint(files: &[(&str, &str)]) -> Outcome {
    lint_with(files, |_| {})
}

pub fn lint_with(files: &[(&str, &str)], configure: impl FnOnce(&mut Options)) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), files);
    let mut opts = Options::new(vec![dir.path().to_path_buf()]);
    configure(&mut opts);
    check::run(&opts).unwrap()
}

pub fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// (rule, source field, sink) of each flow finding.
pub fn flows(o: &Outcome) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = o
        .findings
        .iter()
        .filter_map(|f| {
            let p = f.flow.as_ref()?;
            Some((f.rule.clone(), p.source.name.clone(), p.sink.name.clone()))
        })
        .collect();
    v.sort();
    v
}

/// Findings of the built-in checks.
pub fn diags(o: &Outcome) -> Vec<&Finding> {
    o.findings.iter().filter(|f| f.flow.is_none()).collect()
}

/// `rule line:col message` of each diagnostic, for compact assertions.
pub fn diag_lines(o: &Outcome) -> Vec<String> {
    diags(o)
        .iter()
        .map(|f| {
            format!(
                "{} {}:{} {}",
                f.rule, f.location.span.start_pos.line, f.location.span.start_pos.column, f.message
            )
        })
        .collect()
}

pub fn t(s: &str, p: &str, k: &str) -> (String, String, String) {
    (s.to_string(), p.to_string(), k.to_string())
}

pub const SECURITY: &str = "\
kind: dataset
name: accounts.security_contacts
fields:
  - name: user_id
  - name: phone_number
    categories: [user.contact.phone_number]
    purposes: [essential.service.authentication]
  - name: email
    categories: [user.contact.email]
";

pub const UPLOADS: &str = "\
kind: dataset
name: ads.uploads
fields:
  - name: audience_id
  - name: hashed_phone
  - name: opted_out
";

pub const AD_SINK: &str = "\
kind: sink
name: x_audiences
uses: [marketing.advertising.third_party.targeted]
";
