//! The CPU rasterizer: a wafer map (or one tile of it) to RGBA pixels and PNG.
//!
//! Coverage rule: a pixel belongs to a die when the pixel's centre lies inside the die's
//! rectangle (`[x0, x1) x [y0, y1)`), the rule GPUs rasterize by, so the GPU renderer can be
//! checked against this picture pixel by pixel. Die borders, the outline and highlights use the
//! same formulas as the WGSL shaders in `shaders/`.

use std::fmt;

use wafer::DieTable;

use crate::geometry::{FLAT_DEPTH, MapGeometry, View};
use crate::palette::{self, Coloring, Rgba};

/// Dies whose smaller side is at least this many pixels get a one-pixel border.
pub const BORDER_MIN_PX: f32 = 6.0;
/// Width of the wafer outline, in pixels.
pub const OUTLINE_PX: f32 = 1.5;
/// Width of hover and selection outlines, in pixels.
pub const HIGHLIGHT_PX: f32 = 2.0;
/// Inside the wafer, where there is no die.
pub const WAFER_FILL: Rgba = [238, 238, 241, 255];

/// RGBA pixels, row-major, top row first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Canvas {
    pub fn new(width: u32, height: u32, fill: Rgba) -> Canvas {
        let pixels = fill.repeat(width as usize * height as usize);
        Canvas {
            width,
            height,
            pixels,
        }
    }

    pub fn get(&self, x: u32, y: u32) -> Rgba {
        let i = (y as usize * self.width as usize + x as usize) * 4;
        self.pixels[i..i + 4].try_into().expect("4 bytes")
    }

    #[inline]
    fn set(&mut self, x: usize, y: usize, c: Rgba) {
        let i = (y * self.width as usize + x) * 4;
        self.pixels[i..i + 4].copy_from_slice(&c);
    }

    /// PNG bytes (8-bit RGBA).
    pub fn encode_png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = png::Encoder::new(&mut out, self.width, self.height);
        e.set_color(png::ColorType::Rgba);
        e.set_depth(png::BitDepth::Eight);
        e.set_compression(png::Compression::Fast);
        let mut w = e.write_header().expect("writing to a Vec cannot fail");
        w.write_image_data(&self.pixels)
            .expect("buffer size matches the header");
        w.finish().expect("writing to a Vec cannot fail");
        out
    }
}

/// What to draw besides the dies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub outline: bool,
    pub borders: bool,
    /// Row of the hovered die.
    pub hover: Option<usize>,
    /// Row of the selected (pinned) die.
    pub selected: Option<usize>,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            outline: true,
            borders: true,
            hover: None,
            selected: None,
        }
    }
}

/// Pixel span `[start, end)` whose centres fall in `[a, b)`, clamped to `[0, n)`.
#[inline]
fn span(a: f32, b: f32, n: u32) -> (usize, usize) {
    let s = (a - 0.5).ceil().clamp(0.0, n as f32) as usize;
    let e = (b - 0.5).ceil().clamp(0.0, n as f32) as usize;
    (s, e)
}

/// Draw a wafer (or part of one) into `canvas` through `view`.
pub fn draw(
    g: &MapGeometry,
    dies: &DieTable,
    colors: &Coloring,
    view: &View,
    canvas: &mut Canvas,
    style: &Style,
) {
    if style.outline {
        draw_outline(g, view, canvas);
    }
    let s = view.scale;
    let borders = style.borders && g.die_w.min(1.0) * s >= BORDER_MIN_PX;
    for i in 0..dies.len() {
        let [x0, y0, x1, y1] = g.die_rect(dies.x[i], dies.y[i]);
        let (px0, py0) = (x0 * s + view.offset[0], y0 * s + view.offset[1]);
        let (px1, py1) = (x1 * s + view.offset[0], y1 * s + view.offset[1]);
        let (i0, i1) = span(px0, px1, canvas.width);
        let (j0, j1) = span(py0, py1, canvas.height);
        if i0 >= i1 || j0 >= j1 {
            continue;
        }
        let fill = colors.color(i);
        let highlight = if style.selected == Some(i) {
            Some(palette::SELECTED)
        } else if style.hover == Some(i) {
            Some(palette::HOVER)
        } else {
            None
        };
        for py in j0..j1 {
            let cy = py as f32 + 0.5;
            let ey = (cy - py0).min(py1 - cy);
            for px in i0..i1 {
                let c = if borders || highlight.is_some() {
                    let cx = px as f32 + 0.5;
                    let e = (cx - px0).min(px1 - cx).min(ey);
                    match highlight {
                        Some(h) if e < HIGHLIGHT_PX => h,
                        _ if borders && e < 1.0 => palette::DIE_BORDER,
                        _ => fill,
                    }
                } else {
                    fill
                };
                canvas.set(px, py, c);
            }
        }
    }
}

