//! The one palette: bin colours, the continuous colour map for test values, and the colours of
//! everything else on a map.
//!
//! A map is coloured through a [`Coloring`]: a small colour table plus one `u16` key per die. The
//! CPU rasterizer looks keys up in the table; the GPU renderer uploads the same table as a texture
//! and the keys as an instance attribute, so both produce the same colours, and hiding a bin or
//! changing limits only rewrites the table.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use wafer::{DieTable, TestFile};

/// An sRGB colour with alpha, as stored in textures and PNGs.
pub type Rgba = [u8; 4];

/// Behind the wafer.
pub const BACKGROUND: Rgba = [250, 250, 250, 255];
/// The wafer outline and flat.
pub const OUTLINE: Rgba = [96, 96, 104, 255];
/// Border drawn around each die once dies are large enough on screen.
pub const DIE_BORDER: Rgba = [64, 64, 72, 255];
/// A die with no value for the shown test.
pub const NO_VALUE: Rgba = [205, 205, 210, 255];
/// A die whose bin the user hid in the legend.
pub const HIDDEN: Rgba = [236, 236, 238, 255];
/// Hover and selection outlines.
pub const HOVER: Rgba = [255, 255, 255, 255];
pub const SELECTED: Rgba = [255, 0, 200, 255];

/// Pass bins: greens, bin 1 the classic one, other pass bins darker or lighter by bin number.
const PASS_GREENS: [Rgba; 6] = [
    [44, 160, 44, 255],
    [27, 120, 55, 255],
    [116, 196, 118, 255],
    [0, 109, 44, 255],
    [161, 217, 155, 255],
    [65, 171, 93, 255],
];

/// Fail bins: distinct, non-green hues; a bin always gets the same one (by its number).
const FAIL_COLORS: [Rgba; 20] = [
    [214, 39, 40, 255],   // red
    [255, 127, 14, 255],  // orange
    [31, 119, 180, 255],  // blue
    [148, 103, 189, 255], // purple
    [140, 86, 75, 255],   // brown
    [227, 119, 194, 255], // pink
    [23, 190, 207, 255],  // cyan
    [190, 160, 230, 255], // lavender
    [127, 127, 127, 255], // grey
    [255, 215, 0, 255],   // gold
    [0, 0, 139, 255],     // navy
    [128, 0, 0, 255],     // maroon
    [255, 0, 255, 255],   // magenta
    [70, 130, 180, 255],  // steel blue
    [210, 105, 30, 255],  // chocolate
    [106, 61, 154, 255],  // indigo
    [251, 154, 153, 255], // salmon
    [253, 191, 111, 255], // apricot
    [166, 206, 227, 255], // sky
    [60, 60, 60, 255],    // charcoal
];

/// Colour of a bin. `pass` comes from the bin table (HBR/SBR); unknown is treated as fail except
/// for bin 1, the universal pass bin.
pub fn bin_color(bin: u16, pass: Option<bool>) -> Rgba {
    if pass.unwrap_or(bin == 1) {
        PASS_GREENS[(bin as usize).saturating_sub(1) % PASS_GREENS.len()]
    } else {
        // Bin 0 and low fail bins are the common ones: give them the most distinct hues first.
        FAIL_COLORS[(bin as usize + FAIL_COLORS.len() - 2) % FAIL_COLORS.len()]
    }
}

/// Viridis (matplotlib), sampled at 33 points; interpolated linearly in between.
const VIRIDIS: [[u8; 3]; 33] = [
    [68, 1, 84],
    [71, 13, 96],
    [72, 24, 106],
    [72, 35, 116],
    [71, 45, 123],
    [69, 55, 129],
    [66, 64, 134],
    [62, 73, 137],
    [59, 82, 139],
    [55, 91, 141],
    [51, 99, 141],
    [47, 107, 142],
    [44, 114, 142],
    [41, 122, 142],
    [38, 130, 142],
    [35, 137, 142],
    [33, 145, 140],
    [31, 152, 139],
    [31, 160, 136],
    [34, 167, 133],
    [40, 174, 128],
    [50, 182, 122],
    [63, 188, 115],
    [78, 195, 107],
    [94, 201, 98],
    [112, 207, 87],
    [132, 212, 75],
    [152, 216, 62],
    [173, 220, 48],
    [194, 223, 35],
    [216, 226, 25],
    [236, 229, 27],
    [253, 231, 37],
];

