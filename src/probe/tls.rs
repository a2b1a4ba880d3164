//! TLS: a real handshake with SNI, verified against the trust store, recording what the server
//! presented whether or not it verifies, and turning rustls errors into plain words.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, SignatureScheme};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::outcome::{CertSummary, TlsInfo};
use crate::env::trust::{AnchorVerifier, Trust};
use crate::model::OsError;

/// Why a TLS handshake failed (the words are in `render::words`). Certificate problems carry
/// what was presented so the words can name who presented it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TlsFailure {
    /// The runner's store holds no usable root at all.
    #[error("no trusted root certificates")]
    NoRoots,
    /// Our TLS configuration was refused (the crypto provider offers no cipher suite for
    /// TLS 1.2 or 1.3): a build problem, not the network's.
    #[error("TLS configuration error")]
    Config {},
    #[error("not a usable TLS server name")]
    BadServerName,
    /// No handshake within the timeout; `presented` tells whether a certificate came at all.
    #[error("handshake timed out after {after:?}")]
    Timeout {
        #[serde(with = "crate::model::duration_ms")]
        after: Duration,
        presented: bool,
    },
    #[error("connection closed during the handshake")]
    Closed,
    #[error("connection reset during the handshake")]
    Reset,
    /// A socket error during the handshake.
    #[error("handshake I/O error: {error:?}")]
    Io {
        #[serde(default)]
        error: OsError,
    },
    /// A self-signed certificate that no trust store holds.
    #[error("self-signed certificate not trusted")]
    SelfSigned { subject: String },
    /// The chain leads to `issuer` (its top), which is not trusted.
    #[error("certificate issued by an untrusted issuer: {issuer}")]
    UnknownIssuer { issuer: String },
    #[error("certificate expired")]
    Expired {
        subject: String,
        /// RFC 3339, when rustls says.
        not_after: Option<String>,
        now: Option<String>,
        issuer: String,
    },
    #[error("certificate not valid yet")]
    NotYetValid { issuer: String },
    /// The certificate is for other names.
    #[error("certificate for other names")]
    WrongName { names: Vec<String>, issuer: String },
    #[error("certificate revoked")]
    Revoked,
    /// The certificate is malformed or uses something unsupported (webpki's reason).
    #[error("certificate rejected: {reason:?}")]
    BadCertificate { reason: CertReason },
    /// The server sent a TLS alert.
    #[error("alert {alert}")]
    Alert { alert: String, hint: AlertHint },
    /// No common protocol version or cipher.
    #[error("incompatible: {what:?}")]
    Incompatible {
        #[serde(default)]
        what: Incompatibility,
    },
    /// Something other than TLS answered.
    #[error("not TLS")]
    NotTls,
    /// A handshake message from the server (in practice its certificate message: the chain)
    /// over the 64 KB rustls accepts.
    #[error("handshake message over 64 KB")]
    TooLarge,
    /// The server broke the protocol (rustls's `PeerMisbehaved`: e.g. a stream of warning
    /// alerts).
    #[error("peer misbehaved")]
    Misbehaved {},
    #[error("handshake failed: {what:?}")]
    Other {
        #[serde(default)]
        what: TlsOther,
    },
    /// The handshake stalled (no certificate flight within the timeout) where a connection to
    /// the same address announcing a smaller MSS completed: full-size segments do not arrive.
    #[error("handshake stalled at MSS {stalled_at_mss:?}, completed at MSS {works_at_mss}")]
    PathMtuBlackHole {
        addr: std::net::SocketAddr,
        works_at_mss: u32,
        stalled_at_mss: Option<u32>,
        #[serde(with = "crate::model::duration_ms")]
        after: Duration,
    },
}

/// What the server and we have no common ground on (rustls's `PeerIncompatible`, the cases a
/// server on the path meets; the rest are `Other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Incompatibility {
    NoCipherSuitesInCommon,
    NoKxGroupsInCommon,
    NoSignatureSchemesInCommon,
    /// The server speaks neither TLS 1.2 nor TLS 1.3 (the runner's .NET needs one of them).
    NoTls12Or13,
    /// The server requires something the handshake did not offer (an extension, a
    /// compression or point format).
    RequiredExtension,
    #[default]
    #[serde(other)]
    Other,
}

/// A handshake failure rustls names that is none of the above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TlsOther {
    /// A record failed to decrypt (corrupted on the path, or a broken server).
    DecryptError,
    /// The server sent a record over TLS's size limit.
    OversizedRecord,
    /// The server accepts none of the offered application protocols (ALPN).
    NoApplicationProtocol,
    /// The server presented no certificate.
    NoCertificates,
    /// No connection was handed to the handshake.
    NoConnection,
    /// Something else inside the TLS library.
    #[default]
    #[serde(other)]
    Library,
}