/// The wafer disc with its flat, and its outline, as the WGSL outline shader draws them.
fn draw_outline(g: &MapGeometry, view: &View, canvas: &mut Canvas) {
    let [fx, fy] = g.flat_dir();
    let r = g.radius;
    let depth = r * FLAT_DEPTH;
    let w = OUTLINE_PX / view.scale;
    for py in 0..canvas.height as usize {
        let wy = (py as f32 + 0.5 - view.offset[1]) / view.scale - g.center[1];
        for px in 0..canvas.width as usize {
            let wx = (px as f32 + 0.5 - view.offset[0]) / view.scale - g.center[0];
            let d = (wx * wx + wy * wy).sqrt();
            let f = wx * fx + wy * fy;
            if d <= r && f <= depth {
                let ring = r - d < w || depth - f < w;
                canvas.set(px, py, if ring { palette::OUTLINE } else { WAFER_FILL });
            }
        }
    }
}

/// Wafer `w` of `file` as `layer` colours it, fitted into `side` x `side` pixels with the
/// default style: the picture `waferscope render` writes, the report embeds, and the page's
/// gallery and compare panel show (drawn by its parsing worker), from this one place.
pub fn wafer_picture(
    file: &wafer::TestFile,
    w: &wafer::Wafer,
    layer: palette::Layer,
    side: u32,
) -> Canvas {
    let g = MapGeometry::new(w);
    let colors = Coloring::new(file, &w.dies, layer, &Default::default());
    render(&g, &w.dies, &colors, side, side, &Style::default())
}

/// A whole wafer fitted into `width` x `height` pixels.
pub fn render(
    g: &MapGeometry,
    dies: &DieTable,
    colors: &Coloring,
    width: u32,
    height: u32,
    style: &Style,
) -> Canvas {
    let mut c = Canvas::new(width, height, palette::BACKGROUND);
    draw(g, dies, colors, &View::fit(g, width, height), &mut c, style);
    c
}

/// Tile coordinates outside the pyramid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TileError {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl fmt::Display for TileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no tile {}/{}/{}: zoom must be 0..={} and x, y below 2^zoom",
            self.z,
            self.x,
            self.y,
            crate::geometry::MAX_TILE_ZOOM
        )
    }
}

impl std::error::Error for TileError {}

