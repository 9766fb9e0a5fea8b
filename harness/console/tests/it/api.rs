//! What the pages fetch: validation, the journal, the reports folder, and the guard.

use std::time::Duration;

use eioa_validate::rules::RULES;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::support::*;

async fn validate(console: &eioa_console::Console, form: Form) -> (u16, Value) {
    let resp = http()
        .post(format!("{}api/validate", console.url()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn file(name: &str, bytes: Vec<u8>) -> Part {
    Part::bytes(bytes).file_name(name.to_string())
}

#[tokio::test]
async fn the_faq_example_as_printed_gets_the_placeholder_finding_on_line_5() {
    let reports = tempfile::tempdir().unwrap();
    let c = console(None, reports.path()).await;
    let form = Form::new()
        .part("file", file("faq.xml", faq_as_printed()))
        .part("file", file("corrected.xml", faq_corrected()));
    let (status, a) = validate(&c, form).await;
    assert_eq!(status, 200, "{a}");
    let docs = a["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["name"], "faq.xml");
    assert_eq!(docs[0]["valid"], false);
    let placeholder = docs[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "EIOA-R005" && f["line"] == 5)
        .expect("the placeholder personnummer on line 5");
    let rule = RULES.iter().find(|r| r.id == "EIOA-R005").unwrap();
    assert_eq!(placeholder["explanation"], rule.summary);
    assert_eq!(placeholder["fix"], rule.hint);
    assert!(placeholder["excerpt"]["text"]
        .as_str()
        .unwrap()
        .contains("YYYYMMDDXXXX"));
    let source = docs[0]["source"].as_str().unwrap();
    assert_eq!(
        source.lines().nth(4).unwrap().trim(),
        "<personnummer>YYYYMMDDXXXX</personnummer>"
    );
    assert_eq!(docs[1]["valid"], true, "{}", docs[1]);
    assert_eq!(a["summary"]["files"], 2);
    assert_eq!(a["summary"]["invalid"], 1);
    // The downloads are the CLI's renderings of the same run.
    let json: Value = serde_json::from_str(a["json"].as_str().unwrap()).unwrap();
    assert_eq!(json["files"].as_array().unwrap().len(), 2);
    assert!(a["junit"].as_str().unwrap().contains("EIOA-R005"));
    assert!(a["schema_set"].as_str().unwrap().starts_with("eioa-v1"));
    c.shutdown().await;
}

#[tokio::test]
async fn a_pasted_document_is_validated_and_an_empty_paste_is_not_a_document() {
    let reports = tempfile::tempdir().unwrap();
    let c = console(None, reports.path()).await;
    let text = String::from_utf8(faq_as_printed()).unwrap();
    let (status, a) = validate(&c, Form::new().text("paste", text)).await;
    assert_eq!(status, 200);
    assert_eq!(a["documents"][0]["name"], "pasted");
    assert_eq!(a["documents"][0]["valid"], false);
    let (status, a) = validate(&c, Form::new().text("paste", "  \n")).await;
    assert_eq!(status, 400, "{a}");
    assert!(a["error"].as_str().unwrap().contains("no document"));
    c.shutdown().await;
}

#[tokio::test]
async fn hostile_input_gets_findings_or_a_clear_refusal_and_the_server_keeps_answering() {
    let reports = tempfile::tempdir().unwrap();
    let c = console(None, reports.path()).await;
    let max = validator().options().max_bytes;
    // One byte over the validator's limit: EIOA-X004, not parsed, no listing.
    let mut big = b"<a>".to_vec();
    big.resize(max + 1, b'x');
    // Not XML at all, and a billion-laughs document.
    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let laughs = br#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>"#.to_vec();
    let form = Form::new()
        .part("file", file("big.xml", big))
        .part("file", file("binary.xml", binary))
        .part("file", file("laughs.xml", laughs));
    let (status, a) = validate(&c, form).await;
    assert_eq!(status, 200, "{a}");
    let docs = a["documents"].as_array().unwrap();
    assert_eq!(docs[0]["findings"][0]["rule"], "EIOA-X004");
    assert!(docs[0]["source"].is_null());
    assert!(docs.iter().all(|d| d["valid"] == false));

    // A request over the request limit is refused before it is read whole.
    let huge = vec![b'x'; eioa_console::MAX_REQUEST_BYTES + 1024];
    let (status, _) = validate(&c, Form::new().part("file", file("huge.xml", huge))).await;
    assert_eq!(status, 413);

    // Not a multipart form at all.
    let resp = http()
        .post(format!("{}api/validate", c.url()))
        .header("content-type", "multipart/form-data; boundary=zz")
        .body("--zz\r\nnonsense")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error(), "{}", resp.status());

    // Still answering.
    let (status, _) = validate(
        &c,
        Form::new().part("file", file("ok.xml", faq_corrected())),
    )
    .await;
    assert_eq!(status, 200);
    c.shutdown().await;
}

#[tokio::test]
async fn every_page_renders_in_english_and_swedish_without_unfilled_labels() {
    let reports = tempfile::tempdir().unwrap();
    let c = console(None, reports.path()).await;
    for page in ["", "validate", "standin", "session", "reports"] {
        for (q, lang, word) in [("", "en", "Validate"), ("?lang=sv", "sv", "Validera")] {
            let html = get(format!("{}{page}{q}", c.url()))
                .await
                .text()
                .await
                .unwrap();
            assert!(!html.contains("{{"), "{page}{q} has an unfilled label");
            assert!(html.contains(&format!("<html lang=\"{lang}\">")));
            assert!(html.contains(word), "{page}{q}");
            // Nothing fetched from elsewhere: the console works offline.
            assert!(
                !html.contains("http://") && !html.contains("https://"),
                "{page}{q}"
            );
        }
    }
    for asset in ["assets/style.css", "assets/app.js"] {
        let text = get(format!("{}{asset}", c.url()))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{asset}"
        );
    }
    c.shutdown().await;
}

#[tokio::test]
async fn reports_are_listed_and_served_from_the_reports_folder_only() {
    let t = tempfile::tempdir().unwrap();
    let reports = t.path().join("reports");
    std::fs::create_dir_all(reports.join("run-20250314-1000")).unwrap();
    std::fs::create_dir_all(reports.join("connect/connect-1")).unwrap();
    std::fs::write(
        reports.join("run-20250314-1000/report.html"),
        "<h1>run report</h1>",
    )
    .unwrap();
    std::fs::write(reports.join("run-20250314-1000/report.json"), "{}").unwrap();
    std::fs::write(
        reports.join("connect/connect-1/report.html"),
        "<h1>connect</h1>",
    )
    .unwrap();
    std::fs::write(t.path().join("secret.txt"), "SECRET-OUTSIDE").unwrap();
    std::os::unix::fs::symlink(
        t.path().join("secret.txt"),
        reports.join("run-20250314-1000/escape.txt"),
    )
    .unwrap();
    let c = console(None, &reports).await;
    let list: Value = get(format!("{}api/reports", c.url()))
        .await
        .json()
        .await
        .unwrap();
    let paths: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"run-20250314-1000"), "{list}");
    assert!(paths.contains(&"connect/connect-1"), "{list}");

    let addr = c.local_addr();
    let host = addr.to_string();
    let (status, body) = raw_get(addr, "/files/run-20250314-1000/report.html", &host).await;
    assert_eq!((status, body.as_str()), (200, "<h1>run report</h1>"));
    for target in [
        "/files/../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/run-20250314-1000/..%2f..%2fsecret.txt",
        "/files/run-20250314-1000/%2e%2e/%2e%2e/secret.txt",
        "/files/%2fetc%2fpasswd",
        "/files//etc/passwd",
        "/files/run-20250314-1000/escape.txt",
        "/files/run-20250314-1000/..%5c..%5csecret.txt",
    ] {
        let (status, body) = raw_get(addr, target, &host).await;
        assert_ne!(status, 200, "{target} was served");
        assert!(!body.contains("SECRET-OUTSIDE"), "{target} leaked");
        assert!(!body.contains("root:"), "{target} leaked");
    }
    c.shutdown().await;
}

