//! The GPU picture of real wafers equals the CPU rasterizer's: same size, at least 99.5% of
//! pixels identical, and every differing pixel on an edge (a die border, the outline) of the CPU
//! picture. Runs natively on whatever Vulkan adapter there is; on CI that is Mesa's lavapipe
//! (`mesa-vulkan-drivers`, installed by `cargo xtask test`). No adapter is a failure, not a skip.

use std::collections::BTreeSet;
use std::path::Path;

use paint::{Canvas, Coloring, Layer, MapGeometry, Style, View, raster};
use render::Renderer;

fn gpu() -> (wgpu::Device, wgpu::Queue, String) {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::VULKAN,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapter =
        pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
            .expect("no Vulkan adapter: install mesa-vulkan-drivers (lavapipe) or run on a GPU");
    let name = adapter.get_info().name;
    let (device, queue) =
        pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default()))
            .expect("device");
    (device, queue, name)
}

fn corpus(name: &str) -> wafer::TestFile {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/stdf")
        .join(name);
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("corpus file {}: {e}", p.display()));
    wafer::read(&bytes).unwrap()
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
                r.set_dies(&g, &w.dies);
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
    r.set_dies(&g, &w.dies);
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
