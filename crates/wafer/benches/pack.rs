//! How long the page's thread spends turning a packed file (`wafer::pack`, what the parsing
//! worker hands over) back into the model, on the two files of issue 15's speed goal:
//!
//! - `lot25`: the analysis benchmark's lot, 25 wafers of about 40,000 dies
//!   (`wafer::demo::big_lot_file(25, 226)`, read once with `wafer::read`);
//! - `flex3`: `Teradyne_Flex_3.stdf.xz`, 1,352 parametric tests per die.
//!
//! Each is timed as `decode` (format 4: raw columns) against `decode_v3` (format 3, the whole
//! model through postcard, which the page used before), in the same process. Prints each median
//! and the ratio.
//! Run: `cargo bench -p wafer --bench pack` (or `cargo xtask bench`).

use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::Criterion;

/// Format 3 as it was written: the model in postcard, then each wafer's first passes and origin.
fn v3(f: &wafer::TestFile) -> Vec<u8> {
    let mut out = b"WSPK".to_vec();
    out.extend_from_slice(&3u16.to_le_bytes());
    let out = postcard::to_extend(f, out).unwrap();
    let extra: Vec<(&[wafer::FirstPass], &str)> = f
        .wafers
        .iter()
        .map(|w| (&w.first_pass[..], w.origin.as_str()))
        .collect();
    postcard::to_extend(&extra, out).unwrap()
}

fn files() -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let lot = wafer::demo::big_lot_file(25, 226);
    let lot = wafer::read(&lot.bytes).expect("the demo lot reads");
    let raw = std::fs::read(corpus::path("stdf/Teradyne_Flex_3.stdf.xz")).unwrap();
    let (_, mut r) = wafer::decompress::open(&raw[..]).unwrap();
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes).unwrap();
    let flex = wafer::read(&bytes).expect("Flex_3 reads");
    vec![
        ("lot25", wafer::pack::encode(&lot), v3(&lot)),
        ("flex3", wafer::pack::encode(&flex), v3(&flex)),
    ]
}

fn main() {
    let files = files();
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (name, packed, old) in &files {
        assert_eq!(
            format!("{:?}", wafer::pack::decode(packed).unwrap()),
            format!("{:?}", wafer::pack::decode(old).unwrap())
        );
        let mut g = c.benchmark_group(format!("pack_{name}"));
        g.bench_function("decode", |b| {
            b.iter(|| wafer::pack::decode(black_box(packed)).unwrap())
        });
        g.bench_function("decode_v3", |b| {
            b.iter(|| wafer::pack::decode(black_box(old)).unwrap())
        });
        g.finish();
    }
    c.final_summary();

    let median = |group: &str, name: &str| -> Option<f64> {
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        let p = dir
            .join("criterion")
            .join(group)
            .join(name)
            .join("new/estimates.json");
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
        v["median"]["point_estimate"].as_f64().map(|ns| ns / 1e9)
    };
    println!("\nunpacking (median of criterion samples):");
    for (name, packed, old) in &files {
        let group = format!("pack_{name}");
        if let (Some(d), Some(o)) = (median(&group, "decode"), median(&group, "decode_v3")) {
            println!(
                "  {name:6} format 4: {:5.1} MB, {:7.2} ms; format 3: {:5.1} MB, {:7.2} ms \
                 ({:.1}x faster)",
                packed.len() as f64 / 1e6,
                d * 1e3,
                old.len() as f64 / 1e6,
                o * 1e3,
                o / d
            );
        }
    }
}