#[tokio::test]
async fn another_host_name_is_refused_and_a_token_is_required_when_set() {
    let reports = tempfile::tempdir().unwrap();
    let c = console(None, reports.path()).await;
    let addr = c.local_addr();
    let (status, _) = raw_get(addr, "/", &addr.to_string()).await;
    assert_eq!(status, 200);
    let (status, _) = raw_get(addr, "/", &format!("localhost:{}", addr.port())).await;
    assert_eq!(status, 200);
    // A page on another site whose name now points at 127.0.0.1.
    let (status, _) = raw_get(
        addr,
        "/api/reports",
        &format!("rebound.example:{}", addr.port()),
    )
    .await;
    assert_eq!(status, 421);
    c.shutdown().await;

    let mut cfg = config(None, reports.path());
    cfg.token = Some("0123456789abcdef-token".into());
    let c = eioa_console::Console::start(cfg).await.unwrap();
    let client = http();
    let url = format!("{}api/reports", c.url());
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        client
            .get(&url)
            .bearer_auth("0123456789abcdef-wrong")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        client
            .get(&url)
            .bearer_auth("0123456789abcdef-token")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let resp = client
        .get(format!("{}?token=0123456789abcdef-token", c.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let pair = cookie.split(';').next().unwrap();
    assert_eq!(
        client
            .get(&url)
            .header("cookie", pair)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    c.shutdown().await;
}

#[tokio::test]
async fn a_request_to_the_stand_in_is_listed_and_opens_redacted() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let server = stand_in(&data).await;
    let c = console(Some(&data), t.path()).await;
    send(&server, &faq_as_printed()).await;
    let rows = eventually(Duration::from_secs(15), || async {
        let v: Value = http()
            .get(format!("{}api/journal", c.url()))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (!v.as_array()?.is_empty()).then_some(v)
    })
    .await
    .expect("the exchange is listed");
    let seq = rows[0]["seq"].as_u64().unwrap();
    assert_eq!(rows[0]["method"], "POST");
    let detail: Value = get(format!("{}api/journal/{seq}", c.url()))
        .await
        .json()
        .await
        .unwrap();
    let text = detail["text"].as_str().unwrap();
    assert!(text.contains(&format!("seq:          {seq}")), "{text}");
    assert!(text.contains("personal data redacted"), "{text}");
    assert_eq!(detail["outcome"], rows[0]["outcome"]);
    let missing = get(format!("{}api/journal/999999", c.url())).await;
    assert_eq!(missing.status(), 404);
    c.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn the_schema_set_is_chosen_per_request_among_those_the_console_offers() {
    let reports = tempfile::tempdir().unwrap();
    let draft =
        eioa_validate::SchemaSet::from_dir(&root().join("fixtures/schema-sets/eioa-v2-draft"))
            .unwrap();
    let draft_id = draft.id.clone();
    let mut cfg = config(None, reports.path());
    cfg.validators.push(std::sync::Arc::new(
        eioa_validate::Validator::new(draft, eioa_validate::ValidatorOptions::default()).unwrap(),
    ));
    let c = eioa_console::Console::start(cfg).await.unwrap();
    let page = get(c.url()).await.text().await.unwrap();
    assert!(
        page.contains(&format!("<option value=\"{draft_id}\">")),
        "{page}"
    );

    let form = |set: &str| {
        Form::new()
            .text("schema_set", set.to_string())
            .part("file", file("corrected.xml", faq_corrected()))
    };
    let (status, a) = validate(&c, form(&draft_id)).await;
    assert_eq!(status, 200, "{a}");
    assert!(
        a["schema_set"].as_str().unwrap().starts_with(&draft_id),
        "{a}"
    );
    let json: Value = serde_json::from_str(a["json"].as_str().unwrap()).unwrap();
    assert!(json.to_string().contains(&draft_id));
    let (status, a) = validate(&c, form("eioa-v1")).await;
    assert_eq!(status, 200, "{a}");
    assert!(
        a["schema_set"].as_str().unwrap().starts_with("eioa-v1"),
        "{a}"
    );
    let (status, a) = validate(&c, form("no-such-set")).await;
    assert_eq!(status, 400);
    assert!(a["error"].as_str().unwrap().contains("no-such-set"));
    c.shutdown().await;
}

/// The fault panel's routes pass the stand-in's answers on: its reason for refused
/// settings, and "not running" when there is no stand-in.
#[tokio::test]
async fn fault_settings_go_through_the_stand_ins_admin_interface() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let server = stand_in(&data).await;
    eioa_mock_server::admin::start_with_faults(
        &data,
        validator().schema_set().clone(),
        eioa_mock_server::admin::AdminTimeouts::default(),
        Some(server.faults()),
    )
    .unwrap();
    let c = console(Some(&data), t.path()).await;
    let url = format!("{}api/faults", c.url());
    let put = |body: &'static str| {
        http()
            .put(&url)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let now: Value = get(url.clone()).await.json().await.unwrap();
    assert_eq!(now["active"], false);
    assert_eq!(now["config"]["xml_validation_error"], 0.0);

    let r = put(r#"{"http_503":1.5}"#).await.unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"].as_str().unwrap().contains("between 0 and 1"),
        "{e}"
    );
    let r = put("not json").await.unwrap();
    assert_eq!(r.status(), 400);

    let r = put(r#"{"http_503":0.25,"latency":{"kind":"fk-like"}}"#)
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["active"], true);
    assert_eq!(server.faults().config().http_503, 0.25);

    // No stand-in behind the data directory: 503 and why.
    let idle = console(Some(&t.path().join("none")), t.path()).await;
    let r = get(format!("{}api/faults", idle.url())).await;
    assert_eq!(r.status(), 503);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("is the stand-in running"),
        "{e}"
    );
    idle.shutdown().await;
    c.shutdown().await;
    server.shutdown().await;
}
