//! How PRRs become rows of a [`DieTable`] while a file is decoded, with memory that follows the
//! records read.
//!
//! - A row's results go to [`Column`]s found through a per-table map from catalogue index to
//!   column, so a table holds only the tests it has results for (a wafer with no dies costs
//!   nothing per test of the catalogue).
//! - A retest replaces a die's results. Results of the earlier attempt that the retest did not
//!   repeat must end as NaN. Clearing them on every retest would cost a pass over all columns per
//!   PRR (quadratic in a hostile file), so the retests' writes are remembered instead and
//!   [`TableBuilder::finish`] clears the stale cells in one pass over the stored cells.
//!
//! Not for: deciding which table a PRR belongs to (the decoder does that).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::fields::text;
use crate::column::Column;
use crate::model::*;

/// Multiplicative hashing for small integer keys (test numbers, packed x/y): the keys are not
/// attacker-chosen in a way that matters (a hostile file can only slow its own parse), and
/// SipHash would cost a third of the PTR path.
#[derive(Default, Clone, Copy)]
pub(super) struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = (v as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

pub(super) type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// The decoder's side of one [`DieTable`] (a wafer's dies, or the loose parts).
#[derive(Default)]
pub(super) struct TableBuilder {
    /// Packed (x, y) -> row, for wafers (a second PRR at the same place is a retest).
    pub rows: IntMap<u32, u32>,
    /// Catalogue index -> index into the table's columns.
    columns: IntMap<u32, u32>,
    /// Row -> attempt number, for retested rows only (`attempts` saturates at 255; this does not).
    attempt: IntMap<u32, u32>,
    /// (column, row) -> the attempt that wrote it, for writes to retested rows.
    retest_writes: IntMap<u64, u32>,
    /// The first attempt of each retested row, in the order of their first retest.
    first: Vec<FirstPass>,
    /// Their results, in the same order.
    first_results: Vec<FirstResult>,
}

/// One PRR's fields, on their way into a [`DieTable`].
pub(super) struct Row<'a> {
    pub x: i16,
    pub y: i16,
    pub hard_bin: u16,
    pub soft_bin: u16,
    pub verdict: Verdict,
    pub head: u8,
    pub site: u8,
    pub test_time_ms: u32,
    pub part_id: &'a [u8],
}

impl Row<'_> {
    fn part_id(&self) -> std::borrow::Cow<'_, str> {
        match std::str::from_utf8(self.part_id) {
            Ok(s) => s.trim_end_matches([' ', '\0']).into(),
            Err(_) => text(self.part_id).into(),
        }
    }
}

impl TableBuilder {
    /// Append `row` with its results (catalogue index, value). Returns how many columns it added.
    pub fn push(&mut self, t: &mut DieTable, row: &Row, results: &[(u32, f32)]) -> usize {
        let r = t.len();
        t.x.push(row.x);
        t.y.push(row.y);
        t.hard_bin.push(row.hard_bin);
        t.soft_bin.push(row.soft_bin);
        t.verdict.push(row.verdict);
        t.head.push(row.head);
        t.site.push(row.site);
        t.test_time_ms.push(row.test_time_ms);
        t.attempts.push(1);
        t.part_id.push(&row.part_id());
        self.write(t, r as u32, results, None)
    }

    /// A retest of table row `r`: its fields and results replace the earlier attempt's. Returns
    /// how many columns it added.
    pub fn overwrite(
        &mut self,
        t: &mut DieTable,
        r: u32,
        row: &Row,
        results: &[(u32, f32)],
    ) -> usize {
        let i = r as usize;
        if !self.attempt.contains_key(&r) {
            self.first.push(FirstPass {
                row: r,
                hard_bin: t.hard_bin[i],
                soft_bin: t.soft_bin[i],
                verdict: t.verdict[i],
            });
            // Only the first attempt has written this row so far: its results are the row's.
            // One look per column, once per retested die (a retest storm of one die pays it
            // once); they cost no more than the results that made them.
            for c in &t.columns {
                let value = c.get(i);
                if !value.is_nan() {
                    self.first_results.push(FirstResult {
                        row: r,
                        test: c.test,
                        value,
                    });
                }
            }
        }
        t.hard_bin[i] = row.hard_bin;
        t.soft_bin[i] = row.soft_bin;
        t.verdict[i] = row.verdict;
        t.head[i] = row.head;
        t.site[i] = row.site;
        t.test_time_ms[i] = row.test_time_ms;
        t.attempts[i] = t.attempts[i].saturating_add(1);
        t.part_id.set(i, &row.part_id());
        let attempt = self.attempt.entry(r).or_insert(1);
        *attempt += 1;
        let attempt = *attempt;
        self.write(t, r, results, Some(attempt))
    }

    #[inline]
    fn write(
        &mut self,
        t: &mut DieTable,
        r: u32,
        results: &[(u32, f32)],
        retest: Option<u32>,
    ) -> usize {
        let before = t.columns.len();
        for (k, &(test, v)) in results.iter().enumerate() {
            // Dies of one program report their tests in the same order: the k-th result of this
            // die usually goes to the k-th column, which saves the map lookup.
            let c = match t.columns.get(k) {
                Some(col) if col.test == test => k,
                _ => *self.columns.entry(test).or_insert_with(|| {
                    t.columns.push(Column::new(test));
                    (t.columns.len() - 1) as u32
                }) as usize,
            };
            t.columns[c].set(r, v);
            if let Some(a) = retest {
                self.retest_writes.insert((c as u64) << 32 | r as u64, a);
            }
        }
        t.columns.len() - before
    }

    /// Clear what retests left stale, sort the columns by test and resolve unknown verdicts from
    /// the hard-bin table. Returns the retested rows' first attempts, by row, and their results,
    /// by row and test.
    pub fn finish(
        mut self,
        t: &mut DieTable,
        bins: &BinTable,
    ) -> (Vec<FirstPass>, Vec<FirstResult>) {
        if !self.attempt.is_empty() {
            for (c, col) in t.columns.iter_mut().enumerate() {
                col.clear_where(|r| match self.attempt.get(&r) {
                    None => false,
                    Some(&last) => {
                        self.retest_writes.get(&((c as u64) << 32 | r as u64)) != Some(&last)
                    }
                });
            }
        }
        t.columns.sort_unstable_by_key(|c| c.test);
        let resolve = |v: &mut Verdict, hb: &u16| {
            if *v == Verdict::Unknown {
                *v = match bins.hard.get(hb).and_then(|b| b.pass) {
                    Some(true) => Verdict::Pass,
                    Some(false) => Verdict::Fail,
                    None => Verdict::Unknown,
                };
            }
        };
        for (v, hb) in t.verdict.iter_mut().zip(&t.hard_bin) {
            resolve(v, hb);
        }
        for f in &mut self.first {
            resolve(&mut f.verdict, &f.hard_bin);
        }
        self.first.sort_unstable_by_key(|f| f.row);
        self.first_results.sort_unstable_by_key(|f| (f.row, f.test));
        (self.first, self.first_results)
    }
}
