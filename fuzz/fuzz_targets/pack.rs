//! Whatever the reader makes of any bytes packs and unpacks to the same file, and unpacking any
//! bytes is an error or a file, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wafer::pack::decode(data);
    if let Ok(f) = wafer::read(data) {
        let packed = wafer::pack::encode(&f);
        let back = wafer::pack::decode(&packed).expect("a packed file unpacks");
        // NaN != NaN, so compare the packed bytes of the round trip instead of the files.
        assert_eq!(wafer::pack::encode(&back), packed);
    }
});
