//! The harness's own test PKI: a fictitious "BankID" root CA and signer certificates
//! for fictitious people. Nothing here is trusted outside the harness.

use crate::SignError;
use der::asn1::{Any, PrintableStringRef, SetOfVec, Utf8StringRef};
use der::{Decode, Encode, Tag};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::RsaPrivateKey;
use sha2::Sha256;
use spki::SubjectPublicKeyInfoOwned;
use std::path::Path;
use time::OffsetDateTime;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

/// Common name of the test root CA.
pub const CA_NAME: &str = "eioa-harness Test BankID CA";
const OID_CN: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_SERIAL: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.5");
const OID_O: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.10");
const OID_C: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.6");

/// A file's name (for messages) and its bytes.
type NamedBytes = (String, Vec<u8>);

/// A key with its certificate.
#[derive(Clone)]
pub struct Signer {
    key: RsaPrivateKey,
    cert: Certificate,
    cert_der: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("subject", &self.subject())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }
    /// The certificate's subject as an RFC 4514 string.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }
    pub(crate) fn key(&self) -> &RsaPrivateKey {
        &self.key
    }
    pub(crate) fn cert(&self) -> &Certificate {
        &self.cert
    }
    /// A signer from a certificate made elsewhere (DER) and its private key, for
    /// example a test chain with an intermediate CA. The key must match the
    /// certificate; nothing here checks that.
    pub fn from_der(key: RsaPrivateKey, cert_der: &[u8]) -> Result<Self, SignError> {
        let cert = Certificate::from_der(cert_der).map_err(|e| SignError::Certificate {
            what: "given",
            message: e.to_string(),
        })?;
        Signer::new(key, cert)
    }
    fn new(key: RsaPrivateKey, cert: Certificate) -> Result<Self, SignError> {
        let cert_der = cert.to_der().map_err(|source| SignError::Der {
            what: "certificate",
            source,
        })?;
        Ok(Signer {
            key,
            cert,
            cert_der,
        })
    }
}

/// Who a signer certificate is issued to, and for how long.
#[derive(Debug, Clone)]
pub struct SignerSpec {
    /// Full name (the certificate's CN).
    pub name: String,
    /// 12-digit personnummer (the certificate's serialNumber attribute).
    pub personnummer: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

/// The test root CA and a default signer issued by it.
#[derive(Clone)]
pub struct TestPki {
    ca: Signer,
    signer: Signer,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki")
            .field("ca", &self.ca)
            .field("signer", &self.signer)
            .finish()
    }
}

/// Builds and signs one certificate (rsa-sha256) with `issuer_key`.
fn build_cert(
    profile: Profile,
    validity: Validity,
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    issuer_key: &RsaPrivateKey,
    what: &'static str,
) -> Result<Certificate, SignError> {
    let err = |e: &dyn std::fmt::Display| SignError::Certificate {
        what,
        message: e.to_string(),
    };
    let signing = SigningKey::<Sha256>::new(issuer_key.clone());
    CertificateBuilder::new(profile, serial()?, validity, subject, spki, &signing)
        .map_err(|e| err(&e))?
        .build::<rsa::pkcs1v15::Signature>()
        .map_err(|e| err(&e))
}

/// Generates an RSA-2048 key.
pub fn generate_key() -> Result<RsaPrivateKey, SignError> {
    RsaPrivateKey::new(&mut rand::thread_rng(), 2048).map_err(SignError::KeyGen)
}

fn attr(
    oid: der::asn1::ObjectIdentifier,
    value: Any,
) -> Result<RelativeDistinguishedName, SignError> {
    let atv = AttributeTypeAndValue { oid, value };
    SetOfVec::try_from(vec![atv])
        .map(RelativeDistinguishedName)
        .map_err(|source| SignError::Der {
            what: "name",
            source,
        })
}

fn utf8(s: &str) -> Result<Any, SignError> {
    let v = Utf8StringRef::new(s).map_err(|source| SignError::Der {
        what: "name",
        source,
    })?;
    Any::encode_from(&v).map_err(|source| SignError::Der {
        what: "name",
        source,
    })
}

fn printable(s: &str) -> Result<Any, SignError> {
    let v = PrintableStringRef::new(s).map_err(|source| SignError::Der {
        what: "name",
        source,
    })?;
    Any::new(Tag::PrintableString, v.as_bytes()).map_err(|source| SignError::Der {
        what: "name",
        source,
    })
}

