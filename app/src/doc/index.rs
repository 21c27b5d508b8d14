//! Which row of a wafer's die table lies at (x, y): what hovering the map asks on every pointer
//! move. Made the first time a wafer is pointed at.
//!
//! A hash map of a million dies took a quarter of a second of the page's thread in one task
//! (the first hover over a 1,001,010-die wafer, `tests/benches/clicks.mjs`); the dies' bounding
//! box, one row number per cell, is one pass. Coordinates spread far apart (a hostile or odd
//! file) would make that box huge, so they are sorted instead and found by binary search, by
//! the stack's rule for a box too sparse ([`super::stack::dense_box`]).

use wafer::DieTable;

use super::stack::{dense_box, extent};

pub enum DieIndex {
    /// Row + 1 per cell of the box at (x0, y0), `h` cells a column (0: no die there).
    Dense {
        x0: i16,
        y0: i16,
        w: usize,
        h: usize,
        rows: Vec<u32>,
    },
    /// ((x, y), row), sorted by (x, y), rows in order among equal coordinates.
    Sparse(Vec<((i16, i16), u32)>),
}

impl DieIndex {
    pub fn new(d: &DieTable) -> DieIndex {
        match dense_box(d.len(), extent(d)) {
            Some((x0, y0, w, h)) => {
                let mut rows = vec![0u32; w * h];
                for r in 0..d.len() {
                    let (dx, dy) = (d.x[r] as i32 - x0 as i32, d.y[r] as i32 - y0 as i32);
                    // Later rows win, as they did in the map of (x, y) to row.
                    rows[dx as usize * h + dy as usize] = r as u32 + 1;
                }
                DieIndex::Dense { x0, y0, w, h, rows }
            }
            None => {
                let mut v: Vec<((i16, i16), u32)> =
                    (0..d.len()).map(|r| ((d.x[r], d.y[r]), r as u32)).collect();
                // Stable: equal coordinates keep their rows' order.
                v.sort_by_key(|e| e.0);
                DieIndex::Sparse(v)
            }
        }
    }

    /// The row at (x, y): the last row there, should a table hold two.
    pub fn row_at(&self, (x, y): (i16, i16)) -> Option<usize> {
        match self {
            DieIndex::Dense { x0, y0, w, h, rows } => {
                let (dx, dy) = (x as i32 - *x0 as i32, y as i32 - *y0 as i32);
                if dx < 0 || dy < 0 || dx as usize >= *w || dy as usize >= *h {
                    return None;
                }
                let r = rows[dx as usize * h + dy as usize];
                (r > 0).then(|| r as usize - 1)
            }
            DieIndex::Sparse(v) => {
                let end = v.partition_point(|e| e.0 <= (x, y));
                (end > 0 && v[end - 1].0 == (x, y)).then(|| v[end - 1].1 as usize)
            }
        }
    }
}
