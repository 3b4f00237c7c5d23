//! Hostile input: every case ends with a clear outcome (a diagnostic with a location, or
//! the correct result), no panic, no stack overflow and bounded memory.

mod support;

use std::fmt::Write as _;
use std::path::Path;

use assert_cmd::Command;
use support::*;

fn bin() -> Command {
    Command::cargo_bin("purposelint").unwrap()
}

fn alias_bomb() -> String {
    let mut y = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        let refs = vec![format!("*a{p}"); 9].join(", ");
        writeln!(y, "a{i}: &a{i} [{refs}]").unwrap();
    }
    y
}

#[test]
fn alias_bomb_in_a_manifest_is_an_invalid_manifest_with_location() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = format!("kind: dataset\nname: bomb\n{}", alias_bomb());
    write(dir.path(), "bomb.yaml", bomb);
    write(dir.path(), "other.yaml", alias_bomb());
    write(dir.path(), "sink.yaml", AD_SINK);
    let o = lint(&[dir.path()]);
    assert_eq!(summary(&o).len(), 1, "{:?}", summary(&o));
    let f = &o.findings[0];
    assert_eq!(f.rule, "invalid-manifest");
    assert!(f.message.contains("alias"), "{}", f.message);
    assert!(f.location.span.start_pos.line > 2);
    // The non-manifest bomb is skipped silently; the sink is still read.
    assert_eq!(o.summary.manifests, 1);
    assert_memory_bounded();
}

fn deep_flow(n: usize) -> String {
    format!("{}x{}\n", "[".repeat(n), "]".repeat(n))
}

/// Block style: `- - - … x` nests block sequences on one line (indenting 10,000 levels
/// would need a 50 MB file, which the size limit stops first).
fn deep_block(n: usize) -> String {
    format!("{}x\n", "- ".repeat(n))
}

#[test]
fn ten_thousand_deep_nesting_block_and_flow() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "flow.yaml",
        format!("kind: dataset\nname: f\nfields: {}", deep_flow(10_000)),
    );
    let block = format!("kind: dataset\nname: b\nfields:\n  {}", deep_block(10_000));
    write(root, "block.yaml", block);
    let mut indented = String::from("kind: dataset\nname: c\nfields:\n");
    for i in 0..1_000 {
        writeln!(indented, "{}k{i}:", " ".repeat(i + 2)).unwrap();
    }
    write(root, "indented.yaml", indented);
    write(root, "plain-flow.yaml", deep_flow(10_000));
    write(root, "plain-block.yaml", deep_block(10_000));
    let o = lint(&[root]);
    let s = summary(&o);
    assert_eq!(
        s.iter()
            .map(|(r, f, ..)| (r.as_str(), f.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("invalid-manifest", "block.yaml"),
            ("invalid-manifest", "flow.yaml"),
            ("invalid-manifest", "indented.yaml")
        ]
    );
    for f in &o.findings {
        let m = &f.message;
        assert!(
            m.contains("nesting") || m.contains("recursion limit"),
            "{m}"
        );
        assert!(f.location.span.start_pos.line >= 3);
    }
}

#[test]
fn file_over_the_size_limit_is_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut big = String::from(SECURITY_DATASET);
    while big.len() < 4096 {
        big.push_str("# padding padding padding padding\n");
    }
    write(root, "big.yaml", &big);
    write(root, "sink.yaml", AD_SINK);
    let o = lint_with(&[root], |opts| opts.max_file_size = 1024);
    assert_eq!(
        summary(&o),
        vec![("skipped-file".into(), "big.yaml".into(), 1, 1)]
    );
    assert!(o.findings[0].message.contains("1 KiB limit"));
    assert_eq!(o.summary.manifests, 1);

    // Under a larger limit the same file is read.
    let o = lint_with(&[root], |opts| opts.max_file_size = 1 << 20);
    assert!(o.findings.is_empty());
    assert_eq!(o.summary.manifests, 2);

    // The command-line flag.
    let out = bin()
        .args(["check", "--format", "compact", "--max-file-size", "1KiB"])
        .arg(root)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("big.yaml:1:1: warning[skipped-file]"), "{out}");
    bin()
        .args(["check", "--max-file-size", "lots"])
        .arg(root)
        .assert()
        .code(2);
}

