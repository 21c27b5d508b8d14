//! A [`DieTable`] as raw little-endian columns (pack format 4): each column is its bytes, so
//! unpacking one is a bounds check and a copy, whatever the build's optimisation level. Postcard
//! (formats 2 and 3) decodes every cell through serde, one varint at a time: on the page, built
//! for size, that took about 0.3 s for a lot of a million dies.
//!
//! Layout, every count a `u32`: for each of x, y, hard bin, soft bin, verdict, head, site,
//! attempts and test time, its length and its values; the part ids' buffer (length, UTF-8) and
//! their spans (length, then start and end of each); then the count of result columns, and per
//! column its test (`u32`), results written (`u64`), a kind (0 dense: first row, length,
//! values; 1 sparse: length, rows, values). Every length is checked against the bytes left
//! before anything is allocated, and every row against the table, so damaged or hostile bytes
//! give an error, never a panic or a huge allocation.

use bytemuck::Pod;

use super::{PackError, Source};
use crate::column::{OwnedCells, RawCells};
use crate::{Column, DieTable, StrColumn, Verdict};

/// A value stored as its little-endian bytes.
trait Le: Pod {
    fn swap(self) -> Self;
}

macro_rules! le {
    ($($t:ty),*) => {$(
        impl Le for $t {
            fn swap(self) -> Self {
                <$t>::from_le_bytes(self.to_be_bytes())
            }
        }
    )*};
}
le!(u8, i16, u16, u32, f32);

fn put_u32(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(&(v as u32).to_le_bytes());
}

fn put<T: Le>(out: &mut Vec<u8>, v: &[T]) {
    put_u32(out, v.len());
    if cfg!(target_endian = "little") {
        out.extend_from_slice(bytemuck::cast_slice(v));
    } else {
        v.iter()
            .for_each(|&x| out.extend_from_slice(bytemuck::bytes_of(&x.swap())));
    }
}

/// Append `t`.
pub(super) fn put_table(out: &mut Vec<u8>, t: &DieTable) {
    put(out, &t.x);
    put(out, &t.y);
    put(out, &t.hard_bin);
    put(out, &t.soft_bin);
    let verdicts: Vec<u8> = t.verdict.iter().map(|&v| v as u8).collect();
    put(out, &verdicts);
    put(out, &t.head);
    put(out, &t.site);
    put(out, &t.attempts);
    put(out, &t.test_time_ms);
    let (text, spans) = t.part_id.raw();
    put(out, text.as_bytes());
    let flat: Vec<u32> = spans.iter().flat_map(|&(s, e)| [s, e]).collect();
    put(out, &flat);
    put_u32(out, t.columns.len());
    for c in &t.columns {
        let (written, cells) = c.raw();
        put_u32(out, c.test as usize);
        out.extend_from_slice(&written.to_le_bytes());
        match cells {
            RawCells::Dense(first, values) => {
                out.push(0);
                put_u32(out, first as usize);
                put(out, values);
            }
            RawCells::Sparse(pairs) => {
                out.push(1);
                let rows: Vec<u32> = pairs.iter().map(|p| p.0).collect();
                let values: Vec<f32> = pairs.iter().map(|p| p.1).collect();
                put(out, &rows);
                put(out, &values);
            }
        }
    }
}

/// Reads what [`put_table`] wrote, from `at` on.
pub(super) struct Reader<'a, S: Source + ?Sized> {
    pub src: &'a S,
    pub at: usize,
}

fn corrupt(what: &str) -> PackError {
    PackError::Corrupt(what.to_string())
}

