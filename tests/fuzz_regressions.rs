//! Replays every input in fuzz/regressions through the fuzz target's entry point, and
//! feeds random bytes through it (the fallback when cargo-fuzz cannot run).

use proptest::prelude::*;
use purposelint::check::Options;

#[test]
fn regression_inputs_do_not_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let opts = Options::new(Vec::new());
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    entries.sort();
    for path in entries {
        let data = std::fs::read(&path).unwrap();
        eprintln!("{}", path.display());
        purposelint::fuzz::run(&opts, &data);
    }
}

#[test]
fn file_separator_splits_inputs() {
    let files = purposelint::fuzz::files(b"a: 1\n%%\nb: 2\n%%\n");
    let names: Vec<_> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["f0.yaml", "f1.tf", "f2.yaml"]);
    assert_eq!(files[1].1, b"b: 2");
}

fn fuzz_cases() -> u32 {
    std::env::var("PURPOSELINT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128)
}

proptest! {
    // PURPOSELINT_FUZZ_CASES raises the count for a longer campaign (docs/fuzzing.md).
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_do_not_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        purposelint::fuzz::run(&Options::new(Vec::new()), &data);
    }

    /// Valid manifests with bytes flipped: most of the input gets deep into the reader.
    #[test]
    fn mutated_manifests_do_not_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let data = mutated(&edits);
        purposelint::fuzz::run(&Options::new(Vec::new()), &data);
    }
}

/// The seed manifests with `edits` applied.
fn mutated(edits: &[(prop::sample::Index, u8)]) -> Vec<u8> {
    let mut data = SEED.as_bytes().to_vec();
    for (at, byte) in edits {
        let i = at.index(data.len());
        data[i] = *byte;
    }
    data
}

const SEED: &str = "kind: dataset
name: accounts.security
purposes: [essential.service.security]
fields:
  - name: user_id
  - name: phone
    purposes: [essential.service.authentication]
%%
kind: sink
name: ads
uses: [marketing.advertising]
%%
kind: pipeline
name: p
steps:
  - name: s
    from: [accounts.security]
    to: tmp
    join: sha256(accounts.security.phone) = accounts.security.user_id
    fields: {o: lower(accounts.security.phone)}
    allow: [{rule: security-to-marketing, reason: ok}]
  - name: t
    from: tmp
    to: ads
";

#[test]
fn regression_inputs_hold_in_the_tape_and_a_dbt_project() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let opts = Options::new(Vec::new());
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n != "README.md") {
            let data = std::fs::read(&path).unwrap();
            purposelint::fuzz::tape(&data);
            purposelint::fuzz::run_dbt(&opts, &data);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), ..ProptestConfig::default() })]

    /// Manifests with bytes flipped, through the tape's invariants and as a dbt project.
    #[test]
    fn mutated_manifests_hold_in_the_tape(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let data = mutated(&edits);
        purposelint::fuzz::tape(&data);
        purposelint::fuzz::run_dbt(&Options::new(Vec::new()), &data);
    }
}
