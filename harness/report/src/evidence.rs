//! The evidence file: proof that a report directory was not edited after the run.
//!
//! `evidence.json` beside the report holds a manifest of every report file's SHA-256 (in
//! `sha256sum` format, so `jq -r .manifest evidence.json | sha256sum -c` checks it with
//! standard tools), a signature over the manifest's bytes made with the client key that made
//! the connection (the identity the server saw), the signature scheme, and the signing
//! certificate chain as PEM. [`verify`] recomputes the hashes, checks the signature against the
//! embedded certificate (webpki), and names every file that was changed, removed or added.
//!
//! What this proves, and what not: the files are as they were when a holder of that private
//! key signed them. Whether the certificate is the one the server saw is for the reader to
//! compare (the fingerprint is printed, and the report itself names the client certificate;
//! [`verify`] flags a report whose client certificate is not the signer's).
//!
//! Signatures: RSA keys sign with PKCS#1 v1.5 and SHA-256, ECDSA keys with their curve's
//! scheme (P-256 with SHA-256, P-384 with SHA-384, DER-encoded), Ed25519 as itself. Each is
//! what `openssl dgst -sha256 -verify pubkey.pem -signature sig.bin manifest` (or `-sha384`)
//! checks.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rustls::pki_types::{CertificateDer, TrustAnchor, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::validation::terminal_safe;

/// The evidence file's name inside a report directory.
pub const EVIDENCE_FILE: &str = "evidence.json";

/// The evidence file's shape version.
pub const FORMAT: &str = "eioa-evidence/1";

/// The largest file hashed or read (report files are far smaller): a bigger one is refused
/// rather than read, so `report.html -> /dev/zero` cannot exhaust memory or time.
pub const MAX_FILE: u64 = 64 * 1024 * 1024;

/// The report file that must name the connection's client certificate.
const SUMMARY: &str = "summary.json";

/// `id-kp-clientAuth` (1.3.6.1.5.5.7.3.2), the OID's content bytes.
const CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];

/// Algorithms accepted for certificate signatures along the signer's chain.
static CHAIN_ALGORITHMS: &[&dyn rustls::pki_types::SignatureVerificationAlgorithm] = &[
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P256_SHA384,
    webpki::ring::ECDSA_P384_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
];

/// Schemes offered to the key, in order; a key picks the one it can make. RSA is offered
/// PKCS#1 v1.5 only, so its signatures are deterministic and checkable with `openssl dgst`.
const OFFERED: [SignatureScheme; 4] = [
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::ECDSA_NISTP256_SHA256,
    SignatureScheme::ECDSA_NISTP384_SHA384,
    SignatureScheme::ED25519,
];

const ABOUT: &str = "manifest: SHA-256 of every report file (sha256sum format); signature: \
over the manifest's UTF-8 bytes with the client key that made the connection, base64; \
certificate: that key's certificate chain, leaf first. Check with \
`eioa evidence verify DIR --ca CA.pem` (or `--fingerprint SHA256` of the client certificate).";

/// `evidence.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// [`FORMAT`].
    pub format: String,
    /// What the fields mean, for a person opening the file.
    pub about: String,
    /// One line per file, sorted by name: `<sha256 hex>  <name>`.
    pub manifest: String,
    /// The signature scheme, rustls' name: `RSA_PKCS1_SHA256`, `ECDSA_NISTP256_SHA256`,
    /// `ECDSA_NISTP384_SHA384` or `ED25519`.
    pub scheme: String,
    /// The signature over `manifest`, base64.
    pub signature: String,
    /// The signing certificate chain as PEM, leaf (the signer) first.
    pub certificate: String,
}