/// Steps of the continuous colour map: values are quantised to this many colours.
pub const RAMP_STEPS: usize = 256;

/// The continuous colour map at `t` in [0, 1] (clamped).
pub fn ramp(t: f32) -> Rgba {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) } * 32.0;
    let i = (t as usize).min(31);
    let f = t - i as f32;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |k: usize| (a[k] as f32 + (b[k] as f32 - a[k] as f32) * f).round() as u8;
    [mix(0), mix(1), mix(2), 255]
}

/// What the map shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    HardBin,
    SoftBin,
    /// A parametric test, by catalogue index.
    Test(usize),
}

/// A layer name that does not fit the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayerError {
    /// Not `hbin`, `sbin` or `test:NUMBER`.
    Syntax(String),
    /// `test:NUMBER` for a test the file does not have.
    NoSuchTest(u32),
}

impl fmt::Display for LayerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerError::Syntax(s) => {
                write!(f, "unknown layer {s:?}: use hbin, sbin or test:NUMBER")
            }
            LayerError::NoSuchTest(n) => write!(f, "the file has no test number {n}"),
        }
    }
}

impl std::error::Error for LayerError {}

impl Layer {
    /// Parse `hbin`, `sbin` or `test:NUMBER` against a file's test catalogue. The syntax is
    /// [`api::LayerName`]'s (the one parser of layer names); this adds the file's tests.
    pub fn parse(s: &str, file: &TestFile) -> Result<Layer, LayerError> {
        let name = api::LayerName::parse(s).map_err(|_| LayerError::Syntax(s.to_string()))?;
        Layer::of_name(name, file)
    }

    /// The layer a (syntactically valid) name shows in `file`.
    pub fn of_name(name: api::LayerName, file: &TestFile) -> Result<Layer, LayerError> {
        match name {
            api::LayerName::HardBin => Ok(Layer::HardBin),
            api::LayerName::SoftBin => Ok(Layer::SoftBin),
            api::LayerName::Test(n) => file
                .tests
                .find(n)
                .map(Layer::Test)
                .ok_or(LayerError::NoSuchTest(n)),
        }
    }

    /// The name [`Layer::parse`] reads back.
    pub fn name(self, file: &TestFile) -> String {
        match self {
            Layer::HardBin => "hbin".into(),
            Layer::SoftBin => "sbin".into(),
            Layer::Test(t) => format!("test:{}", file.tests.tests[t].number),
        }
    }
}

/// One legend row of a bin layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LegendEntry {
    pub bin: u16,
    pub name: String,
    pub pass: Option<bool>,
    pub count: usize,
    pub color: Rgba,
    pub hidden: bool,
}

/// Where the colour map's ends come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LimitSource {
    /// The test's low and high limits.
    Spec,
    /// The 1st and 99th percentiles of the values (no usable limits).
    Percentiles,
    /// No finite value at all.
    Empty,
}

/// A layer's colours for one die table: a colour table and one key per die.
#[derive(Clone, Debug, PartialEq)]
pub struct Coloring {
    pub table: Vec<Rgba>,
    /// `keys[i]` indexes `table` for die `i`.
    pub keys: Vec<u16>,
    /// Bin layers: one row per bin present, by bin number.
    pub legend: Vec<LegendEntry>,
    /// Test layers: the values at the two ends of the colour map, and where they came from.
    pub limits: Option<(f32, f32, LimitSource)>,
}

/// Key of "no value" in a test layer; keys 1..=RAMP_STEPS are the colour map's steps.
pub const KEY_NO_VALUE: u16 = 0;

impl Coloring {
    /// Colour of die `i`.
    pub fn color(&self, i: usize) -> Rgba {
        self.table[self.keys[i] as usize]
    }

    /// Colour the dies of `dies` (from `file`) by `layer`, with the bins in `hidden` greyed out.
    pub fn new(file: &TestFile, dies: &DieTable, layer: Layer, hidden: &BTreeSet<u16>) -> Coloring {
        match layer {
            Layer::HardBin => Self::bins(&dies.hard_bin, &file.bins.hard, hidden),
            Layer::SoftBin => Self::bins(&dies.soft_bin, &file.bins.soft, hidden),
            Layer::Test(t) => {
                let info = &file.tests.tests[t];
                let values: Vec<f32> = dies.values(t).collect();
                Self::values(&values, info.lo_limit, info.hi_limit)
            }
        }
    }

