//! Experiment (README, "Classifier", try L): how a trained model does on faint patterns and on
//! cleaned maps.
//!
//! `cargo run --release -p model --features native --example faint -- DIR MAPS.json.gz`
//!
//! 1. On 1,800 synthetic maps of the training seed's validation stream (v2's settings), the maps
//!    whose pattern is under 4 sigma of its background (`synth::map_and_snr`), per class, and
//!    how many the model gets right; then each class's maps in fifths by signal-to-noise.
//! 2. The dev maps and the synthetic ones with the dies cleaned before the grid: lone fails made
//!    passes (`lone`), also fails with one failing neighbour (`one`), a 3x3 majority (`major`).
//!
//! DIR holds `manifest.json` and `weights.bpk` as `train --out DIR` writes them.

use features::{Die, FeatureGrid};
use model::eval::Report;
use model::{CLASSES, Classifier, synth};
use wafer::demo::Rng;

/// The seed v2 was trained with; its validation maps are drawn from `seed ^ 0x5a5a_5a5a`.
const SEED: u64 = 20_261_127;

/// `rows x cols` dies (0 none, 1 pass, 2 fail) and the class.
struct Dies {
    rows: usize,
    cols: usize,
    dies: Vec<u8>,
    class: usize,
}

fn clean(m: &Dies, mode: &str) -> Vec<u8> {
    let (rows, cols) = (m.rows as isize, m.cols as isize);
    let at = |y: isize, x: isize| {
        if y < 0 || x < 0 || y >= rows || x >= cols {
            0
        } else {
            m.dies[(y * cols + x) as usize]
        }
    };
    let mut out = m.dies.clone();
    for r in 0..rows {
        for c in 0..cols {
            let d = at(r, c);
            if d == 0 {
                continue;
            }
            let near = (-1..=1).flat_map(|dy| (-1..=1).map(move |dx| (dy, dx)));
            let (mut on, mut fail, mut fail_nb) = (0, 0, 0);
            for (dy, dx) in near {
                match at(r + dy, c + dx) {
                    0 => {}
                    v => {
                        on += 1;
                        if v == 2 {
                            fail += 1;
                            fail_nb += usize::from(dy != 0 || dx != 0);
                        }
                    }
                }
            }
            out[(r * cols + c) as usize] = match mode {
                "lone" if d == 2 && fail_nb == 0 => 1,
                "one" if d == 2 && fail_nb <= 1 => 1,
                "major" => 1 + u8::from(2 * fail > on),
                _ => d,
            };
        }
    }
    out
}

fn grid(m: &Dies, dies: &[u8]) -> FeatureGrid {
    FeatureGrid::from_fn(m.rows, m.cols, |r, c| match dies[r * m.cols + c] {
        1 => Die::Pass,
        2 => Die::Fail,
        _ => Die::None,
    })
    .expect("maps with dies")
}

fn classes(c: &Classifier, grids: &[FeatureGrid]) -> Vec<usize> {
    let refs: Vec<&FeatureGrid> = grids.iter().collect();
    refs.chunks(64)
        .flat_map(|ch| c.predict(ch))
        .map(|p| p.class())
        .collect()
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, maps] = &args[..] else {
        return Err("usage: faint DIR MAPS.json.gz".into());
    };
    let dir = std::path::Path::new(dir);
    let read = |f: &str| std::fs::read(dir.join(f)).map_err(|e| format!("{}: {e}", dir.display()));
    let manifest = String::from_utf8_lossy(&read("manifest.json")?).into_owned();
    let (c, _) = Classifier::load_verified(&manifest, &read("weights.bpk")?, &Default::default())
        .map_err(|e| e.to_string())?;

    // 1. Faint synthetic patterns.
    let cfg = synth::Config::default();
    let mut rng = Rng::new(SEED ^ 0x5a5a_5a5a);
    let drawn: Vec<(synth::Map, f32)> = (0..1800)
        .map(|i| synth::map_and_snr(i % CLASSES.len(), &mut rng, &cfg))
        .collect();
    let grids: Vec<FeatureGrid> = drawn.iter().map(|(m, _)| m.grid()).collect();
    let pred = classes(&c, &grids);
    println!("synthetic maps under 4 sigma, per class: faint (right) of all");
    for (k, name) in CLASSES.iter().enumerate() {
        let mut snr: Vec<(f32, bool)> = drawn
            .iter()
            .zip(&pred)
            .filter(|((m, _), _)| m.class == k)
            .map(|((_, s), &p)| (*s, p == k))
            .collect();
        let faint = snr.iter().filter(|s| s.0 < 4.0).count();
        let faint_right = snr.iter().filter(|s| s.0 < 4.0 && s.1).count();
        snr.sort_by(|a, b| a.0.total_cmp(&b.0));
        let fifths: Vec<String> = snr
            .chunks(snr.len().div_ceil(5))
            .map(|q| {
                let right = q.iter().filter(|s| s.1).count();
                format!("{:.1}-{:.1}: {right}/{}", q[0].0, q[q.len() - 1].0, q.len())
            })
            .collect();
        println!(
            "  {name:10} {} ({}) of {}; by snr {}",
            faint,
            faint_right,
            snr.len(),
            fifths.join(", ")
        );
    }

    // 2. Cleaned maps.
    let bytes = std::fs::read(maps).map_err(|e| format!("{maps}: {e}"))?;
    let (dev, _) = model::eval::read_wm811k(&bytes)?;
    let dev: Vec<Dies> = dev
        .into_iter()
        .map(|m| Dies {
            rows: m.rows,
            cols: m.cols,
            dies: m.codes,
            class: m.class,
        })
        .collect();
    let synthetic: Vec<Dies> = drawn
        .into_iter()
        .take(900)
        .map(|(m, _)| Dies {
            rows: m.rows,
            cols: m.cols,
            dies: m.dies,
            class: m.class,
        })
        .collect();
    for mode in ["none", "lone", "one", "major"] {
        for (name, set) in [("dev", &dev), ("synthetic", &synthetic)] {
            let grids: Vec<FeatureGrid> = set.iter().map(|m| grid(m, &clean(m, mode))).collect();
            let truth: Vec<usize> = set.iter().map(|m| m.class).collect();
            let r = Report::new(&truth, &classes(&c, &grids));
            println!(
                "cleaned {mode:5} {name:9}: {}",
                r.text().lines().next().unwrap_or("")
            );
        }
    }
    Ok(())
}
