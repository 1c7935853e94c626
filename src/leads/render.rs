//! The forms of a lead list that do not depend on the destination: CSV (RFC 4180, for
//! Excel) and the count per day with a bar each.

use super::{day, rfc3339, Listed};
use std::io::{self, Write};

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 11] = [
    "created",
    "offer",
    "action_code",
    "lead_source",
    "first_name",
    "last_name",
    "company",
    "email",
    "country",
    "test",
    "id",
];

/// Writes leads as CSV: a header, one row a lead, fields quoted where RFC 4180 needs it, CRLF
/// line ends. Rows are written as they come: a long list streams.
pub struct CsvOut<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> CsvOut<W> {
    pub fn new(out: W) -> io::Result<CsvOut<W>> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        w.write_record(CSV_HEADER).map_err(io::Error::other)?;
        Ok(CsvOut { w })
    }

    pub fn write(&mut self, l: &Listed) -> io::Result<()> {
        let created = l.created.map(rfc3339).unwrap_or_default();
        self.w
            .write_record([
                created.as_str(),
                &l.offer,
                &l.action_code,
                &l.lead_source,
                &l.first_name,
                &l.last_name,
                &l.company,
                &l.email,
                &l.country,
                if l.test { "true" } else { "false" },
                &l.id,
            ])
            .map_err(io::Error::other)
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// Leads per day from the day of `since` to the day of `now` (UTC), every day listed, those
/// without a lead as 0; leads without a time, or outside the period, are not counted.
pub fn per_day(
    times: impl IntoIterator<Item = Option<i64>>,
    since: i64,
    now: i64,
) -> Vec<(String, u64)> {
    let first = since.div_euclid(86_400);
    let last = now.div_euclid(86_400).max(first);
    let mut counts = vec![0u64; (last - first + 1) as usize];
    for t in times.into_iter().flatten() {
        let d = t.div_euclid(86_400);
        if (first..=last).contains(&d) && t >= since {
            counts[(d - first) as usize] += 1;
        }
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, n)| (day((first + i as i64) * 86_400), n))
        .collect()
}

/// One line a day: the date, the count, and a bar scaled to the busiest day (`width` cells
/// at most; a day with any lead gets at least one).
pub fn bars(days: &[(String, u64)], width: usize) -> Vec<String> {
    let max = days.iter().map(|d| d.1).max().unwrap_or(0);
    let digits = max.to_string().len();
    days.iter()
        .map(|(d, n)| {
            let cells = if max == 0 {
                0
            } else {
                ((*n as usize * width).div_ceil(max as usize)).min(width)
            };
            format!("{d}  {n:>digits$}  {}", "█".repeat(cells))
                .trim_end()
                .to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leads::{days_from_civil, parse_time};

    #[test]
    fn csv_is_rfc4180_and_reads_back() {
        let tricky = Listed {
            id: "r1".into(),
            created: parse_time("2026-11-02T10:11:12Z"),
            offer: "Contoso \"Pro\", EU".into(),
            first_name: "Zażółć\r\nGęślą".into(),
            company: "株式会社 예시 😀".into(),
            ..Listed::default()
        };
        let mut buf = Vec::new();
        let mut out = CsvOut::new(&mut buf).unwrap();
        out.write(&tricky).unwrap();
        out.write(&Listed::default()).unwrap();
        out.finish().unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with("created,offer,action_code,"));
        assert!(text.contains("\"Contoso \"\"Pro\"\", EU\""), "{text}");
        assert!(text.ends_with("\r\n"));
        // Read back by a CSV parser: the same fields.
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][0], "2026-11-02T10:11:12Z");
        assert_eq!(&rows[0][1], tricky.offer);
        assert_eq!(&rows[0][4], tricky.first_name);
        assert_eq!(&rows[0][6], tricky.company);
        assert_eq!(&rows[1][0], "");
    }

    #[test]
    fn days_and_bars() {
        let d = |m, dd, h: i64| days_from_civil(2026, m, dd).unwrap() + h * 3600;
        let since = d(11, 30, 12);
        let now = d(12, 3, 8);
        let times = [
            Some(d(11, 30, 11)),
            Some(d(11, 30, 13)),
            None,
            Some(d(12, 2, 1)),
            Some(d(12, 2, 2)),
            Some(d(12, 2, 3)),
            Some(d(12, 5, 0)),
        ];
        let days = per_day(times, since, now);
        let counts: Vec<u64> = days.iter().map(|x| x.1).collect();
        // 11:00 on the first day is before the period; the 5th is after it.
        assert_eq!(counts, [1, 0, 3, 0]);
        assert_eq!(days[0].0, "2026-11-30");
        assert_eq!(days[3].0, "2026-12-03");
        let lines = bars(&days, 10);
        assert_eq!(lines[0], "2026-11-30  1  ████");
        assert_eq!(lines[1], "2026-12-01  0");
        assert_eq!(lines[2], "2026-12-02  3  ██████████");
        assert!(bars(&[("2026-12-01".into(), 0)], 10)[0].ends_with(" 0"));
    }
}
