//! Crafted files that once made a small input cost gigabytes or minutes, and the bound the reader
//! now keeps on them: peak heap during a read is at most [`HEAP_PER_BYTE`] times the file's
//! (decompressed) size plus [`HEAP_FIXED`].
//!
//! The same files live in `tests/hostile/` (one line each in its README) for the other reader
//! paths (CLI, page worker, edge upload). They are made here, from recipes: this test fails when
//! the files on disk differ from the recipes; `WAFERSCOPE_BLESS=1 cargo test -p wafer --test
//! hostile` rewrites them.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use wafer::stdf::write::StdfWriter;
use wafer::stdf::{Le, RecordType};
use wafer::{ReadErrorKind, TestFile, WarningKind};

/// Counts live heap bytes and their peak, so the test can state a memory bound.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Reads are measured one at a time (the test harness runs tests on several threads).
static MEASURE: Mutex<()> = Mutex::new(());

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Relaxed) + l.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak heap is at most this many bytes per input byte (the reader's own limit) ...
const HEAP_PER_BYTE: usize = 16;
/// ... plus the limit's fixed allowance and 4 MiB for the decoder's fixed tables (record counts,
/// site slots) and the 1 MiB streaming window.
const HEAP_FIXED: usize = (8 << 20) + (4 << 20);

#[test]
fn the_bound_stated_here_is_the_readers_limit() {
    let l = wafer::Limits::default();
    assert_eq!(
        (l.per_byte as usize, l.fixed as usize),
        (HEAP_PER_BYTE, 8 << 20)
    );
}

/// Peak heap above what was live before, while `f` runs.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let out = f();
    (out, PEAK.load(Relaxed) - base)
}

/// A whole file: FAR, what `build` writes, MRR (so the edge cannot refuse it as cut short).
fn stdf(build: impl FnOnce(&mut StdfWriter<Le>)) -> Vec<u8> {
    let mut w = StdfWriter::<Le>::new();
    build(&mut w);
    w.mrr(0);
    w.into_bytes()
}

fn ftr(w: &mut StdfWriter<Le>, test: u32) {
    w.record(RecordType::FTR, |b| {
        b.u4(test).u1(1).u1(0).u1(0);
    });
}

fn ptr(w: &mut StdfWriter<Le>, test: u32, head: u8, site: u8) {
    w.record(RecordType::PTR, |b| {
        b.u4(test).u1(head).u1(site).u1(0).u1(0).r4(1.0);
    });
}

/// A PRR with coordinates and nothing after them.
fn prr(w: &mut StdfWriter<Le>, x: i16, y: i16) {
    w.record(RecordType::PRR, |b| {
        b.u1(1).u1(0).u1(0).u2(1).u2(1).u2(1).i2(x).i2(y);
    });
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A crafted file: its name in `tests/hostile/`, one line on what it attacks, and its bytes.
struct Hostile {
    name: &'static str,
    what: &'static str,
    bytes: Vec<u8>,
}

fn recipes() -> &'static [Hostile] {
    static MADE: std::sync::OnceLock<Vec<Hostile>> = std::sync::OnceLock::new();
    MADE.get_or_init(make)
}

