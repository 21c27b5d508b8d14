//! The STDF reader built for `wasm32-unknown-unknown` with a plain C ABI, so Node can time it on
//! the same bytes as the native benchmark (`bench.mjs`).
//!
//! A raw ABI instead of wasm-bindgen: the benchmark moves one byte buffer in and two numbers out,
//! and this keeps the measurement free of a generated-glue install step. The code measured is the
//! same `wafer::read` the browser and the Worker run.

use std::cell::RefCell;

thread_local! {
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static STDF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Reserve `len` bytes for the caller to copy a file into; returns their address.
#[unsafe(no_mangle)]
pub extern "C" fn input_buffer(len: usize) -> *mut u8 {
    INPUT.with_borrow_mut(|v| {
        v.clear();
        v.resize(len, 0);
        v.as_mut_ptr()
    })
}

/// Decompress the input (if compressed) into the STDF buffer; returns its length (0 on error).
#[unsafe(no_mangle)]
pub extern "C" fn load() -> usize {
    use std::io::Read;
    let input = INPUT.with_borrow_mut(std::mem::take);
    let Ok((_, mut r)) = wafer::decompress::open(&input[..]) else {
        return 0;
    };
    STDF.with_borrow_mut(|out| {
        out.clear();
        if r.read_to_end(out).is_err() {
            return 0;
        }
        out.len()
    })
}

/// Decode the loaded STDF into the model; returns the number of records (0 on error).
#[unsafe(no_mangle)]
pub extern "C" fn parse() -> f64 {
    STDF.with_borrow(|b| wafer::read(b).map_or(0.0, |f| f.records_total as f64))
}
