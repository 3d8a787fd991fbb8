//! Vehicle identification numbers (ISO 3779; GB 16735 uses the same check digit).
//!
//! A VIN identifies a vehicle; it never authenticates anyone.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A syntactically valid, upper-case VIN with a correct check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Vin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VinError {
    #[error("a VIN has 17 characters, found {0}")]
    Length(usize),
    #[error(
        "character '{found}' at position {position} is not allowed (A–Z and 0–9 without I, O, Q)"
    )]
    ForbiddenCharacter { position: usize, found: char },
    #[error("check digit (position 9) expected '{expected}' found '{found}'")]
    CheckDigit { expected: char, found: char },
}

/// ISO 3779 position weights.
const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/// Transliteration value of one VIN character, or `None` if it is not allowed.
fn transliterate(c: char) -> Option<u32> {
    Some(match c {
        '0'..='9' => c as u32 - '0' as u32,
        'A' | 'J' => 1,
        'B' | 'K' | 'S' => 2,
        'C' | 'L' | 'T' => 3,
        'D' | 'M' | 'U' => 4,
        'E' | 'N' | 'V' => 5,
        'F' | 'W' => 6,
        'G' | 'P' | 'X' => 7,
        'H' | 'Y' => 8,
        'R' | 'Z' => 9,
        _ => return None,
    })
}

/// The check digit a VIN with these 17 characters must carry in position 9.
fn expected_check_digit(chars: &[char]) -> Result<char, VinError> {
    let mut sum = 0;
    for (i, &c) in chars.iter().enumerate() {
        let value = transliterate(c).ok_or(VinError::ForbiddenCharacter {
            position: i + 1,
            found: c,
        })?;
        sum += value * WEIGHTS[i];
    }
    Ok(match sum % 11 {
        10 => 'X',
        d => char::from_digit(d, 10).expect("remainder below 10"),
    })
}

impl Vin {
    /// Parses and normalises (upper-cases) a VIN, checking its check digit.
    pub fn parse(input: &str) -> Result<Self, VinError> {
        let chars: Vec<char> = input
            .trim()
            .chars()
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if chars.len() != 17 {
            return Err(VinError::Length(chars.len()));
        }
        let expected = expected_check_digit(&chars)?;
        if chars[8] != expected {
            return Err(VinError::CheckDigit {
                expected,
                found: chars[8],
            });
        }
        Ok(Vin(chars.into_iter().collect()))
    }

    /// Completes a 17-character VIN whose position 9 is a placeholder with its
    /// correct check digit (used by the demo generator).
    pub fn with_check_digit(stem: &str) -> Result<Self, VinError> {
        let mut chars: Vec<char> = stem.chars().map(|c| c.to_ascii_uppercase()).collect();
        if chars.len() != 17 {
            return Err(VinError::Length(chars.len()));
        }
        chars[8] = '0';
        chars[8] = expected_check_digit(&chars)?;
        Ok(Vin(chars.into_iter().collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Vin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Vin {
    type Error = VinError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Vin::parse(&value)
    }
}

impl From<Vin> for String {
    fn from(vin: Vin) -> Self {
        vin.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_vins_and_normalises_case() {
        // Examples whose check digits are published (spec example and a well-known NHTSA sample).
        assert_eq!(
            Vin::parse("LRW3E7EK9NC000017").unwrap().as_str(),
            "LRW3E7EK9NC000017"
        );
        assert_eq!(
            Vin::parse("1m8gdm9axkp042788").unwrap().as_str(),
            "1M8GDM9AXKP042788"
        );
    }

    #[test]
    fn rejects_wrong_length_letters_and_check_digit() {
        assert_eq!(Vin::parse("ABC"), Err(VinError::Length(3)));
        assert_eq!(
            Vin::parse("LRW3E7EK9NC00001O"),
            Err(VinError::ForbiddenCharacter {
                position: 17,
                found: 'O'
            })
        );
        assert_eq!(
            Vin::parse("LRW3E7EK8NC000017"),
            Err(VinError::CheckDigit {
                expected: '9',
                found: '8'
            })
        );
    }

    #[test]
    fn completes_a_stem_with_its_check_digit() {
        let vin = Vin::with_check_digit("LRW3E7EK0NC000017").unwrap();
        assert_eq!(vin.as_str(), "LRW3E7EK9NC000017");
    }
}
