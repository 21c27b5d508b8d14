//! Reading a map back from the GPU: draw it into an offscreen texture and copy the pixels to a
//! [`Canvas`] (export, and the tests' pixel checks). Async, because a WebGPU readback must not
//! block; natively it polls the device.

use std::sync::{Arc, Mutex};

use paint::{Canvas, Style, View};

use crate::{Renderer, target_texture};

impl Renderer {
    /// Encode and submit one frame off screen (1 x 1, background only). A browser compiles a
    /// wasm function on its first call, and wgpu's pass encoding is large: called once the device
    /// is made, this compiles it while the page waits for a file, not in the task that draws the
    /// first map (about 13 ms of that task on a 2-core machine, profiling the 25-wafer lot).
    pub fn warm_up(&self) {
        let target = target_texture(
            &self.device,
            1,
            1,
            self.format,
            wgpu::TextureUsages::empty(),
        );
        let mut encoder = self.device.create_command_encoder(&Default::default());
        let view = View {
            scale: 1.0,
            offset: [0.0, 0.0],
        };
        self.draw(
            &mut encoder,
            &target.create_view(&Default::default()),
            1,
            1,
            &view,
            &Style::default(),
        );
        self.queue.submit([encoder.finish()]);
    }

    /// Draw into an offscreen texture and read the pixels back (for export and for tests).
    /// Async because a WebGPU readback must not block; natively it polls the device.
    pub async fn render_to_canvas(
        &self,
        width: u32,
        height: u32,
        view: &View,
        style: &Style,
    ) -> Result<Canvas, String> {
        let texture = target_texture(
            &self.device,
            width,
            height,
            self.format,
            wgpu::TextureUsages::COPY_SRC,
        );
        let row = (width * 4).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: row as u64 * height as u64,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&Default::default());
        self.draw(
            &mut encoder,
            &texture.create_view(&Default::default()),
            width,
            height,
            view,
            style,
        );
        encoder.copy_texture_to_buffer(
            texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(row),
                    rows_per_image: Some(height),
                },
            },
            texture.size(),
        );
        self.queue.submit([encoder.finish()]);

        let done: MapResult = Arc::new(Mutex::new(None));
        let signal = done.clone();
        buffer.map_async(wgpu::MapMode::Read, .., move |r| {
            *signal.lock().expect("not poisoned") = Some(r);
        });
        wait_for(&self.device, done)
            .await?
            .map_err(|e| format!("GPU readback failed: {e}"))?;

        let data = buffer
            .slice(..)
            .get_mapped_range()
            .map_err(|e| format!("GPU readback failed: {e}"))?;
        let mut canvas = Canvas::new(width, height, [0; 4]);
        let bgra = matches!(
            self.format,
            wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Bgra8UnormSrgb
        );
        for y in 0..height as usize {
            let src = &data[y * row as usize..][..width as usize * 4];
            let dst = &mut canvas.pixels[y * width as usize * 4..][..width as usize * 4];
            dst.copy_from_slice(src);
            if bgra {
                for p in dst.chunks_exact_mut(4) {
                    p.swap(0, 2);
                }
            }
        }
        drop(data);
        buffer.unmap();
        Ok(canvas)
    }
}

type MapResult = Arc<Mutex<Option<Result<(), wgpu::BufferAsyncError>>>>;

/// Wait for a `map_async` callback. Natively, block in `poll`. In the browser, WebGPU delivers
/// the callback from its own event loop, but WebGL2 (wgpu-core) only from `poll`, which must not
/// block there: poll, then yield to the browser, until it arrives (or 10 s pass: a lost device never answers).
#[cfg(not(target_arch = "wasm32"))]
async fn wait_for(
    device: &wgpu::Device,
    done: MapResult,
) -> Result<Result<(), wgpu::BufferAsyncError>, String> {
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| format!("GPU poll failed: {e}"))?;
    let r = done.lock().expect("not poisoned").take();
    r.ok_or_else(|| "GPU readback never completed".to_string())
}

#[cfg(target_arch = "wasm32")]
async fn wait_for(
    device: &wgpu::Device,
    done: MapResult,
) -> Result<Result<(), wgpu::BufferAsyncError>, String> {
    // A wall-clock deadline: browsers throttle timers, so counting ticks could wait for minutes.
    let deadline = js_sys::Date::now() + 10_000.0;
    while js_sys::Date::now() < deadline {
        let _ = device.poll(wgpu::PollType::Poll);
        if let Some(r) = done.lock().expect("not poisoned").take() {
            return Ok(r);
        }
        let tick = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 5);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(tick).await;
    }
    Err("GPU readback timed out".into())
}
