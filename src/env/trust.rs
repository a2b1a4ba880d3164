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

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::{Deserialize, Serialize};

use crate::env::proxy::RunnerEnv;
use crate::textfile::{self, ReadError};
use crate::words::plural;

/// The one crypto provider of every TLS configuration (explicit, so no process-level default
/// is needed).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Which of our inputs a PEM file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PemInput {
    /// An extra CA for the runner's store.
    CaFile,
    /// The replacement for Mozilla's public set.
    PublicRoots,
    /// A file named by one of the runner's variables (SSL_CERT_FILE, SSL_CERT_DIR,
    /// GIT_SSL_CAINFO, NODE_EXTRA_CA_CERTS), set in the process environment or in the
    /// runner's `.env`. Only a file we refuse to read (over the cap, a FIFO) is an input error;
    /// one that is missing or damaged is a note, as the runner meets it too.
    Variable {
        name: &'static str,
        from_env_file: bool,
    },
    /// The distribution's default certificate locations (no variable set).
    OsDefault,
}

/// Why a PEM file of ours cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PemError {
    #[error("{0}")]
    Read(#[from] ReadError),
    /// A `-----BEGIN CERTIFICATE-----` block that does not decode (cut short, bad base64).
    #[error("{}: not a valid PEM certificate file (a certificate block is damaged or cut short)", path.display())]
    Damaged { path: PathBuf },
    #[error("{}: no `-----BEGIN CERTIFICATE-----` block found", path.display())]
    NoCertificates { path: PathBuf },
    /// Certificates were found, but none can anchor a chain.
    #[error("{}: none of its {found} certificates can be used as a trust anchor", path.display())]
    NoAnchor { path: PathBuf, found: usize },
}

/// An input error of the trust stores: which input, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct TrustError {
    pub input: PemInput,
    pub error: PemError,
}