#[test]
fn default_limit_is_ten_mib_and_the_big_file_is_not_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Valid YAML throughout, so reading it whole would succeed and prove nothing.
    let line = "# ".to_string() + &"x".repeat(1022) + "\n";
    let mut big = String::from(SECURITY_DATASET);
    while big.len() <= 10 << 20 {
        big.push_str(&line);
    }
    write(root, "huge.yaml", big);
    let o = lint(&[root]);
    assert_eq!(
        summary(&o),
        vec![("skipped-file".into(), "huge.yaml".into(), 1, 1)]
    );
    assert!(o.findings[0].message.contains("10 MiB"));
    assert!(o.model.sources.files[0].text.is_empty());
}

#[test]
fn binary_files_named_yaml_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A tiny xorshift so the noise is the same on every run.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    write(root, "noise.yaml", &noise);
    write(root, "zeros.yaml", vec![0u8; 4096]);
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0kind: dataset\n".to_vec();
    elf.extend_from_slice(&noise[..1024]);
    write(root, "elf.yml", elf);
    write(root, "sink.yaml", AD_SINK);
    let o = lint(&[root]);
    assert_eq!(summary(&o), vec![]);
    assert_eq!(o.summary.files, 4);
    assert_eq!(o.summary.manifests, 1);
}

#[test]
fn invalid_utf8_in_a_manifest_is_reported_where_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "bad.yaml",
        b"kind: dataset\nname: caf\xc3\xa9s\nfields:\n  - name: caf\xff\n",
    );
    write(root, "other.yaml", b"greeting: caf\xff\n");
    write(
        root,
        "with-bom.yaml",
        b"\xef\xbb\xbfkind: sink\nname: caf\xff\n",
    );
    let o = lint(&[root]);
    assert_eq!(
        summary(&o),
        vec![
            ("invalid-manifest".into(), "bad.yaml".into(), 4, 14),
            ("invalid-manifest".into(), "with-bom.yaml".into(), 2, 10)
        ]
    );
    assert!(o.findings[0].message.contains("UTF-8"));
    // The compact and JSON renderers show the file and position too.
    let out = bin()
        .args(["check", "--format", "compact"])
        .arg(root)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("bad.yaml:4:14: error[invalid-manifest]"),
        "{out}"
    );
}

#[test]
fn bom_is_ignored_and_columns_stay_right() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.yaml", format!("\u{feff}{SECURITY_DATASET}"));
    write(root, "b.yaml", "\u{feff}kind: sink\nname: [oops\n");
    let o = lint(&[root]);
    assert_eq!(o.summary.manifests, 1);
    let ds = o.model.dataset_id("accounts.security").unwrap();
    let loc = o.model.dataset(ds).loc;
    assert_eq!((loc.span.start_pos.line, loc.span.start_pos.column), (2, 7));
    let s = summary(&o);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, "invalid-manifest");
    assert_eq!(s[0].1, "b.yaml");
}

fn to_crlf(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            to_crlf(&p);
        } else {
            let text = std::fs::read_to_string(&p).unwrap();
            std::fs::write(&p, text.replace('\n', "\r\n")).unwrap();
        }
    }
}

fn json_at(cwd: &Path, args: &[&str]) -> String {
    let out = bin()
        .current_dir(cwd)
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn crlf_gives_the_same_report_as_lf() {
    let lf = tempfile::tempdir().unwrap();
    let crlf = tempfile::tempdir().unwrap();
    copy_tree(&example("tailored-audiences"), lf.path());
    copy_tree(&example("tailored-audiences"), crlf.path());
    to_crlf(crlf.path());
    let a = json_at(lf.path(), &["."]);
    let b = json_at(crlf.path(), &["."]);
    assert!(a.contains("security-to-advertising"));
    assert_eq!(a, b);
}

#[test]
fn empty_and_comment_only_files_are_fine() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "empty.yaml", "");
    write(root, "dashes.yaml", "---\n---\n...\n");
    write(root, "comment.yml", "# nothing here\n");
    write(root, "blank.yaml", "\n\n   \n");
    let o = lint(&[root]);
    // Fine, but nothing to lint: only the `no-input` warning, and exit 0.
    let rules: Vec<&str> = o.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, vec!["no-input"]);
    assert_eq!((o.summary.files, o.summary.manifests), (4, 0));
    bin().arg("check").arg(root).assert().code(0);
}

