//! Zones: yield and bin mix by radial ring and quadrant of the wafer shown (`stats::place`, the
//! numbers `waferscope zones` prints), with the ring count and edge exclusion to set, and the
//! rings drawn over the map (`overlay`). Counted by the parsing worker (`ask`).

use leptos::prelude::*;
use stats::ask::{Answer, Ask};
use stats::{Tally, ZoneSpec};

use crate::doc::Subject;
use crate::state::St;

fn row(name: String, t: &Tally) -> impl IntoView + use<> {
    let mut bins: Vec<(u16, usize)> = t.bins.iter().map(|(b, n)| (*b, *n)).collect();
    bins.sort_by_key(|&(b, n)| (std::cmp::Reverse(n), b));
    let top = bins
        .iter()
        .take(3)
        .map(|(b, n)| format!("{b}:{n}"))
        .collect::<Vec<_>>()
        .join(" ");
    let y = t
        .yield_
        .map_or("—".into(), |y| format!("{:.1}%", 100.0 * y));
    view! { <tr><td>{name}</td><td class="num">{t.dies}</td><td class="num">{y}</td><td>{top}</td></tr> }
}

#[component]
pub fn Zones() -> impl IntoView {
    let st = expect_context::<St>();
    let set = move |f: &dyn Fn(&mut ZoneSpec, f64), e: leptos::ev::Event| {
        if let Ok(v) = event_target_value(&e).parse::<f64>() {
            st.zones.update(|z| f(z, v));
        }
    };
    let asked = crate::ask::asked(st, move || {
        let (_, s) = st.shown()?;
        let Subject::Wafer(wafer) = s else {
            return None;
        };
        Some(Ask::Zones {
            wafer,
            first_pass: st.first_pass.get(),
            spec: st.zones.get(),
        })
    });
    move || {
        let (_, s) = st.shown()?;
        let Subject::Wafer(_) = s else { return None };
        let spec = st.zones.get();
        let Some(shown) = asked() else {
            return Some(crate::ask::counting("zones", "zones", "Zones"));
        };
        let pending = shown.pending_attr();
        let z = match &*shown.answer {
            Ok(Answer::Zones(z)) => z,
            other => return Some(crate::ask::failed("zones", "Zones", other)),
        };
        let json = serde_json::to_string(&z).unwrap_or_default();
        let rings: Vec<_> = z
            .rings
            .iter()
            .enumerate()
            .map(|(k, t)| row(format!("ring {k}"), t))
            .collect();
        let quads: Vec<_> = z
            .quadrants
            .iter()
            .enumerate()
            .map(|(q, t)| row(stats::place::QUADRANTS[q].to_string(), t))
            .collect();
        // Yield by ring as a small chart (the `charts` crate, as in the report).
        let items: Vec<(String, f64)> = z
            .rings
            .iter()
            .enumerate()
            .map(|(k, t)| (format!("ring {k}"), 100.0 * t.yield_.unwrap_or(0.0)))
            .collect();
        let chart = charts::bars(
            "yield % by ring",
            &items,
            (256, 40 + 20 * items.len() as u32),
        )
        .ok();
        Some(view! {
            <div class="panel zones" id="zones" data-json=json data-pending=pending>
                <h3>"Zones"</h3>
                <p class="muted">
                    <label>"rings "<input id="zones-rings" type="number" min="1" max="20" prop:value=spec.rings
                        on:change=move |e| set(&|z, v| z.rings = (v as u8).clamp(1, stats::place::MAX_RINGS), e) /></label>
                    <label>" edge exclusion "<input id="zones-edge" type="number" min="0" step="0.5" prop:value=spec.edge
                        on:change=move |e| set(&|z, v| z.edge = (v as f32).max(0.0), e) />" dies"</label>
                    <label>" "<input id="zones-overlay" type="checkbox" prop:checked=move || st.show_zones.get()
                        on:change=move |e| st.show_zones.set(event_target_checked(&e)) />" draw on the map"</label>
                </p>
                {chart.map(|svg| view! { <div class="chart" id="zones-chart" inner_html=svg></div> })}
                <table>
                    <thead><tr><th>"zone"</th><th>"dies"</th><th>"yield"</th><th>"top bins"</th></tr></thead>
                    <tbody>{rings}{quads}{row("excluded".into(), &z.excluded)}</tbody>
                </table>
            </div>
        }.into_any())
    }
}
