//! Property tests over random manifest sets: no panics, deterministic output, and the
//! monotonicity of findings in flows and sinks. Case counts stay modest for CI.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use proptest::prelude::*;
use purposelint::check::{self, Options, Outcome};

const PURPOSES: [&str; 6] = [
    "essential.service.security",
    "essential.service.authentication",
    "essential.fraud_detection",
    "marketing.advertising",
    "analytics",
    "not.a.purpose",
];
const USES: [&str; 5] = [
    "marketing.advertising.third_party.targeted",
    "marketing.communications.email",
    "third_party_sharing",
    "analytics",
    "essential.service",
];
const FUNCTIONS: [&str; 4] = ["sha256", "lower", "count", "upper"];
const IMPLICIT: usize = 3;

#[derive(Debug, Clone)]
struct DatasetSpec {
    purpose: Option<usize>,
    uses: Option<usize>,
    /// (field name index, purpose)
    fields: Vec<(usize, Option<usize>)>,
}

#[derive(Debug, Clone)]
struct Ref {
    from_slot: usize,
    field: usize,
    function: Option<usize>,
}

#[derive(Debug, Clone)]
struct StepSpec {
    /// Indices into datasets then implicit names (never sinks).
    from: Vec<usize>,
    /// Index into datasets, sinks, then implicit names.
    to: usize,
    /// `None`: passthrough; else output field → reference.
    fields: Option<Vec<(usize, Ref)>>,
    join: Option<(Ref, Ref)>,
    allow: Option<usize>,
}

#[derive(Debug, Clone)]
struct Spec {
    datasets: Vec<DatasetSpec>,
    sinks: Vec<usize>,
    steps: Vec<StepSpec>,
}

fn dataset_strategy() -> impl Strategy<Value = DatasetSpec> {
    (
        proptest::option::weighted(0.3, 0..PURPOSES.len()),
        proptest::option::weighted(0.15, 0..USES.len()),
        prop::collection::vec(
            (
                0..8usize,
                proptest::option::weighted(0.3, 0..PURPOSES.len()),
            ),
            1..6,
        ),
    )
        .prop_map(|(purpose, uses, fields)| DatasetSpec {
            purpose,
            uses,
            fields,
        })
}

fn ref_strategy() -> impl Strategy<Value = Ref> {
    (
        0..4usize,
        0..8usize,
        proptest::option::weighted(0.3, 0..FUNCTIONS.len()),
    )
        .prop_map(|(from_slot, field, function)| Ref {
            from_slot,
            field,
            function,
        })
}

fn step_strategy() -> impl Strategy<Value = StepSpec> {
    (
        prop::collection::vec(0..12usize, 1..3),
        0..16usize,
        proptest::option::weighted(
            0.5,
            prop::collection::vec((0..8usize, ref_strategy()), 1..4),
        ),
        proptest::option::weighted(0.3, (ref_strategy(), ref_strategy())),
        proptest::option::weighted(0.1, 0..3usize),
    )
        .prop_map(|(from, to, fields, join, allow)| StepSpec {
            from,
            to,
            fields,
            join,
            allow,
        })
}

fn spec_strategy() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec(dataset_strategy(), 1..6),
        prop::collection::vec(0..USES.len(), 1..4),
        prop::collection::vec(step_strategy(), 1..12),
    )
        .prop_map(|(datasets, sinks, steps)| Spec {
            datasets,
            sinks,
            steps,
        })
}

impl Spec {
    fn dataset_name(&self, i: usize) -> String {
        // Some names contain dots, as real ones do.
        if i.is_multiple_of(2) {
            format!("d{i}")
        } else {
            format!("ns.d{i}")
        }
    }

    /// Datasets, then implicit names: what `from` can name.
    fn readable(&self, i: usize) -> String {
        let i = i % (self.datasets.len() + IMPLICIT);
        if i < self.datasets.len() {
            self.dataset_name(i)
        } else {
            format!("tmp.i{}", i - self.datasets.len())
        }
    }

    fn writable(&self, i: usize) -> String {
        let n = self.datasets.len() + self.sinks.len() + IMPLICIT;
        let i = i % n;
        if i < self.datasets.len() {
            self.dataset_name(i)
        } else if i < self.datasets.len() + self.sinks.len() {
            format!("sink{}", i - self.datasets.len())
        } else {
            format!("tmp.i{}", i - self.datasets.len() - self.sinks.len())
        }
    }

