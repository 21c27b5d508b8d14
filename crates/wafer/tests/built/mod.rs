//! Small STDF files built with the writer, for the tests that make one claim each about the
//! reader.
#![allow(dead_code)]

use wafer::stdf::Endian;
use wafer::stdf::write::{ParametricResult, PartResult, StdfWriter};

pub fn part(site: u8, x: i16, y: i16, hard_bin: u16) -> PartResult<'static> {
    PartResult::die(site, x, y, hard_bin)
}

pub fn ptr(test: u32, site: u8, result: f32) -> ParametricResult<'static> {
    ParametricResult::value(test, site, result)
}

pub fn read(w: StdfWriter<impl Endian>) -> wafer::TestFile {
    wafer::read(&w.into_bytes()).expect("readable")
}
