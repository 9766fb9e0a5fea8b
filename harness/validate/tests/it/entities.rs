//! No entity, DTD or schema hint in a document is ever loaded, whatever encoding the
//! document is in (issue: a UTF-7 DOCTYPE once reached libxml2, which read
//! `file:///etc/hostname` for a remote client of the stand-in).
//!
//! The oracle is outside the code under test: every external reference points at a
//! FIFO, and a watchdog thread keeps trying to open the FIFO's writing end without
//! blocking. That open succeeds only while somebody has the FIFO open for reading,
//! so if libxml2 (or anything else) ever tries to load the entity, the watchdog sees
//! it — and writes to the FIFO, so the reader is not left hanging.

use eioa_validate::c14n::{canonicalize, Select};
use eioa_validate::{SchemaSet, Validator, ValidatorOptions};
use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// Linux's O_NONBLOCK: opening a FIFO for writing then fails with ENXIO unless a
/// reader has it open, instead of waiting for one.
const O_NONBLOCK: i32 = 0o4000;

struct Fifo {
    dir: PathBuf,
    path: PathBuf,
    opened: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    watchdog: Option<thread::JoinHandle<()>>,
}

impl Fifo {
    fn new(tag: &str) -> Fifo {
        let dir =
            std::env::temp_dir().join(format!("eioa-entity-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fifo");
        let ok = Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(ok.success(), "mkfifo failed");
        let opened = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let watchdog = {
            let (path, opened, stop) = (path.clone(), opened.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(mut w) = OpenOptions::new()
                        .write(true)
                        .custom_flags(O_NONBLOCK)
                        .open(&path)
                    {
                        opened.fetch_add(1, Ordering::SeqCst);
                        let _ = w.write_all(b"<!ENTITY leaked \"LEAKED\">LEAKED");
                    }
                    thread::sleep(Duration::from_micros(200));
                }
            })
        };
        Fifo {
            dir,
            path,
            opened,
            stop,
            watchdog: Some(watchdog),
        }
    }

    fn url(&self) -> String {
        format!("file://{}", self.path.display())
    }

    fn times_opened(&self) -> usize {
        // Give the watchdog one more round to notice an open that is still pending.
        thread::sleep(Duration::from_millis(2));
        self.opened.load(Ordering::SeqCst)
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(w) = self.watchdog.take() {
            let _ = w.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn validator() -> Validator {
    Validator::new(SchemaSet::embedded(), ValidatorOptions::default()).unwrap()
}

/// A document that tries every way of loading `url`: an external parameter entity
/// referenced in the internal subset, an external general entity in content, an
/// external DTD subset, and a schema location hint.
fn hostile(encoding: &str, url: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n\
         <!DOCTYPE r SYSTEM \"{url}\" [ <!ENTITY % p SYSTEM \"{url}\"> %p; <!ENTITY e SYSTEM \"{url}\"> ]>\n\
         <r xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"urn:x {url}\">&e;&leaked;</r>\n"
    )
}

/// `text` in `encoding` by the system's iconv, when iconv can write it.
fn iconv(text: &str, encoding: &str) -> Option<Vec<u8>> {
    let mut child = Command::new("iconv")
        .args(["-f", "UTF-8", "-t", encoding])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(text.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    (out.status.success() && !out.stdout.is_empty()).then_some(out.stdout)
}

/// Every encoding name iconv knows (libxml2 hands unknown names to iconv), plus the
/// ones libxml2 knows by itself.
fn encoding_names() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = [
        "UTF-8",
        "UTF-16",
        "UTF-16LE",
        "UTF-16BE",
        "UCS-2",
        "UCS-4",
        "UTF-32",
        "UTF-7",
        "ISO-8859-1",
        "ISO-8859-2",
        "ISO-8859-15",
        "ASCII",
        "US-ASCII",
        "HTML",
        "EBCDIC",
        "IBM037",
        "IBM500",
        "ISO-2022-JP",
        "ISO-2022-KR",
        "HZ-GB-2312",
        "SHIFT_JIS",
        "EUC-JP",
        "GB18030",
        "BIG5",
        "KOI8-R",
        "WINDOWS-1252",
        "UTF-7-IMAP",
        "X-USER-DEFINED",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Ok(out) = Command::new("iconv").arg("-l").output() {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            for name in line.split([',', ' ']) {
                let name = name.trim().trim_end_matches('/');
                if !name.is_empty() {
                    names.insert(name.to_string());
                }
            }
        }
    }
    names
}

fn rules(report: &eioa_validate::Report) -> BTreeSet<String> {
    report.findings.iter().map(|f| f.rule.clone()).collect()
}

#[test]
fn a_utf7_doctype_is_refused_before_parsing() {
    let fifo = Fifo::new("utf7");
    let v = validator();
    // The probe from the report: the DOCTYPE written in UTF-7's base64 form.
    let probe = |url: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-7\"?>+ADwAIQ-DOCTYPE r +AFs- +ADwAIQ-ENTITY +ACU- p SYSTEM +ACI-{url}+ACIAPg- +ACU-p+ADs- +AF0APg-\n<r/>"
        )
    };
    let a = v.validate(probe(&fifo.url()).as_bytes());
    let b = v.validate(probe("file:///nonexistent/eioa-no-such-file").as_bytes());
    assert_eq!(fifo.times_opened(), 0, "the entity was loaded");
    // The verdict cannot tell whether the file exists: no oracle for a remote client.
    assert_eq!(a.findings, b.findings);
    let f = a
        .findings
        .iter()
        .find(|f| f.rule == "EIOA-X002")
        .expect("X002");
    assert!(f.message.contains("UTF-7"), "{}", f.message);
    assert!(!a.is_valid());
}