#[test]
fn a_file_of_ten_thousand_documents() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut y = String::from(SECURITY_DATASET);
    for i in 0..9_998 {
        write!(y, "---\nkind: sink\nname: sink_{i:05}\nuses: [analytics]\n").unwrap();
    }
    y.push_str("---\nkind: pipeline\nname: p\nsteps:\n  - name: s\n    from: accounts.security\n    to: sink_09997\n");
    write(root, "many.yaml", &y);
    write(root, "ad.yaml", AD_SINK);
    let o = lint(&[root]);
    assert_eq!(o.summary.manifests, 10_001);
    assert_eq!(o.model.sinks.len(), 9_999);
    assert!(o.findings.is_empty(), "{:?}", summary(&o));
    // A second pipeline to the ad sink gives exactly the two findings (two fields).
    y.push_str("---\nkind: pipeline\nname: q\nsteps:\n  - name: s\n    from: accounts.security\n    to: ads_upload\n");
    write(root, "many.yaml", &y);
    let o = lint(&[root]);
    let s = with_rule(&o, "security-to-advertising");
    assert_eq!(s.len(), 2);
}

#[cfg(unix)]
#[test]
fn symlink_loops_terminate_and_outside_targets_are_not_followed() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.yaml", SECURITY_DATASET);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "sink.yaml", AD_SINK);
    write(root, "sub/x.yaml", "a: 1\n");
    symlink(".", root.join("sub/loop")).unwrap();
    symlink(root, root.join("sub/root")).unwrap();
    symlink("self.yaml", root.join("self.yaml")).unwrap();
    symlink("b.yaml", root.join("a.yaml")).unwrap();
    symlink("a.yaml", root.join("b.yaml")).unwrap();
    symlink(outside.path(), root.join("outside")).unwrap();
    symlink(outside.path().join("secret.yaml"), root.join("secret.yaml")).unwrap();
    let o = lint(&[root]);
    let mut files: Vec<_> = o
        .model
        .sources
        .files
        .iter()
        .map(|f| f.path.strip_prefix(root).unwrap().to_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        vec![Path::new("sink.yaml"), Path::new("sub/x.yaml")],
        "symlinks are not followed"
    );
    assert!(o.model.dataset_id("accounts.security").is_none());
    assert!(o.findings.is_empty());
    bin().arg("check").arg(root).assert().code(0);
}

/// chmod 000 does not stop root (CI runs as root), so the outcome checked depends on
/// whether the file really became unreadable.
#[cfg(unix)]
#[test]
fn unreadable_file_and_directory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let locked = write(root, "locked.yaml", SECURITY_DATASET);
    write(root, "lockeddir/inner.yaml", AD_SINK);
    write(root, "sink.yaml", AD_SINK.replace("ads_upload", "other"));
    let none = std::fs::Permissions::from_mode(0o000);
    std::fs::set_permissions(&locked, none.clone()).unwrap();
    std::fs::set_permissions(root.join("lockeddir"), none).unwrap();
    let privileged = std::fs::File::open(&locked).is_ok();
    let o = lint(&[root]);
    let restore = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(&locked, restore.clone()).unwrap();
    std::fs::set_permissions(root.join("lockeddir"), restore).unwrap();
    if privileged {
        eprintln!("running with privileges that ignore chmod 000: checking the files are read");
        assert!(o.findings.is_empty());
        assert_eq!(o.summary.manifests, 3);
        return;
    }
    assert_eq!(
        summary(&o),
        vec![("skipped-file".into(), "locked.yaml".into(), 1, 1)]
    );
    assert!(o.findings[0].message.to_lowercase().contains("permission"));
    assert_eq!(o.warnings.len(), 1, "{:?}", o.warnings);
    assert!(o.warnings[0].contains("lockeddir"));
    assert_eq!(o.summary.manifests, 1);
}