impl TlsFailure {
    /// A rejection of the server's certificate (or of every root: none trusted): what a client
    /// that accepts any certificate would not notice. The handshake itself completed up to
    /// the verification.
    pub fn is_certificate(&self) -> bool {
        matches!(
            self,
            TlsFailure::NoRoots
                | TlsFailure::SelfSigned { .. }
                | TlsFailure::UnknownIssuer { .. }
                | TlsFailure::Expired { .. }
                | TlsFailure::NotYetValid { .. }
                | TlsFailure::WrongName { .. }
                | TlsFailure::Revoked
                | TlsFailure::BadCertificate { .. }
        )
    }
}

/// What a TLS alert most likely means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertHint {
    /// `protocol_version`: the server only offers old TLS versions.
    OldVersionsOnly,
    /// `handshake_failure`: no common cipher/version, or a filter blocking the name.
    NoCommonParameters,
    None,
}

/// Why webpki rejected a certificate other than trust, time and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertReason {
    /// The certificate cannot be parsed.
    BadEncoding,
    /// A signature on the chain is wrong.
    BadSignature,
    /// A signature algorithm this stack does not support.
    UnsupportedSignature,
    /// A CA certificate presented as the server's own (and not itself trusted).
    CaUsedAsEndEntity,
    /// An end-entity certificate used as a CA in the chain.
    EndEntityUsedAsCa,
    /// The certificate is not for server authentication (extended key usage).
    WrongPurpose,
    /// A name constraint of an issuer forbids this name.
    NameConstraint,
    /// The chain is longer than the verifier allows.
    ChainTooLong,
    /// Any other webpki reason.
    Other,
}

/// Wraps the real verifier and keeps the chain the server presented, so a failed handshake can
/// still say who presented what. It never changes the verdict of the real verifier.
#[derive(Debug)]
struct Recorder {
    inner: Arc<AnchorVerifier>,
    seen: Arc<Mutex<Vec<CertificateDer<'static>>>>,
    /// The real verifier's verdict on the chain in `seen`.
    verdict: Arc<Mutex<Option<Result<(), TlsError>>>>,
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
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        if let Ok(mut v) = self.verdict.lock() {
            *v = Some(verdict.as_ref().map(|_| ()).map_err(Clone::clone));
        }
        verdict
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
    pub failure: Option<TlsFailure>,
    /// The verifier that checked `presented` during the handshake, and its verdict (the
    /// runner store's verdict needs no second check).
    pub checked: Option<(Arc<AnchorVerifier>, Result<(), TlsError>)>,
}

fn failed(failure: TlsFailure) -> TlsOutcome {
    TlsOutcome {
        presented: Vec::new(),
        stream: None,
        info: TlsInfo::empty(),
        failure: Some(failure),
        checked: None,
    }
}

/// Handshake over `tcp` with SNI `host`, bounded by `timeout`.
pub async fn handshake(trust: &Trust, host: &str, tcp: TcpStream, timeout: Duration) -> TlsOutcome {
    let Some(inner) = trust.verifier.clone() else {
        return failed(TlsFailure::NoRoots);
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let verdict = Arc::new(Mutex::new(None));
    let recorder = Arc::new(Recorder {
        inner: inner.clone(),
        seen: seen.clone(),
        verdict: verdict.clone(),
    });
    let mut config = match rustls::ClientConfig::builder_with_provider(trust.provider.clone())
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b
            .dangerous() // only to install the recording wrapper; verification is the real verifier's
            .with_custom_certificate_verifier(recorder)
            .with_no_client_auth(),
        Err(_) => return failed(TlsFailure::Config {}),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Every probe makes a full handshake, as a runner's first connection does, and this
    // configuration serves one handshake: the default session cache (256 slots, about 14 KB)
    // would only cost memory, once per probe in flight.
    config.resumption = rustls::client::Resumption::disabled();
    let Ok(name) = ServerName::try_from(host.to_string()) else {
        return failed(TlsFailure::BadServerName);
    };
    let connector = TlsConnector::from(Arc::new(config));
    let result = tokio::time::timeout(timeout, connector.connect(name, tcp)).await;
    let presented = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let checked = verdict
        .lock()
        .ok()
        .and_then(|mut v| v.take())
        .map(|v| (inner, v));
    let mut info = describe_chain(&presented);
    match result {
        Err(_) => TlsOutcome {
            failure: Some(TlsFailure::Timeout {
                after: timeout,
                presented: !presented.is_empty(),
            }),
            presented,
            stream: None,
            info,
            checked,
        },
        Ok(Err(e)) => TlsOutcome {
            failure: Some(classify_io(&e, &info)),
            presented,
            stream: None,
            info,
            checked,
        },
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
                presented,
                stream: Some(stream),
                info,
                failure: None,
                checked,
            }
        }
    }
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

