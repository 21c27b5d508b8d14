//! `waferscope classify` and `waferscope eval-wm811k`: the shipped classifier on the CPU.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::Device;
use features::FeatureGrid;
use model::eval::{read_wm811k, score};
use model::{CLASSES, Call, Classifier, Manifest};
use serde_json::{Value, json};
use wafer::TestFile;

/// The weights and manifest in `public/model/`, built into the binary so it works anywhere.
const MANIFEST: &str = include_str!("../../../public/model/manifest.json");
const WEIGHTS: &[u8] = include_bytes!("../../../public/model/weights.bpk");

/// The classifier from `dir` (a folder like `public/model/`), or the built-in one; the weights
/// must match the manifest's sha256.
pub fn load(dir: Option<&Path>) -> Result<(Classifier, Manifest), String> {
    let (manifest, weights) = match dir {
        None => (MANIFEST.to_string(), WEIGHTS.to_vec()),
        Some(d) => {
            let m = d.join("manifest.json");
            let manifest =
                std::fs::read_to_string(&m).map_err(|e| format!("{}: {e}", m.display()))?;
            let parsed: Manifest =
                serde_json::from_str(&manifest).map_err(|e| format!("{}: {e}", m.display()))?;
            let w = d.join(&parsed.weights);
            let weights = std::fs::read(&w).map_err(|e| format!("{}: {e}", w.display()))?;
            (manifest, weights)
        }
    };
    Classifier::load_verified(&manifest, &weights, &Device::flex()).map_err(|e| e.to_string())
}

/// `eval-wm811k`: the report, calibration and calls on labelled maps; `plot` also writes the
/// reliability diagram as SVG.
pub fn eval(
    file: &Path,
    json_out: bool,
    dir: Option<&Path>,
    plot: Option<&Path>,
) -> Result<String, String> {
    let (c, manifest) = load(dir)?;
    let raw = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let (maps, unlabelled) = read_wm811k(&raw).map_err(|e| format!("{}: {e}", file.display()))?;
    if maps.is_empty() {
        return Err(format!("{}: no labelled maps", file.display()));
    }
    let r = score(&c, &maps);
    if let Some(path) = plot {
        let title = format!(
            "model v{} on {} maps: reliability of the top probability",
            manifest.model_version, r.report.n
        );
        std::fs::write(path, r.calibration.svg(&title))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(if json_out {
        let mut v = serde_json::to_value(&r).expect("report serialises");
        v["model_version"] = json!(manifest.model_version);
        v["unlabelled_skipped"] = json!(unlabelled);
        serde_json::to_string_pretty(&v).expect("JSON") + "\n"
    } else {
        format!(
            "{}: model v{} ({} unlabelled maps skipped)\n{}",
            file.display(),
            manifest.model_version,
            unlabelled,
            r.text()
        )
    })
}

/// Per wafer: the call (label, "uncertain: A or B", or why none), the calibrated
/// probabilities and the FeatureHash.
pub fn classify(f: &TestFile, json_out: bool, dir: Option<&Path>) -> Result<String, String> {
    let (c, manifest) = load(dir)?;
    let mut rows = Vec::new();
    for w in &f.wafers {
        match FeatureGrid::from_dies(&w.dies) {
            Ok(g) => {
                let p = c.predict(&[&g]).remove(0);
                let call = Call::new(&p, Some(w.dies.len()), &g);
                rows.push((w.id.clone(), Some((p, call, g.hash()))));
            }
            Err(_) => rows.push((w.id.clone(), None)),
        }
    }
    if json_out {
        let wafers: Vec<Value> = rows
            .iter()
            .map(|(id, r)| match r {
                Some((p, call, h)) => {
                    let probs: BTreeMap<&str, f32> = CLASSES
                        .iter()
                        .zip(p.probabilities)
                        .map(|(c, p)| (*c, p))
                        .collect();
                    json!({"id": id, "label": call.label(), "confidence": call.confidence(),
                        "probabilities": probs, "feature_hash": h.to_hex()})
                }
                None => json!({"id": id, "label": null, "error": "no dies"}),
            })
            .collect();
        let v = json!({
            "model_version": manifest.model_version,
            "feature_spec_version": features::SPEC_VERSION,
            "wafers": wafers,
        });
        return Ok(serde_json::to_string_pretty(&v).expect("JSON") + "\n");
    }
    let mut s = format!("model v{}\n", manifest.model_version);
    for (id, r) in &rows {
        match r {
            Some((p, call, h)) => {
                let top: Vec<String> = p.ranked()[..3]
                    .iter()
                    .map(|&i| format!("{} {:.1}%", CLASSES[i], p.probabilities[i] * 100.0))
                    .collect();
                s += &format!(
                    "wafer {id:?}: {}  ({})  hash {}\n",
                    call.text(),
                    top.join(", "),
                    &h.to_hex()[..16]
                );
            }
            None => s += &format!("wafer {id:?}: no dies\n"),
        }
    }
    Ok(s)
}
