//! UTC dates in the three fixed formats SigV4 POST policies use.
//!
//! `x-amz-date` is `yyyymmddThhmmssZ`, the credential scope's date is `yyyymmdd`, and a
//! policy's `expiration` is ISO 8601 (`2015-12-30T12:00:00.000Z`). Those are all this crate
//! needs, so it converts them itself (civil-from-days arithmetic) instead of depending on a
//! date-time crate.
//!
//! Times are clamped to years 0000–9999: the formats have four-digit years, and aws-sigv4's
//! signing-key derivation panics on times its date crate cannot represent.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: i64 = 86_400;
/// 0000-01-01T00:00:00Z, in seconds from the Unix epoch.
const EARLIEST: i64 = days_from_civil(0, 1, 1) * SECONDS_PER_DAY;
/// 9999-12-31T23:59:59Z, in seconds from the Unix epoch.
const LATEST: i64 = days_from_civil(9999, 12, 31) * SECONDS_PER_DAY + SECONDS_PER_DAY - 1;

/// `time` as `yyyymmddThhmmssZ`, the form of `x-amz-date`.
pub fn format_amz_date(time: SystemTime) -> String {
    let t = Civil::from_seconds(unix_seconds(time));
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// `time`'s date as `yyyymmdd`, the form of the credential scope's date.
pub fn format_date_stamp(time: SystemTime) -> String {
    let t = Civil::from_seconds(unix_seconds(time));
    format!("{:04}{:02}{:02}", t.year, t.month, t.day)
}

/// `time` as a policy expiration, `YYYY-MM-DDTHH:MM:SS.000Z`: whole seconds, as AWS's
/// examples write it.
pub fn format_expiration(time: SystemTime) -> String {
    let t = Civil::from_seconds(unix_seconds(time));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// Parses `yyyymmddThhmmssZ`; `None` unless every part is present and in range.
pub fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let date = parse_date_parts(&b[..8])?;
    let (hour, minute, second) = (digits(&b[9..11])?, digits(&b[11..13])?, digits(&b[13..15])?);
    Civil {
        hour,
        minute,
        second,
        ..date
    }
    .to_time()
}

/// Parses `yyyymmdd` into midnight UTC of that day.
pub fn parse_date_stamp(text: &str) -> Option<SystemTime> {
    parse_date_parts(text.as_bytes())?.to_time()
}

/// Parses a policy expiration, `YYYY-MM-DDTHH:MM:SS(.fraction)?Z` with 1–9 fraction digits.
/// Offsets other than `Z` and a space instead of `T` are refused, as S3 refuses them.
pub fn parse_expiration(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = Civil {
        year: i64::from(digits(&b[0..4])?),
        month: digits(&b[5..7])?,
        day: digits(&b[8..10])?,
        hour: digits(&b[11..13])?,
        minute: digits(&b[14..16])?,
        second: digits(&b[17..19])?,
    };
    let nanos = match &b[19..] {
        [b'Z'] => 0,
        [b'.', fraction @ .., b'Z'] if (1..=9).contains(&fraction.len()) => {
            digits(fraction)? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    date.to_time()?.checked_add(Duration::from_nanos(u64::from(nanos)))
}

/// `time` moved into the supported range (years 0000–9999), so it can be formatted and
/// handed to aws-sigv4 without panicking.
pub(crate) fn clamp(time: SystemTime) -> SystemTime {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) if after.as_secs() > LATEST as u64 => from_seconds(LATEST),
        Err(before) if before.duration().as_secs() >= EARLIEST.unsigned_abs() => from_seconds(EARLIEST),
        _ => time,
    }
}

/// `time + duration`, clamped to the supported range instead of overflowing.
pub(crate) fn add_clamped(time: SystemTime, duration: Duration) -> SystemTime {
    time.checked_add(duration).map_or_else(|| from_seconds(LATEST), clamp)
}

/// A UTC calendar date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Civil {
    fn from_seconds(seconds: i64) -> Self {
        let (days, rest) = (seconds.div_euclid(SECONDS_PER_DAY), seconds.rem_euclid(SECONDS_PER_DAY));
        let (year, month, day) = civil_from_days(days);
        let rest = rest as u32; // 0..86_400
        Civil {
            year,
            month,
            day,
            hour: rest / 3600,
            minute: rest / 60 % 60,
            second: rest % 60,
        }
    }

    /// The instant, or `None` if any field is out of range (no leap seconds, as S3).
    fn to_time(self) -> Option<SystemTime> {
        let valid = (0..=9999).contains(&self.year)
            && (1..=12).contains(&self.month)
            && (1..=days_in_month(self.year, self.month)).contains(&self.day)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60;
        valid.then(|| {
            let days = days_from_civil(self.year, self.month, self.day);
            from_seconds(
                days * SECONDS_PER_DAY
                    + i64::from(self.hour) * 3600
                    + i64::from(self.minute) * 60
                    + i64::from(self.second),
            )
        })
    }
}

