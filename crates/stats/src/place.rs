//! Where on the wafer: yield and bin mix by radial ring and quadrant (zones), by probe site, inside
//! a rectangle of dies, and what the retests changed. Counting only (one pass over the dies), so
//! the page computes them for the wafer on screen as settings change; the per-test summaries of a
//! site or a selection go through [`crate::summarize`].
//!
//! Zones, as `waferscope zones` and the page draw them:
//! - A die's radius is the distance of its centre from the wafer's centre ([`Wafer::center`]),
//!   in die widths, with rows scaled by the die's height (`1 / die_aspect`).
//! - The wafer's radius `R` is the largest die radius plus half a die, so the outermost dies lie
//!   inside it.
//! - Dies with radius over `R - edge` (the edge exclusion, in dies) are `excluded`; the rest fall
//!   in `rings` rings of equal width over `0..R - edge`, ring 0 at the centre. Equal width, not
//!   equal area: "the outer ring" then means the same band on every wafer of a lot.
//! - Quadrants by the sign of the die's offset from the centre in die coordinates (`+x+y`,
//!   `-x+y`, `-x-y`, `+x-y`; an offset of 0 counts as +), over the dies not excluded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wafer::{DieTable, Verdict, Wafer};

mod region;
pub use region::{Lasso, Rect, Region};

/// Failing dies per hard bin over `tables`, most first (ties by bin number): the pareto the page
/// and the report draw. Failing is the die's verdict (its PRR's pass flag), never a guess from
/// the bin's number or name.
pub fn fail_pareto(tables: &[&DieTable]) -> Vec<(u16, usize)> {
    let mut fails: BTreeMap<u16, usize> = BTreeMap::new();
    for d in tables {
        for (b, v) in d.hard_bin.iter().zip(&d.verdict) {
            if *v == Verdict::Fail {
                *fails.entry(*b).or_default() += 1;
            }
        }
    }
    let mut pareto: Vec<(u16, usize)> = fails.into_iter().collect();
    pareto.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    pareto
}

/// Dies counted by verdict and hard bin.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub dies: usize,
    pub pass: usize,
    pub fail: usize,
    /// Passing fraction; None without dies.
    #[serde(rename = "yield")]
    pub yield_: Option<f64>,
    /// Hard bin -> dies.
    #[serde(deserialize_with = "bin_keys")]
    pub bins: BTreeMap<u16, usize>,
}

/// Bin numbers as JSON keys: strings. Read through `#[serde(flatten)]` (a [`Site`]'s tally) they
/// stay strings, which a `u16` key refuses: so they are read as strings and parsed.
fn bin_keys<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<u16, usize>, D::Error> {
    BTreeMap::<String, usize>::deserialize(d)?
        .into_iter()
        .map(|(k, n)| match k.parse() {
            Ok(b) => Ok((b, n)),
            Err(_) => Err(serde::de::Error::custom(format!(
                "{k:?} is not a bin number"
            ))),
        })
        .collect()
}

impl Tally {
    /// Count rows `rows` of `dies` with hard bins `bins` (the final ones, or a first pass's).
    pub fn of(dies: &DieTable, rows: impl IntoIterator<Item = usize>) -> Tally {
        let mut t = Tally::default();
        for r in rows {
            t.add(dies, r);
        }
        t.done()
    }

    fn add(&mut self, dies: &DieTable, r: usize) {
        self.dies += 1;
        match dies.verdict[r] {
            Verdict::Pass => self.pass += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Unknown => {}
        }
        *self.bins.entry(dies.hard_bin[r]).or_default() += 1;
    }

    fn done(mut self) -> Tally {
        self.yield_ = (self.dies > 0).then(|| self.pass as f64 / self.dies as f64);
        self
    }
}

/// How zones are cut.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneSpec {
    /// 1 to [`MAX_RINGS`].
    pub rings: u8,
    /// Edge exclusion, in dies (>= 0).
    pub edge: f32,
}

pub const MAX_RINGS: u8 = 20;

impl Default for ZoneSpec {
    fn default() -> Self {
        ZoneSpec {
            rings: 5,
            edge: 0.0,
        }
    }
}

/// Where one die falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    /// None when excluded.
    pub ring: Option<u8>,
    pub quadrant: u8,
}

/// The quadrants' names, in [`Place::quadrant`] order.
pub const QUADRANTS: [&str; 4] = ["+x+y", "-x+y", "-x-y", "+x-y"];

/// A wafer's zones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Zones {
    pub spec: ZoneSpec,
    /// The wafer's radius in die widths.
    pub radius: f64,
    /// Ring 0 (centre) outwards.
    pub rings: Vec<Tally>,
    /// In [`QUADRANTS`] order.
    pub quadrants: Vec<Tally>,
    pub excluded: Tally,
}

