//! Durations as configuration files write them: `"30"`, `"0.5"` (seconds)
//! or `"500ms"`, `"30s"`, `"2m"`, `"1h30m"` (the grammar of `cb_core::config`).

use std::time::Duration;

/// Parses a duration; `None` for anything else, negatives or overflow.
pub(crate) fn parse(text: &str) -> Option<Duration> {
    let s = text.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Ok(secs) = s.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return None;
        }
        let number: f64 = rest[..num_end].parse().ok()?;
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
            _ => return None,
        };
        rest = rest[unit_end..].trim_start();
        total = total.checked_add(Duration::try_from_secs_f64(number * nanos_per / 1e9).ok()?)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_file_grammar() {
        assert_eq!(parse("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse("30 seconds"), None);
        assert_eq!(parse("-1s"), None);
    }
}
