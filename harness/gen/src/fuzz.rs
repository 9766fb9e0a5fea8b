//! The fuzz driver: generated cases, each validated and compared with its expected
//! classification and with the model's strict parser (a second, independent oracle).
//!
//! A case is a function of `(seed, index)` alone, so a run is reproducible whatever
//! the number of threads. A *surprise* (a valid notification rejected, a mutation
//! accepted or classified differently, the two oracles disagreeing, a round-trip
//! difference or a panic) is shrunk with proptest and can be written as a regression
//! fixture.

use crate::mutate::{self, Expected, Mutated, MutationClass};
use crate::strategy::{self, runner_for_seed};
use eioa_model::Notification;
use eioa_validate::{Severity, Validator};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use time::Date;

/// What a case exercises: a valid notification, or one mutation class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseClass {
    Valid,
    Mutation(MutationClass),
}

impl CaseClass {
    /// `valid` followed by every mutation class.
    pub fn all() -> Vec<CaseClass> {
        std::iter::once(CaseClass::Valid)
            .chain(MutationClass::ALL.iter().copied().map(CaseClass::Mutation))
            .collect()
    }
    pub fn name(self) -> &'static str {
        match self {
            CaseClass::Valid => "valid",
            CaseClass::Mutation(m) => m.name(),
        }
    }
    pub fn by_name(name: &str) -> Option<CaseClass> {
        if name == "valid" {
            Some(CaseClass::Valid)
        } else {
            MutationClass::by_name(name).map(CaseClass::Mutation)
        }
    }
}

/// One generated case: the notification and, for a mutation class, the mutated document.
#[derive(Debug, Clone)]
pub struct Case {
    pub notification: Notification,
    pub mutated: Option<Mutated>,
}

impl Case {
    pub fn bytes(&self) -> Vec<u8> {
        match &self.mutated {
            Some(m) => m.bytes.clone(),
            None => self.notification.to_xml().into_bytes(),
        }
    }
    pub fn expected(&self) -> Expected {
        self.mutated
            .as_ref()
            .map_or_else(Expected::valid, |m| m.mutation.expected.clone())
    }
}

/// The proptest strategy for one class's cases.
pub fn case_strategy(class: CaseClass, today: Date) -> BoxedStrategy<Case> {
    match class {
        CaseClass::Valid => strategy::notification(today)
            .prop_map(|notification| Case {
                notification,
                mutated: None,
            })
            .boxed(),
        CaseClass::Mutation(m) => mutate::mutated(m, today)
            .prop_map(|(notification, mutated)| Case {
                notification,
                mutated: Some(mutated),
            })
            .boxed(),
    }
}

/// What kind of surprise a case produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SurpriseKind {
    ValidRejected,
    MutationAccepted,
    Misclassified,
    OracleDisagreement,
    RoundTrip,
    Panic,
}

impl SurpriseKind {
    pub fn name(self) -> &'static str {
        match self {
            SurpriseKind::ValidRejected => "valid-rejected",
            SurpriseKind::MutationAccepted => "mutation-accepted",
            SurpriseKind::Misclassified => "misclassified",
            SurpriseKind::OracleDisagreement => "oracle-disagreement",
            SurpriseKind::RoundTrip => "round-trip",
            SurpriseKind::Panic => "panic",
        }
    }
}

/// How a document was classified.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Classification {
    pub errors: BTreeSet<String>,
    pub s001_kinds: BTreeSet<String>,
    /// The model's strict parser's verdict; `None` when an `X` finding (the document
    /// is not a usable XML text) takes the question away.
    pub model_accepts: Option<bool>,
    pub libxml_accepts: bool,
}

impl Classification {
    pub fn describe(&self) -> String {
        let e = Expected {
            errors: self.errors.clone(),
            s001_kinds: Some(self.s001_kinds.clone()),
        };
        let model = match self.model_accepts {
            Some(true) => "accept",
            Some(false) => "reject",
            None => "n/a",
        };
        format!("{}; model={model}", e.describe())
    }

    /// Whether this classification is `expected`, and the two oracles agree.
    pub fn matches(&self, expected: &Expected) -> bool {
        self.errors == expected.errors
            && expected
                .s001_kinds
                .as_ref()
                .is_none_or(|k| *k == self.s001_kinds)
    }

