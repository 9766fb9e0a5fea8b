//! A development PKI for local runs: a CA, a server certificate for
//! `localhost`/`127.0.0.1` (plus any extra names, such as FK's two host names so that
//! the stand-in can pose as FK) and a client certificate (PEM and PKCS#12).
//!
//! These keys protect nothing: they exist so that a vendor's client can practise
//! mutual TLS against the stand-in exactly as it will against FK.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// Environment variable that supplies the PKCS#12 passphrase.
pub const PASSPHRASE_ENV: &str = "EIOA_P12_PASSPHRASE";

/// Certificate generation failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    #[error("generate certificate")]
    Generate(#[source] rcgen::Error),
    #[error("write pkcs#12 archive")]
    Pkcs12(#[source] p12_keystore::error::Error),
    #[error("write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} already exists; choose an empty directory or pass --force")]
    Exists { path: PathBuf },
    #[error("`{name}` is not a DNS name or an IP address for the server certificate")]
    BadName { name: String },
}

/// The names every server certificate carries.
pub const DEFAULT_SERVER_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// Checks one extra server-certificate name (a DNS name or an IP address, as
/// `--san` takes them) and returns it normalised: DNS names in lower case.
pub fn server_name(name: &str) -> Result<String, CertError> {
    use rustls::pki_types::ServerName;
    let bad = || CertError::BadName { name: name.into() };
    // A trailing dot is a fully-qualified form clients do not match certificates by.
    if name.ends_with('.') {
        return Err(bad());
    }
    // Anything `ServerName` takes is a name a TLS client can check; it refuses
    // wildcards, empty labels, spaces and the like.
    match ServerName::try_from(name).map_err(|_| bad())? {
        ServerName::DnsName(d) => {
            let d = d.as_ref().to_ascii_lowercase();
            // An all-numeric last label passes `ServerName` but is no host name.
            let last = d.rsplit('.').next().unwrap_or("");
            if last.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            Ok(d)
        }
        ServerName::IpAddress(ip) => Ok(std::net::IpAddr::from(ip).to_string()),
        _ => Err(bad()),
    }
}

/// One certificate with its private key, both PEM.
#[derive(Debug, Clone)]
pub struct CertAndKey {
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    pub key_pem: String,
    /// PKCS#8 DER of the private key.
    pub key_der: Vec<u8>,
}

/// A CA, a server certificate and a client certificate issued by it.
#[derive(Debug, Clone)]
pub struct DevPki {
    pub ca: CertAndKey,
    pub server: CertAndKey,
    pub client: CertAndKey,
}

impl DevPki {
    /// Generates a fresh PKI. `label` goes into the subject names (so two PKIs can
    /// be told apart).
    pub fn generate(label: &str) -> Result<DevPki, CertError> {
        DevPki::generate_with_names(label, &[])
    }

    /// Like [`DevPki::generate`], with `extra` names (DNS names or IP addresses,
    /// see [`server_name`]) in the server certificate after
    /// [`DEFAULT_SERVER_NAMES`]. The first extra name becomes the subject's CN.
    pub fn generate_with_names(label: &str, extra: &[String]) -> Result<DevPki, CertError> {
        let mut names: Vec<String> = DEFAULT_SERVER_NAMES.iter().map(|n| n.to_string()).collect();
        let mut cn = "localhost".to_string();
        for (i, raw) in extra.iter().enumerate() {
            let n = server_name(raw)?;
            if i == 0 {
                cn.clone_from(&n);
            }
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let now = OffsetDateTime::now_utc();
        let ca_key = KeyPair::generate().map_err(CertError::Generate)?;
        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name = dn(&format!("{label} Development CA"));
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca_params.not_before = now - Duration::days(1);
        ca_params.not_after = now + Duration::days(5 * 365);
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .map_err(CertError::Generate)?;

        let server_key = KeyPair::generate().map_err(CertError::Generate)?;
        let mut sp = CertificateParams::new(names).map_err(CertError::Generate)?;
        sp.distinguished_name = dn(&cn);
        sp.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        sp.not_before = now - Duration::days(1);
        // FK's certificates are renewed every second year; so are these.
        sp.not_after = now + Duration::days(2 * 365);
        let server_cert = sp
            .signed_by(&server_key, &ca_cert, &ca_key)
            .map_err(CertError::Generate)?;

        let client_key = KeyPair::generate().map_err(CertError::Generate)?;
        let mut cp = CertificateParams::default();
        cp.distinguished_name = dn(&format!("{label} Test Vendor AB"));
        cp.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        cp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        cp.not_before = now - Duration::days(1);
        cp.not_after = now + Duration::days(2 * 365);
        let client_cert = cp
            .signed_by(&client_key, &ca_cert, &ca_key)
            .map_err(CertError::Generate)?;

        let pack = |cert: &rcgen::Certificate, key: &KeyPair| CertAndKey {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
        };
        Ok(DevPki {
            ca: pack(&ca_cert, &ca_key),
            server: pack(&server_cert, &server_key),
            client: pack(&client_cert, &client_key),
        })
    }

    /// The client certificate and key as a PKCS#12 archive (with the CA in the chain).
    pub fn client_pkcs12(&self, passphrase: &str) -> Result<Vec<u8>, CertError> {
        use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
        let key = PrivateKey::from_der(&self.client.key_der).map_err(CertError::Pkcs12)?;
        let certs = [
            Certificate::from_der(&self.client.cert_der).map_err(CertError::Pkcs12)?,
            Certificate::from_der(&self.ca.cert_der).map_err(CertError::Pkcs12)?,
        ];
        let local_id: Vec<u8> = {
            use sha2::Digest;
            sha2::Sha256::digest(&self.client.cert_der)[..20].to_vec()
        };
        let chain = PrivateKeyChain::new(local_id, key, certs);
        let mut ks = KeyStore::new();
        ks.add_entry("eioa-client", KeyStoreEntry::PrivateKeyChain(chain));
        ks.writer(passphrase).write().map_err(CertError::Pkcs12)
    }

    /// Writes the PKI to `dir` (created 0700; keys 0600) and returns the paths.
    ///
    /// Each file is written to a fresh temporary file in `dir` (created exclusively,
    /// mode 0600) and renamed over its name, so a symlink planted at one of the names
    /// is replaced, never followed: with `force` as without it.
    pub fn write_to(
        &self,
        dir: &Path,
        passphrase: &str,
        force: bool,
    ) -> Result<DevPkiPaths, CertError> {
        let paths = DevPkiPaths::in_dir(dir);
        if !force {
            for p in paths.all() {
                // `symlink_metadata`: a dangling symlink is there too.
                if fs::symlink_metadata(p).is_ok() {
                    return Err(CertError::Exists {
                        path: p.to_path_buf(),
                    });
                }
            }
        }
        let werr = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CertError::Write { path, source }
        };
        fs::create_dir_all(dir).map_err(werr(dir))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(werr(dir))?;
        let p12 = self.client_pkcs12(passphrase)?;
        let files: [(&Path, &[u8], u32); 8] = [
            (&paths.ca_cert, self.ca.cert_pem.as_bytes(), 0o644),
            (&paths.ca_key, self.ca.key_pem.as_bytes(), 0o600),
            (&paths.server_cert, self.server.cert_pem.as_bytes(), 0o644),
            (&paths.server_key, self.server.key_pem.as_bytes(), 0o600),
            (&paths.client_cert, self.client.cert_pem.as_bytes(), 0o644),
            (&paths.client_key, self.client.key_pem.as_bytes(), 0o600),
            (&paths.client_p12, &p12, 0o600),
            (&paths.readme, README.as_bytes(), 0o644),
        ];
        for (path, bytes, mode) in files {
            write_replacing(dir, path, bytes, mode).map_err(werr(path))?;
        }
        // The renames are durable once the directory is synced.
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(werr(dir))?;
        Ok(paths)
    }
}

/// Writes `bytes` to a new temporary file in `dir` (O_EXCL, 0600 until the data is
/// in), then renames it to `path`: whatever was at `path`, a symlink included, is
/// replaced and never opened.
fn write_replacing(dir: &Path, path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".eioa-certs-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

const README: &str = "Development PKI for the E-IOA stand-in (eioa certs init).\n\
These certificates are for local tests only and are trusted by nothing else.\n\
ca.pem            CA certificate: the server verifies clients against it; clients pin it\n\
ca.key            CA private key\n\
server.pem/.key   server certificate for localhost, 127.0.0.1 and any --san / --fk-hosts names\n\
client.pem/.key   client certificate (PEM)\n\
client.p12        the same client certificate and key as PKCS#12 (passphrase printed once)\n";

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, cn);
    d.push(DnType::OrganizationName, "eioa-harness development");
    d.push(DnType::CountryName, "SE");
    d
}

