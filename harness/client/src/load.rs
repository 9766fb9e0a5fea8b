//! Loading what a connection needs from files: the client identity with its passphrase, and
//! extra trust anchors. Shared by every caller (`eioa run`, `send`, `connect`, a library user), so
//! that the rules live once: the passphrase comes from an environment variable or a prompt, never
//! from a value on the command line; a damaged PEM block is an error, not skipped.

use std::path::{Path, PathBuf};

use rustls::pki_types::CertificateDer;

use crate::identity::{pem_is_encrypted, read, Identity, IdentityError};
use crate::secret::{Secret, SecretError};

/// Where the client identity comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// A PEM certificate chain (leaf first) and a PEM key (possibly encrypted PKCS#8).
    Pem {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// A PKCS#12 archive (`.p12`/`.pfx`), always protected by a passphrase.
    Pkcs12(PathBuf),
}

/// A prompt for a passphrase: receives the text to show, returns what was typed.
pub type Prompt<'a> = &'a dyn Fn(&str) -> std::io::Result<String>;

/// How to obtain a passphrase.
pub struct PassphraseSource<'a> {
    /// The environment variable to read first (an empty value counts as unset).
    pub env_var: &'a str,
    /// Asked when the variable is unset and a passphrase is needed (e.g. a terminal prompt
    /// without echo); it receives the text to show.
    pub prompt: Option<Prompt<'a>>,
}

impl std::fmt::Debug for PassphraseSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassphraseSource")
            .field("env_var", &self.env_var)
            .field("prompt", &self.prompt.is_some())
            .finish()
    }
}

impl IdentitySource {
    /// The file a passphrase opens (the key or the archive).
    pub fn protected_file(&self) -> &Path {
        match self {
            IdentitySource::Pem { key, .. } => key,
            IdentitySource::Pkcs12(p) => p,
        }
    }

    /// Whether loading needs a passphrase: always for PKCS#12, for PEM when the key is encrypted.
    pub fn needs_passphrase(&self) -> Result<bool, IdentityError> {
        match self {
            IdentitySource::Pkcs12(_) => Ok(true),
            IdentitySource::Pem { key, .. } => Ok(pem_is_encrypted(&read(key)?)),
        }
    }

    /// The passphrase: the environment variable if set, else (when one is needed) the prompt,
    /// else `None`.
    pub fn passphrase(&self, from: &PassphraseSource<'_>) -> Result<Option<Secret>, LoadError> {
        match std::env::var(from.env_var) {
            Ok(v) if !v.is_empty() => return Ok(Some(Secret::new(v))),
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(LoadError::Secret(SecretError::NotUnicode {
                    var: from.env_var.to_owned(),
                }))
            }
            _ => {}
        }
        if !self.needs_passphrase()? {
            return Ok(None);
        }
        match from.prompt {
            Some(prompt) => {
                let text = format!(
                    "passphrase for {} (or set ${}): ",
                    self.protected_file().display(),
                    from.env_var
                );
                Ok(Some(Secret::from_prompt(&text, prompt)?))
            }
            None => Ok(None),
        }
    }

    /// Loads the identity. A PKCS#12 file or an encrypted key without `passphrase` is
    /// [`IdentityError::PassphraseRequired`].
    pub fn load(&self, passphrase: Option<&Secret>) -> Result<Identity, IdentityError> {
        match self {
            IdentitySource::Pem { cert, key } => Identity::from_pem_files(cert, key, passphrase),
            IdentitySource::Pkcs12(p) => match passphrase {
                Some(secret) => Identity::from_pkcs12_file(p, secret),
                None => Err(IdentityError::PassphraseRequired),
            },
        }
    }
}

/// Why an identity or a CA file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The identity could not be loaded.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The passphrase could not be obtained.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// A CA file could not be read.
    #[error("read {}", path.display())]
    ReadCa {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A CA file is not readable PEM.
    #[error("{} is not a readable pem file", path.display())]
    BadCaPem {
        /// The file.
        path: PathBuf,
        /// What the PEM reader said.
        #[source]
        source: std::io::Error,
    },
    /// A CA file holds no certificate.
    #[error("{} holds no pem certificate", path.display())]
    EmptyCa {
        /// The file.
        path: PathBuf,
    },
}

impl LoadError {
    /// Whether the failure is about reading a file (rather than its contents or the user's
    /// input).
    pub fn is_io(&self) -> bool {
        matches!(
            self,
            LoadError::ReadCa { .. } | LoadError::Identity(IdentityError::Read { .. })
        )
    }
}

/// Every certificate of every PEM file in `paths`, in order: extra trust anchors (`--ca`).
pub fn read_ca_files(paths: &[PathBuf]) -> Result<Vec<CertificateDer<'static>>, LoadError> {
    let mut out = Vec::new();
    for path in paths {
        let pem = std::fs::read(path).map_err(|source| LoadError::ReadCa {
            path: path.clone(),
            source,
        })?;
        let certs = rustls_pemfile::certs(&mut &pem[..])
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| LoadError::BadCaPem {
                path: path.clone(),
                source,
            })?;
        if certs.is_empty() {
            return Err(LoadError::EmptyCa { path: path.clone() });
        }
        out.extend(certs);
    }
    Ok(out)
}
