//! Retests: the last PRR at a die is its final result, the first attempt is kept whole (bins,
//! verdict and results) for the first-pass map, and a lot keeps it per file.

mod built;

use built::{part, ptr, read};
use wafer::Verdict;
use wafer::stdf::Le;
use wafer::stdf::write::StdfWriter;

#[test]
fn retests_keep_the_last_result_and_clear_results_it_did_not_repeat() {
    let mut w = StdfWriter::<Le>::new();
    w.wir(1, 0, "W");
    w.ptr(&ptr(1, 1, 1.0));
    w.ptr(&ptr(2, 1, 9.0));
    w.prr(&part(1, 5, 5, 3));
    w.ptr(&ptr(1, 1, 1.5));
    w.prr(&part(1, 5, 5, 1));
    w.prr(&part(1, 6, 5, 1));
    let f = read(w);
    let wf = &f.wafers[0];
    assert_eq!((wf.parts, wf.dies.len(), wf.superseded), (3, 2, 1));
    assert_eq!(wf.dies.hard_bin[0], 1);
    assert_eq!(wf.dies.attempts[0], 2);
    assert_eq!(wf.dies.verdict[0], Verdict::Pass);
    assert_eq!(wf.dies.value(0, 0), 1.5);
    assert!(
        wf.dies.value(1, 0).is_nan(),
        "the retest did not run test 2"
    );
    assert_eq!(
        wf.part_hard_bins.get(&3),
        Some(&1),
        "histogram counts every PRR"
    );
    assert_eq!(wf.yield_fraction(), Some(1.0));
    // The first pass is the first attempt whole: its bin and both of its results.
    let first = wf.first_pass_dies();
    assert_eq!((first.hard_bin[0], first.verdict[0]), (3, Verdict::Fail));
    assert_eq!((first.value(0, 0), first.value(1, 0)), (1.0, 9.0));
    // A die tested once is the same in both.
    assert_eq!(first.hard_bin[1], 1);
    assert!(first.value(0, 1).is_nan());
}

#[test]
fn the_first_pass_has_no_result_for_a_test_only_the_retest_ran() {
    let mut w = StdfWriter::<Le>::new();
    w.wir(1, 0, "W");
    w.ptr(&ptr(1, 1, 2.0));
    w.prr(&part(1, 0, 0, 1));
    w.ptr(&ptr(1, 1, 3.0));
    w.prr(&part(1, 5, 5, 3));
    // Retested twice: the first pass is the first attempt, not the second.
    w.ptr(&ptr(1, 1, 4.0));
    w.ptr(&ptr(2, 1, 7.0));
    w.prr(&part(1, 5, 5, 2));
    w.ptr(&ptr(1, 1, 5.0));
    w.ptr(&ptr(2, 1, 8.0));
    w.prr(&part(1, 5, 5, 1));
    let f = read(w);
    let wf = &f.wafers[0];
    assert_eq!((wf.dies.value(0, 1), wf.dies.value(1, 1)), (5.0, 8.0));
    let first = wf.first_pass_dies();
    assert_eq!(first.hard_bin[1], 3);
    assert_eq!(first.value(0, 1), 3.0);
    assert!(
        first.value(1, 1).is_nan(),
        "the first attempt did not run test 2"
    );
    assert_eq!(first.value(0, 0), 2.0);
}

#[test]
fn a_lot_keeps_each_files_first_results_under_the_merged_tests() {
    // The second file defines its tests in another order: its columns and its first results
    // move to the merged catalogue's indices alike.
    let file = |first: [(u32, f32); 2], last: [(u32, f32); 2]| {
        let mut w = StdfWriter::<Le>::new();
        w.wir(1, 0, "W");
        first.iter().for_each(|&(t, v)| w.ptr(&ptr(t, 1, v)));
        w.prr(&part(1, 5, 5, 3));
        last.iter().for_each(|&(t, v)| w.ptr(&ptr(t, 1, v)));
        w.prr(&part(1, 5, 5, 1));
        read(w)
    };
    let a = file([(10, 1.0), (20, 2.0)], [(10, 1.5), (20, 2.5)]);
    let b = file([(20, 7.0), (10, 6.0)], [(20, 7.5), (10, 6.5)]);
    let lot = wafer::lot::merge(vec![("a".into(), a), ("b".into(), b)]);
    let t10 = lot.tests.find(10).unwrap();
    let t20 = lot.tests.find(20).unwrap();
    for (w, want_first, want_last) in [
        (&lot.wafers[0], (1.0, 2.0), (1.5, 2.5)),
        (&lot.wafers[1], (6.0, 7.0), (6.5, 7.5)),
    ] {
        let first = w.first_pass_dies();
        assert_eq!((w.dies.value(t10, 0), w.dies.value(t20, 0)), want_last);
        assert_eq!(
            (first.value(t10, 0), first.value(t20, 0)),
            want_first,
            "{}",
            w.origin
        );
    }
    // And through packing, as the page and the edge get it.
    let back = wafer::pack::decode(&wafer::pack::encode(&lot)).unwrap();
    let first = back.wafers[1].first_pass_dies();
    assert_eq!((first.value(t10, 0), first.value(t20, 0)), (6.0, 7.0));
}
