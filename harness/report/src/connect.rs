//! The connection test's report, for the person who has to act on it and may show it to FK:
//! `report.html` (self-contained, printable), `summary.json`, `report.md`, `junit.xml`, and
//! the signed `evidence.json` beside them. [`write`] writes them all.
//!
//! Everything is rendered from one [`ConnectionTest`]. The fixed texts (headings, labels,
//! status words, the level sentences and the check titles) come in English or Swedish
//! ([`Lang`]), and so do the remedies and the next-level hint: the probe writes each in both
//! languages ([`Check::remedy_sv`], [`ConnectionTest::next_level_hint_sv`]), and a result
//! written before it did shows its English remedy in a Swedish report. Check ids stay as they
//! are, and what the probe measured (facts, summaries) is shown as it wrote it, in English.
//! Request and response bodies are shown redacted by [`eioa_model::redact`] unless the test
//! says they are unredacted.

use std::fmt::Write as _;
use std::fs::{DirBuilder, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use eioa_client::connect::{CertPanel, Check, ConnectionTest, ExchangeSummary, Level, Status};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use time::OffsetDateTime;

use crate::evidence::{self, EvidenceError, EVIDENCE_FILE};

/// The report files, in the order [`write`] writes them (the evidence file comes last).
pub const REPORT_FILES: [&str; 4] = ["summary.json", "report.md", "junit.xml", "report.html"];

/// The language of the report's fixed texts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// Swedish, for a report shown to FK.
    Sv,
}

impl Lang {
    /// `en` or `sv`.
    pub fn id(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Sv => "sv",
        }
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "sv" => Ok(Lang::Sv),
            other => Err(format!("unknown language `{other}`: use `en` or `sv`")),
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// What [`write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The report files ([`REPORT_FILES`], in `dir`).
    pub files: Vec<PathBuf>,
    /// The evidence file, when a client identity signed it.
    pub evidence: Option<PathBuf>,
}

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectReportError {
    /// A file or the directory could not be written.
    #[error("write {}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The evidence could not be made.
    #[error("make the evidence file")]
    Evidence(#[from] EvidenceError),
}

/// Writes `summary.json`, `report.md`, `junit.xml` and `report.html` of `test` into `dir`
/// (created if missing), then `evidence.json`: their SHA-256 manifest signed with `signer`,
/// the client identity that made the connection. Without a signer (no identity could be
/// loaded) no evidence file is written, and [`Written::evidence`] is `None`.
///
/// Files are `0644` in a `0755` directory when the exchange is redacted (or there is none),
/// `0600` in `0700` when it is not, as for the run reports. Existing report files of the same
/// names are replaced; other files in `dir` are left alone (and `eioa evidence verify` will
/// name them as added, so give each test its own directory).
pub fn write(
    dir: &Path,
    test: &ConnectionTest,
    lang: Lang,
    signer: Option<&eioa_client::Identity>,
) -> Result<Written, ConnectReportError> {
    let shown = prepared(test);
    let private = shown.exchange.as_ref().is_some_and(|e| !e.redacted);
    let (dir_mode, file_mode) = if private {
        (0o700, 0o600)
    } else {
        (0o755, 0o644)
    };
    let werr = |path: &Path| {
        let path = path.to_owned();
        move |source| ConnectReportError::Write { path, source }
    };
    DirBuilder::new()
        .recursive(true)
        .mode(dir_mode)
        .create(dir)
        .map_err(werr(dir))?;
    if private {
        // An existing directory keeps its mode otherwise.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(dir_mode))
            .map_err(werr(dir))?;
    }
    let bodies = [
        to_json(&shown),
        to_markdown(&shown, lang),
        to_junit(&shown, lang),
        to_html(&shown, lang),
    ];
    let mut files = Vec::new();
    for (name, body) in REPORT_FILES.iter().zip(bodies) {
        let path = dir.join(name);
        write_file(&path, body.as_bytes(), file_mode).map_err(werr(&path))?;
        files.push(path);
    }
    let evidence = match signer {
        Some(identity) => {
            let ev = evidence::sign(dir, &REPORT_FILES, &identity.certified_key())?;
            let path = dir.join(EVIDENCE_FILE);
            write_file(&path, ev.to_json().as_bytes(), file_mode).map_err(werr(&path))?;
            Some(path)
        }
        None => {
            // A stale evidence file from an earlier run would claim these files.
            let path = dir.join(EVIDENCE_FILE);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(ConnectReportError::Write { path, source: e })
                }
                _ => None,
            }
        }
    };
    Ok(Written { files, evidence })
}

/// Creates or replaces `path` with `mode`, whatever mode an earlier file had.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// `test` as every report shows it: request, response and fault message redacted unless the
/// test says they are not.
pub fn prepared(test: &ConnectionTest) -> ConnectionTest {
    let mut t = test.clone();
    if let Some(x) = t.exchange.as_mut() {
        if x.redacted {
            // The probe redacts already; doing it here too keeps every report safe whoever
            // built the value (redaction is idempotent).
            x.request = eioa_model::redact::redact_xml(&x.request);
            x.response = eioa_model::redact::redact_xml(&x.response);
            x.fault_message = x
                .fault_message
                .as_deref()
                .map(eioa_model::redact::redact_xml);
        }
    }
    t
}

