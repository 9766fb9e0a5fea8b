//! The connection report's files: content, language, escaping, redaction, permissions.

use std::os::unix::fs::PermissionsExt as _;

use eioa_client::connect::{ConnectionTest, Status};
use eioa_report::connect::{self, Lang, REPORT_FILES};

use crate::fixtures::{self, PERSONNUMMER, PERSONNUMMER_MASKED};

/// Times and durations vary between runs of a real test; snapshots must not.
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(
        r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z| UTC)",
        "[time]",
    );
    s.add_filter(r"\b\d+(\.\d+)? ms\b", "[ms]");
    s.add_filter(
        r#""(duration_ms|total_ms|connect_ms)": [\d.]+"#,
        r#""$1": "[ms]""#,
    );
    s
}

fn answered() -> ConnectionTest {
    connect::prepared(&fixtures::answered(&"c".repeat(64)))
}

#[test]
fn summary_json_is_the_model() {
    let json = connect::to_json(&answered());
    // Readable back as the model: a consumer can deserialise what the docs describe.
    let back: ConnectionTest = serde_json::from_str(&json).unwrap();
    assert_eq!(back, answered());
    settings().bind(|| insta::assert_snapshot!("summary_answered_json", json));
}

#[test]
fn markdown_in_english_and_swedish() {
    settings().bind(|| {
        insta::assert_snapshot!(
            "report_answered_en_md",
            connect::to_markdown(&answered(), Lang::En)
        );
        insta::assert_snapshot!(
            "report_refused_sv_md",
            connect::to_markdown(&connect::prepared(&fixtures::refused()), Lang::Sv)
        );
    });
}

/// The remedies and the next-level hints as the fixtures write them (not as the renderer does):
/// English, then Swedish.
const REFUSED_TEXTS: [[&str; 3]; 2] = [
    [
        "A firewall drops the connection: ask for a rule allowing outbound TCP to 194.71.80.30:8020.",
        "Open outbound TCP to 194.71.80.30:8020 in the firewall.",
        "Fix C-TCP first.",
    ],
    [
        "En brandvägg stoppar anslutningen: be nätverksgruppen öppna utgående TCP till 194.71.80.30:8020.",
        "Öppna utgående TCP till 194.71.80.30:8020 i brandväggen.",
        "Rätta C-TCP först.",
    ],
];
const ANSWERED_TEXTS: [[&str; 3]; 2] = [
    [
        "Order the renewal from Expisoft now",
        "Sign the notification with a real BankID test signature",
        "Send a notification signed with a real BankID test signature",
    ],
    [
        "Beställ förnyelsen från Expisoft nu",
        "Signera anmälan med en riktig BankID-testsignatur",
        "Skicka en anmälan signerad med en riktig BankID-testsignatur",
    ],
];

