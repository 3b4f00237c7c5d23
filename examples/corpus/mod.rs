//! A deterministic synthetic repository of manifests, shared by the `gen-corpus` example
//! and the benchmark. Same `Config` → same bytes, on every machine.

pub mod activation;
pub mod dbt;
pub mod fides;

use std::fmt::Write as _;
use std::io;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Config {
    pub files: usize,
    pub seed: u64,
    /// Fraction of pipelines that carry a security field into an ad, marketing or
    /// third-party sink.
    pub violating: f64,
}

/// What was written, for reports.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub files: usize,
    pub bytes: usize,
    pub datasets: usize,
    pub fields: usize,
    pub pipelines: usize,
    pub steps: usize,
    pub sinks: usize,
    pub violating_pipelines: usize,
}

/// Writes files under a folder, counting them and their bytes.
pub struct Writer<'o> {
    out: &'o Path,
    pub files: usize,
    pub bytes: usize,
}

impl<'o> Writer<'o> {
    pub fn new(out: &'o Path) -> Self {
        Writer {
            out,
            files: 0,
            bytes: 0,
        }
    }

    /// Writes `text` to `rel` under the folder, creating folders as needed.
    pub fn write(&mut self, rel: &str, text: &str) -> io::Result<()> {
        let path = self.out.join(rel);
        std::fs::create_dir_all(path.parent().unwrap())?;
        std::fs::write(&path, text)?;
        self.files += 1;
        self.bytes += text.len();
        Ok(())
    }
}

/// splitmix64: tiny, seedable, and stable across platforms and crate versions.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5851_f42d_4c95_7f2d)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (hi exclusive, hi > lo).
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo) as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        unit < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len())]
    }
}

const DOMAINS: [&str; 8] = [
    "accounts", "billing", "growth", "support", "identity", "ads", "risk", "search",
];
const TABLES: [&str; 8] = [
    "users", "events", "contacts", "sessions", "orders", "profiles", "devices", "audits",
];
const WORDS: [&str; 16] = [
    "amount",
    "country",
    "created_at",
    "status",
    "score",
    "plan",
    "locale",
    "channel",
    "source",
    "device",
    "segment",
    "region",
    "tier",
    "balance",
    "referrer",
    "campaign",
];
const SECURITY: [&str; 3] = [
    "essential.service.authentication",
    "essential.service.security",
    "essential.fraud_detection",
];
const SECURITY_FIELDS: [(&str, &str); 4] = [
    ("phone_number", "user.contact.phone_number"),
    ("recovery_email", "user.contact.email"),
    ("totp_device", "user.device"),
    ("login_ip", "user.device"),
];
const OTHER_PURPOSES: [&str; 5] = [
    "essential.service.operations",
    "analytics.reporting",
    "marketing.communications.email",
    "personalize.content",
    "functional.service",
];
/// Uses that the built-in rules flag.
const BAD_USES: [&str; 5] = [
    "marketing.advertising.third_party.targeted",
    "marketing.advertising.first_party.targeted",
    "marketing.communications.email",
    "marketing.communications.sms",
    "third_party_sharing",
];
const GOOD_USES: [&str; 4] = [
    "analytics.reporting",
    "essential.service.operations",
    "essential.fraud_detection",
    "functional.storage",
];
const FUNCTIONS: [&str; 4] = ["lower", "sha256", "trim", "upper"];

struct Dataset {
    name: String,
    fields: Vec<String>,
    /// Indices into `fields` of fields collected for security.
    security: Vec<usize>,
}