// ---------------------------------------------------------------------------------------------
// Texts.

/// The fixed texts of one language.
struct Texts {
    title: &'static str,
    level_reached: &'static str,
    levels: &'static str,
    next_level: &'static str,
    first_failure: &'static str,
    target: &'static str,
    fk_host: &'static str,
    other_host: &'static str,
    resolve: &'static str,
    tool: &'static str,
    started: &'static str,
    finished: &'static str,
    checks: &'static str,
    checks_note: &'static str,
    remedy: &'static str,
    col_status: &'static str,
    col_check: &'static str,
    client_cert: &'static str,
    client_intermediates: &'static str,
    server_chain: &'static str,
    no_client_cert: &'static str,
    no_server_chain: &'static str,
    subject: &'static str,
    issuer: &'static str,
    serial: &'static str,
    not_before: &'static str,
    not_after: &'static str,
    days_left: &'static str,
    sans: &'static str,
    key: &'static str,
    eku: &'static str,
    ca: &'static str,
    yes: &'static str,
    no: &'static str,
    none: &'static str,
    fingerprint: &'static str,
    exchange: &'static str,
    no_exchange: &'static str,
    url: &'static str,
    signature: &'static str,
    delivery: &'static str,
    tls_version: &'static str,
    cipher_suite: &'static str,
    server_fp: &'static str,
    client_fp: &'static str,
    http_status: &'static str,
    content_type: &'static str,
    tx_id: &'static str,
    fault: &'static str,
    fault_message: &'static str,
    connect_time: &'static str,
    total_time: &'static str,
    request: &'static str,
    response: &'static str,
    redacted: &'static str,
    unredacted: &'static str,
    evidence_note: &'static str,
    certificate: &'static str,
    leaf: &'static str,
}

const EN: Texts = Texts {
    title: "E-IOA connection test",
    level_reached: "Level reached",
    levels: "Levels of proof",
    next_level: "Next level",
    first_failure: "First failure",
    target: "Target",
    fk_host: "FK's host",
    other_host: "not one of FK's hosts",
    resolve: "address given (--resolve)",
    tool: "Tool",
    started: "Started",
    finished: "Finished",
    checks: "Checks",
    checks_note: "In the order they ran. Facts and findings are shown as the tool measured them.",
    remedy: "What to do",
    col_status: "status",
    col_check: "check: finding",
    client_cert: "Client certificate",
    client_intermediates: "Intermediate certificates the client presents",
    server_chain: "Server certificate chain",
    no_client_cert: "No client certificate could be read.",
    no_server_chain: "The server presented no certificate.",
    subject: "Subject",
    issuer: "Issuer",
    serial: "Serial number",
    not_before: "Valid from",
    not_after: "Valid until",
    days_left: "days left",
    sans: "Alternative names",
    key: "Key",
    eku: "Extended key usage",
    ca: "CA certificate",
    yes: "yes",
    no: "no",
    none: "none",
    fingerprint: "SHA-256 fingerprint",
    exchange: "Exchange",
    no_exchange: "No SOAP request was sent: an earlier check failed.",
    url: "URL",
    signature: "Signature",
    delivery: "Delivery",
    tls_version: "TLS version",
    cipher_suite: "Cipher suite",
    server_fp: "Server certificate SHA-256",
    client_fp: "Client certificate SHA-256",
    http_status: "HTTP status",
    content_type: "Content type",
    tx_id: "tx-id",
    fault: "Fault",
    fault_message: "Fault message",
    connect_time: "Until the server certificate",
    total_time: "Whole exchange",
    request: "Request",
    response: "Response",
    redacted: "redacted: identity numbers masked, names shortened to initials, signatures elided",
    unredacted: "NOT redacted: contains personal data as sent",
    evidence_note: "The files of this report are listed with their SHA-256 in evidence.json beside it, signed with the client key that made the connection. Check that nothing was edited, and who signed it, with: eioa evidence verify DIRECTORY --fingerprint SHA256 (the client certificate's SHA-256 above) or --ca CA.pem (the authority that issued it)",
    certificate: "Certificate",
    leaf: "leaf",
};

