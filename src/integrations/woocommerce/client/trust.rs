//! Which HTTPS certificates the store client trusts. Besides the platform's roots, a shop may run its own CA
//! (`ca_file`) or a self-signed certificate on staging (`pinned_cert`: exactly one certificate, by its SHA-256
//! fingerprint). There is deliberately no "accept anything" switch: a pin names what is trusted.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// What the client trusts beyond the platform's roots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreTrust {
    /// PEM file with the CA certificate(s) that signed the store's certificate.
    pub ca_file: Option<PathBuf>,
    /// The SHA-256 of the store's own certificate (DER): that certificate and no other is accepted.
    pub pinned_sha256: Option<[u8; 32]>,
}

/// Parses `sha256:AB:CD:…` (or 64 hex digits, colons optional) into a fingerprint.
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32], String> {
    let hex: String = text
        .trim()
        .trim_start_matches("sha256:")
        .trim_start_matches("SHA256:")
        .chars()
        .filter(|c| *c != ':')
        .collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "'{text}' is not a SHA-256 fingerprint (expected sha256: followed by 64 hex digits)"
        ));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// `sha256:AB:CD:…`, the form `check` prints and `pinned_cert` accepts.
pub fn format_fingerprint(digest: &[u8]) -> String {
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    format!("sha256:{}", hex.join(":"))
}

pub fn fingerprint(cert_der: &[u8]) -> [u8; 32] {
    Sha256::digest(cert_der).into()
}

/// Applies the trust settings to a client builder.
pub fn apply(
    builder: reqwest::ClientBuilder,
    trust: &StoreTrust,
) -> Result<reqwest::ClientBuilder, String> {
    if let Some(pin) = trust.pinned_sha256 {
        return Ok(builder.tls_backend_preconfigured(pinned_config(pin)));
    }
    match &trust.ca_file {
        Some(path) => Ok(builder.tls_certs_merge(read_ca_file(path)?)),
        None => Ok(builder),
    }
}

fn read_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path)
        .map_err(|e| format!("ca_file {}: cannot read it: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        format!(
            "ca_file {}: not a PEM certificate bundle: {e}",
            path.display()
        )
    })?;
    if certs.is_empty() {
        return Err(format!(
            "ca_file {}: holds no certificate (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certs)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn pinned_config(pin: [u8; 32]) -> rustls::ClientConfig {
    let provider = provider();
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| unreachable!("the default provider supports the default versions"))
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedCert { pin, provider }))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// Accepts exactly one certificate, by fingerprint; the handshake signature is still verified, so only
/// the holder of that certificate's private key can pass.
#[derive(Debug)]
struct PinnedCert {
    pin: [u8; 32],
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if fingerprint(end_entity) == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(PinMismatch(format_fingerprint(&fingerprint(
                    end_entity,
                ))))),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[derive(Debug)]
struct PinMismatch(String);

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the store's certificate {} is not the pinned one (woocommerce.pinned_cert)",
            self.0
        )
    }
}

impl std::error::Error for PinMismatch {}

/// A TLS failure as rustls words it, made readable: a pin mismatch names the certificate the store showed,
/// an untrusted certificate says which settings trust one.
pub fn explain(detail: &str) -> String {
    if let Some(start) = detail.find("PinMismatch(\"") {
        let rest = &detail[start + "PinMismatch(\"".len()..];
        let shown = rest.split('"').next().unwrap_or_default();
        return format!(
            "the store's certificate {shown} is not the pinned one (woocommerce.pinned_cert)"
        );
    }
    const PIN: &str = "exactly this certificate with woocommerce.pinned_cert (`syncdesk check` shows its fingerprint)";
    for (rustls_word, plain) in [
        ("UnknownIssuer", "not signed by a CA this machine trusts"),
        ("NotValidForName", "issued for another host name"),
        ("Expired", "expired"),
    ] {
        if detail.contains(rustls_word) {
            return format!(
                "{detail} — the store's certificate is {plain}: trust its CA with woocommerce.ca_file, or {PIN}"
            );
        }
    }
    if detail.contains("CaUsedAsEndEntity") || detail.contains("SelfSigned") {
        return format!("{detail} — the store's certificate is self-signed: trust {PIN}");
    }
    detail.to_string()
}

/// Connects to `host:port`, completes a TLS handshake WITHOUT trusting anything and without sending a
/// request, and returns the fingerprint of the certificate presented — so `check` can tell an operator
/// exactly what to pin when the certificate is not trusted.
pub async fn presented_fingerprint(host: &str, port: u16) -> Result<String, String> {
    #[derive(Debug)]
    struct Record(std::sync::Mutex<Option<[u8; 32]>>, PinnedCert);
    impl ServerCertVerifier for Record {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(fingerprint(end_entity));
            // Refuse: the handshake only had to show the certificate.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.1.verify_tls12_signature(m, c, d)
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.1.verify_tls13_signature(m, c, d)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.1.supported_verify_schemes()
        }
    }
    let provider = provider();
    let record = Arc::new(Record(
        std::sync::Mutex::new(None),
        PinnedCert {
            pin: [0; 32],
            provider: provider.clone(),
        },
    ));
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(record.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).map_err(|e| format!("{host}: {e}"))?;
    let tcp = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    .map_err(|_| format!("{host}:{port}: timed out"))?
    .map_err(|e| format!("{host}:{port}: {e}"))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        connector.connect(name, tcp),
    )
    .await;
    let seen = *record.0.lock().unwrap_or_else(|e| e.into_inner());
    seen.map(|d| format_fingerprint(&d))
        .ok_or_else(|| format!("{host}:{port}: no certificate was presented"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_round_trip_and_bad_ones_are_named() {
        let digest = fingerprint(b"certificate");
        let text = format_fingerprint(&digest);
        assert!(text.starts_with("sha256:"));
        assert_eq!(parse_fingerprint(&text).unwrap(), digest);
        assert_eq!(
            parse_fingerprint(&text.replace(':', "").replace("sha256", "")).unwrap(),
            digest
        );
        let err = parse_fingerprint("sha256:ABCD").unwrap_err();
        assert!(err.contains("64 hex digits"), "{err}");
    }
}
