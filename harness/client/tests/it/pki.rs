//! Test certificates, made fresh for each test: a CA, server certificates (good, from a rogue CA,
//! for the wrong name) and client certificates (good, from another CA, expired, not yet valid).
//! All names are fictitious.

use rcgen::{
    date_time_ymd, BasicConstraints, Certificate, CertificateParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

pub struct Ca {
    cert: Certificate,
    key: KeyPair,
}

impl Ca {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2099, 1, 1);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self { cert, key }
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    fn issue(
        &self,
        cn: &str,
        names: &[&str],
        eku: ExtendedKeyUsagePurpose,
        from: i32,
        to: i32,
    ) -> Leaf {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Exempelleverantören AB");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![eku];
        params.not_before = date_time_ymd(from, 1, 1);
        params.not_after = date_time_ymd(to, 1, 1);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Leaf {
            cert_der: cert.der().clone(),
            cert_pem: cert.pem(),
            key_der: key.serialize_der(),
            key_pem: key.serialize_pem(),
        }
    }

    pub fn server(&self, names: &[&str]) -> Leaf {
        self.issue(
            "test server",
            names,
            ExtendedKeyUsagePurpose::ServerAuth,
            2020,
            2099,
        )
    }

    pub fn client(&self, cn: &str, from: i32, to: i32) -> Leaf {
        self.issue(cn, &[], ExtendedKeyUsagePurpose::ClientAuth, from, to)
    }

    /// A server certificate valid only between the two years (an expired one for the past).
    pub fn server_dated(&self, names: &[&str], from: i32, to: i32) -> Leaf {
        self.issue(
            "test server",
            names,
            ExtendedKeyUsagePurpose::ServerAuth,
            from,
            to,
        )
    }

    /// An intermediate CA issued by this one.
    pub fn intermediate(&self, name: &str) -> Ca {
        self.intermediate_dated(name, 2020, 2099)
    }

    /// An intermediate CA valid only between the two years (an expired one for the past).
    pub fn intermediate_dated(&self, name: &str, from: i32, to: i32) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = date_time_ymd(from, 1, 1);
        params.not_after = date_time_ymd(to, 1, 1);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Self { cert, key }
    }

    pub fn cert_pem(&self) -> String {
        self.cert.pem()
    }
}

#[derive(Clone)]
pub struct Leaf {
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    key_der: Vec<u8>,
    key_pem: String,
}

impl Leaf {
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert_der.clone()
    }

    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }

    pub fn cert_pem(&self) -> String {
        self.cert_pem.clone()
    }

    pub fn key_pem(&self) -> String {
        self.key_pem.clone()
    }

    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.cert_der))
    }

    /// The key as an `ENCRYPTED PRIVATE KEY` PEM block (PBES2: PBKDF2-SHA256 + AES-256-CBC).
    pub fn encrypted_key_pem(&self, passphrase: &str) -> String {
        let info = pkcs8::PrivateKeyInfo::try_from(self.key_der.as_slice()).unwrap();
        let salt = [7u8; 16];
        let iv = [9u8; 16];
        let params =
            pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(2048, &salt, &iv).unwrap();
        let doc = info.encrypt_with_params(params, passphrase).unwrap();
        doc.to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
            .unwrap()
            .to_string()
    }

    /// A PKCS#12 archive holding the key and this certificate only (no issuer).
    pub fn pkcs12_leaf_only(&self, passphrase: &str) -> Vec<u8> {
        let key = p12_keystore::PrivateKey::from_der(&self.key_der).unwrap();
        let chain = [p12_keystore::Certificate::from_der(&self.cert_der).unwrap()];
        let entry = p12_keystore::PrivateKeyChain::new(vec![1u8, 2, 3, 4], key, chain);
        let mut store = p12_keystore::KeyStore::new();
        store.add_entry(
            "client",
            p12_keystore::KeyStoreEntry::PrivateKeyChain(entry),
        );
        store.writer(passphrase).write().unwrap()
    }

    /// A PKCS#12 archive holding the key, this certificate and the issuing CA.
    pub fn pkcs12(&self, passphrase: &str, ca: &Ca) -> Vec<u8> {
        let key = p12_keystore::PrivateKey::from_der(&self.key_der).unwrap();
        let chain = [
            p12_keystore::Certificate::from_der(&self.cert_der).unwrap(),
            p12_keystore::Certificate::from_der(ca.cert.der()).unwrap(),
        ];
        let entry = p12_keystore::PrivateKeyChain::new(vec![1u8, 2, 3, 4], key, chain);
        let mut store = p12_keystore::KeyStore::new();
        store.add_entry(
            "client",
            p12_keystore::KeyStoreEntry::PrivateKeyChain(entry),
        );
        store.writer(passphrase).write().unwrap()
    }
}

pub struct Pki {
    pub ca: Ca,
    pub server: Leaf,
    pub rogue_server: Leaf,
    pub wrong_name_server: Leaf,
    pub client: Leaf,
    pub other_client: Leaf,
    pub expired_client: Leaf,
    pub future_client: Leaf,
    _rogue_ca: Ca,
}

impl Pki {
    pub fn new() -> Self {
        let ca = Ca::new("Exempel Test CA");
        let rogue_ca = Ca::new("Rogue Test CA");
        Self {
            server: ca.server(&["127.0.0.1", "localhost"]),
            rogue_server: rogue_ca.server(&["127.0.0.1", "localhost"]),
            wrong_name_server: ca.server(&["other.example"]),
            client: ca.client("Exempelleverantören AB klient", 2020, 2099),
            other_client: rogue_ca.client("Annan leverantör AB", 2020, 2099),
            expired_client: ca.client("Utgången klient", 2020, 2021),
            future_client: ca.client("Framtida klient", 2098, 2099),
            ca,
            _rogue_ca: rogue_ca,
        }
    }
}