    pub fn oracles_agree(&self) -> bool {
        self.model_accepts.is_none_or(|m| m == self.libxml_accepts)
    }
}

/// Validates `bytes` and asks the model's parser too.
pub fn observe(validator: &Validator, bytes: &[u8]) -> Classification {
    let report = validator.validate(bytes);
    let errors = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.rule.clone())
        .collect();
    let s001: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "EIOA-S001")
        .collect();
    let s001_kinds = s001
        .iter()
        .map(|f| f.kind.clone().unwrap_or_else(|| "other".into()))
        .collect();
    let any_x = report.findings.iter().any(|f| f.rule.starts_with("EIOA-X"));
    let model_accepts = if any_x {
        None
    } else {
        std::str::from_utf8(bytes)
            .ok()
            .map(|s| Notification::from_xml(s).is_ok())
    };
    Classification {
        errors,
        s001_kinds,
        model_accepts,
        libxml_accepts: s001.is_empty(),
    }
}

/// A case that did not behave as defined.
#[derive(Debug, Clone)]
pub struct Surprise {
    pub class: CaseClass,
    pub index: u64,
    pub case_seed: u64,
    pub kind: SurpriseKind,
    pub document: Vec<u8>,
    pub expected: Expected,
    pub observed: Classification,
    /// The mutation's detail, or the panic message, or the round-trip difference.
    pub detail: String,
}

/// Checks one case; `Err` names the surprise.
pub fn evaluate(
    validator: &Validator,
    case: &Case,
) -> Result<Classification, (SurpriseKind, Classification, String)> {
    let bytes = case.bytes();
    let expected = case.expected();
    let observed = observe(validator, &bytes);
    let detail = case
        .mutated
        .as_ref()
        .map_or_else(|| case.notification.branch(), |m| m.mutation.detail.clone());
    if !observed.matches(&expected) {
        let kind = if case.mutated.is_none() {
            SurpriseKind::ValidRejected
        } else if observed.errors.is_empty() {
            SurpriseKind::MutationAccepted
        } else {
            SurpriseKind::Misclassified
        };
        return Err((kind, observed, detail));
    }
    if !observed.oracles_agree() {
        return Err((SurpriseKind::OracleDisagreement, observed, detail));
    }
    if case.mutated.is_none() {
        let xml = case.notification.to_xml();
        match Notification::from_xml(&xml) {
            Ok(back) if back == case.notification => {}
            Ok(_) => {
                return Err((
                    SurpriseKind::RoundTrip,
                    observed,
                    "read back differently".into(),
                ))
            }
            Err(e) => return Err((SurpriseKind::RoundTrip, observed, e.to_string())),
        }
    }
    Ok(observed)
}

fn guarded(
    validator: &Validator,
    case: &Case,
) -> Result<Classification, (SurpriseKind, Classification, String)> {
    catch_unwind(AssertUnwindSafe(|| evaluate(validator, case))).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        Err((SurpriseKind::Panic, Classification::default(), msg))
    })
}

/// The per-case seed: a SplitMix64 step over the run seed and the case index.
pub fn case_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Settings of a fuzz run.
#[derive(Debug, Clone)]
pub struct FuzzConfig {
    pub seed: u64,
    pub today: Date,
    /// Case `i` exercises `classes[i % classes.len()]`.
    pub classes: Vec<CaseClass>,
    /// Upper bound on shrink steps for one surprise.
    pub max_shrink_steps: u32,
}

impl FuzzConfig {
    pub fn new(seed: u64, today: Date) -> FuzzConfig {
        FuzzConfig {
            seed,
            today,
            classes: CaseClass::all(),
            max_shrink_steps: 2048,
        }
    }
}

/// Runs cases on one thread; holds that thread's strategies.
#[derive(Debug)]
pub struct Worker<'a> {
    cfg: &'a FuzzConfig,
    validator: &'a Validator,
    strategies: Vec<BoxedStrategy<Case>>,
}

