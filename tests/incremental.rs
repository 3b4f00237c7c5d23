//! An editor session links again only what an edit can affect (`Session::check_view`).
//! Whatever it links, its findings and diagnostics must be those of a whole run over the
//! same files: this test edits generated workspaces and the bundled examples at random
//! (in buffers, on disk, files created and deleted as a file watcher reports them) and
//! compares the two after every edit.

#[path = "../examples/corpus/mod.rs"]
#[allow(dead_code)]
mod corpus;
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use purposelint::check::{self, Options};
use purposelint::session::Session;

/// splitmix64, as the corpus generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn yaml_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// One edit of a manifest's text, of the kinds users make: a line removed, repeated or
/// moved, a name changed by a character, a reference pointed elsewhere.
fn edit(text: &str, names: &[String], rng: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        return "kind: sink\nname: new_sink\nuses: [marketing]\n".into();
    }
    let i = rng.below(lines.len());
    match rng.below(6) {
        0 => {
            lines.remove(i);
        }
        1 => {
            let l = lines[i].clone();
            lines.insert(i, l);
        }
        2 => {
            let j = rng.below(lines.len());
            lines.swap(i, j);
        }
        3 => {
            // A one-letter typo, or its repair.
            let l = &mut lines[i];
            if let Some(at) = l.rfind(|c: char| c.is_ascii_lowercase()) {
                l.replace_range(at..at + 1, if rng.below(2) == 0 { "x" } else { "e" });
            }
        }
        _ => {
            // A name replaced by another name of the workspace (re-wiring a step).
            let l = &mut lines[i];
            let from = names.iter().find(|n| l.contains(n.as_str()));
            if let Some(from) = from {
                let to = &names[rng.below(names.len())];
                *l = l.replacen(from.as_str(), to, 1);
            }
        }
    }
    lines.join("\n") + "\n"
}

