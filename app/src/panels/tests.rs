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
/// Rows laid out at once: more than the list's box shows (22rem, about 20 rows). The others
/// are in the page but displayed only when the list is scrolled or the page is idle. All 100 rows were 2,200 of
/// the page's 2,700 layout objects when Flex_3 opened, 13-30 ms of CPU in one layout (trace,
/// 2026-12-07), and `table-layout: fixed` did not make that cheaper.
const FIRST: usize = 30;

fn num(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.4}"))
}

/// A test's row as markup after its opening `<tr`: its number and statistics (JSON) as data,
/// then its cells.
fn row(t: &stats::TestStats) -> String {
    use report::esc;
    let s = &t.summary;
    let json = serde_json::to_string(t).unwrap_or_default();
    let mut html = format!(
        " data-number=\"{}\" data-stats=\"{}\" title=\"Colour the map by this test\"><td>{}</td><td>{}</td><td>{}</td>",
        t.number,
        esc(&json),
        t.number,
        esc(&t.name),
        esc(&t.units)
    );
    let cpk = s.cpk.map_or("—".into(), |c| format!("{c:.3}"));
    for cell in [
        s.count.to_string(),
        s.fails.to_string(),
        num(s.mean),
        num(s.sigma),
        num(s.min),
        num(s.max),
        cpk,
    ] {
        html += &format!("<td class=\"num\">{cell}</td>");
    }
    html + "</tr>"
}

#[component]
pub fn Tests() -> impl IntoView {
    let st = expect_context::<St>();
    let order = RwSignal::new(TestOrder::Fails);
    // Whether the rows after the first FIRST are displayed. Not for another wafer's list until
    // it has been laid out; then from the list's first scroll or the page's first idle moment,
    // whichever comes first: out of the opening's tasks, but never hidden for long from
    // find-in-page and screen readers.
    let more = RwSignal::new(false);
    // `try_`: an idle callback can come after the list is gone (another file opened), and a
    // disposed signal's plain accessors panic (the hostile-files browser test opens files in
    // quick succession and caught it).
    let show_more = move || {
        if more.try_get_untracked() == Some(false) {
            more.try_set(true);
        }
    };
    Effect::new(move |_| {
        st.subject.track();
        more.set(false);
    });
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
    Effect::new(move |_| {
        if more.get() || asked().is_none_or(|s| s.pending) {
            return;
        }
        let idle = wasm_bindgen::closure::Closure::once_into_js(show_more);
        if let Some(w) = web_sys::window() {
            let _ = w.request_idle_callback(wasm_bindgen::JsCast::unchecked_ref(&idle));
        }
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
        // The rows as one string of markup, set at once, and one click handler for them all:
        // built node by node (1,000 cells, a reactive class and a handler per row) they were a
        // 60-130 ms task of Flex_3's opening. Only the current row's class follows the layer.
        let rows: Vec<(Option<usize>, String)> = list
            .tests
            .iter()
            .take(SHOWN)
            .map(|t| (doc.file.tests.find(t.number), row(t)))
            .collect();
        let rows = std::sync::Arc::new(rows);
        let part = |range: std::ops::Range<usize>| {
            let rows = rows.clone();
            move || {
                let current = st.layer.get();
                let mut html = String::new();
                let n = rows.len();
                for (index, tr) in &rows[range.start.min(n)..range.end.min(n)] {
                    let on = index.is_some_and(|i| current == Layer::Test(i));
                    html += if on { "<tr class=\"current\"" } else { "<tr" };
                    html += tr;
                }
                html
            }
        };
        let (head, rest) = (part(0..FIRST), part(FIRST..SHOWN));
        let click = move |e: leptos::ev::MouseEvent| {
            use wasm_bindgen::JsCast;
            let number = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|t| t.closest("tr[data-number]").ok().flatten())
                .and_then(|tr| tr.get_attribute("data-number")?.parse::<u32>().ok());
            let index =
                number.and_then(|n| st.doc.with_untracked(|d| d.as_ref()?.file.tests.find(n)));
            if let Some(i) = index {
                st.layer.set(Layer::Test(i));
            }
        };
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
                <div class="tests-scroll" on:scroll=move |_| show_more()><table on:click=click>
                    <thead><tr><th>"test"</th><th>"name"</th><th>"units"</th><th>"n"</th><th>"fails"</th>
                        <th>"mean"</th><th>"σ"</th><th>"min"</th><th>"max"</th><th>"Cpk"</th></tr></thead>
                    <tbody inner_html=head></tbody>
                    <tbody class="later" class:shown=move || more.get() inner_html=rest></tbody>
                </table></div>
            </div>
        })
    }
}
