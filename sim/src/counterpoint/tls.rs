//! TLS as SQL Server does it: the server's certificate, the PRELOGIN encryption negotiation (MS-TDS 2.2.6.5),
//! TLS handshake records carried inside PRELOGIN packets (TDS 7.x), and TLS before any TDS byte (TDS 8.0
//! "strict"). Kept apart from the wire format so each kind of server (`ServerEncryption`) is one table here.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::tds::{self, HEADER_LEN, PACKET_PRELOGIN};

/// PRELOGIN ENCRYPTION option values (MS-TDS 2.2.6.5).
pub const ENCRYPT_OFF: u8 = 0x00;
pub const ENCRYPT_ON: u8 = 0x01;
pub const ENCRYPT_NOT_SUP: u8 = 0x02;
pub const ENCRYPT_REQ: u8 = 0x03;

/// The ALPN protocol a TDS 8.0 client offers in its TLS handshake.
pub const TDS8_ALPN: &[u8] = b"tds/8.0";

/// Which kind of SQL Server the simulator plays, as far as encryption goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerEncryption {
    /// No certificate at all (answers ENCRYPT_NOT_SUP): everything travels in the clear.
    NotSupported,
    /// SQL Server's default install: a certificate, and encryption as the client asks. A client asking OFF
    /// gets its LOGIN7 encrypted and the rest in the clear; ON/REQ gets the whole session in TLS.
    #[default]
    Off,
    /// Encrypts the whole session of every client that can encrypt (answers ENCRYPT_ON); a client that
    /// cannot (ENCRYPT_NOT_SUP) is still served in the clear.
    On,
    /// "Force Encryption": the whole session is TLS for everyone; a client that cannot encrypt is refused
    /// (answered ENCRYPT_REQ, then disconnected).
    Required,
    /// "Force Strict Encryption" (TDS 8.0, SQL Server 2022): TLS before the first TDS byte, nothing else.
    Strict,
}

impl ServerEncryption {
    pub fn name(self) -> &'static str {
        match self {
            ServerEncryption::NotSupported => "not-supported",
            ServerEncryption::Off => "off",
            ServerEncryption::On => "on",
            ServerEncryption::Required => "required",
            ServerEncryption::Strict => "strict",
        }
    }

    pub fn has_certificate(self) -> bool {
        self != ServerEncryption::NotSupported
    }
}

impl std::fmt::Display for ServerEncryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ServerEncryption {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        [
            ServerEncryption::NotSupported,
            ServerEncryption::Off,
            ServerEncryption::On,
            ServerEncryption::Required,
            ServerEncryption::Strict,
        ]
        .into_iter()
        .find(|e| e.name().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            format!("unknown encryption mode '{s}' (off, on, required, strict or not-supported)")
        })
    }
}

/// What a session ends up with after PRELOGIN, as `sys.dm_exec_connections.encrypt_option` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEncryption {
    /// Nothing encrypted, not even the login.
    Clear,
    /// Only the LOGIN7 packet went through TLS (client asked ENCRYPT_OFF of a server with a certificate).
    LoginOnly,
    /// TLS from the handshake in PRELOGIN to the end of the session.
    Full,
    /// TDS 8.0: TLS from the first byte.
    Strict,
}

impl SessionEncryption {
    /// `encrypt_option` as SQL Server reports it: TRUE only when the whole session is encrypted.
    pub fn encrypt_option(self) -> &'static str {
        match self {
            SessionEncryption::Full | SessionEncryption::Strict => "TRUE",
            SessionEncryption::Clear | SessionEncryption::LoginOnly => "FALSE",
        }
    }
}

/// The server's answer to a client's PRELOGIN ENCRYPTION byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The byte written in the PRELOGIN response.
    pub answer: u8,
    /// What happens next; `None` when the server disconnects right after answering.
    pub session: Option<SessionEncryption>,
}