fn to_time(t: OffsetDateTime) -> Result<Time, SignError> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|_| SignError::Time(t.to_string()))?;
    let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_err(|_| SignError::Time(t.to_string()))?;
    Ok(Time::GeneralTime(
        der::asn1::GeneralizedTime::from_date_time(dt),
    ))
}

fn serial() -> Result<SerialNumber, SignError> {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    SerialNumber::new(&bytes).map_err(|source| SignError::Der {
        what: "serial number",
        source,
    })
}

fn spki(key: &RsaPrivateKey) -> Result<SubjectPublicKeyInfoOwned, SignError> {
    SubjectPublicKeyInfoOwned::from_key(key.to_public_key()).map_err(|e| SignError::Certificate {
        what: "subject",
        message: e.to_string(),
    })
}

impl TestPki {
    /// A fresh root CA (valid from now for 20 years) and a default signer for a
    /// fictitious person. Slow: two RSA-2048 key generations.
    pub fn generate() -> Result<TestPki, SignError> {
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Self::generate_valid(
            now - time::Duration::days(1),
            now + time::Duration::days(365 * 10),
        )
    }

    /// Like [`TestPki::generate`], with both certificates valid from `not_before` to
    /// `not_after`.
    pub fn generate_valid(
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<TestPki, SignError> {
        let ca = Self::root(CA_NAME, generate_key()?, not_before, not_after)?;
        let key = generate_key()?;
        let pki = TestPki {
            signer: ca.clone(),
            ca,
        };
        let spec = SignerSpec {
            name: "Testa Testsson".into(),
            personnummer: default_personnummer(),
            not_before,
            not_after,
        };
        let signer = pki.issue(&spec, key)?;
        Ok(TestPki { signer, ..pki })
    }

    /// A self-signed root CA certificate named `cn` for `key`.
    pub fn root(
        cn: &str,
        key: RsaPrivateKey,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Signer, SignError> {
        let name = Name::from(RdnSequence(vec![
            attr(OID_C, printable("SE")?)?,
            attr(OID_O, utf8("eioa-harness test only")?)?,
            attr(OID_CN, utf8(cn)?)?,
        ]));
        let validity = Validity {
            not_before: to_time(not_before)?,
            not_after: to_time(not_after)?,
        };
        let spki = spki(&key)?;
        let cert = build_cert(Profile::Root, validity, name, spki, &key, "root ca")?;
        Signer::new(key, cert)
    }

    /// A root CA and signer built from existing parts (for example a second CA).
    pub fn from_parts(ca: Signer, signer: Signer) -> TestPki {
        TestPki { ca, signer }
    }

    /// Issues a signer certificate for `spec` and `key`, signed by this CA.
    pub fn issue(&self, spec: &SignerSpec, key: RsaPrivateKey) -> Result<Signer, SignError> {
        let name = Name::from(RdnSequence(vec![
            attr(OID_C, printable("SE")?)?,
            attr(OID_SERIAL, printable(&spec.personnummer)?)?,
            attr(OID_CN, utf8(&spec.name)?)?,
        ]));
        let validity = Validity {
            not_before: to_time(spec.not_before)?,
            not_after: to_time(spec.not_after)?,
        };
        let profile = Profile::Leaf {
            issuer: self.ca.cert.tbs_certificate.subject.clone(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        };
        let cert = build_cert(profile, validity, name, spki(&key)?, &self.ca.key, "signer")?;
        Signer::new(key, cert)
    }

    /// The same key as the default signer, with a new certificate for `spec`.
    pub fn reissue(&self, spec: &SignerSpec) -> Result<Signer, SignError> {
        self.issue(spec, self.signer.key.clone())
    }

    /// A copy of the default signer's private key, for building related test
    /// certificates (another CA, another validity) without generating a key.
    pub fn signer_key_for_tests(&self) -> RsaPrivateKey {
        self.signer.key.clone()
    }

    /// The root CA.
    pub fn ca(&self) -> &Signer {
        &self.ca
    }
    /// The root CA certificate, DER: the trust anchor for signatures made here.
    pub fn ca_cert_der(&self) -> &[u8] {
        self.ca.cert_der()
    }
    /// The default signer.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Writes `ca.pem`, `ca.key.pem`, `signer.pem` and `signer.key.pem` into `dir`.
    pub fn write_to(&self, dir: &Path) -> Result<(), SignError> {
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|source| SignError::Write {
                path: path.display().to_string(),
                source,
            })
        };
        std::fs::create_dir_all(dir).map_err(|source| SignError::Write {
            path: dir.display().to_string(),
            source,
        })?;
        for (base, s) in [("ca", &self.ca), ("signer", &self.signer)] {
            let cert = der::pem::encode_string("CERTIFICATE", LineEnding::LF, &s.cert_der)
                .map_err(|e| SignError::Certificate {
                    what: "pem",
                    message: e.to_string(),
                })?;
            let key = s
                .key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| SignError::Certificate {
                    what: "pem key",
                    message: e.to_string(),
                })?;
            write(&format!("{base}.pem"), &cert)?;
            write(&format!("{base}.key.pem"), &key)?;
        }
        Ok(())
    }

