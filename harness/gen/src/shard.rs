//! Fuzzing across machines: a run's case space `0..cases` split into `N` contiguous
//! shards, one per CI job, and their summaries merged back into one.
//!
//! A case is a function of `(seed, index)` alone (see [`crate::fuzz`]), so shard `i`
//! of `N` running indices `[i·cases/N, (i+1)·cases/N)` does exactly what one run of
//! `0..cases` does for those indices; [`merge`] checks that the shards it is given
//! come from the same run and cover `0..cases` exactly once.

use crate::fuzz::{CaseClass, ClassStats, Summary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;

/// Shard `index` (0-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parses `I/N` with `1 <= I <= N` (as CI matrices number their jobs).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let err = || format!("`{s}` is not a shard: write I/N with 1 <= I <= N, e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(err)?;
        let (i, n): (u64, u64) = (
            i.trim().parse().map_err(|_| err())?,
            n.trim().parse().map_err(|_| err())?,
        );
        if n == 0 || i == 0 || i > n {
            return Err(err());
        }
        Ok(Shard {
            index: i - 1,
            count: n,
        })
    }

    /// The case indices this shard runs out of `0..cases`.
    pub fn range(self, cases: u64) -> Range<u64> {
        let at = |k: u64| ((k as u128 * cases as u128) / self.count as u128) as u64;
        at(self.index)..at(self.index + 1)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

/// What identifies a run: shards merge only when all of this is the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunKey {
    pub seed: u64,
    /// The day generation and date rules used, `YYYY-MM-DD`.
    pub today: String,
    /// The schema set's id and hash, as `eioa schema list` prints it.
    pub schema_set: String,
    /// The classes, in the order that assigns case `i` to `classes[i % len]`.
    pub classes: Vec<String>,
    /// The whole run's case count.
    pub cases: u64,
}

/// One surprise, as a summary file keeps it (the document itself is written as a
/// regression fixture by the job that found it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurpriseLine {
    pub class: String,
    pub index: u64,
    pub case_seed: u64,
    pub kind: String,
    pub detail: String,
}

/// Per-class counts, as a summary file keeps them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub cases: u64,
    pub as_expected: u64,
    pub surprises: u64,
}

impl From<ClassStats> for Counts {
    fn from(s: ClassStats) -> Counts {
        Counts {
            cases: s.cases,
            as_expected: s.as_expected,
            surprises: s.surprises,
        }
    }
}

/// A shard's (or a merged run's) summary file: `eioa fuzz --summary-json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSummary {
    pub run: RunKey,
    /// The case indices covered, as half-open ranges, sorted and disjoint.
    pub covered: Vec<(u64, u64)>,
    pub per_class: BTreeMap<String, Counts>,
    pub cases: u64,
    /// Sorted by index.
    pub surprises: Vec<SurpriseLine>,
}

impl ShardSummary {
    /// The summary of a run over `range`.
    pub fn of(run: RunKey, range: Range<u64>, summary: &Summary) -> ShardSummary {
        ShardSummary {
            run,
            covered: vec![(range.start, range.end)],
            per_class: summary
                .per_class
                .iter()
                .map(|(c, s)| (c.name().to_string(), Counts::from(*s)))
                .collect(),
            cases: summary.cases,
            surprises: summary
                .surprises
                .iter()
                .map(|s| SurpriseLine {
                    class: s.class.name().to_string(),
                    index: s.index,
                    case_seed: s.case_seed,
                    kind: s.kind.name().to_string(),
                    detail: s.detail.clone(),
                })
                .collect(),
        }
    }

    /// Whether the covered ranges are exactly `0..run.cases`.
    pub fn complete(&self) -> bool {
        self.covered == [(0, self.run.cases)] || (self.run.cases == 0 && self.covered.is_empty())
    }
}

/// Why summaries cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("no summaries to merge")]
    Empty,
    #[error("summary {which} is from another run ({field} differs: {a} vs {b})")]
    OtherRun {
        which: usize,
        field: &'static str,
        a: String,
        b: String,
    },
    #[error("cases {start}..{end} are covered twice")]
    Overlap { start: u64, end: u64 },
    #[error("a summary says it ran {said} cases but covers {covered}")]
    Inconsistent { said: u64, covered: u64 },
}

