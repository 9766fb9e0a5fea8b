//! In-process stand-in: a [`wiremock::MockServer`] on 127.0.0.1 whose only responder
//! is [`Fk::handle`]. wiremock has no TLS, so requests carry no client certificate
//! here; the standalone server covers mutual TLS.

use eioa_fk::{Fk, FkConfig, HttpRequest, Verdict, PATH_TEST};
use std::sync::{Arc, Mutex};
use wiremock::{matchers, Mock, MockServer, Respond, ResponseTemplate};

/// FK running inside the test process, reachable over plain HTTP.
#[derive(Debug)]
pub struct InProcessFk {
    server: MockServer,
    fk: Arc<Fk>,
    verdicts: Arc<Mutex<Vec<Verdict>>>,
}

impl InProcessFk {
    /// Starts a fresh server on a random port. When `config.base_url` is `None` it is
    /// set to the server's own URI, so the served WSDL points back here.
    pub async fn start(mut config: FkConfig) -> Self {
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        if config.base_url.is_none() {
            config.base_url = Some(server.uri());
        }
        let fk = Arc::new(Fk::new(config));
        let verdicts = Arc::new(Mutex::new(Vec::new()));
        Mock::given(matchers::any())
            .respond_with(FkResponder {
                fk: fk.clone(),
                verdicts: verdicts.clone(),
            })
            .mount(&server)
            .await;
        InProcessFk {
            server,
            fk,
            verdicts,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The operation's URL on FK's test path.
    pub fn endpoint_url(&self) -> String {
        format!("{}{PATH_TEST}", self.server.uri())
    }

    /// Where a SOAP stack loads the WSDL.
    pub fn wsdl_url(&self) -> String {
        format!("{}?wsdl", self.endpoint_url())
    }

    pub fn fk(&self) -> &Arc<Fk> {
        &self.fk
    }

    /// Every verdict so far, oldest first.
    pub fn verdicts(&self) -> Vec<Verdict> {
        self.verdicts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every verdict so far, clearing the record.
    pub fn take_verdicts(&self) -> Vec<Verdict> {
        std::mem::take(&mut *self.verdicts.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

struct FkResponder {
    fk: Arc<Fk>,
    verdicts: Arc<Mutex<Vec<Verdict>>>,
}

impl Respond for FkResponder {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let req = HttpRequest {
            method: request.method.as_str(),
            path: request.url.path(),
            query: request.url.query(),
            headers: &headers,
            body: &request.body,
            client_cert_der: None,
        };
        let (resp, verdict) = self.fk.handle(&req);
        self.verdicts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(verdict);
        let mut t = ResponseTemplate::new(resp.status);
        for (k, v) in resp.headers {
            t = t.append_header(k.as_str(), v.as_str());
        }
        t.set_body_bytes(resp.body)
    }
}
