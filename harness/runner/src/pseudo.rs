//! Pseudonymising a recorded exchange for a fixture: the document keeps its meaning,
//! the people in it become fictitious, and one mapping is used throughout (payload,
//! fault message), so a finding still points at the same element with the same value.
//!
//! - Identity numbers (`YYYYMMDDNNNC`) keep their date part (birth date, and the +60 of
//!   a samordningsnummer), so findings about age or kind still reproduce; the serial
//!   number is replaced from the 980–999 test block (`eioa_gen::values::SERIALS`) and
//!   the check digit recomputed. A wrong check digit stays wrong (off by the same
//!   amount). Values that are not 12 digits (placeholders) are left as they are.
//! - Names (`fornamn`, `efternamn`, `kontaktperson`) become names from
//!   `eioa_gen::values`; an address outside the EEA becomes an invented one.

use eioa_gen::values::{ADRESSER_UTOM_EES, EFTERNAMN, FORNAMN, SERIALS};
use eioa_model::ident::luhn_digit;
use std::collections::BTreeMap;

/// One consistent mapping from real values to fictitious ones.
#[derive(Debug, Default, Clone)]
pub struct Pseudonymiser {
    /// Original → replacement, in the order first seen.
    map: BTreeMap<String, String>,
    next_serial: u16,
    next_name: usize,
}

impl Pseudonymiser {
    /// The replacements made so far (original → fictitious).
    pub fn mapping(&self) -> &BTreeMap<String, String> {
        &self.map
    }

    /// A notification or SOAP text with people replaced.
    pub fn xml(&mut self, xml: &str) -> String {
        let mut out = xml.to_string();
        out = map_elements(&out, "personnummer", |v| self.identity(v));
        out = map_elements(&out, "fornamn", |v| self.name(v, FORNAMN));
        out = map_elements(&out, "efternamn", |v| self.name(v, EFTERNAMN));
        out = map_elements(&out, "kontaktperson", |v| self.full_name(v));
        out = map_elements(&out, "adress", |v| self.name(v, ADRESSER_UTOM_EES));
        out
    }

    /// Free text (a fault message) with every value already mapped replaced, and
    /// any other identity number mapped too.
    pub fn text(&mut self, text: &str) -> String {
        let mut out = text.to_string();
        for (from, to) in &self.map {
            out = out.replace(from.as_str(), to);
        }
        // Identity numbers the document did not hold in an element.
        let digits: Vec<String> = twelve_digit_runs(&out);
        for d in digits {
            if self.map.values().any(|v| *v == d) {
                continue;
            }
            let to = self.identity(&d);
            out = out.replace(&d, &to);
        }
        out
    }

    /// A fictitious identity number in the same date class; see the module docs.
    pub fn identity(&mut self, value: &str) -> String {
        let b = value.as_bytes();
        if b.len() != 12 || !b.iter().all(u8::is_ascii_digit) {
            return value.to_string();
        }
        if let Some(to) = self.map.get(value) {
            return to.clone();
        }
        // The serial is chosen so that the correct check digit is the original's: the
        // number keeps its very last digit, right or wrong, and a message quoting
        // "check digit 2, expected 1" reads the same after replacement.
        let was_right = luhn_digit(&b[2..11]);
        let taken = |c: &String, map: &BTreeMap<String, String>| map.values().any(|v| v == c);
        let mut fallback = None;
        let mut found = None;
        for i in 0..=(SERIALS.end() - SERIALS.start()) {
            let serial =
                SERIALS.start() + (self.next_serial + i) % (SERIALS.end() - SERIALS.start() + 1);
            let eleven = format!("{}{serial:03}", &value[..8]);
            let right = luhn_digit(&eleven.as_bytes()[2..11]);
            let off = (b[11] - b'0' + 10 - was_right) % 10;
            let candidate = format!("{eleven}{}", (right + off) % 10);
            if candidate == value || taken(&candidate, &self.map) {
                continue;
            }
            if right == was_right {
                found = Some(candidate);
                break;
            }
            fallback.get_or_insert(candidate);
        }
        self.next_serial += 1;
        let to = found.or(fallback).unwrap_or_else(|| value.to_string());
        self.map.insert(value.to_string(), to.clone());
        to
    }

    fn name(&mut self, value: &str, list: &[&str]) -> String {
        if value.trim().is_empty() {
            return value.to_string();
        }
        if let Some(to) = self.map.get(value) {
            return to.clone();
        }
        let to = list[self.next_name % list.len()].to_string();
        self.next_name += 1;
        self.map.insert(value.to_string(), to.clone());
        to
    }

