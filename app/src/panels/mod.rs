//! The panels around the map, one file each by purpose: `pickers` (wafer and layer), `legend`,
//! `summary` (yield, pareto: a bar's click marks its dies), `tests` (test statistics), `pattern`
//! (the classifier's answer), `hover` (tooltip, pinned die), `compare`, `exports`, `gallery` (the
//! lot), `histogram` (the test's charts), `retests` (first pass), `zones`, `sites`, `reticle`, `selection` (a rectangle or a lasso of dies). Their text comes from `details`; they read `state` only (never the map:
//! the page places the tooltip inside the map's frame).

use leptos::prelude::*;
use paint::Rgba;

use crate::state::St;

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

/// Analysis panels in the order they draw after a file opens, one per task (`Later`).
pub const LATER_STEPS: u8 = 8;

/// Its children only from the `step`-th task after the open file arrived: each analysis panel
/// counts over the whole file or wafer when it first draws, and together they held the page's
/// thread for well over 50 ms; one per task, the map comes first and the page stays responsive.
#[component]
pub fn Later(step: u8, children: ChildrenFn) -> impl IntoView {
    let st = expect_context::<St>();
    let ready = Memo::new(move |_| st.settled.get() >= step);
    move || ready.get().then(|| children())
}

/// Count the tasks after a file opened (`St::settled`), up to [`LATER_STEPS`]; a file opened
/// meanwhile starts the count again (its own chain carries on, this one stops).
pub fn settle(st: St) {
    leptos::task::spawn_local(async move {
        for k in 1..=LATER_STEPS {
            crate::loader::sleep_ms(0).await;
            if st.settled.get_untracked() != k - 1 {
                return;
            }
            st.settled.set(k);
        }
        // Then the stacked map of a lot, a wafer per task (all at once is a pass over a million
        // dies): ready before the user asks for it. A new file stops it; asking for the stack
        // before it is done counts it there and then.
        let Some(doc) = st.doc.get_untracked().filter(|d| d.file.wafers.len() > 1) else {
            return;
        };
        use crate::doc::stack::{Counts, NO_EXTENT, extent, merge};
        let tables = doc.tables();
        let still = || {
            let same = st
                .doc
                .with_untracked(|now| now.as_ref().is_some_and(|n| std::rc::Rc::ptr_eq(n, &doc)));
            same && st.settled.get_untracked() == LATER_STEPS
        };
        // First the lot's bounding box, then the counts: each a table per task.
        let mut bounds = NO_EXTENT;
        for d in &tables {
            crate::loader::sleep_ms(0).await;
            if !still() {
                return;
            }
            bounds = merge(bounds, extent(d));
        }
        let n = tables.iter().map(|d| d.len()).sum();
        let mut counts = Counts::within(n, bounds);
        for d in &tables {
            crate::loader::sleep_ms(0).await;
            if !still() {
                return;
            }
            counts.add(d);
        }
        doc.set_stack(counts);
    });
}

/// A palette colour as CSS.
fn css(c: Rgba) -> String {
    format!("rgb({},{},{})", c[0], c[1], c[2])
}
