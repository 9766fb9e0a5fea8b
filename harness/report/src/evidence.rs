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
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The evidence file's name inside a report directory.
pub const EVIDENCE_FILE: &str = "evidence.json";

/// The evidence file's shape version.
pub const FORMAT: &str = "eioa-evidence/1";

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
certificate: that key's certificate chain, leaf first. Check with `eioa evidence verify DIR`.";

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
    #[error("{what} {}", path.display())]
    Io {
        /// `read`, `write`…
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
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
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|source| EvidenceError::Io {
            what: "read",
            path,
            source,
        })?;
        let _ = writeln!(out, "{}  {name}", sha256_hex(&bytes));
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

/// The outcome of [`verify`]: every problem found, not only the first.
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
    /// The manifest's files, in its order.
    pub files: Vec<FileCheck>,
    /// Files in the directory that the manifest does not list.
    pub added: Vec<String>,
    /// Anything else wrong: no or unreadable evidence, a bad signature, a malformed manifest,
    /// a report naming another client certificate than the signer's.
    pub problems: Vec<String>,
}

impl Verification {
    /// True when the signature is valid, every file is intact, none was added, and nothing
    /// else is wrong.
    pub fn intact(&self) -> bool {
        self.signature_valid
            && self.problems.is_empty()
            && self.added.is_empty()
            && self.files.iter().all(|f| f.state == FileState::Intact)
    }

    /// The outcome for a person: one line per file, the signer, and the verdict last.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "evidence in {}", self.dir.display());
        match &self.signer {
            Some(c) => {
                let _ = writeln!(s, "  signed by   {}", c.subject);
                let _ = writeln!(s, "  issuer      {}", c.issuer);
                let _ = writeln!(s, "  serial      {}", c.serial);
                let _ = writeln!(s, "  valid       {} .. {}", c.not_before, c.not_after);
                let _ = writeln!(s, "  sha-256     {}", c.sha256);
                let _ = writeln!(
                    s,
                    "              (compare with the client certificate fingerprint the server saw)"
                );
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
            self.scheme.as_deref().unwrap_or("no scheme")
        );
        for f in &self.files {
            let _ = match &f.state {
                FileState::Intact => writeln!(s, "  ok        {}", f.name),
                FileState::Changed { expected, actual } => writeln!(
                    s,
                    "  CHANGED   {} (signed sha-256 {expected}, now {actual})",
                    f.name
                ),
                FileState::Missing => writeln!(s, "  MISSING   {}", f.name),
            };
        }
        for a in &self.added {
            let _ = writeln!(s, "  ADDED     {a} (not in the signed manifest)");
        }
        for p in &self.problems {
            let _ = writeln!(s, "  problem: {p}");
        }
        let _ = writeln!(
            s,
            "{}",
            if self.intact() {
                "intact: the files are the ones signed"
            } else {
                "TAMPERED: the directory is not as it was signed"
            }
        );
        s
    }
}

/// Checks the evidence in `dir`. Everything wrong with the evidence or the files is part of
/// the [`Verification`]; `Err` only when `dir` itself cannot be listed.
pub fn verify(dir: &Path) -> Result<Verification, EvidenceError> {
    let listing = list_dir(dir)?;
    let mut v = Verification {
        dir: dir.to_owned(),
        signer: None,
        scheme: None,
        signature_valid: false,
        files: Vec::new(),
        added: Vec::new(),
        problems: Vec::new(),
    };
    let path = dir.join(EVIDENCE_FILE);
    let evidence: Evidence = match std::fs::read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            v.problems.push(format!("{EVIDENCE_FILE} is missing"));
            v.added = listing;
            return Ok(v);
        }
        Err(source) => {
            return Err(EvidenceError::Io {
                what: "read",
                path,
                source,
            })
        }
        Ok(bytes) => match serde_json::from_slice(&bytes) {
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
    check_signature(&evidence, &mut v);

    // The files, judged by the manifest even when the signature failed: the reader learns
    // what changed either way.
    let mut listed: BTreeSet<String> = BTreeSet::new();
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
        let state = match std::fs::read(dir.join(name)) {
            Ok(bytes) => {
                let actual = sha256_hex(&bytes);
                if actual.eq_ignore_ascii_case(hash) {
                    FileState::Intact
                } else {
                    FileState::Changed {
                        expected: hash.to_ascii_lowercase(),
                        actual,
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileState::Missing,
            Err(e) => {
                v.problems.push(format!("{name} cannot be read: {e}"));
                FileState::Missing
            }
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
    // (Only a report that says which; `summary.json` is itself covered by the manifest.)
    if let Some(signer) = &v.signer {
        let intact_summary = v
            .files
            .iter()
            .any(|f| f.name == "summary.json" && f.state == FileState::Intact);
        if intact_summary {
            if let Some(fp) = summary_client_cert(&dir.join("summary.json")) {
                if !fp.eq_ignore_ascii_case(&signer.sha256) {
                    v.problems.push(format!(
                        "the report's client certificate (sha-256 {fp}) is not the one that \
                         signed the evidence (sha-256 {}): the report was signed by someone else",
                        signer.sha256
                    ));
                }
            }
        }
    }
    Ok(v)
}

/// Checks `evidence.signature` over the manifest with the first embedded certificate; fills
/// in the signer and `signature_valid`, or says what is wrong.
fn check_signature(evidence: &Evidence, v: &mut Verification) {
    let certs: Vec<_> = match rustls_pemfile::certs(&mut evidence.certificate.as_bytes())
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(c) => c,
        Err(e) => {
            v.problems
                .push(format!("the embedded certificate is not PEM: {e}"));
            return;
        }
    };
    let Some(leaf) = certs.first() else {
        v.problems.push("the evidence embeds no certificate".into());
        return;
    };
    match signer_info(leaf) {
        Ok(s) => v.signer = Some(s),
        Err(e) => {
            v.problems
                .push(format!("the embedded certificate cannot be read: {e}"));
            return;
        }
    }
    let ee = match webpki::EndEntityCert::try_from(leaf) {
        Ok(ee) => ee,
        Err(e) => {
            v.problems
                .push(format!("the embedded certificate cannot be used: {e}"));
            return;
        }
    };
    let Some(alg) = algorithm(&evidence.scheme) else {
        v.problems.push(format!(
            "the signature scheme {:?} is not one this tool signs with",
            evidence.scheme
        ));
        return;
    };
    let sig = match base64::engine::general_purpose::STANDARD.decode(evidence.signature.trim()) {
        Ok(s) => s,
        Err(e) => {
            v.problems.push(format!("the signature is not base64: {e}"));
            return;
        }
    };
    match ee.verify_signature(alg, evidence.manifest.as_bytes(), &sig) {
        Ok(()) => v.signature_valid = true,
        Err(e) => v.problems.push(format!(
            "the signature does not match the manifest and the embedded certificate ({e:?})"
        )),
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

fn signer_info(der: &[u8]) -> Result<Signer, String> {
    let (_, c) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    let rfc3339 = |t: x509_parser::time::ASN1Time| {
        t.to_datetime()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    Ok(Signer {
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
        serial: c.raw_serial_as_string(),
        not_before: rfc3339(c.validity().not_before),
        not_after: rfc3339(c.validity().not_after),
        sha256: sha256_hex(der),
    })
}

/// `client_cert.sha256` of a connection test's `summary.json`, if it names one.
fn summary_client_cert(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    doc.pointer("/client_cert/sha256")?
        .as_str()
        .map(str::to_owned)
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
