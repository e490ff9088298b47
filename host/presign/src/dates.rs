//! UTC dates in the three fixed formats SigV4 POST policies use.
//!
//! `x-amz-date` is `yyyymmddThhmmssZ`, the credential scope's date is `yyyymmdd`, and a
//! policy's `expiration` is ISO 8601 (`2015-12-30T12:00:00.000Z`). The calendar is the `time`
//! crate's; what is kept here is the strictness S3 applies (no offset but `Z`, no space for
//! `T`, no sign, 1–9 fraction digits) and the clamping.
//!
//! Times are clamped to years 0000–9999: the formats have four-digit years, and aws-sigv4's
//! signing-key derivation panics on times its date crate cannot represent.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::format_description::BorrowedFormatItem;
use time::macros::{datetime, format_description};
use time::{OffsetDateTime, PrimitiveDateTime};

/// 0000-01-01T00:00:00Z, in seconds from the Unix epoch.
const EARLIEST: i64 = datetime!(0000-01-01 0:00 UTC).unix_timestamp();
/// 9999-12-31T23:59:59Z, in seconds from the Unix epoch.
const LATEST: i64 = datetime!(9999-12-31 23:59:59 UTC).unix_timestamp();

const AMZ_DATE: &[BorrowedFormatItem<'_>] = format_description!("[year][month][day]T[hour][minute][second]Z");
const DATE_STAMP: &[BorrowedFormatItem<'_>] = format_description!("[year][month][day]");
const EXPIRATION: &[BorrowedFormatItem<'_>] = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000Z");
const EXPIRATION_IN: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond digits:1+]]]Z");

/// `time` as `yyyymmddThhmmssZ`, the form of `x-amz-date`.
pub fn format_amz_date(time: SystemTime) -> String {
    format(time, AMZ_DATE)
}

/// `time`'s date as `yyyymmdd`, the form of the credential scope's date.
pub fn format_date_stamp(time: SystemTime) -> String {
    format(time, DATE_STAMP)
}

/// `time` as a policy expiration, `YYYY-MM-DDTHH:MM:SS.000Z`: whole seconds, as AWS's
/// examples write it.
pub fn format_expiration(time: SystemTime) -> String {
    format(time, EXPIRATION)
}

/// Parses `yyyymmddThhmmssZ`; `None` unless every part is present and in range.
pub fn parse_amz_date(text: &str) -> Option<SystemTime> {
    parse(text, AMZ_DATE)
}

/// Parses `yyyymmdd` into midnight UTC of that day.
pub fn parse_date_stamp(text: &str) -> Option<SystemTime> {
    let date = time::Date::parse(unsigned(text)?, DATE_STAMP).ok()?;
    Some(date.midnight().assume_utc().into())
}

/// Parses a policy expiration, `YYYY-MM-DDTHH:MM:SS(.fraction)?Z` with 1–9 fraction digits.
/// Offsets other than `Z` and a space instead of `T` are refused, as S3 refuses them.
pub fn parse_expiration(text: &str) -> Option<SystemTime> {
    // `time` reads any number of fraction digits (keeping nine); S3 refuses more.
    if let Some((_, fraction)) = text.split_once('.')
        && fraction.trim_end_matches('Z').len() > 9
    {
        return None;
    }
    parse(text, EXPIRATION_IN)
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

fn format(time: SystemTime, items: &[BorrowedFormatItem<'_>]) -> String {
    OffsetDateTime::from_unix_timestamp(unix_seconds(time))
        .expect("clamped to years 0000-9999")
        .format(items)
        .expect("every field of the format is in an OffsetDateTime")
}

fn parse(text: &str, items: &[BorrowedFormatItem<'_>]) -> Option<SystemTime> {
    let time = PrimitiveDateTime::parse(unsigned(text)?, items).ok()?;
    Some(time.assume_utc().into())
}

/// `text`, unless it starts with a sign: `time` reads a signed year, S3 does not.
fn unsigned(text: &str) -> Option<&str> {
    text.starts_with(|c: char| c.is_ascii_digit()).then_some(text)
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
        let first = datetime!(1900-01-01 0:00 UTC).unix_timestamp() / 86_400;
        let last = datetime!(2300-01-01 0:00 UTC).unix_timestamp() / 86_400;
        let mut days_in_february_2000 = 0;
        for day in first..last {
            let midnight = at(day * 86_400);
            let stamp = format_date_stamp(midnight);
            assert_eq!(parse_date_stamp(&stamp), Some(midnight), "{stamp}");
            assert_eq!(
                parse_amz_date(&format_amz_date(midnight + Duration::from_secs(86_399))),
                Some(midnight + Duration::from_secs(86_399))
            );
            days_in_february_2000 += i32::from(stamp.starts_with("200002"));
        }
        assert_eq!(days_in_february_2000, 29);
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
