//! The runner's own settings files in its directory (written by `config.sh`, JSON with a UTF-8
//! byte-order mark): the URLs this runner really talks to.
//!
//! - `.runner`: `ServerUrl` (the per-scale-unit pipelines host, e.g.
//!   `https://pipelinesghubeus5.actions.githubusercontent.com/<id>/`), `ServerUrlV2` (the
//!   broker), `GitHubUrl`.
//! - `.credentials`: `Data.authorizationUrl` (the OAuth token endpoint), nothing else. Its
//!   `clientId` and every other value are never kept, and a parse error is reported by line and
//!   column only, so no part of the file can reach an output.
//! - `.credentials_rsaparams` (the private key) is never opened.

use std::path::{Path, PathBuf};

use crate::model::{parse_url, HttpUrl, UrlError};
use crate::textfile::{self, limit};

/// The runner settings file a URL came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerFile {
    Runner,
    Credentials,
}

impl RunnerFile {
    pub fn name(self) -> &'static str {
        match self {
            RunnerFile::Runner => ".runner",
            RunnerFile::Credentials => ".credentials",
        }
    }
}

/// A URL the runner is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerUrl {
    pub file: RunnerFile,
    /// `ServerUrl`, `ServerUrlV2`, `GitHubUrl` or `authorizationUrl`.
    pub field: &'static str,
    pub url: HttpUrl,
}

/// Why a settings file gave no (or not every) URL. Typed; `render::words` words it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RunnerFileProblem {
    /// The file is not there (a runner that was never configured, or another directory).
    Missing { path: PathBuf },
    /// It could not be read (too large, not UTF-8, an I/O error: the reader's words).
    Unreadable { message: String },
    /// Not JSON, or not an object, at this line and column (no text of the file is kept).
    Malformed {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    /// A field holds something else than a string.
    NotText { path: PathBuf, field: &'static str },
    /// A field's URL cannot be probed.
    BadUrl {
        path: PathBuf,
        field: &'static str,
        error: UrlError,
    },
    /// None of the fields the runner needs is there.
    NoUrls {
        path: PathBuf,
        fields: &'static [&'static str],
    },
}

/// What the settings files gave.
#[derive(Debug, Clone, Default)]
pub struct RunnerSettings {
    pub urls: Vec<RunnerUrl>,
    pub problems: Vec<RunnerFileProblem>,
}

const RUNNER_FIELDS: &[&str] = &["ServerUrl", "ServerUrlV2", "GitHubUrl"];
const CREDENTIAL_FIELDS: &[&str] = &["authorizationUrl"];

/// Read `.runner` and `.credentials` in `dir`. Problems are collected, never fatal: the run
/// goes on with the profile's hosts. The one exception is a file that is not regular (a FIFO):
/// it is refused, an input error, rather than waited on (issue 22, row 9).
pub fn read(dir: &Path) -> Result<RunnerSettings, textfile::ReadError> {
    for name in [".runner", ".credentials"] {
        // Opened non-blocking: a FIFO is seen without waiting for a writer.
        if let Err(e @ textfile::ReadError::NotRegular { .. }) =
            textfile::open_input(&dir.join(name))
        {
            return Err(e);
        }
    }
    Ok(read_lenient(dir))
}

fn read_lenient(dir: &Path) -> RunnerSettings {
    let mut out = RunnerSettings::default();
    if let Some(v) = read_json(&dir.join(".runner"), "the runner's .runner file", &mut out) {
        let path = dir.join(".runner");
        let found = fields(&v, &[], RUNNER_FIELDS, RunnerFile::Runner, &path, &mut out);
        if found == 0 {
            out.problems.push(RunnerFileProblem::NoUrls {
                path,
                fields: RUNNER_FIELDS,
            });
        }
    }
    let path = dir.join(".credentials");
    if let Some(v) = read_json(&path, "the runner's .credentials file", &mut out) {
        let found = fields(
            &v,
            &["Data"],
            CREDENTIAL_FIELDS,
            RunnerFile::Credentials,
            &path,
            &mut out,
        );
        if found == 0 {
            out.problems.push(RunnerFileProblem::NoUrls {
                path,
                fields: CREDENTIAL_FIELDS,
            });
        }
    }
    out
}

