//! The first pass of a wafer: what the first PRR at each retested die said, kept beside the final
//! dies (`Wafer::first_pass`) so a viewer can show the map before the retests and what they
//! changed.

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

impl Wafer {
    /// The dies as their first attempt left them: retested dies take their first PRR's bins and
    /// verdict. Test results stay the final ones (the reader keeps only those).
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
        d
    }

    /// Retested dies whose hard bin differs between the first attempt and the final one.
    pub fn bin_changes(&self) -> impl Iterator<Item = &FirstPass> {
        self.first_pass
            .iter()
            .filter(|f| self.dies.hard_bin.get(f.row as usize) != Some(&f.hard_bin))
    }
}
