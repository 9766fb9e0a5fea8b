//! Checklist files, schema coverage from the schema set in use, and the durable store.

use std::os::unix::fs::PermissionsExt;

use eioa_session::checklist::ONBOARDING;
use eioa_session::coverage::{self, ItemKind};
use eioa_session::{Checklist, SessionStore, StoreError};
use eioa_validate::schema::Role;
use eioa_validate::SchemaSet;

#[test]
fn bundled_onboarding_checklist_parses() {
    let c = Checklist::onboarding();
    assert_eq!(c.id, "onboarding");
    assert!(c.cases.iter().any(|c| !c.required));
    assert!(c.cases.iter().filter(|c| c.required).count() >= 10);
}

#[test]
fn bad_checklists_are_refused_with_the_case_named() {
    let bad = [
        ("id='x'\ntitle='x'\n[[case]]\nid='A'\ntitle='t'\nhint='h'\nsent=['no-such-fact']\n", "unknown fact `no-such-fact`"),
        ("id='x'\ntitle='x'\n[[case]]\nid='A'\ntitle='t'\nhint='h'\nsent=['narstaende']\n[[case]]\nid='A'\ntitle='t'\nhint='h'\nsent=['narstaende']\n", "used twice"),
        ("id='x'\ntitle='x'\n[[case]]\nid='A'\ntitle='t'\nhint='h'\nsent=['narstaende']\nbehaviour='no-burst'\n", "pick one"),
        ("id='x'\ntitle='x'\n[[case]]\nid='A'\ntitle='t'\nhint='h'\n", "needs `sent`"),
        ("id='x'\ntitle='x'\n[[case]]\nid='A'\ntitle='t'\nhint='h'\nbehaviour='teleport'\n", "unknown variant"),
        ("id='x'\ntitle='x'\n", "case"),
        ("id='x'\ntitle='x'\ncase=[]\n", "has no [[case]]"),
        // Issue: with only advisory cases a session was "ready" with no traffic at all.
        ("id='x'\ntitle='x'\n[[case]]\nid='A'\ntitle='t'\nhint='h'\nsent=['narstaende']\nrequired=false\n", "has no required case"),
    ];
    for (text, want) in bad {
        let e = Checklist::parse(text, "mine.toml").unwrap_err().to_string();
        assert!(e.contains(want), "{e}\n---\n{text}");
        assert!(e.contains("mine.toml"), "{e}");
    }
}

#[test]
fn coverage_items_come_from_the_payload_schema() {
    let set = SchemaSet::embedded();
    let items = coverage::items(set.bytes(Role::Payload), "payload").unwrap();
    let has = |k: ItemKind, p: &str, v: Option<&str>| {
        items
            .iter()
            .any(|i| i.kind == k && i.path == p && i.value.as_deref() == v)
    };
    assert!(has(
        ItemKind::Choice,
        "AnmalanFranArbetsgivare/assistent/bosattUtanforEES",
        None
    ));
    assert!(has(
        ItemKind::Choice,
        "AnmalanFranArbetsgivare/assistansanordnare/assistentEgenForetagare",
        None
    ));
    assert!(has(
        ItemKind::Optional,
        "AnmalanFranArbetsgivare/assistent/andringGallerFrom",
        None
    ));
    assert!(has(
        ItemKind::Optional,
        "AnmalanFranArbetsgivare/assistansanordnare/annanArbetsgivare/arbetsgivareNamn",
        None
    ));
    assert!(has(
        ItemKind::Value,
        "AnmalanFranArbetsgivare/assistent/narstaende",
        Some("false")
    ));
    // An imported schema with an enumeration the reconstruction lacks gets its own item.
    let mut other = set.clone();
    let text = String::from_utf8(set.bytes(Role::Payload).to_vec()).unwrap().replace(
        "<xs:element name=\"fornamn\" type=\"xs:string\"/>",
        "<xs:element name=\"fornamn\"><xs:simpleType><xs:restriction base=\"xs:string\"><xs:enumeration value=\"A\"/><xs:enumeration value=\"B\"/></xs:restriction></xs:simpleType></xs:element>",
    );
    for f in &mut other.files {
        if f.role == Role::Payload {
            f.bytes = text.as_bytes().into();
        }
    }
    let items = coverage::items(other.bytes(Role::Payload), "payload").unwrap();
    assert!(items.iter().any(|i| i.path
        == "AnmalanFranArbetsgivare/personSomHarAssistans/fornamn"
        && i.value.as_deref() == Some("B")));
    // A schema that is not XML is an error, not a panic.
    assert!(coverage::items(b"<xs:schema><a></b>", "broken.xsd").is_err());
}

#[test]
fn coverage_marks_what_accepted_notifications_exercised() {
    let set = SchemaSet::embedded();
    let n = crate::support::notification("anordnare-utom-ees-narstaende", 1);
    let xml = n.to_xml();
    let c = coverage::coverage(&set, [(7u64, xml.as_bytes())]).unwrap();
    let seen = |p: &str| {
        c.items
            .iter()
            .find(|i| i.path == p && i.value.is_none())
            .map(|i| i.seen.clone())
    };
    assert_eq!(
        seen("AnmalanFranArbetsgivare/assistent/bosattUtanforEES"),
        Some(vec![7])
    );
    assert_eq!(
        seen("AnmalanFranArbetsgivare/assistent/bosattInnanforEES"),
        Some(vec![])
    );
    assert!(c.covered() > 0 && c.covered() < c.items.len());
}

#[test]
fn sessions_survive_reopening_and_the_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SessionStore::open(dir.path()).unwrap();
    s.start("qa-1", "onboarding", ONBOARDING, None, None)
        .unwrap();
    assert!(matches!(
        s.start("qa-2", "onboarding", ONBOARDING, None, None),
        Err(StoreError::Running(_))
    ));
    let path = dir.path().join(eioa_session::store::FILE);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let mut again = SessionStore::open(dir.path()).unwrap();
    assert_eq!(again.running().unwrap().name, "qa-1");
    again.end().unwrap();
    assert!(matches!(
        again.start("qa-1", "onboarding", ONBOARDING, None, None),
        Err(StoreError::Exists(_))
    ));
    let fp = "AB:".repeat(31) + "AB";
    let s2 = again
        .start("qa-2", "onboarding", ONBOARDING, Some(&fp), None)
        .unwrap();
    assert_eq!(
        s2.client_fingerprint.as_deref(),
        Some("ab".repeat(32).as_str())
    );
    assert!(matches!(
        again.start("x y", "onboarding", ONBOARDING, None, None),
        Err(StoreError::BadName(_))
    ));

    // A torn last line (a crash mid-write) is dropped; the rest stays.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"end\":{\"name\":\"qa-2\",\"en");
    std::fs::write(&path, &bytes).unwrap();
    let reopened = SessionStore::open(dir.path()).unwrap();
    assert_eq!(reopened.sessions().len(), 2);
    assert_eq!(reopened.running().unwrap().name, "qa-2");
    assert!(reopened.get("qa-1").unwrap().ended.is_some());

    // Damage before the end is an error, never silently dropped sessions.
    let text = String::from_utf8(bytes)
        .unwrap()
        .replacen("{\"start\"", "{\"strt\"", 1);
    std::fs::write(&path, text).unwrap();
    assert!(matches!(
        SessionStore::open(dir.path()),
        Err(StoreError::Damaged { line: 1, .. })
    ));
}
