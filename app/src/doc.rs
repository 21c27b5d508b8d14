//! An open file and what the views derive from it: die lookup by coordinates, the stacked map of
//! all wafers, and the maps a view can show. Pure (no browser), so it is tested natively.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use paint::{Coloring, Layer, MapGeometry};
use wafer::{DieTable, TestFile, Verdict};

/// What the map shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Wafer(usize),
    /// Fail percentage per (x, y) over every wafer of the file.
    Stack,
}

pub struct Doc {
    pub name: String,
    pub file: TestFile,
    /// Per wafer: (x, y) -> row, made the first time the wafer is pointed at: a lot of a million
    /// dies would otherwise spend a tenth of a second on the page's thread before its first map.
    index: Vec<OnceCell<HashMap<(i16, i16), usize>>>,
    stack: OnceCell<Stack>,
    /// Per wafer, then the stack: geometry walks every die, so it is computed once, not per
    /// pointer move or frame.
    geometry: Vec<OnceCell<MapGeometry>>,
    /// Per wafer: the classifier's input (None: no dies), made once for the WebGPU classifier
    /// and the edge's prediction alike.
    grids: Vec<OnceCell<Option<features::FeatureGrid>>>,
    /// Per wafer: its dies as their first attempt left them (`Wafer::first_pass_dies`).
    first: Vec<OnceCell<DieTable>>,
}

