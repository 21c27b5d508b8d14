//! The GPU wafer-map renderer on wgpu: every view that draws a map on the GPU goes through here.
//!
//! The map is drawn as an image, not as a million quads: dies sit on an integer grid, so the
//! wafer is uploaded once as a texture of colour keys (one texel per grid cell, see [`Grid`]),
//! and one quad over the wafer runs a fragment shader that maps each pixel to its cell, reads the
//! key and looks the colour up in a small colour table ([`paint::palette`]). A frame costs the
//! same for 2,000 dies or 5 million. Changing colours (hiding a bin, new limits) rewrites only
//! the table; a new layer rewrites only the key texture. Integer textures and `textureLoad`
//! only, no storage buffers and no compute, so WebGL2 runs the same shader as WebGPU. WGSL lives
//! in `shaders/map.wgsl`.
//!
//! The picture equals the CPU rasterizer's ([`paint::raster`]) pixel for pixel except on die
//! edges; `tests/golden.rs` checks that on real wafers.
//!
//! Not for: choosing or creating the device (the caller owns it, so the app can share one device
//! with the classifier), or deciding colours and positions (that is `paint`).

use std::sync::Arc;

use bytemuck::{Pod, Zeroable};
use paint::{Coloring, MapGeometry, Rgba, Style, View, palette, raster};
use wafer::DieTable;

mod grid;
mod readback;
mod resources;

use resources::{bind, key_texture, plain_texture};

pub use grid::{Grid, GridError, MAX_KEY_BYTES};
pub use resources::target_texture;

/// The shaders, loaded from the repository's `shaders/` folder at compile time.
pub const SHADER: &str = include_str!("../../../shaders/map.wgsl");

/// Width of the colour-table texture (keys wrap into rows): WebGL2 guarantees 2048.
const TABLE_WIDTH: u32 = 256;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Uniforms {
    view: [f32; 4],
    viewport: [f32; 4],
    quad: [f32; 4],
    marks: [i32; 4],
    grid: [i32; 4],
    output: [i32; 4],
    outline: [f32; 4],
    flat_dir: [f32; 4],
    background: [f32; 4],
    border_color: [f32; 4],
    hover_color: [f32; 4],
    selected_color: [f32; 4],
    outline_color: [f32; 4],
    fill_color: [f32; 4],
}

fn color(c: Rgba) -> [f32; 4] {
    c.map(|v| v as f32 / 255.0)
}

/// A wgpu renderer of one wafer map at a time. Cloning is cheap (wgpu handles and the grid are
/// shared), and a clone draws the same map: an async readback can hold one while the page keeps
/// drawing.
#[derive(Clone)]
pub struct Renderer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    format: wgpu::TextureFormat,
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    uniforms: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    table: wgpu::Texture,
    keys: wgpu::Texture,
    tiles: wgpu::Texture,
    grid: Option<Arc<Grid>>,
    /// Keys have been uploaded for the current grid.
    colored: bool,
}

