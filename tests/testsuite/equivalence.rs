//! The redesigned triage pipeline (prefilter on compact keys, batches on every core) gives
//! the same codes as the pipeline before it, record by record, on every fixture message and
//! on fixture messages mixed into ordinary tickets, except for the changes listed, with
//! their reason, in `fixtures/equivalence/intended.txt`.

use crate::support::{fixture, leadcheck};
use serde_json::Value;
use std::collections::BTreeMap;

fn codes_by_record(jsonl: &str) -> BTreeMap<u64, Vec<String>> {
    jsonl
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| {
            let n = v.get("record")?.as_u64()?;
            let codes = v
                .get("codes")?
                .as_array()?
                .iter()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect();
            Some((n, codes))
        })
        .collect()
}

#[test]
fn same_codes_as_before_except_the_intended_changes() {
    let input = fixture("equivalence/input.txt");
    let before = codes_by_record(
        &std::fs::read_to_string(fixture("equivalence/before.jsonl")).expect("before.jsonl"),
    );
    let mut intended: BTreeMap<u64, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for line in std::fs::read_to_string(fixture("equivalence/intended.txt"))
        .expect("intended.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (n, rest) = line
            .split_once(':')
            .expect("`record: before -> after: why`");
        let (change, _why) = rest.split_once(':').expect("a reason after the codes");
        let (b, a) = change.split_once("->").expect("`before -> after`");
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        intended.insert(
            n.trim().parse().expect("record number"),
            (words(b), words(a)),
        );
    }

    let out = leadcheck()
        .args(["triage", "--format", "json"])
        .arg(&input)
        .output()
        .expect("run leadcheck");
    let after = codes_by_record(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(after.len(), before.len(), "one line per record");

    let mut unexpected = Vec::new();
    for (n, was) in &before {
        let now = &after[n];
        match intended.get(n) {
            Some((b, a)) => {
                assert_eq!(b, was, "intended.txt: record {n} had other codes before");
                if a != now {
                    unexpected.push(format!("record {n}: intended {a:?}, got {now:?}"));
                }
            }
            None if was != now => unexpected.push(format!("record {n}: {was:?} -> {now:?}")),
            None => {}
        }
    }
    assert!(
        unexpected.is_empty(),
        "{} records changed without a line in fixtures/equivalence/intended.txt:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}
