//! The edge's upload path on any bytes: stored wafers or a 4xx that says why, never a panic;
//! every stored wafer unpacks and hashes to its address.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match edge::store::ingest(data) {
        Ok(i) => {
            for w in &i.wafers {
                assert_eq!(edge::store::WaferHash::of_packed(&w.packed), w.hash);
                wafer::pack::decode(&w.packed).expect("a stored wafer unpacks");
            }
        }
        Err(e) => assert!((400..500).contains(&e.status), "{e}"),
    }
});
