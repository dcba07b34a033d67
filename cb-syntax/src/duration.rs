//! Durations as files write them: a number of seconds (`30`, `0.5`) or a
//! human string (`"500ms"`, `"30s"`, `"2m"`, `"1h30m"`, `"1.5s"`).
//!
//! A tiny parser rather than a crate: the grammar is one line, and a crate
//! would be a dependency of every build for it.

use std::time::Duration;

/// The longest duration any setting accepts: 100 years. Longer is a typo or
/// a unit mistake (`99999999999999s`), and a deadline that far away
/// overflows the clocks that add it to "now"; saying "too large" names the
/// real problem instead of a misleading "must be > 0".
pub const MAX: Duration = Duration::from_secs(100 * 365 * 86_400);

/// Why a duration was refused: so the message can say which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a duration at all (garbage, a negative number, NaN).
    Malformed,
    /// A well-formed duration longer than [`MAX`].
    TooLarge,
}

impl Refusal {
    /// What a violation says after the value for this refusal, `usual` being
    /// the field's ordinary range.
    pub fn allowed(self, usual: String) -> String {
        match self {
            Refusal::Malformed => usual,
            Refusal::TooLarge => format!(
                "is too large: a duration must be at most 100 years ({}s)",
                MAX.as_secs()
            ),
        }
    }
}

/// Parses `"30"`, `"2.5"` (seconds) or a sequence of `<number><unit>` with
/// units `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`, `d`. Returns `None` for
/// anything else, negative values, or more than [`MAX`].
pub fn parse(text: &str) -> Option<Duration> {
    parse_checked(text).ok()
}

/// [`parse`], saying whether a refused text was malformed or too large.
pub fn parse_checked(text: &str) -> Result<Duration, Refusal> {
    let s = text.trim();
    if s.is_empty() || s.len() > 64 {
        return Err(Refusal::Malformed);
    }
    if let Ok(secs) = s.parse::<f64>() {
        return from_secs_f64(secs);
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return Err(Refusal::Malformed);
        }
        let number: f64 = rest[..num_end].parse().map_err(|_| Refusal::Malformed)?;
        rest = rest[num_end..].trim_start();
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
            .unwrap_or(rest.len());
        let nanos_per: f64 = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" => 86400e9,
            _ => return Err(Refusal::Malformed),
        };
        rest = rest[unit_end..].trim_start();
        let part = from_secs_f64(number * nanos_per / 1e9)?;
        total = total.checked_add(part).ok_or(Refusal::TooLarge)?;
    }
    within_max(total)
}

/// A number of seconds as a duration: negative or NaN is malformed, a finite
/// or infinite number beyond [`MAX`] is too large.
pub fn from_secs_f64(secs: f64) -> Result<Duration, Refusal> {
    if secs.is_nan() || secs < 0.0 {
        return Err(Refusal::Malformed);
    }
    Duration::try_from_secs_f64(secs)
        .map_err(|_| Refusal::TooLarge)
        .and_then(within_max)
}

/// `d` itself, unless it is longer than [`MAX`].
pub fn within_max(d: Duration) -> Result<Duration, Refusal> {
    if d > MAX { Err(Refusal::TooLarge) } else { Ok(d) }
}

