//! What is chosen on a map: a rectangle of die coordinates (shift-drag, `stats --rect`) or a lasso
//! (a closed path through fractional die coordinates, `stats --lasso`). Both answer which dies
//! are inside, so the page's selection panel and the CLI count the same dies.

use serde::{Deserialize, Serialize};
use wafer::{DieTable, NO_COORD};

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

    /// Whether die (x, y)'s centre is inside. A die without coordinates is on no map, so in
    /// no lasso.
    pub fn contains(&self, x: i16, y: i16) -> bool {
        if self.points.len() < 3 || x == NO_COORD || y == NO_COORD {
            return false;
        }
        let (px, py) = (f32::from(x), f32::from(y));
        // Ray casting to +x: count the edges that cross the die's row at its right.
        let mut inside = false;
        for (a, b) in self.edges() {
            if cross_x(a, b, py).is_some_and(|cx| px < cx) {
                inside = !inside;
            }
        }
        inside
    }

    /// Each edge, the last closing the path.
    fn edges(&self) -> impl Iterator<Item = ([f32; 2], [f32; 2])> + '_ {
        let n = self.points.len();
        (0..n).map(move |i| (self.points[i], self.points[(i + 1) % n]))
    }

    /// The rows of `dies` inside: exactly those `contains` takes. A hand-drawn lasso has
    /// hundreds of points and a wafer up to a million dies: testing each die against every edge
    /// took 164 ms natively for half a large wafer (`benches/page.rs` in `charts`). So the dies
    /// are grouped by row (y), each row with dies crosses the edges once, and each of its dies
    /// counts the crossings to its right among them, sorted.
    pub fn rows(&self, dies: &DieTable) -> Vec<usize> {
        let n = dies.len();
        let Some((_, [dy0, dy1])) = dies.ranges() else {
            return Vec::new();
        };
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for p in &self.points {
            lo = lo.min(p[1]);
            hi = hi.max(p[1]);
        }
        // Rows outside [lo, hi] cross no edge.
        let (y0, y1) = (
            lo.ceil().max(f32::from(dy0)),
            hi.floor().min(f32::from(dy1)),
        );
        if self.points.len() < 3 || y0 > y1 {
            return Vec::new();
        }
        let (base, span) = (y0 as i32, (y1 - y0) as usize + 1);
        let row_of = |r: usize| {
            let k = i32::from(dies.y[r]) - base;
            let placed = dies.x[r] != NO_COORD && dies.y[r] != NO_COORD;
            (placed && (0..span as i32).contains(&k)).then_some(k as usize)
        };
        // A counting sort by row: `order[start[k]..start[k + 1]]` are row base + k's dies.
        let mut start = vec![0u32; span + 1];
        for r in 0..n {
            if let Some(k) = row_of(r) {
                start[k + 1] += 1;
            }
        }
        for k in 0..span {
            start[k + 1] += start[k];
        }
        let mut next = start.clone();
        let mut order = vec![0u32; start[span] as usize];
        for r in 0..n {
            if let Some(k) = row_of(r) {
                order[next[k] as usize] = r as u32;
                next[k] += 1;
            }
        }
        let mut inside = vec![false; n];
        let mut line: Vec<f32> = Vec::new();
        for k in 0..span {
            let here = &order[start[k] as usize..start[k + 1] as usize];
            if here.is_empty() {
                continue;
            }
            let py = (base + k as i32) as f32;
            line.clear();
            line.extend(self.edges().filter_map(|(a, b)| cross_x(a, b, py)));
            line.sort_unstable_by(f32::total_cmp);
            for &r in here {
                let px = f32::from(dies.x[r as usize]);
                // Crossings right of the die, `px < cx`, as `contains` counts them.
                let right = line.len() - line.partition_point(|&cx| cx <= px);
                inside[r as usize] = right % 2 == 1;
            }
        }
        (0..n).filter(|&r| inside[r]).collect()
    }
}

/// Where the edge from `a` to `b` crosses the line y = `py`, if it does: the one formula of
/// [`Lasso::contains`] and [`Lasso::rows`]. None also for a NaN (points far out of range),
/// which is right of no die.
fn cross_x([ax, ay]: [f32; 2], [bx, by]: [f32; 2], py: f32) -> Option<f32> {
    if (ay > py) == (by > py) {
        return None;
    }
    let cx = ax + (py - ay) * (bx - ax) / (by - ay);
    (!cx.is_nan()).then_some(cx)
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
