//! The compact binary of a parsed [`TestFile`]: how the app's parsing Web Worker hands a file to
//! the page, and how the edge will store and serve parsed wafers.
//!
//! `WSPK`, a little-endian `u16` format version, then the postcard encoding of the model. Columns
//! stay columns (a `Vec<f32>` is its raw values), so packing and unpacking cost about a memcpy.
//! Format 3 appends, per wafer, its first-pass attempts ([`crate::FirstPass`]) and its file of
//! origin after the model;
//! format 2 (without them) still reads, as a file without retests, so files kept by an earlier
//! build (the page's library, the edge's store) still open.
//!
//! Not for: interchange with other tools (use STDF or `waferscope export`).

use std::fmt;

use crate::TestFile;

const MAGIC: &[u8; 4] = b"WSPK";
/// Bumped whenever the model's serialised shape changes.
pub const VERSION: u16 = 3;
/// The oldest format [`decode`] still reads.
const OLDEST: u16 = 2;

/// Why bytes could not be unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackError {
    NotPacked,
    Version(u16),
    Corrupt(String),
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackError::NotPacked => f.write_str("not a packed wafer file (no WSPK header)"),
            PackError::Version(v) => {
                write!(
                    f,
                    "packed format version {v}, this build reads {OLDEST} to {VERSION}"
                )
            }
            PackError::Corrupt(m) => write!(f, "packed wafer file is corrupt: {m}"),
        }
    }
}

impl std::error::Error for PackError {}

/// Pack a file.
pub fn encode(f: &TestFile) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&VERSION.to_le_bytes());
    let out = postcard::to_extend(f, out).expect("the model serialises into a Vec");
    let extra: Vec<(&[crate::FirstPass], &str)> = f
        .wafers
        .iter()
        .map(|w| (&w.first_pass[..], w.origin.as_str()))
        .collect();
    postcard::to_extend(&extra, out).expect("first passes serialise into a Vec")
}

/// Unpack what [`encode`] wrote.
pub fn decode(bytes: &[u8]) -> Result<TestFile, PackError> {
    let rest = bytes.strip_prefix(MAGIC).ok_or(PackError::NotPacked)?;
    let (v, body) = rest.split_at_checked(2).ok_or(PackError::NotPacked)?;
    let v = u16::from_le_bytes([v[0], v[1]]);
    if !(OLDEST..=VERSION).contains(&v) {
        return Err(PackError::Version(v));
    }
    let corrupt = |e: postcard::Error| PackError::Corrupt(e.to_string());
    let (mut f, rest): (TestFile, _) = postcard::take_from_bytes(body).map_err(corrupt)?;
    if v >= 3 {
        let extra: Vec<(Vec<crate::FirstPass>, String)> =
            postcard::from_bytes(rest).map_err(corrupt)?;
        if extra.len() != f.wafers.len() {
            return Err(PackError::Corrupt(
                "first passes do not match the wafers".into(),
            ));
        }
        for (w, (first, origin)) in f.wafers.iter_mut().zip(extra) {
            if first.iter().any(|p| p.row as usize >= w.dies.len()) {
                return Err(PackError::Corrupt("a first pass names no die".into()));
            }
            w.first_pass = first;
            w.origin = origin;
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_survives_packing_and_damage_is_an_error() {
        let f = crate::read(&crate::demo::demo_files()[0].bytes).unwrap();
        let packed = encode(&f);
        let back = decode(&packed).unwrap();
        assert_eq!(format!("{f:?}"), format!("{back:?}"));
        assert!(f.wafers.iter().any(|w| !w.first_pass.is_empty()));
        // Format 2 is format 3 without the first passes: it still reads, without retests.
        let mut old = MAGIC.to_vec();
        old.extend_from_slice(&2u16.to_le_bytes());
        let old = postcard::to_extend(&f, old).unwrap();
        let back = decode(&old).unwrap();
        assert!(back.wafers.iter().all(|w| w.first_pass.is_empty()));
        assert!(format!("{:?}", back.wafers[0].dies) == format!("{:?}", f.wafers[0].dies));
        // A lot's wafers keep their file of origin through packing.
        let lot = crate::lot::merge(vec![("a".into(), f.clone()), ("b".into(), f.clone())]);
        let back = decode(&encode(&lot)).unwrap();
        let origins: Vec<&str> = back.wafers.iter().map(|w| w.origin.as_str()).collect();
        assert_eq!(origins, ["a", "a", "a", "b", "b", "b"]);
        assert_eq!(decode(b"nope"), Err(PackError::NotPacked));
        let mut v2 = packed.clone();
        v2[4] = 9;
        assert!(matches!(decode(&v2), Err(PackError::Version(9))));
        assert!(matches!(
            decode(&packed[..packed.len() / 2]),
            Err(PackError::Corrupt(_))
        ));
    }
}