/// Why evidence could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// A file could not be read or written.
    #[error("{what} {}", terminal_safe(&path.display().to_string()))]
    Io {
        /// `read`, `write`…
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file to list is not a regular file, or too large.
    #[error("list {name:?} in the manifest: it {reason}")]
    NotRegular {
        /// The name.
        name: String,
        /// Why, e.g. `is a symbolic link`.
        reason: String,
    },
    /// A file name cannot go into a manifest (it must be a plain name in the directory).
    #[error("list {name:?} in the manifest: only plain file names can be listed")]
    BadName {
        /// The name.
        name: String,
    },
    /// The key cannot make any of the offered signature schemes.
    #[error("sign the manifest: the key supports none of RSA PKCS#1 SHA-256, ECDSA P-256/P-384 or Ed25519")]
    NoScheme,
    /// The key failed to sign.
    #[error("sign the manifest")]
    Sign(#[source] rustls::Error),
}

/// The manifest of `files` in `dir`: `<sha256>  <name>` lines sorted by name.
pub fn manifest(dir: &Path, files: &[&str]) -> Result<String, EvidenceError> {
    let mut sorted: Vec<&str> = files.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    for name in sorted {
        if !plain_name(name) {
            return Err(EvidenceError::BadName { name: name.into() });
        }
        let hash = match read_regular(&dir.join(name), false) {
            Read::Regular { sha256, .. } => sha256,
            Read::Missing => {
                return Err(EvidenceError::Io {
                    what: "read",
                    path: dir.join(name),
                    source: std::io::ErrorKind::NotFound.into(),
                })
            }
            Read::Refused(reason) => {
                return Err(EvidenceError::NotRegular {
                    name: name.into(),
                    reason,
                })
            }
        };
        let _ = writeln!(out, "{hash}  {name}");
    }
    Ok(out)
}

/// Signs the manifest of `files` in `dir` with `key` (the client identity's key and chain).
pub fn sign(dir: &Path, files: &[&str], key: &CertifiedKey) -> Result<Evidence, EvidenceError> {
    let manifest = manifest(dir, files)?;
    let signer = key
        .key
        .choose_scheme(&OFFERED)
        .ok_or(EvidenceError::NoScheme)?;
    let signature = signer
        .sign(manifest.as_bytes())
        .map_err(EvidenceError::Sign)?;
    let mut certificate = String::new();
    for der in &key.cert {
        certificate.push_str(&pem("CERTIFICATE", der));
    }
    Ok(Evidence {
        format: FORMAT.into(),
        about: ABOUT.into(),
        manifest,
        scheme: format!("{:?}", signer.scheme()),
        signature: base64::engine::general_purpose::STANDARD.encode(signature),
        certificate,
    })
}

impl Evidence {
    /// The file's text (pretty JSON with a final newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// Who signed, as read from the embedded certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signer {
    /// The certificate's subject.
    pub subject: String,
    /// Its issuer.
    pub issuer: String,
    /// Its serial number, colon-separated hex.
    pub serial: String,
    /// Validity start, RFC 3339.
    pub not_before: String,
    /// Validity end, RFC 3339.
    pub not_after: String,
    /// SHA-256 of its DER, lowercase hex: compare with the fingerprint the server saw.
    pub sha256: String,
}

/// Whom to accept as the signer: [`verify_with`] authenticates the signing certificate
/// against each that is given, and every one must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    /// Trust anchors (DER): the signer's chain (the embedded certificates) must lead to one of
    /// them, every certificate valid at the run's start, the signer's extendedKeyUsage naming
    /// clientAuth (as the server's client-certificate check requires).
    pub anchors: Vec<Vec<u8>>,
    /// SHA-256 fingerprints of the signer's certificate, lowercase hex ([`parse_fingerprint`]):
    /// the signer must be one of them.
    pub fingerprints: Vec<String>,
}

impl Trust {
    /// True when nothing is given to authenticate the signer against.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty() && self.fingerprints.is_empty()
    }
}

/// A SHA-256 fingerprint as typed: 64 hex digits, upper or lower case, optionally in
/// colon-separated pairs (as `openssl x509 -fingerprint -sha256` prints it). Lowercase hex.
pub fn parse_fingerprint(text: &str) -> Result<String, String> {
    let text = text.trim();
    let text = text
        .strip_prefix("sha256:")
        .or_else(|| text.strip_prefix("SHA256:"))
        .unwrap_or(text);
    let hex: String = text.chars().filter(|c| *c != ':').collect();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err(format!(
            "{:?} is not a SHA-256 fingerprint: 64 hex digits, optionally colon-separated",
            terminal_safe(text)
        ))
    }
}

