//! One test's results over the rows of a [`DieTable`](crate::DieTable), stored so that what a file
//! costs in memory follows what it holds.
//!
//! A real test runs on nearly every die: its column is a plain `f32` run (NaN where a die has no
//! result), starting at the first row that has one. A hostile file can give each die a new test,
//! or one result at row 0 and one at row 1,000,000: a dense column would then cost far more than
//! the records that made it. So a column stays dense only while its span is at most
//! two cells per result written plus a little, and turns into sorted `(row, value)`
//! pairs beyond that. Every result comes from a PTR of at least 16 bytes, so a column costs at most
//! a small multiple of the bytes that made it (see `tests/hostile.rs` for the measured multiple).
//!
//! Not for: the test catalogue (names, limits): that is [`TestCatalogue`](crate::TestCatalogue).

/// A dense column may span at most this many rows per result written, plus [`DENSE_EXTRA`].
const DENSE_SLACK: u64 = 2;
const DENSE_EXTRA: u64 = 8;

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
enum Cells {
    /// `values[i]` is row `first + i`.
    Dense { first: u32, values: Vec<f32> },
    /// Sorted by row, one entry per row.
    Sparse(Vec<(u32, f32)>),
}

/// A column's cells as stored: dense from a first row, or sorted (row, value) pairs.
#[cfg(feature = "pack")]
pub(crate) enum RawCells<'a> {
    Dense(u32, &'a [f32]),
    Sparse(&'a [(u32, f32)]),
}

/// [`RawCells`], owned.
#[cfg(feature = "pack")]
pub(crate) enum OwnedCells {
    Dense(u32, Vec<f32>),
    Sparse(Vec<(u32, f32)>),
}

/// The results of catalogue entry [`Column::test`] on one table; NaN for rows without one.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Column {
    /// Index into [`TestCatalogue::tests`](crate::TestCatalogue::tests).
    pub test: u32,
    cells: Cells,
    /// Results written (overwrites included): what the column's size is allowed to follow.
    written: u64,
}

impl Column {
    pub fn new(test: u32) -> Column {
        Column {
            test,
            cells: Cells::Dense {
                first: 0,
                values: Vec::new(),
            },
            written: 0,
        }
    }

    /// The result on `row`; NaN when there is none.
    #[inline]
    pub fn get(&self, row: usize) -> f32 {
        match &self.cells {
            Cells::Dense { first, values } => row
                .checked_sub(*first as usize)
                .and_then(|i| values.get(i))
                .copied()
                .unwrap_or(f32::NAN),
            Cells::Sparse(pairs) => pairs
                .binary_search_by_key(&(row as u64), |&(r, _)| r as u64)
                .map_or(f32::NAN, |i| pairs[i].1),
        }
    }

    /// Whether no cell is stored.
    pub fn is_empty(&self) -> bool {
        match &self.cells {
            Cells::Dense { values, .. } => values.is_empty(),
            Cells::Sparse(pairs) => pairs.is_empty(),
        }
    }

