//! The runner application's releases: versions, and the package a host of a given OS and
//! architecture downloads (`actions-runner-<os>-<arch>-X.Y.Z.tar.gz`, `.zip` on Windows), as
//! the runner's own tests build it (actions/runner source, src/Test/L0/Listener/SelfUpdaterL0.cs:43–70).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where the runner's releases are: `releases/latest` answers 302 to `releases/tag/vX.Y.Z`.
pub const RELEASES: &str = "https://github.com/actions/runner/releases";

/// Days a newer release may be out before GitHub gives an older runner no jobs (GitHub changelog
/// 2026-06-12; runner-network-facts.md § "Added in December 2026", "Runner version currency").
pub const MAX_DAYS_BEHIND: u32 = 30;

/// What GitHub accepts of a runner's version (a profile's `runner_version:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionPolicy {
    /// The lowest version GitHub registers.
    pub minimum: RunnerVersion,
    /// Where the profile says that minimum is stated.
    pub source: Option<String>,
    /// Days a newer release may be out before the service gives the runner no jobs.
    pub max_days_behind: u32,
}

/// A runner version `X.Y.Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunnerVersion(pub u32, pub u32, pub u32);

impl fmt::Display for RunnerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Serialize for RunnerVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RunnerVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|_| serde::de::Error::custom("not a runner version X.Y.Z"))
    }
}

impl FromStr for RunnerVersion {
    type Err = ();

    /// `2.336.0` or `v2.336.0`: three numbers of at most 9 digits each, nothing else.
    fn from_str(s: &str) -> Result<Self, ()> {
        let s = s.strip_prefix('v').unwrap_or(s);
        let mut parts = s.split('.');
        let mut n = || -> Result<u32, ()> {
            let p = parts.next().ok_or(())?;
            if p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            p.parse().map_err(|_| ())
        };
        let v = RunnerVersion(n()?, n()?, n()?);
        if parts.next().is_some() {
            return Err(());
        }
        Ok(v)
    }
}

impl RunnerVersion {
    /// The version a `Location` of `releases/latest` names: `…/releases/tag/vX.Y.Z`.
    pub fn from_tag_location(location: &str) -> Option<RunnerVersion> {
        let path = location.split(['?', '#']).next()?;
        let (_, tag) = path.rsplit_once("/releases/tag/")?;
        tag.strip_prefix('v')?.parse().ok()
    }
}

/// The OS names of the runner's packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunnerOs {
    Linux,
    Osx,
    Win,
}

/// The architecture names of the runner's packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunnerArch {
    X64,
    Arm64,
    Arm,
}

impl RunnerOs {
    pub fn as_str(self) -> &'static str {
        match self {
            RunnerOs::Linux => "linux",
            RunnerOs::Osx => "osx",
            RunnerOs::Win => "win",
        }
    }

    /// The package name of a Rust `std::env::consts::OS`.
    pub fn from_rust(os: &str) -> Option<RunnerOs> {
        match os {
            "linux" => Some(RunnerOs::Linux),
            "macos" => Some(RunnerOs::Osx),
            "windows" => Some(RunnerOs::Win),
            _ => None,
        }
    }
}

impl RunnerArch {
    pub fn as_str(self) -> &'static str {
        match self {
            RunnerArch::X64 => "x64",
            RunnerArch::Arm64 => "arm64",
            RunnerArch::Arm => "arm",
        }
    }

    /// The package name of a Rust `std::env::consts::ARCH`.
    pub fn from_rust(arch: &str) -> Option<RunnerArch> {
        match arch {
            "x86_64" => Some(RunnerArch::X64),
            "aarch64" => Some(RunnerArch::Arm64),
            "arm" => Some(RunnerArch::Arm),
            _ => None,
        }
    }
}

/// Where the OS and architecture of the package came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformFrom {
    /// The host this tool runs on.
    ThisHost,
    /// `--runner-os` / `--runner-arch`.
    Flags,
}

/// The platform whose runner package is checked. `os`/`arch` are `None` when this host's OS or
/// architecture has no runner package (the raw names are kept to say so).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunnerPlatform {
    pub os: Option<RunnerOs>,
    pub arch: Option<RunnerArch>,
    /// The OS and architecture as named where they came from (`freebsd`, `riscv64`, …).
    pub os_name: String,
    pub arch_name: String,
    pub from: PlatformFrom,
}