/// Per (x, y) seen in any table, in (x, y) order: (fails, dies). A lot's wafers share one
/// grid, so a dense count over their bounding box does it in one pass (a tree of a million
/// entries took over a tenth of a second on the page's thread); coordinates spread far apart
/// (a hostile or odd file) take the tree instead of a huge box.
fn tally(tables: &[&DieTable]) -> Vec<((i16, i16), (u32, u32))> {
    let n: usize = tables.iter().map(|d| d.len()).sum();
    if n == 0 {
        return Vec::new();
    }
    let (mut x0, mut x1, mut y0, mut y1) = (i16::MAX, i16::MIN, i16::MAX, i16::MIN);
    for d in tables {
        for (&x, &y) in d.x.iter().zip(&d.y) {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
    }
    // In i32 and u64: an i16 span can exceed i16, and a box can exceed wasm's 32-bit usize.
    let span = |a: i16, b: i16| (i32::from(b) - i32::from(a)) as usize + 1;
    let (w, h) = (span(x0, x1), span(y0, y1));
    let mut out = Vec::new();
    if (w as u64) * (h as u64) <= 4 * n as u64 + (1 << 16) {
        // Column-major (x, then y): the order the tree gave.
        let mut acc = vec![(0u32, 0u32); w * h];
        for d in tables {
            for i in 0..d.len() {
                let k = (i32::from(d.x[i]) - i32::from(x0)) as usize * h
                    + (i32::from(d.y[i]) - i32::from(y0)) as usize;
                acc[k].0 += u32::from(d.verdict[i] == Verdict::Fail);
                acc[k].1 += 1;
            }
        }
        for (k, &c) in acc.iter().enumerate().filter(|(_, c)| c.1 > 0) {
            let at = |o: usize, base: i16| (i32::from(base) + o as i32) as i16;
            out.push(((at(k / h, x0), at(k % h, y0)), c));
        }
    } else {
        let mut acc: BTreeMap<(i16, i16), (u32, u32)> = BTreeMap::new();
        for d in tables {
            for i in 0..d.len() {
                let e = acc.entry((d.x[i], d.y[i])).or_default();
                e.0 += u32::from(d.verdict[i] == Verdict::Fail);
                e.1 += 1;
            }
        }
        out.extend(acc);
    }
    out
}

/// The stacked map: one row per (x, y) seen on any wafer.
pub struct Stack {
    pub dies: DieTable,
    pub fail_pct: Vec<f32>,
    pub wafers: Vec<u32>,
    index: HashMap<(i16, i16), usize>,
}

impl Doc {
    pub fn new(name: String, file: TestFile) -> Doc {
        let index = (0..file.wafers.len()).map(|_| OnceCell::new()).collect();
        let geometry = (0..=file.wafers.len()).map(|_| OnceCell::new()).collect();
        let grids = (0..file.wafers.len()).map(|_| OnceCell::new()).collect();
        let first = (0..file.wafers.len()).map(|_| OnceCell::new()).collect();
        Doc {
            first,
            name,
            file,
            index,
            stack: OnceCell::new(),
            geometry,
            grids,
        }
    }

    /// Wafer `i`'s feature grid, or None for a wafer without dies (or no wafer `i`).
    pub fn grid(&self, i: usize) -> Option<&features::FeatureGrid> {
        let w = self.file.wafers.get(i)?;
        self.grids[i]
            .get_or_init(|| features::FeatureGrid::from_dies(&w.dies).ok())
            .as_ref()
    }

    pub fn stack(&self) -> &Stack {
        self.stack.get_or_init(|| {
            let tables: Vec<&DieTable> = self.file.wafers.iter().map(|w| &w.dies).collect();
            let acc = tally(&tables);
            let mut dies = DieTable::default();
            let mut fail_pct = Vec::new();
            let mut wafers = Vec::new();
            let mut index = HashMap::with_capacity(acc.len());
            for (i, &((x, y), (fails, n))) in acc.iter().enumerate() {
                dies.x.push(x);
                dies.y.push(y);
                fail_pct.push(100.0 * fails as f32 / n as f32);
                wafers.push(n);
                index.insert((x, y), i);
            }
            Stack {
                dies,
                fail_pct,
                wafers,
                index,
            }
        })
    }

    /// The die table a subject shows. The subject must be one of this file's (as
    /// `state::St::shown` checks); [`Doc::try_dies`] for one that may not be.
    pub fn dies(&self, s: Subject) -> &DieTable {
        match s {
            Subject::Wafer(i) => &self.file.wafers[i].dies,
            Subject::Stack => &self.stack().dies,
        }
    }

    /// The die table a subject shows, or None for a wafer this file does not have.
    pub fn try_dies(&self, s: Subject) -> Option<&DieTable> {
        match s {
            Subject::Wafer(i) => self.file.wafers.get(i).map(|w| &w.dies),
            Subject::Stack => Some(&self.stack().dies),
        }
    }

    pub fn geometry(&self, s: Subject) -> MapGeometry {
        let slot = match s {
            Subject::Wafer(i) => i,
            Subject::Stack => self.file.wafers.len(),
        };
        *self.geometry[slot].get_or_init(|| self.compute_geometry(s))
    }

    fn compute_geometry(&self, s: Subject) -> MapGeometry {
        match s {
            Subject::Wafer(i) => MapGeometry::new(&self.file.wafers[i]),
            Subject::Stack => {
                let first = self.file.wafers.first();
                let g = first.map(|w| w.geometry.clone()).unwrap_or_default();
                let st = self.stack();
                let ([x0, x1], [y0, y1]) = st.dies.ranges().unwrap_or(([0, 0], [0, 0]));
                let center = ((x0 as f32 + x1 as f32) / 2.0, (y0 as f32 + y1 as f32) / 2.0);
                MapGeometry::for_dies(&st.dies, &g, center)
            }
        }
    }

    pub fn coloring(&self, s: Subject, layer: Layer, hidden: &BTreeSet<u16>) -> Coloring {
        match s {
            Subject::Wafer(_) => Coloring::new(&self.file, self.dies(s), layer, hidden),
            Subject::Stack => Coloring::values(&self.stack().fail_pct, Some(0.0), Some(100.0)),
        }
    }

    /// Wafer `i`'s dies as their first attempt left them (bins and verdicts; results final).
    pub fn first_pass(&self, i: usize) -> &DieTable {
        self.first[i].get_or_init(|| self.file.wafers[i].first_pass_dies())
    }

    /// The colours of wafer `i`'s first pass.
    pub fn first_pass_coloring(&self, i: usize, layer: Layer, hidden: &BTreeSet<u16>) -> Coloring {
        Coloring::new(&self.file, self.first_pass(i), layer, hidden)
    }

    /// Row of the die at (x, y) in a subject's table.
    pub fn row_at(&self, s: Subject, xy: (i16, i16)) -> Option<usize> {
        match s {
            Subject::Wafer(i) => {
                let w = self.file.wafers.get(i)?;
                let index = self.index[i].get_or_init(|| {
                    let d = &w.dies;
                    d.x.iter()
                        .zip(&d.y)
                        .enumerate()
                        .map(|(r, (&x, &y))| ((x, y), r))
                        .collect()
                });
                index.get(&xy).copied()
            }
            Subject::Stack => self.stack().index.get(&xy).copied(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
