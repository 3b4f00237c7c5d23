//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use purposelint::check::{self, Options, Outcome};
use purposelint::finding::Finding;

pub fn write(root: &Path, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p
}

pub fn lint(paths: &[&Path]) -> Outcome {
    lint_with(paths, |_| {})
}

pub fn lint_with(paths: &[&Path], tweak: impl FnOnce(&mut Options)) -> Outcome {
    let mut opts = Options::new(paths.iter().map(|p| p.to_path_buf()).collect());
    tweak(&mut opts);
    check::run(&opts).expect("the run itself should not fail")
}

/// `(rule, file name, line, column)` of every finding.
pub fn summary(o: &Outcome) -> Vec<(String, String, u32, u32)> {
    o.findings
        .iter()
        .map(|f| {
            let file = &o.model.sources.get(f.location.file).path;
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let p = f.location.span.start_pos;
            (f.rule.clone(), name, p.line, p.column)
        })
        .collect()
}

pub fn with_rule<'a>(o: &'a Outcome, rule: &str) -> Vec<&'a Finding> {
    o.findings.iter().filter(|f| f.rule == rule).collect()
}

/// Copies a directory tree (regular files and directories only).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// A copy of an example in a repository of its own (with `.git`, so that no
/// configuration from outside is picked up): the temporary folder and the root.
pub fn example_repo(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    copy_tree(&example(name), &root);
    std::fs::create_dir_all(root.join(".git")).unwrap();
    (dir, root)
}

/// What one run of the binary gave.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `purposelint ARGS` in `cwd`, with colour left to `--color` (not forced).
pub fn run_in(cwd: &Path, args: &[&str]) -> Run {
    let out = assert_cmd::Command::cargo_bin("purposelint")
        .unwrap()
        .current_dir(cwd)
        .args(args)
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Peak resident memory of this test process in KiB, where Linux reports it.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Memory stays bounded: the whole test process (all tests in it) below 1 GiB.
pub fn assert_memory_bounded() {
    if let Some(kib) = peak_rss_kib() {
        assert!(kib < 1024 * 1024, "peak RSS {kib} KiB");
    }
}

pub const SECURITY_DATASET: &str = "kind: dataset
name: accounts.security
purposes: [essential.service.security]
fields:
  - name: user_id
  - name: phone
    purposes: [essential.service.authentication]
";

pub const AD_SINK: &str = "kind: sink
name: ads_upload
uses: [marketing.advertising.third_party.targeted]
";
