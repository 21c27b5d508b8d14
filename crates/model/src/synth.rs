//! Synthetic training data: seeded wafer maps of all nine WM-811K patterns on realistic die
//! grids. Never the real maps: those only validate (`waferscope eval-wm811k`).
//!
//! A wafer is a disc of 24 to 150 dies across, with dies 0.7 to 1.4 times as tall as wide (so the
//! disc is an ellipse in die indices), a flat or a notch on a random side, and sometimes one ring
//! of edge exclusion. Every die fails with the larger of a background rate (0 to 20%, mostly under
//! 10%) and the pattern's probability at its place; patterns vary in position, size, width,
//! density, coverage and boundary softness, as the real ones do.

use features::{Die, FeatureGrid};
use wafer::demo::Rng;

mod config;
pub use config::Config;

/// One synthetic map: `rows x cols` dies in WM-811K's codes, and its class index.
#[derive(Clone, Debug)]
pub struct Map {
    pub rows: usize,
    pub cols: usize,
    /// 0 no die, 1 pass, 2 fail; row-major.
    pub dies: Vec<u8>,
    pub class: usize,
}

impl Map {
    pub fn grid(&self) -> FeatureGrid {
        FeatureGrid::from_fn(self.rows, self.cols, |r, c| {
            match self.dies[r * self.cols + c] {
                1 => Die::Pass,
                2 => Die::Fail,
                _ => Die::None,
            }
        })
        .expect("a synthetic wafer always has dies")
    }
}

/// A ring at radius and half width `r_w`, its density, softness and (unless `full`) arc
/// half-span drawn from the given ranges, about a random centre. Draws in the field's order, so a
/// seed gives the same maps whoever calls it.
fn ring(
    rng: &mut Rng,
    r_w: [f32; 2],
    density: [f32; 2],
    softness: [f32; 2],
    full: bool,
    arc: [f32; 2],
) -> Field {
    use std::f32::consts::PI;
    Field::Ring([
        r_w[0],
        r_w[1],
        uniform(rng, density[0], density[1]),
        uniform(rng, softness[0], softness[1]),
        uniform(rng, -PI, PI),
        if full {
            PI + 1.0
        } else {
            uniform(rng, arc[0], arc[1]) * PI
        },
    ])
}

fn uniform(rng: &mut Rng, a: f32, b: f32) -> f32 {
    a + (b - a) * rng.f32()
}

fn smoothstep(edge0: f32, edge1: f32, x: f32) -> f32 {
    let t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// 1 inside (d < 0), 0 outside (d > 0), with a soft band of `soft` around the boundary.
fn inside(d: f32, soft: f32) -> f32 {
    1.0 - smoothstep(-soft, soft, d)
}

/// Signed angular distance a - b in (-pi, pi].
fn angle_diff(a: f32, b: f32) -> f32 {
    let mut d = a - b;
    while d > std::f32::consts::PI {
        d -= std::f32::consts::TAU;
    }
    while d <= -std::f32::consts::PI {
        d += std::f32::consts::TAU;
    }
    d
}

/// A die's place: normalised disc coordinates (radius 1) and die-unit coordinates.
#[derive(Clone, Copy)]
struct At {
    u: f32,
    v: f32,
    rho: f32,
    theta: f32,
    /// Die units, centre of the die.
    x: f32,
    y: f32,
}

/// The fail probability field of one pattern instance.
enum Field {
    None,
    Uniform(f32),
    /// Blobs: (centre u, v, radii a, b, rotation, density, softness, wobble amplitude, wobble k, phase).
    Blobs(Vec<[f32; 10]>),
    /// Ring: radius, half width, density, softness, arc centre, arc half-span (pi = full).
    Ring([f32; 6]),
    /// Edge arc: depth, density, softness, arc centre, arc half-span, taper (0 flat, 1 lens).
    EdgeArc([f32; 6]),
    /// Scratches: polylines in die units, half width, density, gap probability.
    Scratch(Vec<(Vec<[f32; 2]>, f32, f32)>),
}

impl Field {
    fn p(&self, a: &At, gap_noise: f32) -> f32 {
        match self {
            Field::None => 0.0,
            Field::Uniform(p) => *p,
            Field::Blobs(blobs) => blobs
                .iter()
                .map(|b| {
                    let (du, dv) = (a.u - b[0], a.v - b[1]);
                    let (s, c) = b[4].sin_cos();
                    let (x, y) = (du * c + dv * s, -du * s + dv * c);
                    let r = ((x / b[2]).powi(2) + (y / b[3]).powi(2)).sqrt();
                    let ang = y.atan2(x);
                    let wobble = 1.0 + b[7] * (b[8] * ang + b[9]).sin();
                    b[5] * inside(r - wobble, b[6])
                })
                .fold(0.0, f32::max),
            Field::Ring([r0, w, d, soft, c, span]) => {
                let radial = inside((a.rho - r0).abs() - w, *soft);
                let ang = inside(angle_diff(a.theta, *c).abs() - span, 0.15);
                d * radial * ang
            }
            Field::EdgeArc([depth, d, soft, c, span, taper]) => {
                let da = angle_diff(a.theta, *c).abs() / span;
                if da >= 1.0 {
                    return 0.0;
                }
                let depth = depth * (1.0 - taper * da * da);
                d * inside((1.0 - a.rho) - depth, *soft)
            }
            Field::Scratch(lines) => lines
                .iter()
                .map(|(pts, hw, d)| {
                    let dist = pts
                        .windows(2)
                        .map(|s| seg_dist([a.x, a.y], s[0], s[1]))
                        .fold(f32::INFINITY, f32::min);
                    if dist <= *hw && gap_noise > 0.05 {
                        *d
                    } else {
                        0.0
                    }
                })
                .fold(0.0, f32::max),
        }
    }
}

fn seg_dist(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let l2 = dx * dx + dy * dy;
    let t = if l2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
    };
    let (qx, qy) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    (qx * qx + qy * qy).sqrt()
}

