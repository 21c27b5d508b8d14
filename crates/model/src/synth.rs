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
mod scene;
mod visible;
pub use config::Config;
use scene::Scene;

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

/// Draws of a map whose pattern is not visible ([`Config::min_snr`]) before one is kept anyway,
/// so that a setting no map can meet cannot hang training.
const MAX_DRAWS: usize = 20;

/// One map of class `class`, from `rng`.
pub fn map(class: usize, rng: &mut Rng, cfg: &Config) -> Map {
    for _ in 1..MAX_DRAWS {
        let scene = Scene::draw(class, rng, cfg);
        // Checked only when enabled: no extra draws, so older settings give the same maps.
        if cfg.min_snr <= 0.0 || visible::snr(&scene) >= cfg.min_snr {
            return scene.sample(rng);
        }
    }
    Scene::draw(class, rng, cfg).sample(rng)
}

/// One map drawn as [`map`] draws it with the check off, and its pattern's signal-to-noise
/// ([`Config::min_snr`]): to see which maps the check would redraw.
pub fn map_and_snr(class: usize, rng: &mut Rng, cfg: &Config) -> (Map, f32) {
    let scene = Scene::draw(class, rng, cfg);
    let snr = visible::snr(&scene);
    (scene.sample(rng), snr)
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
