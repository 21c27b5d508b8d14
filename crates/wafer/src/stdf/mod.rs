//! STDF V4 (and V4-2007): record types, field decoding, the reader and a small writer.
//!
//! The reader ([`read`](crate::read), [`Decoder`]) decodes records straight into the columns of
//! the model; [`Records`] is the zero-copy record scanner underneath it, public so tests and tools
//! can walk raw records; [`Fields`] decodes one record's fields. The writer ([`write`](mod@write)) exists so
//! the project can generate demo wafers and fixtures.
//!
//! Not for: ATDF or any other format.

mod decode;
mod fields;
mod records;
mod table;
pub mod write;

pub use decode::{Decoder, MAX_RECORD};
pub use fields::{Be, Endian, Fields, Le};
pub use records::{RawRecord, Records};

use std::fmt;

/// A record's (REC_TYP, REC_SUB).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RecordType {
    pub typ: u8,
    pub sub: u8,
}

macro_rules! record_types {
    ($($name:ident = ($t:expr, $s:expr)),* $(,)?) => {
        impl RecordType {
            $(pub const $name: RecordType = RecordType { typ: $t, sub: $s };)*
            /// The STDF name ("PTR"), or None for a type STDF V4-2007 does not define.
            pub fn name(self) -> Option<&'static str> {
                match (self.typ, self.sub) {
                    $(($t, $s) => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

record_types! {
    FAR = (0, 10), ATR = (0, 20), VUR = (0, 30),
    MIR = (1, 10), MRR = (1, 20), PCR = (1, 30), HBR = (1, 40), SBR = (1, 50),
    PMR = (1, 60), PGR = (1, 62), PLR = (1, 63), RDR = (1, 70), SDR = (1, 80),
    PSR = (1, 90), NMR = (1, 91), CNR = (1, 92), SSR = (1, 93), CDR = (1, 94),
    WIR = (2, 10), WRR = (2, 20), WCR = (2, 30),
    PIR = (5, 10), PRR = (5, 20),
    TSR = (10, 30),
    PTR = (15, 10), MPR = (15, 15), FTR = (15, 20), STR = (15, 30),
    BPS = (20, 10), EPS = (20, 20),
    GDR = (50, 10), DTR = (50, 30),
}

impl RecordType {
    pub const fn new(typ: u8, sub: u8) -> Self {
        RecordType { typ, sub }
    }
    /// The name used in summaries: the STDF name, or "TYP_SUB" for unknown types.
    pub fn label(self) -> String {
        match self.name() {
            Some(n) => n.to_string(),
            None => format!("{}_{}", self.typ, self.sub),
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({},{})", self.typ, self.sub),
            None => write!(f, "({},{})", self.typ, self.sub),
        }
    }
}
