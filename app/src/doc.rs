//! An open file and what the views derive from it: die lookup by coordinates, the stacked map of
//! all wafers, and the maps a view can show. Pure (no browser), so it is tested natively.

use std::cell::OnceCell;
use std::collections::BTreeSet;

use paint::{Coloring, Layer, MapGeometry};
use wafer::{DieTable, TestFile};

pub mod index;
pub mod stack;
use index::DieIndex;
pub use stack::Stack;

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
    /// Per wafer: (x, y) -> row, made the first time the wafer is pointed at.
    index: Vec<OnceCell<DieIndex>>,
    stack: OnceCell<Stack>,
    /// Per wafer, then the stack: geometry walks every die, so it is computed once, not per
    /// pointer move or frame.
    geometry: Vec<OnceCell<MapGeometry>>,
    /// Per wafer: the classifier's input (None: no dies), made once for the WebGPU classifier
    /// and the edge's prediction alike.
    grids: Vec<OnceCell<Option<features::FeatureGrid>>>,
    /// Per wafer: its dies as their first attempt left them (`Wafer::first_pass_dies`).
    first: Vec<OnceCell<DieTable>>,
    /// Per wafer: its passing dies. The gallery, the wafer list, the summary and the library all
    /// show yields, and the gallery's cards are remade as each wafer's label arrives: counted
    /// each time, a lot of 25 wafers of 40k dies was a million dies a card update.
    passing: Vec<OnceCell<usize>>,
    /// Per wafer: whether its grid is wafer-shaped (`model::wafer_shaped`), for its calls.
    shaped: Vec<OnceCell<bool>>,
}

impl Doc {
    pub fn new(name: String, file: TestFile) -> Doc {
        let index = (0..file.wafers.len()).map(|_| OnceCell::new()).collect();
        let geometry = (0..=file.wafers.len()).map(|_| OnceCell::new()).collect();
        let grids = (0..file.wafers.len()).map(|_| OnceCell::new()).collect();
        let first = (0..file.wafers.len()).map(|_| OnceCell::new()).collect();
        let passing = (0..file.wafers.len()).map(|_| OnceCell::new()).collect();
        let shaped = (0..file.wafers.len()).map(|_| OnceCell::new()).collect();
        Doc {
            shaped,
            first,
            passing,
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

    /// Whether wafer `i`'s grid makes a wafer's outline (`model::wafer_shaped`), tested once;
    /// None for a wafer without dies (or no wafer `i`).
    pub fn wafer_shaped(&self, i: usize) -> Option<bool> {
        let grid = self.grid(i)?;
        Some(*self.shaped[i].get_or_init(|| model::wafer_shaped(grid)))
    }

    /// Wafer `i`'s passing dies, counted once (0 for no wafer `i`).
    pub fn passing(&self, i: usize) -> usize {
        let Some(w) = self.file.wafers.get(i) else {
            return 0;
        };
        *self.passing[i].get_or_init(|| w.dies.count(wafer::Verdict::Pass))
    }

    /// Wafer `i`'s yield as [`wafer::Wafer::yield_fraction`] gives it, from the counted passes.
    pub fn yield_of(&self, i: usize) -> Option<f64> {
        let n = self.file.wafers.get(i)?.dies.len();
        (n > 0).then(|| self.passing(i) as f64 / n as f64)
    }

    pub fn stack(&self) -> &Stack {
        self.stack
            .get_or_init(|| Stack::from_counts(stack::tally(&self.tables())))
    }

    /// Every wafer's die table, in order.
    pub fn tables(&self) -> Vec<&DieTable> {
        self.file.wafers.iter().map(|w| &w.dies).collect()
    }

    /// The stack, counted elsewhere (`stack::Counts`, a wafer per task); a stack already made
    /// stays.
    pub fn set_stack(&self, counts: stack::Counts) {
        let _ = self.stack.set(Stack::from_counts(counts.finish()));
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
            Subject::Stack => self.stack().geometry(&self.file),
        }
    }

    pub fn coloring(&self, s: Subject, layer: Layer, hidden: &BTreeSet<u16>) -> Coloring {
        match s {
            Subject::Wafer(_) => Coloring::new(&self.file, self.dies(s), layer, hidden),
            Subject::Stack => Coloring::values(&self.stack().fail_pct, Some(0.0), Some(100.0)),
        }
    }

    /// Wafer `i`'s dies as their first attempt left them (bins, verdicts and results).
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
                self.index[i]
                    .get_or_init(|| DieIndex::new(&w.dies))
                    .row_at(xy)
            }
            Subject::Stack => self.stack().row_at(xy),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
