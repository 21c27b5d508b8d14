//! Compression detection by magic bytes and streaming decompression (gzip, bzip2, xz, zip).
//!
//! All decoders are pure Rust so the same code runs in the browser and in the Worker. Files are
//! streamed, never inflated whole into memory: a 142 MB STDF is read through a 1 MiB window.
//!
//! Not for: choosing by file name (names lie: `.std` files are often gzipped).

use std::io::{self, Chain, Cursor, Read};

use crate::error::{Location, ReadError, ReadErrorKind};
use crate::model::Compression;

/// Most memory an xz stream may ask for (its dictionary), in KiB: xz -9 needs 64 MiB and no
/// standard preset more, so a larger dictionary is hostile input. Callers with less memory (the
/// edge's 128 MB isolate) pass their own to [`open_with`].
pub const XZ_MEM_LIMIT_KIB: u32 = 64 * 1024;

/// Recognise a compression format from the first bytes of a file.
pub fn detect(head: &[u8]) -> Compression {
    match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [b'B', b'Z', b'h', b'1'..=b'9', ..] => Compression::Bzip2,
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Compression::Xz,
        [b'P', b'K', 3, 4, ..] => Compression::Zip,
        _ => Compression::None,
    }
}

/// A reader of the bytes we already peeked at, then the rest.
type Peeked<R> = Chain<Cursor<Vec<u8>>, R>;

/// Open `r`, detect its compression from magic bytes and return a reader of the decompressed
/// data. A compressed file inside a compressed file (a `.stdf.gz` in a zip) is unwrapped too;
/// the outer format is the one reported. A third layer is refused ([`ReadErrorKind::Nested`]):
/// no tester or archiver writes one, and callers cap the size of the stream returned here, which
/// must be the stream that is decoded.
pub fn open<'a, R: Read + 'a>(r: R) -> Result<(Compression, Box<dyn Read + 'a>), ReadError> {
    open_with(r, XZ_MEM_LIMIT_KIB)
}

/// [`open`] with a smaller cap on an xz stream's dictionary (`xz_kib`, in KiB).
pub fn open_with<'a, R: Read + 'a>(
    r: R,
    xz_kib: u32,
) -> Result<(Compression, Box<dyn Read + 'a>), ReadError> {
    let (outer, inner) = open_one(r, xz_kib)?;
    if outer == Compression::None {
        return Ok((outer, inner));
    }
    let (middle, inner) = open_one(inner, xz_kib).map_err(|e| inside(e, outer))?;
    if middle == Compression::None {
        return Ok((outer, inner));
    }
    let (head, inner) = peek(inner, 6).map_err(|e| io_error(e, middle))?;
    let innermost = detect(&head);
    if innermost != Compression::None {
        return Err(ReadError {
            at: Location {
                offset: 0,
                record: None,
                decompressed: true,
            },
            kind: ReadErrorKind::Nested {
                layers: [outer, middle, innermost],
            },
        });
    }
    Ok((outer, Box::new(inner)))
}

/// A failure while peeking into decompressed data is the enclosing format's corruption.
fn inside(mut e: ReadError, outer: Compression) -> ReadError {
    if let ReadErrorKind::Io(message) = e.kind {
        e.kind = ReadErrorKind::Decompress {
            format: outer,
            message,
        };
        e.at.decompressed = true;
    }
    e
}

fn open_one<'a, R: Read + 'a>(
    r: R,
    xz_kib: u32,
) -> Result<(Compression, Box<dyn Read + 'a>), ReadError> {
    let (head, r) = peek(r, 6).map_err(|e| io_error(e, Compression::None))?;
    let c = detect(&head);
    let r: Box<dyn Read + 'a> = match c {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(r)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(r)),
        Compression::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(r, true, xz_kib)),
        Compression::Zip => zip_first_entry(r)?,
    };
    Ok((c, r))
}

/// Read up to `n` bytes (fewer only at end of input) and give them back in front of the rest.
fn peek<R: Read>(mut r: R, n: usize) -> io::Result<(Vec<u8>, Peeked<R>)> {
    let mut head = Vec::with_capacity(n);
    (&mut r).take(n as u64).read_to_end(&mut head)?;
    Ok((head.clone(), Cursor::new(head).chain(r)))
}

