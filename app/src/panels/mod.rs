//! The panels around the map, one file each by purpose: `pickers` (wafer and layer), `legend`,
//! `summary` (yield, pareto: a bar's click marks its dies), `tests` (test statistics), `pattern`
//! (the classifier's answer), `hover` (tooltip, pinned die), `compare`, `exports`, `gallery` (the
//! lot), `histogram` (the test's charts), `retests` (first pass), `zones`, `sites`, `reticle`, `selection` (a rectangle of dies). Their text comes from `details`; they read `state` only (never the map:
//! the page places the tooltip inside the map's frame).

use paint::Rgba;

mod compare;
mod exports;
mod gallery;
mod histogram;
mod hover;
mod legend;
mod pattern;
mod pickers;
mod retests;
mod reticle;
mod selection;
mod sites;
mod summary;
mod tests;
mod zones;

pub use compare::Compare;
pub use exports::Exports;
pub use gallery::Gallery;
pub use histogram::Histogram;
pub use hover::{Pinned, Tooltip};
pub use legend::Legend;
pub use pattern::Pattern;
pub use pickers::{LayerPicker, WaferPicker};
pub use retests::Retests;
pub use reticle::Reticle;
pub use selection::Selection;
pub use sites::Sites;
pub use summary::Summary;
pub use tests::Tests;
pub use zones::Zones;

/// A palette colour as CSS.
fn css(c: Rgba) -> String {
    format!("rgb({},{},{})", c[0], c[1], c[2])
}