/// MS-TDS 2.2.6.5's table: the client's ENCRYPTION byte (high bits such as CLIENT_CERT ignored) against
/// the kind of server. A client that asked for encryption of a server without a certificate is answered
/// NOT_SUP and ends the connection itself; a client that asked OFF is then served in the clear.
pub fn negotiate(mode: ServerEncryption, client: u8) -> Negotiated {
    let client = client & 0x0F;
    let wants_tls = client == ENCRYPT_ON || client == ENCRYPT_REQ;
    let (answer, session) = match mode {
        ServerEncryption::NotSupported => (ENCRYPT_NOT_SUP, Some(SessionEncryption::Clear)),
        ServerEncryption::Off => match client {
            ENCRYPT_OFF => (ENCRYPT_OFF, Some(SessionEncryption::LoginOnly)),
            _ if wants_tls => (ENCRYPT_ON, Some(SessionEncryption::Full)),
            _ => (ENCRYPT_NOT_SUP, Some(SessionEncryption::Clear)),
        },
        ServerEncryption::On => match client {
            ENCRYPT_OFF => (ENCRYPT_ON, Some(SessionEncryption::Full)),
            _ if wants_tls => (ENCRYPT_ON, Some(SessionEncryption::Full)),
            _ => (ENCRYPT_NOT_SUP, Some(SessionEncryption::Clear)),
        },
        // A strict server never gets here (it closes anything that does not start with TLS); if it
        // did, it would refuse like a forced-encryption server.
        ServerEncryption::Required | ServerEncryption::Strict => match client {
            ENCRYPT_OFF => (ENCRYPT_REQ, Some(SessionEncryption::Full)),
            _ if wants_tls => (ENCRYPT_ON, Some(SessionEncryption::Full)),
            _ => (ENCRYPT_REQ, None),
        },
    };
    Negotiated { answer, session }
}

#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("reading {path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("{path}: no PEM certificate found")]
    NoCertificate { path: String },
    #[error("{path}: no PEM private key found")]
    NoKey { path: String },
    #[error("generating the certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the certificate and key do not fit together: {0}")]
    Tls(#[from] rustls::Error),
}

/// The server certificate chain and its private key, PEM encoded (what a shop exports from its server).
#[derive(Clone)]
pub struct ServerCertificate {
    pub chain_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for ServerCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCertificate")
            .field("chain_pem", &self.chain_pem)
            .finish_non_exhaustive()
    }
}

impl ServerCertificate {
    /// A self-signed certificate for these host names / IP addresses, like the one SQL Server makes at
    /// install. Clients trust it by pinning it (its own PEM as the CA file) or by `trust_cert`.
    pub fn self_signed(names: &[&str]) -> Result<ServerCertificate, CertificateError> {
        let key = rcgen::KeyPair::generate()?;
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "SSL_Self_Signed_Fallback (syncdesk Counterpoint simulator)",
        );
        let cert = params.self_signed(&key)?;
        Ok(ServerCertificate {
            chain_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Reads a PEM chain (server certificate first) and a PEM private key.
    pub fn from_pem_files(
        chain: &std::path::Path,
        key: &std::path::Path,
    ) -> Result<ServerCertificate, CertificateError> {
        let read = |path: &std::path::Path| {
            std::fs::read_to_string(path).map_err(|source| CertificateError::Read {
                path: path.display().to_string(),
                source,
            })
        };
        let certificate = ServerCertificate {
            chain_pem: read(chain)?,
            key_pem: read(key)?,
        };
        certificate
            .chain()
            .map_err(|_| CertificateError::NoCertificate {
                path: chain.display().to_string(),
            })?;
        certificate.key().map_err(|_| CertificateError::NoKey {
            path: key.display().to_string(),
        })?;
        Ok(certificate)
    }

    fn chain(&self) -> Result<Vec<CertificateDer<'static>>, CertificateError> {
        let chain: Vec<_> = CertificateDer::pem_slice_iter(self.chain_pem.as_bytes())
            .filter_map(Result::ok)
            .collect();
        if chain.is_empty() {
            return Err(CertificateError::NoCertificate {
                path: "certificate".into(),
            });
        }
        Ok(chain)
    }

    fn key(&self) -> Result<PrivateKeyDer<'static>, CertificateError> {
        PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).map_err(|_| {
            CertificateError::NoKey {
                path: "private key".into(),
            }
        })
    }
}

