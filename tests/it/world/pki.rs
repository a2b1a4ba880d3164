//! A throw-away PKI: a self-signed CA issuing leaves (valid, expired) and self-signed leaves,
//! each with its PEM and DER forms, for the TLS test servers and the CLI's `--ca-file`.

use std::path::{Path, PathBuf};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;

/// Organisation put in the subject of every certificate made here.
pub const TEST_ORG: &str = "runner-preflight test";

/// A certificate chain (leaf first, no root) and its private key.
pub struct CertKey {
    pub cert_chain_pem: String,
    pub key_pem: String,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub not_before: OffsetDateTime,
    /// Exactly the notAfter encoded in the leaf (whole seconds, UTC).
    pub not_after: OffsetDateTime,
}

impl Clone for CertKey {
    fn clone(&self) -> Self {
        Self {
            cert_chain_pem: self.cert_chain_pem.clone(),
            key_pem: self.key_pem.clone(),
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            not_before: self.not_before,
            not_after: self.not_after,
        }
    }
}

impl std::fmt::Debug for CertKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertKey")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// A throw-away certificate authority.
pub struct Pki {
    /// The CA certificate (PEM).
    pub ca_pem: String,
    /// The CA certificate (DER), e.g. for a `RootCertStore`.
    pub ca_der: CertificateDer<'static>,
    pub ca_common_name: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

fn now_whole_seconds() -> OffsetDateTime {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero nanoseconds is valid")
}

fn leaf_params(
    names: &[&str],
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> rcgen::CertificateParams {
    assert!(!names.is_empty(), "a certificate needs at least one name");
    let sans: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(sans).expect("valid SANs");
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, names[0]);
    dn.push(rcgen::DnType::OrganizationName, TEST_ORG);
    params.distinguished_name = dn;
    params.not_before = not_before;
    params.not_after = not_after;
    params.is_ca = rcgen::IsCa::NoCa;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params
}

fn cert_key(
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertKey {
    CertKey {
        cert_chain_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        not_before,
        not_after,
    }
}

impl Pki {
    /// A self-signed CA with subject `CN=<ca_common_name>, O=runner-preflight test`.
    pub fn new(ca_common_name: &str) -> Pki {
        let now = now_whole_seconds();
        let mut params = rcgen::CertificateParams::default();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, ca_common_name);
        dn.push(rcgen::DnType::OrganizationName, TEST_ORG);
        params.distinguished_name = dn;
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(365);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate().expect("generate CA key");
        let cert = params.self_signed(&key).expect("self-sign CA");
        Pki {
            ca_pem: cert.pem(),
            ca_der: cert.der().clone(),
            ca_common_name: ca_common_name.to_string(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    fn issue(
        &self,
        names: &[&str],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> CertKey {
        let params = leaf_params(names, not_before, not_after);
        let key = rcgen::KeyPair::generate().expect("generate leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign leaf");
        cert_key(cert, key, not_before, not_after)
    }

    /// A leaf for `names` (SANs; CN = `names[0]`), valid from now-1d to now+30d.
    pub fn leaf(&self, names: &[&str]) -> CertKey {
        let now = now_whole_seconds();
        self.issue(
            names,
            now - time::Duration::days(1),
            now + time::Duration::days(30),
        )
    }

    /// A leaf valid from now-60d to now-30d (i.e. expired).
    pub fn leaf_expired(&self, names: &[&str]) -> CertKey {
        let now = now_whole_seconds();
        self.issue(
            names,
            now - time::Duration::days(60),
            now - time::Duration::days(30),
        )
    }

    /// A self-signed leaf (issuer == subject), valid from now-1d to now+30d.
    pub fn self_signed(names: &[&str]) -> CertKey {
        let now = now_whole_seconds();
        let (nb, na) = (
            now - time::Duration::days(1),
            now + time::Duration::days(30),
        );
        let params = leaf_params(names, nb, na);
        let key = rcgen::KeyPair::generate().expect("generate key");
        let cert = params.self_signed(&key).expect("self-sign leaf");
        cert_key(cert, key, nb, na)
    }
}

/// Writes `pem` to `dir/file` and returns the path.
pub fn write_pem(dir: &Path, file: &str, pem: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(&path, pem).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

impl Pki {
    /// A leaf for `names` issued by this CA, its parameters changed by `edit` (EKU, CA flag,
    /// validity) for the TLS failure cases.
    pub fn leaf_with(
        &self,
        names: &[&str],
        edit: impl FnOnce(&mut rcgen::CertificateParams),
    ) -> CertKey {
        let now = now_whole_seconds();
        let mut params = leaf_params(
            names,
            now - time::Duration::days(1),
            now + time::Duration::days(30),
        );
        edit(&mut params);
        let (nb, na) = (params.not_before, params.not_after);
        let key = rcgen::KeyPair::generate().expect("generate leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign leaf");
        cert_key(cert, key, nb, na)
    }
}

/// A self-signed certificate as `openssl req -x509 -subj /CN=NAME -addext subjectAltName=…`
/// makes it: `basicConstraints CA:TRUE`, the names as SANs, no key usage or EKU. `days` is
/// (not_before, not_after) relative to now.
pub fn openssl_self_signed(names: &[&str], days: (i64, i64)) -> CertKey {
    let now = now_whole_seconds();
    let (nb, na) = (
        now + time::Duration::days(days.0),
        now + time::Duration::days(days.1),
    );
    let sans: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(sans).expect("valid SANs");
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, names[0]);
    dn.push(rcgen::DnType::OrganizationName, TEST_ORG);
    params.distinguished_name = dn;
    params.not_before = nb;
    params.not_after = na;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().expect("generate key");
    let cert = params.self_signed(&key).expect("self-sign");
    cert_key(cert, key, nb, na)
}
