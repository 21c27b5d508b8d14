//! The stacked map of a file's wafers: per (x, y) seen on any wafer, how many wafers have a die
//! there and how many of those failed.

use std::collections::BTreeMap;

use wafer::{DieTable, Verdict};

/// The stacked map: one row per (x, y) seen on any wafer, in (x, y) order.
pub struct Stack {
    pub dies: DieTable,
    pub fail_pct: Vec<f32>,
    pub wafers: Vec<u32>,
}

impl Stack {
    /// From [`Counts::finish`]'s list (in (x, y) order; another order is sorted). No index is
    /// built: rows are found by binary search ([`Stack::row_at`]), as a hash map of a lot's
    /// 40,000 positions took 30-60 ms of the page's thread in one task.
    pub fn from_counts(mut acc: Vec<((i16, i16), (u32, u32))>) -> Stack {
        if !acc.is_sorted_by_key(|a| a.0) {
            acc.sort_unstable_by_key(|a| a.0);
        }
        let mut dies = DieTable::default();
        let mut fail_pct = Vec::with_capacity(acc.len());
        let mut wafers = Vec::with_capacity(acc.len());
        for &((x, y), (fails, n)) in &acc {
            dies.x.push(x);
            dies.y.push(y);
            fail_pct.push(100.0 * fails as f32 / n as f32);
            wafers.push(n);
        }
        Stack {
            dies,
            fail_pct,
            wafers,
        }
    }

    /// Where its dies lie: the first wafer's die size and axes, centred on the stack's box
    /// (the map's geometry, and the worker's for a PNG of the stack: one definition).
    pub fn geometry(&self, file: &wafer::TestFile) -> paint::MapGeometry {
        let first = file.wafers.first();
        let g = first.map(|w| w.geometry.clone()).unwrap_or_default();
        let ([x0, x1], [y0, y1]) = self.dies.ranges().unwrap_or(([0, 0], [0, 0]));
        let center = ((x0 as f32 + x1 as f32) / 2.0, (y0 as f32 + y1 as f32) / 2.0);
        paint::MapGeometry::for_dies(&self.dies, &g, center)
    }

    /// The row of (x, y), if any wafer has a die there.
    pub fn row_at(&self, (x, y): (i16, i16)) -> Option<usize> {
        let d = &self.dies;
        let at = partition(d.x.len(), |i| (d.x[i], d.y[i]) < (x, y));
        (at < d.x.len() && (d.x[at], d.y[at]) == (x, y)).then_some(at)
    }
}

/// The first `i` in `0..n` for which `before(i)` is false (`before` true, then false).
fn partition(n: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// (fails, dies) per (x, y), over tables added one at a time, so a lot's can be spread over
/// several tasks. A lot's wafers share one grid, so a dense count over their bounding box does it
/// in one pass (a tree of a million entries took over a tenth of a second on the page's thread);
/// coordinates spread far apart (a hostile or odd file) are counted in a tree instead of a huge
/// box.
pub enum Counts {
    Dense {
        x0: i16,
        y0: i16,
        /// Column height: the box is counted column-major (x, then y), the tree's order.
        h: usize,
        acc: Vec<(u32, u32)>,
    },
    Sparse(BTreeMap<(i16, i16), (u32, u32)>),
}

/// The extent of no dies: [`merge`] with it changes nothing.
pub const NO_EXTENT: [i16; 4] = [i16::MAX, i16::MIN, i16::MAX, i16::MIN];

/// The box every row of `d` lies in, `[x0, x1, y0, y1]` (rows without coordinates included: a
/// file with them is counted in the tree).
pub fn extent(d: &DieTable) -> [i16; 4] {
    let mut e = NO_EXTENT;
    for (&x, &y) in d.x.iter().zip(&d.y) {
        e = [e[0].min(x), e[1].max(x), e[2].min(y), e[3].max(y)];
    }
    e
}

/// `extent`'s box as (x0, y0, width, height) when a cell per position of it costs at most a few
/// per die (`n` dies): a wafer's dies fill most of their box. None for no dies, or for
/// coordinates spread far apart, which a dense box would make huge.
pub fn dense_box(n: usize, [x0, x1, y0, y1]: [i16; 4]) -> Option<(i16, i16, usize, usize)> {
    if n == 0 || x0 > x1 || y0 > y1 {
        return None;
    }
    // In i32 and u64: an i16 span can exceed i16, and a box can exceed wasm's 32-bit usize.
    let span = |a: i16, b: i16| (i32::from(b) - i32::from(a)) as usize + 1;
    let (w, h) = (span(x0, x1), span(y0, y1));
    ((w as u64) * (h as u64) <= 4 * n as u64 + (1 << 16)).then_some((x0, y0, w, h))
}

/// The box around two boxes.
pub fn merge(a: [i16; 4], b: [i16; 4]) -> [i16; 4] {
    [
        a[0].min(b[0]),
        a[1].max(b[1]),
        a[2].min(b[2]),
        a[3].max(b[3]),
    ]
}

impl Counts {
    /// Ready for `tables` (their bounding box decides how to count); nothing counted yet.
    pub fn new(tables: &[&DieTable]) -> Counts {
        let n = tables.iter().map(|d| d.len()).sum();
        let extent = tables.iter().fold(NO_EXTENT, |e, d| merge(e, extent(d)));
        Counts::within(n, extent)
    }

    /// Ready for `n` dies whose coordinates lie within `extent` (of [`extent`] and [`merge`]),
    /// so a lot's bounding box can be found a table per task too.
    pub fn within(n: usize, extent: [i16; 4]) -> Counts {
        match dense_box(n, extent) {
            Some((x0, y0, w, h)) => Counts::Dense {
                x0,
                y0,
                h,
                acc: vec![(0, 0); w * h],
            },
            None => Counts::Sparse(BTreeMap::new()),
        }
    }

    /// Count `d`'s dies (one of the tables `new` saw).
    pub fn add(&mut self, d: &DieTable) {
        match self {
            Counts::Dense { x0, y0, h, acc } => {
                for i in 0..d.len() {
                    let k = (i32::from(d.x[i]) - i32::from(*x0)) as usize * *h
                        + (i32::from(d.y[i]) - i32::from(*y0)) as usize;
                    if let Some(c) = acc.get_mut(k) {
                        c.0 += u32::from(d.verdict[i] == Verdict::Fail);
                        c.1 += 1;
                    }
                }
            }
            Counts::Sparse(acc) => {
                for i in 0..d.len() {
                    let e = acc.entry((d.x[i], d.y[i])).or_default();
                    e.0 += u32::from(d.verdict[i] == Verdict::Fail);
                    e.1 += 1;
                }
            }
        }
    }

    /// Per (x, y) counted, in (x, y) order: (fails, dies).
    pub fn finish(self) -> Vec<((i16, i16), (u32, u32))> {
        match self {
            Counts::Dense { x0, y0, h, acc } => {
                let at = |o: usize, base: i16| (i32::from(base) + o as i32) as i16;
                acc.iter()
                    .enumerate()
                    .filter(|(_, c)| c.1 > 0)
                    .map(|(k, &c)| ((at(k / h, x0), at(k % h, y0)), c))
                    .collect()
            }
            Counts::Sparse(acc) => acc.into_iter().collect(),
        }
    }
}

/// [`Counts`] over `tables`, all at once.
pub fn tally(tables: &[&DieTable]) -> Vec<((i16, i16), (u32, u32))> {
    let mut c = Counts::new(tables);
    for d in tables {
        c.add(d);
    }
    c.finish()
}
