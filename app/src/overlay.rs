//! What is drawn over the map in SVG, in the map's own coordinates: the rectangle or lasso being
//! dragged (shift-drag), the chosen selection, the zones (ring circles, quadrant lines) and the stepper's
//! fields (reticle grid). SVG, not the
//! renderer, so these lines stay sharp at any zoom and cost the GPU nothing.

use std::rc::Rc;

use leptos::prelude::*;
use paint::{MapGeometry, View};
use stats::ask::{Answer, Ask};
use stats::{Lasso, Rect, Region};

use crate::doc::{Doc, Subject};
use crate::map::{MapHandle, dpr};
use crate::state::{Emphasis, Source, St};

/// The wafer shown, its geometry and the current view in CSS pixels.
fn frame(st: St, map: MapHandle) -> Option<(Rc<Doc>, usize, MapGeometry, View)> {
    let (doc, s) = st.shown()?;
    let Subject::Wafer(i) = s else { return None };
    st.view.track();
    let (w, h) = map.canvas_size()?;
    let v = st.current_view(w, h)?;
    let r = dpr() as f32;
    let css = View {
        scale: v.scale / r,
        offset: [v.offset[0] / r, v.offset[1] / r],
    };
    let g = doc.geometry(s);
    Some((doc, i, g, css))
}

/// The die rectangle under two corners of a drag, in CSS pixels of the map.
pub fn rect_of_drag(st: St, map: MapHandle, d: [f64; 4]) -> Option<Rect> {
    let (_, _, g, v) = frame(st, map)?;
    let a = g.die_at(v.to_world([d[0] as f32, d[1] as f32]));
    let b = g.die_at(v.to_world([d[2] as f32, d[3] as f32]));
    Some(Rect {
        x: [a.0.min(b.0), a.0.max(b.0)],
        y: [a.1.min(b.1), a.1.max(b.1)],
    })
}

/// The lasso drawn along `path` (CSS pixels of the map), in fractional die coordinates; None
/// for fewer than 3 points (a click).
pub fn lasso_of_path(st: St, map: MapHandle, path: &[[f64; 2]]) -> Option<Lasso> {
    let (_, _, g, v) = frame(st, map)?;
    let points: Vec<[f32; 2]> = path
        .iter()
        .map(|p| {
            let d = g.die_point(v.to_world([p[0] as f32, p[1] as f32]));
            // Hundredths of a die: short to print, and far finer than a pointer.
            d.map(|c| (c * 100.0).round() / 100.0)
        })
        .collect();
    (points.len() >= 3).then_some(Lasso { points })
}

/// Choose `region` on the wafer shown: its dies stand out on the map.
pub fn select(st: St, region: Option<Region>) {
    st.selection.set(region.clone());
    let keep = region.as_ref().and_then(|r| {
        let (doc, s) = st.shown()?;
        let d = doc.try_dies(s)?;
        // Through `rows`: a lasso's test skips the dies outside its box.
        let mut keep = vec![false; d.len()];
        for row in r.rows(d) {
            keep[row] = true;
        }
        Some(keep)
    });
    let was_selection = st
        .emphasis
        .with_untracked(|e| e.as_ref().is_some_and(|e| e.source == Source::Selection));
    match (keep, region) {
        (Some(keep), Some(r)) => st.emphasis.set(Some(Rc::new(Emphasis::new(
            Source::Selection,
            keep,
            r.describe(),
        )))),
        _ if was_selection => st.emphasis.set(None),
        _ => {}
    }
}

