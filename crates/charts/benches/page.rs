//! What the page's thread computes itself when an engineer clicks, on a wafer of a million
//! dies (the size the viewer is built for), natively: the dies a selection, a pareto bar or a
//! histogram bar marks on the map, and the charts the panels draw from the parsing worker's
//! counts. The lasso is measured both ways: its die-row scan against the old per-die ray test
//! (baseline), in the same process. `cargo bench -p charts --bench page`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use stats::histogram::{Bar, bins};
use stats::{BoxStats, Lasso, Rect, Region};
use wafer::{Column, DieTable};

/// A disc of about a million dies (radius 564), every die with a result of test `TEST`.
fn wafer() -> DieTable {
    const R: i16 = 564;
    let coords: Vec<(i16, i16)> = (-R..=R)
        .flat_map(|y| (-R..=R).map(move |x| (x, y)))
        .filter(|&(x, y)| i32::from(x).pow(2) + i32::from(y).pow(2) <= i32::from(R).pow(2))
        .collect();
    let mut d = DieTable::at(coords);
    let mut c = Column::new(TEST as u32);
    for r in 0..d.len() {
        // A smooth radial trend plus a ripple: a spread of values, not one bin.
        let (x, y) = (f32::from(d.x[r]), f32::from(d.y[r]));
        c.set(
            r as u32,
            1.0 + (x * x + y * y).sqrt() / 600.0 + (x * 0.37).sin() * 0.05,
        );
        d.hard_bin[r] = 1 + (r % 7 == 0) as u16 * 6;
    }
    // A real file has many tests (Flex_3 1,352): 63 more columns, so finding one is a search.
    d.columns = (0..64)
        .map(|t| if t == TEST as u32 { c.clone() } else { one(t) })
        .collect();
    d
}

/// A column of test `t` with one result.
fn one(t: u32) -> Column {
    let mut c = Column::new(t);
    c.set(0, 1.0);
    c
}

/// A hand-drawn loop of 300 points round half the wafer's area, wobbly as a hand draws.
fn lasso() -> Lasso {
    let points = (0..300)
        .map(|k| {
            let a = k as f32 * std::f32::consts::TAU / 300.0;
            let r = 400.0 + 12.0 * (a * 7.0).sin();
            [r * a.cos() + 0.3, r * a.sin() + 0.7]
        })
        .collect();
    Lasso { points }
}

const TEST: usize = 32;

fn marks(c: &mut Criterion) {
    let d = wafer();
    let l = lasso();
    let mut g = c.benchmark_group("marks (1M dies)");
    g.sample_size(10);
    // The lasso's rows before (2026-12-07's code, as it was): the dies inside its bounding box,
    // each tested against every edge.
    g.bench_function("lasso, per-die ray test in its box (baseline)", |b| {
        let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
        for p in &l.points {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        let boxed = |x: i16, y: i16| {
            let (x, y) = (f32::from(x), f32::from(y));
            (lo[0]..=hi[0]).contains(&x) && (lo[1]..=hi[1]).contains(&y)
        };
        let contains = |x: i16, y: i16| {
            let (px, py) = (f32::from(x), f32::from(y));
            let n = l.points.len();
            let mut inside = false;
            for i in 0..n {
                let [ax, ay] = l.points[i];
                let [bx, by] = l.points[(i + 1) % n];
                if (ay > py) != (by > py) && px < ax + (py - ay) * (bx - ax) / (by - ay) {
                    inside = !inside;
                }
            }
            inside
        };
        b.iter(|| {
            (0..d.len())
                .filter(|&r| boxed(d.x[r], d.y[r]) && contains(d.x[r], d.y[r]))
                .count()
        })
    });
    g.bench_function("lasso, die-row scan", |b| {
        b.iter(|| l.rows(black_box(&d)).len())
    });
    let rect = Region::Rect(Rect {
        x: [-300, 300],
        y: [-200, 250],
    });
    g.bench_function("rectangle", |b| b.iter(|| rect.rows(black_box(&d)).len()));
    // As `panels::summary::mark_bin` and `panels::histogram` do on the page.
    g.bench_function("pareto bar (hard bin)", |b| {
        b.iter(|| {
            let keep: Vec<bool> = d.hard_bin.iter().map(|&h| h == black_box(7)).collect();
            keep
        })
    });
    let values: Vec<f64> = d.values(TEST).map(f64::from).collect();
    let bars = bins(&values, Some(1.2), Some(1.8)).unwrap();
    let bar = bars[bars.len() / 2];
    g.bench_function("histogram bar, a lookup per die (baseline)", |b| {
        b.iter(|| {
            let keep: Vec<bool> = (0..d.len())
                .map(|r| bar.holds(f64::from(d.value(TEST, r)), false))
                .collect();
            keep
        })
    });
    g.bench_function("histogram bar, its column found once", |b| {
        b.iter(|| {
            let keep: Vec<bool> = d
                .values(TEST)
                .map(|v| bar.holds(f64::from(v), false))
                .collect();
            keep
        })
    });
    g.finish();
}

fn draw(c: &mut Criterion) {
    let values: Vec<f64> = (0..1_000_000).map(|k| (k as f64 * 0.618).fract()).collect();
    let bars: Vec<Bar> = bins(&values, Some(0.1), Some(0.9)).unwrap();
    let groups: Vec<(String, BoxStats)> = (0..25)
        .map(|w| {
            let v = values.iter().skip(w).step_by(25).copied();
            (format!("W{w:02}"), BoxStats::of(v).unwrap())
        })
        .collect();
    let rings: Vec<(String, f64)> = (0..5)
        .map(|k| (format!("ring {k}"), 90.0 - 3.0 * k as f64))
        .collect();
    let mut g = c.benchmark_group("charts");
    g.bench_function(format!("histogram of {} bars", bars.len()), |b| {
        b.iter(|| {
            charts::histogram_of(
                "test 1 · wafer 1",
                bars.clone(),
                Some(0.1),
                Some(0.9),
                (256, 150),
            )
        })
    });
    g.bench_function("box plots, 25 wafers", |b| {
        b.iter(|| charts::boxplots("per wafer", &groups, Some(0.1), Some(0.9), (256, 150)))
    });
    g.bench_function("bars, 5 rings", |b| {
        b.iter(|| charts::bars("yield % by ring", &rings, (256, 140)))
    });
    g.finish();
}

criterion_group!(benches, marks, draw);
criterion_main!(benches);