impl<'a> Worker<'a> {
    pub fn new(cfg: &'a FuzzConfig, validator: &'a Validator) -> Worker<'a> {
        let strategies = cfg
            .classes
            .iter()
            .map(|c| case_strategy(*c, cfg.today))
            .collect();
        Worker {
            cfg,
            validator,
            strategies,
        }
    }

    pub fn class_of(&self, index: u64) -> CaseClass {
        self.cfg.classes[(index % self.cfg.classes.len() as u64) as usize]
    }

    /// Runs case `index`; a surprise comes back shrunk.
    pub fn run(&self, index: u64) -> Result<(), Box<Surprise>> {
        let slot = (index % self.cfg.classes.len() as u64) as usize;
        let class = self.cfg.classes[slot];
        let seed = case_seed(self.cfg.seed, index);
        let mut runner = runner_for_seed(seed);
        let tree = catch_unwind(AssertUnwindSafe(|| {
            self.strategies[slot].new_tree(&mut runner)
        }));
        let not_generated = |detail: String| {
            Box::new(Surprise {
                class,
                index,
                case_seed: seed,
                kind: SurpriseKind::Panic,
                document: Vec::new(),
                expected: Expected::valid(),
                observed: Classification::default(),
                detail,
            })
        };
        let mut tree = match tree {
            Ok(Ok(t)) => t,
            Ok(Err(reason)) => {
                return Err(not_generated(format!(
                    "no case could be generated: {reason}"
                )))
            }
            Err(_) => return Err(not_generated("generation panicked".into())),
        };
        let case = tree.current();
        let Err((kind, observed, detail)) = guarded(self.validator, &case) else {
            return Ok(());
        };
        // Shrink: keep simplifying while the same kind of surprise persists.
        let mut best = (case, observed, detail);
        let mut steps = 0;
        if tree.simplify() {
            while steps < self.cfg.max_shrink_steps {
                steps += 1;
                let c = tree.current();
                match guarded(self.validator, &c) {
                    Err((k, o, d)) if k == kind => {
                        best = (c, o, d);
                        if !tree.simplify() {
                            break;
                        }
                    }
                    _ => {
                        if !tree.complicate() {
                            break;
                        }
                    }
                }
            }
        }
        let (case, observed, detail) = best;
        Err(Box::new(Surprise {
            class,
            index,
            case_seed: seed,
            kind,
            document: case.bytes(),
            expected: case.expected(),
            observed,
            detail,
        }))
    }
}

/// Counts for one class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassStats {
    pub cases: u64,
    /// Cases classified exactly as defined (for `valid`: accepted).
    pub as_expected: u64,
    pub surprises: u64,
}

/// When a run stops.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// Cases `0..n`.
    Cases(u64),
    /// Cases `start..end`: one shard of a larger run (see [`crate::shard`]).
    Indices {
        start: u64,
        end: u64,
    },
    Time(Duration),
}

/// The outcome of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub per_class: BTreeMap<CaseClass, ClassStats>,
    pub cases: u64,
    pub elapsed: Duration,
    /// Sorted by case index.
    pub surprises: Vec<Surprise>,
}

impl Summary {
    pub fn cases_per_second(&self) -> f64 {
        self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs cases `0..` (or a budget's `start..`) on `threads` threads sharing
/// `validator`, until the budget is spent. `progress` is called now and then with the number of cases done.
pub fn run(
    cfg: &FuzzConfig,
    validator: &Validator,
    threads: usize,
    budget: Budget,
    progress: &(dyn Fn(u64) + Sync),
) -> Summary {
    let started = Instant::now();
    let next = AtomicU64::new(match budget {
        Budget::Indices { start, .. } => start,
        _ => 0,
    });
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                let worker = Worker::new(cfg, validator);
                let mut stats: BTreeMap<CaseClass, ClassStats> = BTreeMap::new();
                let mut surprises = Vec::new();
                let mut cases = 0u64;
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    match budget {
                        Budget::Cases(n) | Budget::Indices { end: n, .. } if i >= n => break,
                        Budget::Time(t) if started.elapsed() >= t => {
                            stop.store(true, Ordering::Relaxed);
                            break;
                        }
                        _ => {}
                    }
                    let class = worker.class_of(i);
                    let st = stats.entry(class).or_default();
                    st.cases += 1;
                    match worker.run(i) {
                        Ok(()) => st.as_expected += 1,
                        Err(s) => {
                            st.surprises += 1;
                            surprises.push(*s);
                        }
                    }
                    cases += 1;
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if d % 256 == 0 {
                        progress(d);
                    }
                }
                if let Ok(mut r) = results.lock() {
                    r.push((stats, surprises, cases));
                }
            });
        }
    });
    let mut summary = Summary {
        elapsed: started.elapsed(),
        ..Summary::default()
    };
    for (stats, surprises, cases) in results.into_inner().unwrap_or_default() {
        for (c, s) in stats {
            let t = summary.per_class.entry(c).or_default();
            t.cases += s.cases;
            t.as_expected += s.as_expected;
            t.surprises += s.surprises;
        }
        summary.surprises.extend(surprises);
        summary.cases += cases;
    }
    summary.surprises.sort_by_key(|s| s.index);
    progress(summary.cases);
    summary
}

