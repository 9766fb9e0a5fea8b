//! Text views of the journal for `eioa tx list` and `eioa tx show`.

use std::fmt::Write as _;

use crate::journal::Record;
use eioa_model::redact::{mask_identity_numbers, redact_xml};

/// A short label for a record's outcome.
pub fn outcome(r: &Record) -> String {
    if let Some(f) = &r.fault {
        return format!("fault:{f}");
    }
    match &r.verdict {
        Some(eioa_fk::Verdict::Accepted { .. }) => "accepted".into(),
        Some(eioa_fk::Verdict::XmlValidationError { rule, .. }) => {
            format!("XmlValidationError:{rule}")
        }
        Some(eioa_fk::Verdict::SignatureValidationError { rule, .. }) => {
            format!("SignatureValidationError:{rule}")
        }
        Some(eioa_fk::Verdict::Rejected { rule, .. }) => format!("rejected:{rule}"),
        Some(eioa_fk::Verdict::ServerFault { rule, .. }) => format!("server-fault:{rule}"),
        Some(eioa_fk::Verdict::Served { what }) => format!("served:{what}"),
        None => "transport".into(),
    }
}

/// One line per record, oldest first.
pub fn list(records: &[Record]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>6}  {:<20}  {:>6}  {:<36}  {:<16}  OUTCOME",
        "SEQ", "TIME", "STATUS", "TX-ID", "CLIENT"
    );
    for r in records {
        let status = r.status.map_or_else(|| "-".to_string(), |s| s.to_string());
        let client = r
            .client_cert_sha256
            .as_deref()
            .map_or("-".to_string(), |c| c.chars().take(16).collect());
        let time: String = r.time.chars().take(19).collect();
        let _ = writeln!(
            out,
            "{:>6}  {:<20}  {:>6}  {:<36}  {:<16}  {}{}",
            r.seq,
            time,
            status,
            r.tx_id.as_deref().unwrap_or("-"),
            client,
            outcome(r),
            if r.findings.is_empty() {
                String::new()
            } else {
                format!(" ({} finding(s))", r.findings.len())
            }
        );
    }
    out
}

/// The records with this tx-id (FK may see a tx-id once; the journal keeps all).
pub fn find<'a>(records: &'a [Record], tx_id: &str) -> Vec<&'a Record> {
    records
        .iter()
        .filter(|r| r.tx_id.as_deref() == Some(tx_id))
        .collect()
}

/// Everything about one exchange. `redacted` masks identity numbers, shortens
/// names to initials and elides signature blobs.
pub fn show(r: &Record, redacted: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "seq:          {}", r.seq);
    let _ = writeln!(out, "time:         {}", r.time);
    let _ = writeln!(out, "remote:       {}", r.remote);
    let _ = writeln!(
        out,
        "client cert:  {}",
        r.client_cert_sha256.as_deref().unwrap_or("(none)")
    );
    let _ = writeln!(out, "request:      {} {}", r.method, r.target);
    let _ = writeln!(
        out,
        "status:       {}",
        r.status
            .map_or_else(|| "(no answer sent)".to_string(), |s| s.to_string())
    );
    let _ = writeln!(out, "tx-id:        {}", r.tx_id.as_deref().unwrap_or("-"));
    let _ = writeln!(out, "outcome:      {}", outcome(r));
    if let Some(v) = &r.verdict {
        let text = serde_json::to_string(v).unwrap_or_default();
        let _ = writeln!(
            out,
            "verdict:      {}",
            if redacted {
                mask_identity_numbers(&text)
            } else {
                text
            }
        );
    }
    for f in &r.findings {
        let _ = writeln!(out, "finding:      {f}");
    }
    if redacted {
        let _ = writeln!(
            out,
            "(personal data redacted; --unredacted shows the bytes as sent)"
        );
    }
    let _ = writeln!(out, "\n--- request headers");
    for (k, v) in &r.request_headers {
        let _ = writeln!(out, "{k}: {v}");
    }
    let _ = writeln!(out, "\n--- request body ({} bytes)", r.request.len());
    out.push_str(&body_text(&r.request, redacted));
    let _ = writeln!(out, "\n--- response body ({} bytes)", r.response.len());
    out.push_str(&body_text(&r.response, redacted));
    out
}

fn body_text(bytes: &[u8], redacted: bool) -> String {
    let mut s = match std::str::from_utf8(bytes) {
        Ok(t) if redacted => redact_xml(t),
        Ok(t) => t.to_string(),
        Err(_) if redacted => format!(
            "[{} bytes, not UTF-8; --unredacted shows them]",
            bytes.len()
        ),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    };
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