    fn full_name(&mut self, value: &str) -> String {
        if let Some(to) = self.map.get(value) {
            return to.clone();
        }
        let to = format!(
            "{} {}",
            FORNAMN[self.next_name % FORNAMN.len()],
            EFTERNAMN[(self.next_name + 1) % EFTERNAMN.len()]
        );
        self.next_name += 1;
        self.map.insert(value.to_string(), to.clone());
        to
    }
}

/// Replaces the text of every `<local>` (any prefix) element without children.
fn map_elements(xml: &str, local: &str, mut f: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let tail = &rest[lt..];
        let Some(gt) = tail.find('>') else {
            out.push_str(tail);
            return out;
        };
        let tag = &tail[1..gt];
        let name = tag.rsplit(':').next().unwrap_or(tag);
        out.push_str(&tail[..=gt]);
        rest = &tail[gt + 1..];
        if name == local && !tag.starts_with('/') && !tag.ends_with('/') {
            let close = format!("</{tag}>");
            if let Some(end) = rest.find(&close) {
                let value = &rest[..end];
                if !value.contains('<') {
                    out.push_str(&f(value));
                    rest = &rest[end..];
                }
            }
        }
    }
    out.push_str(rest);
    out
}

fn twelve_digit_runs(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-'))
        {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 12 && (i == b.len() || !(b[i].is_ascii_alphanumeric() || b[i] == b'-'))
            {
                out.push(text[start..i].to_string());
            }
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use eioa_model::ident::{parse_identity, IdentityError, IdentityKind};

    #[test]
    fn identities_keep_date_class_and_check_digit_state() {
        let mut p = Pseudonymiser::default();
        // 19920412-9868 style: valid personnummer, valid samordningsnummer, wrong digit.
        let pnr = eioa_model::ident::personnummer(
            time::Date::from_calendar_date(1992, time::Month::April, 12).expect("date"),
            123,
            false,
        );
        let snr = eioa_model::ident::personnummer(
            time::Date::from_calendar_date(1988, time::Month::May, 3).expect("date"),
            456,
            true,
        );
        let mut wrong = pnr.clone();
        let last = (wrong.as_bytes()[11] - b'0' + 3) % 10;
        wrong.replace_range(11.., &last.to_string());

        let a = p.identity(&pnr);
        assert_ne!(a, pnr);
        assert_eq!(&a[..8], "19920412");
        let serial: u16 = a[8..11].parse().expect("digits");
        assert!(SERIALS.contains(&serial), "{a}");
        assert_eq!(
            parse_identity(&a).map(|i| i.kind),
            Ok(IdentityKind::Personnummer)
        );

        let s = p.identity(&snr);
        assert_eq!(&s[..8], "19880563");
        assert_eq!(
            parse_identity(&s).map(|i| i.kind),
            Ok(IdentityKind::Samordningsnummer)
        );

        let w = p.identity(&wrong);
        match (parse_identity(&w), parse_identity(&wrong)) {
            (
                Err(IdentityError::CheckDigit { expected, found }),
                Err(IdentityError::CheckDigit {
                    expected: was_expected,
                    found: was_found,
                }),
            ) => assert_eq!((expected, found), (was_expected, was_found), "{w}"),
            other => panic!("{w} must keep a wrong check digit: {other:?}"),
        }
        // Consistent: the same value maps to the same replacement.
        assert_eq!(p.identity(&pnr), a);
        // Placeholders are not personal data and stay.
        assert_eq!(p.identity("YYYYMMDDXXXX"), "YYYYMMDDXXXX");
    }

    #[test]
    fn names_and_messages_use_one_mapping() {
        let mut p = Pseudonymiser::default();
        let xml = "<a><personnummer>199204121234</personnummer><fornamn>Anna</fornamn>\
                   <efternamn>Svensson</efternamn><x:fornamn>Anna</x:fornamn>\
                   <kontaktperson>Per Persson</kontaktperson></a>";
        let out = p.xml(xml);
        assert!(
            !out.contains("Anna") && !out.contains("Svensson") && !out.contains("Per Persson"),
            "{out}"
        );
        assert!(!out.contains("199204121234"), "{out}");
        let fornamn = &p.mapping()["Anna"];
        assert_eq!(out.matches(&format!(">{fornamn}<")).count(), 2, "{out}");
        let msg = p.text("FK-X004: /a/personnummer: 199204121234 has check digit 4");
        assert!(msg.contains(&p.mapping()["199204121234"]), "{msg}");
    }
}