fn comment_safe(s: &str) -> String {
    let mut s = s.replace("--", "- -");
    if s.ends_with('-') {
        s.push(' ');
    }
    s
}

/// The marker that starts a regression fixture's trailer.
pub const EXPECT_MARKER: &str = "\n<!-- expect: ";

/// The fixture text for a surprise: the document, then an `expect` comment (what the
/// definition requires) and a `fuzz` comment (seed, what was observed, status).
pub fn regression_fixture(s: &Surprise, cfg: &FuzzConfig) -> Vec<u8> {
    let mut out = s.document.clone();
    let trailer = format!(
        "{EXPECT_MARKER}{}; oracles=agree -->\n<!-- fuzz: class={}; seed={}; run-seed={}; index={}; today={}; surprise={}; observed {}; status=open; detail={} -->\n",
        s.expected.describe(),
        s.class.name(),
        s.case_seed,
        cfg.seed,
        s.index,
        cfg.today,
        s.kind.name(),
        s.observed.describe(),
        comment_safe(&s.detail),
    );
    out.extend_from_slice(trailer.as_bytes());
    out
}

/// Writes `<class>-<seed>.xml` into `dir`.
pub fn write_regression(dir: &Path, s: &Surprise, cfg: &FuzzConfig) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{}-{}.xml", s.class.name(), s.case_seed));
    std::fs::write(&path, regression_fixture(s, cfg))?;
    Ok(path)
}

/// A regression fixture read back.
#[derive(Debug, Clone)]
pub struct Regression {
    pub document: Vec<u8>,
    pub expected: Expected,
    pub today: Date,
    /// `open`: a known, not yet fixed surprise; the fixture then records it.
    pub open: bool,
    /// What was observed when the fixture was written (`errors=…; s001-kinds=…; model=…`).
    pub observed: String,
}

/// Parses a fixture written by [`write_regression`].
pub fn read_regression(bytes: &[u8]) -> Option<Regression> {
    let marker = EXPECT_MARKER.as_bytes();
    let at = bytes.windows(marker.len()).rposition(|w| w == marker)?;
    let document = bytes[..at].to_vec();
    let trailer = std::str::from_utf8(&bytes[at..]).ok()?;
    let expect_line = trailer.lines().nth(1)?;
    let expect = expect_line
        .strip_prefix("<!-- expect: ")?
        .trim_end_matches("-->")
        .trim();
    let expect = expect.trim_end_matches("; oracles=agree");
    let expected = Expected::parse(expect)?;
    let fuzz = trailer.lines().nth(2).unwrap_or("");
    let field = |name: &str| {
        fuzz.split("; ")
            .find_map(|p| p.trim_start_matches("<!-- fuzz: ").strip_prefix(name))
            .map(str::to_string)
    };
    let today = field("today=")
        .and_then(|t| {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            Date::parse(&t, &fmt).ok()
        })
        .unwrap_or(crate::DEFAULT_TODAY);
    let open = field("status=").is_some_and(|s| s == "open");
    let observed = fuzz
        .split_once("observed ")
        .and_then(|(_, r)| r.split_once("; status="))
        .map(|(o, _)| o.to_string())
        .unwrap_or_default();
    Some(Regression {
        document,
        expected,
        today,
        open,
        observed,
    })
}
