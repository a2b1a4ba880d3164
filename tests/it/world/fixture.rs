//! A test's files: a temp dir holding a throw-away CA (`ca.pem`), profiles built with
//! [`Profile`], and a runner's `.env` that makes the three trust stores agree on the CA.

use std::path::{Path, PathBuf};

use super::http::FINGERPRINT;
use super::pki::{write_pem, Pki};

/// A profile YAML: a name, a title and capabilities with their entries (YAML lines, indented
/// six spaces, as [`fingerprinted`] writes them).
#[derive(Clone, Debug)]
pub struct Profile(String);

impl Profile {
    pub fn new(name: &str, title: &str) -> Profile {
        Profile(format!(
            "schema_version: 1\nname: {name}\ntitle: {title}\ncapabilities:\n"
        ))
    }

    /// Adds a capability with these entries.
    pub fn capability(mut self, id: &str, title: &str, gating: bool, entries: &str) -> Profile {
        self.0.push_str(&format!(
            "  - id: {id}\n    title: {title}\n    gating: {gating}\n    entries:\n{entries}"
        ));
        self
    }

    pub fn yaml(&self) -> &str {
        &self.0
    }
}

/// Entries for `hosts`, each probed over HTTPS with `GET path` expecting the GitHub fingerprint.
pub fn fingerprinted(hosts: &[&str], path: &str) -> String {
    hosts
        .iter()
        .map(|h| format!("      - host: {h}\n        http: {{ path: {path}, expect_header: {FINGERPRINT} }}\n"))
        .collect()
}

/// A temp dir with a CA of its own in `ca.pem`.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub pki: Pki,
    pub ca: PathBuf,
}

impl Fixture {
    /// A fresh temp dir and a CA with this common name.
    pub fn new(ca_common_name: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::new(ca_common_name);
        let ca = write_pem(dir.path(), "ca.pem", &pki.ca_pem);
        Fixture { dir, pki, ca }
    }

    /// `name` inside the temp dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `text` to `name` inside the temp dir.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        write_pem(self.dir.path(), name, text)
    }

    /// Writes `yaml` to `file` inside the temp dir; returns the path for `--profile`.
    pub fn profile_file(&self, file: &str, yaml: &str) -> String {
        self.file(file, yaml).display().to_string()
    }

    /// Writes `profile` to `profile.yaml`; returns the path for `--profile`.
    pub fn profile(&self, profile: &Profile) -> String {
        self.profile_file("profile.yaml", profile.yaml())
    }

    /// Makes this machine's three trust stores agree on the test CA, as a well-set-up runner
    /// host's do: the runner's `.env` points git (GIT_SSL_CAINFO) and node (NODE_EXTRA_CA_CERTS)
    /// at the CA that `--ca-file` gives the runner itself, and `--public-roots` makes it "public"
    /// (no interception). Without this, every TLS test would rightly report a trust-store
    /// warning. Returns the flags that point the CLI at that runner (`--runner-dir`,
    /// `--public-roots`).
    pub fn agreeing_trust_stores(&self) -> Vec<String> {
        agreeing_env(self.dir.path(), &self.ca);
        vec![
            "--runner-dir".into(),
            self.dir.path().display().to_string(),
            "--public-roots".into(),
            self.ca.display().to_string(),
        ]
    }
}

/// Writes the runner `.env` in `dir` that points git and node at `ca`.
pub fn agreeing_env(dir: &Path, ca: &Path) {
    let env = format!(
        "NODE_EXTRA_CA_CERTS={0}\nGIT_SSL_CAINFO={0}\n",
        ca.display()
    );
    std::fs::write(dir.join(".env"), env).expect("write .env");
}
