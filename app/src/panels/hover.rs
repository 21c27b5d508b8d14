//! One die's details: the tooltip that follows the pointer, and the panel of the pinned
//! (clicked) die with all its results. The text is `details::die_lines`.

use leptos::prelude::*;

use crate::details;
use crate::state::St;

/// The lines of die `row` of the map shown, with the layer shown now.
fn die_lines(st: St, row: usize, all_tests: bool) -> Option<Vec<(String, String)>> {
    let doc = st.doc.get_untracked()?;
    let subject = st.subject.get_untracked();
    details::die_lines(&doc, subject, st.layer.get_untracked(), row, all_tests)
}

#[component]
pub fn Tooltip() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let row = st.hover.get()?;
        st.layer.track();
        let lines = die_lines(st, row, false)?;
        let (x, y) = st.pointer.get();
        let style = format!("left:{}px;top:{}px", x + 14.0, y + 14.0);
        let rows: Vec<_> = lines
            .into_iter()
            .map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> })
            .collect();
        Some(view! { <div id="tooltip" class="tooltip" style=style><table>{rows}</table></div> })
    }
}

#[component]
pub fn Pinned() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let row = st.selected.get()?;
        let lines = die_lines(st, row, true)?;
        let rows: Vec<_> = lines
            .into_iter()
            .map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> })
            .collect();
        Some(view! {
            <div id="pinned" class="pinned">
                <h3>"Pinned die" <button class="small" on:click=move |_| st.selected.set(None)>"×"</button></h3>
                <table>{rows}</table>
            </div>
        })
    }
}