/// Tile `z/x/y` of the square tile pyramid over the wafer, `size` pixels a side.
pub fn tile(
    g: &MapGeometry,
    dies: &DieTable,
    colors: &Coloring,
    z: u8,
    x: u32,
    y: u32,
    size: u32,
) -> Result<Canvas, TileError> {
    let view = View::tile(g, z, x, y, size).ok_or(TileError { z, x, y })?;
    let mut c = Canvas::new(size, size, palette::BACKGROUND);
    draw(g, dies, colors, &view, &mut c, &Style::default());
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use wafer::{TestFile, WaferGeometry};

    fn demo() -> TestFile {
        wafer::read(&wafer::demo::demo_files()[0].bytes).unwrap()
    }

    #[test]
    fn each_die_centre_pixel_has_its_bin_colour() {
        let f = demo();
        let w = &f.wafers[0];
        let g = MapGeometry::new(w);
        let colors = Coloring::new(&f, &w.dies, crate::Layer::HardBin, &BTreeSet::new());
        let c = render(&g, &w.dies, &colors, 600, 600, &Style::default());
        let v = View::fit(&g, 600, 600);
        for i in (0..w.dies.len()).step_by(7) {
            let [x0, y0, x1, y1] = g.die_rect(w.dies.x[i], w.dies.y[i]);
            let p = v.to_pixel([(x0 + x1) / 2.0, (y0 + y1) / 2.0]);
            let want = palette::bin_color(
                w.dies.hard_bin[i],
                f.bins.hard.get(&w.dies.hard_bin[i]).and_then(|b| b.pass),
            );
            assert_eq!(c.get(p[0] as u32, p[1] as u32), want, "die {i}");
        }
        // The corner is background, and the outline is drawn.
        assert_eq!(c.get(0, 0), palette::BACKGROUND);
        assert!(c.pixels.chunks(4).any(|p| p == palette::OUTLINE));
    }

    #[test]
    fn a_hidden_bin_is_greyed_and_a_pinned_die_is_outlined() {
        let f = demo();
        let w = &f.wafers[0];
        let g = MapGeometry::new(w);
        let hidden: BTreeSet<u16> = [1].into();
        let colors = Coloring::new(&f, &w.dies, crate::Layer::HardBin, &hidden);
        let pass = w.dies.hard_bin.iter().position(|&b| b == 1).unwrap();
        assert_eq!(colors.color(pass), palette::HIDDEN);
        let style = Style {
            selected: Some(pass),
            ..Style::default()
        };
        let c = render(&g, &w.dies, &colors, 400, 400, &style);
        assert!(c.pixels.chunks(4).any(|p| p == palette::SELECTED));
    }

    #[test]
    fn tiles_at_zoom_one_reassemble_the_zoom_zero_tile() {
        let f = demo();
        let w = &f.wafers[1];
        let g = MapGeometry::new(w);
        let colors = Coloring::new(&f, &w.dies, crate::Layer::HardBin, &BTreeSet::new());
        // The same scale: tile 1/1/0 at 256 px is the top-right quarter of tile 0/0/0 at 512 px.
        let t0 = tile(&g, &w.dies, &colors, 0, 0, 0, 512).unwrap();
        let t = tile(&g, &w.dies, &colors, 1, 1, 0, 256).unwrap();
        let mut same = 0;
        for y in 0..256 {
            for x in 0..256 {
                same += (t.get(x, y) == t0.get(256 + x, y)) as u32;
            }
        }
        assert!(
            same as f32 / 65536.0 > 0.995,
            "{same} of 65536 pixels agree"
        );
        assert_eq!(t.width, 256);
        assert!(tile(&g, &w.dies, &colors, 2, 4, 0, 256).is_err());
        assert!(!t.encode_png().is_empty());
    }

    #[test]
    fn pixel_coverage_follows_pixel_centres() {
        let dies = DieTable {
            x: vec![0],
            y: vec![0],
            hard_bin: vec![2],
            ..DieTable::default()
        };
        let g = MapGeometry::for_dies(&dies, &WaferGeometry::default(), (0.0, 0.0));
        let colors = Coloring {
            table: vec![[1, 2, 3, 255]],
            keys: vec![0],
            legend: vec![],
            limits: None,
        };
        // Die spans world [0,1): at scale 3 with offset 0.4 it covers pixels 0.4..3.4 ->
        // centres 0.5, 1.5, 2.5 -> pixels 0, 1, 2.
        let view = View {
            scale: 3.0,
            offset: [0.4, 0.4],
        };
        let mut c = Canvas::new(5, 5, [0; 4]);
        draw(
            &g,
            &dies,
            &colors,
            &view,
            &mut c,
            &Style {
                outline: false,
                ..Style::default()
            },
        );
        let row: Vec<bool> = (0..5).map(|x| c.get(x, 1) == [1, 2, 3, 255]).collect();
        assert_eq!(row, [true, true, true, false, false]);
    }
}