/// The state of one file named in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum FileState {
    /// Its bytes are the ones signed.
    Intact,
    /// Its bytes differ.
    Changed {
        /// SHA-256 in the manifest.
        expected: String,
        /// SHA-256 now.
        actual: String,
    },
    /// It is gone.
    Missing,
    /// It is not a regular file (a symbolic link, a FIFO, a device…), is too large, or cannot
    /// be read: it is not what was signed, and it is not followed or read.
    Refused {
        /// Why, e.g. `is a symbolic link (not followed)`.
        reason: String,
    },
}

/// One file of the manifest and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileCheck {
    /// The file name.
    pub name: String,
    /// Its state.
    #[serde(flatten)]
    pub state: FileState,
}

/// What [`Verification::verdict`] concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The files are the ones signed, by a signer the given [`Trust`] authenticates.
    Intact,
    /// The files are the ones the embedded certificate's key signed, but nothing was given to
    /// authenticate that certificate: anyone could have made it.
    Unauthenticated,
    /// Something was changed, removed, added or refused, the signature does not hold, the
    /// report names another client certificate (or none), or the signer is not the trusted one.
    Tampered,
}

/// The outcome of [`verify_with`]: every problem found, not only the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The directory checked.
    pub dir: PathBuf,
    /// The signer, when the embedded certificate could be read.
    pub signer: Option<Signer>,
    /// The signature scheme named in the evidence.
    pub scheme: Option<String>,
    /// Whether the signature over the manifest checks out against the embedded certificate.
    pub signature_valid: bool,
    /// How the signer was authenticated, one line per [`Trust`] item that held; empty when
    /// none was given (or none held: each failure is also in `problems`).
    pub authenticated: Vec<String>,
    /// The manifest's files, in its order.
    pub files: Vec<FileCheck>,
    /// Files in the directory that the manifest does not list.
    pub added: Vec<String>,
    /// Anything else wrong: no or unreadable evidence, a bad signature, a malformed manifest,
    /// a report naming another client certificate than the signer's (or none), a signer the
    /// given [`Trust`] refuses.
    pub problems: Vec<String>,
}

impl Verification {
    /// True when the signature is valid, every file is intact, none was added, and nothing
    /// else is wrong. Says nothing of who signed: see [`Verification::verdict`].
    pub fn intact(&self) -> bool {
        self.signature_valid
            && self.problems.is_empty()
            && self.added.is_empty()
            && self.files.iter().all(|f| f.state == FileState::Intact)
    }

    /// The conclusion: [`Verdict::Intact`] only when [`Verification::intact`] and the signer
    /// was authenticated.
    pub fn verdict(&self) -> Verdict {
        if !self.intact() {
            Verdict::Tampered
        } else if self.authenticated.is_empty() {
            Verdict::Unauthenticated
        } else {
            Verdict::Intact
        }
    }

    /// The outcome for a person: one line per file, the signer, and the verdict last. Names,
    /// subjects and messages are shown with control characters escapes ([`terminal_safe`]):
    /// a file name cannot move the cursor or print a line of its own.
    pub fn render(&self) -> String {
        let safe = |t: &str| terminal_safe(t).into_owned();
        let mut s = String::new();
        let _ = writeln!(s, "evidence in {}", safe(&self.dir.display().to_string()));
        match &self.signer {
            Some(c) => {
                let _ = writeln!(s, "  signed by   {}", safe(&c.subject));
                let _ = writeln!(s, "  issuer      {}", safe(&c.issuer));
                let _ = writeln!(s, "  serial      {}", safe(&c.serial));
                let _ = writeln!(s, "  valid       {} .. {}", c.not_before, c.not_after);
                let _ = writeln!(s, "  sha-256     {}", c.sha256);
            }
            None => {
                let _ = writeln!(s, "  signed by   (no readable certificate)");
            }
        }
        let _ = writeln!(
            s,
            "  signature   {} ({})",
            if self.signature_valid {
                "valid"
            } else {
                "INVALID"
            },
            safe(self.scheme.as_deref().unwrap_or("no scheme"))
        );
        if self.authenticated.is_empty() {
            let _ = writeln!(s, "  signer      NOT authenticated");
        }
        for a in &self.authenticated {
            let _ = writeln!(s, "  signer      authenticated: {}", safe(a));
        }
        for f in &self.files {
            let name = safe(&f.name);
            let _ = match &f.state {
                FileState::Intact => writeln!(s, "  ok        {name}"),
                FileState::Changed { expected, actual } => writeln!(
                    s,
                    "  CHANGED   {name} (signed sha-256 {expected}, now {actual})"
                ),
                FileState::Missing => writeln!(s, "  MISSING   {name}"),
                FileState::Refused { reason } => {
                    writeln!(s, "  REFUSED   {name} ({})", safe(reason))
                }
            };
        }
        for a in &self.added {
            let _ = writeln!(s, "  ADDED     {} (not in the signed manifest)", safe(a));
        }
        for p in &self.problems {
            let _ = writeln!(s, "  problem: {}", safe(p));
        }
        let _ = writeln!(
            s,
            "{}",
            match self.verdict() {
                Verdict::Intact => "intact: the files are the ones signed, by an authenticated signer",
                Verdict::Unauthenticated =>
                    "signature valid, but the signer is NOT authenticated: pass --ca or --fingerprint",
                Verdict::Tampered =>
                    "TAMPERED: the directory is not as it was signed by the client certificate",
            }
        );
        s
    }
}

