//! Fictitious values: identities with valid check digits and real calendar dates,
//! obviously invented names, addresses and telephone numbers.

use eioa_model::ident;
use proptest::prelude::*;
use proptest::sample::select;
use time::{Date, Month};

/// Identity serial numbers (`NNN` in `YYYYMMDDNNNC`) are drawn from this range only:
/// the 980–999 block that Skatteverket's published test personnummer use.
pub const SERIALS: std::ops::RangeInclusive<u16> = 980..=999;

/// First names: common Nordic and international given names, åäö and other scripts.
pub const FORNAMN: &[&str] = &[
    "Testa",
    "Fiktiv",
    "Åsa",
    "Örjan",
    "Märta",
    "Zoë",
    "Jöns",
    "Ælfrida",
    "Łucja",
    "Saga",
    "Øystein",
    "Élodie",
    "Ünal",
    "Maja-Lisa",
    "Karl-Åke",
    "Chloé",
    "Bjørn",
    "Ísold",
    "Anne Sofie",
    "Ngọc Ánh",
    "Αθηνά",
    "Мария",
    "明美",
    "Siri",
    "Noa",
    "Håkan",
    "Ebba",
    "Jürgen",
    "Yaël",
    "Dagný",
];

/// Surnames: every one is an invented word built on "test", "fiktiv", "exempel",
/// "påhittad", "prov" and the like, so that a generated person is recognisably fictitious.
pub const EFTERNAMN: &[&str] = &[
    "Testsson",
    "Fiktivsson",
    "Påhittad",
    "Exempelsson",
    "Provström",
    "Låtsasberg",
    "Testqvist",
    "Övningsdotter",
    "Fiktivä",
    "Exempel-Åkesson",
    "Prövnér",
    "Testelius",
    "Dummybäck",
    "Fejkman",
    "Provdóttir",
    "Testowski",
    "Fiktivić",
    "Exempelø",
    "Låtsaszoë",
    "Testsson Fiktiv",
];

/// Invented company names; one holds `&` so that escaping is always exercised.
pub const FORETAG: &[&str] = &[
    "Fiktiva Assistansen AB",
    "Exempelomsorg ekonomisk förening",
    "Påhittad Assistans & Co HB",
    "Testassistans i Övningsby AB",
    "Låtsasvård <Prov> AB",
    "Provbolaget för personlig assistans AB",
];

/// Addresses outside the EEA, on invented streets.
pub const ADRESSER_UTOM_EES: &[&str] = &[
    "Fiktivstrasse 1, 8000 Zürich, Schweiz",
    "1 Testing Lane, London SW1A 0AA, Storbritannien",
    "Örnek Sokak 7, 06100 Ankara, Turkiet",
    "12 Example Street, Boston MA 02101, USA",
    "Prövgatan 3, Reykjavík-utanför, Färöarna",
];

/// Leap days (29 February) in `[lo, hi]`.
pub fn leap_days(lo: Date, hi: Date) -> Vec<Date> {
    (lo.year()..=hi.year())
        .filter_map(|y| Date::from_calendar_date(y, Month::February, 29).ok())
        .filter(|d| *d >= lo && *d <= hi)
        .collect()
}

/// `d` minus `n` years; 29 February becomes 28 February in a common year.
pub fn years_before(d: Date, n: i32) -> Date {
    d.replace_year(d.year() - n)
        .or_else(|_| Date::from_calendar_date(d.year() - n, Month::February, 28))
        .unwrap_or(d)
}

/// The day someone born on `birth` turns 18, as the validator's rule R006 counts it:
/// a 29 February birthday falls on 1 March in a common year.
pub fn eighteenth_birthday(birth: Date) -> Date {
    birth
        .replace_year(birth.year() + 18)
        .or_else(|_| Date::from_calendar_date(birth.year() + 18, Month::March, 1))
        .unwrap_or(birth)
}

/// Dates uniformly in `[lo, hi]` (shrinking towards `lo`).
pub fn date_in(lo: Date, hi: Date) -> impl Strategy<Value = Date> + Clone {
    let (a, b) = (
        lo.to_julian_day(),
        hi.to_julian_day().max(lo.to_julian_day()),
    );
    (a..=b).prop_map(|j| Date::from_julian_day(j).unwrap_or(Date::MIN))
}

