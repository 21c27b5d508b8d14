//! Train the classifier on synthetic maps, on the CPU (burn's Flex backend), seeded and
//! reproducible; writes the weights and manifest into `public/model/`.
//!
//! `cargo run --release -p model --features train --bin train -- [--epochs N] [--samples N]
//! [--seed N] [--out DIR] [--dev FILE] [--model-version N] [--dropout P]
//! [--smoothing A] [--device flex|wgpu] [--pooling max|avg-max] [--batch-norm] [--radial]` (`cargo xtask train` runs this with
//! the shipped settings). With `--dev`, the real maps are classified once at the end and the
//! figures go into the manifest: they never steer training.

use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use features::FeatureGrid;
use model::calibration::fit_temperature;
use model::eval::{read_wm811k, score};
use model::manifest::{Evaluation, Manifest, Training};
use model::{CLASSES, Classifier, Cnn, sha256_hex, synth};
use wafer::demo::Rng;

struct Args {
    epochs: usize,
    samples: usize,
    batch: usize,
    lr: f64,
    seed: u64,
    out: PathBuf,
    dev: Option<PathBuf>,
    model_version: u32,
    dropout: f64,
    smoothing: f64,
    synth: synth::Config,
    /// Where to train: "flex" (the CPU, the default) or "wgpu" (a GPU; the `gpu` feature).
    device: String,
    pooling: model::Pooling,
    /// Batch normalisation after each convolution (`--batch-norm`; off in v1 and v2).
    batch_norm: bool,
    /// A radius channel beside the map (`--radial`; off in v1 and v2).
    radial: bool,
    /// Share of the last epochs whose end-of-epoch weights are averaged into the result (0: the
    /// last epoch's weights, as v1 and v2).
    average: f64,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        epochs: 36,
        samples: 9 * 1200,
        batch: 64,
        lr: 2e-3,
        seed: 20_261_127,
        out: PathBuf::from("public/model"),
        dev: None,
        model_version: 2,
        dropout: 0.0,
        smoothing: 0.0,
        synth: synth::Config::default(),
        device: "flex".into(),
        pooling: model::Pooling::Max,
        batch_norm: false,
        radial: false,
        average: 0.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        let num = |s: String| s.parse::<f64>().map_err(|e| format!("{k}: {e}"));
        match k.as_str() {
            "--epochs" => a.epochs = num(v()?)? as usize,
            "--samples" => a.samples = num(v()?)? as usize,
            "--batch" => a.batch = num(v()?)? as usize,
            "--lr" => a.lr = num(v()?)?,
            "--seed" => a.seed = num(v()?)? as u64,
            "--out" => a.out = PathBuf::from(v()?),
            "--dev" => a.dev = Some(PathBuf::from(v()?)),
            "--model-version" => a.model_version = num(v()?)? as u32,
            "--dropout" => a.dropout = num(v()?)?.clamp(0.0, 0.9),
            "--smoothing" => a.smoothing = num(v()?)?.clamp(0.0, 0.5),
            "--synth" => a.synth.parse_overrides(&v()?)?,
            "--device" => a.device = v()?,
            "--batch-norm" => a.batch_norm = true,
            "--radial" => a.radial = true,
            "--average" => a.average = num(v()?)?.clamp(0.0, 1.0),
            "--pooling" => {
                let p = v()?;
                a.pooling =
                    model::Pooling::parse(&p).ok_or(format!("--pooling {p}: max or avg-max"))?
            }
            _ => return Err(format!("unknown argument {k}")),
        }
    }
    Ok(a)
}