/// Each die's zone under `spec`, and the wafer's radius.
pub fn places(w: &Wafer, spec: ZoneSpec) -> (Vec<Place>, f64) {
    let d = &w.dies;
    let (cx, cy) = w.center();
    let (cx, cy) = (f64::from(cx), f64::from(cy));
    let row_scale = 1.0 / f64::from(w.geometry.die_aspect());
    let offset = |r: usize| (f64::from(d.x[r]) - cx, (f64::from(d.y[r]) - cy) * row_scale);
    let radius = (0..d.len())
        .map(|r| {
            let (dx, dy) = offset(r);
            dx.hypot(dy)
        })
        .fold(0.0, f64::max)
        + 0.5;
    let rings = spec.rings.clamp(1, MAX_RINGS);
    let inner = radius - f64::from(spec.edge.max(0.0));
    let places = (0..d.len())
        .map(|r| {
            let (dx, dy) = offset(r);
            let rr = dx.hypot(dy);
            let ring = (inner > 0.0 && rr <= inner)
                .then(|| ((rr / inner * f64::from(rings)) as u8).min(rings - 1));
            let quadrant = match (dx >= 0.0, dy >= 0.0) {
                (true, true) => 0,
                (false, true) => 1,
                (false, false) => 2,
                (true, false) => 3,
            };
            Place { ring, quadrant }
        })
        .collect();
    (places, radius)
}

/// Yield and bin mix per ring and quadrant of `w`, counting `dies`: the wafer's final dies, or
/// its first pass (`Wafer::first_pass_dies`, which the caller may keep: the page does).
pub fn zones(w: &Wafer, spec: ZoneSpec, dies: &DieTable) -> Zones {
    let spec = ZoneSpec {
        rings: spec.rings.clamp(1, MAX_RINGS),
        edge: spec.edge.max(0.0),
    };
    let (places, radius) = places(w, spec);
    let d = dies;
    let rows = |f: &dyn Fn(&Place) -> bool| -> Vec<usize> {
        (0..places.len()).filter(|&r| f(&places[r])).collect()
    };
    Zones {
        spec,
        radius,
        rings: (0..spec.rings)
            .map(|k| Tally::of(d, rows(&|p| p.ring == Some(k))))
            .collect(),
        quadrants: (0..4)
            .map(|q| Tally::of(d, rows(&|p| p.ring.is_some() && p.quadrant == q)))
            .collect(),
        excluded: Tally::of(d, rows(&|p| p.ring.is_none())),
    }
}

/// One probe site's dies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub head: u8,
    pub site: u8,
    #[serde(flatten)]
    pub tally: Tally,
    /// The chosen test over this site's dies, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<crate::Summary>,
}

/// Rows of `dies` by (head, site), in order.
pub fn site_rows(dies: &DieTable) -> BTreeMap<(u8, u8), Vec<usize>> {
    let mut m: BTreeMap<(u8, u8), Vec<usize>> = BTreeMap::new();
    for r in 0..dies.len() {
        m.entry((dies.head[r], dies.site[r])).or_default().push(r);
    }
    m
}

/// Yield and bins per probe site of `tables` (one wafer's dies, or every wafer's), with test
/// catalogue index `test` summarised per site when given (`limits` its limits). One pass over
/// the dies: a lot's million took a tenth of a second with a list of rows per site and a map
/// lookup per die.
pub fn sites(tables: &[&DieTable], test: Option<(usize, crate::Limits)>) -> Vec<Site> {
    // (head, site) -> group, through a table of every possible key.
    let mut group_of = vec![u32::MAX; 1 << 16];
    let mut keys: Vec<(u8, u8)> = Vec::new();
    let mut values: Vec<Vec<f64>> = Vec::new();
    let tallies = tallies(tables, |k, r| {
        let d = tables[k];
        let key = (d.head[r], d.site[r]);
        let at = usize::from(key.0) << 8 | usize::from(key.1);
        if group_of[at] == u32::MAX {
            group_of[at] = keys.len() as u32;
            keys.push(key);
            values.push(Vec::new());
        }
        let g = group_of[at] as usize;
        if let Some((t, _)) = test {
            values[g].push(f64::from(d.value(t, r)));
        }
        Some(g)
    });
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&g| keys[g]);
    order
        .into_iter()
        .map(|g| Site {
            head: keys[g].0,
            site: keys[g].1,
            tally: tallies[g].clone(),
            test: test.map(|(_, limits)| crate::summarize(std::mem::take(&mut values[g]), limits)),
        })
        .collect()
}

/// Tallies of many groups in one pass: `group(k, r)` puts row `r` of table `k` in a group
/// (0, 1, ...) or in none. Bins are counted through a dense index, not a map lookup per die.
fn tallies(
    tables: &[&DieTable],
    mut group: impl FnMut(usize, usize) -> Option<usize>,
) -> Vec<Tally> {
    let mut index = vec![u32::MAX; 1 << 16];
    let mut bins: Vec<u16> = Vec::new();
    let mut out: Vec<(Tally, Vec<usize>)> = Vec::new();
    for (k, d) in tables.iter().enumerate() {
        for r in 0..d.len() {
            let Some(g) = group(k, r) else { continue };
            if g >= out.len() {
                out.resize_with(g + 1, Default::default);
            }
            let (t, counts) = &mut out[g];
            t.dies += 1;
            match d.verdict[r] {
                Verdict::Pass => t.pass += 1,
                Verdict::Fail => t.fail += 1,
                Verdict::Unknown => {}
            }
            let b = d.hard_bin[r];
            if index[usize::from(b)] == u32::MAX {
                index[usize::from(b)] = bins.len() as u32;
                bins.push(b);
            }
            let c = index[usize::from(b)] as usize;
            if counts.len() <= c {
                counts.resize(c + 1, 0);
            }
            counts[c] += 1;
        }
    }
    out.into_iter()
        .map(|(mut t, counts)| {
            t.bins = counts
                .into_iter()
                .enumerate()
                .filter(|(_, n)| *n > 0)
                .map(|(c, n)| (bins[c], n))
                .collect();
            t.done()
        })
        .collect()
}

