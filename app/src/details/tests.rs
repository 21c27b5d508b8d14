//! What the panels say, checked on the demo file: layer options name tests by number, a die's
//! lines carry its bins and results, the pareto counts failing dies.

use paint::Layer;

use super::*;
use crate::doc::tests::demo;

#[test]
fn layer_options_name_tests_by_number_and_read_back() {
    let doc = demo();
    let file = &doc.file;
    let (choices, matching) = test_choices(file, &file.wafers[0].dies, "", MAX_TEST_CHOICES);
    assert!(!choices.is_empty());
    assert_eq!(
        choices.len(),
        matching,
        "the demo has fewer tests than the picker lists"
    );
    for c in &choices {
        let layer = Layer::parse(&c.value, file);
        let Ok(Layer::Test(t)) = layer else {
            panic!("{} reads back as a test layer: {layer:?}", c.value);
        };
        let number = file.tests.tests[t].number;
        assert_eq!(c.value, format!("test:{number}"));
        assert!(c.label.starts_with(&number.to_string()), "{}", c.label);
    }
}

#[test]
fn the_layer_search_matches_number_or_name_in_any_case() {
    let doc = demo();
    let file = &doc.file;
    let dies = &file.wafers[0].dies;
    let find = |q: &str| test_choices(file, dies, q, MAX_TEST_CHOICES);
    let by_number = find("310");
    assert_eq!(by_number.0.len(), 1);
    assert_eq!(by_number.0[0].value, "test:310");
    assert_eq!(find("fmax"), by_number);
    assert_eq!(find("no such test"), (vec![], 0));
}

#[test]
fn the_layer_picker_lists_the_first_tests_and_counts_the_rest() {
    let doc = demo();
    let (file, dies) = (&doc.file, &doc.file.wafers[0].dies);
    let (all, matching) = test_choices(file, dies, "", usize::MAX);
    assert!(matching >= 3, "the demo has tests to cut");
    let (first, counted) = test_choices(file, dies, "", 2);
    assert_eq!(first, all[..2]);
    assert_eq!(counted, matching);
}

#[test]
fn a_die_lists_its_place_bins_and_results() {
    let doc = demo();
    let d = &doc.file.wafers[0].dies;
    let Some(t) = (0..doc.file.tests.tests.len()).find(|&t| d.has_test(t)) else {
        panic!("the demo wafer has test results");
    };
    let lines = die_lines(&doc, Subject::Wafer(0), Layer::Test(t), 0, false).unwrap_or_default();
    let has = |k: &str| lines.iter().any(|(label, _)| label == k);
    assert_eq!(lines[0], ("x, y".into(), format!("{}, {}", d.x[0], d.y[0])));
    assert!(has("hard bin") && has("soft bin") && has("verdict"));
    let test = &doc.file.tests.tests[t];
    assert!(has(&format!("{} {}", test.number, test.name)));
    let pinned = die_lines(&doc, Subject::Wafer(0), Layer::HardBin, 0, true).unwrap_or_default();
    assert!(
        pinned.len() > lines.len() - 1,
        "the pinned panel lists every result"
    );
}

#[test]
fn a_die_out_of_range_has_no_lines() {
    let doc = demo();
    let n = doc.file.wafers[0].dies.len();
    assert_eq!(
        die_lines(&doc, Subject::Wafer(0), Layer::HardBin, n, false),
        None
    );
    let wafers = doc.file.wafers.len();
    assert_eq!(
        die_lines(&doc, Subject::Wafer(wafers), Layer::HardBin, 0, false),
        None
    );
    assert_eq!(
        die_lines(&doc, Subject::Wafer(0), Layer::Test(usize::MAX), 0, false).map(|l| l.is_empty()),
        Some(false)
    );
}

#[test]
fn a_stacked_die_says_how_often_it_failed() {
    let doc = demo();
    let lines = die_lines(&doc, Subject::Stack, Layer::HardBin, 0, true).unwrap_or_default();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1].0, "fail");
    assert!(lines[1].1.ends_with("wafers"), "{}", lines[1].1);
}

#[test]
fn values_print_fixed_or_scientific() {
    assert_eq!(fmt_value(0.5), "0.50000");
    assert_eq!(fmt_value(0.0), "0.00000");
    assert_eq!(fmt_value(123456.0), "1.2346e5");
    assert_eq!(fmt_value(f32::NAN), "—");
}
