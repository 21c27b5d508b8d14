//! What a map shows, by name: `hbin`, `sbin` or `test:N`. The one parser of that syntax; whether
//! a file has test N is for `paint::Layer::parse` to say, which reads names through this.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A layer name in its one canonical form: `hbin`, `sbin` or `test:N` with N in decimal without
/// leading zeros, so `test:007` and `test:7` are one name (and one cache key at the edge).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LayerName {
    HardBin,
    SoftBin,
    /// A parametric test, by its STDF test number.
    Test(u32),
}

/// A name that is not `hbin`, `sbin` or `test:NUMBER` (a test number below 2^32).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSyntaxError(pub String);

impl fmt::Display for LayerSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown layer {:?}: use hbin, sbin or test:NUMBER (a test number below 2^32)",
            self.0
        )
    }
}

impl std::error::Error for LayerSyntaxError {}

impl LayerName {
    /// Read `hbin`, `sbin` or `test:NUMBER` (1 to 10 decimal digits, leading zeros dropped).
    pub fn parse(s: &str) -> Result<LayerName, LayerSyntaxError> {
        match s {
            "hbin" => Ok(LayerName::HardBin),
            "sbin" => Ok(LayerName::SoftBin),
            // STDF test numbers are u32; parsing drops leading zeros, so each test has one name.
            _ => s
                .strip_prefix("test:")
                .filter(|n| !n.is_empty() && n.len() <= 10 && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<u32>().ok())
                .map(LayerName::Test)
                .ok_or_else(|| LayerSyntaxError(s.to_string())),
        }
    }
}

impl fmt::Display for LayerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerName::HardBin => f.write_str("hbin"),
            LayerName::SoftBin => f.write_str("sbin"),
            LayerName::Test(n) => write!(f, "test:{n}"),
        }
    }
}

impl std::str::FromStr for LayerName {
    type Err = LayerSyntaxError;
    fn from_str(s: &str) -> Result<LayerName, LayerSyntaxError> {
        LayerName::parse(s)
    }
}

impl TryFrom<String> for LayerName {
    type Error = LayerSyntaxError;
    fn try_from(s: String) -> Result<LayerName, LayerSyntaxError> {
        LayerName::parse(&s)
    }
}

impl From<LayerName> for String {
    fn from(l: LayerName) -> String {
        l.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names_have_one_canonical_form() {
        let canon = |s: &str| LayerName::parse(s).map(|l| l.to_string()).map_err(|e| e.0);
        assert_eq!(canon("hbin"), Ok("hbin".into()));
        assert_eq!(canon("sbin"), Ok("sbin".into()));
        assert_eq!(canon("test:007"), Ok("test:7".into()));
        assert_eq!(canon("test:0000"), Ok("test:0".into()));
        assert_eq!(canon("test:4294967295"), Ok("test:4294967295".into()));
        assert_eq!(LayerName::parse("test:1000"), Ok(LayerName::Test(1000)));
    }

    #[test]
    fn anything_else_is_a_syntax_error_naming_it() {
        for s in [
            "",
            "HBIN",
            "test:",
            "test:1x",
            "test:+7",
            "test:-1",
            "test:4294967296",
            "test:00000000001",
            "../x",
            "test: 7",
        ] {
            let e = LayerName::parse(s).unwrap_err();
            assert_eq!(e.0, s);
            assert!(e.to_string().contains("hbin, sbin or test:NUMBER"), "{e}");
        }
    }

    #[test]
    fn layer_names_are_json_strings_checked_on_the_way_in() {
        let l = LayerName::Test(12);
        assert_eq!(serde_json::to_string(&l).unwrap(), "\"test:12\"");
        assert_eq!(
            serde_json::from_str::<LayerName>("\"test:012\"").unwrap(),
            l
        );
        assert!(serde_json::from_str::<LayerName>("\"test:x\"").is_err());
    }
}