/// [`parse`] for `const fn` code, in nanoseconds: the same grammar with
/// decimal numbers (`"1.5s"`, `"0.5"`, `"1h30m"`), for compile-time checks
/// of durations written in `const`s. `None` for anything else, including
/// the exponent forms (`"1e3"`) only [`parse`] reads, and beyond [`MAX`].
pub const fn nanos(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let (mut i, mut end) = (0, b.len());
    while i < end && b[i].is_ascii_whitespace() {
        i += 1;
    }
    while end > i && b[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    if i == end || end - i > 64 {
        return None;
    }
    let max = MAX.as_secs() as u128 * 1_000_000_000;
    let mut total: u128 = 0;
    let mut first = true;
    while i < end {
        // The number: digits, optionally `.` and more digits, as a fraction
        // `whole + numer / denom`.
        let (mut whole, mut numer, mut denom): (u128, u128, u128) = (0, 0, 1);
        let start = i;
        let mut dot = false;
        while i < end && (b[i].is_ascii_digit() || b[i] == b'.') {
            if b[i] == b'.' {
                if dot {
                    return None;
                }
                dot = true;
            } else if whole > max || denom > 1_000_000_000_000_000_000 {
                return None;
            } else if dot {
                numer = numer * 10 + (b[i] - b'0') as u128;
                denom *= 10;
            } else {
                whole = whole * 10 + (b[i] - b'0') as u128;
            }
            i += 1;
        }
        if i == start || (dot && i == start + 1) {
            return None;
        }
        while i < end && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let unit_start = i;
        while i < end && !(b[i].is_ascii_digit() || b[i] == b'.' || b[i].is_ascii_whitespace()) {
            i += 1;
        }
        let unit = unit_bytes(b, unit_start, i);
        let per: u128 = match unit {
            Some(n) => n,
            // A bare number is seconds, and only on its own.
            None if unit_start == i && first && i == end => 1_000_000_000,
            None => return None,
        };
        while i < end && b[i].is_ascii_whitespace() {
            i += 1;
        }
        total += whole * per + numer * per / denom;
        if total > max {
            return None;
        }
        first = false;
    }
    Some(total as u64)
}

/// Nanoseconds per the unit `b[from..to]` names.
const fn unit_bytes(b: &[u8], from: usize, to: usize) -> Option<u128> {
    let u = b.split_at(to).0.split_at(from).1;
    match u {
        b"ns" => Some(1),
        b"us" | b"\xc2\xb5s" => Some(1_000),
        b"ms" => Some(1_000_000),
        b"s" => Some(1_000_000_000),
        b"m" => Some(60_000_000_000),
        b"h" => Some(3_600_000_000_000),
        b"d" => Some(86_400_000_000_000),
        _ => None,
    }
}

/// An exact human form in the largest unit up to seconds: `60s`, `500ms`, `250us`.
pub fn format(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos.is_multiple_of(1_000_000_000) {
        return format!("{}s", nanos / 1_000_000_000);
    }
    if nanos.is_multiple_of(1_000_000) {
        return format!("{}ms", nanos / 1_000_000);
    }
    if nanos.is_multiple_of(1_000) {
        return format!("{}us", nanos / 1_000);
    }
    format!("{nanos}ns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_and_units() {
        let ms = Duration::from_millis;
        assert_eq!(parse("30"), Some(ms(30_000)));
        assert_eq!(parse("0.5"), Some(ms(500)));
        assert_eq!(parse("500ms"), Some(ms(500)));
        assert_eq!(parse(" 30s "), Some(ms(30_000)));
        assert_eq!(parse("2m"), Some(ms(120_000)));
        assert_eq!(parse("1h30m"), Some(ms(5_400_000)));
        assert_eq!(parse("1.5s"), Some(ms(1_500)));
        assert_eq!(parse("1m 30s"), Some(ms(90_000)));
        assert_eq!(parse("250us"), Some(Duration::from_micros(250)));
        assert_eq!(parse("0s"), Some(Duration::ZERO));
    }

    #[test]
    fn rejects_garbage_negatives_and_overflow() {
        for bad in [
            "",
            "-1",
            "-1s",
            "s",
            "10 parsecs",
            "1e400",
            "NaN",
            "inf",
            "1..2s",
            "99999999999999999999h",
            "5x",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn oversized_durations_are_too_large_not_malformed() {
        for big in [
            "99999999999999s",
            "1e400",
            "inf",
            "99999999999999999999h",
            "36501d",
        ] {
            assert_eq!(parse_checked(big), Err(Refusal::TooLarge), "{big}");
        }
        for bad in ["-1s", "NaN", "5x", ""] {
            assert_eq!(parse_checked(bad), Err(Refusal::Malformed), "{bad}");
        }
        assert_eq!(parse_checked("36500d"), Ok(MAX));
    }

    #[test]
    fn the_const_parser_reads_what_parse_reads() {
        for text in [
            "30", "0.5", "500ms", " 30s ", "2m", "1h30m", "1.5s", "1m 30s", "250us", "0s", "7ns", "36500d",
            "1.25ms", "10 m",
        ] {
            let expected = parse(text).map(|d| d.as_nanos() as u64);
            assert_eq!(nanos(text), expected, "{text}");
        }
        for bad in [
            "",
            "-1",
            "s",
            "5x",
            "1..2s",
            "36501d",
            ".s",
            "1s2",
            "99999999999999999999h",
        ] {
            assert_eq!(nanos(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_shortest_exact() {
        assert_eq!(format(Duration::from_secs(60)), "60s");
        assert_eq!(format(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format(Duration::from_nanos(7)), "7ns");
    }
}