impl RunnerPlatform {
    /// This host's platform, with `os`/`arch` overriding either half (`--runner-os`, `--runner-arch`).
    pub fn resolve(os: Option<RunnerOs>, arch: Option<RunnerArch>) -> RunnerPlatform {
        let from = if os.is_some() || arch.is_some() {
            PlatformFrom::Flags
        } else {
            PlatformFrom::ThisHost
        };
        let host_os = RunnerOs::from_rust(std::env::consts::OS);
        let host_arch = RunnerArch::from_rust(std::env::consts::ARCH);
        let os = os.or(host_os);
        let arch = arch.or(host_arch);
        RunnerPlatform {
            os_name: os
                .map_or(std::env::consts::OS, RunnerOs::as_str)
                .to_string(),
            arch_name: arch
                .map_or(std::env::consts::ARCH, RunnerArch::as_str)
                .to_string(),
            os,
            arch,
            from,
        }
    }

    /// The package file name for `version`, when the runner publishes one for this platform
    /// (linux x64/arm64/arm, osx x64/arm64, win x64/arm64).
    pub fn asset(&self, version: RunnerVersion) -> Option<String> {
        let (os, arch) = (self.os?, self.arch?);
        if arch == RunnerArch::Arm && os != RunnerOs::Linux {
            return None;
        }
        let ext = if os == RunnerOs::Win { "zip" } else { "tar.gz" };
        Some(format!(
            "actions-runner-{}-{}-{version}.{ext}",
            os.as_str(),
            arch.as_str()
        ))
    }

    /// The package's download URL (`…/releases/download/vX.Y.Z/<asset>`).
    pub fn asset_url(&self, version: RunnerVersion) -> Option<String> {
        self.asset(version)
            .map(|a| format!("{RELEASES}/download/v{version}/{a}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(os: RunnerOs, arch: RunnerArch) -> RunnerPlatform {
        RunnerPlatform::resolve(Some(os), Some(arch))
    }

    #[test]
    fn versions_parse_from_tags_and_nothing_else() {
        assert_eq!("v2.336.0".parse(), Ok(RunnerVersion(2, 336, 0)));
        assert_eq!("2.329.0".parse(), Ok(RunnerVersion(2, 329, 0)));
        for bad in [
            "",
            "v2",
            "2.3",
            "2.3.4.5",
            "2.x.0",
            "v-1.2.3",
            "2.3.4 ",
            "1234567890.0.0",
        ] {
            assert_eq!(bad.parse::<RunnerVersion>(), Err(()), "{bad:?}");
        }
        assert!(RunnerVersion(2, 329, 0) < RunnerVersion(2, 336, 0));
        assert!(RunnerVersion(2, 99, 9) < RunnerVersion(2, 100, 0));
        assert_eq!(
            RunnerVersion::from_tag_location(
                "https://github.com/actions/runner/releases/tag/v2.336.0"
            ),
            Some(RunnerVersion(2, 336, 0))
        );
        assert_eq!(
            RunnerVersion::from_tag_location("/actions/runner/releases/tag/v2.336.0?x=1"),
            Some(RunnerVersion(2, 336, 0))
        );
        assert_eq!(
            RunnerVersion::from_tag_location("https://github.com/login"),
            None
        );
        assert_eq!(
            RunnerVersion::from_tag_location("/actions/runner/releases/tag/latest"),
            None
        );
    }

    #[test]
    fn assets_are_named_as_the_runner_publishes_them() {
        let v = RunnerVersion(2, 336, 0);
        assert_eq!(
            platform(RunnerOs::Linux, RunnerArch::X64).asset_url(v).as_deref(),
            Some("https://github.com/actions/runner/releases/download/v2.336.0/actions-runner-linux-x64-2.336.0.tar.gz")
        );
        assert_eq!(
            platform(RunnerOs::Win, RunnerArch::Arm64)
                .asset(v)
                .as_deref(),
            Some("actions-runner-win-arm64-2.336.0.zip")
        );
        assert_eq!(
            platform(RunnerOs::Osx, RunnerArch::Arm64)
                .asset(v)
                .as_deref(),
            Some("actions-runner-osx-arm64-2.336.0.tar.gz")
        );
        assert_eq!(
            platform(RunnerOs::Linux, RunnerArch::Arm)
                .asset(v)
                .as_deref(),
            Some("actions-runner-linux-arm-2.336.0.tar.gz")
        );
        assert_eq!(platform(RunnerOs::Osx, RunnerArch::Arm).asset(v), None);
        assert_eq!(platform(RunnerOs::Win, RunnerArch::Arm).asset(v), None);
    }
}
