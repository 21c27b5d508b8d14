//! What draws the map on one canvas: WebGPU when the browser has it, else WebGL2, else the CPU
//! (`paint`'s rasterizer into a 2D canvas), so the map never stays blank.
//!
//! A canvas keeps the kind of context it was first given, so falling back after a lost WebGPU
//! device (driver reset, or headless Chromium's SwiftShader, which destroys the device on its
//! first present) means a fresh canvas: the caller swaps the element and calls [`Gpu::init`] again
//! with `allow_webgpu = false`, or [`Gpu::cpu`] once WebGL2 has failed too.
//!
//! The CPU painter runs on the page's thread, not in the parsing worker: the page holds the die
//! table, the colouring and the view, and a worker would need its own copy of the dies and a
//! message round trip per frame. It is the last resort (no WebGL at all, or a die grid too large
//! for the GPU's textures), and it draws a million dies in tens of milliseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use paint::{Canvas, Coloring, MapGeometry, Style, View, palette, raster};
use render::Renderer;
use wafer::DieTable;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

thread_local! {
    /// Whether this browser offers a WebGPU adapter, once asked.
    static WEBGPU: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Whether this browser has WebGPU (an adapter is to be had), asked once per page. It picks the
/// classifier worker (`classify`) and what the service worker keeps for offline use (`pwa`).
/// Asked first at start, before the map holds a device (a headless Chromium has no second
/// adapter to give while one does).
pub async fn webgpu_available() -> bool {
    if let Some(known) = WEBGPU.get() {
        return known;
    }
    let known = wgpu::util::is_browser_webgpu_supported().await;
    WEBGPU.set(Some(known));
    known
}

/// Which browser API draws the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    WebGpu,
    WebGl2,
    /// `paint`'s rasterizer into a 2D canvas.
    Cpu,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::WebGpu => "WebGPU",
            Backend::WebGl2 => "WebGL2",
            Backend::Cpu => "CPU",
        }
    }
}

/// The map a frame shows, for painters that draw from the die table itself (the CPU one).
pub struct Shown<'a> {
    pub geometry: &'a MapGeometry,
    pub dies: &'a DieTable,
    pub coloring: &'a Coloring,
}

pub struct Gpu {
    pub backend: Backend,
    pub adapter_name: String,
    painter: Painter,
}

enum Painter {
    // Boxed: one painter lives per canvas, and the variants differ in size by ~500 bytes.
    Gpu(Box<GpuPainter>),
    Cpu(CpuPainter),
}

struct GpuPainter {
    /// Kept alive: on WebGPU, dropping the instance invalidates everything made from it.
    _instance: wgpu::Instance,
    surface: wgpu::Surface<'static>,
    device: wgpu::Device,
    config: wgpu::SurfaceConfiguration,
    renderer: Renderer,
    lost: Arc<AtomicBool>,
}

struct CpuPainter {
    context: CanvasRenderingContext2d,
    /// Reused between frames: a 1024 x 1024 map is 4 MB of pixels.
    pixels: Canvas,
}

/// What can draw the current view off screen, for reading pixels back (tests, export). A clone of
/// the GPU renderer, so an await holds no borrow of the map.
pub enum Snapshot {
    Gpu(Box<Renderer>),
    Cpu,
}

