//! TLS: a real handshake with SNI, verified against the trust store, recording what the server
//! presented whether or not it verifies, and turning rustls errors into plain words.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, DigitallySignedStruct, Error as TlsError, RootCertStore, SignatureScheme,
};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::report::{CertSummary, TlsInfo};

/// The trust decision shared by every TLS check (and by HTTP, which runs over the same streams).
#[derive(Clone)]
pub struct Trust {
    provider: Arc<CryptoProvider>,
    /// `Err` when no usable root is there at all: every TLS check then fails with this reason.
    verifier: Result<Arc<WebPkiServerVerifier>, String>,
    /// How many roots were loaded, and from where (for the report).
    pub description: String,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

impl Trust {
    /// The OS trust store (honouring SSL_CERT_FILE / SSL_CERT_DIR) plus extra PEM files.
    pub fn system_plus(ca_files: &[std::path::PathBuf]) -> Result<Trust, String> {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        let (added, _ignored) = roots.add_parsable_certificates(native.certs);
        let mut description = format!("{added} roots from the system store");
        for path in ca_files {
            let certs = read_pem_certs(path)?;
            let n = certs.len();
            let (ok, bad) = roots.add_parsable_certificates(certs);
            if ok == 0 {
                return Err(format!(
                    "--ca-file {}: none of its {n} certificates can be used as a trust anchor ({bad} rejected)",
                    path.display()
                ));
            }
            description.push_str(&format!(" + {ok} from {}", path.display()));
        }
        Self::from_roots(roots, description)
    }

    pub fn from_roots(roots: RootCertStore, description: String) -> Result<Trust, String> {
        let verifier = match WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            provider(),
        )
        .build()
        {
            Ok(v) => Some(v),
            Err(rustls::client::VerifierBuilderError::NoRootAnchors) => None,
            Err(other) => return Err(format!("cannot build the certificate verifier: {other}")),
        };
        Ok(Self::from_verifier(verifier, description))
    }

    /// A trust decision from an already built verifier (`None`: no roots at all, so every TLS
    /// check fails saying so).
    pub fn from_verifier(
        verifier: Option<Arc<WebPkiServerVerifier>>,
        description: String,
    ) -> Trust {
        Trust {
            provider: provider(),
            verifier: verifier.ok_or_else(|| {
                "no trusted root certificates on this machine: the system store is empty (check SSL_CERT_FILE / SSL_CERT_DIR, or install ca-certificates) and no --ca-file was given, so no TLS connection can be verified".to_string()
            }),
            description,
        }
    }
}

/// Every certificate in a PEM file; an error names the file.
pub fn read_pem_certs(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let data = std::fs::read(path).map_err(|e| format!("--ca-file {}: {e}", path.display()))?;
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&data).collect();
    let certs = certs.map_err(|e| {
        format!(
            "--ca-file {}: not a PEM certificate file: {e}",
            path.display()
        )
    })?;
    if certs.is_empty() {
        return Err(format!(
            "--ca-file {}: no `-----BEGIN CERTIFICATE-----` block found",
            path.display()
        ));
    }
    Ok(certs)
}

/// Wraps the real verifier and keeps the chain the server presented, so a failed handshake can
/// still say who presented what. It never changes the verdict of the real verifier.
#[derive(Debug)]
struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Mutex<Vec<CertificateDer<'static>>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.clear();
            seen.push(end_entity.clone().into_owned());
            seen.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

pub struct TlsOutcome {
    /// The chain the server presented (leaf first), verified or not; empty when none came.
    pub presented: Vec<CertificateDer<'static>>,
    pub stream: Option<TlsStream<TcpStream>>,
    pub info: TlsInfo,
    /// `None` on success; plain words otherwise.
    pub error: Option<String>,
}

