//! The panels around the map, one file each by purpose: `pickers` (wafer and layer), `legend`,
//! `summary` (yield, pareto), `tests` (test statistics), `pattern` (the classifier's answer), `hover` (tooltip, pinned die),
//! `compare`, `exports`. Their text comes from `details`; they read `state` only (never the map:
//! the page places the tooltip inside the map's frame).

use paint::Rgba;

mod compare;
mod exports;
mod hover;
mod legend;
mod pattern;
mod pickers;
mod summary;
mod tests;

pub use compare::Compare;
pub use exports::Exports;
pub use hover::{Pinned, Tooltip};
pub use legend::Legend;
pub use pattern::Pattern;
pub use pickers::{LayerPicker, WaferPicker};
pub use summary::Summary;
pub use tests::Tests;

/// A palette colour as CSS.
fn css(c: Rgba) -> String {
    format!("rgb({},{},{})", c[0], c[1], c[2])
}
