//! Zero-copy scanning of STDF records in a byte slice.
//!
//! [`Records`] yields each record's offset, type and body without copying or decoding; it is the
//! loop the reader runs, exposed for tests and tools. It stops (and says why through
//! [`Records::stop`]) when a record header claims more bytes than the slice holds.

use super::RecordType;
use super::fields::Endian;
use std::marker::PhantomData;

/// One record as it sits in the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawRecord<'a> {
    /// Offset of the record header from the start of the scanned slice.
    pub offset: usize,
    pub rtype: RecordType,
    pub body: &'a [u8],
}

/// Why a scan ended before the end of the slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Fewer than 4 bytes left: the header itself is cut.
    Header { offset: usize, available: usize },
    /// The header claims `claimed` body bytes; only `available` are there.
    Body {
        offset: usize,
        rtype: RecordType,
        claimed: usize,
        available: usize,
    },
}

/// Iterator over whole records of a slice in byte order `E`.
#[derive(Clone, Debug)]
pub struct Records<'a, E> {
    data: &'a [u8],
    pos: usize,
    _order: PhantomData<E>,
}

impl<'a, E: Endian> Records<'a, E> {
    pub fn new(data: &'a [u8]) -> Self {
        Records {
            data,
            pos: 0,
            _order: PhantomData,
        }
    }

    /// Bytes consumed by the whole records yielded so far.
    pub fn consumed(&self) -> usize {
        self.pos
    }

    /// After iteration: why the scan ended early, or None if it consumed every byte.
    pub fn stop(&self) -> Option<Stop> {
        let left = self.data.len() - self.pos;
        if left == 0 {
            return None;
        }
        if left < 4 {
            return Some(Stop::Header {
                offset: self.pos,
                available: left,
            });
        }
        let h = &self.data[self.pos..];
        Some(Stop::Body {
            offset: self.pos,
            rtype: RecordType::new(h[2], h[3]),
            claimed: E::u16([h[0], h[1]]) as usize,
            available: left - 4,
        })
    }
}

impl<'a, E: Endian> Iterator for Records<'a, E> {
    type Item = RawRecord<'a>;

    #[inline(always)]
    fn next(&mut self) -> Option<RawRecord<'a>> {
        let h = self.data.get(self.pos..self.pos + 4)?;
        let len = E::u16([h[0], h[1]]) as usize;
        let rtype = RecordType::new(h[2], h[3]);
        let start = self.pos + 4;
        let body = self.data.get(start..start + len)?;
        let offset = self.pos;
        self.pos = start + len;
        Some(RawRecord {
            offset,
            rtype,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stdf::{Be, Le};

    #[test]
    fn yields_whole_records_and_reports_a_cut_body() {
        // FAR (len 2) then a PIR claiming 2 bytes with only 1 present.
        let data = [2, 0, 0, 10, 2, 4, 2, 0, 5, 10, 1];
        let mut r = Records::<Le>::new(&data);
        let far = r.next().unwrap();
        assert_eq!(
            (far.offset, far.rtype, far.body),
            (0, RecordType::FAR, &[2u8, 4][..])
        );
        assert!(r.next().is_none());
        assert_eq!(
            r.stop(),
            Some(Stop::Body {
                offset: 6,
                rtype: RecordType::PIR,
                claimed: 2,
                available: 1
            })
        );
    }

    #[test]
    fn big_endian_lengths() {
        let data = [0, 2, 0, 10, 1, 4, 0];
        let mut r = Records::<Be>::new(&data);
        assert_eq!(r.next().unwrap().body, &[1, 4]);
        assert_eq!(
            r.stop(),
            Some(Stop::Header {
                offset: 6,
                available: 1
            })
        );
    }
}