/// Handshake over `tcp` with SNI `host`, bounded by `timeout`.
pub async fn handshake(trust: &Trust, host: &str, tcp: TcpStream, timeout: Duration) -> TlsOutcome {
    let inner = match &trust.verifier {
        Ok(v) => v.clone(),
        Err(why) => {
            return TlsOutcome {
                stream: None,
                info: empty_info(),
                error: Some(why.clone()),
                presented: Vec::new(),
            }
        }
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = Arc::new(Recorder {
        inner,
        seen: seen.clone(),
    });
    let mut config = match rustls::ClientConfig::builder_with_provider(trust.provider.clone())
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b
            .dangerous() // only to install the recording wrapper; verification is the real verifier's
            .with_custom_certificate_verifier(recorder)
            .with_no_client_auth(),
        Err(e) => {
            return TlsOutcome {
                presented: Vec::new(),
                stream: None,
                info: empty_info(),
                error: Some(format!("TLS configuration error: {e}")),
            }
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = match ServerName::try_from(host.to_string()) {
        Ok(n) => n,
        Err(e) => {
            return TlsOutcome {
                presented: Vec::new(),
                stream: None,
                info: empty_info(),
                error: Some(format!("`{host}` cannot be used as a TLS server name: {e}")),
            }
        }
    };
    let connector = TlsConnector::from(Arc::new(config));
    let result = tokio::time::timeout(timeout, connector.connect(name, tcp)).await;
    let presented = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let mut info = describe_chain(&presented);
    match result {
        Err(_) => {
            let what = if presented.is_empty() {
                "the server accepted the connection but sent no TLS handshake (not a TLS server, or a middlebox holding the connection)"
            } else {
                "the handshake did not finish"
            };
            TlsOutcome {
                presented: presented.clone(),
                stream: None,
                info,
                error: Some(format!(
                    "TLS handshake timed out after {}: {what}",
                    super::dns::fmt_duration(timeout)
                )),
            }
        }
        Ok(Err(e)) => {
            let error = classify_io(&e, host, &info);
            TlsOutcome {
                presented: presented.clone(),
                stream: None,
                info,
                error: Some(error),
            }
        }
        Ok(Ok(stream)) => {
            let (_, conn) = stream.get_ref();
            info.verified = true;
            info.version = conn.protocol_version().map(|v| version_name(v).to_string());
            info.cipher = conn
                .negotiated_cipher_suite()
                .map(|c| format!("{:?}", c.suite()));
            info.alpn = conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned());
            TlsOutcome {
                presented: presented.clone(),
                stream: Some(stream),
                info,
                error: None,
            }
        }
    }
}

/// "TLS 1.3 TLS13_AES_128_GCM_SHA256, issued by CN=…" for a handshake that succeeded.
pub fn success_detail(info: &TlsInfo) -> String {
    format!(
        "{} {}, issued by {}",
        info.version.clone().unwrap_or_default(),
        info.cipher.clone().unwrap_or_default(),
        info.leaf
            .as_ref()
            .map(|l| l.issuer.clone())
            .unwrap_or_default()
    )
}

fn version_name(v: rustls::ProtocolVersion) -> &'static str {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2",
        rustls::ProtocolVersion::TLSv1_1 => "TLS 1.1",
        rustls::ProtocolVersion::TLSv1_0 => "TLS 1.0",
        _ => "TLS (other)",
    }
}

fn empty_info() -> TlsInfo {
    TlsInfo {
        verified: false,
        version: None,
        cipher: None,
        alpn: None,
        leaf: None,
        chain_issuers: Vec::new(),
        stores: None,
    }
}

/// Summaries of the presented chain (leaf first).
pub fn describe_chain(chain: &[CertificateDer<'_>]) -> TlsInfo {
    let mut info = empty_info();
    for (i, der) in chain.iter().enumerate() {
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
            info.chain_issuers
                .push("(unparsable certificate)".to_string());
            continue;
        };
        let issuer = cert.issuer().to_string();
        info.chain_issuers.push(issuer.clone());
        if i == 0 {
            let mut sans = Vec::new();
            if let Ok(Some(ext)) = cert.subject_alternative_name() {
                for gn in &ext.value.general_names {
                    match gn {
                        x509_parser::extensions::GeneralName::DNSName(d) => {
                            sans.push(d.to_string())
                        }
                        x509_parser::extensions::GeneralName::IPAddress(ip) => {
                            sans.push(format!("IP {ip:?}"))
                        }
                        _ => {}
                    }
                }
            }
            let subject = cert.subject().to_string();
            info.leaf = Some(CertSummary {
                self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
                subject,
                issuer,
                sans,
                not_before: asn1_time(cert.validity().not_before),
                not_after: asn1_time(cert.validity().not_after),
            });
        }
    }
    info
}

