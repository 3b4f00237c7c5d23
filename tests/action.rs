//! The composite GitHub Action (`action.yml`): its shell steps run here as the runner
//! would run them (GitHub Actions itself cannot run in this test), with the `env:` the
//! workflow passes, so that the cache key and the check command do not drift.

use std::path::{Path, PathBuf};
use std::process::Command;

use purposelint::source::SourceFile;
use purposelint::yaml::{self, Node};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `run` script of the step named `name`.
fn step(name: &str) -> String {
    let path = root().join("action.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let file = SourceFile::new(path, "action.yml".into(), &text);
    let yaml = yaml::parse(&file).unwrap();
    let doc = yaml.first().unwrap();
    let steps = doc.get("runs").and_then(|r| r.get("steps")).unwrap();
    let mut steps = steps.items().expect("steps is a list");
    let step: Node = steps
        .find(|s| s.get("name").and_then(|n| n.as_str()) == Some(name))
        .unwrap_or_else(|| panic!("no step {name}"));
    step.get("run")
        .and_then(|r| r.as_str())
        .unwrap()
        .to_string()
}

/// Runs a step's script with `env`; returns its exit code and what it wrote to
/// `$GITHUB_OUTPUT`.
fn run_step(name: &str, cwd: &Path, env: &[(&str, &str)]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output");
    std::fs::write(&output, "").unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(step(name)).current_dir(cwd);
    cmd.env("GITHUB_OUTPUT", &output).env("HOME", dir.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let written = std::fs::read_to_string(&output).unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap();
    (out.status.code().unwrap(), written, stdout)
}

fn value<'a>(outputs: &'a str, key: &str) -> &'a str {
    outputs
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {outputs}"))
}

#[test]
fn the_cache_key_names_the_version_the_source_and_the_runner() {
    let action = root();
    let action = action.to_str().unwrap();
    let base = [
        ("ACTION_PATH", action),
        ("ACTION_REPOSITORY", ""),
        ("ACTION_REF", "v0.1.0"),
        ("VERSION", ""),
        ("RUNNER", "Linux-X64"),
    ];
    let (code, out, log) = run_step("Resolve the purposelint version", &root(), &base);
    assert_eq!(code, 0, "{log}");
    let key = value(&out, "key");
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        key.starts_with(&format!("purposelint-{version}-path-v0.1.0-")),
        "{key}"
    );
    assert!(key.ends_with("-Linux-X64"), "{key}");
    assert_eq!(value(&out, "crate"), version);
    // Another runner, another key; the same inputs, the same key.
    let mut other = base;
    other[4] = ("RUNNER", "macOS-ARM64");
    let (_, out2, _) = run_step("Resolve the purposelint version", &root(), &other);
    assert!(value(&out2, "key").ends_with("-macOS-ARM64"));
    let (_, again, _) = run_step("Resolve the purposelint version", &root(), &base);
    assert_eq!(value(&again, "key"), key);
    // A ref to install needs the action's repository, which a local action lacks.
    let mut pinned = base;
    pinned[3] = ("VERSION", "abc123");
    let (code, _, log) = run_step("Resolve the purposelint version", &root(), &pinned);
    assert_eq!(code, 2);
    assert!(log.contains("needs the action's repository"), "{log}");
    pinned[1] = ("ACTION_REPOSITORY", "someone/purposelint");
    let (code, out, _) = run_step("Resolve the purposelint version", &root(), &pinned);
    assert_eq!(code, 0);
    assert!(value(&out, "key").contains("-git-abc123-"), "{out}");
}

#[test]
fn the_run_step_checks_and_reports_the_exit_code() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_purposelint"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.sarif");
    let env = [
        ("PATH", path.as_str()),
        ("PATHS", "examples/tailored-audiences"),
        ("FORMAT", "sarif"),
        ("FAIL_ON", "error"),
        ("OUTPUT", report.to_str().unwrap()),
        ("BASELINE", ""),
        ("ARGS", "--no-config"),
    ];
    let (code, out, log) = run_step("Run purposelint", &root(), &env);
    assert_eq!(code, 1, "{log}");
    assert_eq!(value(&out, "exit-code"), "1");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 3);
    let mut clean = env;
    clean[1] = ("PATHS", "examples/consented-marketing");
    clean[2] = ("FORMAT", "github");
    clean[4] = ("OUTPUT", "");
    let (code, out, log) = run_step("Run purposelint", &root(), &clean);
    assert_eq!((code, value(&out, "exit-code")), (0, "0"), "{log}");
}