/// One pattern of class `class` for a wafer of `cols x rows` dies.
fn field(class: usize, rng: &mut Rng, cols: usize, rows: usize, cfg: &Config) -> Field {
    use std::f32::consts::{PI, TAU};
    let die = 2.0 / cols.max(rows) as f32; // one die in normalised units, roughly
    let blob = |rng: &mut Rng, u: f32, v: f32, r: f32, d: f32| {
        let aspect = uniform(rng, 0.65, 1.35);
        [
            u,
            v,
            r * aspect.sqrt(),
            r / aspect.sqrt(),
            uniform(rng, 0.0, PI),
            d,
            uniform(rng, 0.01, 0.06) + die * 0.5,
            uniform(rng, 0.0, 0.25),
            (2 + rng.next_u64() % 4) as f32,
            uniform(rng, 0.0, TAU),
        ]
    };
    match crate::CLASSES[class] {
        "Center" => {
            let r = uniform(rng, 0.1, 0.45);
            let (u, v) = (rng.normal() * 0.05, rng.normal() * 0.05);
            let d = uniform(rng, 0.45, 1.0);
            Field::Blobs(vec![blob(rng, u, v, r, d)])
        }
        "Donut" => {
            let full = rng.f32() < 0.55;
            let r = uniform(rng, 0.3, 0.62);
            let w = uniform(rng, 0.06, 0.2).max(die);
            ring(rng, [r, w], [0.4, 0.95], [0.01, 0.06], full, [0.55, 0.95])
        }
        "Edge-Ring" => {
            let full = rng.f32() < cfg.ring_full;
            // Real rings are thin: one to three dies (their outer band fails 32% at the median).
            let w = uniform(rng, 0.02, 0.12).max(die * 0.8);
            let r_w = [1.0 - w + 0.04, w + 0.04];
            let arc = [cfg.ring_min_cover, 0.95];
            ring(rng, r_w, [0.6, 1.0], [0.005, 0.04], full, arc)
        }
        "Edge-Loc" => {
            if rng.f32() < 0.5 {
                Field::EdgeArc([
                    uniform(rng, 0.04, 0.3).max(die * 1.2),
                    uniform(rng, 0.45, 1.0),
                    uniform(rng, 0.01, 0.06),
                    uniform(rng, -PI, PI),
                    uniform(rng, 0.1, cfg.edge_loc_max_cover) * PI,
                    uniform(rng, 0.0, 1.0),
                ])
            } else {
                // A blob centred near or just outside the edge, clipped by it.
                let t = uniform(rng, -PI, PI);
                let rr = uniform(rng, 0.82, 1.05);
                let r = uniform(rng, 0.1, 0.32);
                let d = uniform(rng, 0.45, 1.0);
                Field::Blobs(vec![blob(rng, rr * t.cos(), rr * t.sin(), r, d)])
            }
        }
        "Loc" => {
            // Real Loc clusters are often sparse (30-60% of the dies in them fail), small, and
            // anywhere between the centre and near the edge; some are elongated or lumpy.
            let t = uniform(rng, -PI, PI);
            let rr = uniform(rng, 0.15, cfg.loc_max_radius);
            let (u, v) = (rr * t.cos(), rr * t.sin());
            let r = uniform(rng, 0.07, 0.25).max(die * 1.5);
            let d = uniform(rng, 0.3, 1.0);
            let mut b = blob(rng, u, v, r, d);
            if rng.f32() < 0.3 {
                let stretch = uniform(rng, 1.5, 2.5);
                b[2] *= stretch.sqrt();
                b[3] /= stretch.sqrt();
            }
            let mut blobs = vec![b];
            if rng.f32() < 0.4 {
                let (ou, ov) = (rng.normal() * r * 0.6, rng.normal() * r * 0.6);
                let r2 = r * uniform(rng, 0.4, 0.9);
                blobs.push(blob(rng, u + ou, v + ov, r2, d));
            }
            Field::Blobs(blobs)
        }
        "Near-full" => Field::Uniform(uniform(rng, 0.75, 1.0)),
        "Random" => Field::Uniform(uniform(rng, 0.25, 0.7)),
        "Scratch" => {
            let n = if rng.f32() < 0.2 { 2 } else { 1 };
            let (cx, cy) = (cols as f32 / 2.0, rows as f32 / 2.0);
            let lines = (0..n)
                .map(|_| {
                    // Start anywhere inside, walk a slightly curving path.
                    let t = uniform(rng, -PI, PI);
                    let rr = uniform(rng, 0.0, 0.8);
                    let mut p = [cx + rr * t.cos() * cx, cy + rr * t.sin() * cy];
                    let mut dir = uniform(rng, -PI, PI);
                    let bend = rng.normal() * 0.08;
                    // Real scratches are thin and long (median elongation 7), often reaching
                    // the edge.
                    let len = uniform(rng, 0.4, 1.4) * cols.max(rows) as f32;
                    let steps = 12;
                    let mut pts = vec![p];
                    for _ in 0..steps {
                        dir += bend;
                        p = [
                            p[0] + dir.cos() * len / steps as f32,
                            p[1] + dir.sin() * len / steps as f32,
                        ];
                        pts.push(p);
                    }
                    let hw = uniform(rng, 0.35, 0.8);
                    (pts, hw, uniform(rng, 0.6, 1.0))
                })
                .collect();
            Field::Scratch(lines)
        }
        _ => Field::None,
    }
}

