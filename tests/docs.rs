//! The documentation runs as written: every `console` block of README.md and docs/*.md
//! is a transcript (`$ purposelint …` lines, each followed by its output), and each
//! command is run from the repository root with this build and compared with the output
//! shown. A renderer or message that changes without the docs fails here.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (file, line, command, expected output) of every transcript.
fn transcripts() -> Vec<(String, usize, String, String)> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        let mut in_console = false;
        let mut current: Option<(usize, String, Vec<&str>)> = None;
        for (n, line) in text.lines().enumerate() {
            if !in_console {
                in_console = line.trim_start() == "```console";
                continue;
            }
            let end = line.trim_start().starts_with("```");
            if end || line.starts_with("$ ") {
                if let Some((at, cmd, shown)) = current.take() {
                    out.push((name.clone(), at, cmd, shown.join("\n")));
                }
            }
            if end {
                in_console = false;
            } else if let Some(cmd) = line.strip_prefix("$ ") {
                current = Some((n + 1, cmd.to_string(), Vec::new()));
            } else if let Some((_, _, shown)) = &mut current {
                shown.push(line);
            }
        }
    }
    out
}

/// Lines without trailing blanks, and no trailing empty lines.
fn normal(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    lines.join("\n").trim_end().to_string()
}

fn run(cmd: &str, bin_dir: &Path) -> String {
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .current_dir(root())
        .env("PATH", path)
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn every_transcript_in_the_docs_is_what_the_command_prints() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_purposelint"));
    let bin_dir = bin.parent().unwrap();
    let all = transcripts();
    let checks = all
        .iter()
        .filter(|(_, _, c, _)| c.contains("purposelint check"));
    assert!(
        checks.count() >= 3,
        "the docs lost their transcripts: {all:#?}"
    );
    let mut drift = Vec::new();
    for (file, line, cmd, shown) in &all {
        assert!(
            cmd.starts_with("purposelint "),
            "{file}:{line}: a transcript runs purposelint: {cmd}"
        );
        let got = run(cmd, bin_dir);
        if normal(&got) != normal(shown) {
            drift.push(format!(
                "{file}:{line}: `{cmd}` prints\n{got}\n--- but the docs show\n{shown}\n"
            ));
        }
    }
    assert!(
        drift.is_empty(),
        "docs drifted (PURPOSELINT_UPDATE_DOCS=1 rewrites them):\n{}",
        drift.join("\n")
    );
}

/// `PURPOSELINT_UPDATE_DOCS=1 cargo test --test docs` writes each command's output into
/// its transcript, as `cargo insta` does for snapshots; review the diff.
#[test]
fn update_transcripts_when_asked() {
    if std::env::var("PURPOSELINT_UPDATE_DOCS").as_deref() != Ok("1") {
        return;
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_purposelint"));
    let bin_dir = bin.parent().unwrap();
    let mut files: Vec<String> = transcripts().into_iter().map(|t| t.0).collect();
    files.dedup();
    for name in files {
        let path = root().join(&name);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut out = String::new();
        let mut in_console = false;
        let mut skipping = false;
        for line in text.lines() {
            if in_console {
                let end = line.trim_start().starts_with("```");
                if end || line.starts_with("$ ") {
                    skipping = false;
                }
                if let Some(cmd) = line.strip_prefix("$ ") {
                    out.push_str(line);
                    out.push('\n');
                    let got = normal(&run(cmd, bin_dir));
                    if !got.is_empty() {
                        out.push_str(&got);
                        out.push('\n');
                    }
                    skipping = true;
                    continue;
                }
                if end {
                    in_console = false;
                }
            } else {
                in_console = line.trim_start() == "```console";
            }
            if !skipping {
                out.push_str(line);
                out.push('\n');
            }
        }
        std::fs::write(&path, out).unwrap();
    }
}

#[test]
fn the_docs_index_lists_every_doc() {
    let index = std::fs::read_to_string(root().join("docs/README.md")).unwrap();
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") && name != "README.md" {
            assert!(
                index.contains(&format!("({name})")),
                "docs/README.md lacks {name}"
            );
        }
    }
}

#[test]
fn no_placeholder_domains_owners_or_tags() {
    let mut files = vec![root().join("README.md"), root().join("action.yml")];
    files.push(root().join(".pre-commit-hooks.yaml"));
    for dir in ["docs", "rules", "rules/checks", "src", "src/lsp", "scripts"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                files.push(p);
            }
        }
    }
    // Spelt in parts, so that this file does not hold them either.
    let banned = [
        ["purposelint", ".dev"].concat(),
        ["example", ".invalid"].concat(),
        ["purposelint/", "purposelint"].concat(),
        ["purposelint", "@v1"].concat(),
        ["rev: ", "v0.1.0"].concat(),
    ];
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for b in &banned {
            assert!(!text.contains(b.as_str()), "{} holds `{b}`", f.display());
        }
    }
}
