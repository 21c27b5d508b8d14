//! The legend: bins with their colours and counts (click a row to hide or show that bin), or the
//! colour ramp of a test's values with where its ends come from.

use leptos::prelude::*;
use paint::Layer;
use paint::palette::LimitSource;

use super::css;
use crate::details::fmt_value;
use crate::doc::Subject;
use crate::state::St;

#[component]
pub fn Legend() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        // The subject as shown (one of this file's), whatever the colours' turn.
        let (doc, subject) = st.shown()?;
        let coloring = st.coloring.get()?;
        let dies = doc.dies(subject);
        let n = dies.len().max(1);
        if let Some((lo, hi, source)) = coloring.limits {
            let (title, units) = match (subject, st.layer.get()) {
                (Subject::Stack, _) => ("Fail % over all wafers".to_string(), "%".to_string()),
                (_, Layer::Test(t)) => {
                    let i = &doc.file.tests.tests[t];
                    (format!("{} {}", i.number, i.name), i.units.clone())
                }
                _ => (String::new(), String::new()),
            };
            let src = match source {
                LimitSource::Spec => "spec limits",
                LimitSource::Percentiles => "1st–99th percentile",
                LimitSource::Empty => "no values",
            };
            let stops: Vec<String> = (0..=8)
                .map(|i| css(paint::palette::ramp(i as f32 / 8.0)))
                .collect();
            let gradient = format!("background: linear-gradient(to right, {})", stops.join(","));
            let missing = coloring
                .keys
                .iter()
                .filter(|&&k| k == paint::palette::KEY_NO_VALUE)
                .count();
            return Some(view! {
                <div class="legend" id="legend">
                    <h3>{title}</h3>
                    <div class="ramp" style=gradient></div>
                    <div class="ramp-labels"><span>{fmt_value(lo)}</span><span>{units}</span><span>{fmt_value(hi)}</span></div>
                    <p class="muted">{format!("colour range: {src}; {missing} dies without a value")}</p>
                </div>
            }
            .into_any());
        }
        let rows: Vec<_> = coloring
            .legend
            .iter()
            .map(|e| {
                let bin = e.bin;
                let pct = 100.0 * e.count as f64 / n as f64;
                let pf = match e.pass {
                    Some(true) => "P",
                    Some(false) => "F",
                    None => "?",
                };
                let class = if e.hidden { "legend-row hidden" } else { "legend-row" };
                view! {
                    <tr class=class data-bin=bin title="click to hide or show this bin" on:click=move |_| {
                        st.hidden.update(|h| if !h.remove(&bin) { h.insert(bin); });
                    }>
                        <td><span class="swatch" style=format!("background:{}", css(e.color))></span></td>
                        <td>{bin}</td>
                        <td>{e.name.clone()}</td>
                        <td class="num">{e.count}</td>
                        <td class="num">{format!("{pct:.1}%")}</td>
                        <td>{pf}</td>
                    </tr>
                }
            })
            .collect();
        Some(view! {
            <div class="legend" id="legend">
                <table>
                    <thead><tr><th></th><th>"Bin"</th><th>"Name"</th><th>"Dies"</th><th>"%"</th><th>"P/F"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any())
    }
}
