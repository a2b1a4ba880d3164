//! The installed runner's version, read from its directory without executing anything.
//!
//! `update.sh` leaves `bin` (and `externals`) as symlinks to `bin.X.Y.Z`; a freshly unpacked
//! package has a plain `bin/` whose `Runner.Listener.deps.json` names `Runner.Listener/X.Y.Z`
//! (runner-network-facts.md § "Added in December 2026", "Runner version currency").

use std::path::Path;

use serde::Serialize;

use crate::model::RunnerVersion;

/// Cap on `bin/Runner.Listener.deps.json` (a few tens of KiB in a real package).
const DEPS_LIMIT: u64 = 4 * 1024 * 1024;

/// Where the installed version was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InstalledFrom {
    /// `bin` is a symlink to `bin.X.Y.Z` (left by the runner's self-update).
    BinLink { target: String },
    /// A plain `bin/` with `Runner.Listener.deps.json` (a fresh unpack).
    DepsFile { file: String },
}

/// The installed runner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Installed {
    pub version: RunnerVersion,
    pub from: InstalledFrom,
}

/// Why the installed version could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum InstalledProblem {
    /// No `bin` in the directory: not a runner directory (or not yet unpacked).
    NoBin,
    /// `bin` links to something that is not `bin.X.Y.Z`.
    UnknownLink { target: String },
    /// A plain `bin/` without a readable `Runner.Listener.deps.json` naming the version.
    NoVersionFile { file: String, reason: String },
}

/// Read the version of the runner unpacked in `dir`.
pub fn read(dir: &Path) -> Result<Installed, InstalledProblem> {
    let bin = dir.join("bin");
    let meta = std::fs::symlink_metadata(&bin).map_err(|_| InstalledProblem::NoBin)?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(&bin).map_err(|_| InstalledProblem::NoBin)?;
        let shown = crate::model::text::printable(&target.to_string_lossy());
        let version = target
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("bin."))
            .and_then(|v| v.parse().ok());
        return match version {
            Some(version) => Ok(Installed {
                version,
                from: InstalledFrom::BinLink { target: shown },
            }),
            None => Err(InstalledProblem::UnknownLink { target: shown }),
        };
    }
    if !meta.is_dir() {
        return Err(InstalledProblem::NoBin);
    }
    let deps = bin.join("Runner.Listener.deps.json");
    let file = deps.display().to_string();
    let text =
        crate::textfile::read_text(&deps, DEPS_LIMIT, "the runner's deps file").map_err(|e| {
            InstalledProblem::NoVersionFile {
                file: file.clone(),
                reason: e.to_string(),
            }
        })?;
    match version_in_deps(&text) {
        Some(version) => Ok(Installed {
            version,
            from: InstalledFrom::DepsFile { file },
        }),
        None => Err(InstalledProblem::NoVersionFile {
            file,
            reason: "it names no `Runner.Listener/X.Y.Z`".to_string(),
        }),
    }
}

/// The version in `"Runner.Listener/X.Y.Z"`, the package's own entry in its deps file.
fn version_in_deps(text: &str) -> Option<RunnerVersion> {
    text.match_indices("\"Runner.Listener/").find_map(|(i, m)| {
        let rest = &text[i + m.len()..];
        let end = rest.find('"')?;
        rest[..end].parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_updated_runner_is_read_from_its_bin_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("bin.2.320.0")).expect("mkdir");
        std::os::unix::fs::symlink("bin.2.320.0", dir.path().join("bin")).expect("symlink");
        let got = read(dir.path()).expect("version");
        assert_eq!(got.version, RunnerVersion(2, 320, 0));
        assert_eq!(
            got.from,
            InstalledFrom::BinLink {
                target: "bin.2.320.0".into()
            }
        );
    }

    #[test]
    fn a_fresh_unpack_is_read_from_its_deps_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("bin")).expect("mkdir");
        std::fs::write(
            dir.path().join("bin/Runner.Listener.deps.json"),
            r#"{"targets": {".NETCoreApp,Version=v8.0/linux-x64": {"Runner.Listener/2.336.0": {"dependencies": {"Sdk": "2.336.0"}}}}}"#,
        )
        .expect("write");
        let got = read(dir.path()).expect("version");
        assert_eq!(got.version, RunnerVersion(2, 336, 0));
        assert!(matches!(got.from, InstalledFrom::DepsFile { .. }));
    }

    #[test]
    fn what_is_not_a_runner_says_why() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(read(dir.path()), Err(InstalledProblem::NoBin));
        std::os::unix::fs::symlink("elsewhere", dir.path().join("bin")).expect("symlink");
        assert_eq!(
            read(dir.path()),
            Err(InstalledProblem::UnknownLink {
                target: "elsewhere".into()
            })
        );
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("bin")).expect("mkdir");
        assert!(matches!(
            read(dir.path()),
            Err(InstalledProblem::NoVersionFile { .. })
        ));
    }
}
