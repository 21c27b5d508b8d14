//! The classifier's input, defined once and used by training, the CLI, the browser and the edge:
//! a wafer's final dies as a fixed [`SIZE`] x [`SIZE`] grid, and the [`FeatureHash`] of it that
//! keys the edge's caches.
//!
//! # The grid (spec version [`SPEC_VERSION`])
//! - Die (x, y) is column `x - x_min`, row `y - y_min` of the wafer's bounding box, as WM-811K's
//!   `waferMap[row][col]`. Orientation (flat, axis directions) is ignored: the classes are
//!   rotation- and mirror-invariant, and ignoring it keeps the grid the same for the same dies.
//! - The box is scaled by `SIZE / max(rows, cols)` (aspect kept) and centred; the margins are
//!   off-wafer.
//! - Each cell looks at `k x k` points spread over its area in die space (`k = ceil(1/scale)`,
//!   so 1 when a die is larger than a cell): points on no die are off-wafer; of the points on
//!   dies, the failing fraction `f` gives the cell's byte.
//! - Byte: 0 = no die (WM-811K's 0); otherwise `1 + round(254 f)`: 1 = all pass (WM-811K's 1),
//!   255 = all fail (WM-811K's 2). Maps up to `SIZE` dies across use only 0, 1 and 255.
//! - The network reads byte `b` as 0 for off-wafer and `(1 + (b - 1) / 254) / 2` otherwise:
//!   0, 0.5 (pass) .. 1.0 (fail).
//!
//! # FeatureHash
//! BLAKE3 of `"waferscope-features\0"`, the spec version (u16 LE), the grid size (u16 LE) and the
//! `SIZE * SIZE` bytes, row by row. Two wafers with the same pattern on the same grid get the same
//! hash, whatever file or lot they came from; a change to this spec bumps [`SPEC_VERSION`] and so
//! every hash.

use wafer::{DieTable, Verdict};

use sample::{Lattice, MAX_DENSE_CELLS, cell};

mod sample;

/// Cells per side.
pub const SIZE: usize = 64;

/// Version of the rules above. Bump it on any change to how a grid is made.
pub const SPEC_VERSION: u16 = 1;

/// Byte of a cell with no die.
pub const OFF_WAFER: u8 = 0;
/// Byte of a cell whose dies all pass.
pub const PASS: u8 = 1;
/// Byte of a cell whose dies all fail.
pub const FAIL: u8 = 255;

/// A wafer map as the classifier sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct FeatureGrid {
    /// `SIZE * SIZE` bytes, row-major.
    pub cells: Vec<u8>,
}

impl std::fmt::Debug for FeatureGrid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for row in self.cells.chunks(SIZE) {
            let line: String = row
                .iter()
                .map(|&b| match b {
                    OFF_WAFER => ' ',
                    PASS => '.',
                    FAIL => '#',
                    _ => '+',
                })
                .collect();
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// What one die is, as WM-811K codes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Die {
    None = 0,
    Pass = 1,
    Fail = 2,
}

/// Why a map cannot become a grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeatureError {
    /// No dies at all.
    Empty,
    /// Rows of different lengths, or a code other than 0, 1, 2.
    Malformed(String),
}

impl std::fmt::Display for FeatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeatureError::Empty => write!(f, "the map has no dies"),
            FeatureError::Malformed(why) => write!(f, "malformed map: {why}"),
        }
    }
}

impl std::error::Error for FeatureError {}

