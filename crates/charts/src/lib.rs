//! The charts of the page and of `waferscope report`, defined once, drawn by plotters as SVG: a
//! test's histogram with its limits, box plots (per wafer, per site) and bar charts (pareto).
//!
//! A histogram also returns its bars and where its plot area sits, so the page can map a click
//! on the picture back to a bar (and so to the dies whose values fall in it).
//!
//! Text: label sizes come from one estimate (`text::size`), never from the page: a chart is
//! pure string building, the same bytes natively, on the page and in a worker.

use plotters::prelude::*;
pub use stats::histogram::{Bar, bins};

mod text;
use text::Svg;

/// A drawn histogram.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    pub svg: String,
    pub bars: Vec<Bar>,
    /// Left and right edge of the plot area, in the picture's pixels (bars span it evenly).
    pub plot_x: [f64; 2],
    pub width: u32,
    pub height: u32,
}

impl Histogram {
    /// The bar under picture x coordinate `x`, if any.
    pub fn bar_at(&self, x: f64) -> Option<usize> {
        let [a, b] = self.plot_x;
        let t = (x - a) / (b - a);
        (0.0..1.0)
            .contains(&t)
            .then(|| ((t * self.bars.len() as f64) as usize).min(self.bars.len() - 1))
    }
}

/// A number for an axis or a table: four significant digits, in scientific notation when very
/// small or large (test results run from picoamps to megahertz).
pub fn short(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    if (1e-3..1e5).contains(&a) {
        let digits = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.digits$}")
    } else {
        format!("{v:.3e}")
    }
}

/// The category at axis position `x` of `n` categories placed at 0, 1, ..., n - 1: a tick
/// between them gets no label.
fn slot(x: f64, n: usize) -> Option<usize> {
    let i = x.round();
    ((x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n).then_some(i as usize)
}

const LIMIT: RGBColor = RGBColor(200, 30, 30);
const BAR: RGBColor = RGBColor(44, 123, 229);

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("chart: {e:?}")
}

/// A histogram of `values` (non-finite ones left out) titled `title`, with the test's limits as
/// red lines.
pub fn histogram(
    title: &str,
    values: &[f64],
    low: Option<f64>,
    high: Option<f64>,
    size: (u32, u32),
) -> Result<Histogram, String> {
    let bars = bins(values, low, high).ok_or("no finite value to draw")?;
    histogram_of(title, bars, low, high, size)
}