fn asn1_time(t: x509_parser::time::ASN1Time) -> String {
    t.to_datetime()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

fn unix_to_rfc3339(t: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(t.as_secs() as i64)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{} s after 1970", t.as_secs()))
}

fn short_issuer(info: &TlsInfo) -> String {
    info.leaf
        .as_ref()
        .map(|l| l.issuer.clone())
        .or_else(|| info.chain_issuers.first().cloned())
        .unwrap_or_else(|| "an unknown issuer".to_string())
}

fn classify_io(e: &std::io::Error, host: &str, info: &TlsInfo) -> String {
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsError>());
    match tls {
        Some(t) => classify_tls(t, host, info),
        None => match e.kind() {
            std::io::ErrorKind::UnexpectedEof => "the server closed the connection during the TLS handshake (a firewall or proxy cutting TLS to this name?)".to_string(),
            std::io::ErrorKind::ConnectionReset => "the connection was reset during the TLS handshake (a firewall or proxy cutting TLS to this name?)".to_string(),
            _ => format!("TLS handshake failed: {e}"),
        },
    }
}

/// rustls errors in words, naming who presented the certificate.
pub fn classify_tls(e: &TlsError, host: &str, info: &TlsInfo) -> String {
    let leaf_subject = info
        .leaf
        .as_ref()
        .map(|l| l.subject.clone())
        .unwrap_or_else(|| "(none)".to_string());
    match e {
        TlsError::InvalidCertificate(ce) => match ce {
            CertificateError::UnknownIssuer => {
                if info.leaf.as_ref().is_some_and(|l| l.self_signed) && info.chain_issuers.len() == 1 {
                    format!("certificate for {host} is self-signed ({leaf_subject}) and not trusted")
                } else {
                    format!(
                        "certificate for {host} is issued by \"{}\", which is not trusted here (a TLS-inspecting proxy? add its CA with --ca-file)",
                        chain_top_issuer(info)
                    )
                }
            }
            CertificateError::Expired => format!("certificate for {host} has expired ({leaf_subject})"),
            CertificateError::ExpiredContext { time, not_after } => format!(
                "certificate for {host} expired at {} (now {}), issued by \"{}\"",
                unix_to_rfc3339(*not_after),
                unix_to_rfc3339(*time),
                short_issuer(info)
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => format!(
                "certificate for {host} is not valid yet (check this machine's clock), issued by \"{}\"",
                short_issuer(info)
            ),
            CertificateError::NotValidForName => format!(
                "certificate presented for {host} is for other names: {}",
                info.leaf.as_ref().map(|l| l.sans.join(", ")).unwrap_or_default()
            ),
            CertificateError::NotValidForNameContext { presented, .. } => format!(
                "certificate presented for {host} is for other names: {} (issued by \"{}\")",
                match info.leaf.as_ref().filter(|l| !l.sans.is_empty()) {
                    Some(l) => l.sans.join(", "),
                    None => presented.join(", "),
                },
                short_issuer(info)
            ),
            CertificateError::Revoked => format!("certificate for {host} is revoked"),
            other => format!("certificate for {host} rejected: {other:?}"),
        },
        TlsError::AlertReceived(alert) => format!(
            "the server refused the TLS handshake with alert `{}`{}",
            format!("{alert:?}").to_lowercase(),
            match alert {
                rustls::AlertDescription::ProtocolVersion => " (it offers only TLS versions older than 1.2?)",
                rustls::AlertDescription::HandshakeFailure => " (no common cipher or version, or a filter blocking this name)",
                _ => "",
            }
        ),
        TlsError::PeerIncompatible(p) => format!("no common TLS version or cipher with the server: {p:?}"),
        TlsError::InvalidMessage(_) | TlsError::InappropriateHandshakeMessage { .. } | TlsError::InappropriateMessage { .. } => {
            "the server did not speak TLS (something else answered on this port)".to_string()
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

fn chain_top_issuer(info: &TlsInfo) -> String {
    info.chain_issuers
        .last()
        .cloned()
        .unwrap_or_else(|| "an unknown issuer".to_string())
}
