//! The map's GPU context: WebGPU when the browser has it, WebGL2 otherwise, on one canvas.
//!
//! A canvas keeps the kind of context it was first given, so falling back after a lost WebGPU
//! device (driver reset, or headless Chromium's SwiftShader, which destroys the device on its
//! first present) means a fresh canvas: the caller swaps the element and calls [`Gpu::init`] again
//! with `allow_webgpu = false`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use paint::{Coloring, MapGeometry, Style, View};
use render::Renderer;
use wafer::DieTable;
use web_sys::HtmlCanvasElement;

/// The map's WebGPU handles, lent to the classifier so both run on one device.
#[derive(Clone)]
pub struct SharedWebGpu {
    pub instance: wgpu::Instance,
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    lost: Arc<AtomicBool>,
}

impl SharedWebGpu {
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}

thread_local! {
    /// The latest WebGPU device the map made, if any (lost ones say so).
    static SHARED: std::cell::RefCell<Option<SharedWebGpu>> = const { std::cell::RefCell::new(None) };
}

/// The map's WebGPU device, while it is alive.
pub fn shared_webgpu() -> Option<SharedWebGpu> {
    SHARED.with_borrow(|s| s.clone()).filter(|s| !s.is_lost())
}

/// Which browser API draws the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    WebGpu,
    WebGl2,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::WebGpu => "WebGPU",
            Backend::WebGl2 => "WebGL2",
        }
    }
}

pub struct Gpu {
    /// Kept alive: on WebGPU, dropping the instance invalidates everything made from it.
    _instance: wgpu::Instance,
    pub backend: Backend,
    pub adapter_name: String,
    surface: wgpu::Surface<'static>,
    device: wgpu::Device,
    config: wgpu::SurfaceConfiguration,
    pub renderer: Renderer,
    lost: Arc<AtomicBool>,
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
            Backend::WebGl2 => wgpu::Limits::downlevel_webgl2_defaults(),
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
        if backend == Backend::WebGpu {
            // The classifier runs on this same device (see `classify`): a second device is not
            // to be had once this one exists.
            SHARED.with_borrow_mut(|s| {
                *s = Some(SharedWebGpu {
                    instance: instance.clone(),
                    adapter: adapter.clone(),
                    device: device.clone(),
                    queue: queue.clone(),
                    lost: lost.clone(),
                })
            });
        }
        let renderer = Renderer::new(&device, &queue, config.format);
        Ok(Gpu {
            _instance: instance,
            backend,
            adapter_name: adapter.get_info().name,
            surface,
            device,
            config,
            renderer,
            lost,
        })
    }

    /// Whether the device is gone (the caller then starts over on a new canvas).
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    pub fn size(&self) -> (u32, u32) {
        (self.config.width, self.config.height)
    }

    pub fn resize(&mut self, w: u32, h: u32) {
        if (w, h) != self.size() && w > 0 && h > 0 {
            self.config.width = w;
            self.config.height = h;
            self.surface.configure(&self.device, &self.config);
        }
    }

    pub fn upload(&mut self, g: &MapGeometry, dies: &DieTable, colors: &Coloring) {
        self.renderer.set_dies(g, dies);
        self.renderer.set_coloring(colors);
    }

    /// Draw one frame; false if the frame could not be drawn (the device may be lost).
    pub fn draw(&mut self, view: &View, style: &Style) -> bool {
        if self.is_lost() {
            return false;
        }
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
        let (w, h) = self.size();
        self.renderer.draw(&mut encoder, &target, w, h, view, style);
        self.renderer.queue().submit([encoder.finish()]);
        self.renderer.queue().present(frame);
        true
    }
}
