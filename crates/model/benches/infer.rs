//! Classifier latency on the CPU (burn Flex), natively: loading the weights plus the first
//! inference, then one wafer and a batch of 25, warm (medians of 200 / 40 runs). The grids are
//! real ones: `lot2.stdf.gz`'s wafer and 24 WM-811K dev maps.
//!
//! `cargo bench -p model --bench infer`

use std::path::PathBuf;
use std::time::Instant;

use burn::tensor::Device;
use features::FeatureGrid;
use model::Classifier;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let corpus = corpus::dir();
    let weights = std::fs::read(root.join("public/model/weights.bpk")).expect("shipped weights");
    let manifest =
        std::fs::read_to_string(root.join("public/model/manifest.json")).expect("shipped manifest");
    let lot2 = wafer::read(&std::fs::read(corpus.join("stdf/lot2.stdf.gz")).expect("lot2"))
        .expect("lot2 parses");
    let one = FeatureGrid::from_dies(&lot2.wafers[0].dies).expect("dies");
    let dev = std::fs::read(corpus.join("wm811k/wm811k-dev.json.gz")).expect("dev set");
    let (maps, _) = model::eval::read_wm811k(&dev).expect("dev set parses");
    let mut batch: Vec<&FeatureGrid> = maps.iter().take(24).map(|m| &m.grid).collect();
    batch.push(&one);

    let t = Instant::now();
    // As shipped: checked against the manifest, probabilities at its temperature.
    let (c, m) =
        Classifier::load_verified(&manifest, &weights, &Device::flex()).expect("weights load");
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let _ = c.predict(&[&one]);
    let first_ms = t.elapsed().as_secs_f64() * 1e3;

    let time = |grids: &[&FeatureGrid], n: usize| {
        median(
            (0..n)
                .map(|_| {
                    let t = Instant::now();
                    let p = c.predict(grids);
                    std::hint::black_box(p);
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect(),
        )
    };
    let single = time(&[&one], 200);
    let b25 = time(&batch, 40);
    println!(
        "classifier on the CPU (burn Flex, native), {} threads available",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("  load weights                 {load_ms:8.2} ms");
    println!("  first inference (cold)       {first_ms:8.2} ms");
    println!("  one wafer, warm (median)     {single:8.3} ms   (target < 2 ms)");
    println!(
        "  batch of 25, warm (median)   {b25:8.3} ms   ({:.3} ms per wafer)",
        b25 / 25.0
    );

    // The same network with the same weights in PyTorch, when `cargo xtask bench` has set up
    // its Python (torch from PyPI); the ratio comes from this one invocation.
    let Some(python) = std::env::var_os("WAFERSCOPE_TORCH_PYTHON") else {
        println!("  (PyTorch baseline skipped: WAFERSCOPE_TORCH_PYTHON is not set)");
        return;
    };
    let dir = root.join("target/bench/torch");
    std::fs::create_dir_all(&dir).expect("bench folder");
    let weights: serde_json::Map<String, serde_json::Value> = c
        .model()
        .export()
        .into_iter()
        .map(|(name, shape, data)| (name, serde_json::json!({"shape": shape, "data": data})))
        .collect();
    // The network's own input (with its radius channel, if it reads one).
    let inputs: Vec<f32> = c
        .model()
        .input(&batch, &Device::flex())
        .into_data()
        .try_into_vec()
        .expect("f32 input");
    let expected: Vec<Vec<f32>> = c
        .predict(&batch)
        .iter()
        .map(|p| p.probabilities.to_vec())
        .collect();
    let write = |name: &str, v: serde_json::Value| {
        std::fs::write(dir.join(name), v.to_string()).expect("bench file");
    };
    write("weights.json", serde_json::Value::Object(weights));
    write("inputs.json", serde_json::json!(inputs));
    write("expected.json", serde_json::json!(expected));
    let status = std::process::Command::new(python)
        .arg(root.join("bench/torch/classify.py"))
        .arg(&dir)
        .arg(single.to_string())
        .arg(b25.to_string())
        .arg(c.temperature().to_string())
        .arg(m.pooling.name())
        .arg(if m.radial { "2" } else { "1" })
        .status()
        .expect("running the PyTorch baseline");
    assert!(status.success(), "the PyTorch baseline failed");
}
