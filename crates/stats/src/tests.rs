//! Against values computed independently: Python 3's `statistics` module (mean, stdev) and
//! numpy's default percentile rule written out by hand, on the same fixture:
//!
//! ```python
//! a = [0.91, 1.02, 0.98, 1.10, 0.95, 1.07, 1.01, 0.99, 1.04, 0.93, 1.25]
//! m, sd = statistics.mean(a), statistics.stdev(a)
//! def pct(v, p): v = sorted(v); h = (len(v) - 1) * p; lo = floor(h); hi = min(lo + 1, len(v) - 1)
//!                return v[lo] + (h - lo) * (v[hi] - v[lo])
//! (1.2 - 0.9) / (6 * sd), min((1.2 - m) / (3 * sd), (m - 0.9) / (3 * sd))
//! ```

use super::*;

const A: [f64; 11] = [
    0.91, 1.02, 0.98, 1.10, 0.95, 1.07, 1.01, 0.99, 1.04, 0.93, 1.25,
];
const MEAN: f64 = 1.0227272727272727;
const SD: f64 = 0.09477245476307018;

fn close(got: Option<f64>, want: f64) {
    let got = got.expect("a value");
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{got} != {want}"
    );
}

fn both() -> Limits {
    Limits {
        low: Some(0.9),
        high: Some(1.2),
    }
}

#[test]
fn two_limits_match_the_independent_values() {
    let s = summarize(A, both());
    assert_eq!((s.count, s.fails), (11, 1), "1.25 is over 1.2");
    close(s.mean, MEAN);
    close(s.sigma, SD);
    close(s.min, 0.91);
    close(s.max, 1.25);
    close(s.p05, 0.92);
    close(s.p50, 1.01);
    close(s.p95, 1.175);
    close(s.cp, 0.5275794546527184);
    close(s.cpk, 0.43165591744313314);
}

#[test]
fn one_limit_gives_a_one_sided_cpk_and_no_cp() {
    let high = summarize(
        A,
        Limits {
            low: None,
            high: Some(1.2),
        },
    );
    assert_eq!(high.cp, None);
    close(high.cpk, 0.6235029918623035);
    let low = summarize(
        A,
        Limits {
            low: Some(0.9),
            high: None,
        },
    );
    close(low.cpk, 0.43165591744313314);
    assert_eq!(low.fails, 0);
}

#[test]
fn no_limits_no_capability_and_no_fails() {
    let s = summarize(A, Limits::default());
    assert_eq!((s.fails, s.cp, s.cpk), (0, None, None));
    close(s.mean, MEAN);
}