    fn reference(&self, step: &StepSpec, r: &Ref) -> String {
        let ds = self.readable(step.from[r.from_slot % step.from.len()]);
        let col = format!("{ds}.f{}", r.field);
        match r.function {
            Some(f) => format!("{}({col})", FUNCTIONS[f]),
            None => col,
        }
    }

    /// One file per dataset and sink, one pipeline file per step.
    fn files(&self) -> Vec<(String, String)> {
        let mut files = Vec::new();
        for (i, d) in self.datasets.iter().enumerate() {
            let mut y = format!("kind: dataset\nname: {}\n", self.dataset_name(i));
            if let Some(p) = d.purpose {
                writeln!(y, "purposes: [{}]", PURPOSES[p]).unwrap();
            }
            if let Some(u) = d.uses {
                writeln!(y, "uses: [{}]", USES[u]).unwrap();
            }
            y.push_str("fields:\n");
            for (f, p) in &d.fields {
                writeln!(y, "  - name: f{f}").unwrap();
                if let Some(p) = p {
                    writeln!(y, "    purposes: [{}]", PURPOSES[*p]).unwrap();
                }
            }
            files.push((format!("datasets/d{i}.yaml"), y));
        }
        for (i, u) in self.sinks.iter().enumerate() {
            let y = format!("kind: sink\nname: sink{i}\nuses: [{}]\n", USES[*u]);
            files.push((format!("sinks/sink{i}.yaml"), y));
        }
        for (i, s) in self.steps.iter().enumerate() {
            files.push((format!("pipelines/p{i}.yaml"), self.pipeline(i, s)));
        }
        files
    }

    fn pipeline(&self, i: usize, s: &StepSpec) -> String {
        let from: Vec<String> = s.from.iter().map(|&f| self.readable(f)).collect();
        let mut y = format!(
            "kind: pipeline\nname: p{i}\nsteps:\n  - name: s\n    from: [{}]\n    to: {}\n",
            from.join(", "),
            self.writable(s.to)
        );
        if let Some((a, b)) = &s.join {
            let (a, b) = (self.reference(s, a), self.reference(s, b));
            writeln!(y, "    join: {a} = {b}").unwrap();
        }
        if let Some(fields) = &s.fields {
            y.push_str("    fields:\n");
            for (out, r) in fields {
                writeln!(y, "      o{out}: {}", self.reference(s, r)).unwrap();
            }
        }
        if let Some(rule) = s.allow {
            let rule = [
                "security-to-advertising",
                "security-to-marketing",
                "security-to-third-party",
            ][rule];
            writeln!(
                y,
                "    allow:\n      - rule: {rule}\n        reason: reviewed"
            )
            .unwrap();
        }
        y
    }
}

fn opts() -> Options {
    Options::new(Vec::new())
}

fn run(opts: &Options, files: &[(String, String)]) -> Outcome {
    let files = files
        .iter()
        .map(|(n, t)| (n.clone(), t.clone().into_bytes()))
        .collect();
    check::run_bytes(opts, files)
}

