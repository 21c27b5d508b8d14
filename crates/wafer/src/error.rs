//! Typed errors and warnings for reading tester files.
//!
//! A [`ReadError`] means nothing usable could be read (not an STDF file, unsupported version,
//! compressed data broken before the first record). A [`Warning`] rides along with a successful
//! read; warnings whose kind [`stops_read`](WarningKind::stops_read) mark a partial read that kept
//! everything before the damage. Both name the byte offset and the record, and say why.

use std::fmt;

use crate::model::Compression;
use crate::stdf::RecordType;

/// Where in the data a problem was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Location {
    /// Byte offset in the STDF stream (after decompression, for compressed files).
    pub offset: u64,
    /// The record being read there, when its header could be read.
    pub record: Option<RecordType>,
    /// Whether `offset` counts decompressed bytes.
    pub decompressed: bool,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offset {}", self.offset)?;
        if self.decompressed {
            f.write_str(" (decompressed)")?;
        }
        if let Some(r) = self.record {
            write!(f, ", record {r}")?;
        }
        Ok(())
    }
}

/// Why a file could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ReadErrorKind {
    /// Zero bytes (after decompression).
    Empty,
    /// The first record is not a FAR: this is not an STDF file.
    NotStdf { first_bytes: Vec<u8> },
    /// A FAR with a version other than 4.
    UnsupportedVersion(u8),
    /// The compressed container is broken before any STDF could be read.
    Decompress {
        format: Compression,
        message: String,
    },
    /// The zip archive has no file entry we can read.
    Zip(String),
    /// Reading the input failed (file system, browser blob, ...).
    Io(String),
    /// Compressed inside a compressed file inside a compressed file: two layers (a `.stdf.gz` in
    /// a zip) are real, more are a way around the decompressed-size caps.
    Nested { layers: [Compression; 3] },
}

/// A file that could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReadError {
    pub at: Location,
    pub kind: ReadErrorKind,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.at)?;
        match &self.kind {
            ReadErrorKind::Empty => f.write_str("the file is empty"),
            ReadErrorKind::NotStdf { first_bytes } => {
                f.write_str(
                    "not an STDF file: it does not start with a FAR record (0,10); first bytes ",
                )?;
                for b in first_bytes {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
            ReadErrorKind::UnsupportedVersion(v) => {
                write!(f, "STDF version {v} is not supported (only V4)")
            }
            ReadErrorKind::Decompress { format, message } => {
                write!(f, "{} data is corrupt: {message}", format.name())
            }
            ReadErrorKind::Zip(m) => write!(f, "zip archive: {m}"),
            ReadErrorKind::Io(m) => write!(f, "read failed: {m}"),
            ReadErrorKind::Nested { layers } => write!(
                f,
                "{} inside {} inside {}: more than two layers of compression are refused",
                layers[2].name(),
                layers[1].name(),
                layers[0].name()
            ),
        }
    }
}

impl std::error::Error for ReadError {}

/// What went wrong, for a [`Warning`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum WarningKind {
    /// The data ends inside a record: its header claims more bytes than are left.
    Truncated { claimed: usize, available: usize },
    /// The data ends inside a record header.
    TruncatedHeader { available: usize },
    /// The decompressor failed part-way; everything before was kept.
    Decompress {
        format: Compression,
        message: String,
    },
    /// Reading the input failed part-way.
    Io(String),
    /// FAR CPU_TYPE disagrees with the byte order of its own length field.
    CpuTypeMismatch { cpu_type: u8 },
    /// A WIR opened a wafer on a head that already had one open (no WRR in between).
    WaferNotClosed { wafer_id: String },
    /// A WRR for a head with no open wafer.
    WaferEndWithoutStart,
    /// A PRR or PTR whose fixed fields are cut short; the record was skipped.
    ShortRecord { len: usize },
    /// More warnings than the list keeps; this many were dropped.
    Suppressed { count: u64 },
    /// The data read so far would need more memory than the reader allows (see
    /// [`Limits`](crate::Limits)): a file built to cost far more than its size. Reading stopped
    /// here; everything before is kept.
    MemoryLimit { held: u64, limit: u64 },
}

impl WarningKind {
    /// Whether reading stopped here (the file is only partly read).
    pub fn stops_read(&self) -> bool {
        matches!(
            self,
            WarningKind::Truncated { .. }
                | WarningKind::TruncatedHeader { .. }
                | WarningKind::Decompress { .. }
                | WarningKind::Io(_)
                | WarningKind::MemoryLimit { .. }
        )
    }
}

/// A problem met while reading that did not stop the read of what came before it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Warning {
    pub at: Location,
    pub kind: WarningKind,
    /// The file it was met in, when several files were read as one lot
    /// ([`crate::lot::merge`]); empty for a file read alone. Carried by [`crate::pack`] beside
    /// the model, as a wafer's origin is.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub file: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.file.is_empty() {
            write!(f, "{}: ", self.file)?;
        }
        write!(f, "{}: ", self.at)?;
        match &self.kind {
            WarningKind::Truncated { claimed, available } => write!(
                f,
                "record claims {claimed} bytes, only {available} left; reading stopped here"
            ),
            WarningKind::TruncatedHeader { available } => write!(
                f,
                "data ends inside a record header ({available} of 4 bytes); reading stopped here"
            ),
            WarningKind::Decompress { format, message } => write!(
                f,
                "{} data is corrupt ({message}); reading stopped here",
                format.name()
            ),
            WarningKind::Io(m) => write!(f, "read failed ({m}); reading stopped here"),
            WarningKind::CpuTypeMismatch { cpu_type } => write!(
                f,
                "FAR CPU_TYPE {cpu_type} disagrees with the byte order of the record header; using the header's"
            ),
            WarningKind::WaferNotClosed { wafer_id } => {
                write!(
                    f,
                    "wafer {wafer_id:?} has no WRR before the next WIR on its head"
                )
            }
            WarningKind::WaferEndWithoutStart => f.write_str("WRR without a matching WIR"),
            WarningKind::ShortRecord { len } => {
                write!(
                    f,
                    "record is too short ({len} bytes) for its fixed fields; skipped"
                )
            }
            WarningKind::Suppressed { count } => {
                write!(f, "{count} more warnings not listed")
            }
            WarningKind::MemoryLimit { held, limit } => write!(
                f,
                "the records so far need about {} MB, over the reader's limit of {} MB for this \
                 much input (a crafted or broken file); reading stopped here",
                held.div_ceil(1 << 20),
                limit >> 20
            ),
        }
    }
}
