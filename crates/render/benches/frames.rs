//! Frame times of the wgpu renderer natively, on whatever Vulkan adapter there is, for a
//! synthetic million-die wafer: the first frame (upload of the dies + draw, waited for on the
//! GPU) and a scripted pan/zoom of 120 frames (each waited for), against the CPU rasterizer
//! drawing the same views in the same process. Prints medians, p95 and ratios; then the same for
//! a ~4.8 M-die wafer and the ratio of its figures to the 1 M ones (the renderer draws the map as
//! a texture, so a frame should not grow with the number of dies).
//!
//! `cargo bench -p render --bench frames [-- DIAMETER [SIZE]]` (default: 1137 dies across, which
//! is 1,001,010 dies, then 2500 across, 4,840,832 dies, both on a 1024 x 1024 target; a
//! DIAMETER runs that one alone). The browser figures come from `tests/benches/viewer.mjs`; this one
//! shows what the same shaders do on a hardware GPU when the machine has one.

use std::collections::BTreeSet;
use std::time::Instant;

use paint::{Canvas, Coloring, Layer, MapGeometry, Style, View, raster};
use render::Renderer;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn stats(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    (
        s[s.len() / 2],
        s[((s.len() as f64 * 0.95) as usize).min(s.len() - 1)],
    )
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let diameter: Option<i16> = args.first().and_then(|a| a.parse().ok());
    let size: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1024);

    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::VULKAN,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapter = pollster::block_on(instance.request_adapter(&Default::default()))
        .expect("no Vulkan adapter: install mesa-vulkan-drivers (lavapipe) or run on a GPU");
    let limits = wgpu::Limits::default().using_resolution(adapter.limits());
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        required_limits: limits,
        ..Default::default()
    }))
    .expect("device");
    let info = adapter.get_info();
    match diameter {
        Some(d) => {
            run(&device, &queue, &info, d, size);
        }
        None => {
            let small = run(&device, &queue, &info, 1137, size);
            let big = run(&device, &queue, &info, 2500, size);
            println!(
                "  {:.1} M vs {:.1} M dies (GPU): first frame {:.2}x, pan/zoom p50 {:.2}x, p95 {:.2}x",
                big.dies as f64 / 1e6,
                small.dies as f64 / 1e6,
                big.first / small.first,
                big.p50 / small.p50,
                big.p95 / small.p95
            );
        }
    }
}

/// One wafer's GPU figures, for the ratio between wafer sizes.
struct Figures {
    dies: usize,
    first: f64,
    p50: f64,
    p95: f64,
}

fn run(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    info: &wgpu::AdapterInfo,
    diameter: i16,
    size: u32,
) -> Figures {
    let file = wafer::read(&wafer::demo::big_wafer_file(diameter).bytes).expect("demo wafer");
    let w = &file.wafers[0];
    let g = MapGeometry::new(w);
    let colors = Coloring::new(&file, &w.dies, Layer::HardBin, &BTreeSet::new());

    let format = wgpu::TextureFormat::Rgba8Unorm;
    let target = render::target_texture(device, size, size, format, wgpu::TextureUsages::empty())
        .create_view(&Default::default());
    let mut r = Renderer::new(device, queue, format);
    let style = Style::default();
    let draw = |r: &Renderer, view: &View| {
        let mut enc = device.create_command_encoder(&Default::default());
        r.draw(&mut enc, &target, size, size, view, &style);
        queue.submit([enc.finish()]);
        device
            .poll(wgpu::PollType::wait_indefinitely())
            .expect("GPU poll");
    };

    // The same script as the browser benchmark: zoom in, pan, zoom out, pan back.
    let fit = View::fit(&g, size, size);
    let sz = size as f32;
    let mut views = Vec::new();
    let mut v = fit;
    for _ in 0..30 {
        v = v.zoom_at([sz * 0.6, sz * 0.45], 1.08);
        views.push(v);
    }
    for _ in 0..40 {
        v = v.pan(14.0, -9.0);
        views.push(v);
    }
    for _ in 0..30 {
        v = v.zoom_at([sz * 0.4, sz * 0.55], 1.0 / 1.08);
        views.push(v);
    }
    for _ in 0..20 {
        v = v.pan(-28.0, 18.0);
        views.push(v);
    }

    // Warm-up: pipelines compiled, buffers allocated once.
    r.set_dies(&g, &w.dies).expect("the grid fits the GPU");
    r.set_coloring(&colors);
    draw(&r, &fit);

    let mut first = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        r.set_dies(&g, &w.dies).expect("the grid fits the GPU");
        r.set_coloring(&colors);
        draw(&r, &fit);
        first.push(ms(t));
    }
    let mut frames = Vec::new();
    for v in &views {
        let t = Instant::now();
        draw(&r, v);
        frames.push(ms(t));
    }

    let mut canvas = Canvas::new(size, size, paint::palette::BACKGROUND);
    let mut cpu_first = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        canvas = Canvas::new(size, size, paint::palette::BACKGROUND);
        raster::draw(&g, &w.dies, &colors, &fit, &mut canvas, &style);
        cpu_first.push(ms(t));
    }
    let mut cpu_frames = Vec::new();
    for v in &views {
        let t = Instant::now();
        canvas.pixels.fill(0);
        raster::draw(&g, &w.dies, &colors, v, &mut canvas, &style);
        cpu_frames.push(ms(t));
    }

    let (f50, _) = stats(&first);
    let (c50, _) = stats(&cpu_first);
    let (p50, p95) = stats(&frames);
    let (q50, q95) = stats(&cpu_frames);
    println!(
        "{} dies, {size}x{size}, GPU: {} ({:?}, {:?})",
        w.dies.len(),
        info.name,
        info.device_type,
        info.backend
    );
    println!(
        "  first frame (upload + draw)  GPU {f50:8.2} ms   CPU rasterizer {c50:8.2} ms   {:.1}x  (median of 5)",
        c50 / f50
    );
    println!(
        "  pan/zoom frame p50           GPU {p50:8.2} ms   CPU rasterizer {q50:8.2} ms   {:.1}x",
        q50 / p50
    );
    println!(
        "  pan/zoom frame p95           GPU {p95:8.2} ms   CPU rasterizer {q95:8.2} ms   {:.1}x  (120 frames)",
        q95 / p95
    );
    Figures {
        dies: w.dies.len(),
        first: f50,
        p50,
        p95,
    }
}
