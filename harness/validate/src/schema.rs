//! Schema sets: the files of one contract version, with their provenance and hashes.
//!
//! The default set (`eioa-v1`, reconstructed) is embedded in the binary so the
//! harness works from any directory. A vendor who has FK's official files imports
//! them as a second set; every output names the set it used.

pub mod diff;

use crate::Error;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File name of a set's manifest.
pub const MANIFEST: &str = "schema-set.json";

/// What a file is for in a schema set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// `anmalan_fran_arbetsgivare_extern_v1.xsd`: the notification itself.
    Payload,
    /// `SkickaAnmalanFranArbetsgivareResponder_1.0.xsd`: request, response, faults.
    Responder,
    /// `xmlmime.xsd`, imported by the Responder schema.
    Xmlmime,
    /// The SOAP 1.1 envelope schema, importing the Responder schema.
    Envelope,
    /// The WSDL the stand-in serves.
    Wsdl,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Payload,
        Role::Responder,
        Role::Xmlmime,
        Role::Envelope,
        Role::Wsdl,
    ];

    /// The file name FK (or this project) uses for the role in contract version 1.
    pub fn default_name(self) -> &'static str {
        match self {
            Role::Payload => "anmalan_fran_arbetsgivare_extern_v1.xsd",
            Role::Responder => "SkickaAnmalanFranArbetsgivareResponder_1.0.xsd",
            Role::Xmlmime => "xmlmime.xsd",
            Role::Envelope => "soap-envelope.xsd",
            Role::Wsdl => "SkickaAnmalanFranArbetsgivareInteraction_1.0_shsbp10.wsdl",
        }
    }
}

/// One file of a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFile {
    pub role: Role,
    pub name: String,
    pub bytes: Arc<[u8]>,
    /// Lowercase hex sha256 of `bytes`.
    pub sha256: String,
}

/// Identity of a set, printed by every command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaSetInfo {
    pub id: String,
    /// `reconstructed` or `official`.
    pub provenance: String,
    /// First 12 hex digits of the sha256 over the files' hashes, in role order.
    pub hash: String,
}

impl std::fmt::Display for SchemaSetInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {})", self.id, self.provenance, self.hash)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    id: String,
    provenance: String,
    #[serde(default)]
    description: String,
    files: Vec<ManifestFile>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ManifestFile {
    role: Role,
    path: String,
    sha256: String,
}

/// A complete set of schema files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaSet {
    pub id: String,
    pub provenance: String,
    pub description: String,
    pub files: Vec<SchemaFile>,
}

macro_rules! embedded {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../schemas/eioa-v1/",
            $name
        ))
    };
}

const EMBEDDED_MANIFEST: &[u8] = embedded!("schema-set.json");
const EMBEDDED_FILES: [(&str, &[u8]); 5] = [
    (
        "anmalan_fran_arbetsgivare_extern_v1.xsd",
        embedded!("anmalan_fran_arbetsgivare_extern_v1.xsd"),
    ),
    (
        "SkickaAnmalanFranArbetsgivareResponder_1.0.xsd",
        embedded!("SkickaAnmalanFranArbetsgivareResponder_1.0.xsd"),
    ),
    ("xmlmime.xsd", embedded!("xmlmime.xsd")),
    ("soap-envelope.xsd", embedded!("soap-envelope.xsd")),
    (
        "SkickaAnmalanFranArbetsgivareInteraction_1.0_shsbp10.wsdl",
        embedded!("SkickaAnmalanFranArbetsgivareInteraction_1.0_shsbp10.wsdl"),
    ),
];

