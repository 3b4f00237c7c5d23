//! Finding the files to lint: directories are walked with ripgrep's walker, honouring
//! `.gitignore`; hidden folders such as `.github` are read, `.git` never is.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use ignore::WalkBuilder;
use rustc_hash::FxHashSet;

/// A path given on the command line that cannot be read.
#[derive(Debug)]
pub struct DiscoverError {
    pub path: PathBuf,
    pub message: String,
}

/// Problems met while walking that do not stop the run.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Every file found, sorted and without repeats; the formats choose theirs.
    pub files: Vec<PathBuf>,
    /// The files named on the command line, which are read whatever their extension.
    pub explicit: Vec<PathBuf>,
    pub warnings: Vec<String>,
}

/// The files under `paths`, sorted and without repeats.
pub fn discover(paths: &[PathBuf]) -> Result<Discovered, DiscoverError> {
    let mut out = Discovered::default();
    for root in paths {
        let meta = std::fs::metadata(root).map_err(|e| DiscoverError {
            path: root.clone(),
            message: e.to_string(),
        })?;
        if meta.is_file() {
            out.files.push(root.clone());
            out.explicit.push(root.clone());
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
            // Terraform's own downloads (`.terraform/`) are never the user's config.
            .filter_entry(|e| e.file_name() != ".git" && e.file_name() != ".terraform")
            .build();
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                    out.files.push(e.into_path());
                }
                Ok(_) => {}
                Err(err) => out.warnings.push(err.to_string()),
            }
        }
    }
    out.files.sort();
    out.files.dedup();
    if paths.len() > 1 {
        once_each(&mut out);
    }
    Ok(out)
}

/// Files under `paths` that the walk skips because `.gitignore`, `.ignore` or
/// `.git/info/exclude` ignore them (for `--show-files`); `found` is the sorted walk.
pub fn ignored(paths: &[PathBuf], found: &[PathBuf]) -> Vec<PathBuf> {
    // The walk without filters spells a path as the filtered walk did, so a path is
    // normalised only when its spelling is not among those found (overlapping roots).
    let cwd = std::env::current_dir().unwrap_or_default();
    // Spellings compared as bytes: hashing a `Path` parses its components.
    let as_found: FxHashSet<&OsStr> = found.iter().map(|p| p.as_os_str()).collect();
    let mut normalised: Option<HashSet<PathBuf>> = None;
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = paths.iter().filter(|p| p.is_dir()).cloned().collect();
    // Every file and directory except `.git`, symbolic links not followed: what the
    // filtered walk would list if nothing were ignored. A plain directory walk, as
    // nothing needs matching.
    // Each entry's path is spelled in one buffer: most are found files, never kept.
    let mut path = PathBuf::new();
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                if e.file_name() != ".git" {
                    dirs.push(e.path());
                }
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            path.clone_from(&dir);
            path.push(e.file_name());
            if as_found.contains(path.as_os_str()) {
                continue;
            }
            let normalised =
                normalised.get_or_insert_with(|| found.iter().map(|p| key(&cwd, p)).collect());
            if !normalised.contains(&key(&cwd, &path)) {
                out.push(path.clone());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// One file named or walked by several paths (`check . sinks.yaml` finds `./sinks.yaml`
/// and `sinks.yaml`) is kept once, as named on the command line if it was. Paths are
/// compared made absolute and free of `.` and `..`, without touching the file system.
fn once_each(out: &mut Discovered) {
    let cwd = std::env::current_dir().unwrap_or_default();
    let key = |p: &Path| key(&cwd, p);
    let mut named: HashMap<PathBuf, PathBuf> = HashMap::new();
    for p in &out.explicit {
        named.entry(key(p)).or_insert_with(|| p.clone());
    }
    let mut seen = HashSet::new();
    out.files.retain(|p| {
        let k = key(p);
        match named.get(&k) {
            Some(as_named) => p == as_named,
            None => seen.insert(k),
        }
    });
    out.explicit = named.into_values().collect();
    out.explicit.sort();
}

/// A path made absolute and free of `.` and `..`, to tell whether two spellings name
/// the same file.
fn key(cwd: &Path, p: &Path) -> PathBuf {
    crate::config::normalize(&cwd.join(p))
}

/// A path as users see it: relative to the working directory when below it.
pub fn display_path(path: &Path) -> String {
    let cwd = match path.is_absolute() {
        true => std::env::current_dir().ok(),
        false => None,
    };
    display_path_in(cwd.as_deref(), path)
}

/// [`display_path`] with the working directory given, for many paths at once: asking
/// the system for it is a system call per path.
pub(crate) fn display_path_in(cwd: Option<&Path>, path: &Path) -> String {
    let rel = if path.is_absolute() {
        cwd.and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
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
        assert_eq!(
            rel,
            vec![".github/w.yml", ".gitignore", "a/b.yaml", "d.txt"]
        );
    }

    #[test]
    fn a_file_found_by_two_paths_is_kept_once_as_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/s.yaml"), "x: 1\n").unwrap();
        let paths = [
            root.to_path_buf(),
            root.join("a/s.yaml"),
            root.join("a/../a/./s.yaml"),
        ];
        let found = discover(&paths).unwrap();
        assert_eq!(found.files, vec![root.join("a/s.yaml")]);
        assert_eq!(found.explicit, vec![root.join("a/s.yaml")]);
    }

    #[test]
    fn missing_path_is_an_error() {
        assert!(discover(&[PathBuf::from("/nonexistent/x")]).is_err());
    }
}