#[test]
fn missing_results_are_not_counted_and_clamped_ones_count_but_stay_out_of_the_moments() {
    let with = A
        .iter()
        .copied()
        .chain([f64::NAN, f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
    let s = summarize(with, both());
    assert_eq!(
        s.count, 13,
        "11 values and 2 clamped ones; NaN is no result"
    );
    assert_eq!(s.fails, 3, "1.25 and both clamped results");
    close(s.mean, MEAN);
    close(s.sigma, SD);
    close(s.max, 1.25);
}

#[test]
fn on_a_limit_passes() {
    let s = summarize([0.9, 1.2, 1.0], both());
    assert_eq!(s.fails, 0);
}

#[test]
fn undefined_is_none_never_nan() {
    let empty = summarize([], both());
    assert_eq!(empty, Summary::default());
    let nan_only = summarize([f64::NAN], both());
    assert_eq!(nan_only.count, 0);
    let one = summarize([1.0], both());
    assert_eq!(
        (one.count, one.sigma, one.cp, one.cpk),
        (1, None, None, None)
    );
    close(one.p05, 1.0);
    close(one.p95, 1.0);
    // No spread: sigma is 0, so no capability index.
    let flat = summarize([1.0, 1.0, 1.0], both());
    assert_eq!((flat.sigma, flat.cp, flat.cpk), (Some(0.0), None, None));
    let inf_only = summarize([f64::INFINITY], both());
    assert_eq!(
        (inf_only.count, inf_only.fails, inf_only.mean),
        (1, 1, None)
    );
    // And in JSON, every undefined field is null.
    let json = serde_json::to_value(&one).expect("serialises");
    assert!(json["sigma"].is_null() && json["cpk"].is_null());
}

/// A two-wafer file with loose parts, test 100 (both limits) on every table and test 200 (no
/// limits) on the second wafer only.
fn file() -> TestFile {
    let mut f = TestFile::default();
    let test = |number: u32, lo: Option<f32>, hi: Option<f32>| wafer::TestInfo {
        number,
        name: format!("T{number}"),
        units: "V".into(),
        kind: TestKind::Parametric,
        lo_limit: lo,
        hi_limit: hi,
        lo_spec: None,
        hi_spec: None,
        res_scale: None,
        executions: 0,
        failures: 0,
    };
    f.tests.tests = vec![test(100, Some(0.9), Some(1.2)), test(200, None, None)];
    let table = |values: &[(u32, &[f32])]| {
        let n = values[0].1.len();
        let mut d = DieTable::at((0..n as i16).map(|i| (i, 0)));
        for (t, v) in values {
            let mut c = wafer::Column::new(*t);
            for (row, x) in v.iter().enumerate() {
                c.set(row as u32, *x);
            }
            d.columns.push(c);
        }
        d
    };
    let wafer = |id: &str, dies: DieTable| wafer::Wafer {
        id: id.into(),
        dies,
        ..Default::default()
    };
    f.wafers = vec![
        wafer("W1", table(&[(0, &[1.0, 1.1, f32::NAN])])),
        wafer("W2", table(&[(0, &[0.95, 1.3]), (1, &[5.0, 7.0])])),
    ];
    f.loose_parts = table(&[(0, &[1.05])]);
    f
}

#[test]
fn a_file_is_summarised_per_wafer_and_over_all_its_dies() {
    let f = file();
    let all = of_file(&f, None, None).expect("stats");
    assert_eq!(all.iter().map(|t| t.number).collect::<Vec<_>>(), [100, 200]);
    // Test 100 over every die (the loose part included): 1.0, 1.1, 0.95, 1.3, 1.05.
    let t = &all[0];
    assert_eq!((t.summary.count, t.summary.fails), (5, 1));
    assert_eq!(
        (t.low_limit, t.high_limit),
        (Some(0.9), Some(1.2)),
        "as the tester wrote them"
    );
    let want = [1.0f32, 1.1, 0.95, 1.3, 1.05].map(f64::from);
    close(t.summary.mean, want.iter().sum::<f64>() / 5.0);
    let w2 = of_file(&f, Some("W2"), Some(200)).expect("stats");
    assert_eq!(w2.len(), 1);
    close(w2[0].summary.mean, 6.0);
    close(w2[0].summary.sigma, 2f64.sqrt());
    assert_eq!(w2[0].summary.cpk, None, "no limits");
    // Test 200 never ran on W1.
    assert_eq!(
        of_file(&f, Some("W1"), Some(200)),
        Err(StatsError::NoSuchTest(200))
    );
    assert_eq!(
        of_file(&f, Some("W9"), None),
        Err(StatsError::NoSuchWafer("W9".into()))
    );
}

#[test]
fn a_result_equal_to_its_f32_limit_passes() {
    let mut f = file();
    // 1.2f32 is 1.2000000476837158: over the decimal 1.2, equal to the limit as stored.
    f.wafers[0].dies.columns[0].set(2, 1.2);
    let w1 = of_file(&f, Some("W1"), Some(100)).expect("stats");
    assert_eq!((w1[0].summary.count, w1[0].summary.fails), (3, 0));
}

#[test]
fn every_wafer_then_the_whole_file_and_back_from_json() {
    let f = file();
    let all = scopes(&f);
    let ids: Vec<Option<&str>> = all.iter().map(|s| s.wafer.as_deref()).collect();
    assert_eq!(ids, [Some("W1"), Some("W2"), None]);
    assert_eq!(all[2].tests, of_file(&f, None, None).expect("stats"));
    let json = serde_json::to_string(&all).expect("serialises");
    let back: Vec<ScopeStats> = serde_json::from_str(&json).expect("reads back");
    assert_eq!(
        back, all,
        "the page reads what the worker wrote, bit for bit"
    );
}

#[test]
fn box_stats_are_plotters_quartiles_and_come_with_the_scopes() {
    // plotters' documented example: Quartiles::new(&[7, 15, 36, 39, 40, 41]) has quartiles
    // 20.25, 37.5 and 39.75 (linear interpolation between ranks).
    let b = BoxStats::of([41.0, 7.0, 36.0, f64::NAN, 15.0, 40.0, 39.0, f64::INFINITY]).unwrap();
    assert_eq!(
        (b.min, b.q1, b.median, b.q3, b.max),
        (7.0, 20.25, 37.5, 39.75, 41.0)
    );
    assert_eq!(BoxStats::of([f64::NAN]), None);
    let f = file();
    assert!(f.wafers.len() > 1);
    for s in scopes(&f) {
        // Per wafer only: the page draws boxes per wafer.
        if s.wafer.is_none() {
            assert!(s.boxes.is_empty());
            continue;
        }
        assert_eq!(s.boxes.len(), s.tests.len());
        for (t, b) in s.tests.iter().zip(&s.boxes) {
            // The box's extremes and median are the summary's.
            let b = b.expect("every test here has finite results");
            assert_eq!(
                (Some(b.min), Some(b.median), Some(b.max)),
                (t.summary.min, t.summary.p50, t.summary.max)
            );
        }
    }
}
