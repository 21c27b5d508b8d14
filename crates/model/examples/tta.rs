//! Experiment (README, "Classifier"): dev-set figures of one or more trained models with
//! test-time augmentation over the 8 rotations and mirrors of the feature grid, probabilities
//! averaged over models and views.
//!
//! `cargo run --release -p model --features native --example tta -- DIR[,DIR...] MAPS.json.gz`
//!
//! Each DIR holds a `weights.bpk` as `train --out DIR` writes it. Scored with
//! [`Report`](model::eval::Report), as `waferscope eval-wm811k` scores one model alone.
//! `--misses` after the arguments also prints every map the single view gets wrong (its grid,
//! truth and top three), to look at what fails rather than guess.

use features::{FeatureGrid, SIZE};
use model::eval::{Report, read_wm811k};
use model::{Classifier, NUM_CLASSES};

/// View `t` (0..8) of a grid: bit 2 transposes, bits 0 and 1 flip rows and columns. The grid is
/// square and the wafer centred in it, so every view is the same wafer turned or mirrored.
fn view(g: &FeatureGrid, t: usize) -> FeatureGrid {
    let mut cells = vec![0u8; SIZE * SIZE];
    for i in 0..SIZE {
        for j in 0..SIZE {
            let (mut a, mut b) = if t & 4 != 0 { (j, i) } else { (i, j) };
            if t & 1 != 0 {
                a = SIZE - 1 - a;
            }
            if t & 2 != 0 {
                b = SIZE - 1 - b;
            }
            cells[i * SIZE + j] = g.cells[a * SIZE + b];
        }
    }
    FeatureGrid { cells }
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dirs, maps, misses) = match &args[..] {
        [d, m] => (d, m, false),
        [d, m, f] if f == "--misses" => (d, m, true),
        _ => return Err("usage: tta DIR[,DIR...] MAPS.json.gz [--misses]".into()),
    };
    let device = Default::default();
    let models = dirs
        .split(',')
        .map(|d| {
            let d = std::path::Path::new(d);
            let read =
                |f: &str| std::fs::read(d.join(f)).map_err(|e| format!("{}: {e}", d.display()));
            // Through the manifest: it says how the network pools.
            let m = String::from_utf8_lossy(&read("manifest.json")?).into_owned();
            Classifier::load_verified(&m, &read("weights.bpk")?, &device)
                .map(|(c, _)| c)
                .map_err(|e| format!("{}: {e}", d.display()))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let bytes = std::fs::read(maps).map_err(|e| format!("{maps}: {e}"))?;
    let (maps, _) = read_wm811k(&bytes)?;
    let truth: Vec<usize> = maps.iter().map(|m| m.class).collect();
    // 2 views: identity and the 180-degree turn; 4: the turns; 8: turns and mirrors.
    const ORDER: [usize; 8] = [0, 3, 4, 7, 1, 2, 5, 6];
    if misses {
        print_misses(&models, &maps);
    }
    for n in [1, 2, 4, 8] {
        let predicted: Vec<usize> = maps
            .iter()
            .map(|m| {
                let views: Vec<FeatureGrid> =
                    ORDER[..n].iter().map(|&t| view(&m.grid, t)).collect();
                let refs: Vec<&FeatureGrid> = views.iter().collect();
                let mut sum = [0f32; NUM_CLASSES];
                for p in models.iter().flat_map(|c| c.predict(&refs)) {
                    sum.iter_mut()
                        .zip(p.probabilities)
                        .for_each(|(s, v)| *s += v);
                }
                (0..NUM_CLASSES)
                    .max_by(|&a, &b| sum[a].total_cmp(&sum[b]))
                    .unwrap_or(0)
            })
            .collect();
        let r = Report::new(&truth, &predicted);
        println!(
            "{} model(s) x {n} view(s): {}",
            models.len(),
            r.text().lines().next().unwrap_or("")
        );
    }
    Ok(())
}

/// Every map the models (averaged, one view) get wrong, as text.
fn print_misses(models: &[Classifier], maps: &[model::eval::Labelled]) {
    for (i, m) in maps.iter().enumerate() {
        let mut sum = [0f32; NUM_CLASSES];
        for p in models.iter().flat_map(|c| c.predict(&[&m.grid])) {
            sum.iter_mut()
                .zip(p.probabilities)
                .for_each(|(s, v)| *s += v / models.len() as f32);
        }
        let p = model::Prediction { probabilities: sum };
        if p.class() == m.class {
            continue;
        }
        let top: Vec<String> = p.ranked()[..3]
            .iter()
            .map(|&c| format!("{} {:.2}", model::CLASSES[c], sum[c]))
            .collect();
        println!(
            "map {i}: truth {}, read {}",
            model::CLASSES[m.class],
            top.join(", ")
        );
        // Every other row and column: 32x32 fits a terminal and keeps the shape.
        for row in m.grid.cells.chunks(SIZE).step_by(2) {
            let line: String = row
                .iter()
                .step_by(2)
                .map(|&b| match b {
                    0 => ' ',
                    1 => '.',
                    255 => '#',
                    _ => '+',
                })
                .collect();
            println!("  {}", line.trim_end());
        }
    }
}