/// Summaries of the presented chain (leaf first).
pub fn describe_chain(chain: &[CertificateDer<'_>]) -> TlsInfo {
    let mut info = TlsInfo::empty();
    for (i, der) in chain.iter().enumerate() {
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
            info.chain_issuers
                .push("(unparsable certificate)".to_string());
            continue;
        };
        let issuer = crate::model::text::clipped(&cert.issuer().to_string());
        info.chain_issuers.push(issuer.clone());
        if i == 0 {
            let mut sans = Vec::new();
            if let Ok(Some(ext)) = cert.subject_alternative_name() {
                for gn in &ext.value.general_names {
                    match gn {
                        x509_parser::extensions::GeneralName::DNSName(d) => {
                            sans.push(crate::model::text::clipped(d))
                        }
                        x509_parser::extensions::GeneralName::IPAddress(ip) => {
                            sans.push(match *ip {
                                [a, b, c, d] => {
                                    format!("IP {}", std::net::Ipv4Addr::new(*a, *b, *c, *d))
                                }
                                bytes => match <[u8; 16]>::try_from(bytes) {
                                    Ok(v6) => format!("IP {}", std::net::Ipv6Addr::from(v6)),
                                    Err(_) => "IP (malformed)".to_string(),
                                },
                            })
                        }
                        _ => {}
                    }
                }
            }
            let subject = crate::model::text::clipped(&cert.subject().to_string());
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

fn chain_top_issuer(info: &TlsInfo) -> String {
    info.chain_issuers
        .last()
        .cloned()
        .unwrap_or_else(|| "an unknown issuer".to_string())
}

fn classify_io(e: &std::io::Error, info: &TlsInfo) -> TlsFailure {
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsError>());
    match tls {
        Some(t) => classify_tls(t, info),
        None => match e.kind() {
            std::io::ErrorKind::UnexpectedEof => TlsFailure::Closed,
            std::io::ErrorKind::ConnectionReset => TlsFailure::Reset,
            _ => TlsFailure::Io {
                error: OsError::from(e),
            },
        },
    }
}

/// A rustls error as a typed failure, with what was presented.
pub fn classify_tls(e: &TlsError, info: &TlsInfo) -> TlsFailure {
    let subject = info
        .leaf
        .as_ref()
        .map(|l| l.subject.clone())
        .unwrap_or_else(|| "(none)".to_string());
    let bad = |reason| TlsFailure::BadCertificate { reason };
    match e {
        TlsError::InvalidCertificate(ce) => match ce {
            CertificateError::UnknownIssuer => {
                if info.leaf.as_ref().is_some_and(|l| l.self_signed)
                    && info.chain_issuers.len() == 1
                {
                    TlsFailure::SelfSigned { subject }
                } else {
                    TlsFailure::UnknownIssuer {
                        issuer: chain_top_issuer(info),
                    }
                }
            }
            // A self-signed CA certificate that no store holds (a trusted one is accepted
            // before this): for the operator it is the same as any untrusted self-signed one.
            CertificateError::Other(o)
                if info.leaf.as_ref().is_some_and(|l| l.self_signed)
                    && is_ca_used_as_end_entity(o) =>
            {
                TlsFailure::SelfSigned { subject }
            }
            CertificateError::Expired => TlsFailure::Expired {
                subject,
                not_after: None,
                now: None,
                issuer: short_issuer(info),
            },
            CertificateError::ExpiredContext { time, not_after } => TlsFailure::Expired {
                subject,
                not_after: Some(unix_to_rfc3339(*not_after)),
                now: Some(unix_to_rfc3339(*time)),
                issuer: short_issuer(info),
            },
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                TlsFailure::NotYetValid {
                    issuer: short_issuer(info),
                }
            }
            CertificateError::NotValidForName => TlsFailure::WrongName {
                names: info
                    .leaf
                    .as_ref()
                    .map(|l| l.sans.clone())
                    .unwrap_or_default(),
                issuer: short_issuer(info),
            },
            CertificateError::NotValidForNameContext { presented, .. } => TlsFailure::WrongName {
                names: match info.leaf.as_ref().filter(|l| !l.sans.is_empty()) {
                    Some(l) => l.sans.clone(),
                    None => presented.clone(),
                },
                issuer: short_issuer(info),
            },
            CertificateError::Revoked => TlsFailure::Revoked,
            CertificateError::BadEncoding => bad(CertReason::BadEncoding),
            CertificateError::BadSignature => bad(CertReason::BadSignature),
            CertificateError::UnsupportedSignatureAlgorithmContext { .. }
            | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                bad(CertReason::UnsupportedSignature)
            }
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                bad(CertReason::WrongPurpose)
            }
            CertificateError::Other(o) => bad(other_reason(o)),
            _ => bad(CertReason::Other),
        },
        TlsError::AlertReceived(alert) => TlsFailure::Alert {
            alert: format!("{alert:?}").to_lowercase(),
            hint: match alert {
                rustls::AlertDescription::ProtocolVersion => AlertHint::OldVersionsOnly,
                rustls::AlertDescription::HandshakeFailure => AlertHint::NoCommonParameters,
                _ => AlertHint::None,
            },
        },
        TlsError::PeerIncompatible(p) => TlsFailure::Incompatible {
            what: incompatibility(p),
        },
        // Issue 22 row 14: a chain too large to read is not "something else answered".
        TlsError::InvalidMessage(
            rustls::InvalidMessage::CertificatePayloadTooLarge
            | rustls::InvalidMessage::HandshakePayloadTooLarge,
        ) => TlsFailure::TooLarge,
        TlsError::PeerMisbehaved(_) => TlsFailure::Misbehaved {},
        TlsError::InvalidMessage(_)
        | TlsError::InappropriateHandshakeMessage { .. }
        | TlsError::InappropriateMessage { .. } => TlsFailure::NotTls,
        TlsError::DecryptError => TlsFailure::Other {
            what: TlsOther::DecryptError,
        },
        TlsError::PeerSentOversizedRecord => TlsFailure::Other {
            what: TlsOther::OversizedRecord,
        },
        TlsError::NoApplicationProtocol => TlsFailure::Other {
            what: TlsOther::NoApplicationProtocol,
        },
        TlsError::NoCertificatesPresented => TlsFailure::Other {
            what: TlsOther::NoCertificates,
        },
        _ => TlsFailure::Other {
            what: TlsOther::Library,
        },
    }
}

