//! The wafer's yield and its fail-bin pareto (counted by the parsing worker, `ask`), or,
//! stacked, how many wafers.

use leptos::prelude::*;
use stats::ask::{Answer, Ask};

use super::css;
use crate::doc::Subject;
use crate::state::{Emphasis, Source, St};

/// A pareto bar's click: its bin's dies stand out on the map; a second click clears it.
fn mark_bin(st: St, bin: u16) {
    let again = st
        .emphasis
        .with_untracked(|e| e.as_ref().is_some_and(|e| e.source == Source::Bin(bin)));
    if again {
        return st.emphasis.set(None);
    }
    let Some((doc, s)) = st.shown() else { return };
    let Some(d) = doc.try_dies(s) else { return };
    let keep = d.hard_bin.iter().map(|&b| b == bin).collect();
    let e = Emphasis::new(Source::Bin(bin), keep, format!("hard bin {bin}"));
    st.emphasis.set(Some(std::rc::Rc::new(e)));
}

#[component]
pub fn Summary() -> impl IntoView {
    let st = expect_context::<St>();
    let asked = crate::ask::asked(st, move || {
        let (_, s) = st.shown()?;
        let Subject::Wafer(wafer) = s else {
            return None;
        };
        Some(Ask::Pareto { wafer })
    });
    move || {
        let doc = st.doc.get()?;
        let Subject::Wafer(i) = st.subject.get() else {
            return Some(view! { <div class="summary"><p>{format!("{} wafers stacked", doc.file.wafers.len())}</p></div> }.into_any());
        };
        let w = doc.file.wafers.get(i)?;
        let d = &w.dies;
        let pass = doc.passing(i);
        let y = doc.yield_of(i).unwrap_or(0.0) * 100.0;
        // Pareto of failing hard bins over the final dies, counted by the parsing worker.
        let shown = asked();
        let pending = shown.as_ref().is_none_or(|s| s.pending).then_some("1");
        let pareto = match shown.as_ref().map(|s| &*s.answer) {
            Some(Ok(Answer::Pareto(p))) => p.as_slice(),
            _ => &[],
        };
        let top = pareto.first().map_or(1, |p| p.1).max(1);
        let bars: Vec<_> = pareto
            .iter()
            .take(10)
            .map(|&(bin, n)| {
                let pass = doc.file.bins.hard.get(&bin).and_then(|b| b.pass);
                let name = doc
                    .file
                    .bins
                    .hard
                    .get(&bin)
                    .map(|b| b.name.clone())
                    .unwrap_or_default();
                let width = format!(
                    "width:{}%;background:{}",
                    100 * n / top,
                    css(paint::palette::bin_color(bin, pass))
                );
                let on = move |_| mark_bin(st, bin);
                view! {
                    <div class="bar-row" data-bin=bin title="Make this bin's dies stand out on the map" on:click=on>
                        <span class="bar-label">{format!("{bin} {name}")}</span>
                        <span class="bar" style=width></span><span class="num">{n}</span></div>
                }
            })
            .collect();
        Some(view! {
            <div class="summary" id="summary" data-pending=pending>
                <p id="yield"><b>{format!("Yield {y:.2}%")}</b>{format!(" · {pass} of {} dies pass", d.len())}</p>
                <p class="muted">{format!("{} parts tested, {} retests superseded", w.parts, w.superseded)}</p>
                <h3>"Fail bin pareto"</h3>
                {bars}
            </div>
        }
        .into_any())
    }
}
