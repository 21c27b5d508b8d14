//! What is chosen on a map: a rectangle of die coordinates (shift-drag, `stats --rect`) or a lasso
//! (a closed path through fractional die coordinates, `stats --lasso`). Both answer which dies
//! are inside, so the page's selection panel and the CLI count the same dies.

use serde::{Deserialize, Serialize};
use wafer::DieTable;

/// A rectangle of die coordinates, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rect {
    pub x: [i16; 2],
    pub y: [i16; 2],
}

impl Rect {
    /// `X0:X1,Y0:Y1` (either order).
    pub fn parse(s: &str) -> Option<Rect> {
        let (xs, ys) = s.split_once(',')?;
        let pair = |p: &str| -> Option<[i16; 2]> {
            let (a, b) = p.split_once(':')?;
            let (a, b): (i16, i16) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            Some([a.min(b), a.max(b)])
        };
        Some(Rect {
            x: pair(xs)?,
            y: pair(ys)?,
        })
    }

    pub fn contains(&self, x: i16, y: i16) -> bool {
        (self.x[0]..=self.x[1]).contains(&x) && (self.y[0]..=self.y[1]).contains(&y)
    }

    /// The rows of `dies` inside.
    pub fn rows(&self, dies: &DieTable) -> Vec<usize> {
        (0..dies.len())
            .filter(|&r| self.contains(dies.x[r], dies.y[r]))
            .collect()
    }
}

/// A lasso: a closed polygon in die coordinates, where die (x, y)'s centre is the point (x, y).
/// A die is inside when its centre is (even-odd rule: a path that crosses itself leaves the
/// doubly wound part out, as drawing programs do). Fewer than 3 points hold no die.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lasso {
    pub points: Vec<[f32; 2]>,
}

impl Lasso {
    /// `X,Y;X,Y;...` (at least 3 points).
    pub fn parse(s: &str) -> Option<Lasso> {
        let points = s
            .split(';')
            .map(|p| {
                let (x, y) = p.split_once(',')?;
                let (x, y): (f32, f32) = (x.trim().parse().ok()?, y.trim().parse().ok()?);
                (x.is_finite() && y.is_finite()).then_some([x, y])
            })
            .collect::<Option<Vec<_>>>()?;
        (points.len() >= 3).then_some(Lasso { points })
    }

    pub fn contains(&self, x: i16, y: i16) -> bool {
        let (px, py) = (f32::from(x), f32::from(y));
        let n = self.points.len();
        if n < 3 {
            return false;
        }
        // Ray casting to +x: count the edges that cross the die's row at its right.
        let mut inside = false;
        for i in 0..n {
            let [ax, ay] = self.points[i];
            let [bx, by] = self.points[(i + 1) % n];
            if (ay > py) != (by > py) && px < ax + (py - ay) * (bx - ax) / (by - ay) {
                inside = !inside;
            }
        }
        inside
    }

    /// Where the lasso's edges cross the line y = `py`, sorted: a point of that line is
    /// inside when an odd number of them lie to its right. The same sum, edge by edge, as
    /// [`Lasso::contains`], so both always agree.
    fn crossings(&self, py: f32, out: &mut Vec<f32>) {
        out.clear();
        let n = self.points.len();
        for i in 0..n {
            let [ax, ay] = self.points[i];
            let [bx, by] = self.points[(i + 1) % n];
            if (ay > py) != (by > py) {
                let cx = ax + (py - ay) * (bx - ax) / (by - ay);
                // A NaN (from points far out of range) is right of nothing in `contains`.
                if !cx.is_nan() {
                    out.push(cx);
                }
            }
        }
        out.sort_unstable_by(f32::total_cmp);
    }

    /// The rows of `dies` inside. A hand-drawn lasso has hundreds of points, and a wafer up to
    /// a million dies: testing each die against every edge took a third of a second for half
    /// a large wafer. So the edges are crossed once per die row (y) the lasso spans, and each
    /// die looks its x up among its row's crossings (`benches/page.rs` in `charts` measures both).
    pub fn rows(&self, dies: &DieTable) -> Vec<usize> {
        if self.points.len() < 3 {
            return Vec::new();
        }
        // Dies without coordinates are on no map, so in no lasso.
        let Some((_, [dy0, dy1])) = dies.ranges() else {
            return Vec::new();
        };
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for p in &self.points {
            lo = lo.min(p[1]);
            hi = hi.max(p[1]);
        }
        // Die rows outside [lo, hi] cross no edge; those inside with dies, by their y.
        let (y0, y1) = (
            lo.ceil().max(f32::from(dy0)),
            hi.floor().min(f32::from(dy1)),
        );
        if y0 > y1 {
            return Vec::new();
        }
        let base = y0 as i32;
        let mut lines: Vec<Vec<f32>> = vec![Vec::new(); (y1 as i32 - base + 1) as usize];
        for (k, line) in lines.iter_mut().enumerate() {
            self.crossings((base + k as i32) as f32, line);
        }
        (0..dies.len())
            .filter(|&r| {
                let Some(line) = usize::try_from(i32::from(dies.y[r]) - base)
                    .ok()
                    .and_then(|k| lines.get(k))
                else {
                    return false;
                };
                let px = f32::from(dies.x[r]);
                // Crossings right of the die: `px < cx`, as in `contains`.
                let right = line.len() - line.partition_point(|&cx| cx <= px);
                right % 2 == 1
            })
            .collect()
    }
}

/// A selection of dies on one wafer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Rect(Rect),
    Lasso(Lasso),
}

impl Region {
    pub fn contains(&self, x: i16, y: i16) -> bool {
        match self {
            Region::Rect(r) => r.contains(x, y),
            Region::Lasso(l) => l.contains(x, y),
        }
    }

    /// The rows of `dies` inside.
    pub fn rows(&self, dies: &DieTable) -> Vec<usize> {
        match self {
            Region::Rect(r) => r.rows(dies),
            Region::Lasso(l) => l.rows(dies),
        }
    }

    /// A short description: the rectangle's ranges, or the lasso's points and box.
    pub fn describe(&self) -> String {
        match self {
            Region::Rect(r) => format!("x {}..{}, y {}..{}", r.x[0], r.x[1], r.y[0], r.y[1]),
            Region::Lasso(l) => {
                let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
                for p in &l.points {
                    for k in 0..2 {
                        lo[k] = lo[k].min(p[k]);
                        hi[k] = hi[k].max(p[k]);
                    }
                }
                format!(
                    "lasso of {} points, x {:.0}..{:.0}, y {:.0}..{:.0}",
                    l.points.len(),
                    lo[0],
                    hi[0],
                    lo[1],
                    hi[1]
                )
            }
        }
    }
}
