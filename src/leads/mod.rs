//! `leadcheck leads`: the marketplace leads a destination holds, read back (read-only).
//!
//! [`cmd`] runs the command; [`source`] has one reader per destination type behind one
//! trait (see [`table`] for Azure Table), each turning its records into [`Listed`];
//! [`tally`] sums a read up in bounded memory; [`render`] has the formats; [`watch`] polls
//! for new leads. This file has a lead as listed, the `--since` period and timestamps.

pub mod cmd;
pub mod dynamics;
pub mod marketo;
pub mod render;
pub mod salesforce;
pub mod source;
pub mod table;
pub mod tally;
pub mod watch;

use crate::lead::{civil_from_ticks, TICKS_AT_UNIX_EPOCH};
use serde::Serialize;

/// One lead as `leads` shows it: the fields the marketplace writes, in every format.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Listed {
    /// The destination's key of the record (Azure Table: the RowKey).
    pub id: String,
    /// When the marketplace wrote it (UTC), as Unix seconds.
    #[serde(serialize_with = "ser_time")]
    pub created: Option<i64>,
    pub offer: String,
    pub action_code: String,
    pub lead_source: String,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub email: String,
    pub country: String,
    /// A test lead: the marketplace's own (`MSFT_TEST_...` in its customer fields) or
    /// leadcheck's.
    pub test: bool,
}

/// The marker of every test lead's customer fields.
const TEST_MARKER: &str = "MSFT_TEST_";

impl Listed {
    /// Marks the lead as a test lead when one of its customer fields holds the marker.
    pub fn mark_test(&mut self) {
        self.test = [
            &self.first_name,
            &self.last_name,
            &self.company,
            &self.email,
            &self.id,
        ]
        .iter()
        .any(|f| f.starts_with(TEST_MARKER));
    }
}

fn ser_time<S: serde::Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&rfc3339(*t)),
        None => s.serialize_none(),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` of Unix seconds (before 1970 clamps to it).
pub fn rfc3339(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `YYYY-MM-DD` of Unix seconds (UTC).
pub fn day(secs: i64) -> String {
    let (y, mo, d, ..) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}")
}

fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    civil_from_ticks(TICKS_AT_UNIX_EPOCH + secs.max(0) as u64 * 10_000_000)
}

/// Unix seconds at the start of a civil date (UTC); `None` for a date that does not exist.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d == 0 || d > days_in[m as usize - 1] {
        return None;
    }
    // Howard Hinnant's days-from-civil, the inverse of the one in `lead`.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp as i64 + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

/// A timestamp as the table service and the marketplace write it: `YYYY-MM-DDTHH:MM:SS`,
/// optional fraction, `Z` (or no zone: UTC). `None` for anything else.
pub fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || !matches!(b[10], b'T' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let day = parse_date(&s[..10])??;
    let (h, mi, sec) = (digits(s, 11..13)?, digits(s, 14..16)?, digits(s, 17..19)?);
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let rest = &s[19..];
    let rest = rest.strip_suffix('Z').unwrap_or(rest);
    let frac = rest.strip_prefix('.').unwrap_or(rest);
    if !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(day + i64::from(h * 3600 + mi * 60 + sec))
}

/// The start of the period `--since` names: `Nd` (N days before `now`) or a date
/// `YYYY-MM-DD` (its start, UTC). The error says what is accepted.
pub fn parse_since(s: &str, now: i64) -> Result<i64, String> {
    let bad = || format!("--since {s:?} is neither a number of days (7d) nor a date (2026-11-01)");
    if let Some(n) = s.strip_suffix('d') {
        let n: i64 = n.parse().map_err(|_| bad())?;
        if !(0..=36_500).contains(&n) {
            return Err(format!("--since {s}: give between 0d and 36500d"));
        }
        return Ok(now - n * 86_400);
    }
    match parse_date(s) {
        // A day still to come would list nothing and, worse, say "no lead since", which
        // reads like a broken destination; say the date is wrong instead.
        Some(Some(start)) if start > now => Err(format!(
            "--since {s} is in the future (today is {})",
            day(now)
        )),
        Some(start) => start.ok_or_else(|| format!("--since {s}: no such date")),
        None => Err(bad()),
    }
}

/// `YYYY-MM-DD`: `None` when `s` has not that shape, `Some(None)` for a date that does not
/// exist, else the Unix seconds at its start (UTC).
fn parse_date(s: &str) -> Option<Option<i64>> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(s, 0..4)?, digits(s, 5..7)?, digits(s, 8..10)?);
    Some(days_from_civil(i64::from(y), m, d))
}

/// The number written in `s[r]`, ASCII digits only (`parse` would take a sign).
fn digits(s: &str, r: std::ops::Range<usize>) -> Option<u32> {
    let t = s.get(r)?;
    t.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| t.parse().ok())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2026, 2, 29), None);
        assert_eq!(
            days_from_civil(2024, 2, 29).map(day).as_deref(),
            Some("2024-02-29")
        );
        for t in [0, 951_782_400, 1_700_000_000, 1_795_000_123] {
            assert_eq!(parse_time(&rfc3339(t)), Some(t), "{t}");
        }
        assert_eq!(
            parse_time("2026-11-02T10:11:12.1234567Z"),
            parse_time("2026-11-02T10:11:12Z")
        );
        for bad in [
            "",
            "2026-11-02",
            "2026-13-02T00:00:00Z",
            "2026-11-02T25:00:00Z",
            "x".repeat(30).as_str(),
            "2026-11-02T10:11:12+01:00",
            "2026-+1-02T10:11:12Z",
            "2026-11-02T+1:11:12Z",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn since() {
        let now = days_from_civil(2026, 12, 7).unwrap() + 3600;
        assert_eq!(parse_since("7d", now), Ok(now - 7 * 86_400));
        assert_eq!(
            parse_since("2026-11-01", now),
            Ok(days_from_civil(2026, 11, 1).unwrap())
        );
        // Today is a period that has begun; tomorrow is refused.
        assert!(parse_since("2026-12-07", now).is_ok());
        assert!(parse_since("2026-12-08", now)
            .unwrap_err()
            .contains("in the future (today is 2026-12-07)"));
        for bad in [
            "7",
            "d",
            "-1d",
            "2026-02-30",
            "2026/11/01",
            "2026-+1-01",
            "一周",
            "７d",
            "2026-12-08",
        ] {
            let e = parse_since(bad, now).unwrap_err();
            assert!(e.starts_with("--since"), "{e}");
        }
    }

    #[test]
    fn test_leads_are_marked() {
        let mut l = Listed {
            email: "MSFT_TEST_636@test.com".into(),
            ..Listed::default()
        };
        l.mark_test();
        assert!(l.test);
        l.email = "ana@contoso.com".into();
        l.mark_test();
        assert!(!l.test);
    }
}
