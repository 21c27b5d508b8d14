//! The page's questions about the open file, answered where the file is counted: the page's
//! parsing worker keeps the file it read ([`Held`]) and answers each [`Ask`] with an [`Answer`],
//! so the panels' counting (zones, sites, reticle, retests, pareto, a selection and its test
//! statistics, a test's histogram and box plots per site and per wafer, the sorted test list)
//! never holds the page's thread. Both travel as JSON (serde); answering is pure, so it is
//! tested natively against the functions the CLI calls.

use std::cell::OnceCell;
use std::fmt;

use serde::{Deserialize, Serialize};
use wafer::{DieTable, TestFile};

use crate::histogram::{Bar, bins};
use crate::place::{self, Region, Retests, Reticle, ReticleSpec, Site, Tally, ZoneSpec, Zones};
use crate::{BoxStats, ScopeStats, Summary, TestStats};

/// A question about the held file. `wafer` is an index in file order, `test` one in the test
/// catalogue (`TestFile::tests`); `first_pass`: count each retested die's first attempt, as the
/// map shows it with "first pass" on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ask", rename_all = "kebab-case")]
pub enum Ask {
    /// Yield and bins by ring and quadrant (`place::zones`).
    Zones {
        wafer: usize,
        first_pass: bool,
        spec: ZoneSpec,
    },
    /// Per probe site, over one wafer or every wafer (None), with a test per site when given.
    Sites {
        wafer: Option<usize>,
        first_pass: bool,
        test: Option<usize>,
    },
    /// Yield per position of the stepper's field.
    Reticle {
        wafer: usize,
        first_pass: bool,
        spec: ReticleSpec,
    },
    /// What the retests changed.
    Retests { wafer: usize },
    /// Failing hard bins by count, over the final dies.
    Pareto { wafer: usize },
    /// A region's dies against the rest of the wafer, and a test over both when given.
    Selection {
        wafer: usize,
        first_pass: bool,
        region: Region,
        test: Option<usize>,
    },
    /// A test over one wafer's final results: its histogram's bars, and its box plot per
    /// probe site.
    Distribution { wafer: usize, test: usize },
    /// The test list of one wafer or the file (None), in `order`, its first `first` tests.
    Tests {
        wafer: Option<usize>,
        order: TestOrder,
        first: usize,
    },
    /// A test's box plot per wafer (files of several wafers).
    WaferBoxes { test: usize },
}

/// How the test list is sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestOrder {
    /// Most fails first: what fails most.
    Fails,
    /// Lowest Cpk first, tests without one last: what is closest to its limit.
    Cpk,
    Number,
}

impl Ask {
    /// The wafer it is about (None: every wafer): a panel keeps showing its last answer while
    /// a newer ask about the same wafer is counted, not one about another wafer.
    pub fn wafer(&self) -> Option<usize> {
        match self {
            Ask::Sites { wafer, .. } => *wafer,
            Ask::Zones { wafer, .. }
            | Ask::Reticle { wafer, .. }
            | Ask::Retests { wafer }
            | Ask::Pareto { wafer }
            | Ask::Selection { wafer, .. }
            | Ask::Distribution { wafer, .. } => Some(*wafer),
            Ask::Tests { wafer, .. } => *wafer,
            Ask::WaferBoxes { .. } => None,
        }
    }
}

/// The answer to an [`Ask`] of the same name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    Zones(Zones),
    Sites(Vec<Site>),
    Reticle(Reticle),
    Retests(Retests),
    /// (hard bin, dies), most dies first.
    Pareto(Vec<(u16, usize)>),
    Selection(Box<Selection>),
    Distribution(Distribution),
    Tests(TestList),
    /// (wafer id, box), in file order; a wafer without a finite result has none.
    WaferBoxes(Vec<(String, BoxStats)>),
}

/// The first tests of a sorted list, and how many there are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestList {
    pub total: usize,
    pub tests: Vec<TestStats>,
}

/// A test's values over a wafer, as its charts draw them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// `histogram::bins` of the wafer's results and the test's limits (empty: no finite one).
    pub bars: Vec<Bar>,
    /// ((head, site), box), sites in order; a site without a finite result has none.
    pub sites: Vec<((u8, u8), BoxStats)>,
}

/// A region of a wafer against the rest of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub selection: Tally,
    pub rest: Tally,
    /// The test asked for: inside, then outside.
    pub test: Option<[Summary; 2]>,
}

/// An ask about something the file does not have: the page asked about another file (a bug),
/// or a hostile message. Said, never a panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AskError {
    NoWafer(usize),
    NoTest(usize),
}

impl fmt::Display for AskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AskError::NoWafer(i) => write!(f, "no wafer {i} in this file"),
            AskError::NoTest(t) => write!(f, "no test {t} in this file's catalogue"),
        }
    }
}

impl std::error::Error for AskError {}

/// A file kept to answer asks about it, with each wafer's first pass made once, when first
/// asked for.
pub struct Held {
    pub file: TestFile,
    first: Vec<OnceCell<DieTable>>,
    scopes: OnceCell<Vec<ScopeStats>>,
}

impl Held {
    pub fn new(file: TestFile) -> Held {
        let first = file.wafers.iter().map(|_| OnceCell::new()).collect();
        Held {
            file,
            first,
            scopes: OnceCell::new(),
        }
    }

