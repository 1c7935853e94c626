//! TLS trust: the webpki roots plus an optional extra CA (`--ca-cert`, for TLS-inspecting
//! proxies), and the mapping of rustls verification errors to codes.

use super::NetError;
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, ClientConfig, RootCertStore};
use std::path::Path;
use std::sync::Arc;

/// Reads every certificate of a PEM file. An unreadable file, or one without a certificate,
/// is an error naming the file (diagnose turns it into exit 2).
pub fn load_ca_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let data = std::fs::read(path)
        .map_err(|e| format!("cannot read the CA certificate {}: {e}", path.display()))?;
    let mut certs = Vec::new();
    for item in rustls_pemfile::certs(&mut data.as_slice()) {
        match item {
            Ok(c) => certs.push(c),
            Err(e) => {
                return Err(format!(
                    "{} is not a valid PEM certificate file: {e}",
                    path.display()
                ))
            }
        }
    }
    if certs.is_empty() {
        return Err(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certs)
}

/// A client config trusting the webpki roots and `extra`. `alpn` lists the protocols to offer.
pub fn client_config(
    extra: &[CertificateDer<'static>],
    alpn: &[&[u8]],
) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra {
        roots
            .add(cert.clone())
            .map_err(|e| format!("the extra CA certificate cannot be used as a trust root: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// Maps a rustls error to LC204 (untrusted), LC205 (expired / not yet valid), LC206 (wrong
/// host name) or LC208 (any other handshake failure).
pub fn map_rustls(err: &rustls::Error, host: &str) -> NetError {
    use CertificateError as C;
    match err {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer | C::BadSignature => NetError::new(
                "LC204",
                format!("the certificate of {host} is not trusted: self-signed or issued by an unknown authority ({err})"),
            ),
            C::Expired | C::ExpiredContext { .. } => {
                NetError::new("LC205", format!("the certificate of {host} has expired ({err})"))
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                NetError::new("LC205", format!("the certificate of {host} is not valid yet ({err})"))
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                NetError::new("LC206", format!("the certificate is not valid for the host name {host} ({err})"))
            }
            _ => NetError::new("LC208", format!("TLS handshake with {host} failed: {err}")),
        },
        _ => NetError::new("LC208", format!("TLS handshake with {host} failed: {err}")),
    }
}

/// Days until the leaf certificate expires (negative when already expired), and its subject.
pub fn leaf_expiry(cert: &CertificateDer<'_>) -> Option<(i64, String)> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let not_after = parsed.validity().not_after.timestamp();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    Some((
        (not_after - now).div_euclid(86_400),
        parsed.subject().to_string(),
    ))
}
