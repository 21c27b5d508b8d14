//! [`Export::View`](super::Export::View): the map as the page shows it, drawn by the parsing
//! worker from the file it keeps and the page's colours.

use paint::{Canvas, Coloring, MapGeometry, Rgba, Style, View};
use wafer::TestFile;

use super::{MAX_VIEW_PIXELS, MAX_VIEW_SIDE};
use crate::doc::{Stack, stack};

/// Wafer `wafer` (None: the stacked map) of `file`, die `i` in `table[keys[i]]`, drawn at
/// `view` into `width` x `height` pixels, die `selected` outlined; or why not (the message came
/// from the page, but checked as any input: a bad one is an error, never a panic).
pub(super) fn view(
    file: &TestFile,
    wafer: Option<usize>,
    table: &[Rgba],
    keys: &[u16],
    view: View,
    (width, height): (u32, u32),
    selected: Option<usize>,
) -> Result<Canvas, String> {
    let pixels = u64::from(width) * u64::from(height);
    if !(1..=MAX_VIEW_SIDE).contains(&width)
        || !(1..=MAX_VIEW_SIDE).contains(&height)
        || pixels > MAX_VIEW_PIXELS
    {
        return Err(format!("a picture of {width} x {height} pixels"));
    }
    let [x, y] = view.offset;
    if !(view.scale.is_finite() && view.scale > 0.0 && x.is_finite() && y.is_finite()) {
        return Err(format!("a view at scale {} from ({x}, {y})", view.scale));
    }
    let made;
    let (dies, g) = match wafer {
        Some(i) => {
            let w = file
                .wafers
                .get(i)
                .ok_or_else(|| format!("the file has no wafer {i}"))?;
            (&w.dies, MapGeometry::new(w))
        }
        None => {
            let tables: Vec<_> = file.wafers.iter().map(|w| &w.dies).collect();
            made = Stack::from_counts(stack::tally(&tables));
            (&made.dies, made.geometry(file))
        }
    };
    if keys.len() != dies.len() {
        let n = dies.len();
        return Err(format!("colours for {} dies of a map of {n}", keys.len()));
    }
    if let Some(k) = keys.iter().find(|&&k| usize::from(k) >= table.len()) {
        return Err(format!("colour {k} of a table of {}", table.len()));
    }
    if let Some(s) = selected.filter(|&s| s >= dies.len()) {
        return Err(format!("no die {s} to outline"));
    }
    let coloring = Coloring {
        table: table.to_vec(),
        keys: keys.to_vec(),
        legend: Vec::new(),
        limits: None,
    };
    let mut canvas = Canvas::new(width, height, paint::palette::BACKGROUND);
    let style = Style {
        selected,
        ..Style::default()
    };
    paint::raster::draw(&g, dies, &coloring, &view, &mut canvas, &style);
    Ok(canvas)
}