/// The classes that are one located pattern, so can be mixed with a faint other
/// ([`Config::mixed`]): not Near-full, Random or none, which are a map's whole texture.
const MIXABLE: [usize; 6] = [0, 1, 2, 3, 4, 7];

/// One map of class `class`, from `rng`.
pub fn map(class: usize, rng: &mut Rng, cfg: &Config) -> Map {
    use std::f32::consts::PI;
    // Real maps have 500 to 5,000 dies (10th to 90th percentile): 25 to 80 across.
    let diameter = match rng.f32() {
        x if x < 0.75 => uniform(rng, 24.0, 60.0),
        x if x < 0.95 => uniform(rng, 60.0, 100.0),
        _ => uniform(rng, 100.0, 150.0),
    };
    // Dies taller than wide give fewer rows than columns, and the other way round.
    let aspect = uniform(rng, 0.7, 1.4);
    let cols = diameter.round() as usize;
    let rows = ((diameter / aspect).round() as usize).max(8);
    let flat_dir = uniform(rng, -PI, PI);
    let flat_depth = if rng.f32() < 0.6 {
        uniform(rng, 0.02, 0.09)
    } else {
        0.0
    };
    // One ring of edge exclusion on some wafers.
    let exclusion = if rng.f32() < 0.25 {
        2.0 / cols as f32
    } else {
        0.0
    };
    // Real maps fail 5-15% outside their pattern (`map-stats`' background, median 9-13% on
    // Center, Loc and Edge-Loc).
    let background = match rng.f32() {
        x if x < 0.3 => uniform(rng, 0.0, 0.04),
        x if x < 0.75 => uniform(rng, 0.04, 0.12),
        _ => uniform(rng, 0.12, 0.22),
    };
    let background = background * cfg.background;
    // A faint band at the edge, one to three dies deep, stronger on some sides than others.
    let edge_band = if rng.f32() < cfg.edge_noise {
        [
            uniform(rng, 1.0, 3.0),
            uniform(rng, 0.05, 0.35),
            uniform(rng, 0.0, 0.8),
            (1 + rng.next_u64() % 3) as f32,
            uniform(rng, -PI, PI),
        ]
    } else {
        [0.0; 5]
    };
    let f = field(class, rng, cols, rows, cfg);
    // Drawn only when enabled, so that older settings still give the same maps.
    let faint = if cfg.mixed > 0.0 && MIXABLE.contains(&class) && rng.f32() < cfg.mixed {
        let others: Vec<usize> = MIXABLE.iter().copied().filter(|&c| c != class).collect();
        let other = others[(rng.next_u64() % others.len() as u64) as usize];
        Some((field(other, rng, cols, rows, cfg), uniform(rng, 0.1, 0.33)))
    } else {
        None
    };
    // Drawn only when enabled, so that older settings still give the same maps.
    let clumped = if cfg.clumps > 0.0 && rng.f32() < cfg.clumps {
        clump_mask(rng, rows, cols, background)
    } else {
        Vec::new()
    };
    let (hc, hr) = (cols as f32 / 2.0, rows as f32 / 2.0);
    let (fs, fc) = flat_dir.sin_cos();
    let mut dies = vec![0u8; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            let (x, y) = (c as f32 + 0.5, r as f32 + 0.5);
            let (u, v) = ((x - hc) / hc, (y - hr) / hr);
            let rho = (u * u + v * v).sqrt();
            if rho > 1.0 - exclusion || u * fc + v * fs > 1.0 - flat_depth {
                continue;
            }
            let at = At {
                u,
                v,
                rho,
                theta: v.atan2(u),
                x,
                y,
            };
            let gap = rng.f32();
            let [depth, rate, wave, k, phase] = edge_band;
            let from_edge = (1.0 - rho) * (hc + hr) / 2.0;
            let band = if from_edge < depth {
                (rate * (1.0 + wave * (k * at.theta + phase).sin())).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let clump = match clumped.get(r * cols + c) {
                Some(true) => 0.75,
                _ => 0.0,
            };
            let second = faint.as_ref().map_or(0.0, |(g, k)| k * g.p(&at, gap));
            let p = f
                .p(&at, gap)
                .max(background)
                .max(band)
                .max(clump)
                .max(second);
            dies[r * cols + c] = if rng.f32() < p { 2 } else { 1 };
        }
    }
    Map {
        rows,
        cols,
        dies,
        class,
    }
}

