//! Reading certificates for people: subject, issuer, validity, names, key, usages.

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;

use super::model::CertPanel;
use crate::tls::sha256_hex;

/// A parsed certificate with its panel.
pub(crate) struct Cert<'a> {
    pub x509: X509Certificate<'a>,
    pub panel: CertPanel,
}

/// Parses `der`; `None` when it is not a certificate.
pub(crate) fn parse(der: &[u8], now: OffsetDateTime) -> Option<Cert<'_>> {
    let (_, x509) = x509_parser::parse_x509_certificate(der).ok()?;
    let not_before = x509.validity().not_before.to_datetime();
    let not_after = x509.validity().not_after.to_datetime();
    let panel = CertPanel {
        subject: x509.subject().to_string(),
        issuer: x509.issuer().to_string(),
        serial: x509.raw_serial_as_string(),
        not_before,
        not_after,
        days_left: (not_after - now).whole_days(),
        sans: sans(&x509),
        key: key_text(&x509),
        eku: eku(&x509),
        is_ca: x509.is_ca(),
        sha256: sha256_hex(der),
    };
    Some(Cert { x509, panel })
}

fn sans(x509: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = x509.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value
        .general_names
        .iter()
        .map(|n| match n {
            GeneralName::DNSName(d) => format!("DNS:{d}"),
            GeneralName::IPAddress(b) => match b.len() {
                4 => format!(
                    "IP:{}",
                    std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*b).unwrap_or_default())
                ),
                16 => format!(
                    "IP:{}",
                    std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).unwrap_or_default())
                ),
                _ => format!("IP:{}", hex::encode(b)),
            },
            other => format!("{other}"),
        })
        .collect()
}

/// Key type and size, e.g. `RSA 2048`, `ECDSA P-256`, `Ed25519`.
pub(crate) fn key_text(x509: &X509Certificate<'_>) -> String {
    let spki = x509.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| match oid.to_id_string().as_str() {
                    "1.2.840.10045.3.1.7" => "P-256".to_owned(),
                    "1.3.132.0.34" => "P-384".to_owned(),
                    "1.3.132.0.35" => "P-521".to_owned(),
                    other => other.to_owned(),
                })
                .unwrap_or_else(|| format!("{} bits", point.key_size()));
            format!("ECDSA {curve}")
        }
        Ok(PublicKey::Unknown(_)) | Err(_) => {
            match spki.algorithm.algorithm.to_id_string().as_str() {
                "1.3.101.112" => "Ed25519".to_owned(),
                "1.3.101.113" => "Ed448".to_owned(),
                other => format!("unknown ({other})"),
            }
        }
        Ok(other) => format!("{other:?}")
            .split('(')
            .next()
            .unwrap_or("unknown")
            .to_owned(),
    }
}

/// RSA key size in bits, when the key is RSA.
pub(crate) fn rsa_bits(x509: &X509Certificate<'_>) -> Option<usize> {
    match x509.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => Some(rsa.key_size()),
        _ => None,
    }
}

fn eku(x509: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = x509.extended_key_usage() else {
        return Vec::new();
    };
    let e = ext.value;
    let mut out = Vec::new();
    for (set, name) in [
        (e.any, "any"),
        (e.server_auth, "serverAuth"),
        (e.client_auth, "clientAuth"),
        (e.code_signing, "codeSigning"),
        (e.email_protection, "emailProtection"),
        (e.time_stamping, "timeStamping"),
        (e.ocsp_signing, "OCSPSigning"),
    ] {
        if set {
            out.push(name.to_owned());
        }
    }
    out.extend(e.other.iter().map(|oid| oid.to_id_string()));
    out
}

/// Whether the certificate may be used for TLS client authentication, and whether it says so
/// explicitly (`None`: no extended key usage extension, so any use is allowed).
pub(crate) fn allows_client_auth(x509: &X509Certificate<'_>) -> Option<bool> {
    match x509.extended_key_usage() {
        Ok(Some(ext)) => Some(ext.value.client_auth || ext.value.any),
        _ => None,
    }
}

/// Formats a time as `2026-11-29 17:00 UTC`.
pub(crate) fn when(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// A distinguished name from a CertificateRequest's list, as text. rustls hands the names
/// without the outer SEQUENCE; a full `Name` is accepted too.
pub(crate) fn dn_text(raw: &[u8]) -> String {
    let full = wrap_dn(raw);
    x509_parser::x509::X509Name::from_der(&full)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|_| format!("(unreadable name, {} bytes)", raw.len()))
}

/// The DER of a full `Name` (with its SEQUENCE header) for a CertificateRequest entry.
pub(crate) fn wrap_dn(raw: &[u8]) -> Vec<u8> {
    if raw.first() == Some(&0x30) {
        return raw.to_vec();
    }
    let mut out = vec![0x30];
    let len = raw.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(raw);
    out
}
