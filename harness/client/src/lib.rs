//! The E-IOA client: SOAP 1.1 over mutual TLS to Försäkringskassan's service or a stand-in.
//!
//! ```no_run
//! # async fn demo() -> Result<(), eioa_client::ClientError> {
//! use eioa_client::{Client, ClientConfig, Identity, Secret, Target};
//! let secret = Secret::from_env("EIOA_P12_PASSPHRASE")?;
//! let identity = Identity::from_pkcs12_file("vendor.p12".as_ref(), &secret)?;
//! let client = Client::new(ClientConfig { identity: Some(identity), ..ClientConfig::default() })?;
//! let exchange = client
//!     .post_soap(&Target::Test, "urn:example:action", b"<soap/>".to_vec())
//!     .await?;
//! println!("{:?} {:?}", exchange.status, exchange.tls_version);
//! # Ok(()) }
//! ```
//!
//! # Choices
//!
//! - **Trust roots.** The server certificate is always verified by rustls' webpki verifier, name
//!   included; there is no switch to turn that off. The root store is the caller's
//!   `extra_roots` plus, when `use_system_roots` is set (the default), the system CA bundle
//!   (`SSL_CERT_FILE`, else the usual Linux paths). FK's hosts get no special treatment and no
//!   pinning: their certificates must chain to one of those roots. Add the CA from FK's
//!   onboarding material to `extra_roots` if the system bundle does not hold it. An empty store
//!   is refused when the client is built.
//! - **TLS.** TLS 1.2 and 1.3 only (ring provider), HTTP/1.1 only, no session resumption and no
//!   connection reuse: every exchange makes its own handshake, so every record names the TLS
//!   version and both certificates it saw. The record comes from a verifier wrapper that only
//!   observes; the decisions stay webpki's.
//! - **Client identity.** PEM (plain or encrypted PKCS#8 key) or PKCS#12. The key must match the
//!   certificate, and the certificate must be valid *now*: checked when the client is built and
//!   again before each exchange, so an expired certificate is refused before any connection.
//!   Passphrases come from an environment variable or a prompt callback, never from a flag, and
//!   [`Secret`] does not print them.
//! - **Pacing.** At most one exchange per second with FK's hosts by default (FK may shut off
//!   vendors that send too much); local hosts are not paced unless [`Pace`] says so.
//! - **No resend.** Nothing in this crate retries: no retry policy, no redirects (a 307 would
//!   re-POST), no pooled connection to fall back on. A failure carries a [`Delivery`]:
//!   `NotSent` (DNS, refused connection, refused handshake: safe to send again), `MaybeSent`
//!   (the request may have been processed: the caller decides, knowing FK treats a re-sent
//!   notification as the latest and may handle it manually), or `Answered`.
//! - **Proxies.** Environment proxies are ignored.
//! - **Response size.** Response bodies are kept up to `max_response_bytes` (4 MiB by default);
//!   past that, reading stops with [`ClientError::ResponseTooLarge`] (`Answered`), keeping the
//!   status, the headers and the body up to the limit.

mod client;
pub mod connect;
mod error;
mod exchange;
mod identity;
pub mod load;
mod pace;
mod secret;
mod target;
mod tls;

pub use client::{Client, ClientConfig, DEFAULT_MAX_RESPONSE_BYTES, USER_AGENT_VALUE};
pub use error::{ClientError, ServerCertProblem};
pub use exchange::{Delivery, Exchange, Timings};
pub use identity::{Identity, IdentityError};
pub use load::{read_ca_files, IdentitySource, LoadError, PassphraseSource};
pub use pace::{Pace, PaceScope};
pub use rustls::pki_types::CertificateDer;
pub use secret::{Secret, SecretError};
pub use target::{is_fk_host, Resolve, Target, Url, FK_HOSTS, FK_PROD_URL, FK_TEST_URL};