/// Where [`DevPki::write_to`] puts each file.
#[derive(Debug, Clone)]
pub struct DevPkiPaths {
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub client_p12: PathBuf,
    pub readme: PathBuf,
}

impl DevPkiPaths {
    pub fn in_dir(dir: &Path) -> DevPkiPaths {
        DevPkiPaths {
            ca_cert: dir.join("ca.pem"),
            ca_key: dir.join("ca.key"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
            client_p12: dir.join("client.p12"),
            readme: dir.join("README.txt"),
        }
    }

    fn all(&self) -> [&Path; 7] {
        [
            &self.ca_cert,
            &self.ca_key,
            &self.server_cert,
            &self.server_key,
            &self.client_cert,
            &self.client_key,
            &self.client_p12,
        ]
    }
}

/// A passphrase from [`PASSPHRASE_ENV`], or a new random one (`true` = generated).
pub fn passphrase_from_env_or_random() -> (String, bool) {
    match std::env::var(PASSPHRASE_ENV) {
        Ok(p) if !p.is_empty() => (p, false),
        _ => {
            use rand::distributions::{Alphanumeric, DistString};
            (Alphanumeric.sample_string(&mut rand::rngs::OsRng, 24), true)
        }
    }
}

/// SHA-256 of a DER certificate, lowercase hex.
pub fn fingerprint(der: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_pem_and_a_pkcs12_that_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let pki = DevPki::generate("Unit").unwrap();
        let out = dir.path().join("pki");
        let paths = pki.write_to(&out, "s3cret-pass", false).unwrap();
        let p12 = fs::read(&paths.client_p12).unwrap();
        let ks = p12_keystore::KeyStore::from_pkcs12(
            &p12,
            "s3cret-pass",
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        .unwrap();
        let (_, chain) = ks.private_key_chain().unwrap();
        assert_eq!(chain.certs()[0].as_der(), pki.client.cert_der.as_slice());
        assert!(p12_keystore::KeyStore::from_pkcs12(
            &p12,
            "wrong",
            p12_keystore::Pkcs12ImportPolicy::Relaxed
        )
        .is_err());
        assert_eq!(
            fs::metadata(&paths.client_key)
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o700
        );
        // A second run refuses to overwrite.
        assert!(matches!(
            pki.write_to(&out, "x", false),
            Err(CertError::Exists { .. })
        ));
        assert!(pki.write_to(&out, "x", true).is_ok());
    }

    #[test]
    fn force_replaces_a_planted_symlink_instead_of_writing_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        fs::write(&victim, "keep me\n").unwrap();
        let out = dir.path().join("pki");
        fs::create_dir(&out).unwrap();
        for name in ["ca.key", "server.key", "client.p12", "README.txt"] {
            std::os::unix::fs::symlink(&victim, out.join(name)).unwrap();
        }
        let pki = DevPki::generate("Unit").unwrap();
        let paths = pki.write_to(&out, "pass", true).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me\n");
        for p in [&paths.ca_key, &paths.server_key, &paths.client_p12] {
            let m = fs::symlink_metadata(p).unwrap();
            assert!(m.file_type().is_file(), "{} is a regular file", p.display());
            assert_eq!(m.permissions().mode() & 0o777, 0o600, "{}", p.display());
        }
        assert_eq!(fs::read_to_string(&paths.ca_key).unwrap(), pki.ca.key_pem);
        // No temporary file is left behind.
        let left: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn a_dangling_symlink_counts_as_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("pki");
        fs::create_dir(&out).unwrap();
        let target = dir.path().join("created-through-the-link");
        std::os::unix::fs::symlink(&target, out.join("ca.key")).unwrap();
        let pki = DevPki::generate("Unit").unwrap();
        assert!(matches!(
            pki.write_to(&out, "pass", false),
            Err(CertError::Exists { path }) if path.ends_with("ca.key")
        ));
        assert!(fs::symlink_metadata(&target).is_err());
    }