/// Writes the corpus under `out` (created if needed) and returns what it wrote.
pub fn generate(cfg: &Config, out: &Path) -> io::Result<Stats> {
    let mut rng = Rng::new(cfg.seed);
    let mut stats = Stats::default();
    let files = cfg.files.max(3);
    let sink_files = (files / 50).max(1);
    let dataset_files = ((files - sink_files) * 45 / 100).max(1);
    let pipeline_files = files - sink_files - dataset_files;

    let emit = |rel: String, text: String, stats: &mut Stats| -> io::Result<()> {
        let p = out.join(rel);
        std::fs::create_dir_all(p.parent().unwrap())?;
        stats.files += 1;
        stats.bytes += text.len();
        std::fs::write(p, text)
    };

    // Sinks: every file holds one sink of every use, as several documents.
    let mut bad_sinks = Vec::new();
    let mut good_sinks = Vec::new();
    for i in 0..sink_files {
        let mut y = String::new();
        for (j, use_) in BAD_USES.iter().chain(&GOOD_USES).enumerate() {
            let name = format!("sink_{i}_{}", use_.replace('.', "_"));
            if j > 0 {
                y.push_str("---\n");
            }
            write!(
                y,
                "kind: sink\nname: {name}\nuses: [{use_}]\nvendor: Vendor {j}\n\
                 description: Destination number {i}.{j}.\n"
            )
            .unwrap();
            if j < BAD_USES.len() {
                bad_sinks.push(name);
            } else {
                good_sinks.push(name);
            }
            stats.sinks += 1;
        }
        emit(format!("sinks/sinks_{i:05}.yaml"), y, &mut stats)?;
    }

    let mut datasets = Vec::with_capacity(dataset_files);
    for i in 0..dataset_files {
        let domain = *rng.pick(&DOMAINS);
        let name = format!("{domain}.{}_{i}", rng.pick(&TABLES));
        let n = rng.range(20, 201);
        let has_security = rng.chance(0.35);
        let mut y = format!(
            "kind: dataset\nname: {name}\ndescription: Synthetic table {i} of the {domain} domain.\n"
        );
        if rng.chance(0.5) {
            writeln!(y, "purposes: [{}]", rng.pick(&OTHER_PURPOSES)).unwrap();
        }
        y.push_str("fields:\n  - name: user_id\n    categories: [user.unique_id]\n");
        let mut fields = vec!["user_id".to_string()];
        let mut security = Vec::new();
        for j in 1..n {
            if has_security && j <= SECURITY_FIELDS.len() && rng.chance(0.7) {
                let (f, cat) = SECURITY_FIELDS[j - 1];
                write!(
                    y,
                    "  - name: {f}\n    categories: [{cat}]\n    purposes: [{}]\n    \
                     description: Collected to protect the account.\n",
                    rng.pick(&SECURITY)
                )
                .unwrap();
                security.push(fields.len());
                fields.push(f.to_string());
                continue;
            }
            let f = format!("{}_{j}", rng.pick(&WORDS));
            writeln!(y, "  - name: {f}").unwrap();
            if rng.chance(0.2) {
                writeln!(y, "    purposes: [{}]", rng.pick(&OTHER_PURPOSES)).unwrap();
            }
            fields.push(f);
        }
        stats.datasets += 1;
        stats.fields += fields.len();
        emit(format!("schemas/{domain}/{i:06}.yaml"), y, &mut stats)?;
        datasets.push(Dataset {
            name,
            fields,
            security,
        });
    }

    // Pipelines: a chain of steps through implicit stage datasets, starting from declared
    // datasets or from an earlier pipeline's shared output (so chains cross files).
    let mut shared: Vec<Dataset> = Vec::new();
    let with_security: Vec<usize> = (0..datasets.len())
        .filter(|&i| !datasets[i].security.is_empty())
        .collect();
    for k in 0..pipeline_files {
        let violating = rng.chance(cfg.violating);
        let feeder = !violating && rng.chance(0.25);
        let (y, steps, output) = pipeline(
            &mut rng,
            k,
            violating,
            feeder,
            &datasets,
            &with_security,
            &shared,
            &bad_sinks,
            &good_sinks,
        );
        stats.pipelines += 1;
        stats.steps += steps;
        stats.violating_pipelines += usize::from(violating);
        if let Some(out) = output {
            shared.push(out);
        }
        emit(
            format!("pipelines/{:03}/p_{k:06}.yaml", k % 100),
            y,
            &mut stats,
        )?;
    }
    Ok(stats)
}

