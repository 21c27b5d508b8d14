//! WM-811K-style labelled maps, and the figures `waferscope eval-wm811k` reports on them.

use std::collections::BTreeMap;

use features::FeatureGrid;
use serde::Serialize;
use serde_json::Value;

use crate::calibration::Reliability;
use crate::{CLASSES, NUM_CLASSES, class_index};
#[cfg(feature = "network")]
use crate::{Call, Classifier};

/// One labelled real map.
#[derive(Debug)]
pub struct Labelled {
    pub grid: FeatureGrid,
    pub class: usize,
    /// Dies on the map, and its box.
    pub dies: usize,
    pub rows: usize,
    pub cols: usize,
    /// The dies in WM-811K's codes (0 none, 1 pass, 2 fail), row-major: for experiments that
    /// change a map before its grid is made.
    pub codes: Vec<u8>,
    /// Where it came from, for messages: `lotName` and `waferIndex`, or the list position.
    pub name: String,
}

/// Read a JSON list (gzip-compressed or not) of `{failureType, waferMap, ...}` objects, as
/// `../shared/corpus/wm811k/wm811k-dev.json.gz` holds them. Maps without a known label (WM-811K
/// has unlabelled ones: `[]` or `[[]]`) are skipped and counted; a malformed entry is an error
/// naming its position.
pub fn read_wm811k(bytes: &[u8]) -> Result<(Vec<Labelled>, usize), String> {
    let json: Vec<u8> = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes), &mut out)
            .map_err(|e| format!("gzip: {e}"))?;
        out
    } else {
        bytes.to_vec()
    };
    let list: Vec<Value> =
        serde_json::from_slice(&json).map_err(|e| format!("not a JSON list of maps: {e}"))?;
    let mut out = Vec::new();
    let mut unlabelled = 0;
    for (i, v) in list.iter().enumerate() {
        // WM-811K's pickles wrap labels as [["Center"]]; the JSON may carry that or a string.
        let mut label = v.get("failureType");
        while let Some(Value::Array(a)) = label {
            label = a.first();
        }
        let Some(class) = label.and_then(Value::as_str).and_then(class_index) else {
            unlabelled += 1;
            continue;
        };
        let map: Vec<Vec<u8>> = v
            .get("waferMap")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("entry {i}: no waferMap"))?
            .iter()
            .enumerate()
            .map(|(r, row)| {
                row.as_array()
                    .ok_or_else(|| format!("entry {i}: waferMap row {r} is not a list"))?
                    .iter()
                    .map(|x| {
                        x.as_u64()
                            .filter(|&x| x <= 2)
                            .map(|x| x as u8)
                            .ok_or_else(|| {
                                format!("entry {i}: waferMap row {r}: {x} is not 0, 1 or 2")
                            })
                    })
                    .collect()
            })
            .collect::<Result<_, String>>()?;
        let grid = FeatureGrid::from_wm811k(&map).map_err(|e| format!("entry {i}: {e}"))?;
        let name = match (
            v.get("lotName").and_then(Value::as_str),
            v.get("waferIndex"),
        ) {
            (Some(lot), Some(w)) => format!("{lot}/{w}"),
            _ => format!("#{i}"),
        };
        let dies = map.iter().flatten().filter(|&&d| d != 0).count();
        let (rows, cols) = (map.len(), map.first().map_or(0, Vec::len));
        out.push(Labelled {
            grid,
            class,
            dies,
            rows,
            cols,
            codes: map.concat(),
            name,
        });
    }
    Ok((out, unlabelled))
}

/// Everything `eval-wm811k` says about a classifier on labelled maps: the figures of its top
/// class, how well its probabilities are calibrated, and what the calls were.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Scored {
    #[serde(flatten)]
    pub report: Report,
    pub calibration: Reliability,
    /// Maps per call (`label`, `uncertain`, ...) and the accuracy of the maps labelled alone.
    pub calls: BTreeMap<String, usize>,
    pub accuracy_when_labelled: f64,
    /// Each map's predicted class and its calibrated probability, in input order.
    #[serde(skip)]
    pub predicted: Vec<(usize, f32)>,
}

/// Classify `maps` (in chunks, natively) and score them.
#[cfg(feature = "network")]
pub fn score(c: &Classifier, maps: &[Labelled]) -> Scored {
    let mut predicted = Vec::with_capacity(maps.len());
    let mut calls = BTreeMap::new();
    let (mut labelled, mut labelled_right) = (0usize, 0usize);
    for chunk in maps.chunks(256) {
        let refs: Vec<&FeatureGrid> = chunk.iter().map(|m| &m.grid).collect();
        for (p, m) in c.predict(&refs).iter().zip(chunk) {
            let call = Call::new(p, Some(m.dies), &m.grid);
            *calls.entry(call.kind().to_string()).or_insert(0) += 1;
            if let Call::Label { class, .. } = call {
                labelled += 1;
                labelled_right += (class == m.class) as usize;
            }
            predicted.push((p.class(), p.probabilities[p.class()]));
        }
    }
    let truth: Vec<usize> = maps.iter().map(|m| m.class).collect();
    let classes: Vec<usize> = predicted.iter().map(|p| p.0).collect();
    let confidence: Vec<f32> = predicted.iter().map(|p| p.1).collect();
    let right: Vec<bool> = truth.iter().zip(&classes).map(|(t, p)| t == p).collect();
    Scored {
        report: Report::new(&truth, &classes),
        calibration: Reliability::new(&confidence, &right, 10),
        calls,
        accuracy_when_labelled: if labelled == 0 {
            0.0
        } else {
            labelled_right as f64 / labelled as f64
        },
        predicted,
    }
}

