//! What the panels say, as text: a die's details (tooltip and pinned panel), the layers a wafer
//! can show (the layer picker), the fail-bin pareto, numbers as the panels print them. Pure, so
//! it is tested natively; the panels only lay it out.

use std::collections::BTreeMap;

use paint::Layer;
use wafer::{BinInfo, DieTable, TestFile};

use crate::doc::{Doc, Subject};

/// A test result as the panels print it: 5 decimals, or scientific when very small or large.
pub fn fmt_value(v: f32) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.4e}")
    } else {
        format!("{v:.5}")
    }
}

/// One option of the layer picker: `value` is the layer's name (`hbin`, `sbin`, `test:NUMBER`),
/// which [`Layer::parse`] reads back.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerChoice {
    pub value: String,
    pub label: String,
}

/// At most this many tests are listed; the search narrows the rest. A `<select>` of 500 tests
/// (Flex_3 has 1,352) held the page's thread for about 25 ms more while its file opened (its
/// options' HTML parsed, then every option's text shaped for its width), and nobody scrolls
/// 500 entries: 100, as the test list shows, and a line that says how many more the search finds.
pub const MAX_TEST_CHOICES: usize = 100;

/// The parametric layers wafer `dies` can show whose number or name contains `query` (any case),
/// in catalogue order: the first `max`, and how many match in all.
pub fn test_choices(
    file: &TestFile,
    dies: &DieTable,
    query: &str,
    max: usize,
) -> (Vec<LayerChoice>, usize) {
    let q = query.to_lowercase();
    let mut shown = Vec::new();
    let mut matching = 0;
    for (t, info) in file.tests.tests.iter().enumerate() {
        let found = dies.has_test(t)
            && (q.is_empty()
                || info.number.to_string().contains(&q)
                || info.name.to_lowercase().contains(&q));
        if !found {
            continue;
        }
        matching += 1;
        if shown.len() < max {
            shown.push(LayerChoice {
                value: Layer::Test(t).name(file),
                label: test_label(info),
            });
        }
    }
    (shown, matching)
}

/// A test as the layer picker names it: number, name, units and limits.
pub fn test_label(info: &wafer::TestInfo) -> String {
    let lim = |v: Option<f32>| v.map_or("–".into(), fmt_value);
    format!(
        "{} {} [{}] {}..{}",
        info.number,
        info.name,
        info.units,
        lim(info.lo_limit),
        lim(info.hi_limit)
    )
}

/// Details of die `row` of what `subject` shows, as (label, value) lines: for the tooltip, and
/// with every test result (`all_tests`) for the pinned panel. None for a row out of range.
pub fn die_lines(
    doc: &Doc,
    subject: Subject,
    layer: Layer,
    row: usize,
    all_tests: bool,
) -> Option<Vec<(String, String)>> {
    let d = doc.try_dies(subject)?;
    if row >= d.len() {
        return None;
    }
    let mut v = vec![("x, y".to_string(), format!("{}, {}", d.x[row], d.y[row]))];
    if let Subject::Stack = subject {
        let s = doc.stack();
        v.push((
            "fail".into(),
            format!("{:.1}% of {} wafers", s.fail_pct[row], s.wafers[row]),
        ));
        return Some(v);
    }
    let bins = &doc.file.bins;
    let name =
        |t: &BTreeMap<u16, BinInfo>, b: u16| t.get(&b).map(|i| i.name.clone()).unwrap_or_default();
    v.push(("part".into(), d.part_id.get(row).to_string()));
    v.push((
        "site".into(),
        format!("{} (head {})", d.site[row], d.head[row]),
    ));
    v.push((
        "hard bin".into(),
        format!("{} {}", d.hard_bin[row], name(&bins.hard, d.hard_bin[row])),
    ));
    let sb = d.soft_bin[row];
    let sb = if sb == wafer::NO_BIN {
        "–".to_string()
    } else {
        format!("{sb} {}", name(&bins.soft, sb))
    };
    v.push(("soft bin".into(), sb));
    v.push((
        "verdict".into(),
        format!("{:?}", d.verdict[row]).to_lowercase(),
    ));
    if d.attempts[row] > 1 {
        v.push((
            "tested".into(),
            format!("{} times (last result shown)", d.attempts[row]),
        ));
    }
    let tests = &doc.file.tests.tests;
    if let Layer::Test(t) = layer
        && let Some(i) = tests.get(t)
    {
        v.push((
            format!("{} {}", i.number, i.name),
            format!("{} {}", fmt_value(d.value(t, row)), i.units),
        ));
    }
    if all_tests {
        for (t, i) in tests.iter().enumerate() {
            let val = d.value(t, row);
            if val.is_finite() {
                let out =
                    i.lo_limit.is_some_and(|l| val < l) || i.hi_limit.is_some_and(|h| val > h);
                let mark = if out { " ✗" } else { "" };
                v.push((
                    format!("{} {}", i.number, i.name),
                    format!("{} {}{mark}", fmt_value(val), i.units),
                ));
            }
        }
    }
    Some(v)
}

#[cfg(test)]
mod tests;