fn io_error(e: io::Error, c: Compression) -> ReadError {
    let at = Location {
        offset: 0,
        record: None,
        decompressed: c != Compression::None,
    };
    let kind = match c {
        Compression::None => ReadErrorKind::Io(e.to_string()),
        c => ReadErrorKind::Decompress {
            format: c,
            message: e.to_string(),
        },
    };
    ReadError { at, kind }
}

/// The first file entry of a zip archive, streamed from its local header (no central directory
/// needed, so it works on a stream and on a cut file).
fn zip_first_entry<'a, R: Read + 'a>(mut r: R) -> Result<Box<dyn Read + 'a>, ReadError> {
    let zip_err = |m: String| ReadError {
        at: Location {
            offset: 0,
            record: None,
            decompressed: false,
        },
        kind: ReadErrorKind::Zip(m),
    };
    loop {
        let mut h = [0u8; 30];
        r.read_exact(&mut h)
            .map_err(|e| zip_err(format!("local file header: {e}")))?;
        if h[0..4] != [b'P', b'K', 3, 4] {
            return Err(zip_err("no file entry before the central directory".into()));
        }
        let u16at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let u32at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let flags = u16at(6);
        let method = u16at(8);
        let csize = u32at(18) as u64;
        let name_len = u16at(26) as u64;
        let extra_len = u16at(28) as u64;
        let mut name = Vec::new();
        (&mut r)
            .take(name_len)
            .read_to_end(&mut name)
            .map_err(|e| zip_err(format!("entry name: {e}")))?;
        io::copy(&mut (&mut r).take(extra_len), &mut io::sink())
            .map_err(|e| zip_err(format!("extra field: {e}")))?;
        if flags & 1 != 0 {
            return Err(zip_err("the entry is encrypted".into()));
        }
        let is_dir = name.ends_with(b"/");
        let sized = flags & 8 == 0;
        if is_dir {
            if !sized {
                return Err(zip_err("directory entry without sizes".into()));
            }
            io::copy(&mut (&mut r).take(csize), &mut io::sink())
                .map_err(|e| zip_err(format!("directory entry: {e}")))?;
            continue;
        }
        return match method {
            0 if sized => Ok(Box::new(r.take(csize))),
            0 => Err(zip_err(
                "stored entry without sizes in its local header".into(),
            )),
            // Deflate ends itself, so a trailing data descriptor does not matter.
            8 => Ok(Box::new(flate2::read::DeflateDecoder::new(r))),
            m => Err(zip_err(format!(
                "compression method {m} is not supported (only stored and deflate)"
            ))),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn roundtrip(c: Compression, data: &[u8]) -> Vec<u8> {
        let packed = match c {
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Compression::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            _ => unreachable!(),
        };
        assert_eq!(detect(&packed), c);
        let (found, mut r) = open(&packed[..]).unwrap();
        assert_eq!(found, c);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn gzip_and_bzip2_are_found_by_magic_and_streamed() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(roundtrip(Compression::Gzip, &data), data);
        assert_eq!(roundtrip(Compression::Bzip2, &data), data);
    }

    #[test]
    fn a_zip_with_a_deflated_entry_after_a_directory() {
        let payload = b"hello stdf".repeat(50);
        let mut deflated =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        deflated.write_all(&payload).unwrap();
        let deflated = deflated.finish().unwrap();
        let mut zip = Vec::new();
        let mut entry = |name: &[u8], method: u16, body: &[u8]| {
            zip.extend_from_slice(&[b'P', b'K', 3, 4, 20, 0, 0, 0]);
            zip.extend_from_slice(&method.to_le_bytes());
            zip.extend_from_slice(&[0; 8]); // time, date, crc
            zip.extend_from_slice(&(body.len() as u32).to_le_bytes());
            zip.extend_from_slice(&[0; 4]); // uncompressed size (unused)
            zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
            zip.extend_from_slice(&0u16.to_le_bytes());
            zip.extend_from_slice(name);
            zip.extend_from_slice(body);
        };
        entry(b"dir/", 0, b"");
        entry(b"dir/a.stdf", 8, &deflated);
        let (c, mut r) = open(&zip[..]).unwrap();
        assert_eq!(c, Compression::Zip);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, payload);
    }

    #[test]
    fn plain_bytes_pass_through_and_short_inputs_are_fine() {
        for data in [&b""[..], b"ab", b"not compressed at all"] {
            let (c, mut r) = open(data).unwrap();
            assert_eq!(c, Compression::None);
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, data);
        }
    }
}