impl FeatureGrid {
    /// The grid of a `rows x cols` die map given by `die(row, col)`.
    pub fn from_fn(
        rows: usize,
        cols: usize,
        die: impl Fn(usize, usize) -> Die,
    ) -> Result<FeatureGrid, FeatureError> {
        if rows == 0 || cols == 0 {
            return Err(FeatureError::Empty);
        }
        let lattice = Lattice::new(rows, cols);
        let k = lattice.k;
        let (ys, xs) = (lattice.axis(rows, 1), lattice.axis(cols, 0));
        let mut cells = vec![OFF_WAFER; SIZE * SIZE];
        let mut any = false;
        for i in 0..SIZE {
            for j in 0..SIZE {
                let (mut on, mut fail) = (0u32, 0u32);
                for y in ys[i * k..(i + 1) * k].iter().flatten() {
                    for x in xs[j * k..(j + 1) * k].iter().flatten() {
                        match die(*y as usize, *x as usize) {
                            Die::None => {}
                            Die::Pass => on += 1,
                            Die::Fail => {
                                on += 1;
                                fail += 1;
                            }
                        }
                    }
                }
                if let Some(b) = cell(on, fail) {
                    any = true;
                    cells[i * SIZE + j] = b;
                }
            }
        }
        if !any {
            return Err(FeatureError::Empty);
        }
        Ok(FeatureGrid { cells })
    }

    /// The grid of a WM-811K style map: `map[row][col]` in 0 (no die), 1 (pass), 2 (fail).
    pub fn from_wm811k(map: &[Vec<u8>]) -> Result<FeatureGrid, FeatureError> {
        let cols = map.first().map_or(0, |r| r.len());
        for (r, row) in map.iter().enumerate() {
            if row.len() != cols {
                return Err(FeatureError::Malformed(format!(
                    "row {r} has {} columns, row 0 has {cols}",
                    row.len()
                )));
            }
            if let Some(c) = row.iter().position(|&v| v > 2) {
                return Err(FeatureError::Malformed(format!(
                    "row {r} column {c}: code {} (want 0, 1 or 2)",
                    row[c]
                )));
            }
        }
        FeatureGrid::from_fn(map.len(), cols, |r, c| match map[r][c] {
            1 => Die::Pass,
            2 => Die::Fail,
            _ => Die::None,
        })
    }

    /// The grid of a wafer's final dies: a failing verdict is a fail, anything else a pass
    /// (an unknown verdict was already resolved from the bin by the reader where it could be).
    pub fn from_dies(dies: &DieTable) -> Result<FeatureGrid, FeatureError> {
        let Some(([x0, x1], [y0, y1])) = dies.ranges() else {
            return Err(FeatureError::Empty);
        };
        // In i32: dies at both ends of the i16 range span more than an i16.
        let (x0, y0) = (x0 as i32, y0 as i32);
        let (cols, rows) = ((x1 as i32 - x0) as usize + 1, (y1 as i32 - y0) as usize + 1);
        let at = |i: usize| {
            (
                (dies.x[i] as i32 - x0) as usize,
                (dies.y[i] as i32 - y0) as usize,
            )
        };
        let verdict = |i: usize| match dies.verdict[i] {
            Verdict::Fail => Die::Fail,
            _ => Die::Pass,
        };
        if rows * cols > MAX_DENSE_CELLS {
            let placed = (0..dies.len())
                .filter(|&i| dies.x[i] != wafer::NO_COORD && dies.y[i] != wafer::NO_COORD);
            return sample::from_sparse(
                rows,
                cols,
                placed.map(|i| {
                    let (c, r) = at(i);
                    (r, c, verdict(i))
                }),
            );
        }
        let mut map = vec![Die::None; rows * cols];
        for i in 0..dies.len() {
            if dies.x[i] == wafer::NO_COORD || dies.y[i] == wafer::NO_COORD {
                continue;
            }
            let (c, r) = at(i);
            map[r * cols + c] = verdict(i);
        }
        FeatureGrid::from_fn(rows, cols, |r, c| map[r * cols + c])
    }

    /// A grid from its canonical bytes (`SIZE * SIZE`, row-major), as clients send it to the
    /// edge. Every byte value is a valid cell, so only the length and the presence of at least one
    /// die are checked.
    pub fn from_bytes(bytes: &[u8]) -> Result<FeatureGrid, FeatureError> {
        if bytes.len() != SIZE * SIZE {
            return Err(FeatureError::Malformed(format!(
                "a grid is {} bytes ({SIZE}x{SIZE}), got {}",
                SIZE * SIZE,
                bytes.len()
            )));
        }
        if bytes.iter().all(|&b| b == OFF_WAFER) {
            return Err(FeatureError::Empty);
        }
        Ok(FeatureGrid {
            cells: bytes.to_vec(),
        })
    }