/// [`verify_with`] with nothing to authenticate the signer: at best
/// [`Verdict::Unauthenticated`].
pub fn verify(dir: &Path) -> Result<Verification, EvidenceError> {
    verify_with(dir, &Trust::default())
}

/// Checks the evidence in `dir`, and authenticates its signer against `trust`. Everything
/// wrong with the evidence or the files is part of the [`Verification`]; `Err` only when `dir`
/// itself cannot be listed.
pub fn verify_with(dir: &Path, trust: &Trust) -> Result<Verification, EvidenceError> {
    let listing = list_dir(dir)?;
    let mut v = Verification {
        dir: dir.to_owned(),
        signer: None,
        scheme: None,
        signature_valid: false,
        authenticated: Vec::new(),
        files: Vec::new(),
        added: Vec::new(),
        problems: Vec::new(),
    };
    let evidence: Evidence = match read_regular(&dir.join(EVIDENCE_FILE), true) {
        Read::Missing => {
            v.problems.push(format!("{EVIDENCE_FILE} is missing"));
            v.added = listing;
            return Ok(v);
        }
        Read::Refused(reason) => {
            v.problems.push(format!("{EVIDENCE_FILE} {reason}"));
            v.added = listing.into_iter().filter(|n| n != EVIDENCE_FILE).collect();
            return Ok(v);
        }
        Read::Regular { bytes, .. } => match serde_json::from_slice(&bytes.unwrap_or_default()) {
            Ok(e) => e,
            Err(e) => {
                v.problems
                    .push(format!("{EVIDENCE_FILE} cannot be read: {e}"));
                v.added = listing.into_iter().filter(|n| n != EVIDENCE_FILE).collect();
                return Ok(v);
            }
        },
    };
    if evidence.format != FORMAT {
        v.problems.push(format!(
            "{EVIDENCE_FILE} has format {:?}, this tool reads {FORMAT:?}",
            evidence.format
        ));
    }
    v.scheme = Some(evidence.scheme.clone());
    let chain = check_signature(&evidence, &mut v);

    // The files, judged by the manifest even when the signature failed: the reader learns
    // what changed either way. summary.json's bytes are kept: the ones hashed are the ones
    // read for the client certificate.
    let mut listed: BTreeSet<String> = BTreeSet::new();
    let mut summary: Option<Vec<u8>> = None;
    for (n, line) in evidence.manifest.lines().enumerate() {
        let Some((hash, name)) = line.split_once("  ") else {
            v.problems
                .push(format!("manifest line {} is not `<sha256>  <name>`", n + 1));
            continue;
        };
        let hash_ok = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        if !hash_ok || !plain_name(name) || name == EVIDENCE_FILE {
            v.problems
                .push(format!("manifest line {} is not `<sha256>  <name>`", n + 1));
            continue;
        }
        if !listed.insert(name.to_owned()) {
            v.problems
                .push(format!("manifest lists {name} more than once"));
            continue;
        }
        let state = match read_regular(&dir.join(name), name == SUMMARY) {
            Read::Regular { sha256, bytes } => {
                if sha256.eq_ignore_ascii_case(hash) {
                    if name == SUMMARY {
                        summary = bytes;
                    }
                    FileState::Intact
                } else {
                    FileState::Changed {
                        expected: hash.to_ascii_lowercase(),
                        actual: sha256,
                    }
                }
            }
            Read::Missing => FileState::Missing,
            Read::Refused(reason) => FileState::Refused { reason },
        };
        v.files.push(FileCheck {
            name: name.to_owned(),
            state,
        });
    }
    if v.files.is_empty() {
        v.problems.push("the manifest lists no file".into());
    }
    v.added = listing
        .into_iter()
        .filter(|n| n != EVIDENCE_FILE && !listed.contains(n))
        .collect();

    // The report names the client certificate of the connection: it must be the signer's.
    // It must name one: evidence is only written when a client identity was loaded, so a
    // summary without one was edited (removing it would otherwise skip this check).
    let run = summary.as_deref().map(summary_facts);
    if !listed.contains(SUMMARY) {
        v.problems.push(format!(
            "the manifest does not list {SUMMARY}, which names the connection's client certificate"
        ));
    } else if let (Some(facts), Some(signer)) = (&run, &v.signer) {
        match &facts.client_certs[..] {
            [] => v.problems.push(format!(
                "{SUMMARY} names no client certificate (client_cert.sha256), but evidence is \
                 only made with one: the report was edited"
            )),
            named => {
                for fp in named {
                    if !fp.eq_ignore_ascii_case(&signer.sha256) {
                        v.problems.push(format!(
                            "the report's client certificate (sha-256 {fp}) is not the one that \
                             signed the evidence (sha-256 {}): the report was signed by someone \
                             else",
                            signer.sha256
                        ));
                    }
                }
            }
        }
    }

    if let Some(chain) = chain {
        let at = run.as_ref().and_then(|f| f.started_at);
        authenticate(&chain, at, trust, &mut v);
    }
    Ok(v)
}

