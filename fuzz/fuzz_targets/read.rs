//! Any bytes, compressed or not, read in memory and streamed: never a panic, and the streamed
//! read finds the same dies as the in-memory one.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mem = wafer::read(data);
    let streamed = wafer::read_from(data);
    if let (Ok(a), Ok(b)) = (&mem, &streamed) {
        assert_eq!(a.records_total, b.records_total);
        assert_eq!(a.wafers.len(), b.wafers.len());
        assert_eq!(a.loose_parts.len(), b.loose_parts.len());
    }
    assert_eq!(mem.is_ok(), streamed.is_ok());
});
