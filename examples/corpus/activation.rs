//! A deterministic synthetic activation repository: warehouse tables as native datasets
//! (some columns collected for account security), and Terraform modules of RudderStack,
//! Census and Segment syncs from those tables to ad, marketing and transport
//! destinations. Same arguments → same bytes.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use super::Rng;

/// What was written, for reports.
#[derive(Debug, Default, Clone)]
pub struct ActivationStats {
    pub files: usize,
    pub tf_files: usize,
    pub bytes: usize,
    pub syncs: usize,
}

const COLUMNS: &[&str] = &[
    "id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "country",
    "plan",
    "created_at",
    "updated_at",
    "ltv",
];
const RUDDER_DESTINATIONS: &[&str] = &[
    "facebook_conversions",
    "google_ads",
    "tiktok_ads",
    "linkedin_ads",
    "braze",
    "webhook",
    "customerio",
];
const SEGMENT_IDS: &[&str] = &[
    "645d5fc12eb891cf0a93fe4b",
    "61806e472cd47ea1104885fc",
    "60ae8b97dcb6cc52d5d0d5ab",
    "650bdf1a62fb34ef0a8058e1",
];

/// Syncs per module (directory): about what one team keeps in one Terraform root.
const PER_MODULE: usize = 25;

pub fn generate(syncs: usize, seed: u64, out: &Path) -> io::Result<ActivationStats> {
    let mut rng = Rng::new(seed);
    let mut stats = ActivationStats::default();
    let write = |path: &Path, text: &str, stats: &mut ActivationStats| -> io::Result<()> {
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p)?;
        }
        std::fs::write(path, text)?;
        stats.files += 1;
        stats.bytes += text.len();
        if path.extension().is_some_and(|e| e == "tf") {
            stats.tf_files += 1;
        }
        Ok(())
    };
    let tables = syncs.div_ceil(4).max(1);
    let mut yaml = String::new();
    for t in 0..tables {
        let _ = writeln!(
            yaml,
            "---\nkind: dataset\nname: analytics.users_{t}\nfields:"
        );
        for c in COLUMNS {
            let _ = writeln!(yaml, "  - name: {c}");
            if (*c == "phone" || *c == "email") && rng.chance(0.2) {
                let _ = writeln!(yaml, "    purposes: [essential.service.authentication]");
            }
        }
    }
    write(&out.join("warehouse/tables.yaml"), &yaml, &mut stats)?;
    let mut n = 0;
    let mut module = 0;
    while n < syncs {
        let dir = out.join(format!("activation/team_{module}"));
        let mut tf = String::new();
        let count = PER_MODULE.min(syncs - n);
        for i in 0..count {
            let table = rng.range(0, tables);
            let name = format!("s{i}");
            match rng.range(0, 3) {
                0 => rudderstack(&mut tf, &mut rng, &name, table),
                1 => census(&mut tf, &mut rng, &name, table),
                _ => segment(&mut tf, &mut rng, &name, table),
            }
        }
        write(&dir.join("main.tf"), &tf, &mut stats)?;
        n += count;
        module += 1;
    }
    stats.syncs = n;
    Ok(stats)
}

fn columns(rng: &mut Rng, k: usize) -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    while out.len() < k {
        let c = *rng.pick(COLUMNS);
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

fn rudderstack(tf: &mut String, rng: &mut Rng, name: &str, table: usize) {
    let dest = *rng.pick(RUDDER_DESTINATIONS);
    let _ = write!(
        tf,
        r#"resource "rudderstack_retl_source_table" "{name}" {{
  name = "{name}"
  source_definition_name = "snowflake"
  config {{
    primary_key = "id"
    schema      = "analytics"
    table       = "users_{table}"
  }}
}}
resource "rudderstack_destination_{dest}" "{name}" {{
  name = "{name}"
}}
resource "rudderstack_retl_connection" "{name}" {{
  source_id      = rudderstack_retl_source_table.{name}.id
  destination_id = rudderstack_destination_{dest}.{name}.id
  identifiers {{
    from = "email"
    to   = "email"
  }}
"#
    );
    for c in columns(rng, 3) {
        let _ = write!(
            tf,
            "  mappings {{\n    from = \"{c}\"\n    to   = \"traits.{c}\"\n  }}\n"
        );
    }
    tf.push_str("}\n");
}

fn census(tf: &mut String, rng: &mut Rng, name: &str, table: usize) {
    let _ = write!(
        tf,
        r#"resource "census_destination" "{name}" {{
  name = "{name}"
  type = "{}"
}}
resource "census_dataset" "{name}" {{
  name  = "{name}"
  query = <<-SQL
    SELECT id, email, phone, plan
    FROM analytics.users_{table}
    WHERE plan IS NOT NULL
  SQL
}}
resource "census_sync" "{name}" {{
  source_attributes {{
    connection_id = 1
    object {{
      type = "dataset"
      id   = census_dataset.{name}.id
    }}
  }}
  destination_attributes {{
    connection_id = census_destination.{name}.id
    object        = "Contact"
  }}
  field_mapping {{
    from                  = "email"
    to                    = "Email"
    is_primary_identifier = true
  }}
  field_mapping {{
    from = "{}"
    to   = "Other"
  }}
}}
"#,
        rng.pick(&["salesforce", "hubspot", "intercom"]),
        rng.pick(&["phone", "plan", "id"]),
    );
}

fn segment(tf: &mut String, rng: &mut Rng, name: &str, table: usize) {
    let id = *rng.pick(SEGMENT_IDS);
    let mut cols: Vec<&str> = Vec::new();
    while cols.len() < 2 {
        let c = *rng.pick(&["email", "phone", "country"]);
        if !cols.contains(&c) {
            cols.push(c);
        }
    }
    let mut settings = String::new();
    for c in &cols {
        let _ = write!(
            settings,
            "\\\"{c}\\\":{{\\\"@path\\\":\\\"$.properties.{c}\\\"}},"
        );
    }
    settings.push_str("\\\"batch_size\\\":\\\"100\\\"");
    let _ = write!(
        tf,
        r#"resource "segment_reverse_etl_model" "{name}" {{
  source_id               = "wh"
  query                   = "SELECT id, email, phone, country FROM analytics.users_{table}"
  query_identifier_column = "id"
}}
resource "segment_destination" "{name}" {{
  source_id = "src"
  metadata = {{
    id = "{id}"
  }}
}}
resource "segment_destination_subscription" "{name}" {{
  destination_id = segment_destination.{name}.id
  model_id       = segment_reverse_etl_model.{name}.id
  trigger        = "type = \"identify\""
  settings       = "{{{settings}}}"
}}
"#
    );
}
