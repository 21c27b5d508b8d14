//! The GPU picture of real wafers equals the CPU rasterizer's: same size, at least 99.5% of
//! pixels identical, and every differing pixel on an edge (a die border, the outline) of the CPU
//! picture. So does the picture of a grid wider than a WebGL2 texture (drawn across texture
//! tiles) and of a hostile, sparse grid. Runs natively on whatever Vulkan adapter there is; on CI
//! that is Mesa's lavapipe (`mesa-vulkan-drivers`, installed by `cargo xtask test`). No adapter
//! is a failure, not a skip.

use std::collections::BTreeSet;

use paint::{Canvas, Coloring, Layer, MapGeometry, Style, View, raster};
use render::Renderer;
use wafer::{DieTable, WaferGeometry};

fn gpu() -> (wgpu::Device, wgpu::Queue, String) {
    gpu_with(|_| {})
}

/// A device whose limits `limit` may lower (wgpu holds a device to the limits it asked for).
fn gpu_with(limit: impl FnOnce(&mut wgpu::Limits)) -> (wgpu::Device, wgpu::Queue, String) {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::VULKAN,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapter =
        pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
            .expect("no Vulkan adapter: install mesa-vulkan-drivers (lavapipe) or run on a GPU");
    let name = adapter.get_info().name;
    let mut limits = wgpu::Limits::default().using_resolution(adapter.limits());
    limit(&mut limits);
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        required_limits: limits,
        ..Default::default()
    }))
    .expect("device");
    (device, queue, name)
}

fn corpus(name: &str) -> wafer::TestFile {
    wafer::read(&::corpus::read(&format!("stdf/{name}"))).unwrap()
}

/// (identical fraction, differing pixels not on an edge of the CPU picture).
fn compare(gpu: &Canvas, cpu: &Canvas) -> (f64, usize) {
    assert_eq!((gpu.width, gpu.height), (cpu.width, cpu.height));
    let (w, h) = (cpu.width, cpu.height);
    let mut same = 0;
    let mut off_edge = 0;
    for y in 0..h {
        for x in 0..w {
            let c = cpu.get(x, y);
            if gpu.get(x, y) == c {
                same += 1;
                continue;
            }
            let edge = [(-1i32, 0i32), (1, 0), (0, -1), (0, 1)]
                .iter()
                .any(|&(dx, dy)| {
                    let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                    nx >= 0
                        && ny >= 0
                        && (nx as u32) < w
                        && (ny as u32) < h
                        && cpu.get(nx as u32, ny as u32) != c
                });
            off_edge += !edge as usize;
        }
    }
    (same as f64 / (w * h) as f64, off_edge)
}

