//! Realistic synthetic wafers, written as STDF, for demos and fixtures a fresh clone can make
//! without the corpus.
//!
//! Each wafer is a round die grid with a flat, a visible defect pattern (edge ring, centre spot,
//! scratch, donut, local cluster) on top of random background fails, parametric tests whose values
//! follow the pattern (a hot centre also shows in leakage), multi-site probing with interleaved
//! records, and retests of some failing dies. Deterministic: the same seed gives the same bytes.
//!
//! Not for: training the defect classifier (that generator covers all nine classes with far more
//! variety, in the model crate).

use crate::model::{AxisDirection, FlatDirection, SizeUnit, Verdict, WaferGeometry};
use crate::stdf::write::{
    BinRecord, LotInfo, ParametricResult, PartResult, StdfWriter, TestDefaults,
};
use crate::stdf::{Be, Endian, Le};

/// A small deterministic generator (SplitMix64): no dependency, same numbers on every target.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    /// Roughly normal (sum of uniforms), mean 0, sd 1.
    pub fn normal(&mut self) -> f32 {
        (0..4).map(|_| self.f32()).sum::<f32>() * 1.732 - 3.464
    }
}

/// The defect pattern painted on a demo wafer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    EdgeRing,
    Center,
    Scratch,
    Donut,
    Local,
    None,
}

impl Pattern {
    /// Probability that a die at normalised position (u, v) in [-1, 1]^2 fails by the pattern.
    fn fail_probability(self, u: f32, v: f32) -> f32 {
        let r = (u * u + v * v).sqrt();
        match self {
            Pattern::EdgeRing => smooth(r, 0.84, 0.92) * 0.85,
            Pattern::Center => (1.0 - smooth(r, 0.18, 0.3)) * 0.9,
            Pattern::Scratch => {
                // A slightly curved line from lower left to the upper right.
                let d = (v - (0.9 * u - 0.15 + 0.15 * u * u)).abs() / 1.35_f32.sqrt();
                let along = (-0.75..0.7).contains(&u);
                if along && d < 0.035 { 0.95 } else { 0.0 }
            }
            Pattern::Donut => (smooth(r, 0.38, 0.45) - smooth(r, 0.6, 0.68)) * 0.8,
            Pattern::Local => {
                let d = ((u - 0.35).powi(2) + (v + 0.3).powi(2)).sqrt();
                (1.0 - smooth(d, 0.12, 0.22)) * 0.85
            }
            Pattern::None => 0.0,
        }
    }
}