    /// The network's input: one f32 per cell, row-major (see the module docs).
    pub fn to_input(&self) -> Vec<f32> {
        let mut v = Vec::with_capacity(SIZE * SIZE);
        self.write_input(&mut v);
        v
    }

    /// Append the network's input to `out` (batches are built this way without copies).
    pub fn write_input(&self, out: &mut Vec<f32>) {
        out.extend(self.cells.iter().map(|&b| {
            if b == OFF_WAFER {
                0.0
            } else {
                (1.0 + (b - 1) as f32 / 254.0) / 2.0
            }
        }));
    }

    /// The box of the on-wafer cells and the ellipse inscribed in it; None for a grid without
    /// one. The classifier's shape test, its radius channel and `map-stats` all measure a
    /// grid against this ellipse.
    pub fn outline(&self) -> Option<Outline> {
        let (mut r0, mut r1, mut c0, mut c1) = (SIZE, 0, SIZE, 0);
        for (i, &b) in self.cells.iter().enumerate() {
            if b != OFF_WAFER {
                let (r, c) = (i / SIZE, i % SIZE);
                (r0, r1, c0, c1) = (r0.min(r), r1.max(r), c0.min(c), c1.max(c));
            }
        }
        (r0 <= r1).then(|| Outline {
            rows: r0..=r1,
            cols: c0..=c1,
            centre: ((r0 + r1 + 1) as f32 / 2.0, (c0 + c1 + 1) as f32 / 2.0),
            half: ((r1 + 1 - r0) as f32 / 2.0, (c1 + 1 - c0) as f32 / 2.0),
        })
    }

    /// Fraction of on-wafer cells that fail (weighted by each cell's fail fraction).
    pub fn fail_fraction(&self) -> f32 {
        let (mut on, mut f) = (0u32, 0f32);
        for &b in &self.cells {
            if b != OFF_WAFER {
                on += 1;
                f += (b - 1) as f32 / 254.0;
            }
        }
        if on == 0 { 0.0 } else { f / on as f32 }
    }

    pub fn hash(&self) -> FeatureHash {
        let mut h = blake3::Hasher::new();
        h.update(b"waferscope-features\0");
        h.update(&SPEC_VERSION.to_le_bytes());
        h.update(&(SIZE as u16).to_le_bytes());
        h.update(&self.cells);
        FeatureHash(*h.finalize().as_bytes())
    }
}

/// The on-wafer cells' box ([`FeatureGrid::outline`]): its rows and columns, and the centre
/// and half-axes (rows, columns) of the ellipse inscribed in it, in cells from the grid's
/// corner, so that cell `(r, c)`'s centre is at `(r + 0.5, c + 0.5)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Outline {
    pub rows: std::ops::RangeInclusive<usize>,
    pub cols: std::ops::RangeInclusive<usize>,
    pub centre: (f32, f32),
    pub half: (f32, f32),
}

impl Outline {
    /// Cell `(r, c)`'s centre relative to the ellipse: (rows, columns) over its half-axes, so
    /// the ellipse is where their squares sum to 1.
    pub fn offset(&self, r: usize, c: usize) -> (f32, f32) {
        (
            (r as f32 + 0.5 - self.centre.0) / self.half.0,
            (c as f32 + 0.5 - self.centre.1) / self.half.1,
        )
    }
}

/// BLAKE3 of a [`FeatureGrid`] and the spec version: the edge's cache key for anything computed
/// from a wafer's pattern.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeatureHash(pub [u8; 32]);

impl FeatureHash {
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(s: &str) -> Option<FeatureHash> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(FeatureHash(out))
    }
}

impl std::fmt::Display for FeatureHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Debug for FeatureHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FeatureHash({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests;