/// The two rustls server configurations: one for handshakes inside PRELOGIN packets, one for TDS 8.0.
pub struct TlsAcceptors {
    pub prelogin: tokio_rustls::TlsAcceptor,
    pub strict: tokio_rustls::TlsAcceptor,
}

impl TlsAcceptors {
    pub fn new(certificate: &ServerCertificate) -> Result<TlsAcceptors, CertificateError> {
        let build = |alpn: Vec<Vec<u8>>| -> Result<tokio_rustls::TlsAcceptor, CertificateError> {
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let mut config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_single_cert(certificate.chain()?, certificate.key()?)?;
            // A TLS 1.3 ticket sent after the handshake would reach a TDS 7.x client after it stopped
            // unwrapping PRELOGIN packets; SQL Server sends none either.
            config.send_tls13_tickets = 0;
            config.alpn_protocols = alpn;
            Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
        };
        Ok(TlsAcceptors {
            prelogin: build(Vec::new())?,
            strict: build(vec![TDS8_ALPN.to_vec()])?,
        })
    }
}

/// Carries TLS handshake records inside TDS PRELOGIN packets (type 0x12) until `handshake_done`, then
/// passes bytes straight through: the server side of what tiberius calls its `TlsPreloginWrapper`.
pub struct PreloginFraming<S> {
    inner: S,
    handshaking: bool,
    /// Bytes read as a would-be packet header that turned out to start a raw TLS record.
    passed_on: Vec<u8>,
    header: [u8; HEADER_LEN],
    header_read: usize,
    body_left: usize,
    outgoing: Vec<u8>,
    /// Bytes of the framed `outgoing` already written to `inner`.
    flushing: Option<(Vec<u8>, usize)>,
}

impl<S> PreloginFraming<S> {
    pub fn new(inner: S) -> Self {
        PreloginFraming {
            inner,
            handshaking: true,
            passed_on: Vec::new(),
            header: [0; HEADER_LEN],
            header_read: 0,
            body_left: 0,
            outgoing: Vec::new(),
            flushing: None,
        }
    }

