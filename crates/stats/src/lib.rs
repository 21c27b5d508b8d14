//! Test statistics over a file's final dies, defined once for the CLI (`waferscope stats`) and
//! the page: for each parametric test, count, fails, mean, sigma, min/max, the 5th, 50th and 95th
//! percentiles, and Cp and Cpk against the test's limits.
//!
//! The rules, where tools differ:
//! - A die without a result for the test (NaN in its column) is not counted.
//! - A clamped result (an infinite value: the tester railed) counts, and fails against a limit
//!   on its side, but stays out of the mean, sigma, percentiles, min and max, which it would
//!   make infinite or meaningless.
//! - A result fails when it is below the low limit or above the high limit; on a limit passes.
//! - `sigma` is the sample standard deviation (n - 1); undefined under two finite values.
//! - Percentiles interpolate linearly between the closest ranks (rank `(n - 1) p`, numpy's and
//!   R type 7's default).
//! - `cp` = (high - low) / 6 sigma, with both limits; `cpk` = the smaller of (high - mean) / 3
//!   sigma and (mean - low) / 3 sigma over the limits there are (one-sided with one limit),
//!   undefined with none, or when sigma is undefined or zero.
//!
//! Anything undefined is `None` (null in JSON), never NaN.

use serde::{Deserialize, Serialize};
use wafer::{DieTable, TestFile, TestKind};

pub mod ask;
pub mod histogram;
pub mod place;
pub use place::{Lasso, Rect, Region, Retests, Reticle, ReticleSpec, Site, Tally, ZoneSpec, Zones};

/// A test's limits; either may be missing.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl Limits {
    fn fails(&self, v: f64) -> bool {
        self.low.is_some_and(|l| v < l) || self.high.is_some_and(|h| v > h)
    }
}

/// A test's limits as the tester compares them, in f32: a result equal to its limit passes.
pub fn limits(t: &wafer::TestInfo) -> Limits {
    Limits {
        low: t.lo_limit.map(f64::from),
        high: t.hi_limit.map(f64::from),
    }
}

/// The statistics of one test over one scope.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Results, clamped ones included.
    pub count: usize,
    pub fails: usize,
    pub mean: Option<f64>,
    pub sigma: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub p05: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub cp: Option<f64>,
    pub cpk: Option<f64>,
}

/// What a box plot draws of one test over one scope: the finite results' extremes and quartiles
/// (interpolated as the percentiles are, and as plotters does).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoxStats {
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

impl BoxStats {
    /// The box of `values` (non-finite ones left out); None when none is finite.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<BoxStats> {
        let mut v: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        BoxStats::of_sorted(&v)
    }

    fn of_sorted(v: &[f64]) -> Option<BoxStats> {
        Some(BoxStats {
            min: *v.first()?,
            q1: percentile(v, 0.25),
            median: percentile(v, 0.5),
            q3: percentile(v, 0.75),
            max: *v.last()?,
        })
    }
}

/// Summarise `values` against `limits` (see the crate's rules).
pub fn summarize(values: impl IntoIterator<Item = f64>, limits: Limits) -> Summary {
    summarize_with_box(values, limits).0
}

/// [`summarize`] and the box plot of the same values, from one sort.
pub fn summarize_with_box(
    values: impl IntoIterator<Item = f64>,
    limits: Limits,
) -> (Summary, Option<BoxStats>) {
    let mut finite = Vec::new();
    let (mut count, mut fails) = (0, 0);
    for v in values {
        if v.is_nan() {
            continue;
        }
        count += 1;
        fails += usize::from(limits.fails(v));
        if v.is_finite() {
            finite.push(v);
        }
    }
    let n = finite.len();
    if n == 0 {
        let s = Summary {
            count,
            fails,
            ..Summary::default()
        };
        return (s, None);
    }
    // Two passes in f64: the mean first, then the squares about it (no cancellation).
    let mean = finite.iter().sum::<f64>() / n as f64;
    let sigma = (n >= 2).then(|| {
        let ss: f64 = finite.iter().map(|v| (v - mean) * (v - mean)).sum();
        (ss / (n - 1) as f64).sqrt()
    });
    finite.sort_by(f64::total_cmp);
    let spread = sigma.filter(|s| *s > 0.0);
    let cp = match (limits.low, limits.high, spread) {
        (Some(l), Some(h), Some(s)) => Some((h - l) / (6.0 * s)),
        _ => None,
    };
    let cpk = spread.and_then(|s| {
        let upper = limits.high.map(|h| (h - mean) / (3.0 * s));
        let lower = limits.low.map(|l| (mean - l) / (3.0 * s));
        match (upper, lower) {
            (Some(u), Some(l)) => Some(u.min(l)),
            (one, other) => one.or(other),
        }
    });
    let s = Summary {
        count,
        fails,
        mean: Some(mean),
        sigma,
        min: finite.first().copied(),
        max: finite.last().copied(),
        p05: Some(percentile(&finite, 0.05)),
        p50: Some(percentile(&finite, 0.50)),
        p95: Some(percentile(&finite, 0.95)),
        cp,
        cpk,
    };
    (s, BoxStats::of_sorted(&finite))
}

/// The `p` quantile of sorted, non-empty `v`, interpolated between the closest ranks.
fn percentile(v: &[f64], p: f64) -> f64 {
    let h = (v.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// One test's statistics, as `waferscope stats --json` writes them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestStats {
    pub number: u32,
    pub name: String,
    pub units: String,
    pub low_limit: Option<f64>,
    pub high_limit: Option<f64>,
    #[serde(flatten)]
    pub summary: Summary,
}

/// What cannot be summarised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatsError {
    NoSuchWafer(String),
    NoSuchTest(u32),
}

