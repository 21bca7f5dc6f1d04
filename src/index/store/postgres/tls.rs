//! TLS to the database with rustls (ring), as libpq's `sslmode` asks: `prefer` and
//! `require` encrypt without checking the server's certificate (libpq does the same, and
//! users of those modes expect a self-signed server to work); `verify-ca` and
//! `verify-full` check it against `sslrootcert` (a PEM file) or the Mozilla roots.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// What the client checks of the server's certificate.
pub(super) enum Verify {
    /// Nothing (`prefer`, `require`): encryption against a passive listener only.
    Nothing,
    /// The chain and the host name, against these roots (a PEM file) or Mozilla's.
    Chain { root_file: Option<String> },
}

/// The connector for `verify`, or why it cannot be built (an unreadable root file).
pub(super) fn connector(verify: Verify) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS setup: {error}"))?;
    let config = match verify {
        Verify::Nothing => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate { provider }))
            .with_no_client_auth(),
        Verify::Chain { root_file } => {
            let mut roots = RootCertStore::empty();
            match root_file {
                Some(path) => {
                    let certificates = CertificateDer::pem_file_iter(&path)
                        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                        .map_err(|error| format!("sslrootcert {path:?}: {error}"))?;
                    let (added, _) = roots.add_parsable_certificates(certificates);
                    if added == 0 {
                        return Err(format!("sslrootcert {path:?} holds no usable certificate"));
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// Accepts any certificate but still checks the handshake's signatures with it, which is
/// what `sslmode=require` means to libpq users.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
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
        verify_tls13_signature(
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
