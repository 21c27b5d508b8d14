//! The stepper's field: its size and offset in dies, the field grid over the map (`overlay`),
//! and the yield at each position inside the field as a small map, where a failure repeating in
//! every field (a reticle defect) shows as one dark cell. `waferscope reticle` prints the same;
//! the parsing worker counts it (`ask`).

use leptos::prelude::*;
use stats::ReticleSpec;
use stats::ask::{Answer, Ask};

use super::css;
use crate::doc::Subject;
use crate::state::St;

#[component]
pub fn Reticle() -> impl IntoView {
    let st = expect_context::<St>();
    let set = move |f: &dyn Fn(&mut ReticleSpec, i32), e: leptos::ev::Event| {
        if let Ok(v) = event_target_value(&e).parse::<i32>() {
            st.reticle.update(|r| f(r, v));
        }
    };
    let side = |v: i32| v.clamp(1, i32::from(stats::place::MAX_RETICLE)) as u16;
    let off = |v: i32| v.clamp(-999, 999) as i16;
    let asked = crate::ask::asked(st, move || {
        let (_, s) = st.shown()?;
        let Subject::Wafer(wafer) = s else {
            return None;
        };
        Some(Ask::Reticle {
            wafer,
            first_pass: st.first_pass.get(),
            spec: st.reticle.get(),
        })
    });
    move || {
        let (doc, s) = st.shown()?;
        let Subject::Wafer(_) = s else { return None };
        let spec = st.reticle.get();
        let Some(shown) = asked() else {
            return Some(crate::ask::counting("reticle", "reticle", "Reticle"));
        };
        let pending = shown.pending_attr();
        let r = match &*shown.answer {
            Ok(Answer::Reticle(r)) => r,
            other => return Some(crate::ask::failed("reticle", "Reticle", other)),
        };
        let json = serde_json::to_string(&r).unwrap_or_default();
        let g = doc.geometry(s);
        // Cells as the map shows them: flip where the map's axes run the other way.
        let (w, h) = (usize::from(r.spec.width), usize::from(r.spec.height));
        let rows: Vec<_> = (0..h)
            .map(|row| {
                let py = if g.y_grows_up { h - 1 - row } else { row };
                let cells: Vec<_> = (0..w)
                    .map(|col| {
                        let px = if g.x_grows_left { w - 1 - col } else { col };
                        let t = &r.positions[py * w + px];
                        let style = t.yield_.map_or(String::new(), |y| {
                            format!("background:{}", css(paint::palette::ramp(y as f32)))
                        });
                        let text = t.yield_.map_or("—".into(), |y| format!("{:.0}", 100.0 * y));
                        let title = format!("position ({px}, {py}): {} dies, {} fail", t.dies, t.fail);
                        view! { <td style=style title=title data-pos=format!("{px},{py}")>{text}</td> }
                    })
                    .collect();
                view! { <tr>{cells}</tr> }
            })
            .collect();
        Some(view! {
            <div class="panel reticle" id="reticle" data-json=json data-pending=pending>
                <h3>{format!("Reticle · {} fields", r.fields)}</h3>
                <p class="muted">
                    <label>"field "<input id="reticle-width" type="number" min="1" max="64" prop:value=spec.width
                        on:change=move |e| set(&|r, v| r.width = side(v), e) /></label>
                    <label>" × "<input id="reticle-height" type="number" min="1" max="64" prop:value=spec.height
                        on:change=move |e| set(&|r, v| r.height = side(v), e) />" dies"</label><br/>
                    <label>"first die at x "<input id="reticle-dx" type="number" prop:value=spec.offset[0]
                        on:change=move |e| set(&|r, v| r.offset[0] = off(v), e) /></label>
                    <label>" y "<input id="reticle-dy" type="number" prop:value=spec.offset[1]
                        on:change=move |e| set(&|r, v| r.offset[1] = off(v), e) /></label>
                    <label>" "<input id="reticle-overlay" type="checkbox" prop:checked=move || st.show_reticle.get()
                        on:change=move |e| st.show_reticle.set(event_target_checked(&e)) />" draw the fields"</label>
                </p>
                <p class="muted">"Yield (%) at each position of the field:"</p>
                <table class="reticle-map"><tbody>{rows}</tbody></table>
            </div>
        }.into_any())
    }
}