fn read_json(
    path: &Path,
    what: &'static str,
    out: &mut RunnerSettings,
) -> Option<serde_json::Value> {
    let text = match textfile::read_text(path, limit::RUNNER_FILE, what) {
        Ok(t) => t,
        Err(textfile::ReadError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            out.problems.push(RunnerFileProblem::Missing {
                path: path.to_path_buf(),
            });
            return None;
        }
        Err(e) => {
            out.problems.push(RunnerFileProblem::Unreadable {
                message: e.to_string(),
            });
            return None;
        }
    };
    match serde_json::from_str::<serde_json::Value>(textfile::strip_bom(&text)) {
        Ok(v) if v.is_object() => Some(v),
        Ok(_) => {
            out.problems.push(RunnerFileProblem::Malformed {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
            });
            None
        }
        Err(e) => {
            out.problems.push(RunnerFileProblem::Malformed {
                path: path.to_path_buf(),
                line: e.line(),
                column: e.column(),
            });
            None
        }
    }
}

/// Take the URL fields under `at` (object keys); returns how many were found.
fn fields(
    v: &serde_json::Value,
    at: &[&str],
    names: &'static [&'static str],
    file: RunnerFile,
    path: &Path,
    out: &mut RunnerSettings,
) -> usize {
    let mut obj = v;
    for key in at {
        match obj.get(key) {
            Some(o) if o.is_object() => obj = o,
            _ => return 0,
        }
    }
    let mut found = 0;
    for &field in names {
        let Some(value) = obj.get(field) else {
            continue;
        };
        found += 1;
        let Some(s) = value.as_str() else {
            out.problems.push(RunnerFileProblem::NotText {
                path: path.to_path_buf(),
                field,
            });
            continue;
        };
        if s.trim().is_empty() {
            continue;
        }
        match parse_url(s.trim()) {
            Ok(url) => out.urls.push(RunnerUrl { file, field, url }),
            Err(error) => out.problems.push(RunnerFileProblem::BadUrl {
                path: path.to_path_buf(),
                field,
                error,
            }),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_urls_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".runner"),
            "\u{feff}{\"AgentId\": 7, \"AgentName\": \"r1\", \"PoolName\": \"Default\", \"ServerUrl\": \"https://pipelinesghubeus5.actions.githubusercontent.com/abc/\", \"ServerUrlV2\": \"https://broker.actions.githubusercontent.com/\", \"GitHubUrl\": \"https://github.com/acme\", \"UseV2Flow\": true}",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(".credentials"),
            "{\"Scheme\": \"OAuth\", \"Data\": {\"clientId\": \"SECRET-CLIENT-ID\", \"authorizationUrl\": \"https://vstoken.actions.githubusercontent.com/_apis/oauth2/token/xyz\", \"requireFipsCryptography\": \"False\"}}",
        )
        .unwrap();
        let r = read(dir.path()).expect("regular files");
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let got: Vec<(&str, &str)> = r
            .urls
            .iter()
            .map(|u| (u.field, u.url.host.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "ServerUrl",
                    "pipelinesghubeus5.actions.githubusercontent.com"
                ),
                ("ServerUrlV2", "broker.actions.githubusercontent.com"),
                ("GitHubUrl", "github.com"),
                ("authorizationUrl", "vstoken.actions.githubusercontent.com"),
            ]
        );
        assert!(!format!("{r:?}").contains("SECRET-CLIENT-ID"));
    }

    #[test]
    fn problems_name_the_file_and_keep_no_content() {
        let dir = tempfile::tempdir().unwrap();
        let r = read(dir.path()).expect("regular files");
        assert!(matches!(
            r.problems[..],
            [
                RunnerFileProblem::Missing { .. },
                RunnerFileProblem::Missing { .. }
            ]
        ));
        std::fs::write(dir.path().join(".runner"), "{\"ServerUrl\": 5}").unwrap();
        std::fs::write(
            dir.path().join(".credentials"),
            "{\"Data\": {\"clientId\": \"SECRET\",, }",
        )
        .unwrap();
        let r = read(dir.path()).expect("regular files");
        assert!(r.urls.is_empty());
        assert!(matches!(
            r.problems[0],
            RunnerFileProblem::NotText {
                field: "ServerUrl",
                ..
            }
        ));
        assert!(matches!(
            r.problems[1],
            RunnerFileProblem::Malformed { line: 1, .. }
        ));
        assert!(!format!("{r:?}").contains("SECRET"));
    }
}