const SV: Texts = Texts {
    title: "E-IOA anslutningstest",
    level_reached: "Uppnådd nivå",
    levels: "Bevisnivåer",
    next_level: "Nästa nivå",
    first_failure: "Första felet",
    target: "Mål",
    fk_host: "FK:s värd",
    other_host: "inte en av FK:s värdar",
    resolve: "angiven adress (--resolve)",
    tool: "Verktyg",
    started: "Start",
    finished: "Slut",
    checks: "Kontroller",
    checks_note: "I den ordning de kördes. Mätvärden och fynd visas på engelska, så som verktyget mätte dem.",
    remedy: "Åtgärd",
    col_status: "status",
    col_check: "kontroll: fynd",
    client_cert: "Klientcertifikat",
    client_intermediates: "Mellanliggande certifikat som klienten skickar",
    server_chain: "Serverns certifikatkedja",
    no_client_cert: "Inget klientcertifikat kunde läsas.",
    no_server_chain: "Servern skickade inget certifikat.",
    subject: "Subjekt",
    issuer: "Utfärdare",
    serial: "Serienummer",
    not_before: "Giltigt från",
    not_after: "Giltigt till",
    days_left: "dagar kvar",
    sans: "Alternativa namn",
    key: "Nyckel",
    eku: "Utökad nyckelanvändning",
    ca: "CA-certifikat",
    yes: "ja",
    no: "nej",
    none: "inga",
    fingerprint: "SHA-256-fingeravtryck",
    exchange: "Utväxling",
    no_exchange: "Ingen SOAP-begäran skickades: en tidigare kontroll misslyckades.",
    url: "URL",
    signature: "Signatur",
    delivery: "Leverans",
    tls_version: "TLS-version",
    cipher_suite: "Chiffersvit",
    server_fp: "Servercertifikatets SHA-256",
    client_fp: "Klientcertifikatets SHA-256",
    http_status: "HTTP-status",
    content_type: "Innehållstyp",
    tx_id: "tx-id",
    fault: "Fel (SOAP fault)",
    fault_message: "Felmeddelande",
    connect_time: "Tid till servercertifikatet",
    total_time: "Hela utväxlingen",
    request: "Begäran",
    response: "Svar",
    redacted: "maskerad: personnummer maskerade, namn förkortade till initialer, signaturer utelämnade",
    unredacted: "INTE maskerad: innehåller personuppgifter så som de skickades",
    evidence_note: "Rapportens filer finns med sina SHA-256 i evidence.json bredvid den, signerad med klientnyckeln som gjorde anslutningen. Kontrollera att inget har ändrats, och vem som signerade, med: eioa evidence verify KATALOG --fingerprint SHA256 (klientcertifikatets SHA-256 ovan) eller --ca CA.pem (utfärdaren)",
    certificate: "Certifikat",
    leaf: "slutcertifikat",
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Sv => &SV,
    }
}

/// The level's name.
pub fn level_title(level: Level, lang: Lang) -> &'static str {
    match lang {
        Lang::En => level.title(),
        Lang::Sv => level.title_sv(),
    }
}

/// What the level means, in one sentence.
fn level_sentence(level: Level, lang: Lang) -> &'static str {
    match (lang, level) {
        (Lang::En, Level::None) => "No TCP connection to the service could be made.",
        (Lang::En, Level::Reachable) => {
            "The service's address answers on TCP, but mutual TLS was not accepted."
        }
        (Lang::En, Level::MutualTls) => {
            "The server accepted the client certificate (mutual TLS), but the service did not answer with a tx-id or an E-IOA fault."
        }
        (Lang::En, Level::FkAnswered) => {
            "The service answered with a tx-id or an E-IOA fault: the connection is proven."
        }
        (Lang::En, Level::Accepted) => {
            "The service accepted the notification and answered with a tx-id."
        }
        (Lang::Sv, Level::None) => "Ingen TCP-anslutning till tjänsten kunde göras.",
        (Lang::Sv, Level::Reachable) => {
            "Tjänstens adress svarar på TCP, men ömsesidig TLS godtogs inte."
        }
        (Lang::Sv, Level::MutualTls) => {
            "Servern godtog klientcertifikatet (ömsesidig TLS), men tjänsten svarade inte med ett tx-id eller ett E-IOA-fel."
        }
        (Lang::Sv, Level::FkAnswered) => {
            "Tjänsten svarade med ett tx-id eller ett E-IOA-fel: anslutningen är bevisad."
        }
        (Lang::Sv, Level::Accepted) => "Tjänsten tog emot anmälan och svarade med ett tx-id.",
    }
}

/// What the next level needs, in one sentence.
fn next_sentence(next: Level, lang: Lang) -> &'static str {
    match (lang, next) {
        (Lang::En, Level::None | Level::Reachable) => {
            "A TCP connection to the host and port: see the first failure below."
        }
        (Lang::En, Level::MutualTls) => {
            "A completed TLS handshake in which the server accepts the client certificate."
        }
        (Lang::En, Level::FkAnswered) => {
            "An answer from the service itself: a tx-id or an E-IOA fault."
        }
        (Lang::En, Level::Accepted) => {
            "A tx-id for a notification signed with a real BankID test signature (--signature/--ocsp)."
        }
        (Lang::Sv, Level::None | Level::Reachable) => {
            "En TCP-anslutning till värd och port: se första felet nedan."
        }
        (Lang::Sv, Level::MutualTls) => {
            "En fullbordad TLS-handskakning där servern godtar klientcertifikatet."
        }
        (Lang::Sv, Level::FkAnswered) => {
            "Ett svar från tjänsten själv: ett tx-id eller ett E-IOA-fel."
        }
        (Lang::Sv, Level::Accepted) => {
            "Ett tx-id för en anmälan signerad med en riktig BankID-testsignatur (--signature/--ocsp)."
        }
    }
}