impl std::fmt::Display for StatsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatsError::NoSuchWafer(id) => write!(f, "no wafer {id:?} in this file"),
            StatsError::NoSuchTest(n) => {
                write!(f, "test {n} has no parametric results in this scope")
            }
        }
    }
}

impl std::error::Error for StatsError {}

/// Every parametric test with a result in scope (or test number `only_test`), over the final
/// result of each die: one wafer's dies, or without `wafer` every wafer's and the parts outside
/// any wafer (what `waferscope export` writes). In catalogue order.
pub fn of_file(
    file: &TestFile,
    wafer: Option<&str>,
    only_test: Option<u32>,
) -> Result<Vec<TestStats>, StatsError> {
    over(file, &scope_tables(file, wafer)?, only_test)
}

/// Die tables, each whole (None) or only some of its rows.
type Scope<'a> = Vec<(&'a DieTable, Option<&'a [usize]>)>;

/// The tables of one wafer, or of every wafer and the parts outside any.
fn scope_tables<'a>(file: &'a TestFile, wafer: Option<&str>) -> Result<Scope<'a>, StatsError> {
    let tables: Vec<&DieTable> = match wafer {
        Some(id) => vec![
            &file
                .wafer(id)
                .ok_or_else(|| StatsError::NoSuchWafer(id.into()))?
                .dies,
        ],
        None => file
            .wafers
            .iter()
            .map(|w| &w.dies)
            .chain((!file.loose_parts.is_empty()).then_some(&file.loose_parts))
            .collect(),
    };
    Ok(tables.into_iter().map(|d| (d, None)).collect())
}

/// Every parametric test's statistics over rows `rows` of wafer `wafer` (a selection on its map).
pub fn of_rows(
    file: &TestFile,
    wafer: &str,
    rows: &[usize],
    only_test: Option<u32>,
) -> Result<Vec<TestStats>, StatsError> {
    let w = file
        .wafer(wafer)
        .ok_or_else(|| StatsError::NoSuchWafer(wafer.into()))?;
    over(file, &[(&w.dies, Some(rows))], only_test)
}

/// The tests over `scope`: tables, each whole (None) or only some of its rows.
fn over(
    file: &TestFile,
    scope: &[(&DieTable, Option<&[usize]>)],
    only_test: Option<u32>,
) -> Result<Vec<TestStats>, StatsError> {
    let out = over_with_boxes(file, scope, only_test)?;
    Ok(out.into_iter().map(|(t, _)| t).collect())
}

/// [`over`], each test with its box plot.
fn over_with_boxes(
    file: &TestFile,
    scope: &[(&DieTable, Option<&[usize]>)],
    only_test: Option<u32>,
) -> Result<Vec<(TestStats, Option<BoxStats>)>, StatsError> {
    let out: Vec<(TestStats, Option<BoxStats>)> = file
        .tests
        .tests
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == TestKind::Parametric)
        .filter(|(_, t)| only_test.is_none_or(|n| t.number == n))
        .filter(|(i, _)| scope.iter().any(|(d, _)| d.has_test(*i)))
        .map(|(i, t)| {
            let limits = limits(t);
            let values = scope
                .iter()
                .flat_map(|&(d, rows)| -> Box<dyn Iterator<Item = f64>> {
                    match (d.column(i), rows) {
                        (None, _) => Box::new(std::iter::empty()),
                        (Some(c), None) => Box::new(c.iter().map(|(_, v)| f64::from(v))),
                        (Some(c), Some(rows)) => {
                            Box::new(rows.iter().map(|&r| f64::from(c.get(r))))
                        }
                    }
                });
            let (summary, boxed) = summarize_with_box(values, limits);
            let stats = TestStats {
                number: t.number,
                name: t.name.clone(),
                units: t.units.clone(),
                low_limit: t.lo_limit.map(decimal),
                high_limit: t.hi_limit.map(decimal),
                summary,
            };
            (stats, boxed)
        })
        .collect();
    match only_test {
        Some(n) if out.is_empty() => Err(StatsError::NoSuchTest(n)),
        _ => Ok(out),
    }
}

/// Every test's statistics over one scope: a wafer (by id), or the whole file (None).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScopeStats {
    pub wafer: Option<String>,
    pub tests: Vec<TestStats>,
    /// Each test's box plot, in `tests`' order, for the page's box plot per wafer (so it sorts
    /// nothing): wafer scopes of a file of several wafers only, empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boxes: Vec<Option<BoxStats>>,
}

/// The statistics of every scope a viewer shows: each wafer, then the whole file. Computed once
/// per file (the page's parsing worker does it off the main thread).
pub fn scopes(file: &TestFile) -> Vec<ScopeStats> {
    let wafers = file.wafers.iter().map(|w| Some(w.id.as_str()));
    wafers
        .chain([None])
        .map(|id| {
            let (tests, mut boxes): (Vec<_>, Vec<_>) = scope_tables(file, id)
                .and_then(|scope| over_with_boxes(file, &scope, None))
                .unwrap_or_default()
                .into_iter()
                .unzip();
            // Nobody draws them: not worth their bytes to the page (Flex_3: 1,352 tests).
            if id.is_none() || file.wafers.len() < 2 {
                boxes.clear();
            }
            ScopeStats {
                wafer: id.map(str::to_string),
                tests,
                boxes,
            }
        })
        .collect()
}

/// A limit as the tester wrote it (-0.4, not -0.4000000059604645): the shortest decimal that
/// reads back as the same f32, for people to read. Fails, Cp and Cpk use the f32 itself.
fn decimal(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

/// The JSON document of `waferscope stats --json`: `{"tests": [...]}`.
#[derive(Serialize)]
pub struct Report<'a> {
    pub tests: &'a [TestStats],
}

#[cfg(test)]
mod tests;