    fn bins(
        bins: &[u16],
        defs: &BTreeMap<u16, wafer::BinInfo>,
        hidden: &BTreeSet<u16>,
    ) -> Coloring {
        // Dense counts by bin number: two tree lookups per die were most of a new map's
        // colouring (a 40k-die wafer, 13 ms on the page's thread). At most 65,536 slots.
        let top = bins.iter().copied().max().map_or(0, usize::from);
        let mut counts = vec![0usize; top + 1];
        for &b in bins {
            counts[usize::from(b)] += 1;
        }
        // A bin's slot: its rank among the bins present (fits u16: there are at most 65,536).
        let mut slot = vec![0u16; top + 1];
        let mut legend: Vec<LegendEntry> = Vec::new();
        for (bin, &count) in counts.iter().enumerate().filter(|(_, c)| **c > 0) {
            let bin = bin as u16;
            slot[usize::from(bin)] = legend.len() as u16;
            let def = defs.get(&bin);
            let pass = def.and_then(|d| d.pass);
            legend.push(LegendEntry {
                bin,
                name: def.map(|d| d.name.clone()).unwrap_or_default(),
                pass,
                count,
                color: bin_color(bin, pass),
                hidden: hidden.contains(&bin),
            });
        }
        let table = legend
            .iter()
            .map(|e| if e.hidden { HIDDEN } else { e.color })
            .collect();
        Coloring {
            table,
            keys: bins.iter().map(|&b| slot[usize::from(b)]).collect(),
            legend,
            limits: None,
        }
    }

    /// Colour values on the colour map between the spec limits (when both are finite and
    /// ordered) or else the 1st..99th percentiles, so one wild value cannot wash out the map.
    pub fn values(values: &[f32], lo: Option<f32>, hi: Option<f32>) -> Coloring {
        let (lo, hi, source) = match (lo, hi) {
            (Some(l), Some(h)) if l.is_finite() && h.is_finite() && l < h => {
                (l, h, LimitSource::Spec)
            }
            _ => {
                let mut v: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
                if v.is_empty() {
                    (0.0, 1.0, LimitSource::Empty)
                } else {
                    v.sort_by(f32::total_cmp);
                    let at = |q: f32| v[((v.len() - 1) as f32 * q).round() as usize];
                    let (l, h) = (at(0.01), at(0.99));
                    let (l, h) = if l < h { (l, h) } else { (l - 0.5, l + 0.5) };
                    (l, h, LimitSource::Percentiles)
                }
            }
        };
        let mut table = vec![NO_VALUE];
        table.extend((0..RAMP_STEPS).map(|i| ramp(i as f32 / (RAMP_STEPS - 1) as f32)));
        let span = hi - lo;
        let keys = values
            .iter()
            .map(|&v| {
                if !v.is_finite() {
                    return KEY_NO_VALUE;
                }
                let t = ((v - lo) / span).clamp(0.0, 1.0);
                1 + (t * (RAMP_STEPS - 1) as f32).round() as u16
            })
            .collect();
        Coloring {
            table,
            keys,
            legend: Vec::new(),
            limits: Some((lo, hi, source)),
        }
    }
}

impl Coloring {
    /// The same colours with every die outside `keep` faded towards the background, so a set
    /// of dies (a selection, a histogram bar, the dies a retest changed) stands out in place.
    /// The table doubles: key `k` of a faded die becomes `k + len`. Dies past `keep`'s end fade.
    pub fn emphasize(&self, keep: &[bool]) -> Coloring {
        let n = self.table.len();
        // u16 keys: a table this large (32 k bins) is not faded rather than wrapped.
        if n > u16::MAX as usize / 2 {
            return self.clone();
        }
        let mut table = self.table.clone();
        table.extend(self.table.iter().map(|&c| fade(c)));
        let keys = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, &k)| {
                if keep.get(i).copied().unwrap_or(false) {
                    k
                } else {
                    k + n as u16
                }
            })
            .collect();
        Coloring {
            table,
            keys,
            legend: self.legend.clone(),
            limits: self.limits,
        }
    }
}