    pub fn handshake_done(&mut self) {
        self.handshaking = false;
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for PreloginFraming<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.passed_on.is_empty() {
            let n = this.passed_on.len().min(buf.remaining());
            buf.put_slice(&this.passed_on[..n]);
            this.passed_on.drain(..n);
            return Poll::Ready(Ok(()));
        }
        if !this.handshaking {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        while this.body_left == 0 {
            // Headers are read separately and never reach rustls.
            while this.header_read < HEADER_LEN {
                let mut header = ReadBuf::new(&mut this.header[this.header_read..]);
                ready!(Pin::new(&mut this.inner).poll_read(cx, &mut header))?;
                let n = header.filled().len();
                if n == 0 {
                    return Poll::Ready(Ok(()));
                }
                this.header_read += n;
            }
            this.header_read = 0;
            // The client finished its handshake first and sent its LOGIN7 as a raw TLS record (0x14–0x17,
            // never TDS packet types) while rustls still reads: the framing ends here.
            if (0x14..=0x17).contains(&this.header[0]) {
                this.handshaking = false;
                this.passed_on.extend_from_slice(&this.header);
                return Pin::new(this).poll_read(cx, buf);
            }
            let header = tds::parse_header(&this.header)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if header.packet_type != PACKET_PRELOGIN {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "packet type 0x{:02X} during the TLS handshake (PRELOGIN expected)",
                        header.packet_type
                    ),
                )));
            }
            this.body_left = header.length - HEADER_LEN;
        }
        let want = this.body_left.min(buf.remaining());
        let mut limited = ReadBuf::new(buf.initialize_unfilled_to(want));
        ready!(Pin::new(&mut this.inner).poll_read(cx, &mut limited))?;
        let n = limited.filled().len();
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
        }
        buf.advance(n);
        this.body_left -= n;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PreloginFraming<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.handshaking && this.flushing.is_none() && this.outgoing.is_empty() {
            return Pin::new(&mut this.inner).poll_write(cx, data);
        }
        this.outgoing.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if let Some((framed, written)) = &mut this.flushing {
                while *written < framed.len() {
                    let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &framed[*written..]))?;
                    if n == 0 {
                        return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                    }
                    *written += n;
                }
                this.flushing = None;
            }
            if this.outgoing.is_empty() {
                break;
            }
            // Handshake flights go out as PRELOGIN packets of at most 4 KiB, the last marked end-of-message.
            let framed = tds::packetize(PACKET_PRELOGIN, &this.outgoing, 4096);
            this.outgoing.clear();
            this.flushing = Some((framed, 0));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_ms_tds() {
        use SessionEncryption::*;
        let cases = [
            (
                ServerEncryption::Off,
                ENCRYPT_OFF,
                ENCRYPT_OFF,
                Some(LoginOnly),
            ),
            (ServerEncryption::Off, ENCRYPT_ON, ENCRYPT_ON, Some(Full)),
            (ServerEncryption::Off, ENCRYPT_REQ, ENCRYPT_ON, Some(Full)),
            (
                ServerEncryption::Off,
                ENCRYPT_NOT_SUP,
                ENCRYPT_NOT_SUP,
                Some(Clear),
            ),
            (ServerEncryption::On, ENCRYPT_OFF, ENCRYPT_ON, Some(Full)),
            (
                ServerEncryption::On,
                ENCRYPT_NOT_SUP,
                ENCRYPT_NOT_SUP,
                Some(Clear),
            ),
            (
                ServerEncryption::Required,
                ENCRYPT_OFF,
                ENCRYPT_REQ,
                Some(Full),
            ),
            (
                ServerEncryption::Required,
                ENCRYPT_ON,
                ENCRYPT_ON,
                Some(Full),
            ),
            (
                ServerEncryption::Required,
                ENCRYPT_NOT_SUP,
                ENCRYPT_REQ,
                None,
            ),
            (
                ServerEncryption::NotSupported,
                ENCRYPT_ON,
                ENCRYPT_NOT_SUP,
                Some(Clear),
            ),
            (
                ServerEncryption::NotSupported,
                ENCRYPT_OFF,
                ENCRYPT_NOT_SUP,
                Some(Clear),
            ),
            // CLIENT_CERT (0x80) rides in the high bits.
            (
                ServerEncryption::Off,
                0x80 | ENCRYPT_ON,
                ENCRYPT_ON,
                Some(Full),
            ),
        ];
        for (mode, client, answer, session) in cases {
            assert_eq!(
                negotiate(mode, client),
                Negotiated { answer, session },
                "{mode} server, client byte {client:#04x}"
            );
        }
    }

    #[test]
    fn modes_parse_from_their_names() {
        for name in ["off", "on", "required", "strict", "not-supported"] {
            assert_eq!(name.parse::<ServerEncryption>().unwrap().name(), name);
        }
        assert!("maybe".parse::<ServerEncryption>().is_err());
    }

    #[test]
    fn self_signed_certificate_builds_acceptors() {
        let cert = ServerCertificate::self_signed(&["localhost", "127.0.0.1"]).unwrap();
        assert!(cert.chain_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(TlsAcceptors::new(&cert).is_ok());
    }
}
