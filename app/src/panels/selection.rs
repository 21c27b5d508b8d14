//! The dies chosen on the map (shift-drag: a rectangle, or a lasso when the panel's "Lasso" is
//! ticked): their count and yield beside the rest of the wafer, and the test the map shows
//! inside against outside (`waferscope stats --rect` or `--lasso` gives the same numbers).

use leptos::prelude::*;
use paint::Layer;
use stats::{Region, Tally};

use crate::doc::Subject;
use crate::state::St;

fn line(t: &Tally) -> String {
    let y = t
        .yield_
        .map_or("—".into(), |y| format!("{:.2}%", 100.0 * y));
    format!("{} dies, yield {y}", t.dies)
}

#[component]
pub fn Selection() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let (doc, s) = st.shown()?;
        let Subject::Wafer(i) = s else { return None };
        let shape = view! {
            <label class="muted" title="Shift-drag draws a free shape instead of a rectangle">
                <input type="checkbox" id="selection-lasso-mode" prop:checked=move || st.lasso.get()
                    on:change=move |e| st.lasso.set(event_target_checked(&e)) />
                " Lasso"
            </label>
        };
        let Some(r) = st.selection.get() else {
            return Some(view! {
                <p class="muted hint" id="selection-hint">"Shift-drag on the map to select dies " {shape}</p>
            }.into_any());
        };
        // The first pass when the map shows it, as the zones and the sites count.
        let first = st.first_pass.get();
        let d = if first {
            doc.first_pass(i)
        } else {
            &doc.file.wafers[i].dies
        };
        let inside = r.rows(d);
        let mut is_in = vec![false; d.len()];
        for &k in &inside {
            is_in[k] = true;
        }
        let outside: Vec<usize> = (0..d.len()).filter(|&k| !is_in[k]).collect();
        let (sel, rest) = (
            Tally::of(d, inside.iter().copied()),
            Tally::of(d, outside.iter().copied()),
        );
        // The keys `waferscope stats --rect` / `--lasso --json` write.
        let json = match &r {
            Region::Rect(rect) => {
                serde_json::json!({ "rect": rect, "selection": &sel, "rest": &rest })
            }
            Region::Lasso(l) => {
                serde_json::json!({ "lasso": &l.points, "selection": &sel, "rest": &rest })
            }
        }
        .to_string();
        let test = match st.layer.get() {
            Layer::Test(t) => {
                let lim = stats::limits(&doc.file.tests.tests[t]);
                let sum = |rows: &[usize]| {
                    stats::summarize(rows.iter().map(|&k| f64::from(d.value(t, k))), lim)
                };
                let (a, b) = (sum(&inside), sum(&outside));
                let num = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.4}"));
                Some(view! {
                    <table><thead><tr><th>{format!("test {}", doc.file.tests.tests[t].number)}</th><th>"n"</th><th>"fails"</th><th>"mean"</th><th>"σ"</th></tr></thead>
                    <tbody>
                        <tr><td>"selection"</td><td class="num">{a.count}</td><td class="num">{a.fails}</td><td class="num">{num(a.mean)}</td><td class="num">{num(a.sigma)}</td></tr>
                        <tr><td>"rest"</td><td class="num">{b.count}</td><td class="num">{b.fails}</td><td class="num">{num(b.mean)}</td><td class="num">{num(b.sigma)}</td></tr>
                    </tbody></table>
                })
            }
            _ => None,
        };
        Some(view! {
            <div class="panel selection" id="selection" data-dies=sel.dies data-json=json>
                <h3>{format!("Selection · {}{}", r.describe(), if first { " · first pass" } else { "" })}</h3>
                <p>{format!("Selected: {}", line(&sel))}</p>
                <p>{format!("Rest of the wafer: {}", line(&rest))}</p>
                {test}
                <button id="selection-clear" on:click=move |_| crate::overlay::select(st, None)>"Clear the selection"</button>
                {shape}
            </div>
        }.into_any())
    }
}
