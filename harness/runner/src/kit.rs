//! What scenarios are built from: the test PKI (embedded, so runs work from any
//! directory), derived signers for the signature scenarios, and fictitious
//! notifications for every branch of the payload.

use eioa_model::ident;
use eioa_model::soap::{Request, Signaturtyp, Underskrift};
use eioa_model::{Anordnare, Anstallning, Arbetsgivare, Assistent, Bosatt, Notification, Person};
use eioa_sign::{SignInput, Signer, SignerSpec, TestPki, VisibleLine};
use time::{Date, Month, OffsetDateTime};

/// Why a kit or a request could not be built.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    #[error("failed to load the test PKI")]
    Pki(#[source] eioa_sign::SignError),
    #[error("failed to sign")]
    Sign(#[source] eioa_sign::SignError),
}

/// Everything scenarios need. Signers other than the default are derived from the
/// embedded keys, so no RSA key is generated at run time.
#[derive(Debug, Clone)]
pub struct Kit {
    pub pki: TestPki,
    /// Same key, a certificate that expired last year.
    pub expired: Signer,
    /// Issued by a CA nobody trusts.
    pub foreign: TestPki,
    pub now: OffsetDateTime,
    pub today: Date,
}

impl Kit {
    /// The embedded test PKI (`fixtures/pki`), or the one in `dir`.
    pub fn load(dir: Option<&std::path::Path>, now: OffsetDateTime) -> Result<Kit, KitError> {
        let pki = match dir {
            Some(d) => TestPki::from_dir(d).map_err(KitError::Pki)?,
            None => TestPki::embedded().map_err(KitError::Pki)?,
        };
        let key = pki.signer_key_for_tests();
        let spec = |from: OffsetDateTime, to: OffsetDateTime| SignerSpec {
            name: "Testa Testsson".into(),
            personnummer: default_signer_pnr(),
            not_before: from,
            not_after: to,
        };
        let expired = pki
            .reissue(&spec(
                now - time::Duration::days(800),
                now - time::Duration::days(400),
            ))
            .map_err(KitError::Pki)?;
        let other_ca = TestPki::root(
            "Okänd Test CA (not trusted)",
            key.clone(),
            now - time::Duration::days(1),
            now + time::Duration::days(365),
        )
        .map_err(KitError::Pki)?;
        let foreign_base = TestPki::from_parts(other_ca.clone(), other_ca);
        let foreign_signer = foreign_base
            .issue(
                &spec(
                    now - time::Duration::days(1),
                    now + time::Duration::days(365),
                ),
                key,
            )
            .map_err(KitError::Pki)?;
        let foreign = TestPki::from_parts(foreign_base.ca().clone(), foreign_signer);
        Ok(Kit {
            pki,
            expired,
            foreign,
            now,
            today: now.date(),
        })
    }

    /// Trust anchors for the stand-in: the embedded test CA.
    pub fn trust_anchors(&self) -> Vec<Vec<u8>> {
        vec![self.pki.ca_cert_der().to_vec()]
    }

    /// A valid notification for `branch`, with a fresh random id and employment a
    /// month before today.
    pub fn notification(&self, branch: Branch) -> Notification {
        let employed = self.today - time::Duration::days(30);
        let anst = fmt_date(employed);
        let person = Person {
            personnummer: ident::personnummer(date(1950, Month::March, 15), 982, false),
            fornamn: "Testa".into(),
            efternamn: "Testsson".into(),
        };
        let assistent_pnr = match branch {
            Branch::Samordningsnummer => {
                ident::personnummer(date(1992, Month::April, 12), 987, true)
            }
            _ => ident::personnummer(date(1992, Month::April, 12), 986, false),
        };
        let anordnare = |anstallning| {
            Arbetsgivare::Anordnare(Anordnare {
                namn: Some("Exempelassistans AB".into()),
                organisationsnummer: ident::orgnr("556677889"),
                kontaktperson: Some("Kontakt Exempelsson".into()),
                telefonnummer: Some("08-765 432 10".into()),
                anstallning,
            })
        };
        let (bosatt, narstaende, arbetsgivare, andring) = match branch {
            Branch::AnordnareInomEes | Branch::Samordningsnummer => (
                Bosatt::InnanforEes,
                false,
                anordnare(Anstallning::AnstalldAvAnordnare),
                None,
            ),
            Branch::AnordnareUtomEesNarstaende => (
                Bosatt::UtanforEes {
                    adress: "Fiktivgatan 1, 00100 Helsingfors, Finland".into(),
                },
                true,
                anordnare(Anstallning::AnstalldAvAnordnare),
                None,
            ),
            Branch::AnnanArbetsgivare => (
                Bosatt::InnanforEes,
                false,
                anordnare(Anstallning::AnnanArbetsgivare {
                    namn: Some("Fiktiv Bemanning AB".into()),
                    organisationsnummer: ident::orgnr("802512345"),
                }),
                None,
            ),
            Branch::EgenForetagare => (
                Bosatt::InnanforEes,
                false,
                anordnare(Anstallning::EgenForetagare),
                None,
            ),
            Branch::EgenArbetsgivare => (
                Bosatt::InnanforEes,
                true,
                Arbetsgivare::PersonSomHarAssistans,
                None,
            ),
            Branch::MedAndring => (
                Bosatt::InnanforEes,
                false,
                anordnare(Anstallning::AnstalldAvAnordnare),
                Some(fmt_date(self.today - time::Duration::days(5))),
            ),
        };
        Notification {
            id: uuid::Uuid::new_v4().to_string(),
            person,
            assistent: Assistent {
                personnummer: assistent_pnr,
                fornamn: "Fiktiv".into(),
                efternamn: "Assistentsson".into(),
                anstallningsdatum: anst,
                narstaende,
                bosatt,
                andring_galler_from: andring,
            },
            arbetsgivare,
            telefonnummer_anordnare: "08-123 456 78".into(),
        }
    }

    /// Signs `payload` (as notification `id`) with `signer` of `pki`.
    pub fn underskrift(
        &self,
        pki: &TestPki,
        signer: &Signer,
        id: &str,
        payload: &[u8],
        typ: Signaturtyp,
    ) -> Result<Underskrift, KitError> {
        let text = eioa_sign::visible_text(
            &[VisibleLine {
                name: "Fiktiv Assistentsson".into(),
                personnummer: default_signer_pnr(),
            }],
            self.now,
        );
        let signed = eioa_sign::sign(
            pki,
            signer,
            &SignInput {
                notifications: &[(id, payload)],
                visible_text: &text,
                when: self.now,
            },
        )
        .map_err(KitError::Sign)?;
        Ok(Underskrift {
            signaturtyp: typ,
            signatur: signed.signature_xml,
            ocspresponse: signed.ocsp_der,
            signaturdatum: fmt_date(self.today),
        })
    }

    /// A request carrying `n` signed by the default test signer.
    pub fn signed_request(&self, n: &Notification) -> Result<Request, KitError> {
        let payload = n.to_xml().into_bytes();
        let u = self.underskrift(
            &self.pki,
            self.pki.signer(),
            &n.id,
            &payload,
            Signaturtyp::Anordnare,
        )?;
        Ok(Request {
            payload,
            underskrifter: vec![u],
        })
    }
}

/// The structural branches of the payload a suite covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Branch {
    AnordnareInomEes,
    AnordnareUtomEesNarstaende,
    AnnanArbetsgivare,
    EgenForetagare,
    EgenArbetsgivare,
    MedAndring,
    Samordningsnummer,
}

fn default_signer_pnr() -> String {
    ident::personnummer(date(1985, Month::June, 15), 239, false)
}

fn date(y: i32, m: Month, d: u8) -> Date {
    Date::from_calendar_date(y, m, d).unwrap_or(Date::MIN)
}

pub(crate) fn fmt_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}