fn every_format(t: &ConnectionTest, lang: Lang) -> [(&'static str, String); 3] {
    [
        ("report.html", connect::to_html(t, lang)),
        ("report.md", connect::to_markdown(t, lang)),
        ("junit.xml", connect::to_junit(t, lang)),
    ]
}

#[test]
fn remedies_and_the_hint_are_shown_in_the_reports_language() {
    let cases = [
        (connect::prepared(&fixtures::refused()), REFUSED_TEXTS),
        (answered(), ANSWERED_TEXTS),
    ];
    for (t, [en, sv]) in &cases {
        for (lang, shown, hidden) in [(Lang::En, en, sv), (Lang::Sv, sv, en)] {
            for (file, text) in every_format(t, lang) {
                for s in shown {
                    assert!(text.contains(s), "{lang} {file} lacks {s:?}");
                }
                for h in hidden {
                    assert!(!text.contains(h), "{lang} {file} shows {h:?}");
                }
            }
        }
    }
}

#[test]
fn a_result_without_swedish_remedies_still_loads_and_shows_the_english_ones() {
    // summary.json as written before remedies were translated: no `remedy_sv`, no
    // `next_level_hint_sv`.
    let mut json: serde_json::Value =
        serde_json::from_str(&connect::to_json(&connect::prepared(&fixtures::refused()))).unwrap();
    json.as_object_mut().unwrap().remove("next_level_hint_sv");
    for c in json["checks"].as_array_mut().unwrap() {
        c.as_object_mut().unwrap().remove("remedy_sv");
    }
    let old: ConnectionTest = serde_json::from_value(json).unwrap();
    assert!(old.checks.iter().all(|c| c.remedy_sv.is_none()));
    assert!(old.next_level_hint_sv.is_none());
    // Written back, it gains no empty fields.
    let again = connect::to_json(&old);
    assert!(!again.contains("remedy_sv") && !again.contains("next_level_hint_sv"));
    for (file, text) in every_format(&old, Lang::Sv) {
        let [tcp_en, hint_en, _] = REFUSED_TEXTS[0];
        assert!(
            text.contains(tcp_en),
            "Swedish {file} lacks the English remedy"
        );
        // Without a Swedish hint, the level's own Swedish sentence.
        assert!(
            !text.contains(hint_en),
            "Swedish {file} shows the English hint"
        );
        assert!(
            text.contains("En TCP-anslutning till värd och port"),
            "Swedish {file} lacks the generic next-level sentence"
        );
    }
}

#[test]
fn junit_has_one_case_per_check() {
    let t = connect::prepared(&fixtures::refused());
    let xml = connect::to_junit(&t, Lang::En);
    assert_eq!(xml.matches("<testcase ").count(), t.checks.len());
    for c in &t.checks {
        assert!(
            xml.contains(&format!("name=\"{} ", c.id)),
            "{} has no test case",
            c.id
        );
    }
    let skipped = t
        .checks
        .iter()
        .filter(|c| c.status == Status::Skipped)
        .count();
    assert_eq!(xml.matches("<skipped").count(), skipped);
    assert_eq!(xml.matches("<failure").count(), 1);
    assert!(xml.contains("194.71.80.30:8020"));
    assert!(xml.contains(r#"<property name="level" value="none"/>"#));
}

#[test]
fn html_shows_every_check_and_the_level_in_plain_words() {
    let t = answered();
    for (lang, level, status_pass) in [
        (Lang::En, "FK answered", "pass"),
        (Lang::Sv, "FK svarade", "ok"),
    ] {
        let html = connect::to_html(&t, lang);
        assert!(html.contains(&format!("<html lang=\"{}\">", lang.id())));
        assert!(html.contains(level), "{lang}: level title missing");
        assert_eq!(html.matches("<li class=\"check ").count(), t.checks.len());
        for c in &t.checks {
            assert!(html.contains(&format!("data-check=\"{}\"", c.id)));
        }
        assert!(html.contains(&format!("<span class=\"status\">{status_pass}</span>")));
    }
    let sv = connect::to_html(&t, Lang::Sv);
    for label in [
        "Uppnådd nivå",
        "Kontroller",
        "Klientcertifikat",
        "Serverns certifikatkedja",
        "Utväxling",
        "Åtgärd",
        "servern godtar klientcertifikatet",
    ] {
        assert!(sv.contains(label), "Swedish report lacks {label:?}");
    }
    let en = connect::to_html(&t, Lang::En);
    assert!(!en.contains("Uppnådd"));
}

#[test]
fn html_is_self_contained_and_printable() {
    let html = connect::to_html(&answered(), Lang::En);
    for banned in [
        "<script",
        "<link",
        "src=",
        "@import",
        "url(",
        "http://",
        "@font-face",
    ] {
        assert!(!html.contains(banned), "report.html contains {banned:?}");
    }
    assert!(html.contains("@media print"));
    // The only https URL is the target's, as text.
    assert_eq!(
        html.matches("https://").count(),
        2,
        "target in the header and the exchange"
    );
}

#[test]
fn everything_shown_is_escaped() {
    let mut t = answered();
    t.checks[0].summary = "<script>alert(1)</script>".into();
    t.checks[0]
        .facts
        .push(eioa_client::connect::Fact::new("a\"b", "x & <y>"));
    t.target.url = "https://h/\"><img src=x>".into();
    let html = connect::to_html(&t, Lang::En);
    assert!(!html.contains("<script>"));
    assert!(!html.contains("<img"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("x &amp; &lt;y&gt;"));
    let md = connect::to_markdown(&t, Lang::En);
    assert!(
        md.contains("\\|") || !md.contains("| <script"),
        "table cells cannot be broken"
    );
}

#[test]
fn bodies_are_redacted_in_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let raw = fixtures::answered(&"c".repeat(64));
    assert!(raw
        .exchange
        .as_ref()
        .unwrap()
        .request
        .contains(PERSONNUMMER));
    connect::write(dir.path(), &raw, Lang::En, None).unwrap();
    for f in REPORT_FILES {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(!text.contains(PERSONNUMMER), "{f} shows the personnummer");
        assert!(!text.contains("Tolvansson"), "{f} shows the name");
        assert!(
            text.contains(PERSONNUMMER_MASKED),
            "{f} lost the masked number"
        );
    }
    // Without a signer there is no evidence file (and no stale one).
    assert!(!dir.path().join("evidence.json").exists());
}

#[test]
fn unredacted_reports_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let mut raw = fixtures::answered(&"c".repeat(64));
    raw.exchange.as_mut().unwrap().redacted = false;
    let w = connect::write(&out, &raw, Lang::Sv, None).unwrap();
    assert_eq!(w.files.len(), REPORT_FILES.len());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o700);
    for f in &w.files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(PERSONNUMMER));
    assert!(html.contains("INTE maskerad"));

    // The same directory, redacted this time: the files are opened up again.
    let redacted = fixtures::answered(&"c".repeat(64));
    connect::write(&out, &redacted, Lang::En, None).unwrap();
    assert_eq!(mode(&out.join("report.html")), 0o644);
}

#[test]
fn lang_parses() {
    assert_eq!("sv".parse::<Lang>().unwrap(), Lang::Sv);
    assert_eq!("EN".parse::<Lang>().unwrap(), Lang::En);
    assert!("de".parse::<Lang>().unwrap_err().contains("en` or `sv"));
}

#[test]
fn the_next_level_is_named_once() {
    let mut t = answered();
    t.next_level_hint = Some("For accepted: sign with BankID.".into());
    let md = connect::to_markdown(&t, Lang::En);
    assert!(
        md.contains("Next level (accepted): sign with BankID."),
        "{md}"
    );
}