    #[test]
    fn server_names_are_dns_names_or_ip_addresses() {
        for (given, kept) in [
            ("shsext.forsakringskassan.se", "shsext.forsakringskassan.se"),
            ("Build-Host.Example.SE", "build-host.example.se"),
            ("stand-in", "stand-in"),
            ("192.168.1.20", "192.168.1.20"),
            ("::1", "::1"),
        ] {
            assert_eq!(server_name(given).unwrap(), kept);
        }
        for bad in [
            "",
            "a b",
            "*.forsakringskassan.se",
            "x\"y",
            "<host>",
            "1.2.3",
            "host.example.se.",
            "https://host",
            "host:8020",
        ] {
            assert!(
                matches!(server_name(bad), Err(CertError::BadName { .. })),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn extra_names_go_into_the_server_certificate_after_the_defaults() {
        let pki = DevPki::generate_with_names(
            "Unit",
            &[
                "shsext.forsakringskassan.se".into(),
                "LOCALHOST".into(),
                "10.0.0.7".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            crate::tls::certificate_names(&pki.server.cert_der).unwrap(),
            [
                "localhost",
                "127.0.0.1",
                "shsext.forsakringskassan.se",
                "10.0.0.7"
            ]
        );
        let (_, cert) = x509_parser::parse_x509_certificate(&pki.server.cert_der).unwrap();
        assert!(
            cert.subject()
                .to_string()
                .contains("CN=shsext.forsakringskassan.se"),
            "{}",
            cert.subject()
        );
        assert!(matches!(
            DevPki::generate_with_names("Unit", &["no spaces".into()]),
            Err(CertError::BadName { .. })
        ));
    }
}