/// A status in words.
pub fn status_word(status: Status, lang: Lang) -> &'static str {
    match (lang, status) {
        (Lang::En, Status::Pass) => "pass",
        (Lang::En, Status::Warn) => "warning",
        (Lang::En, Status::Fail) => "fail",
        (Lang::En, Status::Skipped) => "skipped",
        (Lang::Sv, Status::Pass) => "ok",
        (Lang::Sv, Status::Warn) => "varning",
        (Lang::Sv, Status::Fail) => "fel",
        (Lang::Sv, Status::Skipped) => "överhoppad",
    }
}

/// Swedish titles of the checks, by id (`docs/connection-test.md`).
const SV_TITLES: &[(&str, &str)] = &[
    (
        "C-ID-LOAD",
        "klientidentiteten kan läsas (PEM eller PKCS#12, lösenfras)",
    ),
    (
        "C-ID-KEY",
        "den privata nyckeln hör till certifikatet; nyckeltyp och storlek",
    ),
    (
        "C-ID-VALID",
        "klientcertifikatet är giltigt nu (varning under 60 dagar kvar)",
    ),
    (
        "C-ID-EKU",
        "klientcertifikatet får användas för TLS-klientautentisering",
    ),
    (
        "C-ID-CHAIN",
        "kedjan som klienten skickar: slutcertifikat plus mellanliggande",
    ),
    ("C-DNS-RESOLVE", "värdnamnet kan slås upp"),
    (
        "C-DNS-PUBLISHED",
        "adressen är den som FK publicerar för värden",
    ),
    ("C-TCP", "TCP-anslutning till varje adress"),
    (
        "C-TLS-HANDSHAKE",
        "TLS-handskakning: version och chiffersvit",
    ),
    (
        "C-TLS-SERVER-TRUST",
        "servercertifikatet kedjar till en betrodd rot",
    ),
    (
        "C-TLS-SERVER-NAME",
        "servercertifikatet gäller för värdnamnet",
    ),
    (
        "C-TLS-SERVER-VALID",
        "servercertifikatet är inom sin giltighetstid",
    ),
    (
        "C-TLS-CA-NAMES",
        "klientcertifikatets utfärdare finns bland dem servern godtar",
    ),
    ("C-TLS-CLIENT-CERT", "servern godtar klientcertifikatet"),
    ("C-HTTP", "HTTP-svar: status och innehållstyp"),
    ("C-SOAP", "SOAP-svar: ett tx-id eller ett E-IOA-fel"),
    ("C-SOAP-TIME", "svarstid inom FK:s 2 sekunder"),
];

/// The check's title in `lang` (the probe's English title for an id without a translation).
pub fn check_title(check: &Check, lang: Lang) -> &str {
    match lang {
        Lang::En => &check.title,
        Lang::Sv => SV_TITLES
            .iter()
            .find(|(id, _)| *id == check.id)
            .map_or(check.title.as_str(), |(_, t)| t),
    }
}

/// The check's remedy in `lang`: the Swedish one when the probe wrote it, else the English one
/// (results written before remedies were translated have only that).
pub fn remedy(check: &Check, lang: Lang) -> Option<&str> {
    match (lang, &check.remedy_sv) {
        (Lang::Sv, Some(sv)) => Some(sv),
        _ => check.remedy.as_deref(),
    }
}

fn delivery_word(d: &str, lang: Lang) -> &str {
    match (lang, d) {
        (Lang::En, "not-sent") => "not sent",
        (Lang::En, "maybe-sent") => "maybe sent (not resent)",
        (Lang::En, "answered") => "answered",
        (Lang::Sv, "not-sent") => "inte skickad",
        (Lang::Sv, "maybe-sent") => "kanske skickad (skickas inte igen)",
        (Lang::Sv, "answered") => "besvarad",
        _ => d,
    }
}

fn when(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
        ))
        .unwrap_or_default()
}

