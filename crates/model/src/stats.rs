//! What a wafer map's pattern looks like in numbers, measured the same way on real and synthetic
//! maps, so the generator's distributions can be set to cover the real ones per class (the
//! `map-stats` binary prints both side by side). Measured on the [`FeatureGrid`], which is what
//! the network sees, plus the die count of the original map.

use features::{FeatureGrid, OFF_WAFER, SIZE};

/// One map's figures. Radii are in the wafer's own ellipse (1 = edge); fractions are of the
/// on-wafer area of the grid.
#[derive(Clone, Debug, Default)]
pub struct MapStats {
    pub dies: f32,
    /// Rows over columns of the die box.
    pub aspect: f32,
    pub fail: f32,
    /// Fail fraction outside the largest cluster (cells with at least half their dies failing).
    pub background: f32,
    /// The largest cluster's share of the wafer, its centroid's radius, and how elongated it is
    /// (major over minor axis, from its second moments).
    pub cluster: f32,
    pub cluster_radius: f32,
    pub cluster_elongation: f32,
    /// Fail fraction in the centre (radius < 0.35) and in the outer band (radius > 0.8).
    pub centre_fail: f32,
    pub edge_fail: f32,
    /// Share of 24 sectors whose outer band fails at least 30% and twice the background: how far
    /// round an edge pattern goes (Edge-Loc short, Edge-Ring long).
    pub edge_span: f32,
}

impl MapStats {
    pub const NAMES: [&'static str; 10] = [
        "dies",
        "aspect",
        "fail",
        "background",
        "cluster",
        "cluster_radius",
        "cluster_elongation",
        "centre_fail",
        "edge_fail",
        "edge_span",
    ];

    pub fn values(&self) -> [f32; 10] {
        [
            self.dies,
            self.aspect,
            self.fail,
            self.background,
            self.cluster,
            self.cluster_radius,
            self.cluster_elongation,
            self.centre_fail,
            self.edge_fail,
            self.edge_span,
        ]
    }

    /// Measure a grid made from a map of `dies` dies in a `rows x cols` box.
    pub fn of(grid: &FeatureGrid, dies: usize, rows: usize, cols: usize) -> MapStats {
        let f = |i: usize| {
            let b = grid.cells[i];
            if b == OFF_WAFER {
                None
            } else {
                Some((b - 1) as f32 / 254.0)
            }
        };
        // The ellipse of the on-wafer cells' box; a grid without any has nothing to measure.
        let Some(outline) = grid.outline() else {
            return MapStats::default();
        };
        let polar = |i: usize| {
            let (v, u) = outline.offset(i / SIZE, i % SIZE);
            ((u * u + v * v).sqrt(), v.atan2(u))
        };
        // Largest 8-connected cluster of mostly-failing cells.
        let mut label = vec![0u32; SIZE * SIZE];
        let (mut best, mut best_size, mut next) = (0u32, 0usize, 0u32);
        for s in 0..SIZE * SIZE {
            if label[s] != 0 || f(s).is_none_or(|x| x < 0.5) {
                continue;
            }
            next += 1;
            let (mut stack, mut size) = (vec![s], 0);
            label[s] = next;
            while let Some(i) = stack.pop() {
                size += 1;
                let (r, c) = ((i / SIZE) as isize, (i % SIZE) as isize);
                for (dr, dc) in [
                    (-1, -1),
                    (-1, 0),
                    (-1, 1),
                    (0, -1),
                    (0, 1),
                    (1, -1),
                    (1, 0),
                    (1, 1),
                ] {
                    let (rr, cc) = (r + dr, c + dc);
                    if rr < 0 || cc < 0 || rr >= SIZE as isize || cc >= SIZE as isize {
                        continue;
                    }
                    let j = rr as usize * SIZE + cc as usize;
                    if label[j] == 0 && f(j).is_some_and(|x| x >= 0.5) {
                        label[j] = next;
                        stack.push(j);
                    }
                }
            }
            if size > best_size {
                (best, best_size) = (next, size);
            }
        }
        let (mut on, mut fail, mut out_on, mut out_fail) = (0f32, 0f32, 0f32, 0f32);
        let (mut centre, mut centre_fail, mut edge, mut edge_fail) = (0f32, 0f32, 0f32, 0f32);
        let mut sectors = [(0f32, 0f32); 24];
        let (mut sr, mut sc, mut n) = (0f32, 0f32, 0f32);
        for (i, &l) in label.iter().enumerate() {
            let Some(x) = f(i) else { continue };
            on += 1.0;
            fail += x;
            let (rho, theta) = polar(i);
            if best != 0 && l == best {
                sr += (i / SIZE) as f32;
                sc += (i % SIZE) as f32;
                n += 1.0;
            } else {
                out_on += 1.0;
                out_fail += x;
            }
            if rho < 0.35 {
                centre += 1.0;
                centre_fail += x;
            }
            if rho > 0.8 {
                edge += 1.0;
                edge_fail += x;
                let s = (((theta + std::f32::consts::PI) / std::f32::consts::TAU * 24.0) as usize)
                    .min(23);
                sectors[s].0 += 1.0;
                sectors[s].1 += x;
            }
        }
        let ratio = |a: f32, b: f32| if b > 0.0 { a / b } else { 0.0 };
        let background = ratio(out_fail, out_on);
        let (mut radius, mut elongation) = (0.0, 0.0);
        if n > 0.0 {
            let (mr, mc) = (sr / n, sc / n);
            let (mut vrr, mut vcc, mut vrc) = (0f32, 0f32, 0f32);
            for i in (0..SIZE * SIZE).filter(|&i| label[i] == best) {
                let (dr, dc) = ((i / SIZE) as f32 - mr, (i % SIZE) as f32 - mc);
                vrr += dr * dr;
                vcc += dc * dc;
                vrc += dr * dc;
            }
            let (a, b, c) = (vrr / n, vcc / n, vrc / n);
            let tr = (a + b) / 2.0;
            let disc = (((a - b) / 2.0).powi(2) + c * c).sqrt();
            elongation = ((tr + disc) / (tr - disc).max(1e-3)).sqrt().min(50.0);
            let ((cr, cc), (hr, hc)) = (outline.centre, outline.half);
            let (v, u) = ((mr + 0.5 - cr) / hr, (mc + 0.5 - cc) / hc);
            radius = (u * u + v * v).sqrt();
        }
        let hot = sectors
            .iter()
            .filter(|(on, fail)| *on > 0.0 && fail / on >= 0.3 && fail / on >= 2.0 * background)
            .count();
        MapStats {
            dies: dies as f32,
            aspect: rows as f32 / cols.max(1) as f32,
            fail: ratio(fail, on),
            background,
            cluster: ratio(n, on),
            cluster_radius: radius,
            cluster_elongation: elongation,
            centre_fail: ratio(centre_fail, centre),
            edge_fail: ratio(edge_fail, edge),
            edge_span: hot as f32 / 24.0,
        }
    }
}

/// The 10th, 50th and 90th percentiles of `v` (nearest rank).
pub fn quantiles(mut v: Vec<f32>) -> [f32; 3] {
    if v.is_empty() {
        return [f32::NAN; 3];
    }
    v.sort_by(f32::total_cmp);
    let at = |q: f32| v[((q * (v.len() - 1) as f32).round() as usize).min(v.len() - 1)];
    [at(0.1), at(0.5), at(0.9)]
}