    /// Every row with a stored cell, in row order (dense columns include their NaN gaps).
    pub fn iter(&self) -> impl Iterator<Item = (usize, f32)> + '_ {
        let (dense, sparse) = match &self.cells {
            Cells::Dense { first, values } => (Some((*first as usize, values)), None),
            Cells::Sparse(pairs) => (None, Some(pairs)),
        };
        let d = dense
            .into_iter()
            .flat_map(|(f, v)| v.iter().enumerate().map(move |(i, &x)| (f + i, x)));
        let s = sparse
            .into_iter()
            .flat_map(|p| p.iter().map(|&(r, x)| (r as usize, x)));
        d.chain(s)
    }

    /// The stored cells and the count of results written, for `pack`'s raw layout.
    #[cfg(feature = "pack")]
    pub(crate) fn raw(&self) -> (u64, RawCells<'_>) {
        let cells = match &self.cells {
            Cells::Dense { first, values } => RawCells::Dense(*first, values),
            Cells::Sparse(pairs) => RawCells::Sparse(pairs),
        };
        (self.written, cells)
    }

    /// A column from what [`Column::raw`] gave. The caller checks the rows (`pack` does).
    #[cfg(feature = "pack")]
    pub(crate) fn from_raw(test: u32, written: u64, cells: OwnedCells) -> Column {
        let cells = match cells {
            OwnedCells::Dense(first, values) => Cells::Dense { first, values },
            OwnedCells::Sparse(pairs) => Cells::Sparse(pairs),
        };
        Column {
            test,
            cells,
            written,
        }
    }

    /// Bytes held by the cells (capacity, not length).
    pub fn heap_bytes(&self) -> usize {
        match &self.cells {
            Cells::Dense { values, .. } => values.capacity() * 4,
            Cells::Sparse(pairs) => pairs.capacity() * 8,
        }
    }

    /// Store `v` on `row`.
    #[inline]
    pub fn set(&mut self, row: u32, v: f32) {
        self.written += 1;
        // The common case first: the next row of a dense column.
        if let Cells::Dense { first, values } = &mut self.cells
            && !values.is_empty()
            && *first as usize + values.len() == row as usize
        {
            values.push(v);
            return;
        }
        let allowed = DENSE_SLACK * self.written + DENSE_EXTRA;
        match &mut self.cells {
            Cells::Dense { first, values } => {
                if values.is_empty() {
                    *first = row;
                    values.push(v);
                    return;
                }
                let end = *first as u64 + values.len() as u64;
                if (*first..end as u32).contains(&row) {
                    values[(row - *first) as usize] = v;
                    return;
                }
                let (lo, hi) = if row < *first {
                    (row as u64, end)
                } else {
                    (*first as u64, row as u64 + 1)
                };
                if hi - lo <= allowed {
                    if row < *first {
                        let gap = (*first - row) as usize;
                        values.splice(0..0, std::iter::repeat_n(f32::NAN, gap));
                        *first = row;
                        values[0] = v;
                    } else {
                        values.resize((row - *first) as usize, f32::NAN);
                        values.push(v);
                    }
                    return;
                }
                self.make_sparse();
                self.set_sparse(row, v);
            }
            Cells::Sparse(_) => self.set_sparse(row, v),
        }
    }

    /// Drop the results on the rows where `drop(row)` says so: one pass over the stored cells,
    /// however many rows are dropped.
    pub fn clear_where(&mut self, mut drop: impl FnMut(u32) -> bool) {
        match &mut self.cells {
            Cells::Dense { first, values } => {
                for (i, v) in values.iter_mut().enumerate() {
                    if drop(*first + i as u32) {
                        *v = f32::NAN;
                    }
                }
            }
            Cells::Sparse(pairs) => pairs.retain(|&(r, _)| !drop(r)),
        }
    }

    fn make_sparse(&mut self) {
        if let Cells::Dense { first, values } = &self.cells {
            let pairs = values
                .iter()
                .enumerate()
                .map(|(i, &v)| (*first + i as u32, v))
                .filter(|&(_, v)| !v.is_nan())
                .collect();
            self.cells = Cells::Sparse(pairs);
        }
    }

    fn set_sparse(&mut self, row: u32, v: f32) {
        let Cells::Sparse(pairs) = &mut self.cells else {
            unreachable!("called on sparse columns only")
        };
        match pairs.last() {
            Some(&(r, _)) if r < row => pairs.push((row, v)),
            None => pairs.push((row, v)),
            _ => match pairs.binary_search_by_key(&row, |&(r, _)| r) {
                Ok(i) => pairs[i].1 = v,
                Err(i) => pairs.insert(i, (row, v)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(c: &Column, rows: usize, want: impl Fn(usize) -> f32) {
        for r in 0..rows {
            assert_eq!(c.get(r).to_bits(), want(r).to_bits(), "row {r}");
        }
    }

    #[test]
    fn a_full_column_stays_dense() {
        let mut c = Column::new(0);
        for r in 0..1000 {
            c.set(r, r as f32);
        }
        assert!(matches!(c.cells, Cells::Dense { first: 0, .. }));
        check(&c, 1001, |r| if r < 1000 { r as f32 } else { f32::NAN });
    }

    #[test]
    fn a_column_starts_at_its_first_result() {
        let mut c = Column::new(0);
        c.set(500, 1.0);
        c.set(501, 2.0);
        assert!(c.heap_bytes() <= 64, "{} bytes", c.heap_bytes());
        check(&c, 600, |r| match r {
            500 => 1.0,
            501 => 2.0,
            _ => f32::NAN,
        });
    }

    #[test]
    fn far_apart_results_turn_sparse_and_keep_every_value() {
        let mut c = Column::new(3);
        c.set(0, 1.0);
        c.set(1, 2.0);
        c.set(1_000_000, 3.0);
        assert!(matches!(c.cells, Cells::Sparse(_)));
        assert!(c.heap_bytes() < 100);
        c.set(7, 4.0); // out of order: a retest of an earlier die
        c.set(1, 5.0); // overwrite
        c.clear_where(|r| r == 0);
        check(&c, 10, |r| match r {
            1 => 5.0,
            7 => 4.0,
            _ => f32::NAN,
        });
        assert_eq!(c.get(1_000_000), 3.0);
        assert_eq!(c.iter().count(), 3);
    }

    #[test]
    fn an_earlier_row_extends_a_dense_column_backwards() {
        let mut c = Column::new(0);
        c.set(10, 1.0);
        c.set(11, 2.0);
        c.set(9, 0.5);
        assert!(matches!(c.cells, Cells::Dense { first: 9, .. }));
        check(&c, 13, |r| match r {
            9 => 0.5,
            10 => 1.0,
            11 => 2.0,
            _ => f32::NAN,
        });
    }
}