#[allow(clippy::too_many_arguments)]
fn pipeline(
    rng: &mut Rng,
    k: usize,
    violating: bool,
    feeder: bool,
    datasets: &[Dataset],
    with_security: &[usize],
    shared: &[Dataset],
    bad_sinks: &[String],
    good_sinks: &[String],
) -> (String, usize, Option<Dataset>) {
    let name = format!("flow_{k:06}");
    let mut y =
        format!("kind: pipeline\nname: {name}\ndescription: Synthetic pipeline {k}.\nsteps:\n");
    // Inputs: a violating pipeline needs a dataset with a security field.
    let a: &Dataset = if violating && !with_security.is_empty() {
        &datasets[*rng.pick(with_security)]
    } else {
        rng.pick(datasets)
    };
    let b: &Dataset = if !shared.is_empty() && rng.chance(0.5) {
        rng.pick(shared)
    } else {
        rng.pick(datasets)
    };
    let b = if std::ptr::eq(a, b) { &datasets[0] } else { b };
    let same = a.name == b.name;

    // Step 1: a join that maps chosen fields; only clean fields unless violating.
    let clean = |d: &Dataset, i: usize| !d.security.contains(&i);
    let mut outputs: Vec<String> = vec!["user_id".into()];
    let mut step = String::new();
    let from = if same {
        a.name.clone()
    } else {
        format!("[{}, {}]", a.name, b.name)
    };
    write!(
        step,
        "  - name: extract\n    from: {from}\n    to: stage.{name}.s1\n"
    )
    .unwrap();
    if !same {
        writeln!(step, "    join: {}.user_id = {}.user_id", a.name, b.name).unwrap();
    }
    writeln!(step, "    fields:\n      user_id: {}.user_id", a.name).unwrap();
    let width = rng.range(3, 9);
    for o in 0..width {
        let d = if o.is_multiple_of(2) || same { a } else { b };
        let mut i = rng.range(0, d.fields.len());
        while !clean(d, i) {
            i = rng.range(0, d.fields.len());
        }
        let col = format!("{}.{}", d.name, d.fields[i]);
        let expr = if rng.chance(0.3) {
            format!("{}({col})", rng.pick(&FUNCTIONS))
        } else {
            col
        };
        writeln!(step, "      o{o}: {expr}").unwrap();
        outputs.push(format!("o{o}"));
    }
    if violating {
        let i = *rng.pick(&a.security);
        writeln!(
            step,
            "      hashed: sha256(lower({}.{}))",
            a.name, a.fields[i]
        )
        .unwrap();
        outputs.push("hashed".into());
    } else if let Some(&i) = a.security.first() {
        // Security data that is only counted: a sanitised flow, not a finding.
        writeln!(step, "      checks: count({}.{})", a.name, a.fields[i]).unwrap();
        outputs.push("checks".into());
    }
    y.push_str(&step);

    // Middle steps: filters, passthroughs and groupings, several hops deep.
    let hops = rng.range(1, 4);
    let mut stage = format!("stage.{name}.s1");
    for h in 0..hops {
        let next = format!("stage.{name}.s{}", h + 2);
        write!(y, "  - name: hop{h}\n    from: {stage}\n    to: {next}\n").unwrap();
        match rng.range(0, 3) {
            0 => writeln!(y, "    where: {stage}.{} IS NOT NULL", rng.pick(&outputs)).unwrap(),
            1 => {
                writeln!(y, "    group_by: [{stage}.{}]", outputs[0]).unwrap();
                y.push_str("    fields:\n");
                for o in &outputs {
                    writeln!(y, "      {o}: max({stage}.{o})").unwrap();
                }
            }
            _ => {}
        }
        stage = next;
    }

    let steps = hops + 2;
    if feeder {
        let out = format!("shared.{name}");
        write!(y, "  - name: publish\n    from: {stage}\n    to: {out}\n").unwrap();
        return (
            y,
            steps,
            Some(Dataset {
                name: out,
                fields: outputs,
                security: Vec::new(),
            }),
        );
    }
    let sink = if violating || rng.chance(0.5) {
        rng.pick(bad_sinks)
    } else {
        rng.pick(good_sinks)
    };
    write!(y, "  - name: publish\n    from: {stage}\n    to: {sink}\n").unwrap();
    (y, steps, None)
}