/// A birth date in `[lo, hi]`, with leap days over-represented (1 in `leap_weight + 1`
/// when the range holds one), or always a leap day when `leap_weight` is `None`.
pub fn birth_date(lo: Date, hi: Date, leap_weight: Option<u32>) -> BoxedStrategy<Date> {
    let leaps = leap_days(lo, hi);
    match (leap_weight, leaps.is_empty()) {
        (_, true) => date_in(lo, hi).boxed(),
        (None, false) => select(leaps).boxed(),
        (Some(w), false) => prop_oneof![w => date_in(lo, hi), 1 => select(leaps)].boxed(),
    }
}

/// A personnummer (or, when `samordning`, a samordningsnummer) for `birth` with a
/// serial in [`SERIALS`] and a valid check digit.
pub fn identity(birth: Date, samordning: bool) -> impl Strategy<Value = String> {
    SERIALS.prop_map(move |s| ident::personnummer(birth, s, samordning))
}

/// An organisationsnummer of a legal person (third digit ≥ 2) with a valid check digit.
pub fn orgnr() -> impl Strategy<Value = String> + Clone {
    (
        select(&[b'2', b'5', b'7', b'8', b'9'][..]),
        proptest::collection::vec(b'0'..=b'9', 1),
        b'2'..=b'9',
        proptest::collection::vec(b'0'..=b'9', 6),
    )
        .prop_map(|(g, d2, d3, rest)| {
            let mut nine = vec![g, d2[0], d3];
            nine.extend(rest);
            ident::orgnr(std::str::from_utf8(&nine).unwrap_or("556000000"))
        })
}

/// A name from `list`, or (1 in 12) several joined by `-` into a long name of up to
/// about 150 characters.
pub fn name(list: &'static [&'static str], long: bool) -> BoxedStrategy<String> {
    let one = select(list).prop_map(str::to_string);
    let many = proptest::collection::vec(select(list), 6..=12).prop_map(|v| v.join("-"));
    if long {
        many.boxed()
    } else {
        prop_oneof![11 => one, 1 => many].boxed()
    }
}

/// A Swedish-looking telephone number without letters, at least 7 characters; the
/// shortest allowed length is over-represented, or forced when `shortest`.
pub fn telefon(shortest: bool) -> BoxedStrategy<String> {
    let seven = proptest::collection::vec(b'0'..=b'9', 6)
        .prop_map(|d| format!("0{}", String::from_utf8_lossy(&d)));
    if shortest {
        return seven.boxed();
    }
    let formatted = (
        select(&["08-", "031-", "+46 70 ", "070-", "(0)8 ", "0920-"][..]),
        proptest::collection::vec(b'0'..=b'9', 5..=8),
    )
        .prop_map(|(p, d)| format!("{p}{}", String::from_utf8_lossy(&d)));
    prop_oneof![1 => seven, 4 => formatted].boxed()
}

/// A random (version 4) UUID, lowercase.
pub fn uuid_v4() -> impl Strategy<Value = String> + Clone {
    any::<[u8; 16]>().prop_map(|b| {
        uuid::Builder::from_random_bytes(b)
            .into_uuid()
            .hyphenated()
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn leap_birthday_is_first_of_march() {
        assert_eq!(
            eighteenth_birthday(date!(2004 - 02 - 29)),
            date!(2022 - 03 - 01)
        );
        assert_eq!(
            eighteenth_birthday(date!(2000 - 02 - 29)),
            date!(2018 - 03 - 01)
        );
        assert_eq!(
            eighteenth_birthday(date!(2006 - 02 - 28)),
            date!(2024 - 02 - 28)
        );
        assert_eq!(
            years_before(date!(2024 - 02 - 29), 18),
            date!(2006 - 02 - 28)
        );
    }

    #[test]
    fn leap_days_in_range() {
        assert_eq!(
            leap_days(date!(1999 - 03 - 01), date!(2004 - 02 - 29)),
            vec![date!(2000 - 02 - 29), date!(2004 - 02 - 29)]
        );
    }
}
