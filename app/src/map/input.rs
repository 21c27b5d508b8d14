//! Small pieces of the map's input handling and of its canvas box, kept apart so `map` stays
//! about drawing.

use leptos::prelude::*;
use web_sys::{HtmlCanvasElement, WheelEvent};

use super::{MapHandle, dpr};
use crate::state::St;

/// The zoom factor of one wheel event.
pub(super) fn wheel_zoom(e: &WheelEvent) -> f32 {
    // Trackpad pinch arrives as a wheel event with ctrlKey; it wants a stronger factor.
    let k = if e.ctrl_key() { 0.01 } else { 0.0015 };
    let delta = match e.delta_mode() {
        1 => e.delta_y() * 16.0,
        2 => e.delta_y() * 400.0,
        _ => e.delta_y(),
    };
    (-delta * k).exp() as f32
}

/// Escape: unpin the die and drop the selection.
pub(super) fn unmark(st: St) {
    st.selected.set(None);
    crate::overlay::select(st, None);
}

/// A shift-drag moved from `start` to `p` (CSS pixels of the map): the rectangle's corner, or
/// the lasso's next point.
pub(super) fn drag_selection(st: St, start: (f64, f64), p: [f64; 2]) {
    if st.lasso.get_untracked() {
        return st.lasso_path.update(|path| {
            if path.is_empty() {
                path.push([start.0, start.1]);
            }
            path.push(p);
        });
    }
    st.dragging.set(Some([start.0, start.1, p[0], p[1]]));
}

/// The end of a shift-drag: the dragged rectangle or the drawn lasso becomes the selection
/// (none for a click).
pub(super) fn end_selection(st: St, map: MapHandle) {
    let dragged = st.dragging.get_untracked();
    st.dragging.set(None);
    let path = st.lasso_path.get_untracked();
    st.lasso_path.set(Vec::new());
    let region = if st.lasso.get_untracked() {
        crate::overlay::lasso_of_path(st, map, &path).map(stats::Region::Lasso)
    } else {
        dragged
            .and_then(|d| crate::overlay::rect_of_drag(st, map, d))
            .map(stats::Region::Rect)
    };
    crate::overlay::select(st, region);
}

/// Size the canvas's backing store to its CSS box: `css_box` as last laid out, or read now
/// (which forces a layout) before the browser has reported one.
pub(super) fn fit_canvas(c: &HtmlCanvasElement, css_box: Option<(f64, f64)>) -> (u32, u32) {
    let r = dpr();
    let (w, h) = css_box.unwrap_or_else(|| (c.client_width() as f64, c.client_height() as f64));
    let w = (w * r).round().max(1.0) as u32;
    let h = (h * r).round().max(1.0) as u32;
    if c.width() != w || c.height() != h {
        c.set_width(w);
        c.set_height(h);
    }
    (w, h)
}