fn make() -> Vec<Hostile> {
    let small = stdf(|w| {
        w.wir(1, 0, "W1");
        ptr(w, 1, 1, 0);
        prr(w, 0, 0);
        w.wrr(1, 0, 1, 1, "W1");
    });
    vec![
        Hostile {
            name: "catalogue-times-wafers.stdf",
            what: "10,000 tests (FTR) then 10,000 bare WIRs: every wafer was sized by the whole \
                   catalogue (~2.4 GB)",
            bytes: stdf(|w| {
                (0..10_000).for_each(|t| ftr(w, t));
                (0..10_000).for_each(|_| w.wir(1, 0, ""));
            }),
        },
        Hostile {
            name: "new-test-per-die.stdf",
            what: "16,000 dies, each with a test no other die has: every column was padded to \
                   the die count (~1 GB)",
            bytes: stdf(|w| {
                w.wir(1, 0, "W1");
                for i in 0..16_000u32 {
                    ptr(w, i, 1, 0);
                    prr(w, (i % 200) as i16, (i / 200) as i16);
                }
            }),
        },
        Hostile {
            name: "one-die-per-wafer-wide-catalogue.stdf",
            what: "10,000 tests, then 3,000 wafers of one die with the last test: a column slot \
                   per test on every wafer",
            bytes: stdf(|w| {
                (0..10_000).for_each(|t| ftr(w, t));
                for _ in 0..3_000 {
                    w.wir(1, 0, "");
                    ptr(w, 9_999, 1, 0);
                    prr(w, 0, 0);
                    w.wrr(1, 0, 1, 1, "");
                }
            }),
        },
        Hostile {
            name: "retest-storm.stdf",
            what: "one die with 20,000 tests, then retested 20,000 times: each retest cleared \
                   every column (4e8 steps)",
            bytes: stdf(|w| {
                w.wir(1, 0, "W1");
                (0..20_000).for_each(|t| ptr(w, t, 1, 0));
                prr(w, 0, 0);
                (0..20_000).for_each(|_| prr(w, 0, 0));
            }),
        },
        Hostile {
            name: "every-site.stdf",
            what: "PIRs on all 65,536 (head, site) pairs, then results on the last: its slot \
                   index wrapped to \"none\" in a u16",
            bytes: stdf(|w| {
                w.wir(255, 0, "W1");
                for h in 0..=255u8 {
                    for s in 0..=255u8 {
                        w.record(RecordType::PIR, |b| {
                            b.u1(h).u1(s);
                        });
                    }
                }
                (0..1_000).for_each(|t| ptr(w, t % 10, 255, 255));
                w.record(RecordType::PRR, |b| {
                    b.u1(255).u1(255).u1(0).u2(1).u2(1).u2(1).i2(3).i2(4);
                });
            }),
        },
        Hostile {
            name: "dies-far-apart.stdf",
            what: "dies at x = -20000 and 20000, and at (30000, 30000): spans overflowed i16 and \
                   the feature grid allocated the whole extent (~900 MB)",
            bytes: stdf(|w| {
                w.wir(1, 0, "W1");
                for (x, y) in [(-20_000, 0), (20_000, 0), (0, 0), (30_000, 30_000)] {
                    ptr(w, 1, 1, 0);
                    prr(w, x, y);
                }
                w.wrr(1, 0, 4, 4, "W1");
            }),
        },
        Hostile {
            name: "gzip-in-gzip-in-gzip.stdf.gz",
            what: "three layers of gzip: the decompression cap was applied to two of them",
            bytes: gzip(&gzip(&gzip(&small))),
        },
        Hostile {
            name: "gzip-bomb.stdf.gz",
            what: "a valid header then 300 MB of empty records, gzipped twice (~80 KB): a small \
                   upload that decompresses past every cap",
            bytes: {
                let mut inner = StdfWriter::<Le>::new().into_bytes();
                inner.resize(300 << 20, 0);
                gzip(&gzip(&inner))
            },
        },
    ]
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/hostile")
}

#[test]
fn the_files_on_disk_are_the_recipes() {
    let bless = std::env::var_os("WAFERSCOPE_BLESS").is_some();
    let mut readme = String::from(
        "# Hostile files\n\nCrafted inputs that once cost far more memory or time than their size; \
         every reader path (CLI, page worker, edge upload) must answer each with a clear error or \
         a partial read, in bounded time and memory. Made by `crates/wafer/tests/hostile.rs` \
         (`WAFERSCOPE_BLESS=1 cargo test -p wafer --test hostile` rewrites them).\n\n",
    );
    for h in recipes() {
        readme += &format!("- `{}` ({} bytes): {}\n", h.name, h.bytes.len(), h.what);
        let path = dir().join(h.name);
        if bless {
            std::fs::create_dir_all(dir()).unwrap();
            std::fs::write(&path, &h.bytes).unwrap();
        } else {
            let on_disk = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (bless to write it)", path.display()));
            assert!(on_disk == h.bytes, "{} differs from its recipe", h.name);
        }
    }
    let path = dir().join("README.md");
    if bless {
        std::fs::write(&path, &readme).unwrap();
    } else {
        assert_eq!(std::fs::read_to_string(&path).unwrap(), readme);
    }
}

/// The size of the STDF stream inside the gzip layers: what the bound is stated against.
fn plain_len(mut bytes: Vec<u8>) -> usize {
    use std::io::Read;
    while bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        bytes = out;
    }
    bytes.len()
}

fn dies(f: &TestFile) -> usize {
    f.wafers.iter().map(|w| w.dies.len()).sum()
}

#[test]
fn every_hostile_file_reads_in_memory_bounded_by_its_size() {
    for h in recipes() {
        let plain = if h.name.ends_with(".gz") {
            plain_len(h.bytes.clone())
        } else {
            h.bytes.len()
        };
        let _one = MEASURE.lock().unwrap_or_else(|e| e.into_inner());
        let (file, peak) = peak_of(|| wafer::read_from(&h.bytes[..]));
        let bound = HEAP_PER_BYTE * plain + HEAP_FIXED;
        println!(
            "{}: {plain} bytes, peak heap {peak} bytes ({:.1}x), {}",
            h.name,
            peak as f64 / plain as f64,
            match &file {
                Ok(f) => format!("{} dies, {} warnings", dies(f), f.warnings.len()),
                Err(e) => format!("error: {e}"),
            }
        );
        assert!(peak <= bound, "{}: peak {peak} > bound {bound}", h.name);
    }
}

