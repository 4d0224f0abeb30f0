//! TLS on the telephony listeners, from the same kind of PEM files as the
//! gRPC server's (`tls_cert`, `tls_key` in each `[ingress.*]` table).
//!
//! Owns: loading the certificate chain and key once at start-up (a bad file
//! fails start-up naming the key), and the connection type every session
//! reads: plain TCP or TLS over it.

use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::either::Either;

/// A telephony connection: plain TCP, or TLS when the listener has a certificate.
pub type Io = Either<TcpStream, TlsStream<TcpStream>>;

/// A TLS acceptor for `cert` (PEM chain) and `key` (PEM private key);
/// `what` names the listener in errors (e.g. `ingress.twilio`).
///
/// # Errors
/// A file cannot be read or holds no usable certificate or key.
pub fn acceptor(
    what: &str,
    cert: &Path,
    key: &Path,
    mtls: Option<&crate::auth::MtlsConfig>,
) -> Result<TlsAcceptor, String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| format!("{what}.tls_cert {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{what}.tls_cert {}: no PEM certificate in the file",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("{what}.tls_key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("{what}: TLS: {e}"))?;
    let builder = match mtls {
        Some(m) => builder.with_client_cert_verifier(crate::auth::cert::verifier(m)?),
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("{what}: the TLS certificate and key do not go together: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        let e = acceptor("ingress.fork", &c, &k, None).err().unwrap();
        assert!(e.starts_with("ingress.fork.tls_cert"), "{e}");
        std::fs::write(&c, "not pem").unwrap();
        let e = acceptor("ingress.fork", &c, &k, None).err().unwrap();
        assert!(e.contains("no PEM certificate"), "{e}");
    }
}
