//! `check --show-files` and `check --show-settings`: what a run would read, and with
//! which settings, printed instead of findings.

use std::io::{self, Write};

use crate::check::Options;
use crate::config::Config;
use crate::finding::Check;
use crate::session::{FileLine, FileStatus};

/// One line per file: `read (native)  PATH` or `skipped  PATH: why`; then the counts.
pub fn render_files(out: &mut dyn Write, lines: &[FileLine]) -> io::Result<()> {
    let mut read = 0;
    for l in lines {
        match &l.status {
            FileStatus::Read(formats) => {
                read += 1;
                writeln!(out, "read ({})  {}", formats.join(", "), l.display)?;
            }
            FileStatus::Skipped(why) => writeln!(out, "skipped  {}: {why}", l.display)?,
        }
    }
    let skipped = lines.len() - read;
    writeln!(
        out,
        "{read} {} read, {skipped} skipped.",
        if read == 1 { "file" } else { "files" }
    )
}

/// Where the configuration came from, when no file was used.
pub enum NoConfig<'a> {
    /// `--no-config`.
    Ignored,
    /// Searched from this folder up to the repository root, and not found.
    NotFound(&'a str),
}

/// The configuration file used and every resolved setting, in YAML.
pub fn render_settings(
    out: &mut dyn Write,
    opts: &Options,
    config: Result<&Config, NoConfig>,
) -> io::Result<()> {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let list = |items: &mut dyn Iterator<Item = String>| {
        let items: Vec<String> = items.collect();
        format!("[{}]", items.join(", "))
    };
    match &config {
        Ok(c) => writeln!(out, "config_file: {}", q(&c.file.display))?,
        Err(NoConfig::Ignored) => writeln!(out, "config_file: null  # --no-config")?,
        Err(NoConfig::NotFound(from)) => writeln!(
            out,
            "config_file: null  # none from {from} up to the repository root"
        )?,
    }
    let paths = opts.paths.iter().map(|p| q(&p.to_string_lossy()));
    writeln!(out, "paths: {}", list(&mut { paths }))?;
    let config = config.ok();
    if let Some(c) = config {
        let (include, exclude) = &c.filter.patterns;
        writeln!(out, "include: {}", list(&mut include.iter().map(|g| q(g))))?;
        writeln!(out, "exclude: {}", list(&mut exclude.iter().map(|g| q(g))))?;
    }
    writeln!(out, "max_file_size: {}", opts.max_file_size)?;
    let ids = |v: &[String]| list(&mut v.iter().map(|s| q(s)));
    writeln!(out, "select: {}", ids(&opts.select))?;
    writeln!(out, "ignore: {}", ids(&opts.ignore))?;
    let level = |id: &str, default| match opts.enabled(id) {
        true => opts.severity_of(id, default).as_str(),
        false => "off",
    };
    writeln!(out, "rules:")?;
    for r in &opts.rules {
        writeln!(
            out,
            "  {}: {{severity: {}, origin: {}}}",
            r.id,
            level(&r.id, r.severity),
            q(&r.origin)
        )?;
    }
    writeln!(out, "checks:")?;
    for c in Check::ALL {
        writeln!(out, "  {}: {}", c.id(), level(c.id(), c.severity()))?;
    }
    let Some(c) = config else {
        return Ok(());
    };
    writeln!(out, "taxonomy:")?;
    for (name, entries) in [
        ("data_uses", &c.data_uses),
        ("data_categories", &c.data_categories),
    ] {
        let keys = entries.iter().map(|e| q(&e.key.value));
        writeln!(out, "  {name}: {}", list(&mut { keys }))?;
    }
    writeln!(
        out,
        "aliases:{}",
        if c.aliases.is_empty() { " {}" } else { "" }
    )?;
    for (label, key) in &c.aliases {
        writeln!(out, "  {}: {}", q(label), q(key))?;
    }
    writeln!(
        out,
        "external_datasets:{}",
        if c.external_datasets.is_empty() {
            " []"
        } else {
            ""
        }
    )?;
    for e in &c.external_datasets {
        let purposes = e.purposes.iter().map(|p| q(p));
        writeln!(
            out,
            "  - {{name: {}, purposes: {}}}",
            q(&e.pattern),
            list(&mut { purposes })
        )?;
    }
    writeln!(
        out,
        "fides:\n  infer_purposes_from_systems: {}",
        c.fides_infer_purposes
    )
}