impl<S: Source + ?Sized> Reader<'_, S> {
    /// Claim the next `n` bytes: their start, checked against the end.
    fn claim(&mut self, n: usize, what: &str) -> Result<usize, PackError> {
        let start = self.at;
        match start.checked_add(n) {
            Some(end) if end <= self.src.len() => {
                self.at = end;
                Ok(start)
            }
            _ => Err(corrupt(&format!("{what} runs past the end"))),
        }
    }

    /// The next `n` bytes, copied (small parts: headers, the trailer).
    pub fn bytes(&mut self, n: usize) -> Result<Vec<u8>, PackError> {
        let at = self.claim(n, "the file")?;
        let mut v = vec![0; n];
        self.src.read(at, &mut v);
        Ok(v)
    }

    pub fn u32(&mut self, what: &str) -> Result<u32, PackError> {
        let at = self.claim(4, what)?;
        let mut b = [0; 4];
        self.src.read(at, &mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self, what: &str) -> Result<u64, PackError> {
        let at = self.claim(8, what)?;
        let mut b = [0; 8];
        self.src.read(at, &mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn u8(&mut self, what: &str) -> Result<u8, PackError> {
        let at = self.claim(1, what)?;
        let mut b = [0; 1];
        self.src.read(at, &mut b);
        Ok(b[0])
    }

    /// A length-prefixed run of `T`, read straight into its place: its length is checked
    /// against the bytes left before anything is allocated.
    fn vec<T: Le>(&mut self, what: &str) -> Result<Vec<T>, PackError> {
        let n = self.u32(what)? as usize;
        let at = self.claim(n.saturating_mul(std::mem::size_of::<T>()), what)?;
        let mut v = vec![T::zeroed(); n];
        self.src.read(at, bytemuck::cast_slice_mut::<T, u8>(&mut v));
        if cfg!(target_endian = "big") {
            v.iter_mut().for_each(|x| *x = x.swap());
        }
        Ok(v)
    }

    /// A run of exactly `rows` values.
    fn rows<T: Le>(&mut self, rows: usize, what: &str) -> Result<Vec<T>, PackError> {
        let v = self.vec(what)?;
        if v.len() != rows {
            return Err(corrupt(&format!(
                "{what}: {} values for {rows} dies",
                v.len()
            )));
        }
        Ok(v)
    }

    /// A die table's dies and fixed columns; its result columns follow with
    /// [`Reader::columns`].
    pub(super) fn table_start(&mut self, tests: usize) -> Result<Partial, PackError> {
        let x: Vec<i16> = self.vec("x")?;
        let n = x.len();
        let y = self.rows(n, "y")?;
        let hard_bin = self.rows(n, "hard bins")?;
        let soft_bin = self.rows(n, "soft bins")?;
        let verdict = self
            .rows::<u8>(n, "verdicts")?
            .into_iter()
            .map(|b| match b {
                0 => Ok(Verdict::Fail),
                1 => Ok(Verdict::Pass),
                2 => Ok(Verdict::Unknown),
                _ => Err(corrupt("a verdict is not pass, fail or unknown")),
            })
            .collect::<Result<_, _>>()?;
        let head = self.rows(n, "heads")?;
        let site = self.rows(n, "sites")?;
        let attempts = self.rows(n, "attempts")?;
        let test_time_ms = self.rows(n, "test times")?;
        let text = String::from_utf8(self.vec::<u8>("part ids")?)
            .map_err(|_| corrupt("part ids are not UTF-8"))?;
        let spans: Vec<(u32, u32)> = self
            .rows::<u32>(2 * n, "part id spans")?
            .chunks_exact(2)
            .map(|s| (s[0], s[1]))
            .collect();
        let part_id = StrColumn::from_raw(text, spans)
            .ok_or_else(|| corrupt("a part id lies outside its buffer"))?;
        let left = self.u32("result columns")? as usize;
        let table = DieTable {
            x,
            y,
            hard_bin,
            soft_bin,
            verdict,
            head,
            site,
            part_id,
            attempts,
            test_time_ms,
            columns: Vec::new(),
        };
        Ok(Partial { table, left, tests })
    }

    /// Read `p`'s next result columns, at least one, until about `budget` bytes are read; true
    /// once its last column is in.
    pub(super) fn columns(&mut self, p: &mut Partial, budget: usize) -> Result<bool, PackError> {
        let (n, tests, start) = (p.table.len(), p.tests, self.at);
        let columns = &mut p.table.columns;
        while p.left > 0 {
            if self.at - start >= budget {
                return Ok(false);
            }
            p.left -= 1;
            let test = self.u32("a column's test")?;
            let written = self.u64("a column's count")?;
            if test as usize >= tests || columns.last().is_some_and(|c| c.test >= test) {
                return Err(corrupt("result columns are out of order or name no test"));
            }
            let cells = match self.u8("a column's kind")? {
                0 => {
                    let first = self.u32("a column's first row")?;
                    let values: Vec<f32> = self.vec("a column's results")?;
                    if !values.is_empty() && first as usize + values.len() > n {
                        return Err(corrupt("a column runs past its table"));
                    }
                    OwnedCells::Dense(first, values)
                }
                1 => {
                    let rows: Vec<u32> = self.vec("a column's rows")?;
                    let values: Vec<f32> = self.rows(rows.len(), "a column's results")?;
                    let sorted = rows.windows(2).all(|w| w[0] < w[1]);
                    if !sorted || rows.last().is_some_and(|&r| r as usize >= n) {
                        return Err(corrupt("a column's rows are out of order or off the table"));
                    }
                    OwnedCells::Sparse(rows.into_iter().zip(values).collect())
                }
                _ => return Err(corrupt("a column of unknown kind")),
            };
            columns.push(Column::from_raw(test, written, cells));
        }
        Ok(true)
    }
}

/// A die table read up to some of its result columns.
pub(super) struct Partial {
    pub table: DieTable,
    /// Result columns still to read.
    left: usize,
    /// Tests in the file, which a column must name one of.
    tests: usize,
}
