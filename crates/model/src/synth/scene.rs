//! A map's scene: everything but its per-die draws, and the draws themselves.

use super::{At, Config, Field, MIXABLE, field, seg_dist, uniform};
use crate::synth::Map;
use wafer::demo::Rng;

/// Everything about one map but its per-die draws: the wafer's outline, background, edge band,
/// clumps and pattern fields.
pub(super) struct Scene {
    pub(super) class: usize,
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) exclusion: f32,
    /// Sine and cosine of the flat's direction, and its depth (0: none).
    pub(super) flat: (f32, f32, f32),
    pub(super) background: f32,
    /// Depth in dies, rate, wave amplitude, wave count, phase (depth 0: none).
    pub(super) edge_band: [f32; 5],
    pub(super) clumped: Vec<bool>,
    pub(super) field: Field,
    /// A faint second pattern and its density factor ([`Config::mixed`]).
    pub(super) faint: Option<(Field, f32)>,
}

impl Scene {
    pub(super) fn draw(class: usize, rng: &mut Rng, cfg: &Config) -> Scene {
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
        Scene {
            class,
            rows,
            cols,
            exclusion,
            flat: (flat_dir.sin(), flat_dir.cos(), flat_depth),
            background,
            edge_band,
            clumped,
            field: f,
            faint,
        }
    }

    /// Calls `g(index, place, base)` for every die on the wafer, row by row, where `base` is
    /// its fail probability without the pattern: the largest of the background, the edge band
    /// and the clumps.
    pub(super) fn for_each_die(&self, mut g: impl FnMut(usize, &At, f32)) {
        let (rows, cols) = (self.rows, self.cols);
        let (hc, hr) = (cols as f32 / 2.0, rows as f32 / 2.0);
        let (fs, fc, flat_depth) = self.flat;
        for r in 0..rows {
            for c in 0..cols {
                let (x, y) = (c as f32 + 0.5, r as f32 + 0.5);
                let (u, v) = ((x - hc) / hc, (y - hr) / hr);
                let rho = (u * u + v * v).sqrt();
                if rho > 1.0 - self.exclusion || u * fc + v * fs > 1.0 - flat_depth {
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
                let [depth, rate, wave, k, phase] = self.edge_band;
                let from_edge = (1.0 - rho) * (hc + hr) / 2.0;
                let band = if from_edge < depth {
                    (rate * (1.0 + wave * (k * at.theta + phase).sin())).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let clump = match self.clumped.get(r * cols + c) {
                    Some(true) => 0.75,
                    _ => 0.0,
                };
                g(r * cols + c, &at, self.background.max(band).max(clump));
            }
        }
    }

    /// The per-die draws: whether each die fails.
    pub(super) fn sample(self, rng: &mut Rng) -> Map {
        let mut dies = vec![0u8; self.rows * self.cols];
        self.for_each_die(|i, at, base| {
            let gap = rng.f32();
            let second = self.faint.as_ref().map_or(0.0, |(g, k)| k * g.p(at, gap));
            let p = self.field.p(at, gap).max(base).max(second);
            dies[i] = if rng.f32() < p { 2 } else { 1 };
        });
        Map {
            rows: self.rows,
            cols: self.cols,
            dies,
            class: self.class,
        }
    }
}

/// Dies covered by background clumps: short segments (0 to 4 dies long, about one die wide) at
/// random places, enough of them to hold about a third as many dies as the lone background fails.
pub(super) fn clump_mask(rng: &mut Rng, rows: usize, cols: usize, background: f32) -> Vec<bool> {
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
