//! HTTP and SOAP (`C-HTTP`, `C-SOAP`, `C-SOAP-TIME`): the exchange through `Client::post_soap`.

use std::time::Instant;

use super::checks::{self};
use super::identity::IdState;
use super::model::{ExchangeSummary, Fact, Status};
use super::probe::{
    delivery_id, error_text, ms, path_remedy, Probe, Remedy, SignatureKind, SoapRequest,
    FK_ANSWER_EXPECTATION,
};
use crate::client::{Client, ClientConfig};
use crate::error::ClientError;
use crate::exchange::Delivery;
use crate::identity::Identity;
use crate::pace::Pace;

impl Probe<'_> {
    // ---- HTTP and SOAP ---------------------------------------------------------------------

    pub(super) async fn soap(
        &mut self,
        id: &IdState,
        host: &str,
        cipher_suite: Option<String>,
    ) -> Option<ExchangeSummary> {
        let Some(request) = self.opts.request.clone() else {
            for def in [checks::HTTP, checks::SOAP, checks::SOAP_TIME] {
                self.skip(def, "no request to send was given");
            }
            return None;
        };
        let t = Instant::now();
        let identity = match (&id.key, id.chain.is_empty()) {
            (Some(key), false) if id.usable => {
                Identity::from_der(id.chain.clone(), key.clone_key()).ok()
            }
            _ => None,
        };
        let client = Client::new(ClientConfig {
            identity,
            extra_roots: self.opts.extra_roots.clone(),
            use_system_roots: self.opts.use_system_roots,
            connect_timeout: self.opts.connect_timeout,
            total_timeout: self.opts.total_timeout,
            // The probe paces every connection to FK's hosts itself (below).
            pace: Pace::default(),
            resolve: self.opts.resolve.clone(),
            ..ClientConfig::default()
        });
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                self.push(
                    checks::HTTP,
                    Status::Fail,
                    format!("cannot set up the client: {}", error_text(&e)),
                    vec![],
                    Some(Remedy::new(
                        "Fix the client identity first (see the C-ID checks).",
                        "Rätta klientidentiteten först (se kontrollerna C-ID-*).",
                    )),
                    t,
                );
                for def in [checks::SOAP, checks::SOAP_TIME] {
                    self.skip(def, "no HTTP exchange (C-HTTP)");
                }
                return None;
            }
        };
        self.pace(host).await;
        let url = self.opts.target.url();
        let result = client
            .post_soap(
                &self.opts.target,
                eioa_model::soap::SOAP_ACTION,
                request.body.clone(),
            )
            .await;
        let ex = match result {
            Ok(ex) => ex,
            Err(e) => {
                let delivery = e.delivery();
                let mut facts = vec![
                    Fact::new("error", error_text(&e)),
                    Fact::new("delivery", delivery_id(delivery)),
                ];
                if let Some(ex) = e.exchange() {
                    facts.push(Fact::new("time", ms(ex.timings.total)));
                }
                let remedy = match (&e, delivery) {
                    (ClientError::ClientCertificateMissing { .. }, _) => Remedy::new(
                        "The server requires a client certificate and none is configured: pass --cert/--key or --p12 (see C-TLS-CLIENT-CERT).",
                        "Servern kräver ett klientcertifikat och inget är angivet: ange --cert/--key eller --p12 (se C-TLS-CLIENT-CERT).",
                    ),
                    (ClientError::ResponseTimeout { after, .. }, _) => Remedy::new(
                        format!("No answer within {after:?}. The request may have reached the service and was not resent: note the time and ask FK's support before sending it again."),
                        format!("Inget svar inom {after:?}. Begäran kan ha nått tjänsten och skickades inte igen: anteckna tidpunkten och fråga FK:s support innan den skickas igen."),
                    ),
                    (_, Delivery::MaybeSent) => Remedy::new(
                        "The connection broke after the request was written: it may have reached the service and was not resent; ask FK's support before sending it again.",
                        "Anslutningen bröts efter att begäran hade skickats: den kan ha nått tjänsten och skickades inte igen; fråga FK:s support innan den skickas igen.",
                    ),
                    (ClientError::HandshakeAlert { .. }, _) => Remedy::new(
                        "The server refused the TLS connection for the exchange: see C-TLS-CLIENT-CERT.",
                        "Servern avvisade TLS-anslutningen för utväxlingen: se C-TLS-CLIENT-CERT.",
                    ),
                    _ => Remedy::new(
                        "The exchange failed before anything was sent: fix the cause named and run the test again.",
                        "Utväxlingen misslyckades innan något skickades: åtgärda den angivna orsaken och kör testet igen.",
                    ),
                };
                self.push(
                    checks::HTTP,
                    Status::Fail,
                    format!("no HTTP answer: {}", error_text(&e)),
                    facts,
                    Some(remedy),
                    t,
                );
                for def in [checks::SOAP, checks::SOAP_TIME] {
                    self.skip(def, "no HTTP answer (C-HTTP)");
                }
                let summary = e
                    .exchange()
                    .map(|ex| self.summary(ex, &request, cipher_suite.clone(), None, None, None));
                return summary;
            }
        };

        // HTTP
        let status = ex.status.unwrap_or(0);
        let content_type = ex.response_header("content-type").map(str::to_owned);
        let ct = content_type.clone().unwrap_or_else(|| "(none)".into());
        let facts = vec![
            Fact::new("status", status.to_string()),
            Fact::new("content type", ct.clone()),
            Fact::new("path", url.path()),
            Fact::new("time", ms(ex.timings.total)),
        ];
        let xml = ct.to_ascii_lowercase().contains("xml");
        let http_ok = match status {
            200 | 500 if xml => {
                self.push(
                    checks::HTTP,
                    Status::Pass,
                    format!("HTTP {status}, {ct}"),
                    facts,
                    None,
                    t,
                );
                true
            }
            200 | 500 => {
                self.push(checks::HTTP, Status::Fail, format!("HTTP {status} with {ct}, not a SOAP answer"), facts, Some(Remedy::new(
                    "Something other than the E-IOA service answered (a proxy, a login page, a load balancer): check the URL and that nothing intercepts the connection.",
                    "Något annat än E-IOA-tjänsten svarade (en proxy, en inloggningssida, en lastbalanserare): kontrollera URL:en och att ingenting fångar upp anslutningen på vägen.",
                )), t);
                false
            }
            404 => {
                self.push(
                    checks::HTTP,
                    Status::Fail,
                    format!("HTTP 404: no service at {}", url.path()),
                    facts,
                    Some(path_remedy(host, url.path())),
                    t,
                );
                false
            }
            503 => {
                self.push(checks::HTTP, Status::Fail, "HTTP 503: the service is unavailable", facts, Some(Remedy::new(
                    "The service is down or refusing calls (maintenance, or too many calls): wait and run the test again later; nothing was resent.",
                    "Tjänsten är nere eller tar inte emot anrop (underhåll, eller för många anrop): vänta och kör testet igen senare; ingenting skickades om.",
                )), t);
                false
            }
            other => {
                self.push(checks::HTTP, Status::Fail, format!("HTTP {other}, {ct}"), facts, Some(Remedy::new(
                    format!("The service answered HTTP {other}: check the URL ({url}) and the request; show the response to the service's operator."),
                    format!("Tjänsten svarade HTTP {other}: kontrollera URL:en ({url}) och begäran; visa svaret för tjänstens driftansvariga."),
                )), t);
                false
            }
        };

        // SOAP
        let t = Instant::now();
        let mut tx_id = None;
        let mut fault = None;
        let mut fault_message = None;
        if !http_ok {
            self.skip(
                checks::SOAP,
                "the HTTP answer is not a SOAP answer (C-HTTP)",
            );
            self.skip(
                checks::SOAP_TIME,
                "the HTTP answer is not a SOAP answer (C-HTTP)",
            );
        } else {
            use eioa_model::soap::{FaultDetail, Response};
            match Response::parse(&ex.response_body) {
                Ok(Response::Accepted { tx_id: tx }) => {
                    self.push(checks::SOAP, Status::Pass, format!("accepted: tx-id {tx}"), vec![Fact::new("tx-id", tx.clone()), Fact::new("signature", request.signature.id())], None, t);
                    tx_id = Some(tx);
                }
                Ok(Response::Fault(f)) => {
                    let (kind, message) = match &f.detail {
                        Some(FaultDetail::XmlValidationError { message }) => ("XmlValidationError", message.clone()),
                        Some(FaultDetail::SignatureValidationError { message }) => ("SignatureValidationError", message.clone()),
                        _ => ("Fault", format!("{}: {}", f.faultcode, f.faultstring)),
                    };
                    let shown = if self.opts.redact { eioa_model::redact::redact_xml(&message) } else { message.clone() };
                    let facts = vec![Fact::new("fault", kind), Fact::new("message", shown.clone()), Fact::new("faultcode", f.faultcode.clone()), Fact::new("signature", request.signature.id())];
                    match kind {
                        "XmlValidationError" => self.push(checks::SOAP, Status::Warn, format!("XmlValidationError: {shown}"), facts,
                            Some(Remedy::new(
                                "The connection works; the service refused the notification's XML: run `eioa validate` on it and fix what the message names.",
                                "Anslutningen fungerar; tjänsten avvisade anmälans XML: kör `eioa validate` på den och rätta det som meddelandet anger.",
                            )), t),
                        "SignatureValidationError" => {
                            let remedy = match request.signature {
                                SignatureKind::HarnessTest => Remedy::new(
                                    "The connection works; the service does not trust the harness's test signature (FK never does): to reach accepted, send a notification signed in BankID's test environment with --notification FILE --signature FILE --ocsp FILE.",
                                    "Anslutningen fungerar; tjänsten litar inte på verktygets testsignatur (det gör FK aldrig): för att nå nivån godkänd, skicka en anmälan signerad i BankID:s testmiljö med --notification FILE --signature FILE --ocsp FILE.",
                                ),
                                SignatureKind::BankId => Remedy::new(
                                    "The connection works; the service refused the BankID signature: check that it signs exactly this notification (its id and SHA-256 binding) and that the OCSP response belongs to it.",
                                    "Anslutningen fungerar; tjänsten avvisade BankID-signaturen: kontrollera att den signerar exakt den här anmälan (dess id och SHA-256-bindning) och att OCSP-svaret hör till den.",
                                ),
                            };
                            self.push(checks::SOAP, Status::Warn, format!("SignatureValidationError: {shown}"), facts, Some(remedy), t);
                        }
                        _ => self.push(checks::SOAP, Status::Fail, format!("a SOAP fault without an E-IOA detail: {shown}"), facts,
                            Some(Remedy::new(
                                "The service answered with a generic fault, which does not prove the E-IOA service: run the test again later, and show the time and fault to FK's support if it persists.",
                                "Tjänsten svarade med ett allmänt fel, som inte visar att det är E-IOA-tjänsten som svarar: kör testet igen senare, och visa tidpunkten och felet för FK:s support om det kvarstår.",
                            )), t),
                    }
                    fault = Some(kind.to_owned());
                    fault_message = Some(shown);
                }
                Err(e) => self.push(checks::SOAP, Status::Fail, format!("the answer is not an E-IOA SOAP response: {e}"), vec![Fact::new("error", e.to_string())],
                    Some(Remedy::new(
                        "Something other than the E-IOA service answered: check the URL and that nothing intercepts the connection.",
                        "Något annat än E-IOA-tjänsten svarade: kontrollera URL:en och att ingenting fångar upp anslutningen på vägen.",
                    )), t),
            }
            let t = Instant::now();
            let total = ex.timings.total;
            let facts = vec![
                Fact::new("answer time", ms(total)),
                Fact::new("expected under", ms(FK_ANSWER_EXPECTATION)),
            ];
            if total > FK_ANSWER_EXPECTATION {
                self.push(checks::SOAP_TIME, Status::Warn, format!("answered in {}, over FK's 2 s", ms(total)), facts,
                    Some(Remedy::new(
                        "Slower than FK's backend normally is: fine once, but if it repeats, check the network path (a proxy, a slow link) and allow at least 30 s before timing out; never resend on a timeout.",
                        "Långsammare än FK:s system brukar svara: det går bra någon enstaka gång, men om det upprepas, kontrollera nätverksvägen (en proxy, en långsam förbindelse) och låt tidsgränsen vara minst 30 s; skicka aldrig om efter en timeout.",
                    )), t);
            } else {
                self.push(
                    checks::SOAP_TIME,
                    Status::Pass,
                    format!("answered in {}", ms(total)),
                    facts,
                    None,
                    t,
                );
            }
        }
        Some(self.summary(&ex, &request, cipher_suite, tx_id, fault, fault_message))
    }

    pub(super) fn summary(
        &self,
        ex: &crate::exchange::Exchange,
        request: &SoapRequest,
        cipher_suite: Option<String>,
        tx_id: Option<String>,
        fault: Option<String>,
        fault_message: Option<String>,
    ) -> ExchangeSummary {
        let text = |b: &[u8]| {
            let t = String::from_utf8_lossy(b).into_owned();
            if self.opts.redact {
                eioa_model::redact::redact_xml(&t)
            } else {
                t
            }
        };
        ExchangeSummary {
            url: ex.url.clone(),
            started_at: ex.started_at,
            signature: request.signature.id().into(),
            delivery: delivery_id(ex.delivery).into(),
            tls_version: ex.tls_version.clone(),
            cipher_suite,
            server_cert_sha256: ex.server_cert_sha256.clone(),
            client_cert_sha256: ex.client_cert_sha256.clone(),
            http_status: ex.status,
            content_type: ex.response_header("content-type").map(str::to_owned),
            tx_id,
            fault,
            fault_message,
            connect_ms: ex.timings.connect.map(|d| d.as_secs_f64() * 1000.0),
            total_ms: ex.timings.total.as_secs_f64() * 1000.0,
            request: text(&ex.request_body),
            response: text(&ex.response_body),
            redacted: self.opts.redact,
        }
    }
}
