//! The shipped weights in `public/model/`: they match their manifest, reproduce the manifest's
//! evaluation on the real WM-811K dev maps, and classify fresh synthetic maps. CI runs this
//! instead of training.

use std::path::PathBuf;

use burn::tensor::Device;
use features::FeatureGrid;
use model::eval::{read_wm811k, score};
use model::{CLASSES, Classifier, Manifest, sha256_hex, synth};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shipped() -> (Manifest, Vec<u8>) {
    let dir = root().join("public/model");
    let m: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let w = std::fs::read(dir.join(&m.weights)).unwrap();
    (m, w)
}

fn corpus() -> PathBuf {
    ::corpus::dir()
}

#[test]
fn weights_match_the_manifest() {
    let (m, w) = shipped();
    assert_eq!(sha256_hex(&w), m.sha256);
    assert_eq!(m.classes, CLASSES.map(String::from).to_vec());
    assert_eq!(m.feature_spec_version, features::SPEC_VERSION);
    let c = Classifier::load(&w, &Device::flex()).unwrap();
    let _ = c;
    assert!(m.parameters < 500_000);
    assert!(m.training.training_set_size > 0);
}

#[test]
fn the_dev_set_figures_are_what_the_manifest_says() {
    let (m, w) = shipped();
    let text = std::fs::read_to_string(root().join("public/model/manifest.json")).unwrap();
    let (c, _) = Classifier::load_verified(&text, &w, &Device::flex()).unwrap();
    assert_eq!(c.temperature(), m.temperature);
    let path = corpus().join("wm811k/wm811k-dev.json.gz");
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (maps, _) = read_wm811k(&raw).unwrap();
    let r = score(&c, &maps);
    print!("{}", r.text());
    assert_eq!(r.report.n, m.evaluation.n);
    assert!((r.report.accuracy as f32 - m.evaluation.accuracy).abs() < 1e-6);
    assert!((r.report.macro_f1 as f32 - m.evaluation.macro_f1).abs() < 1e-6);
    assert!((r.calibration.ece as f32 - m.evaluation.ece).abs() < 1e-5);
    // No real dev map is too small or misshapen to classify.
    assert_eq!(r.calls.get("too_few_dies"), None);
    assert_eq!(r.calls.get("not_wafer_shaped"), None);
}

#[test]
fn fresh_synthetic_maps_are_classified() {
    let (_, w) = shipped();
    let c = Classifier::load(&w, &Device::flex()).unwrap();
    // A seed training never used.
    let maps = synth::dataset(0xdead_beef, 9 * 30);
    let grids: Vec<FeatureGrid> = maps.iter().map(|m| m.grid()).collect();
    let refs: Vec<&FeatureGrid> = grids.iter().collect();
    let p = c.predict(&refs);
    let right = p
        .iter()
        .zip(&maps)
        .filter(|(p, m)| p.class() == m.class)
        .count();
    let acc = right as f32 / maps.len() as f32;
    assert!(acc > 0.8, "synthetic accuracy {acc}");
    // Probabilities sum to one, and a batch agrees with one-at-a-time.
    for (i, q) in p.iter().enumerate().take(5) {
        assert!((q.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        let single = c.predict(&[&grids[i]]).remove(0);
        for (a, b) in q.probabilities.iter().zip(single.probabilities) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }
}

#[test]
fn a_corpus_wafer_is_classified_the_same_twice() {
    let path = corpus().join("stdf/lot2.stdf.gz");
    let f = wafer::read(&std::fs::read(&path).unwrap()).unwrap();
    let (_, w) = shipped();
    let c = Classifier::load(&w, &Device::flex()).unwrap();
    let g = FeatureGrid::from_dies(&f.wafers[0].dies).unwrap();
    let a = c.predict(&[&g]).remove(0);
    let b = c.predict(&[&g]).remove(0);
    assert_eq!(a, b);
    println!("lot2 wafer 0: {} {:?}", a.label(), a.probabilities);
}

#[test]
fn bad_weights_are_an_error_not_a_panic() {
    assert!(Classifier::load(b"not weights", &Device::flex()).is_err());
    let (_, w) = shipped();
    assert!(Classifier::load(&w[..w.len() / 2], &Device::flex()).is_err());
}

#[test]
fn weights_that_do_not_match_their_manifest_are_refused() {
    let (m, w) = shipped();
    let text = serde_json::to_string(&m).unwrap();
    assert!(Classifier::load_verified(&text, &w, &Device::flex()).is_ok());
    let mut tampered = w.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let e = Classifier::load_verified(&text, &tampered, &Device::flex())
        .err()
        .unwrap();
    assert!(e.to_string().contains("sha256"), "{e}");
    let mut other = m.clone();
    other.feature_spec_version += 1;
    let text = serde_json::to_string(&other).unwrap();
    let e = Classifier::load_verified(&text, &w, &Device::flex())
        .err()
        .unwrap();
    assert!(e.to_string().contains("feature spec"), "{e}");
}

#[test]
fn the_manifest_says_how_the_network_pools() {
    let (_, w) = shipped();
    let text = std::fs::read_to_string(root().join("public/model/manifest.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let grid = synth::dataset(7, 9)[3].grid();
    let probabilities = |json: &serde_json::Value| {
        let (c, m) = Classifier::load_verified(&json.to_string(), &w, &Device::flex()).unwrap();
        (m.pooling, c.predict(&[&grid])[0].probabilities)
    };
    // A manifest from before the field pools by max, as those weights were trained.
    json.as_object_mut().unwrap().remove("pooling");
    let (pooling, max) = probabilities(&json);
    assert_eq!(pooling, model::Pooling::Max);
    // The same weights read as the other network give other answers: the field is used.
    json["pooling"] = "avg-max".into();
    let (pooling, avg) = probabilities(&json);
    assert_eq!(pooling, model::Pooling::AvgMax);
    assert!(max.iter().zip(&avg).any(|(a, b)| (a - b).abs() > 1e-3));
    json["pooling"] = "median".into();
    assert!(Classifier::load_verified(&json.to_string(), &w, &Device::flex()).is_err());
}

#[test]
fn a_manifest_that_claims_a_radius_channel_its_weights_lack_is_refused() {
    let (m, w) = shipped();
    let mut radial = m.clone();
    radial.radial = !m.radial;
    let e = Classifier::load_verified(
        &serde_json::to_string(&radial).unwrap(),
        &w,
        &Device::flex(),
    )
    .err()
    .expect("weights of the other shape are refused");
    assert!(e.to_string().contains("cannot load model weights"), "{e}");
}
