//! `eioa sign`: a ready SOAP request from a notification, signed in BankID's shape
//! with the harness's test CA (never a real BankID signature).

use crate::exit::{ExpectedError, Outcome};
use anyhow::Context;
use eioa_model::soap::{Request, Signaturtyp};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The notification (payload XML); its bytes are sent exactly as they are.
    notification: PathBuf,
    /// Where to write the SOAP request (default: stdout).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Also sign as the assistant (a second underskrift).
    #[arg(long)]
    assistant_too: bool,
    /// Test PKI directory (ca.pem, ca.key.pem, signer.pem, signer.key.pem); default: the embedded one.
    #[arg(long, value_name = "DIR")]
    pki: Option<PathBuf>,
}

/// Signs `payload` with the test PKI; the id comes from the payload itself.
pub fn signed_request(
    payload: Vec<u8>,
    pki: Option<&std::path::Path>,
    assistant_too: bool,
) -> anyhow::Result<Request> {
    let id = notification_id(&payload)?;
    let kit = eioa_runner::Kit::load(pki, time::OffsetDateTime::now_utc())
        .context("failed to load the test PKI")?;
    let mut underskrifter = vec![kit
        .underskrift(
            &kit.pki,
            kit.pki.signer(),
            &id,
            &payload,
            Signaturtyp::Anordnare,
        )
        .context("failed to sign (the payload must be well-formed XML without a DOCTYPE)")?];
    if assistant_too {
        underskrifter.push(kit.underskrift(
            &kit.pki,
            kit.pki.signer(),
            &id,
            &payload,
            Signaturtyp::Assistent,
        )?);
    }
    Ok(Request {
        payload,
        underskrifter,
    })
}

/// The `id` element's text, which the signature binds.
fn notification_id(payload: &[u8]) -> anyhow::Result<String> {
    eioa_model::peek_id(payload).ok_or_else(|| {
        ExpectedError::Usage("the notification has no readable <id> (UTF-8 XML with an id element under the root); the signature binds it".into()).into()
    })
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let payload = std::fs::read(&args.notification).map_err(|e| {
        ExpectedError::Io(format!("cannot read {}: {e}", args.notification.display()))
    })?;
    let req = signed_request(payload, args.pki.as_deref(), args.assistant_too)?;
    let xml = req.to_xml();
    match &args.out {
        Some(p) => {
            std::fs::write(p, &xml)
                .map_err(|e| ExpectedError::Io(format!("cannot write {}: {e}", p.display())))?;
            eprintln!(
                "wrote a signed request ({} bytes, {} signature(s), test CA) to {}",
                xml.len(),
                req.underskrifter.len(),
                p.display()
            );
        }
        None => std::io::Write::write_all(&mut std::io::stdout().lock(), &xml)?,
    }
    Ok(Outcome::Success)
}
