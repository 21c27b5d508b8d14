//! The test the map shows, as charts (the `charts` crate, as in the report): its histogram over
//! the wafer shown with the limits drawn, where a click on a bar makes that bar's dies stand out
//! on the map; and box plots per probe site and per wafer. The parsing worker counts them all
//! (`ask`; the per-wafer boxes come with its statistics): the page only draws.

use std::rc::Rc;

use leptos::prelude::*;
use paint::Layer;
use stats::ask::{Answer, Ask};
use wasm_bindgen::JsCast;

use crate::doc::Subject;
use crate::state::{Emphasis, Source, St};

const SIZE: (u32, u32) = (256, 150);

#[component]
pub fn Histogram() -> impl IntoView {
    let st = expect_context::<St>();
    let asked = crate::ask::asked(st, move || {
        let (_, s) = st.shown()?;
        let (Subject::Wafer(wafer), Layer::Test(test)) = (s, st.layer.get()) else {
            return None;
        };
        Some(Ask::Distribution { wafer, test })
    });
    let per_wafer = crate::ask::asked(st, move || {
        let doc = st.doc.get()?;
        let Layer::Test(test) = st.layer.get() else {
            return None;
        };
        (doc.file.wafers.len() > 1).then_some(Ask::WaferBoxes { test })
    });
    move || {
        let (doc, s) = st.shown()?;
        let Layer::Test(t) = st.layer.get() else {
            return None;
        };
        let Subject::Wafer(i) = s else { return None };
        let f = &doc.file;
        let info = &f.tests.tests[t];
        let (low, high) = (info.lo_limit.map(f64::from), info.hi_limit.map(f64::from));
        // The bars and the per-site boxes are counted by the parsing worker; a pending answer
        // (another test's) is not drawn beside this test's limits.
        let shown = asked();
        let dist = match shown.as_ref().map(|s| (&*s.answer, s.pending)) {
            Some((Ok(Answer::Distribution(d)), false)) => d,
            Some((other @ Err(_), false)) => {
                return Some(crate::ask::failed("histogram", "Distribution", other));
            }
            _ => {
                return Some(crate::ask::counting(
                    "histogram",
                    "histogram",
                    "Distribution",
                ));
            }
        };
        let title = format!("test {} · wafer {}", info.number, f.wafers[i].id);
        let h = match charts::histogram_of(&title, dist.bars.clone(), low, high, SIZE) {
            Ok(h) => Rc::new(h),
            Err(e) => return Some(view! { <p class="muted" id="histogram">{e}</p> }.into_any()),
        };
        let json = serde_json::json!({
            "test": info.number,
            "bars": h.bars.iter().map(|b| [b.lo, b.hi, b.count as f64]).collect::<Vec<_>>(),
            "plot_x": h.plot_x,
        })
        .to_string();
        let chosen = st.emphasis.with(|e| match e.as_deref() {
            Some(Emphasis {
                source: Source::Histogram,
                what,
                ..
            }) => Some(what.clone()),
            _ => None,
        });
        let hh = h.clone();
        let d = doc.clone();
        let click = move |e: leptos::ev::MouseEvent| {
            // The picture itself (the box around it may be wider), in its own pixels should the
            // page have scaled it.
            let Some(svg) = e
                .current_target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.first_element_child())
            else {
                return;
            };
            let r = svg.get_bounding_client_rect();
            let x = (e.client_x() as f64 - r.left()) * f64::from(hh.width) / r.width().max(1.0);
            let Some(k) = hh.bar_at(x) else { return };
            let bar = hh.bars[k];
            let last = k + 1 == hh.bars.len();
            // Which dies the bar holds: one look at each die's value, for the map to mark.
            let keep = d.file.wafers[i]
                .dies
                .values(t)
                .map(|v| bar.holds(f64::from(v), last))
                .collect();
            let what = format!("{:.4} to {:.4}", bar.lo, bar.hi);
            st.emphasis
                .set(Some(Rc::new(Emphasis::new(Source::Histogram, keep, what))));
        };
        let sites: Vec<(String, stats::BoxStats)> = dist
            .sites
            .iter()
            .map(|((_, site), b)| (format!("site {site}"), *b))
            .collect();
        let by_site = (sites.len() > 1)
            .then(|| charts::boxplots("per site", &sites, low, high, SIZE).ok())
            .flatten();
        // Per wafer: the worker's boxes (every wafer's results, sorted there with its
        // statistics), once they have come.
        let by_wafer = per_wafer().and_then(|shown| {
            let Ok(Answer::WaferBoxes(groups)) = &*shown.answer else {
                return None;
            };
            if shown.pending {
                return None;
            }
            let json = serde_json::json!(
                groups
                    .iter()
                    .map(|(w, b)| serde_json::json!([w, b.min, b.q1, b.median, b.q3, b.max]))
                    .collect::<Vec<_>>()
            )
            .to_string();
            Some((
                charts::boxplots("per wafer", groups, low, high, SIZE).ok()?,
                json,
            ))
        });
        Some(view! {
            <div class="panel histogram" id="histogram" data-json=json>
                <h3>"Distribution"</h3>
                <div class="chart" id="histogram-chart" title="Click a bar: its dies stand out on the map"
                    on:click=click inner_html=h.svg.clone()></div>
                <p class="muted">{chosen.map_or("Click a bar to mark its dies on the map".to_string(), |w| format!("Marked: values {w}"))}</p>
                {by_site.map(|svg| view! { <div class="chart" id="boxplot-sites" inner_html=svg></div> })}
                {by_wafer.map(|(svg, json)| view! { <div class="chart" id="boxplot-wafers" data-json=json inner_html=svg></div> })}
            </div>
        }.into_any())
    }
}