/// Authenticates the signer (`chain[0]`) against each item of `trust`: a pinned fingerprint,
/// or a path to an anchor valid at `at` (the run's start; now when the summary gives none)
/// with clientAuth.
fn authenticate(
    chain: &[CertificateDer<'static>],
    at: Option<OffsetDateTime>,
    trust: &Trust,
    v: &mut Verification,
) {
    let Some(signer) = v.signer.clone() else {
        return;
    };
    if !trust.fingerprints.is_empty() {
        if trust
            .fingerprints
            .iter()
            .any(|f| f.eq_ignore_ascii_case(&signer.sha256))
        {
            v.authenticated
                .push("its SHA-256 is the --fingerprint given".into());
        } else {
            v.problems.push(format!(
                "the signer's certificate (sha-256 {}) is not the --fingerprint given: \
                 someone else signed",
                signer.sha256
            ));
        }
    }
    if trust.anchors.is_empty() {
        return;
    }
    let (at, when) = match at {
        Some(t) => (t, "the run's start"),
        None => (OffsetDateTime::now_utc(), "now"),
    };
    match verify_chain(chain, &trust.anchors, at) {
        Ok(anchor) => v.authenticated.push(format!(
            "its chain leads to the --ca {anchor}, valid at {} ({when}), for clientAuth",
            rfc3339(at)
        )),
        Err(reason) => v
            .problems
            .push(format!("the signer is not authenticated by --ca: {reason}")),
    }
}

/// Builds a path from `chain[0]` through `chain[1..]` to one of `anchors` (DER), valid at
/// `at`, the leaf's extendedKeyUsage naming clientAuth. The anchor's subject, or why not.
fn verify_chain(
    chain: &[CertificateDer<'static>],
    anchors: &[Vec<u8>],
    at: OffsetDateTime,
) -> Result<String, String> {
    let leaf = chain.first().ok_or("no certificate")?;
    let ee = webpki::EndEntityCert::try_from(leaf).map_err(|e| e.to_string())?;
    let mut webpki_anchors: Vec<(TrustAnchor<'static>, &[u8])> = Vec::new();
    for der in anchors {
        let a = webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
            .map_err(|e| format!("a --ca certificate cannot be used: {e}"))?
            .to_owned();
        webpki_anchors.push((a, der));
    }
    let only: Vec<TrustAnchor<'static>> = webpki_anchors.iter().map(|(a, _)| a.clone()).collect();
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        u64::try_from(at.unix_timestamp()).unwrap_or(0),
    ));
    let path = ee
        .verify_for_usage(
            CHAIN_ALGORITHMS,
            &only,
            &chain[1..],
            time,
            webpki::KeyUsage::required(CLIENT_AUTH),
            None,
            None,
        )
        .map_err(|e| chain_error(&e, at))?;
    // webpki keeps only the anchor's name and key: its validity is checked here.
    let der = webpki_anchors
        .iter()
        .find(|(a, _)| a == path.anchor())
        .map(|(_, d)| *d)
        .ok_or("the anchor used is not one of --ca")?;
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    let subject = cert.subject().to_string();
    let t = x509_parser::time::ASN1Time::from_timestamp(at.unix_timestamp())
        .map_err(|e| e.to_string())?;
    if !cert.validity().is_valid_at(t) {
        return Err(format!(
            "the --ca certificate {subject} is not valid at {} ({} .. {})",
            rfc3339(at),
            asn1_rfc3339(cert.validity().not_before),
            asn1_rfc3339(cert.validity().not_after)
        ));
    }
    Ok(subject)
}

fn chain_error(e: &webpki::Error, at: OffsetDateTime) -> String {
    use webpki::Error as E;
    match e {
        E::UnknownIssuer => {
            "its chain does not lead to the --ca certificate (issued by someone else, or \
             self-signed)"
                .into()
        }
        E::CertExpired { .. } | E::CertNotValidYet { .. } => format!(
            "a certificate of its chain is not valid at {} (the run's time)",
            rfc3339(at)
        ),
        E::RequiredEkuNotFoundContext(_) => {
            "its extendedKeyUsage does not name clientAuth, which the server requires".into()
        }
        E::CaUsedAsEndEntity => "the signer's certificate is a CA certificate".into(),
        other => other.to_string(),
    }
}

/// Checks `evidence.signature` over the manifest with the first embedded certificate; fills
/// in the signer and `signature_valid`, or says what is wrong. The embedded chain when the
/// signature holds.
fn check_signature(
    evidence: &Evidence,
    v: &mut Verification,
) -> Option<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = match rustls_pemfile::certs(&mut evidence.certificate.as_bytes())
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(c) => c,
        Err(e) => {
            v.problems
                .push(format!("the embedded certificate is not PEM: {e}"));
            return None;
        }
    };
    let Some(leaf) = certs.first() else {
        v.problems.push("the evidence embeds no certificate".into());
        return None;
    };
    match signer_info(leaf) {
        Ok(s) => v.signer = Some(s),
        Err(e) => {
            v.problems
                .push(format!("the embedded certificate cannot be read: {e}"));
            return None;
        }
    }
    let ee = match webpki::EndEntityCert::try_from(leaf) {
        Ok(ee) => ee,
        Err(e) => {
            v.problems
                .push(format!("the embedded certificate cannot be used: {e}"));
            return None;
        }
    };
    let Some(alg) = algorithm(&evidence.scheme) else {
        v.problems.push(format!(
            "the signature scheme {:?} is not one this tool signs with",
            evidence.scheme
        ));
        return None;
    };
    let sig = match base64::engine::general_purpose::STANDARD.decode(evidence.signature.trim()) {
        Ok(s) => s,
        Err(e) => {
            v.problems.push(format!("the signature is not base64: {e}"));
            return None;
        }
    };
    match ee.verify_signature(alg, evidence.manifest.as_bytes(), &sig) {
        Ok(()) => {
            v.signature_valid = true;
            Some(certs)
        }
        Err(e) => {
            v.problems.push(format!(
                "the signature does not match the manifest and the embedded certificate ({e:?})"
            ));
            None
        }
    }
}

