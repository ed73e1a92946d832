//! A store behind HTTPS with a certificate the platform does not trust: the shop's own CA (`ca_file`), or a
//! self-signed certificate pinned by fingerprint (`pinned_cert`). Each is trusted exactly, nothing else is,
//! and a refusal says what to do. The server here is a bare TLS listener answering an empty order list, so
//! the client's trust decisions are all that is tested (the real store's TLS front is covered by the
//! conformance run in CI).

use std::sync::Arc;

use crate::cli_support;

use syncdesk::config::{Config, Secret, WooAuth};
use syncdesk::integrations::woocommerce::client::trust::{self, format_fingerprint};
use syncdesk::integrations::woocommerce::orders as woo_orders;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A CA, a server certificate for 127.0.0.1 signed by it, and a self-signed certificate (CA:TRUE, as
/// `openssl req -x509` makes them, which webpki refuses as an end entity — so only pinning trusts it).
struct Certs {
    ca_pem: String,
    leaf: (Vec<u8>, String),
    self_signed: (Vec<u8>, String),
}

fn certs() -> Certs {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Shop internal CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let own_key = rcgen::KeyPair::generate().unwrap();
    let mut own = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    own.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let own = own.self_signed(&own_key).unwrap();
    Certs {
        ca_pem: ca_cert.pem(),
        leaf: (leaf.der().to_vec(), leaf_key.serialize_pem()),
        self_signed: (own.der().to_vec(), own_key.serialize_pem()),
    }
}

/// Serves HTTPS on loopback with `cert`: every request gets `200 []` (an empty, one-page order list).
async fn store(cert: &(Vec<u8>, String)) -> u16 {
    let key = rustls::pki_types::PrivateKeyDer::try_from(
        rustls::pki_types::pem::PemObject::pem_slice_iter(cert.1.as_bytes())
            .next()
            .unwrap()
            .map(|k: rustls::pki_types::PrivatePkcs8KeyDer| k.secret_pkcs8_der().to_vec())
            .unwrap(),
    )
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.0.clone().into()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 8192];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let body = "[]";
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-WP-Total: 0\r\nX-WP-TotalPages: 0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

fn config(port: u16) -> Config {
    let mut config = Config::default();
    config.woocommerce.enabled = true;
    config.woocommerce.url = format!("https://127.0.0.1:{port}");
    config.woocommerce.consumer_key = Secret::new("ck_tls");
    config.woocommerce.consumer_secret = Secret::new("cs_tls");
    config.woocommerce.auth = WooAuth::Basic;
    config.woocommerce.max_attempts = 1;
    config
}

async fn list(config: &Config) -> Result<usize, String> {
    let client = woo_orders::client(&config.woocommerce).map_err(|e| e.to_string())?;
    client
        .list_orders_modified_after(None)
        .await
        .map(|o| o.len())
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shops_own_ca_is_trusted_through_ca_file_and_only_then() {
    let certs = certs();
    let port = store(&certs.leaf).await;
    let plain = config(port);
    let refused = list(&plain).await.unwrap_err();
    assert!(
        refused.contains("certificate") || refused.contains("UnknownIssuer"),
        "{refused}"
    );

    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("shop-ca.pem");
    std::fs::write(&ca, &certs.ca_pem).unwrap();
    let mut trusted = plain.clone();
    trusted.woocommerce.ca_file = ca.display().to_string();
    assert_eq!(list(&trusted).await, Ok(0));

    // A file that is not a certificate is named, not ignored.
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    trusted.woocommerce.ca_file = junk.display().to_string();
    let error = list(&trusted).await.unwrap_err();
    assert!(error.contains("junk.pem"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_store_is_trusted_by_its_pinned_fingerprint_and_nothing_else_is() {
    let certs = certs();
    let port = store(&certs.self_signed).await;
    let plain = config(port);
    assert!(list(&plain).await.is_err(), "not trusted by default");

    // What `check` shows the operator: the fingerprint the store presents, without trusting it.
    let presented = trust::presented_fingerprint("127.0.0.1", port)
        .await
        .unwrap();
    assert_eq!(
        presented,
        format_fingerprint(&trust::fingerprint(&certs.self_signed.0))
    );
    let mut pinned = plain.clone();
    pinned.woocommerce.pinned_cert = presented;
    assert_eq!(list(&pinned).await, Ok(0));

    // Pinned to another certificate: refused, and the message says which one the store showed.
    let mut wrong = plain.clone();
    wrong.woocommerce.pinned_cert = format_fingerprint(&trust::fingerprint(&certs.leaf.0));
    let error = list(&wrong).await.unwrap_err();
    assert!(error.contains("not the pinned one"), "{error}");
}

#[test]
fn a_pin_that_is_not_a_fingerprint_is_refused_at_load_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "[woocommerce]\nenabled = true\nurl = \"https://shop.example\"\nconsumer_key = \"ck\"\nconsumer_secret = \"cs\"\npinned_cert = \"AB:CD\"\n",
    )
    .unwrap();
    let error = Config::load(&path, true).unwrap_err().to_string();
    assert!(error.contains("woocommerce.pinned_cert"), "{error}");
}

/// `syncdesk check` against a store it does not trust: it fails, and tells the operator the exact line to
/// add to trust that certificate (the fingerprint it saw, without trusting it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_the_certificate_to_pin() {
    let certs = certs();
    let port = store(&certs.self_signed).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[woocommerce]\nenabled = true\nurl = \"https://127.0.0.1:{port}\"\nconsumer_key = \"ck\"\nconsumer_secret = \"cs\"\nmax_attempts = 1\n"
        ),
    )
    .unwrap();
    let path = dir.path().to_path_buf();
    let (code, out, err) = tokio::task::spawn_blocking(move || cli_support::run(&path, &["check"]))
        .await
        .unwrap();
    assert_eq!(code, 1, "{out}{err}");
    let expected = format_fingerprint(&trust::fingerprint(&certs.self_signed.0));
    assert!(
        out.contains(&format!("woocommerce.pinned_cert = \"{expected}\"")),
        "{out}"
    );
}
