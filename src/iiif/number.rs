//! Strict number syntax for IIIF path parameters (§4): unsigned integers and decimals with no
//! sign, no exponent and no spaces.

/// Parses an unsigned decimal integer made only of ASCII digits.
pub fn parse_uint(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u64>().ok().and_then(|v| u32::try_from(v).ok())
}

/// Parses a non-negative decimal such as `10`, `10.5`, `0.25` or `.5`: digits with at most one
/// point, at least one digit, no sign and no exponent.
pub fn parse_decimal(s: &str) -> Option<f64> {
    if s.is_empty() || s.len() > 32 {
        return None;
    }
    let mut points = 0;
    let mut digits = 0;
    for b in s.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => points += 1,
            _ => return None,
        }
    }
    if points > 1 || digits == 0 {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Formats a decimal in the canonical way: an integer when it is one, otherwise trailing
/// zeros trimmed and a leading `0` below 1 (at most 10 decimal places, as §4 allows).
pub fn format_decimal(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let s = format!("{v:.10}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(parse_uint("0"), Some(0));
        assert_eq!(parse_uint("0125"), Some(125));
        assert_eq!(parse_uint("4294967295"), Some(u32::MAX));
        for bad in [
            "",
            "-1",
            "+1",
            "1.0",
            "1e3",
            " 1",
            "4294967296",
            "99999999999",
            "x",
        ] {
            assert_eq!(parse_uint(bad), None, "{bad}");
        }
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("10"), Some(10.0));
        assert_eq!(parse_decimal("10.5"), Some(10.5));
        assert_eq!(parse_decimal("0.25"), Some(0.25));
        assert_eq!(parse_decimal(".5"), Some(0.5));
        assert_eq!(parse_decimal("5."), Some(5.0));
        for bad in [
            "", ".", "-1", "+1", "1e3", "1.2.3", "nan", "inf", "1,0", " 1",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn canonical_decimals() {
        assert_eq!(format_decimal(90.0), "90");
        assert_eq!(format_decimal(22.50), "22.5");
        assert_eq!(format_decimal(0.5), "0.5");
        assert_eq!(format_decimal(0.0), "0");
        assert_eq!(format_decimal(1.0 / 3.0), "0.3333333333");
    }
}