/// The webpki algorithm for a scheme name this module signs with.
fn algorithm(
    scheme: &str,
) -> Option<&'static dyn rustls::pki_types::SignatureVerificationAlgorithm> {
    Some(match scheme {
        "RSA_PKCS1_SHA256" => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
        "ECDSA_NISTP256_SHA256" => webpki::ring::ECDSA_P256_SHA256,
        "ECDSA_NISTP384_SHA384" => webpki::ring::ECDSA_P384_SHA384,
        "ED25519" => webpki::ring::ED25519,
        _ => return None,
    })
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn asn1_rfc3339(t: x509_parser::time::ASN1Time) -> String {
    rfc3339(t.to_datetime())
}

fn signer_info(der: &[u8]) -> Result<Signer, String> {
    let (_, c) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    Ok(Signer {
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
        serial: c.raw_serial_as_string(),
        not_before: asn1_rfc3339(c.validity().not_before),
        not_after: asn1_rfc3339(c.validity().not_after),
        sha256: sha256_hex(der),
    })
}

/// What `summary.json` says of the run that the verification needs.
struct SummaryFacts {
    /// The client certificate fingerprints it names (`client_cert.sha256` and
    /// `exchange.client_cert_sha256`): empty when it names none.
    client_certs: Vec<String>,
    /// `started_at`, the time the signer's chain is checked at.
    started_at: Option<OffsetDateTime>,
}