/// Lowercase hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl SchemaSet {
    /// The set compiled into the binary: `eioa-v1`, reconstructed.
    pub fn embedded() -> SchemaSet {
        let m: Manifest = match serde_json::from_slice(EMBEDDED_MANIFEST) {
            Ok(m) => m,
            // The manifest is a compile-time constant checked by this crate's tests.
            Err(e) => panic!("embedded schema manifest is broken: {e}"),
        };
        let files = m
            .files
            .iter()
            .map(|f| {
                let bytes = EMBEDDED_FILES
                    .iter()
                    .find(|(n, _)| *n == f.path)
                    .map(|(_, b)| *b)
                    .unwrap_or_default();
                SchemaFile {
                    role: f.role,
                    name: f.path.clone(),
                    bytes: Arc::from(bytes),
                    sha256: sha256_hex(bytes),
                }
            })
            .collect();
        SchemaSet {
            id: m.id,
            provenance: m.provenance,
            description: m.description,
            files,
        }
    }

    /// Reads a set from a directory. With a `schema-set.json` manifest, the hashes
    /// must match. Without one, the directory holds FK's official files: they are
    /// recognised by name, and any role they lack comes from the embedded set.
    pub fn from_dir(dir: &Path) -> Result<SchemaSet, Error> {
        let read = |p: PathBuf| -> Result<Vec<u8>, Error> {
            std::fs::read(&p).map_err(|source| Error::Io {
                path: p.display().to_string(),
                source,
            })
        };
        let manifest_path = dir.join(MANIFEST);
        if manifest_path.exists() {
            let m: Manifest = serde_json::from_slice(&read(manifest_path)?)
                .map_err(|e| Error::Manifest(e.to_string()))?;
            let mut files = Vec::new();
            for f in &m.files {
                let bytes = read(dir.join(&f.path))?;
                let sha256 = sha256_hex(&bytes);
                if sha256 != f.sha256 {
                    return Err(Error::SchemaHash {
                        path: dir.join(&f.path).display().to_string(),
                    });
                }
                files.push(SchemaFile {
                    role: f.role,
                    name: f.path.clone(),
                    bytes: Arc::from(bytes),
                    sha256,
                });
            }
            let set = SchemaSet {
                id: m.id,
                provenance: m.provenance,
                description: m.description,
                files,
            };
            set.check_complete()?;
            return Ok(set);
        }
        let base = SchemaSet::embedded();
        let mut files = Vec::new();
        let mut found_payload = false;
        for role in Role::ALL {
            let p = dir.join(role.default_name());
            if p.exists() {
                found_payload |= role == Role::Payload;
                let bytes = read(p)?;
                files.push(SchemaFile {
                    role,
                    name: role.default_name().to_string(),
                    sha256: sha256_hex(&bytes),
                    bytes: Arc::from(bytes),
                });
            } else if let Some(f) = base.file(role) {
                files.push(f.clone());
            }
        }
        if !found_payload {
            return Err(Error::SchemaIncomplete(format!(
                "{} has no {} (FK's payload schema)",
                dir.display(),
                Role::Payload.default_name()
            )));
        }
        Ok(SchemaSet {
            id: "eioa-v1-official".into(),
            provenance: "official".into(),
            description: format!("FK's files from {}", dir.display()),
            files,
        })
    }

    fn check_complete(&self) -> Result<(), Error> {
        for role in Role::ALL {
            if self.file(role).is_none() {
                return Err(Error::SchemaIncomplete(format!(
                    "set `{}` lacks a {role:?} file",
                    self.id
                )));
            }
        }
        Ok(())
    }

    pub fn file(&self, role: Role) -> Option<&SchemaFile> {
        self.files.iter().find(|f| f.role == role)
    }

    /// The bytes for a role; every complete set has all roles.
    pub fn bytes(&self, role: Role) -> &[u8] {
        self.file(role).map(|f| &f.bytes[..]).unwrap_or_default()
    }

    pub fn info(&self) -> SchemaSetInfo {
        let mut h = Sha256::new();
        for role in Role::ALL {
            if let Some(f) = self.file(role) {
                h.update(f.sha256.as_bytes());
            }
        }
        let hash = hex::encode(h.finalize());
        SchemaSetInfo {
            id: self.id.clone(),
            provenance: self.provenance.clone(),
            hash: hash[..12].to_string(),
        }
    }

    /// Writes the set with its manifest into `dir` (created when missing).
    pub fn write_to(&self, dir: &Path) -> Result<(), Error> {
        let io = |p: &Path, source| Error::Io {
            path: p.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        for f in &self.files {
            let p = dir.join(&f.name);
            std::fs::write(&p, &f.bytes).map_err(|e| io(&p, e))?;
        }
        let m = Manifest {
            id: self.id.clone(),
            provenance: self.provenance.clone(),
            description: self.description.clone(),
            files: self
                .files
                .iter()
                .map(|f| ManifestFile {
                    role: f.role,
                    path: f.name.clone(),
                    sha256: f.sha256.clone(),
                })
                .collect(),
        };
        let p = dir.join(MANIFEST);
        let json = serde_json::to_vec_pretty(&m).map_err(|e| Error::Manifest(e.to_string()))?;
        std::fs::write(&p, json).map_err(|e| io(&p, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_manifest_hashes_match_files() {
        let m: Manifest = serde_json::from_slice(EMBEDDED_MANIFEST).unwrap();
        let set = SchemaSet::embedded();
        set.check_complete().unwrap();
        for f in &m.files {
            assert_eq!(
                set.files.iter().find(|x| x.name == f.path).unwrap().sha256,
                f.sha256,
                "{}",
                f.path
            );
        }
        assert_eq!(set.id, "eioa-v1");
        assert_eq!(set.provenance, "reconstructed");
    }
}
