//! Times are UTC milliseconds since the Unix epoch everywhere in quizfunnel;
//! this turns them into text people read.

/// `2026-11-28 16:05 UTC`.
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// `2026-11-28T16:05:00.000Z`: the exchange format of the API and exports.
pub fn format_iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

/// Reads an RFC 3339 time (`2026-11-28T16:05:00Z`, with optional fraction
/// and a `Z` or `±hh:mm` offset) or a bare date (`2026-11-28`, midnight
/// UTC) as UTC milliseconds.
pub fn parse_iso(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        (!part.is_empty() && part.bytes().all(|c| c.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let day_ms = days_from_civil(y, m, d) * 86_400_000;
    if b.len() == 10 {
        return Some(day_ms);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let (hh, mm) = (num(11..13)?, num(14..16)?);
    let mut i = 16;
    let mut ss = 0;
    let mut frac_ms = 0;
    if b.get(i) == Some(&b':') {
        ss = num(i + 1..i + 3)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            i = start;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let digits = text.get(start..i).filter(|d| !d.is_empty())?;
            let padded = format!("{:0<3}", &digits[..digits.len().min(3)]);
            frac_ms = padded.parse::<i64>().ok()?;
        }
    }
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let offset_ms = match text.get(i..)? {
        "Z" | "z" => 0,
        rest if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let sign = if &rest[..1] == "-" { -1 } else { 1 };
            sign * (oh * 60 + om) * 60_000
        }
        _ => return None,
    };
    Some(day_ms + ((hh * 60 + mm) * 60 + ss) * 1000 + frac_ms - offset_ms)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month, day) to days since 1970-01-01, the inverse of
/// [`civil_from_days`].
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_dates_format_in_utc() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_795_881_900_000), "2026-11-28 16:05 UTC");
    }

    #[test]
    fn iso_times_read_back_what_format_iso_writes() {
        for ms in [0, 951_782_400_000, 1_795_881_900_123, -60_000] {
            assert_eq!(parse_iso(&format_iso(ms)), Some(ms), "{ms}");
        }
        assert_eq!(format_iso(1_795_881_900_000), "2026-11-28T16:05:00.000Z");
    }

    #[test]
    fn iso_times_take_offsets_dates_and_no_seconds() {
        assert_eq!(parse_iso("2026-11-28"), Some(1_795_824_000_000));
        assert_eq!(parse_iso("2026-11-28T17:05+01:00"), Some(1_795_881_900_000));
        assert_eq!(parse_iso("2026-11-28T16:05:00.5Z"), Some(1_795_881_900_500));
    }

    #[test]
    fn malformed_iso_times_are_refused() {
        for bad in [
            "",
            "2026",
            "2026-13-01",
            "2026-02-30",
            "2026-11-28T25:00Z",
            "2026-11-28T16:05",
            "2026-11-28T16:05:00+0100",
            "28/11/2026",
            "2026-11-28T16:05:00.Z",
            "١٩٧٠-01-01",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_before_the_epoch_still_format() {
        assert_eq!(format_utc(-60_000), "1969-12-31 23:59 UTC");
    }
}