fn smooth(x: f32, a: f32, b: f32) -> f32 {
    let t = ((x - a) / (b - a)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// One synthetic wafer's recipe.
#[derive(Clone, Debug)]
pub struct DemoWafer {
    pub id: String,
    /// Dies across the diameter.
    pub diameter: i16,
    pub pattern: Pattern,
    /// Background fail rate.
    pub random_fail: f32,
}

/// One synthetic file.
#[derive(Clone, Debug)]
pub struct DemoFile {
    pub name: String,
    /// Raw STDF, or gzip-compressed STDF when `name` ends in `.gz`.
    pub bytes: Vec<u8>,
}

struct TestDef {
    number: u32,
    name: &'static str,
    units: &'static str,
    lo: f32,
    hi: f32,
    /// The hard bin a die lands in when this test fails.
    bin: u16,
}

const TESTS: [TestDef; 5] = [
    TestDef {
        number: 100,
        name: "CONT_VDD",
        units: "V",
        lo: -0.9,
        hi: -0.2,
        bin: 2,
    },
    TestDef {
        number: 200,
        name: "IDDQ_VDD",
        units: "uA",
        lo: 0.0,
        hi: 45.0,
        bin: 3,
    },
    TestDef {
        number: 300,
        name: "VTH_NMOS",
        units: "V",
        lo: 0.38,
        hi: 0.52,
        bin: 4,
    },
    TestDef {
        number: 310,
        name: "FMAX",
        units: "MHz",
        lo: 850.0,
        hi: 1400.0,
        bin: 5,
    },
    TestDef {
        number: 400,
        name: "LEAK_IO",
        units: "nA",
        lo: -50.0,
        hi: 50.0,
        bin: 6,
    },
];

const BINS: [(u16, &str, bool); 6] = [
    (1, "PASS", true),
    (2, "OPEN_SHORT", false),
    (3, "IDDQ_HIGH", false),
    (4, "VTH_OUT", false),
    (5, "SPEED_FAIL", false),
    (6, "IO_LEAKAGE", false),
];

/// Sites probed at once; dies go to sites in adjacent groups, as on a real multi-site card.
const SITES: u8 = 4;

/// The demo files `waferscope demo` writes.
pub fn demo_files() -> Vec<DemoFile> {
    let lot = |id: &str| LotInfo {
        setup_time: 1_764_000_000,
        start_time: 1_764_000_600,
        lot_id: id.into(),
        part_type: "WS-DEMO-7NM".into(),
        tester_node: "demo-tester-01".into(),
        tester_type: "Waferscope Synth".into(),
        job_name: "WS_DEMO_PROBE".into(),
        job_rev: "1.4".into(),
        sublot_id: String::new(),
        operator: "demo".into(),
    };
    let w = |id: &str, diameter, pattern, random_fail| DemoWafer {
        id: id.into(),
        diameter,
        pattern,
        random_fail,
    };
    let lot1 = write_lot::<Le>(
        &lot("WSDEMO1"),
        &[
            w("WSDEMO1-01", 48, Pattern::EdgeRing, 0.03),
            w("WSDEMO1-02", 48, Pattern::Center, 0.02),
            w("WSDEMO1-03", 48, Pattern::Scratch, 0.02),
        ],
        1,
    );
    let lot2 = write_lot::<Be>(
        &lot("WSDEMO2"),
        &[w("WSDEMO2-07", 36, Pattern::Donut, 0.03)],
        2,
    );
    let lot3 = write_lot::<Le>(
        &lot("WSDEMO3"),
        &[w("WSDEMO3-12", 150, Pattern::Local, 0.015)],
        3,
    );
    vec![
        DemoFile {
            name: "WSDEMO1_three_wafers.stdf".into(),
            bytes: lot1,
        },
        DemoFile {
            name: "WSDEMO2_big_endian.stdf".into(),
            bytes: lot2,
        },
        DemoFile {
            name: "WSDEMO3_17k_dies.stdf.gz".into(),
            bytes: gzip(&lot3),
        },
    ]
}

mod bench;
pub use bench::{big_lot_file, big_wafer_file};

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("writing to a Vec cannot fail");
    e.finish().expect("writing to a Vec cannot fail")
}

/// Dies of a round wafer with `diameter` dies across, in serpentine probing order.
pub fn round_grid(diameter: i16) -> Vec<(i16, i16)> {
    let r = diameter as f32 / 2.0;
    let mut dies = Vec::new();
    for y in 0..diameter {
        let row: Vec<i16> = (0..diameter)
            .filter(|&x| {
                let (dx, dy) = (x as f32 + 0.5 - r, y as f32 + 0.5 - r);
                // Inside the circle, and above the flat at the bottom.
                (dx * dx + dy * dy).sqrt() <= r - 0.3 && dy < r * 0.92
            })
            .collect();
        if y % 2 == 0 {
            dies.extend(row.iter().map(|&x| (x, y)));
        } else {
            dies.extend(row.iter().rev().map(|&x| (x, y)));
        }
    }
    dies
}

/// Write one lot file holding `wafers`, seeded by `seed`.
pub fn write_lot<E: Endian>(lot: &LotInfo, wafers: &[DemoWafer], seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut w = StdfWriter::<E>::new();
    w.mir(lot);
    let mut hard_counts = [0u32; 7];
    let mut test_exec = [0u32; TESTS.len()];
    let mut test_fail = [0u32; TESTS.len()];
    let mut t = lot.start_time;
    // Name, units and limits go in the first PTR of each test only, as testers write them.
    let mut defined = [false; TESTS.len()];

    for wafer in wafers {
        w.wir(1, t, &wafer.id);
        let dies = round_grid(wafer.diameter);
        let r = wafer.diameter as f32 / 2.0;
        let mut parts = 0;
        let mut good = 0;
        let mut retest = Vec::new();
        // Part results for a touchdown of up to SITES dies.
        let mut touchdown =
            |w: &mut StdfWriter<E>, group: &[(i16, i16)], retest_pass: bool, rng: &mut Rng| {
                let mut outcomes = Vec::new();
                for (s, _) in group.iter().enumerate() {
                    w.pir(1, s as u8 + 1);
                }
                for (s, &(x, y)) in group.iter().enumerate() {
                    let (u, v) = ((x as f32 + 0.5 - r) / r, (y as f32 + 0.5 - r) / r);
                    let p_fail = wafer.pattern.fail_probability(u, v).max(wafer.random_fail);
                    let fails = !retest_pass && rng.f32() < p_fail;
                    // Which test a failing die fails: pattern dies fail leakage/IDDQ, random ones anything.
                    let failing = fails.then(|| {
                        if wafer.pattern.fail_probability(u, v) > wafer.random_fail {
                            1 + (rng.next_u64() % 2) as usize * 3
                        } else {
                            (rng.next_u64() % TESTS.len() as u64) as usize
                        }
                    });
                    outcomes.push((s as u8 + 1, x, y, u, v, failing));
                }
                // Test-major order across sites: PTRs of all sites interleave, as testers write them.
                for (ti, td) in TESTS.iter().enumerate() {
                    for &(site, _, _, u, v, failing) in &outcomes {
                        // Stop testing a part after its first failing test.
                        if failing.is_some_and(|f| f < ti) {
                            continue;
                        }
                        let rr = (u * u + v * v).sqrt();
                        let mid = (td.lo + td.hi) / 2.0;
                        let span = (td.hi - td.lo) / 2.0;
                        // A radial trend plus noise, inside the limits for good dies.
                        let mut value = mid + span * (0.25 * (rr - 0.5) + 0.12 * rng.normal());
                        let failed = failing == Some(ti);
                        if failed {
                            value = td.hi + span * (0.1 + 0.4 * rng.f32());
                        }
                        test_exec[ti] += 1;
                        test_fail[ti] += failed as u32;
                        w.ptr(&ParametricResult {
                            test: td.number,
                            head: 1,
                            site,
                            result: value,
                            failed,
                            info: (!defined[ti]).then_some(TestDefaults {
                                name: td.name,
                                units: td.units,
                                lo_limit: Some(td.lo),
                                hi_limit: Some(td.hi),
                            }),
                        });
                        defined[ti] = true;
                    }
                }
                for &(site, x, y, _, _, failing) in &outcomes {
                    let bin = failing.map_or(1, |f| TESTS[f].bin);
                    hard_counts[bin as usize] += 1;
                    w.prr(&PartResult {
                        head: 1,
                        site,
                        verdict: if failing.is_some() {
                            Verdict::Fail
                        } else {
                            Verdict::Pass
                        },
                        num_tests: TESTS.len() as u16,
                        hard_bin: bin,
                        soft_bin: bin * 100 + failing.map_or(0, |_| 1),
                        x,
                        y,
                        test_time_ms: 180 + (rng.next_u64() % 40) as u32,
                        part_id: &format!("{x}_{y}"),
                    });
                }
                outcomes
                    .iter()
                    .map(|o| (o.1, o.2, o.5.is_some()))
                    .collect::<Vec<_>>()
            };
        for group in dies.chunks(SITES as usize) {
            for (x, y, failed) in touchdown(&mut w, group, false, &mut rng) {
                parts += 1;
                good += !failed as u32;
                // Some failing dies are probed again at the end of the wafer.
                if failed && rng.f32() < 0.08 {
                    retest.push((x, y));
                }
            }
        }
        for group in retest.chunks(SITES as usize) {
            let pass = rng.f32() < 0.5;
            for (_, _, failed) in touchdown(&mut w, group, pass, &mut rng) {
                parts += 1;
                good += !failed as u32;
            }
        }
        t += 3600;
        w.wrr(1, t, parts, good, &wafer.id);
    }

    let geometry = WaferGeometry {
        from_wcr: true,
        flat: FlatDirection::Down,
        flat_char: 'D',
        x_direction: AxisDirection::Positive,
        y_direction: AxisDirection::Negative,
        pos_x_char: 'R',
        pos_y_char: 'D',
        units: SizeUnit::Millimeters,
        wafer_size: Some(200.0),
        die_width: Some(200.0 / wafers[0].diameter as f32),
        die_height: Some(200.0 / wafers[0].diameter as f32),
        center_x: Some(wafers[0].diameter / 2),
        center_y: Some(wafers[0].diameter / 2),
    };
    w.wcr(&geometry);
    for (ti, td) in TESTS.iter().enumerate() {
        w.tsr(255, 255, td.number, test_exec[ti], test_fail[ti], td.name);
    }
    for &(bin, name, pass) in &BINS {
        let count = hard_counts[bin as usize];
        // The hard bin, and one soft bin under it (x00 for pass, x01 for the failing flavour).
        for (hard, bin) in [(true, bin), (false, bin * 100 + !pass as u16)] {
            let (head, site) = (255, 255);
            w.bin(&BinRecord {
                hard,
                head,
                site,
                bin,
                count,
                pass,
                name,
            });
        }
    }
    w.mrr(t);
    w.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_files_read_back_with_their_patterns() {
        let files = demo_files();
        assert_eq!(files.len(), 3);
        let lot1 = crate::read(&files[0].bytes).unwrap();
        assert_eq!(lot1.wafers.len(), 3);
        assert!(lot1.warnings.is_empty(), "{:?}", lot1.warnings);
        for w in &lot1.wafers {
            assert_eq!(w.dies.len(), round_grid(48).len());
            assert!(w.superseded > 0, "demo wafers include retests");
            let y = w.yield_fraction().unwrap();
            assert!((0.5..0.99).contains(&y), "{} yield {y}", w.id);
        }
        // Edge-ring wafer: the outer dies fail far more often than the inner ones.
        let d = &lot1.wafers[0].dies;
        let (mut outer, mut inner) = ((0, 0), (0, 0));
        for i in 0..d.len() {
            let (u, v) = (d.x[i] as f32 - 23.5, d.y[i] as f32 - 23.5);
            let r = (u * u + v * v).sqrt() / 24.0;
            let slot = if r > 0.9 { &mut outer } else { &mut inner };
            slot.0 += (d.verdict[i] == Verdict::Fail) as u32;
            slot.1 += 1;
        }
        assert!(outer.0 as f32 / outer.1 as f32 > 4.0 * inner.0 as f32 / inner.1 as f32);
        assert_eq!(lot1.tests.tests.len(), TESTS.len());
        assert_eq!(lot1.tests.tests[1].units, "uA");

        let lot2 = crate::read(&files[1].bytes).unwrap();
        assert_eq!(lot2.meta.byte_order, crate::ByteOrder::Big);
        let lot3 = crate::read(&files[2].bytes).unwrap();
        assert_eq!(lot3.meta.compression, crate::Compression::Gzip);
        assert!(lot3.wafers[0].dies.len() > 15_000);
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        assert_eq!(demo_files()[1].bytes, demo_files()[1].bytes);
    }
}
