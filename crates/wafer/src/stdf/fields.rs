//! Field decoding for one STDF record body.
//!
//! STDF lets writers omit trailing fields, so every read returns `None` past the end of the body
//! instead of failing; callers supply the spec's defaults. Byte order is a type parameter so the
//! hot loop is compiled once per order with no run-time branch.

use std::marker::PhantomData;

use crate::model::ByteOrder;

/// A byte order, as a type.
pub trait Endian: Copy + Send + Sync + 'static {
    const ORDER: ByteOrder;
    fn u16(b: [u8; 2]) -> u16;
    fn u32(b: [u8; 4]) -> u32;
    fn u64(b: [u8; 8]) -> u64;
    fn put_u16(v: u16) -> [u8; 2];
    fn put_u32(v: u32) -> [u8; 4];
}

/// Little-endian (CPU_TYPE 2, x86).
#[derive(Clone, Copy, Debug)]
pub struct Le;
/// Big-endian (CPU_TYPE 1, Sun/SPARC).
#[derive(Clone, Copy, Debug)]
pub struct Be;

impl Endian for Le {
    const ORDER: ByteOrder = ByteOrder::Little;
    #[inline(always)]
    fn u16(b: [u8; 2]) -> u16 {
        u16::from_le_bytes(b)
    }
    #[inline(always)]
    fn u32(b: [u8; 4]) -> u32 {
        u32::from_le_bytes(b)
    }
    #[inline(always)]
    fn u64(b: [u8; 8]) -> u64 {
        u64::from_le_bytes(b)
    }
    fn put_u16(v: u16) -> [u8; 2] {
        v.to_le_bytes()
    }
    fn put_u32(v: u32) -> [u8; 4] {
        v.to_le_bytes()
    }
}

impl Endian for Be {
    const ORDER: ByteOrder = ByteOrder::Big;
    #[inline(always)]
    fn u16(b: [u8; 2]) -> u16 {
        u16::from_be_bytes(b)
    }
    #[inline(always)]
    fn u32(b: [u8; 4]) -> u32 {
        u32::from_be_bytes(b)
    }
    #[inline(always)]
    fn u64(b: [u8; 8]) -> u64 {
        u64::from_be_bytes(b)
    }
    fn put_u16(v: u16) -> [u8; 2] {
        v.to_be_bytes()
    }
    fn put_u32(v: u32) -> [u8; 4] {
        v.to_be_bytes()
    }
}

/// A cursor over one record body.
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a, E> {
    body: &'a [u8],
    pos: usize,
    _order: PhantomData<E>,
}

impl<'a, E: Endian> Fields<'a, E> {
    #[inline(always)]
    pub fn new(body: &'a [u8]) -> Self {
        Fields {
            body,
            pos: 0,
            _order: PhantomData,
        }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.body.len() - self.pos
    }

    #[inline(always)]
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let b = self.body.get(self.pos..self.pos + N)?;
        self.pos += N;
        b.try_into().ok()
    }

    #[inline(always)]
    pub fn u1(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    #[inline(always)]
    pub fn i1(&mut self) -> Option<i8> {
        self.u1().map(|v| v as i8)
    }
    #[inline(always)]
    pub fn u2(&mut self) -> Option<u16> {
        self.take::<2>().map(E::u16)
    }
    #[inline(always)]
    pub fn i2(&mut self) -> Option<i16> {
        self.u2().map(|v| v as i16)
    }
    #[inline(always)]
    pub fn u4(&mut self) -> Option<u32> {
        self.take::<4>().map(E::u32)
    }
    #[inline(always)]
    pub fn r4(&mut self) -> Option<f32> {
        self.u4().map(f32::from_bits)
    }
    /// C*1: one character.
    pub fn c1(&mut self) -> Option<char> {
        self.u1().map(char::from)
    }
    /// C*n: a length byte then that many bytes. A length running past the end yields the bytes
    /// that are there (a damaged field must not lose the record).
    pub fn cn_bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u1()? as usize;
        let end = (self.pos + n).min(self.body.len());
        let s = &self.body[self.pos..end];
        self.pos = end;
        Some(s)
    }
    /// C*n decoded as text; bytes that are not UTF-8 are read as Latin-1, which is what old
    /// testers write.
    pub fn cn(&mut self) -> Option<String> {
        self.cn_bytes().map(text)
    }
    /// Skip `n` bytes (clamped at the end).
    pub fn skip(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.body.len());
    }
}

/// Decode STDF text: UTF-8 when valid, else Latin-1; trailing NULs and spaces trimmed.
pub fn text(b: &[u8]) -> String {
    let b = trim_end(b);
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => b.iter().map(|&c| char::from(c)).collect(),
    }
}

fn trim_end(mut b: &[u8]) -> &[u8] {
    while let [rest @ .., 0 | b' '] = b {
        b = rest;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_in_both_byte_orders() {
        let le = [0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 2, b'h', b'i'];
        let mut f = Fields::<Le>::new(&le);
        assert_eq!(f.u2(), Some(0x1234));
        assert_eq!(f.u4(), Some(0x12345678));
        assert_eq!(f.cn().as_deref(), Some("hi"));
        assert_eq!(f.u1(), None, "reads past the end give None, not a panic");

        let be = [0x12, 0x34, 0xff, 0xfe];
        let mut f = Fields::<Be>::new(&be);
        assert_eq!(f.u2(), Some(0x1234));
        assert_eq!(f.i2(), Some(-2));
    }

    #[test]
    fn a_string_longer_than_its_record_keeps_what_is_there() {
        let body = [10, b'a', b'b'];
        let mut f = Fields::<Le>::new(&body);
        assert_eq!(f.cn().as_deref(), Some("ab"));
        assert_eq!(f.remaining(), 0);
    }

    #[test]
    fn text_that_is_not_utf8_is_read_as_latin1_and_trimmed() {
        assert_eq!(text(&[b'2', b'5', 0xb0, b'C', b' ', 0]), "25\u{b0}C");
    }
}
