//! The linter only reads: a check of a read-only copy of the fixtures leaves every byte,
//! name and permission as it was, and creates nothing.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;

/// Every path under `root` with its mode and contents (None for directories).
fn snapshot(root: &Path) -> BTreeMap<String, (u32, Option<Vec<u8>>)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let mode = meta.permissions().mode();
            if meta.is_dir() {
                stack.push(p.clone());
                out.insert(rel, (mode, None));
            } else {
                out.insert(rel, (mode, Some(std::fs::read(&p).unwrap())));
            }
        }
    }
    out
}

fn set_readonly(root: &Path, readonly: bool) {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![root.to_path_buf()];
    let mut dirs = Vec::new();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
                dirs.push(p);
            } else {
                let mode = if readonly { 0o444 } else { 0o644 };
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            }
        }
    }
    dirs.push(root.to_path_buf());
    for d in dirs {
        let mode = if readonly { 0o555 } else { 0o755 };
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

#[cfg(unix)]
#[test]
fn check_of_a_read_only_tree_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("fixtures");
    for ex in ["tailored-audiences", "consented-marketing"] {
        support::copy_tree(&support::example(ex), &root.join(ex));
    }
    set_readonly(&root, true);
    let before = snapshot(&root);
    for format in ["human", "compact", "json"] {
        Command::cargo_bin("purposelint")
            .unwrap()
            .current_dir(&root)
            .args(["check", "--format", format, "."])
            .assert()
            .code(1);
    }
    let outcome = support::lint(&[&root]);
    assert!(!outcome.findings.is_empty());
    let after = snapshot(&root);
    set_readonly(&root, false);
    assert_eq!(before.len(), after.len(), "no file was created or removed");
    assert!(before == after, "contents and permissions are unchanged");
}
