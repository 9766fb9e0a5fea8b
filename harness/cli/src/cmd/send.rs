//! `eioa send`: one notification, one exchange, through the same client as `eioa run`.
//! Prints the tx-id, or the fault in plain words. Sent once; never resent.

use super::run::Connection;
use super::sign::signed_request;
use crate::exit::{ExpectedError, Outcome};
use eioa_model::soap::{Request, Signaturtyp, Underskrift, SOAP_ACTION};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The notification (payload XML), or with --request a complete SOAP request.
    input: PathBuf,
    #[command(flatten)]
    conn: Connection,
    /// The input is already a SOAP request (e.g. from `eioa sign`).
    #[arg(long)]
    request: bool,
    /// Sign with the harness's test CA (the stand-ins trust it; FK does not).
    #[arg(long, conflicts_with = "signature")]
    sign_test: bool,
    /// A BankID signature XML for this notification (your own, from BankID's test environment).
    #[arg(long, value_name = "XML", requires = "ocsp")]
    signature: Option<PathBuf>,
    /// The DER OCSP response that came with --signature.
    #[arg(long, value_name = "DER", requires = "signature")]
    ocsp: Option<PathBuf>,
    /// signaturdatum for --signature (YYYY-MM-DD; default today).
    #[arg(long)]
    signaturdatum: Option<String>,
    /// Required to send to FK's production address.
    #[arg(long)]
    confirm_production: bool,
    /// Print the response body too.
    #[arg(long, short)]
    verbose: bool,
}

/// A request carrying `payload` with one BankID signature (type ANORDNARE) and its OCSP
/// response; `signaturdatum` defaults to today.
pub fn bankid_request(
    payload: Vec<u8>,
    signatur: Vec<u8>,
    ocspresponse: Vec<u8>,
    signaturdatum: Option<String>,
) -> Request {
    let today = time::OffsetDateTime::now_utc().date();
    let u = Underskrift {
        signaturtyp: Signaturtyp::Anordnare,
        signatur,
        ocspresponse,
        signaturdatum: signaturdatum.unwrap_or_else(|| {
            format!(
                "{:04}-{:02}-{:02}",
                today.year(),
                u8::from(today.month()),
                today.day()
            )
        }),
    };
    Request {
        payload,
        underskrifter: vec![u],
    }
}

fn read(p: &PathBuf) -> anyhow::Result<Vec<u8>> {
    std::fs::read(p)
        .map_err(|e| ExpectedError::Io(format!("cannot read {}: {e}", p.display())).into())
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if args.conn.target == "prod" && !args.confirm_production {
        return Err(ExpectedError::Usage(
            "sending to FK's production address needs --confirm-production".into(),
        )
        .into());
    }
    let input = read(&args.input)?;
    let body = if args.request {
        Request::parse(&input).map_err(|e| {
            ExpectedError::Usage(format!(
                "{} is not an E-IOA request: {e}",
                args.input.display()
            ))
        })?;
        input
    } else if let (Some(sig), Some(ocsp)) = (&args.signature, &args.ocsp) {
        bankid_request(input, read(sig)?, read(ocsp)?, args.signaturdatum.clone()).to_xml()
    } else if args.sign_test || args.conn.is_mock() {
        signed_request(input, None, false)?.to_xml()
    } else {
        return Err(ExpectedError::Usage(
            "say how the notification is signed: --signature/--ocsp, --sign-test, or --request"
                .into(),
        )
        .into());
    };

    let validator = Arc::new(super::common::validator(None, Default::default())?);
    let kit = eioa_runner::Kit::load(None, time::OffsetDateTime::now_utc())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let stand_in = if args.conn.is_mock() {
            Some(eioa_runner::start_stand_in(validator.clone(), &kit).await)
        } else {
            None
        };
        let url = stand_in.as_ref().map(|s| s.endpoint_url());
        let (target, client) = args.conn.client(url.as_deref())?;
        eprintln!("sending {} bytes to {target} (schema set {})", body.len(), validator.info());
        let ex = match client.post_soap(&target, SOAP_ACTION, body).await {
            Ok(ex) => ex,
            Err(e) => {
                let when = match e.delivery() {
                    eioa_client::Delivery::NotSent => "nothing reached the server",
                    eioa_client::Delivery::MaybeSent => "the request MAY have reached the server; it was not resent — check with FK (tx-id unknown) before sending again",
                    eioa_client::Delivery::Answered => "the server answered",
                };
                return Err(anyhow::Error::new(e).context(format!("the exchange failed ({when})")));
            }
        };
        let o = eioa_runner::observe(&ex.response_body, ex.status, &validator);
        eprintln!(
            "HTTP {} in {:.0} ms{}{}",
            ex.status.map_or("-".into(), |s| s.to_string()),
            ex.timings.total.as_secs_f64() * 1000.0,
            ex.tls_version.as_deref().map(|v| format!(", {v}")).unwrap_or_default(),
            ex.server_cert_sha256.as_deref().map(|v| format!(", server certificate sha256 {v}")).unwrap_or_default(),
        );
        if args.verbose {
            eprintln!("{}", String::from_utf8_lossy(&ex.response_body));
        }
        if let Some(tx) = &o.tx_id {
            println!("{tx}");
            eprintln!("accepted: keep the tx-id above, FK traces calls by it");
            return Ok(Outcome::Success);
        }
        match (&o.fault, &o.fault_message) {
            (Some(kind), Some(msg)) => {
                println!("{kind}: {msg}");
                Ok(Outcome::Findings)
            }
            _ => {
                eprintln!(
                    "the answer is neither a tx-id nor an E-IOA fault: {}",
                    o.unreadable.unwrap_or_else(|| String::from_utf8_lossy(&ex.response_body).chars().take(300).collect())
                );
                Ok(Outcome::Findings)
            }
        }
    })
}
