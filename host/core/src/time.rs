//! Times as the API, the CLI and the job messages write them.

use time::OffsetDateTime;
use time::macros::format_description;

/// `2026-11-26T13:36:56.123Z` for milliseconds since the Unix epoch (UTC); times past year
/// 9999 are written as 9999-12-31T23:59:59.999Z.
pub fn rfc3339(ms: u64) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    let nanos = i128::from(ms) * 1_000_000;
    let time = OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .filter(|t| t.year() <= 9999)
        .unwrap_or(time::macros::datetime!(9999-12-31 23:59:59.999 UTC));
    time.format(format)
        .expect("every field of the format is in an OffsetDateTime")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_with_milliseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_700_216_123), "2026-11-26T13:36:56.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(u64::MAX), "9999-12-31T23:59:59.999Z");
    }
}
