//! What one frame of the map does: upload a new map or its colours to the GPU (or the CPU
//! painter), draw it, and ask for the next frame when one is needed.

use std::rc::Rc;

use leptos::prelude::*;
use paint::{Style, View};
use wasm_bindgen::JsCast;

use super::{MapHandle, fit_canvas};
use crate::doc::Subject;
use crate::gpu::Shown;
use crate::state::now_ms;

/// What is uploaded to the GPU, so a frame re-uploads only when the map or its colours change.
#[derive(PartialEq, Clone)]
pub(super) struct Uploaded {
    doc: usize,
    subject: Subject,
    coloring: usize,
}

/// How many frames in a row may find no surface texture before the map stops retrying (a
/// second at 60 Hz); the next input or resize tries again.
const MAX_SKIPPED: u32 = 60;

impl MapHandle {
    /// Draw one frame now.
    pub fn draw_now(self) {
        self.draw(false);
    }

    /// Draw now for a new size of the canvas's box (a new map's upload still splits); while
    /// the frames are held, only note that a frame is owed.
    pub(super) fn draw_resized(self) {
        if self.held.get_value() {
            self.stale.set_value(true);
        } else {
            self.draw(true);
        }
    }

    /// Draw a frame; with `split`, a new map's upload takes this frame alone and the drawing the
    /// next one. On a software GL (SwiftShader) a frame that draws holds the page's thread for
    /// the canvas readback too, and a 40,000-die wafer's upload (grid layout, key texels, texture
    /// writes) on top of it made the first frame of a file the page's longest task.
    fn draw(self, split: bool) {
        self.stale.set_value(false);
        let st = self.st;
        let Some(canvas) = self.canvas() else { return };
        let (w, h) = fit_canvas(&canvas, self.ms.with_value(|m| m.css_box));
        let Some((doc, subject)) = st.shown() else {
            return;
        };
        let Some(coloring) = st.coloring.get_untracked() else {
            return;
        };
        let next = self
            .ms
            .try_update_value(|m| {
                let gpu = m.gpu.as_mut()?;
                gpu.resize(w, h);
                let key = Uploaded {
                    doc: Rc::as_ptr(&doc) as usize,
                    subject,
                    coloring: Rc::as_ptr(&coloring) as usize,
                };
                let g = doc.geometry(subject);
                let same_map = m
                    .uploaded
                    .as_ref()
                    .is_some_and(|u| u.doc == key.doc && u.subject == key.subject);
                if !same_map {
                    if let Err(e) = gpu.upload(&g, doc.dies(subject), &coloring) {
                        // Beyond the GPU's textures: this map is drawn on the CPU instead.
                        m.uploaded = None;
                        return Some(Next::Cpu(e));
                    }
                    if split && gpu.flush() {
                        m.uploaded = Some(key);
                        m.colored = Some(coloring.clone());
                        return Some(Next::Draw);
                    }
                } else if m.uploaded.as_ref() != Some(&key) {
                    let same_keys = m.colored.as_ref().is_some_and(|c| c.keys == coloring.keys);
                    gpu.recolor(&coloring, same_keys);
                }
                m.uploaded = Some(key);
                m.colored = Some(coloring.clone());
                let view = st
                    .view
                    .get_untracked()
                    .unwrap_or_else(|| View::fit(&g, w, h));
                let style = Style {
                    hover: st.hover.get_untracked(),
                    selected: st.selected.get_untracked(),
                    ..Style::default()
                };
                let shown = Shown {
                    geometry: &g,
                    dies: doc.dies(subject),
                    coloring: &coloring,
                };
                let drawn = gpu.draw(&shown, &view, &style, w, h);
                // Not while a file loads: the map is still the previous file's.
                if drawn
                    && st.first_frame_ms.get_untracked().is_none()
                    && st.started_at.get_untracked() > 0.0
                    && st.loading.get_untracked().is_none()
                {
                    st.first_frame_ms
                        .set(Some(now_ms() - st.started_at.get_untracked()));
                }
                let lost = !drawn && gpu.is_lost();
                if lost {
                    m.gpu = None;
                    m.uploaded = None;
                    m.webgpu_failed = true;
                }
                m.skipped = if drawn || lost { 0 } else { m.skipped + 1 };
                Some(if lost {
                    Next::Lost
                } else if (1..=MAX_SKIPPED).contains(&m.skipped) {
                    Next::Retry
                } else {
                    Next::Done
                })
            })
            .flatten()
            .unwrap_or(Next::Done);
        match next {
            // Nothing else may ask for a frame (a shared link opens with no input), so a skipped
            // frame would leave the map blank.
            Next::Retry | Next::Draw => self.request_frame(),
            Next::Lost => {
                // Start over on a new canvas, without WebGPU this time.
                st.backend
                    .set("WebGPU device lost: switching to WebGL2".into());
                self.new_canvas();
            }
            Next::Cpu(reason) => {
                self.ms.update_value(|m| {
                    m.gpu = None;
                    m.cpu = Some(reason);
                });
                self.new_canvas();
            }
            Next::Done => {}
        }
    }

    /// Coalesce redraw requests into one per animation frame.
    pub(super) fn request_frame(self) {
        self.stale.set_value(true);
        if self.frame_pending.get_value() {
            return;
        }
        self.frame_pending.set_value(true);
        let cb = wasm_bindgen::closure::Closure::once_into_js(move || {
            self.frame_pending.set_value(false);
            // Unless a resize drew since it was asked for.
            if self.stale.get_value() {
                self.draw(true);
            }
        });
        if let Some(w) = web_sys::window() {
            let _ = w.request_animation_frame(cb.unchecked_ref());
        }
    }
}

/// What a frame asks for next.
enum Next {
    Done,
    /// No surface texture this time: try again on the next animation frame.
    Retry,
    /// A new map was uploaded: draw it on the next animation frame.
    Draw,
    /// The device is gone: a new canvas, without WebGPU.
    Lost,
    /// The GPU cannot hold this map: draw on the CPU from now on.
    Cpu(String),
}
