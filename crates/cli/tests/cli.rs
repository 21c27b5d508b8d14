//! The `waferscope` binary as a user runs it: output shapes and exit statuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn corpus(name: &str) -> PathBuf {
    ::corpus::path(&format!("stdf/{name}"))
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_waferscope"))
        .args(args)
        .output()
        .unwrap()
}

/// Run a command that must succeed and print JSON.
fn run_json(args: &[&str]) -> Value {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn info_json(path: &Path) -> (Value, i32) {
    let out = run(&["info", "--json", path.to_str().unwrap()]);
    let v = serde_json::from_slice(&out.stdout).expect("info --json prints JSON");
    (v, out.status.code().unwrap())
}

#[test]
fn info_json_has_the_documented_shape() {
    let (v, code) = info_json(&corpus("lot2.stdf.gz"));
    assert_eq!(code, 0);
    assert_eq!(v["format"], "stdf");
    assert_eq!(v["byte_order"], "big");
    assert_eq!(v["records_total"], 58020);
    assert_eq!(v["records"]["PTR"], 52403);
    let w = &v["wafers"][0];
    assert_eq!(w["id"], "GAL-LOT-02");
    assert_eq!(
        (w["parts"].as_u64(), w["dies"].as_u64()),
        (Some(1569), Some(1456))
    );
    assert_eq!(w["x_range"], serde_json::json!([4, 45]));
    assert_eq!(w["y_range"], serde_json::json!([-45, -3]));
    assert_eq!(w["hard_bins"]["1"], 1389);
    let y = w["yield"].as_f64().unwrap();
    assert!(y > 0.9 && y < 1.0, "{y}");
    assert_eq!(v["parts_without_wafer"], 0);
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[test]
fn a_final_test_file_has_parts_without_wafer() {
    let (v, code) = info_json(&corpus("rabbi.stdf"));
    assert_eq!(code, 0);
    assert_eq!(v["wafers"], serde_json::json!([]));
    assert_eq!(v["parts_without_wafer"], 400);
}

#[test]
fn a_truncated_file_prints_its_summary_and_exits_3() {
    let (v, code) = info_json(&corpus("STS_001SRAM_8435_-30c_Nov_10_23h05m08s.stdf"));
    assert_eq!(code, 3);
    assert_eq!(v["partial"], true);
    let w = v["warnings"][0].as_str().unwrap();
    assert!(w.contains("offset 2217") && w.contains("29285"), "{w}");
}

#[test]
fn an_unreadable_file_is_one_line_on_stderr_and_exit_2() {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    for path in [readme.to_str().unwrap(), "/no/such/file.stdf"] {
        let out = run(&["info", path]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(path) && err.contains("offset 0"), "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn export_csv_of_one_wafer_has_a_row_per_final_die() {
    let out = run(&[
        "export",
        corpus("a595.stdf").to_str().unwrap(),
        "--format",
        "csv",
        "--wafer",
        "03",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("wafer,x,y,hard_bin,soft_bin,verdict"),
        "{header}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 112);
    assert!(rows.iter().all(|r| r.starts_with("03,")));
    let cols = header.split(',').count();
    assert!(cols > 20, "parametric columns present: {cols}");
}

#[test]
fn export_json_is_valid_and_an_unknown_wafer_is_an_error() {
    let path = corpus("lot2.stdf.bz2");
    let out = run(&["export", path.to_str().unwrap(), "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dies"].as_array().unwrap().len(), 1456);
    assert_eq!(
        v["tests"].as_array().unwrap().len(),
        74,
        "tests with values"
    );
    let out = run(&["export", path.to_str().unwrap(), "--wafer", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GAL-LOT-02"));
}

#[test]
fn demo_writes_files_that_read_back_cleanly() {
    let dir = std::env::temp_dir().join(format!("waferscope-demo-{}", std::process::id()));
    let out = run(&["demo", "-o", dir.to_str().unwrap()]);
    assert!(out.status.success());
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let (v, code) = info_json(&e.unwrap().path());
        assert_eq!(code, 0);
        assert!(!v["wafers"].as_array().unwrap().is_empty());
        n += 1;
    }
    assert_eq!(n, 3);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn classify_json_gives_each_wafer_a_call_probabilities_and_hash() {
    // a595's wafers have 112 dies: too few for a pattern, so no label, and the reason.
    let v = run_json(&["classify", "--json", corpus("a595.stdf").to_str().unwrap()]);
    let wafers = v["wafers"].as_array().unwrap();
    assert_eq!(wafers.len(), 3);
    for w in wafers {
        assert_eq!(w["label"], Value::Null);
        assert_eq!(w["confidence"]["call"], "too_few_dies");
        assert_eq!(w["confidence"]["probability"], Value::Null);
        assert!(
            w["confidence"]["text"]
                .as_str()
                .unwrap()
                .starts_with("too few dies to classify (112;")
        );
        assert_eq!(w["probabilities"].as_object().unwrap().len(), 9);
    }
    // lot2's wafer is large enough: the label is the top class, with its calibrated
    // probability, or "uncertain" with the runner-up when the two are close.
    let v = run_json(&[
        "classify",
        "--json",
        corpus("lot2.stdf.gz").to_str().unwrap(),
    ]);
    for w in v["wafers"].as_array().unwrap() {
        let probs = w["probabilities"].as_object().unwrap();
        assert_eq!(probs.len(), 9);
        let sum: f64 = probs.values().map(|p| p.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-4);
        let best = probs
            .iter()
            .max_by(|a, b| a.1.as_f64().unwrap().total_cmp(&b.1.as_f64().unwrap()))
            .unwrap();
        assert_eq!(w["label"], best.0.as_str());
        let c = &w["confidence"];
        assert_eq!(c["label"], best.0.as_str());
        assert_eq!(c["probability"], *best.1);
        match c["call"].as_str().unwrap() {
            "label" => assert_eq!(c["alternative"], Value::Null),
            "uncertain" => assert!(c["text"].as_str().unwrap().starts_with("uncertain: ")),
            other => panic!("lot2 is a wafer to classify, not {other}"),
        }
        assert_eq!(w["feature_hash"].as_str().unwrap().len(), 64);
    }
    assert_eq!(v["feature_spec_version"], 1);
}

#[test]
fn eval_wm811k_json_has_the_documented_shape() {
    let dev = corpus::path("wm811k/wm811k-dev.json.gz");
    let v = run_json(&["eval-wm811k", "--json", dev.to_str().unwrap()]);
    assert_eq!(v["n"], 97);
    let acc = v["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc));
    assert!(v["macro_f1"].as_f64().unwrap() <= 1.0);
    assert_eq!(v["per_class"]["Edge-Ring"]["support"], 34);
    let confusion_total: u64 = v["confusion"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|r| r.as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(confusion_total, 97);
    // Calibration and calls.
    let ece = v["calibration"]["ece"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&ece));
    assert_eq!(v["calibration"]["bins"].as_array().unwrap().len(), 10);
    let calls: u64 = v["calls"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(calls, 97);
    // --plot writes the reliability diagram.
    let svg =
        std::env::temp_dir().join(format!("waferscope-reliability-{}.svg", std::process::id()));
    let out = run(&[
        "eval-wm811k",
        dev.to_str().unwrap(),
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&svg).unwrap();
    std::fs::remove_file(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains(&format!("ECE {ece:.3}")));
    // A file that is not a map list is exit 2 with one line on stderr.
    let out = run(&["eval-wm811k", corpus("a595.stdf").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

/// `stats --json` against the dies `export` writes, recomputed here (mean, sample sigma, count,
/// fails, min, max) for every test of a multi-wafer file and a multi-site one.
#[test]
fn stats_agree_with_the_exported_dies() {
    for name in ["a595.stdf", "lot2.stdf.gz"] {
        let path = corpus(name);
        let path = path.to_str().unwrap();
        let stats = run_json(&["stats", "--json", path]);
        let csv = run(&["export", path, "--format", "csv"]);
        let csv = String::from_utf8(csv.stdout).unwrap();
        let mut lines = csv.lines();
        let head: Vec<&str> = lines.next().unwrap().split(',').collect();
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        let tests = stats["tests"].as_array().unwrap();
        assert!(!tests.is_empty(), "{name}: parametric tests");
        for t in tests {
            let number = t["number"].as_u64().unwrap();
            let col = head
                .iter()
                .position(|h| h.starts_with(&format!("{number}:")))
                .unwrap_or_else(|| panic!("{name}: test {number} exported"));
            let v: Vec<f64> = rows
                .iter()
                .filter_map(|r| r.get(col)?.parse::<f64>().ok())
                .filter(|v| !v.is_nan())
                .collect();
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let close = |field: &str, want: f64| {
                let got = t[field].as_f64().unwrap_or(f64::NAN);
                let tol = 1e-5 * want.abs().max(1e-3);
                assert!(
                    (got - want).abs() <= tol,
                    "{name} test {number} {field}: {got} vs {want}"
                );
            };
            assert_eq!(
                t["count"].as_u64(),
                Some(v.len() as u64),
                "{name} test {number}"
            );
            close("mean", mean);
            close("min", v.iter().copied().fold(f64::INFINITY, f64::min));
            close("max", v.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            if v.len() > 1 {
                let ss: f64 = v.iter().map(|x| (x - mean) * (x - mean)).sum();
                close("sigma", (ss / (n - 1.0)).sqrt());
            }
            let (lo, hi) = (t["low_limit"].as_f64(), t["high_limit"].as_f64());
            let fails = v
                .iter()
                .filter(|&&x| lo.is_some_and(|l| x < l) || hi.is_some_and(|h| x > h))
                .count();
            assert_eq!(
                t["fails"].as_u64(),
                Some(fails as u64),
                "{name} test {number}"
            );
            if lo.is_none() && hi.is_none() {
                assert!(
                    t["cpk"].is_null(),
                    "{name} test {number}: no limits, no Cpk"
                );
            }
        }
    }
    // One test of one wafer; an unknown wafer is an error that says so.
    let one = run_json(&[
        "stats",
        "--json",
        "--test",
        "1000",
        "--wafer",
        "GAL-LOT-02",
        corpus("lot2.stdf.gz").to_str().unwrap(),
    ]);
    assert_eq!(one["tests"].as_array().map(Vec::len), Some(1));
    let bad = run(&[
        "stats",
        "--wafer",
        "nope",
        corpus("lot2.stdf.gz").to_str().unwrap(),
    ]);
    assert_ne!(bad.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no wafer \"nope\""));
}

/// The exported dies of `path` (one wafer's with `wafer`): header and rows.
fn exported(path: &str, wafer: Option<&str>) -> (Vec<String>, Vec<Vec<String>>) {
    let mut args = vec!["export", path, "--format", "csv"];
    if let Some(w) = wafer {
        args.extend(["--wafer", w]);
    }
    let csv = String::from_utf8(run(&args).stdout).unwrap();
    let mut lines = csv.lines();
    let split = |l: &str| l.split(',').map(str::to_string).collect::<Vec<_>>();
    let head = split(lines.next().unwrap());
    (head, lines.map(split).collect())
}

/// `sites`, `zones` and `stats --rect` against the dies `export` writes, counted here.
#[test]
fn sites_zones_a_rectangle_and_a_lasso_agree_with_the_exported_dies() {
    // Sites, on the 8-site Flex file: dies, passes and one test's mean per site.
    let path = corpus("Teradyne_Flex_3.stdf.xz");
    let path = path.to_str().unwrap();
    let (head, rows) = exported(path, None);
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let (site, verdict) = (col("site"), col("verdict"));
    // The test that fails most: where site-to-site differences matter.
    let all = run_json(&["stats", "--json", path]);
    let number = all["tests"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|t| t["fails"].as_u64())
        .unwrap()["number"]
        .to_string();
    let test = head
        .iter()
        .position(|h| h.starts_with(&format!("{number}:")))
        .unwrap();
    let sites = run_json(&["sites", "--json", "--test", &number, path]);
    let sites = sites["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 8);
    for s in sites {
        let n = s["site"].as_u64().unwrap().to_string();
        let mine: Vec<&Vec<String>> = rows.iter().filter(|r| r[site] == n).collect();
        assert_eq!(s["dies"].as_u64(), Some(mine.len() as u64), "site {n}");
        let pass = mine.iter().filter(|r| r[verdict] == "pass").count();
        assert_eq!(s["pass"].as_u64(), Some(pass as u64), "site {n}");
        // Clamped (infinite) results stay out of the mean, as the stats crate documents.
        let v: Vec<f64> = mine
            .iter()
            .filter_map(|r| r[test].parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .collect();
        let got = s["test"]["mean"].as_f64();
        if v.is_empty() {
            assert_eq!(got, None, "site {n}: no finite result, no mean");
            continue;
        }
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let got = got.unwrap();
        assert!(
            (got - mean).abs() <= 1e-6 * mean.abs().max(1.0),
            "site {n}: {got} vs {mean}"
        );
    }

    // Zones: every die in one ring or excluded, and in one quadrant unless excluded.
    let lot2 = corpus("lot2.stdf.gz");
    let lot2 = lot2.to_str().unwrap();
    let z = run_json(&["zones", "--json", "--rings", "4", "--edge", "1", lot2]);
    let z = &z["wafers"][0]["zones"];
    let sum = |k: &str| -> u64 {
        z[k].as_array()
            .unwrap()
            .iter()
            .map(|t| t["dies"].as_u64().unwrap())
            .sum()
    };
    let excluded = z["excluded"]["dies"].as_u64().unwrap();
    assert_eq!(sum("rings") + excluded, 1456);
    assert_eq!(sum("quadrants") + excluded, 1456);
    // The first pass has the same dies and lower yield: lot2's retests recovered dies.
    let first = run_json(&["zones", "--json", "--first-pass", "--rings", "1", lot2]);
    let last = run_json(&["zones", "--json", "--rings", "1", lot2]);
    let y = |v: &Value| {
        v["wafers"][0]["zones"]["rings"][0]["yield"]
            .as_f64()
            .unwrap()
    };
    assert!(y(&first) < y(&last));
    let info = run_json(&["info", "--json", lot2]);
    let r = &info["wafers"][0]["retests"];
    assert_eq!(
        r["retested"].as_u64(),
        Some(113),
        "113 superseded PRRs, one per die"
    );
    assert!(r["changed"].as_u64().unwrap() > 0);

    // A rectangle and a lasso: their dies and yield, counted from the export.
    let (head, rows) = exported(lot2, Some("GAL-LOT-02"));
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let (x, yc, verdict) = (col("x"), col("y"), col("verdict"));
    let selected = |region: &str, inside: &dyn Fn(i32, i32) -> bool| {
        let sel = run_json(&["stats", "--json", "--wafer", "GAL-LOT-02", region, lot2]);
        let inside: Vec<&Vec<String>> = rows
            .iter()
            .filter(|r| inside(r[x].parse().unwrap(), r[yc].parse().unwrap()))
            .collect();
        assert_eq!(sel["selection"]["dies"].as_u64(), Some(inside.len() as u64));
        let pass = inside.iter().filter(|r| r[verdict] == "pass").count();
        assert_eq!(sel["selection"]["pass"].as_u64(), Some(pass as u64));
        sel
    };
    let sel = selected("--rect=20:10,-15:-30", &|a, b| {
        (10..=20).contains(&a) && (-30..=-15).contains(&b)
    });
    assert!(!sel["tests"].as_array().unwrap().is_empty());
    let bad = run(&["stats", "--rect", "1:2,3:4", lot2]);
    assert_ne!(bad.status.code(), Some(0), "--rect needs --wafer");
    // A diamond round (15, -22), its corners half a die off the lattice so no centre lies on an
    // edge: inside means |x - 15| + |y + 22| < 6.5.
    let sel = selected("--lasso=8.5,-22;15,-15.5;21.5,-22;15,-28.5", &|a, b| {
        (a - 15).abs() + (b + 22).abs() < 7
    });
    assert_eq!(sel["lasso"].as_array().map(Vec::len), Some(4));
}