fn parse_date_parts(b: &[u8]) -> Option<Civil> {
    if b.len() != 8 {
        return None;
    }
    Some(Civil {
        year: i64::from(digits(&b[0..4])?),
        month: digits(&b[4..6])?,
        day: digits(&b[6..8])?,
        hour: 0,
        minute: 0,
        second: 0,
    })
}

/// The value of a run of ASCII digits (at most 9, so it fits); `None` for anything else.
fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    b.iter()
        .try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Seconds from the Unix epoch, rounded down, clamped to the supported range.
fn unix_seconds(time: SystemTime) -> i64 {
    let seconds = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            (-whole).saturating_sub(i64::from(before.subsec_nanos() > 0))
        }
    };
    seconds.clamp(EARLIEST, LATEST)
}

fn from_seconds(seconds: i64) -> SystemTime {
    let magnitude = Duration::from_secs(seconds.unsigned_abs());
    let time = if seconds >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    };
    time.unwrap_or(UNIX_EPOCH)
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm).
const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let month = month as i64;
    let day_of_year = (153 * if month > 2 { month - 3 } else { month + 9 } + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01, as (year, month, day); the inverse of `days_from_civil`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = if days >= 0 { days } else { days - 146_096 } / 146_097;
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> SystemTime {
        from_seconds(seconds)
    }

    #[test]
    fn formats_the_epoch_and_known_instants() {
        assert_eq!(format_amz_date(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(format_date_stamp(UNIX_EPOCH), "19700101");
        assert_eq!(format_expiration(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // AWS's POST example: x-amz-date 20151229T000000Z, expiration 2015-12-30T12:00:00.000Z.
        assert_eq!(format_amz_date(at(1_451_347_200)), "20151229T000000Z");
        assert_eq!(format_expiration(at(1_451_476_800)), "2015-12-30T12:00:00.000Z");
        // 2^31 seconds: the 32-bit rollover.
        assert_eq!(format_amz_date(at(2_147_483_648)), "20380119T031408Z");
    }

    #[test]
    fn sub_second_parts_are_dropped_when_formatting() {
        let time = at(1_451_347_200) + Duration::from_millis(999);
        assert_eq!(format_amz_date(time), "20151229T000000Z");
        assert_eq!(format_expiration(time), "2015-12-29T00:00:00.000Z");
        let before_epoch = UNIX_EPOCH - Duration::from_millis(1);
        assert_eq!(format_amz_date(before_epoch), "19691231T235959Z");
    }

    #[test]
    fn leap_days() {
        // 2000 is a leap year (divisible by 400), 1900 and 2100 are not, 2024 is.
        assert_eq!(parse_date_stamp("20000229"), Some(at(951_782_400)));
        assert_eq!(format_date_stamp(at(951_782_400)), "20000229");
        assert_eq!(format_date_stamp(at(951_782_400 + 86_400)), "20000301");
        assert_eq!(parse_date_stamp("19000229"), None);
        assert_eq!(parse_date_stamp("21000229"), None);
        assert_eq!(parse_date_stamp("20230229"), None);
        assert!(parse_date_stamp("20240229").is_some());
        assert_eq!(
            parse_amz_date("20240229T235959Z").map(format_amz_date).as_deref(),
            Some("20240229T235959Z")
        );
        assert_eq!(
            parse_expiration("2024-02-29T12:00:00Z")
                .map(format_expiration)
                .as_deref(),
            Some("2024-02-29T12:00:00.000Z")
        );
        assert_eq!(parse_expiration("2023-02-29T12:00:00Z"), None);
    }

    #[test]
    fn end_of_year_rolls_over() {
        let last_second = parse_amz_date("19991231T235959Z").expect("valid");
        assert_eq!(
            format_amz_date(last_second + Duration::from_secs(1)),
            "20000101T000000Z"
        );
        let new_year = parse_expiration("2015-12-31T23:59:59.999Z").expect("valid");
        assert_eq!(format_date_stamp(new_year), "20151231");
        assert_eq!(format_date_stamp(new_year + Duration::from_millis(1)), "20160101");
        assert_eq!(
            parse_date_stamp("20151231").map(format_amz_date).as_deref(),
            Some("20151231T000000Z")
        );
        assert_eq!(parse_date_stamp("20151232"), None);
        assert_eq!(parse_date_stamp("20151301"), None);
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        // 1900-01-01 to 2300-01-01 covers every leap-year rule.
        let first = days_from_civil(1900, 1, 1);
        let last = days_from_civil(2300, 1, 1);
        let mut expected = (1900, 1, 1);
        for days in first..last {
            let (year, month, day) = civil_from_days(days);
            assert_eq!((year, month, day), expected);
            assert_eq!(days_from_civil(year, month, day), days);
            expected = if day < days_in_month(year, month) {
                (year, month, day + 1)
            } else if month < 12 {
                (year, month + 1, 1)
            } else {
                (year + 1, 1, 1)
            };
        }
    }

    #[test]
    fn parses_expirations_with_and_without_fractions() {
        let noon = at(1_451_476_800);
        assert_eq!(parse_expiration("2015-12-30T12:00:00.000Z"), Some(noon));
        assert_eq!(parse_expiration("2015-12-30T12:00:00Z"), Some(noon));
        assert_eq!(
            parse_expiration("2015-12-30T12:00:00.5Z"),
            Some(noon + Duration::from_millis(500))
        );
        assert_eq!(
            parse_expiration("2015-12-30T12:00:00.123456789Z"),
            Some(noon + Duration::from_nanos(123_456_789))
        );
        for refused in [
            "2015-12-30T12:00:00.1234567890Z",
            "2015-12-30T12:00:00.Z",
            "2015-12-30T12:00:00+02:00",
            "2015-12-30 12:00:00Z",
            "2015-12-30T12:00:00",
            "2015-12-30T24:00:00Z",
            "2015-12-30T12:60:00Z",
            "2015-12-30T12:00:60Z",
            "2015-00-30T12:00:00Z",
            "+015-12-30T12:00:00Z",
            "2015-12-30T12:00:00.00-Z",
            "2015-12-30T12:00:00ZZ",
            "",
            "2015-12-30T12:00:00Ä",
        ] {
            assert_eq!(parse_expiration(refused), None, "{refused}");
        }
    }

    #[test]
    fn refuses_malformed_amz_dates() {
        for refused in [
            "20151229",
            "20151229T000000",
            "20151229 000000Z",
            "2015122T0000000Z",
            "20151229T240000Z",
            "20151229t000000Z",
            "20151229T00000aZ",
            "+0151229T000000Z",
            "20151229T000000ZZ",
            "２０15122T000000Z",
        ] {
            assert_eq!(parse_amz_date(refused), None, "{refused}");
        }
    }

    #[test]
    fn clamps_to_four_digit_years() {
        let far_future = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(format_amz_date(far_future), "99991231T235959Z");
        assert_eq!(format_amz_date(clamp(far_future)), "99991231T235959Z");
        assert_eq!(
            format_amz_date(add_clamped(far_future, Duration::MAX)),
            "99991231T235959Z"
        );
        let far_past = UNIX_EPOCH - Duration::from_secs(100_000_000_000);
        assert_eq!(format_amz_date(far_past), "00000101T000000Z");
        assert_eq!(format_amz_date(clamp(far_past)), "00000101T000000Z");
        assert_eq!(parse_amz_date("00000101T000000Z"), Some(clamp(far_past)));
        assert_eq!(clamp(UNIX_EPOCH), UNIX_EPOCH);
    }
}
