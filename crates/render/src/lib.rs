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

use std::fmt;
use std::sync::{Arc, Mutex};

use bytemuck::{Pod, Zeroable};
use paint::{Canvas, Coloring, MapGeometry, Rgba, Style, View, palette, raster};
use wafer::DieTable;

/// The shaders, loaded from the repository's `shaders/` folder at compile time.
pub const SHADER: &str = include_str!("../../../shaders/map.wgsl");

/// Width of the colour-table texture (keys wrap into rows): WebGL2 guarantees 2048.
const TABLE_WIDTH: u32 = 256;

/// Side of a key-texture tile, in grid cells, before it has to grow: small enough that a sparse
/// grid stores little, large enough that a dense 1M-die wafer needs only ~20 tiles.
const MIN_TILE: u32 = 256;

/// The most key-texture memory one map may take (2 bytes a cell). A dense 8,000 x 8,000 grid
/// fits; a grid that would need more (a hostile file with dies scattered over the whole i16
/// range) is refused with [`GridError`] and the caller draws it on the CPU.
pub const MAX_KEY_BYTES: u64 = 256 << 20;

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

/// A die grid the GPU cannot hold within the device's limits and [`MAX_KEY_BYTES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GridError {
    pub columns: u32,
    pub rows: u32,
    /// Tiles that hold a die, at the largest tile side tried.
    pub tiles: u32,
    pub tile_side: u32,
}

impl fmt::Display for GridError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the die grid ({} x {} cells) is too large or too sparse for the GPU: {} tiles of \
             {} x {} cells hold dies, beyond this device's texture limits or {} MB",
            self.columns,
            self.rows,
            self.tiles,
            self.tile_side,
            self.tile_side,
            MAX_KEY_BYTES >> 20
        )
    }
}

impl std::error::Error for GridError {}

/// Where each die's key goes in the key texture: the grid cut into square tiles of `side` cells,
/// the tiles holding a die numbered as array layers.
///
/// Pure CPU bookkeeping, made once per die table (a new wafer), so a new layer only scatters
/// keys through `texel` and uploads them.
#[derive(Clone, Debug)]
pub struct Grid {
    pub geometry: MapGeometry,
    pub columns: u32,
    pub rows: u32,
    /// log2 of the tile side.
    shift: u32,
    /// Tiles across and down.
    tiles_x: u32,
    tiles_y: u32,
    /// Per tile (row-major): its layer + 1, or 0 when it holds no die.
    tile_layer: Vec<u16>,
    /// Per layer: its tile's index.
    layer_tile: Vec<u32>,
    /// Per die: its texel's index in the layer-major key array (`u32::MAX`: outside the grid).
    texel: Vec<u32>,
}

impl Grid {
    /// Lay out the dies of `dies` (placed by `g`) for a device whose 2D textures and array
    /// textures are at most `max_side` texels and `max_layers` layers.
    pub fn new(
        g: &MapGeometry,
        dies: &DieTable,
        max_side: u32,
        max_layers: u32,
    ) -> Result<Grid, GridError> {
        let (columns, rows) = g.grid_size();
        let cells: Vec<Option<(u32, u32)>> = (0..dies.len())
            .map(|i| g.cell(dies.x[i], dies.y[i]))
            .collect();
        let max_layers = max_layers.min(u16::MAX as u32 - 1);
        let mut shift = MIN_TILE.min(max_side.max(1)).ilog2();
        loop {
            let side = 1u32 << shift;
            let (tiles_x, tiles_y) = (columns.div_ceil(side), rows.div_ceil(side));
            let mut tile_layer = vec![0u16; tiles_x as usize * tiles_y as usize];
            let mut layer_tile = Vec::new();
            let mut fits = tiles_x <= max_side && tiles_y <= max_side;
            for &(c, r) in cells.iter().flatten() {
                if !fits {
                    break;
                }
                let t = ((r >> shift) * tiles_x + (c >> shift)) as usize;
                if tile_layer[t] == 0 {
                    layer_tile.push(t as u32);
                    let bytes = layer_tile.len() as u64 * (side as u64 * side as u64) * 2;
                    fits = layer_tile.len() as u32 <= max_layers && bytes <= MAX_KEY_BYTES;
                    tile_layer[t] = layer_tile.len() as u16;
                }
            }
            if fits {
                let texel = cells
                    .iter()
                    .map(|cell| match *cell {
                        Some((c, r)) => {
                            let t = ((r >> shift) * tiles_x + (c >> shift)) as usize;
                            let layer = tile_layer[t] as u32 - 1;
                            let local = ((r & (side - 1)) << shift) | (c & (side - 1));
                            (layer << (2 * shift)) | local
                        }
                        None => u32::MAX,
                    })
                    .collect();
                return Ok(Grid {
                    geometry: *g,
                    columns,
                    rows,
                    shift,
                    tiles_x,
                    tiles_y,
                    tile_layer,
                    layer_tile,
                    texel,
                });
            }
            if side * 2 > max_side.max(1) {
                return Err(GridError {
                    columns,
                    rows,
                    tiles: layer_tile.len() as u32,
                    tile_side: side,
                });
            }
            shift += 1;
        }
    }

    /// Side of a tile, in cells.
    pub fn tile_side(&self) -> u32 {
        1 << self.shift
    }

