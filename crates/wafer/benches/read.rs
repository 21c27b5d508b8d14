//! Reader throughput on the performance workload (`Teradyne_Flex_3.stdf.xz`, 142 MB raw,
//! 3.48 M records), decompressed once into memory before timing:
//!
//! - `waferscope_model`: `wafer::read`, the full decode into the columnar model;
//! - `waferscope_scan`: the record scanner alone (headers only), the floor;
//! - `rust_stdf_records`: rust-stdf iterating every record of the same bytes (the baseline).
//!
//! After criterion runs, prints each median as MB/s and the ratio against rust-stdf.
//! Run: `cargo bench -p wafer --bench read` (or `cargo xtask bench`).

use std::hint::black_box;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput};
use wafer::stdf::{Le, Records};

fn corpus_file() -> PathBuf {
    corpus::path("stdf/Teradyne_Flex_3.stdf.xz")
}

fn main() {
    let packed = std::fs::read(corpus_file()).unwrap();
    let (_, mut r) = wafer::decompress::open(&packed[..]).unwrap();
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes).unwrap();
    let mb = bytes.len() as f64 / 1e6;

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    let mut g = c.benchmark_group("read_flex3");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("waferscope_model", |b| {
        b.iter(|| {
            let f = wafer::read(black_box(&bytes)).unwrap();
            assert_eq!(f.records_total, 3_480_809);
            f
        })
    });
    g.bench_function("waferscope_scan", |b| {
        b.iter(|| Records::<Le>::new(black_box(&bytes)).count())
    });
    g.bench_function("rust_stdf_records", |b| {
        b.iter(|| {
            let mut reader = rust_stdf::stdf_file::StdfReader::from(
                Cursor::new(black_box(&bytes[..])),
                &rust_stdf::CompressType::Uncompressed,
            )
            .unwrap();
            let mut n = 0;
            for r in reader.get_record_iter() {
                black_box(r.unwrap());
                n += 1;
            }
            assert_eq!(n, 3_480_809);
            n
        })
    });
    g.finish();
    c.final_summary();

    // Medians from criterion's own estimates, as MB/s and ratios against rust-stdf.
    let median = |name: &str| -> Option<f64> {
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        let p = dir
            .join("criterion/read_flex3")
            .join(name)
            .join("new/estimates.json");
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
        v["median"]["point_estimate"].as_f64().map(|ns| ns / 1e9)
    };
    let base = median("rust_stdf_records");
    println!(
        "\nreader throughput on {:.1} MB (median of criterion samples):",
        mb
    );
    for name in ["waferscope_model", "waferscope_scan", "rust_stdf_records"] {
        if let Some(s) = median(name) {
            let ratio = base.map_or(String::new(), |b| format!(", {:.1}x rust-stdf", b / s));
            println!("  {name:20} {:8.1} ms  {:8.0} MB/s{ratio}", s * 1e3, mb / s);
        }
    }
}