fn summary_facts(bytes: &[u8]) -> SummaryFacts {
    let doc: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let text = |p: &str| doc.pointer(p).and_then(|v| v.as_str()).map(str::to_owned);
    SummaryFacts {
        client_certs: ["/client_cert/sha256", "/exchange/client_cert_sha256"]
            .iter()
            .filter_map(|p| text(p))
            .collect(),
        started_at: text("/started_at").and_then(|t| {
            OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()
        }),
    }
}

/// A file as read for the manifest.
enum Read {
    /// A regular file: its SHA-256, and its bytes when asked for.
    Regular {
        sha256: String,
        bytes: Option<Vec<u8>>,
    },
    /// Nothing by that name.
    Missing,
    /// Not read, and why: "is a symbolic link (not followed)", "is a FIFO"…
    Refused(String),
}

/// Hashes the regular file `path` as a stream, keeping its bytes if `keep`. A symbolic link,
/// anything but a regular file, and a file over [`MAX_FILE`] are refused, not read: the
/// name is checked without following links, and opened with `O_NOFOLLOW | O_NONBLOCK` (a
/// link or FIFO swapped in between fails to open, or shows in the open file's type).
fn read_regular(path: &Path, keep: bool) -> Read {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Read::Missing,
        Err(e) => return Read::Refused(format!("cannot be read: {e}")),
    };
    if let Some(reason) = not_regular(&meta) {
        return Read::Refused(reason);
    }
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Read::Refused("is a symbolic link (not followed)".into())
        }
        Err(e) => return Read::Refused(format!("cannot be read: {e}")),
    };
    match file.metadata() {
        Ok(m) => {
            if let Some(reason) = not_regular(&m) {
                return Read::Refused(reason);
            }
        }
        Err(e) => return Read::Refused(format!("cannot be read: {e}")),
    }
    let mut hasher = Sha256::new();
    let mut bytes = Vec::new();
    let mut total: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    let mut reader = file.take(MAX_FILE + 1);
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Read::Refused(format!("cannot be read: {e}")),
        };
        total += n as u64;
        if total > MAX_FILE {
            return Read::Refused(too_large());
        }
        hasher.update(&buf[..n]);
        if keep {
            bytes.extend_from_slice(&buf[..n]);
        }
    }
    Read::Regular {
        sha256: hex::encode(hasher.finalize()),
        bytes: keep.then_some(bytes),
    }
}

fn too_large() -> String {
    format!("is larger than {} MiB (not read)", MAX_FILE / (1024 * 1024))
}

/// Why `meta` is not a regular file of at most [`MAX_FILE`] bytes, if it is not.
fn not_regular(meta: &std::fs::Metadata) -> Option<String> {
    let t = meta.file_type();
    let what = if t.is_file() {
        return (meta.len() > MAX_FILE).then(too_large);
    } else if t.is_symlink() {
        "a symbolic link (not followed)"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe), not a regular file"
    } else if t.is_socket() {
        "a socket, not a regular file"
    } else if t.is_block_device() || t.is_char_device() {
        "a device, not a regular file"
    } else {
        "not a regular file"
    };
    Some(format!("is {what}"))
}

/// Regular files and other entries of `dir` by name (a subdirectory shows as `name/`).
fn list_dir(dir: &Path) -> Result<Vec<String>, EvidenceError> {
    let io = |source| EvidenceError::Io {
        what: "list",
        path: dir.to_owned(),
        source,
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let mut name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            name.push('/');
        }
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// A name that stays inside the directory and fits on one manifest line.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\n', '\r', '\0'])
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn pem(label: &str, der: &[u8]) -> String {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap_or_default()
}
