//! The xmldsig `Signature` in BankID's shape: building and verifying.

use crate::xml::{self, esc, Elem};
use crate::{SignError, SignatureError, Signer, TestPki};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use der::{Decode, Encode};
use eioa_validate::c14n::{canonicalize, canonicalize_many, Select};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::{SignatureEncoding, Signer as _};
use rsa::RsaPublicKey;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_cert::Certificate;

/// The xmldsig namespace.
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// BankID's signed-data namespace.
pub const BANKID_NS: &str = "http://www.bankid.com/signature/v1.0.0/types";
/// Inclusive C14N 1.0 without comments.
pub const C14N_ALG: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
/// RSA PKCS#1 v1.5 with SHA-256.
pub const RSA_SHA256_ALG: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// SHA-256 digest.
pub const SHA256_ALG: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

const SIGNED_DATA_ID: &str = "bidSignedData";
const KEY_INFO_ID: &str = "bidKeyInfo";

/// What to sign.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    /// `(notification id, payload bytes exactly as sent)`.
    pub notifications: &'a [(&'a str, &'a [u8])],
    /// The text shown to the signer.
    pub visible_text: &'a str,
    /// When the signature is made (also the OCSP response's producedAt).
    pub when: OffsetDateTime,
}

/// A signature and its OCSP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub signature_xml: Vec<u8>,
    pub ocsp_der: Vec<u8>,
}

/// What a verified signature says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub signer_cert_der: Vec<u8>,
    pub visible_text: String,
    pub non_visible_data: String,
    /// `(notification id, sha256 hex of its canonical payload)`.
    pub bindings: Vec<(String, String)>,
}

impl Verified {
    /// Checks that this signature binds notification `id` to exactly `payload`.
    pub fn check_binding(&self, id: &str, payload: &[u8]) -> Result<(), SignatureError> {
        let actual =
            binding_hash(payload).map_err(|e| SignatureError::Canonicalization(e.to_string()))?;
        self.compare_binding(id, actual)
    }

    /// [`Verified::check_binding`] for a payload whose canonical form is at hand:
    /// `canonical` is what [`eioa_validate::c14n::canonicalize`] gives for the whole
    /// payload (a server that validated the payload in one pass has it from that
    /// pass, [`eioa_validate::Validator::validate_canonical`]).
    pub fn check_binding_canonical(
        &self,
        id: &str,
        canonical: &[u8],
    ) -> Result<(), SignatureError> {
        self.compare_binding(id, hex::encode(Sha256::digest(canonical)))
    }

    fn compare_binding(&self, id: &str, actual: String) -> Result<(), SignatureError> {
        let (_, signed) = self
            .bindings
            .iter()
            .find(|(i, _)| i == id)
            .ok_or_else(|| SignatureError::BindingMissing { id: id.to_string() })?;
        if *signed != actual {
            return Err(SignatureError::BindingMismatch {
                id: id.to_string(),
                signed: signed.clone(),
                actual,
            });
        }
        Ok(())
    }
}

fn binding_hash(payload: &[u8]) -> Result<String, eioa_validate::c14n::C14nError> {
    let c = canonicalize(payload, Select::Document)?;
    Ok(hex::encode(Sha256::digest(&c)))
}

/// `"{id},{sha256 lowercase hex of the payload's inclusive C14N 1.0}"`.
pub fn binding(id: &str, payload: &[u8]) -> Result<String, SignError> {
    let hash = binding_hash(payload).map_err(|source| SignError::C14n {
        what: format!("payload {id}"),
        source,
    })?;
    Ok(format!("{id},{hash}"))
}

/// The bindings of several notifications joined by `;`.
pub fn bindings(notifications: &[(&str, &[u8])]) -> Result<String, SignError> {
    let parts: Result<Vec<String>, SignError> =
        notifications.iter().map(|(id, p)| binding(id, p)).collect();
    Ok(parts?.join(";"))
}

/// One assistant line of the visible text.
#[derive(Debug, Clone)]
pub struct VisibleLine {
    /// The assistant's full name.
    pub name: String,
    /// 12-digit personnummer; shown as `YYYYMMDD-NNNN`.
    pub personnummer: String,
}

