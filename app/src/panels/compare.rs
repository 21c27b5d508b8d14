//! Side-by-side compare: the wafer on screen next to another of the file, both drawn by the CPU
//! rasterizer with the layer shown.

use leptos::prelude::*;

use super::exports::png_url;
use crate::doc::Subject;
use crate::state::St;

#[component]
pub fn Compare() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let doc = st.doc.get()?;
        let Subject::Wafer(a) = st.subject.get() else {
            return None;
        };
        if doc.file.wafers.len() < 2 {
            return None;
        }
        let b = st.compare.get();
        let layer = st.layer.get();
        let options: Vec<_> = doc
            .file
            .wafers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != a)
            .map(|(i, w)| view! { <option value=i.to_string() selected=Some(i) == b>{w.id.clone()}</option> })
            .collect();
        let pictures = b.filter(|&b| b < doc.file.wafers.len()).map(|b| {
            let left = png_url(&doc, Subject::Wafer(a), layer, 360).unwrap_or_default();
            let right = png_url(&doc, Subject::Wafer(b), layer, 360).unwrap_or_default();
            let (ia, ib) = (doc.file.wafers[a].id.clone(), doc.file.wafers[b].id.clone());
            view! {
                <div class="compare" id="compare">
                    <figure><img src=left alt=ia.clone()/><figcaption>{ia}</figcaption></figure>
                    <figure><img src=right alt=ib.clone()/><figcaption>{ib}</figcaption></figure>
                </div>
            }
        });
        Some(view! {
            <div class="picker">
                <label>"Compare with "
                    <select id="compare-select" on:change=move |e| st.compare.set(event_target_value(&e).parse().ok())>
                        <option value="">"—"</option>
                        {options}
                    </select>
                </label>
                {pictures}
            </div>
        })
    }
}