#[component]
pub fn Overlay(map: MapHandle) -> impl IntoView {
    let st = expect_context::<St>();
    let drag = move || {
        st.dragging.get().map(|d| {
            let (x, y) = (d[0].min(d[2]), d[1].min(d[3]));
            let (w, h) = ((d[2] - d[0]).abs(), (d[3] - d[1]).abs());
            view! { <rect class="drag" x=x y=y width=w height=h></rect> }
        })
    };
    let path = move || {
        let path = st.lasso_path.get();
        (path.len() >= 2).then(|| {
            let points = svg_points(path.iter().map(|p| [p[0] as f32, p[1] as f32]));
            view! { <polyline class="drag" points=points></polyline> }
        })
    };
    let selection = move || {
        let region = st.selection.get()?;
        let (_, _, g, v) = frame(st, map)?;
        Some(match region {
            Region::Rect(r) => {
                // The union of the corner dies' rectangles, whichever way the axes run.
                let a = g.die_rect(r.x[0], r.y[0]);
                let b = g.die_rect(r.x[1], r.y[1]);
                let p = v.to_pixel([a[0].min(b[0]), a[1].min(b[1])]);
                let q = v.to_pixel([a[2].max(b[2]), a[3].max(b[3])]);
                view! {
                    <rect id="selection-rect" class="selection" x=p[0] y=p[1] width=q[0] - p[0] height=q[1] - p[1]></rect>
                }
                .into_any()
            }
            Region::Lasso(l) => {
                let points = svg_points(l.points.iter().map(|&d| v.to_pixel(g.world_of(d))));
                view! { <polygon id="selection-lasso" class="selection" points=points></polygon> }
                    .into_any()
            }
        })
    };
    // The wafer's radius comes with its zones from the parsing worker: finding it walks every
    // die, which is not a pan's work.
    let zones_asked = crate::ask::asked(st, move || {
        if !st.show_zones.get() {
            return None;
        }
        let (_, Subject::Wafer(wafer)) = st.shown()? else {
            return None;
        };
        Some(Ask::Zones {
            wafer,
            first_pass: st.first_pass.get(),
            spec: st.zones.get(),
        })
    });
    let zones = move || {
        if !st.show_zones.get() {
            return None;
        }
        let (_, _, g, v) = frame(st, map)?;
        let shown = zones_asked()?;
        let (Ok(Answer::Zones(z)), false) = (&*shown.answer, shown.pending) else {
            return None;
        };
        let (spec, radius) = (z.spec, z.radius);
        // Zone radii are in die widths; world units are die heights.
        let unit = g.die_w * v.scale;
        let c = v.to_pixel(g.center);
        let inner = (radius as f32 - spec.edge.max(0.0)).max(0.0);
        let mut radii: Vec<f32> = (1..=spec.rings)
            .map(|k| inner * k as f32 / spec.rings as f32)
            .collect();
        if spec.edge > 0.0 {
            radii.push(radius as f32);
        }
        let circles: Vec<_> = radii
            .into_iter()
            .map(|r| view! { <circle class="zone" cx=c[0] cy=c[1] r=r * unit></circle> })
            .collect();
        let reach = inner * unit;
        Some(view! {
            <g id="zones-drawn" data-rings=spec.rings>
                {circles}
                <line class="zone" x1=c[0] - reach y1=c[1] x2=c[0] + reach y2=c[1]></line>
                <line class="zone" x1=c[0] y1=c[1] - reach x2=c[0] y2=c[1] + reach></line>
            </g>
        })
    };
    let reticle = move || {
        if !st.show_reticle.get() {
            return None;
        }
        let (_, _, g, v) = frame(st, map)?;
        let spec = st.reticle.get();
        let (cols, rows) = g.grid_size();
        let centre = |x: i16, y: i16| {
            let r = g.die_rect(x, y);
            [(r[0] + r[2]) / 2.0, (r[1] + r[3]) / 2.0]
        };
        // Field edges fall between die b - 1 and die b where b is a field's first column or row.
        let first =
            |b: i16, w: u16, d: i16| (i32::from(b) - i32::from(d)).rem_euclid(i32::from(w)) == 0;
        let mut lines = Vec::new();
        for b in g.x_min.saturating_add(1)..=g.x_max {
            if first(b, spec.width, spec.offset[0]) {
                let x = (centre(b - 1, g.y_min)[0] + centre(b, g.y_min)[0]) / 2.0;
                lines.push((v.to_pixel([x, 0.0]), v.to_pixel([x, rows as f32])));
            }
        }
        for b in g.y_min.saturating_add(1)..=g.y_max {
            if first(b, spec.height, spec.offset[1]) {
                let y = (centre(g.x_min, b - 1)[1] + centre(g.x_min, b)[1]) / 2.0;
                lines.push((v.to_pixel([0.0, y]), v.to_pixel([cols as f32 * g.die_w, y])));
            }
        }
        let lines: Vec<_> = lines
            .into_iter()
            .map(|(a, b)| view! { <line class="field" x1=a[0] y1=a[1] x2=b[0] y2=b[1]></line> })
            .collect();
        Some(view! { <g id="reticle-drawn">{lines}</g> })
    };
    view! { <svg class="overlay" id="overlay">{reticle}{zones}{selection}{drag}{path}</svg> }
}

/// SVG's `points` attribute.
fn svg_points(points: impl Iterator<Item = [f32; 2]>) -> String {
    points
        .map(|p| format!("{:.1},{:.1}", p[0], p[1]))
        .collect::<Vec<_>>()
        .join(" ")
}
