//! The three trust stores of a runner's stack, and the public reference set.
//!
//! - runner: the .NET runner uses the OS store; on Linux SSL_CERT_FILE / SSL_CERT_DIR (plus
//!   `--ca-file`, which models adding a CA to it);
//! - git: GIT_SSL_CAINFO when set, otherwise OpenSSL's bundle (SSL_CERT_FILE / SSL_CERT_DIR /
//!   the system bundle);
//! - node (JavaScript actions): its compiled-in Mozilla roots plus NODE_EXTRA_CA_CERTS.
//!
//! The *public* set (Mozilla's, replaceable with `--public-roots`) decides whether a presented
//! chain leads to a public root; when it does not, something re-signs the traffic (TLS
//! interception) or the server uses a private CA.
//!
//! A chain is only ever *checked* here against each store; nothing presented is trusted.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::RootCertStore;
use serde::Serialize;

use crate::probe::tls::{provider, read_pem_certs};
use crate::proxy::RunnerEnv;
use crate::words::plural;

/// One trust store, ready to check chains.
#[derive(Clone)]
pub struct Store {
    verifier: Option<Arc<WebPkiServerVerifier>>,
    /// What it holds, in words.
    pub description: String,
}

impl Store {
    fn from_roots(roots: RootCertStore, description: String) -> Store {
        let verifier = if roots.is_empty() {
            None
        } else {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .ok()
        };
        Store {
            verifier,
            description,
        }
    }

    /// This store as the prober's trust decision (the runner's store is what the TLS checks
    /// verify against), sharing its verifier.
    pub fn trust(&self) -> crate::probe::tls::Trust {
        crate::probe::tls::Trust::from_verifier(self.verifier.clone(), self.description.clone())
    }

    /// Does this store accept `chain` (leaf first) for `host` now?
    pub fn accepts(&self, host: &str, chain: &[CertificateDer<'static>]) -> bool {
        self.check(host, chain).is_ok()
    }

    /// Does `chain` lead to one of this store's roots, whatever else is wrong with it (expired,
    /// other names)? Only an unknown issuer or a bad signature on the path says no.
    pub fn anchors(&self, host: &str, chain: &[CertificateDer<'static>]) -> bool {
        use rustls::CertificateError as C;
        match self.check(host, chain) {
            Ok(()) => true,
            Err(rustls::Error::InvalidCertificate(
                C::UnknownIssuer | C::BadSignature | C::UnsupportedSignatureAlgorithmContext { .. },
            )) => false,
            Err(rustls::Error::InvalidCertificate(_)) => true,
            Err(_) => false,
        }
    }

    fn check(&self, host: &str, chain: &[CertificateDer<'static>]) -> Result<(), rustls::Error> {
        let (Some(v), Some((leaf, rest))) = (&self.verifier, chain.split_first()) else {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ));
        };
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| rustls::Error::General(e.to_string()))?;
        v.verify_server_cert(leaf, rest, &name, &[], UnixTime::now())
            .map(|_| ())
    }
}

/// A PEM file that may hold the anchor of a chain (to say which file to point a variable at).
#[derive(Clone)]
struct Source {
    path: PathBuf,
    store: Store,
}

/// Which stores accept a presented chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreVerdicts {
    /// The runner's own store (OS store + `--ca-file`).
    pub runner: bool,
    /// git (GIT_SSL_CAINFO or OpenSSL's bundle).
    pub git: bool,
    /// node (Mozilla roots + NODE_EXTRA_CA_CERTS).
    pub node: bool,
    /// The chain leads to a public root (Mozilla's set or `--public-roots`).
    pub public_root: bool,
    /// The issuer at the top of the presented chain (the inspecting CA when intercepted).
    pub top_issuer: String,
    /// A PEM file that holds the chain's anchor, when one of the configured files does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor_file: Option<String>,
}

/// The stores of this machine (as the runner's environment sets them up).
#[derive(Clone)]
pub struct Stores {
    pub runner: Store,
    pub git: Store,
    pub node: Store,
    pub public: Store,
    sources: Vec<Source>,
    /// NODE_EXTRA_CA_CERTS as the runner's environment sets it.
    pub node_extra: Option<String>,
    /// GIT_SSL_CAINFO as the runner's environment sets it.
    pub git_cainfo: Option<String>,
    /// Problems with the configured files (unreadable, not PEM), in words.
    pub notes: Vec<String>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores")
            .field("runner", &self.runner.description)
            .field("git", &self.git.description)
            .field("node", &self.node.description)
            .field("public", &self.public.description)
            .finish()
    }
}

fn add(roots: &mut RootCertStore, certs: Vec<CertificateDer<'static>>) -> usize {
    roots.add_parsable_certificates(certs).0
}