#[test]
fn no_encoding_loads_an_entity_dtd_or_schema_hint() {
    let fifo = Fifo::new("sweep");
    let v = validator();
    let mut unexpected = Vec::new();
    let mut checked = 0;
    for name in encoding_names() {
        let text = hostile(&name, &fifo.url());
        // In the encoding itself when iconv can write it; declared over ASCII bytes
        // otherwise (the declaration alone used to pick libxml2's decoder).
        let variants = [iconv(&text, &name), Some(text.clone().into_bytes())];
        for bytes in variants.into_iter().flatten() {
            let report = v.validate(&bytes);
            checked += 1;
            let got = rules(&report);
            let allowed: BTreeSet<String> = [
                "EIOA-X001",
                "EIOA-X002",
                "EIOA-X005",
                "EIOA-X006",
                "EIOA-X007",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            if report.is_valid() || !got.is_subset(&allowed) {
                unexpected.push(format!("{name}: {got:?}"));
            }
            // C14N (the signature binding) parses through the same gate.
            let _ = canonicalize(&bytes, Select::Document);
        }
        assert_eq!(
            fifo.times_opened(),
            0,
            "an entity was loaded for a document declared {name}"
        );
    }
    assert!(
        checked > 100,
        "only {checked} documents checked: is iconv missing?"
    );
    assert!(unexpected.is_empty(), "{unexpected:#?}");
}

#[test]
fn a_document_the_harness_accepts_is_only_ever_utf8_to_libxml2() {
    // The same notification in UTF-16 and ISO-8859-15 validates like the UTF-8 one:
    // decoding moved out of libxml2 without losing an encoding it used to read.
    let utf8 = std::fs::read(fixtures().join("valid/anordnare-inom-ees.xml")).unwrap();
    let text = String::from_utf8(utf8).unwrap();
    // Letters every one of these encodings has, and that a wrong decoder would mangle.
    let start = text.find("<fornamn>").unwrap() + "<fornamn>".len();
    let end = start + text[start..].find('<').unwrap();
    let text = format!("{}Åsa-Öjvor Ärlig{}", &text[..start], &text[end..]);
    let v = Validator::new(
        SchemaSet::embedded(),
        ValidatorOptions {
            today: Some(time::Date::from_calendar_date(2026, time::Month::November, 26).unwrap()),
            ..Default::default()
        },
    )
    .unwrap();
    let errors = |bytes: &[u8]| -> Vec<String> {
        v.validate(bytes)
            .findings
            .into_iter()
            .filter(|f| f.severity == eioa_validate::Severity::Error)
            .map(|f| format!("{} {}", f.rule, f.message))
            .collect()
    };
    assert!(errors(text.as_bytes()).is_empty());
    for enc in [
        "UTF-16LE",
        "UTF-16BE",
        "ISO-8859-15",
        "WINDOWS-1252",
        "ISO-8859-1",
    ] {
        let declared = text.replacen("encoding=\"UTF-8\"", &format!("encoding=\"{enc}\""), 1);
        let mut bytes = iconv(&declared, enc).expect("iconv");
        if enc.starts_with("UTF-16") {
            let bom: &[u8] = if enc.ends_with("LE") {
                &[0xFF, 0xFE]
            } else {
                &[0xFE, 0xFF]
            };
            bytes.splice(0..0, bom.iter().copied());
        }
        assert!(errors(&bytes).is_empty(), "{enc}: {:?}", errors(&bytes));
    }
}

#[test]
fn schema_imports_resolve_from_memory_and_never_from_disk() {
    let fifo = Fifo::new("schema");
    // No schema files are written anywhere: nothing named eioa-schemas-* appears.
    let before = schema_dirs();
    let v = validator();
    assert!(v
        .validate_envelope(b"<x/>")
        .findings
        .iter()
        .any(|f| f.rule == "EIOA-S001"));
    assert_eq!(schema_dirs(), before, "a schema directory was written");
    drop(v);

    // A set whose payload schema imports a file outside the set is refused, and the
    // import is never opened.
    let mut set = SchemaSet::embedded();
    let payload = set
        .files
        .iter_mut()
        .find(|f| f.name.starts_with("anmalan"))
        .unwrap();
    let xsd = String::from_utf8(payload.bytes.to_vec()).unwrap();
    let at = xsd.find("<xs:element").unwrap();
    let hostile = format!(
        "{}<xs:include schemaLocation=\"{}\"/><xs:import namespace=\"urn:x\" schemaLocation=\"{}\"/>{}",
        &xsd[..at],
        fifo.url(),
        fifo.path.display(),
        &xsd[at..]
    );
    payload.bytes = hostile.into_bytes().into();
    let _ = Validator::new(set, ValidatorOptions::default());
    assert_eq!(
        fifo.times_opened(),
        0,
        "a schema import was loaded from disk"
    );
}

fn schema_dirs() -> BTreeSet<String> {
    std::fs::read_dir(std::env::temp_dir())
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("eioa-schemas-"))
                .collect()
        })
        .unwrap_or_default()
}

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"))
}
