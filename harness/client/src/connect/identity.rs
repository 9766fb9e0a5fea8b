//! The client identity checks (`C-ID-*`): what the certificate and key are, before any connection.

use std::sync::Arc;
use std::time::Instant;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use super::cert::{self, when};
use super::checks::{self};
use super::model::{Fact, Status};
use super::probe::{error_text, Probe, Remedy, WARN_DAYS_LEFT};
use crate::identity::{pem_parts, pkcs12_parts, read, IdentityError};
use crate::load::IdentitySource;

/// The client identity as far as it could be read.
#[derive(Default)]
pub(super) struct IdState {
    pub(super) chain: Vec<CertificateDer<'static>>,
    pub(super) key: Option<PrivateKeyDer<'static>>,
    pub(super) certified: Option<Arc<CertifiedKey>>,
    /// Loaded and the key matches: it can be offered in a handshake.
    pub(super) usable: bool,
    /// Whether an identity was given at all.
    pub(super) given: bool,
    /// The check that stopped it, if one did.
    pub(super) failed_at: Option<&'static str>,
}

impl Probe<'_> {
    // ---- client identity -------------------------------------------------------------------

    pub(super) fn identity_checks(&mut self) -> IdState {
        let t = Instant::now();
        let mut st = IdState::default();
        let Some(source) = self.opts.identity.clone() else {
            self.push(
                checks::ID_LOAD,
                Status::Fail,
                "no client certificate given",
                vec![],
                Some(Remedy::new(
                    "Pass the certificate ordered from Expisoft with --p12 FILE or --cert FILE --key FILE: FK's service requires mutual TLS.",
                    "Ange certifikatet som beställts från Expisoft med --p12 FILE eller --cert FILE --key FILE: FK:s tjänst kräver ömsesidig TLS.",
                )),
                t,
            );
            for def in [
                checks::ID_KEY,
                checks::ID_VALID,
                checks::ID_EKU,
                checks::ID_CHAIN,
            ] {
                self.skip(def, "no client certificate given (C-ID-LOAD)");
            }
            st.failed_at = Some(checks::ID_LOAD.id);
            return st;
        };
        st.given = true;
        let env = self.opts.passphrase_env.clone();
        let (format, file) = match &source {
            IdentitySource::Pem { cert, .. } => ("PEM", cert.display().to_string()),
            IdentitySource::Pkcs12(p) => ("PKCS#12", p.display().to_string()),
        };
        let parts = match &source {
            IdentitySource::Pem { cert, key } => read(cert).and_then(|c| {
                let k = read(key)?;
                pem_parts(&c, &k, self.opts.passphrase.as_ref())
            }),
            // Read first: a missing file is named as such, not as a missing passphrase.
            IdentitySource::Pkcs12(p) => read(p).and_then(|der| match &self.opts.passphrase {
                Some(secret) => pkcs12_parts(&der, secret),
                None => Err(IdentityError::PassphraseRequired),
            }),
        };
        let mut facts = vec![Fact::new("format", format), Fact::new("file", file.clone())];
        let (chain, key) = match parts {
            Ok(parts) => parts,
            Err(e) => {
                let remedy = match &e {
                    IdentityError::Read { path, .. } => Remedy::new(
                        format!("Check the path {}: the file could not be read.", path.display()),
                        format!("Kontrollera sökvägen {}: filen kunde inte läsas.", path.display()),
                    ),
                    IdentityError::PassphraseRequired => Remedy::new(
                        format!("The {} is protected: put its passphrase in the environment variable ${env} (or name another with --passphrase-env), never on the command line.", if format == "PEM" { "key" } else { "PKCS#12 file" }),
                        format!("{} är skyddad: lägg lösenfrasen i miljövariabeln ${env} (eller ange en annan variabel med --passphrase-env), aldrig på kommandoraden.", if format == "PEM" { "Nyckeln" } else { "PKCS#12-filen" }),
                    ),
                    IdentityError::WrongPassphrase { what } => Remedy::new(
                        format!("The passphrase in ${env} does not open the {what}: set the passphrase Expisoft gave with the certificate."),
                        format!("Lösenfrasen i ${env} öppnar inte {}: ange lösenfrasen som Expisoft lämnade med certifikatet.", if what.contains("key") { "den privata nyckeln" } else { "PKCS#12-filen" }),
                    ),
                    IdentityError::NoCertificate => Remedy::new(
                        "The certificate file holds no PEM certificate: pass the certificate (leaf first, then intermediates) with --cert.",
                        "Certifikatfilen innehåller inget PEM-certifikat: ange certifikatet (slutcertifikatet först, sedan de mellanliggande) med --cert.",
                    ),
                    IdentityError::NoKey => Remedy::new(
                        "The key file holds no private key: pass the key generated with the certificate request with --key.",
                        "Nyckelfilen innehåller ingen privat nyckel: ange nyckeln som skapades med certifikatbegäran med --key.",
                    ),
                    IdentityError::Pkcs12NoKey => Remedy::new(
                        "The PKCS#12 file holds no private key: export it again with its key (openssl pkcs12 -export -inkey KEY -in CERT -certfile CHAIN).",
                        "PKCS#12-filen innehåller ingen privat nyckel: exportera den igen tillsammans med nyckeln (openssl pkcs12 -export -inkey KEY -in CERT -certfile CHAIN).",
                    ),
                    _ => Remedy::new(
                        "Check that the files are the certificate and key (PEM) or the PKCS#12 archive delivered by Expisoft.",
                        "Kontrollera att filerna är certifikatet och nyckeln (PEM) eller PKCS#12-arkivet som Expisoft levererade.",
                    ),
                };
                facts.push(Fact::new("error", error_text(&e)));
                self.push(
                    checks::ID_LOAD,
                    Status::Fail,
                    match &e {
                        IdentityError::PassphraseRequired => format!(
                            "the {} is protected and no passphrase was given",
                            if format == "PEM" {
                                "key"
                            } else {
                                "PKCS#12 file"
                            }
                        ),
                        _ => format!("cannot load the client identity: {}", error_text(&e)),
                    },
                    facts,
                    Some(remedy),
                    t,
                );
                for def in [
                    checks::ID_KEY,
                    checks::ID_VALID,
                    checks::ID_EKU,
                    checks::ID_CHAIN,
                ] {
                    self.skip(def, "the client identity did not load (C-ID-LOAD)");
                }
                st.failed_at = Some(checks::ID_LOAD.id);
                return st;
            }
        };
        let now = self.now;
        let Some(leaf) = cert::parse(&chain[0], now) else {
            self.push(
                checks::ID_LOAD,
                Status::Fail,
                "the client certificate cannot be parsed",
                facts,
                Some(Remedy::new(
                    "Pass an X.509 certificate in PEM or PKCS#12 form.",
                    "Ange ett X.509-certifikat i PEM- eller PKCS#12-format.",
                )),
                t,
            );
            for def in [
                checks::ID_KEY,
                checks::ID_VALID,
                checks::ID_EKU,
                checks::ID_CHAIN,
            ] {
                self.skip(def, "the client certificate cannot be parsed (C-ID-LOAD)");
            }
            st.failed_at = Some(checks::ID_LOAD.id);
            return st;
        };
        let panel = leaf.panel.clone();
        facts.extend([
            Fact::new("subject", panel.subject.clone()),
            Fact::new("issuer", panel.issuer.clone()),
            Fact::new("serial", panel.serial.clone()),
            Fact::new("sha256", panel.sha256.clone()),
            Fact::new("certificates", chain.len().to_string()),
        ]);
        self.push(
            checks::ID_LOAD,
            Status::Pass,
            format!("{format} identity {}", panel.subject),
            facts,
            None,
            t,
        );

        // Key
        let t = Instant::now();
        let provider = rustls::crypto::ring::default_provider();
        let key_text = panel.key.clone();
        let mut facts = vec![Fact::new("key", key_text.clone())];
        match CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider) {
            Ok(ck) => {
                let weak = cert::rsa_bits(&leaf.x509).is_some_and(|b| b < 2048);
                facts.push(Fact::new("matches certificate", "yes"));
                if weak {
                    self.push(checks::ID_KEY, Status::Warn, format!("{key_text}: shorter than 2048 bits"), facts, Some(Remedy::new(
                        "Order a certificate with an RSA key of at least 2048 bits: shorter keys are refused by current TLS stacks.",
                        "Beställ ett certifikat med en RSA-nyckel på minst 2048 bitar: kortare nycklar avvisas av dagens TLS-programvara.",
                    )), t);
                } else {
                    self.push(
                        checks::ID_KEY,
                        Status::Pass,
                        format!("{key_text}, matches the certificate"),
                        facts,
                        None,
                        t,
                    );
                }
                st.certified = Some(Arc::new(ck));
                st.usable = true;
            }
            Err(e) => {
                let mismatch = matches!(e, rustls::Error::InconsistentKeys(_));
                facts.push(Fact::new(
                    "matches certificate",
                    if mismatch { "no" } else { "unknown" },
                ));
                facts.push(Fact::new("error", e.to_string()));
                let (summary, remedy) = if mismatch {
                    (format!("the private key does not belong to the certificate {}", panel.subject),
                     Remedy::new(
                        "Use the key generated together with this certificate's request (in a PKCS#12 file from Expisoft the two come together); compare `openssl x509 -noout -pubkey` with `openssl pkey -pubout`.",
                        "Använd nyckeln som skapades tillsammans med certifikatbegäran för just det här certifikatet (i en PKCS#12-fil från Expisoft följer de med varandra); jämför `openssl x509 -noout -pubkey` med `openssl pkey -pubout`.",
                     ))
                } else {
                    (
                        format!("the private key cannot be used: {e}"),
                        Remedy::new(
                            "Use an RSA or ECDSA (P-256/P-384) key in PKCS#8, PKCS#1 or SEC1 form.",
                            "Använd en RSA- eller ECDSA-nyckel (P-256/P-384) i PKCS#8-, PKCS#1- eller SEC1-format.",
                        ),
                    )
                };
                self.push(
                    checks::ID_KEY,
                    Status::Fail,
                    summary,
                    facts,
                    Some(remedy),
                    t,
                );
                st.failed_at = Some(checks::ID_KEY.id);
            }
        }

        // Validity
        let t = Instant::now();
        let facts = vec![
            Fact::new("not before", when(panel.not_before)),
            Fact::new("not after", when(panel.not_after)),
            Fact::new("days left", panel.days_left.to_string()),
        ];
        if now < panel.not_before {
            self.push(checks::ID_VALID, Status::Fail, format!("not valid before {}", when(panel.not_before)), facts, Some(Remedy::new(
                "The certificate is not valid yet: check this machine's clock, or wait until its start date.",
                "Certifikatet är inte giltigt ännu: kontrollera datorns klocka, eller vänta tills det börjar gälla.",
            )), t);
        } else if now > panel.not_after {
            self.push(checks::ID_VALID, Status::Fail, format!("expired {}", when(panel.not_after)), facts, Some(Remedy::new(
                "The client certificate has expired: order a new one from Expisoft (they are renewed every second year).",
                "Klientcertifikatet har gått ut: beställ ett nytt certifikat från Expisoft (certifikaten förnyas vartannat år).",
            )), t);
        } else if panel.days_left < WARN_DAYS_LEFT {
            self.push(
                checks::ID_VALID,
                Status::Warn,
                format!(
                    "{} days left (until {})",
                    panel.days_left,
                    when(panel.not_after)
                ),
                facts,
                Some(Remedy::new(
                    format!(
                        "Order the renewal from Expisoft now: the certificate expires in {} days.",
                        panel.days_left
                    ),
                    format!(
                        "Beställ förnyelsen från Expisoft nu: certifikatet går ut om {} dagar.",
                        panel.days_left
                    ),
                )),
                t,
            );
        } else {
            self.push(
                checks::ID_VALID,
                Status::Pass,
                format!(
                    "{} days left (until {})",
                    panel.days_left,
                    when(panel.not_after)
                ),
                facts,
                None,
                t,
            );
        }

        // Extended key usage
        let t = Instant::now();
        let eku_text = if panel.eku.is_empty() {
            "(no extension: any use)".to_owned()
        } else {
            panel.eku.join(", ")
        };
        let facts = vec![Fact::new("extended key usage", eku_text.clone())];
        match cert::allows_client_auth(&leaf.x509) {
            Some(false) => self.push(checks::ID_EKU, Status::Fail, format!("not for client authentication: {eku_text}"), facts, Some(Remedy::new(
                "This certificate may not be used as a TLS client certificate: use the certificate Expisoft issued for the connection, not the signing or a server certificate.",
                "Certifikatet får inte användas som TLS-klientcertifikat: använd certifikatet som Expisoft utfärdade för anslutningen, inte underskriftscertifikatet eller ett servercertifikat.",
            )), t),
            Some(true) => self.push(checks::ID_EKU, Status::Pass, format!("allows clientAuth ({eku_text})"), facts, None, t),
            None => self.push(checks::ID_EKU, Status::Pass, "no extended key usage extension: any use allowed", facts, None, t),
        }

        // Chain
        let t = Instant::now();
        let parsed: Vec<_> = chain.iter().filter_map(|c| cert::parse(c, now)).collect();
        let mut facts: Vec<Fact> = parsed
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Fact::new(
                    if i == 0 {
                        "leaf".to_owned()
                    } else {
                        format!("intermediate {i}")
                    },
                    format!("{} (issuer {})", c.panel.subject, c.panel.issuer),
                )
            })
            .collect();
        let self_issued =
            |c: &cert::Cert<'_>| c.x509.subject().as_raw() == c.x509.issuer().as_raw();
        // A leaf issued straight by a root needs no intermediate: when that root is one of the
        // --ca anchors, the leaf alone is complete.
        let issuer_is_given_root = self.opts.extra_roots.iter().any(|r| {
            cert::parse(r, now)
                .is_some_and(|c| c.x509.subject().as_raw() == leaf.x509.issuer().as_raw())
        });
        let broken_link = parsed
            .windows(2)
            .position(|w| w[0].x509.issuer().as_raw() != w[1].x509.subject().as_raw());
        if let Some(i) = broken_link {
            facts.push(Fact::new(
                "order",
                format!("certificate {} is not issued by certificate {}", i, i + 1),
            ));
            self.push(
                checks::ID_CHAIN,
                Status::Warn,
                "the chain is out of order",
                facts,
                Some(Remedy::new(
                    "Put the leaf first and each issuer after the certificate it issued.",
                    "Lägg slutcertifikatet först och varje utfärdare efter det certifikat den har utfärdat.",
                )),
                t,
            );
        } else if parsed.len() == 1 && !self_issued(&parsed[0]) && issuer_is_given_root {
            facts.push(Fact::new(
                "issuer",
                format!("{} (a root given with --ca)", panel.issuer),
            ));
            self.push(
                checks::ID_CHAIN,
                Status::Pass,
                format!("the leaf alone; its issuer {} is a root", panel.issuer),
                facts,
                None,
                t,
            );
        } else if parsed.len() == 1 && !self_issued(&parsed[0]) {
            facts.push(Fact::new("missing", format!("the issuer {}", panel.issuer)));
            self.push(checks::ID_CHAIN, Status::Warn, format!("only the leaf is presented; its issuer {} is not included", panel.issuer), facts, Some(Remedy::new(
                "Include the intermediate certificate(s) with the leaf (PEM: append them to --cert; PKCS#12: export with -certfile CHAIN): a server that does not hold the intermediate refuses the certificate.",
                "Skicka med de mellanliggande certifikaten tillsammans med slutcertifikatet (PEM: lägg dem efter det i filen till --cert; PKCS#12: exportera med -certfile CHAIN): en server som saknar det mellanliggande certifikatet avvisar certifikatet.",
            )), t);
        } else {
            self.push(
                checks::ID_CHAIN,
                Status::Pass,
                format!(
                    "{} certificate(s): leaf{}",
                    parsed.len(),
                    if parsed.len() > 1 {
                        " plus intermediates"
                    } else {
                        " (self-issued)"
                    }
                ),
                facts,
                None,
                t,
            );
        }

        st.chain = chain;
        st.key = Some(key);
        st
    }
}
