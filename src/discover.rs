//! Finding the files to lint: directories are walked with ripgrep's walker, honouring
//! `.gitignore`; hidden folders such as `.github` are read, `.git` never is.

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;

/// A path given on the command line that cannot be read.
#[derive(Debug)]
pub struct DiscoverError {
    pub path: PathBuf,
    pub message: String,
}

/// Problems met while walking that do not stop the run.
#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<PathBuf>,
    pub warnings: Vec<String>,
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Inside a dbt project, models' SQL and seeds' CSV are read too (not under the
/// project's `target/`, `dbt_packages/` or `logs/`).
fn keep_dbt_resources(files: &mut Vec<PathBuf>, resources: Vec<PathBuf>) {
    let roots: Vec<PathBuf> = files
        .iter()
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()) == Some(crate::formats::dbt::PROJECT_FILE)
        })
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    for r in resources {
        let inside = roots.iter().any(|root| {
            r.strip_prefix(root).is_ok_and(|rel| {
                !matches!(
                    rel.components().next().and_then(|c| c.as_os_str().to_str()),
                    Some("target" | "dbt_packages" | "dbt_modules" | "logs")
                )
            })
        });
        if inside {
            files.push(r);
        }
    }
}

/// YAML files under `paths` (and SQL and CSV files of dbt projects), sorted and without
/// repeats. Files named explicitly are taken whatever their extension.
pub fn discover(paths: &[PathBuf]) -> Result<Discovered, DiscoverError> {
    let mut out = Discovered::default();
    let mut resources = Vec::new();
    for root in paths {
        let meta = std::fs::metadata(root).map_err(|e| DiscoverError {
            path: root.clone(),
            message: e.to_string(),
        })?;
        if meta.is_file() {
            out.files.push(root.clone());
            continue;
        }
        let walker = WalkBuilder::new(root)
            .hidden(false)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .require_git(false)
            .ignore(true)
            .parents(true)
            .follow_links(false)
            .filter_entry(|e| e.file_name() != ".git")
            .build();
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_some_and(|t| t.is_file()) && is_yaml(e.path()) => {
                    out.files.push(e.into_path());
                }
                Ok(e)
                    if e.file_type().is_some_and(|t| t.is_file())
                        && crate::formats::dbt::is_dbt_resource(e.path()) =>
                {
                    resources.push(e.into_path());
                }
                Ok(_) => {}
                Err(err) => out.warnings.push(err.to_string()),
            }
        }
    }
    keep_dbt_resources(&mut out.files, resources);
    out.files.sort();
    out.files.dedup();
    Ok(out)
}

/// A path as users see it: relative to the working directory when below it.
pub fn display_path(path: &Path) -> String {
    let rel = if path.is_absolute() {
        std::env::current_dir()
            .ok()
            .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
            .unwrap_or_else(|| path.to_path_buf())
    } else {
        path.components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect()
    };
    rel.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_hidden_dirs_honours_gitignore_skips_git() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for p in [
            ".github/w.yml",
            ".git/x.yaml",
            "a/b.yaml",
            "ignored/c.yaml",
            "d.txt",
        ] {
            let p = root.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "a: 1\n").unwrap();
        }
        std::fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
        let found = discover(&[root.to_path_buf()]).unwrap();
        let rel: Vec<_> = found
            .files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(rel, vec![".github/w.yml", "a/b.yaml"]);
    }

    #[test]
    fn missing_path_is_an_error() {
        assert!(discover(&[PathBuf::from("/nonexistent/x")]).is_err());
    }
}