#[test]
fn gpu_pictures_of_corpus_wafers_equal_the_cpu_rasterizer() {
    let (device, queue, adapter) = gpu();
    println!("adapter: {adapter}");
    let mut r = Renderer::new(&device, &queue, wgpu::TextureFormat::Rgba8Unorm);
    let files = [
        ("lot2.stdf.gz", "hbin"),
        ("a595.stdf", "sbin"),
        ("Teradyne_Flex_3.stdf.xz", "hbin"),
        ("ayad_ws.stdf", "hbin"),
        (
            "WS_Virgo_7OLT36325_7OLT36325.25E4_PS1_20190110_20h59m18s.stdf",
            "hbin",
        ),
    ];
    let mut checked = 0;
    for (name, layer) in files {
        let f = corpus(name);
        for w in &f.wafers {
            let g = MapGeometry::new(w);
            let layers = [
                Layer::parse(layer, &f).unwrap(),
                Layer::Test(
                    (0..f.tests.tests.len())
                        .find(|&t| w.dies.has_test(t))
                        .unwrap_or(0),
                ),
            ];
            for layer in layers {
                if matches!(layer, Layer::Test(t) if !w.dies.has_test(t)) {
                    continue;
                }
                let colors = Coloring::new(&f, &w.dies, layer, &BTreeSet::new());
                r.set_dies(&g, &w.dies).unwrap();
                r.set_coloring(&colors);
                // The fitted view, and a zoomed view with borders and a hovered and pinned die.
                let fit = View::fit(&g, 512, 512);
                let zoom = fit.zoom_at([256.0, 256.0], 3.0);
                let pinned = Style {
                    hover: Some(0),
                    selected: Some(w.dies.len() / 2),
                    ..Style::default()
                };
                for (view, style) in [(fit, Style::default()), (zoom, pinned)] {
                    let gpu =
                        pollster::block_on(r.render_to_canvas(512, 512, &view, &style)).unwrap();
                    let mut cpu = Canvas::new(512, 512, paint::palette::BACKGROUND);
                    raster::draw(&g, &w.dies, &colors, &view, &mut cpu, &style);
                    let (same, off_edge) = compare(&gpu, &cpu);
                    println!(
                        "{name} wafer {:?} {layer:?}: {:.4}% identical, {off_edge} off-edge",
                        w.id,
                        same * 100.0
                    );
                    assert!(
                        same >= 0.995,
                        "{name} {:?}: only {:.3}% identical",
                        w.id,
                        same * 100.0
                    );
                    assert_eq!(
                        off_edge, 0,
                        "{name} {:?}: differences away from edges",
                        w.id
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 20, "{checked} pictures compared");
}

#[test]
fn hiding_a_bin_changes_only_the_table() {
    let (device, queue, _) = gpu();
    let f = wafer::read(&wafer::demo::demo_files()[0].bytes).unwrap();
    let w = &f.wafers[0];
    let g = MapGeometry::new(w);
    let mut r = Renderer::new(&device, &queue, wgpu::TextureFormat::Rgba8Unorm);
    r.set_dies(&g, &w.dies).unwrap();
    r.set_coloring(&Coloring::new(
        &f,
        &w.dies,
        Layer::HardBin,
        &BTreeSet::new(),
    ));
    let view = View::fit(&g, 256, 256);
    let before =
        pollster::block_on(r.render_to_canvas(256, 256, &view, &Style::default())).unwrap();
    let hidden = Coloring::new(&f, &w.dies, Layer::HardBin, &[1].into());
    r.set_table(&hidden.table);
    let after = pollster::block_on(r.render_to_canvas(256, 256, &view, &Style::default())).unwrap();
    let mut cpu = Canvas::new(256, 256, paint::palette::BACKGROUND);
    raster::draw(&g, &w.dies, &hidden, &view, &mut cpu, &Style::default());
    assert_ne!(before, after);
    assert!(compare(&after, &cpu).0 >= 0.995);
}

#[test]
fn warming_up_draws_nothing_and_changes_no_picture() {
    let (device, queue, _) = gpu();
    let f = wafer::read(&wafer::demo::demo_files()[0].bytes).unwrap();
    let w = &f.wafers[0];
    let g = MapGeometry::new(w);
    let colors = Coloring::new(&f, &w.dies, Layer::HardBin, &BTreeSet::new());
    let view = View::fit(&g, 128, 128);
    let picture = |warm: bool| {
        let mut r = Renderer::new(&device, &queue, wgpu::TextureFormat::Rgba8Unorm);
        if warm {
            // Before any map, as the page does: a background-only frame off screen.
            r.warm_up();
        }
        r.set_dies(&g, &w.dies).unwrap();
        r.set_coloring(&colors);
        pollster::block_on(r.render_to_canvas(128, 128, &view, &Style::default())).unwrap()
    };
    let (cold, warmed) = (picture(false), picture(true));
    assert_eq!(cold, warmed);
    assert!(
        cold.pixels
            .chunks(4)
            .any(|p| colors.table.contains(&[p[0], p[1], p[2], p[3]]))
    );
}

/// Draw `dies` on the GPU and the CPU through each view and demand the same picture.
fn same_pictures(r: &mut Renderer, dies: &DieTable, views: &[(&str, View)], size: u32) {
    let g = MapGeometry::for_dies(dies, &WaferGeometry::default(), center_of(dies));
    let colors = Coloring::new(
        &wafer::TestFile::default(),
        dies,
        Layer::HardBin,
        &BTreeSet::new(),
    );
    r.set_dies(&g, dies).unwrap();
    r.set_coloring(&colors);
    let fit = View::fit(&g, size, size);
    let style = Style {
        hover: Some(dies.len() / 3),
        selected: Some(dies.len() - 1),
        ..Style::default()
    };
    for (name, view) in [("fit", fit)].iter().chain(views) {
        let gpu = pollster::block_on(r.render_to_canvas(size, size, view, &style)).unwrap();
        let mut cpu = Canvas::new(size, size, paint::palette::BACKGROUND);
        raster::draw(&g, dies, &colors, view, &mut cpu, &style);
        let (same, off_edge) = compare(&gpu, &cpu);
        println!(
            "{name}: {:.4}% identical, {off_edge} off-edge",
            same * 100.0
        );
        assert!(same >= 0.995, "{name}: only {:.3}% identical", same * 100.0);
        assert_eq!(off_edge, 0, "{name}: differences away from edges");
        // Dies were drawn, not just the outline (a fitted sparse grid may show none).
        let dies_drawn = (0..size * size)
            .filter(|i| colors.table.contains(&gpu.get(i % size, i / size)))
            .count();
        assert!(*name == "fit" || dies_drawn > 0, "{name}: no die drawn");
    }
}

fn center_of(dies: &DieTable) -> (f32, f32) {
    let ([x0, x1], [y0, y1]) = dies.ranges().unwrap();
    ((x0 as f32 + x1 as f32) / 2.0, (y0 as f32 + y1 as f32) / 2.0)
}

fn table(coords: impl Iterator<Item = (i16, i16)>) -> DieTable {
    let mut t = DieTable::default();
    for (x, y) in coords {
        t.x.push(x);
        t.y.push(y);
        // Bins in stripes and checks, so a die drawn from the wrong texel shows.
        t.hard_bin
            .push(1 + ((x as i32 / 3 + 2 * (y as i32 / 5)).rem_euclid(7)) as u16);
    }
    t
}

#[test]
fn a_grid_wider_than_the_largest_webgl2_texture_draws_across_texture_tiles() {
    // WebGL2 guarantees 2048-texel textures; this wafer is 2,600 dies across (5.3 M dies).
    let (device, queue, _) = gpu_with(|l| {
        l.max_texture_dimension_2d = 2048;
        l.max_texture_array_layers = 256;
    });
    let mut r = Renderer::new(&device, &queue, wgpu::TextureFormat::Rgba8Unorm);
    let d: i16 = 2600;
    let dies = table(wafer::demo::round_grid(d).into_iter());
    assert!(dies.len() > 5_000_000);
    let g = MapGeometry::for_dies(&dies, &WaferGeometry::default(), center_of(&dies));
    let fit = View::fit(&g, 768, 768);
    // Zoomed views where dies are several pixels wide: at the far right and bottom (beyond
    // 2048 cells), and on a tile corner.
    let at = |col: f32, row: f32| {
        let v = View {
            scale: 9.0,
            offset: [0.0, 0.0],
        };
        let p = v.to_pixel([col * g.die_w, row]);
        v.pan(384.0 - p[0], 384.0 - p[1])
    };
    let views = [
        ("right edge", at(2560.0, 1300.0)),
        ("bottom, above the flat", at(1300.0, 2450.0)),
        ("tile corner 2048,1024", at(2048.0, 1024.0)),
        ("zoomed out a little", fit.zoom_at([384.0, 384.0], 2.0)),
    ];
    same_pictures(&mut r, &dies, &views, 768);
    let grid = r.grid().unwrap();
    assert!(grid.columns > 2048 && grid.tile_side() <= 2048);
    println!(
        "{} columns in {} tiles of {} cells",
        grid.columns,
        grid.layers(),
        grid.tile_side()
    );
}

#[test]
fn a_sparse_hostile_grid_draws_with_little_texture_memory() {
    // Dies at both ends of the i16 range and a small cluster: a 60,001-cell-wide grid, of which
    // only three tiles hold dies.
    let (device, queue, _) = gpu();
    let mut r = Renderer::new(&device, &queue, wgpu::TextureFormat::Rgba8Unorm);
    let cluster = (0..20).flat_map(|y| (0..20).map(move |x| (x, y)));
    let dies = table(
        [(-30000, -30000), (30000, 30000)]
            .into_iter()
            .chain(cluster),
    );
    let g = MapGeometry::for_dies(&dies, &WaferGeometry::default(), center_of(&dies));
    let around = |x: i16, y: i16| {
        let [x0, y0, x1, y1] = g.die_rect(x, y);
        let v = View {
            scale: 20.0,
            offset: [0.0, 0.0],
        };
        let p = v.to_pixel([(x0 + x1) / 2.0, (y0 + y1) / 2.0]);
        v.pan(128.0 - p[0], 128.0 - p[1])
    };
    let views = [
        ("top-left die", around(-30000, -30000)),
        ("bottom-right die", around(30000, 30000)),
        ("cluster", around(10, 10)),
    ];
    same_pictures(&mut r, &dies, &views, 256);
    let grid = r.grid().unwrap();
    assert_eq!(grid.layers(), 3, "only tiles holding dies are stored");
    assert!(grid.tile_side() <= 256);
}
