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

    /// The rows of `dies` inside. Dies outside the lasso's bounding box are left out before
    /// the ray test, which costs a pass over every point: a hand-drawn lasso has hundreds.
    pub fn rows(&self, dies: &DieTable) -> Vec<usize> {
        let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
        for p in &self.points {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        let boxed = |x: i16, y: i16| {
            let (x, y) = (f32::from(x), f32::from(y));
            (lo[0]..=hi[0]).contains(&x) && (lo[1]..=hi[1]).contains(&y)
        };
        (0..dies.len())
            .filter(|&r| boxed(dies.x[r], dies.y[r]) && self.contains(dies.x[r], dies.y[r]))
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