    /// Every test's statistics per wafer, then over the file (`crate::scopes`), computed once.
    pub fn scopes(&self) -> &[ScopeStats] {
        self.scopes.get_or_init(|| crate::scopes(&self.file))
    }

    fn wafer(&self, i: usize) -> Result<&wafer::Wafer, AskError> {
        self.file.wafers.get(i).ok_or(AskError::NoWafer(i))
    }

    fn test(&self, t: usize) -> Result<crate::Limits, AskError> {
        let info = self.file.tests.tests.get(t).ok_or(AskError::NoTest(t))?;
        Ok(crate::limits(info))
    }

    /// Wafer `i`'s dies as the map shows them: final, or their first pass.
    fn dies(&self, i: usize, first_pass: bool) -> Result<&DieTable, AskError> {
        let w = self.wafer(i)?;
        Ok(if first_pass {
            self.first[i].get_or_init(|| w.first_pass_dies())
        } else {
            &w.dies
        })
    }

    pub fn answer(&self, ask: &Ask) -> Result<Answer, AskError> {
        Ok(match ask {
            Ask::Zones {
                wafer,
                first_pass,
                spec,
            } => {
                let dies = self.dies(*wafer, *first_pass)?;
                Answer::Zones(place::zones(self.wafer(*wafer)?, *spec, dies))
            }
            Ask::Sites {
                wafer,
                first_pass,
                test,
            } => {
                let tables = match wafer {
                    Some(i) => vec![self.dies(*i, *first_pass)?],
                    None => self.file.wafers.iter().map(|w| &w.dies).collect(),
                };
                let test = test.map(|t| Ok((t, self.test(t)?))).transpose()?;
                Answer::Sites(place::sites(&tables, test))
            }
            Ask::Reticle {
                wafer,
                first_pass,
                spec,
            } => Answer::Reticle(place::reticle(self.dies(*wafer, *first_pass)?, *spec)),
            Ask::Retests { wafer } => {
                let first = self.dies(*wafer, true)?;
                Answer::Retests(place::retests(self.wafer(*wafer)?, first))
            }
            Ask::Pareto { wafer } => {
                Answer::Pareto(place::fail_pareto(&[self.dies(*wafer, false)?]))
            }
            Ask::Selection {
                wafer,
                first_pass,
                region,
                test,
            } => {
                let d = self.dies(*wafer, *first_pass)?;
                let limits = test.map(|t| Ok((t, self.test(t)?))).transpose()?;
                Answer::Selection(Box::new(selection(d, region, limits)))
            }
            Ask::Distribution { wafer, test } => {
                let limits = self.test(*test)?;
                let d = self.dies(*wafer, false)?;
                let values: Vec<f64> = d.values(*test).map(f64::from).collect();
                let sites = place::site_rows(d)
                    .into_iter()
                    .filter_map(|(site, rows)| {
                        Some((site, BoxStats::of(rows.iter().map(|&r| values[r]))?))
                    })
                    .collect();
                Answer::Distribution(Distribution {
                    bars: bins(&values, limits.low, limits.high).unwrap_or_default(),
                    sites,
                })
            }
            Ask::Tests {
                wafer,
                order,
                first,
            } => {
                let at = match wafer {
                    Some(i) => self.wafer(*i).map(|_| *i)?,
                    None => self.file.wafers.len(),
                };
                let scope = self.scopes().get(at).map_or(&[][..], |s| &s.tests[..]);
                Answer::Tests(TestList {
                    total: scope.len(),
                    tests: sorted(scope, *order, *first),
                })
            }
            Ask::WaferBoxes { test } => {
                self.test(*test)?;
                let number = self.file.tests.tests[*test].number;
                let boxes = self
                    .scopes()
                    .iter()
                    .filter_map(|s| {
                        let k = s.tests.iter().position(|x| x.number == number)?;
                        Some((s.wafer.clone()?, (*s.boxes.get(k)?)?))
                    })
                    .collect();
                Answer::WaferBoxes(boxes)
            }
        })
    }
}

/// The first `first` of `tests` in `order` (a stable sort: catalogue order among equals).
fn sorted(tests: &[TestStats], order: TestOrder, first: usize) -> Vec<TestStats> {
    let mut v: Vec<&TestStats> = tests.iter().collect();
    match order {
        TestOrder::Number => v.sort_by_key(|t| t.number),
        TestOrder::Fails => v.sort_by_key(|t| std::cmp::Reverse(t.summary.fails)),
        TestOrder::Cpk => v.sort_by(|a, b| {
            let key = |t: &TestStats| t.summary.cpk.unwrap_or(f64::INFINITY);
            key(a).total_cmp(&key(b))
        }),
    }
    v.into_iter().take(first).cloned().collect()
}

/// `region`'s dies of `d` against the others, and test `t` over both.
fn selection(d: &DieTable, region: &Region, test: Option<(usize, crate::Limits)>) -> Selection {
    let mut inside = vec![false; d.len()];
    for r in region.rows(d) {
        inside[r] = true;
    }
    let inside = &inside;
    let rows = |want: bool| (0..d.len()).filter(move |&r| inside[r] == want);
    let summary = |want: bool, (t, limits): (usize, crate::Limits)| {
        crate::summarize(rows(want).map(|r| f64::from(d.value(t, r))), limits)
    };
    Selection {
        selection: Tally::of(d, rows(true)),
        rest: Tally::of(d, rows(false)),
        test: test.map(|t| [summary(true, t), summary(false, t)]),
    }
}

#[cfg(test)]
mod tests;
