//! Generated-and-validated cases per second on 1 and 2 threads (optimised build):
//! the same loop as `eioa fuzz`, without the command line.
//!
//!   cargo bench -p eioa-gen --bench fuzz [-- CASES]

use eioa_gen::fuzz::{self, Budget, FuzzConfig};
use eioa_validate::{SchemaSet, Validator, ValidatorOptions};

fn main() {
    let cases: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let today = eioa_gen::DEFAULT_TODAY;
    let validator = match Validator::new(
        SchemaSet::embedded(),
        ValidatorOptions {
            today: Some(today),
            ..Default::default()
        },
    ) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("schema set does not compile: {e}");
            std::process::exit(2);
        }
    };
    let cfg = FuzzConfig::new(1, today);
    for threads in [1, 2] {
        let s = fuzz::run(&cfg, &validator, threads, Budget::Cases(cases), &|_| {});
        println!(
            "threads={threads}: {} cases in {:.2} s: {:.0} cases/s ({:.0} per thread), {} surprises",
            s.cases,
            s.elapsed.as_secs_f64(),
            s.cases_per_second(),
            s.cases_per_second() / threads as f64,
            s.surprises.len()
        );
    }
}