/// A histogram of bars counted already ([`bins`]; the page's parsing worker counts them).
pub fn histogram_of(
    title: &str,
    bars: Vec<Bar>,
    low: Option<f64>,
    high: Option<f64>,
    (width, height): (u32, u32),
) -> Result<Histogram, String> {
    if bars.is_empty() {
        return Err("no finite value to draw".into());
    }
    let (x0, x1) = (bars[0].lo, bars[bars.len() - 1].hi);
    let top = bars.iter().map(|b| b.count).max().unwrap_or(1).max(1) as u32;
    let mut svg = String::new();
    let plot_x;
    {
        let root = Svg::new(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (text::FAMILY, text::CAPTION))
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(34)
            .build_cartesian_2d(x0..x1, 0u32..top + top / 10 + 1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(5)
            .x_label_formatter(&|x| short(*x))
            .y_labels(4)
            .label_style((text::FAMILY, text::LABEL))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(bars.iter().map(|b| {
                Rectangle::new([(b.lo, 0), (b.hi, b.count as u32)], BAR.mix(0.8).filled())
            }))
            .map_err(err)?;
        for l in [low, high].into_iter().flatten().filter(|l| l.is_finite()) {
            chart
                .draw_series(LineSeries::new(
                    [(l, 0), (l, top + top / 10 + 1)],
                    LIMIT.stroke_width(2),
                ))
                .map_err(err)?;
        }
        let (xr, _) = chart.plotting_area().get_pixel_range();
        plot_x = [xr.start as f64, xr.end as f64];
        root.present().map_err(err)?;
    }
    Ok(Histogram {
        svg,
        bars,
        plot_x,
        width,
        height,
    })
}

/// Box plots of `groups` (label, box: `stats::BoxStats`, computed where the values are, so
/// drawing sorts nothing), one per group, with the limits as red lines. Whiskers at 1.5 times
/// the box's height beyond it, as plotters draws them.
pub fn boxplots(
    title: &str,
    groups: &[(String, stats::BoxStats)],
    low: Option<f64>,
    high: Option<f64>,
    (width, height): (u32, u32),
) -> Result<String, String> {
    if groups.is_empty() {
        return Err("no finite value to draw".into());
    }
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in groups
        .iter()
        .flat_map(|g| [g.1.min, g.1.max])
        .chain(low)
        .chain(high)
    {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else {
        lo.abs().max(1.0) * 0.05
    };
    let (lo, hi) = ((lo - pad) as f32, (hi + pad) as f32);
    let n = groups.len();
    let label = |x: &f64| slot(*x, n).map_or(String::new(), |i| groups[i].0.clone());
    let mut svg = String::new();
    {
        let root = Svg::new(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (text::FAMILY, text::CAPTION))
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n + 1)
            .x_label_formatter(&label)
            .y_labels(5)
            .y_label_formatter(&|y| short(f64::from(*y)))
            .label_style((text::FAMILY, text::LABEL))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(groups.iter().enumerate().map(|(i, (_, b))| {
                // plotters takes values: five whose quartiles (same interpolation) are the box's.
                let q = Quartiles::new(&[b.q1, b.q1, b.median, b.q3, b.q3]);
                Boxplot::new_vertical(i as f64, &q).width(14).style(BAR)
            }))
            .map_err(err)?;
        for l in [low, high].into_iter().flatten().filter(|l| l.is_finite()) {
            let l = l as f32;
            chart
                .draw_series(LineSeries::new(
                    [(-0.5, l), (n as f64 - 0.5, l)],
                    LIMIT.stroke_width(2),
                ))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Horizontal bars (a pareto): `(label, value)`, the first at the top.
pub fn bars(
    title: &str,
    items: &[(String, f64)],
    (width, height): (u32, u32),
) -> Result<String, String> {
    if items.is_empty() {
        return Err("nothing to draw".into());
    }
    let top = items.iter().map(|i| i.1).fold(0.0, f64::max).max(1.0);
    let n = items.len();
    // Row k from the top sits at y = n - 1 - k.
    let label = |y: &f64| slot(*y, n).map_or(String::new(), |i| items[n - 1 - i].0.clone());
    let mut svg = String::new();
    {
        let root = Svg::new(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (text::FAMILY, text::CAPTION))
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..top * 1.05, -0.5..n as f64 - 0.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_labels(5)
            .y_labels(n + 1)
            .y_label_formatter(&label)
            .label_style((text::FAMILY, text::LABEL))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(items.iter().enumerate().map(|(k, (_, v))| {
                let y = (n - 1 - k) as f64;
                Rectangle::new([(0.0, y - 0.35), (*v, y + 0.35)], BAR.mix(0.8).filled())
            }))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(short(0.0), "0");
        assert_eq!(short(1.23456), "1.235");
        assert_eq!(short(-0.04509), "-0.04509");
        assert_eq!(short(123.456), "123.5");
        assert_eq!(short(2.5e-9), "2.500e-9");
        assert_eq!(short(3.2e7), "3.200e7");
    }

    #[test]
    fn a_histogram_is_svg_with_a_bar_per_bin_and_its_limits_and_maps_clicks_to_bars() {
        let v: Vec<f64> = (0..100).map(|i| (i % 10) as f64).collect();
        let h = histogram("test 100", &v, Some(-1.0), Some(10.0), (400, 200)).unwrap();
        assert!(h.svg.starts_with("<svg"));
        assert!(h.svg.contains("test 100"));
        // The bars and the limit lines are there: filled rectangles, red polylines.
        assert!(h.svg.matches("<rect").count() >= h.bars.len());
        assert_eq!(h.svg.matches("stroke=\"#C81E1E\"").count(), 2, "{}", h.svg);
        let [a, b] = h.plot_x;
        assert!(a > 0.0 && b <= 400.0 && a < b);
        assert_eq!(h.bar_at(a + 0.1), Some(0));
        assert_eq!(h.bar_at(b - 0.1), Some(h.bars.len() - 1));
        assert_eq!(h.bar_at(a - 5.0), None);
    }

    #[test]
    fn box_plots_and_bars_draw_one_mark_per_group() {
        let g: Vec<(String, stats::BoxStats)> = [
            ("W1", vec![1.0, 2.0, 3.0, 4.0]),
            ("W2", vec![2.0, 3.0, f64::NAN]),
            ("empty", vec![f64::NAN]),
        ]
        .into_iter()
        .filter_map(|(w, v)| Some((w.to_string(), stats::BoxStats::of(v)?)))
        .collect();
        let s = boxplots("per wafer", &g, Some(0.0), None, (300, 200)).unwrap();
        assert!(s.contains("W1") && s.contains("W2") && !s.contains("empty"));
        assert!(boxplots("none", &[], None, None, (300, 200)).is_err());
        let b = bars(
            "pareto",
            &[("bin 8".into(), 24.0), ("bin 2".into(), 6.0)],
            (300, 120),
        )
        .unwrap();
        assert!(b.contains("bin 8"));
        assert!(bars("none", &[], (10, 10)).is_err());
    }
}
