//! What a read of a destination adds up to, kept in memory that does not grow with the
//! number of leads: the N newest (a bounded heap), the counts, the newest time, the count per
//! day of the period.

use super::Listed;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// A lead ordered by its time, then its id (leads without a time are the oldest).
#[derive(Debug)]
struct ByTime(Listed);

impl ByTime {
    fn key(&self) -> (i64, &str) {
        (self.0.created.unwrap_or(i64::MIN), self.0.id.as_str())
    }
}

impl PartialEq for ByTime {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for ByTime {}
impl PartialOrd for ByTime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByTime {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// Leads per day over a period, from the day of `since` to the day of `now` (UTC).
#[derive(Debug, Clone)]
pub struct Days {
    since: i64,
    first: i64,
    counts: Vec<u64>,
}

impl Days {
    pub fn new(since: i64, now: i64) -> Days {
        let first = since.div_euclid(86_400);
        let last = now.div_euclid(86_400).max(first);
        Days {
            since,
            first,
            counts: vec![0; (last - first + 1) as usize],
        }
    }

    /// Counts a lead written at `t`; outside the period it is not counted.
    pub fn add(&mut self, t: i64) {
        let d = t.div_euclid(86_400) - self.first;
        if t >= self.since && (0..self.counts.len() as i64).contains(&d) {
            self.counts[d as usize] += 1;
        }
    }

    /// Every day of the period (`YYYY-MM-DD`) with its count, days without a lead as 0.
    pub fn list(&self) -> Vec<(String, u64)> {
        self.counts
            .iter()
            .enumerate()
            .map(|(i, n)| (super::day((self.first + i as i64) * 86_400), *n))
            .collect()
    }
}

/// The sum of one destination's leads.
#[derive(Debug)]
pub struct Tally {
    /// How many of the newest to keep (0: none are kept; they are streamed instead).
    keep: usize,
    newest: BinaryHeap<Reverse<ByTime>>,
    /// Leads read (in the period).
    pub leads: u64,
    /// Of them, test leads.
    pub tests: u64,
    /// The newest lead's time.
    pub last: Option<i64>,
    /// The newest customer lead's time (not a test lead).
    pub last_customer: Option<i64>,
    pub days: Option<Days>,
}

impl Tally {
    pub fn new(keep: usize, days: Option<Days>) -> Tally {
        Tally {
            keep,
            newest: BinaryHeap::with_capacity(keep.min(10_000) + 1),
            leads: 0,
            tests: 0,
            last: None,
            last_customer: None,
            days,
        }
    }

    pub fn add(&mut self, lead: Listed) {
        self.leads += 1;
        if lead.test {
            self.tests += 1;
        }
        if let Some(t) = lead.created {
            self.last = self.last.max(Some(t));
            if !lead.test {
                self.last_customer = self.last_customer.max(Some(t));
            }
            if let Some(days) = &mut self.days {
                days.add(t);
            }
        }
        if self.keep == 0 {
            return;
        }
        let lead = ByTime(lead);
        if self.newest.len() < self.keep {
            self.newest.push(Reverse(lead));
        } else if self.newest.peek().is_some_and(|Reverse(min)| lead > *min) {
            self.newest.pop();
            self.newest.push(Reverse(lead));
        }
    }

    /// The kept leads, newest first.
    pub fn newest_first(&mut self) -> Vec<Listed> {
        let mut v: Vec<ByTime> = std::mem::take(&mut self.newest)
            .into_iter()
            .map(|Reverse(l)| l)
            .collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.into_iter().map(|l| l.0).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(id: &str, t: Option<i64>, test: bool) -> Listed {
        Listed {
            id: id.into(),
            created: t,
            test,
            ..Listed::default()
        }
    }

    #[test]
    fn keeps_the_newest_in_order() {
        let mut t = Tally::new(3, None);
        for (i, at) in [5, 1, 9, 3, 7, 9].into_iter().enumerate() {
            t.add(lead(&format!("l{i}"), Some(at), i == 2));
        }
        t.add(lead("none", None, false));
        assert_eq!(t.leads, 7);
        assert_eq!(t.tests, 1);
        assert_eq!(t.last, Some(9));
        assert_eq!(t.last_customer, Some(9));
        let ids: Vec<String> = t.newest_first().into_iter().map(|l| l.id).collect();
        // Two at 9: the id breaks the tie, the larger first.
        assert_eq!(ids, ["l5", "l2", "l4"]);
    }

    #[test]
    fn keeping_none_streams() {
        let mut t = Tally::new(0, None);
        t.add(lead("a", Some(1), true));
        assert!(t.newest_first().is_empty());
        assert_eq!((t.leads, t.tests, t.last_customer), (1, 1, None));
    }
}
