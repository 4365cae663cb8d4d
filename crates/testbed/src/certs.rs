//! Throw-away X.509 material for a testbed server.
//!
//! rustls refuses a self-signed end-entity certificate, so we mint a tiny
//! private CA and a leaf (`CA:FALSE`) signed by it. Clients trust the CA PEM
//! (see [`super::Prosody::ca_file`]); Prosody serves the leaf.
//!
//! Both certificates are valid from yesterday for [`VALID_DAYS`] days, not
//! rcgen's default 1975–4096: ejabberd 23.01 arms an Erlang timer for the
//! leaf's expiry, and a timer beyond 2^32 ms (~49 days) is a `badarg` that
//! crashes its certificate store (then every STARTTLS is refused). The CA
//! has no name constraints (Erlang/OTP 25 rejects IP name constraints).

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

/// PEM-encoded CA certificate plus a leaf certificate and its private key.
#[derive(Clone)]
pub struct TestCerts {
    /// The CA certificate (the trust anchor clients should use).
    pub ca_pem: String,
    /// The server's leaf certificate, signed by the CA.
    pub leaf_pem: String,
    /// The leaf's private key, PKCS#8 PEM (LuaSec/OpenSSL read this fine).
    pub leaf_key_pem: String,
}

impl std::fmt::Debug for TestCerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCerts").finish_non_exhaustive()
    }
}

/// How long the certificates stay valid; below ejabberd's ~49-day limit.
pub const VALID_DAYS: i64 = 30;

/// Valid from yesterday until [`VALID_DAYS`] days from now.
fn set_validity(params: &mut CertificateParams) {
    use chrono::Datelike as _;
    let day = |d: chrono::DateTime<chrono::Utc>| {
        // Months and days of a calendar date always fit in a u8.
        rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8)
    };
    let now = chrono::Utc::now();
    params.not_before = day(now - chrono::Duration::days(1));
    params.not_after = day(now + chrono::Duration::days(VALID_DAYS));
}

/// Generate a fresh CA and a leaf for `dns_names` (the first name is also the
/// leaf's common name).
pub fn generate(dns_names: &[&str]) -> Result<TestCerts, rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    set_validity(&mut ca_params);
    let mut ca_dn = DistinguishedName::new();
    ca_dn.push(DnType::OrganizationName, "confab testbed");
    ca_dn.push(DnType::CommonName, "confab testbed CA");
    ca_params.distinguished_name = ca_dn;
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate()?;
    let names: Vec<String> = dns_names.iter().map(|s| s.to_string()).collect();
    let mut leaf_params = CertificateParams::new(names)?;
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    set_validity(&mut leaf_params);
    let mut leaf_dn = DistinguishedName::new();
    leaf_dn.push(DnType::OrganizationName, "confab testbed");
    if let Some(first) = dns_names.first() {
        leaf_dn.push(DnType::CommonName, *first);
    }
    leaf_params.distinguished_name = leaf_dn;
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf_params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer)?;

    Ok(TestCerts {
        ca_pem: ca_cert.pem(),
        leaf_pem: leaf_cert.pem(),
        leaf_key_pem: leaf_key.serialize_pem(),
    })
}
