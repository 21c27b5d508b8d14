//! A hand-made file: wafer W1 of six dies in a row on two probe sites, test 100 (high limit 5.5)
//! on every die, die 2 failed first and passed on retest; wafer W2 of two dies. The expected
//! figures are counted by hand below.

use super::*;
use wafer::{FirstPass, TestKind, Verdict};

fn held() -> Held {
    let mut f = TestFile::default();
    f.tests.tests = vec![wafer::TestInfo {
        number: 100,
        name: "T100".into(),
        units: "V".into(),
        kind: TestKind::Parametric,
        lo_limit: None,
        hi_limit: Some(5.5),
        lo_spec: None,
        hi_spec: None,
        res_scale: None,
        executions: 0,
        failures: 0,
    }];
    let mut d = DieTable::at((0..6).map(|i| (i, 0)));
    d.site = vec![1, 2, 1, 2, 1, 2];
    d.hard_bin = vec![1, 1, 1, 1, 1, 5];
    d.verdict = [1, 1, 1, 1, 1, 0]
        .map(|p| if p == 1 { Verdict::Pass } else { Verdict::Fail })
        .to_vec();
    let mut c = wafer::Column::new(0);
    for (r, v) in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0].into_iter().enumerate() {
        c.set(r as u32, v);
    }
    d.columns.push(c);
    let w1 = wafer::Wafer {
        id: "W1".into(),
        dies: d,
        first_pass: vec![FirstPass {
            row: 2,
            hard_bin: 7,
            soft_bin: 7,
            verdict: Verdict::Fail,
        }],
        ..Default::default()
    };
    let mut d2 = DieTable::at([(0, 0), (1, 0)]);
    d2.hard_bin = vec![1, 1];
    d2.verdict = vec![Verdict::Pass; 2];
    let w2 = wafer::Wafer {
        id: "W2".into(),
        dies: d2,
        ..Default::default()
    };
    f.wafers = vec![w1, w2];
    Held::new(f)
}

/// The answer, after a trip through JSON both ways, as the page gets it.
fn asked(h: &Held, ask: Ask) -> Answer {
    let ask: Ask = serde_json::from_str(&serde_json::to_string(&ask).unwrap()).unwrap();
    let a = h.answer(&ask).expect("an answer");
    serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap()
}

#[test]
fn a_selection_counts_its_dies_and_the_test_inside_against_the_rest() {
    let h = held();
    let region = Region::Rect(place::Rect {
        x: [0, 2],
        y: [0, 0],
    });
    let a = asked(
        &h,
        Ask::Selection {
            wafer: 0,
            first_pass: false,
            region: region.clone(),
            test: Some(0),
        },
    );
    let Answer::Selection(s) = a else {
        panic!("{a:?}")
    };
    assert_eq!((s.selection.dies, s.selection.pass), (3, 3));
    assert_eq!((s.rest.dies, s.rest.fail), (3, 1));
    let [inside, outside] = s.test.clone().expect("the test asked for");
    // Inside 1, 2, 3; outside 4, 5, 6 (6 over 5.5).
    assert_eq!((inside.count, inside.fails, inside.mean), (3, 0, Some(2.0)));
    assert_eq!(
        (outside.count, outside.fails, outside.mean),
        (3, 1, Some(5.0))
    );
    assert_eq!(inside.sigma, Some(1.0));
    // The first pass: die 2 failed first, in bin 7.
    let Answer::Selection(first) = asked(
        &h,
        Ask::Selection {
            wafer: 0,
            first_pass: true,
            region,
            test: None,
        },
    ) else {
        panic!()
    };
    assert_eq!((first.selection.pass, first.selection.fail), (2, 1));
    assert_eq!(first.selection.bins.get(&7), Some(&1));
    assert_eq!(first.test, None);
}