fn accuracy(c: &Classifier, grids: &[FeatureGrid], classes: &[usize]) -> f32 {
    let mut right = 0;
    for (chunk, truth) in grids.chunks(256).zip(classes.chunks(256)) {
        let refs: Vec<&FeatureGrid> = chunk.iter().collect();
        for (p, &t) in c.predict(&refs).iter().zip(truth) {
            right += (p.class() == t) as usize;
        }
    }
    right as f32 / grids.len() as f32
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("train: {e}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let plain = match base_device(&a.device) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("train: {e}");
            std::process::exit(2);
        }
    };
    let device = plain.clone().autodiff();
    device.seed(a.seed);
    let mut model = Cnn::with_arch(&device, a.pooling, a.batch_norm, a.radial);
    println!(
        "training a {}-parameter CNN on {} synthetic maps per epoch, {} epochs, seed {}",
        model.num_params(),
        a.samples,
        a.epochs,
        a.seed
    );
    let mut optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new()
        .with_smoothing((a.smoothing > 0.0).then_some(a.smoothing as f32))
        .init(&device);

    let val = synth::dataset_with(a.seed ^ 0x5a5a_5a5a, 9 * 100, &a.synth);
    let val_grids: Vec<FeatureGrid> = val.iter().map(|m| m.grid()).collect();
    let val_classes: Vec<usize> = val.iter().map(|m| m.class).collect();
    let mut val_acc = 0.0;
    // The epochs whose weights are averaged: the last `average` share of them.
    let averaged_from = a.epochs - (a.average * a.epochs as f64).ceil() as usize;
    let mut average = model::average::WeightAverage::new();

    for epoch in 0..a.epochs {
        let t = Instant::now();
        // Fresh maps every epoch: the generator is the data set.
        let maps = synth::dataset_with(
            a.seed.wrapping_add(1 + epoch as u64 * 7919),
            a.samples,
            &a.synth,
        );
        let grids: Vec<FeatureGrid> = maps.iter().map(|m| m.grid()).collect();
        let made = t.elapsed().as_secs_f64();
        let mut order: Vec<usize> = (0..maps.len()).collect();
        let mut rng = Rng::new(a.seed ^ (epoch as u64) << 20);
        for i in (1..order.len()).rev() {
            order.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
        }
        // Cosine decay from lr to lr/20 over the run.
        let progress = epoch as f64 / a.epochs.max(1) as f64;
        let lr = a.lr * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()));
        let (mut loss_sum, mut right, mut seen) = (0.0f64, 0usize, 0usize);
        for batch in order.chunks(a.batch) {
            let refs: Vec<&FeatureGrid> = batch.iter().map(|&i| &grids[i]).collect();
            let labels: Vec<i64> = batch.iter().map(|&i| maps[i].class as i64).collect();
            let x = model.input(&refs, &device);
            let y = Tensor::<1, Int>::from_data(
                TensorData::new(labels.clone(), [labels.len()]),
                &device,
            );
            let logits = model.forward_dropout(x, a.dropout);
            let loss = loss_fn.forward(logits.clone(), y);
            let predicted: Vec<i64> = logits
                .argmax(1)
                .into_data()
                .convert::<i64>()
                .try_into_vec()
                .unwrap_or_default();
            right += predicted
                .iter()
                .zip(&labels)
                .filter(|(p, l)| p == l)
                .count();
            seen += labels.len();
            loss_sum += loss.clone().into_scalar::<f32>() as f64 * labels.len() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
        }
        if epoch >= averaged_from {
            average.add(&model.valid());
        }
        let c = Classifier::from_model(model.valid(), &plain);
        val_acc = accuracy(&c, &val_grids, &val_classes);
        println!(
            "epoch {:>2}/{}: loss {:.4}, train accuracy {:.1}%, synthetic validation {:.1}%, lr {:.2e}, {:.0} s ({:.1} s making maps)",
            epoch + 1,
            a.epochs,
            loss_sum / seen as f64,
            100.0 * right as f64 / seen as f64,
            100.0 * val_acc,
            lr,
            t.elapsed().as_secs_f64(),
            made
        );
    }

    let trained = average.apply(model.valid());
    if average.count() > 0 {
        let c = Classifier::from_model(trained.clone(), &plain);
        val_acc = accuracy(&c, &val_grids, &val_classes);
        println!(
            "weights averaged over the last {} epochs: synthetic validation {:.1}%",
            average.count(),
            100.0 * val_acc
        );
    }
    let params = trained.num_params();
    let bytes = trained
        .clone()
        .with_stable_ids()
        .into_record()
        .into_bytes()
        .expect("serialising the weights");
    // Calibration: the temperature that minimises the NLL on synthetic maps of a seed neither
    // training nor validation used (never the real maps).
    let c = Classifier::from_model(trained, &plain);
    let calib = synth::dataset_with(a.seed ^ 0xca1b_ca1b, 9 * 300, &a.synth);
    let calib_grids: Vec<FeatureGrid> = calib.iter().map(|m| m.grid()).collect();
    let mut logits = Vec::with_capacity(calib.len());
    for chunk in calib_grids.chunks(256) {
        logits.extend(c.logits(&chunk.iter().collect::<Vec<_>>()));
    }
    let truth: Vec<usize> = calib.iter().map(|m| m.class).collect();
    let temperature = fit_temperature(&logits, &truth);
    println!(
        "calibration: temperature {temperature:.4} on {} synthetic maps",
        calib.len()
    );
    let c = c.with_temperature(temperature);
    let evaluation = match &a.dev {
        Some(p) => {
            let raw = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let (maps, _) = read_wm811k(&raw).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let r = score(&c, &maps);
            print!("{}", r.text());
            Evaluation {
                dataset: p
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                n: r.report.n,
                accuracy: r.report.accuracy as f32,
                macro_f1: r.report.macro_f1 as f32,
                ece: r.calibration.ece as f32,
            }
        }
        None => Evaluation {
            dataset: String::new(),
            n: 0,
            accuracy: 0.0,
            macro_f1: 0.0,
            ece: 0.0,
        },
    };
    std::fs::create_dir_all(&a.out).expect("creating the output folder");
    // A fixed name: the CLI embeds it, and the app fetches it with the sha256 as a cache-buster.
    let name = "weights.bpk".to_string();
    std::fs::write(a.out.join(&name), &bytes[..]).expect("writing the weights");
    let manifest = Manifest {
        model_version: a.model_version,
        weights: name,
        sha256: sha256_hex(&bytes),
        classes: CLASSES.iter().map(|s| s.to_string()).collect(),
        feature_spec_version: features::SPEC_VERSION,
        parameters: params,
        pooling: a.pooling,
        batch_norm: a.batch_norm,
        radial: a.radial,
        temperature,
        training: Training {
            seed: a.seed,
            samples_per_epoch: a.samples,
            epochs: a.epochs,
            training_set_size: a.samples * a.epochs,
            synthetic_validation_accuracy: val_acc,
            seconds: started.elapsed().as_secs_f32(),
            // The settings, not argv: `cargo xtask train` with these reproduces the weights.
            command: format!(
                "cargo xtask train -- --epochs {} --samples {} --batch {} --lr {} --seed {} \
                 --model-version {}{}{}{}{}{}",
                a.epochs,
                a.samples,
                a.batch,
                a.lr,
                a.seed,
                a.model_version,
                [
                    ("--dropout", a.dropout),
                    ("--smoothing", a.smoothing),
                    ("--average", a.average)
                ]
                .iter()
                .filter(|(_, v)| *v > 0.0)
                .map(|(k, v)| format!(" {k} {v}"))
                .collect::<String>(),
                match a.pooling {
                    model::Pooling::Max => String::new(),
                    p => format!(" --pooling {}", p.name()),
                },
                if a.batch_norm { " --batch-norm" } else { "" },
                if a.radial { " --radial" } else { "" },
                // A GPU's arithmetic differs from the CPU's: the same settings on the CPU give
                // other weights, so the device is part of what reproduces them.
                if a.device == "flex" {
                    String::new()
                } else {
                    format!(" --device {}", a.device)
                }
            ),
            generator: a.synth.clone(),
        },
        evaluation,
    };
    let json = serde_json::to_string_pretty(&manifest).expect("manifest JSON");
    std::fs::write(a.out.join("manifest.json"), json + "\n").expect("writing the manifest");
    println!(
        "wrote {} ({} bytes) and manifest.json in {:.0} s",
        a.out.join(&manifest.weights).display(),
        bytes.len(),
        started.elapsed().as_secs_f64()
    );
}

/// The device to train on, without autodiff (the one inference and calibration use).
fn base_device(name: &str) -> Result<Device, String> {
    match name {
        "flex" => Ok(Device::flex()),
        #[cfg(feature = "gpu")]
        "wgpu" => Ok(Device::new(burn::backend::wgpu::WgpuDevice::default())),
        other => Err(format!(
            "--device {other}: this build trains on \"flex\"{}",
            if cfg!(feature = "gpu") {
                " or \"wgpu\""
            } else {
                " (build with --features gpu for \"wgpu\")"
            }
        )),
    }
}
