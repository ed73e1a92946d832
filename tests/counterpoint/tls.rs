//! syncdesk's Counterpoint connection over TLS, against each kind of SQL Server the simulator plays: every
//! `[counterpoint.connection] encryption` setting × every server mode over loopback, certificates trusted
//! through a CA file, pinned, or not at all (`trust_cert`), and handshakes that fail saying why.
//! The CAs and certificates here are made by the test itself (rcgen), not by the simulator.

use std::path::{Path, PathBuf};

use syncdesk::config::Secret;
use syncdesk::integrations::counterpoint::client::{
    CounterpointClient, CounterpointConfig, CounterpointError, Encryption,
};
use syncdesk_sim::counterpoint::{
    CounterpointSim, ServerCertificate, ServerEncryption, SessionEncryption, SimConfig,
};

async fn start(
    encryption: ServerEncryption,
    certificate: Option<ServerCertificate>,
) -> CounterpointSim {
    CounterpointSim::start(SimConfig {
        items: 5,
        encryption,
        certificate,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

fn config(sim: &CounterpointSim, encryption: Encryption, ca: Option<&Path>) -> CounterpointConfig {
    CounterpointConfig {
        host: "127.0.0.1".into(),
        port: sim.addr().port(),
        database: sim.database().into(),
        user: sim.user().into(),
        password: Secret::new(sim.password()),
        encryption,
        trust_cert_ca: ca.map(|p| p.display().to_string()),
        connect_timeout_secs: 5,
        query_timeout_secs: 10,
        ..CounterpointConfig::default()
    }
}

/// The simulator's own (self-signed) certificate written where a shop would keep it: trusting it pins it.
fn pin(sim: &CounterpointSim, dir: &Path) -> PathBuf {
    let path = dir.join(format!("pinned-{}.crt", sim.addr().port()));
    std::fs::write(
        &path,
        sim.certificate_pem().expect("the server has a certificate"),
    )
    .unwrap();
    path
}

/// A CA and a server certificate it issued for `names`; the CA's PEM is written to `dir/<label>-ca.pem`.
fn issued_by_new_ca(label: &str, names: &[&str], dir: &Path) -> (ServerCertificate, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{label} test CA"));
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf_params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
    let ca_path = dir.join(format!("{label}-ca.pem"));
    std::fs::write(&ca_path, ca.pem()).unwrap();
    (
        ServerCertificate {
            chain_pem: leaf.pem(),
            key_pem: leaf_key.serialize_pem(),
        },
        ca_path,
    )
}

/// What a connection attempt came to: the session's encryption as the server recorded it, or the error.
async fn attempt(
    sim: &CounterpointSim,
    config: CounterpointConfig,
) -> Result<(SessionEncryption, bool), CounterpointError> {
    let before = sim.session_encryptions().len();
    let client = CounterpointClient::new(config).expect("valid config");
    client.ping().await?;
    let encrypted = client.session_encrypted().await?;
    let sessions = sim.session_encryptions();
    assert_eq!(sessions.len(), before + 1, "one login per client");
    Ok((sessions[before], encrypted))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Session(SessionEncryption),
    /// A configuration error (not retried): the settings cannot work with this server.
    Config,
    /// The server closed the connection during login; the message says what to try.
    Closed(&'static str),
}

#[tokio::test]
async fn every_encryption_setting_against_every_kind_of_server() {
    use Encryption as C;
    use Expect::*;
    use ServerEncryption as S;
    use SessionEncryption::*;
    let dir = tempfile::tempdir().unwrap();
    let matrix: [(S, [(C, Expect); 4]); 5] = [
        (
            S::NotSupported,
            [
                (C::Off, Session(Clear)),
                // tiberius answers NOT_SUP with a TLS handshake anyway; the server hangs up.
                (C::LoginOnly, Closed("try encryption = \"off\"")),
                (C::Required, Config),
                (C::Strict, Closed("try encryption = \"required\"")),
            ],
        ),
        (
            S::Off,
            [
                (C::Off, Session(Clear)),
                (C::LoginOnly, Session(LoginOnly)),
                (C::Required, Session(Full)),
                (C::Strict, Session(Strict)),
            ],
        ),
        (
            S::On,
            [
                (C::Off, Session(Clear)),
                (C::LoginOnly, Session(Full)),
                (C::Required, Session(Full)),
                (C::Strict, Session(Strict)),
            ],
        ),
        (
            S::Required,
            [
                (C::Off, Closed("try encryption = \"required\"")),
                (C::LoginOnly, Session(Full)),
                (C::Required, Session(Full)),
                (C::Strict, Session(Strict)),
            ],
        ),
        (
            S::Strict,
            [
                (C::Off, Closed("\"strict\" for a TDS 8.0-only server")),
                (C::LoginOnly, Closed("try \"strict\"")),
                (C::Required, Closed("try encryption = \"strict\"")),
                (C::Strict, Session(Strict)),
            ],
        ),
    ];
    for (server, cases) in matrix {
        let sim = start(server, None).await;
        let pinned = sim.certificate_pem().map(|_| pin(&sim, dir.path()));
        for (client, expected) in cases {
            let ca = (client != C::Off).then_some(()).and(pinned.as_deref());
            let outcome = attempt(&sim, config(&sim, client, ca)).await;
            let context = format!("{server} server, encryption = {}", client.name());
            match (expected, outcome) {
                (Session(want), Ok((got, encrypted))) => {
                    assert_eq!(got, want, "{context}");
                    // What the server reports to the client agrees with how the session really went.
                    assert_eq!(encrypted, matches!(want, Full | Strict), "{context}");
                }
                (Config, Err(err @ CounterpointError::Config(_))) => {
                    assert!(!err.is_retryable(), "{context}: {err}");
                    assert!(
                        err.to_string().contains("cannot encrypt"),
                        "{context}: {err}"
                    );
                }
                (Closed(hint), Err(err @ CounterpointError::Transport(_))) => {
                    let text = err.to_string();
                    assert!(text.contains("closed the connection"), "{context}: {text}");
                    assert!(text.contains(hint), "{context}: {text}");
                }
                (want, got) => panic!("{context}: expected {want:?}, got {got:?}"),
            }
        }
        assert!(
            sim.session_encryptions()
                .iter()
                .all(|s| *s != Clear || server != S::Required),
            "a forced-encryption server never serves a session in the clear"
        );
    }
}

#[tokio::test]
async fn a_certificate_issued_by_a_ca_is_trusted_through_the_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let (certificate, ca) = issued_by_new_ca("shop", &["127.0.0.1", "localhost"], dir.path());
    let sim = start(ServerEncryption::Required, Some(certificate)).await;
    for encryption in [
        Encryption::Required,
        Encryption::Strict,
        Encryption::LoginOnly,
    ] {
        let (session, encrypted) = attempt(&sim, config(&sim, encryption, Some(&ca)))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", encryption.name()));
        assert!(encrypted, "{}", encryption.name());
        assert_ne!(session, SessionEncryption::Clear);
    }
}

#[tokio::test]
async fn a_wrong_ca_fails_the_handshake_naming_the_certificate_problem() {
    let dir = tempfile::tempdir().unwrap();
    let (certificate, _right) = issued_by_new_ca("shop", &["127.0.0.1"], dir.path());
    let (_, wrong) = issued_by_new_ca("elsewhere", &["127.0.0.1"], dir.path());
    let sim = start(ServerEncryption::Off, Some(certificate)).await;
    // Even login-only encryption checks the certificate: the password must not go to an impostor.
    for encryption in [
        Encryption::Required,
        Encryption::LoginOnly,
        Encryption::Strict,
    ] {
        let err = attempt(&sim, config(&sim, encryption, Some(&wrong)))
            .await
            .expect_err("a certificate from another CA is not trusted");
        assert!(matches!(err, CounterpointError::Certificate(_)), "{err:?}");
        assert!(!err.is_retryable());
        assert_eq!(
            err.to_string(),
            format!(
                "Counterpoint server certificate not trusted: unknown issuer (trust_cert_ca {})",
                wrong.display()
            )
        );
    }
    // Nothing configured: only the system roots, which know nothing of the shop's CA; the message says what to set.
    let err = attempt(&sim, config(&sim, Encryption::Required, None))
        .await
        .expect_err("not in the system roots");
    let text = err.to_string();
    assert!(text.contains("unknown issuer (system roots only"), "{text}");
    assert!(text.contains("trust_cert_ca"), "{text}");
    assert!(sim.session_encryptions().is_empty(), "no login got through");
}

#[tokio::test]
async fn a_certificate_for_another_host_is_refused_even_when_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let certificate = ServerCertificate::self_signed(&["db.shop.example"]).unwrap();
    let sim = start(ServerEncryption::Required, Some(certificate)).await;
    let pinned = pin(&sim, dir.path());
    let err = attempt(&sim, config(&sim, Encryption::Required, Some(&pinned)))
        .await
        .expect_err("issued for another name");
    assert_eq!(
        err.to_string(),
        format!(
            "Counterpoint server certificate not trusted: not issued for host 127.0.0.1 (trust_cert_ca {})",
            pinned.display()
        )
    );
}

#[tokio::test]
async fn trust_cert_accepts_an_unknown_certificate_and_still_encrypts() {
    let dir = tempfile::tempdir().unwrap();
    let (certificate, _ca) = issued_by_new_ca("unknown", &["127.0.0.1"], dir.path());
    let sim = start(ServerEncryption::Required, Some(certificate)).await;
    let mut trusting = config(&sim, Encryption::Required, None);
    trusting.trust_cert = true;
    let (session, encrypted) = attempt(&sim, trusting).await.expect("trust_cert connects");
    assert_eq!(session, SessionEncryption::Full);
    assert!(encrypted);
}

#[tokio::test]
async fn a_missing_ca_file_is_a_configuration_error_before_connecting() {
    let sim = start(ServerEncryption::Off, None).await;
    let missing = Path::new("/nonexistent/counterpoint-ca.pem");
    let err = CounterpointClient::new(config(&sim, Encryption::Required, Some(missing)))
        .expect_err("refused up front");
    assert_eq!(
        err.to_string(),
        "invalid Counterpoint configuration: counterpoint.trust_cert_ca: /nonexistent/counterpoint-ca.pem is not a readable file"
    );
}
