//! What the local stand-ins name and format as AWS does, in one place: the
//! account, request ids, API Gateway's time formats and query strings. Every
//! other module of the runtime reads these; this one reads none of them, so
//! the gateway, the HTTP API, IAM, Lambda and its processes do not reach into
//! each other for a constant.

use chrono::{DateTime, SecondsFormat, Utc};

/// The account the local stack runs as (ARNs, `AWS::AccountId`).
pub const LOCAL_ACCOUNT: &str = "123456789012";

/// A request id as API Gateway and Lambda give one: unique, here a ULID.
pub fn new_request_id() -> String {
    ulid::Ulid::generate().to_string()
}

fn utc(ms: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(i64::MAX)).unwrap_or_default()
}

/// RFC 3339 in UTC to the second: `2026-11-22T17:00:00Z`.
pub fn rfc3339(ms: u64) -> String {
    utc(ms).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// API Gateway's `requestTime`: `22/Nov/2026:17:00:00 +0000`.
pub fn request_time(ms: u64) -> String {
    utc(ms).format("%d/%b/%Y:%H:%M:%S %z").to_string()
}

/// A URL query's (or a form body's) decoded name/value pairs, in order,
/// repeats included.
pub fn query_pairs(raw: &str) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(raw.as_bytes()).map(|(name, value)| (name.into_owned(), value.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_api_gateway_writes_them() {
        let ms = 1_795_366_800_123; // 2026-11-22T17:00:00.123Z
        assert_eq!(rfc3339(ms), "2026-11-22T17:00:00Z");
        assert_eq!(request_time(ms), "22/Nov/2026:17:00:00 +0000");
        assert_eq!(request_time(0), "01/Jan/1970:00:00:00 +0000");
    }

    #[test]
    fn query_strings_decode_plus_and_percent_and_keep_repeats() {
        let pairs: Vec<_> = query_pairs("token=a%2Bb&x=1+2&token=c&flag").collect();
        let expected = [("token", "a+b"), ("x", "1 2"), ("token", "c"), ("flag", "")];
        assert_eq!(pairs, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
    }
}