impl Scored {
    pub fn text(&self) -> String {
        let calls: Vec<String> = self.calls.iter().map(|(k, n)| format!("{k} {n}")).collect();
        format!(
            "{}calibration: expected calibration error {:.3} (10 bins)
calls: {} ({:.1}% right \
             where labelled alone)
",
            self.report.text(),
            self.calibration.ece,
            calls.join(", "),
            self.accuracy_when_labelled * 100.0
        )
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClassFigures {
    pub support: usize,
    pub predicted: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Accuracy, macro-F1 over the classes present in the truth, per-class figures and the
/// confusion matrix (`confusion[truth][predicted]`, classes by name, zero cells left out).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: BTreeMap<String, ClassFigures>,
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Report {
    pub fn new(truth: &[usize], predicted: &[usize]) -> Report {
        assert_eq!(truth.len(), predicted.len());
        let mut m = [[0usize; NUM_CLASSES]; NUM_CLASSES];
        for (&t, &p) in truth.iter().zip(predicted) {
            m[t][p] += 1;
        }
        let n = truth.len();
        let correct: usize = (0..NUM_CLASSES).map(|c| m[c][c]).sum();
        let mut per_class = BTreeMap::new();
        let mut f1s = Vec::new();
        for c in 0..NUM_CLASSES {
            let support: usize = m[c].iter().sum();
            let predicted: usize = (0..NUM_CLASSES).map(|t| m[t][c]).sum();
            if support == 0 && predicted == 0 {
                continue;
            }
            let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
            let (precision, recall) = (ratio(m[c][c], predicted), ratio(m[c][c], support));
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            if support > 0 {
                f1s.push(f1);
            }
            per_class.insert(
                CLASSES[c].to_string(),
                ClassFigures {
                    support,
                    predicted,
                    precision,
                    recall,
                    f1,
                },
            );
        }
        let mut confusion = BTreeMap::new();
        for t in 0..NUM_CLASSES {
            let row: BTreeMap<String, usize> = (0..NUM_CLASSES)
                .filter(|&p| m[t][p] > 0)
                .map(|p| (CLASSES[p].to_string(), m[t][p]))
                .collect();
            if !row.is_empty() {
                confusion.insert(CLASSES[t].to_string(), row);
            }
        }
        Report {
            n,
            accuracy: if n == 0 {
                0.0
            } else {
                correct as f64 / n as f64
            },
            macro_f1: if f1s.is_empty() {
                0.0
            } else {
                f1s.iter().sum::<f64>() / f1s.len() as f64
            },
            per_class,
            confusion,
        }
    }

    /// The report as a person reads it.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} maps: accuracy {:.1}%, macro-F1 {:.3} (over the {} classes present)",
            self.n,
            self.accuracy * 100.0,
            self.macro_f1,
            self.per_class.values().filter(|c| c.support > 0).count()
        );
        let _ = writeln!(
            s,
            "{:<10} {:>7} {:>7} {:>9} {:>6}",
            "class", "support", "recall", "precision", "F1"
        );
        for (name, c) in &self.per_class {
            let _ = writeln!(
                s,
                "{name:<10} {:>7} {:>6.1}% {:>8.1}% {:>6.3}",
                c.support,
                c.recall * 100.0,
                c.precision * 100.0,
                c.f1
            );
        }
        let names: Vec<&String> = self.per_class.keys().collect();
        let _ = write!(s, "confusion (rows: truth, columns: predicted)\n{:<10}", "");
        for n in &names {
            let _ = write!(s, " {:>9}", n);
        }
        for t in &names {
            let _ = write!(s, "\n{t:<10}");
            for p in &names {
                let v = self
                    .confusion
                    .get(*t)
                    .and_then(|r| r.get(*p))
                    .copied()
                    .unwrap_or(0);
                let _ = write!(
                    s,
                    " {:>9}",
                    if v == 0 {
                        ".".to_string()
                    } else {
                        v.to_string()
                    }
                );
            }
        }
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_of_a_small_confusion() {
        // Truth: 3 Center, 1 Donut. Predicted: 2 Center right, 1 Center as Donut, Donut right.
        let r = Report::new(&[0, 0, 0, 1], &[0, 0, 1, 1]);
        assert_eq!(r.n, 4);
        assert!((r.accuracy - 0.75).abs() < 1e-12);
        let c = &r.per_class["Center"];
        assert!((c.recall - 2.0 / 3.0).abs() < 1e-12 && (c.precision - 1.0).abs() < 1e-12);
        let d = &r.per_class["Donut"];
        assert!((d.precision - 0.5).abs() < 1e-12 && (d.recall - 1.0).abs() < 1e-12);
        let want_f1 = (0.8 + 2.0 / 3.0) / 2.0;
        assert!((r.macro_f1 - want_f1).abs() < 1e-12);
        assert_eq!(r.confusion["Center"]["Donut"], 1);
        assert!(r.text().contains("accuracy 75.0%"));
    }

    #[test]
    fn labels_are_read_plain_or_wrapped_and_unlabelled_maps_skipped() {
        let json = br#"[
            {"failureType": "Edge-Ring", "waferMap": [[0,1,0],[1,2,1],[0,1,0]]},
            {"failureType": [["Center"]], "lotName": "lot1", "waferIndex": 3, "waferMap": [[1,1],[1,2]]},
            {"failureType": [], "waferMap": [[1]]}
        ]"#;
        let (maps, skipped) = read_wm811k(json).unwrap();
        assert_eq!(skipped, 1);
        assert_eq!(maps.len(), 2);
        assert_eq!(CLASSES[maps[0].class], "Edge-Ring");
        assert_eq!(maps[1].name, "lot1/3");
        let bad = br#"[{"failureType": "Loc", "waferMap": [[1,7]]}]"#;
        assert!(read_wm811k(bad).unwrap_err().contains("entry 0"));
    }
}