/// The visible text in the shape a real integration shows: one numbered line per
/// assistant, "Jag intygar idag {date} vid: {HH:MM} att informationen om personlig
/// assistent för {name} {YYYYMMDD-NNNN}  är korrekt." (FK's own wording is not public.)
pub fn visible_text(lines: &[VisibleLine], when: OffsetDateTime) -> String {
    let date = format!(
        "{:04}-{:02}-{:02}",
        when.year(),
        u8::from(when.month()),
        when.day()
    );
    let clock = format!("{:02}:{:02}", when.hour(), when.minute());
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let pnr = match (l.personnummer.get(..8), l.personnummer.get(8..)) {
                (Some(a), Some(b)) if l.personnummer.len() == 12 => format!("{a}-{b}"),
                _ => l.personnummer.clone(),
            };
            format!(
                "{}. Jag intygar idag {date} vid: {clock} att informationen om personlig assistent för {} {pnr}  är korrekt.",
                i + 1,
                l.name
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn reference(uri: &str, typ: Option<&str>, digest: &str) -> String {
    let typ = typ.map(|t| format!(" Type=\"{t}\"")).unwrap_or_default();
    format!(
        "<Reference{typ} URI=\"#{uri}\"><Transforms><Transform Algorithm=\"{C14N_ALG}\"></Transform></Transforms>\
         <DigestMethod Algorithm=\"{SHA256_ALG}\"></DigestMethod><DigestValue>{digest}</DigestValue></Reference>"
    )
}

fn document(d_data: &str, d_key: &str, sig: &str, key_info: &str, object: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\
         <Signature xmlns=\"{DSIG_NS}\"><SignedInfo xmlns=\"{DSIG_NS}\">\
         <CanonicalizationMethod Algorithm=\"{C14N_ALG}\"></CanonicalizationMethod>\
         <SignatureMethod Algorithm=\"{RSA_SHA256_ALG}\"></SignatureMethod>{}{}</SignedInfo>\
         <SignatureValue>{sig}</SignatureValue>{key_info}{object}</Signature>",
        reference(SIGNED_DATA_ID, Some(BANKID_NS), d_data),
        reference(KEY_INFO_ID, None, d_key),
    )
}

fn c14n_err(what: &str) -> impl FnOnce(eioa_validate::c14n::C14nError) -> SignError + '_ {
    move |source| SignError::C14n {
        what: what.to_string(),
        source,
    }
}

/// Signs `input` as `signer`, in BankID's shape, and has `pki`'s CA answer OCSP for it.
pub fn sign(pki: &TestPki, signer: &Signer, input: &SignInput<'_>) -> Result<Signed, SignError> {
    let non_visible = bindings(input.notifications)?;
    let stamp = input
        .when
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|_| SignError::Time(input.when.to_string()))?;
    let nonce: [u8; 20] = rand::random();
    let key_info = format!(
        "<KeyInfo xmlns=\"{DSIG_NS}\" Id=\"{KEY_INFO_ID}\"><X509Data><X509Certificate>{}</X509Certificate>\
         <X509Certificate>{}</X509Certificate></X509Data></KeyInfo>",
        STANDARD.encode(signer.cert_der()),
        STANDARD.encode(pki.ca_cert_der()),
    );
    let object = format!(
        "<Object><bankIdSignedData xmlns=\"{BANKID_NS}\" Id=\"{SIGNED_DATA_ID}\">\
         <usrVisibleData charset=\"UTF-8\" visible=\"wysiwys\">{}</usrVisibleData>\
         <usrNonVisibleData>{}</usrNonVisibleData>\
         <srvInfo><name>{}</name><nonce>{}</nonce><displayName>{}</displayName></srvInfo>\
         <clientInfo><funcId>Signing</funcId><version>{}</version><env><ai><type>{}</type>\
         <deviceInfo>{}</deviceInfo><uauth>pw</uauth><time>{}</time></ai></env></clientInfo>\
         </bankIdSignedData></Object>",
        STANDARD.encode(input.visible_text.as_bytes()),
        STANDARD.encode(non_visible.as_bytes()),
        STANDARD.encode("eioa-harness test relying party"),
        STANDARD.encode(nonce),
        STANDARD.encode("eioa-harness"),
        STANDARD.encode("eioa-harness-test-signer"),
        esc("TEST"),
        STANDARD.encode("eioa-harness test device"),
        esc(&stamp),
    );
    let draft = document("", "", "", &key_info, &object);
    let d_data = Sha256::digest(
        canonicalize(draft.as_bytes(), Select::Id(SIGNED_DATA_ID))
            .map_err(c14n_err("bankIdSignedData"))?,
    );
    let d_key = Sha256::digest(
        canonicalize(draft.as_bytes(), Select::Id(KEY_INFO_ID)).map_err(c14n_err("KeyInfo"))?,
    );
    let with_digests = document(
        &STANDARD.encode(d_data),
        &STANDARD.encode(d_key),
        "",
        &key_info,
        &object,
    );
    let signed_info = canonicalize(
        with_digests.as_bytes(),
        Select::Element {
            ns: DSIG_NS,
            local: "SignedInfo",
        },
    )
    .map_err(c14n_err("SignedInfo"))?;
    let value = SigningKey::<Sha256>::new(signer.key().clone())
        .try_sign(&signed_info)
        .map_err(SignError::Rsa)?
        .to_vec();
    let final_doc = document(
        &STANDARD.encode(d_data),
        &STANDARD.encode(d_key),
        &STANDARD.encode(value),
        &key_info,
        &object,
    );
    let ocsp_der = crate::ocsp::respond(pki, signer, input.when)?;
    Ok(Signed {
        signature_xml: final_doc.into_bytes(),
        ocsp_der,
    })
}