/// A colour four fifths of the way to the background.
pub fn fade(c: Rgba) -> Rgba {
    let mix = |a: u8, b: u8| ((a as u16 + 4 * b as u16) / 5) as u8;
    [
        mix(c[0], BACKGROUND[0]),
        mix(c[1], BACKGROUND[1]),
        mix(c[2], BACKGROUND[2]),
        255,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emphasis_keeps_the_chosen_dies_and_fades_the_rest() {
        let c = Coloring::values(&[0.0, 5.0, 10.0], Some(0.0), Some(10.0));
        let e = c.emphasize(&[false, true]);
        assert_eq!(e.table.len(), 2 * c.table.len());
        assert_eq!(e.color(1), c.color(1));
        assert_eq!(e.color(0), fade(c.color(0)));
        assert_eq!(e.color(2), fade(c.color(2)), "past the mask: faded");
        assert_ne!(e.color(0), c.color(0));
    }

    #[test]
    fn pass_bins_are_green_and_fail_bins_are_distinct_and_stable() {
        let green = |c: Rgba| c[1] > c[0] && c[1] > c[2];
        assert!(green(bin_color(1, None)));
        assert!(green(bin_color(7, Some(true))));
        let fails: Vec<Rgba> = (2..22).map(|b| bin_color(b, Some(false))).collect();
        assert!(
            fails.iter().all(|&c| !green(c)),
            "no fail bin looks like a pass bin"
        );
        let distinct: BTreeSet<Rgba> = fails.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            20,
            "20 consecutive fail bins get 20 colours"
        );
        assert_eq!(
            bin_color(5, Some(false)),
            bin_color(5, None),
            "stable by number"
        );
    }

    #[test]
    fn bins_get_a_slot_each_in_bin_order_with_counts_names_and_hidden_ones() {
        let mut defs = BTreeMap::new();
        defs.insert(
            7,
            wafer::BinInfo {
                name: "OPEN".into(),
                pass: Some(false),
                ..Default::default()
            },
        );
        let hidden = BTreeSet::from([1]);
        let c = Coloring::bins(&[7, 1, 7, u16::MAX, 1, 7, 0], &defs, &hidden);
        let rows: Vec<(u16, usize, bool)> = c
            .legend
            .iter()
            .map(|e| (e.bin, e.count, e.hidden))
            .collect();
        assert_eq!(
            rows,
            [
                (0, 1, false),
                (1, 2, true),
                (7, 3, false),
                (u16::MAX, 1, false)
            ]
        );
        assert_eq!(c.keys, [2, 1, 2, 3, 1, 2, 0]);
        assert_eq!(c.legend[2].name, "OPEN");
        assert_eq!(c.color(0), bin_color(7, Some(false)));
        assert_eq!(c.color(1), HIDDEN);
        assert!(Coloring::bins(&[], &defs, &hidden).legend.is_empty());
    }

    #[test]
    fn the_colour_map_runs_from_viridis_purple_to_yellow() {
        assert_eq!(ramp(0.0), [68, 1, 84, 255]);
        assert_eq!(ramp(1.0), [253, 231, 37, 255]);
        assert_eq!(ramp(0.5), [33, 145, 140, 255]);
        assert_eq!(ramp(-3.0), ramp(0.0));
        assert_eq!(ramp(f32::NAN), ramp(0.0));
    }

    #[test]
    fn values_use_spec_limits_else_robust_percentiles() {
        let c = Coloring::values(&[0.0, 5.0, 10.0, f32::NAN], Some(0.0), Some(10.0));
        assert_eq!(c.limits, Some((0.0, 10.0, LimitSource::Spec)));
        assert_eq!(c.keys, [1, 129, 256, KEY_NO_VALUE]);
        assert_eq!(c.color(3), NO_VALUE);
        // One huge outlier among 200 values does not stretch the colour map.
        let mut v: Vec<f32> = (0..200).map(|i| i as f32).collect();
        v.push(1e9);
        let c = Coloring::values(&v, None, Some(5.0));
        let (lo, hi, src) = c.limits.unwrap();
        assert_eq!(src, LimitSource::Percentiles);
        assert!(lo >= 1.0 && hi <= 199.0, "{lo}..{hi}");
    }
}
