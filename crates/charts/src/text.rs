//! Label sizes for plotters' layout, estimated from a sans-serif font's advance widths, the same
//! on every target.
//!
//! plotters asks its font for a label's size. In wasm that font appends a `<span>` to the page
//! and reads its size back: a forced style and layout of the whole page per chart, and a panic
//! where there is no page (a Web Worker). Natively it guesses 0.7 em per character. The SVG's
//! text is placed by whoever shows it (`text-anchor`, `dy`), so layout only needs sizes. One
//! estimate everywhere makes charts pure string building, drawable in a worker, and gives the
//! page's report the CLI's bytes.

use plotters::backend::{DrawingBackend, SVGBackend};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// Advance widths of Helvetica (its AFM metrics, 1/1000 em) for ASCII 32 (space) to 126 (`~`);
/// Arial, DejaVu Sans and the browsers' default sans-serif are within a few percent.
const WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // ' '..'/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584,
    556, // '0'..'?'
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722,
    778, // '@'..'O'
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
    556, // 'P'..'_'
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556,
    556, // '`'..'o'
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // 'p'..'~'
];

/// Width of a character outside ASCII (µ, Ω, digits of other scripts: about a digit's).
const OTHER: u16 = 556;

/// plotters' SVG backend writes a style of size `s` as `font-size: s / 1.24`.
const SVG_SCALE: f64 = 1.24;

/// The page's own font family, so a chart's text needs no font of its own: every new family or
/// size is a font lookup in the browser's first layout of it (2-8 ms each, measured in the
/// opening's traces).
pub(crate) const FAMILY: &str = "system-ui, sans-serif";
/// A caption: 12 px on the page, its small text size (`--small` in style.css).
pub(crate) const CAPTION: f64 = 12.0 * SVG_SCALE;
/// Axis labels: 10 px.
pub(crate) const LABEL: f64 = 10.0 * SVG_SCALE;

/// Line height in em, as browsers' `normal` for common sans-serif fonts.
const LINE: f64 = 1.15;

/// The estimated (width, height) in pixels of `text` drawn by the SVG backend at plotters size
/// `size`.
pub fn size(text: &str, size: f64) -> (u32, u32) {
    let em = size / SVG_SCALE;
    let units: u32 = text
        .chars()
        .map(|c| {
            let i = (c as u32).wrapping_sub(32) as usize;
            u32::from(*WIDTHS.get(i).unwrap_or(&OTHER))
        })
        .sum();
    let width = f64::from(units) / 1000.0 * em;
    (width.ceil() as u32, (LINE * em).ceil() as u32)
}

/// plotters' SVG backend with [`size`] as its text measure; everything else is the SVG
/// backend's own.
pub(crate) struct Svg<'a>(SVGBackend<'a>);

impl<'a> Svg<'a> {
    pub(crate) fn new(out: &'a mut String, size: (u32, u32)) -> Self {
        Svg(SVGBackend::with_string(out, size))
    }
}

type Drawn<E> = Result<(), DrawingErrorKind<E>>;

impl DrawingBackend for Svg<'_> {
    type ErrorType = std::io::Error;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> Drawn<Self::ErrorType> {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> Drawn<Self::ErrorType> {
        self.0.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Drawn<Self::ErrorType> {
        self.0.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Drawn<Self::ErrorType> {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Drawn<Self::ErrorType> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Drawn<Self::ErrorType> {
        self.0.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Drawn<Self::ErrorType> {
        self.0.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Drawn<Self::ErrorType> {
        self.0.fill_polygon(vert, style)
    }
    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Drawn<Self::ErrorType> {
        self.0.draw_text(text, style, pos)
    }
    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        Ok(size(text, style.size()))
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        dim: (u32, u32),
        src: &[u8],
    ) -> Drawn<Self::ErrorType> {
        self.0.blit_bitmap(pos, dim, src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_add_up_from_the_font_metrics() {
        // At plotters size 12.4 the SVG's font is 10 px: "1.0" is 556 + 278 + 556 thousandths.
        assert_eq!(size("1.0", 12.4), (14, 12));
        assert_eq!(size("", 12.4), (0, 12));
        // Wide and narrow letters differ (a per-character guess would not).
        assert!(size("WWW", 12.4).0 > 2 * size("iii", 12.4).0);
        // Outside ASCII: a digit's width, never a panic on any character.
        assert_eq!(size("µ", 12.4).0, size("0", 12.4).0);
        assert_eq!(size("\u{7f}\u{1f}", 12.4), size("00", 12.4));
    }
}