#[test]
fn what_the_hostile_files_still_hold_is_read() {
    let _one = MEASURE.lock().unwrap_or_else(|e| e.into_inner());
    let read = |name: &str| {
        let h = recipes().iter().find(|h| h.name == name).unwrap();
        wafer::read(&h.bytes)
    };
    let f = read("new-test-per-die.stdf").unwrap();
    assert_eq!(f.wafers[0].dies.len(), 16_000);
    assert_eq!(f.wafers[0].dies.value(15_999, 15_999), 1.0);
    assert!(f.wafers[0].dies.value(15_999, 0).is_nan());

    let f = read("retest-storm.stdf").unwrap();
    let d = &f.wafers[0].dies;
    assert_eq!((d.len(), d.attempts[0]), (1, 255));
    // The last attempt ran no test: no result survives from the first.
    assert!((0..20_000).all(|t| d.value(t, 0).is_nan()));

    let f = read("every-site.stdf").unwrap();
    let d = &f.wafers[0].dies;
    assert_eq!((d.len(), d.head[0], d.site[0]), (1, 255, 255));
    assert_eq!((0..10).filter(|&t| d.value(t, 0) == 1.0).count(), 10);

    let f = read("dies-far-apart.stdf").unwrap();
    assert_eq!(f.wafers[0].dies.len(), 4);
    let w = &f.wafers[0];
    assert_eq!(w.dies.ranges(), Some(([-20_000, 30_000], [0, 30_000])));
    // The centre of dies at the ends of the i16 range is computed without wrapping.
    assert_eq!(w.center(), (5_000.0, 15_000.0));

    // The reader stops at its memory limit and keeps what came before, saying so.
    let f = read("catalogue-times-wafers.stdf").unwrap();
    assert_eq!(f.tests.tests.len(), 10_000);
    assert!(
        f.wafers.len() > 1_000 && f.wafers.len() < 10_000,
        "{}",
        f.wafers.len()
    );
    let stop = f.warnings.iter().find(|w| w.kind.stops_read()).unwrap();
    assert!(
        matches!(stop.kind, WarningKind::MemoryLimit { .. }),
        "{stop}"
    );

    let e = read("gzip-in-gzip-in-gzip.stdf.gz").unwrap_err();
    assert!(
        matches!(
            e.kind,
            ReadErrorKind::Decompress { .. } | ReadErrorKind::Nested { .. }
        ),
        "{e}"
    );
}

/// Inputs that once crashed a fuzz target (`tests/hostile/fuzz/`): read in memory and streamed,
/// packed and unpacked, within the memory bound.
#[test]
fn fuzz_regressions_stay_fixed() {
    for e in std::fs::read_dir(dir().join("fuzz")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let _one = MEASURE.lock().unwrap_or_else(|e| e.into_inner());
        let (streamed, peak) = peak_of(|| wafer::read_from(&bytes[..]));
        assert!(
            peak <= HEAP_PER_BYTE * plain_len(bytes.clone()) + HEAP_FIXED,
            "{}",
            path.display()
        );
        if let Ok(f) = wafer::read(&bytes) {
            let packed = wafer::pack::encode(&f);
            let back = wafer::pack::decode(&packed).unwrap();
            assert_eq!(wafer::pack::encode(&back), packed, "{}", path.display());
        }
        drop(streamed);
    }
}

/// Real files hold far less than the limit: the reader's estimate per input byte on every corpus
/// file (printed; the README quotes these), at most 2 where the limit is 16.
#[test]
fn real_files_hold_far_less_than_the_limit() {
    // Held for the whole test: its 142 MB buffer must not count in another test's peak.
    let _one = MEASURE.lock().unwrap_or_else(|e| e.into_inner());
    for path in common::stdf_files() {
        let bytes = common::stdf_bytes(&path);
        let mut d = wafer::stdf::Decoder::new(wafer::Compression::None);
        let Ok(used) = d.feed(&bytes) else { continue };
        let per_byte = d.held() as f64 / used.max(1) as f64;
        println!(
            "{}: {:.1} MB read, about {:.1} MB held ({per_byte:.2} bytes per byte)",
            common::name(&path),
            used as f64 / 1e6,
            d.held() as f64 / 1e6
        );
        assert!(!d.stopped(), "{}", common::name(&path));
        // Tiny files are all fixed cost; only files over 1 MB say something per byte.
        if used > 1 << 20 {
            assert!(per_byte <= 2.0, "{}: {per_byte}", common::name(&path));
        }
    }
}