impl Gpu {
    /// Set up drawing on `canvas`: WebGPU first (if allowed and available), else WebGL2.
    /// `on_lost` runs when the device goes away, so the caller can redraw (and fall back) at once.
    pub async fn init(
        canvas: HtmlCanvasElement,
        allow_webgpu: bool,
        on_lost: impl Fn() + Send + 'static,
    ) -> Result<Gpu, String> {
        let (w, h) = (canvas.width().max(1), canvas.height().max(1));
        if allow_webgpu && wgpu::util::is_browser_webgpu_supported().await {
            let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
                backends: wgpu::Backends::BROWSER_WEBGPU,
                ..wgpu::InstanceDescriptor::new_without_display_handle()
            });
            if let Ok(adapter) = instance.request_adapter(&Default::default()).await {
                let surface = instance
                    .create_surface(wgpu::SurfaceTarget::Canvas(canvas.clone()))
                    .map_err(|e| format!("WebGPU canvas: {e}"))?;
                return Self::finish(instance, Backend::WebGpu, adapter, surface, w, h, on_lost)
                    .await;
            }
        }
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::GL,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let surface = instance
            .create_surface(wgpu::SurfaceTarget::Canvas(canvas))
            .map_err(|e| format!("this browser offers neither WebGPU nor WebGL2 ({e})"))?;
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                compatible_surface: Some(&surface),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("no WebGL2 adapter: {e}"))?;
        Self::finish(instance, Backend::WebGl2, adapter, surface, w, h, on_lost).await
    }

    async fn finish(
        instance: wgpu::Instance,
        backend: Backend,
        adapter: wgpu::Adapter,
        surface: wgpu::Surface<'static>,
        w: u32,
        h: u32,
        on_lost: impl Fn() + Send + 'static,
    ) -> Result<Gpu, String> {
        let limits = match backend {
            Backend::WebGpu => wgpu::Limits::defaults(),
            Backend::WebGl2 | Backend::Cpu => wgpu::Limits::downlevel_webgl2_defaults(),
        }
        .using_resolution(adapter.limits());
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("waferscope"),
                required_limits: limits,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("{} device: {e}", backend.label()))?;
        let lost = Arc::new(AtomicBool::new(false));
        let flag = lost.clone();
        device.set_device_lost_callback(move |_, _| {
            flag.store(true, Ordering::SeqCst);
            on_lost();
        });
        let mut config = surface
            .get_default_config(&adapter, w, h)
            .ok_or_else(|| format!("{} cannot draw on this canvas", backend.label()))?;
        // Plain (non-sRGB) formats pass palette bytes through; the shader handles sRGB ones.
        let caps = surface.get_capabilities(&adapter);
        if let Some(f) = caps.formats.iter().find(|f| !f.is_srgb()) {
            config.format = *f;
        }
        surface.configure(&device, &config);
        let renderer = Renderer::new(&device, &queue, config.format);
        renderer.warm_up();
        Ok(Gpu {
            backend,
            adapter_name: adapter.get_info().name,
            painter: Painter::Gpu(Box::new(GpuPainter {
                _instance: instance,
                surface,
                device,
                config,
                renderer,
                lost,
            })),
        })
    }

    /// Draw on `canvas` with the CPU: for a browser with neither WebGPU nor WebGL2.
    pub fn cpu(canvas: &HtmlCanvasElement, reason: &str) -> Result<Gpu, String> {
        let context = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
            .ok_or("this canvas offers no 2D context either")?;
        Ok(Gpu {
            backend: Backend::Cpu,
            adapter_name: format!("paint rasterizer; {reason}"),
            painter: Painter::Cpu(CpuPainter {
                context,
                pixels: Canvas::new(1, 1, palette::BACKGROUND),
            }),
        })
    }

    /// Whether the device is gone (the caller then starts over on a new canvas).
    pub fn is_lost(&self) -> bool {
        match &self.painter {
            Painter::Gpu(p) => p.lost.load(Ordering::SeqCst),
            Painter::Cpu(_) => false,
        }
    }

    /// Follow the canvas's size (the CPU painter reads it at each frame).
    pub fn resize(&mut self, w: u32, h: u32) {
        if let Painter::Gpu(p) = &mut self.painter
            && (w, h) != (p.config.width, p.config.height)
            && w > 0
            && h > 0
        {
            p.config.width = w;
            p.config.height = h;
            p.surface.configure(&p.device, &p.config);
        }
    }

    /// A new map: its die grid and colours go to the GPU. Fails when the grid is beyond the
    /// GPU's textures (the caller then draws on the CPU).
    pub fn upload(
        &mut self,
        g: &MapGeometry,
        dies: &DieTable,
        colors: &Coloring,
    ) -> Result<(), String> {
        if let Painter::Gpu(p) = &mut self.painter {
            p.renderer.set_dies(g, dies).map_err(|e| e.to_string())?;
            p.renderer.set_coloring(colors);
        }
        Ok(())
    }

    /// Send the uploads queued so far to the GPU now, not with the next frame's commands; false
    /// when there is nothing to send (the CPU painter).
    pub fn flush(&self) -> bool {
        match &self.painter {
            Painter::Gpu(p) => {
                p.renderer.queue().submit([]);
                true
            }
            Painter::Cpu(_) => false,
        }
    }

    /// New colours for the same map: only the colour table when the keys are unchanged (a
    /// hidden bin), else the key texture too (another layer).
    pub fn recolor(&mut self, colors: &Coloring, same_keys: bool) {
        if let Painter::Gpu(p) = &mut self.painter {
            if same_keys {
                p.renderer.set_table(&colors.table);
            } else {
                p.renderer.set_coloring(colors);
            }
        }
    }

    /// What reads the current view back (see [`Snapshot`]).
    pub fn snapshot(&self) -> Snapshot {
        match &self.painter {
            Painter::Gpu(p) => Snapshot::Gpu(Box::new(p.renderer.clone())),
            Painter::Cpu(_) => Snapshot::Cpu,
        }
    }

    /// Draw one frame of `map` (`w` x `h` pixels); false if it could not be drawn (the device may
    /// be lost).
    pub fn draw(&mut self, map: &Shown, view: &View, style: &Style, w: u32, h: u32) -> bool {
        if self.is_lost() {
            return false;
        }
        match &mut self.painter {
            Painter::Gpu(p) => p.draw(view, style),
            Painter::Cpu(p) => p.draw(map, view, style, w, h),
        }
    }
}

impl GpuPainter {
    fn draw(&mut self, view: &View, style: &Style) -> bool {
        let frame = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(f)
            | wgpu::CurrentSurfaceTexture::Suboptimal(f) => f,
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                self.surface.configure(&self.device, &self.config);
                return false;
            }
            _ => return false,
        };
        let target = frame.texture.create_view(&Default::default());
        let mut encoder = self.device.create_command_encoder(&Default::default());
        let (w, h) = (self.config.width, self.config.height);
        self.renderer.draw(&mut encoder, &target, w, h, view, style);
        self.renderer.queue().submit([encoder.finish()]);
        self.renderer.queue().present(frame);
        true
    }
}

impl CpuPainter {
    fn draw(&mut self, map: &Shown, view: &View, style: &Style, w: u32, h: u32) -> bool {
        if (self.pixels.width, self.pixels.height) != (w, h) {
            self.pixels = Canvas::new(w, h, palette::BACKGROUND);
        } else {
            for p in self.pixels.pixels.chunks_exact_mut(4) {
                p.copy_from_slice(&palette::BACKGROUND);
            }
        }
        raster::draw(
            map.geometry,
            map.dies,
            map.coloring,
            view,
            &mut self.pixels,
            style,
        );
        let Ok(image) =
            ImageData::new_with_u8_clamped_array_and_sh(Clamped(&self.pixels.pixels), w, h)
        else {
            return false;
        };
        self.context.put_image_data(&image, 0.0, 0.0).is_ok()
    }
}
