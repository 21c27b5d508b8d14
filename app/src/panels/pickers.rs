//! What the map shows: the wafer picker (one wafer, or all stacked) and the layer picker (hard
//! bin, soft bin, or a parametric test, searchable by number or name).

use std::collections::BTreeSet;

use leptos::prelude::*;
use paint::Layer;

use crate::details;
use crate::doc::Subject;
use crate::state::St;

#[component]
pub fn WaferPicker() -> impl IntoView {
    let st = expect_context::<St>();
    let options = move || {
        let doc = st.doc.get()?;
        let wafers: Vec<_> = doc
            .file
            .wafers
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let y = doc
                    .yield_of(i)
                    .map_or("–".into(), |y| format!("{:.1}%", y * 100.0));
                let id = if w.id.is_empty() {
                    "(no id)"
                } else {
                    w.id.as_str()
                };
                let label = format!("{id} · {} dies · {y}", w.dies.len());
                view! { <option value=i.to_string()>{label}</option> }
            })
            .collect();
        let many = doc.file.wafers.len() > 1;
        Some(view! {
            <label>"Wafer "
                <select id="wafer-select" on:change=move |e| {
                    let v = event_target_value(&e);
                    st.subject.set(if v == "stack" { Subject::Stack } else { Subject::Wafer(v.parse().unwrap_or(0)) });
                    st.view.set(None);
                    st.selected.set(None);
                    st.hover.set(None);
                }>
                    {wafers}
                    {many.then(|| view! { <option value="stack">"All wafers stacked (fail %)"</option> })}
                </select>
            </label>
        })
    };
    view! { <div class="picker">{options}</div> }
}

#[component]
pub fn LayerPicker() -> impl IntoView {
    let st = expect_context::<St>();
    let query = RwSignal::new(String::new());
    let options = move || {
        let doc = st.doc.get()?;
        let Subject::Wafer(w) = st.subject.get() else {
            return None;
        };
        let dies = &doc.file.wafers.get(w)?.dies;
        let (tests, matching) =
            details::test_choices(&doc.file, dies, &query.get(), details::MAX_TEST_CHOICES);
        let more = matching - tests.len();
        // Layer names are paint's (`hbin`, `sbin`, `test:NUMBER`), as at the edge and in the CLI.
        let layer = st.layer.get();
        let current = layer.name(&doc.file);
        let mut choices: Vec<(String, String)> = vec![
            ("hbin".into(), "Hard bin".into()),
            ("sbin".into(), "Soft bin".into()),
        ];
        choices.extend(tests.into_iter().map(|c| (c.value, c.label)));
        // The map's test stays named when the search leaves it out.
        if let (Layer::Test(t), false) = (layer, choices.iter().any(|(v, _)| *v == current)) {
            let label = doc.file.tests.tests.get(t).map(details::test_label);
            choices.insert(0, (current.clone(), label.unwrap_or_default()));
        }
        // One string for the browser's parser: 500 tests as elements built one by one held the
        // page's thread for 40-60 ms (Flex_3, CPU profile).
        let mut html = String::new();
        for (value, label) in &choices {
            let selected = if *value == current { " selected" } else { "" };
            html += &format!(
                "<option value=\"{}\"{selected}>{}</option>",
                report::esc(value),
                report::esc(label)
            );
        }
        if more > 0 {
            html += &format!(
                "<option disabled id=\"layer-more\">… {more} more test{}: search by number or name</option>",
                if more == 1 { "" } else { "s" }
            );
        }
        Some(view! {
            <label>"Layer "
                <input id="layer-search" type="search" placeholder="search tests by number or name"
                    prop:value=move || query.get()
                    on:input=move |e| query.set(event_target_value(&e)) />
                <select id="layer-select" inner_html=html on:change=move |e| {
                    let v = event_target_value(&e);
                    let file = st.doc.with_untracked(|d| d.as_ref().map(|d| Layer::parse(&v, &d.file)));
                    st.layer.set(file.and_then(Result::ok).unwrap_or(Layer::HardBin));
                    st.hidden.set(BTreeSet::new());
                }></select>
            </label>
        })
    };
    view! { <div class="picker">{options}</div> }
}