/// The stepper's field (reticle), in dies: `width` x `height` dies per shot, and the die
/// coordinates of one field's first die (`offset`), so die (x, y) sits at position
/// ((x - dx) mod width, (y - dy) mod height) of its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReticleSpec {
    pub width: u16,
    pub height: u16,
    pub offset: [i16; 2],
}

impl Default for ReticleSpec {
    fn default() -> Self {
        ReticleSpec {
            width: 4,
            height: 4,
            offset: [0, 0],
        }
    }
}

/// Biggest field side accepted, in dies.
pub const MAX_RETICLE: u16 = 64;

impl ReticleSpec {
    /// `WxH` or `WxH+DX+DY` (offsets may be negative: `4x3-1+2`).
    pub fn parse(s: &str) -> Option<ReticleSpec> {
        let (w, rest) = s.split_once('x')?;
        let cut = rest.find(['+', '-']).unwrap_or(rest.len());
        let (h, off) = rest.split_at(cut);
        let (width, height): (u16, u16) = (w.parse().ok()?, h.parse().ok()?);
        let offset = if off.is_empty() {
            [0, 0]
        } else {
            let second = off[1..].find(['+', '-'])? + 1;
            let (a, b) = off.split_at(second);
            [a.parse().ok()?, b.parse().ok()?]
        };
        let ok = |v: u16| (1..=MAX_RETICLE).contains(&v);
        (ok(width) && ok(height)).then_some(ReticleSpec {
            width,
            height,
            offset,
        })
    }

    /// The position of die (x, y) inside its field, and which field.
    pub fn place(&self, x: i16, y: i16) -> ((u16, u16), (i32, i32)) {
        let (w, h) = (i32::from(self.width.max(1)), i32::from(self.height.max(1)));
        let (rx, ry) = (
            i32::from(x) - i32::from(self.offset[0]),
            i32::from(y) - i32::from(self.offset[1]),
        );
        (
            (rx.rem_euclid(w) as u16, ry.rem_euclid(h) as u16),
            (rx.div_euclid(w), ry.div_euclid(h)),
        )
    }
}

/// Yield per position inside the field: a failure at the same place of every field is the
/// reticle's (a mask defect), not the wafer's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reticle {
    pub spec: ReticleSpec,
    /// Fields with at least one die.
    pub fields: usize,
    /// Row by row (`height` rows of `width`), position (px, py) at `py * width + px`.
    pub positions: Vec<Tally>,
}

pub fn reticle(dies: &DieTable, spec: ReticleSpec) -> Reticle {
    let spec = ReticleSpec {
        width: spec.width.clamp(1, MAX_RETICLE),
        height: spec.height.clamp(1, MAX_RETICLE),
        ..spec
    };
    let mut positions = vec![Tally::default(); usize::from(spec.width) * usize::from(spec.height)];
    let mut fields = std::collections::BTreeSet::new();
    for r in 0..dies.len() {
        let ((px, py), field) = spec.place(dies.x[r], dies.y[r]);
        fields.insert(field);
        positions[usize::from(py) * usize::from(spec.width) + usize::from(px)].add(dies, r);
    }
    Reticle {
        spec,
        fields: fields.len(),
        positions: positions.into_iter().map(Tally::done).collect(),
    }
}

/// What a wafer's retests changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Retests {
    /// Dies tested more than once.
    pub retested: usize,
    /// Retested dies whose hard bin changed.
    pub changed: usize,
    /// Failed first, passed at the end.
    pub recovered: usize,
    /// Passed first, failed at the end.
    pub lost: usize,
    pub first: Tally,
    #[serde(rename = "final")]
    pub last: Tally,
}

/// What the retests of `w` changed; `first` is its first pass (`Wafer::first_pass_dies`).
pub fn retests(w: &Wafer, first: &DieTable) -> Retests {
    let d = &w.dies;
    let all = 0..d.len();
    let mut r = Retests {
        retested: w.first_pass.len(),
        changed: w.bin_changes().count(),
        first: Tally::of(first, all.clone()),
        last: Tally::of(d, all),
        ..Retests::default()
    };
    for f in &w.first_pass {
        match (f.verdict, d.verdict[f.row as usize]) {
            (Verdict::Fail, Verdict::Pass) => r.recovered += 1,
            (Verdict::Pass, Verdict::Fail) => r.lost += 1,
            _ => {}
        }
    }
    r
}

#[cfg(test)]
mod tests;
