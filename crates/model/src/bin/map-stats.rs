//! Per-class statistics of real labelled maps beside the generator's, to see where the synthetic
//! training data fails to cover the real maps (issue: "a generator closer to real maps").
//!
//! `cargo run --release -p model --bin map-stats -- MAPS.json[.gz] [--synth N] [--synth-set k=v,...]`
//!
//! For each class and statistic it prints the real maps' 10th/50th/90th percentiles and the
//! generator's. It reads statistics, never individual maps, so it cannot fit the generator to
//! particular dev maps.

use model::stats::{MapStats, quantiles};
use model::{CLASSES, eval::read_wm811k, synth};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut path, mut n, mut cfg) = (None, 9 * 200, synth::Config::default());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--synth" => n = args.next().and_then(|v| v.parse().ok()).unwrap_or(n),
            "--synth-set" => {
                if let Err(e) = cfg.parse_overrides(&args.next().unwrap_or_default()) {
                    eprintln!("map-stats: {e}");
                    std::process::exit(2);
                }
            }
            _ => path = Some(a),
        }
    }
    let Some(path) = path else {
        eprintln!("usage: map-stats MAPS.json[.gz] [--synth N] [--synth-set k=v,...]");
        std::process::exit(2);
    };
    let raw = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("map-stats: {path}: {e}");
        std::process::exit(1)
    });
    let (real, _) = read_wm811k(&raw).unwrap_or_else(|e| {
        eprintln!("map-stats: {path}: {e}");
        std::process::exit(1)
    });
    let real: Vec<(usize, MapStats)> = real
        .iter()
        .map(|m| (m.class, MapStats::of(&m.grid, m.dies, m.rows, m.cols)))
        .collect();
    let fake: Vec<(usize, MapStats)> = synth::dataset_with(0x57a7, n, &cfg)
        .iter()
        .map(|m| {
            let dies = m.dies.iter().filter(|&&d| d != 0).count();
            (m.class, MapStats::of(&m.grid(), dies, m.rows, m.cols))
        })
        .collect();
    for (c, name) in CLASSES.iter().enumerate() {
        let pick = |set: &[(usize, MapStats)], k: usize| -> Vec<f32> {
            set.iter()
                .filter(|(cl, _)| *cl == c)
                .map(|(_, s)| s.values()[k])
                .collect()
        };
        let count = real.iter().filter(|(cl, _)| *cl == c).count();
        println!("\n{name} (real {count})");
        println!(
            "{:<20} {:>26}   {:>26}",
            "", "real p10/p50/p90", "synthetic p10/p50/p90"
        );
        for (k, stat) in MapStats::NAMES.iter().enumerate() {
            let (r, s) = (quantiles(pick(&real, k)), quantiles(pick(&fake, k)));
            println!(
                "{stat:<20} {:>8.3} {:>8.3} {:>8.3}   {:>8.3} {:>8.3} {:>8.3}",
                r[0], r[1], r[2], s[0], s[1], s[2]
            );
        }
    }
}
