//! The first pass of a wafer: what the first PRR at each retested die said, and the results it
//! came with, kept beside the final dies (`Wafer::first_pass`, `Wafer::first_results`) so a
//! viewer can show the map before the retests, by bin or by a test's values, and what they
//! changed.

use crate::column::Column;
use crate::model::{DieTable, Verdict, Wafer};

/// What the first PRR at a retested die's (x, y) said; the die's row holds the last one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FirstPass {
    pub row: u32,
    pub hard_bin: u16,
    pub soft_bin: u16,
    pub verdict: Verdict,
}

/// One result of a retested die's first attempt: test `test` (catalogue index) read `value` on
/// row `row`. A wafer keeps them sorted by row, then test.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FirstResult {
    pub row: u32,
    pub test: u32,
    pub value: f32,
}

impl Wafer {
    /// Move this wafer to another test catalogue: `to(old)` is each test's new number. Its
    /// dies' columns and its first attempts' results both name tests, so both move (and stay
    /// in order): a wafer given a new catalogue through here cannot keep a stale number.
    pub fn renumber_tests(&mut self, to: impl Fn(u32) -> u32) {
        self.dies.renumber_tests(&to);
        if let Some(first) = &mut self.first_results {
            first.iter_mut().for_each(|r| r.test = to(r.test));
            first.sort_unstable_by_key(|r| (r.row, r.test));
        }
    }

    /// The dies as their first attempt left them: retested dies take their first PRR's bins,
    /// verdict and test results (a test the first attempt did not run has no result there;
    /// where the first results are not known, the final ones stay).
    pub fn first_pass_dies(&self) -> DieTable {
        let mut d = self.dies.clone();
        for f in &self.first_pass {
            let r = f.row as usize;
            if r < d.len() {
                d.hard_bin[r] = f.hard_bin;
                d.soft_bin[r] = f.soft_bin;
                d.verdict[r] = f.verdict;
            }
        }
        let Some(results) = &self.first_results else {
            return d;
        };
        if self.first_pass.is_empty() {
            return d;
        }
        // The final attempt's results on retested rows go; the first attempt's come back. One
        // look per stored cell (a wafer of 40k dies and 1,000 tests has 40M).
        let mut retested = vec![false; d.len()];
        for f in &self.first_pass {
            if let Some(r) = retested.get_mut(f.row as usize) {
                *r = true;
            }
        }
        for c in &mut d.columns {
            c.clear_where(|r| retested.get(r as usize) == Some(&true));
        }
        for f in results {
            if f.row as usize >= d.len() {
                continue;
            }
            let i = match d.columns.binary_search_by_key(&f.test, |c| c.test) {
                Ok(i) => i,
                Err(i) => {
                    // A test only the first attempt ran.
                    d.columns.insert(i, Column::new(f.test));
                    i
                }
            };
            d.columns[i].set(f.row, f.value);
        }
        d
    }

    /// Retested dies whose hard bin differs between the first attempt and the final one.
    pub fn bin_changes(&self) -> impl Iterator<Item = &FirstPass> {
        self.first_pass
            .iter()
            .filter(|f| self.dies.hard_bin.get(f.row as usize) != Some(&f.hard_bin))
    }
}
