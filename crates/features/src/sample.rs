//! Where a grid's sample points fall on a die map, and the grid of a sparse map computed from
//! its dies: the same sample points as the dense path, visited from the dies' side.

use crate::{Die, FeatureError, FeatureGrid, OFF_WAFER, SIZE};

/// Maps larger than this many cells (a 2048 x 2048 grid: beyond any real wafer) go through
/// [`from_sparse`], so a file cannot make the grid allocate its whole extent.
pub(crate) const MAX_DENSE_CELLS: usize = 1 << 22;

/// Where a grid's sample points fall on a `rows x cols` map: each of the `SIZE * SIZE` cells
/// samples `k x k` points, the map scaled to fit with its aspect kept and centred.
pub(crate) struct Lattice {
    scale: f32,
    off: [f32; 2],
    pub(crate) k: usize,
}

impl Lattice {
    pub(crate) fn new(rows: usize, cols: usize) -> Lattice {
        let n = SIZE as f32;
        let scale = n / rows.max(cols) as f32;
        let off = [
            (n - cols as f32 * scale) / 2.0,
            (n - rows as f32 * scale) / 2.0,
        ];
        let k = (1.0 / scale).ceil().max(1.0) as usize;
        Lattice { scale, off, k }
    }

    /// For each of the `SIZE * k` sample points along one axis (0 = columns, 1 = rows), the map
    /// row or column it falls on, if any.
    pub(crate) fn axis(&self, len: usize, axis: usize) -> Vec<Option<u32>> {
        let k = self.k;
        (0..SIZE * k)
            .map(|s| {
                let (i, a) = (s / k, s % k);
                let v = (i as f32 + (a as f32 + 0.5) / k as f32 - self.off[axis]) / self.scale;
                (v >= 0.0 && v < len as f32).then_some(v as u32)
            })
            .collect()
    }
}

/// A cell's byte from its sampled dies, or None when no sample hit a die.
pub(crate) fn cell(on: u32, fail: u32) -> Option<u8> {
    (on > 0).then(|| 1 + (254.0 * (fail as f32 / on as f32)).round() as u8)
}

/// [`FeatureGrid::from_fn`] for a map given as its dies `(row, col, die)` (the last one at
/// a place wins): work and memory follow the dies and the map's sides, not its area, so a
/// map with dies 30,000 apart costs what its few dies cost. Same grid as `from_fn`, cell for
/// cell: it visits the same sample points, only from the dies' side.
pub(crate) fn from_sparse(
    rows: usize,
    cols: usize,
    dies: impl Iterator<Item = (usize, usize, Die)>,
) -> Result<FeatureGrid, FeatureError> {
    let lattice = Lattice::new(rows, cols);
    let k = lattice.k;
    // Per die row (column): the run of sample points that land on it. Runs are contiguous
    // because a sample's coordinate grows with its index.
    let runs = |axis: Vec<Option<u32>>, len: usize| {
        let mut run = vec![(0u32, 0u32); len];
        for (s, d) in axis.iter().enumerate() {
            if let Some(d) = *d {
                let r = &mut run[d as usize];
                if r.1 == 0 {
                    r.0 = s as u32;
                }
                r.1 = s as u32 + 1;
            }
        }
        run
    };
    let (yr, xr) = (
        runs(lattice.axis(rows, 1), rows),
        runs(lattice.axis(cols, 0), cols),
    );
    let mut last = std::collections::HashMap::new();
    for (r, c, d) in dies {
        last.insert((r as u64) << 32 | c as u64, d);
    }
    let (mut on, mut fail) = (vec![0u32; SIZE * SIZE], vec![0u32; SIZE * SIZE]);
    for (&key, &d) in &last {
        let (r, c) = ((key >> 32) as usize, key as u32 as usize);
        for s in yr[r].0..yr[r].1 {
            for t in xr[c].0..xr[c].1 {
                let i = (s as usize / k) * SIZE + t as usize / k;
                on[i] += 1;
                fail[i] += (d == Die::Fail) as u32;
            }
        }
    }
    let cells: Vec<u8> = (0..SIZE * SIZE)
        .map(|i| cell(on[i], fail[i]).unwrap_or(OFF_WAFER))
        .collect();
    if cells.iter().all(|&b| b == OFF_WAFER) {
        return Err(FeatureError::Empty);
    }
    Ok(FeatureGrid { cells })
}