    /// Tiles stored (the key texture's layers).
    pub fn layers(&self) -> u32 {
        self.layer_tile.len() as u32
    }

    /// The grid cell `(column, row)` of die `i`.
    pub fn cell_of(&self, i: usize) -> Option<(u32, u32)> {
        let t = *self.texel.get(i).filter(|&&t| t != u32::MAX)?;
        let side = 1u32 << self.shift;
        let tile = self.layer_tile[(t >> (2 * self.shift)) as usize];
        let local = t & (side * side - 1);
        let (tx, ty) = (tile % self.tiles_x, tile / self.tiles_x);
        Some((
            tx * side + (local & (side - 1)),
            ty * side + (local >> self.shift),
        ))
    }

    /// The key texels, layer after layer: 0 where there is no die, else the die's colour key + 1.
    pub fn key_texels(&self, keys: &[u16]) -> Vec<u16> {
        let side = 1usize << self.shift;
        // At least two layers: WebGL2 makes a one-layer texture a plain 2D one, which an array
        // view cannot read.
        let mut texels = vec![0u16; self.layers().max(2) as usize * side * side];
        for (&t, &k) in self.texel.iter().zip(keys) {
            if t != u32::MAX {
                texels[t as usize] = k.min(u16::MAX - 1) + 1;
            }
        }
        texels
    }
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

fn key_texture(device: &wgpu::Device, side: u32, layers: u32) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some("die keys"),
        size: wgpu::Extent3d {
            width: side,
            height: side,
            depth_or_array_layers: layers.max(2),
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::R16Uint,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    })
}

fn plain_texture(
    device: &wgpu::Device,
    label: &str,
    width: u32,
    height: u32,
    format: wgpu::TextureFormat,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width: width.max(1),
            height: height.max(1),
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    })
}

fn bind(
    device: &wgpu::Device,
    layout: &wgpu::BindGroupLayout,
    uniforms: &wgpu::Buffer,
    table: &wgpu::Texture,
    keys: &wgpu::Texture,
    tiles: &wgpu::Texture,
) -> wgpu::BindGroup {
    let table = table.create_view(&Default::default());
    let keys = keys.create_view(&wgpu::TextureViewDescriptor {
        dimension: Some(wgpu::TextureViewDimension::D2Array),
        ..Default::default()
    });
    let tiles = tiles.create_view(&Default::default());
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
                resource: wgpu::BindingResource::TextureView(&table),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: wgpu::BindingResource::TextureView(&keys),
            },
            wgpu::BindGroupEntry {
                binding: 3,
                resource: wgpu::BindingResource::TextureView(&tiles),
            },
        ],
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use wafer::WaferGeometry;

    fn table(coords: &[(i16, i16)]) -> DieTable {
        DieTable {
            x: coords.iter().map(|c| c.0).collect(),
            y: coords.iter().map(|c| c.1).collect(),
            ..DieTable::default()
        }
    }

    #[test]
    fn every_die_has_its_own_texel_and_finds_its_cell_again() {
        let coords: Vec<(i16, i16)> = (0..600).map(|i| (i % 300 * 2, i / 300 * 700)).collect();
        let dies = table(&coords);
        let g = MapGeometry::for_dies(&dies, &WaferGeometry::default(), (300.0, 350.0));
        let grid = Grid::new(&g, &dies, 2048, 256).unwrap();
        assert_eq!(grid.tile_side(), MIN_TILE);
        let keys: Vec<u16> = (0..dies.len() as u16).collect();
        let texels = grid.key_texels(&keys);
        for (i, &(x, y)) in coords.iter().enumerate() {
            assert_eq!(grid.cell_of(i), g.cell(x, y));
            assert_eq!(texels[grid.texel[i] as usize], i as u16 + 1);
        }
        // Two rows of dies 700 apart: only the tiles they cross are stored.
        assert_eq!(grid.layers(), 2 * 3);
        assert_eq!(
            texels.iter().filter(|&&t| t != 0).count(),
            dies.len(),
            "empty cells stay 0"
        );
    }

    #[test]
    fn tiles_grow_until_the_device_holds_them_and_a_hopeless_grid_is_an_error() {
        // 40 dies scattered over the whole i16 range, one per 256-cell tile.
        let coords: Vec<(i16, i16)> = (0..40i32)
            .map(|i| ((i * 1600 - 32000) as i16, (i * 1500 - 30000) as i16))
            .collect();
        let dies = table(&coords);
        let g = MapGeometry::for_dies(&dies, &WaferGeometry::default(), (0.0, 0.0));
        let grid = Grid::new(&g, &dies, 8192, 256).unwrap();
        assert_eq!(grid.layers(), 40);
        // A device that holds only 16 layers makes the tiles grow, but even at 2048 cells a
        // side the dies still fall in more than 16 tiles.
        let err = Grid::new(&g, &dies, 2048, 16).unwrap_err();
        assert_eq!(err.columns, 62_401);
        assert!(err.to_string().contains("too large or too sparse"));
        // Past 2048 the memory cap stops it: 8 tiles of 8192 x 8192 cells would be 1 GB.
        assert!(Grid::new(&g, &dies, 16384, 8).is_err());
    }
}
