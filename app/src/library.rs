//! The local library: every file opened is kept in the browser, packed (`wafer::pack`, what the
//! worker hands the page), and, when the user asks for it, the original file too, with the facts
//! its list shows. Reopening one
//! hands the packed bytes back to the worker (`ToWorker::Packed`), so the first frame comes
//! without parsing the original again, and the classifier runs as on a fresh file.
//!
//! Pure here (the entry and its facts, tested natively); `idb` stores them in IndexedDB.

use serde::{Deserialize, Serialize};

use crate::doc::Doc;

#[cfg(all(target_arch = "wasm32", feature = "page"))]
pub mod idb;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
pub mod keep;

/// The library's list: each entry with its key.
pub type Listing = Vec<(u32, Entry)>;

/// One kept file, as the library lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The file's name, or the user's for it.
    pub name: String,
    /// When it was last opened, ms since the epoch.
    pub opened_ms: f64,
    pub lot: String,
    pub wafers: usize,
    pub dies: usize,
    /// Final-pass share over every die of every wafer; None without dies.
    #[serde(rename = "yield")]
    pub yield_: Option<f64>,
    /// The predicted patterns, once the classifier has answered (`pattern_summary`), and the
    /// model version that gave them.
    pub pattern: Option<String>,
    /// Size of the packed form kept.
    pub bytes: usize,
    /// Size of the original file, when the user asked to keep originals too (entries from
    /// before that option have none).
    #[serde(default)]
    pub original: Option<u64>,
    /// A lot's original files, by name and size, in the order they were chosen (empty for a
    /// lone file: its original has the entry's name).
    #[serde(default)]
    pub originals: Vec<(String, u64)>,
}

impl Entry {
    /// The facts of an open file, before any classification.
    pub fn of(doc: &Doc, bytes: usize, opened_ms: f64) -> Entry {
        let (mut dies, mut pass) = (0usize, 0usize);
        for (i, w) in doc.file.wafers.iter().enumerate() {
            dies += w.dies.len();
            pass += doc.passing(i);
        }
        Entry {
            name: doc.name.clone(),
            opened_ms,
            lot: doc.file.meta.lot_id.clone(),
            wafers: doc.file.wafers.len(),
            dies,
            yield_: (dies > 0).then(|| pass as f64 / dies as f64),
            pattern: None,
            bytes,
            original: None,
            originals: Vec::new(),
        }
    }
}

/// The patterns of a file's wafers in a few words: the label of a lone wafer, else the labels
/// by count, most frequent first ("none ×20, Center ×3, 2 without a label"). `labels` has one
/// item per classified wafer: its label, or None where the classifier abstained.
pub fn pattern_summary(labels: &[Option<&str>], model_version: u32) -> String {
    let model = format!(" (model v{model_version})");
    if let [one] = labels {
        return format!("{}{model}", one.unwrap_or("no label"));
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    let mut none = 0;
    for l in labels {
        match l {
            Some(l) => match counts.iter_mut().find(|(k, _)| k == l) {
                Some((_, n)) => *n += 1,
                None => counts.push((l, 1)),
            },
            None => none += 1,
        }
    }
    // Most frequent first; ties keep the order of first appearance (the sort is stable).
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    let mut parts: Vec<String> = counts.iter().map(|(l, n)| format!("{l} ×{n}")).collect();
    if none > 0 {
        parts.push(format!("{none} without a label"));
    }
    format!("{}{model}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_wafer_is_named_by_its_label() {
        assert_eq!(pattern_summary(&[Some("Center")], 2), "Center (model v2)");
        assert_eq!(pattern_summary(&[None], 2), "no label (model v2)");
    }

    #[test]
    fn a_lot_is_summed_up_by_count() {
        let labels = [
            Some("none"),
            Some("Center"),
            None,
            Some("none"),
            Some("Edge-Ring"),
            Some("none"),
            Some("Center"),
        ];
        assert_eq!(
            pattern_summary(&labels, 3),
            "none ×3, Center ×2, Edge-Ring ×1, 1 without a label (model v3)"
        );
    }

    #[test]
    fn an_entry_counts_every_die_of_every_wafer() {
        let file = wafer::demo::demo_files()
            .into_iter()
            .next()
            .expect("a demo file");
        let parsed = wafer::read(&file.bytes[..]).expect("the demo parses");
        let doc = Doc::new("demo.stdf".into(), parsed);
        let e = Entry::of(&doc, 1234, 5.0);
        let dies: usize = doc.file.wafers.iter().map(|w| w.dies.len()).sum();
        assert_eq!(
            (e.wafers, e.dies, e.bytes),
            (doc.file.wafers.len(), dies, 1234)
        );
        assert!(e.yield_.is_some_and(|y| (0.0..=1.0).contains(&y)));
        // The stored form round-trips.
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Entry>(&json).unwrap(), e);
    }
}
