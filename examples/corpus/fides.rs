//! A deterministic synthetic Fides (fideslang) repository: datasets with collections,
//! nested fields and `fides_meta` references, systems whose privacy declarations read
//! those datasets and pass data to each other through egress and ingress, and one
//! policy. Some datasets are collected for security and reach advertising systems.
//! Resources are split into files of at most `PER_FILE` systems (and as many
//! datasets), so that no file nears the default size limit. Same arguments → same bytes.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use super::Rng;

/// Systems (and datasets) per file.
const PER_FILE: usize = 100;

/// What was written, for reports.
#[derive(Debug, Default, Clone)]
pub struct FidesStats {
    pub files: usize,
    pub bytes: usize,
    pub datasets: usize,
    pub systems: usize,
}

const FIELDS: [(&str, &str); 12] = [
    ("id", "system.operations"),
    ("email", "user.contact.email"),
    ("phone_number", "user.contact.phone_number"),
    ("first_name", "user.name"),
    ("state", "user.contact.address.state"),
    ("device_id", "user.device.cookie_id"),
    ("created_at", "system.operations"),
    ("login_ip", "user.device.ip_address"),
    ("country", "user.contact.address.country"),
    ("plan", "system.operations"),
    ("score", "user.behavior"),
    ("referrer", "user.behavior"),
];
const USES: [&str; 6] = [
    "essential.service.operations",
    "analytics.reporting",
    "functional.storage",
    "marketing.advertising.third_party.targeted",
    "marketing.communications.email",
    "essential.service.security",
];

/// Writes `systems` systems and as many datasets under `out`.
pub fn generate(systems: usize, seed: u64, out: &Path) -> io::Result<FidesStats> {
    let mut rng = Rng::new(seed);
    let mut stats = FidesStats::default();
    let mut written = super::Writer::new(out);
    let mut write = |rel: &str, text: &str| written.write(rel, text);
    for chunk in 0..systems.div_ceil(PER_FILE) {
        let range = chunk * PER_FILE..((chunk + 1) * PER_FILE).min(systems);
        let mut datasets = String::from("dataset:\n");
        for i in range.clone() {
            dataset(&mut rng, i, &mut datasets);
        }
        write(&format!("fides/datasets_{chunk:03}.yml"), &datasets)?;
        let mut y = String::from("system:\n");
        for i in range {
            system(&mut rng, i, systems, &mut y);
        }
        write(&format!("fides/systems_{chunk:03}.yml"), &y)?;
    }
    write("fides/policy.yml", POLICY)?;
    stats.datasets = systems;
    stats.systems = systems;
    (stats.files, stats.bytes) = (written.files, written.bytes);
    Ok(stats)
}

const POLICY: &str = "\
policy:
  - fides_key: generated_policy
    name: Generated policy
    description: No phone numbers for third-party advertising.
    rules:
      - name: Reject targeted advertising of phone numbers
        data_categories:
          matches: ANY
          values:
            - user.contact.phone_number
        data_uses:
          matches: ANY
          values:
            - marketing.advertising.third_party.targeted
        data_subjects:
          matches: ANY
          values:
            - customer
";

fn dataset(rng: &mut Rng, i: usize, y: &mut String) {
    let security = i.is_multiple_of(7);
    let _ = writeln!(
        y,
        "  - fides_key: dataset_{i:05}\n    name: Dataset {i}\n    description: \"Generated dataset {i}, for the benchmark.\"\n    organization_fides_key: default_organization"
    );
    if security {
        let _ = writeln!(y, "    data_purposes: [essential.service.security]");
    }
    y.push_str("    collections:\n");
    for c in 0..rng.range(1, 4) {
        let _ = writeln!(
            y,
            "      - name: table_{c}\n        description: Collection {c} of dataset {i}.\n        fields:"
        );
        let count = rng.range(4, FIELDS.len());
        for (name, category) in &FIELDS[..count] {
            let _ = writeln!(
                y,
                "          - name: {name}\n            description: The {name} column.\n            data_categories:\n              - {category}"
            );
            if *name == "id" && i > 0 && rng.chance(0.3) {
                let other = rng.range(0, i);
                let _ = writeln!(
                    y,
                    "            fides_meta:\n              primary_key: true\n              references:\n                - dataset: dataset_{other:05}\n                  field: table_0.id\n                  direction: from"
                );
            }
        }
        if rng.chance(0.3) {
            y.push_str(
                "          - name: address\n            fields:\n              - name: city\n                data_categories: [user.contact.address.city]\n              - name: postal_code\n                data_categories: [user.contact.address.postal_code]\n",
            );
        }
    }
}

fn system(rng: &mut Rng, i: usize, systems: usize, y: &mut String) {
    let _ = writeln!(
        y,
        "  - fides_key: system_{i:05}\n    name: System {i}\n    description: Generated system {i}.\n    system_type: Service\n    administrating_department: Engineering"
    );
    let next = (i + 1 + rng.range(0, 5)) % systems.max(1);
    let egress = next != i && rng.chance(0.5);
    if egress {
        let _ = writeln!(
            y,
            "    egress:\n      - fides_key: system_{next:05}\n        type: system\n        data_categories: [user.contact]"
        );
    }
    let _ = writeln!(
        y,
        "    ingress:\n      - fides_key: dataset_{i:05}\n        type: dataset"
    );
    y.push_str("    privacy_declarations:\n");
    for d in 0..rng.range(1, 3) {
        let data_use = rng.pick(&USES);
        let category = if rng.chance(0.25) {
            "user.contact"
        } else {
            "user.behavior"
        };
        let _ = writeln!(
            y,
            "      - name: Declaration {d} of system {i}\n        data_categories:\n          - {category}\n          - user.device.cookie_id\n        data_use: {data_use}\n        data_subjects:\n          - customer\n        dataset_references:\n          - dataset_{i:05}"
        );
        if d == 0 {
            let _ = writeln!(y, "        ingress:\n          - dataset_{i:05}");
            if egress {
                let _ = writeln!(y, "        egress:\n          - system_{next:05}");
            }
        }
    }
}
