//! The compact binary of a parsed [`TestFile`]: how the app's parsing Web Worker hands a file to
//! the page, and how the edge will store and serve parsed wafers.
//!
//! `WSPK`, a little-endian `u16` format version, then the postcard encoding of the model. Columns
//! stay columns (a `Vec<f32>` is its raw values), so packing and unpacking cost about a memcpy.
//!
//! Not for: interchange with other tools (use STDF or `waferscope export`).

use std::fmt;

use crate::TestFile;

const MAGIC: &[u8; 4] = b"WSPK";
/// Bumped whenever the model's serialised shape changes.
pub const VERSION: u16 = 2;

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
                write!(f, "packed format version {v}, this build reads {VERSION}")
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
    postcard::to_extend(f, out).expect("the model serialises into a Vec")
}

/// Unpack what [`encode`] wrote.
pub fn decode(bytes: &[u8]) -> Result<TestFile, PackError> {
    let rest = bytes.strip_prefix(MAGIC).ok_or(PackError::NotPacked)?;
    let (v, body) = rest.split_at_checked(2).ok_or(PackError::NotPacked)?;
    let v = u16::from_le_bytes([v[0], v[1]]);
    if v != VERSION {
        return Err(PackError::Version(v));
    }
    postcard::from_bytes(body).map_err(|e| PackError::Corrupt(e.to_string()))
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