/// Dataset and sink names, for edits that re-wire steps.
fn names_in(files: &[PathBuf]) -> Vec<String> {
    let mut names = Vec::new();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            if let Some(n) = line.strip_prefix("name: ") {
                names.push(n.trim().to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// Edits `edits` times at random and compares the editor's view with a whole run after
/// each edit. Returns how many edits were linked in part.
fn check_edits(root: &Path, edits: usize, seed: u64) -> usize {
    let files = yaml_files(root);
    let names = names_in(&files);
    let opts = Options::new(vec![root.to_path_buf()]);
    let mut editor = Session::new(opts.clone()).keep_between_runs();
    let first = editor.check_view().unwrap();
    let whole = check::run(&opts).unwrap();
    assert_eq!(first.findings, whole.findings, "first run");
    let mut rng = Rng(seed);
    let mut partial = 0;
    let mut files = files;
    for n in 0..edits {
        let file = files[rng.below(files.len())].clone();
        let text = std::fs::read_to_string(&file).unwrap();
        let edited = edit(&text, &names, &mut rng);
        match rng.below(20) {
            // Outside the editor, as a file watcher reports it: a file deleted, or a new
            // one (a sink of a new name: a copy would repeat names, and no edit after it
            // could be linked in part).
            0 if files.len() > 2 => {
                std::fs::remove_file(&file).unwrap();
                files.retain(|f| *f != file);
                editor.remove_overlay(&file);
                editor.created_or_deleted(&file);
            }
            1 => {
                let new = file.with_file_name(format!("new_{n}.yaml"));
                let sink = format!("kind: sink\nname: new_sink_{n}\nuses: [marketing]\n");
                std::fs::write(&new, sink).unwrap();
                files.push(new.clone());
                editor.created_or_deleted(&new);
            }
            // A file changed on disk, not open in the editor.
            2 | 3 => {
                std::fs::write(&file, &edited).unwrap();
                editor.remove_overlay(&file);
                editor.forget_disk(&file);
            }
            // The editor holds the edit in a buffer; the whole run reads it from disk.
            _ => {
                std::fs::write(&file, &edited).unwrap();
                editor.set_overlay(file.clone(), Arc::from(edited.as_str()));
            }
        }
        let view = editor.check_view().unwrap();
        let whole = check::run(&opts).unwrap();
        if view.findings != whole.findings {
            let show = |fs: &[purposelint::finding::Finding]| -> Vec<String> {
                fs.iter()
                    .map(|f| {
                        let d = &whole.model.sources.get(f.location.file).display;
                        let p = f.location.span.start_pos;
                        format!("{d}:{}:{} {} {}", p.line, p.column, f.rule, f.message)
                    })
                    .collect()
            };
            let (a, b) = (show(&view.findings), show(&whole.findings));
            let only = |x: &[String], y: &[String]| -> Vec<String> {
                x.iter().filter(|l| !y.contains(l)).cloned().collect()
            };
            panic!(
                "edit {n} of {} (seed {seed}) differs:\n--- only in the editor\n{}\n--- only in the whole run\n{}\n--- before\n{text}\n--- edited text\n{edited}",
                file.display(),
                only(&a, &b).join("\n"),
                only(&b, &a).join("\n"),
            );
        }
        // Positions of findings are shown against these texts (and an editor's ranges).
        let texts = |s: &purposelint::source::Sources| -> Vec<String> {
            s.files.iter().map(|f| f.text.to_string()).collect()
        };
        let (editor_texts, whole_texts) = (texts(&view.sources), texts(&whole.model.sources));
        assert!(
            editor_texts == whole_texts,
            "edit {n} (seed {seed}): texts differ"
        );
        if view.linked() < whole.model.sources.files.len() {
            partial += 1;
        }
    }
    partial
}

/// `PURPOSELINT_INCREMENTAL_EDITS` and `PURPOSELINT_INCREMENTAL_SEED` run longer or other
/// sequences of edits than CI does.
fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn edits_of_a_generated_workspace_give_the_results_of_a_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = corpus::Config {
        files: 100,
        seed: 7,
        violating: 0.3,
    };
    corpus::generate(&cfg, dir.path()).unwrap();
    let edits = env("PURPOSELINT_INCREMENTAL_EDITS", 100) as usize;
    let partial = check_edits(dir.path(), edits, env("PURPOSELINT_INCREMENTAL_SEED", 1));
    // Most edits must take the partial path, or this test would not test it.
    assert!(
        partial > edits / 2,
        "only {partial} of {edits} edits were linked in part"
    );
}

#[test]
fn edits_of_the_bundled_examples_give_the_results_of_a_whole_run() {
    for example in ["tailored-audiences", "consented-marketing"] {
        let dir = tempfile::tempdir().unwrap();
        support::copy_tree(&support::example(example), dir.path());
        check_edits(dir.path(), 40, env("PURPOSELINT_INCREMENTAL_SEED", 3));
    }
}

/// Native manifests beside activation configs that read what a step writes, and a step
/// that reads an activation source: what the activation link adds to the native part
/// (late reads, undeclared destinations dropped) must be the same in the editor.
#[test]
fn edits_beside_activation_configs_give_the_results_of_a_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "native.yaml",
            "kind: dataset\nname: auth.phones\nfields:\n  - name: id\n  - name: phone\n    purposes: [essential.service.authentication]\n---\nkind: pipeline\nname: build\nsteps:\n  - name: build\n    from: auth.phones\n    to: analytics.sms_audience\n    fields:\n      id: auth.phones.id\n      phone: auth.phones.phone\n",
        ),
        (
            "partner.yaml",
            "kind: sink\nname: partner_share\nuses: [third_party_sharing]\n---\nkind: pipeline\nname: mirror\nsteps:\n  - name: share\n    from: rudderstack_retl_source_table.audience\n    to: partner_share\n",
        ),
        (
            "rs.tf",
            "resource \"rudderstack_retl_source_table\" \"audience\" {\n  config {\n    primary_key = \"id\"\n    schema      = \"analytics\"\n    table       = \"sms_audience\"\n  }\n}\nresource \"rudderstack_destination_facebook_conversions\" \"meta\" {\n  name = \"meta\"\n}\nresource \"rudderstack_retl_connection\" \"c\" {\n  source_id      = rudderstack_retl_source_table.audience.id\n  destination_id = rudderstack_destination_facebook_conversions.meta.id\n  identifiers {\n    from = \"phone\"\n  }\n}\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    check_edits(dir.path(), 40, env("PURPOSELINT_INCREMENTAL_SEED", 5));
}