/// Dies covered by background clumps: short segments (0 to 4 dies long, about one die wide) at
/// random places, enough of them to hold about a third as many dies as the lone background fails.
fn clump_mask(rng: &mut Rng, rows: usize, cols: usize, background: f32) -> Vec<bool> {
    let mut mask = vec![false; rows * cols];
    let count = (background * (rows * cols) as f32 / 9.0).round() as usize;
    for _ in 0..count {
        let a = [
            uniform(rng, 0.0, cols as f32),
            uniform(rng, 0.0, rows as f32),
        ];
        let (len, dir) = (
            uniform(rng, 0.0, 4.0),
            uniform(rng, 0.0, std::f32::consts::TAU),
        );
        let b = [a[0] + len * dir.cos(), a[1] + len * dir.sin()];
        let hw = uniform(rng, 0.5, 1.0);
        let lo = |v: f32| (v - hw - 1.0).max(0.0) as usize;
        let (c0, c1) = (lo(a[0].min(b[0])), (a[0].max(b[0]) + hw + 1.0) as usize);
        let (r0, r1) = (lo(a[1].min(b[1])), (a[1].max(b[1]) + hw + 1.0) as usize);
        for r in r0..r1.min(rows) {
            for c in c0..c1.min(cols) {
                if seg_dist([c as f32 + 0.5, r as f32 + 0.5], a, b) <= hw {
                    mask[r * cols + c] = true;
                }
            }
        }
    }
    mask
}

/// `n` maps, classes in turn (balanced), all from `seed`: the same seed gives the same maps.
pub fn dataset(seed: u64, n: usize) -> Vec<Map> {
    dataset_with(seed, n, &Config::default())
}

/// [`dataset`] with other generator settings.
pub fn dataset_with(seed: u64, n: usize, cfg: &Config) -> Vec<Map> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| map(i % crate::NUM_CLASSES, &mut rng, cfg))
        .collect()
}

#[cfg(test)]
mod tests;