fn day(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

fn ms(v: f64) -> String {
    format!("{v:.0} ms")
}

/// The level sentence and, below the top, what the next level needs.
fn verdict_lines(t: &ConnectionTest, lang: Lang) -> (String, Option<String>) {
    let sentence = match lang {
        // The probe's own sentence is the more specific one; it is English.
        Lang::En if !t.verdict.is_empty() => t.verdict.clone(),
        _ => level_sentence(t.level, lang).to_owned(),
    };
    let next = t.level.next().map(|n| {
        let (hint, prefix) = match lang {
            Lang::En => (&t.next_level_hint, format!("For {}: ", n.title())),
            Lang::Sv => (&t.next_level_hint_sv, format!("För {}: ", n.title_sv())),
        };
        let need = match hint {
            // The probe's hint may name the level itself ("For reachable: …"); the label
            // below already does.
            Some(h) if !h.is_empty() => h.strip_prefix(&prefix).unwrap_or(h).to_owned(),
            _ => next_sentence(n, lang).to_owned(),
        };
        format!(
            "{} ({}): {need}",
            texts(lang).next_level,
            level_title(n, lang)
        )
    });
    (sentence, next)
}

// ---------------------------------------------------------------------------------------------
// JSON, Markdown, JUnit.

/// `summary.json`: the [`ConnectionTest`] as it is (see `docs/json-output.md`), pretty, with a
/// final newline. Pass a [`prepared`] value to have the bodies redacted.
pub fn to_json(test: &ConnectionTest) -> String {
    serde_json::to_string_pretty(test).unwrap_or_default() + "\n"
}

/// Markdown cell text: one line, no table breaks.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// `report.md`.
pub fn to_markdown(t: &ConnectionTest, lang: Lang) -> String {
    let x = texts(lang);
    let (sentence, next) = verdict_lines(t, lang);
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", x.title);
    let _ = writeln!(
        s,
        "**{}: {}** — {}\n",
        x.level_reached,
        level_title(t.level, lang),
        sentence
    );
    if let Some(n) = next {
        let _ = writeln!(s, "{n}\n");
    }
    if let Some(f) = t.first_failure() {
        let _ = writeln!(
            s,
            "{}: `{}` {} — {}\n",
            x.first_failure,
            f.id,
            check_title(f, lang),
            remedy(f, lang).unwrap_or(&f.summary)
        );
    }
    let _ = writeln!(
        s,
        "- {}: {} ({})",
        x.target,
        t.target.url,
        if t.target.is_fk {
            x.fk_host
        } else {
            x.other_host
        }
    );
    if let Some(r) = &t.target.resolve {
        let _ = writeln!(s, "- {}: `{r}`", x.resolve);
    }
    let _ = writeln!(s, "- {}: {}", x.tool, t.tool);
    let _ = writeln!(s, "- {}: {}", x.started, when(t.started_at));
    let _ = writeln!(s, "- {}: {}\n", x.finished, when(t.finished_at));

    let _ = writeln!(s, "## {}\n", x.levels);
    for l in Level::ALL.iter().skip(1) {
        let _ = writeln!(
            s,
            "- [{}] {}",
            if *l <= t.level { "x" } else { " " },
            level_title(*l, lang)
        );
    }

    let _ = writeln!(s, "\n## {}\n\n{}\n", x.checks, x.checks_note);
    let _ = writeln!(
        s,
        "| id | {} | {} | {} |\n|---|---|---|---|",
        x.col_status, x.col_check, x.remedy
    );
    for c in &t.checks {
        let _ = writeln!(
            s,
            "| `{}` | {} | {}: {} | {} |",
            c.id,
            if c.status == Status::Fail {
                format!("**{}**", status_word(c.status, lang))
            } else {
                status_word(c.status, lang).to_owned()
            },
            cell(check_title(c, lang)),
            cell(&c.summary),
            cell(remedy(c, lang).unwrap_or(""))
        );
    }
    for c in &t.checks {
        if c.facts.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n### `{}` {}\n", c.id, check_title(c, lang));
        for f in &c.facts {
            let _ = writeln!(s, "- {}: {}", f.key, f.value.replace('\n', " "));
        }
    }

    let _ = writeln!(s, "\n## {}\n", x.client_cert);
    match &t.client_cert {
        Some(c) => md_cert(&mut s, c, x),
        None => {
            let _ = writeln!(s, "{}", x.no_client_cert);
        }
    }
    if !t.client_intermediates.is_empty() {
        let _ = writeln!(s, "\n### {}\n", x.client_intermediates);
        for (i, c) in t.client_intermediates.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            md_cert(&mut s, c, x);
        }
    }
    let _ = writeln!(s, "\n## {}\n", x.server_chain);
    if t.server_chain.is_empty() {
        let _ = writeln!(s, "{}", x.no_server_chain);
    }
    for (i, c) in t.server_chain.iter().enumerate() {
        let _ = writeln!(
            s,
            "### {} {}{}\n",
            x.certificate,
            i + 1,
            if i == 0 {
                format!(" ({})", x.leaf)
            } else {
                String::new()
            }
        );
        md_cert(&mut s, c, x);
        s.push('\n');
    }

    let _ = writeln!(s, "\n## {}\n", x.exchange);
    match &t.exchange {
        None => {
            let _ = writeln!(s, "{}", x.no_exchange);
        }
        Some(e) => {
            for (k, v) in exchange_rows(e, lang) {
                let _ = writeln!(s, "- {k}: {v}");
            }
            let _ = writeln!(
                s,
                "\n{} ({}):\n\n```xml\n{}\n```\n\n{}:\n\n```xml\n{}\n```",
                x.request,
                if e.redacted { x.redacted } else { x.unredacted },
                e.request.replace("```", "` ` `"),
                x.response,
                e.response.replace("```", "` ` `")
            );
        }
    }
    let _ = writeln!(s, "\n---\n\n{}", x.evidence_note);
    s
}

