//! The GPU wafer-map renderer on wgpu: every view that draws a map on the GPU goes through here.
//!
//! One instanced quad per die with per-instance vertex attributes (world origin, colour key), the
//! colour table as a small texture built from the one palette ([`paint::palette`]), the camera as
//! a uniform, and the wafer outline as a full-viewport triangle. No storage buffers and no compute
//! in the draw path, so WebGL2 runs the same shaders as WebGPU. WGSL lives in `shaders/map.wgsl`.
//!
//! The picture equals the CPU rasterizer's ([`paint::raster`]) pixel for pixel except on die
//! edges; `tests/golden.rs` checks that on real wafers.
//!
//! Not for: choosing or creating the device (the caller owns it, so the app can share one device
//! with the classifier), or deciding colours and positions (that is `paint`).

use std::sync::{Arc, Mutex};

use bytemuck::{Pod, Zeroable};
use paint::{Canvas, Coloring, MapGeometry, Rgba, Style, View, palette, raster};
use wafer::DieTable;
use wgpu::util::DeviceExt;

/// The shaders, loaded from the repository's `shaders/` folder at compile time.
pub const SHADER: &str = include_str!("../../../shaders/map.wgsl");

/// Width of the colour-table texture (keys wrap into rows): WebGL2 guarantees 2048.
const TABLE_WIDTH: u32 = 256;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Uniforms {
    view: [f32; 4],
    viewport: [f32; 4],
    highlight: [i32; 4],
    outline: [f32; 4],
    flat_dir: [f32; 4],
    border_color: [f32; 4],
    hover_color: [f32; 4],
    selected_color: [f32; 4],
    outline_color: [f32; 4],
    fill_color: [f32; 4],
}

fn color(c: Rgba) -> [f32; 4] {
    c.map(|v| v as f32 / 255.0)
}

/// A wgpu renderer of one wafer map at a time. Cloning is cheap (wgpu handles are shared), and a
/// clone draws the same map: an async readback can hold one while the page keeps drawing.
#[derive(Clone)]
pub struct Renderer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    format: wgpu::TextureFormat,
    dies: wgpu::RenderPipeline,
    outline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    uniforms: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    table: wgpu::Texture,
    origins: Option<wgpu::Buffer>,
    keys: Option<wgpu::Buffer>,
    count: u32,
    geometry: Option<MapGeometry>,
}

