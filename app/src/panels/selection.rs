//! The dies chosen on the map (shift-drag: a rectangle, or a lasso when the panel's "Lasso" is
//! ticked): their count and yield beside the rest of the wafer, and the test the map shows
//! inside against outside (`waferscope stats --rect` or `--lasso` gives the same numbers),
//! counted by the parsing worker (`ask`): a lasso's test over every die is not the page's work.

use leptos::prelude::*;
use paint::Layer;
use stats::ask::{Answer, Ask};
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
    let asked = crate::ask::asked(st, move || {
        let (_, s) = st.shown()?;
        let Subject::Wafer(wafer) = s else {
            return None;
        };
        let test = match st.layer.get() {
            Layer::Test(t) => Some(t),
            _ => None,
        };
        Some(Ask::Selection {
            wafer,
            // The first pass when the map shows it, as the zones and the sites count.
            first_pass: st.first_pass.get(),
            region: st.selection.get()?,
            test,
        })
    });
    move || {
        let (doc, s) = st.shown()?;
        let Subject::Wafer(_) = s else { return None };
        let shape = view! {
            <label class="muted" title="Shift-drag draws a free shape instead of a rectangle">
                <input type="checkbox" id="selection-lasso-mode" prop:checked=move || st.lasso.get()
                    on:change=move |e| st.lasso.set(event_target_checked(&e)) />
                " Lasso"
            </label>
        };
        if st.selection.get().is_none() {
            return Some(view! {
                <p class="muted hint" id="selection-hint">"Shift-drag on the map to select dies " {shape}</p>
            }.into_any());
        }
        let Some(shown) = asked() else {
            return Some(crate::ask::counting("selection", "selection", "Selection"));
        };
        let pending = shown.pending_attr();
        let Ask::Selection {
            region: r,
            first_pass: first,
            test,
            ..
        } = &shown.ask
        else {
            return None;
        };
        let (sel, rest, summaries) = match &*shown.answer {
            Ok(Answer::Selection(a)) => (&a.selection, &a.rest, &a.test),
            other => return Some(crate::ask::failed("selection", "Selection", other)),
        };
        // The keys `waferscope stats --rect` / `--lasso --json` write.
        let json = match r {
            Region::Rect(rect) => {
                serde_json::json!({ "rect": rect, "selection": sel, "rest": rest })
            }
            Region::Lasso(l) => {
                serde_json::json!({ "lasso": &l.points, "selection": sel, "rest": rest })
            }
        }
        .to_string();
        let test = test.zip(summaries.as_ref()).map(|(t, [a, b])| {
            let num = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.4}"));
            let number = doc.file.tests.tests.get(t).map_or(0, |t| t.number);
            view! {
                <table><thead><tr><th>{format!("test {number}")}</th><th>"n"</th><th>"fails"</th><th>"mean"</th><th>"σ"</th></tr></thead>
                <tbody>
                    <tr><td>"selection"</td><td class="num">{a.count}</td><td class="num">{a.fails}</td><td class="num">{num(a.mean)}</td><td class="num">{num(a.sigma)}</td></tr>
                    <tr><td>"rest"</td><td class="num">{b.count}</td><td class="num">{b.fails}</td><td class="num">{num(b.mean)}</td><td class="num">{num(b.sigma)}</td></tr>
                </tbody></table>
            }
        });
        let first = *first;
        Some(view! {
            <div class="panel selection" id="selection" data-dies=sel.dies data-json=json data-pending=pending>
                <h3>{format!("Selection · {}{}", r.describe(), if first { " · first pass" } else { "" })}</h3>
                <p>{format!("Selected: {}", line(sel))}</p>
                <p>{format!("Rest of the wafer: {}", line(rest))}</p>
                {test}
                <button id="selection-clear" on:click=move |_| crate::overlay::select(st, None)>"Clear the selection"</button>
                {shape}
            </div>
        }.into_any())
    }
}