fn md_cert(s: &mut String, c: &CertPanel, x: &Texts) {
    for (k, v) in cert_rows(c, x) {
        let _ = writeln!(s, "- {k}: {v}");
    }
}

fn cert_rows(c: &CertPanel, x: &Texts) -> Vec<(&'static str, String)> {
    vec![
        (x.subject, c.subject.clone()),
        (x.issuer, c.issuer.clone()),
        (x.serial, c.serial.clone()),
        (x.not_before, day(c.not_before)),
        (
            x.not_after,
            format!("{} ({} {})", day(c.not_after), c.days_left, x.days_left),
        ),
        (
            x.sans,
            if c.sans.is_empty() {
                x.none.to_owned()
            } else {
                c.sans.join(", ")
            },
        ),
        (x.key, c.key.clone()),
        (
            x.eku,
            if c.eku.is_empty() {
                x.none.to_owned()
            } else {
                c.eku.join(", ")
            },
        ),
        (x.ca, if c.is_ca { x.yes } else { x.no }.to_owned()),
        (x.fingerprint, c.sha256.clone()),
    ]
}

fn exchange_rows(e: &ExchangeSummary, lang: Lang) -> Vec<(&'static str, String)> {
    let x = texts(lang);
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".into());
    let mut rows = vec![
        (x.tx_id, opt(&e.tx_id)),
        (x.url, e.url.clone()),
        (x.started, when(e.started_at)),
        (x.delivery, delivery_word(&e.delivery, lang).to_owned()),
        (x.signature, e.signature.clone()),
        (x.tls_version, opt(&e.tls_version)),
        (x.cipher_suite, opt(&e.cipher_suite)),
        (x.client_fp, opt(&e.client_cert_sha256)),
        (x.server_fp, opt(&e.server_cert_sha256)),
        (
            x.http_status,
            e.http_status.map_or_else(|| "–".into(), |s| s.to_string()),
        ),
        (x.content_type, opt(&e.content_type)),
    ];
    if e.fault.is_some() || e.fault_message.is_some() {
        rows.push((x.fault, opt(&e.fault)));
        rows.push((x.fault_message, opt(&e.fault_message)));
    }
    rows.push((x.connect_time, e.connect_ms.map_or_else(|| "–".into(), ms)));
    rows.push((x.total_time, ms(e.total_ms)));
    rows
}

/// `junit.xml`: one test case per check (`warn` passes with the warning in its output,
/// `skipped` is skipped), the level and verdict as suite properties, the exchange in the
/// suite's output.
pub fn to_junit(t: &ConnectionTest, lang: Lang) -> String {
    use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
    let (sentence, next) = verdict_lines(t, lang);
    let mut report = Report::new(format!("eioa connect {}", t.target.url));
    let mut suite = TestSuite::new(format!("{} {}", texts(lang).title, t.target.url));
    suite.add_property(Property::new("level", t.level.id()));
    suite.add_property(Property::new("verdict", sentence));
    if let Some(n) = next {
        suite.add_property(Property::new("next-level", n));
    }
    if let Some(tx) = t.exchange.as_ref().and_then(|e| e.tx_id.as_deref()) {
        suite.add_property(Property::new("tx-id", tx));
    }
    suite.add_property(Property::new("started", when(t.started_at)));
    for c in &t.checks {
        let facts: String = c
            .facts
            .iter()
            .map(|f| format!("{}: {}\n", f.key, f.value))
            .collect();
        let status = match c.status {
            Status::Pass | Status::Warn => TestCaseStatus::success(),
            Status::Fail => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(c.summary.clone());
                s.set_description(format!(
                    "{}\n\n{}: {}",
                    facts,
                    texts(lang).remedy,
                    remedy(c, lang).unwrap_or("")
                ));
                s
            }
            Status::Skipped => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(remedy(c, lang).unwrap_or(&c.summary));
                s
            }
        };
        let mut case = TestCase::new(format!("{} {}", c.id, check_title(c, lang)), status);
        case.set_classname("eioa.connect");
        case.set_time(std::time::Duration::from_secs_f64(
            (c.duration_ms / 1000.0).max(0.0),
        ));
        let mut out = format!("{}: {}\n{}", status_word(c.status, lang), c.summary, facts);
        if c.status == Status::Warn {
            if let Some(r) = remedy(c, lang) {
                let _ = writeln!(out, "{}: {r}", texts(lang).remedy);
            }
        }
        case.set_system_out(out);
        suite.add_test_case(case);
    }
    if let Some(e) = &t.exchange {
        let x = texts(lang);
        let mut out: String = exchange_rows(e, lang)
            .into_iter()
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect();
        let _ = write!(
            out,
            "\n{} ({}):\n{}\n\n{}:\n{}\n",
            x.request,
            if e.redacted { x.redacted } else { x.unredacted },
            e.request,
            x.response,
            e.response
        );
        suite.set_system_out(out);
    }
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// HTML.

