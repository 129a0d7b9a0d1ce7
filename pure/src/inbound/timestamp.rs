//! PagerDuty's timestamps (`occurred_at`: RFC 3339, such as `2026-11-28T09:12:04.512Z`) as
//! milliseconds since the epoch, and whether a delivery is too old to act on.

use std::time::Duration;

/// Milliseconds since the epoch for an RFC 3339 timestamp with a `Z` or `±HH:MM` offset, or
/// `None` when it is not one.
pub fn epoch_ms(text: &str) -> Option<u64> {
    let text = text.trim();
    let (date, time) = text.split_once(['T', 't', ' '])?;
    let mut date = date.split('-');
    let (year, month, day) = (
        number(date.next()?, 4)?,
        number(date.next()?, 2)?,
        number(date.next()?, 2)?,
    );
    if date.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (clock, offset_minutes) = split_offset(time)?;
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (clock, None),
    };
    let mut hms = hms.split(':');
    let (hour, minute, second) = (
        number(hms.next()?, 2)?,
        number(hms.next()?, 2)?,
        number(hms.next()?, 2)?,
    );
    if hms.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let millis = match fraction {
        None => 0,
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            let digits = format!("{digits:0<3}");
            digits[..3].parse::<i64>().ok()?
        }
        Some(_) => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    u64::try_from(seconds * 1000 + millis).ok()
}

/// Whether something that happened at `occurred_at` is older than `max_age` at `now_ms`. A
/// timestamp that does not parse is not stale: freshness refuses only what it can date.
pub fn is_older_than(occurred_at: &str, now_ms: u64, max_age: Duration) -> bool {
    epoch_ms(occurred_at).is_some_and(|at| now_ms.saturating_sub(at) > max_age.as_millis() as u64)
}

/// `2026-11-28T10:00:00.000Z`: RFC 3339, as PagerDuty writes its times.
pub fn rfc3339(epoch_ms: u64) -> String {
    let seconds = epoch_ms / 1000;
    let (days, seconds) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        epoch_ms % 1000
    )
}

/// `2026-11-28 10:00 UTC`: a time for people to read, to the minute.
pub fn utc_minute(epoch_ms: u64) -> String {
    let seconds = epoch_ms / 1000;
    let (days, seconds) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        seconds / 3600,
        seconds / 60 % 60
    )
}

/// The date of a day since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

fn number(text: &str, digits: usize) -> Option<i64> {
    if text.len() != digits || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The clock part and its offset from UTC in minutes.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    let at = time.rfind(['+', '-'])?;
    let (clock, offset) = time.split_at(at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let (hours, minutes) = offset[1..].split_once(':')?;
    let (hours, minutes) = (number(hours, 2)?, number(minutes, 2)?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((clock, sign * (hours * 60 + minutes)))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagerdutys_timestamps_read_as_epoch_milliseconds() {
        assert_eq!(epoch_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            epoch_ms("2026-11-28T09:12:04.512Z"),
            Some(1_795_857_124_512)
        );
        assert_eq!(
            epoch_ms("2026-11-28T10:12:04.512+01:00"),
            Some(1_795_857_124_512)
        );
        assert_eq!(
            epoch_ms("2026-11-28T04:12:04.5-05:00"),
            Some(1_795_857_124_500)
        );
        assert_eq!(epoch_ms("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        for bad in [
            "",
            "yesterday",
            "2026-11-28",
            "2026-13-01T00:00:00Z",
            "2026-11-28T25:00:00Z",
            "2026-11-28T09:12:04",
            "2026-11-28T09:12:04.Z",
            "20261-11-28T09:12:04Z",
        ] {
            assert_eq!(epoch_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_read_back_to_the_minute() {
        assert_eq!(utc_minute(1_795_860_000_000), "2026-11-28 10:00 UTC");
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(rfc3339(1_795_857_124_512), "2026-11-28T09:12:04.512Z");
        assert_eq!(
            epoch_ms(&rfc3339(1_709_251_199_001)),
            Some(1_709_251_199_001)
        );
        assert_eq!(
            utc_minute(epoch_ms("2024-02-29T23:59:59Z").unwrap()),
            "2024-02-29 23:59 UTC"
        );
    }

    #[test]
    fn staleness_is_decided_only_for_what_can_be_dated() {
        let now = epoch_ms("2026-11-30T10:00:00Z").unwrap();
        let day = Duration::from_secs(24 * 3600);
        assert!(is_older_than("2026-11-28T09:00:00Z", now, 2 * day));
        assert!(!is_older_than("2026-11-29T09:00:00Z", now, 2 * day));
        assert!(!is_older_than("not a date", now, 2 * day));
    }
}
