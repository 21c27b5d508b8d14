//! No input makes the reader panic, and damage never loses what came before it:
//! every corpus file cut at many offsets, and with random bytes flipped.

mod common;

use wafer::stdf::{Be, Endian, Le, RecordType, Records};
use wafer::{ByteOrder, TestFile, demo::Rng};

fn parts(f: &TestFile) -> usize {
    f.wafers.iter().map(|w| w.parts as usize).sum::<usize>() + f.loose_parts.len()
}

/// (end offset of each whole record, is it a PRR) — from the independent record scanner.
fn record_ends<E: Endian>(bytes: &[u8]) -> Vec<(usize, bool)> {
    Records::<E>::new(bytes)
        .map(|r| (r.offset + 4 + r.body.len(), r.rtype == RecordType::PRR))
        .collect()
}

fn ends(bytes: &[u8], order: ByteOrder) -> Vec<(usize, bool)> {
    match order {
        ByteOrder::Little => record_ends::<Le>(bytes),
        ByteOrder::Big => record_ends::<Be>(bytes),
    }
}

/// Offsets to cut at: the first bytes, every record boundary region near the start, and an even
/// spread over the file.
fn cut_points(len: usize, n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..16).collect();
    v.extend((1..n).map(|i| len * i / n));
    v.extend([len.saturating_sub(1), len.saturating_sub(3)]);
    v.retain(|&c| c < len);
    v.sort();
    v.dedup();
    v
}

#[test]
fn a_file_cut_anywhere_keeps_every_record_before_the_cut() {
    for path in common::stdf_files() {
        let bytes = common::stdf_bytes(&path);
        let full = wafer::read(&bytes).unwrap();
        let ends = ends(&bytes, full.meta.byte_order);
        let n = if bytes.len() > 20_000_000 { 12 } else { 80 };
        for cut in cut_points(bytes.len(), n) {
            let name = common::name(&path);
            let got = match wafer::read(&bytes[..cut]) {
                Ok(f) => f,
                Err(e) => {
                    assert!(cut < 6, "{name} cut at {cut}: error {e}");
                    continue;
                }
            };
            let whole = ends.iter().take_while(|e| e.0 <= cut).count();
            let prrs = ends
                .iter()
                .take_while(|e| e.0 <= cut)
                .filter(|e| e.1)
                .count();
            let at_boundary = ends.iter().any(|e| e.0 == cut);
            // The cut record's header, if at least 4 bytes of it are there, is counted too.
            let start = if whole == 0 { 0 } else { ends[whole - 1].0 };
            let header = cut - start >= 4;
            assert_eq!(
                got.records_total as usize,
                whole + header as usize,
                "{name} cut at {cut}"
            );
            assert_eq!(
                parts(&got),
                prrs,
                "{name} cut at {cut}: PRRs before the cut"
            );
            assert_eq!(got.is_partial(), !at_boundary, "{name} cut at {cut}");
        }
    }
}

#[test]
fn a_compressed_file_cut_anywhere_never_panics_and_keeps_a_prefix() {
    for name in ["lot2.stdf.gz", "lot2.stdf.bz2", "Teradyne_Flex_3.stdf.xz"] {
        let raw = std::fs::read(common::corpus().join("stdf").join(name)).unwrap();
        let full = parts(&wafer::read(&raw).unwrap());
        for cut in cut_points(raw.len(), 10) {
            if let Ok(f) = wafer::read(&raw[..cut]) {
                assert!(f.is_partial(), "{name} cut at {cut} must say so");
                assert!(parts(&f) <= full);
            }
        }
    }
}

#[test]
fn random_byte_flips_never_panic_and_keep_the_records_before_them() {
    let mut rng = Rng::new(0x5eed);
    for path in common::stdf_files() {
        let mut bytes = common::stdf_bytes(&path);
        // The big file's first 4 MB exercise the same records as the rest.
        bytes.truncate(4 << 20);
        let order = wafer::read(&bytes).unwrap().meta.byte_order;
        let ends = ends(&bytes, order);
        let rounds = if bytes.len() > 1_000_000 { 12 } else { 60 };
        for _ in 0..rounds {
            let mut damaged = bytes.clone();
            let mut first = usize::MAX;
            for _ in 0..1 + rng.next_u64() % 8 {
                let at = (rng.next_u64() % damaged.len() as u64) as usize;
                damaged[at] ^= 1 + (rng.next_u64() % 255) as u8;
                first = first.min(at);
            }
            let Ok(f) = wafer::read(&damaged) else {
                assert!(
                    first < 6,
                    "{}: only a damaged FAR may fail the read",
                    common::name(&path)
                );
                continue;
            };
            let safe = ends
                .iter()
                .take_while(|e| e.0 <= first)
                .filter(|e| e.1)
                .count();
            assert!(
                parts(&f) >= safe,
                "{}: lost parts before the damage",
                common::name(&path)
            );
        }
    }
}

#[test]
fn hostile_inputs_are_errors_or_partial_reads_never_panics() {
    let mut rng = Rng::new(7);
    let mut inputs: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x1f, 0x8b],
        b"BZh9".to_vec(),
        vec![0xfd, b'7', b'z', b'X', b'Z', 0, 0, 0],
        b"PK\x03\x04".to_vec(),
        [&b"PK\x03\x04"[..], &[0; 26]].concat(),
        vec![2, 0, 0, 10, 2, 4, 0xff, 0xff, 15, 10],
    ];
    for len in [6, 7, 64, 4096] {
        let mut v = vec![2, 0, 0, 10, 2, 4];
        v.extend((6..len).map(|_| rng.next_u64() as u8));
        inputs.push(v);
    }
    for input in inputs {
        let _ = wafer::read(&input);
        let _ = wafer::read_from(&input[..]);
    }
}
