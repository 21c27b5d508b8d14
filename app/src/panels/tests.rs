//! The test list: every parametric test's statistics over the wafer on screen (or, stacked, over
//! the whole file), as the parsing worker computed them (`stats`), sortable by fails ("what fails
//! most") and by Cpk ("what is closest to its limit"). A click colours the map by that test. The
//! worker keeps the statistics and sorts them; the page asks for the rows it shows (`ask`).

use leptos::prelude::*;
use paint::Layer;
use stats::ask::{Answer, Ask, TestOrder};

use crate::doc::Subject;
use crate::state::St;

/// Rows drawn at most; the rest are a sort away.
const SHOWN: usize = 100;

fn num(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.4}"))
}

#[component]
pub fn Tests() -> impl IntoView {
    let st = expect_context::<St>();
    let order = RwSignal::new(TestOrder::Fails);
    let button = move |o: TestOrder, label: &'static str, id: &'static str| {
        view! {
            <button id=id class:active=move || order.get() == o on:click=move |_| order.set(o)>{label}</button>
        }
    };
    let asked = crate::ask::asked(st, move || {
        let (_, s) = st.shown()?;
        let wafer = match s {
            Subject::Wafer(i) => Some(i),
            Subject::Stack => None,
        };
        Some(Ask::Tests {
            wafer,
            order: order.get(),
            first: SHOWN,
        })
    });
    move || {
        let (doc, _) = st.shown()?;
        // The worker's list: sorted there, the first SHOWN rows here (Flex_3 has 1,352 tests).
        let shown = asked()?;
        let (Ok(Answer::Tests(list)), Ask::Tests { wafer, .. }) = (&*shown.answer, &shown.ask)
        else {
            return None;
        };
        let pending = shown.pending_attr();
        let wafer = wafer.and_then(|i| Some(doc.file.wafers.get(i)?.id.clone()));
        let total = list.total;
        let tests = list.tests.clone();
        let rows: Vec<_> = tests
            .into_iter()
            .take(SHOWN)
            .map(|t| {
                let index = doc.file.tests.find(t.number);
                let json = serde_json::to_string(&t).unwrap_or_default();
                let s = &t.summary;
                view! {
                    <tr data-number=t.number data-stats=json title="Colour the map by this test"
                        class:current=move || index.is_some_and(|i| st.layer.get() == Layer::Test(i))
                        on:click=move |_| if let Some(i) = index { st.layer.set(Layer::Test(i)) }>
                        <td>{t.number}</td><td>{t.name.clone()}</td><td>{t.units.clone()}</td>
                        <td class="num">{s.count}</td><td class="num">{s.fails}</td>
                        <td class="num">{num(s.mean)}</td><td class="num">{num(s.sigma)}</td>
                        <td class="num">{num(s.min)}</td><td class="num">{num(s.max)}</td>
                        <td class="num">{s.cpk.map_or("—".into(), |c| format!("{c:.3}"))}</td>
                    </tr>
                }
            })
            .collect();
        let scope_name = wafer.clone().unwrap_or_else(|| "every wafer".into());
        Some(view! {
            <div class="panel tests" id="tests" data-scope=wafer.unwrap_or_else(|| "*".into()) data-count=total data-pending=pending>
                <h3>{format!("Tests · {scope_name}")}</h3>
                <p class="muted">"Sort: " {button(TestOrder::Fails, "most fails", "tests-by-fails")} " "
                    {button(TestOrder::Cpk, "lowest Cpk", "tests-by-cpk")} " "
                    {button(TestOrder::Number, "number", "tests-by-number")}
                    {(total > SHOWN).then(|| format!(" · the first {SHOWN} of {total}"))}
                    {st.stats_ms.get().map(|ms| format!(" · computed in {ms:.0} ms off the page's thread"))}</p>
                {(total == 0).then(|| view! { <p class="muted">"No parametric results here."</p> })}
                <div class="tests-scroll"><table>
                    <thead><tr><th>"test"</th><th>"name"</th><th>"units"</th><th>"n"</th><th>"fails"</th>
                        <th>"mean"</th><th>"σ"</th><th>"min"</th><th>"max"</th><th>"Cpk"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table></div>
            </div>
        })
    }
}
