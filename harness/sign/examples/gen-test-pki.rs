//! Writes a fresh test PKI valid from 2020 to 2049:
//! `cargo run -p eioa-sign --example gen-test-pki -- <dir>`.

use time::macros::datetime;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: gen-test-pki <dir>")?;
    let pki = eioa_sign::TestPki::generate_valid(
        datetime!(2020-01-01 0:00 UTC),
        datetime!(2049-12-31 0:00 UTC),
    )?;
    pki.write_to(std::path::Path::new(&dir))?;
    println!("wrote a test-only PKI to {dir}");
    Ok(())
}
