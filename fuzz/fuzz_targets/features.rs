//! Any die table (coordinates anywhere in the i16 range, any verdicts) makes a feature grid or a
//! typed error, in memory that follows the dies, and the canonical bytes read back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wafer::{DieTable, Verdict};

fuzz_target!(|data: &[u8]| {
    let mut t = DieTable::default();
    for c in data.chunks_exact(5) {
        t.x.push(i16::from_le_bytes([c[0], c[1]]));
        t.y.push(i16::from_le_bytes([c[2], c[3]]));
        t.verdict.push(if c[4] & 1 == 1 {
            Verdict::Fail
        } else {
            Verdict::Pass
        });
    }
    if let Ok(g) = features::FeatureGrid::from_dies(&t) {
        let again = features::FeatureGrid::from_bytes(&g.cells).expect("canonical bytes");
        assert_eq!(again.hash(), g.hash());
    }
    let _ = features::FeatureGrid::from_bytes(data);
});
