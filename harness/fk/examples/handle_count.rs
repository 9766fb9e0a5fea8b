//! Calls `Fk::handle` N times on one kind of request, for counting instructions per
//! call: run it under `valgrind --tool=callgrind` with two different N and divide the
//! difference of the totals by the difference of N, so that set-up cancels out.
//!
//! `cargo build --release -p eioa-fk --example handle_count`
//! `valgrind --tool=callgrind target/release/examples/handle_count accepted 200`
//!
//! Cases: `accepted` (the same signed request again), `distinct` (a new signature
//! each call, one signer: 600 signatures are made during set-up whatever N is),
//! `invalid` (a payload with a rule finding).

use eioa_fk::Verdict;

#[path = "../benches/support/mod.rs"]
mod support;
use support::{fixture, Setup};

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "accepted".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let setup = Setup::new();
    let valid = fixture("valid/anordnare-inom-ees.xml");
    let id = eioa_model::peek_id(&valid).expect("id");
    let bodies: Vec<Vec<u8>> = match case.as_str() {
        "accepted" => vec![setup.signed_request(valid, &id, "count")],
        "distinct" => (0..600)
            .map(|_| setup.signed_request(valid.clone(), &id, "count"))
            .collect(),
        "invalid" => {
            let bad = fixture("invalid/EIOA-R002/personnummer-check-digit.xml");
            let bad_id = eioa_model::peek_id(&bad).expect("id");
            vec![setup.signed_request(bad, &bad_id, "count")]
        }
        other => panic!("unknown case {other}: accepted, distinct or invalid"),
    };
    let mut accepted = 0usize;
    for body in bodies.iter().cycle().take(n) {
        let (_, verdict) = setup.call(body);
        accepted += usize::from(matches!(verdict, Verdict::Accepted { .. }));
    }
    println!("{case}: {n} calls, {accepted} accepted");
}