/// Merges shard summaries of one run. Missing ranges are allowed (a job may not have
/// finished) and show in `covered`; [`ShardSummary::complete`] says whether none is.
pub fn merge(parts: &[ShardSummary]) -> Result<ShardSummary, MergeError> {
    let first = parts.first().ok_or(MergeError::Empty)?;
    let mut ranges = Vec::new();
    let mut per_class: BTreeMap<String, Counts> = BTreeMap::new();
    let mut surprises = Vec::new();
    let mut cases = 0;
    for (which, p) in parts.iter().enumerate() {
        let k = (&first.run, &p.run);
        let differs = |field: &'static str, a: String, b: String| {
            Err(MergeError::OtherRun {
                which: which + 1,
                field,
                a,
                b,
            })
        };
        if k.0.seed != k.1.seed {
            return differs("seed", k.0.seed.to_string(), k.1.seed.to_string());
        }
        if k.0.today != k.1.today {
            return differs("today", k.0.today.clone(), k.1.today.clone());
        }
        if k.0.schema_set != k.1.schema_set {
            return differs("schema set", k.0.schema_set.clone(), k.1.schema_set.clone());
        }
        if k.0.classes != k.1.classes {
            return differs("classes", k.0.classes.join(","), k.1.classes.join(","));
        }
        if k.0.cases != k.1.cases {
            return differs("cases", k.0.cases.to_string(), k.1.cases.to_string());
        }
        let covered: u64 = p.covered.iter().map(|(a, b)| b.saturating_sub(*a)).sum();
        if covered != p.cases {
            return Err(MergeError::Inconsistent {
                said: p.cases,
                covered,
            });
        }
        ranges.extend(p.covered.iter().copied());
        for (c, n) in &p.per_class {
            let t = per_class.entry(c.clone()).or_default();
            t.cases += n.cases;
            t.as_expected += n.as_expected;
            t.surprises += n.surprises;
        }
        surprises.extend(p.surprises.iter().cloned());
        cases += p.cases;
    }
    ranges.retain(|(a, b)| a < b);
    ranges.sort_unstable();
    let mut covered: Vec<(u64, u64)> = Vec::new();
    for (a, b) in ranges {
        match covered.last_mut() {
            Some(last) if a < last.1 => {
                return Err(MergeError::Overlap {
                    start: a,
                    end: b.min(last.1),
                })
            }
            Some(last) if a == last.1 => last.1 = b,
            _ => covered.push((a, b)),
        }
    }
    surprises.sort_by_key(|s| s.index);
    Ok(ShardSummary {
        run: first.run.clone(),
        covered,
        per_class,
        cases,
        surprises,
    })
}

/// The run key of a configuration.
pub fn run_key(cfg: &crate::fuzz::FuzzConfig, schema_set: String, cases: u64) -> RunKey {
    RunKey {
        seed: cfg.seed,
        today: cfg.today.to_string(),
        schema_set,
        classes: cfg
            .classes
            .iter()
            .map(|c: &CaseClass| c.name().to_string())
            .collect(),
        cases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_tile_the_case_space() {
        for cases in [0u64, 1, 7, 35, 1000, 1001] {
            for n in 1..=9 {
                let mut next = 0;
                for i in 1..=n {
                    let r = Shard::parse(&format!("{i}/{n}")).unwrap().range(cases);
                    assert_eq!(r.start, next, "{i}/{n} of {cases}");
                    assert!(r.end - r.start <= cases / n + 1);
                    next = r.end;
                }
                assert_eq!(next, cases);
            }
        }
    }

    #[test]
    fn bad_shards_are_refused() {
        for s in ["0/3", "4/3", "1/0", "x/2", "2", "-1/2", "1/2/3"] {
            assert!(Shard::parse(s).is_err(), "{s}");
        }
        assert_eq!(Shard::parse("3/4").unwrap().to_string(), "3/4");
    }
}