pub(crate) fn b64(e: &Elem, element: &str) -> Result<Vec<u8>, SignatureError> {
    let compact: Vec<u8> = e
        .text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(compact)
        .map_err(|source| SignatureError::BadBase64 {
            element: element.to_string(),
            source,
        })
}

fn missing(what: &str) -> SignatureError {
    SignatureError::MissingElement(what.to_string())
}

/// Verifies a BankID-shaped signature: both reference digests over the re-canonicalised
/// bytes, the RSA signature value, a certification path from the signer certificate
/// through the other KeyInfo certificates to one of `trust_anchors` (DER) with every
/// certificate valid at `at` (see `chain.rs` for what the path must satisfy), then
/// decodes the BankID data and the payload bindings.
pub fn verify(
    signature_xml: &[u8],
    trust_anchors: &[Vec<u8>],
    at: OffsetDateTime,
) -> Result<Verified, SignatureError> {
    verify_with(
        signature_xml,
        &crate::chain::TrustAnchors::new(trust_anchors.to_vec()),
        at,
        None,
    )
    .map(|(verified, _)| verified)
}

/// [`verify`] against anchors already read, with the path check through `cache`
/// when there is one. Also returns when the certification path is valid.
pub(crate) fn verify_with(
    signature_xml: &[u8],
    trust_anchors: &crate::chain::TrustAnchors,
    at: OffsetDateTime,
    cache: Option<&crate::Verifier>,
) -> Result<(Verified, crate::chain::Window), SignatureError> {
    let root = xml::parse(signature_xml)?;
    if !root.is(DSIG_NS, "Signature") {
        return Err(missing("ds:Signature root"));
    }
    let mut all = Vec::new();
    root.walk(&mut all);
    // Ids must be unique and SignedInfo single, or libxml2's choice and ours could differ.
    let mut ids: Vec<&str> = all.iter().filter_map(|e| e.attr("Id")).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(SignatureError::Ambiguous(format!(
            "element with Id=\"{}\"",
            w[0]
        )));
    }
    if all.iter().filter(|e| e.is(DSIG_NS, "SignedInfo")).count() > 1 {
        return Err(SignatureError::Ambiguous("SignedInfo".into()));
    }
    let by_id = |id: &str| all.iter().copied().find(|e| e.attr("Id") == Some(id));
    let signed_info = root
        .child(DSIG_NS, "SignedInfo")
        .ok_or_else(|| missing("SignedInfo"))?;
    let alg = |e: Option<&Elem>, what: &str| -> Result<String, SignatureError> {
        let e = e.ok_or_else(|| missing(what))?;
        Ok(e.attr("Algorithm").unwrap_or_default().to_string())
    };
    let c14n = alg(
        signed_info.child(DSIG_NS, "CanonicalizationMethod"),
        "CanonicalizationMethod",
    )?;
    if c14n != C14N_ALG {
        return Err(SignatureError::UnsupportedAlgorithm {
            what: "canonicalization",
            uri: c14n,
        });
    }
    let sig_alg = alg(
        signed_info.child(DSIG_NS, "SignatureMethod"),
        "SignatureMethod",
    )?;
    if sig_alg != RSA_SHA256_ALG {
        return Err(SignatureError::UnsupportedAlgorithm {
            what: "signature",
            uri: sig_alg,
        });
    }
    let refs: Vec<&Elem> = signed_info.children_named(DSIG_NS, "Reference").collect();
    let mut uris: Vec<String> = refs
        .iter()
        .map(|r| r.attr("URI").unwrap_or_default().to_string())
        .collect();
    uris.sort();
    if uris != ["#bidKeyInfo", "#bidSignedData"] {
        return Err(SignatureError::UnexpectedReferences { found: uris });
    }
    let mut digests: Vec<(String, String, Vec<u8>)> = Vec::with_capacity(2);
    for r in &refs {
        let uri = r.attr("URI").unwrap_or_default();
        if let Some(transforms) = r.child(DSIG_NS, "Transforms") {
            for t in transforms.children_named(DSIG_NS, "Transform") {
                let a = t.attr("Algorithm").unwrap_or_default();
                if a != C14N_ALG {
                    return Err(SignatureError::UnsupportedAlgorithm {
                        what: "transform",
                        uri: a.to_string(),
                    });
                }
            }
        }
        let dm = alg(r.child(DSIG_NS, "DigestMethod"), "DigestMethod")?;
        if dm != SHA256_ALG {
            return Err(SignatureError::UnsupportedAlgorithm {
                what: "digest",
                uri: dm,
            });
        }
        let dv = b64(
            r.child(DSIG_NS, "DigestValue")
                .ok_or_else(|| missing("DigestValue"))?,
            "DigestValue",
        )?;
        let id = uri[1..].to_string();
        let target = by_id(&id).ok_or_else(|| missing(&format!("element with Id=\"{id}\"")))?;
        let expected_kind = if id == SIGNED_DATA_ID {
            (BANKID_NS, "bankIdSignedData")
        } else {
            (DSIG_NS, "KeyInfo")
        };
        if !target.is(expected_kind.0, expected_kind.1) {
            return Err(missing(&format!("{} with Id=\"{id}\"", expected_kind.1)));
        }
        digests.push((uri.to_string(), id, dv));
    }
    // Both referenced subtrees and SignedInfo from one parse of the signature.
    let mut selects: Vec<Select<'_>> = digests.iter().map(|(_, id, _)| Select::Id(id)).collect();
    selects.push(Select::Element {
        ns: DSIG_NS,
        local: "SignedInfo",
    });
    let mut canonical = canonicalize_many(signature_xml, &selects)
        .map_err(|e| SignatureError::Canonicalization(e.to_string()))?;
    let si = canonical.pop().unwrap_or_default();
    for ((uri, _, dv), c) in digests.iter().zip(&canonical) {
        if Sha256::digest(c).as_slice() != dv.as_slice() {
            return Err(SignatureError::DigestMismatch {
                reference: uri.clone(),
            });
        }
    }
    // Signer certificate and chain, from the digested KeyInfo only.
    let key_info = by_id(KEY_INFO_ID).ok_or_else(|| missing("KeyInfo"))?;
    let mut chain = Vec::new();
    for x in key_info.children_named(DSIG_NS, "X509Data") {
        for c in x.children_named(DSIG_NS, "X509Certificate") {
            let der_bytes = b64(c, "X509Certificate")?;
            let cert = Certificate::from_der(&der_bytes)
                .map_err(|e| SignatureError::BadCertificate(e.to_string()))?;
            chain.push((der_bytes, cert));
        }
    }
    let (leaf_der, leaf) = chain
        .first()
        .cloned()
        .ok_or_else(|| missing("X509Certificate"))?;
    let sv = b64(
        root.child(DSIG_NS, "SignatureValue")
            .ok_or_else(|| missing("SignatureValue"))?,
        "SignatureValue",
    )?;
    let leaf_key = public_key(&leaf)?;
    if !verify_rsa(&leaf_key, SHA256_RSA, &si, &sv)? {
        return Err(SignatureError::BadSignatureValue);
    }
    let others: Vec<Vec<u8>> = chain.iter().skip(1).map(|(d, _)| d.clone()).collect();
    let window = match cache {
        Some(c) => c.path(&leaf, &leaf_der, &others, at)?,
        None => crate::chain::verify_path(&leaf, &leaf_der, &others, trust_anchors, at)?,
    };
    // BankID data, from the digested bankIdSignedData only.
    let data = by_id(SIGNED_DATA_ID).ok_or_else(|| missing("bankIdSignedData"))?;
    let text = |local: &str, required: bool| -> Result<String, SignatureError> {
        match data.child(BANKID_NS, local) {
            Some(e) => String::from_utf8(b64(e, local)?).map_err(|_| SignatureError::NotUtf8 {
                element: local.to_string(),
            }),
            None if required => Err(missing(local)),
            None => Ok(String::new()),
        }
    };
    let visible_text = text("usrVisibleData", true)?;
    let non_visible_data = text("usrNonVisibleData", false)?;
    let bindings = parse_bindings(&non_visible_data)?;
    let verified = Verified {
        signer_cert_der: leaf_der,
        visible_text,
        non_visible_data,
        bindings,
    };
    Ok((verified, window))
}

