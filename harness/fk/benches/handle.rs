//! What one request costs FK's behaviour model, without transport: a valid signed
//! request (accepted; FK allows re-sending the same notification with its
//! signature), the same notification under a different signature each time (one
//! signer, so only the certification path and OCSP verdicts are remembered), and a
//! payload it refuses.
//!
//! `cargo bench -p eioa-fk`

use criterion::{criterion_group, criterion_main, Criterion};
use eioa_fk::Verdict;

#[path = "support/mod.rs"]
mod support;
use support::{fixture, Setup};

fn bench(c: &mut Criterion) {
    let setup = Setup::new();
    let valid = fixture("valid/anordnare-inom-ees.xml");
    let id = eioa_model::peek_id(&valid).expect("id");
    let ok_body = setup.signed_request(valid.clone(), &id, "bench");
    // Each signature has its own nonce: distinct bytes, one signer. More of them than
    // the verifier remembers, so that cycling through them always misses.
    let distinct: Vec<Vec<u8>> = (0..eioa_sign::DEFAULT_CACHE_ENTRIES + 88)
        .map(|_| setup.signed_request(valid.clone(), &id, "bench"))
        .collect();
    let bad = fixture("invalid/EIOA-R002/personnummer-check-digit.xml");
    let bad_id = eioa_model::peek_id(&bad).expect("id");
    let bad_body = setup.signed_request(bad, &bad_id, "bench");
    let call = |body: &[u8]| setup.call(body);
    assert!(matches!(call(&ok_body).1, Verdict::Accepted { .. }));
    assert!(matches!(
        call(&bad_body).1,
        Verdict::XmlValidationError { .. }
    ));
    let mut g = c.benchmark_group("handle");
    g.bench_function("accepted", |b| b.iter(|| call(&ok_body)));
    let mut next = distinct.iter().cycle();
    g.bench_function("accepted-distinct-signatures", |b| {
        b.iter(|| call(next.next().expect("a cycle never ends")))
    });
    g.bench_function("xml-validation-error", |b| b.iter(|| call(&bad_body)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