fn incompatibility(p: &rustls::PeerIncompatible) -> Incompatibility {
    use rustls::PeerIncompatible as P;
    match p {
        P::NoCipherSuitesInCommon => Incompatibility::NoCipherSuitesInCommon,
        P::NoKxGroupsInCommon => Incompatibility::NoKxGroupsInCommon,
        P::NoSignatureSchemesInCommon | P::NoCertificateRequestSignatureSchemesInCommon => {
            Incompatibility::NoSignatureSchemesInCommon
        }
        P::ServerDoesNotSupportTls12Or13
        | P::ServerTlsVersionIsDisabledByOurConfig
        | P::Tls12NotOffered
        | P::Tls12NotOfferedOrEnabled => Incompatibility::NoTls12Or13,
        P::EcPointsExtensionRequired
        | P::ExtendedMasterSecretExtensionRequired
        | P::KeyShareExtensionRequired
        | P::NamedGroupsExtensionRequired
        | P::NullCompressionRequired
        | P::SignatureAlgorithmsExtensionRequired
        | P::SupportedVersionsExtensionRequired
        | P::UncompressedEcPointsRequired => Incompatibility::RequiredExtension,
        _ => Incompatibility::Other,
    }
}

fn webpki_error(o: &rustls::OtherError) -> Option<&webpki::Error> {
    let inner: &(dyn std::error::Error + 'static) = &*o.0;
    inner.downcast_ref::<webpki::Error>()
}

fn is_ca_used_as_end_entity(o: &rustls::OtherError) -> bool {
    matches!(webpki_error(o), Some(webpki::Error::CaUsedAsEndEntity))
}

/// webpki's reasons that rustls passes on as `Other`.
fn other_reason(o: &rustls::OtherError) -> CertReason {
    match webpki_error(o) {
        Some(webpki::Error::CaUsedAsEndEntity) => CertReason::CaUsedAsEndEntity,
        Some(webpki::Error::EndEntityUsedAsCa) => CertReason::EndEntityUsedAsCa,
        Some(webpki::Error::NameConstraintViolation)
        | Some(webpki::Error::InvalidNetworkMaskConstraint) => CertReason::NameConstraint,
        Some(webpki::Error::MaximumPathDepthExceeded)
        | Some(webpki::Error::MaximumPathBuildCallsExceeded)
        | Some(webpki::Error::MaximumSignatureChecksExceeded) => CertReason::ChainTooLong,
        Some(webpki::Error::BadDer) | Some(webpki::Error::BadDerTime) => CertReason::BadEncoding,
        _ => CertReason::Other,
    }
}