fn env_value(env: &RunnerEnv, name: &str) -> Option<String> {
    env.get(name)
        .map(|(v, _)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl Stores {
    /// Load the stores. `ca_files` extend the runner's store; `public_roots` replaces the Mozilla
    /// set (for node and as the public reference). Errors (exit 2) only for our own flags.
    pub fn load(
        env: &RunnerEnv,
        ca_files: &[PathBuf],
        public_roots: Option<&Path>,
    ) -> Result<Stores, String> {
        let mut notes = Vec::new();
        let mut sources = Vec::new();
        let native = rustls_native_certs::load_native_certs().certs;

        // runner
        let mut roots = RootCertStore::empty();
        let n = add(&mut roots, native.clone());
        let mut description = format!(
            "{} from the OS store (SSL_CERT_FILE / SSL_CERT_DIR)",
            plural(n, "root")
        );
        for path in ca_files {
            let certs = read_pem_certs(path)?;
            let k = add(&mut roots, certs.clone());
            if k == 0 {
                return Err(format!(
                    "--ca-file {}: none of its {} certificates can be used as a trust anchor",
                    path.display(),
                    certs.len()
                ));
            }
            description.push_str(&format!(" + {k} from {}", path.display()));
            sources.push(source(path, certs));
        }
        let runner = Store::from_roots(roots, description);
        if let Some(f) = env_value(env, "SSL_CERT_FILE") {
            if let Ok(certs) = read_pem_certs(Path::new(&f)) {
                sources.push(source(Path::new(&f), certs));
            }
        }

        // git
        let git_cainfo = env_value(env, "GIT_SSL_CAINFO");
        let git = match &git_cainfo {
            Some(f) => match read_pem_certs(Path::new(f)) {
                Ok(certs) => {
                    sources.push(source(Path::new(f), certs.clone()));
                    let mut roots = RootCertStore::empty();
                    let k = add(&mut roots, certs);
                    Store::from_roots(roots, format!("{k} roots from GIT_SSL_CAINFO={f}"))
                }
                Err(e) => {
                    notes.push(format!(
                        "GIT_SSL_CAINFO={f} cannot be used ({}): git fails every HTTPS connection",
                        e.trim_start_matches("--ca-file ")
                    ));
                    Store::from_roots(
                        RootCertStore::empty(),
                        format!("GIT_SSL_CAINFO={f} (unusable)"),
                    )
                }
            },
            None => {
                let mut roots = RootCertStore::empty();
                let k = add(&mut roots, native);
                Store::from_roots(
                    roots,
                    format!("{k} roots from OpenSSL's bundle (SSL_CERT_FILE / SSL_CERT_DIR)"),
                )
            }
        };

        // public reference, and node
        let (public_roots_store, public_label) = match public_roots {
            Some(p) => {
                let certs =
                    read_pem_certs(p).map_err(|e| e.replacen("--ca-file", "--public-roots", 1))?;
                let mut roots = RootCertStore::empty();
                let k = add(&mut roots, certs);
                if k == 0 {
                    return Err(format!(
                        "--public-roots {}: no certificate can be used as a trust anchor",
                        p.display()
                    ));
                }
                (
                    roots,
                    format!(
                        "{} from {} (--public-roots)",
                        plural(k, "root"),
                        p.display()
                    ),
                )
            }
            None => {
                let roots = RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                let k = roots.len();
                (
                    roots,
                    format!("Mozilla's {} (webpki-roots)", plural(k, "root")),
                )
            }
        };
        let public = Store::from_roots(public_roots_store.clone(), public_label.clone());
        let node_extra = env_value(env, "NODE_EXTRA_CA_CERTS");
        let mut node_roots = public_roots_store;
        let mut node_desc = public_label;
        if let Some(f) = &node_extra {
            match read_pem_certs(Path::new(f)) {
                Ok(certs) => {
                    sources.push(source(Path::new(f), certs.clone()));
                    let k = add(&mut node_roots, certs);
                    node_desc.push_str(&format!(" + {k} from NODE_EXTRA_CA_CERTS={f}"));
                }
                Err(e) => notes.push(format!(
                    "NODE_EXTRA_CA_CERTS={f} cannot be used ({}): node ignores it with a warning",
                    e.trim_start_matches("--ca-file ")
                )),
            }
        }
        let node = Store::from_roots(node_roots, node_desc);
        Ok(Stores {
            runner,
            git,
            node,
            public,
            sources,
            node_extra,
            git_cainfo,
            notes,
        })
    }

    /// Check a presented chain (leaf first) for `host` against every store.
    pub fn evaluate(&self, host: &str, chain: &[CertificateDer<'static>]) -> Option<StoreVerdicts> {
        if chain.is_empty() {
            return None;
        }
        let top_issuer = chain
            .last()
            .and_then(|c| {
                x509_parser::parse_x509_certificate(c.as_ref())
                    .ok()
                    .map(|(_, c)| c.issuer().to_string())
            })
            .unwrap_or_else(|| "(unparsable certificate)".into());
        let anchor_file = self
            .sources
            .iter()
            .find(|s| s.store.anchors(host, chain))
            .map(|s| s.path.display().to_string());
        Some(StoreVerdicts {
            runner: self.runner.accepts(host, chain),
            git: self.git.accepts(host, chain),
            node: self.node.accepts(host, chain),
            public_root: self.public.anchors(host, chain),
            top_issuer,
            anchor_file,
        })
    }
}

fn source(path: &Path, certs: Vec<CertificateDer<'static>>) -> Source {
    let mut roots = RootCertStore::empty();
    add(&mut roots, certs);
    Source {
        path: path.to_path_buf(),
        store: Store::from_roots(roots, path.display().to_string()),
    }
}

/// `info` with the store verdicts for the chain `presented` for `host` filled in.
pub fn annotated(
    stores: Option<&Stores>,
    host: &str,
    presented: &[CertificateDer<'static>],
    mut info: crate::report::TlsInfo,
) -> crate::report::TlsInfo {
    if let Some(s) = stores {
        info.stores = s.evaluate(host, presented);
    }
    info
}
