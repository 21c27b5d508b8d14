//! Small STDF files built with the writer, for the tests that make one claim each about the
//! reader.
#![allow(dead_code)]

use wafer::Verdict;
use wafer::stdf::Endian;
use wafer::stdf::write::{ParametricResult, PartResult, StdfWriter};

pub fn part(site: u8, x: i16, y: i16, hard_bin: u16) -> PartResult<'static> {
    PartResult {
        head: 1,
        site,
        verdict: if hard_bin == 1 {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        num_tests: 1,
        hard_bin,
        soft_bin: hard_bin + 100,
        x,
        y,
        test_time_ms: 5,
        part_id: "p",
    }
}

pub fn ptr(test: u32, site: u8, result: f32) -> ParametricResult<'static> {
    ParametricResult {
        test,
        head: 1,
        site,
        result,
        failed: false,
        info: None,
    }
}

pub fn read(w: StdfWriter<impl Endian>) -> wafer::TestFile {
    wafer::read(&w.into_bytes()).expect("readable")
}
