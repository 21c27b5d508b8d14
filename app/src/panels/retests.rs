//! Retests: the first pass against the final map. A toggle shows each retested die's first
//! result; a check box makes the dies whose bin a retest changed stand out, with their count
//! (counted by the parsing worker, `ask`).

use std::rc::Rc;

use leptos::prelude::*;
use stats::ask::{Answer, Ask};

use crate::doc::Subject;
use crate::state::{Emphasis, Source, St};

fn pct(y: Option<f64>) -> String {
    y.map_or("—".into(), |y| format!("{:.2}%", 100.0 * y))
}

#[component]
pub fn Retests() -> impl IntoView {
    let st = expect_context::<St>();
    let asked = crate::ask::asked(st, move || {
        let (doc, s) = st.shown()?;
        let Subject::Wafer(wafer) = s else {
            return None;
        };
        (!doc.file.wafers[wafer].first_pass.is_empty()).then_some(Ask::Retests { wafer })
    });
    move || {
        let (doc, s) = st.shown()?;
        let Subject::Wafer(i) = s else { return None };
        let w = &doc.file.wafers[i];
        if w.first_pass.is_empty() {
            return None;
        }
        let Some(shown) = asked() else {
            return Some(crate::ask::counting("retests", "retests", "Retests"));
        };
        let r = match &*shown.answer {
            Ok(Answer::Retests(r)) => r,
            other => return Some(crate::ask::failed("retests", "Retests", other)),
        };
        let json = serde_json::to_string(&r).unwrap_or_default();
        let first = st.first_pass.get();
        let marked = st
            .emphasis
            .with(|e| e.as_ref().is_some_and(|e| e.source == Source::Retests));
        let changed_rows: Vec<u32> = w.bin_changes().map(|f| f.row).collect();
        let n = w.dies.len();
        let toggle = move |on: bool| {
            if !on {
                st.emphasis.set(None);
                return;
            }
            let mut keep = vec![false; n];
            for &r in &changed_rows {
                keep[r as usize] = true;
            }
            let what = format!("{} dies whose bin a retest changed", changed_rows.len());
            st.emphasis
                .set(Some(Rc::new(Emphasis::new(Source::Retests, keep, what))));
        };
        Some(view! {
            <div class="panel retests" id="retests" data-retested=r.retested data-changed=r.changed
                data-pass=if first { "first" } else { "final" } data-json=json>
                <h3>"Retests"</h3>
                <p>{format!("{} dies retested · {} changed hard bin ({} fail → pass, {} pass → fail)",
                    r.retested, r.changed, r.recovered, r.lost)}</p>
                <p>{format!("Yield {} first pass → {} final", pct(r.first.yield_), pct(r.last.yield_))}</p>
                <p>"Show: "
                    <button id="pass-final" class:active=!first on:click=move |_| st.first_pass.set(false)>"final"</button>" "
                    <button id="pass-first" class:active=first on:click=move |_| st.first_pass.set(true)>"first pass"</button></p>
                <label><input type="checkbox" id="retest-highlight" prop:checked=marked
                    on:change=move |e| toggle(event_target_checked(&e)) />
                    {format!(" Make the {} changed dies stand out", r.changed)}</label>
            </div>
        }.into_any())
    }
}
