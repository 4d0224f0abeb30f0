//! Mutual TLS: the tenant named by a verified client certificate, and the
//! rustls verifier the TLS telephony listeners use (gRPC's comes from
//! tonic with the same CA bundle).
//!
//! Owns: reading the subject field `auth.mtls.tenant_from` names; checking
//! the chain is rustls' (webpki) against `auth.mtls.client_ca`.

use std::sync::Arc;

use super::config::{CertField, MtlsConfig, MAX_TENANT_LEN};

/// The tenant in a client certificate's subject.
///
/// # Errors
/// The certificate does not parse, or the field is missing, empty,
/// ambiguous or too long.
pub fn tenant_of(der: &[u8], field: CertField) -> Result<String, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("client certificate does not parse: {e}"))?;
    let subject = cert.subject();
    let values: Vec<&str> = match field {
        CertField::Cn => subject
            .iter_common_name()
            .filter_map(|a| a.as_str().ok())
            .collect(),
        CertField::O => subject
            .iter_organization()
            .filter_map(|a| a.as_str().ok())
            .collect(),
        CertField::Ou => subject
            .iter_organizational_unit()
            .filter_map(|a| a.as_str().ok())
            .collect(),
    };
    let name = match field {
        CertField::Cn => "CN",
        CertField::O => "O",
        CertField::Ou => "OU",
    };
    match values.as_slice() {
        [t] if !t.is_empty() && t.len() <= MAX_TENANT_LEN && *t != "*" => Ok((*t).to_string()),
        [] => Err(format!("client certificate has no subject {name} to name its tenant")),
        [_] => Err(format!(
            "client certificate's subject {name} is not a tenant name (1–{MAX_TENANT_LEN} bytes, not \"*\")"
        )),
        _ => Err(format!("client certificate has several subject {name}s")),
    }
}

/// The CA bundle as PEM bytes.
///
/// # Errors
/// The file cannot be read.
pub fn read_ca(m: &MtlsConfig) -> Result<Vec<u8>, String> {
    std::fs::read(&m.client_ca)
        .map_err(|e| format!("auth.mtls.client_ca {}: {e}", m.client_ca.display()))
}

/// A rustls client-certificate verifier for `m` (optional unless
/// `m.required`).
///
/// # Errors
/// The bundle holds no usable CA certificate.
pub fn verifier(
    m: &MtlsConfig,
) -> Result<Arc<dyn tokio_rustls::rustls::server::danger::ClientCertVerifier>, String> {
    use tokio_rustls::rustls::{self, pki_types::pem::PemObject};
    let pem = read_ca(m)?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("auth.mtls.client_ca: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("auth.mtls.client_ca: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "auth.mtls.client_ca {} holds no certificate",
            m.client_ca.display()
        ));
    }
    let builder = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(rustls::crypto::ring::default_provider()),
    );
    let builder = if m.required {
        builder
    } else {
        builder.allow_unauthenticated()
    };
    builder
        .build()
        .map_err(|e| format!("auth.mtls.client_ca: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(cn: Option<&str>, o: &str) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = rcgen::DistinguishedName::new();
        if let Some(cn) = cn {
            dn.push(rcgen::DnType::CommonName, cn);
        }
        dn.push(rcgen::DnType::OrganizationName, o);
        params.distinguished_name = dn;
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn the_tenant_comes_from_the_named_subject_field() {
        let der = cert(Some("acme"), "Acme Ltd");
        assert_eq!(tenant_of(&der, CertField::Cn).unwrap(), "acme");
        assert_eq!(tenant_of(&der, CertField::O).unwrap(), "Acme Ltd");
        let e = tenant_of(&der, CertField::Ou).unwrap_err();
        assert!(e.contains("no subject OU"), "{e}");
        let e = tenant_of(&cert(Some("*"), "x"), CertField::Cn).unwrap_err();
        assert!(e.contains("not a tenant name"), "{e}");
        assert!(tenant_of(b"not a certificate", CertField::Cn).is_err());
    }
}
