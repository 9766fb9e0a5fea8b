//! Cost of validating one notification (`cargo bench -p eioa-validate`).
//!
//! - `validate/valid`, `validate/invalid`: the whole pipeline through the public API
//!   (prechecks, libxml2 parse, XSD, the rules' tree and the business rules), on a valid
//!   fixture and on a document with a few findings (schema and rules).
//! - `stages/*`: the pieces libxml2 does, measured on their own so the rest can be
//!   read off by subtraction. `parse` is `xml::parse_untrusted`; `xsd` validates an
//!   already-parsed document against the embedded payload schema, compiled once with the
//!   same libxml2 calls the validator makes; `parse+xsd` is both.
//!
//! `validate/valid − stages/parse+xsd` ≈ what the harness adds on top of libxml2
//! (prechecks, the UTF-8 copy and tree for the rules, the rules, the report).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eioa_validate::schema::Role;
use eioa_validate::{xml, SchemaSet, Severity, Validator, ValidatorOptions};
use libxml::schemas::{SchemaParserContext, SchemaValidationContext};
use std::hint::black_box;
use std::path::PathBuf;

const VALID: &[u8] = include_bytes!("../../../fixtures/valid/anordnare-inom-ees.xml");

/// The valid fixture with four mistakes: a wrong check digit in the assistant's
/// personnummer (EIOA-R002) and in the organisationsnummer (EIOA-R003), letters in a
/// telephone number (EIOA-R016) and `ja` for a boolean (EIOA-S001).
fn invalid() -> Vec<u8> {
    let s = std::str::from_utf8(VALID).expect("fixture is UTF-8");
    let out = s
        .replace(
            "<personnummer>199204129861</personnummer>",
            "<personnummer>199204129862</personnummer>",
        )
        .replace("5566778899", "5566778898")
        .replace(
            "<narstaende>false</narstaende>",
            "<narstaende>ja</narstaende>",
        )
        .replace(
            "<telefonnummerAnordnare>08-123 456 78</telefonnummerAnordnare>",
            "<telefonnummerAnordnare>08-SKRIV-HIT</telefonnummerAnordnare>",
        );
    assert_ne!(out, s, "the fixture changed; update the replacements");
    out.into_bytes()
}

fn options() -> ValidatorOptions {
    ValidatorOptions {
        // A fixed day keeps the age and plausibility rules stable between runs.
        today: Some(time::macros::date!(2025 - 06 - 01)),
        ..ValidatorOptions::default()
    }
}

fn full_pipeline(c: &mut Criterion) {
    let validator =
        Validator::new(SchemaSet::embedded(), options()).expect("embedded set compiles");
    let bad = invalid();

    let report = validator.validate(VALID);
    assert!(
        report.findings.is_empty(),
        "fixture must be valid: {:?}",
        report.findings
    );
    let report = validator.validate(&bad);
    let errors = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    assert_eq!(
        errors, 4,
        "expected four findings, got {:?}",
        report.findings
    );

    let mut g = c.benchmark_group("validate");
    g.throughput(Throughput::Elements(1));
    g.bench_function("valid", |b| b.iter(|| validator.validate(black_box(VALID))));
    g.bench_function("invalid", |b| {
        b.iter(|| validator.validate(black_box(&bad)))
    });
    g.finish();
}

/// The embedded set on disk (libxml2 follows `xs:import` between files), removed on drop.
struct SchemaDir(PathBuf);

impl Drop for SchemaDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn libxml_stages(c: &mut Criterion) {
    let set = SchemaSet::embedded();
    let dir =
        SchemaDir(std::env::temp_dir().join(format!("eioa-bench-schemas-{}", std::process::id())));
    set.write_to(&dir.0).expect("write schema set");
    let payload = dir
        .0
        .join(&set.file(Role::Payload).expect("payload schema").name);
    let mut parser = SchemaParserContext::from_file(&payload.to_string_lossy());
    let mut ctx =
        SchemaValidationContext::from_parser(&mut parser).expect("payload schema compiles");

    let doc = xml::parse_untrusted(VALID).expect("fixture parses");
    ctx.validate_document(&doc)
        .expect("fixture is schema-valid");

    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse", |b| {
        b.iter(|| xml::parse_untrusted(black_box(VALID)).is_ok())
    });
    g.bench_function("xsd", |b| {
        b.iter(|| ctx.validate_document(black_box(&doc)).is_ok())
    });
    g.bench_function("parse+xsd", |b| {
        b.iter(|| {
            let doc = xml::parse_untrusted(black_box(VALID)).expect("fixture parses");
            ctx.validate_document(&doc).is_ok()
        })
    });
    g.finish();
}

criterion_group!(benches, full_pipeline, libxml_stages);
criterion_main!(benches);