/// Every certificate in a PEM file (read with the CA-bundle size cap).
pub fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let data = textfile::read_bytes(path, textfile::limit::CA_BUNDLE, "a CA bundle")?;
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&data).collect();
    let certs = certs.map_err(|_| PemError::Damaged {
        path: path.to_path_buf(),
    })?;
    if certs.is_empty() {
        return Err(PemError::NoCertificates {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// A verifier that is webpki's, except that a presented end-entity certificate which is itself
/// one of the store's certificates (byte for byte) is accepted when it is valid now and for the
/// name — as OpenSSL, and so the runner, git and node, accept a trusted self-signed
/// certificate whatever its `basicConstraints` say (webpki alone rejects a `CA:TRUE` one with
/// `CaUsedAsEndEntity`). Signatures of the handshake are still checked with the certificate's
/// key, so only the holder of its private key passes.
#[derive(Debug)]
pub struct AnchorVerifier {
    inner: Arc<WebPkiServerVerifier>,
    anchors: HashSet<Vec<u8>>,
}

impl AnchorVerifier {
    fn trusted_itself(
        &self,
        end_entity: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Option<Result<(), rustls::Error>> {
        if !self.anchors.contains(end_entity.as_ref()) {
            return None;
        }
        let invalid = |e| Some(Err(rustls::Error::InvalidCertificate(e)));
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(end_entity.as_ref()) else {
            return invalid(CertificateError::BadEncoding);
        };
        let secs = now.as_secs() as i64;
        let validity = cert.validity();
        if secs > validity.not_after.timestamp() {
            return invalid(CertificateError::ExpiredContext {
                time: now,
                not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                    validity.not_after.timestamp().max(0) as u64,
                )),
            });
        }
        if secs < validity.not_before.timestamp() {
            return invalid(CertificateError::NotValidYet);
        }
        let ee = match webpki::EndEntityCert::try_from(end_entity) {
            Ok(ee) => ee,
            Err(_) => return invalid(CertificateError::BadEncoding),
        };
        match ee.verify_is_valid_for_subject_name(server_name) {
            Ok(()) => Some(Ok(())),
            Err(_) => invalid(CertificateError::NotValidForName),
        }
    }
}

impl ServerCertVerifier for AnchorVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => Ok(v),
            Err(e) => match self.trusted_itself(end_entity, server_name, now) {
                Some(Ok(())) => Ok(ServerCertVerified::assertion()),
                Some(Err(own)) => Err(own),
                None => Err(e),
            },
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The trust decision shared by every TLS check (and by HTTP, which runs over the same
/// streams): the runner's store.
#[derive(Clone)]
pub struct Trust {
    pub provider: Arc<CryptoProvider>,
    /// `None` when no usable root is there at all: every TLS check then fails saying so.
    pub verifier: Option<Arc<AnchorVerifier>>,
    /// How many roots were loaded, and from where (for the report).
    pub description: String,
}

impl Trust {
    /// A trust decision with no roots at all: every TLS check fails saying so.
    pub fn none() -> Trust {
        Trust {
            provider: provider(),
            verifier: None,
            description: "no roots".into(),
        }
    }
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

/// The certificates of one store being assembled: webpki's anchors, and the exact
/// certificates (for [`AnchorVerifier`]'s self-signed rule).
#[derive(Clone)]
struct Roots {
    anchors: RootCertStore,
    exact: HashSet<Vec<u8>>,
}

impl Default for Roots {
    fn default() -> Roots {
        Roots {
            anchors: RootCertStore::empty(),
            exact: HashSet::new(),
        }
    }
}

impl Roots {
    /// Add `certs`; how many can anchor a chain.
    fn add(&mut self, certs: &[CertificateDer<'static>]) -> usize {
        self.exact.extend(certs.iter().map(|c| c.as_ref().to_vec()));
        self.anchors
            .add_parsable_certificates(certs.iter().cloned())
            .0
    }

    fn mozilla() -> Roots {
        Roots {
            anchors: RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
            exact: HashSet::new(),
        }
    }

    fn len(&self) -> usize {
        self.anchors.len()
    }

    fn verifier(self) -> Option<Arc<AnchorVerifier>> {
        if self.anchors.is_empty() {
            return None;
        }
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(self.anchors), provider())
            .build()
            .ok()?;
        Some(Arc::new(AnchorVerifier {
            inner,
            anchors: self.exact,
        }))
    }
}

/// One trust store, ready to check chains.
#[derive(Clone)]
pub struct Store {
    verifier: Option<Arc<AnchorVerifier>>,
    /// What it holds, in words.
    pub description: String,
}

impl Store {
    fn new(roots: Roots, description: String) -> Store {
        Store {
            verifier: roots.verifier(),
            description,
        }
    }

    /// A store holding exactly `other`'s certificates under another description: it shares
    /// `other`'s verifier, so a chain checked against both is checked once
    /// ([`Stores::evaluate`]).
    fn same_as(other: &Store, description: String) -> Store {
        Store {
            verifier: other.verifier.clone(),
            description,
        }
    }

    /// This store as the prober's trust decision (the runner's store is what the TLS checks
    /// verify against), sharing its verifier.
    pub fn trust(&self) -> Trust {
        Trust {
            provider: provider(),
            verifier: self.verifier.clone(),
            description: self.description.clone(),
        }
    }

    /// Does this store accept `chain` (leaf first) for `host` now?
    pub fn accepts(&self, host: &str, chain: &[CertificateDer<'static>]) -> bool {
        self.check(host, chain).is_ok()
    }

    /// Does `chain` lead to one of this store's roots, whatever else is wrong with it (expired,
    /// other names)? Only an unknown issuer or a bad signature on the path says no.
    pub fn anchors(&self, host: &str, chain: &[CertificateDer<'static>]) -> bool {
        anchored(&self.check(host, chain))
    }

    /// [`Store::check`], asked once per verifier: stores that share one (the same
    /// certificates) reuse the first result in `memo`.
    fn check_once(
        &self,
        host: &str,
        chain: &[CertificateDer<'static>],
        memo: &mut Vec<(Arc<AnchorVerifier>, Result<(), rustls::Error>)>,
    ) -> Result<(), rustls::Error> {
        let Some(v) = &self.verifier else {
            return self.check(host, chain);
        };
        if let Some((_, r)) = memo.iter().find(|(m, _)| Arc::ptr_eq(m, v)) {
            return r.clone();
        }
        let r = self.check(host, chain);
        memo.push((v.clone(), r.clone()));
        r
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

/// A check's result read as "the chain leads to this store's roots": only an unknown issuer or a
/// bad signature on the path says no.
fn anchored(r: &Result<(), rustls::Error>) -> bool {
    use rustls::CertificateError as C;
    match r {
        Ok(()) => true,
        Err(rustls::Error::InvalidCertificate(
            C::UnknownIssuer | C::BadSignature | C::UnsupportedSignatureAlgorithmContext { .. },
        )) => false,
        Err(rustls::Error::InvalidCertificate(_)) => true,
        Err(_) => false,
    }
}

/// A PEM file that may hold the anchor of a chain (to say which file to point a variable at).
/// Its store is built when a chain is first checked against it, not while the run starts.
#[derive(Clone)]
struct Source {
    path: PathBuf,
    /// Its certificates when already read; `None`: read the file when needed.
    certs: Option<Arc<Vec<CertificateDer<'static>>>>,
    store: Arc<OnceLock<Option<Store>>>,
}

impl Source {
    /// The store of this file's certificates (`None` when the file cannot be read now).
    fn store(&self) -> Option<&Store> {
        self.store
            .get_or_init(|| {
                let read;
                let certs = match &self.certs {
                    Some(c) => c.as_slice(),
                    None => {
                        read = read_pem_certs(&self.path).ok()?;
                        read.as_slice()
                    }
                };
                let mut roots = Roots::default();
                roots.add(certs);
                Some(Store::new(roots, self.path.display().to_string()))
            })
            .as_ref()
    }
}

/// Which stores accept a presented chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(skip_serializing_if = "Option::is_none", default)]
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

/// The certificates of OpenSSL's store as the runner's environment sets it up: SSL_CERT_FILE and
/// the folders of SSL_CERT_DIR (`:`-separated) when either variable is set (an empty one names
/// nothing, as for OpenSSL), else the distribution's default bundle and folders.
///
/// Every file is read with the CA-bundle cap and a FIFO is refused without waiting on it
/// (issue 22, rows 3 and 9): rustls-native-certs, used before, read `SSL_CERT_FILE=/dev/zero`
/// until the allocator gave up. Files that are missing or do not parse add nothing, as with
/// OpenSSL.
fn openssl_store(env: &RunnerEnv) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    let var = |name: &'static str| {
        env.get(name)
            .map(|(v, _)| (v.trim().to_string(), variable(env, name)))
    };
    let (file, dir) = (var("SSL_CERT_FILE"), var("SSL_CERT_DIR"));
    let (file, dirs): (Option<Named>, Vec<Named>) = if file.is_none() && dir.is_none() {
        let found = openssl_probe::probe();
        (
            found.cert_file.map(|f| (f, PemInput::OsDefault)),
            found
                .cert_dir
                .into_iter()
                .map(|d| (d, PemInput::OsDefault))
                .collect(),
        )
    } else {
        (
            file.filter(|(f, _)| !f.is_empty())
                .map(|(f, input)| (PathBuf::from(f), input)),
            dir.map(|(list, input)| {
                list.split(':')
                    .filter(|d| !d.is_empty())
                    .map(|d| (PathBuf::from(d), input))
                    .collect()
            })
            .unwrap_or_default(),
        )
    };
    let mut certs = Vec::new();
    // The bundle is often also a file of the folder (by another name or through a link).
    let mut seen = HashSet::new();
    if let Some((path, input)) = &file {
        if let Ok(m) = std::fs::metadata(path) {
            seen.insert(file_id(&m));
        }
        certs.extend(lenient_pem(path, *input)?);
    }
    for (dir, input) in &dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut total = 0u64;
        for entry in entries.flatten() {
            let path = entry.path();
            // Links followed; anything but a regular file (a FIFO, a device) is not read.
            let Ok(m) = std::fs::metadata(&path) else {
                continue;
            };
            if !m.is_file() || !seen.insert(file_id(&m)) {
                continue;
            }
            total += m.len();
            if total > textfile::limit::CA_FOLDER {
                return Err(TrustError {
                    input: *input,
                    error: PemError::Read(ReadError::TooLarge {
                        path: dir.clone(),
                        limit: textfile::limit::CA_FOLDER,
                        what: "the certificates of a folder",
                    }),
                });
            }
            certs.extend(lenient_pem(&path, *input)?);
        }
    }
    Ok(certs)
}

/// A path of the OS store and the input it came from.
type Named = (PathBuf, PemInput);

/// A file's identity (device, inode), to read each file once.
fn file_id(m: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (m.dev(), m.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        (0, 0)
    }
}

/// The certificates of a PEM file of the OS store, up to the first damaged block. A file over
/// the cap or that could block (a FIFO) is an input error; any other unreadable file adds none.
fn lenient_pem(path: &Path, input: PemInput) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    match textfile::read_bytes(path, textfile::limit::CA_BUNDLE, "a CA bundle") {
        Ok(data) => Ok(CertificateDer::pem_slice_iter(&data)
            .map_while(Result::ok)
            .collect()),
        Err(e) if refused(&e) => Err(TrustError {
            input,
            error: PemError::Read(e),
        }),
        Err(_) => Ok(Vec::new()),
    }
}

/// A read error that ends the run (exit 2) even for a file named by the runner's variables:
/// the file is one we will not read (too large, or a FIFO that could block for ever).
fn refused(e: &ReadError) -> bool {
    matches!(e, ReadError::TooLarge { .. } | ReadError::NotRegular { .. })
}

/// [`refused`] for a PEM error.
fn refused_pem(e: &PemError) -> bool {
    matches!(e, PemError::Read(r) if refused(r))
}

/// The [`PemInput`] of one of the runner's variables.
fn variable(env: &RunnerEnv, name: &'static str) -> PemInput {
    PemInput::Variable {
        name,
        from_env_file: env
            .get(name)
            .is_some_and(|(_, o)| *o == crate::env::proxy::Origin::EnvFile),
    }
}

fn env_value(env: &RunnerEnv, name: &str) -> Option<String> {
    env.get(name)
        .map(|(v, _)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl Stores {
    /// Load the stores. `ca_files` extend the runner's store; `public_roots` replaces the Mozilla
    /// set (for node and as the public reference). Errors (exit 2) only for our own inputs;
    /// unusable files named by the runner's variables are notes (the runner meets them too).
    pub fn load(
        env: &RunnerEnv,
        ca_files: &[PathBuf],
        public_roots: Option<&Path>,
    ) -> Result<Stores, TrustError> {
        let mut notes = Vec::new();
        let mut sources = Vec::new();
        // The OS store as the runner's OpenSSL reads it: SSL_CERT_FILE / SSL_CERT_DIR from the
        // runner's environment (its .env included), else the distribution's default paths.
        let cert_file = env_value(env, "SSL_CERT_FILE");
        let mut native = openssl_store(env)?;
        // The bundle and the hashed directory hold the same certificates: parse each once.
        let mut distinct = HashSet::new();
        native.retain(|c| distinct.insert(c.as_ref().to_vec()));
        drop(distinct);
        // OpenSSL's store, parsed once: the runner's (plus --ca-file) and git's by default.
        let mut os_roots = Roots::default();
        let n = os_roots.add(&native);
        drop(native);

        // runner
        let mut roots = os_roots.clone();
        let mut description = format!(
            "{} from the OS store (SSL_CERT_FILE / SSL_CERT_DIR)",
            plural(n, "root")
        );
        for path in ca_files {
            let own = |error| TrustError {
                input: PemInput::CaFile,
                error,
            };
            let certs = read_pem_certs(path).map_err(own)?;
            let k = roots.add(&certs);
            if k == 0 {
                return Err(own(PemError::NoAnchor {
                    path: path.clone(),
                    found: certs.len(),
                }));
            }
            description.push_str(&format!(" + {k} from {}", path.display()));
            sources.push(source(path, &certs));
        }
        let runner = Store::new(roots, description);
        if let Some(f) = &cert_file {
            // Read again only if a chain is ever checked against it alone.
            sources.push(Source {
                path: PathBuf::from(f),
                certs: None,
                store: Default::default(),
            });
        }

        // git
        let git_cainfo = env_value(env, "GIT_SSL_CAINFO");
        let git = match &git_cainfo {
            Some(f) => match read_pem_certs(Path::new(f)) {
                Ok(certs) => {
                    sources.push(source(Path::new(f), &certs));
                    let mut roots = Roots::default();
                    let k = roots.add(&certs);
                    Store::new(roots, format!("{k} roots from GIT_SSL_CAINFO={f}"))
                }
                Err(e) if refused_pem(&e) => {
                    return Err(TrustError {
                        input: variable(env, "GIT_SSL_CAINFO"),
                        error: e,
                    })
                }
                Err(e) => {
                    notes.push(format!(
                        "GIT_SSL_CAINFO={f} cannot be used ({}): git fails every HTTPS connection",
                        pem_reason(&e)
                    ));
                    Store::new(Roots::default(), format!("GIT_SSL_CAINFO={f} (unusable)"))
                }
            },
            None => {
                let description =
                    format!("{n} roots from OpenSSL's bundle (SSL_CERT_FILE / SSL_CERT_DIR)");
                if ca_files.is_empty() {
                    Store::same_as(&runner, description)
                } else {
                    Store::new(os_roots, description)
                }
            }
        };

        // public reference, and node
        let (public_roots_set, public_label) = match public_roots {
            Some(p) => {
                let own = |error| TrustError {
                    input: PemInput::PublicRoots,
                    error,
                };
                let certs = read_pem_certs(p).map_err(own)?;
                let mut roots = Roots::default();
                let k = roots.add(&certs);
                if k == 0 {
                    return Err(own(PemError::NoAnchor {
                        path: p.to_path_buf(),
                        found: certs.len(),
                    }));
                }
                (
                    roots,
                    format!("{} from {} (public roots)", plural(k, "root"), p.display()),
                )
            }
            None => {
                let roots = Roots::mozilla();
                let k = roots.len();
                (
                    roots,
                    format!("Mozilla's {} (webpki-roots)", plural(k, "root")),
                )
            }
        };
        let public = Store::new(public_roots_set.clone(), public_label.clone());
        let node_extra = env_value(env, "NODE_EXTRA_CA_CERTS");
        let mut node_roots = public_roots_set;
        let mut node_desc = public_label;
        let mut node_added = false;
        if let Some(f) = &node_extra {
            match read_pem_certs(Path::new(f)) {
                Ok(certs) => {
                    sources.push(source(Path::new(f), &certs));
                    let k = node_roots.add(&certs);
                    node_desc.push_str(&format!(" + {k} from NODE_EXTRA_CA_CERTS={f}"));
                    node_added = true;
                }
                Err(e) if refused_pem(&e) => {
                    return Err(TrustError {
                        input: variable(env, "NODE_EXTRA_CA_CERTS"),
                        error: e,
                    })
                }
                Err(e) => notes.push(format!(
                    "NODE_EXTRA_CA_CERTS={f} cannot be used ({}): node ignores it with a warning",
                    pem_reason(&e)
                )),
            }
        }
        let node = if node_added {
            Store::new(node_roots, node_desc)
        } else {
            Store::same_as(&public, node_desc)
        };
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
        self.evaluate_checked(host, chain, None)
    }

    /// [`Stores::evaluate`] when one verifier has already checked `chain` for `host` (the
    /// handshake's): a store sharing that verifier takes its verdict.
    pub fn evaluate_checked(
        &self,
        host: &str,
        chain: &[CertificateDer<'static>],
        checked: Option<(Arc<AnchorVerifier>, Result<(), rustls::Error>)>,
    ) -> Option<StoreVerdicts> {
        if chain.is_empty() {
            return None;
        }
        let top_issuer = chain
            .last()
            .and_then(|c| {
                x509_parser::parse_x509_certificate(c.as_ref())
                    .ok()
                    // Outside text: shown escaped and clipped wherever it goes.
                    .map(|(_, c)| crate::model::text::clipped(&c.issuer().to_string()))
            })
            .unwrap_or_else(|| "(unparsable certificate)".into());
        let anchor_file = self
            .sources
            .iter()
            .find(|s| s.store().is_some_and(|store| store.anchors(host, chain)))
            .map(|s| s.path.display().to_string());
        // Stores with the same certificates share a verifier (git's is the runner's without
        // --ca-file and GIT_SSL_CAINFO, node's the public set without NODE_EXTRA_CA_CERTS):
        // each distinct one checks the chain once (a path check is a few signature checks).
        let mut memo: Vec<_> = checked.into_iter().collect();
        Some(StoreVerdicts {
            runner: self.runner.check_once(host, chain, &mut memo).is_ok(),
            git: self.git.check_once(host, chain, &mut memo).is_ok(),
            node: self.node.check_once(host, chain, &mut memo).is_ok(),
            public_root: anchored(&self.public.check_once(host, chain, &mut memo)),
            top_issuer,
            anchor_file,
        })
    }
}

fn source(path: &Path, certs: &[CertificateDer<'static>]) -> Source {
    Source {
        path: path.to_path_buf(),
        certs: Some(Arc::new(certs.to_vec())),
        store: Default::default(),
    }
}

/// What is wrong with a file, without its path (the note names the variable and the path).
fn pem_reason(e: &PemError) -> String {
    match e {
        PemError::Read(ReadError::Io { source, .. }) => match source.kind() {
            std::io::ErrorKind::NotFound => "no such file".into(),
            std::io::ErrorKind::PermissionDenied => "permission denied".into(),
            _ => "cannot be read".into(),
        },
        PemError::Read(ReadError::TooLarge { limit, .. }) => {
            format!("larger than {}", textfile::human_bytes(*limit))
        }
        PemError::Read(_) => "cannot be read".into(),
        PemError::Damaged { .. } => "a certificate block is damaged or cut short".into(),
        PemError::NoCertificates { .. } => "no `-----BEGIN CERTIFICATE-----` block found".into(),
        PemError::NoAnchor { .. } => "no certificate in it can be a trust anchor".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::proxy::Origin;

    /// A CA and a leaf for `host` it signed, as PEM files in `dir`.
    fn pki(dir: &Path, name: &str, host: &str) -> (PathBuf, Vec<CertificateDer<'static>>) {
        let ca_key = rcgen::KeyPair::generate().expect("ca key");
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, format!("{name} Root"));
        let ca_cert = ca.self_signed(&ca_key).expect("ca cert");
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
        let leaf = rcgen::CertificateParams::new(vec![host.to_string()])
            .expect("leaf params")
            .signed_by(&leaf_key, &issuer)
            .expect("leaf cert");
        let path = dir.join(format!("{name}.pem"));
        std::fs::write(&path, ca_cert.pem()).expect("write ca");
        (path, vec![leaf.der().clone()])
    }

    fn env_with(vars: &[(&str, &Path)]) -> RunnerEnv {
        let mut env = RunnerEnv::default();
        for (k, v) in vars {
            env.set(k, &v.display().to_string(), Origin::Environment);
        }
        env
    }

    fn shared(a: &Store, b: &Store) -> bool {
        match (&a.verifier, &b.verifier) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// SSL_CERT_DIR is a `:`-separated list of folders, as for OpenSSL; a variable set to
    /// nothing names no file (the default locations are not read then); a file over the cap,
    /// set in the runner's .env, is refused naming the variable and where it was set.
    #[test]
    fn the_openssl_store_reads_every_folder_and_refuses_what_it_cannot_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (one, two) = (dir.path().join("one"), dir.path().join("two"));
        std::fs::create_dir(&one).expect("mkdir");
        std::fs::create_dir(&two).expect("mkdir");
        let (_, chain_one) = pki(&one, "one", "a.example.com");
        let (_, chain_two) = pki(&two, "two", "b.example.com");
        let mut env = RunnerEnv::default();
        env.set("SSL_CERT_FILE", "", Origin::Environment);
        let list = format!("{}::{}", one.display(), two.display());
        env.set("SSL_CERT_DIR", &list, Origin::Environment);
        let s = Stores::load(&env, &[], None).expect("stores");
        assert!(s.runner.accepts("a.example.com", &chain_one));
        assert!(s.runner.accepts("b.example.com", &chain_two));
        assert!(s
            .runner
            .description
            .starts_with("2 roots from the OS store"));

        let mut env = RunnerEnv::default();
        env.set("SSL_CERT_FILE", " ", Origin::Environment);
        let s = Stores::load(&env, &[], None).expect("stores");
        assert!(
            s.runner.description.starts_with("0 roots"),
            "{}",
            s.runner.description
        );

        let mut env = RunnerEnv::default();
        env.set("SSL_CERT_FILE", "/dev/zero", Origin::EnvFile);
        let e = Stores::load(&env, &[], None).expect_err("refused");
        assert_eq!(
            e.input,
            PemInput::Variable {
                name: "SSL_CERT_FILE",
                from_env_file: true
            }
        );
        assert!(matches!(
            e.error,
            PemError::Read(ReadError::TooLarge { .. })
        ));
    }

    /// git reads OpenSSL's store as the runner does and node the public set: with nothing
    /// added to either, they share that store's verifier (a chain is checked once for both),
    /// and what each accepts is still its own.
    #[test]
    fn stores_with_the_same_certificates_share_one_check() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (os_ca, os_chain) = pki(dir.path(), "os", "a.example.com");
        let env = env_with(&[("SSL_CERT_FILE", &os_ca)]);
        let s = Stores::load(&env, &[], None).expect("stores");
        assert!(shared(&s.runner, &s.git), "git reads the runner's OS store");
        assert!(shared(&s.node, &s.public), "node reads the public set");
        assert!(!shared(&s.runner, &s.node));
        let v = s.evaluate("a.example.com", &os_chain).expect("verdicts");
        assert!(v.runner && v.git, "{v:?}");
        assert!(!v.node && !v.public_root, "{v:?}");
    }

    /// The handshake's own verdict stands for the store whose verifier made it (and the stores
    /// sharing that verifier); the others check the chain themselves.
    #[test]
    fn the_handshakes_verdict_is_not_checked_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (os_ca, os_chain) = pki(dir.path(), "os", "a.example.com");
        let env = env_with(&[("SSL_CERT_FILE", &os_ca)]);
        let s = Stores::load(&env, &[], None).expect("stores");
        let runner = s.runner.verifier.clone().expect("runner verifier");
        // A verdict the chain itself would not give: only a store that takes the handshake's
        // verdict says no.
        let refused = Err(rustls::Error::InvalidCertificate(CertificateError::Expired));
        let v = s
            .evaluate_checked("a.example.com", &os_chain, Some((runner, refused)))
            .expect("verdicts");
        assert!(!v.runner && !v.git, "{v:?}");
        let v = s.evaluate("a.example.com", &os_chain).expect("verdicts");
        assert!(v.runner && v.git, "{v:?}");
    }

    /// A --ca-file the runner trusts and a NODE_EXTRA_CA_CERTS make the stores differ: each is
    /// checked on its own, so a chain from the --ca-file's CA passes the runner's store only,
    /// and one from node's extra CA passes node's only.
    #[test]
    fn stores_that_differ_check_a_chain_each() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (os_ca, _) = pki(dir.path(), "os", "a.example.com");
        let (extra_ca, extra_chain) = pki(dir.path(), "extra", "b.example.com");
        let (node_ca, node_chain) = pki(dir.path(), "node", "c.example.com");
        let env = env_with(&[("SSL_CERT_FILE", &os_ca), ("NODE_EXTRA_CA_CERTS", &node_ca)]);
        let s = Stores::load(&env, std::slice::from_ref(&extra_ca), None).expect("stores");
        assert!(!shared(&s.runner, &s.git));
        assert!(!shared(&s.node, &s.public));
        let v = s.evaluate("b.example.com", &extra_chain).expect("verdicts");
        assert!(v.runner, "{v:?}");
        assert!(!v.git && !v.node && !v.public_root, "{v:?}");
        let v = s.evaluate("c.example.com", &node_chain).expect("verdicts");
        assert!(v.node, "{v:?}");
        assert!(!v.runner && !v.git && !v.public_root, "{v:?}");
    }
}