#[test]
fn paths_with_spaces_and_non_ascii_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("my repo ü");
    copy_tree(&example("tailored-audiences"), &root);
    std::fs::rename(root.join("schemas"), root.join("schémas de données")).unwrap();
    std::fs::rename(root.join("sinks.yaml"), root.join("sinks 日本.yaml")).unwrap();
    let out = json_at(dir.path(), &["my repo ü"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    let sink_file = findings[0]["sink"]["location"]["file"].as_str().unwrap();
    assert_eq!(sink_file, "my repo ü/sinks 日本.yaml");
    let src_file = findings[0]["source"]["location"]["file"].as_str().unwrap();
    assert_eq!(src_file, "my repo ü/schémas de données/accounts.yaml");
}

#[cfg(target_os = "linux")]
#[test]
fn file_names_that_are_not_utf8() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let name = OsStr::from_bytes(b"caf\xff.yaml");
    std::fs::write(root.join(name), SECURITY_DATASET).unwrap();
    write(root, "sink.yaml", AD_SINK);
    write(
        root,
        "p.yaml",
        "kind: pipeline\nname: p\nsteps:\n  - name: s\n    from: accounts.security\n    to: ads_upload\n",
    );
    let o = lint(&[root]);
    assert_eq!(with_rule(&o, "security-to-advertising").len(), 2);
    bin().arg("check").arg(root).assert().code(1);
}

#[cfg(unix)]
#[test]
fn fifo_named_yaml_does_not_block() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let made = std::process::Command::new("mkfifo")
        .arg(root.join("pipe.yaml"))
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("mkfifo unavailable: skipping");
        return;
    }
    write(root, "sink.yaml", AD_SINK);
    let o = lint(&[root]);
    assert_eq!(o.summary.files, 1);
}

/// A ring of 100,000 implicit datasets joined by passthrough steps, with one exit to an
/// ad sink: the resolver's worklist and the searches must terminate in linear work.
#[test]
fn hundred_thousand_node_cycle_of_passthrough_steps() {
    const N: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "accounts.yaml", SECURITY_DATASET);
    write(root, "sink.yaml", AD_SINK);
    // Split the ring over ten files, so steps also cross files.
    let ds = |i: usize| {
        if i.is_multiple_of(N) {
            "accounts.security".to_string()
        } else {
            format!("ring.d{i:06}")
        }
    };
    for part in 0..10 {
        let mut y = format!("kind: pipeline\nname: ring{part}\nsteps:\n");
        for i in part * N / 10..(part + 1) * N / 10 {
            let (from, to) = (ds(i), ds(i + 1));
            writeln!(y, "  - {{name: s{i}, from: {from}, to: {to}}}").unwrap();
        }
        write(root, &format!("ring{part}.yaml"), y);
    }
    write(
        root,
        "exit.yaml",
        "kind: pipeline\nname: exit\nsteps:\n  - name: out\n    from: ring.d050000\n    to: ads_upload\n",
    );
    let o = lint(&[root]);
    assert_eq!(o.model.datasets.len(), N);
    assert_eq!(o.model.fields.len(), 2 * N);
    let found = with_rule(&o, "security-to-advertising");
    assert_eq!(found.len(), 2, "{:?}", summary(&o));
    for f in found {
        assert_eq!(f.flow.as_ref().unwrap().path.len(), 50_001);
    }
    assert_memory_bounded();
}

/// A flat chain of 50,000 operators parses into a 50,000-deep tree; walking or dropping
/// it recursively would overflow the stack.
#[test]
fn huge_expressions_are_reported_not_overflowed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "accounts.yaml", SECURITY_DATASET);
    write(root, "sink.yaml", AD_SINK);
    let sum = vec!["accounts.security.phone"; 50_000].join(" + ");
    let and = vec!["user_id = 1"; 50_000].join(" AND ");
    let y = format!(
        "kind: pipeline\nname: p\nsteps:\n  - name: s\n    from: accounts.security\n    \
         to: ads_upload\n    where: {and}\n    fields:\n      total: {sum}\n"
    );
    write(root, "p.yaml", y);
    let o = lint(&[root]);
    let s = summary(&o);
    assert_eq!(s.len(), 2, "{s:?}");
    for f in &o.findings {
        assert_eq!(f.rule, "invalid-manifest");
        assert!(f.message.contains("too long"), "{}", f.message);
    }
}