const CSS: &str = r#"
:root{--ok:#1a7f37;--warn:#9a6700;--fail:#b42318;--skip:#6e7781;--line:#d0d7de;--soft:#f6f8fa}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2328;margin:0 auto;padding:24px;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
code,pre,.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"Liberation Mono",monospace;font-size:13px}
.meta{color:#57606a;margin:0 0 16px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dl.meta dt{font-weight:600}dl.meta dd{margin:0;overflow-wrap:anywhere}
#verdict{border:2px solid var(--tone);border-left-width:10px;border-radius:6px;padding:14px 18px;margin:12px 0 20px;background:var(--bg)}
#verdict.good{--tone:var(--ok);--bg:#dafbe1}#verdict.partial{--tone:var(--warn);--bg:#fff8c5}#verdict.bad{--tone:var(--fail);--bg:#ffebe9}
#verdict .level{font-size:24px;font-weight:700;color:var(--tone);margin:0}
#verdict p{margin:6px 0 0}
.ladder{display:flex;gap:6px;list-style:none;padding:0;margin:12px 0 0;flex-wrap:wrap}
.ladder li{flex:1 1 0;min-width:120px;text-align:center;padding:6px 4px;border:1px solid var(--line);border-radius:4px;background:#fff;font-size:13px;color:#57606a}
.ladder li.reached{border-color:var(--tone);color:#1f2328;font-weight:600}
.ladder li.reached::before{content:"\2713\00a0"}
ol.timeline{list-style:none;padding:0;margin:0;border-left:3px solid var(--line);margin-left:8px}
li.check{position:relative;padding:8px 12px 10px 20px;margin:0;border-bottom:1px solid #eaeef2;break-inside:avoid}
li.check::before{content:"";position:absolute;left:-9px;top:14px;width:13px;height:13px;border-radius:50%;background:var(--c);border:2px solid #fff}
li.check.pass{--c:var(--ok)}li.check.warn{--c:var(--warn)}li.check.fail{--c:var(--fail);background:#fff5f5}li.check.skipped{--c:var(--skip);color:#57606a}
.head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.status{display:inline-block;min-width:5.5em;text-align:center;font-weight:700;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#fff;background:var(--c);border-radius:3px;padding:1px 6px}
.cid{font-weight:600}
.dur{color:#57606a;font-size:12px;margin-left:auto}
.summary{margin:4px 0 0}
.remedy{margin:6px 0 0;padding:6px 10px;border-left:3px solid var(--c);background:var(--soft)}
.remedy b{margin-right:6px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0 0;font-size:13px}
dl.facts dt{color:#57606a}dl.facts dd{margin:0;overflow-wrap:anywhere}
.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px}
.panel{border:1px solid var(--line);border-radius:6px;padding:10px 14px;break-inside:avoid}
.panel h3:first-child{margin-top:0}.panel h3{margin:14px 0 4px}
table.kv{border-collapse:collapse;width:100%;table-layout:fixed}
table.kv th{width:34%;text-align:left;font-weight:600;color:#57606a;vertical-align:top;padding:3px 8px 3px 0}
table.kv td{padding:3px 0;overflow-wrap:anywhere;vertical-align:top}
.expired{color:var(--fail);font-weight:700}.soon{color:var(--warn);font-weight:700}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--soft);border:1px solid var(--line);border-radius:4px;padding:10px;max-height:32em;overflow:auto}
.private{color:var(--fail);font-weight:700}
footer{margin-top:32px;padding-top:8px;border-top:1px solid var(--line);color:#57606a;font-size:13px}
@media print{
  @page{size:A4;margin:14mm}
  body{max-width:none;padding:0;font-size:10.5pt}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  h2,h3{break-after:avoid}
  pre{max-height:none;overflow:visible;font-size:8.5pt}
  .panels{display:block}.panel{margin-bottom:10px}
  #verdict{break-inside:avoid}
  a{color:inherit;text-decoration:none}
}
"#;

/// `report.html`: self-contained (inline style, no script, no external resource), readable
/// without JavaScript, and printable to a clean PDF.
pub fn to_html(t: &ConnectionTest, lang: Lang) -> String {
    let x = texts(lang);
    let (sentence, next) = verdict_lines(t, lang);
    let tone = match t.level {
        Level::FkAnswered | Level::Accepted => "good",
        Level::Reachable | Level::MutualTls => "partial",
        Level::None => "bad",
    };
    let page: Markup = html! {
        (DOCTYPE)
        html lang=(lang.id()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (x.title) " – " (t.target.host) " – " (level_title(t.level, lang)) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { (x.title) }
                    dl.meta {
                        dt { (x.target) } dd { code { (t.target.url) } " (" (if t.target.is_fk { x.fk_host } else { x.other_host }) ")" }
                        @if let Some(r) = &t.target.resolve {
                            dt { (x.resolve) } dd { code { (r) } }
                        }
                        dt { (x.started) } dd { (when(t.started_at)) }
                        dt { (x.finished) } dd { (when(t.finished_at)) }
                        dt { (x.tool) } dd { (t.tool) }
                    }
                }
                section #verdict class=(tone) data-level=(t.level.id()) {
                    p.level { (x.level_reached) ": " (level_title(t.level, lang)) }
                    p.sentence { (sentence) }
                    @if let Some(n) = &next { p.next { (n) } }
                    @if let Some(f) = t.first_failure() {
                        p.first {
                            b { (x.first_failure) ": " } code { (f.id) } " " (check_title(f, lang)) " — "
                            (remedy(f, lang).unwrap_or(&f.summary))
                        }
                    }
                    ol.ladder aria-label=(x.levels) {
                        @for l in Level::ALL.iter().skip(1) {
                            li class=(if *l <= t.level { "reached" } else { "" }) data-level=(l.id()) { (level_title(*l, lang)) }
                        }
                    }
                }
                section #checks {
                    h2 { (x.checks) }
                    p.meta { (x.checks_note) }
                    ol.timeline {
                        @for c in &t.checks {
                            li class={ "check " (c.status.id()) } id={ "check-" (c.id) } data-check=(c.id) data-status=(c.status.id()) {
                                div.head {
                                    span.status { (status_word(c.status, lang)) }
                                    code.cid { (c.id) }
                                    span.title { (check_title(c, lang)) }
                                    span.dur { (ms(c.duration_ms)) }
                                }
                                p.summary { (c.summary) }
                                @if !c.facts.is_empty() {
                                    dl.facts {
                                        @for f in &c.facts { dt { (f.key) } dd { (f.value) } }
                                    }
                                }
                                @if let Some(r) = remedy(c, lang) {
                                    @if c.status != Status::Pass {
                                        p.remedy { b { (x.remedy) ":" } (r) }
                                    }
                                }
                            }
                        }
                    }
                }
                section #certificates {
                    h2 { (x.client_cert) " · " (x.server_chain) }
                    div.panels {
                        div.panel #client-cert {
                            h3 { (x.client_cert) }
                            @match &t.client_cert {
                                Some(c) => { (cert_table(c, x)) }
                                None => { p { (x.no_client_cert) } }
                            }
                            @for (i, c) in t.client_intermediates.iter().enumerate() {
                                h3 { (x.client_intermediates) " " (i + 1) }
                                (cert_table(c, x))
                            }
                        }
                        div.panel #server-chain {
                            h3 { (x.server_chain) }
                            @if t.server_chain.is_empty() { p { (x.no_server_chain) } }
                            @for (i, c) in t.server_chain.iter().enumerate() {
                                h3 { (x.certificate) " " (i + 1) @if i == 0 { " (" (x.leaf) ")" } }
                                (cert_table(c, x))
                            }
                        }
                    }
                }
                section #exchange {
                    h2 { (x.exchange) }
                    @match &t.exchange {
                        None => { p { (x.no_exchange) } }
                        Some(e) => {
                            table.kv {
                                @for (k, v) in exchange_rows(e, lang) {
                                    tr { th { (k) } td.mono { (v) } }
                                }
                            }
                            h3 { (x.request) " " span class=(if e.redacted { "" } else { "private" }) { "(" (if e.redacted { x.redacted } else { x.unredacted }) ")" } }
                            pre #request { (e.request) }
                            h3 { (x.response) }
                            pre #response { (e.response) }
                        }
                    }
                }
                footer { p { (x.evidence_note) } }
            }
        }
    };
    page.into_string() + "\n"
}

fn cert_table(c: &CertPanel, x: &Texts) -> Markup {
    let class = if c.days_left < 0 {
        "expired"
    } else if c.days_left < 60 {
        "soon"
    } else {
        ""
    };
    html! {
        table.kv {
            @for (k, v) in cert_rows(c, x) {
                @if k == x.not_after {
                    tr { th { (k) } td class=(class) { (v) } }
                } @else if k == x.fingerprint || k == x.serial {
                    tr { th { (k) } td.mono { (v) } }
                } @else {
                    tr { th { (k) } td { (v) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eioa_client::connect::checks::CHECKS;

    #[test]
    fn every_documented_check_has_a_swedish_title() {
        for c in CHECKS {
            assert!(
                SV_TITLES.iter().any(|(id, _)| *id == c.id),
                "{} has no Swedish title in SV_TITLES",
                c.id
            );
        }
        for (id, _) in SV_TITLES {
            assert!(
                CHECKS.iter().any(|c| c.id == *id),
                "SV_TITLES has {id}, which is not a check"
            );
        }
    }
}