fn json(o: &Outcome) -> Vec<u8> {
    let mut out = Vec::new();
    purposelint::report::json::render(
        &mut out,
        &o.model.sources,
        &o.summary,
        &o.findings,
        &o.dismissed,
    )
    .unwrap();
    out
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// (rule, source field, sink) of every flow finding.
fn flow_findings(o: &Outcome) -> BTreeSet<(String, String, String)> {
    o.findings
        .iter()
        .filter_map(|f| {
            let flow = f.flow.as_ref()?;
            Some((
                f.rule.clone(),
                flow.source.name.clone(),
                flow.sink.name.clone(),
            ))
        })
        .collect()
}

/// Lines of YAML-ish fragments, including manifest keys, so that random text often gets
/// past the parser into the manifest reader.
fn soup() -> impl Strategy<Value = String> {
    let fragment = prop::sample::select(vec![
        "kind: dataset",
        "kind: sink",
        "kind: pipeline",
        "name: a.b",
        "name: x",
        "fields:",
        "  - name: f",
        "    purposes: [essential.service.security]",
        "uses: [marketing]",
        "steps:",
        "  - name: s",
        "    from: [a.b, x]",
        "    to: x",
        "    to: y",
        "    join: sha256(a.b.f) = x.f",
        "    where: f = 1 AND (",
        "    fields: {o: a.b.f}",
        "    group_by: [f]",
        "    allow: [{rule: security-to-advertising}]",
        "---",
        "&a [1]",
        "*a",
        "{",
        "]",
        "'",
        "\"",
        "\t",
        "- - -",
        "? k",
        ": v",
        "!!tag x",
        "|",
        ">-",
        "  ü: ✓",
        "\u{feff}",
        "\r",
        "%YAML 1.2",
    ]);
    prop::collection::vec(fragment, 0..24).prop_map(|v| v.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_manifests_never_panic_and_are_deterministic(spec in spec_strategy()) {
        let opts = opts();
        let files = spec.files();
        let one = in_pool(1, || json(&run(&opts, &files)));
        let two = in_pool(2, || json(&run(&opts, &files)));
        let again = in_pool(2, || json(&run(&opts, &files)));
        prop_assert_eq!(&one, &two);
        prop_assert_eq!(&two, &again);
    }

    #[test]
    fn random_text_never_panics(a in soup(), b in soup(), bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let files = vec![
            ("a.yaml".to_string(), a.into_bytes()),
            ("b.yaml".to_string(), b.into_bytes()),
            ("c.yaml".to_string(), bytes),
        ];
        let o = check::run_bytes(&opts(), files);
        let _ = json(&o);
    }

    #[test]
    fn adding_a_flow_never_removes_a_finding(spec in spec_strategy(), extra in step_strategy()) {
        let opts = opts();
        let before = flow_findings(&run(&opts, &spec.files()));
        let mut files = spec.files();
        // A reviewed `allow` on the new step could only suppress its own paths; keep the
        // property about flows.
        let extra = StepSpec { allow: None, ..extra };
        files.push(("pipelines/extra.yaml".into(), spec.pipeline(999, &extra)));
        let after = flow_findings(&run(&opts, &files));
        prop_assert!(before.is_subset(&after), "lost: {:?}", before.difference(&after).collect::<Vec<_>>());
    }

    #[test]
    fn removing_a_sink_removes_exactly_its_findings(spec in spec_strategy(), which in 0..4usize) {
        let opts = opts();
        let files = spec.files();
        let before = flow_findings(&run(&opts, &files));
        let which = which % spec.sinks.len();
        let name = format!("sink{which}");
        let path = format!("sinks/sink{which}.yaml");
        let files: Vec<_> = files.into_iter().filter(|(p, _)| *p != path).collect();
        let after = flow_findings(&run(&opts, &files));
        let expected: BTreeSet<_> = before.into_iter().filter(|(_, _, k)| *k != name).collect();
        prop_assert_eq!(after, expected);
    }
}

/// The binary agrees with itself across runs and thread counts on a fixed random corpus.
#[test]
fn binary_output_is_identical_across_threads() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let dir = tempfile::tempdir().unwrap();
    for n in 0..3 {
        let spec = spec_strategy().new_tree(&mut runner).unwrap().current();
        for (rel, text) in spec.files() {
            let p = dir.path().join(format!("c{n}")).join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    }
    let out = |threads: &str| {
        assert_cmd::Command::cargo_bin("purposelint")
            .unwrap()
            .current_dir(dir.path())
            .args(["check", "--format", "json", "--threads", threads, "."])
            .output()
            .unwrap()
            .stdout
    };
    let first = out("1");
    assert!(!first.is_empty());
    assert_eq!(first, out("2"));
    assert_eq!(first, out("2"));
    assert_eq!(first, out("1"));
}

/// Guards against vacuous properties: the generator must often produce flow findings.
#[test]
fn generator_often_produces_findings() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let opts = opts();
    let with_findings = (0..64)
        .filter(|_| {
            let spec = spec_strategy().new_tree(&mut runner).unwrap().current();
            !flow_findings(&run(&opts, &spec.files())).is_empty()
        })
        .count();
    assert!(
        with_findings >= 10,
        "only {with_findings} of 64 specs had findings"
    );
}