fn parse_bindings(s: &str) -> Result<Vec<(String, String)>, SignatureError> {
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    s.split(';')
        .map(|entry| {
            let (id, hash) = entry
                .trim()
                .split_once(',')
                .ok_or_else(|| SignatureError::MalformedBinding(entry.to_string()))?;
            let ok = !id.is_empty()
                && hash.len() == 64
                && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if !ok {
                return Err(SignatureError::MalformedBinding(entry.to_string()));
            }
            Ok((id.to_string(), hash.to_string()))
        })
        .collect()
}

pub(crate) fn public_key(cert: &Certificate) -> Result<RsaPublicKey, SignatureError> {
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| SignatureError::BadCertificate(e.to_string()))?;
    RsaPublicKey::from_public_key_der(&spki).map_err(|e| {
        SignatureError::BadCertificate(format!(
            "{}: not an rsa key: {e}",
            cert.tbs_certificate.subject
        ))
    })
}

const SHA256_RSA: &str = "1.2.840.113549.1.1.11";
const SHA384_RSA: &str = "1.2.840.113549.1.1.12";
const SHA512_RSA: &str = "1.2.840.113549.1.1.13";

/// Verifies an RSA PKCS#1 v1.5 signature identified by its algorithm OID.
///
/// Verification uses ring (7-8x faster than the rsa crate here): the stand-in checks
/// three RSA signatures per request. Keys below 2048 bits are refused by ring's
/// algorithms, as BankID's are 2048 bits or more.
pub(crate) fn verify_rsa(
    key: &RsaPublicKey,
    oid: &str,
    msg: &[u8],
    sig: &[u8],
) -> Result<bool, SignatureError> {
    use rsa::pkcs1::EncodeRsaPublicKey;
    let alg: &'static ring::signature::RsaParameters = match oid {
        SHA256_RSA => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        SHA384_RSA => &ring::signature::RSA_PKCS1_2048_8192_SHA384,
        SHA512_RSA => &ring::signature::RSA_PKCS1_2048_8192_SHA512,
        other => {
            return Err(SignatureError::UnsupportedAlgorithm {
                what: "certificate signature",
                uri: other.to_string(),
            })
        }
    };
    let der = key
        .to_pkcs1_der()
        .map_err(|e| SignatureError::BadCertificate(e.to_string()))?;
    Ok(ring::signature::UnparsedPublicKey::new(alg, der.as_bytes())
        .verify(msg, sig)
        .is_ok())
}