    /// Reads what [`TestPki::write_to`] wrote.
    pub fn from_dir(dir: &Path) -> Result<TestPki, SignError> {
        Self::from_files(&|name: &str| {
            let path = dir.join(name);
            std::fs::read(&path)
                .map_err(|source| SignError::Read {
                    path: path.display().to_string(),
                    source,
                })
                .map(|b| (path.display().to_string(), b))
        })
    }

    /// The fixed, public test PKI under `fixtures/pki/`, compiled in: what the
    /// harness signs with and its stand-ins trust when nothing else is configured.
    pub fn embedded() -> Result<TestPki, SignError> {
        const FILES: [(&str, &[u8]); 4] = [
            ("ca.pem", include_bytes!("../../../fixtures/pki/ca.pem")),
            (
                "ca.key.pem",
                include_bytes!("../../../fixtures/pki/ca.key.pem"),
            ),
            (
                "signer.pem",
                include_bytes!("../../../fixtures/pki/signer.pem"),
            ),
            (
                "signer.key.pem",
                include_bytes!("../../../fixtures/pki/signer.key.pem"),
            ),
        ];
        Self::from_files(&|name: &str| {
            FILES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(n, b)| (format!("<embedded>/{n}"), b.to_vec()))
                .ok_or_else(|| SignError::Read {
                    path: format!("<embedded>/{name}"),
                    source: std::io::ErrorKind::NotFound.into(),
                })
        })
    }

    /// The embedded test CA's certificate (DER).
    pub fn embedded_ca_der() -> Result<Vec<u8>, SignError> {
        Ok(Self::embedded()?.ca_cert_der().to_vec())
    }

    fn from_files(
        read: &dyn Fn(&str) -> Result<NamedBytes, SignError>,
    ) -> Result<TestPki, SignError> {
        let load = |base: &str| -> Result<Signer, SignError> {
            let (cpath, cpem) = read(&format!("{base}.pem"))?;
            let (label, der_bytes) = der::pem::decode_vec(&cpem).map_err(|e| SignError::Pem {
                path: cpath.clone(),
                what: "certificate",
                message: e.to_string(),
            })?;
            if label != "CERTIFICATE" {
                return Err(SignError::Pem {
                    path: cpath,
                    what: "certificate",
                    message: format!("label is {label}"),
                });
            }
            let cert = Certificate::from_der(&der_bytes).map_err(|e| SignError::Pem {
                path: cpath.clone(),
                what: "certificate",
                message: e.to_string(),
            })?;
            let (kpath, kpem) = read(&format!("{base}.key.pem"))?;
            let text = String::from_utf8(kpem).map_err(|_| SignError::Pem {
                path: kpath.clone(),
                what: "private key",
                message: "not utf-8".into(),
            })?;
            let key = RsaPrivateKey::from_pkcs8_pem(&text).map_err(|e| SignError::Pem {
                path: kpath.clone(),
                what: "private key",
                message: e.to_string(),
            })?;
            if spki(&key)? != cert.tbs_certificate.subject_public_key_info {
                return Err(SignError::Pem {
                    path: kpath,
                    what: "private key",
                    message: "key does not match the certificate".into(),
                });
            }
            Signer::new(key, cert)
        };
        let ca = load("ca")?;
        let signer = load("signer")?;
        if signer.cert.tbs_certificate.issuer != ca.cert.tbs_certificate.subject {
            return Err(SignError::ForeignSigner);
        }
        Ok(TestPki { ca, signer })
    }
}

fn default_personnummer() -> String {
    let date =
        time::Date::from_calendar_date(1985, time::Month::June, 15).unwrap_or(time::Date::MIN);
    eioa_model::ident::personnummer(date, 239, false)
}