impl Renderer {
    /// Pipelines for drawing into targets of `format` on `device`.
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        format: wgpu::TextureFormat,
    ) -> Renderer {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("map.wgsl"),
            source: wgpu::ShaderSource::Wgsl(SHADER.into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("map"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: false },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("map"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let target = [Some(wgpu::ColorTargetState {
            format,
            blend: None,
            write_mask: wgpu::ColorWrites::ALL,
        })];
        let pipeline = |label, vs, fs, buffers: &[Option<wgpu::VertexBufferLayout>], topology| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(label),
                layout: Some(&pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &module,
                    entry_point: Some(vs),
                    compilation_options: Default::default(),
                    buffers,
                },
                primitive: wgpu::PrimitiveState {
                    topology,
                    ..Default::default()
                },
                depth_stencil: None,
                multisample: Default::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &module,
                    entry_point: Some(fs),
                    compilation_options: Default::default(),
                    targets: &target,
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let instance_buffers = [
            Some(wgpu::VertexBufferLayout {
                array_stride: 8,
                step_mode: wgpu::VertexStepMode::Instance,
                attributes: &wgpu::vertex_attr_array![0 => Float32x2],
            }),
            Some(wgpu::VertexBufferLayout {
                array_stride: 4,
                step_mode: wgpu::VertexStepMode::Instance,
                attributes: &wgpu::vertex_attr_array![1 => Uint32],
            }),
        ];
        let dies = pipeline(
            "dies",
            "vs_die",
            "fs_die",
            &instance_buffers,
            wgpu::PrimitiveTopology::TriangleStrip,
        );
        let outline = pipeline(
            "outline",
            "vs_outline",
            "fs_outline",
            &[],
            wgpu::PrimitiveTopology::TriangleList,
        );
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("map uniforms"),
            size: std::mem::size_of::<Uniforms>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let table = Self::table_texture(device, 1);
        let bind_group = Self::bind(device, &layout, &uniforms, &table);
        Renderer {
            device: device.clone(),
            queue: queue.clone(),
            format,
            dies,
            outline,
            layout,
            uniforms,
            bind_group,
            table,
            origins: None,
            keys: None,
            count: 0,
            geometry: None,
        }
    }

    fn table_texture(device: &wgpu::Device, rows: u32) -> wgpu::Texture {
        device.create_texture(&wgpu::TextureDescriptor {
            label: Some("colour table"),
            size: wgpu::Extent3d {
                width: TABLE_WIDTH,
                height: rows.max(1),
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8Unorm,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        })
    }

    fn bind(
        device: &wgpu::Device,
        layout: &wgpu::BindGroupLayout,
        uniforms: &wgpu::Buffer,
        table: &wgpu::Texture,
    ) -> wgpu::BindGroup {
        let view = table.create_view(&Default::default());
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("map"),
            layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: uniforms.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&view),
                },
            ],
        })
    }

    /// The device this renderer draws with.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue this renderer submits to.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// Upload die positions (world origins, from `paint`'s geometry).
    pub fn set_dies(&mut self, g: &MapGeometry, dies: &DieTable) {
        let origins: Vec<[f32; 2]> = (0..dies.len())
            .map(|i| {
                let [x0, y0, _, _] = g.die_rect(dies.x[i], dies.y[i]);
                [x0, y0]
            })
            .collect();
        self.count = dies.len() as u32;
        self.geometry = Some(*g);
        self.keys = None;
        self.origins = (!origins.is_empty()).then(|| {
            self.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("die origins"),
                    contents: bytemuck::cast_slice(&origins),
                    usage: wgpu::BufferUsages::VERTEX,
                })
        });
    }

    /// Upload a layer's colours: one key per die and the colour table.
    pub fn set_coloring(&mut self, c: &Coloring) {
        assert_eq!(
            c.keys.len(),
            self.count as usize,
            "colouring is for another die table"
        );
        let keys: Vec<u32> = c.keys.iter().map(|&k| k as u32).collect();
        self.keys = (!keys.is_empty()).then(|| {
            self.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("die colour keys"),
                    contents: bytemuck::cast_slice(&keys),
                    usage: wgpu::BufferUsages::VERTEX,
                })
        });
        self.set_table(&c.table);
    }

    /// Replace the colour table only (hiding a bin, new limits): no per-die upload.
    pub fn set_table(&mut self, table: &[Rgba]) {
        let rows = (table.len() as u32).div_ceil(TABLE_WIDTH).max(1);
        if self.table.height() != rows {
            self.table = Self::table_texture(&self.device, rows);
            self.bind_group = Self::bind(&self.device, &self.layout, &self.uniforms, &self.table);
        }
        let mut texels = vec![0u8; (TABLE_WIDTH * rows * 4) as usize];
        for (i, c) in table.iter().enumerate() {
            texels[i * 4..i * 4 + 4].copy_from_slice(c);
        }
        self.queue.write_texture(
            self.table.as_image_copy(),
            &texels,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(TABLE_WIDTH * 4),
                rows_per_image: Some(rows),
            },
            self.table.size(),
        );
    }

    /// Record drawing the map into `target` (`width` x `height` pixels) through `view`.
    pub fn draw(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        target: &wgpu::TextureView,
        width: u32,
        height: u32,
        view: &View,
        style: &Style,
    ) {
        let g = self.geometry.unwrap_or(MapGeometry {
            x_min: 0,
            x_max: 0,
            y_min: 0,
            y_max: 0,
            x_grows_left: false,
            y_grows_up: false,
            die_w: 1.0,
            center: [0.0, 0.0],
            radius: 1.0,
            flat: wafer::FlatDirection::Down,
        });
        let borders = style.borders && g.die_w.min(1.0) * view.scale >= raster::BORDER_MIN_PX;
        let index = |i: Option<usize>| i.map_or(-1, |i| i as i32);
        let [fx, fy] = g.flat_dir();
        let u = Uniforms {
            view: [
                view.scale,
                view.offset[0],
                view.offset[1],
                borders as u8 as f32,
            ],
            viewport: [width as f32, height as f32, g.die_w, 1.0],
            highlight: [
                index(style.hover),
                index(style.selected),
                TABLE_WIDTH as i32,
                self.format.is_srgb() as i32,
            ],
            outline: [
                g.center[0],
                g.center[1],
                g.radius,
                g.radius * paint::geometry::FLAT_DEPTH,
            ],
            flat_dir: [fx, fy, raster::OUTLINE_PX, raster::HIGHLIGHT_PX],
            border_color: color(palette::DIE_BORDER),
            hover_color: color(palette::HOVER),
            selected_color: color(palette::SELECTED),
            outline_color: color(palette::OUTLINE),
            fill_color: color(raster::WAFER_FILL),
        };
        self.queue
            .write_buffer(&self.uniforms, 0, bytemuck::bytes_of(&u));
        let bg = color(palette::BACKGROUND);
        let bg = if self.format.is_srgb() {
            bg.map(srgb_to_linear)
        } else {
            bg
        };
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("map"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: target,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color {
                        r: bg[0] as f64,
                        g: bg[1] as f64,
                        b: bg[2] as f64,
                        a: 1.0,
                    }),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        pass.set_bind_group(0, &self.bind_group, &[]);
        if style.outline && self.geometry.is_some() {
            pass.set_pipeline(&self.outline);
            pass.draw(0..3, 0..1);
        }
        if let (Some(origins), Some(keys)) = (&self.origins, &self.keys) {
            pass.set_pipeline(&self.dies);
            pass.set_vertex_buffer(0, origins.slice(..));
            pass.set_vertex_buffer(1, keys.slice(..));
            pass.draw(0..4, 0..self.count);
        }
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
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("offscreen map"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: self.format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
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

fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}
