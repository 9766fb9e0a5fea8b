//! English and Swedish labels (`?lang=sv`). Pages name a label as `{{key}}`; the
//! scripts get the `js.*` labels as JSON.

/// A page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Sv,
}

impl Lang {
    pub fn from_query(q: Option<&str>) -> Lang {
        match q {
            Some("sv") => Lang::Sv,
            _ => Lang::En,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Sv => "sv",
        }
    }
}

/// `(key, English, Swedish)`.
pub const LABELS: &[(&str, &str, &str)] = &[
    ("app.name", "E-IOA console", "E-IOA-konsol"),
    ("nav.label", "Sections", "Avsnitt"),
    ("nav.validate", "Validate", "Validera"),
    ("nav.standin", "Stand-in", "Testserver"),
    ("nav.session", "Session", "Session"),
    ("nav.reports", "Reports", "Rapporter"),
    ("nav.lang", "På svenska", "In English"),
    ("validate.title", "Validate notifications", "Validera anmälningar"),
    ("validate.intro", "Drop files here, choose them, or paste a document. They are checked by the same validator as eioa validate: schema, then FK's business rules.", "Släpp filer här, välj dem eller klistra in ett dokument. De kontrolleras av samma validering som eioa validate: schema, sedan FK:s affärsregler."),
    ("validate.schema", "Schema set", "Schemauppsättning"),
    ("validate.drop", "Drop notification files here", "Släpp anmälningsfiler här"),
    ("validate.files", "Files to validate", "Filer att validera"),
    ("validate.paste", "Or paste a notification", "Eller klistra in en anmälan"),
    ("validate.run", "Validate", "Validera"),
    ("validate.limit", "Largest document", "Största dokument"),
    ("js.validating", "Validating…", "Validerar…"),
    ("js.nothing", "Choose or paste a document first.", "Välj eller klistra in ett dokument först."),
    ("js.failed", "The request failed", "Begäran misslyckades"),
    ("js.valid", "valid", "giltig"),
    ("js.invalid", "INVALID", "OGILTIG"),
    ("js.errors", "errors", "fel"),
    ("js.warnings", "warnings", "varningar"),
    ("js.line", "line", "rad"),
    ("js.whole", "whole document", "hela dokumentet"),
    ("js.why", "Why and how to fix it", "Varför och hur det rättas"),
    ("js.fix", "Fix", "Åtgärd"),
    ("js.listing", "Document", "Dokument"),
    ("js.download_json", "Download JSON", "Ladda ned JSON"),
    ("js.download_junit", "Download JUnit", "Ladda ned JUnit"),
    ("js.summary", "documents", "dokument"),
    ("js.live", "Live: new exchanges appear as they are journaled.", "Direkt: nya utbyten visas när de journalförs."),
    ("js.offline", "Not connected to the journal; retrying…", "Ingen kontakt med journalen; försöker igen…"),
    ("js.open", "Open", "Öppna"),
    ("js.none", "none", "ingen"),
    ("js.demonstrated", "demonstrated", "visad"),
    ("js.not-demonstrated", "not yet demonstrated", "ännu inte visad"),
    ("js.failed-case", "failed", "underkänd"),
    ("js.required", "required", "krävs"),
    ("js.optional", "optional", "frivillig"),
    ("js.ready", "READY", "KLAR"),
    ("js.not-ready", "NOT READY", "INTE KLAR"),
    ("js.no-reports", "No reports yet: eioa run and eioa connect write them here.", "Inga rapporter än: eioa run och eioa connect skriver dem här."),
    ("standin.title", "Stand-in journal", "Testserverns journal"),
    ("standin.dir", "Data directory", "Datakatalog"),
    ("standin.filters", "Filter", "Filtrera"),
    ("standin.client", "Client certificate (SHA-256)", "Klientcertifikat (SHA-256)"),
    ("standin.tx", "Tx-id", "Tx-id"),
    ("standin.outcome", "Outcome", "Utfall"),
    ("standin.caption", "Exchanges, newest last", "Utbyten, nyaste sist"),
    ("standin.seq", "Seq", "Nr"),
    ("standin.time", "Time (UTC)", "Tid (UTC)"),
    ("standin.status", "HTTP status", "HTTP-status"),
    ("standin.exchange", "Exchange", "Utbyte"),
    ("standin.redacted", "Personal data is redacted: names shortened to initials, identity numbers masked.", "Personuppgifter är maskerade: namn förkortade till initialer, personnummer maskerade."),
    ("faults.title", "Fault injection", "Felinjicering"),
    ("faults.intro", "Share of requests (0 to 1, 1 means every request) the stand-in answers with each fault instead of FK's answer. The shares add up to at most 1. Faults are journaled.", "Andel anrop (0 till 1, 1 betyder varje anrop) som testservern besvarar med respektive fel i stället för FK:s svar. Andelarna får tillsammans vara högst 1. Felen journalförs."),
    ("faults.shares", "Shares of requests", "Andelar av anropen"),
    ("faults.http_500", "HTTP 500", "HTTP 500"),
    ("faults.http_503", "HTTP 503", "HTTP 503"),
    ("faults.reset", "Connection reset", "Återställd anslutning"),
    ("faults.no_answer", "No answer", "Inget svar"),
    ("faults.malformed_soap", "Malformed SOAP", "Felformad SOAP"),
    ("faults.xml_validation_error", "Forced XmlValidationError", "Påtvingat XmlValidationError"),
    ("faults.signature_validation_error", "Forced SignatureValidationError", "Påtvingat SignatureValidationError"),
    ("faults.latency", "Added latency", "Tillagd fördröjning"),
    ("faults.latency_none", "None", "Ingen"),
    ("faults.latency_fk", "Like FK (80 ms to 2 s)", "Som FK (80 ms till 2 s)"),
    ("faults.latency_kept", "As configured at start (kept)", "Som vid start (behålls)"),
    ("faults.apply", "Apply", "Verkställ"),
    ("faults.off", "All off", "Stäng av allt"),
    ("js.faults-on", "Fault injection is ON", "Felinjicering är PÅ"),
    ("js.faults-off", "Fault injection is off: the stand-in answers as FK.", "Felinjicering är av: testservern svarar som FK."),
    ("js.faults-applied", "Applied.", "Verkställt."),
    ("js.faults-refused", "Not applied", "Inte verkställt"),
    ("js.faults-unavailable", "Fault injection cannot be switched: the stand-in is not running.", "Felinjicering kan inte växlas: testservern är inte igång."),
    ("js.latency", "latency", "fördröjning"),
    ("session.title", "Conformance session", "Överensstämmelsesession"),
    ("session.intro", "The running session's checklist, judged from the stand-in's journal as exchanges arrive.", "Checklistan för pågående session, bedömd från testserverns journal när utbyten kommer in."),
    ("session.case", "Case", "Fall"),
    ("session.state", "State", "Läge"),
    ("session.detail", "What to send or why it failed", "Vad som ska skickas eller varför det underkändes"),
    ("session.report", "Open the session report", "Öppna sessionsrapporten"),
    ("reports.title", "Reports", "Rapporter"),
    ("reports.intro", "Runs and connection tests in the reports folder, newest first.", "Körningar och anslutningstester i rapportmappen, nyaste först."),
    ("reports.folder", "Folder", "Mapp"),
    ("reports.name", "Report", "Rapport"),
    ("reports.modified", "Written (UTC)", "Skriven (UTC)"),
];

/// The label `key` in `lang`, if there is one.
pub fn label(lang: Lang, key: &str) -> Option<&'static str> {
    LABELS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, en, sv)| match lang {
            Lang::En => *en,
            Lang::Sv => *sv,
        })
}

/// The labels the scripts use, as a JSON object.
pub fn script_labels(lang: Lang) -> String {
    let map: serde_json::Map<String, serde_json::Value> = LABELS
        .iter()
        .filter_map(|(k, _, _)| {
            let short = k.strip_prefix("js.")?;
            Some((short.to_string(), label(lang, k)?.into()))
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}