#[test]
fn each_answer_is_what_the_cli_s_function_counts() {
    let h = held();
    let f = &h.file;
    let w = &f.wafers[0];
    let first = w.first_pass_dies();
    let spec = ZoneSpec::default();
    assert_eq!(
        asked(
            &h,
            Ask::Zones {
                wafer: 0,
                first_pass: true,
                spec
            }
        ),
        Answer::Zones(place::zones(w, spec, &first))
    );
    let limits = crate::limits(&f.tests.tests[0]);
    assert_eq!(
        asked(
            &h,
            Ask::Sites {
                wafer: None,
                first_pass: false,
                test: Some(0)
            }
        ),
        Answer::Sites(place::sites(
            &[&w.dies, &f.wafers[1].dies],
            Some((0, limits))
        ))
    );
    let rs = ReticleSpec {
        width: 2,
        height: 1,
        offset: [0, 0],
    };
    assert_eq!(
        asked(
            &h,
            Ask::Reticle {
                wafer: 0,
                first_pass: false,
                spec: rs
            }
        ),
        Answer::Reticle(place::reticle(&w.dies, rs))
    );
    let Answer::Retests(r) = asked(&h, Ask::Retests { wafer: 0 }) else {
        panic!()
    };
    assert_eq!((r.retested, r.changed, r.recovered, r.lost), (1, 1, 1, 0));
    assert_eq!(
        asked(&h, Ask::Pareto { wafer: 0 }),
        Answer::Pareto(vec![(5, 1)])
    );
    // Head 1: site 1 holds 1, 3, 5 and site 2 holds 2, 4, 6.
    let Answer::Distribution(dist) = asked(&h, Ask::Distribution { wafer: 0, test: 0 }) else {
        panic!()
    };
    let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    assert_eq!(
        Some(dist.bars),
        crate::histogram::bins(&values, None, Some(5.5))
    );
    let b = dist.sites;
    assert_eq!(b.len(), 2);
    assert_eq!((b[0].0, b[0].1.median, b[1].1.median), ((1, 1), 3.0, 4.0));
    assert_eq!((b[1].1.min, b[1].1.max), (2.0, 6.0));
}

#[test]
fn asks_about_what_the_file_does_not_have_are_errors() {
    let h = held();
    let zones = Ask::Zones {
        wafer: 2,
        first_pass: false,
        spec: ZoneSpec::default(),
    };
    assert_eq!(h.answer(&zones), Err(AskError::NoWafer(2)));
    let sites = Ask::Sites {
        wafer: Some(0),
        first_pass: false,
        test: Some(1),
    };
    assert_eq!(h.answer(&sites), Err(AskError::NoTest(1)));
    assert_eq!(
        h.answer(&Ask::Distribution { wafer: 1, test: 9 }),
        Err(AskError::NoTest(9))
    );
    assert!(serde_json::from_str::<Ask>(r#"{"ask":"zones","wafer":-1}"#).is_err());
}

#[test]
fn the_test_list_is_the_scope_s_statistics_sorted_and_cut() {
    let h = held();
    let Answer::Tests(list) = asked(
        &h,
        Ask::Tests {
            wafer: Some(0),
            order: TestOrder::Fails,
            first: 10,
        },
    ) else {
        panic!()
    };
    assert_eq!(list.total, 1);
    assert_eq!(
        list.tests,
        crate::of_file(&h.file, Some("W1"), None).unwrap()
    );
    // W2 has no results: an empty list, not an error; the file's list is every wafer's.
    let tests = |wafer, first| match asked(
        &h,
        Ask::Tests {
            wafer,
            order: TestOrder::Cpk,
            first,
        },
    ) {
        Answer::Tests(l) => l,
        a => panic!("{a:?}"),
    };
    assert_eq!(
        (tests(Some(1), 10).total, tests(Some(1), 10).tests.len()),
        (0, 0)
    );
    assert_eq!(
        tests(None, 10).tests,
        crate::of_file(&h.file, None, None).unwrap()
    );
    assert_eq!((tests(None, 0).total, tests(None, 0).tests.len()), (1, 0));
    assert_eq!(
        h.answer(&Ask::Tests {
            wafer: Some(5),
            order: TestOrder::Number,
            first: 1
        }),
        Err(AskError::NoWafer(5))
    );
}

#[test]
fn tests_sort_by_fails_by_cpk_with_the_undefined_last_and_by_number() {
    let t = |number: u32, fails: usize, cpk: Option<f64>| TestStats {
        number,
        name: String::new(),
        units: String::new(),
        low_limit: None,
        high_limit: None,
        summary: Summary {
            fails,
            cpk,
            ..Summary::default()
        },
    };
    let all = [t(3, 1, None), t(1, 5, Some(2.0)), t(2, 5, Some(0.5))];
    let numbers = |order, first| {
        sorted(&all, order, first)
            .iter()
            .map(|t| t.number)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        numbers(TestOrder::Fails, 9),
        [1, 2, 3],
        "ties keep catalogue order"
    );
    assert_eq!(numbers(TestOrder::Cpk, 9), [2, 1, 3]);
    assert_eq!(numbers(TestOrder::Number, 2), [1, 2]);
}

#[test]
fn box_plots_per_wafer_come_from_the_scopes_statistics() {
    let h = held();
    // W1 has test 100's results; W2 none, so no box.
    let Answer::WaferBoxes(b) = asked(&h, Ask::WaferBoxes { test: 0 }) else {
        panic!()
    };
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].0, "W1");
    assert_eq!((b[0].1.min, b[0].1.median, b[0].1.max), (1.0, 3.5, 6.0));
}