impl Renderer {
    /// The pipeline for drawing into targets of `format` on `device`.
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        format: wgpu::TextureFormat,
    ) -> Renderer {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("map.wgsl"),
            source: wgpu::ShaderSource::Wgsl(SHADER.into()),
        });
        let texture = |binding, sample_type, view_dimension| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                sample_type,
                view_dimension,
                multisampled: false,
            },
            count: None,
        };
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
                texture(
                    1,
                    wgpu::TextureSampleType::Float { filterable: false },
                    wgpu::TextureViewDimension::D2,
                ),
                texture(
                    2,
                    wgpu::TextureSampleType::Uint,
                    wgpu::TextureViewDimension::D2Array,
                ),
                texture(
                    3,
                    wgpu::TextureSampleType::Uint,
                    wgpu::TextureViewDimension::D2,
                ),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("map"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("map"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_map"),
                compilation_options: Default::default(),
                buffers: &[],
            },
            primitive: wgpu::PrimitiveState {
                topology: wgpu::PrimitiveTopology::TriangleStrip,
                ..Default::default()
            },
            depth_stencil: None,
            multisample: Default::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs_map"),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format,
                    blend: None,
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            multiview_mask: None,
            cache: None,
        });
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("map uniforms"),
            size: std::mem::size_of::<Uniforms>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let table = plain_texture(
            device,
            "colour table",
            TABLE_WIDTH,
            1,
            wgpu::TextureFormat::Rgba8Unorm,
        );
        let keys = key_texture(device, 1, 2);
        let tiles = plain_texture(device, "key tiles", 1, 1, wgpu::TextureFormat::R16Uint);
        let bind_group = bind(device, &layout, &uniforms, &table, &keys, &tiles);
        Renderer {
            device: device.clone(),
            queue: queue.clone(),
            format,
            pipeline,
            layout,
            uniforms,
            bind_group,
            table,
            keys,
            tiles,
            grid: None,
            colored: false,
        }
    }

    fn rebind(&mut self) {
        self.bind_group = bind(
            &self.device,
            &self.layout,
            &self.uniforms,
            &self.table,
            &self.keys,
            &self.tiles,
        );
    }

    /// The device this renderer draws with.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue this renderer submits to.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// The current die grid, if a die table is set.
    pub fn grid(&self) -> Option<&Grid> {
        self.grid.as_deref()
    }

    /// Lay out a die table (a new wafer) on the grid, placed by `g`, and upload which tiles hold
    /// dies. The dies show once [`Renderer::set_coloring`] gives them keys. Fails, keeping
    /// nothing of the old map, when the grid does not fit the device (see [`GridError`]).
    pub fn set_dies(&mut self, g: &MapGeometry, dies: &DieTable) -> Result<(), GridError> {
        self.grid = None;
        self.colored = false;
        let limits = self.device.limits();
        let grid = Grid::new(
            g,
            dies,
            limits.max_texture_dimension_2d,
            limits.max_texture_array_layers,
        )?;
        let side = grid.tile_side();
        let layers = grid.layers().max(2);
        let keys_size = self.keys.size();
        if (keys_size.width, keys_size.depth_or_array_layers) != (side, layers) {
            self.keys = key_texture(&self.device, side, layers);
        }
        if (self.tiles.width(), self.tiles.height()) != (grid.tiles_x, grid.tiles_y) {
            self.tiles = plain_texture(
                &self.device,
                "key tiles",
                grid.tiles_x,
                grid.tiles_y,
                wgpu::TextureFormat::R16Uint,
            );
        }
        self.queue.write_texture(
            self.tiles.as_image_copy(),
            bytemuck::cast_slice(&grid.tile_layer),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(grid.tiles_x * 2),
                rows_per_image: Some(grid.tiles_y),
            },
            self.tiles.size(),
        );
        self.rebind();
        self.grid = Some(Arc::new(grid));
        Ok(())
    }

    /// Upload a layer's colours: the key texture (one texel per die) and the colour table.
    pub fn set_coloring(&mut self, c: &Coloring) {
        let Some(grid) = &self.grid else {
            return;
        };
        assert_eq!(
            c.keys.len(),
            grid.texel.len(),
            "colouring is for another die table"
        );
        let texels = grid.key_texels(&c.keys);
        let side = grid.tile_side();
        let size = self.keys.size();
        self.queue.write_texture(
            self.keys.as_image_copy(),
            bytemuck::cast_slice(&texels),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(side * 2),
                rows_per_image: Some(side),
            },
            size,
        );
        self.colored = true;
        self.set_table(&c.table);
    }

    /// Replace the colour table only (hiding a bin, new limits): no per-die upload.
    pub fn set_table(&mut self, table: &[Rgba]) {
        let rows = (table.len() as u32).div_ceil(TABLE_WIDTH).max(1);
        if self.table.height() != rows {
            self.table = plain_texture(
                &self.device,
                "colour table",
                TABLE_WIDTH,
                rows,
                wgpu::TextureFormat::Rgba8Unorm,
            );
            self.rebind();
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
        let bg = color(palette::BACKGROUND);
        let uniforms = self.uniforms_for(width, height, view, style);
        if let Some(u) = &uniforms {
            self.queue
                .write_buffer(&self.uniforms, 0, bytemuck::bytes_of(u));
        }
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("map"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: target,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color {
                        r: self.linear(bg[0]) as f64,
                        g: self.linear(bg[1]) as f64,
                        b: self.linear(bg[2]) as f64,
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
        if uniforms.is_some() {
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.draw(0..4, 0..1);
        }
    }

    /// The frame's uniforms, or None when there is nothing but background to draw.
    fn uniforms_for(
        &self,
        width: u32,
        height: u32,
        view: &View,
        style: &Style,
    ) -> Option<Uniforms> {
        let grid = self.grid.as_deref()?;
        let g = &grid.geometry;
        // The quad: the square around the wafer circle (it holds every die and the outline),
        // clipped to the target. Outside it the clear colour is the background.
        let [bx0, by0, bx1, by1] = g.bounds();
        let [qx0, qy0] = view.to_pixel([bx0, by0]);
        let [qx1, qy1] = view.to_pixel([bx1, by1]);
        let quad = [
            qx0.floor().clamp(0.0, width as f32),
            qy0.floor().clamp(0.0, height as f32),
            qx1.ceil().clamp(0.0, width as f32),
            qy1.ceil().clamp(0.0, height as f32),
        ];
        if quad[0] >= quad[2] || quad[1] >= quad[3] {
            return None;
        }
        let borders = style.borders && g.die_w.min(1.0) * view.scale >= raster::BORDER_MIN_PX;
        let cell = |i: Option<usize>| {
            i.and_then(|i| grid.cell_of(i))
                .map_or([-1, -1], |(c, r)| [c as i32, r as i32])
        };
        let [fx, fy] = g.flat_dir();
        Some(Uniforms {
            view: [
                view.scale,
                view.offset[0],
                view.offset[1],
                borders as u8 as f32,
            ],
            viewport: [
                width as f32,
                height as f32,
                g.die_w,
                style.outline as u8 as f32,
            ],
            quad,
            marks: {
                let ([hc, hr], [sc, sr]) = (cell(style.hover), cell(style.selected));
                [hc, hr, sc, sr]
            },
            grid: [
                // Before the first colouring no die shows: an empty grid.
                if self.colored { grid.columns as i32 } else { 0 },
                grid.rows as i32,
                grid.shift as i32,
                TABLE_WIDTH as i32,
            ],
            output: [self.format.is_srgb() as i32, 0, 0, 0],
            outline: [
                g.center[0],
                g.center[1],
                g.radius,
                g.radius * paint::geometry::FLAT_DEPTH,
            ],
            flat_dir: [fx, fy, raster::OUTLINE_PX, raster::HIGHLIGHT_PX],
            background: color(palette::BACKGROUND),
            border_color: color(palette::DIE_BORDER),
            hover_color: color(palette::HOVER),
            selected_color: color(palette::SELECTED),
            outline_color: color(palette::OUTLINE),
            fill_color: color(raster::WAFER_FILL),
        })
    }

    /// A palette byte as the clear colour must be given for this target's format.
    fn linear(&self, c: f32) -> f32 {
        if self.format.is_srgb() {
            srgb_to_linear(c)
        } else {
            c
        }
    }
}

fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}
