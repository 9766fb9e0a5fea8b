//! Swedish identity numbers: personnummer, samordningsnummer, organisationsnummer.
//!
//! All three end in a Luhn check digit computed over the ten digits `YYMMDDNNN` /
//! `NNNNNNNNN` that precede it; a samordningsnummer is a personnummer whose day is
//! increased by 60.

use time::{Date, Month};

/// The Luhn check digit for nine digits (ASCII `'0'..='9'`).
pub fn luhn_digit(nine: &[u8]) -> u8 {
    let sum: u32 = nine
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            let d = if i % 2 == 0 { d * 2 } else { d };
            if d > 9 {
                d - 9
            } else {
                d
            }
        })
        .sum();
    ((10 - (sum % 10)) % 10) as u8
}

/// What kind of 12-digit identity number a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKind {
    Personnummer,
    Samordningsnummer,
}

/// A 12-digit identity number that passed every check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub kind: IdentityKind,
    pub birth_date: Date,
}

/// Why a 12-digit identity number is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("is not 12 digits (YYYYMMDDNNNN)")]
    Format,
    #[error("has no such date: {0}")]
    Date(String),
    #[error("has check digit {found}, expected {expected}")]
    CheckDigit { expected: u8, found: u8 },
}

/// Checks a personnummer or samordningsnummer written as `YYYYMMDDNNNN`.
pub fn parse_identity(value: &str) -> Result<Identity, IdentityError> {
    let b = value.as_bytes();
    if b.len() != 12 || !b.iter().all(u8::is_ascii_digit) {
        return Err(IdentityError::Format);
    }
    let num = |r: std::ops::Range<usize>| value[r].parse::<u32>().unwrap_or(0);
    let (year, month, mut day) = (num(0..4), num(4..6), num(6..8));
    let kind = if day > 60 {
        day -= 60;
        IdentityKind::Samordningsnummer
    } else {
        IdentityKind::Personnummer
    };
    let date = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .and_then(|m| Date::from_calendar_date(year as i32, m, day as u8).ok())
        .ok_or_else(|| IdentityError::Date(format!("{:04}-{:02}-{:02}", year, month, day)))?;
    let expected = luhn_digit(&b[2..11]);
    let found = b[11] - b'0';
    if expected != found {
        return Err(IdentityError::CheckDigit { expected, found });
    }
    Ok(Identity {
        kind,
        birth_date: date,
    })
}

/// Why an organisationsnummer is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgError {
    #[error("is not 10 digits")]
    Format,
    #[error("has check digit {found}, expected {expected}")]
    CheckDigit { expected: u8, found: u8 },
}

/// What an organisationsnummer's third digit says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgKind {
    /// Third digit 2 or more: a legal person (company, association, …).
    LegalPerson,
    /// Third digit below 2: the number is a sole trader's personnummer (YYMMDDNNNN).
    SoleTrader,
}

/// Checks a 10-digit organisationsnummer.
pub fn parse_orgnr(value: &str) -> Result<OrgKind, OrgError> {
    let b = value.as_bytes();
    if b.len() != 10 || !b.iter().all(u8::is_ascii_digit) {
        return Err(OrgError::Format);
    }
    let expected = luhn_digit(&b[..9]);
    let found = b[9] - b'0';
    if expected != found {
        return Err(OrgError::CheckDigit { expected, found });
    }
    Ok(if b[2] >= b'2' {
        OrgKind::LegalPerson
    } else {
        OrgKind::SoleTrader
    })
}

/// Completes 11 digits (`YYYYMMDDNNN`) with their check digit.
pub fn personnummer(date: Date, serial: u16, samordning: bool) -> String {
    let day = date.day() + if samordning { 60 } else { 0 };
    let eleven = format!(
        "{:04}{:02}{:02}{:03}",
        date.year(),
        u8::from(date.month()),
        day,
        serial % 1000
    );
    let check = luhn_digit(&eleven.as_bytes()[2..11]);
    format!("{eleven}{check}")
}

/// Completes nine digits to an organisationsnummer.
pub fn orgnr(nine: &str) -> String {
    debug_assert_eq!(nine.len(), 9);
    format!("{nine}{}", luhn_digit(nine.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        // Skatteverket's published test personnummer and a well-known orgnr shape.
        assert!(parse_identity("189001019802").is_ok());
        assert!(parse_identity("191212121212").is_ok());
        assert_eq!(
            parse_identity("191212121213"),
            Err(IdentityError::CheckDigit {
                expected: 2,
                found: 3
            })
        );
        assert!(matches!(
            parse_identity("YYYYMMDDXXXX"),
            Err(IdentityError::Format)
        ));
        assert!(matches!(
            parse_identity("199002301234"),
            Err(IdentityError::Date(_))
        ));
        assert_eq!(parse_orgnr(&orgnr("556016068")), Ok(OrgKind::LegalPerson));
        assert_eq!(parse_orgnr(&orgnr("800101123")), Ok(OrgKind::SoleTrader));
        assert!(matches!(
            parse_orgnr("1234567890"),
            Err(OrgError::CheckDigit { .. })
        ));
    }

    #[test]
    fn samordningsnummer_day_plus_sixty() {
        let d = Date::from_calendar_date(1990, Month::March, 5).unwrap();
        let s = personnummer(d, 123, true);
        assert_eq!(&s[6..8], "65");
        let id = parse_identity(&s).unwrap();
        assert_eq!(id.kind, IdentityKind::Samordningsnummer);
        assert_eq!(id.birth_date, d);
    }
}
